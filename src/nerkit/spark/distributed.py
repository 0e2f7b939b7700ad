"""Distributed training with Spark's TorchDistributor: DDP over gloo, the same model folder as `nerkit train`."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from nerkit.errors import NerkitError
from nerkit.files import clear_stale, swap_folder, temporary_name
from nerkit.spark.conll import read_conll, spark_errors
from nerkit.spark.session import first_line, import_pyspark
from nerkit.training.options import TrainOptions
from nerkit.training.output import check_model_output

if TYPE_CHECKING:  # pyspark and torch load only when a run starts
    from pyspark.sql import DataFrame, SparkSession

    from nerkit.training.loop import TrainResult

Split = Any  # a CoNLL path (any file system Spark reads) or a DataFrame with tokens and tags columns


def train(
    spark: SparkSession,
    train_data: Split,
    output: str,
    dev: Split | None = None,
    test: Split | None = None,
    embeddings: str | None = None,
    options: TrainOptions | None = None,
    num_processes: int = 2,
    local_mode: bool = True,
    tokens_col: str = "tokens",
    tags_col: str = "tags",
) -> TrainResult:
    """Train like `nerkit.training.train.train`, in `num_processes` processes (DDP over gloo on CPUs), and write the
    model folder to `output` on this machine; returns rank 0's TrainResult. Epoch lines print here.

    Splits are CoNLL paths or DataFrames (as `read_conll` gives: tokens and tags, and file, document and
    sentence to keep documents together). They are gathered here and shipped to the processes, which each
    read all of them (training data fits in memory by nature); `embeddings` must be readable where the
    processes run. `local_mode=True` runs them on this machine; False on the cluster's executors.
    """
    import_pyspark()
    from pyspark.ml.torch.distributor import TorchDistributor

    if num_processes < 1:
        raise NerkitError(f"{num_processes} processes", hint="give --num-processes 1 or more")
    target = check_model_output(output)  # before any work
    options = options or TrainOptions()
    if options.fine_tune:
        raise NerkitError("distributed training cannot fine-tune a transformer", hint="use nerkit train")
    if embeddings is not None and not os.path.isfile(embeddings) and local_mode:
        raise NerkitError("no such file", path=embeddings, hint="give the word vectors file")
    splits = {
        name: _conll_text(spark, data, tokens_col, tags_col)
        for name, data in (("train", train_data), ("dev", dev), ("test", test))
        if data is not None
    }
    if options.threads is None and local_mode:
        cores = spark.sparkContext.defaultParallelism
        options = replace(options, threads=max(1, cores // num_processes))
    distributor = TorchDistributor(num_processes=num_processes, local_mode=local_mode, use_gpu=False)
    try:
        result, files = cast(
            "tuple[TrainResult, dict[str, bytes]]",
            distributor.run(_train_process, splits, embeddings, options),
        )
    except NerkitError:
        raise
    except Exception as error:
        raise NerkitError(f"distributed training failed: {first_line(error)}") from None
    _write_folder(target, files)
    result.output = Path(output)
    return result


def _conll_text(spark: SparkSession, data: Split, tokens_col: str, tags_col: str) -> str:
    """A split as CoNLL text: a DataFrame's rows in document order, each document after -DOCSTART-."""
    df: DataFrame = read_conll(spark, os.fspath(data)) if isinstance(data, str | os.PathLike) else data
    for column in (tokens_col, tags_col):
        if column not in df.columns:
            raise NerkitError(
                f"the training DataFrame has no column {column!r}", hint="give tokens and tags columns"
            )
    # file order: by line (the sentences of one span JSON line share it, so then by sentence)
    ordered_by = ("file", "line", "sentence") if "line" in df.columns else ("file", "document", "sentence")
    order = [c for c in ordered_by if c in df.columns]
    keys = [c for c in ("file", "document") if c in df.columns]
    with spark_errors(str(data) if isinstance(data, str | os.PathLike) else None):
        rows = df.select(*keys, tokens_col, tags_col).orderBy(*order).collect() if order else df.collect()
    lines: list[str] = []
    previous = None
    for row in rows:
        key = tuple(row[k] for k in keys)
        if keys and key != previous:
            lines.append("-DOCSTART- O\n\n")
        previous = key
        tokens, tags = row[tokens_col], row[tags_col]
        if len(tokens) != len(tags):
            raise NerkitError(
                f"a row has {len(tokens)} tokens but {len(tags)} tags", hint="fix the DataFrame"
            )
        lines.extend(f"{token} {tag}\n" for token, tag in zip(tokens, tags, strict=True))
        lines.append("\n")
    if not rows:
        raise NerkitError("a training split has no sentences", hint="give a DataFrame with rows")
    return "".join(lines)


def _train_process(
    splits: dict[str, str], embeddings: str | None, options: TrainOptions
) -> tuple[TrainResult, dict[str, bytes]] | None:
    """One DDP process (started by torchrun): train on the splits; rank 0 returns the model folder's files."""
    import torch.distributed as dist

    from nerkit.training.train import train

    dist.init_process_group("gloo")
    try:
        with tempfile.TemporaryDirectory(prefix="nerkit-ddp-") as scratch:
            folder = Path(scratch)
            paths = {}
            for name, text in splits.items():
                paths[name] = folder / f"{name}.conll"
                paths[name].write_text(text, encoding="utf-8")
            output = folder / "model"
            result = train(
                paths["train"],
                output,
                dev_path=paths.get("dev"),
                test_path=paths.get("test"),
                embeddings=embeddings,
                options=options,
                on_epoch=lambda log: print(log.line(), flush=True),
            )
            if dist.get_rank() != 0:
                return None
            files = {
                str(path.relative_to(output)): path.read_bytes()
                for path in output.rglob("*")
                if path.is_file()
            }
            return result, files
    finally:
        dist.destroy_process_group()


def _write_folder(output: Path, files: dict[str, bytes]) -> None:
    """The model folder's files written beside `output`, then swapped in whole for what stood there."""
    clear_stale(output)
    folder = output.with_name(temporary_name(output))
    try:
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        swap_folder(folder, output)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
