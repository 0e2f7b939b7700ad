"""Tests for nerkit.predict.predict_file: text, jsonl and conll in; jsonl, conll and html out; exact
errors naming the line; atomic output files; the summary's counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nerkit.data.tags import convert_tags, tags_to_spans
from nerkit.errors import NerkitError
from nerkit.predict import predict_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
JSONL_HINT = 'each line must be a JSON object with a "text" string, e.g. {"text": "Paris is big."}'


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def entry_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- text in --------------------------------------------------------------------------------------


def test_text_gives_one_json_line_per_input_line(tiny_pipeline, write, tmp_path):
    raw = (SAMPLES / "raw.txt").read_text(encoding="utf-8").splitlines()
    lines = [raw[0], "", raw[1], "   ", "", raw[2]]
    source = write("\n".join(lines) + "\n", name="in.txt")
    output = tmp_path / "out.jsonl"
    summary = predict_file(tiny_pipeline, source, output)
    rows = read_jsonl(output)
    assert output.read_text(encoding="utf-8").count("\n") == len(rows) == 6
    assert [row["text"] for row in rows] == lines
    assert rows[1] == rows[4] == {"text": "", "entities": []}
    assert rows[3] == {"text": "   ", "entities": []}
    for row in rows:
        assert list(row) == ["text", "entities"]
        assert row["entities"] == [e.to_json() for e in tiny_pipeline.predict(row["text"]).entities]
        for entity in row["entities"]:
            assert row["text"][entity["start"] : entity["end"]] == entity["text"]
    assert sum(len(row["entities"]) for row in rows) == summary.entities > 0
    assert entry_names(tmp_path) == ["in.txt", "out.jsonl"]


def test_text_with_crlf_and_no_final_newline(tiny_pipeline, write, tmp_path):
    source = write(b"Ada Voss ran.\r\n\r\nShe left", name="in.txt")
    predict_file(tiny_pipeline, source, tmp_path / "out.jsonl")
    assert [row["text"] for row in read_jsonl(tmp_path / "out.jsonl")] == ["Ada Voss ran.", "", "She left"]


def test_summary_counts_text(tiny_pipeline, write, tmp_path):
    source = write("Ada Voss ran. She left.\n\nParis.\n", name="in.txt")
    summary = predict_file(tiny_pipeline, source, tmp_path / "out.jsonl")
    rows = read_jsonl(tmp_path / "out.jsonl")
    # Ada Voss ran . | She left . || (nothing) || Paris .
    assert (summary.documents, summary.sentences, summary.tokens) == (3, 3, 9)
    assert summary.entities == sum(len(row["entities"]) for row in rows)
    assert summary.seconds > 0
    assert summary.tokens_per_second == summary.tokens / summary.seconds


def test_standard_output(tiny_pipeline, write, capsys):
    source = write("Ada Voss ran.\n\n", name="in.txt")
    predict_file(tiny_pipeline, source, None)
    first = capsys.readouterr().out
    predict_file(tiny_pipeline, source, "-")
    assert capsys.readouterr().out == first
    assert [json.loads(line)["text"] for line in first.splitlines()] == ["Ada Voss ran.", ""]


# --- jsonl in -------------------------------------------------------------------------------------


def test_jsonl_keeps_extra_fields(tiny_pipeline, write, tmp_path):
    rows = [
        {"id": 7, "text": "Ada Voss visited Halvery.", "meta": {"source": "wire"}},
        {"text": "", "id": "b"},
        {"text": "Paris.", "entities": ["stale"], "lang": "en"},
    ]
    source = write("".join(json.dumps(row) + "\n" for row in rows) + "\n  \n", name="in.jsonl")
    summary = predict_file(tiny_pipeline, source, tmp_path / "out.jsonl", input_format="jsonl")
    out = read_jsonl(tmp_path / "out.jsonl")
    assert len(out) == 3  # blank lines are skipped
    assert [list(row) for row in out] == [
        ["text", "id", "meta", "entities"],
        ["text", "id", "entities"],
        ["text", "lang", "entities"],
    ]
    assert [(row.get("id"), row.get("meta"), row.get("lang")) for row in out] == [
        (7, {"source": "wire"}, None),
        ("b", None, None),
        (None, None, "en"),
    ]
    for row in out:
        assert row["entities"] == [e.to_json() for e in tiny_pipeline.predict(row["text"]).entities]
    assert out[1]["entities"] == []
    assert (summary.documents, summary.sentences) == (3, 2)


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        ("{not json", "not valid JSON (Expecting property name enclosed in double quotes)"),
        ('{"text": "a"', "not valid JSON (Expecting ',' delimiter)"),
        ("hello", "not valid JSON (Expecting value)"),
        ('["text", "a"]', 'not an object with a "text" string'),
        ('"text"', 'not an object with a "text" string'),
        ('{"id": 1}', 'not an object with a "text" string'),
        ('{"text": 5}', 'not an object with a "text" string'),
        ('{"text": null}', 'not an object with a "text" string'),
        ('{"text": ["a"]}', 'not an object with a "text" string'),
    ],
)
def test_jsonl_bad_line(tiny_pipeline, write, tmp_path, bad, what):
    source = write(f'{{"text": "Ada ran."}}\n\n{bad}\n{{"text": "b"}}\n', name="in.jsonl")
    output = tmp_path / "out.jsonl"
    with pytest.raises(NerkitError) as caught:
        predict_file(tiny_pipeline, source, output, input_format="jsonl")
    assert str(caught.value) == f"{source}:3: {what}; {JSONL_HINT}"
    assert (caught.value.path, caught.value.line) == (str(source), 3)
    assert entry_names(tmp_path) == ["in.jsonl"]


# --- conll in -------------------------------------------------------------------------------------


def test_conll_to_conll_adds_one_last_column(tiny_pipeline, tmp_path):
    output = tmp_path / "out.conll"
    summary = predict_file(tiny_pipeline, SAMPLES / "test.conll", output, "conll", "conll")
    source = (SAMPLES / "test.conll").read_text(encoding="utf-8").split("\n")
    result = output.read_text(encoding="utf-8").split("\n")
    assert len(result) == len(source)
    docstarts = 0
    for given, written in zip(source, result, strict=True):
        if not given or given.startswith("-DOCSTART-"):
            assert written == given
            docstarts += given.startswith("-DOCSTART-")
        else:
            kept, _, tag = written.rpartition(" ")
            assert kept == given
            assert tag == "O" or tag[:2] in ("B-", "I-")
    assert docstarts == 14 == sum(line == "-DOCSTART- O" for line in result)
    assert (summary.documents, summary.sentences, summary.tokens) == (120, 120, 1559)


def test_conll_output_tags_match_tag_tokens(tiny_pipeline, write, tmp_path):
    source = write(
        "-DOCSTART-\tO\n\nAda\tB-PER\nVoss\tI-PER\nran\tO\n\nParis\tB-LOC\n.\tO\n\n", name="in.conll"
    )
    predict_file(tiny_pipeline, source, tmp_path / "out.conll", "conll", "conll")
    first, second = (
        t.tags for t in tiny_pipeline.tag_tokens([["Ada", "Voss", "ran"], ["Paris", "."]], confidence=False)
    )
    expected = (
        "-DOCSTART-\tO\n\n"
        f"Ada\tB-PER\t{first[0]}\nVoss\tI-PER\t{first[1]}\nran\tO\t{first[2]}\n\n"
        f"Paris\tB-LOC\t{second[0]}\n.\tO\t{second[1]}\n\n"
    )
    assert (tmp_path / "out.conll").read_text(encoding="utf-8") == expected


def test_conll_of_bare_tokens(tiny_pipeline, write, tmp_path):
    source = write("Ada\nran\n\nBob\n", name="in.conll")
    summary = predict_file(tiny_pipeline, source, tmp_path / "out.conll", "conll", "conll")
    lines = (tmp_path / "out.conll").read_text(encoding="utf-8").split("\n")
    assert [line.split(" ")[0] for line in lines] == ["Ada", "ran", "", "Bob", "", ""]
    assert all(len(line.split(" ")) == 2 for line in lines if line)
    assert (summary.documents, summary.sentences, summary.tokens) == (2, 2, 3)


def test_conll_keeps_a_final_docstart(tiny_pipeline, write, tmp_path):
    source = write("Ada O\n\n-DOCSTART- O\n\n", name="in.conll")
    predict_file(tiny_pipeline, source, tmp_path / "out.conll", "conll", "conll")
    assert (tmp_path / "out.conll").read_text(encoding="utf-8").endswith("\n-DOCSTART- O\n\n")


def test_conll_to_jsonl_rows(tiny_pipeline, tmp_path):
    output = tmp_path / "out.jsonl"
    summary = predict_file(tiny_pipeline, SAMPLES / "test.conll", output, "conll", "jsonl")
    rows = read_jsonl(output)
    assert len(rows) == summary.documents == 120
    entities = 0
    for row in rows:
        assert list(row) == ["text", "tokens", "tags", "entities"]
        assert row["text"] == " ".join(row["tokens"]) + "\n"
        assert len(row["tags"]) == len(row["tokens"])
        assert convert_tags(row["tags"], "IOB2") == row["tags"]
        spans = tags_to_spans(row["tags"])
        assert [(e["label"], e["text"]) for e in row["entities"]] == [
            (s.label, " ".join(row["tokens"][s.start : s.end])) for s in spans
        ]
        for entity in row["entities"]:
            assert row["text"][entity["start"] : entity["end"]] == entity["text"]
            assert 0 <= entity["confidence"] <= 1
        entities += len(spans)
    assert entities == summary.entities > 0
    assert summary.tokens == sum(len(row["tokens"]) for row in rows) == 1559


# --- html out -------------------------------------------------------------------------------------


def test_html_is_one_escaped_page(tiny_pipeline, write, tmp_path):
    source = write('Ada Voss said <script>alert("x")</script> in Paris.\n\nKelderwick & Co.\n', name="in.txt")
    output = tmp_path / "out.html"
    summary = predict_file(tiny_pipeline, source, output, output_format="html")
    page = output.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>\n") and page.endswith("</html>\n")
    assert page.count("<!doctype html>") == page.count("<html") == page.count("</html>") == 1
    assert "&lt;script&gt;" in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<script" not in page and "</script" not in page
    assert "&amp; Co." in page and " & " not in page
    assert page.count('<div class="doc">') == summary.documents == 3


# --- output files and errors ----------------------------------------------------------------------


def test_output_is_atomic_when_input_fails_midway(tiny_pipeline, tmp_path):
    source = tmp_path / "in.jsonl"
    good = "".join(
        json.dumps({"text": "Ada Voss met Kelderwick Rovers .", "id": i}) + "\n" for i in range(5000)
    )
    source.write_text(good + "oops\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    with pytest.raises(NerkitError) as caught:
        predict_file(tiny_pipeline, source, output, input_format="jsonl")
    assert str(caught.value) == f"{source}:5001: not valid JSON (Expecting value); {JSONL_HINT}"
    assert not output.exists()
    assert entry_names(tmp_path) == ["in.jsonl"]


def test_failed_run_leaves_an_existing_output_alone(tiny_pipeline, write, tmp_path):
    source = write('{"text": "Ada ran."}\n[]\n', name="in.jsonl")
    output = write("old\n", name="out.jsonl")
    with pytest.raises(NerkitError):
        predict_file(tiny_pipeline, source, output, input_format="jsonl", output_format="html")
    assert output.read_text(encoding="utf-8") == "old\n"
    assert entry_names(tmp_path) == ["in.jsonl", "out.jsonl"]


@pytest.mark.parametrize(
    ("formats", "message"),
    [
        (
            ("xml", "jsonl"),
            "unknown input format 'xml'; use one of text, conll, jsonl, labelstudio, brat, hf",
        ),
        (("text", "pdf"), "unknown output format 'pdf'; use one of jsonl, conll, html, labelstudio, brat"),
        (
            ("JSONL", "jsonl"),
            "unknown input format 'JSONL'; use one of text, conll, jsonl, labelstudio, brat, hf",
        ),
    ],
)
def test_unknown_formats(tiny_pipeline, write, tmp_path, formats, message):
    source = write("Ada ran.\n", name="in.txt")
    with pytest.raises(NerkitError) as caught:
        predict_file(tiny_pipeline, source, tmp_path / "out", *formats)
    assert str(caught.value) == message
    assert entry_names(tmp_path) == ["in.txt"]


def test_missing_input_and_unwritable_output(tiny_pipeline, write, tmp_path):
    missing = tmp_path / "missing.txt"
    with pytest.raises(NerkitError) as caught:
        predict_file(tiny_pipeline, missing, tmp_path / "out.jsonl")
    assert str(caught.value) == f"{missing}: no such file; check the path"
    assert entry_names(tmp_path) == []
    source = write("Ada ran.\n", name="in.txt")
    target = tmp_path / "no" / "out.jsonl"
    with pytest.raises(NerkitError) as caught:
        predict_file(tiny_pipeline, source, target)
    assert (
        str(caught.value)
        == f"{target}: cannot write here: its folder does not exist; create the folder first"
    )


def test_chunks_tagged_beside_reading_keep_order_and_counts(tiny_pipeline, tmp_path, monkeypatch):
    import nerkit.predict

    source = tmp_path / "in.conll"
    source.write_text((SAMPLES / "dev.conll").read_text(encoding="utf-8"), encoding="utf-8")
    whole = predict_file(tiny_pipeline, source, tmp_path / "whole.conll", "conll", "conll")
    monkeypatch.setattr(nerkit.predict, "CHUNK", 7)  # many chunks, each tagged in the worker thread
    chunked = predict_file(tiny_pipeline, source, tmp_path / "chunked.conll", "conll", "conll")
    assert (tmp_path / "chunked.conll").read_text(encoding="utf-8") == (tmp_path / "whole.conll").read_text(
        encoding="utf-8"
    )
    assert (chunked.sentences, chunked.tokens, chunked.entities) == (
        whole.sentences,
        whole.tokens,
        whole.entities,
    )


def test_an_error_while_tagging_a_chunk_is_raised_once(tiny_pipeline, tmp_path, monkeypatch):
    import nerkit.predict

    calls = []

    def failing(pipeline, chunk, *rest):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise NerkitError("the second chunk failed")

    monkeypatch.setattr(nerkit.predict, "CHUNK", 3)
    monkeypatch.setattr(nerkit.predict, "_tag_chunk", failing)
    source = tmp_path / "in.txt"
    source.write_text("Ada ran .\n" * 20, encoding="utf-8")
    with pytest.raises(NerkitError, match="the second chunk failed"):
        predict_file(tiny_pipeline, source, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()
    assert len(calls) <= 3  # no chunk is tagged after the failure is seen
