"""Tests for nerkit.cli: every command's output, and one-line errors with exit code 2 for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nerkit.cli import main

TRAIN = "-DOCSTART- O\n\nMaria B-PER\nVoss I-PER\nvisited O\nHalvery B-LOC\n.\tO\n\n"
TRAIN = TRAIN.replace("\t", " ")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_stats_table_and_json(capsys, write):
    path = write(TRAIN)
    code, out, _ = run(capsys, "stats", str(path))
    assert code == 0
    assert out.splitlines()[1:6] == [
        "  documents          1",
        "  sentences          1",
        "  tokens             5",
        "  scheme          IOB2",
        "  entities           2",
    ]
    code, out, _ = run(capsys, "stats", str(path), "--json", "--scheme")
    data = json.loads(out)
    assert data["entities_by_type"] == {"LOC": 1, "PER": 1}
    assert data["tags"] == {"O": 2, "B-PER": 1, "I-PER": 1, "B-LOC": 1}
    assert data["scheme_check"] == {
        "chunks": 2,
        "chunk_starts": {"B": 2},
        "ill_formed_chunks": 0,
        "example_lines": [],
    }


def test_stats_scheme_check_names_lines(capsys, write):
    path = write("a B-PER\n\nb O\nc I-PER\n\nd B-LOC\n")
    code, out, _ = run(capsys, "stats", str(path), "--scheme")
    assert code == 0
    assert "    ill-formed chunks  2 (not as IOB1 writes them)" in out
    assert f"    first at sentences {path}:1, {path}:6" in out


def test_score_report_and_json(capsys, write):
    path = write("a B-PER B-PER\nb I-PER O\n\nc B-LOC B-LOC\n")
    code, out, _ = run(capsys, "score", str(path))
    assert code == 0
    assert out == (
        "processed 3 tokens with 2 phrases; found: 2 phrases; correct: 1.\n"
        "accuracy:  66.67%; precision:  50.00%; recall:  50.00%; FB1:  50.00\n"
        "              LOC: precision: 100.00%; recall: 100.00%; FB1: 100.00  1\n"
        "              PER: precision:   0.00%; recall:   0.00%; FB1:   0.00  1\n"
    )
    code, out, _ = run(capsys, "score", str(path), "--json")
    data = json.loads(out)
    assert (data["precision"], data["recall"], data["f1"], data["macro_f1"]) == (0.5, 0.5, 0.5, 0.5)
    assert set(data) >= {
        "precision",
        "recall",
        "f1",
        "accuracy",
        "found_gold",
        "found_pred",
        "correct",
        "per_label",
    }


def test_score_warns_about_bioes(capsys, write):
    code, _, err = run(capsys, "score", str(write("a S-PER S-PER\n")))
    assert code == 0
    assert "BIOES" in err


def test_convert_writes_the_other_scheme(capsys, write, tmp_path):
    target = tmp_path / "out.conll"
    code, _, err = run(capsys, "convert", str(write(TRAIN)), "--to", "bioes", "-o", str(target))
    assert code == 0
    assert "wrote 1 sentences in BIOES" in err
    assert target.read_text() == (
        "-DOCSTART- O\n\nMaria B-PER\nVoss E-PER\nvisited O\nHalvery S-LOC\n. O\n\n"
    )


def test_tokenize_jsonl_and_conll(capsys, write):
    path = write("Dr. Voss didn't go.\n\nAda ran!\n", name="raw.txt")
    code, out, _ = run(capsys, "tokenize", str(path))
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 3
    assert [t["text"] for t in lines[0]["sentences"][0]["tokens"]] == ["Dr.", "Voss", "did", "n't", "go", "."]
    assert lines[1] == {"text": "", "sentences": [], "entities": []}
    code, out, _ = run(capsys, "tokenize", str(path), "--format", "conll")
    assert out == "-DOCSTART-\n\nDr.\nVoss\ndid\nn't\ngo\n.\n\n-DOCSTART-\n\n-DOCSTART-\n\nAda\nran\n!\n\n"


@pytest.mark.parametrize(
    ("argv", "content", "expected"),
    [
        (["stats"], "a O\nb O O\n", ":2: 3 columns, but the first token line (line 1) has 2"),
        (["stats"], "a X-PER\n", ":1: invalid tag 'X-PER' in column 2"),
        (["stats"], b"\xff\xfea O\n", ":1: byte 0xff at column 1 is not UTF-8"),
        (["stats"], "", ": the file is empty"),
        (["score"], "a O\n", ":1: 2 columns; conlleval's format needs at least three"),
        (["score"], "a O B-\n", ":1: invalid predicted tag 'B-'"),
        (
            ["convert", "--to", "IOB1", "-o", "/nonexistent-dir/x.conll"],
            "a O\n",
            "x.conll: cannot write here",
        ),
        (["tokenize"], b"ok\nbad \xc3\x28\n", ":2: byte 0xc3 at column 5 is not UTF-8"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(capsys, write, argv, content, expected):
    path = write(content)
    code, out, err = run(capsys, argv[0], str(path), *argv[1:])
    assert code == 2
    if argv[0] != "tokenize":  # tokenize streams: lines before the bad one are already out
        assert out == ""
    assert err.count("\n") == 1 and err.startswith("nerkit: error: ")
    assert expected in err
    assert "Traceback" not in err


def test_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "stats", str(tmp_path / "missing.conll"))
    assert code == 2
    assert err == f"nerkit: error: {tmp_path / 'missing.conll'}: no such file; check the path\n"


def test_real_process_exit_code_and_no_traceback(write):
    path = write("a O\nb B-PER I-PER\n")
    result = subprocess.run(
        [sys.executable, "-m", "nerkit", "stats", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"nerkit: error: {path}:2: 3 columns, but the first token line (line 1) has 2; "
        "every token line needs the same number of columns, separated by spaces or tabs\n"
    )
    assert result.stdout == ""


def test_stdin_input(write):
    result = subprocess.run(
        [sys.executable, "-m", "nerkit", "tokenize", "-"], input="Ada ran.\n", capture_output=True, text=True
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["sentences"][0]["end"] == 8
