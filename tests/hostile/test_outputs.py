"""Hostile outputs: `-o` onto an input, a symlink, a FIFO, a device, a folder, `.`, nothing; modes; full
disks and refused permissions; stale temporary files; every OSError family as one line, exit 2."""

from __future__ import annotations

import builtins
import errno
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from nerkit import files
from nerkit.cli import main
from nerkit.errors import NerkitError, os_error
from nerkit.files import check_output, clear_stale, write_text_atomic

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TEXT = "Peter lives in Paris.\n"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run the CLI; its exit code and its standard error, checked to be one line without a traceback."""
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    return code, err.strip()


@pytest.fixture
def text(tmp_path: Path) -> Path:
    path = tmp_path / "in.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_predict_onto_its_input_is_refused_and_the_input_kept(capsys, tiny_model, text):
    code, err = _run(capsys, "predict", str(tiny_model), str(text), "-o", str(text), "--threads", "1")
    assert code == 2
    assert err == (
        f"nerkit: error: {text}: is also this command's input {str(text)!r}; "
        "write to another file; the input would be lost"
    )
    assert text.read_text(encoding="utf-8") == TEXT


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_tokenize_onto_its_input_by_another_name_is_refused(capsys, text, link):
    other = text.with_name("other.txt")
    (os.symlink if link == "symlink" else os.link)(text, other)
    code, err = _run(capsys, "tokenize", str(other), "-o", str(text))
    assert code == 2
    assert err.endswith(
        f"is also this command's input {str(other)!r}; write to another file; the input would be lost"
    )
    assert text.read_text(encoding="utf-8") == TEXT


def test_convert_onto_its_input_is_refused(capsys, tmp_path):
    source = tmp_path / "train.conll"
    source.write_bytes((SAMPLES / "train.conll").read_bytes())
    code, err = _run(
        capsys, "convert", str(source), "--to", "BIOES", "-o", str(tmp_path / "." / "train.conll")
    )
    assert code == 2 and "is also this command's input" in err
    assert source.read_bytes() == (SAMPLES / "train.conll").read_bytes()


def test_a_symlink_is_written_through_to_its_target(capsys, text, tmp_path):
    target = tmp_path / "target.jsonl"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target.name)
    code, _ = _run(capsys, "tokenize", str(text), "-o", str(link))
    assert code == 0
    assert link.is_symlink() and os.readlink(link) == "target.jsonl"
    assert target.read_text(encoding="utf-8").startswith('{"text": "Peter lives in Paris."')


def test_a_fifo_is_streamed_to_not_replaced(capsys, text, tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    code, _ = _run(capsys, "tokenize", str(text), "-o", str(fifo))
    reader.join(timeout=10)
    assert code == 0
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received[0].startswith(b'{"text": "Peter lives in Paris."')


@pytest.mark.skipif(not Path("/dev/full").is_char_device(), reason="needs Linux's /dev/full")
def test_a_full_device_is_one_line_and_stays_a_device(capsys, text):
    code, err = _run(capsys, "tokenize", str(text), "-o", "/dev/full")
    assert code == 2
    assert err == (
        "nerkit: error: /dev/full: cannot write: No space left on device; "
        "the disk is full: free some space, or write elsewhere"
    )
    assert Path("/dev/full").is_char_device()


def test_a_replaced_file_keeps_its_mode_and_a_new_one_gets_the_umask(capsys, text, tmp_path):
    kept = tmp_path / "kept.jsonl"
    kept.write_text("old\n", encoding="utf-8")
    kept.chmod(0o640)
    assert _run(capsys, "tokenize", str(text), "-o", str(kept))[0] == 0
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    old_umask = os.umask(0o027)
    try:
        assert _run(capsys, "tokenize", str(text), "-o", str(tmp_path / "new.jsonl"))[0] == 0
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "new.jsonl").stat().st_mode) == 0o640


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (".", "nerkit: error: .: is a folder, not a file; name a file to write in it"),
        ("", "nerkit: error: the output path is empty; name the file to write"),
        ("sub", "nerkit: error: sub: is a folder, not a file; name a file to write in it"),
        (
            "missing/out.jsonl",
            "nerkit: error: missing/out.jsonl: cannot write here: its folder does not exist; create the folder first",
        ),
    ],
)
def test_outputs_that_cannot_be_files(capsys, text, tmp_path, monkeypatch, output, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    code, err = _run(capsys, "tokenize", str(text), "-o", output)
    assert (code, err) == (2, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_temporaries_of_dead_runs_are_cleared_on_the_next_write(tmp_path):
    target = tmp_path / "out.jsonl"
    stale = tmp_path / f".out.jsonl.nerkit-{_dead_pid()}-abc.tmp"
    stale_folder = tmp_path / f".out.jsonl.nerkit-{_dead_pid()}.tmp"
    live = tmp_path / f".out.jsonl.nerkit-{os.getppid()}-abc.tmp"  # a running process's: kept
    other = tmp_path / ".out.jsonl.mine.tmp"  # not ours: kept
    for path in (stale, live, other):
        path.write_text("x", encoding="utf-8")
    stale_folder.mkdir()
    write_text_atomic(target, ["new\n"])
    assert target.read_text(encoding="utf-8") == "new\n"
    assert not stale.exists() and not stale_folder.exists()
    assert live.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, "out.jsonl"])


def test_clear_stale_in_a_missing_folder_does_nothing(tmp_path):
    clear_stale(tmp_path / "missing" / "out.jsonl")


def test_a_temporary_file_is_named_after_its_target_and_process(tmp_path, monkeypatch):
    seen: list[str] = []

    def write(path: Path) -> None:
        seen.append(path.name)
        path.write_text("x", encoding="utf-8")

    files.replace_file(tmp_path / "out.jsonl", write)
    assert seen[0].startswith(f".out.jsonl.nerkit-{os.getpid()}-") and seen[0].endswith(".tmp")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device"),
            "out.jsonl: cannot write: No space left on device; the disk is full: free some space, or write elsewhere",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied"),
            "out.jsonl: cannot write: Permission denied; check the permissions, or write elsewhere",
        ),
        (
            OSError(errno.EROFS, "Read-only file system"),
            "out.jsonl: cannot write: Read-only file system; the file system is read-only: write elsewhere",
        ),
    ],
)
def test_write_errors_are_one_line_and_leave_the_old_file(tmp_path, monkeypatch, error, message):
    target = tmp_path / "out.jsonl"
    target.write_text("old\n", encoding="utf-8")

    def failing(path: Path) -> None:
        path.write_text("half", encoding="utf-8")
        raise error

    monkeypatch.chdir(tmp_path)
    with pytest.raises(NerkitError) as caught:
        files.replace_file("out.jsonl", failing)
    assert str(caught.value) == message
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_check_output_returns_a_links_target(tmp_path):
    (tmp_path / "real.txt").write_text("x", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to("real.txt")
    assert check_output(tmp_path / "link.txt") == (tmp_path / "real.txt").resolve()


def _os_error_families() -> list[type[OSError]]:
    """Every OSError class Python has, but BrokenPipeError: a reader that stopped reading (`| head`) ends
    the command quietly with exit 0 (`test_a_closed_pipe_ends_quietly`)."""
    return sorted(
        (
            kind
            for kind in vars(builtins).values()
            if isinstance(kind, type) and issubclass(kind, OSError) and kind is not BrokenPipeError
        ),
        key=lambda kind: kind.__name__,
    )


@pytest.mark.parametrize("family", _os_error_families(), ids=lambda kind: kind.__name__)
def test_every_os_error_family_is_one_line_with_exit_2(capsys, monkeypatch, family):
    def fail(args: object) -> int:
        raise family(errno.EIO, "the system says no", "some/file")

    monkeypatch.setattr("nerkit.cli.stats.run", fail)
    code, err = _run(capsys, "stats", "whatever.conll")
    assert code == 2
    assert err.startswith("nerkit: error: some/file: the system says no; ")
    assert "\n" not in err


@pytest.mark.parametrize("number", sorted(errno.errorcode), ids=lambda n: errno.errorcode[n])
def test_every_errno_gets_a_hint(number):
    error = os_error(OSError(number, os.strerror(number)), "out.jsonl", "cannot write")
    assert str(error).startswith(f"out.jsonl: cannot write: {os.strerror(number)}; ")
    assert error.hint


def test_a_closed_pipe_ends_quietly(tmp_path):
    source = tmp_path / "many.txt"
    source.write_text(TEXT * 20000, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "nerkit", "tokenize", str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b'{"text": "Peter lives in Paris."')
    process.stdout.close()  # as `| head -1` does
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == b""


def test_a_file_name_that_is_not_utf8_goes_back_out_as_its_bytes(tmp_path):
    name = os.fsencode(tmp_path) + b"/\xff.conll"
    with open(name, "wb") as handle:
        handle.write((SAMPLES / "dev.conll").read_bytes())
    strict = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    command = [sys.executable.encode(), b"-m", b"nerkit", b"stats", name]
    table = subprocess.run(command, capture_output=True, env=strict, check=True)
    assert table.stdout.startswith(name + b"\n")
    as_json = subprocess.run([*command, b"--json"], capture_output=True, env=strict, check=True)
    assert json.loads(as_json.stdout)["file"] == os.fsdecode(name)  # \udcff: an ASCII escape


def test_a_leftover_of_an_earlier_process_with_our_pid_does_not_block_a_folder(tmp_path):
    """PIDs repeat (a container's first processes get the same ones each time): a folder an earlier,
    killed process with our PID left beside the target is replaced, not an obstacle."""
    target = tmp_path / "model"
    leftover = tmp_path / files.temporary_name(target)
    leftover.mkdir()
    (leftover / "half.bin").write_bytes(b"half")
    files.replace_folder(target, lambda folder: (folder / "model.json").write_text("{}", encoding="utf-8"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert sorted(p.name for p in target.iterdir()) == ["model.json"]
