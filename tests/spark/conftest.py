"""One local Spark session for the Spark tests (skipped, with the reason, where pyspark or Java is missing)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark", reason="the Spark tests need pyspark: pip install 'nerkit[spark]'")
    if shutil.which("java") is None:
        pytest.skip("the Spark tests need Java (apt install openjdk-17-jre-headless)")
    from nerkit.spark import spark_session

    session = spark_session("local[2]", "nerkit tests", {"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def context_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model that reads each sentence with its document's neighbours (as the defaults do)."""
    from nerkit.training.options import TrainOptions
    from nerkit.training.train import train

    output = tmp_path_factory.mktemp("context") / "model"
    options = TrainOptions(
        max_epochs=2, learning_rate=0.05, hidden=16, char_filters=8, word_dim=16, seed=2, threads=1
    )
    train(SAMPLES / "train.conll", output, dev_path=SAMPLES / "dev.conll", options=options)
    return output
