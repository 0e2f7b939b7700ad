"""Tests for the confidence threshold (min_confidence): entities at, just above and just below it in the
pipeline, every output format of predict_file, `nerkit predict --min-confidence`, and bad values."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from nerkit.cli import main
from nerkit.data.conll import read_conll
from nerkit.data.formats import ReadOptions, read_annotations
from nerkit.data.tags import tags_to_spans
from nerkit.errors import NerkitError
from nerkit.pipeline import TaggedTokens, check_min_confidence, confident_tags, drop_unconfident
from nerkit.predict import predict_file
from nerkit.render import render_html
from nerkit.text.document import Document, Entity

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
RAW = (SAMPLES / "raw.txt").read_text(encoding="utf-8").splitlines()
TEXT = RAW[1]  # three entities of three different confidences for the tiny model
HINT = "entities whose confidence is below it are dropped; 0 keeps them all"
BAD_VALUES = [math.nan, math.inf, -0.1, 1.5, -1, 2, True, False, "0.5", None, [0.5]]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def spans(entities) -> list[tuple[int, int, str, float | None]]:
    return [(e.start, e.end, e.label, e.confidence) for e in entities]


@pytest.fixture(scope="module")
def middle(tiny_pipeline) -> float:
    """The confidence of TEXT's middle entity (by confidence): a threshold that keeps some and drops some."""
    confidences = sorted(e.confidence for e in tiny_pipeline.predict(TEXT).entities)
    assert len(confidences) == len(set(confidences)) == 3
    return confidences[1]


