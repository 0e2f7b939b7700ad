"""Partial-match scoring as in SemEval-2013 task 9.1 and nervaluate 1.2.1: strict, exact, partial, type."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from nerkit.errors import NerkitError
from nerkit.report.sentences import Mention, ReportSentence

SCHEMAS = ("strict", "exact", "partial", "type")  # nervaluate calls "type" "ent_type"


@dataclass(slots=True)
class Counts:
    """One table of a schema (overall, or one type): SemEval's five counts and the scores from them."""

    correct: int = 0
    incorrect: int = 0
    partial: int = 0
    missed: int = 0
    spurious: int = 0

    @property
    def possible(self) -> int:
        """Gold entities: correct + incorrect + partial + missed."""
        return self.correct + self.incorrect + self.partial + self.missed

    @property
    def actual(self) -> int:
        """Predicted entities: correct + incorrect + partial + spurious."""
        return self.correct + self.incorrect + self.partial + self.spurious

    @property
    def precision(self) -> float:
        """(correct + half the partial matches) / actual; 0 when nothing was predicted."""
        return (self.correct + 0.5 * self.partial) / self.actual if self.actual > 0 else 0.0

    @property
    def recall(self) -> float:
        """(correct + half the partial matches) / possible; 0 when there is no gold entity."""
        return (self.correct + 0.5 * self.partial) / self.possible if self.possible > 0 else 0.0

    @property
    def f1(self) -> float:
        """The harmonic mean of precision and recall, written as nervaluate does (the same float)."""
        precision, recall = self.precision, self.recall
        return 2 * (precision * recall) / (precision + recall) if precision + recall > 0 else 0.0

    def add(self, other: Counts) -> None:
        """Add another table's counts to this one."""
        self.correct += other.correct
        self.incorrect += other.incorrect
        self.partial += other.partial
        self.missed += other.missed
        self.spurious += other.spurious

    def to_json(self) -> dict[str, int | float]:
        """The counts, possible, actual, precision, recall and f1 (fractions 0..1)."""
        return {
            "correct": self.correct,
            "incorrect": self.incorrect,
            "partial": self.partial,
            "missed": self.missed,
            "spurious": self.spurious,
            "possible": self.possible,
            "actual": self.actual,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


@dataclass(slots=True)
class SchemaScores:
    """One schema's tables: overall, and one per entity type seen in the gold or predicted entities."""

    overall: Counts = field(default_factory=Counts)
    per_type: dict[str, Counts] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """{"overall": COUNTS, "per_type": {type: COUNTS}}, types sorted."""
        return {
            "overall": self.overall.to_json(),
            "per_type": {label: self.per_type[label].to_json() for label in sorted(self.per_type)},
        }


@dataclass(slots=True)
class PartialScores:
    """The four schemas' tables, keyed by the names in SCHEMAS."""

    schemas: dict[str, SchemaScores] = field(
        default_factory=lambda: {schema: SchemaScores() for schema in SCHEMAS}
    )

    def to_json(self) -> dict[str, object]:
        """The "partial" part of report.json: {schema: {"overall": ..., "per_type": ...}}."""
        return {schema: self.schemas[schema].to_json() for schema in SCHEMAS}


def score_partial(gold: Sequence[Sequence[Mention]], predicted: Sequence[Sequence[Mention]]) -> PartialScores:
    """Score the predicted entities of each document (or sentence) against its gold ones, as nervaluate
    1.2.1's Evaluator does, with the same counts and the same floats.

    Rules (nervaluate's, kept so that the counts match it):

    - Predictions are judged one at a time in the order given (by start in a ReportSentence); each
      takes at most one gold entity of its document that no earlier prediction took. A gold entity no
      prediction takes is missed.
    - Two entities overlap when they share at least 1% of the gold entity's length (nervaluate's
      `min_overlap_percentage=1`), in the units of the offsets: a gold entity over 100 units long needs
      more than one shared unit.
    - strict: a prediction with the span and type of a free gold entity is correct; otherwise it is
      incorrect on the first free gold entity (in list order) it overlaps, whatever the type; otherwise
      spurious. exact: the same, ignoring types. partial: correct on the same span, else partial on the
      first free gold entity it overlaps, else spurious. type: correct on the free gold entity of its type
      that it overlaps with the least boundary distance (|start difference| + |end difference|, the
      first on a tie), else incorrect on the first free gold entity it overlaps, else spurious.
    - Precision = (correct + 0.5 * partial) / actual and recall = (correct + 0.5 * partial) / possible;
      nervaluate halves partial matches only in partial and type, but only partial ever counts them, so
      it is one formula. Each is 0 when its denominator is 0 (no prediction, no gold entity).

    Where nervaluate is inconsistent, nerkit keeps its numbers:

    - Per-type tables do not add up to the overall one. A type's table scores that type's gold entities
      against that type's predictions alone, so a prediction of the wrong type is spurious in its own
      type's table and its gold entity missed in the gold's type's table, while overall it is incorrect
      (strict, type) or even correct or partial (exact, partial). So per type, exact is strict.
    - Greedy order: a gold entity split into two predictions gives one partial (or incorrect) and one
      spurious; two gold entities merged into one prediction give one partial (or incorrect) and one
      missed. strict takes the first gold entity a prediction overlaps, type the closest of the right
      type, so the two schemas can pair one prediction with different gold entities.
    - Duplicates are not merged: a repeated gold entity is missed once, a repeated prediction spurious.
    - nervaluate's README totals its six-scenario table as if it had a seventh row (the SemEval blog's
      second exact match); its code, and nerkit, count the six rows.

    Where nerkit differs from nervaluate (input nervaluate cannot score):

    - No documents: nervaluate has no schema tables at all (and its Evaluator cannot guess the input format
      of an empty list); nerkit gives the four schemas with zero counts and no types.
    - An entity with end <= start: nervaluate can divide by zero on it (ZeroDivisionError); nerkit
      raises NerkitError. So do documents that differ in number (nervaluate: ValueError).
    - nervaluate drops entities of a type missing from its `tags` argument; nerkit scores every type.
    """
    if len(gold) != len(predicted):
        raise NerkitError(
            f"{len(gold)} documents of gold entities but {len(predicted)} of predicted ones",
            hint="give both in the same documents, in the same order",
        )
    scores = PartialScores()
    for gold_mentions, predicted_mentions in zip(gold, predicted, strict=True):
        _check_spans(gold_mentions)
        _check_spans(predicted_mentions)
        _add_document(scores, gold_mentions, predicted_mentions)
    return scores


def partial_scores(sentences: Sequence[ReportSentence]) -> PartialScores:
    """score_partial of the sentences' gold and predicted entities, counted in tokens in every sentence
    whose entities all start and end at its token boundaries (nervaluate scores token spans; the units
    decide its 1% overlap and the type schema's boundary distance), in characters otherwise."""
    for sentence in sentences:
        _check_spans(sentence.gold)
        _check_spans(sentence.predicted)
    in_units = [_in_token_units(sentence) for sentence in sentences]
    return score_partial([gold for gold, _ in in_units], [predicted for _, predicted in in_units])


def _check_spans(mentions: Sequence[Mention]) -> None:
    """Raise NerkitError for an entity that holds no character."""
    for mention in mentions:
        if mention.end <= mention.start:
            raise NerkitError(
                f"the {mention.label} entity [{mention.start}, {mention.end}) is empty",
                hint="an entity's end must lie after its start",
            )


def _add_document(scores: PartialScores, gold: Sequence[Mention], predicted: Sequence[Mention]) -> None:
    """Add one document's counts to every schema's overall and per-type tables."""
    if not gold and not predicted:
        return
    for schema, tables in scores.schemas.items():
        tables.overall.add(_score_document(schema, gold, predicted))
    for label in {mention.label for mention in gold} | {mention.label for mention in predicted}:
        gold_of_type = [mention for mention in gold if mention.label == label]
        predicted_of_type = [mention for mention in predicted if mention.label == label]
        for schema, tables in scores.schemas.items():
            tables.per_type.setdefault(label, Counts()).add(
                _score_document(schema, gold_of_type, predicted_of_type)
            )


def _score_document(schema: str, gold: Sequence[Mention], predicted: Sequence[Mention]) -> Counts:
    """One schema's counts for one document's entities (see score_partial for the rules)."""
    taken: set[int] = set()
    outcomes: list[str] = []
    for mention in predicted:
        free = [(index, entity) for index, entity in enumerate(gold) if index not in taken]
        outcome, index = _judge(schema, mention, free)
        outcomes.append(outcome)
        if index is not None:
            taken.add(index)
    return Counts(
        correct=outcomes.count("correct"),
        incorrect=outcomes.count("incorrect"),
        partial=outcomes.count("partial"),
        missed=len(gold) - len(taken),
        spurious=outcomes.count("spurious"),
    )


def _judge(schema: str, predicted: Mention, free: Sequence[tuple[int, Mention]]) -> tuple[str, int | None]:
    """What one prediction is under a schema (correct, incorrect, partial or spurious), given the free
    gold entities with their indexes in list order, and the index of the gold entity it takes (None
    when spurious)."""
    overlapping = [(index, gold) for index, gold in free if _overlaps_enough(predicted, gold)]
    if schema == "type":
        same_type = [(index, gold) for index, gold in overlapping if gold.label == predicted.label]
        if same_type:
            index, _ = min(same_type, key=lambda pair: _boundary_distance(predicted, pair[1]))
            return "correct", index
    else:
        hit = next((index for index, gold in free if _exact_hit(schema, predicted, gold)), None)
        if hit is not None:
            return "correct", hit
    if overlapping:
        return ("partial" if schema == "partial" else "incorrect"), overlapping[0][0]
    return "spurious", None


def _exact_hit(schema: str, predicted: Mention, gold: Mention) -> bool:
    """Whether strict, exact or partial counts the prediction correct on this gold entity."""
    same_span = gold.start == predicted.start and gold.end == predicted.end
    return same_span and (schema != "strict" or gold.label == predicted.label)


def _overlaps_enough(predicted: Mention, gold: Mention) -> bool:
    """Whether the two share at least 1% of the gold entity's length (nervaluate's overlap test)."""
    shared = min(predicted.end, gold.end) - max(predicted.start, gold.start)
    return shared > 0 and shared * 100 >= gold.end - gold.start


def _boundary_distance(predicted: Mention, gold: Mention) -> int:
    """|start difference| + |end difference|: how the type schema picks among gold entities of its type."""
    return abs(predicted.start - gold.start) + abs(predicted.end - gold.end)


def _in_token_units(sentence: ReportSentence) -> tuple[list[Mention], list[Mention]]:
    """The sentence's gold and predicted entities over token indexes [first, last + 1) when every one of
    them starts and ends at a token boundary; as they are (characters) otherwise."""
    starts = {start: index for index, (start, _) in enumerate(sentence.tokens)}
    ends = {end: index + 1 for index, (_, end) in enumerate(sentence.tokens)}
    mentions = [*sentence.gold, *sentence.predicted]
    if not all(mention.start in starts and mention.end in ends for mention in mentions):
        return sentence.gold, sentence.predicted

    def in_tokens(mention: Mention) -> Mention:
        return Mention(starts[mention.start], ends[mention.end], mention.label, mention.confidence)

    return [in_tokens(mention) for mention in sentence.gold], [
        in_tokens(mention) for mention in sentence.predicted
    ]
