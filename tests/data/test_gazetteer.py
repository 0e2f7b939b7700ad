"""Tests for nerkit.data.gazetteer: exact features, the leak-free masks of training, the JSON and its checks."""

from __future__ import annotations

import random

import numpy as np
import pytest

from nerkit.data.batches import encode_sentence, join_sentences, pad
from nerkit.data.gazetteer import (
    Gazetteer,
    build_gazetteer,
    check_gazetteer,
    entity_types,
    grow_gazetteer,
    masks,
)
from nerkit.data.vocab import build_vocab
from nerkit.errors import NerkitError

TYPES = ["LOC", "ORG", "PER"]


def _columns(values: np.ndarray) -> list[list[str]]:
    """Each token's set features as names: LOC-B, ORG-S..."""
    names = [f"{kind}-{part}" for kind in TYPES for part in "BIES"]
    return [[names[c] for c in np.flatnonzero(row)] for row in values]


def test_features_mark_every_phrase_found_begin_inside_end_single():
    gazetteer = Gazetteer(
        TYPES,
        {
            ("new", "york"): frozenset({0}),
            ("new", "york", "stock", "exchange"): frozenset({1}),
            ("york",): frozenset({0, 2}),
        },
    )
    tokens = ["The", "NEW", "York", "Stock", "Exchange", "in", "New", "York", "."]
    assert _columns(gazetteer.features(tokens)) == [
        [],
        ["LOC-B", "ORG-B"],
        ["LOC-E", "LOC-S", "ORG-I", "PER-S"],
        ["ORG-I"],
        ["ORG-E"],
        [],
        ["LOC-B"],
        ["LOC-E", "LOC-S", "PER-S"],
        [],
    ]
    masked = frozenset({(("york",), 0), (("new", "york", "stock", "exchange"), 1)})
    assert _columns(gazetteer.features(tokens, masked))[1:5] == [["LOC-B"], ["LOC-E", "PER-S"], [], []]
    assert gazetteer.features([]).shape == (0, 12)
    assert gazetteer.features(tokens).dtype == np.uint8
    assert gazetteer.features(["new"]).sum() == 0  # a phrase's first token alone is no phrase


