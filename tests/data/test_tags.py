"""Tests for nerkit.data.tags: validation, spans, conversion between IOB1/IOB2/BIOES, detection."""

from __future__ import annotations

import random

import pytest

from nerkit.data.tags import (
    Span,
    allowed_transitions,
    convert_tags,
    detect_scheme,
    is_valid_tag,
    normalise_scheme,
    spans_to_tags,
    split_tag,
    tags_to_spans,
)


def test_valid_tags():
    assert all(map(is_valid_tag, ["O", "B-PER", "I-creative-work", "E-X", "S-corporation"]))
    assert not any(map(is_valid_tag, ["X-PER", "B-", "B", "PER", "o", "b-per", "B PER", "", "-PER"]))


def test_split_tag():
    assert split_tag("B-creative-work") == ("B", "creative-work")
    assert split_tag("O") == ("O", "")


@pytest.mark.parametrize(
    ("tags", "spans"),
    [
        (["B-PER", "I-PER", "O", "B-LOC"], [Span(0, 2, "PER"), Span(3, 4, "LOC")]),
        (["B-PER", "B-PER", "I-PER"], [Span(0, 1, "PER"), Span(1, 3, "PER")]),
        (["I-PER", "I-PER", "B-PER", "O"], [Span(0, 2, "PER"), Span(2, 3, "PER")]),  # IOB1
        (["O", "I-PER", "I-LOC"], [Span(1, 2, "PER"), Span(2, 3, "LOC")]),  # ill-formed IOB2
        (["B-PER", "I-LOC", "I-LOC"], [Span(0, 1, "PER"), Span(1, 3, "LOC")]),
        (
            ["S-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC"],
            [Span(0, 1, "PER"), Span(1, 2, "PER"), Span(2, 5, "LOC")],
        ),
        (["B-X", "E-X", "I-X", "E-X"], [Span(0, 2, "X"), Span(2, 4, "X")]),
        (["E-X", "O", "B-X", "S-X"], [Span(0, 1, "X"), Span(2, 3, "X"), Span(3, 4, "X")]),
        (["O", "O"], []),
        ([], []),
    ],
)
def test_tags_to_spans(tags, spans):
    assert tags_to_spans(tags) == spans


def test_spans_to_tags_in_each_scheme():
    spans = [Span(0, 1, "PER"), Span(1, 3, "PER"), Span(4, 5, "LOC")]
    assert spans_to_tags(spans, 6, "IOB2") == ["B-PER", "B-PER", "I-PER", "O", "B-LOC", "O"]
    assert spans_to_tags(spans, 6, "IOB1") == ["I-PER", "B-PER", "I-PER", "O", "I-LOC", "O"]
    assert spans_to_tags(spans, 6, "BIOES") == ["S-PER", "B-PER", "E-PER", "O", "S-LOC", "O"]
    assert spans_to_tags([Span(0, 4, "ORG")], 4, "bioes") == ["B-ORG", "I-ORG", "I-ORG", "E-ORG"]


def test_spans_to_tags_rejects_overlap_and_out_of_range():
    with pytest.raises(ValueError, match="overlap"):
        spans_to_tags([Span(0, 2, "A"), Span(1, 3, "B")], 4)
    with pytest.raises(ValueError, match="outside"):
        spans_to_tags([Span(2, 5, "A")], 4)


def test_scheme_names():
    assert normalise_scheme("iobes") == "BIOES"
    assert normalise_scheme(" iob1 ") == "IOB1"
    with pytest.raises(ValueError, match="unknown tag scheme 'BILOU'"):
        normalise_scheme("BILOU")


def _random_spans(rng: random.Random, length: int, labels: list[str]) -> list[Span]:
    spans, position = [], 0
    while position < length:
        position += rng.randint(0, 2)
        size = rng.randint(1, 3)
        if position + size > length:
            break
        spans.append(Span(position, position + size, rng.choice(labels)))
        position += size
    return spans


def test_conversion_round_trips_between_all_schemes():
    rng = random.Random(7)
    labels = ["PER", "LOC", "creative-work"]
    for _ in range(500):
        length = rng.randint(0, 12)
        spans = _random_spans(rng, length, labels)
        for scheme in ("IOB1", "IOB2", "BIOES"):
            tags = spans_to_tags(spans, length, scheme)
            assert tags_to_spans(tags) == spans
            for other in ("IOB1", "IOB2", "BIOES"):
                assert convert_tags(tags, other) == spans_to_tags(spans, length, other)


def test_detect_scheme():
    assert detect_scheme([["B-PER", "I-PER"], ["O", "B-LOC"]]).scheme == "IOB2"
    assert detect_scheme([["I-PER", "I-PER"], ["I-LOC", "B-LOC"]]).scheme == "IOB1"
    assert detect_scheme([["S-PER"], ["B-LOC", "E-LOC"]]).scheme == "BIOES"
    assert detect_scheme([["O", "O"]]).scheme is None


def test_detect_scheme_counts_ill_formed_chunks():
    report = detect_scheme([["B-PER", "I-PER"], ["O", "I-LOC"], ["O"], ["B-ORG", "O", "B-LOC"]])
    assert report.scheme == "IOB1"  # a chunk opens with I-
    assert report.chunks == 4
    assert dict(report.chunk_starts) == {"B": 3, "I": 1}
    assert report.ill_formed == 3  # as IOB1, B-PER, B-ORG and B-LOC after O should be I-
    assert report.examples == [0, 3, 3]
    bioes = detect_scheme([["B-PER", "I-PER"], ["S-LOC"]])
    assert (bioes.scheme, bioes.ill_formed, bioes.examples) == ("BIOES", 1, [0])


def _valid_sequences(tags, scheme, length):
    import itertools

    allowed, start, end = allowed_transitions(tags, scheme)
    for path in itertools.product(range(len(tags)), repeat=length):
        if start[path[0]] and end[path[-1]] and all(allowed[a][b] for a, b in itertools.pairwise(path)):
            yield [tags[i] for i in path]


@pytest.mark.parametrize("scheme", ["IOB1", "IOB2", "BIOES"])
def test_allowed_transitions_admit_exactly_the_well_formed_sequences(scheme):
    import itertools

    prefixes = {"IOB1": "BI", "IOB2": "BI", "BIOES": "BIES"}[scheme]
    tags = ["O"] + [f"{p}-{t}" for t in ("A", "B") for p in prefixes]
    admitted = {tuple(s) for s in _valid_sequences(tags, scheme, 3)}
    well_formed = {
        tuple(s) for s in itertools.product(tags, repeat=3) if list(s) == convert_tags(list(s), scheme)
    }
    assert admitted == well_formed
