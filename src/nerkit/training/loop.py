"""The one epoch loop every trainer runs: dev (and test) scored each epoch, the best epoch kept, early
stopping, logs, Ctrl-C, checkpoints and resume, and the kept model's confidences calibrated at the end.
A trainer supplies only its steps (see `Steps`)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from nerkit.data.batches import EncodedSentence
from nerkit.errors import NerkitError
from nerkit.files import append_text
from nerkit.model.folder import TRAINING_RECORD, LoadedModel, load_model, save_model
from nerkit.model.tagger import Tagger
from nerkit.training.checkpoint import (
    CHECKPOINT,
    Tensors,
    damaged_checkpoint,
    load_checkpoint,
    remove_checkpoint,
    save_checkpoint,
)
from nerkit.training.corpus import Corpus
from nerkit.training.distributed import broadcast_flag, sum_scalar, world
from nerkit.training.options import EpochLog, TrainOptions, chosen
from nerkit.training.output import LOG, ModelOutput
from nerkit.training.prepare import Prepared
from nerkit.training.scores import dev_calibration, epoch_log, score_encoded


class Steps(Protocol):
    """What a trainer gives the epoch loop: `TaggerSteps` and `FineTuneSteps` are the two."""

    train_tokens: int  # tokens in one epoch of training data, for the speed in the log

    def train_epoch(
        self, epoch: int, on_batch: Callable[[int, int], None] | None
    ) -> tuple[float, int, float]:
        """Train one epoch; return the summed batch losses, the number of batches and the learning rate."""

    def end_epoch(self) -> Tagger:
        """The model to score and save after an epoch; called once per epoch, by rank 0 only."""

    def encoded(self, split: str) -> Sequence[EncodedSentence]:
        """The "dev" or "test" split encoded for scoring the model `end_epoch` gave."""

    def encoded_for(self, best: LoadedModel) -> Sequence[EncodedSentence]:
        """Dev encoded for the saved best model, for its calibration."""

    def save(self, output: Path, meta: dict[str, object]) -> None:
        """Write the model folder of the model `end_epoch` gave, with `meta` in its model.json."""

    def state(self) -> tuple[Tensors, dict[str, Any]]:
        """The trainer's tensors and JSON state that resuming needs."""

    def restore(self, tensors: Tensors, state: dict[str, Any]) -> None:
        """Put back what `state` gave."""


@dataclass
class Events:
    """Where a run reports: each epoch's log, each batch's progress (done, total), a dated .log file."""

    on_epoch: Callable[[EpochLog], None] | None = None
    on_batch: Callable[[int, int], None] | None = None
    log_file: Path | None = None


@dataclass
class TrainResult:
    """What a training run produced."""

    output: Path
    best_epoch: int
    dev: dict[str, Any]
    logs: list[EpochLog]
    stopped_early: bool
    interrupted: bool


@dataclass
class RunState:
    """Where a run stands: its last finished epoch, the best so far and the logs; saved in checkpoints."""

    epoch: int = 0
    best_f1: float = -1.0
    best_epoch: int = 0
    logs: list[EpochLog] = field(default_factory=list)
    stopped_early: bool = False
    interrupted: bool = False


@dataclass
class Run:
    """One run's parts: the trainer's steps, the data, where it saves, its options and model.json extras,
    and where it reports."""

    steps: Steps
    data: Prepared
    output: ModelOutput
    options: TrainOptions
    metadata: dict[str, object]
    events: Events

    @cached_property
    def fingerprint(self) -> str:
        """`model_fingerprint` of the run's data, worked out once."""
        return model_fingerprint(self.data)


def run_epochs(run: Run, resume: bool = False) -> TrainResult:
    """Train epoch after epoch until `max_epochs`, early stopping or Ctrl-C, keeping the best epoch by dev
    F1 in the model folder; `resume` goes on from the checkpoint an interrupted run left. Inside
    torch.distributed, rank 0 alone scores, logs and saves, and tells the others when to stop."""
    rank, processes = world()
    state = _resumed(run) if resume else RunState()
    try:
        for epoch in range(state.epoch + 1, chosen(run.options.max_epochs) + 1):
            started = time.perf_counter()
            total_loss, batches, rate = run.steps.train_epoch(epoch, run.events.on_batch)
            seconds = time.perf_counter() - started
            if processes > 1:
                total_loss = sum_scalar(total_loss)
                if rank != 0:  # rank 0 scores and saves; the others learn from it whether to go on
                    if broadcast_flag(False):
                        break
                    continue
            log = _score_epoch(run, state, epoch, (total_loss / max(batches, 1), rate, seconds))
            state.stopped_early = _close_epoch(run, state, log)
            if processes > 1:
                broadcast_flag(state.stopped_early)
            if state.stopped_early:
                break
    except KeyboardInterrupt:
        state.interrupted = True
    return _finish(run, state, rank)


