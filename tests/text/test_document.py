"""Tests for nerkit.text.document: raw text to a Document whose offsets always point into the text."""

from __future__ import annotations

import json
import random

import pytest

from nerkit.text.document import (
    TOKENS_PER_PART,
    Document,
    Entity,
    document_conll_parts,
    document_json_parts,
    parse_text,
)


def test_parse_text_offsets():
    text = "Maria Voss visited Port Halvery. She didn't stay!\r\nNext\tline \U0001f600 ok"
    document = parse_text(text)
    assert [text[s.start : s.end] for s in document.sentences] == [
        "Maria Voss visited Port Halvery.",
        "She didn't stay!",
        "Next\tline \U0001f600 ok",
    ]
    assert [t.text for t in document.sentences[1].tokens] == ["She", "did", "n't", "stay", "!"]
    for token in document.tokens:
        assert text[token.start : token.end] == token.text


def test_empty_and_white_space_text():
    assert parse_text("").sentences == []
    assert parse_text(" \n\t ").sentences == []
    assert parse_text("\u200b").tokens[0].text == "\u200b"


def test_random_text_keeps_valid_offsets():
    rng = random.Random(9)
    alphabet = [
        "Ab",
        "c",
        ".",
        "!",
        "?",
        " ",
        "\n",
        "\r\n",
        "\t",
        "e\u0301",
        "\U0001f44d",
        "Dr.",
        "'s",
        '"',
        "5",
    ]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        document = parse_text(text)
        for sentence in document.sentences:
            assert 0 <= sentence.start < sentence.end <= len(text)
            for token in sentence.tokens:
                assert sentence.start <= token.start < token.end <= sentence.end
                assert text[token.start : token.end] == token.text


def test_to_json():
    document = Document("Ada ran", parse_text("Ada ran").sentences, [Entity(0, 3, "PER", "Ada", 0.9)])
    assert document.to_json() == {
        "text": "Ada ran",
        "sentences": [
            {
                "start": 0,
                "end": 7,
                "tokens": [{"text": "Ada", "start": 0, "end": 3}, {"text": "ran", "start": 4, "end": 7}],
            }
        ],
        "entities": [{"start": 0, "end": 3, "label": "PER", "text": "Ada", "confidence": 0.9}],
    }


@pytest.mark.slow
def test_ten_megabyte_text_keeps_valid_offsets():
    paragraph = "Zoë Voss (U.S.) didn't\tvisit Öster\u0301vik \U0001f600 on 1996-08-30.\r\nShe left! "
    text = paragraph * (10_000_000 // len(paragraph))
    document = parse_text(text)
    tokens = document.tokens
    assert len(document.sentences) == 2 * (10_000_000 // len(paragraph))
    for token in tokens[:: len(tokens) // 1000]:
        assert text[token.start : token.end] == token.text
    assert tokens[-1].end == len(text.rstrip())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        'Ada Voss ran. She left!\nDr. Voss didn\'t "stay" in the U.S. \U0001f600 caf\u00e9\t\u00a0x\u2028y.',
        " ".join(["Paris is big."] * 3000) + " " + "word " * 10_000,  # one sentence longer than a part
    ],
)
def test_parts_are_the_document_json_and_conll_in_bounded_pieces(text):
    document = parse_text(text)
    parts = list(document_json_parts(text))
    assert "".join(parts) == json.dumps(document.to_json(), ensure_ascii=False) + "\n"
    assert max(part.count('"start"') for part in parts[1:]) <= TOKENS_PER_PART + 1
    conll = "".join("".join(t.text + "\n" for t in s.tokens) + "\n" for s in document.sentences)
    assert "".join(document_conll_parts(text)) == conll
