"""Error kinds, their counts and examples, and the confusion matrix, on hand-built sentences."""

from __future__ import annotations

import pytest

from nerkit.errors import NerkitError
from nerkit.report.mistakes import (
    KINDS,
    Pair,
    confusion_matrix,
    count_mistakes,
    error_kind,
    find_mistakes,
    overlapping,
    pair_mentions,
)
from nerkit.report.sentences import Mention, ReportSentence

TEXT = "Anna Maria Smith met John Lee in New York City today"
#       0    5    10   15   20   25   30   35   40   45   50


def gold(start: int, end: int, label: str) -> Mention:
    return Mention(start, end, label)


def pred(start: int, end: int, label: str, confidence: float = 0.9) -> Mention:
    return Mention(start, end, label, confidence)


def sentence(golds: list[Mention], predicted: list[Mention], place: str = "f:1") -> ReportSentence:
    return ReportSentence(TEXT, golds, predicted, place=place)


def kinds(one: ReportSentence) -> list[str | None]:
    return [error_kind(pair) for pair in pair_mentions(one)]


def test_each_kind_of_pair() -> None:
    person = gold(21, 29, "PER")  # John Lee
    assert error_kind(Pair(person, pred(21, 29, "PER"))) is None
    assert error_kind(Pair(person, pred(21, 29, "ORG"))) == "wrong_type"
    assert error_kind(Pair(person, pred(17, 29, "PER"))) == "too_long"
    assert error_kind(Pair(person, pred(21, 30, "PER"))) == "too_long"
    assert error_kind(Pair(person, pred(21, 25, "PER"))) == "too_short"
    assert error_kind(Pair(person, pred(26, 29, "PER"))) == "too_short"
    assert error_kind(Pair(person, pred(26, 32, "PER"))) == "shifted"
    assert error_kind(Pair(person, pred(17, 25, "PER"))) == "shifted"
    assert error_kind(Pair(person, pred(21, 25, "LOC"))) == "wrong_both"
    assert error_kind(Pair(person, pred(17, 32, "LOC"))) == "wrong_both"
    assert error_kind(Pair(person, None)) == "missed"
    assert error_kind(Pair(None, pred(0, 4, "PER"))) == "spurious"


def test_overlapping_finds_every_mention_sharing_a_character() -> None:
    mentions = [gold(0, 4, "A"), gold(5, 10, "B"), gold(11, 16, "C"), gold(21, 25, "D")]
    assert overlapping(mentions, pred(4, 5, "X")) == []
    assert overlapping(mentions, pred(3, 6, "X")) == mentions[:2]
    assert overlapping(mentions, pred(9, 22, "X")) == mentions[1:]
    assert overlapping(mentions, pred(16, 21, "X")) == []
    assert overlapping([], pred(0, 50, "X")) == []


def test_pairing_prefers_the_same_span_then_the_largest_overlap_then_the_earliest() -> None:
    anna, maria = gold(0, 4, "PER"), gold(5, 10, "PER")
    # 0..7 shares 4 characters with Anna and 2 with Maria
    assert pair_mentions(sentence([anna, maria], [pred(0, 7, "PER")])) == [Pair(anna, pred(0, 7, "PER"))]
    # 2..8 shares 2 with Anna, 3 with Maria
    assert pair_mentions(sentence([anna, maria], [pred(2, 8, "ORG")])) == [Pair(maria, pred(2, 8, "ORG"))]
    # 2..7 shares 2 with each: the earliest
    assert pair_mentions(sentence([anna, maria], [pred(2, 7, "PER")])) == [Pair(anna, pred(2, 7, "PER"))]
    assert pair_mentions(sentence([anna, maria], [pred(5, 10, "LOC")])) == [
        Pair(anna, None),
        Pair(maria, pred(5, 10, "LOC")),
    ]
    # 3..10 shares 1 character with Anna and 5 with Maria
    assert pair_mentions(sentence([anna, maria], [pred(3, 10, "PER")])) == [Pair(maria, pred(3, 10, "PER"))]


