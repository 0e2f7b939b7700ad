"""The model folder a training run writes: checked before any work, and a new run built beside an old
model and swapped in at its first saved epoch, so a kill at any moment leaves one whole model folder."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from nerkit.errors import NerkitError
from nerkit.files import PathLike, clear_stale, swap_folder, temporary_name
from nerkit.model.folder import META, TRANSFORMER, WEIGHTS
from nerkit.training.checkpoint import CHECKPOINT

LOG = "train_log.jsonl"
MODEL_ENTRIES = frozenset({META, WEIGHTS, TRANSFORMER, LOG, CHECKPOINT, "checkpoint"})  # all nerkit writes


@dataclass
class ModelOutput:
    """Where a run's model ends up (`target`) and, until its first saved epoch, the folder beside it that
    the run writes instead (`building`), so the old model stays whole until a new one can take its place."""

    target: Path
    building: Path | None = None

    @property
    def folder(self) -> Path:
        """The folder the run writes now."""
        return self.building or self.target

    def saved(self) -> None:
        """Called after each saved best epoch: the first swaps the new folder in for the old model."""
        if self.building is not None:
            swap_folder(self.building, self.target)
            self.building = None

    def discard(self) -> None:
        """Remove the new run's folder when the run ends before its first saved epoch."""
        if self.building is not None:
            shutil.rmtree(self.building, ignore_errors=True)
            self.building = None


def check_model_output(output: PathLike) -> Path:
    """Check, before any work, that `output` can take a model folder without losing anything: a new path,
    an empty folder or a model folder (nothing in it but what nerkit writes); returns it (a
    symbolic link is followed), its parent folders made."""
    if not os.fspath(output):
        raise NerkitError("the output folder is empty", hint="name the model folder to write")
    target = Path(os.path.realpath(output)) if os.path.islink(output) else Path(output)
    here, resolved = Path.cwd().resolve(), target.resolve()
    if resolved == here or resolved in here.parents:
        raise NerkitError(
            "is the current folder (or holds it)",
            path=output,
            hint=f"name the model folder from outside it, e.g. -o ../{resolved.name or 'model'}",
        )
    if target.exists() and not target.is_dir():
        raise NerkitError("is a file, not a folder", path=output, hint="name a new folder for the model")
    if target.is_dir():
        foreign = sorted(entry.name for entry in target.iterdir() if entry.name not in MODEL_ENTRIES)
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise NerkitError(
                f"holds {len(foreign)} entries nerkit did not write ({shown})",
                path=output,
                hint="name a new folder, or a model folder (a new run replaces it whole)",
            )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NerkitError(
            f"cannot make its folder: {error.strerror}", path=output, hint="check the path"
        ) from None
    return target


def open_output(target: Path, resume: bool, writes: bool = True) -> ModelOutput:
    """Where a run writes into `target`, a folder `check_model_output` passed. A resumed run, or a new one
    into a new or empty folder, writes there; a new run into an old model folder writes beside it until
    its first saved epoch. `writes` is False for the processes of a distributed run that never save."""
    if resume or not writes or not target.is_dir() or not any(target.iterdir()):
        return ModelOutput(target)
    clear_stale(target)
    building = target.with_name(temporary_name(target))
    shutil.rmtree(building, ignore_errors=True)  # left by an earlier process that had our PID
    building.mkdir()
    return ModelOutput(target, building)
