"""`train`: annotated data to a saved model folder; seeds and threads set, the data prepared, the trainer's
steps chosen (BiLSTM-CNN-CRF or fine-tuning) and the epoch loop run."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from nerkit.cores import default_threads
from nerkit.data.formats import ReadOptions
from nerkit.errors import NerkitError
from nerkit.files import PathLike
from nerkit.model.spec import ModelSpec
from nerkit.training.continued import continue_from, lineage
from nerkit.training.distributed import world
from nerkit.training.finetune_steps import FineTuneSteps
from nerkit.training.loop import Events, Run, Steps, TrainResult, run_epochs
from nerkit.training.options import EpochLog, TrainOptions
from nerkit.training.output import check_model_output, open_output
from nerkit.training.prepare import Prepared, prepare
from nerkit.training.sources import TrainingData
from nerkit.training.tagger_steps import TaggerSteps


def train(
    train_path: TrainingData,
    output: PathLike,
    dev_path: PathLike | None = None,
    test_path: PathLike | None = None,
    embeddings: PathLike | None = None,
    options: TrainOptions | None = None,
    on_epoch: Callable[[EpochLog], None] | None = None,
    resume: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
    log_folder: PathLike | None = None,
    on_ready: Callable[[ModelSpec, int], None] | None = None,
    input_format: str | None = None,
    read: ReadOptions | None = None,
) -> TrainResult:
    """Train a tagger on annotated data and save the best model (by dev F1) to `output`.

    Each data file is read in its own format (detected, or `input_format` for all), as `read` says;
    model.json records the files and their formats. `train_path` is one file or several, each a path,
    "FILE:T1,T2" or a TrainingFile (a file annotating only some types: see `options.annotated_types`).
    With `options.init` the run continues from that model folder (see `nerkit.training.continued`),
    and model.json records its lineage.

    `on_epoch` gets each epoch's log; `on_batch(done, total)` is called after every training batch (for a
    progress bar). With `log_folder`, the epoch lines (and per-type tables) also go to a dated .log file
    there, as the seed's output logs do. `on_ready(spec, parameters)` is called once the model is sized.
    Ctrl-C stops cleanly: the best model so far stays saved and `resume=True` goes on.

    Inside torch.distributed (`nerkit.spark.train` starts it) every process reads the data and takes its
    share of each batch, their gradients are summed, and rank 0 alone scores, logs and saves.
    """
    options = options or TrainOptions()
    rank, processes = world()
    target = check_model_output(output)  # before any work
    torch.set_num_threads(options.threads or default_threads(processes))
    rng = _set_seed(options.seed)
    if processes > 1 and (resume or options.fine_tune):
        raise NerkitError(
            "distributed training cannot resume or fine-tune a transformer", hint="train in one process"
        )
    if options.init is not None:
        _check_not_init(target, options.init)
    start, options = continue_from(options)
    options = options.resolved(has_vectors=embeddings is not None)
    data = prepare(train_path, dev_path, test_path, embeddings, options, input_format, read, start)
    if options.gazetteer and data.vocab.gazetteer is None:  # one document of training data: none built
        options = replace(options, gazetteer=False)
    events = Events(on_epoch, on_batch, _log_file(log_folder))
    metadata: dict[str, object] = {
        "training": options.to_json(),
        "data": _data_record(dev_path, data, options),
    }
    if start is not None and options.init is not None:
        metadata.update(lineage(start, options.init))
    steps: Steps = (
        FineTuneSteps(data, options, on_ready)
        if options.fine_tune
        else TaggerSteps(data, options, rng, on_ready)
    )
    model_output = open_output(target, resume, writes=rank == 0)
    try:
        return run_epochs(Run(steps, data, model_output, options, metadata, events), resume)
    finally:
        model_output.discard()  # a run ended before its first saved epoch leaves the old model as it was


def _data_record(dev_path: PathLike | None, data: Prepared, options: TrainOptions) -> dict[str, object]:
    """model.json's "data": the files (one training file as a path, several as a list, each FILE or
    FILE:T1,T2) and their formats, the rehearsed file, the teacher and the unlabeled text."""
    files = [file.describe() for file in data.files]
    record: dict[str, object] = {
        "train": files[0] if len(files) == 1 else files,
        "dev": str(dev_path or ""),
        "formats": {"train": data.train.format, "dev": data.dev.format},
    }
    if options.rehearse is not None:
        record["rehearse"] = options.rehearse
    if data.teaching is not None:
        record["teacher"] = data.teaching.record
        if options.unlabeled is not None:
            unlabeled = str(Path(options.unlabeled).resolve())
            record["unlabeled"] = {"file": unlabeled, "sentences": data.teaching.unlabeled}
    return record


def _check_not_init(output: Path, init: str) -> None:
    """The output may not be the model continued from: nothing replaces its own input."""
    if output.exists() and output.resolve() == Path(init).resolve():
        raise NerkitError(
            "is the --init model, which the run reads",
            path=output,
            hint="write the continued model to a new folder",
        )


def _set_seed(seed: int) -> random.Random:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return random.Random(seed)


def _log_file(log_folder: PathLike | None) -> Path | None:
    """A dated .log file in `log_folder` (made if missing) for the epoch lines, or None."""
    if log_folder is None:
        return None
    Path(log_folder).mkdir(parents=True, exist_ok=True)
    return Path(log_folder) / f"nerkit-train-{time.strftime('%Y%m%d-%H%M%S')}.log"