@pytest.fixture(scope="module")
def raw_threshold(tiny_pipeline) -> float:
    """The median confidence of the entities of samples/raw.txt."""
    confidences = sorted(e.confidence for d in tiny_pipeline.predict_many(RAW) for e in d.entities)
    return confidences[len(confidences) // 2]


# --- the rule -------------------------------------------------------------------------------------


def test_an_entity_at_the_threshold_is_kept_and_just_above_it_dropped(tiny_pipeline, middle):
    low, mid, high = sorted(tiny_pipeline.predict(TEXT).entities, key=lambda e: e.confidence)
    assert spans(tiny_pipeline.predict(TEXT, min_confidence=middle).entities) == spans(
        sorted([mid, high], key=lambda e: e.start)
    )
    assert spans(tiny_pipeline.predict(TEXT, min_confidence=middle - 0.0001).entities) == spans(
        sorted([mid, high], key=lambda e: e.start)
    )
    assert spans(tiny_pipeline.predict(TEXT, min_confidence=middle + 0.0001).entities) == spans([high])
    assert spans(tiny_pipeline.predict(TEXT, min_confidence=low.confidence).entities) == spans(
        tiny_pipeline.predict(TEXT).entities
    )
    assert tiny_pipeline.predict(TEXT, min_confidence=high.confidence + 0.0001).entities == []


def test_zero_keeps_everything_and_one_keeps_only_certain_entities(tiny_pipeline):
    everything = tiny_pipeline.predict_many(RAW)
    assert tiny_pipeline.predict_many(RAW, min_confidence=0) == everything
    assert tiny_pipeline.predict_many(RAW, min_confidence=0.0) == everything
    certain = [[e for e in d.entities if e.confidence == 1.0] for d in everything]
    assert (
        [d.entities for d in tiny_pipeline.predict_many(RAW, min_confidence=1)] == certain == [[]] * len(RAW)
    )


def test_every_pipeline_method_drops_the_same_entities(tiny_pipeline, middle):
    from nerkit.text.document import parse_text

    expected = [e for e in tiny_pipeline.predict(TEXT).entities if e.confidence >= middle]
    assert len(expected) == 2
    assert tiny_pipeline.predict(TEXT, middle).entities == expected
    assert tiny_pipeline.predict_many([TEXT, ""], 4, middle)[0].entities == expected
    assert tiny_pipeline.tag_documents([parse_text(TEXT)], min_confidence=middle)[0].entities == expected
    document = parse_text(TEXT)
    tiny_pipeline.tag_document_sentences([document], [0], confidence=False, min_confidence=middle)
    assert spans(document.entities) == [(e.start, e.end, e.label, None) for e in expected]
    assert drop_unconfident(tiny_pipeline.predict(TEXT), middle).entities == expected


def test_tag_tokens_tags_dropped_entities_o_and_computes_confidence_when_not_asked(tiny_pipeline, middle):
    sentences = [[t.text for t in s.tokens] for s in tiny_pipeline.predict(TEXT).sentences]
    full = tiny_pipeline.tag_tokens(sentences)
    without = tiny_pipeline.tag_tokens(sentences, confidence=False, min_confidence=middle)
    with_confidence = tiny_pipeline.tag_tokens(sentences, min_confidence=middle)
    assert [t.confidences for t in without] == [[]] * len(sentences)
    assert [t.confidences for t in with_confidence] == [t.confidences for t in full]
    assert [t.tags for t in without] == [t.tags for t in with_confidence]
    for tagged, kept in zip(full, without, strict=True):
        confident = [
            s
            for s in tags_to_spans(tagged.tags)
            if round(min(tagged.confidences[s.start : s.end]), 4) >= middle
        ]
        assert tags_to_spans(kept.tags) == confident
        assert [tag for tag in kept.tags if tag != "O"] == [
            tag for n, tag in enumerate(tagged.tags) if any(s.start <= n < s.end for s in confident)
        ]
    assert sum(len(tags_to_spans(t.tags)) for t in without) == 2


@pytest.mark.parametrize(
    ("scheme", "tags", "expected"),
    [
        ("IOB2", ["B-PER", "I-PER", "B-PER", "O", "B-LOC"], ["O", "O", "B-PER", "O", "B-LOC"]),
        # IOB1: the kept entity no longer touches one of its type, so it opens with I-
        ("IOB1", ["I-PER", "I-PER", "B-PER", "O", "I-LOC"], ["O", "O", "I-PER", "O", "I-LOC"]),
        ("BIOES", ["B-PER", "E-PER", "S-PER", "O", "S-LOC"], ["O", "O", "S-PER", "O", "S-LOC"]),
    ],
)
def test_confident_tags_keep_the_scheme(scheme, tags, expected):
    tagged = TaggedTokens(tags, [0.9, 0.59994, 0.6, 1.0, 0.59996])  # 0.59996 is 0.6 to 4 places: kept
    assert confident_tags(tagged, 0.6, scheme) == expected
    assert confident_tags(tagged, 0.0, scheme) == tags
    assert confident_tags(tagged, 0.60001, scheme) == ["O"] * 5


def test_drop_unconfident_keeps_the_document_at_zero_and_drops_unknown_confidence():
    entities = [Entity(0, 1, "PER", "a", 0.5), Entity(2, 3, "LOC", "b", None), Entity(4, 5, "ORG", "c", 0.49)]
    document = Document("a b c", [], entities)
    assert drop_unconfident(document, 0.0) is document
    assert drop_unconfident(document, 0.5) == Document("a b c", [], [entities[0]])
    assert document.entities == entities


@pytest.mark.parametrize("value", BAD_VALUES)
def test_bad_thresholds_are_one_nerkit_error(tiny_pipeline, tmp_path, value):
    message = f"min_confidence={value!r} is not a number from 0 to 1; {HINT}"
    source = tmp_path / "in.txt"
    source.write_text("Ada Voss ran.\n", encoding="utf-8")
    calls = [
        lambda: check_min_confidence(value),
        lambda: tiny_pipeline.predict("Ada Voss ran.", value),
        lambda: tiny_pipeline.predict_many(["Ada Voss ran."], min_confidence=value),
        lambda: tiny_pipeline.tag_tokens([["Ada"]], min_confidence=value),
        lambda: predict_file(tiny_pipeline, source, tmp_path / "out.jsonl", min_confidence=value),
    ]
    for call in calls:
        with pytest.raises(NerkitError) as caught:
            call()
        assert str(caught.value) == message
    assert not (tmp_path / "out.jsonl").exists()


def test_good_thresholds_are_floats():
    assert [check_min_confidence(v) for v in (0, 1, 0.25, 1.0, -0.0)] == [0.0, 1.0, 0.25, 1.0, 0.0]
    assert all(type(check_min_confidence(v)) is float for v in (0, 1))


# --- every output format of predict_file ------------------------------------------------------------


@pytest.fixture
def raw_file(write) -> Path:
    return write("".join(line + "\n" for line in RAW), name="raw.txt")


def test_jsonl_output_and_the_summary_count_only_the_kept_entities(
    tiny_pipeline, raw_file, raw_threshold, tmp_path
):
    everything = predict_file(tiny_pipeline, raw_file, tmp_path / "all.jsonl")
    summary = predict_file(tiny_pipeline, raw_file, tmp_path / "kept.jsonl", min_confidence=raw_threshold)
    rows = read_jsonl(tmp_path / "all.jsonl")
    expected = [
        {**row, "entities": [e for e in row["entities"] if e["confidence"] >= raw_threshold]} for row in rows
    ]
    assert read_jsonl(tmp_path / "kept.jsonl") == expected
    kept = sum(len(row["entities"]) for row in expected)
    assert summary.entities == kept
    assert 0 < kept < everything.entities
    assert (summary.documents, summary.tokens) == (everything.documents, everything.tokens)


def test_zero_writes_the_same_bytes_in_every_format(tiny_pipeline, raw_file, tmp_path):
    for output_format in ("jsonl", "conll", "html", "labelstudio", "brat"):
        first, second = tmp_path / f"a.{output_format}", tmp_path / f"b.{output_format}"
        predict_file(tiny_pipeline, raw_file, first, output_format=output_format)
        predict_file(tiny_pipeline, raw_file, second, output_format=output_format, min_confidence=0.0)
        if output_format == "brat":
            names = sorted(p.name for p in first.iterdir())
            assert names == sorted(p.name for p in second.iterdir())
            assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)
        else:
            assert first.read_bytes() == second.read_bytes()


