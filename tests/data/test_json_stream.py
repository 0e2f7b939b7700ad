"""Tests for nerkit.data.formats.json_stream: a JSON array read item by item, whatever the chunk size."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from nerkit.data.formats.json_stream import iter_json_array
from nerkit.errors import NerkitError

CHUNKS = (1, 2, 3, 7, 1 << 16)
ITEMS: list[object] = [
    {"id": 1, "data": {"text": 'Zoë 😀 met "Bob"\n'}, "n": [1.5e10, -0.25, 12345678901234567890, True, None]},
    12345,
    -1.5e-3,
    "a string",
    [],
    {},
    False,
    None,
    {"deep": [[[{"x": "y"}]]]},
]


def items(path: Path, chunk: int) -> list[tuple[int, int, object]]:
    return list(iter_json_array(path, "task", chunk=chunk))


def error(path: Path, chunk: int = 1 << 16) -> str:
    with pytest.raises(NerkitError) as raised:
        items(path, chunk)
    return str(raised.value)


@pytest.mark.parametrize("chunk", CHUNKS)
def test_every_item_is_read_whatever_the_chunk_size(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps(ITEMS, ensure_ascii=False, indent=1), encoding="utf-8")
    lines = [
        index + 1
        for index, line in enumerate(path.read_text().splitlines())
        if line[:1] == " " and line[1] not in " ]}"  # an item opens on a line indented once
    ]
    got = items(path, chunk)
    assert [value for _, _, value in got] == ITEMS
    assert [position for position, _, _ in got] == list(range(1, len(ITEMS) + 1))
    assert [line for _, line, _ in got] == lines


@pytest.mark.parametrize("chunk", CHUNKS)
def test_a_compact_array_with_a_byte_order_mark(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(ITEMS, separators=(",", ":")).encode())
    assert [value for _, _, value in items(path, chunk)] == ITEMS


@pytest.mark.parametrize("text", ["[]", "  [ \n ]\n", "\ufeff[]"])
def test_an_empty_array_has_no_items(tmp_path: Path, text: str) -> None:
    path = tmp_path / "a.json"
    path.write_text(text, encoding="utf-8")
    assert items(path, 1) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", ":1: an empty file; give a JSON array"),
        ("\n  \n", ":3: an empty file"),
        ('{"data": {}}', ":1: a single JSON object; give a JSON array of tasks"),
        ("x", ":1: not a JSON array"),
        ('[{"a": 1}\n {"b": 2}]', ":2: task #1: a , or the closing ] should follow it"),
        (
            '[{"a": 1},\n {"b": 2,}]',
            ":2: task #2: not valid JSON (Expecting property name enclosed in double quotes at column 10)",
        ),
        ("[1,\n 2,\n]", ":3: task #3: not valid JSON (Expecting value at column 1)"),
        ('[{"a": "abc}]', ":1: task #1: not valid JSON (Unterminated string starting at column 8)"),
        ("[1, 2", ":1: task #2: the file ends before the array's closing ]"),
        ("[1, 2]\n]", ":2: text after the closing ]"),
        ("[1, NaN]", ":1: task #2: NaN is not a JSON number; write it as a string"),
        ("[[1e999]]", ":1: task #1: the number 1e999 is beyond the range of a double"),
        (
            '[{"a": "\\ud800"}]',
            ":1: task #1: a lone surrogate \\ud800 (half of a UTF-16 pair) is not a character",
        ),
        (
            '[{"a": "\\\\ud800 is text"}, {"b": ["\\uDFFF"]}]',
            ":1: task #2: a lone surrogate \\udfff (half of a UTF-16 pair) is not a character",
        ),
        ("[1, " + "9" * 5000 + "]", ":1: task #2: a number of 5,000 digits, more than nerkit reads (4,300)"),
        ("[" + "[" * 101 + "]" * 101 + "]", ":1: task #1: arrays or objects nested more than 100 deep"),
        (
            "[" + "[]," * 200 + "\n" + "[" * 101 + "]" * 101 + "]",
            ":2: task #201: arrays or objects nested more than 100 deep",
        ),
        ("[" + "[" * 100_000 + "]" * 100_000 + "]", ":1: task #1: nested too deep"),
    ],
)
@pytest.mark.parametrize("chunk", [1, 3, 1 << 16])
def test_malformed_files_are_errors_naming_the_line_and_task(
    tmp_path: Path, text: str, message: str, chunk: int
) -> None:
    path = tmp_path / "a.json"
    path.write_text(text)
    found = error(path, chunk)
    assert found.startswith(f"{path}{message}")
    assert "\n" not in found


@pytest.mark.parametrize("chunk", [1, 4, 1 << 16])
def test_bytes_that_are_not_utf8_are_named_by_offset(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b'[{"text": "caf\xe9"}]')
    assert error(path, chunk) == f"{path}: byte 0xe9 at byte 15 is not UTF-8; re-save the file as UTF-8"
    path.write_bytes(b'["\xc3')
    assert error(path, chunk) == f"{path}: byte 0xc3 at byte 3 is not UTF-8; re-save the file as UTF-8"


def test_a_missing_file_or_a_folder_is_refused(tmp_path: Path) -> None:
    assert error(tmp_path / "none.json") == f"{tmp_path / 'none.json'}: no such file; check the path"
    assert error(tmp_path) == f"{tmp_path}: is a folder, not a file; name a file"


def test_standard_input_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'[{"a": 1}, 2]')))
    assert list(iter_json_array("-", chunk=2)) == [(1, 1, {"a": 1}), (2, 1, 2)]


def test_a_long_item_is_read_in_growing_chunks(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    long = {"text": "word " * 200_000}
    path.write_text(json.dumps([long, long]))
    assert [value for _, _, value in items(path, 64)] == [long, long]
