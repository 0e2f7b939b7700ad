"""An exported transformer without torch: sub-words by `tokenizers`, hidden layers by onnxruntime, pooling in numpy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from nerkit.embeddings.subwords import pooled_features, split_subwords, window_ids
from nerkit.errors import NerkitError
from nerkit.model.folder import META
from nerkit.model.spec import WIDEST_WINDOW, ModelSpec

TRANSFORMER_NETWORK = "transformer.onnx"
TOKENIZER_FILE = "tokenizer.json"
TRANSFORMER_INPUTS = ("input_ids", "attention_mask")
MOST_TRANSFORMER_BYTES = 2 << 30  # the most one ONNX file (a protobuf message) can hold
MOST_TOKENIZER_BYTES = 64 << 20  # a tokenizer.json: multilingual vocabularies take some megabytes
MOST_SPECIALS = 8  # special sub-words around a window ([CLS] ... [SEP]: one each)
REEXPORT = "export it again with nerkit export, or restore the folder from a backup"


@dataclass
class ExportedTransformer:
    """A model's transformer as exported: its tokenizer, an onnxruntime session giving the hidden
    layers the tagger mixes, and the window rules it was trained with."""

    path: Path  # the exported folder, for error messages
    tokenizer: Any  # a tokenizers.Tokenizer
    session: Any  # an onnxruntime.InferenceSession
    prefix: list[int]  # special sub-words before a window's content
    suffix: list[int]  # and after it
    pad: int  # the padding sub-word
    unknown: int  # the sub-word of a token the tokenizer drops
    window: int  # content sub-words per window
    layers: int  # hidden layers the graph gives (the tagger's transformer_layers)
    dim: int  # hidden size

    def features(
        self, documents: Sequence[Sequence[Sequence[str]]], layers: int, pooling: str
    ) -> list[np.ndarray]:
        """Per sentence in order: [tokens, layers, dim] float16 features, as `token_features` computes
        them in float32 with the model folder's transformer."""
        sentences = [sentence for document in documents for sentence in document]
        pieces = split_subwords(self.tokenizer, self.unknown, sentences)
        return pooled_features(pieces, documents, self._read, self.window, (self.layers, self.dim), pooling)

    def _read(self, windows: list[Sequence[int]]) -> np.ndarray:
        """The hidden layers of each window's content: [windows, longest, layers, dim] float32."""
        ids, mask = window_ids(windows, self.prefix, self.suffix, self.pad)
        try:
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        except Exception as error:  # onnxruntime's own classes: a graph that does not fit its tokenizer
            raise NerkitError(
                f"{TRANSFORMER_NETWORK} failed on its input ({str(error).splitlines()[0]})",
                path=self.path,
                hint=REEXPORT,
            ) from None
        start = len(self.prefix)
        return np.asarray(hidden[:, start : start + max(len(w) for w in windows)], dtype=np.float32)


def load_exported_transformer(
    folder: Path, meta: dict[str, object], spec: ModelSpec, network: Path, tokenizer_file: Path, threads: int
) -> ExportedTransformer:
    """The exported transformer of `folder`, its files already checked (`network`, `tokenizer_file`):
    model.json's window rules checked against the spec and the tokenizer, the graph's inputs and output
    shape against the spec."""
    from tokenizers import Tokenizer

    from nerkit.runtime.exported import onnx_session

    rules = _rules(folder, meta.get("subwords"), spec)
    try:
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
    except Exception as error:  # tokenizers raises its own Exception subclass for a malformed file
        raise _damaged(folder / TOKENIZER_FILE, f"cannot be read as a tokenizer ({error})") from None
    size = tokenizer.get_vocab_size(with_added_tokens=True)
    ids = [*rules["prefix"], *rules["suffix"], rules["pad"], rules["unknown"]]
    if any(i >= size for i in ids):
        raise _damaged(folder / META, f"subwords name ids beyond the tokenizer's {size:,}")
    session = onnx_session(folder / TRANSFORMER_NETWORK, network, threads, list(TRANSFORMER_INPUTS))
    shape = session.get_outputs()[0].shape
    if len(shape) != 4 or shape[2:] != [spec.transformer_layers, spec.transformer_dim]:
        raise _damaged(
            folder / TRANSFORMER_NETWORK,
            f"gives hidden layers shaped {shape}, not [windows, subwords, "
            f"{spec.transformer_layers}, {spec.transformer_dim}]",
        )
    return ExportedTransformer(
        folder,
        tokenizer,
        session,
        rules["prefix"],
        rules["suffix"],
        rules["pad"],
        rules["unknown"],
        rules["window"],
        spec.transformer_layers,
        spec.transformer_dim,
    )


def _rules(folder: Path, rules: object, spec: ModelSpec) -> dict[str, Any]:
    """model.json's "subwords": whole numbers in range, lists of a few ids, layers and dim as the spec's."""
    path = folder / META
    if not isinstance(rules, dict):
        raise _damaged(path, 'has no "subwords" object for its transformer')
    for key in ("prefix", "suffix"):
        value = rules.get(key)
        if not isinstance(value, list) or len(value) > MOST_SPECIALS or not all(_whole(v) for v in value):
            raise _damaged(path, f"subwords.{key} is not a list of at most {MOST_SPECIALS} sub-word ids")
    for key in ("pad", "unknown"):
        if not _whole(rules.get(key)):
            raise _damaged(path, f"subwords.{key} is not a sub-word id")
    window = rules.get("window")
    if not _whole(window) or not 1 <= window <= WIDEST_WINDOW:
        raise _damaged(path, f"subwords.window is not a whole number from 1 to {WIDEST_WINDOW}")
    if (rules.get("layers"), rules.get("dim")) != (spec.transformer_layers, spec.transformer_dim):
        raise _damaged(path, "subwords.layers and .dim are not the spec's transformer_layers and _dim")
    return rules


def _whole(value: object) -> TypeGuard[int]:
    """A non-negative int (bool refused)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _damaged(path: Path, what: str) -> NerkitError:
    return NerkitError(what, path=path, hint=REEXPORT)
