"""Tests for nerkit.cli: every command's output, and one-line errors with exit code 2 for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
TINY = ["--hidden", "8", "--char-filters", "4", "--threads", "1", "--seed", "3"]


@pytest.fixture(autouse=False)
def restore_threads():
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_train_prints_spec_epochs_and_where_the_model_went(capsys, tmp_path, restore_threads):
    output = tmp_path / "model"
    code, out, err = run(
        capsys,
        "train",
        "--train", str(SAMPLES / "train.conll"),
        "--dev", str(SAMPLES / "dev.conll"),
        "--test", str(SAMPLES / "test.conll"),
        "--output", str(output),
        "--max-epochs", "2",
        "--extended-log",
        *TINY,
    )  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "BiLSTM-CNN-CRF tagger, 17 tags in BIOES (output in IOB2), types: LOC, MISC, ORG, PER"
    assert sum(line.startswith("epoch ") for line in lines) == 2
    assert any("test F1" in line for line in lines)
    assert "  dev  type             precision    recall        f1   support" in lines
    assert lines[-1].startswith("finished: best dev F1 ") and lines[-1].endswith(f"model saved to {output}")
    assert sorted(p.name for p in output.iterdir()) == ["model.json", "model.safetensors", "train_log.jsonl"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--validation-split", "1.5"],
            "--validation-split 1.5 is not allowed; give a number from 0.001 to 0.999",
        ),
        (
            ["--resume", "--dev", str(SAMPLES / "dev.conll")],
            "nothing to resume: no checkpoint; train without",
        ),
        (["--embeddings", "missing.vec"], "missing.vec: no such vectors file; check the --embeddings path"),
        (
            ["--transformer", "missing-bert"],
            "missing-bert: no such transformer folder; give a folder holding",
        ),
        (["--fine-tune"], "--fine-tune needs --transformer FOLDER"),
        (["--transformer-window", "128"], "--transformer-window needs --transformer FOLDER"),
        (
            ["--transformer", str(SAMPLES), "--fine-tune"],
            "the transformer folder lacks config.json, model.safetensors, tokenizer.json",
        ),
    ],
)
def test_train_errors(capsys, tmp_path, restore_threads, argv, expected):
    argv = [str(tmp_path / a) if a in ("missing.vec", "missing-bert") else a for a in argv]
    code, _, err = run(
        capsys,
        "train",
        "--train",
        str(SAMPLES / "train.conll"),
        "--output",
        str(tmp_path / "m"),
        *argv,
        *TINY,
    )
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("nerkit: error: ")
    assert expected in err


def test_train_bad_training_file(capsys, write, tmp_path):
    path = write("a O\nb X-PER\n")
    code, _, err = run(capsys, "train", "--train", str(path), "--output", str(tmp_path / "m"))
    assert code == 2
    assert err == (
        f"nerkit: error: {path}:2: invalid tag 'X-PER' in column 2; "
        "tags are O, or B-, I-, E- or S- followed by a type (B-PER, I-creative-work)\n"
    )
    assert not (tmp_path / "m").exists()


def test_spec_of_a_model_and_before_training(capsys, tiny_model, write):
    code, out, _ = run(capsys, "spec", str(tiny_model))
    assert code == 0
    assert out.splitlines()[1] == "  word table      875 x 16 (0 from pretrained vectors)"
    assert out.splitlines()[-1] == (
        "  trained with    --min-epochs 1 --seed 1 --hidden 16 --char-filters 8 --average-epochs 1 --context-tokens 0 "
        "--no-gazetteer --lm-weight 0.0"
    )
    code, out, _ = run(capsys, "spec", str(tiny_model), "--json")
    assert json.loads(out)["hidden"] == 16
    vectors = write(
        "maria 0.5 0.25 -1\nvoss 1 0 0\nvisited 0 1 0\nhalvery 0 0 1\n. 0.5 0.5 0.5\n", name="v.txt"
    )
    code, out, _ = run(capsys, "spec", "--train", str(SAMPLES / "train.conll"), "--embeddings", str(vectors))
    assert code == 0
    assert "  word table      " in out and "x 3 (5 from pretrained vectors)" in out
    assert out.splitlines()[-1].startswith("  parameters      ")


def test_spec_needs_a_model_or_training_data(capsys):
    code, _, err = run(capsys, "spec")
    assert code == 2
    assert err == "nerkit: error: give a model folder, or --train FILE to size a model before training\n"


def test_evaluate_report_and_json(capsys, tiny_model):
    code, out, _ = run(capsys, "evaluate", str(tiny_model), str(SAMPLES / "test.conll"), "--threads", "1")
    assert code == 0
    assert out.startswith("processed 1559 tokens with 188 phrases; found: ")
    code, out, _ = run(
        capsys, "evaluate", str(tiny_model), str(SAMPLES / "test.conll"), "--json", "--threads", "1"
    )
    score = json.loads(out)
    assert set(score) == {
        "precision", "recall", "f1", "accuracy", "macro_f1", "tokens", "found_gold", "found_pred", "correct",
        "per_label",
    }  # fmt: skip
    assert score["found_gold"] == 188


def test_predict_text_from_stdin_one_line_per_input_line(tiny_model):
    result = subprocess.run(
        [sys.executable, "-m", "nerkit", "predict", str(tiny_model), "-", "--threads", "1"],
        input="Maria Voss visited Halvery.\n\n   \n<script>x</script>\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["text"] for row in rows] == ["Maria Voss visited Halvery.", "", "   ", "<script>x</script>"]
    assert rows[1]["entities"] == [] and rows[2]["entities"] == []
    for row in rows:
        for entity in row["entities"]:
            assert row["text"][entity["start"] : entity["end"]] == entity["text"]
            assert 0 <= entity["confidence"] <= 1
    assert result.stderr.startswith("tagged 4 documents, ")


def test_predict_conll_and_html_files(capsys, tiny_model, tmp_path):
    output = tmp_path / "out.conll"
    argv = ["predict", str(tiny_model), str(SAMPLES / "test.conll"), "--threads", "1"]
    code, _, err = run(capsys, *argv, "--input-format", "conll", "--format", "conll", "-o", str(output))
    assert code == 0
    assert err.startswith("tagged 120 sentences, 1,559 tokens, ") and err.endswith(f" to {output}\n")
    first = output.read_text(encoding="utf-8").split("\n\n")[1].splitlines()[0].split(" ")
    assert len(first) == 3  # token, gold tag, predicted tag
    page = tmp_path / "out.html"
    code, _, _ = run(capsys, *argv, "--format", "html", "--colors", "PER=#ffd166", "-o", str(page))
    assert code == 0
    assert page.read_text(encoding="utf-8").startswith("<!doctype html>")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--colors", "PER"],
            "--colors item 'PER' is not LABEL=COLOUR; e.g. --colors PER=#ffd166,LOC=lightblue",
        ),
        (
            ["--colors", "PER=url(x)"],
            "colour 'url(x)' for PER is not a CSS colour; use #rrggbb or a colour name",
        ),
    ],
)
def test_predict_bad_colours(capsys, tiny_model, argv, expected):
    code, out, err = run(
        capsys,
        "predict",
        str(tiny_model),
        str(SAMPLES / "raw.txt"),
        "--format",
        "html",
        *argv,
        "--threads",
        "1",
    )
    assert code == 2
    assert out == ""
    assert err == f"nerkit: error: {expected}\n"


def test_damaged_model_gives_one_line(capsys, tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.json").write_text("{not json", encoding="utf-8")
    for command in (["predict", str(tmp_path / "model"), "-"], ["evaluate", str(tmp_path / "model"), "x"]):
        code, out, err = run(capsys, *command)
        assert code == 2
        assert out == ""
        assert err.startswith(f"nerkit: error: {tmp_path / 'model' / 'model.json'}: is not valid JSON (")
        assert err.count("\n") == 1
