"""Export a trained model folder to ONNX: the network up to the emission scores, the CRF as arrays."""

from __future__ import annotations

import os
import shutil
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch
from torch import nn

from nerkit.data.batches import Batch
from nerkit.errors import NerkitError
from nerkit.files import PathLike, replace_folder, within, write_json_atomic
from nerkit.model.folder import (
    EXPORTED_FORMAT,
    EXPORTED_VERSION,
    META,
    TRAINING_RECORD,
    WEIGHTS,
    file_sha256,
    load_trainable,
    read_meta,
)
from nerkit.runtime.exported import CRF_FILE, FEATURES, GAZETTEER, NETWORK_FILE, QUANTIZATIONS, network_inputs
from nerkit.training.output import LOG
from nerkit.version import __version__

if TYPE_CHECKING:
    from nerkit.model.tagger import Tagger

OPSET = 17

# the BiLSTM, projections and tables; onnxruntime's int8 Conv ran the character CNN 4 times slower
QUANTIZED_OPERATORS = ["LSTM", "MatMul", "Gather"]
KEPT_META = (*TRAINING_RECORD, "calibration")  # what model.json says of training


@dataclass(frozen=True)
class Exported:
    """What an export wrote: the folder, the network file's size, and the quantization (None or int8)."""

    folder: Path
    network_bytes: int
    quantize: str | None


class BidirectionalLSTM(torch.autograd.Function):
    """One BiLSTM layer as a single ONNX LSTM node (bidirectional, with sequence_lens): onnxruntime
    reverses each sentence within its own length itself, so the graph needs none of the gathers that
    `Tagger._bilstm` reverses with. Only its ONNX form is used: traced, it gives zeros of the shape."""

    @staticmethod
    def forward(
        ctx: Any,
        inputs: torch.Tensor,
        lengths: torch.Tensor,
        weights: torch.Tensor,
        recurrent: torch.Tensor,
        bias: torch.Tensor,
        hidden: int,
    ) -> torch.Tensor:
        """Zeros [batch, seq, 2 * hidden]: what the LSTM node gives is shaped so."""
        return inputs.new_zeros(inputs.size(0), inputs.size(1), 2 * hidden)

    @staticmethod
    def symbolic(
        g: Any, inputs: Any, lengths: Any, weights: Any, recurrent: Any, bias: Any, hidden: int
    ) -> Any:
        """[batch, seq, dim] to the LSTM's [seq, batch, dim] layout and its [seq, 2, batch, hidden]
        states back to [batch, seq, 2 * hidden] (left-to-right states first, as the tagger concatenates)."""
        sequences = g.op("Transpose", inputs, perm_i=[1, 0, 2])
        lengths = g.op("Cast", lengths, to_i=6)  # sequence_lens is int32
        states, _, _ = g.op(
            "LSTM",
            sequences,
            weights,
            recurrent,
            bias,
            lengths,
            hidden_size_i=hidden,
            direction_s="bidirectional",
            outputs=3,
        )
        states = g.op("Transpose", states, perm_i=[2, 0, 1, 3])  # [batch, seq, 2, hidden]
        return g.op("Reshape", states, g.op("Constant", value_t=torch.tensor([0, 0, -1])))


# torch's LSTM gates are input, forget, cell, output; ONNX's input, output, forget, cell
ONNX_GATES = [0, 3, 1, 2]
LSTM_INPUTS = ("lstm_weights", "lstm_recurrent", "lstm_bias")  # W, R and B of each layer's LSTM node


