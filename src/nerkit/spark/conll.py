"""CoNLL files as a Spark DataFrame, one row per sentence, read on the executors; tag counts."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from nerkit.data.conll import ConllLayout, conll_layout, conll_pieces, parse_conll
from nerkit.errors import NerkitError
from nerkit.lines import decode_lines
from nerkit.spark.session import first_line, import_pyspark

if TYPE_CHECKING:  # pyspark is optional
    from pyspark.sql import DataFrame, Row, SparkSession
    from pyspark.sql.types import StructField

FIXED_COLUMNS = ("file", "document", "sentence", "line", "text", "tokens")
PIECE_COLUMNS = ("file", "first_line", "documents", "tabbed", "width", "width_line", "content")
MIN_PIECE_BYTES = 256 * 1024  # smaller pieces cost more to ship than to parse
FIRST_LINES = 100  # non-blank lines read to find the first token line (after -DOCSTART- lines)
ROWS_PER_BATCH = 10_000  # sentences per Arrow batch out of the parser


def read_conll(
    spark: SparkSession, path: str, tag_column: int | None = -1, partitions: int | None = None
) -> DataFrame:
    """A DataFrame of the sentences of the CoNLL file(s) at `path` (a file, a folder or a glob; any
    file system Spark reads), one row per sentence, parsed on the executors (never collected here):

    file, document (the number of the sentence's -DOCSTART- document in its file; a sentence outside any
    is a document of its own, numbered minus its line), sentence (its index in that document), line,
    text (the tokens joined by spaces), tokens, tags (unless `tag_column` is None), and column_1,
    column_2, ... for the other columns (e.g. POS and chunk tags). Errors name the file and line, as
    `nerkit.data.conll.read_conll`'s do.

    Files are cut into pieces of whole documents (`nerkit.data.conll.conll_pieces`), parsed in parallel
    over `partitions` partitions (default: two per core). A partition holds whole documents, each in
    order, so `annotate(..., sorted_by_document=True)` needs no shuffle.
    """
    import_pyspark()
    from pyspark.sql import types as T

    width = first_token_line_width(spark, path)
    tag_index = None
    if tag_column is not None:
        tag_index = tag_column + width if tag_column < 0 else tag_column
        if width < 2 or not 1 <= tag_index < width:
            raise NerkitError(
                f"there is no tag column {tag_column} in a file of {width} columns",
                path=path,
                hint="pick a tag column from 1 (0 holds the tokens), or -1 for the last",
            )
    extra = [i for i in range(1, width) if i != tag_index]
    strings = T.ArrayType(T.StringType(), containsNull=False)
    fields = fixed_fields()
    if tag_index is not None:
        fields.append(T.StructField("tags", strings, False))
    fields += [T.StructField(f"column_{i}", strings, False) for i in extra]
    schema = T.StructType(fields)

    def parse(frames: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        for frame in frames:
            for piece in frame.itertuples(index=False):
                rows = list(sentence_rows(piece, width, tag_column, tag_index, extra))
                for start in range(0, len(rows), ROWS_PER_BATCH):
                    yield pd.DataFrame(rows[start : start + ROWS_PER_BATCH], columns=schema.names)

    return read_pieces(spark, path, partitions).mapInPandas(parse, schema)


def fixed_fields() -> list[StructField]:
    """The Spark fields of FIXED_COLUMNS, the columns every `read_conll` row has."""
    from pyspark.sql import types as T

    return [
        T.StructField("file", T.StringType(), False),
        T.StructField("document", T.LongType(), False),
        T.StructField("sentence", T.IntegerType(), False),
        T.StructField("line", T.IntegerType(), False),
        T.StructField("text", T.StringType(), False),
        T.StructField("tokens", T.ArrayType(T.StringType(), containsNull=False), False),
    ]


def binary_files(spark: SparkSession, path: str, partitions: int | None) -> tuple[DataFrame, int, int]:
    """The file(s) at `path` as Spark reads them whole (`binaryFile`: path, content, length), the piece
    size that spreads their bytes over `partitions` partitions (default: two per core), and that count."""
    from pyspark.sql import functions as F

    partitions = partitions or 2 * spark.sparkContext.defaultParallelism
    with spark_errors(path):
        files = spark.read.format("binaryFile").load(path)
        total = cast("Row", files.agg(F.sum("length")).first())[0] or 0  # an aggregate has one row
    return files, max(MIN_PIECE_BYTES, -(-total // partitions)), partitions


def read_pieces(spark: SparkSession, path: str, partitions: int | None = None) -> DataFrame:
    """The CoNLL file(s) at `path` cut into pieces of whole documents (`nerkit.data.conll.conll_pieces`,
    rows of PIECE_COLUMNS; width 0 for a file without token lines), spread over `partitions` partitions
    (default: two per core). Read them with `sentence_rows`."""
    from pyspark.sql import types as T

    files, piece_bytes, partitions = binary_files(spark, path, partitions)

    def cut(frames: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        for frame in frames:
            rows = []
            for uri, data in zip(frame["path"], frame["content"], strict=True):
                name = local_name(uri)
                pieces, layout = conll_pieces(data, name, piece_bytes)
                shape = (layout.tabbed, layout.width, layout.width_line) if layout else (False, 0, 0)
                rows += [(name, p.first_line, p.documents, *shape, data[p.start : p.end]) for p in pieces]
            yield pd.DataFrame(rows, columns=list(PIECE_COLUMNS))

    schema = T.StructType(
        [
            T.StructField("file", T.StringType(), False),
            T.StructField("first_line", T.IntegerType(), False),
            T.StructField("documents", T.LongType(), False),
            T.StructField("tabbed", T.BooleanType(), False),
            T.StructField("width", T.IntegerType(), False),
            T.StructField("width_line", T.IntegerType(), False),
            T.StructField("content", T.BinaryType(), False),
        ]
    )
    return files.select("path", "content").mapInPandas(cut, schema).repartition(partitions)


def sentence_rows(
    piece: Any, width: int, tag_column: int | None, tag_index: int | None, extra: list[int]
) -> Iterator[tuple[Any, ...]]:
    """`read_conll`'s rows for one piece (a row of `read_pieces`) of files whose token lines have `width`
    columns: FIXED_COLUMNS, then the `tag_index` column, then the `extra` ones."""
    name = piece.file
    layout = ConllLayout(bool(piece.tabbed), int(piece.width), int(piece.width_line)) if piece.width else None
    lines = decode_lines(piece.content, name, int(piece.first_line))
    sentence_in_document: dict[int, int] = {}
    for sentence in parse_conll(lines, name, tag_column, layout):
        if len(sentence.columns) != width:
            raise NerkitError(
                f"{len(sentence.columns)} columns, but other files read here have {width}",
                path=name,
                line=sentence.line,
                hint="read files with the same columns together",
            )
        document = sentence.document + int(piece.documents) if sentence.document else -sentence.line
        position = sentence_in_document.get(document, 0)
        sentence_in_document[document] = position + 1
        tokens = list(sentence.tokens)
        row: list[Any] = [name, document, position, sentence.line, " ".join(tokens), tokens]
        if tag_index is not None:
            row.append(list(sentence.columns[tag_index]))
        row += [list(sentence.columns[i]) for i in extra]
        yield tuple(row)


def label_counts(df: DataFrame, column: str = "tags") -> DataFrame:
    """How often each tag occurs in a DataFrame's array column: (tag, count), most frequent first."""
    from pyspark.sql import functions as F

    return (
        df.select(F.explode(column).alias("tag"))
        .groupBy("tag")
        .count()
        .orderBy(F.desc("count"), F.asc("tag"))
    )


