"""Reliability bins, ECE and the threshold curve, on hand-built sentences and against rescoring."""

from __future__ import annotations

import random

import pytest

from nerkit.evaluate import expected_calibration_error
from nerkit.report.confidence import (
    OperatingPoint,
    calibration,
    correct_predictions,
    reliability,
)
from nerkit.report.sentences import Mention, ReportSentence

TEXT = "a b c d e f g h i j k l m n o p q r s t u v w x y z"


def right(start: int, confidence: float, label: str = "PER") -> tuple[Mention, Mention]:
    """A gold mention of one letter and the prediction that matches it."""
    return Mention(start, start + 1, label), Mention(start, start + 1, label, confidence)


def wrong(start: int, confidence: float) -> Mention:
    """A prediction of one letter that no gold mention matches."""
    return Mention(start, start + 1, "ORG", confidence)


def sentence(gold: list[Mention], predicted: list[Mention]) -> ReportSentence:
    by_start = sorted(predicted, key=lambda mention: mention.start)
    return ReportSentence(TEXT, sorted(gold, key=lambda mention: mention.start), by_start, place="f:1")


def scored(pairs: list[tuple[float, bool]], missed: int = 0) -> list[ReportSentence]:
    """One sentence per prediction (correct or not), and `missed` gold mentions no prediction matches."""
    sentences = []
    for confidence, is_right in pairs:
        gold, predicted = right(0, confidence)
        sentences.append(sentence([gold], [predicted]) if is_right else sentence([], [wrong(0, confidence)]))
    sentences.extend(sentence([Mention(2, 3, "PER")], []) for _ in range(missed))
    return sentences


def test_a_prediction_is_correct_only_with_the_same_start_end_and_label() -> None:
    gold = [Mention(0, 3, "PER"), Mention(4, 7, "LOC"), Mention(8, 11, "ORG")]
    predicted = [
        Mention(0, 3, "PER", 0.9),
        Mention(4, 7, "ORG", 0.9),
        Mention(8, 9, "ORG", 0.9),
        Mention(12, 13, "X", 1),
    ]
    assert correct_predictions(sentence(gold, predicted)) == [True, False, False, False]
    assert correct_predictions(sentence(gold, [])) == []


def test_bins_put_an_edge_in_the_bin_above_and_one_in_the_last() -> None:
    confidences = [0.0, 0.0999, 0.1, 0.3, 0.35, 0.7, 0.95, 1.0]
    correct = [False, True, True, True, False, True, False, True]
    bins = reliability(confidences, correct)
    assert [(found.low, found.high) for found in bins] == [(step / 10, (step + 1) / 10) for step in range(10)]
    assert [found.count for found in bins] == [2, 1, 0, 2, 0, 0, 0, 1, 0, 2]
    assert [found.confidence for found in bins] == [
        0.04995,
        0.1,
        None,
        (0.3 + 0.35) / 2,
        None,
        None,
        None,
        0.7,
        None,
        0.975,
    ]
    assert [found.precision for found in bins] == [0.5, 1.0, None, 0.5, None, None, None, 1.0, None, 0.5]
    assert bins[9].to_json() == {"low": 0.9, "high": 1.0, "count": 2, "confidence": 0.975, "precision": 0.5}


def test_ece_is_nerkit_evaluates_over_the_same_bins() -> None:
    sentences = scored([(1.0, True), (0.5, False), (0.55, True), (0.05, False)])
    found = calibration(sentences)
    assert found.ece == expected_calibration_error([1.0, 0.5, 0.55, 0.05], [True, False, True, False])
    assert found.ece == pytest.approx((0 + abs(1 - 1.05) + 0.05) / 4)
    assert [found.count for found in found.bins] == [1, 0, 0, 0, 0, 2, 0, 0, 0, 1]


