"""Entity-level scoring with exactly conlleval.pl's rules, its report layout, and a JSON form."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from nerkit.data.conll import DOCSTART, check_tag, column_count_error, read_fields
from nerkit.data.tags import tags_to_spans
from nerkit.errors import NerkitError
from nerkit.files import PathLike
from nerkit.lines import read_lines

BOUNDARY = "-X-"  # conlleval's sentence-boundary token


@dataclass
class TypeCounts:
    """Chunk counts for one entity type."""

    found_gold: int = 0
    found_pred: int = 0
    correct: int = 0


@dataclass
class Score:
    """conlleval's counts for a whole file, overall and per type."""

    tokens: int = 0
    correct_tags: int = 0
    found_gold: int = 0
    found_pred: int = 0
    correct: int = 0
    per_type: dict[str, TypeCounts] = field(default_factory=dict)
    uses_end_tags: bool = False  # E-/S- tags were seen: conlleval's rules misread BIOES

    @property
    def precision(self) -> float:
        """Correct chunks over predicted chunks, 0..1."""
        return self.correct / self.found_pred if self.found_pred else 0.0

    @property
    def recall(self) -> float:
        """Correct chunks over gold chunks, 0..1."""
        return self.correct / self.found_gold if self.found_gold else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall, 0..1."""
        return _f1(self.precision, self.recall)

    @property
    def accuracy(self) -> float:
        """Tokens whose predicted tag equals the gold tag, 0..1 (conlleval counts -DOCSTART- lines too)."""
        return self.correct_tags / self.tokens if self.tokens else 0.0

    char_spans: SpanScore | None = None  # exact character-span scores, for span formats

    def type_scores(self) -> dict[str, dict[str, float | int]]:
        """Per type: precision, recall, f1 (0..1), support (gold chunks), found_pred and correct."""
        return _type_scores(self.per_type)

    def to_json(self) -> dict[str, object]:
        """The scores as one JSON-ready object; fractions are 0..1 (`char_spans` only when scored)."""
        per_label = self.type_scores()
        macro = sum(float(s["f1"]) for s in per_label.values()) / len(per_label) if per_label else 0.0
        spans = {} if self.char_spans is None else {"char_spans": self.char_spans.to_json()}
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "accuracy": self.accuracy,
            "macro_f1": macro,
            "tokens": self.tokens,
            "found_gold": self.found_gold,
            "found_pred": self.found_pred,
            "correct": self.correct,
            "per_label": per_label,
            **spans,
        }


@dataclass
class SpanScore:
    """Exact character-span counts, overall and per type: a predicted entity is correct only when
    a gold entity has its start, end and label."""

    found_gold: int = 0
    found_pred: int = 0
    correct: int = 0
    per_type: dict[str, TypeCounts] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        """Correct spans over predicted spans, 0..1."""
        return self.correct / self.found_pred if self.found_pred else 0.0

    @property
    def recall(self) -> float:
        """Correct spans over gold spans, 0..1."""
        return self.correct / self.found_gold if self.found_gold else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall, 0..1."""
        return _f1(self.precision, self.recall)

    def to_json(self) -> dict[str, object]:
        """precision, recall, f1 (0..1), the counts, and `per_type` as `Score.type_scores` gives it."""
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "found_gold": self.found_gold,
            "found_pred": self.found_pred,
            "correct": self.correct,
            "per_type": _type_scores(self.per_type),
        }


CharSpan = tuple[int, int, str]  # start, end (exclusive, in characters) and label


def score_char_spans(gold: Iterable[Collection[CharSpan]], pred: Iterable[Collection[CharSpan]]) -> SpanScore:
    """Exact character-span scores of documents: `gold` and `pred` give each document's entities as
    (start, end, label), in the same document order; repeated spans count once."""
    score = SpanScore()
    for gold_spans, pred_spans in zip(gold, pred, strict=True):
        gold_set, pred_set = set(gold_spans), set(pred_spans)
        correct = gold_set & pred_set
        score.found_gold += len(gold_set)
        score.found_pred += len(pred_set)
        score.correct += len(correct)
        for _, _, label in gold_set:
            score.per_type.setdefault(label, TypeCounts()).found_gold += 1
        for _, _, label in pred_set:
            score.per_type.setdefault(label, TypeCounts()).found_pred += 1
        for _, _, label in correct:
            score.per_type[label].correct += 1
    return score


