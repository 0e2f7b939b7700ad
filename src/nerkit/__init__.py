"""nerkit: train, evaluate and use named-entity-recognition models from CoNLL data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nerkit.errors import NerkitError
from nerkit.version import __version__

if TYPE_CHECKING:
    from nerkit.pipeline import Pipeline

__all__ = ["NerkitError", "__version__", "load"]


def load(path: str, threads: int = 0, precision: str = "auto") -> Pipeline:
    """Load a model folder written by `nerkit train`: `nerkit.load(path).predict("text")`; `precision`
    is what a transformer model computes its features in ("auto", "float32" or "bfloat16")."""
    from nerkit.pipeline import load as load_pipeline  # torch loads only when a model does

    return load_pipeline(path, threads, precision)
