"""Transformer features computed once per dataset and model, kept on disk as a memory-mapped float16 file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nerkit.embeddings.transformer import Transformer, token_features
from nerkit.files import publish_folder

CACHE_FORMAT = 2  # 2: windows step by three quarters of their size
DOCUMENTS_PER_CHUNK = 64  # documents run through the transformer and written before the next ones


def default_cache_dir() -> Path:
    """Where features are cached unless told otherwise: $XDG_CACHE_HOME/nerkit/features."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nerkit" / "features"


def features_key(
    transformer: Transformer, documents: Sequence[Sequence[Sequence[str]]], layers: int, pooling: str
) -> str:
    """A hash of everything the features depend on: the tokens and their documents, the model's weights
    and tokenizer, the window, the precision, the layers and the pooling."""
    digest = hashlib.sha256()
    settings = {
        "format": CACHE_FORMAT,
        "window": transformer.window,
        "precision": transformer.precision,
        "layers": layers,
        "pooling": pooling,
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for name in ("model.safetensors", "tokenizer.json"):
        with (transformer.path / name).open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    for document in documents:
        digest.update(b"\x1d")
        for sentence in document:
            digest.update(b"\x1e" + "\x1f".join(sentence).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def cached_token_features(
    transformer: Transformer,
    documents: Sequence[Sequence[Sequence[str]]],
    cache_dir: str | os.PathLike[str] | None = None,
    layers: int = 4,
    pooling: str = "first",
) -> list[np.ndarray]:
    """`token_features` of the documents, read from the cache when there, else computed and stored
    first; each sentence's array is a read-only view into one memory-mapped file. A damaged or stale
    entry is rebuilt; the cache folder is safe to delete."""
    layers = max(1, min(layers, transformer.layers))
    lengths = [len(sentence) for document in documents for sentence in document]
    folder = Path(cache_dir or default_cache_dir()) / features_key(transformer, documents, layers, pooling)
    shape = (sum(lengths), layers, transformer.dim)
    found = _open(folder, lengths, shape)
    if found is not None:
        return found
    shutil.rmtree(folder, ignore_errors=True)
    _store(transformer, documents, folder, layers, pooling, lengths, shape)
    stored = _open(folder, lengths, shape)
    assert stored is not None, folder
    return stored


def _store(
    transformer: Transformer,
    documents: Sequence[Sequence[Sequence[str]]],
    folder: Path,
    layers: int,
    pooling: str,
    lengths: list[int],
    shape: tuple[int, int, int],
) -> None:
    """Compute the features chunk by chunk into a temporary folder, then rename it into place (another
    process storing the same features first is fine: they are the same)."""

    def build(temporary: Path) -> None:
        temporary.mkdir()
        with (temporary / "features.f16").open("wb") as handle:
            for start in range(0, len(documents), DOCUMENTS_PER_CHUNK):
                chunk = documents[start : start + DOCUMENTS_PER_CHUNK]
                for array in token_features(transformer, chunk, layers=layers, pooling=pooling):
                    handle.write(np.ascontiguousarray(array, dtype=np.float16).tobytes())
        index = {"format": CACHE_FORMAT, "shape": list(shape), "lengths": lengths}
        (temporary / "index.json").write_text(json.dumps(index), encoding="utf-8")

    publish_folder(folder, build)


def _open(folder: Path, lengths: list[int], shape: tuple[int, int, int]) -> list[np.ndarray] | None:
    """The cached features split per sentence, or None when missing, damaged or not for these lengths."""
    try:
        index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
        data = folder / "features.f16"
        if (
            not isinstance(index, dict)
            or index.get("format") != CACHE_FORMAT
            or index.get("lengths") != lengths
            or index.get("shape") != list(shape)
            or data.stat().st_size != int(np.prod(shape)) * 2
        ):
            return None
    except (OSError, ValueError):
        return None
    if shape[0] == 0:
        return [np.zeros((0, *shape[1:]), dtype=np.float16) for _ in lengths]
    values = np.memmap(data, dtype=np.float16, mode="r", shape=shape)
    offsets = np.cumsum([0, *lengths])
    return [values[offsets[i] : offsets[i + 1]] for i in range(len(lengths))]