def test_a_gold_overlapped_by_two_predictions_is_paired_with_each() -> None:
    name = gold(0, 16, "PER")  # Anna Maria Smith
    split = sentence([name], [pred(0, 10, "PER"), pred(11, 16, "PER")])
    assert pair_mentions(split) == [Pair(name, pred(0, 10, "PER")), Pair(name, pred(11, 16, "PER"))]
    assert kinds(split) == ["too_short", "too_short"]
    mixed = sentence([name], [pred(0, 4, "PER"), pred(5, 16, "ORG")])
    assert kinds(mixed) == ["too_short", "wrong_both"]
    assert confusion_matrix([mixed]).counts == [[0, 0, 0], [1, 1, 0], [0, 0, 0]]


def test_a_gold_overlapped_only_by_a_prediction_paired_elsewhere_is_not_missed() -> None:
    anna_maria, smith = gold(0, 10, "PER"), gold(11, 16, "PER")
    wide = sentence([anna_maria, smith], [pred(0, 16, "PER")])
    assert pair_mentions(wide) == [Pair(anna_maria, pred(0, 16, "PER"))]
    assert count_mistakes([wide]).counts == {**dict.fromkeys(KINDS, 0), "too_long": 1}


def test_pairs_come_in_order_of_position() -> None:
    one = sentence(
        [gold(0, 16, "PER"), gold(21, 29, "PER"), gold(33, 46, "LOC")],
        [pred(5, 10, "PER"), pred(33, 46, "LOC"), pred(47, 52, "DATE")],
    )
    assert [(pair.gold, pair.predicted) for pair in pair_mentions(one)] == [
        (gold(0, 16, "PER"), pred(5, 10, "PER")),
        (gold(21, 29, "PER"), None),
        (gold(33, 46, "LOC"), pred(33, 46, "LOC")),
        (None, pred(47, 52, "DATE")),
    ]
    assert kinds(one) == ["too_short", "missed", None, "spurious"]


def test_counts_per_type_and_examples_of_every_kind() -> None:
    first = sentence(
        [gold(0, 16, "PER"), gold(21, 29, "PER"), gold(33, 46, "LOC")],
        [pred(0, 16, "ORG", 0.5), pred(21, 30, "PER", 0.6), pred(33, 41, "LOC", 0.7)],
        place="f:1",
    )
    second = sentence(
        [gold(0, 10, "PER"), gold(21, 29, "ORG"), gold(33, 46, "LOC")],
        [pred(5, 16, "PER", 0.8), pred(21, 24, "LOC", 0.85), pred(47, 52, "DATE", 0.95)],
        place="f:3",
    )
    found = count_mistakes([first, second])
    assert found.counts == {
        "wrong_type": 1,
        "too_long": 1,
        "too_short": 1,
        "shifted": 1,
        "wrong_both": 1,
        "missed": 1,
        "spurious": 1,
    }
    zero = dict.fromkeys(KINDS, 0)
    assert found.per_type == {
        "DATE": {**zero, "spurious": 1},
        "LOC": {**zero, "too_short": 1, "missed": 1},
        "ORG": {**zero, "wrong_both": 1},
        "PER": {**zero, "wrong_type": 1, "too_long": 1, "shifted": 1},
    }
    as_json = found.to_json()
    assert list(as_json) == ["counts", "per_type", "examples"]
    examples = as_json["examples"]
    assert isinstance(examples, dict)
    assert list(examples) == list(KINDS)
    assert examples["wrong_type"] == [
        {
            "place": "f:1",
            "text": TEXT,
            "gold": {"start": 0, "end": 16, "label": "PER", "text": "Anna Maria Smith"},
            "predicted": {
                "start": 0,
                "end": 16,
                "label": "ORG",
                "text": "Anna Maria Smith",
                "confidence": 0.5,
            },
        }
    ]
    assert examples["missed"] == [
        {
            "place": "f:3",
            "text": TEXT,
            "gold": {"start": 33, "end": 46, "label": "LOC", "text": "New York City"},
            "predicted": None,
        }
    ]
    assert examples["spurious"] == [
        {
            "place": "f:3",
            "text": TEXT,
            "gold": None,
            "predicted": {"start": 47, "end": 52, "label": "DATE", "text": "today", "confidence": 0.95},
        }
    ]
    assert examples["shifted"][0]["predicted"]["text"] == "Maria Smith"
    assert examples["wrong_both"][0]["predicted"]["text"] == "Joh"