def _score_epoch(run: Run, state: RunState, epoch: int, figures: tuple[float, float, float]) -> EpochLog:
    """Score the epoch's model on dev (and test), record the epoch, and save the model when it is best."""
    loss, rate, seconds = figures
    model, data = run.steps.end_epoch(), run.data
    dev = score_encoded(model, run.steps.encoded("dev"), data.dev, data.vocab.labels)
    test = None
    if data.test is not None:
        test = score_encoded(model, run.steps.encoded("test"), data.test, data.vocab.labels)
    scores = (dev, test)
    tokens = run.steps.train_tokens
    log = epoch_log(epoch, loss, rate, seconds, tokens, scores, state.best_f1)
    state.logs.append(log)
    if log.best:
        state.best_f1, state.best_epoch = dev.f1, epoch
        run.steps.save(run.output.folder, {**run.metadata, "dev": log.dev, "best_epoch": epoch})
        run.output.saved()
    state.epoch = epoch
    return log


def _close_epoch(run: Run, state: RunState, log: EpochLog) -> bool:
    """Checkpoint the run, write and report the epoch's record; True when early stopping ends the run."""
    tensors, steps_state = run.steps.state()
    progress = {"epoch": state.epoch, "best_f1": state.best_f1, "best_epoch": state.best_epoch}
    logs = [asdict(entry) for entry in state.logs]
    save_checkpoint(
        run.output.folder,
        tensors,
        {
            **progress,
            "logs": logs,
            "options": run.options.to_json(),
            "model": run.fingerprint,
            "steps": steps_state,
        },
    )
    write_epoch_log(run.output.folder, log, run.events.log_file, run.options.extended_log)
    if run.events.on_epoch is not None:
        run.events.on_epoch(log)
    options = run.options
    return log.epoch >= options.min_epochs and log.epoch - state.best_epoch >= options.patience


def _resumed(run: Run) -> RunState:
    """The state an interrupted run left, its trainer's state put back."""
    folder = run.output.folder
    tensors, saved = load_checkpoint(folder)
    changed = run.options.changed_from(saved.get("options", {}))
    if changed:
        raise NerkitError(
            f"the interrupted run used other values of {', '.join(changed)}",
            path=folder / CHECKPOINT,
            hint="resume with the same options, or train again without --resume",
        )
    if saved.get("model", run.fingerprint) != run.fingerprint:
        raise NerkitError(
            "the checkpoint belongs to another run: its model has another vocabulary, tags or size",
            path=folder / CHECKPOINT,
            hint="resume with the data it was trained on, or train again without --resume",
        )
    try:
        run.steps.restore(tensors, saved["steps"])
        logs = [EpochLog(**entry) for entry in saved["logs"]]
        return RunState(saved["epoch"], saved["best_f1"], saved["best_epoch"], logs)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError, RuntimeError) as error:
        raise damaged_checkpoint(folder, error) from None


def model_fingerprint(data: Prepared) -> str:
    """A digest of what fixes a run's model: its vocabulary (words, characters, tags) and its spec (and
    its teacher's record, weights included); a checkpoint records it, so resuming with other data or
    another teacher is refused before any weight is touched."""
    fixed: list[object] = [data.vocab.to_json(), data.spec.to_json()]
    if data.teaching is not None:
        fixed.append(data.teaching.record)
    described = json.dumps(fixed, sort_keys=True)
    return hashlib.sha256(described.encode("utf-8")).hexdigest()


def _finish(run: Run, state: RunState, rank: int) -> TrainResult:
    """Calibrate the kept model's confidences on dev and clear the checkpoint of a finished run."""
    target = run.output.target
    if rank != 0:
        return TrainResult(target, 0, {}, [], False, state.interrupted)
    if state.best_epoch:
        save_calibrated(target, run.data.dev, run.steps.encoded_for)
    if not state.interrupted:
        remove_checkpoint(target)
    best_dev = next((entry.dev for entry in state.logs if entry.epoch == state.best_epoch), {})
    return TrainResult(target, state.best_epoch, best_dev, state.logs, state.stopped_early, state.interrupted)


def save_calibrated(
    output: Path, dev: Corpus, encode_dev: Callable[[LoadedModel], Sequence[EncodedSentence]]
) -> None:
    """Rewrite the saved best model with the calibration of its confidences on dev added; `encode_dev`
    gives the dev split encoded for that model."""
    best = load_model(output)
    calibration = dev_calibration(best.model, encode_dev(best), dev, best.vocab.labels)
    kept: dict[str, object] = {key: best.meta[key] for key in TRAINING_RECORD if key in best.meta}
    transformer = best.transformer.path if best.transformer is not None else None
    save_model(output, best.model, best.vocab, {**kept, "calibration": calibration}, transformer)


def write_epoch_log(
    output: Path, log: EpochLog, log_file: Path | None = None, extended: bool = False
) -> None:
    """Append an epoch's record to the model folder's train_log.jsonl (with the per-type figures) and its
    line to `log_file` (with the per-type table when `extended`)."""
    append_text(output / LOG, json.dumps(asdict(log)) + "\n")
    if log_file is not None:
        table = log.table() + "\n" if extended and log.table() else ""
        append_text(log_file, log.line() + "\n" + table)