def test_curve_best_f1_and_95_percent_precision_by_hand() -> None:
    # confidences 0.2 (wrong), 0.5 (right), 0.5 (wrong), 0.9 (right), and a gold mention missed
    found = calibration(scored([(0.2, False), (0.5, True), (0.5, False), (0.9, True)], missed=1))
    curve = {round(point.threshold * 100): point for point in found.thresholds}
    assert [point.threshold for point in found.thresholds] == [step / 100 for step in range(101)]
    assert curve[0] == OperatingPoint(0.0, 0.5, 2 / 3, 4 / 7, 4)
    assert curve[20] == OperatingPoint(0.2, 0.5, 2 / 3, 4 / 7, 4)
    assert curve[21] == OperatingPoint(0.21, 2 / 3, 2 / 3, 4 / 6, 3)
    assert curve[50] == OperatingPoint(0.5, 2 / 3, 2 / 3, 4 / 6, 3)
    assert curve[51] == OperatingPoint(0.51, 1.0, 1 / 3, 2 / 4, 1)
    assert curve[90] == OperatingPoint(0.9, 1.0, 1 / 3, 2 / 4, 1)
    assert curve[91] == OperatingPoint(0.91, 0.0, 0.0, 0.0, 0)
    assert curve[100] == OperatingPoint(1.0, 0.0, 0.0, 0.0, 0)
    assert found.no_threshold == curve[0]
    assert found.best_f1 == OperatingPoint(0.5, 2 / 3, 2 / 3, 4 / 6, 3)
    assert found.precision_95 == OperatingPoint(0.9, 1.0, 1 / 3, 2 / 4, 1)
    assert found.to_json()["no_threshold"] == {"precision": 0.5, "recall": 2 / 3, "f1": 4 / 7}
    assert found.to_json()["best_f1"] == {"threshold": 0.5, "precision": 2 / 3, "recall": 2 / 3, "f1": 4 / 6}
    assert found.to_json()["precision_95"] == {"threshold": 0.9, "precision": 1.0, "recall": 1 / 3, "f1": 0.5}
    assert found.to_json()["thresholds"][51] == {
        "threshold": 0.51,
        "precision": 1.0,
        "recall": 1 / 3,
        "f1": 0.5,
        "kept": 1,
    }


def test_best_f1_is_exact_between_the_curve_points_and_takes_the_lowest_of_ties() -> None:
    found = calibration(scored([(0.203, False), (0.404, True), (0.605, False), (0.807, True)]))
    assert found.best_f1 == OperatingPoint(0.404, 2 / 3, 1.0, 4 / 5, 3)
    # F1 at 0.203 is 4/6 (4 kept, 2 right, 2 gold) and at 0.807 is 2/3 (1 kept, 1 right): a tie
    found = calibration(scored([(0.203, True), (0.404, False), (0.605, False), (0.807, True)]))
    assert found.best_f1 == OperatingPoint(0.0, 0.5, 1.0, 2 / 3, 4)  # keeps every entity: reported as 0
    assert max(point.f1 for point in found.thresholds) == 2 / 3
    lone = calibration(scored([(0.123, True)], missed=1))
    assert lone.best_f1 == OperatingPoint(0.0, 1.0, 0.5, 2 / 3, 1)
    assert lone.to_json()["thresholds"][12]["kept"] == 1
    assert lone.to_json()["thresholds"][13]["kept"] == 0


def test_precision_of_exactly_95_percent_is_reached() -> None:
    found = calibration(scored([(0.5, True)] * 19 + [(0.5, False)]))
    assert found.precision_95 == OperatingPoint(0.5, 0.95, 1.0, 38 / 39, 20)


def test_precision_95_is_the_first_threshold_upwards_not_the_most_precise() -> None:
    found = calibration(scored([(0.4, True)] * 19 + [(0.6, False), (0.9, True)]))
    assert found.precision_95 == OperatingPoint(0.4, 20 / 21, 1.0, 40 / 41, 21)
    assert calibration(scored([(0.4, True)] * 18 + [(0.6, False), (0.6, False)])).precision_95 is None


