"""The worst sentences and the likely annotation errors, on hand-built sentences."""

from __future__ import annotations

import math

import pytest

from nerkit.errors import NerkitError
from nerkit.report.review import Suspect, WorstSentence, find_suspects, mistake_weights, worst_sentences
from nerkit.report.sentences import Mention, ReportSentence

TEXT = "Anna met John Lee in Paris today"
TOKENS = [(0, 4), (5, 8), (9, 13), (14, 17), (18, 20), (21, 26), (27, 32)]
ANNA, JOHN, LEE, JOHN_LEE, PARIS, TODAY = (0, 4), (9, 13), (14, 17), (9, 17), (21, 26), (27, 32)


def gold(span: tuple[int, int], label: str) -> Mention:
    return Mention(span[0], span[1], label)


def pred(span: tuple[int, int], label: str, confidence: float) -> Mention:
    return Mention(span[0], span[1], label, confidence)


def sentence(
    golds: list[Mention],
    predicted: list[Mention],
    confidences: list[float] | None = None,
    place: str = "f:1",
) -> ReportSentence:
    """A sentence of TEXT; every token's confidence is 0.5 unless given."""
    token_confidences = confidences if confidences is not None else [0.5] * len(TOKENS)
    return ReportSentence(TEXT, golds, predicted, list(TOKENS), token_confidences, place)


def test_mistake_weights_are_confidences_of_inexact_predictions_then_outside_confidences_of_missed_gold() -> (
    None
):
    one = sentence(
        [gold(ANNA, "PER"), gold(JOHN_LEE, "PER"), gold(PARIS, "LOC")],
        [pred(ANNA, "PER", 0.9), pred(PARIS, "ORG", 0.7), pred(TODAY, "DATE", 0.2)],
        [0.9, 0.99, 0.8, 0.6, 0.99, 0.7, 0.2],
    )
    assert mistake_weights(one) == [0.7, 0.2, 0.6]
    assert mistake_weights(sentence([gold(ANNA, "PER")], [pred(ANNA, "PER", 0.9)])) == []
    assert mistake_weights(sentence([], [])) == []
    untokenised = ReportSentence(TEXT, [gold(ANNA, "PER")], [])
    assert mistake_weights(untokenised) == [0.0]


def test_worst_sentences_rank_by_summed_weight_then_file_order() -> None:
    right = sentence([gold(ANNA, "PER")], [pred(ANNA, "PER", 0.99)], place="f:1")
    missed = sentence([gold(JOHN_LEE, "PER")], [], [0.9, 0.9, 0.8, 0.6, 0.9, 0.9, 0.9], place="f:3")
    two = sentence([gold(PARIS, "LOC")], [pred(PARIS, "ORG", 0.7), pred(TODAY, "DATE", 0.2)], place="f:5")
    unknown = ReportSentence(TEXT, [gold(ANNA, "PER")], [], place="f:7")
    same_as_missed = sentence([], [pred(ANNA, "PER", 0.6)], place="f:9")
    empty = sentence([], [], place="f:11")
    found = worst_sentences([right, missed, two, unknown, same_as_missed, empty])
    assert found == [
        WorstSentence(two, 2, 0.7 + 0.2),
        WorstSentence(missed, 1, 0.6),
        WorstSentence(same_as_missed, 1, 0.6),
        WorstSentence(unknown, 1, 0.0),
    ]
    assert found[0].sentence is two
    assert worst_sentences([right, missed, two, unknown, same_as_missed], count=2) == found[:2]
    assert worst_sentences([right, missed], count=0) == []
    assert worst_sentences([]) == []
    assert worst_sentences([right, empty]) == []


