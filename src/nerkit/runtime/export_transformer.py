"""Export a model's transformer to ONNX: the hidden layers its tagger mixes, its tokenizer, its windows."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nerkit.embeddings.transformer import Transformer
from nerkit.model.folder import file_sha256
from nerkit.runtime.exported_transformer import (
    TOKENIZER_FILE,
    TRANSFORMER_INPUTS,
    TRANSFORMER_NETWORK,
)

OPSET = 17
QUANTIZED_OPERATORS = ["MatMul", "Gather"]  # the attention and feed-forward projections, the tables


class HiddenLayers(nn.Module):
    """A transformer from sub-word ids and attention mask to its last `layers` hidden layers, stacked:
    [windows, sub-words, layers, dim], the array `token_features` pools."""

    def __init__(self, model: nn.Module, layers: int) -> None:
        super().__init__()
        self.model = model
        self.layers = layers

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The last `layers` hidden layers of every sub-word position."""
        output = self.model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        return torch.stack(output.hidden_states[-self.layers :], dim=2)


def write_transformer(
    transformer: Transformer, layers: int, folder: Path, quantize: str | None
) -> dict[str, object]:
    """Write `transformer.onnx` (its last `layers` hidden layers; int8 weights with `quantize`) and
    `tokenizer.json` (the tokenizer as nerkit calls it) into `folder`; returns what model.json records of
    them: their checksums and the window rules (special sub-words, padding, unknown, window size)."""
    from tokenizers import Tokenizer

    network = folder / TRANSFORMER_NETWORK
    tokenizer: Any = transformer.tokenizer  # a transformers fast tokenizer
    pad = int(tokenizer.pad_token_id or 0)
    unknown = int(tokenizer.convert_tokens_to_ids(tokenizer.unk_token))
    prefix, suffix = list(transformer.prefix), list(transformer.suffix)
    example = [[*prefix, unknown, unknown, *suffix], [*prefix, unknown, *suffix, pad]]
    _export(HiddenLayers(transformer.model, layers), example, network, quantize)
    backend = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    backend.no_truncation()
    backend.no_padding()
    backend.save(str(folder / TOKENIZER_FILE))
    return {
        "transformer_network": {"file": TRANSFORMER_NETWORK, "sha256": file_sha256(network)},
        "tokenizer": {"file": TOKENIZER_FILE, "sha256": file_sha256(folder / TOKENIZER_FILE)},
        "subwords": {
            "prefix": prefix,
            "suffix": suffix,
            "pad": pad,
            "unknown": unknown,
            "window": transformer.window,
            "dim": transformer.dim,
            "layers": layers,
        },
    }


def _export(module: HiddenLayers, example: list[list[int]], path: Path, quantize: str | None) -> None:
    """Trace the transformer on `example` (two windows, the second padded) and write it as ONNX with
    dynamic window and sub-word axes; with `quantize`, onnxruntime's dynamic int8 quantization of it."""
    from nerkit.runtime.export import quantize_network

    module.eval()
    ids = torch.tensor(example)
    inputs = (ids, (torch.arange(ids.size(1)) < torch.tensor([[ids.size(1)], [ids.size(1) - 1]])).long())
    plain = path.with_suffix(".float32.onnx") if quantize else path
    axes = {0: "windows", 1: "subwords"}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            module,
            inputs,
            str(plain),
            input_names=list(TRANSFORMER_INPUTS),
            output_names=["hidden"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
            opset_version=OPSET,
            dynamo=False,
        )
    if quantize:
        quantize_network(plain, path, QUANTIZED_OPERATORS)
        plain.unlink()
