"""Tests for nerkit.data.augment: mentions swapped within their type, cuts that never split an entity."""

from __future__ import annotations

import random

from nerkit.data.augment import augment, mentions_by_type, recombine, safe_cuts, swap_mentions

TOKENS = [("Alice", "Smith", "visited", "Paris", "."), ("Bob", "left", "New", "York", "."), ("Hi", "!")]
TAGS = [
    ("B-PER", "I-PER", "O", "B-LOC", "O"),
    ("B-PER", "O", "B-LOC", "I-LOC", "O"),
    ("O", "O"),
]


def test_mentions_by_type_keeps_every_mention():
    assert mentions_by_type(TOKENS, TAGS) == {
        "PER": [("Alice", "Smith"), ("Bob",)],
        "LOC": [("Paris",), ("New", "York")],
    }


def test_swapped_mentions_come_from_the_same_type():
    mentions = {"PER": [("Carla",)], "LOC": [("Lima", "Town")]}
    swapped = swap_mentions(TOKENS[0], TAGS[0], mentions, random.Random(0))
    assert swapped == ("Carla", "visited", "Lima", "Town", ".")
    assert swap_mentions(TOKENS[2], TAGS[2], mentions, random.Random(0)) == TOKENS[2]


def test_cuts_never_split_an_entity():
    assert safe_cuts(TAGS[1]) == [1, 2, 4]  # not 3: inside "New York"
    assert safe_cuts(("B-PER", "I-PER")) == []
    assert recombine(TOKENS[0], TAGS[0], ("Ann", "Lee"), ("B-PER", "I-PER"), random.Random(0)) is None
    for seed in range(20):
        joined = recombine(TOKENS[0], TAGS[0], TOKENS[1], TAGS[1], random.Random(seed))
        assert joined is not None
        assert "Smith" not in joined or "Alice" in joined  # the head keeps whole entities
        assert "York" not in joined or "New" in joined  # so does the tail


def test_augment_is_reproducible_and_made_of_the_data():
    made = augment(TOKENS, TAGS, 10, seed=3)
    assert made == augment(TOKENS, TAGS, 10, seed=3)
    assert len(made) == 10
    words = {word for sentence in TOKENS for word in sentence}
    assert all(set(sentence) <= words for sentence in made)
    assert augment(TOKENS[2:], TAGS[2:], 4) == []  # no entity to swap
