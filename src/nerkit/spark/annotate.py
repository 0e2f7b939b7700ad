"""Batch annotation of a DataFrame's texts or tokens with a nerkit model, through Arrow on the executors."""

from __future__ import annotations

import glob
import os
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nerkit.errors import NerkitError, check_choice
from nerkit.files import publish_folder
from nerkit.spark.session import import_pyspark

if TYPE_CHECKING:  # pyspark is optional, and torch loads only where a model does
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructField

    from nerkit.pipeline import Pipeline

DOCUMENT_COLUMNS = ("file", "document")  # what read_conll gives: sentences of a document are read together
_PIPELINES: dict[tuple[str, str, int], Pipeline] = {}  # per Python worker: model folder → loaded pipeline
COMPRESSED = (".gz", ".bz2", ".deflate", ".lz4", ".snappy", ".zst")  # what Spark's text reader unpacks
POOL_ROWS = 10_000  # sentences per model call in annotate_conll (the model sorts them by length inside)


def annotate(
    df: DataFrame,
    model_path: str,
    text_col: str | None = "text",
    tokens_col: str | None = None,
    document_cols: Sequence[str] = DOCUMENT_COLUMNS,
    batch_size: int = 512,
    precision: str = "auto",
    sorted_by_document: bool = False,
    min_confidence: float = 0.0,
) -> DataFrame:
    """`df` plus `entities` (array of start, end, label, text, confidence), the same as `nerkit predict`.

    Text input (`text_col`): each row is one document. Token input (`tokens_col`, which wins): each row is
    one sentence, its entities' offsets point into its tokens joined by spaces, and a `tags` column is
    added too; when `df` has `document_cols` (as `read_conll` gives), a document's sentences are read
    together, as `nerkit predict` does for a CoNLL file's -DOCSTART- documents: rows are shuffled by
    document, unless `sorted_by_document` says each partition already holds whole documents, each in
    order (as `read_conll` gives them). The model loads once per Python worker, with as many torch
    threads as Spark gives each task (spark.task.cpus). Entities whose confidence is below
    `min_confidence` (0 to 1; 0 keeps all) are left out, their tokens tagged O, as `nerkit predict` does.
    """
    import_pyspark()
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    min_confidence = _checked_threshold(min_confidence)
    model_path = _checked_model(model_path)
    column = tokens_col or text_col
    if not column or column not in df.columns:
        raise NerkitError(
            f"the DataFrame has no column {column!r}", hint=f"its columns are {', '.join(df.columns)}"
        )
    added = _added_fields(bool(tokens_col))
    kept = [field for field in df.schema.fields if field.name not in {f.name for f in added}]
    schema = T.StructType([*kept, *added])
    names = [field.name for field in kept]
    grouped = bool(tokens_col) and all(c in df.columns for c in document_cols)
    if grouped and not sorted_by_document:  # a document's sentences together and in order
        order = [*document_cols, *(["sentence"] if "sentence" in df.columns else [])]
        parts = 2 * df.sparkSession.sparkContext.defaultParallelism
        df = df.repartition(parts, *[F.col(c) for c in document_cols]).sortWithinPartitions(*order)

    def tag_batches(batches: Iterator[Any]) -> Iterator[Any]:
        pipeline = _worker_pipeline(model_path, precision)
        if not tokens_col:
            for frame in batches:
                yield _tag_texts(pipeline, frame[names], column, batch_size, min_confidence)
            return
        if not grouped:
            for frame in batches:
                yield _tag_tokens(pipeline, frame[names], column, None, batch_size, min_confidence)
            return
        keys = list(document_cols)
        yield from _tag_whole_documents(pipeline, batches, names, column, keys, batch_size, min_confidence)

    return df.mapInPandas(tag_batches, schema)


def _added_fields(tags: bool) -> list[StructField]:
    """The columns annotate adds: tags (for token input), then entities."""
    from pyspark.sql import types as T

    entity = T.StructType(
        [
            T.StructField("start", T.IntegerType(), False),
            T.StructField("end", T.IntegerType(), False),
            T.StructField("label", T.StringType(), False),
            T.StructField("text", T.StringType(), False),
            T.StructField("confidence", T.DoubleType(), True),
        ]
    )
    fields = [T.StructField("entities", T.ArrayType(entity, containsNull=False), False)]
    if tags:
        fields.insert(0, T.StructField("tags", T.ArrayType(T.StringType(), containsNull=False), False))
    return fields