def onnx_lstm_weights(forward: nn.LSTM, backward: nn.LSTM) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A layer's two LSTMs as the ONNX LSTM node's W [2, 4h, in], R [2, 4h, h] and B [2, 8h]."""

    def gates(tensor: torch.Tensor) -> torch.Tensor:
        return torch.cat([tensor.chunk(4)[k] for k in ONNX_GATES])

    def stacked(name: str) -> torch.Tensor:
        return torch.stack([gates(getattr(lstm, name).detach()) for lstm in (forward, backward)])

    bias = torch.cat([stacked("bias_ih_l0"), stacked("bias_hh_l0")], dim=1)
    return stacked("weight_ih_l0"), stacked("weight_hh_l0"), bias


class Emissions(nn.Module):
    """A tagger's network from word, character and casing ids and lengths to emission scores: the
    inputs the ONNX graph takes, made into the batch `Tagger.emissions` reads, its BiLSTM layers as
    ONNX LSTM nodes with the same weights."""

    def __init__(self, tagger: Tagger) -> None:
        super().__init__()
        self.tagger = tagger
        self.hidden = tagger.spec.hidden
        self.layers = len(tagger.lstms)
        for layer, pair in enumerate(tagger.lstms):  # buffers, so the graph holds them as initializers
            for name, tensor in zip(LSTM_INPUTS, onnx_lstm_weights(*cast(nn.ModuleList, pair)), strict=True):
                self.register_buffer(f"{name}{layer}", tensor)

    def bilstm(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The BiLSTM layers as traced ONNX LSTM nodes."""
        states = tokens
        for layer in range(self.layers):
            weights, recurrent, bias = (getattr(self, f"{name}{layer}") for name in LSTM_INPUTS)
            states = BidirectionalLSTM.apply(  # type: ignore[no-untyped-call]
                states, lengths, weights, recurrent, bias, self.hidden
            )
        return states

    def forward(
        self,
        words: torch.Tensor,
        chars: torch.Tensor,
        casing: torch.Tensor,
        lengths: torch.Tensor,
        *extra: torch.Tensor,
    ) -> torch.Tensor:
        """Emission scores [batch, seq, tags] of padded id arrays and, for a model that reads them,
        transformer features [batch, seq, layers, dim] then gazetteer features [batch, seq, width], as
        `Tagger.emissions` gives them."""
        mask = torch.arange(words.size(1)).unsqueeze(0) < lengths.unsqueeze(1)
        given = iter(extra)
        features = next(given) if self.tagger.spec.transformer_dim else None
        gazetteer = next(given) if self.tagger.spec.gazetteer_dim else None
        batch = Batch(words, chars, casing, mask, None, [], features, gazetteer=gazetteer)
        return self.tagger.emissions(batch, self.bilstm)


def check_export_output(model: PathLike, output: PathLike) -> None:
    """Refuse, before any work, an output folder that is the model folder, lies inside it or holds it,
    or already holds something other than an exported model (which the export would replace whole)."""
    target = Path(os.path.realpath(output))
    source = Path(os.path.realpath(model))
    if within(target, source) or within(source, target) or target == source:
        raise NerkitError(
            "is the model folder or lies in it", path=output, hint="export to a folder of its own"
        )
    if target.exists() and not target.is_dir():
        raise NerkitError("is a file, not a folder", path=output, hint="name a new folder to export to")
    if target.is_dir() and any(target.iterdir()) and not _exported_before(target):
        raise NerkitError(
            "holds files that are not an exported nerkit model",
            path=output,
            hint="name a new or empty folder: the export replaces the whole folder",
        )
    if not target.parent.is_dir():
        raise NerkitError("its parent folder does not exist", path=output, hint="create it first")


def _exported_before(folder: Path) -> bool:
    """Whether `folder` holds an earlier export: a model.json declaring the exported format."""
    try:
        read_meta(folder, {EXPORTED_FORMAT: EXPORTED_VERSION})
    except NerkitError:
        return False
    return True


