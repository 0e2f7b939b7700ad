"""Tests for nerkit.spark.read_spans: span JSON lines as read_conll's sentence rows, aligned as
nerkit.data.align aligns them, in pieces of whole lines; errors naming the file and line; annotate and
spark train taking its DataFrame."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nerkit.errors import NerkitError
from nerkit.spark.spans import line_cuts

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
SPANS = (
    '{"text": "Ada Voss visited Halvery. She left.", "entities": [{"start": 0, "end": 8, "label": "PER"}, '
    '{"start": 17, "end": 21, "label": "LOC"}]}\n'
    "\n"
    '{"text": "Kelderwick Rovers won.", "spans": [{"start": 0, "end": 17, "label": "ORG"}], "answer": "reject"}\n'
    '{"id": 3, "text": "Port Halvery", "label": [[0, 12, "LOC"], [5, 12, "LOC"]]}\n'
)


def local_rows(path: Path) -> list[tuple]:
    """What read_spans should give for a file, from nerkit.data.formats.read_aligned."""
    from nerkit.data.formats import read_aligned

    rows = []
    for document in read_aligned(path, "jsonl"):
        line = int(document.source.place.rpartition(":")[2])
        adjustments = [adjustment.line() for adjustment in document.adjustments]
        if not document.source.annotated:
            rows.append((line, 0, [], [], [a.line() for a in document.source.adjustments]))
            continue
        sentences = [
            (words, tags) for words, tags in zip(document.tokens(), document.tags, strict=True) if words
        ]
        for position, (words, tags) in enumerate(sentences):
            rows.append((line, position, list(words), tags, adjustments if position == 0 else []))
        if not sentences and adjustments:
            rows.append((line, 0, [], [], adjustments))
    return rows


# --- pieces of whole lines ---------------------------------------------------------------------------------


def test_line_cuts_fall_after_line_feeds_and_number_lines():
    data = b'{"a": 1}\r\n{"b": 2}\r{"c": 3}\n\n{"d": 4}\n'
    assert line_cuts(data, 1) == [(0, 10, 1), (10, 28, 2), (28, 29, 4), (29, 38, 5)]
    assert line_cuts(data, 1000) == [(0, 38, 1)]
    assert line_cuts(b"", 5) == [(0, 0, 1)]
    assert line_cuts(b"abc\rdef\r", 2) == [(0, 8, 1)]  # lone CRs: no line feed to cut after


# --- read_spans --------------------------------------------------------------------------------------------


@pytest.mark.spark
def test_read_spans_rows(spark, write):
    from nerkit.spark import read_spans

    path = write(SPANS, name="in.jsonl")
    df = read_spans(spark, str(path))
    assert df.columns == ["file", "document", "sentence", "line", "text", "tokens", "tags", "adjustments"]
    rows = [row.asDict() for row in df.orderBy("document", "sentence").collect()]
    split = f"{path}:1: token_split: token 'Halvery' at 17 cut at 21 for [17, 21) LOC \"Halv\""
    rejected = f'{path}:3: rejected: answer "reject": "Kelderwick Rovers won."'
    overlap = f'{path}:4: overlap: [5, 12) LOC "Halvery" overlaps [0, 12) LOC "Port Halvery", which is kept'
    assert [
        (r["document"], r["sentence"], r["line"], r["text"], r["tags"], r["adjustments"]) for r in rows
    ] == [
        (1, 0, 1, "Ada Voss visited Halv ery .", ["B-PER", "I-PER", "O", "B-LOC", "O", "O"], [split]),
        (1, 1, 1, "She left .", ["O", "O", "O"], []),
        (3, 0, 3, "", [], [rejected]),  # no tokens: a row only to count what was skipped
        (4, 0, 4, "Port Halvery", ["B-LOC", "I-LOC"], [overlap]),
    ]
    assert [r["tokens"] for r in rows] == [
        ["Ada", "Voss", "visited", "Halv", "ery", "."],
        ["She", "left", "."],
        [],
        ["Port", "Halvery"],
    ]
    assert {r["file"] for r in rows} == {str(path)}


@pytest.mark.spark
def test_read_spans_in_pieces_is_read_aligned(spark, tmp_path, monkeypatch):
    from pyspark.sql import functions as F

    import nerkit.spark.spans

    monkeypatch.setattr(nerkit.spark.conll, "MIN_PIECE_BYTES", 1)
    path = tmp_path / "many.jsonl"
    path.write_text((SAMPLES / "annotated.jsonl").read_text(encoding="utf-8") * 3, encoding="utf-8")
    df = nerkit.spark.read_spans(spark, str(path), partitions=4).withColumn("part", F.spark_partition_id())
    rows = df.collect()
    assert df.rdd.getNumPartitions() == 4 and len({r.part for r in rows}) == 4
    got = sorted((r.line, r.sentence, r.tokens, r.tags, r.adjustments) for r in rows)
    assert got == sorted(local_rows(path))
    assert all(r.document == r.line for r in rows)
    by_part: dict[int, list[tuple[int, int]]] = {}
    for row in rows:  # collect() keeps each partition's order
        by_part.setdefault(row.part, []).append((row.document, row.sentence))
    documents = [document for part in by_part.values() for document in dict.fromkeys(d for d, _ in part)]
    assert len(documents) == len(set(documents))  # a record is never split between partitions
    assert all(part == sorted(part) for part in by_part.values())


@pytest.mark.spark
def test_read_spans_errors_name_the_file_and_line(spark, write, tmp_path):
    from nerkit.spark import read_spans, spark_errors

    bad = write('{"text": "a"}\n\n{"text": "b"\n', name="bad.jsonl")
    with (
        pytest.raises(NerkitError, match=r"bad\.jsonl:3: not valid JSON \(Expecting ',' delimiter\)"),
        spark_errors(),
    ):
        read_spans(spark, str(bad)).collect()
    span = write(
        '{"text": "Ada", "entities": [{"start": "0", "end": 3, "label": "PER"}]}\n', name="span.jsonl"
    )
    with (
        pytest.raises(NerkitError, match=r'span\.jsonl:1: span 1: start is "0", not a whole number'),
        spark_errors(),
    ):
        read_spans(spark, str(span)).collect()
    latin = write('{"text": "Ren\xe9"}\n'.encode("latin-1"), name="latin.jsonl")
    with (
        pytest.raises(NerkitError, match=r"latin\.jsonl:1: byte 0xe9 at column 14 is not UTF-8"),
        spark_errors(),
    ):
        read_spans(spark, str(latin)).collect()
    with pytest.raises(NerkitError, match="no such file or folder"):
        read_spans(spark, str(tmp_path / "missing.jsonl"))


# --- what annotate and spark train make of it --------------------------------------------------------------


@pytest.mark.spark
def test_annotate_read_spans_like_tag_tokens(spark, tiny_model, tiny_pipeline, write):
    from nerkit.spark import annotate, read_spans

    path = write(SPANS, name="in.jsonl")
    df = read_spans(spark, str(path)).filter("size(tokens) > 0")
    rows = annotate(df, str(tiny_model), tokens_col="tokens", sorted_by_document=True).collect()
    tokens = [list(row.tokens) for row in rows]
    expected = tiny_pipeline.tag_tokens(tokens, confidence=False)
    assert [list(row["tags"]) for row in rows] == [t.tags for t in expected]
    assert len(rows) == 3


@pytest.mark.spark
@pytest.mark.slow
def test_cli_spark_train_reads_span_json_lines(spark, tmp_path, capfd):
    from nerkit.cli import main
    from nerkit.cli.spark import _split

    train = tmp_path / "train.jsonl"
    train.write_text((SAMPLES / "annotated.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    split = _split(spark, str(train), None)
    assert "line" not in split.columns
    assert capfd.readouterr().err.splitlines()[-1] == (
        f"nerkit: note: {train}: 1 trimmed, 1 token_split, 1 overlap, 1 rejected; "
        f"list them with nerkit stats {train} --input-format jsonl --alignment"
    )
    assert _split(spark, str(train), "conll") == str(train)
    assert _split(spark, None, "jsonl") is None
    argv = ["spark", "train", "--train", str(train), "--dev", str(train), "-o", str(tmp_path / "model")]
    options = [
        "--max-epochs",
        "1",
        "--hidden",
        "8",
        "--char-filters",
        "4",
        "--word-dim",
        "8",
        "--num-processes",
        "1",
    ]
    assert main([*argv, *options, "--master", "local[2]"]) == 0
    assert "finished: best dev F1" in capfd.readouterr().out
    assert (tmp_path / "model" / "model.json").is_file()
    meta = json.loads((tmp_path / "model" / "model.json").read_text(encoding="utf-8"))
    assert {tag.partition("-")[2] for tag in meta["vocab"]["labels"]} - {""} == {"PER", "ORG", "LOC", "MISC"}