def annotate_conll(
    spark: SparkSession,
    model_path: str,
    path: str,
    batch_size: int = 512,
    precision: str = "auto",
    min_confidence: float = 0.0,
) -> DataFrame:
    """`annotate(read_conll(spark, path, tag_column=None), model_path, tokens_col="tokens")` in one pass:
    each piece of the files is parsed and tagged by the same Python worker, so sentences never travel
    to the JVM and back in between. Columns: file, document, sentence, line, text, tokens, tags, entities.
    Entities whose confidence is below `min_confidence` (0 to 1) are left out, their tokens tagged O."""
    import_pyspark()
    from pyspark.sql import types as T

    from nerkit.spark.conll import (
        FIXED_COLUMNS,
        first_token_line_width,
        fixed_fields,
        read_pieces,
        sentence_rows,
    )

    min_confidence = _checked_threshold(min_confidence)
    model_path = _checked_model(model_path)
    width = first_token_line_width(spark, path)
    schema = T.StructType(fixed_fields() + _added_fields(True))

    def tag_pieces(frames: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        pipeline = _worker_pipeline(model_path, precision)

        def tagged(rows: list[tuple[Any, ...]]) -> Any:
            frame = pd.DataFrame(rows, columns=list(FIXED_COLUMNS))
            owners = [(row[0], row[1]) for row in rows]
            return _tag_tokens(pipeline, frame, "tokens", owners, batch_size, min_confidence)

        for frame in frames:
            for piece in frame.itertuples(index=False):
                rows: list[tuple[Any, ...]] = []
                for row in sentence_rows(piece, width, None, None, []):
                    if row[2] == 0 and len(rows) >= POOL_ROWS:  # whole documents in each call
                        yield tagged(rows)
                        rows = []
                    rows.append(row)
                if rows:
                    yield tagged(rows)

    return read_pieces(spark, path).mapInPandas(tag_pieces, schema)


def _checked_threshold(min_confidence: float) -> float:
    """`min_confidence` if it is a number from 0 to 1, checked here rather than on every executor."""
    from nerkit.pipeline import check_min_confidence

    return check_min_confidence(min_confidence)


def _checked_model(model_path: str) -> str:
    """The model folder as the executors will find it (absolute where local), after reading its
    metadata here: a missing or damaged folder fails once, not on every executor."""
    from nerkit.model.folder import LOADABLE_FORMATS, read_meta

    read_meta(model_path, LOADABLE_FORMATS)
    return os.path.abspath(model_path) if "://" not in model_path else model_path


def _worker_pipeline(model_path: str, precision: str) -> Pipeline:
    """The model for this Python worker, loaded on first use; torch gets the task's share of the cores."""
    from pyspark import TaskContext

    context = TaskContext.get()
    threads = max(1, context.cpus()) if context is not None else 1
    key = (model_path, precision, threads)
    if key not in _PIPELINES:
        from nerkit.pipeline import load

        _PIPELINES.clear()
        _PIPELINES[key] = load(model_path, threads=threads, precision=precision)
    return _PIPELINES[key]


def _tag_texts(pipeline: Pipeline, frame: Any, column: str, batch_size: int, min_confidence: float) -> Any:
    texts = [text if isinstance(text, str) else "" for text in frame[column]]
    documents = pipeline.predict_many(texts, batch_size, min_confidence)
    frame = frame.copy()
    frame["entities"] = [[entity.to_json() for entity in d.entities] for d in documents]
    return frame


def _tag_tokens(
    pipeline: Pipeline,
    frame: Any,
    column: str,
    owners: list[Any] | None,
    batch_size: int,
    min_confidence: float,
) -> Any:
    from nerkit.text.document import document_from_tokens

    sentences = [[str(token) for token in tokens] if tokens is not None else [] for tokens in frame[column]]
    documents = [document_from_tokens([tokens]) for tokens in sentences]
    numbers: dict[Any, int] = {}
    context = (
        [numbers.setdefault(owner, len(numbers)) for owner in owners] if owners else range(len(documents))
    )
    tagged = pipeline.tag_document_sentences(
        documents, list(context), batch_size, min_confidence=min_confidence
    )
    frame = frame.copy()
    frame["tags"] = [list(result[0].tags) if result else [] for result in tagged]
    frame["entities"] = [[entity.to_json() for entity in d.entities] for d in documents]
    return frame


def _tag_whole_documents(
    pipeline: Pipeline,
    batches: Iterator[Any],
    names: list[str],
    column: str,
    keys: list[str],
    batch_size: int,
    min_confidence: float,
) -> Iterator[Any]:
    """Tag rows sorted by document, holding back the last document of a batch until it is complete."""
    import pandas as pd

    pending = None
    for frame in batches:
        frame = frame[names] if pending is None else pd.concat([pending, frame[names]], ignore_index=True)
        owners = list(zip(*(frame[k] for k in keys), strict=True))
        cut = len(owners)
        while cut > 0 and owners[cut - 1] == owners[-1]:
            cut -= 1
        pending = frame.iloc[cut:].reset_index(drop=True)
        if cut:
            complete = frame.iloc[:cut].reset_index(drop=True)
            yield _tag_tokens(pipeline, complete, column, owners[:cut], batch_size, min_confidence)
    if pending is not None and len(pending):
        owners = list(zip(*(pending[k] for k in keys), strict=True))
        yield _tag_tokens(pipeline, pending, column, owners, batch_size, min_confidence)


INPUT_FORMATS = ("text", "conll", "jsonl", "parquet")
OUTPUT_FORMATS = ("jsonl", "parquet")


def annotate_files(
    spark: SparkSession,
    model_path: str,
    source: str,
    output: str,
    input_format: str = "text",
    output_format: str = "jsonl",
    batch_size: int = 512,
    precision: str = "auto",
    min_confidence: float = 0.0,
) -> None:
    """Annotate files into a folder of part files, as `nerkit predict` would each input: text is one
    document per line (rows `text`, `entities`); conll gives a row per sentence (`text`, `tokens`, `tags`,
    `entities`, and where it came from); jsonl and parquet need a `text` column (or parquet `tokens`), and
    their other columns pass through. The folder appears only once complete. Entities whose confidence
    is below `min_confidence` (0 to 1; 0 keeps all) are left out, as `nerkit predict` leaves them out."""
    from nerkit.spark.conll import spark_errors

    min_confidence = _checked_threshold(min_confidence)
    check_choice("input format", input_format, INPUT_FORMATS)
    check_choice("output format", output_format, OUTPUT_FORMATS)
    target = Path(output) if "://" not in output else None
    if target is not None and target.exists():
        raise NerkitError("already exists", path=output, hint="give a new folder for the part files")
    with spark_errors(source):
        if input_format == "conll":
            annotated = annotate_conll(spark, model_path, source, batch_size, precision, min_confidence)
        elif input_format == "text":
            annotated = _annotate_lines(spark, model_path, source, batch_size, precision, min_confidence)
        else:
            df, tokens_col = _read_rows(spark, source, input_format)
            annotated = annotate(
                df,
                model_path,
                tokens_col=tokens_col,
                batch_size=batch_size,
                precision=precision,
                min_confidence=min_confidence,
            )
        if target is None:
            _write(annotated, output, output_format)
            return
        if not publish_folder(target, lambda temporary: _write(annotated, str(temporary), output_format)):
            raise NerkitError("already exists", path=output, hint="give a new folder for the part files")


def _annotate_lines(
    spark: SparkSession, model_path: str, source: str, batch_size: int, precision: str, min_confidence: float
) -> DataFrame:
    """Text files, one document per line, to rows `text`, `entities` in the lines' order. Lines reach
    the workers as bytes and are decoded there as `nerkit predict` reads them: strict UTF-8 (an error
    names the file, and the line where the file is local), line endings and a leading BOM dropped."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    model_path = _checked_model(model_path)
    _split_small_files(spark, source)
    lines = spark.read.option("lineSep", "\n").text(source)
    lines = lines.select(
        F.col("value").cast("binary").alias("line"), F.col("_metadata.file_path").alias("file")
    )
    schema = T.StructType([T.StructField("text", T.StringType(), False), *_added_fields(False)])

    def tag_lines(frames: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        pipeline = _worker_pipeline(model_path, precision)
        for frame in frames:
            texts = [
                _decode_line(line, file) for line, file in zip(frame["line"], frame["file"], strict=True)
            ]
            yield _tag_texts(pipeline, pd.DataFrame({"text": texts}), "text", batch_size, min_confidence)

    return lines.mapInPandas(tag_lines, schema)


def _decode_line(line: bytes, file: str) -> str:
    """One line of a text file as `nerkit.lines.read_lines` gives it, or its error."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        from nerkit.lines import read_lines
        from nerkit.spark.conll import local_name

        path = local_name(urllib.parse.unquote(file))  # Spark's metadata path is URL-encoded
        if "://" not in path and os.path.isfile(path) and not path.endswith(COMPRESSED):
            for _ in read_lines(path):  # raises the error with its line number
                pass
        raise NerkitError(
            f"byte 0x{line[error.start]:02x} at column {error.start + 1} of a line is not UTF-8",
            path=path,
            hint="re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 IN > OUT)",
        ) from None
    return text.removeprefix("\ufeff").rstrip("\r")


def _read_rows(spark: SparkSession, source: str, input_format: str) -> tuple[DataFrame, str | None]:
    """Jsonl or parquet input as a DataFrame, and its tokens column (None: annotate `text`)."""
    if input_format == "jsonl":
        df = spark.read.option("mode", "FAILFAST").json(source)
    else:
        df = spark.read.parquet(source)
    df = df.drop("entities")
    if "text" not in df.columns and input_format == "parquet" and "tokens" in df.columns:
        return df, "tokens"
    if "text" not in df.columns:
        raise NerkitError(
            'the input has no "text" column',
            path=source,
            hint='give rows with a "text" string, e.g. {"text": "Paris is big."}',
        )
    return df, None


def _write(df: DataFrame, folder: str, output_format: str) -> None:
    writer = df.write.mode("errorifexists")
    if output_format == "jsonl":
        writer.option("ignoreNullFields", "false").json(folder)
    else:
        writer.parquet(folder)


def _split_small_files(spark: SparkSession, source: str) -> None:
    """Cut local text input into at least two partitions per core (lines stay in order): Spark's
    default 128 MB splits would give a 50 MB file to one core."""
    paths = [Path(p) for p in glob.glob(source)] if "://" not in source else []
    files = [f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    total = sum(f.stat().st_size for f in files)
    if total:
        pieces = 2 * spark.sparkContext.defaultParallelism
        size = max(64 * 1024, min(128 * 1024 * 1024, total // pieces + 1))
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(size))
