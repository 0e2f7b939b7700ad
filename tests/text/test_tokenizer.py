"""Tests for nerkit.text.tokenizer: CoNLL-2003 conventions, and offsets that are always right."""

from __future__ import annotations

import random
import time

import pytest

from nerkit.text.tokenizer import split_at, token_spans, tokenize


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Don't stop.", ["Do", "n't", "stop", "."]),
        ("They're here, aren't they?", ["They", "'re", "here", ",", "are", "n't", "they", "?"]),
        ("the U.S. Army's base", ["the", "U.S.", "Army", "'s", "base"]),
        ("(near St. Louis)", ["(", "near", "St.", "Louis", ")"]),
        ("up 5% to $20 or C$30", ["up", "5", "%", "to", "$", "20", "or", "C$", "30"]),
        ('"Yes," he said -- really...', ['"', "Yes", ",", '"', "he", "said", "--", "really", "..."]),
        ("on 1996-08-30 at 1,250.5 won 6-2 1/2", ["on", "1996-08-30", "at", "1,250.5", "won", "6-2", "1/2"]),
        ("a 20-year-old all-rounder O'Brien", ["a", "20-year-old", "all-rounder", "O'Brien"]),
        ("players' fees", ["players", "'", "fees"]),
        ("batting .496 in the 1990s", ["batting", ".496", "in", "the", "1990s"]),
        ("3. Jan Ullrich ( Germany )", ["3.", "Jan", "Ullrich", "(", "Germany", ")"]),
        ("Mr. J. Smith of Acme Corp. said", ["Mr.", "J.", "Smith", "of", "Acme", "Corp.", "said"]),
        ("He left.", ["He", "left", "."]),
        (
            "mail ana@example.org or www.example.org/x.",
            ["mail", "ana@example.org", "or", "www.example.org/x", "."],
        ),
        ("AT&T e.g. this", ["AT&T", "e.g.", "this"]),
        (
            "Gildersleeve Bros.'s shop, the 'savings' 's",
            ["Gildersleeve", "Bros.", "'s", "shop", ",", "the", "'", "savings", "'", "'", "s"],
        ),
        ("It\u2019s Zoë\u2019s", ["It", "\u2019s", "Zoë", "\u2019s"]),
    ],
)
def test_conll_2003_conventions(text, tokens):
    assert tokenize(text) == tokens


def test_unicode_stays_whole():
    text = "Zoe\u0301 met \U0001f44d\U0001f3fd and \U0001f1eb\U0001f1f7 in Malmö\u0308!"
    assert tokenize(text) == [
        "Zoe\u0301",
        "met",
        "\U0001f44d\U0001f3fd",
        "and",
        "\U0001f1eb\U0001f1f7",
        "in",
        "Malmö\u0308",
        "!",
    ]


def test_empty_and_white_space():
    assert token_spans("") == []
    assert token_spans(" \t\r\n\u00a0\u2003 ") == []


def test_spans_of_a_slice_are_offsets_into_the_whole_text():
    text = "xx Ada Lovelace. yy"
    assert token_spans(text, 3, 16) == [(3, 6), (7, 15), (15, 16)]


def _random_text(rng: random.Random, length: int) -> str:
    pieces = [
        "a", "Z", "é", "e\u0301", "1", "9", ".", ",", "'", "\u2019", "-", "--", "$", "%", "(", ")", '"', " ", " ",
        "  ", "\t", "\r\n", "\n", "\u00a0", "\U0001f600", "\U0001f44d\U0001f3fd", "\u200d", "n't", "'s", "U.S.",
        "Mr.", "\u0301", "\ufeff", "@", "http://x.y/", "…", "ß", "İ", "日本", "\x00",
    ]  # fmt: skip
    return "".join(rng.choice(pieces) for _ in range(length))


def test_offsets_are_always_right_on_random_text():
    rng = random.Random(5)
    for _ in range(400):
        text = _random_text(rng, rng.randint(0, 60))
        spans = token_spans(text)
        previous_end = 0
        for start, end in spans:
            assert previous_end <= start < end <= len(text)
            assert not text[start:end].isspace()
            assert text[start:end] == text[start:end].strip()
            previous_end = end
        covered = {i for start, end in spans for i in range(start, end)}
        assert all(text[i].isspace() or text[i] == "\ufeff" or i in covered for i in range(len(text))), text


@pytest.mark.slow
def test_ten_megabytes_in_seconds():
    text = ("Maria Voss, 34, don't visit Port Halvery (U.S.) on 1996-08-30 -- it's 5% dearer. " * 8) + "\n"
    big = text * (10_000_000 // len(text))
    started = time.perf_counter()
    spans = token_spans(big)
    elapsed = time.perf_counter() - started
    assert spans[-1][1] == len(big.rstrip())
    assert elapsed < 30


def test_forced_boundaries_split_the_tokens_they_fall_inside():
    text = "the Smithsonian, (1-0) win"
    spans = split_at(token_spans(text), [4, 9, 9, 19, 26])
    assert [text[s:e] for s, e in spans] == ["the", "Smith", "sonian", ",", "(", "1", "-0", ")", "win"]


def test_boundaries_at_token_edges_change_nothing():
    assert list(split_at([(2, 4)], [0, 2, 4, 6])) == [(2, 4)]
    assert list(split_at([(0, 3), (4, 6)], [1, 2, 5])) == [(0, 1), (1, 2), (2, 3), (4, 5), (5, 6)]


def test_separator_controls_are_white_space_as_str_split_has_them():
    assert tokenize("Alice\x1cBob\x1d \x1f.") == ["Alice", "Bob", "."]