def _documents(seed: int):
    """Random sentences in random documents, tagged in IOB2 with phrases drawn from a small pool."""
    rng = random.Random(seed)
    pool = [
        ["Acme"],
        ["Acme", "Corp"],
        ["Zed"],
        ["New", "York"],
        ["york"],
        ["A", "B", "C", "D", "E", "F", "G"],
    ]
    tokens, tags, documents = [], [], []
    for number in range(40):
        sentence, labels = [], []
        for _ in range(rng.randint(1, 4)):
            sentence.append(rng.choice(["the", "of", "said", "York"]))
            labels.append("O")
            if rng.random() < 0.7:
                phrase, kind = rng.choice(pool), rng.choice(TYPES)
                sentence.extend(phrase)
                labels.extend([f"B-{kind}"] + [f"I-{kind}"] * (len(phrase) - 1))
        tokens.append(sentence)
        tags.append(labels)
        documents.append(number // 5 + rng.choice([0, 0, 1]) * 100)
    return tokens, tags, documents


@pytest.mark.parametrize("seed", range(5))
def test_a_training_sentence_sees_what_a_gazetteer_without_its_document_gives(seed):
    """Leak-free: in training a sentence's features are those of the gazetteer built from every other
    document, so a phrase only its own document annotates never fires in it."""
    tokens, tags, documents = _documents(seed)
    gazetteer, own = build_gazetteer(tokens, tags, documents, TYPES)
    masked = masks(own, documents)
    for document in set(documents):
        others = [i for i, d in enumerate(documents) if d != document]
        without, _ = build_gazetteer(
            [tokens[i] for i in others], [tags[i] for i in others], [documents[i] for i in others], TYPES
        )
        for i, d in enumerate(documents):
            if d == document:
                assert np.array_equal(gazetteer.features(tokens[i], masked[i]), without.features(tokens[i]))


def test_build_keeps_every_phrase_for_new_text_and_masks_only_a_documents_own():
    tokens = [
        ["Acme", "won"],
        ["Acme", "lost"],
        ["Zed", "of", "Acme"],
        ["Big", "Long", "A", "B", "C", "D", "E"],
    ]
    tags = [["S-ORG", "O"], ["B-ORG", "O"], ["B-PER", "O", "O"], ["B-LOC", "I-LOC"] + ["I-LOC"] * 5]
    gazetteer, own = build_gazetteer(tokens, tags, [0, 1, 1, 2], TYPES)
    assert gazetteer.phrases == {("acme",): frozenset({1}), ("zed",): frozenset({2})}  # 7 tokens: left out
    assert own == {0: frozenset(), 1: frozenset({(("zed",), 2)}), 2: frozenset()}
    masked = masks(own, [0, 1, 1, 2, 5])  # 5: a document it was not built from
    assert masked == [
        frozenset(),
        frozenset({(("zed",), 2)}),
        frozenset({(("zed",), 2)}),
        frozenset(),
        frozenset(),
    ]
    assert _columns(gazetteer.features(["Zed", "Acme"], masked[1])) == [[], ["ORG-S"]]
    assert _columns(gazetteer.features(["Zed", "Acme"])) == [["PER-S"], ["ORG-S"]]


def test_a_grown_gazetteer_keeps_the_old_phrases_and_columns_and_masks_only_what_is_new():
    old = Gazetteer(["LOC", "PER"], {("paris",): frozenset({0}), ("anna",): frozenset({1})})
    tokens = [["Paris", "and", "Acme"], ["Anna", "Zed"]]
    tags = [["S-LOC", "O", "S-ORG"], ["S-PER", "S-PER"]]
    grown, own = grow_gazetteer(old, tokens, tags, [0, 1], ["LOC", "PER", "ORG"])
    assert grown.phrases == {
        ("paris",): frozenset({0}),
        ("anna",): frozenset({1}),
        ("acme",): frozenset({2}),
        ("zed",): frozenset({1}),
    }
    # what only one new document annotates is masked, even where the old data has it: the new data may
    # hold the old documents again (their counts are not kept)
    assert own == {
        0: frozenset({(("acme",), 2), (("paris",), 0)}),
        1: frozenset({(("zed",), 1), (("anna",), 1)}),
    }
    assert grown.features(["Paris", "Zed"]).tolist() == [  # LOC, PER, ORG: the old columns where they were
        [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
    ]


def test_json_round_trip_and_entity_types():
    tokens, tags, documents = _documents(7)
    gazetteer, _ = build_gazetteer(tokens, tags, documents, TYPES)
    assert check_gazetteer(gazetteer.to_json(), TYPES) == gazetteer
    assert entity_types(["O", "B-LOC", "S-LOC", "B-ORG", "S-PER"]) == TYPES
    assert entity_types(["O", "B-PER", "E-PER", "S-LOC", "B-ORG"]) == ["PER", "LOC", "ORG"]  # as they come


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("phrases", "is not an object of types and phrases"),
        ({"types": TYPES}, "is not an object of types and phrases"),
        ({"types": ["LOC"], "phrases": {"LOC": []}}, "types are not the model's entity types"),
        ({"types": TYPES, "phrases": {"LOC": []}}, "does not list the phrases of each entity type"),
        ({"types": TYPES, "phrases": {"LOC": "x", "ORG": [], "PER": []}}, "phrases.LOC is not a list"),
        (
            {"types": TYPES, "phrases": {"LOC": [["A"]], "ORG": [], "PER": []}},
            r"LOC\[0\] is not a list of 1 to 6",
        ),
        ({"types": TYPES, "phrases": {"LOC": [], "ORG": [[]], "PER": []}}, r"ORG\[0\] is not"),
        ({"types": TYPES, "phrases": {"LOC": [], "ORG": [], "PER": [["a"] * 7]}}, r"PER\[0\] is not"),
        ({"types": TYPES, "phrases": {"LOC": [[""]], "ORG": [], "PER": []}}, r"LOC\[0\] is not"),
        ({"types": TYPES, "phrases": {"LOC": [[1]], "ORG": [], "PER": []}}, r"LOC\[0\] is not"),
        (
            {"types": TYPES, "phrases": {"LOC": [["a"], ["b"], ["a"]], "ORG": [], "PER": []}},
            r"LOC\[2\] is listed twice",
        ),
    ],
)
def test_a_bad_gazetteer_is_refused(data, expected):
    with pytest.raises(NerkitError, match=expected):
        check_gazetteer(data, TYPES)


def test_sentences_encode_pad_and_join_with_their_features():
    vocab = build_vocab([["Acme", "won"]], ["O", "S-ORG"])
    vocab.gazetteer = Gazetteer(["ORG"], {("acme",): frozenset({0})})
    first = encode_sentence(["Acme", "won"], vocab)
    second = encode_sentence(["Acme"], vocab, masked=frozenset({(("acme",), 0)}))
    assert first.gazetteer is not None and first.gazetteer.tolist() == [[0, 0, 0, 1], [0, 0, 0, 0]]
    assert second.gazetteer is not None and second.gazetteer.tolist() == [[0, 0, 0, 0]]
    padded = pad([second, first])
    assert padded.gazetteer is not None and padded.gazetteer.dtype == np.float32
    assert padded.gazetteer.tolist() == [
        [[0, 0, 0, 0], [0, 0, 0, 0]],
        [[0, 0, 0, 1], [0, 0, 0, 0]],
    ]
    joined = join_sentences([first, second])
    assert joined.gazetteer is not None and joined.gazetteer.tolist() == [
        [0, 0, 0, 1],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
    ]
    assert encode_sentence(["Acme"], build_vocab([["Acme"]], ["O"])).gazetteer is None