def export_model(model: PathLike, output: PathLike, quantize: str | None = None) -> Exported:
    """Export the model folder `model` to the folder `output` (replaced whole and atomically): the
    network as ONNX (int8 weights with `quantize="int8"`), the CRF's scores and rules as safetensors,
    and model.json declaring the exported format with checksums, the spec, vocabulary and training
    record."""
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise NerkitError(f"unknown quantization {quantize!r}", hint=f"use {', '.join(QUANTIZATIONS)}")
    check_export_output(model, output)
    import onnx  # noqa: F401  # torch's exporter needs it (nerkit[export]): missing, say so before any work

    loaded = load_trainable(model, "float32", "nerkit export")  # an export or an ensemble: one line
    spec = loaded.model.spec

    def build(folder: Path) -> None:
        if (Path(model) / LOG).is_file():  # the training curves, for nerkit report
            shutil.copyfile(Path(model) / LOG, folder / LOG)
        _write_network(loaded.model, folder / NETWORK_FILE, quantize)
        _write_crf(loaded.model, folder / CRF_FILE)
        kept = {key: loaded.meta[key] for key in KEPT_META if key in loaded.meta}
        if loaded.transformer is not None:
            from nerkit.runtime.export_transformer import write_transformer

            kept.update(write_transformer(loaded.transformer, spec.transformer_layers, folder, quantize))
        write_json_atomic(
            folder / META,
            {
                **kept,
                "format": EXPORTED_FORMAT,
                "format_version": EXPORTED_VERSION,
                "nerkit_version": __version__,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "exported_from": {"sha256": file_sha256(Path(model) / WEIGHTS)},
                "quantize": quantize,
                "network": {"file": NETWORK_FILE, "sha256": file_sha256(folder / NETWORK_FILE)},
                "crf": {"file": CRF_FILE, "sha256": file_sha256(folder / CRF_FILE)},
                "spec": spec.to_json(),
                "vocab": loaded.vocab.to_json(),
            },
        )

    replace_folder(output, build, carry=False)
    target = Path(output)
    return Exported(target, (target / NETWORK_FILE).stat().st_size, quantize)


def _write_network(tagger: Tagger, path: Path, quantize: str | None) -> None:
    """Trace the emission network on a small padded batch and write it as ONNX with dynamic batch,
    sequence and word-width axes; with `quantize`, onnxruntime's dynamic int8 quantization of it."""
    tagger.eval()
    spec = tagger.spec
    example: tuple[torch.Tensor, ...] = (
        torch.ones(2, 3, dtype=torch.int64),
        torch.ones(2, 3, 4, dtype=torch.int64),
        torch.ones(2, 3, dtype=torch.int64),
        torch.tensor([3, 2], dtype=torch.int64),
    )
    if spec.transformer_dim:
        example = (*example, torch.zeros(2, 3, spec.transformer_layers, spec.transformer_dim))
    if spec.gazetteer_dim:
        example = (*example, torch.zeros(2, 3, spec.gazetteer_dim))
    plain = path.with_suffix(".float32.onnx") if quantize else path
    axes = {"batch": 0, "seq": 1}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and RNN notes
        torch.onnx.export(
            Emissions(tagger),
            example,
            str(plain),
            input_names=network_inputs(spec),
            output_names=["emissions"],
            dynamic_axes={
                FEATURES: {v: k for k, v in axes.items()},
                GAZETTEER: {v: k for k, v in axes.items()},
                "words": {v: k for k, v in axes.items()},
                "chars": {0: "batch", 1: "seq", 2: "width"},
                "casing": {v: k for k, v in axes.items()},
                "lengths": {0: "batch"},
                "emissions": {v: k for k, v in axes.items()},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    if quantize:
        quantize_network(plain, path, QUANTIZED_OPERATORS)
        plain.unlink()


def quantize_network(plain: Path, path: Path, operators: list[str]) -> None:
    """onnxruntime's dynamic int8 quantization of the weights of a network's `operators`, its advice to
    pre-process the model (a root-logger warning) silenced."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(plain),
            str(path),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=operators,
        )
    finally:
        root.setLevel(level)


def _write_crf(tagger: Tagger, path: Path) -> None:
    """The CRF's learned scores and its allowed moves as numpy arrays in a safetensors file."""
    from safetensors.numpy import save_file

    crf = tagger.crf
    arrays: dict[str, np.ndarray] = {
        "transitions": crf.transitions.detach().numpy().astype(np.float32),
        "start": crf.start.detach().numpy().astype(np.float32),
        "end": crf.end.detach().numpy().astype(np.float32),
        "allowed": crf.allowed.numpy().astype(np.uint8),
        "allowed_start": crf.allowed_start.numpy().astype(np.uint8),
        "allowed_end": crf.allowed_end.numpy().astype(np.uint8),
    }
    save_file(arrays, str(path), metadata={"format": EXPORTED_FORMAT})
    path.chmod(0o644)
