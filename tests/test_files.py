"""Tests for nerkit.files: the atomic writers (whole old or whole new
file, modes kept, temporary files removed, folders published once)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from nerkit.errors import NerkitError
from nerkit.files import (
    check_output,
    publish_folder,
    replace_file,
    replace_folder,
    within,
    write_json_atomic,
    write_text_atomic,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_text_atomic_replaces_whole_and_keeps_the_mode(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    write_text_atomic(target, ["new ", "text\n"])
    assert target.read_text(encoding="utf-8") == "new text\n"
    assert _mode(target) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_a_new_file_gets_the_umask_mode(tmp_path):
    previous = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "new.txt", ["x"])
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "new.txt") == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old\n", encoding="utf-8")

    def parts():
        yield "half"
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_text_atomic(target, parts())
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_replace_file_and_json(tmp_path):
    replace_file(tmp_path / "data.bin", lambda path: path.write_bytes(b"\x00\x01"))
    assert (tmp_path / "data.bin").read_bytes() == b"\x00\x01"
    write_json_atomic(tmp_path / "data.json", {"é": [1, 2]})
    assert (tmp_path / "data.json").read_text(encoding="utf-8") == '{\n  "é": [\n    1,\n    2\n  ]\n}\n'
    assert json.loads((tmp_path / "data.json").read_text(encoding="utf-8")) == {"é": [1, 2]}


def test_writing_into_a_missing_folder_is_one_line(tmp_path):
    with pytest.raises(
        NerkitError,
        match=r"missing/out.txt: cannot write here: its folder does not exist; create the folder first",
    ):
        write_text_atomic(tmp_path / "missing" / "out.txt", ["x"])


def test_replace_folder_keeps_what_the_new_one_lacks(tmp_path):
    target = tmp_path / "model"
    replace_folder(target, lambda folder: (folder / "a").write_text("1", encoding="utf-8"))
    (target / "log").write_text("kept", encoding="utf-8")
    replace_folder(target, lambda folder: (folder / "a").write_text("2", encoding="utf-8"))
    assert {p.name: p.read_text(encoding="utf-8") for p in target.iterdir()} == {"a": "2", "log": "kept"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_publish_folder_never_replaces(tmp_path):
    target = tmp_path / "cache" / "entry"

    def build(value: str):
        def make(folder: Path) -> None:
            folder.mkdir()
            (folder / "data").write_text(value, encoding="utf-8")

        return make

    assert publish_folder(target, build("first")) is True
    assert publish_folder(target, build("second")) is False
    assert (target / "data").read_text(encoding="utf-8") == "first"
    assert sorted(p.name for p in target.parent.iterdir()) == ["entry"]


def test_publish_folder_cleans_up_a_failed_build(tmp_path):
    def fail(folder: Path) -> None:
        folder.mkdir()
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        publish_folder(tmp_path / "entry", fail)
    assert list(tmp_path.iterdir()) == []


def test_an_output_inside_an_input_folder_is_refused(tmp_path):
    folder = tmp_path / "brat"
    (folder / "sub").mkdir(parents=True)
    (folder / "d1.ann").write_text("T1\tPER 0 5\tAlice\n")
    link = tmp_path / "link"
    link.symlink_to(folder)
    for output in (folder / "d1.ann", folder / "sub" / "new.jsonl", link / "new.jsonl"):
        with pytest.raises(NerkitError, match="lies inside this command's input folder"):
            check_output(output, [folder])
    assert check_output(tmp_path / "out.jsonl", [folder]) == tmp_path / "out.jsonl"
    assert within(folder / "sub", folder) and within(link, folder) and not within(tmp_path, folder)
