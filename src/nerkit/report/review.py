"""What a reviewer should look at first: the sentences with the most confident mistakes, and the gold
entities the model contradicts with high confidence (likely annotation errors).

A sentence's mistakes are its predictions that no gold mention matches exactly (each weighs its
confidence) and its gold mentions that no prediction overlaps (each weighs the model's confidence that
the span holds no entity, 0 when unknown). A gold mention overlapped by several confident predictions is
one suspect, with the most confident of them (ties: the earliest); its kind is "wrong_type" when that
prediction's label differs, else "boundary". Rankings are by score or confidence, highest first, ties in
file order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nerkit.errors import NerkitError, check_fraction
from nerkit.report.confidence import confidence_of, correct_predictions
from nerkit.report.mistakes import overlapping
from nerkit.report.sentences import Mention, ReportSentence

WORST = 50
SUSPECT_CONFIDENCE = 0.95


@dataclass(frozen=True, slots=True)
class WorstSentence:
    """A sentence with how many mistakes it has and their summed weight (`score`)."""

    sentence: ReportSentence
    mistakes: int
    score: float

    def to_json(self) -> dict[str, object]:
        """place, text, gold and predicted (mention lists), mistakes and score."""
        text = self.sentence.text
        return {
            "place": self.sentence.place,
            "text": text,
            "gold": [mention.to_json(text) for mention in self.sentence.gold],
            "predicted": [mention.to_json(text) for mention in self.sentence.predicted],
            "mistakes": self.mistakes,
            "score": self.score,
        }


@dataclass(frozen=True, slots=True)
class Suspect:
    """A likely annotation error: the gold mention in doubt (None for an entity the annotators left out),
    what the model says instead (None when it says there is no entity), the kind (wrong_type,
    boundary, not_an_entity or unannotated) and how sure the model is."""

    sentence: ReportSentence
    gold: Mention | None
    model: Mention | None
    kind: str
    confidence: float

    def to_json(self) -> dict[str, object]:
        """place, text, gold and model (each a mention's JSON or null), kind and confidence."""
        text = self.sentence.text
        return {
            "place": self.sentence.place,
            "text": text,
            "gold": None if self.gold is None else self.gold.to_json(text),
            "model": None if self.model is None else self.model.to_json(text),
            "kind": self.kind,
            "confidence": self.confidence,
        }


def mistake_weights(sentence: ReportSentence) -> list[float]:
    """The weight of each mistake in the sentence: first the inexact predictions, then the gold
    mentions no prediction overlaps."""
    wrong = [
        confidence_of(mention)
        for mention, right in zip(sentence.predicted, correct_predictions(sentence), strict=True)
        if not right
    ]
    missed = [
        sentence.outside_confidence(gold.start, gold.end) or 0.0
        for gold in sentence.gold
        if not overlapping(sentence.predicted, gold)
    ]
    return wrong + missed


def worst_sentences(sentences: Sequence[ReportSentence], count: int = WORST) -> list[WorstSentence]:
    """Up to `count` sentences with at least one mistake, by the summed weight of their mistakes."""
    if count < 0:
        raise NerkitError(f"the number of worst sentences must be 0 or more, not {count}")
    found = []
    for sentence in sentences:
        weights = mistake_weights(sentence)
        if weights:
            found.append(WorstSentence(sentence, len(weights), sum(weights)))
    return sorted(found, key=lambda worst: -worst.score)[:count]


def _gold_suspect(sentence: ReportSentence, gold: Mention, at_least: float) -> Suspect | None:
    """The suspect a gold mention makes, if the model contradicts it confidently enough."""
    predicted = overlapping(sentence.predicted, gold)
    if not predicted:
        outside = sentence.outside_confidence(gold.start, gold.end)
        if outside is None or outside < at_least:
            return None
        return Suspect(sentence, gold, None, "not_an_entity", outside)
    exact = (gold.start, gold.end, gold.label)
    contradicting = [mention for mention in predicted if (mention.start, mention.end, mention.label) != exact]
    strongest = max(contradicting, key=confidence_of, default=None)
    if strongest is None or confidence_of(strongest) < at_least:
        return None
    kind = "boundary" if strongest.label == gold.label else "wrong_type"
    return Suspect(sentence, gold, strongest, kind, confidence_of(strongest))


def _sentence_suspects(sentence: ReportSentence, at_least: float) -> list[Suspect]:
    """A sentence's suspects in order of position (the gold mention's start, or the prediction's)."""
    placed = []
    for gold in sentence.gold:
        suspect = _gold_suspect(sentence, gold, at_least)
        if suspect is not None:
            placed.append((gold.start, suspect))
    for mention in sentence.predicted:
        if confidence_of(mention) >= at_least and not overlapping(sentence.gold, mention):
            placed.append(
                (mention.start, Suspect(sentence, None, mention, "unannotated", confidence_of(mention)))
            )
    return [suspect for _, suspect in sorted(placed, key=lambda item: item[0])]


def check_suspect_confidence(value: object) -> float:
    """`value` as the confidence from which the model casts doubt on an annotation: a number from 0 to 1."""
    return check_fraction(
        value,
        "suspect_confidence",
        hint="how sure the model must be to cast doubt on an annotation, e.g. 0.95",
    )


def find_suspects(sentences: Sequence[ReportSentence], at_least: float = SUSPECT_CONFIDENCE) -> list[Suspect]:
    """The gold entities (and missing ones) the model contradicts with confidence >= `at_least`, most
    confident first."""
    at_least = check_suspect_confidence(at_least)
    found = [suspect for sentence in sentences for suspect in _sentence_suspects(sentence, at_least)]
    return sorted(found, key=lambda suspect: -suspect.confidence)
