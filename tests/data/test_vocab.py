"""Tests for nerkit.data.vocab: casing classes, normalised words, word-row fallbacks, build order, JSON."""

from __future__ import annotations

import json

import pytest

from nerkit.data.vocab import CASINGS, PAD, UNK, Vocab, build_vocab, casing, grow_vocab, normalise_word


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("lower", "lower"),
        ("é", "lower"),
        ("straße", "lower"),
        ("Upper", "title"),
        ("Édith", "title"),
        ("UPPER", "upper"),
        ("É", "upper"),
        ("U.S.", "upper"),
        ("1996", "numeric"),
        ("0", "numeric"),
        ("4.5", "has_digit"),
        ("1,250", "has_digit"),
        ("3-1", "has_digit"),
        ("2029-07-28", "has_digit"),
        ("iPhone", "mixed"),
        ("McDonald", "mixed"),
        ("Hello-World", "mixed"),
        ("--", "punct"),
        ("$", "punct"),
        (".", "punct"),
        ('"', "punct"),
        ("%", "punct"),
        ("...", "punct"),
        ("😀", "punct"),  # emoji are Unicode symbols (\p{So}), which the punct class includes
        ("½", "other"),
        ("", "other"),
        # islower/isupper look only at cased letters, so letters with digits take the letters' case
        ("A1", "upper"),
        ("x1", "lower"),
        ("B52s", "title"),  # "52s" counts as lower case
        ("iPhone15", "has_digit"),
    ],
)
def test_casing_classes(word, expected):
    assert CASINGS[casing(word)] == expected


def test_casing_table():
    assert CASINGS[0] == "pad"
    assert len(CASINGS) == len(set(CASINGS)) == 9
    assert all(casing(w) != 0 for w in ["a", "A", "1", ".", "", "😀", "½"])  # 0 is only padding


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Paris", "paris"),
        ("PARIS", "paris"),
        ("1996", "0000"),
        ("4.5", "0.0"),
        ("A1", "a0"),
        ("2029-07-28", "0000-00-00"),
        ("ÉCOLE", "école"),
        ("--", "--"),
        ("", ""),
    ],
)
def test_normalise_word(word, expected):
    assert normalise_word(word) == expected


def _vocab(words):
    return Vocab(words=[PAD, UNK, *words], chars=[PAD, UNK], labels=["O"])


def test_word_id_prefers_the_exact_form():
    vocab = _vocab(["Apple", "apple", "0000", "1996"])
    assert vocab.word_id("Apple") == 2
    assert vocab.word_id("apple") == 3
    assert vocab.word_id("1996") == 5  # exact form beats digits-as-0


def test_word_id_falls_back_to_lower_case():
    vocab = _vocab(["apple", "a0"])
    assert vocab.word_id("APPLE") == 2
    assert vocab.word_id("Apple") == 2
    assert vocab.word_id("A0") == 3  # lower case, no digit rewrite needed


def test_word_id_falls_back_to_digits_as_zero():
    vocab = _vocab(["0000", "0.0", "a0", "0-0"])
    assert vocab.word_id("1996") == 2
    assert vocab.word_id("2024") == 2
    assert vocab.word_id("4.5") == 3
    assert vocab.word_id("A7") == 4  # lower case and digits as 0 together
    assert vocab.word_id("3-1") == 5


def test_word_id_unknown_is_1():
    vocab = _vocab(["apple"])
    assert vocab.word_id("pear") == 1
    assert vocab.word_id("19") == 1
    assert vocab.word_id(UNK) == 1


def test_a_literal_pad_token_is_not_the_padding_row():
    vocab = build_vocab([["<pad>", "x"]], ["O"])
    assert vocab.word_id("<pad>") != 0


def test_char_ids():
    vocab = Vocab(words=[PAD, UNK], chars=[PAD, UNK, "a", "b"], labels=["O"])
    assert vocab.char_ids("abz") == [2, 3, 1]
    assert vocab.char_ids("") == []


