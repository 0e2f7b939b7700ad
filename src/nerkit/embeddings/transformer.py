"""Contextual token features from a BERT-family transformer folder: sub-word alignment, windows, pooling."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError

from nerkit.embeddings import POOLINGS, PRECISIONS
from nerkit.embeddings.subwords import pooled_features, split_subwords, window_ids
from nerkit.errors import NerkitError, check_choice

TRANSFORMER_FILES = ("config.json", "model.safetensors", "tokenizer.json")


@dataclass
class Transformer:
    """A transformer folder loaded for feature extraction (inference only)."""

    path: Path
    tokenizer: Any  # a fast (Rust) tokenizer from `transformers`
    model: torch.nn.Module
    prefix: list[int]  # special sub-words before a window's content ([CLS])
    suffix: list[int]  # and after it ([SEP])
    window: int  # content sub-words per window: the model's positions minus the special sub-words
    dim: int  # hidden size
    layers: int  # hidden layers (not counting the embedding layer)
    precision: str = "float32"  # what the forward pass computes in: "float32" or "bfloat16"

    def features(
        self, documents: Sequence[Sequence[Sequence[str]]], layers: int, pooling: str
    ) -> list[np.ndarray]:
        """`token_features` of the documents: [tokens, layers, dim] float16 per sentence."""
        return token_features(self, documents, layers, pooling)


def bfloat16_is_fast() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX), so features cost half."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def load_transformer(path: str | Path, window: int | None = None, precision: str = "auto") -> Transformer:
    """Load a local transformer folder (config, safetensors weights, fast tokenizer); never the network,
    never code from the folder. `window` caps the content sub-words per window; `precision` is one of
    PRECISIONS."""
    path = Path(path)
    check_choice("precision", precision, PRECISIONS)
    if precision == "auto":
        precision = "bfloat16" if bfloat16_is_fast() else "float32"
    hint = "give a folder holding config.json, model.safetensors and tokenizer.json (a fast tokenizer)"
    if not path.is_dir():
        raise NerkitError("no such transformer folder", path=path, hint=hint)
    missing = [name for name in TRANSFORMER_FILES if not (path / name).is_file()]
    if missing:
        raise NerkitError(f"the transformer folder lacks {', '.join(missing)}", path=path, hint=hint)
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NerkitError(f"config.json is not JSON ({error})", path=path, hint=hint) from None
    if not isinstance(config, dict) or "model_type" not in config:
        raise NerkitError("config.json names no model_type", path=path, hint=hint)
    try:
        import transformers
    except ImportError:
        raise NerkitError(
            "transformer features need the transformers package", hint="pip install 'nerkit[transformers]'"
        ) from None
    # transformers leaves these two functions unannotated
    transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = transformers.AutoModel.from_pretrained(
            path, local_files_only=True, use_safetensors=True, trust_remote_code=False
        )
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise NerkitError(f"cannot load the transformer: {first}", path=path, hint=hint) from None
    if not getattr(tokenizer, "is_fast", False):
        raise NerkitError("the tokenizer is not a fast tokenizer (tokenizer.json)", path=path, hint=hint)
    model.eval()
    marker = tokenizer.convert_tokens_to_ids(tokenizer.unk_token)
    with_specials = tokenizer(tokenizer.unk_token, add_special_tokens=True)["input_ids"]
    at = with_specials.index(marker)
    prefix, suffix = list(with_specials[:at]), list(with_specials[at + 1 :])
    positions = int(getattr(model.config, "max_position_embeddings", 512) or 512)
    limit = min(positions, 512) - len(prefix) - len(suffix)
    return Transformer(
        path=path,
        tokenizer=tokenizer,
        model=model,
        prefix=prefix,
        suffix=suffix,
        window=max(8, min(limit, window or limit)),
        dim=int(model.config.hidden_size),
        layers=int(model.config.num_hidden_layers),
        precision=precision,
    )


def subword_pieces(transformer: Transformer, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
    """Per sentence, per token: its sub-word ids (`split_subwords` with the transformer's tokenizer)."""
    tokenizer = transformer.tokenizer
    unknown = tokenizer.convert_tokens_to_ids(tokenizer.unk_token)
    return split_subwords(tokenizer.backend_tokenizer, unknown, sentences)


def token_features(
    transformer: Transformer,
    documents: Sequence[Sequence[Sequence[str]]],
    layers: int = 4,
    pooling: str = "first",
    batch_subwords: int = 8192,
    dtype: type = np.float16,
) -> list[np.ndarray]:
    """Features of every token, per sentence in order: [tokens, layers, dim] of `dtype` (float16 unless
    told), the last `layers` hidden layers pooled over each token's sub-words ("first" or "mean").

    Each document's sentences are read as one sub-word sequence (pass one sentence per document for no
    context), cut into overlapping windows when longer than the model's window: nothing is truncated.
    """
    check_choice("pooling", pooling, POOLINGS)
    layers = max(1, min(layers, transformer.layers))
    pieces = subword_pieces(transformer, [sentence for document in documents for sentence in document])
    return pooled_features(
        pieces,
        documents,
        lambda windows: _run(transformer, windows, layers),
        transformer.window,
        (layers, transformer.dim),
        pooling,
        batch_subwords,
        dtype,
    )


def window_inputs(
    transformer: Transformer, windows: Sequence[Sequence[int]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Input ids and attention mask [windows, special + longest + special] of sub-word windows, each
    between the model's special sub-words ([CLS] ... [SEP]) and padded."""
    pad = transformer.tokenizer.pad_token_id or 0
    ids, mask = window_ids(windows, transformer.prefix, transformer.suffix, pad)
    return torch.from_numpy(ids), torch.from_numpy(mask)


def _run(transformer: Transformer, windows: Sequence[Sequence[int]], layers: int) -> np.ndarray:
    """The last `layers` hidden states of each window's content: [windows, seq, layers, dim]."""
    ids, mask = window_inputs(transformer, windows)
    width = max(len(w) for w in windows)
    start = len(transformer.prefix)
    bfloat16 = transformer.precision == "bfloat16"
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
        output = transformer.model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    hidden = torch.stack(output.hidden_states[-layers:], dim=2)  # [windows, full, layers, dim]
    return hidden[:, start : start + width].float().numpy()


def save_transformer(transformer: Transformer, folder: Path) -> None:
    """Write the transformer's current weights (safetensors) and config, and its tokenizer files, to a
    new `folder`."""
    model: Any = transformer.model  # a transformers PreTrainedModel
    model.save_pretrained(folder, safe_serialization=True)
    for name in os.listdir(transformer.path):
        if name.startswith(("tokenizer", "special_tokens", "vocab", "merges", "added_tokens")):
            shutil.copyfile(transformer.path / name, folder / name)
