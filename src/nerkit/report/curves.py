"""Training curves from a model folder's train_log.jsonl: loss and dev F1 per epoch, the kept epoch marked."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from nerkit.errors import NerkitError
from nerkit.files import PathLike
from nerkit.jsonl import parse_object
from nerkit.lines import read_lines

LOG = "train_log.jsonl"  # the name nerkit.training.output gives it (the report does not load torch)
LOG_HINT = "each line is one epoch's record as nerkit train writes it; retrain, or move the file away"


@dataclass
class Epoch:
    """One epoch of training: its loss, dev F1 overall and per type (0..1), and whether it was kept."""

    epoch: int
    loss: float
    f1: float
    per_type: dict[str, float] = field(default_factory=dict)
    best: bool = False

    def to_json(self) -> dict[str, object]:
        """epoch, loss, f1, per_type and best."""
        return {
            "epoch": self.epoch,
            "loss": self.loss,
            "f1": self.f1,
            "per_type": self.per_type,
            "best": self.best,
        }


@dataclass
class TrainingCurves:
    """The epochs of a training run, in order, and the one whose model the folder holds."""

    epochs: list[Epoch]
    kept_epoch: int | None

    def to_json(self) -> dict[str, object]:
        """The report's "training" part."""
        return {"epochs": [epoch.to_json() for epoch in self.epochs], "kept_epoch": self.kept_epoch}


def training_curves(model: PathLike, kept_epoch: int | None = None) -> TrainingCurves | None:
    """The curves of the model folder's train_log.jsonl, None when it has none; `kept_epoch` (model.json's
    best_epoch) wins over the log's own marks, which a resumed or a continued run may repeat. An epoch
    logged twice (a run resumed after a kill) counts as its last record."""
    path = Path(model) / LOG
    if not path.is_file():
        return None
    epochs: dict[int, Epoch] = {}
    for number, line in read_lines(path):
        if line.strip():
            epoch = _epoch(parse_object(line, path, number, LOG_HINT, "an epoch's record"), path, number)
            epochs[epoch.epoch] = epoch
    ordered = [epochs[number] for number in sorted(epochs)]
    if kept_epoch is None:
        marked = [epoch.epoch for epoch in ordered if epoch.best]
        kept_epoch = marked[-1] if marked else None
    for epoch in ordered:
        epoch.best = epoch.epoch == kept_epoch
    return TrainingCurves(ordered, kept_epoch)


def _epoch(row: dict[str, object], path: Path, number: int) -> Epoch:
    """One record of the log, its fields checked."""
    dev = row.get("dev")
    epoch, loss = row.get("epoch"), row.get("loss")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 1:
        raise NerkitError('"epoch" is not a whole number from 1', path=path, line=number, hint=LOG_HINT)
    if not isinstance(dev, dict):
        raise NerkitError('"dev" is not an object', path=path, line=number, hint=LOG_HINT)
    per_label = dev.get("per_label", {})
    if not isinstance(per_label, dict):
        raise NerkitError('"dev"."per_label" is not an object', path=path, line=number, hint=LOG_HINT)
    per_type = {
        str(name): _fraction(
            figures.get("f1") if isinstance(figures, dict) else None, f'"{name}" F1', path, number
        )
        for name, figures in sorted(per_label.items())
    }
    return Epoch(
        epoch=epoch,
        loss=_number(loss, '"loss"', path, number),
        f1=_fraction(dev.get("f1"), '"dev"."f1"', path, number),
        per_type=per_type,
        best=row.get("best") is True,
    )


def _number(value: object, name: str, path: Path, number: int) -> float:
    """A finite number of the log, as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise NerkitError(f"{name} is not a number", path=path, line=number, hint=LOG_HINT)
    return float(value)


def _fraction(value: object, name: str, path: Path, number: int) -> float:
    """A number of the log from 0 to 1."""
    found = _number(value, name, path, number)
    if not 0.0 <= found <= 1.0:
        raise NerkitError(f"{name} is {found}, not from 0 to 1", path=path, line=number, hint=LOG_HINT)
    return found