def _type_scores(per_type: dict[str, TypeCounts]) -> dict[str, dict[str, float | int]]:
    """Per type, sorted: precision, recall, f1 (0..1), support (gold), found_pred and correct."""
    scores: dict[str, dict[str, float | int]] = {}
    for name in sorted(per_type):
        counts = per_type[name]
        precision = counts.correct / counts.found_pred if counts.found_pred else 0.0
        recall = counts.correct / counts.found_gold if counts.found_gold else 0.0
        scores[name] = {
            "precision": precision,
            "recall": recall,
            "f1": _f1(precision, recall),
            "support": counts.found_gold,
            "found_pred": counts.found_pred,
            "correct": counts.correct,
        }
    return scores


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _end_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """conlleval's endOfChunk: did a chunk end between the previous and the current word?"""
    return (
        (prev_tag in ("B", "I") and tag in ("B", "O"))
        or (prev_tag == "E" and tag in ("E", "I", "O"))
        or (prev_tag not in ("O", ".") and prev_type != type_)
        or prev_tag in ("]", "[")
    )


def _start_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """conlleval's startOfChunk: did a chunk start between the previous and the current word?"""
    return (
        (prev_tag in ("B", "I", "O") and tag == "B")
        or (prev_tag == "O" and tag in ("I", "E"))
        or (prev_tag == "E" and tag in ("E", "I"))
        or (tag not in ("O", ".") and prev_type != type_)
        or tag in ("[", "]")
    )


def _split(tag: str) -> tuple[str, str]:
    """conlleval's split of a tag at its first hyphen: `B-creative-work` -> (`B`, `creative-work`).

    Like the Perl original, a type spelt `0` is false and so becomes no type at all.
    """
    prefix, hyphen, type_ = tag.partition("-")
    if not hyphen:
        return tag, ""
    return prefix, "" if type_ == "0" else type_


def score_items(items: Iterable[tuple[str, str, str]]) -> Score:
    """Score (first field, gold tag, predicted tag) items the way conlleval.pl does, line by line.

    A sentence boundary is the item (`-X-`, `O`, `O`); conlleval turns blank lines into exactly that.
    """
    score = Score()
    per_type = score.per_type
    in_correct = False
    last_gold, last_pred, last_gold_type, last_pred_type = "O", "O", "", ""
    for first, gold_tag, pred_tag in items:
        pred, pred_type = _split(pred_tag)
        gold, gold_type = _split(gold_tag)
        if first == BOUNDARY:
            pred = "O"
        if pred in ("E", "S") or gold in ("E", "S"):
            score.uses_end_tags = True
        gold_ends = _end_of_chunk(last_gold, gold, last_gold_type, gold_type)
        pred_ends = _end_of_chunk(last_pred, pred, last_pred_type, pred_type)
        if in_correct:
            if gold_ends and pred_ends and last_pred_type == last_gold_type:
                in_correct = False
                score.correct += 1
                per_type.setdefault(last_gold_type, TypeCounts()).correct += 1
            elif gold_ends != pred_ends or pred_type != gold_type:
                in_correct = False
        gold_starts = _start_of_chunk(last_gold, gold, last_gold_type, gold_type)
        pred_starts = _start_of_chunk(last_pred, pred, last_pred_type, pred_type)
        if gold_starts and pred_starts and pred_type == gold_type:
            in_correct = True
        if gold_starts:
            score.found_gold += 1
            per_type.setdefault(gold_type, TypeCounts()).found_gold += 1
        if pred_starts:
            score.found_pred += 1
            per_type.setdefault(pred_type, TypeCounts()).found_pred += 1
        if first != BOUNDARY:
            if gold == pred and gold_type == pred_type:
                score.correct_tags += 1
            score.tokens += 1
        last_gold, last_pred, last_gold_type, last_pred_type = gold, pred, gold_type, pred_type
    if in_correct:
        score.correct += 1
        per_type.setdefault(last_gold_type, TypeCounts()).correct += 1
    return score