def test_build_vocab_word_order():
    vocab = build_vocab(
        [["The", "cat", "sat", "in", "1996", "."], ["THE", "Cat", "Ran", "in", "2001", "4.5"]],
        ["O"],
        vector_words=["the", "in", "sat", "the"],
    )
    # pad, unk, vector words (deduplicated, in order), then new training words, normalised, in first-seen order
    assert vocab.words == [PAD, UNK, "the", "in", "sat", "cat", "0000", ".", "ran", "0.0"]
    assert vocab.word_index["cat"] == 5
    assert vocab.word_id("Cat") == 5
    assert vocab.word_id("2001") == 6
    assert vocab.word_id("The") == 2


def test_build_vocab_keeps_vector_case_and_skips_training_words_it_covers():
    vocab = build_vocab([["Paris", "paris", "PARIS", "Berlin"]], ["O"], vector_words=["Paris"])
    # "Paris" is a vector word; "paris" and "PARIS" lower-case to a form not yet there, so one row is added
    assert vocab.words == [PAD, UNK, "Paris", "paris", "berlin"]
    assert vocab.word_id("Paris") == 2
    assert vocab.word_id("PARIS") == 3


def test_build_vocab_chars():
    vocab = build_vocab([["ab", "ba"], ["c"]], ["O"])
    assert vocab.chars == [PAD, UNK, "a", "b", "c"]
    rare = build_vocab([["ab", "ba"], ["c"]], ["O"], min_char_count=2)
    assert rare.chars == [PAD, UNK, "a", "b"]
    assert rare.char_ids("abc") == [2, 3, 1]


def test_build_vocab_labels_o_first_grouped_by_type():
    labels = [
        "S-PER",
        "B-LOC",
        "O",
        "E-PER",
        "I-creative-work",
        "B-PER",
        "E-LOC",
        "B-creative-work",
        "I-PER",
        "O",
        "S-LOC",
        "E-creative-work",
    ]
    vocab = build_vocab([["x"]], labels)
    assert vocab.labels == [
        "O",
        "B-LOC",
        "E-LOC",
        "S-LOC",
        "B-PER",
        "E-PER",
        "I-PER",
        "S-PER",
        "B-creative-work",
        "E-creative-work",
        "I-creative-work",
    ]
    assert vocab.label_index == {label: i for i, label in enumerate(vocab.labels)}
    # the order does not depend on the order labels arrive in
    assert build_vocab([["x"]], reversed(labels)).labels == vocab.labels


def test_json_round_trip():
    vocab = build_vocab([["The", "café", "1996"]], ["O", "B-LOC", "S-LOC"], vector_words=["the"])
    data = json.loads(json.dumps(vocab.to_json(), ensure_ascii=False))
    assert set(data) == {"words", "chars", "labels"}
    again = Vocab.from_json(data)
    assert again == vocab
    assert again.word_index == vocab.word_index
    assert again.char_index == vocab.char_index
    assert again.label_index == vocab.label_index
    assert again.word_id("CAFÉ") == vocab.word_id("café") == 3
    # from_json copies the lists: changing the input later does not change the vocabulary
    data["words"].append("extra")
    assert "extra" not in again.words


def test_grow_vocab_appends_only_what_the_old_tables_lack():
    old = build_vocab([["Paris", "is", "big"]], ["O", "S-LOC"], vector_words=["Paris", "city"])
    grown = grow_vocab(
        old,
        [["PARIS", "is", "Bigger", "1996", "<unk>", "<pad>", "ó"]],
        ["O", "S-PER", "S-LOC", "B-PER"],
        vector_words=["paris", "Berlin", "city", "<unk>"],
    )
    assert grown.words == [*old.words, "paris", "Berlin", "bigger", "0000", "ó"]  # "paris" was unknown
    assert grown.chars == [*old.chars, *"169<>ABIRSdeknpuó"]
    assert grown.labels == ["O", "S-LOC", "B-PER", "S-PER"]
    assert grown.word_id("Paris") == old.word_id("Paris")