def test_examples_are_the_first_in_file_order() -> None:
    sentences = [
        sentence([], [pred(0, 4, "PER"), pred(5, 10, "PER")], place=f"f:{line}") for line in range(8)
    ]
    found = count_mistakes(sentences)
    assert found.counts["spurious"] == 16
    shown = [(example.sentence.place, example.predicted) for example in found.examples["spurious"]]
    assert shown == [
        (f"f:{line}", pred(start, end, "PER")) for line in range(5) for start, end in [(0, 4), (5, 10)]
    ]
    assert count_mistakes(sentences, examples=3).examples["spurious"] == found.examples["spurious"][:3]
    assert count_mistakes(sentences, examples=0).examples == {kind: [] for kind in KINDS}


def test_a_negative_number_of_examples_is_refused() -> None:
    with pytest.raises(NerkitError, match="examples per mistake kind must be 0 or more, not -1"):
        count_mistakes([], examples=-1)


def test_exact_matches_are_no_mistake() -> None:
    right = sentence([gold(0, 4, "PER"), gold(33, 46, "LOC")], [pred(0, 4, "PER"), pred(33, 46, "LOC")])
    assert find_mistakes([right]) == []
    assert count_mistakes([right]).to_json() == {
        "counts": dict.fromkeys(KINDS, 0),
        "per_type": {"LOC": dict.fromkeys(KINDS, 0), "PER": dict.fromkeys(KINDS, 0)},
        "examples": {kind: [] for kind in KINDS},
    }
    assert confusion_matrix([right]).to_json() == {
        "gold": ["LOC", "PER", "spurious"],
        "predicted": ["LOC", "PER", "missed"],
        "counts": [[1, 0, 0], [0, 1, 0], [0, 0, 0]],
    }


def test_no_sentences_and_empty_sentences() -> None:
    for sentences in ([], [sentence([], [])], [ReportSentence("", [], [])]):
        assert count_mistakes(sentences).to_json() == {
            "counts": dict.fromkeys(KINDS, 0),
            "per_type": {},
            "examples": {kind: [] for kind in KINDS},
        }
        assert confusion_matrix(sentences).to_json() == {
            "gold": ["spurious"],
            "predicted": ["missed"],
            "counts": [[0]],
        }


def test_no_predictions_means_every_gold_is_missed() -> None:
    unseen = sentence([gold(0, 4, "PER"), gold(33, 46, "LOC")], [])
    assert [mistake.kind for mistake in find_mistakes([unseen])] == ["missed", "missed"]
    assert confusion_matrix([unseen]).counts == [[0, 0, 1], [0, 0, 1], [0, 0, 0]]


def test_no_gold_means_every_prediction_is_spurious() -> None:
    unfounded = sentence([], [pred(0, 4, "PER"), pred(33, 46, "LOC")])
    assert [mistake.kind for mistake in find_mistakes([unfounded])] == ["spurious", "spurious"]
    assert count_mistakes([unfounded]).per_type["LOC"]["spurious"] == 1
    assert confusion_matrix([unfounded]).counts == [[0, 0, 0], [0, 0, 0], [1, 1, 0]]


def test_confusion_counts_every_pairing_boundary_errors_included() -> None:
    sentences = [
        sentence(
            [gold(0, 16, "PER"), gold(21, 29, "PER"), gold(33, 46, "LOC")],
            [pred(0, 16, "PER"), pred(21, 25, "ORG"), pred(47, 52, "MISC")],
        ),
        sentence(
            [gold(0, 4, "ORG"), gold(33, 46, "LOC")],
            [pred(0, 10, "ORG"), pred(33, 37, "LOC"), pred(38, 46, "PER")],
        ),
    ]
    assert confusion_matrix(sentences).to_json() == {
        "gold": ["LOC", "MISC", "ORG", "PER", "spurious"],
        "predicted": ["LOC", "MISC", "ORG", "PER", "missed"],
        "counts": [
            [1, 0, 0, 1, 1],
            [0, 0, 0, 0, 0],
            [0, 0, 1, 0, 0],
            [0, 0, 1, 1, 0],
            [0, 1, 0, 0, 0],
        ],
    }
