"""Hostile training outputs: `-o` that is `.`, a file, empty or a folder of other things, only-O data,
another run's checkpoint, and a run into an old model folder stopped before its first saved epoch."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from nerkit.cli import main
from nerkit.errors import NerkitError
from nerkit.training.options import TrainOptions
from nerkit.training.output import check_model_output
from nerkit.training.train import train

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TINY = ["--hidden", "8", "--char-filters", "4", "--word-dim", "8", "--threads", "1", "--max-epochs", "1"]


@pytest.fixture(autouse=True, scope="module")
def _restore_threads():
    """train() sets torch's thread count; put it back for the tests after these."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _options(**changes: object) -> TrainOptions:
    settings: dict[str, object] = {
        "hidden": 8,
        "char_filters": 4,
        "word_dim": 8,
        "threads": 1,
        "max_epochs": 2,
        "min_epochs": 1,
        "seed": 1,
        **changes,
    }
    return TrainOptions(**settings)  # type: ignore[arg-type]


def _train_cli(
    capsys: pytest.CaptureFixture[str], output: str, train_file: Path = SAMPLES / "train.conll"
) -> tuple[int, str]:
    code = main(["train", "--train", str(train_file), "-o", output, *TINY])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    return code, err.strip().splitlines()[-1]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_current_folder_is_refused_before_any_work(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    code, err = _train_cli(capsys, ".")
    name = tmp_path.name
    assert (code, err) == (
        2,
        f"nerkit: error: .: is the current folder (or holds it); name the model folder from outside it, e.g. -o ../{name}",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_file_and_an_empty_path_are_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("afile").write_text("mine", encoding="utf-8")
    assert _train_cli(capsys, "afile") == (
        2,
        "nerkit: error: afile: is a file, not a folder; name a new folder for the model",
    )
    assert Path("afile").read_text(encoding="utf-8") == "mine"
    assert _train_cli(capsys, "") == (
        2,
        "nerkit: error: the output folder is empty; name the model folder to write",
    )


def test_a_folder_of_other_things_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("work").mkdir()
    for name in ("a.txt", "b.txt", "c.txt", "d.txt", "model.json"):
        Path("work", name).write_text("mine", encoding="utf-8")
    assert _train_cli(capsys, "work") == (
        2,
        "nerkit: error: work: holds 4 entries nerkit did not write (a.txt, b.txt, c.txt, ...); "
        "name a new folder, or a model folder (a new run replaces it whole)",
    )
    assert len(list(Path("work").iterdir())) == 5


def test_only_o_training_data_is_refused(capsys, tmp_path):
    rows = [
        " ".join([*line.split()[:-1], "O"]) if line.strip() else line
        for line in (SAMPLES / "train.conll").read_text(encoding="utf-8").splitlines()
    ]
    only_o = tmp_path / "only_o.conll"
    only_o.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert _train_cli(capsys, str(tmp_path / "model"), only_o) == (
        2,
        f"nerkit: error: {only_o}: every tag is O: there is no entity to learn; "
        "annotate some entities, or give --tag-column if the tags are in another column",
    )
    assert not (tmp_path / "model").exists()


def test_a_symlinked_output_is_trained_through(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    assert check_model_output(tmp_path / "link") == (tmp_path / "real").resolve()


def test_a_run_stopped_before_its_first_saved_epoch_leaves_the_old_model_whole(tiny_model, tmp_path):
    old = tmp_path / "model"
    shutil.copytree(tiny_model, old)
    (old / "checkpoint.safetensors").write_bytes(b"an older run's checkpoint")
    before = _snapshot(old)

    def stop(done: int, total: int) -> None:
        assert _snapshot(old) == before  # the new run writes beside it
        raise KeyboardInterrupt

    result = train(
        SAMPLES / "train.conll", old, dev_path=SAMPLES / "dev.conll", options=_options(), on_batch=stop
    )
    assert result.interrupted and result.best_epoch == 0
    assert _snapshot(old) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary folder left


def test_a_new_run_replaces_the_old_model_whole_at_its_first_saved_epoch(tiny_model, tmp_path):
    old = tmp_path / "model"
    shutil.copytree(tiny_model, old)
    (old / "checkpoint.safetensors").write_bytes(b"an older run's checkpoint")
    old_log = (old / "train_log.jsonl").read_bytes()
    seen: list[bool] = []

    def after_epoch(log: object) -> None:
        seen.append((old / "train_log.jsonl").read_bytes() != old_log)

    train(
        SAMPLES / "train.conll", old, dev_path=SAMPLES / "dev.conll", options=_options(), on_epoch=after_epoch
    )
    assert seen == [True, True]  # from the first epoch on, the folder is the new run's
    assert sorted(p.name for p in old.iterdir()) == ["model.json", "model.safetensors", "train_log.jsonl"]
    assert len((old / "train_log.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_resuming_another_runs_checkpoint_says_so_in_one_line(tmp_path):
    def stop(log: object) -> None:
        raise KeyboardInterrupt

    first = tmp_path / "first"
    train(SAMPLES / "train.conll", first, dev_path=SAMPLES / "dev.conll", options=_options(), on_epoch=stop)
    small = tmp_path / "small.conll"
    small.write_text(
        "\n".join((SAMPLES / "train.conll").read_text(encoding="utf-8").splitlines()[:400]) + "\n"
    )
    second = tmp_path / "second"
    train(small, second, dev_path=SAMPLES / "dev.conll", options=_options(), on_epoch=stop)
    shutil.copyfile(first / "checkpoint.safetensors", second / "checkpoint.safetensors")
    with pytest.raises(NerkitError) as caught:
        train(small, second, dev_path=SAMPLES / "dev.conll", options=_options(), resume=True)
    assert str(caught.value) == (
        f"{second}/checkpoint.safetensors: the checkpoint belongs to another run: its model has another "
        "vocabulary, tags or size; resume with the data it was trained on, or train again without --resume"
    )
