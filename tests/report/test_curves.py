"""Training curves from train_log.jsonl: the epochs in order, the kept one marked, damage named."""

from __future__ import annotations

import json

import pytest

from nerkit.errors import NerkitError
from nerkit.report.curves import training_curves


def _record(epoch: int, f1: float, best: bool = False, per_label: dict[str, float] | None = None) -> str:
    dev: dict[str, object] = {"precision": f1, "recall": f1, "f1": f1}
    if per_label is not None:
        dev["per_label"] = {
            name: {"precision": v, "recall": v, "f1": v, "support": 3} for name, v in per_label.items()
        }
    row = {
        "epoch": epoch,
        "loss": 10.0 / epoch,
        "learning_rate": 0.01,
        "seconds": 1.0,
        "tokens_per_second": 5.0,
    }
    return json.dumps({**row, "dev": dev, "test": None, "best": best}) + "\n"


def test_epochs_in_order_with_per_type_f1_and_the_kept_epoch(tmp_path):
    (tmp_path / "train_log.jsonl").write_text(
        _record(1, 0.5, True, {"PER": 0.6, "LOC": 0.4})
        + _record(2, 0.7, True, {"PER": 0.8, "LOC": 0.6})
        + _record(3, 0.6),
        encoding="utf-8",
    )
    curves = training_curves(tmp_path)
    assert curves is not None
    assert curves.to_json() == {
        "epochs": [
            {"epoch": 1, "loss": 10.0, "f1": 0.5, "per_type": {"LOC": 0.4, "PER": 0.6}, "best": False},
            {"epoch": 2, "loss": 5.0, "f1": 0.7, "per_type": {"LOC": 0.6, "PER": 0.8}, "best": True},
            {"epoch": 3, "loss": 10.0 / 3, "f1": 0.6, "per_type": {}, "best": False},
        ],
        "kept_epoch": 2,
    }


def test_model_json_best_epoch_wins_and_a_resumed_epochs_last_record_counts(tmp_path):
    (tmp_path / "train_log.jsonl").write_text(
        _record(1, 0.5, True) + _record(2, 0.6, True) + _record(2, 0.65, True) + "\n", encoding="utf-8"
    )
    curves = training_curves(tmp_path, kept_epoch=1)
    assert curves is not None
    assert [(e.epoch, e.f1, e.best) for e in curves.epochs] == [(1, 0.5, True), (2, 0.65, False)]
    assert curves.kept_epoch == 1


def test_no_log_is_no_curves(tmp_path):
    assert training_curves(tmp_path) is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not valid JSON"),
        ("[1]", "not an epoch's record"),
        ('{"epoch": 0, "loss": 1, "dev": {"f1": 0.5}}', '"epoch" is not a whole number from 1'),
        ('{"epoch": true, "loss": 1, "dev": {"f1": 0.5}}', '"epoch" is not a whole number from 1'),
        ('{"epoch": 1, "loss": "x", "dev": {"f1": 0.5}}', '"loss" is not a number'),
        ('{"epoch": 1, "loss": 1, "dev": []}', '"dev" is not an object'),
        ('{"epoch": 1, "loss": 1, "dev": {"f1": 1.5}}', '"dev"."f1" is 1.5, not from 0 to 1'),
        ('{"epoch": 1, "loss": 1, "dev": {"f1": 0.5, "per_label": 3}}', '"dev"."per_label" is not an object'),
        ('{"epoch": 1, "loss": 1, "dev": {"f1": 0.5, "per_label": {"PER": 2}}}', '"PER" F1 is not a number'),
    ],
)
def test_a_damaged_line_is_named(tmp_path, line, message):
    path = tmp_path / "train_log.jsonl"
    path.write_text(_record(1, 0.5) + line + "\n", encoding="utf-8")
    with pytest.raises(NerkitError) as caught:
        training_curves(tmp_path)
    assert f"{path}:2: {message}" in str(caught.value)