def test_html_output_shows_only_the_kept_entities(tiny_pipeline, raw_file, raw_threshold, tmp_path):
    summary = predict_file(
        tiny_pipeline, raw_file, tmp_path / "out.html", output_format="html", min_confidence=raw_threshold
    )
    documents = [drop_unconfident(d, raw_threshold) for d in tiny_pipeline.predict_many(RAW)]
    assert (tmp_path / "out.html").read_text(encoding="utf-8") == render_html(documents)
    assert summary.entities == sum(len(d.entities) for d in documents) > 0


def test_conll_output_tags_dropped_entities_o(tiny_pipeline, write, middle, tmp_path):
    tokens = [[t.text for t in s.tokens] for s in tiny_pipeline.predict(TEXT).sentences]
    source = write("".join("".join(f"{t}\tX\n" for t in sentence) + "\n" for sentence in tokens), "in.conll")
    summary = predict_file(
        tiny_pipeline, source, tmp_path / "out.conll", "conll", "conll", min_confidence=middle
    )
    expected = tiny_pipeline.tag_tokens(tokens, confidence=False, min_confidence=middle)
    assert (tmp_path / "out.conll").read_text(encoding="utf-8") == "".join(
        "".join(f"{t}\tX\t{tag}\n" for t, tag in zip(sentence, tagged.tags, strict=True)) + "\n"
        for sentence, tagged in zip(tokens, expected, strict=True)
    )
    assert summary.entities == sum(len(tags_to_spans(t.tags)) for t in expected) == 2
    assert sum(len(tags_to_spans(t.tags)) for t in tiny_pipeline.tag_tokens(tokens)) == 3


def test_conll_input_to_jsonl_drops_entities_and_their_tags(tiny_pipeline, write, middle, tmp_path):
    tokens = [[t.text for t in s.tokens] for s in tiny_pipeline.predict(TEXT).sentences]
    source = write("".join("".join(f"{t} X\n" for t in sentence) + "\n" for sentence in tokens), "in.conll")
    predict_file(tiny_pipeline, source, tmp_path / "out.jsonl", "conll", "jsonl", min_confidence=middle)
    rows = read_jsonl(tmp_path / "out.jsonl")
    expected = tiny_pipeline.tag_tokens(tokens, min_confidence=middle)
    assert [row["tags"] for row in rows] == [t.tags for t in expected]
    assert [[e["confidence"] for e in row["entities"]] for row in rows] == [
        [round(min(t.confidences[s.start : s.end]), 4) for s in tags_to_spans(t.tags)] for t in expected
    ]
    assert all(e["confidence"] >= middle for row in rows for e in row["entities"])


def test_text_to_conll_output_tags_dropped_entities_o(tiny_pipeline, write, middle, tmp_path):
    source = write(TEXT + "\n", name="in.txt")
    predict_file(tiny_pipeline, source, tmp_path / "out.conll", output_format="conll", min_confidence=middle)
    document = tiny_pipeline.predict(TEXT, middle)
    tagged = tiny_pipeline.tag_tokens(
        [[t.text for t in s.tokens] for s in document.sentences], min_confidence=middle
    )
    lines = ["-DOCSTART- O\n\n"]
    for sentence, result in zip(document.sentences, tagged, strict=True):
        lines += [f"{t.text} {tag}\n" for t, tag in zip(sentence.tokens, result.tags, strict=True)] + ["\n"]
    assert (tmp_path / "out.conll").read_text(encoding="utf-8") == "".join(lines)
    assert sum(line.count(" B-") for line in lines) == 2