def test_worst_sentence_json() -> None:
    two = sentence([gold(PARIS, "LOC")], [pred(PARIS, "ORG", 0.7), pred(TODAY, "DATE", 0.25)], place="f:5")
    assert worst_sentences([two])[0].to_json() == {
        "place": "f:5",
        "text": TEXT,
        "gold": [{"start": 21, "end": 26, "label": "LOC", "text": "Paris"}],
        "predicted": [
            {"start": 21, "end": 26, "label": "ORG", "text": "Paris", "confidence": 0.7},
            {"start": 27, "end": 32, "label": "DATE", "text": "today", "confidence": 0.25},
        ],
        "mistakes": 2,
        "score": 0.95,
    }


def test_at_most_50_worst_sentences_by_default() -> None:
    sentences = [sentence([], [pred(ANNA, "PER", step / 100)], place=f"f:{step}") for step in range(60)]
    found = worst_sentences(sentences)
    assert [worst.sentence.place for worst in found] == [f"f:{step}" for step in range(59, 9, -1)]


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(NerkitError, match="the number of worst sentences must be 0 or more, not -1"):
        worst_sentences([], count=-1)


def test_each_kind_of_suspect() -> None:
    wrong_type = sentence([gold(PARIS, "LOC")], [pred(PARIS, "ORG", 0.97)])
    partly_wrong_type = sentence([gold(JOHN_LEE, "PER")], [pred(LEE, "ORG", 0.96)])
    boundary = sentence([gold(JOHN_LEE, "PER")], [pred(JOHN, "PER", 0.99)])
    not_an_entity = sentence([gold(PARIS, "LOC")], [], [0.9, 0.9, 0.9, 0.9, 0.5, 0.98, 0.9])
    unannotated = sentence([gold(ANNA, "PER")], [pred(ANNA, "PER", 0.99), pred(TODAY, "DATE", 0.95)])
    assert find_suspects([wrong_type]) == [
        Suspect(wrong_type, gold(PARIS, "LOC"), pred(PARIS, "ORG", 0.97), "wrong_type", 0.97)
    ]
    assert find_suspects([partly_wrong_type]) == [
        Suspect(partly_wrong_type, gold(JOHN_LEE, "PER"), pred(LEE, "ORG", 0.96), "wrong_type", 0.96)
    ]
    assert find_suspects([boundary]) == [
        Suspect(boundary, gold(JOHN_LEE, "PER"), pred(JOHN, "PER", 0.99), "boundary", 0.99)
    ]
    assert find_suspects([not_an_entity]) == [
        Suspect(not_an_entity, gold(PARIS, "LOC"), None, "not_an_entity", 0.98)
    ]
    assert find_suspects([unannotated]) == [
        Suspect(unannotated, None, pred(TODAY, "DATE", 0.95), "unannotated", 0.95)
    ]


def test_suspect_json_and_objects() -> None:
    wrong_type = sentence([gold(PARIS, "LOC")], [pred(PARIS, "ORG", 0.97)], place="dev.conll:12")
    (suspect,) = find_suspects([wrong_type])
    assert suspect.sentence is wrong_type
    assert suspect.gold is wrong_type.gold[0]
    assert suspect.model is wrong_type.predicted[0]
    assert suspect.to_json() == {
        "place": "dev.conll:12",
        "text": TEXT,
        "gold": {"start": 21, "end": 26, "label": "LOC", "text": "Paris"},
        "model": {"start": 21, "end": 26, "label": "ORG", "text": "Paris", "confidence": 0.97},
        "kind": "wrong_type",
        "confidence": 0.97,
    }
    unannotated = sentence([], [pred(TODAY, "DATE", 0.99)])
    assert find_suspects([unannotated])[0].to_json()["gold"] is None
    unsure = sentence([gold(PARIS, "LOC")], [], [0.99] * 7)
    assert find_suspects([unsure])[0].to_json()["model"] is None