def first_token_line_width(spark: SparkSession, path: str) -> int:
    """The column count of the first token line under `path` (read through Spark: any file system), as
    `nerkit.data.conll.conll_layout` tells it."""
    from pyspark.sql import functions as F

    with spark_errors(path):
        lines = spark.read.text(path).filter(F.col("value").rlike(r"(?U)\S")).limit(FIRST_LINES).collect()
    layout = conll_layout(enumerate((row[0] for row in lines), start=1))
    if layout is None:
        raise NerkitError("no token lines", path=path, hint="give CoNLL files with one token per line")
    return layout.width


def local_name(uri: str) -> str:
    """A file URI as the path a user gave (file:/a/b → /a/b); other schemes are kept."""
    return re.sub(r"^file:(//)?(?=/)", "", uri)


@contextlib.contextmanager
def spark_errors(path: str | None = None) -> Iterator[None]:
    """Turn what Spark raises into NerkitError: a nerkit error from an executor keeps its own line; a
    missing input path or another Spark failure becomes one line. DataFrames are lazy, so bad input
    surfaces at an action: `with spark_errors(): df.collect()`."""
    try:
        yield
    except NerkitError:
        raise
    except Exception as error:
        text = str(error)
        found = re.search(r"nerkit\.errors\.NerkitError: (.+)", text)
        if found:
            raise NerkitError(found.group(1).strip()) from None
        if "PATH_NOT_FOUND" in text or "Path does not exist" in text or "Input path does not exist" in text:
            raise NerkitError("no such file or folder", path=path, hint="check the path") from None
        raise NerkitError(f"Spark failed: {first_line(error)}", path=path) from None