def test_no_predictions_no_gold_and_no_sentences_divide_by_nothing() -> None:
    zero = {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    for sentences in ([], [sentence([], [])], scored([], missed=3)):
        found = calibration(sentences).to_json()
        assert found["ece"] == 0.0
        assert found["bins"] == [
            {"low": step / 10, "high": (step + 1) / 10, "count": 0, "confidence": None, "precision": None}
            for step in range(10)
        ]
        assert found["thresholds"] == [{"threshold": step / 100, **zero, "kept": 0} for step in range(101)]
        assert found["no_threshold"] == zero
        assert found["best_f1"] == {"threshold": 0.0, **zero}
        assert found["precision_95"] is None
    unfounded = calibration(scored([(0.3, False), (0.7, False)]))
    assert unfounded.no_threshold == OperatingPoint(0.0, 0.0, 0.0, 0.0, 2)
    assert unfounded.best_f1 == OperatingPoint(0.0, 0.0, 0.0, 0.0, 2)
    assert unfounded.precision_95 is None


def test_a_confidence_of_one() -> None:
    found = calibration(scored([(1.0, True), (1.0, False)]))
    assert found.thresholds[100] == OperatingPoint(1.0, 0.5, 1.0, 2 / 3, 2)
    assert found.bins[9].count == 2
    assert found.best_f1 == OperatingPoint(0.0, 0.5, 1.0, 2 / 3, 2)


def random_sentence(generator: random.Random) -> ReportSentence:
    """Up to 5 gold mentions of 1-3 letters, predictions that copy, relabel or shift some of them, and
    random ones; confidences often on the curve's 0.01 grid."""
    gold: list[Mention] = []
    position = generator.randrange(3)
    while position < 45 and len(gold) < 5:
        end = position + generator.randint(1, 3)
        gold.append(Mention(position, end, generator.choice("AB")))
        position = end + generator.randint(1, 6)
    candidates = [
        Mention(mention.start + generator.choice([0, 0, 0, 1]), mention.end, generator.choice("AAB"))
        for mention in gold
        if generator.random() < 0.8
    ]
    candidates += [Mention(start, start + 1, "A") for start in generator.sample(range(50), 2)]
    predicted: list[Mention] = []
    for mention in sorted(candidates, key=lambda mention: mention.start):
        if mention.start < mention.end and not any(mention.overlaps(other) for other in predicted):
            confidence = generator.random()
            confidence = round(confidence, 2) if generator.random() < 0.5 else confidence
            predicted.append(Mention(mention.start, mention.end, mention.label, confidence))
    return ReportSentence(TEXT, gold, predicted)


def rescore(sentences: list[ReportSentence], threshold: float) -> OperatingPoint:
    """The scores at a threshold by filtering the sentences and counting again."""
    kept = [
        ReportSentence(one.text, one.gold, [m for m in one.predicted if (m.confidence or 0.0) >= threshold])
        for one in sentences
    ]
    found = sum(len(one.predicted) for one in kept)
    correct = sum(sum(correct_predictions(one)) for one in kept)
    gold = sum(len(one.gold) for one in kept)
    return OperatingPoint(
        threshold,
        correct / found if found else 0.0,
        correct / gold if gold else 0.0,
        2 * correct / (found + gold) if correct else 0.0,
        found,
    )


@pytest.mark.parametrize("seed", range(4))
def test_the_curve_equals_rescoring_at_every_threshold(seed: int) -> None:
    generator = random.Random(seed)
    sentences = [random_sentence(generator) for _ in range(60)]
    found = calibration(sentences)
    assert found.thresholds == [rescore(sentences, step / 100) for step in range(101)]
    every = [
        rescore(sentences, confidence)
        for confidence in sorted({m.confidence for s in sentences for m in s.predicted})
    ]
    best = max(point.f1 for point in every)
    assert found.best_f1 == next(point for point in every if point.f1 == best)
    assert found.best_f1.f1 >= max(point.f1 for point in found.thresholds)
    assert found.precision_95 == next((point for point in every if point.precision >= 0.95), None)
    assert found.no_threshold == rescore(sentences, 0.0)
