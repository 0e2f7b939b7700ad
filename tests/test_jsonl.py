"""Tests for nerkit.jsonl's depth read off JSON text: it agrees with the walk over the parsed value."""

from __future__ import annotations

import json
import random

import pytest

from nerkit.jsonl import nested_deeper_than, text_depth


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 1),
        ("{}", 1),
        ('"[[[{"', 1),
        ("[[[[]]]]", 4),
        ('{"a": [1, {"b": "]]]{{\\"["}]}', 3),
        ('{"x": "\\\\", "y": [[]]}', 3),
    ],
)
def test_depth_of_text(text: str, depth: int) -> None:
    assert text_depth(text) == depth
    assert all(nested_deeper_than(json.loads(text), k) == (depth > k) for k in range(8))


def test_depth_of_random_json_agrees_with_the_walk() -> None:
    rng = random.Random(1)

    def value(levels: int) -> object:
        if levels == 0 or rng.random() < 0.3:
            return rng.choice([1, 'a]{"', None, "\\[", [], {}])
        if rng.random() < 0.5:
            return [value(levels - 1) for _ in range(rng.randint(0, 3))]
        return {f"{i}}}": value(levels - 1) for i in range(rng.randint(0, 3))}

    for _ in range(2000):
        parsed = value(8)
        text = json.dumps(parsed, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 1]))
        depth = text_depth(text)
        assert all(nested_deeper_than(parsed, k) == (depth > k) for k in range(10)), text
