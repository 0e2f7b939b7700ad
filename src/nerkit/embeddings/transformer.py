"""Contextual token features from a BERT-family transformer folder: sub-word alignment, windows, pooling."""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError

from nerkit.embeddings import POOLINGS, PRECISIONS
from nerkit.errors import NerkitError, check_choice

TRANSFORMER_FILES = ("config.json", "model.safetensors", "tokenizer.json")
MAX_PIECES = 16  # sub-words kept per token: a 10,000-character "word" must not fill every window


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


def group_documents(sentences: Sequence[Sequence[str]], owners: Sequence[int]) -> list[list[Sequence[str]]]:
    """Consecutive sentences with the same owner (document id) as one document each, in order."""
    documents: list[list[Sequence[str]]] = []
    previous = None
    for index, (sentence, owner) in enumerate(zip(sentences, owners, strict=True)):
        if index == 0 or owner != previous:
            documents.append([])
        documents[-1].append(sentence)
        previous = owner
    return documents


def subword_pieces(transformer: Transformer, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
    """Per sentence, per token: its sub-word ids (at most MAX_PIECES; a token the tokenizer drops, such
    as an empty or zero-width one, gets the unknown sub-word, so every token has at least one)."""
    tokenizer = transformer.tokenizer
    unknown = tokenizer.convert_tokens_to_ids(tokenizer.unk_token)
    if not sentences:
        return []
    nonempty = [i for i, sentence in enumerate(sentences) if sentence]
    encoded = tokenizer(
        [list(sentences[i]) for i in nonempty], is_split_into_words=True, add_special_tokens=False
    )
    result: list[list[list[int]]] = [[] for _ in sentences]
    for row, i in enumerate(nonempty):
        pieces: list[list[int]] = [[] for _ in sentences[i]]
        for piece, owner in zip(encoded["input_ids"][row], encoded.word_ids(row), strict=True):
            if owner is not None and len(pieces[owner]) < MAX_PIECES:
                pieces[owner].append(piece)
        result[i] = [p or [unknown] for p in pieces]
    return result


def window_spans(length: int, size: int) -> list[tuple[int, int, int, int]]:
    """Overlapping windows over `length` sub-words: (start, end, keep_from, keep_to) each; every position
    is kept from exactly one window, the one where it sits farthest from an edge. Windows step by three
    quarters of their size, so a kept position has at least an eighth of a window of context each side."""
    if length <= size:
        return [(0, length, 0, length)]
    step = max(1, size - size // 4)
    starts = [*range(0, length - size, step), length - size]
    spans = []
    for k, start in enumerate(starts):
        keep_from = 0 if k == 0 else (start + starts[k - 1] + size) // 2
        keep_to = length if k == len(starts) - 1 else (starts[k + 1] + start + size) // 2
        spans.append((start, start + size, keep_from, keep_to))
    return spans


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
    sentences = [sentence for document in documents for sentence in document]
    pieces = subword_pieces(transformer, sentences)
    ranges = _ranges(documents)
    # each document read as one sub-word sequence, cut into windows: (window ids, document, span)
    flat = [
        [piece for s in sentence_range for token in pieces[s] for piece in token] for sentence_range in ranges
    ]
    windows = [
        (ids[span[0] : span[1]], document, span)
        for document, ids in enumerate(flat)
        for span in window_spans(len(ids), transformer.window)
        if span[1] > span[0]
    ]
    states = [np.zeros((len(ids), layers, transformer.dim), dtype=np.float32) for ids in flat]
    for batch in budget_batches([len(w[0]) for w in windows], batch_subwords):
        hidden = _run(transformer, [windows[i][0] for i in batch], layers)  # [windows, seq, layers, dim]
        for row, i in enumerate(batch):
            _, document, (start, _, keep_from, keep_to) = windows[i]
            states[document][keep_from:keep_to] = hidden[row, keep_from - start : keep_to - start]
    features: list[np.ndarray] = []
    for document, sentence_range in enumerate(ranges):
        counts = np.array([len(token) for s in sentence_range for token in pieces[s]], dtype=np.int64)
        starts = np.cumsum(counts) - counts  # each token's first sub-word in the document
        if pooling == "first":
            pooled = states[document][starts]
        else:
            pooled = np.add.reduceat(states[document], starts, axis=0) / counts[:, None, None]
        pooled = pooled.astype(dtype)  # [document tokens, layers, dim]
        offset = 0
        for s in sentence_range:
            features.append(pooled[offset : offset + len(pieces[s])])
            offset += len(pieces[s])
    return features


def _ranges(documents: Sequence[Sequence[Sequence[str]]]) -> list[range]:
    """The indices of each document's sentences in the flattened sentence list."""
    ranges, start = [], 0
    for document in documents:
        ranges.append(range(start, start + len(document)))
        start += len(document)
    return ranges


def budget_batches(lengths: Sequence[int], budget: int, rng: random.Random | None = None) -> list[list[int]]:
    """Indices grouped by similar length, each group at most `budget` padded items (a longer item alone);
    with `rng` (training) the lengths are jittered before sorting and the groups shuffled."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i] + (rng.uniform(-8, 8) if rng else 0))
    batches: list[list[int]] = []
    current: list[int] = []
    widest = 0
    for i in order:
        width = max(widest, lengths[i])
        if current and (len(current) + 1) * width > budget:
            batches.append(current)
            current, width = [], lengths[i]
        current.append(i)
        widest = width
    if current:
        batches.append(current)
    if rng is not None:
        rng.shuffle(batches)
    return batches


def window_inputs(
    transformer: Transformer, windows: Sequence[list[int]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Input ids and attention mask [windows, special + longest + special] of sub-word windows, each
    between the model's special sub-words ([CLS] ... [SEP]) and padded."""
    prefix, suffix = transformer.prefix, transformer.suffix
    full = len(prefix) + max(len(w) for w in windows) + len(suffix)
    pad = transformer.tokenizer.pad_token_id or 0
    ids = torch.full((len(windows), full), pad, dtype=torch.long)
    mask = torch.zeros((len(windows), full), dtype=torch.long)
    for row, window in enumerate(windows):
        sequence = [*prefix, *window, *suffix]
        ids[row, : len(sequence)] = torch.tensor(sequence)
        mask[row, : len(sequence)] = 1
    return ids, mask


def _run(transformer: Transformer, windows: Sequence[list[int]], layers: int) -> np.ndarray:
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
