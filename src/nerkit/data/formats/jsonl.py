"""Spans JSON lines as annotated documents: nerkit's, spaCy's, Prodigy's and Doccano's shapes read, nerkit's written.

Each line is an object with a "text" string and its spans, in the first of these fields it has:

- `entities`: nerkit's `[{start, end, label, text?, confidence?}]`, or Doccano's
  `[{start_offset, end_offset, label, id?}]`;
- `spans`: spaCy's and Prodigy's `[{start, end, label, text?}]`;
- `label`: Doccano's `[[start, end, "PER"], ...]` (a list of lists; a list of strings is a text
  classification's labels, passed through).

nerkit's `sentences` (`[{start, end, tokens: [{text, start, end}]}]`, as `nerkit predict` writes them)
fix the tokenisation. A Prodigy `answer` other than "accept" makes the record not annotated, counted as
"rejected": nothing of it reaches training or `write_annotations`, while `nerkit stats` counts it. The
other fields pass through to `extra`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from nerkit.data.align import AlignedDocument
from nerkit.data.annotations import Adjustment, AnnotatedDocument, Annotation, TokenSpans, quoted
from nerkit.data.formats import ReadOptions, WriteOptions
from nerkit.errors import NerkitError
from nerkit.files import PathLike, write_text_atomic
from nerkit.jsonl import read_text_objects, scored_json

SPAN_FIELDS = ("entities", "spans", "label")
OFFSET_HINT = 'offsets are whole numbers of characters, e.g. {"start": 0, "end": 5, "label": "PER"}'
LABEL_HINT = 'a label is a non-empty string without white space, e.g. "PER" or "B_DATE"'
SENTENCES_HINT = (
    'give nerkit\'s "sentences": [{"start": 0, "end": 5, "tokens": [{"text": "Paris", "start": 0, "end": 5}]}]'
    ", or remove the field"
)


def read(path: PathLike, options: ReadOptions) -> Iterator[AnnotatedDocument]:
    """The documents of a spans JSON-lines file, one per non-blank line (placed at "file:line"), spans
    as the line gives them: out-of-range, empty or reversed spans pass through for the aligner to count."""
    for number, row in read_text_objects(path):
        yield record_document(row, path, number)


def record_document(row: dict[str, object], path: PathLike, number: int) -> AnnotatedDocument:
    """The document of one line's object (which it takes apart: what is left becomes `extra`)."""
    place = f"{path}:{number}"
    text = str(row.pop("text"))
    if "answer" in row and row["answer"] != "accept":
        detail = f"answer {shown(row['answer'])}: {quoted(text)}"
        rejected = [Adjustment("rejected", place, detail)]
        return AnnotatedDocument(
            text, [], place, extra=row, adjustments=rejected, format="jsonl", annotated=False
        )
    field = span_field(row)
    spans = row.pop(field) if field is not None else []
    if not isinstance(spans, list):
        raise NerkitError(
            f'"{field}" is {shown(spans)}, not a list of spans', path=path, line=number, hint=OFFSET_HINT
        )
    annotations = [
        _annotation(span, f"span {index}", field == "label", place, path, number)
        for index, span in enumerate(spans, start=1)
    ]
    sentences = given_sentences(row.pop("sentences"), text, path, number) if "sentences" in row else None
    return AnnotatedDocument(text, annotations, place, sentences=sentences, extra=row, format="jsonl")


def span_field(row: dict[str, object]) -> str | None:
    """The field that holds a record's spans: `entities`, else `spans`, else a `label` that is a list
    of lists (or empty); None when there is none."""
    for field in SPAN_FIELDS[:2]:
        if field in row:
            return field
    label = row.get("label")
    if isinstance(label, list) and (not label or any(isinstance(item, list) for item in label)):
        return "label"
    return None


def _annotation(
    span: object, where: str, doccano_list: bool, place: str, path: PathLike, number: int
) -> Annotation:
    """One span of a line as an Annotation; NerkitError for offsets that are not whole numbers, a label
    that is not one word, or a text or confidence of the wrong type."""
    if doccano_list:
        if not isinstance(span, list) or len(span) != 3:
            raise NerkitError(
                f'{where}: {shown(span)} is not [start, end, "LABEL"]',
                path=path,
                line=number,
                hint='Doccano\'s "label" spans are [start, end, "LABEL"]',
            )
        start, end, label = span
        return Annotation(
            offset(start, "start", where, path, number),
            offset(end, "end", where, path, number),
            checked_label(label, where, path, number),
            place=place,
        )
    if not isinstance(span, dict):
        raise NerkitError(
            f"{where}: {shown(span)} is not an object with start, end and label",
            path=path,
            line=number,
            hint=OFFSET_HINT,
        )
    keys = ("start_offset", "end_offset") if "start_offset" in span else ("start", "end")
    start, end = (offset(required(span, key, where, path, number), key, where, path, number) for key in keys)
    text = span.get("text")
    if text is not None and not isinstance(text, str):
        raise NerkitError(
            f"{where}: text is {shown(text)}, not a string",
            path=path,
            line=number,
            hint="give the text the span covers, or leave it out",
        )
    confidence = span.get("confidence")
    if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, int | float)):
        raise NerkitError(
            f"{where}: confidence is {shown(confidence)}, not a number",
            path=path,
            line=number,
            hint="give a number from 0 to 1, or leave it out",
        )
    label = checked_label(required(span, "label", where, path, number), where, path, number)
    score = None if confidence is None else float(confidence)
    return Annotation(start, end, label, text, place=place, score=score)


