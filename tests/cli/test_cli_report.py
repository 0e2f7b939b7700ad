"""`nerkit report`: the page, the JSON and the suspects from one call, the model alone, and one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from nerkit.cli import main

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
PARTS = ("summary", "partial", "mistakes", "confusion", "confidence", "worst", "suspects")


def run(capsys, *argv: str | Path) -> tuple[int, str, str]:
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as stopped:  # argparse's one-line errors
        code = int(str(stopped.code))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def written(tiny_model, tmp_path_factory):
    """The page, JSON and suspects of the tiny model on the sample dev split, written once."""
    folder = tmp_path_factory.mktemp("report")
    argv = [tiny_model, SAMPLES / "dev.conll", "-o", folder / "r.html", "--json", folder / "r.json"]
    code = main(
        ["report", *map(str, argv), "--suspects", str(folder / "s.jsonl"), "--suspect-confidence", "0.5"]
    )
    assert code == 0
    return folder


def test_page_json_and_suspects_are_written(written, tiny_pipeline):
    report = json.loads((written / "r.json").read_text(encoding="utf-8"))
    assert report["format"] == "nerkit-report" and report["version"] == 1
    assert all(report[part] is not None for part in PARTS)
    assert report["summary"] == tiny_pipeline.evaluate(SAMPLES / "dev.conll").to_json()
    assert report["data"]["format"] == "conll"
    assert report["data"]["sentences"] == 123
    assert report["training"]["kept_epoch"] == report["model"]["best_epoch"]
    assert "vocab" not in report["model"]
    page = (written / "r.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 4
    lines = [json.loads(line) for line in (written / "s.jsonl").read_text(encoding="utf-8").splitlines()]
    found = [suspect for line in lines for suspect in line["suspects"]]
    assert len(found) == len(report["suspects"]) == 41
    firsts = [line["suspects"][0]["confidence"] for line in lines]
    assert firsts == sorted(firsts, reverse=True)  # each sentence where its most confident suspect ranks
    for line in lines:
        assert set(line) >= {"text", "place", "suspects"}


def test_the_python_call_gives_the_same_figures(written, tiny_model):
    import nerkit

    report = nerkit.load(str(tiny_model), threads=1).report(SAMPLES / "dev.conll", suspect_confidence=0.5)
    assert report.to_json() == json.loads((written / "r.json").read_text(encoding="utf-8")) | {
        "data": report.to_json()["data"]
    }


def test_the_model_alone_gives_its_training_curves(capsys, tiny_model, tmp_path):
    code, out, err = run(capsys, "report", tiny_model, "--json", "-")
    assert code == 0, err
    report = json.loads(out)
    assert [part for part in PARTS if report[part] is not None] == []
    assert [epoch["epoch"] for epoch in report["training"]["epochs"]] == [1, 2]
    code, _, err = run(capsys, "report", tiny_model, "-o", tmp_path / "m.html")
    assert code == 0, err
    assert (tmp_path / "m.html").read_text(encoding="utf-8").count("<svg") == 1


def test_suspects_as_label_studio_tasks(capsys, tiny_model, tmp_path):
    code, _, err = run(
        capsys, "report", tiny_model, SAMPLES / "dev.conll", "--json", tmp_path / "r.json",
        "--suspects", tmp_path / "s.json", "--suspect-confidence", "0.5",
    )  # fmt: skip
    assert code == 0, err
    tasks = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert len(tasks) == 38
    assert all(set(task) >= {"id", "data", "meta", "annotations"} for task in tasks)
    assert all(task["meta"]["suspects"] for task in tasks)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([SAMPLES / "dev.conll"], "nothing to write"),
        (["-o", "x.html", "--suspects", "s.jsonl"], "--suspects needs a FILE"),
        ([SAMPLES / "dev.conll", "-o", "same.html", "--json", "same.html"], "name the same file"),
        ([SAMPLES / "dev.conll", "-o", SAMPLES / "dev.conll"], "is also this command's input"),
        ([SAMPLES / "dev.conll", "-o", "-"], "the page cannot go to standard output"),
        ([SAMPLES / "dev.conll", "--json", "-", "--suspect-confidence", "1.5"], "1.5"),
        (["missing.conll", "--json", "-"], "missing.conll"),
        ([SAMPLES / "dev.conll", "--suspects", "-"], "the suspects cannot go to standard output"),
        (
            [SAMPLES / "dev.conll", "-o", "r.html", "--suspects", SAMPLES, "--suspects-format", "brat"],
            "holds this command's input",
        ),
    ],
)
def test_bad_requests_are_one_line(capsys, tiny_model, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "report", tiny_model, *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


def test_a_brat_suspects_folder_may_not_hold_the_other_outputs(capsys, tiny_model, tmp_path):
    (tmp_path / "out").mkdir()
    argv = ["-o", tmp_path / "out" / "r.html", "--suspects", tmp_path / "out", "--suspects-format", "brat"]
    code, _, err = run(capsys, "report", tiny_model, SAMPLES / "dev.conll", *argv)
    assert code == 2 and "another output of this command" in err
    assert list((tmp_path / "out").iterdir()) == []


def test_without_matplotlib_the_page_is_refused_before_the_model_tags(
    capsys, tiny_model, tmp_path, monkeypatch
):
    import sys

    for module in [module for module in sys.modules if module.split(".")[0] == "matplotlib"]:
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    argv = ["-o", tmp_path / "r.html", "--json", tmp_path / "r.json"]
    code, _, err = run(capsys, "report", tiny_model, SAMPLES / "dev.conll", *argv)
    assert code == 2 and err.strip().endswith(
        "the report's charts need matplotlib; pip install 'nerkit[report]'"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_suspects_alone_are_a_complete_job(capsys, tiny_model, tmp_path, written):
    argv = ["--suspects", tmp_path / "s.jsonl", "--suspect-confidence", "0.5"]
    code, _, err = run(capsys, "report", tiny_model, SAMPLES / "dev.conll", *argv)
    assert code == 0, err
    assert err.startswith(f"wrote {tmp_path / 's.jsonl'}; ")
    assert (tmp_path / "s.jsonl").read_bytes() == (written / "s.jsonl").read_bytes()


def test_a_damaged_model_folder_is_one_line(capsys, tiny_model, tmp_path):
    damaged = tmp_path / "model"
    shutil.copytree(tiny_model, damaged)
    (damaged / "model.json").write_text("{", encoding="utf-8")
    code, _, err = run(capsys, "report", damaged, "--json", "-")
    assert code == 2 and "model.json" in err and len(err.strip().splitlines()) == 1


def test_a_damaged_training_log_is_one_line(capsys, tiny_model, tmp_path):
    damaged = tmp_path / "model"
    shutil.copytree(tiny_model, damaged)
    with (damaged / "train_log.jsonl").open("a", encoding="utf-8") as log:
        log.write("{oops\n")
    code, _, err = run(capsys, "report", damaged, "--json", "-")
    assert code == 2 and "train_log.jsonl:3: not valid JSON" in err


@pytest.mark.parametrize("bad", ["0.9", None, True, 2])
def test_the_python_call_refuses_a_bad_suspect_confidence(tiny_pipeline, bad):
    from nerkit.errors import NerkitError

    if bad is None:
        assert tiny_pipeline.report(suspect_confidence=bad).suspects is None  # None: the default
        return
    with pytest.raises(NerkitError, match=f"suspect_confidence={bad!r} is not a number from 0 to 1"):
        tiny_pipeline.report(SAMPLES / "dev.conll", suspect_confidence=bad)
