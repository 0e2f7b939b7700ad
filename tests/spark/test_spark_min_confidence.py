"""Tests for the confidence threshold of nerkit.spark's annotation: the same entities and tags as
`nerkit predict --min-confidence` for text, token and CoNLL input, and bad values refused before Spark runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from nerkit.cli import main
from nerkit.errors import NerkitError

pytestmark = pytest.mark.spark

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
RAW = (SAMPLES / "raw.txt").read_text(encoding="utf-8").splitlines()


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def part_rows(folder: Path) -> list[dict]:
    return [row for part in sorted(folder.glob("part-*")) for row in read_rows(part)]


@pytest.fixture(scope="module")
def threshold(tiny_pipeline) -> float:
    """The median confidence of the entities of samples/raw.txt: some are kept, some dropped."""
    confidences = sorted(e.confidence for d in tiny_pipeline.predict_many(RAW) for e in d.entities)
    return confidences[len(confidences) // 2]


def test_annotate_texts_and_tokens_drop_what_predict_drops(spark, tiny_model, tiny_pipeline, threshold):
    from nerkit.spark import annotate

    df = spark.createDataFrame(list(enumerate(RAW)), "id long, text string")
    rows = annotate(df, str(tiny_model), min_confidence=threshold).orderBy("id").collect()
    expected = [
        [e.to_json() for e in d.entities] for d in tiny_pipeline.predict_many(RAW, min_confidence=threshold)
    ]
    assert [[e.asDict() for e in row.entities] for row in rows] == expected
    everything = sum(len(d.entities) for d in tiny_pipeline.predict_many(RAW))
    assert 0 < sum(map(len, expected)) < everything
    sentences = [[t.text for t in s.tokens] for d in tiny_pipeline.predict_many(RAW) for s in d.sentences]
    tokens = spark.createDataFrame(list(enumerate(sentences)), "id long, tokens array<string>")
    rows = (
        annotate(tokens, str(tiny_model), tokens_col="tokens", min_confidence=threshold)
        .orderBy("id")
        .collect()
    )
    tagged = tiny_pipeline.tag_tokens(sentences, min_confidence=threshold)
    assert [row.tags for row in rows] == [t.tags for t in tagged]


def test_cli_annotate_matches_predict_for_text_and_conll(spark, tiny_model, tmp_path, threshold):
    for source, input_format in [(SAMPLES / "raw.txt", "text"), (SAMPLES / "dev.conll", "conll")]:
        output = tmp_path / f"out-{input_format}"
        flags = ["--input-format", input_format, "--min-confidence", repr(threshold)]
        assert main(["spark", "annotate", str(tiny_model), str(source), str(output), *flags]) == 0
        predicted = tmp_path / f"{input_format}.jsonl"
        assert main(["predict", str(tiny_model), str(source), "-o", str(predicted), *flags]) == 0
        expected = read_rows(predicted)
        rows = part_rows(output)
        if input_format == "text":
            assert rows == expected
        else:  # predict's text for a CoNLL sentence ends in the newline that follows it
            rows.sort(key=lambda row: row["line"])
            assert [(row["text"] + "\n", row["tags"], row["entities"]) for row in rows] == [
                (want["text"], want["tags"], want["entities"]) for want in expected
            ]
        assert all(e["confidence"] >= threshold for row in rows for e in row["entities"])


@pytest.mark.parametrize("value", [math.nan, -0.1, 1.5, True, "0.5"])
def test_bad_thresholds_are_refused_before_spark_runs(spark, tiny_model, tmp_path, value):
    from nerkit.spark import annotate, annotate_conll, annotate_files

    message = (
        f"min_confidence={value!r} is not a number from 0 to 1; "
        "entities whose confidence is below it are dropped; 0 keeps them all"
    )
    df = spark.createDataFrame([("Paris",)], "text string")
    calls = [
        lambda: annotate(df, str(tiny_model), min_confidence=value),
        lambda: annotate_conll(spark, str(tiny_model), str(SAMPLES / "dev.conll"), min_confidence=value),
        lambda: annotate_files(
            spark, str(tiny_model), str(SAMPLES / "raw.txt"), str(tmp_path / "out"), min_confidence=value
        ),
    ]
    for call in calls:
        with pytest.raises(NerkitError) as caught:
            call()
        assert str(caught.value) == message
    assert not (tmp_path / "out").exists()


def test_cli_bad_threshold_is_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["spark", "annotate", "model", "in.txt", "out", "--min-confidence", "2"])
    assert caught.value.code == 2
    assert capsys.readouterr().err == (
        "nerkit spark annotate: error: argument --min-confidence: 2 is not a number from 0 to 1; "
        "see nerkit spark annotate --help\n"
    )
