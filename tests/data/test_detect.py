"""Tests for nerkit.data.formats.detect: a file's format from its extension and its first bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from nerkit.data.formats.detect import detect_format, format_from_name, require_format
from nerkit.errors import NerkitError


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("train.conll", "EU B-ORG\n", "conll"),
        ("train.txt", "EU B-ORG\n", "conll"),
        ("brackets.conll", "[ O\n{ O\n", "conll"),
        ("brackets.IOB", "[ O\n", "conll"),
        ("noext", "EU B-ORG\n", "conll"),
        ("export.json", "[]", "labelstudio"),
        ("export.json", "", "labelstudio"),
        ("export.json", "not json", "labelstudio"),
        ("rows.json", '{"tokens": ["a"], "ner_tags": ["B-PER"]}\n', "hf"),
        ("spans.json", '\ufeff {"text": "a", "entities": []}\n', "jsonl"),
        ("one.json", '{"data": {"text": "a"}}', "jsonl"),
        ("tokens.jsonl", '{"tokens": ["Angela", "Merkel"]}\n', "hf"),
        ("tokens.txt", '{"tokens": ["Angela"], "id": 3}\n', "hf"),
        ("nerkit.jsonl", '{"text": "a b", "tokens": ["a", "b"]}\n', "jsonl"),
        ("array.jsonl", '[{"data": {"text": "a"}}]', "labelstudio"),
        ("export.JSON", "[]", "labelstudio"),
        ("export.txt", '\n  [{"data": {"text": "a"}}]', "labelstudio"),
        ("spans.jsonl", '{"text": "a", "spans": []}\n', "jsonl"),
        ("spans.ndjson", '{"text": "a"}\n', "jsonl"),
        ("spans.txt", '{"text": "a"}\n', "jsonl"),
        ("broken.jsonl", "{not json\n", "jsonl"),
        ("hf.jsonl", '\n{"tokens": ["a"], "ner_tags": [0]}\n{"tokens"', "hf"),
        ("hf.jsonl", '{"tokens": ["a"], "ner_tags": [0]}', "hf"),
        ("data.parquet", "PAR1", "hf"),
        ("doc.ann", "T1\tX 0 1\ta\n", "brat"),
        ("empty.jsonl", "", "jsonl"),
    ],
)
def test_formats_told_apart(tmp_path: Path, name: str, content: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    assert detect_format(path) == expected


def test_a_folder_is_brat_and_standard_input_conll(tmp_path: Path) -> None:
    assert detect_format(tmp_path) == "brat"
    assert detect_format("-") == "conll"
    assert detect_format(tmp_path / "missing.conll") == "conll"  # its reader says it is missing


def test_a_byte_order_mark_does_not_hide_the_content(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_bytes(b"\xef\xbb\xbf[]")
    assert detect_format(path) == "labelstudio"


def test_a_folder_given_as_a_file_format_is_refused(tmp_path: Path) -> None:
    assert require_format(tmp_path, None) == "brat"
    assert require_format(tmp_path / "a.conll", "jsonl") == "jsonl"
    with pytest.raises(NerkitError, match="a folder, not a conll file; give a file, or --input-format brat"):
        require_format(tmp_path, "conll")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.parquet", "hf"),
        ("a.PARQUET", "hf"),
        ("doc.ann", "brat"),
        ("out/", "brat"),
        ("export.json", "labelstudio"),
        ("spans.jsonl", "jsonl"),
        ("spans.ndjson", "jsonl"),
        ("train.conll", "conll"),
        ("train.conllu", "conll"),
        ("train.iob", "conll"),
        ("train.iob1", "conll"),
        ("train.iob2", "conll"),
        ("train.bio", "conll"),
        ("train.bioes", "conll"),
        ("train.iobes", "conll"),
        ("train.txt", None),
        ("train", None),
        ("-", None),
        ("archive.tar.gz", None),
    ],
)
def test_the_format_a_name_alone_says(tmp_path: Path, name: str, expected: str | None) -> None:
    assert format_from_name(name) == expected
    assert format_from_name(f"{tmp_path}/missing/{name}") == expected


def test_a_folder_is_brat_whatever_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "data.json"
    folder.mkdir()
    assert format_from_name(folder) == "brat"
    assert format_from_name(str(folder)) == "brat"
    assert detect_format(folder) == "brat"
