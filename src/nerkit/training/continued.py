"""Continuing from a trained model (--init): its architecture kept, its vocabulary and labels grown by the
new data, its weights copied into the grown model, and its lineage carried on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nerkit.data.batches import EncodedSentence, length_groups, pad
from nerkit.errors import NerkitError
from nerkit.files import PathLike
from nerkit.model.folder import (
    WEIGHTS,
    LoadedModel,
    file_sha256,
    load_trainable,
    recorded_sha256,
)
from nerkit.model.spec import ModelSpec
from nerkit.model.tagger import Tagger
from nerkit.training.options import TrainOptions, default_of, field_named, flag

# the options that size a model's weights (each a spec field of the same name): taken from the model
# continued, and refused when set otherwise
ARCHITECTURE = (
    "hidden",
    "char_filters",
    "char_lstm",
    "casing_dim",
    "word_dim",
    "transformer_layers",
    "transformer_pooling",
    "transformer_window",
    "head",
)
KEPT = ("transformer_context",)  # taken from the model unless given: its features were read so


def load_start(path: PathLike, precision: str = "auto") -> LoadedModel:
    """The model to continue from, checked: a trained nerkit model folder (not an export) of a
    BiLSTM-CNN-CRF (not a fine-tuned transformer)."""
    start = load_trainable(path, precision, "--init")
    if not start.model.spec.layers:
        raise NerkitError(
            "is a fine-tuned transformer, which --init cannot continue yet",
            path=path,
            hint="fine-tune again from the transformer with the new data",
        )
    return start


def continue_from(options: TrainOptions) -> tuple[LoadedModel | None, TrainOptions]:
    """The model `options.init` names, loaded and checked, and the options with its architecture in
    them (see `continued_options`); (None, options) without --init."""
    if options.init is None:
        return None, options
    start = load_start(options.init, options.transformer_precision)
    return start, continued_options(options, start, options.init)


def continued_options(options: TrainOptions, start: LoadedModel, path: PathLike) -> TrainOptions:
    """The options with the model's architecture in them; an architecture option set to another value
    than the model's is a NerkitError naming its flag."""
    spec = start.model.spec
    chosen: dict[str, Any] = {}
    for name in ARCHITECTURE:
        if name.startswith("transformer") and not spec.transformer_dim:
            continue
        model_value, value = getattr(spec, name), getattr(options, name)
        if value != model_value and value != default_of(field_named(name)):
            raise NerkitError(
                f"{flag(name)} {value} differs from the model's {model_value}",
                path=path,
                hint=f"a continued model keeps its architecture: leave out {flag(name)}",
            )
        chosen[name] = model_value
    for name in KEPT:
        if getattr(options, name) is None:
            chosen[name] = getattr(spec, name)
    if options.gazetteer and not spec.gazetteer_dim:
        raise NerkitError(
            "has no gazetteer features, so --gazetteer cannot be added",
            path=path,
            hint="leave out --gazetteer, or train a new model with it",
        )
    if options.gazetteer is False and spec.gazetteer_dim:
        raise NerkitError(
            "has gazetteer features, so --no-gazetteer cannot take them out",
            path=path,
            hint="leave out --no-gazetteer, or train a new model without one",
        )
    chosen["gazetteer"] = bool(spec.gazetteer_dim)  # a model with one keeps it, growing its phrases
    if options.transformer is not None and start.transformer is None:
        raise NerkitError(
            "has no transformer features, so --transformer cannot be added",
            path=path,
            hint="leave out --transformer",
        )
    if options.transformer is not None and start.transformer is not None:
        given = file_sha256(Path(options.transformer) / WEIGHTS)
        if given != recorded_sha256(start.meta, "transformer"):
            raise NerkitError(
                f"--transformer {options.transformer} is another transformer than the model's",
                path=path,
                hint="leave out --transformer: the model's own copy is used",
            )
    return replace(options, **chosen)


def grown_spec(spec: ModelSpec, labels: list[str], words: int, chars: int, pretrained: int) -> ModelSpec:
    """The continued model's spec: the old one with the grown tables and labels, its new vector rows
    counted as pretrained."""
    return replace(
        spec, labels=labels, words=words, chars=chars, pretrained_words=spec.pretrained_words + pretrained
    )


def copy_weights(model: Tagger, start: Tagger) -> None:
    """Put every weight of `start` into the leading rows (and columns) of `model`'s, whose tables and
    label set grew by appending: old words, characters and tags keep their values bit for bit, and what
    is new keeps its fresh initialisation."""
    grown = model.state_dict()
    with torch.no_grad():
        for name, old in start.state_dict().items():
            new = grown[name]
            if new.dim() != old.dim() or any(n < o for n, o in zip(new.shape, old.shape, strict=True)):
                raise ValueError(f"{name} cannot grow from {tuple(old.shape)} to {tuple(new.shape)}")
            new[tuple(slice(0, size) for size in old.shape)] = old


def set_prior_beliefs(start: Tagger, units: Sequence[EncodedSentence], batch_size: int = 32) -> None:
    """Give every partially annotated unit the log marginal probabilities `start` gives its tokens' tags
    (at least 1e-6), as `CRF.log_likelihood`'s prior. Words and characters `start` lacks read as
    unknown; a tag it lacks (a new type) gets its O's weight: it could not tell them apart."""
    partial = [unit for unit in units if unit.allowed is not None]
    old_words, old_chars, old_labels = start.spec.words, start.spec.chars, len(start.spec.labels)
    outside = start.spec.labels.index("O")
    for rows in length_groups(partial, batch_size):
        padded = pad([partial[i] for i in rows])
        padded.words[padded.words >= old_words] = 1
        padded.chars[padded.chars >= old_chars] = 1
        if padded.gazetteer is not None:  # a new type's columns come after the old model's
            padded.gazetteer = padded.gazetteer[..., : start.spec.gazetteer_dim]
        scores = start.network(padded)
        with torch.inference_mode():
            marginals = start.crf.marginals(scores, torch.from_numpy(padded.mask))
        logs = marginals.clamp_min(1e-6).log().numpy()
        for row, i in enumerate(rows):
            unit, n = partial[i], len(partial[i])
            assert unit.allowed is not None
            prior = np.empty(unit.allowed.shape, dtype=np.float32)
            prior[:, :old_labels] = logs[row, :n]
            prior[:, old_labels:] = logs[row, :n, outside : outside + 1]
            unit.prior = prior


def lineage(start: LoadedModel, path: PathLike) -> dict[str, object]:
    """model.json's record of where a continued model came from: the model (its folder and the sha256 of
    its weights) and every earlier stage, oldest first, each with its data, options and dev scores."""
    meta = start.meta
    source = {"model": str(Path(path).resolve()), "weights_sha256": recorded_sha256(meta, "weights")}
    earlier = meta.get("lineage")
    stages = list(earlier) if isinstance(earlier, list) else []
    dev = meta.get("dev") if isinstance(meta.get("dev"), dict) else {}
    assert isinstance(dev, dict)
    stages.append(
        {
            **source,
            "data": meta.get("data"),
            "training": meta.get("training"),
            "dev": {key: dev[key] for key in ("precision", "recall", "f1") if key in dev},
            "best_epoch": meta.get("best_epoch"),
        }
    )
    return {"continued_from": source, "lineage": stages}