def required(
    span: dict[str, object], key: str, where: str, path: PathLike, line: int | None = None
) -> object:
    """`span[key]`, or NerkitError saying it is missing."""
    if key not in span:
        raise NerkitError(f'{where}: no "{key}"', path=path, line=line, hint=OFFSET_HINT)
    return span[key]


def offset(value: object, name: str, where: str, path: PathLike, line: int | None = None) -> int:
    """`value` as a character offset: a whole number (not a bool, a float or a string), else
    NerkitError (`span 2: start is "3", not a whole number`). Its range is the aligner's to check."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise NerkitError(
            f"{where}: {name} is {shown(value)}, not a whole number", path=path, line=line, hint=OFFSET_HINT
        )
    return value


_WHITE_SPACE = re.compile(r"\s")  # str.isspace's characters


def checked_label(value: object, where: str, path: PathLike, line: int | None = None) -> str:
    """`value` as a label: a non-empty string without white space, else NerkitError."""
    if not isinstance(value, str) or not value or _WHITE_SPACE.search(value):
        raise NerkitError(
            f"{where}: label {shown(value)} is not one word", path=path, line=line, hint=LABEL_HINT
        )
    return value


def shown(value: object, limit: int = 40) -> str:
    """`value` as JSON, shortened to `limit` characters, for an error message."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def given_sentences(value: object, text: str, path: PathLike, number: int) -> list[TokenSpans]:
    """nerkit's `sentences` as token spans, checked: each token a whole-number span inside the text,
    after the token before, reading as its `text` says; NerkitError (file:line) otherwise. A sentence's
    own start and end are not read: its tokens say where it is."""
    if not isinstance(value, list):
        raise NerkitError(
            f'"sentences" is {shown(value)}, not a list', path=path, line=number, hint=SENTENCES_HINT
        )
    sentences: list[TokenSpans] = []
    previous = 0
    for index, sentence in enumerate(value, start=1):
        tokens = sentence.get("tokens") if isinstance(sentence, dict) else None
        if not isinstance(tokens, list):
            raise NerkitError(
                f"sentence {index}: {shown(sentence)} is not an object with a list of tokens",
                path=path,
                line=number,
                hint=SENTENCES_HINT,
            )
        spans: TokenSpans = []
        for position, token in enumerate(tokens, start=1):
            if isinstance(token, dict):  # the common case checked at once; any doubt, the full checks
                start, end, said = token.get("start"), token.get("end"), token.get("text")
                if (
                    type(start) is int
                    and type(end) is int
                    and previous <= start < end <= len(text)
                    and (said is None or said == text[start:end])
                ):
                    spans.append((start, end))
                    previous = end
                    continue
            where = f"sentence {index} token {position}"
            if not isinstance(token, dict):
                raise NerkitError(
                    f"{where}: {shown(token)} is not an object with start and end",
                    path=path,
                    line=number,
                    hint=SENTENCES_HINT,
                )
            start = offset(required(token, "start", where, path, number), "start", where, path, number)
            end = offset(required(token, "end", where, path, number), "end", where, path, number)
            if not previous <= start < end <= len(text):
                raise NerkitError(
                    f"{where}: [{start}, {end}) is not a span of the text ({len(text)} characters) "
                    f"after the token before (which ends at {previous})",
                    path=path,
                    line=number,
                    hint="tokens cover characters of the text, in order, each at least one",
                )
            said = token.get("text")
            if said is not None and said != text[start:end]:
                raise NerkitError(
                    f"{where}: [{start}, {end}) reads {quoted(text[start:end])}, but its text is {shown(said)}",
                    path=path,
                    line=number,
                    hint="fix the offsets, or the token's text",
                )
            spans.append((start, end))
            previous = end
        sentences.append(spans)
    return sentences


def write(path: PathLike, documents: Iterable[AlignedDocument], options: WriteOptions) -> int:
    """Write one line per document: its text, the fields it was read with (when read from spans JSON
    lines), its kept `entities` (with a `confidence` where they have a score) and, when its file fixed
    the tokenisation, the `sentences` it was aligned to. Returns how many lines were written."""
    count = 0

    def lines() -> Iterator[str]:
        nonlocal count
        for document in documents:
            count += 1
            yield scored_json(document_row(document), document.source.place) + "\n"

    write_text_atomic(path, lines(), inputs=options.inputs)
    return count


def document_row(document: AlignedDocument) -> dict[str, object]:
    """The JSON object of one document, as `write` writes it."""
    source, text = document.source, document.text
    row: dict[str, object] = {"text": text}
    if source.format == "jsonl":
        row.update(source.extra)
    entities: list[dict[str, object]] = []
    for entity in document.entities:
        span: dict[str, object] = {
            "start": entity.start,
            "end": entity.end,
            "label": entity.label,
            "text": text[entity.start : entity.end],
        }
        if entity.score is not None:
            span["confidence"] = entity.score
        entities.append(span)
    row["entities"] = entities
    if source.sentences is not None:
        row["sentences"] = [
            {
                "start": tokens[0][0],
                "end": tokens[-1][1],
                "tokens": [{"text": text[start:end], "start": start, "end": end} for start, end in tokens],
            }
            for tokens in document.sentences
            if tokens
        ]
    return row