def test_labelstudio_output_has_only_the_kept_regions(tiny_pipeline, raw_file, raw_threshold, tmp_path):
    output = tmp_path / "tasks.json"
    summary = predict_file(
        tiny_pipeline, raw_file, output, output_format="labelstudio", min_confidence=raw_threshold
    )
    tasks = json.loads(output.read_text(encoding="utf-8"))
    expected = [drop_unconfident(d, raw_threshold).entities for d in tiny_pipeline.predict_many(RAW)]
    found = [
        [
            (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0], r["score"])
            for r in task["predictions"][0]["result"]
        ]
        for task in tasks
    ]
    assert found == [spans(entities) for entities in expected]
    assert summary.entities == sum(map(len, expected)) > 0


def test_brat_output_has_only_the_kept_entities(tiny_pipeline, raw_file, raw_threshold, tmp_path):
    summary = predict_file(
        tiny_pipeline, raw_file, tmp_path / "out", output_format="brat", min_confidence=raw_threshold
    )
    found = [{(a.start, a.end, a.label) for a in d.annotations} for d in read_annotations(tmp_path / "out")]
    expected = [
        {(e.start, e.end, e.label) for e in d.entities if e.confidence >= raw_threshold}
        for d in tiny_pipeline.predict_many(RAW)
    ]
    assert found == expected
    assert summary.entities == sum(map(len, expected)) > 0
    scores = [
        float(line.rpartition(" ")[2])
        for path in sorted((tmp_path / "out").glob("*.ann"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    ]
    assert len(scores) == summary.entities and min(scores) >= raw_threshold


def test_labelstudio_input_gets_only_the_kept_predictions(tiny_pipeline, write, middle, tmp_path):
    source = write(json.dumps([{"id": 7, "data": {"text": TEXT}}]), name="tasks.json")
    predict_file(tiny_pipeline, source, tmp_path / "out.json", None, "labelstudio", min_confidence=middle)
    back = list(read_annotations(tmp_path / "out.json", "labelstudio", ReadOptions(annotation="predictions")))
    assert [(a.start, a.end, a.label) for a in back[0].annotations] == [
        (e.start, e.end, e.label) for e in tiny_pipeline.predict(TEXT, middle).entities
    ]


# --- the command ----------------------------------------------------------------------------------


def test_cli_min_confidence_filters_and_the_summary_counts_what_was_written(
    capsys, tiny_model, raw_file, raw_threshold, tmp_path
):
    output = tmp_path / "out.jsonl"
    argv = ["predict", str(tiny_model), str(raw_file), "-o", str(output), "--threads", "1"]
    assert main([*argv, "--min-confidence", repr(raw_threshold)]) == 0
    kept = sum(len(row["entities"]) for row in read_jsonl(output))
    assert all(e["confidence"] >= raw_threshold for row in read_jsonl(output) for e in row["entities"])
    err = capsys.readouterr().err
    assert f", {kept:,} entities in " in err and err.count("\n") == 1
    assert main(argv) == 0
    everything = sum(len(row["entities"]) for row in read_jsonl(output))
    assert f", {everything:,} entities in " in capsys.readouterr().err
    assert 0 < kept < everything


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "'abc' is not a number; give one from 0 to 1"),
        ("", "'' is not a number; give one from 0 to 1"),
        ("nan", "nan is not a number from 0 to 1"),
        ("-0.1", "-0.1 is not a number from 0 to 1"),
        ("1.5", "1.5 is not a number from 0 to 1"),
        ("inf", "inf is not a number from 0 to 1"),
    ],
)
@pytest.mark.parametrize("command", ["predict", "serve"])
def test_cli_bad_min_confidence_is_one_line_exit_2(capsys, command, value, message):
    argv = [command, "model", "file"] if command == "predict" else [command, "model"]
    with pytest.raises(SystemExit) as caught:
        main([*argv, f"--min-confidence={value}"])
    assert caught.value.code == 2
    assert capsys.readouterr().err == (
        f"nerkit {command}: error: argument --min-confidence: {message}; see nerkit {command} --help\n"
    )


@pytest.mark.parametrize("command", ["predict", "serve"])
def test_help_describes_min_confidence(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--min-confidence FRACTION leave out every entity whose confidence" in help_text
    assert "(default 0: keep all; `nerkit report` finds the thresholds worth using)" in help_text


def test_cli_reads_conll_with_the_threshold(capsys, tiny_model, tmp_path):
    output = tmp_path / "out.conll"
    argv = ["predict", str(tiny_model), str(SAMPLES / "test.conll"), "--format", "conll", "-o", str(output)]
    assert main([*argv, "--threads", "1", "--min-confidence", "1"]) == 0
    tags = [
        line.rpartition(" ")[2]
        for line in output.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("-DOCSTART-")
    ]
    assert set(tags) == {"O"}
    assert len(tags) == sum(len(s.tokens) for s in read_conll(SAMPLES / "test.conll"))
    assert ", 0 entities in " in capsys.readouterr().err
