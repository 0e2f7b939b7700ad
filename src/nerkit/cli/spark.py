"""`nerkit spark annotate` and `nerkit spark train`: the Spark commands (needs nerkit[spark])."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from nerkit.cli._options import (
    add_min_confidence,
    add_precision,
    add_training_options,
    positive,
    training_options,
)
from nerkit.errors import NerkitError

if TYPE_CHECKING:  # pyspark is optional
    from pyspark.sql import DataFrame, SparkSession

HELP = "Run on Apache Spark: annotate files, train in several processes (pip install 'nerkit[spark]')."
MASTER_HELP = (
    "the Spark master: local[N] uses N cores here (default local[*]); spark://HOST:PORT, yarn, k8s://URL"
)
ANNOTATE_HELP = "Annotate files into a folder of part files, as nerkit predict would."
TRAIN_HELP = "Train as nerkit train does, in several processes (DDP over gloo) started by Spark."
MIN_CONFIDENCE_HELP = (
    "leave out every entity whose confidence (the lowest marginal probability of its tokens' tags, as "
    "the output shows it) is below this number from 0 to 1; with CoNLL input its tokens are tagged O "
    "(default 0: keep all; `nerkit report` finds the thresholds worth using)"
)
TRAIN_FORMATS = ("conll", "jsonl")  # what spark train reads: CoNLL, or span JSON lines through read_spans


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `spark` command's parser and its two sub-commands."""
    spark = commands.add_parser("spark", help=HELP, description=HELP.partition(" (")[0] + ".")
    spark_commands = spark.add_subparsers(dest="spark_command", required=True, metavar="COMMAND")
    _add_annotate(spark_commands)
    _add_train(spark_commands)


def _add_annotate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("annotate", help=ANNOTATE_HELP, description=ANNOTATE_HELP)
    parser.set_defaults(handler=run_annotate)
    parser.add_argument("model", help="a model folder (readable where the executors run)")
    parser.add_argument("input", help="a file, folder or glob")
    parser.add_argument("output", help="the folder of part files to create")
    parser.add_argument("--master", default="local[*]", help=MASTER_HELP)
    parser.add_argument(
        "--input-format",
        choices=("text", "conll", "jsonl", "parquet"),
        default="text",
        help="text: one document per line; conll: tokens as given; jsonl, parquet: rows with a text field",
    )
    parser.add_argument("--output-format", choices=("jsonl", "parquet"), default="jsonl")
    parser.add_argument("--batch-size", type=positive, default=512, help="sentences per model call")
    add_min_confidence(parser, help=MIN_CONFIDENCE_HELP)
    add_precision(parser)


def _add_train(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("train", help=TRAIN_HELP, description=TRAIN_HELP)
    parser.set_defaults(handler=run_train)
    data = parser.add_argument_group("data")
    data.add_argument("--train", required=True, help="the training data: a file, folder or glob")
    data.add_argument("--dev", help="the dev data for model selection")
    data.add_argument("--test", help="data also scored every epoch")
    data.add_argument(
        "--input-format",
        choices=TRAIN_FORMATS,
        help="conll, or jsonl: span JSON lines (read by nerkit.spark.read_spans, aligned to tokens); "
        "default: jsonl for a path ending in .jsonl or .ndjson, else conll",
    )
    data.add_argument("--embeddings", help="word vectors, readable where the processes run")
    data.add_argument("--output", "-o", required=True, help="the model folder to write (on this machine)")
    parser.add_argument("--master", default="local[*]", help=MASTER_HELP)
    parser.add_argument("--num-processes", type=positive, default=2, help="training processes (default 2)")
    parser.add_argument(
        "--on-executors",
        action="store_true",
        help="run the processes on the cluster's executors (default: on this machine)",
    )
    add_training_options(parser, only=("training options",))


def run_annotate(args: argparse.Namespace) -> int:
    """Annotate the input into a folder of part files and say how long it took."""
    from nerkit.spark import annotate_files, spark_session

    spark = spark_session(args.master, "nerkit annotate", log_level="OFF")
    started = time.perf_counter()
    annotate_files(
        spark,
        args.model,
        args.input,
        args.output,
        input_format=args.input_format,
        output_format=args.output_format,
        batch_size=args.batch_size,
        precision=args.transformer_precision,
        min_confidence=args.min_confidence,
    )
    print(
        f"annotated {args.input} into {args.output} in {time.perf_counter() - started:.1f}s", file=sys.stderr
    )
    return 0


def _split(spark: SparkSession, path: str | None, input_format: str | None) -> str | DataFrame | None:
    """A training split as `nerkit.spark.train` takes it: a CoNLL path as it is; span JSON lines as
    `read_spans`' sentences with tokens, without their `line` column (a record's sentences share it), so
    that they are gathered in file order by file, document and sentence. What reading and aligning
    changed is counted first and said in one note, as `nerkit train` says it."""
    if path is None:
        return None
    if (input_format or ("jsonl" if path.lower().endswith((".jsonl", ".ndjson")) else "conll")) == "conll":
        return path
    from pyspark.sql import functions as F

    from nerkit.data.formats import adjustment_note
    from nerkit.spark import read_spans

    sentences = read_spans(spark, path)
    kinds = sentences.select(F.explode("adjustments").alias("line")).select(
        F.regexp_extract("line", r": ([a-z_]+): ", 1).alias("kind")
    )
    counts = {row["kind"]: int(row["count"]) for row in kinds.groupBy("kind").count().collect()}
    note = adjustment_note(path, counts, "jsonl")
    if note:
        print(f"nerkit: note: {note}", file=sys.stderr)
    return sentences.filter(F.size("tokens") > 0).drop("line")


def run_train(args: argparse.Namespace) -> int:
    """Train in several processes and say where the best model went."""
    from nerkit.spark import spark_session
    from nerkit.spark import train as spark_train

    options = training_options(args)
    spark = spark_session(args.master, "nerkit train", log_level="OFF")
    train, dev, test = (_split(spark, path, args.input_format) for path in (args.train, args.dev, args.test))
    result = spark_train(
        spark,
        train,
        args.output,
        dev=dev,
        test=test,
        embeddings=args.embeddings,
        options=options,
        num_processes=args.num_processes,
        local_mode=not args.on_executors,
    )
    if not result.best_epoch:
        raise NerkitError("training ended before its first epoch: no model saved")
    print(
        f"finished: best dev F1 {100 * float(result.dev['f1']):.2f} at epoch {result.best_epoch}; "
        f"model saved to {result.output}",
        flush=True,
    )
    return 0