def score_sequences(gold: Iterable[Sequence[str]], pred: Iterable[Sequence[str]]) -> Score:
    """Score sentences of gold and predicted tags, as conlleval would a file of them."""
    return score_pairs(zip(gold, pred, strict=True))


def score_pairs(sentences: Iterable[tuple[Sequence[str], Sequence[str]]]) -> Score:
    """`score_sequences` of (gold tags, predicted tags) of each sentence, as they come."""

    def items() -> Iterator[tuple[str, str, str]]:
        for number, (gold_tags, pred_tags) in enumerate(sentences):
            if len(gold_tags) != len(pred_tags):
                raise ValueError(
                    f"sentence {number}: {len(gold_tags)} gold tags but {len(pred_tags)} predicted"
                )
            for gold_tag, pred_tag in zip(gold_tags, pred_tags, strict=True):
                yield "", gold_tag, pred_tag
            yield BOUNDARY, "O", "O"

    return score_items(items())


def read_score_items(path: PathLike) -> Iterator[tuple[str, str, str]]:
    """Stream the (first field, gold, predicted) items of a file in conlleval's input format.

    Blank lines and lines starting with `-X-` are boundaries; a full-width -DOCSTART- line counts as a
    token, as in conlleval; a bare `-DOCSTART-` line is a boundary. Columns may be separated by spaces
    or tabs. Raises NerkitError on a wrong column count, an invalid tag, an empty or a tag-less file.
    """
    tabbed: bool | None = None
    width = 0
    width_line = 0
    valid: set[str] = set()
    tokens = 0
    for number, line in read_lines(path):
        if not line.strip():
            yield BOUNDARY, "O", "O"
            continue
        if tabbed is None:
            tabbed = "\t" in line
        fields = read_fields(line, tabbed, path, number)
        if fields == [DOCSTART]:
            yield BOUNDARY, "O", "O"
            continue
        if not width:
            width, width_line = len(fields), number
            if width < 3:
                raise NerkitError(
                    f"{width} column{'s' if width > 1 else ''}; conlleval's format needs at least three",
                    path=path,
                    line=number,
                    hint="give `token ... gold predicted` with the gold and predicted tags last",
                )
        elif len(fields) != width:
            raise column_count_error(path, number, len(fields), width, width_line)
        if fields[0] == BOUNDARY:
            yield BOUNDARY, "O", "O"
            continue
        for which, tag in (("gold tag {!r}", fields[-2]), ("predicted tag {!r}", fields[-1])):
            if tag not in valid:
                check_tag(tag, which, path, number)
                valid.add(tag)
        tokens += 1
        yield fields[0], fields[-2], fields[-1]
    if not tokens:
        raise NerkitError(
            "the file has no tokens" if width else "the file is empty",
            path=path,
            hint="give one `token ... gold predicted` line per token, a blank line between sentences",
        )


def score_file(path: PathLike) -> Score:
    """Score a file in conlleval's input format (`token ... gold predicted`)."""
    return score_items(read_score_items(path))


def _perl_pad(text: str, width: int) -> str:
    """Right-align like perl's %Ns without `use utf8`: width counted in UTF-8 bytes."""
    return " " * max(0, width - len(text.encode("utf-8"))) + text


def _report_types(score: Score) -> list[str]:
    """The type rows of conlleval's report, in its order and with its one duplicate.

    conlleval sorts the gold types and the predicted types together (by bytes) and drops a repeat only
    when the previous name is true in Perl, so the empty type (from `B-0`) prints twice when both
    the gold and the predicted tags have it.
    """
    keys = [name for name, c in score.per_type.items() if c.found_gold] + [
        name for name, c in score.per_type.items() if c.found_pred
    ]
    rows: list[str] = []
    last: str | None = None
    for name in sorted(keys, key=lambda t: t.encode("utf-8")):
        if not last or last != name:
            rows.append(name)
        last = name
    return rows


