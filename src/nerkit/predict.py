"""Files in, files out: raw text, CoNLL or JSON lines tagged by a model, written as JSON lines, CoNLL or HTML."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from itertools import islice

from nerkit.data.conll import ConllSentence, document_id, format_conll, read_conll
from nerkit.errors import NerkitError, check_choice
from nerkit.files import PathLike, write_text_atomic
from nerkit.jsonl import read_text_objects, strict_json_line
from nerkit.lines import read_lines
from nerkit.pipeline import Pipeline, TaggedTokens
from nerkit.text.document import Document, document_from_tokens, parse_text

INPUT_FORMATS = ("text", "conll", "jsonl")
OUTPUT_FORMATS = ("jsonl", "conll", "html")
CHUNK = 4096  # documents or sentences tagged together: big enough to bucket by length, small enough to stream


@dataclass
class PredictSummary:
    """What a prediction run read and wrote."""

    documents: int = 0
    sentences: int = 0
    tokens: int = 0
    entities: int = 0
    seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        """Tokens tagged per second of the whole run."""
        return self.tokens / self.seconds if self.seconds else 0.0


@dataclass
class _Record:
    """One input document: its parsed text, its tags per sentence (CoNLL input) and extra JSON fields."""

    document: Document
    extra: dict[str, object]
    conll: list[ConllSentence]
    tagged: list[TaggedTokens]


def _chunks(records: Iterator[_Record], size: int) -> Iterator[list[_Record]]:
    while chunk := list(islice(records, size)):
        yield chunk


def _text_records(path: PathLike) -> Iterator[_Record]:
    for _, line in read_lines(path):
        yield _Record(parse_text(line), {}, [], [])


def _jsonl_records(path: PathLike) -> Iterator[_Record]:
    for _, row in read_text_objects(path):
        text = str(row.pop("text"))
        row.pop("entities", None)
        yield _Record(parse_text(text), row, [], [])


def _conll_records(path: PathLike) -> Iterator[_Record]:
    """One record per sentence, tokens as given."""
    for sentence in read_conll(path, tag_column=None):
        yield _Record(document_from_tokens([sentence.tokens]), {}, [sentence], [])


def _tag_chunk(pipeline: Pipeline, chunk: list[_Record], batch_size: int, confidence: bool) -> None:
    owners = [  # a text or JSON line is one document; a CoNLL sentence belongs to its -DOCSTART- document
        document_id(record.conll[0], number) if record.conll else number
        for number, record in enumerate(chunk)
    ]
    tagged = pipeline.tag_document_sentences([r.document for r in chunk], owners, batch_size, confidence)
    for record, results in zip(chunk, tagged, strict=True):
        record.tagged.extend(results)


def _jsonl_lines(record: _Record) -> str:
    row: dict[str, object] = {"text": record.document.text}
    if record.conll:
        row["tokens"] = list(record.conll[0].tokens)
        row["tags"] = record.tagged[0].tags if record.tagged else []
    row.update(record.extra)
    row["entities"] = [entity.to_json() for entity in record.document.entities]
    try:
        return strict_json_line(row)
    except ValueError:  # the input is checked, so only the model can give a NaN confidence
        raise NerkitError(
            "the model gave a confidence that is not a number (NaN)",
            hint="its weights are broken: retrain it, or use an earlier copy",
        ) from None


def _conll_lines(record: _Record) -> Iterator[str]:
    if record.conll:
        sentence = record.conll[0]
        tags = tuple(record.tagged[0].tags)
        yield from format_conll([replace(sentence, columns=(*sentence.columns, tags))])
        return
    yield "-DOCSTART- O\n\n"
    for text_sentence, tagged in zip(record.document.sentences, record.tagged, strict=True):
        for token, tag in zip(text_sentence.tokens, tagged.tags, strict=True):
            yield f"{token.text} {tag}\n"
        yield "\n"


def predict_file(
    pipeline: Pipeline,
    source: PathLike,
    output: PathLike | None = None,
    input_format: str = "text",
    output_format: str = "jsonl",
    batch_size: int = 512,
    colours: Mapping[str, str] | None = None,
) -> PredictSummary:
    """Tag a file (`-` for standard input) and write the result to `output` (atomically), or to
    standard output when `output` is None or `-`.

    text: one document per line, one output record per input line (an empty line gives no entities);
    jsonl: objects with a "text" field, other fields passed through; conll: tokens as given, one record
    per sentence, predicted tags written as a new last column.
    """
    check_choice("input format", input_format, INPUT_FORMATS)
    check_choice("output format", output_format, OUTPUT_FORMATS)
    readers = {"text": _text_records, "jsonl": _jsonl_records, "conll": _conll_records}
    started = time.perf_counter()
    summary = PredictSummary()
    confidence = output_format != "conll"

    def tagged_records() -> Iterator[_Record]:
        for chunk in _chunks(readers[input_format](source), CHUNK):
            _tag_chunk(pipeline, chunk, batch_size, confidence)
            for record in chunk:
                summary.documents += 1
                summary.sentences += len(record.document.sentences)
                summary.tokens += sum(len(s.tokens) for s in record.document.sentences)
                summary.entities += len(record.document.entities)
                yield record

    def lines() -> Iterator[str]:
        if output_format == "html":
            from nerkit.render import render_html

            yield render_html([record.document for record in tagged_records()], colours=colours)
        elif output_format == "conll":
            for record in tagged_records():
                yield from _conll_lines(record)
        else:
            for record in tagged_records():
                yield _jsonl_lines(record)

    if output is None or str(output) == "-":
        sys.stdout.writelines(lines())
        sys.stdout.flush()
    else:
        write_text_atomic(output, lines(), inputs=[source])
    summary.seconds = time.perf_counter() - started
    return summary
