"""How well the model's entity confidences are calibrated, and precision, recall and F1 against a threshold.

A predicted mention is correct when its sentence has a gold mention with the same start, end and label. A
threshold t keeps the predictions whose confidence is >= t; recall is always over every gold mention. The
curve is read off the predictions sorted once by confidence, so it costs a sort, not a rescoring per
threshold. Precision is 0 when nothing is kept, recall 0 without gold, and F1 0 when both are 0.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from nerkit.evaluate import expected_calibration_error
from nerkit.report.sentences import Mention, ReportSentence

BINS = 10  # equal-width confidence bins over [0, 1] for the reliability diagram and ECE
STEPS = 100  # the threshold curve's points: 0.00, 0.01, ..., 1.00
PRECISION_TARGET = 0.95


@dataclass(frozen=True, slots=True)
class Bin:
    """One reliability bin, [low, high) (the last one holds 1.0): how many predictions fell in it, their
    mean confidence and the fraction of them that are correct (both None when empty)."""

    low: float
    high: float
    count: int
    confidence: float | None
    precision: float | None

    def to_json(self) -> dict[str, object]:
        """low, high, count, confidence, precision."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """The scores when only predictions with confidence >= `threshold` are kept."""

    threshold: float
    precision: float
    recall: float
    f1: float
    kept: int

    def to_json(self) -> dict[str, object]:
        """threshold, precision, recall, f1 and kept (how many predictions are kept)."""
        return dataclasses.asdict(self)

    def scores(self) -> dict[str, object]:
        """threshold, precision, recall and f1."""
        return {
            "threshold": self.threshold,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


@dataclass(frozen=True, slots=True)
class Calibration:
    """The reliability bins with ECE, the threshold curve, and the thresholds worth knowing: none, the one
    that maximises F1, and the lowest that reaches 95% precision (None when none does)."""

    ece: float
    bins: list[Bin]
    thresholds: list[OperatingPoint]
    no_threshold: OperatingPoint
    best_f1: OperatingPoint
    precision_95: OperatingPoint | None

    def to_json(self) -> dict[str, object]:
        """The report's "confidence" part: ece, bins, thresholds, no_threshold, best_f1, precision_95."""
        no_threshold = self.no_threshold.scores()
        del no_threshold["threshold"]
        return {
            "ece": self.ece,
            "bins": [found.to_json() for found in self.bins],
            "thresholds": [point.to_json() for point in self.thresholds],
            "no_threshold": no_threshold,
            "best_f1": self.best_f1.scores(),
            "precision_95": None if self.precision_95 is None else self.precision_95.scores(),
        }


def confidence_of(mention: Mention) -> float:
    """A predicted mention's confidence (every prediction has one)."""
    if mention.confidence is None:
        raise ValueError(f"predicted mention {mention} has no confidence")
    return mention.confidence


def correct_predictions(sentence: ReportSentence) -> list[bool]:
    """For each predicted mention, whether a gold mention has its start, end and label."""
    gold = {(mention.start, mention.end, mention.label) for mention in sentence.gold}
    return [(mention.start, mention.end, mention.label) in gold for mention in sentence.predicted]


def _point(threshold: float, kept: int, correct: int, gold: int) -> OperatingPoint:
    """Precision, recall and F1 from counts (F1 as 2 * correct / (kept + gold), so equal F1s are equal)."""
    return OperatingPoint(
        threshold=threshold,
        precision=correct / kept if kept else 0.0,
        recall=correct / gold if gold else 0.0,
        f1=2 * correct / (kept + gold) if correct else 0.0,
        kept=kept,
    )


@dataclass(frozen=True, slots=True)
class _Ranked:
    """Predictions sorted by confidence, ascending, with how many from each position on are correct."""

    confidences: list[float]
    correct_from: list[int]  # correct_from[i]: correct predictions among confidences[i:]; one entry more
    gold: int

    def at(self, threshold: float) -> OperatingPoint:
        """The scores at a threshold."""
        first = bisect.bisect_left(self.confidences, threshold)
        return _point(threshold, len(self.confidences) - first, self.correct_from[first], self.gold)

    def distinct(self) -> list[OperatingPoint]:
        """The scores at each distinct confidence, ascending."""
        return [
            _point(confidence, len(self.confidences) - index, self.correct_from[index], self.gold)
            for index, confidence in enumerate(self.confidences)
            if index == 0 or confidence != self.confidences[index - 1]
        ]


def _rank(confidences: list[float], correct: list[bool], gold: int) -> _Ranked:
    """Sort the predictions once and count the correct ones from each position to the end."""
    ranked = sorted(zip(confidences, correct, strict=True))
    correct_from = [0] * (len(ranked) + 1)
    for index in range(len(ranked) - 1, -1, -1):
        correct_from[index] = correct_from[index + 1] + ranked[index][1]
    return _Ranked([confidence for confidence, _ in ranked], correct_from, gold)


def reliability(confidences: Sequence[float], correct: Sequence[bool]) -> list[Bin]:
    """The BINS equal-width bins over [0, 1] with their counts, mean confidence and observed precision,
    binned as nerkit.evaluate.expected_calibration_error bins them."""
    members: list[list[tuple[float, bool]]] = [[] for _ in range(BINS)]
    for confidence, right in zip(confidences, correct, strict=True):
        members[min(int(confidence * BINS), BINS - 1)].append((confidence, right))
    return [
        Bin(
            low=index / BINS,
            high=(index + 1) / BINS,
            count=len(found),
            confidence=sum(confidence for confidence, _ in found) / len(found) if found else None,
            precision=sum(right for _, right in found) / len(found) if found else None,
        )
        for index, found in enumerate(members)
    ]


def calibration(sentences: Sequence[ReportSentence]) -> Calibration:
    """The reliability bins, ECE, the threshold curve at 0.00..1.00 and the best thresholds: the exact F1
    maximum over every distinct confidence (ties: the lowest threshold; 0 when that keeps every
    entity), and the lowest distinct confidence whose precision reaches 95%."""
    confidences = [confidence_of(mention) for sentence in sentences for mention in sentence.predicted]
    correct = [right for sentence in sentences for right in correct_predictions(sentence)]
    ranked = _rank(confidences, correct, sum(len(sentence.gold) for sentence in sentences))
    candidates = ranked.distinct()
    best_f1 = max(candidates, key=lambda point: point.f1, default=ranked.at(0.0))
    if best_f1.kept == len(confidences):
        best_f1 = ranked.at(0.0)  # no threshold does better than keeping every entity
    precise = [point for point in candidates if point.precision >= PRECISION_TARGET]
    return Calibration(
        ece=expected_calibration_error(confidences, correct, bins=BINS),
        bins=reliability(confidences, correct),
        thresholds=[ranked.at(step / STEPS) for step in range(STEPS + 1)],
        no_threshold=ranked.at(0.0),
        best_f1=best_f1,
        precision_95=precise[0] if precise else None,
    )