def format_report(score: Score) -> str:
    """The report conlleval.pl prints, to the digit."""
    precision = 100 * score.correct / score.found_pred if score.found_pred > 0 else 0.0
    recall = 100 * score.correct / score.found_gold if score.found_gold > 0 else 0.0
    fb1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    lines = [
        f"processed {score.tokens} tokens with {score.found_gold} phrases; "
        f"found: {score.found_pred} phrases; correct: {score.correct}."
    ]
    if score.tokens > 0:
        accuracy = 100 * score.correct_tags / score.tokens
        lines.append(
            f"accuracy: {accuracy:6.2f}%; precision: {precision:6.2f}%; recall: {recall:6.2f}%; FB1: {fb1:6.2f}"
        )
    for name in _report_types(score):
        counts = score.per_type[name]
        precision = 100 * counts.correct / counts.found_pred if counts.found_pred else 0.0
        recall = 100 * counts.correct / counts.found_gold if counts.found_gold else 0.0
        fb1 = 0.0 if precision + recall == 0.0 else 2 * precision * recall / (precision + recall)
        lines.append(
            f"{_perl_pad(name, 17)}: precision: {precision:6.2f}%; recall: {recall:6.2f}%; "
            f"FB1: {fb1:6.2f}  {counts.found_pred}"
        )
    return "\n".join(lines) + "\n"


def format_char_spans(score: SpanScore) -> str:
    """The character-span scores as lines in the layout of conlleval's report, to go after it."""
    lines = [
        f"character spans: {score.found_gold} gold, {score.found_pred} found, {score.correct} correct; "
        f"precision: {100 * score.precision:6.2f}%; recall: {100 * score.recall:6.2f}%; FB1: {100 * score.f1:6.2f}"
    ]
    for name, scores in _type_scores(score.per_type).items():
        lines.append(
            f"{_perl_pad(name, 17)}: precision: {100 * scores['precision']:6.2f}%; "
            f"recall: {100 * scores['recall']:6.2f}%; FB1: {100 * scores['f1']:6.2f}  {scores['found_pred']}"
        )
    return "\n".join(lines) + "\n"


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> float:
    """How far confidence is from accuracy: the bin-size-weighted mean of |accuracy - mean confidence|
    over `bins` equal-width confidence bins (0 is perfectly calibrated; 0 for no predictions)."""
    if len(confidences) != len(correct):
        raise ValueError("confidences and correct differ in length")
    if not confidences:
        return 0.0
    totals = [[0, 0.0, 0] for _ in range(bins)]  # count, confidence sum, correct count
    for confidence, right in zip(confidences, correct, strict=True):
        cell = totals[min(int(confidence * bins), bins - 1)]
        cell[0] += 1
        cell[1] += confidence
        cell[2] += bool(right)
    return sum(abs(hits - total) for count, total, hits in totals if count) / len(confidences)


def tags_calibration(
    predicted: Sequence[Sequence[str]], confidences: Sequence[Sequence[float]], gold: Sequence[Sequence[str]]
) -> dict[str, float]:
    """Expected calibration error (10 bins) of predicted IOB2 tags (each with its token's confidence)
    against gold IOB2 tags, for tokens and for entities; an entity's confidence is its tokens' lowest,
    and it is right when gold has the same span and type."""
    token_conf: list[float] = []
    token_right: list[bool] = []
    entity_conf: list[float] = []
    entity_right: list[bool] = []
    for tags, token_confidences, gold_tags in zip(predicted, confidences, gold, strict=True):
        token_conf.extend(token_confidences)
        token_right.extend(p == g for p, g in zip(tags, gold_tags, strict=True))
        gold_spans = set(tags_to_spans(gold_tags))
        for span in tags_to_spans(tags):
            entity_conf.append(min(token_confidences[span.start : span.end]))
            entity_right.append(span in gold_spans)
    return {
        "token_ece": expected_calibration_error(token_conf, token_right),
        "entity_ece": expected_calibration_error(entity_conf, entity_right),
        "entities": len(entity_conf),
    }
