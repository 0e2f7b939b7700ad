"""Span JSON lines as a Spark DataFrame of aligned sentences, the columns `read_conll` gives, read on the executors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from nerkit.data.align import align
from nerkit.data.annotations import AnnotatedDocument
from nerkit.data.formats.jsonl import record_document
from nerkit.errors import NerkitError
from nerkit.jsonl import TEXT_HINT, parse_object
from nerkit.lines import check_characters, count_line_ends, decode_lines
from nerkit.spark.conll import (
    FIXED_COLUMNS,
    ROWS_PER_BATCH,
    binary_files,
    fixed_fields,
    local_name,
)
from nerkit.spark.session import import_pyspark

if TYPE_CHECKING:  # pyspark is optional
    from pyspark.sql import DataFrame, SparkSession

SPAN_COLUMNS = (*FIXED_COLUMNS, "tags", "adjustments")
LINE_PIECE_COLUMNS = ("file", "first_line", "content")


def read_spans(spark: SparkSession, path: str, partitions: int | None = None) -> DataFrame:
    """A DataFrame of the span JSON lines at `path` (a file, a folder or a glob; any file system Spark
    reads), each record parsed as `nerkit.data.formats.jsonl` reads it and aligned to tokens as
    `nerkit.data.align` does, on the executors (never collected here): one row per sentence, with the
    columns `read_conll` gives, so `annotate` and `train` take it as they take `read_conll`'s:

    file, document (the record's line: each record is a document), sentence (its index in the record),
    line (the record's line), text (the tokens joined by spaces), tokens, tags (IOB2), and adjustments:
    what reading and aligning did to the record's spans (`Adjustment.line()` each: trimmed, token_split,
    overlap...), all on the record's first row. A record not annotated (a Prodigy answer other than
    accept) gives one row without tokens, and so does a record without tokens when something was
    adjusted: no span is dropped uncounted. Errors name the file and line, as
    `nerkit.data.formats.read_annotations`'s do.

    Files are cut into pieces of whole lines, parsed in parallel over `partitions` partitions (default:
    two per core); a partition holds whole records, each in order, so
    `annotate(..., sorted_by_document=True)` needs no shuffle.
    """
    import_pyspark()
    from pyspark.sql import types as T

    strings = T.ArrayType(T.StringType(), containsNull=False)
    schema = T.StructType(
        [
            *fixed_fields(),
            T.StructField("tags", strings, False),
            T.StructField("adjustments", strings, False),
        ]
    )

    def parse(frames: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        for frame in frames:
            for piece in frame.itertuples(index=False):
                rows = list(span_rows(piece.file, int(piece.first_line), piece.content))
                for start in range(0, len(rows), ROWS_PER_BATCH):
                    yield pd.DataFrame(rows[start : start + ROWS_PER_BATCH], columns=list(SPAN_COLUMNS))

    return line_pieces(spark, path, partitions).mapInPandas(parse, schema)


def line_pieces(spark: SparkSession, path: str, partitions: int | None = None) -> DataFrame:
    """The file(s) at `path` cut into pieces of whole lines (rows of LINE_PIECE_COLUMNS: the file, the
    number of its piece's first line, its bytes), spread over `partitions` partitions (default: two
    per core)."""
    from pyspark.sql import types as T

    files, piece_bytes, partitions = binary_files(spark, path, partitions)

    def cut(frames: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        for frame in frames:
            rows = []
            for uri, data in zip(frame["path"], frame["content"], strict=True):
                name = local_name(uri)
                rows += [(name, first, data[start:end]) for start, end, first in line_cuts(data, piece_bytes)]
            yield pd.DataFrame(rows, columns=list(LINE_PIECE_COLUMNS))

    schema = T.StructType(
        [
            T.StructField("file", T.StringType(), False),
            T.StructField("first_line", T.IntegerType(), False),
            T.StructField("content", T.BinaryType(), False),
        ]
    )
    return files.select("path", "content").mapInPandas(cut, schema).repartition(partitions)


def line_cuts(data: bytes, piece_bytes: int) -> list[tuple[int, int, int]]:
    """(start, end, first line) of pieces of `data` of about `piece_bytes` each (at least one piece),
    cut after a line feed, so each holds whole lines as `nerkit.lines.read_lines` ends them."""
    cuts = [0]
    while cuts[-1] + piece_bytes < len(data):
        feed = data.find(b"\n", cuts[-1] + piece_bytes - 1)
        if feed == -1 or feed + 1 == len(data):
            break
        cuts.append(feed + 1)
    pieces, line = [], 1
    for start, end in zip(cuts, [*cuts[1:], len(data)], strict=True):
        pieces.append((start, end, line))
        line += count_line_ends(data, start, end)
    return pieces


def span_rows(name: str, first_line: int, content: bytes) -> Iterator[tuple[Any, ...]]:
    """`read_spans`' rows (SPAN_COLUMNS) for the lines of one piece of file `name`."""
    for number, line in decode_lines(content, name, first_line):
        if not line.strip():
            continue
        document = parse_record(line, name, number)
        if not document.annotated:  # a Prodigy answer other than accept: nothing to learn from
            yield (name, number, 0, number, "", [], [], [a.line() for a in document.adjustments])
            continue
        aligned = align(document)
        adjustments = [adjustment.line() for adjustment in aligned.adjustments]
        position = 0
        for words, tags in zip(aligned.tokens(), aligned.tags, strict=True):
            if not words:
                continue
            tokens = list(words)
            yield (name, number, position, number, " ".join(tokens), tokens, tags, adjustments)
            adjustments = []
            position += 1
        if adjustments:
            yield (name, number, 0, number, "", [], [], adjustments)


def parse_record(line: str, name: str, number: int) -> AnnotatedDocument:
    """One line of span JSON lines as `nerkit.data.formats.jsonl.read` reads it: a strict JSON object
    with a "text" string (as `nerkit.jsonl.read_text_objects` checks it), then its document."""
    row = parse_object(line, name, number)
    if not isinstance(row.get("text"), str):
        raise NerkitError('not an object with a "text" string', path=name, line=number, hint=TEXT_HINT)
    check_characters(str(row["text"]), name, number, what='the "text"', unit="character")
    return record_document(row, name, number)
