"""Tests for nerkit.spark in local mode: CoNLL DataFrames, annotation identical to predict, the CLI's errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nerkit.cli import main
from nerkit.errors import NerkitError

pytestmark = pytest.mark.spark

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
CONLL = """-DOCSTART- -X- O

Peter NNP B-PER
visited VBD O

Paris NNP B-LOC
. . O

-DOCSTART- -X- O

Oslo NNP B-LOC
"""


def part_rows(folder: Path) -> list[dict]:
    return [
        json.loads(line) for part in sorted(folder.glob("part-*")) for line in part.read_text().splitlines()
    ]


# --- read_conll and label_counts ---------------------------------------------------------------------------


def test_read_conll_rows(spark, write):
    from nerkit.spark import read_conll

    path = write(CONLL)
    rows = [row.asDict() for row in read_conll(spark, str(path)).orderBy("document", "sentence").collect()]
    assert rows == [
        {
            "file": str(path),
            "document": 1,
            "sentence": 0,
            "line": 3,
            "text": "Peter visited",
            "tokens": ["Peter", "visited"],
            "tags": ["B-PER", "O"],
            "column_1": ["NNP", "VBD"],
        },
        {
            "file": str(path),
            "document": 1,
            "sentence": 1,
            "line": 6,
            "text": "Paris .",
            "tokens": ["Paris", "."],
            "tags": ["B-LOC", "O"],
            "column_1": ["NNP", "."],
        },
        {
            "file": str(path),
            "document": 2,
            "sentence": 0,
            "line": 11,
            "text": "Oslo",
            "tokens": ["Oslo"],
            "tags": ["B-LOC"],
            "column_1": ["NNP"],
        },
    ]


def test_read_conll_folder_tabs_untagged_and_no_documents(spark, tmp_path):
    from nerkit.spark import read_conll

    (tmp_path / "a.conll").write_text(" \t\n\xa0\nPeter\tB-PER\n\nOslo\tB-LOC\n", encoding="utf-8")
    (tmp_path / "b.conll").write_text("Anna\tB-PER\nleft\tO\n", encoding="utf-8")
    df = read_conll(spark, str(tmp_path), tag_column=None)
    assert df.columns == ["file", "document", "sentence", "line", "text", "tokens", "column_1"]
    rows = sorted((Path(r.file).name, r.document, r.sentence, r.tokens, r.column_1) for r in df.collect())
    assert rows == [
        ("a.conll", -5, 0, ["Oslo"], ["B-LOC"]),  # no -DOCSTART-: a document of its own, minus its line
        ("a.conll", -3, 0, ["Peter"], ["B-PER"]),
        ("b.conll", -1, 0, ["Anna", "left"], ["B-PER", "O"]),
    ]


def test_read_conll_cuts_a_file_into_pieces_of_whole_documents(spark, monkeypatch):
    from pyspark.sql import functions as F

    import nerkit.spark.conll
    from nerkit.data.conll import read_conll

    monkeypatch.setattr(nerkit.spark.conll, "MIN_PIECE_BYTES", 1)
    path = SAMPLES / "train.conll"
    df = nerkit.spark.read_conll(spark, str(path), partitions=4).withColumn("part", F.spark_partition_id())
    rows = df.collect()
    assert df.rdd.getNumPartitions() == 4 and len({r.part for r in rows}) == 4
    expected = sorted((s.line, s.document or -s.line, s.tokens, s.tags) for s in read_conll(path))
    assert sorted((r.line, r.document, tuple(r.tokens), tuple(r.tags)) for r in rows) == expected
    by_part: dict[int, list[tuple[int, int]]] = {}
    for row in rows:  # collect() keeps each partition's order
        by_part.setdefault(row.part, []).append((row.document, row.sentence))
    documents = [document for part in by_part.values() for document in dict.fromkeys(d for d, _ in part)]
    assert len(documents) == len(set(documents))  # a document is never split between partitions
    for part in by_part.values():
        assert part == sorted(part, key=lambda pair: (documents.index(pair[0]), pair[1]))


def test_label_counts(spark, write):
    from nerkit.spark import label_counts, read_conll

    counts = [tuple(row) for row in label_counts(read_conll(spark, str(write(CONLL)))).collect()]
    assert counts == [("B-LOC", 2), ("O", 2), ("B-PER", 1)]


def test_read_conll_errors_name_the_file_and_line(spark, write, tmp_path):
    from nerkit.spark import read_conll, spark_errors

    bad = write("Peter B-PER\nParis X-LOC\n", name="bad.conll")
    with pytest.raises(NerkitError, match=r"bad\.conll:2: invalid tag 'X-LOC'"), spark_errors():
        read_conll(spark, str(bad)).collect()
    with pytest.raises(NerkitError, match="no such file or folder"):
        read_conll(spark, str(tmp_path / "missing.conll"))
    latin = write("Ren\xe9 B-PER\n".encode("latin-1"), name="latin.conll")
    with (
        pytest.raises(NerkitError, match=r"latin\.conll:1: byte 0xe9 at column 4 is not UTF-8"),
        spark_errors(),
    ):
        read_conll(spark, str(latin)).collect()


# --- annotate: the same as nerkit predict ------------------------------------------------------------------


def test_annotate_texts_like_predict(spark, tiny_model, tiny_pipeline):
    from nerkit.spark import annotate

    texts = [line for line in (SAMPLES / "raw.txt").read_text(encoding="utf-8").splitlines()]
    texts += ["", "   "]
    df = spark.createDataFrame(
        [(i, t) for i, t in enumerate(texts)] + [(len(texts), None)], "id long, text string"
    )
    rows = annotate(df, str(tiny_model)).orderBy("id").collect()
    assert [row.id for row in rows] == list(range(len(texts) + 1))
    for row, text in zip(rows, [*texts, ""], strict=True):
        expected = [e.to_json() for e in tiny_pipeline.predict(text).entities]
        assert [entity.asDict() for entity in row.entities] == expected
    assert sum(len(row.entities) for row in rows) > 0


@pytest.mark.parametrize("way", ["annotate", "annotate sorted", "annotate_conll"])
def test_annotate_conll_documents_like_predict(spark, context_model, tmp_path, monkeypatch, way):
    import sys

    import nerkit.spark.conll
    from nerkit.spark import annotate, annotate_conll, read_conll

    monkeypatch.setattr(nerkit.spark.conll, "MIN_PIECE_BYTES", 1)  # documents in pieces, read in parallel
    monkeypatch.setattr(sys.modules["nerkit.spark.annotate"], "POOL_ROWS", 5)  # several model calls per piece
    predicted = tmp_path / "predicted.jsonl"
    assert main(["predict", str(context_model), str(SAMPLES / "dev.conll"), "--input-format", "conll",
                 "--output", str(predicted), "--threads", "1"]) == 0  # fmt: skip
    expected = [json.loads(line) for line in predicted.read_text(encoding="utf-8").splitlines()]
    if way == "annotate_conll":
        annotated = annotate_conll(spark, str(context_model), str(SAMPLES / "dev.conll"))
    else:
        df = read_conll(spark, str(SAMPLES / "dev.conll"), partitions=3)
        annotated = annotate(
            df, str(context_model), tokens_col="tokens", sorted_by_document=way != "annotate"
        )
    rows = annotated.orderBy("line").collect()
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        # predict's text for a CoNLL sentence ends in the newline that follows each sentence
        assert (row.text + "\n", row.tokens, row.tags) == (want["text"], want["tokens"], want["tags"])
        assert [entity.asDict() for entity in row.entities] == want["entities"]


def test_annotate_bad_arguments(spark, tiny_model, tmp_path):
    from nerkit.spark import annotate

    df = spark.createDataFrame([("Paris",)], "body string")
    with pytest.raises(NerkitError, match="the DataFrame has no column 'text'"):
        annotate(df, str(tiny_model))
    with pytest.raises(NerkitError, match="nowhere: no such model folder"):
        annotate(df, str(tmp_path / "nowhere"), text_col="body")


# --- the CLI -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoded", ["as is", "BOM and CRLF"])
def test_cli_annotate_text_matches_predict(spark, tiny_model, tmp_path, capsys, encoded):
    source = SAMPLES / "raw.txt"
    if encoded != "as is":
        source = tmp_path / "raw.txt"
        text = (SAMPLES / "raw.txt").read_text(encoding="utf-8").replace("\n", "\r\n")
        source.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    output = tmp_path / "out"
    assert main(["spark", "annotate", str(tiny_model), str(source), str(output), "--master", "local[2]"]) == 0
    predicted = tmp_path / "predicted.jsonl"
    assert main(["predict", str(tiny_model), str(source), "--output", str(predicted)]) == 0
    expected = [json.loads(line) for line in predicted.read_text(encoding="utf-8").splitlines()]
    assert part_rows(output) == expected
    assert (output / "_SUCCESS").is_file()
    assert {p.name for p in tmp_path.iterdir()} - {"raw.txt"} == {"out", "predicted.jsonl"}


def test_cli_annotate_jsonl_to_parquet(spark, tiny_model, tiny_pipeline, write, tmp_path):
    source = write('{"id": 7, "text": "Ada Voss ran."}\n{"id": 8, "text": ""}\n', name="in.jsonl")
    output = tmp_path / "out"
    arguments = ["spark", "annotate", str(tiny_model), str(source), str(output)]
    assert main([*arguments, "--input-format", "jsonl", "--output-format", "parquet"]) == 0
    rows = spark.read.parquet(str(output)).orderBy("id").collect()
    assert [(row.id, row.text) for row in rows] == [(7, "Ada Voss ran."), (8, "")]
    expected = [e.to_json() for e in tiny_pipeline.predict("Ada Voss ran.").entities]
    assert [e.asDict() for e in rows[0].entities] == expected and rows[1].entities == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--master", "local[0]"], "local[0] gives Spark no cores"),
        (["--master", "nowhere:7077"], "'nowhere:7077' is not a Spark master URL"),
        (["--input-format", "jsonl"], 'the input has no "text" column'),
    ],
)
def test_cli_annotate_errors_are_one_line(spark, tiny_model, write, tmp_path, capsys, arguments, message):
    source = write('{"body": "Paris"}\n', name="in.jsonl")
    assert main(["spark", "annotate", str(tiny_model), str(source), str(tmp_path / "out"), *arguments]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and message in error[0]
    assert not (tmp_path / "out").exists()


def test_cli_annotate_text_that_is_not_utf8_names_the_line(spark, tiny_model, tmp_path, capsys):
    source = tmp_path / "a 100% folder" / "in.txt"  # Spark gives this path URL-encoded
    source.parent.mkdir()
    source.write_bytes("Ada Voss ran.\n\nRen\xe9 left.\n".encode("latin-1"))
    output = tmp_path / "out"
    assert main(["spark", "annotate", str(tiny_model), str(source), str(output)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "a 100% folder/in.txt:3: byte 0xe9 at column 4 is not UTF-8" in error[0]
    assert not output.exists()


def test_cli_annotate_bad_conll_names_the_line(spark, tiny_model, write, tmp_path, capsys):
    source = write("-DOCSTART- O\n\nAda O\n\n-DOCSTART- O\n\nVoss O X\n", name="in.conll")
    output = tmp_path / "out"
    arguments = ["spark", "annotate", str(tiny_model), str(source), str(output), "--input-format", "conll"]
    assert main(arguments) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "in.conll:7: 3 columns, but the first token line (line 3) has 2" in error[0]
    assert not output.exists()


def test_cli_annotate_missing_input_and_existing_output(spark, tiny_model, tmp_path, capsys):
    output = tmp_path / "out"
    assert main(["spark", "annotate", str(tiny_model), str(tmp_path / "missing.txt"), str(output)]) == 2
    assert "missing.txt: no such file or folder" in capsys.readouterr().err
    output.mkdir()
    assert main(["spark", "annotate", str(tiny_model), str(SAMPLES / "raw.txt"), str(output)]) == 2
    assert "out: already exists" in capsys.readouterr().err


def test_cli_without_java(tiny_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    pytest.importorskip("pyspark")
    from nerkit.spark.session import find_java

    with pytest.raises(NerkitError, match="Spark needs Java, and there is no java on the PATH"):
        find_java()
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(NerkitError, match=r"JAVA_HOME is .* but it holds no bin/java"):
        find_java()


def test_spark_log_level_applies_from_the_jvm_start(tmp_path):
    pytest.importorskip("pyspark")
    from nerkit.spark.session import log4j_option, spark_session

    option = log4j_option("OFF")
    path = Path(option.removeprefix("-Dlog4j2.configurationFile=file://"))
    assert path.name == "log4j2-3-off.properties" and path.parent.name == f"nerkit-{os.getuid()}"
    assert path.parent.stat().st_mode & 0o077 == 0
    assert path.read_text(encoding="utf-8").startswith("rootLogger.level = off\n")
    with pytest.raises(NerkitError, match="unknown Spark log level 'LOUD'; use one of OFF, FATAL"):
        spark_session("local[1]", log_level="loud")


def test_cli_annotate_in_a_fresh_jvm_prints_only_its_own_line(tiny_model, tmp_path):
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("needs Java")
    output = tmp_path / "out"
    command = [sys.executable, "-m", "nerkit", "spark", "annotate", str(tiny_model), str(SAMPLES / "raw.txt")]
    done = subprocess.run([*command, str(output), "--master", "local[1]"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if not line.startswith("WARNING: Using incubator")]
    assert len(lines) == 1 and lines[0].startswith(f"annotated {SAMPLES / 'raw.txt'} into {output} in ")
    assert done.stdout == ""


# --- distributed training ----------------------------------------------------------------------------------


def test_train_in_two_processes(spark, tmp_path, capfd):
    from nerkit.pipeline import load
    from nerkit.spark import read_conll, train
    from nerkit.training.options import TrainOptions

    options = TrainOptions(max_epochs=2, hidden=16, char_filters=8, word_dim=16, seed=2, learning_rate=0.05)
    dev = read_conll(spark, str(SAMPLES / "dev.conll"))  # a DataFrame works as well as a path
    result = train(spark, str(SAMPLES / "train.conll"), str(tmp_path / "model"), dev=dev, options=options)
    assert result.best_epoch in (1, 2) and result.output == tmp_path / "model"
    out = capfd.readouterr().out
    assert "epoch   1" in out and "epoch   2" in out
    folder = tmp_path / "model"
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "model.safetensors", "train_log.jsonl"]
    logs = [json.loads(line) for line in (folder / "train_log.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in logs] == [1, 2]
    score = load(folder, threads=1).evaluate(SAMPLES / "dev.conll")
    assert score.f1 == pytest.approx(result.dev["f1"])
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
