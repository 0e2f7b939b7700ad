"""Error kinds with counts and examples, and the confusion matrix of types, from one pairing of predictions
with gold.

Pairing: each predicted mention is compared against one gold mention of its sentence: the gold with the
same span if there is one, else the overlapping gold with the most characters in common (ties: the
earliest). A prediction that overlaps no gold is spurious; a gold that no prediction overlaps is missed.
Two predictions overlapping one gold are each classified against it (a gold split in two by predictions of
its type is two too_short mistakes), and a gold that predictions overlap but none is paired with (a
prediction spanning two golds is paired with one of them) is neither missed nor counted again: the
prediction's mistake stands for it. Examples are the first of each kind in file order.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from nerkit.errors import NerkitError
from nerkit.report.sentences import Mention, ReportSentence

KINDS = ("wrong_type", "too_long", "too_short", "shifted", "wrong_both", "missed", "spurious")
EXAMPLES_PER_KIND = 10
SPURIOUS = "spurious"  # the confusion matrix's extra row
MISSED = "missed"  # the confusion matrix's extra column


@dataclass(frozen=True, slots=True)
class Pair:
    """A predicted mention and the gold mention it is compared against; `gold` is None for a spurious
    prediction and `predicted` None for a missed gold."""

    gold: Mention | None
    predicted: Mention | None


@dataclass(frozen=True, slots=True)
class Mistake:
    """One mistake of a kind in KINDS, with the sentence it is in."""

    kind: str
    sentence: ReportSentence
    gold: Mention | None
    predicted: Mention | None

    def to_json(self) -> dict[str, object]:
        """place, text (the sentence), gold and predicted (each a mention's JSON or null)."""
        text = self.sentence.text
        return {
            "place": self.sentence.place,
            "text": text,
            "gold": None if self.gold is None else self.gold.to_json(text),
            "predicted": None if self.predicted is None else self.predicted.to_json(text),
        }


@dataclass(frozen=True, slots=True)
class Mistakes:
    """Mistake counts overall and per type (the gold's type; the predicted type for spurious), and the
    first examples of each kind."""

    counts: dict[str, int]
    per_type: dict[str, dict[str, int]]
    examples: dict[str, list[Mistake]]

    def to_json(self) -> dict[str, object]:
        """counts {KIND: int}, per_type {TYPE: {KIND: int}}, examples {KIND: [EXAMPLE]}."""
        return {
            "counts": dict(self.counts),
            "per_type": {label: dict(counts) for label, counts in self.per_type.items()},
            "examples": {
                kind: [found.to_json() for found in found_list] for kind, found_list in self.examples.items()
            },
        }


@dataclass(frozen=True, slots=True)
class Confusion:
    """How often a gold type (rows, then "spurious") met a predicted type (columns, then "missed")."""

    gold: list[str]
    predicted: list[str]
    counts: list[list[int]]

    def to_json(self) -> dict[str, object]:
        """gold (row names), predicted (column names) and counts (one list per row)."""
        return {
            "gold": list(self.gold),
            "predicted": list(self.predicted),
            "counts": [list(row) for row in self.counts],
        }


def overlapping(mentions: Sequence[Mention], span: Mention) -> list[Mention]:
    """The mentions that share a character with `span`, in order (`mentions` sorted by start and not
    overlapping one another, so their ends are sorted too)."""
    first = bisect.bisect_right(mentions, span.start, key=lambda mention: mention.end)
    found = []
    for mention in mentions[first:]:
        if mention.start >= span.end:
            break
        found.append(mention)
    return found


def _paired_gold(golds: list[Mention], predicted: Mention) -> Mention | None:
    """The gold with the prediction's span, else the one sharing most characters (ties: the earliest)."""
    best: Mention | None = None
    best_shared = 0
    for gold in golds:
        if (gold.start, gold.end) == (predicted.start, predicted.end):
            return gold
        shared = min(gold.end, predicted.end) - max(gold.start, predicted.start)
        if shared > best_shared:
            best, best_shared = gold, shared
    return best


def pair_mentions(sentence: ReportSentence) -> list[Pair]:
    """Every prediction with its paired gold (None: spurious) and every missed gold, in order of the
    prediction's start (the gold's for a missed one)."""
    placed = []
    overlapped: set[Mention] = set()
    for predicted in sentence.predicted:
        golds = overlapping(sentence.gold, predicted)
        overlapped.update(golds)
        placed.append((predicted.start, Pair(_paired_gold(golds, predicted), predicted)))
    placed.extend((gold.start, Pair(gold, None)) for gold in sentence.gold if gold not in overlapped)
    return [pair for _, pair in sorted(placed, key=lambda item: item[0])]


def error_kind(pair: Pair) -> str | None:
    """The pair's kind from KINDS, or None when the prediction is exactly right."""
    gold, predicted = pair.gold, pair.predicted
    if predicted is None:
        return "missed"
    if gold is None:
        return "spurious"
    same_span = (gold.start, gold.end) == (predicted.start, predicted.end)
    if gold.label != predicted.label:
        return "wrong_type" if same_span else "wrong_both"
    if same_span:
        return None
    if predicted.start <= gold.start and gold.end <= predicted.end:
        return "too_long"
    if gold.start <= predicted.start and predicted.end <= gold.end:
        return "too_short"
    return "shifted"


def find_mistakes(sentences: Sequence[ReportSentence]) -> list[Mistake]:
    """Every mistake, in file order."""
    found = []
    for sentence in sentences:
        for pair in pair_mentions(sentence):
            kind = error_kind(pair)
            if kind is not None:
                found.append(Mistake(kind, sentence, pair.gold, pair.predicted))
    return found


def _types(sentences: Sequence[ReportSentence]) -> list[str]:
    """Every gold and predicted type, sorted."""
    return sorted(
        {mention.label for sentence in sentences for mention in (*sentence.gold, *sentence.predicted)}
    )


def count_mistakes(sentences: Sequence[ReportSentence], examples: int = EXAMPLES_PER_KIND) -> Mistakes:
    """Mistakes counted per kind overall and per type (every gold or predicted type, zeros included), with
    the first `examples` of each kind in file order."""
    if examples < 0:
        raise NerkitError(f"the number of examples per mistake kind must be 0 or more, not {examples}")
    counts = dict.fromkeys(KINDS, 0)
    per_type = {label: dict.fromkeys(KINDS, 0) for label in _types(sentences)}
    shown: dict[str, list[Mistake]] = {kind: [] for kind in KINDS}
    for mistake in find_mistakes(sentences):
        counted = mistake.gold if mistake.gold is not None else mistake.predicted
        assert counted is not None
        counts[mistake.kind] += 1
        per_type[counted.label][mistake.kind] += 1
        if len(shown[mistake.kind]) < examples:
            shown[mistake.kind].append(mistake)
    return Mistakes(counts, per_type, shown)


def confusion_matrix(sentences: Sequence[ReportSentence]) -> Confusion:
    """Rows: gold types (sorted) then "spurious"; columns: predicted types (sorted) then "missed" (the
    last row and column are these buckets even when a type has the same name); a cell counts the
    predictions of its column's type paired with a gold of its row's type (exact or not)."""
    types = _types(sentences)
    index = {label: position for position, label in enumerate(types)}
    counts = [[0] * (len(types) + 1) for _ in range(len(types) + 1)]
    for sentence in sentences:
        for pair in pair_mentions(sentence):
            row = len(types) if pair.gold is None else index[pair.gold.label]
            column = len(types) if pair.predicted is None else index[pair.predicted.label]
            counts[row][column] += 1
    return Confusion([*types, SPURIOUS], [*types, MISSED], counts)
