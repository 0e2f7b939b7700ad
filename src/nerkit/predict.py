"""Files in, files out: raw text or annotated data in any format tagged by a model, written as JSON lines,
CoNLL, HTML, Label Studio predictions or brat standoff."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from nerkit.data.align import AlignedDocument
from nerkit.data.annotations import AnnotatedDocument, Annotation, TokenSpans
from nerkit.data.conll import ConllSentence, document_id, format_conll, read_conll
from nerkit.data.formats import ReadOptions, WriteOptions, format_module, input_files, read_annotations
from nerkit.data.tags import convert_tags
from nerkit.errors import NerkitError, check_choice
from nerkit.files import PathLike, write_text_atomic
from nerkit.jsonl import read_text_objects, scored_json
from nerkit.lines import read_lines
from nerkit.text.document import Document, Sentence, Token, document_from_tokens, parse_text

if TYPE_CHECKING:  # torch loads only where a model does
    from nerkit.pipeline import Pipeline, TaggedTokens

INPUT_FORMATS = ("text", "conll", "jsonl", "labelstudio", "brat", "hf")
OUTPUT_FORMATS = ("jsonl", "conll", "html", "labelstudio", "brat")
FORMAT_WRITTEN = ("labelstudio", "brat")  # written by nerkit.data.formats, as predictions
FOLDER_OUTPUTS = ("brat",)  # a folder of files: never standard output
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
    """One input document: its parsed text, its CoNLL sentence (CoNLL input), its tags per sentence once
    tagged, and what the input said of it: the fields to pass through, where it was, its name and format."""

    document: Document
    extra: dict[str, object] = field(default_factory=dict)
    conll: list[ConllSentence] = field(default_factory=list)
    tagged: list[TaggedTokens] = field(default_factory=list)
    place: str = ""
    name: str = ""
    format: str = ""


def input_format_of(path: PathLike) -> str:
    """The format `predict_file` reads `path` in when none is given: a folder is brat; .json is a Label
    Studio export; .jsonl and .ndjson are spans JSONL (hf when the first object has `tokens` and
    `ner_tags`); .parquet is hf; .ann is brat; .conll, .iob, .bio are CoNLL (each as its content says,
    see `nerkit.data.formats.detect`); anything else (.txt, no extension, standard input) is text, one
    document per line."""
    from nerkit.data.formats.detect import detect_format, format_from_name

    return "text" if os.fspath(path) == "-" or format_from_name(path) is None else detect_format(path)


def model_version(meta: Mapping[str, object], name: str = "nerkit") -> str:
    """`NAME@SHA` for Label Studio's `model_version`: `name` (the model folder's) and the first 12 hex
    digits of the weights' sha256 that model.json records (for an ensemble, the sha256 of its members'
    in order; `name` alone when it records none)."""
    weights, members = meta.get("weights"), meta.get("members")
    digest = weights.get("sha256") if isinstance(weights, dict) else None
    if isinstance(members, list):
        digests = [m.get("sha256") if isinstance(m, dict) else None for m in members]
        if digests and all(isinstance(d, str) and d for d in digests):
            digest = hashlib.sha256(" ".join(str(d) for d in digests).encode("ascii", "replace")).hexdigest()
    return f"{name}@{digest[:12]}" if isinstance(digest, str) and digest else name


def check_output_format(output: PathLike | None, output_format: str) -> None:
    """Refuse, before any work, an unknown output format or a folder format (brat) to standard output."""
    check_choice("output format", output_format, OUTPUT_FORMATS)
    if (output is None or str(output) == "-") and output_format in FOLDER_OUTPUTS:
        raise NerkitError(
            f"{output_format} output is a folder of files", hint="name the folder to write with -o FOLDER"
        )


def _chunks(records: Iterator[_Record], size: int) -> Iterator[list[_Record]]:
    while chunk := list(islice(records, size)):
        yield chunk


def _text_records(path: PathLike) -> Iterator[_Record]:
    for number, line in read_lines(path):
        yield _Record(parse_text(line), place=f"{path}:{number}", format="text")


def _jsonl_records(path: PathLike) -> Iterator[_Record]:
    """One record per object: its gold spans dropped (the fields `nerkit.data.formats.jsonl` reads spans
    from), its nerkit `sentences` kept as its tokenisation, its other fields passed through."""
    from nerkit.data.formats.jsonl import given_sentences, span_field

    for number, row in read_text_objects(path):
        text = str(row.pop("text"))
        while (gold := span_field(row)) is not None:
            del row[gold]
        document = (
            tokenised(text, given_sentences(row["sentences"], text, path, number))
            if "sentences" in row
            else parse_text(text)
        )
        yield _Record(document, row, place=f"{path}:{number}", format="jsonl")


def _conll_records(path: PathLike) -> Iterator[_Record]:
    """One record per sentence, tokens as given."""
    for sentence in read_conll(path, tag_column=None):
        place = f"{path}:{sentence.line}"
        yield _Record(document_from_tokens([sentence.tokens]), conll=[sentence], place=place, format="conll")


def _annotated_records(path: PathLike, input_format: str, options: ReadOptions) -> Iterator[_Record]:
    """One record per document of an annotated file, annotated or not (gold annotations ignored): tokens
    as the file fixes them, else as nerkit splits the text."""
    for source in read_annotations(path, input_format, options):
        document = (
            parse_text(source.text) if source.sentences is None else tokenised(source.text, source.sentences)
        )
        yield _Record(document, source.extra, place=source.place, name=source.name, format=source.format)


def tokenised(text: str, sentences: list[TokenSpans]) -> Document:
    """A Document of `text` split into the given sentences of token spans (empty ones left out)."""
    built = [
        Sentence(tokens[0][0], tokens[-1][1], [Token(text[start:end], start, end) for start, end in tokens])
        for tokens in sentences
        if tokens
    ]
    return Document(text, built)


def _tag_chunk(
    pipeline: Pipeline, chunk: list[_Record], batch_size: int, confidence: bool, min_confidence: float = 0.0
) -> None:
    owners = [  # a document is read alone; a CoNLL sentence belongs to its -DOCSTART- document
        document_id(record.conll[0], number) if record.conll else number
        for number, record in enumerate(chunk)
    ]
    documents = [record.document for record in chunk]
    tagged = pipeline.tag_document_sentences(documents, owners, batch_size, confidence, min_confidence)
    for record, results in zip(chunk, tagged, strict=True):
        record.tagged.extend(results)


def _tagged_chunks(
    pipeline: Pipeline,
    records: Iterator[_Record],
    batch_size: int,
    confidence: bool,
    min_confidence: float,
) -> Iterator[list[_Record]]:
    """The records in tagged chunks, in order. Each chunk is tagged in a worker thread while this one
    reads the next and the caller writes the one before: the network runs without the GIL (torch and
    onnxruntime release it), so reading and writing cost no time beside a model slower than them."""
    with ThreadPoolExecutor(1, thread_name_prefix="nerkit-tag") as worker:
        pending: tuple[list[_Record], Future[None]] | None = None
        try:
            for chunk in _chunks(records, CHUNK):
                started = worker.submit(_tag_chunk, pipeline, chunk, batch_size, confidence, min_confidence)
                if pending is not None:
                    pending[1].result()
                    yield pending[0]
                pending = (chunk, started)
            if pending is not None:
                pending[1].result()
                yield pending[0]
        finally:
            worker.shutdown(cancel_futures=True)


def _jsonl_lines(record: _Record) -> str:
    row: dict[str, object] = {"text": record.document.text}
    if record.conll:
        row["tokens"] = list(record.conll[0].tokens)
        row["tags"] = record.tagged[0].tags if record.tagged else []
    if record.format == "jsonl":
        row.update(record.extra)
    row["entities"] = [entity.to_json() for entity in record.document.entities]
    return scored_json(row) + "\n"


def _conll_lines(record: _Record) -> Iterator[str]:
    if record.conll:
        sentence = record.conll[0]
        tags = tuple(record.tagged[0].tags)
        yield from format_conll([replace(sentence, columns=(*sentence.columns, tags))])
        return
    yield "-DOCSTART- O\n\n"
    for text_sentence, tagged in zip(record.document.sentences, record.tagged, strict=True):
        for token, tag in zip(text_sentence.tokens, tagged.tags, strict=True):
            if any(character.isspace() for character in token.text):
                raise NerkitError(
                    f"token {token.text!r} holds white space, which CoNLL cannot",
                    path=record.place,
                    hint="write --format jsonl, or give tokens without white space",
                )
            yield f"{token.text} {tag}\n"
        yield "\n"


def aligned_prediction(record: _Record) -> AlignedDocument:
    """A tagged record as the format writers take it: its tokens, IOB2 tags, and its entities with the
    model's confidence as their score; the input's fields, name and format kept for a writer to pass on."""
    document = record.document
    sentences = [[(token.start, token.end) for token in sentence.tokens] for sentence in document.sentences]
    source = AnnotatedDocument(
        document.text,
        [],
        record.place,
        sentences=sentences,
        extra=record.extra,
        name=record.name,
        format=record.format,
    )
    tags = [convert_tags(tagged.tags, "IOB2") for tagged in record.tagged]
    entities = [
        Annotation(e.start, e.end, e.label, e.text, place=record.place, score=e.confidence)
        for e in document.entities
    ]
    return AlignedDocument(source, sentences, tags, entities, [])


def predict_file(
    pipeline: Pipeline,
    source: PathLike,
    output: PathLike | None = None,
    input_format: str | None = "text",
    output_format: str = "jsonl",
    batch_size: int = 512,
    colours: Mapping[str, str] | None = None,
    version: str | None = None,
    read_options: ReadOptions | None = None,
    min_confidence: float = 0.0,
) -> PredictSummary:
    """Tag a file (`-` for standard input) and write the result to `output` (atomically), or to
    standard output when `output` is None or `-`.

    Input (`input_format`; None tells it from the path, see `input_format_of`): text is one document per
    line, one output record per input line (an empty line gives no entities); jsonl is objects with a
    "text" field, their gold spans (`entities`, `spans`, Doccano's `label` list) dropped and their other
    fields passed through; conll is tokens as given, one record per sentence, the predicted tags written
    as a new last column; labelstudio, brat and hf are read by `nerkit.data.formats` (gold annotations
    ignored, tokens as the file fixes them, else split by nerkit).

    Output: jsonl, conll, html; labelstudio (tasks with `predictions` of `version`, default
    `model_version(pipeline.meta)`, a score per region; a Label Studio input's tasks pass through with
    their predictions replaced); brat (a folder: `output` required). Memory stays bounded but for html.

    `min_confidence` (0 to 1; 0 keeps all) leaves out every entity whose confidence is below it, in every
    format: a CoNLL output tags its tokens O, and the summary counts only the entities written.
    """
    from nerkit.pipeline import check_min_confidence

    min_confidence = check_min_confidence(min_confidence)
    input_format = input_format or input_format_of(source)
    check_choice("input format", input_format, INPUT_FORMATS)
    check_output_format(output, output_format)
    target = None if output is None or str(output) == "-" else output
    options = read_options or ReadOptions()
    readers = {"text": _text_records, "jsonl": _jsonl_records, "conll": _conll_records}
    records = (
        readers[input_format](source)
        if input_format in readers
        else _annotated_records(source, input_format, options)
    )
    started = time.perf_counter()
    summary = PredictSummary()
    confidence = output_format != "conll"

    def tagged_records() -> Iterator[_Record]:
        for chunk in _tagged_chunks(pipeline, records, batch_size, confidence, min_confidence):
            for record in chunk:
                summary.documents += 1
                summary.sentences += len(record.document.sentences)
                summary.tokens += sum(len(s.tokens) for s in record.document.sentences)
                summary.entities += len(record.document.entities)
                yield record

    inputs = input_files(source, input_format)
    if output_format in FORMAT_WRITTEN:
        write_options = WriteOptions(model_version=version or model_version(pipeline.meta), inputs=inputs)
        documents = (aligned_prediction(record) for record in tagged_records())
        if target is None:
            _format_to_stdout(output_format, documents, write_options)
        else:
            format_module(output_format).write(target, documents, write_options)
        summary.seconds = time.perf_counter() - started
        return summary

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

    if target is None:
        sys.stdout.writelines(lines())
        sys.stdout.flush()
    else:
        write_text_atomic(target, lines(), inputs=inputs)
    summary.seconds = time.perf_counter() - started
    return summary


def _format_to_stdout(
    output_format: str, documents: Iterable[AlignedDocument], options: WriteOptions
) -> None:
    """Write one file of `output_format` into a private temporary folder, then copy it to standard
    output: the format writes files atomically, and the copy streams, so memory stays bounded."""
    with tempfile.TemporaryDirectory(prefix="nerkit-predict-") as folder:
        path = Path(folder) / f"predictions.{output_format}"
        format_module(output_format).write(path, documents, options)
        sys.stdout.flush()
        with path.open("r", encoding="utf-8", newline="") as handle:
            shutil.copyfileobj(handle, sys.stdout)
        sys.stdout.flush()
