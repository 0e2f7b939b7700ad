"""nerkit on Apache Spark: CoNLL files and span JSON lines as DataFrames, batch annotation and distributed training."""

from __future__ import annotations

from nerkit.spark.annotate import annotate, annotate_conll, annotate_files
from nerkit.spark.conll import label_counts, read_conll, spark_errors
from nerkit.spark.distributed import train
from nerkit.spark.session import spark_session
from nerkit.spark.spans import read_spans

__all__ = [
    "annotate",
    "annotate_conll",
    "annotate_files",
    "label_counts",
    "read_conll",
    "read_spans",
    "spark_errors",
    "spark_session",
    "train",
]