def test_a_gold_overlapped_by_two_confident_predictions_is_one_suspect_with_the_strongest() -> None:
    split = sentence([gold(JOHN_LEE, "PER")], [pred(JOHN, "PER", 0.96), pred(LEE, "ORG", 0.98)])
    assert find_suspects([split]) == [
        Suspect(split, gold(JOHN_LEE, "PER"), pred(LEE, "ORG", 0.98), "wrong_type", 0.98)
    ]
    tied = sentence([gold(JOHN_LEE, "PER")], [pred(JOHN, "PER", 0.98), pred(LEE, "ORG", 0.98)])
    assert find_suspects([tied]) == [
        Suspect(tied, gold(JOHN_LEE, "PER"), pred(JOHN, "PER", 0.98), "boundary", 0.98)
    ]


def test_a_prediction_spanning_two_gold_mentions_casts_doubt_on_both() -> None:
    wide = sentence([gold(JOHN, "PER"), gold(LEE, "PER")], [pred(JOHN_LEE, "PER", 0.97)])
    assert [(suspect.gold, suspect.kind) for suspect in find_suspects([wide])] == [
        (gold(JOHN, "PER"), "boundary"),
        (gold(LEE, "PER"), "boundary"),
    ]


def test_no_suspect_below_the_confidence_or_for_an_exact_match() -> None:
    sentences = [
        sentence([gold(ANNA, "PER")], [pred(ANNA, "PER", 1.0)]),
        sentence([gold(PARIS, "LOC")], [pred(PARIS, "ORG", 0.9499)]),
        sentence([gold(JOHN_LEE, "PER")], [pred(JOHN, "PER", 0.5)]),
        sentence([gold(PARIS, "LOC")], [], [0.99, 0.99, 0.99, 0.99, 0.99, 0.94, 0.99]),
        ReportSentence(TEXT, [gold(PARIS, "LOC")], [], place="no tokens"),
        sentence([], [pred(TODAY, "DATE", 0.9)]),
        sentence([], []),
    ]
    assert find_suspects(sentences) == []
    assert find_suspects([]) == []


def test_the_threshold_is_inclusive_from_zero_to_one() -> None:
    exactly = sentence([gold(PARIS, "LOC")], [pred(PARIS, "ORG", 0.95)])
    assert [suspect.confidence for suspect in find_suspects([exactly])] == [0.95]
    certain = sentence([gold(PARIS, "LOC")], [pred(PARIS, "ORG", 1.0)])
    assert [suspect.confidence for suspect in find_suspects([exactly, certain], at_least=1.0)] == [1.0]
    doubtful = sentence([gold(PARIS, "LOC")], [], [0.0] * 7)
    assert [suspect.kind for suspect in find_suspects([doubtful], at_least=0.0)] == ["not_an_entity"]
    assert find_suspects([doubtful], at_least=0.01) == []


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan, "0.9", None, True])
def test_an_at_least_outside_zero_to_one_is_refused(bad: object) -> None:
    with pytest.raises(NerkitError) as raised:
        find_suspects([], at_least=bad)  # type: ignore[arg-type]
    assert str(raised.value) == (
        f"suspect_confidence={bad!r} is not a number from 0 to 1; how sure the model must be to cast doubt "
        "on an annotation, e.g. 0.95"
    )


def test_suspects_rank_by_confidence_then_file_order() -> None:
    first = sentence(
        [gold(ANNA, "PER"), gold(PARIS, "LOC")],
        [pred(ANNA, "ORG", 0.96), pred(PARIS, "ORG", 0.99), pred(TODAY, "DATE", 0.96)],
        place="f:1",
    )
    second = sentence([gold(JOHN_LEE, "PER")], [pred(JOHN, "PER", 0.99)], place="f:3")
    third = sentence([gold(PARIS, "LOC")], [], [0.5, 0.5, 0.5, 0.5, 0.5, 0.97, 0.5], place="f:5")
    found = find_suspects([first, second, third])
    assert [(suspect.sentence.place, suspect.kind, suspect.confidence) for suspect in found] == [
        ("f:1", "wrong_type", 0.99),
        ("f:3", "boundary", 0.99),
        ("f:5", "not_an_entity", 0.97),
        ("f:1", "wrong_type", 0.96),
        ("f:1", "unannotated", 0.96),
    ]
