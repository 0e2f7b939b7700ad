"""Annotated documents as annotation tools give them: a text, labelled character spans, and where each came from."""

from __future__ import annotations

from dataclasses import dataclass, field

# What can happen to an annotation on its way to tokens and tags, and what `nerkit stats` calls it.
# Nothing is dropped or changed without one of these being counted, with its place.
ADJUSTMENTS = {
    "trimmed": "span edges trimmed of white space",
    "token_split": "tokens split at a span boundary",
    "overlap": "overlapping or nested spans dropped (the longest kept)",
    "out_of_range": "spans outside the text dropped",
    "empty": "empty spans dropped",
    "text_mismatch": "spans whose text disagrees with their offsets (offsets kept)",
    "cut_to_tokens": "spans cut to the tokens the file gives (they reached past them)",
    "sentence_joined": "sentences joined to keep a span whole",
    "extra_label": "regions with several labels (the first kept)",
    "discontinuous": "discontinuous spans skipped",
    "rejected": "records not accepted skipped (Prodigy answer)",
    "cancelled": "cancelled annotations skipped",
    "not_chosen": "annotations or predictions not picked by --annotation",
    "other_result": "results other than labelled text spans skipped",
    "other_line": "standoff lines other than text-bound annotations skipped",
    "unannotated": "records nobody annotated left out",
}


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One thing done to the annotations of a document: its kind (a key of ADJUSTMENTS), where
    (file:line, task id or .ann line) and what (the span, its label and text)."""

    kind: str
    place: str
    detail: str

    def line(self) -> str:
        """`train.jsonl:12: trimmed: [3, 9) PER "Smith "`, as `nerkit stats --alignment` lists it."""
        return f"{self.place}: {self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Annotation:
    """A labelled character span `[start, end)` of a document's text, as the file gave it: `text` is
    what the file says the span reads (None when it says nothing), `place` where it was read,
    `score` a model's confidence (None for a person's annotation)."""

    start: int
    end: int
    label: str
    text: str | None = None
    place: str = ""
    score: float | None = None

    def describe(self, text: str) -> str:
        """`[3, 9) PER "Smith "`: the span, its label and what it covers of `text`."""
        covered = text[max(self.start, 0) : max(self.end, 0)] if self.start < self.end else ""
        return f"[{self.start}, {self.end}) {self.label} {quoted(covered)}"


def quoted(text: str, limit: int = 60) -> str:
    """`text` in double quotes, shortened to `limit` characters, line breaks shown as \\n."""
    shown = text if len(text) <= limit else text[: limit - 3] + "..."
    return '"' + shown.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"') + '"'


TokenSpans = list[tuple[int, int]]  # the (start, end) character spans of one sentence's tokens


@dataclass(slots=True)
class AnnotatedDocument:
    """A text with its annotations, as read from one record of a file.

    `sentences` is the tokenisation the file fixes (CoNLL, Hugging Face, nerkit's JSON lines with
    tokens), None when nerkit is to split the text itself. `extra` holds the record's other fields,
    passed through when predictions are written back in the same format; `name` is the record's own
    name (a brat file's stem, a Label Studio task id); `adjustments` what the reader skipped.
    `docstart` marks a document that CoNLL output opens with a -DOCSTART- line; `format` names the
    format it was read from (writers pass `extra` through only into their own format). `annotated` is
    False for a record with nothing to learn from (a Prodigy answer other than accept, a Label Studio
    task nobody annotated or whose every annotation was cancelled; an adjustment says which): training,
    evaluation and `write_annotations` leave it out, while prediction still reads its text.
    """

    text: str
    annotations: list[Annotation]
    place: str
    sentences: list[TokenSpans] | None = None
    extra: dict[str, object] = field(default_factory=dict)
    name: str = ""
    adjustments: list[Adjustment] = field(default_factory=list)
    docstart: bool = True
    format: str = ""
    annotated: bool = True
