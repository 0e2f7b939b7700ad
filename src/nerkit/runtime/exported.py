"""An exported model folder loaded and checked without torch, tagging with onnxruntime and numpy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nerkit.data.batches import Padded
from nerkit.data.vocab import Vocab
from nerkit.errors import NerkitError
from nerkit.files import PathLike
from nerkit.model.folder import (
    EXPORTED_FORMAT,
    EXPORTED_VERSION,
    META,
    check_sum,
    read_meta,
    recorded_sha256,
    regular_file,
    spec_and_vocab,
)
from nerkit.model.spec import ModelSpec
from nerkit.model.weights_file import most_file_bytes
from nerkit.runtime.crf import chosen_confidences, constrained_scores, marginals, viterbi
from nerkit.runtime.exported_transformer import (
    MOST_TOKENIZER_BYTES,
    MOST_TRANSFORMER_BYTES,
    TOKENIZER_FILE,
    TRANSFORMER_NETWORK,
    ExportedTransformer,
    load_exported_transformer,
)

NETWORK_FILE = "model.onnx"
CRF_FILE = "crf.safetensors"
QUANTIZATIONS = ("int8",)
NETWORK_OVERHEAD = 4 << 20  # bytes of an ONNX graph beyond its weights: the operators, names, shapes
CRF_OVERHEAD = 1 << 12  # bytes of crf.safetensors beyond its arrays: the header
CRF_ARRAYS = ("transitions", "start", "end", "allowed", "allowed_start", "allowed_end")
INPUTS = ["words", "chars", "casing", "lengths"]
FEATURES = "features"  # the fifth input of a model that reads transformer features
GAZETTEER = "gazetteer"  # the last input of a model that reads gazetteer features
REEXPORT = "export it again with nerkit export, or restore the folder from a backup"


@dataclass
class ExportedTagger:
    """The network as an onnxruntime session and the CRF's constrained scores as numpy arrays."""

    spec: ModelSpec
    session: Any  # onnxruntime.InferenceSession (onnxruntime has no type hints)
    transitions: np.ndarray  # [tags, tags] float32, forbidden moves at FORBIDDEN
    start: np.ndarray  # [tags]
    end: np.ndarray  # [tags]

    def network(self, padded: Padded) -> np.ndarray:
        """Emission scores [batch, seq, tags] float32 from onnxruntime."""
        lengths = padded.mask.sum(1).astype(np.int64)
        feeds = {"words": padded.words, "chars": padded.chars, "casing": padded.casing, "lengths": lengths}
        if padded.features is not None:
            feeds[FEATURES] = padded.features
        if padded.gazetteer is not None:
            feeds[GAZETTEER] = padded.gazetteer
        return np.asarray(self.session.run(None, feeds)[0])

    def decode(
        self, scores: np.ndarray, padded: Padded, confidence: bool = True
    ) -> tuple[list[list[int]], list[list[float]]]:
        """Best label rows per sentence (numpy Viterbi) and, with `confidence`, the CRF marginal of each
        chosen label (numpy forward-backward)."""
        lengths = padded.mask.sum(1).astype(np.int64)
        paths = viterbi(scores, lengths, self.transitions, self.start, self.end)
        if not confidence:
            return paths, [[] for _ in paths]
        probabilities = marginals(scores, lengths, self.transitions, self.start, self.end)
        return paths, chosen_confidences(paths, probabilities, lengths)


@dataclass
class LoadedExport:
    """An exported model ready to tag, with its vocabulary and the rest of its model.json."""

    tagger: ExportedTagger
    vocab: Vocab
    meta: dict[str, object]
    transformer: ExportedTransformer | None  # for a model that reads transformer features


def load_exported(folder: PathLike, threads: int, meta: dict[str, object] | None = None) -> LoadedExport:
    """Load an exported model folder (written by `nerkit export`), every file checked before it is read:
    model.json (unless `meta` is it, as `read_meta` returned it), then model.onnx and crf.safetensors
    against their checksums and the sizes the spec justifies. Never imports torch; `threads` is
    onnxruntime's thread count."""
    folder = Path(folder)
    meta = read_meta(folder, {EXPORTED_FORMAT: EXPORTED_VERSION}) if meta is None else meta
    spec, vocab = spec_and_vocab(folder, meta)
    network = _checked_file(
        folder, meta, "network", NETWORK_FILE, most_file_bytes(spec.tensors()) + NETWORK_OVERHEAD
    )
    tags = len(spec.labels)
    crf = _read_crf(
        folder, _checked_file(folder, meta, "crf", CRF_FILE, 6 * 4 * tags * tags + CRF_OVERHEAD), tags
    )
    transitions, start, end = constrained_scores(*crf)
    inputs = network_inputs(spec)
    session = onnx_session(folder / NETWORK_FILE, network, threads, inputs)
    transformer = None
    if spec.transformer_dim:
        transformer_network = _checked_file(
            folder, meta, "transformer_network", TRANSFORMER_NETWORK, MOST_TRANSFORMER_BYTES
        )
        tokenizer = _checked_file(folder, meta, "tokenizer", TOKENIZER_FILE, MOST_TOKENIZER_BYTES)
        transformer = load_exported_transformer(folder, meta, spec, transformer_network, tokenizer, threads)
    return LoadedExport(ExportedTagger(spec, session, transitions, start, end), vocab, meta, transformer)


def _damaged(path: Path, what: str) -> NerkitError:
    return NerkitError(what, path=path, hint=REEXPORT)


def _checked_file(folder: Path, meta: dict[str, object], key: str, name: str, most_bytes: int) -> Path:
    """`folder / name`, a regular file inside the folder of at most `most_bytes`, whose sha256 is the one
    model.json records under `key`."""
    path = folder / name
    if not path.exists() and not path.is_symlink():
        raise _damaged(folder, f"{name} is missing")
    checksum = recorded_sha256(meta, key)
    if not isinstance(checksum, str):
        raise _damaged(folder / META, f'has no "{key}" checksum for {name}')
    resolved = regular_file(folder, name, most_bytes)
    check_sum(path, resolved, checksum)
    return resolved


def _read_crf(folder: Path, resolved: Path, tags: int) -> tuple[np.ndarray, ...]:
    """The CRF's six arrays, each of the shape and type `tags` labels need."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = folder / CRF_FILE
    try:
        arrays = load_file(str(resolved))
    except (SafetensorError, OSError, ValueError) as error:
        raise _damaged(path, f"cannot be read as safetensors ({error})") from None
    if sorted(arrays) != sorted(CRF_ARRAYS):
        raise _damaged(path, f"holds {', '.join(sorted(arrays))}, not {', '.join(CRF_ARRAYS)}")
    found = []
    for name in CRF_ARRAYS:
        shape = (tags, tags) if name in ("transitions", "allowed") else (tags,)
        dtype = np.float32 if name in ("transitions", "start", "end") else np.uint8
        array = arrays[name]
        if array.shape != shape or array.dtype != dtype:
            raise _damaged(
                path,
                f"{name} is {array.dtype.name}{list(array.shape)}, not {np.dtype(dtype).name}{list(shape)}",
            )
        found.append(array.astype(bool) if dtype == np.uint8 else array)
    return tuple(found)


def network_inputs(spec: ModelSpec) -> list[str]:
    """The names of the exported network's inputs for a model of `spec`, in order."""
    return [
        *INPUTS,
        *([FEATURES] if spec.transformer_dim else []),
        *([GAZETTEER] if spec.gazetteer_dim else []),
    ]


def onnx_session(path: Path, resolved: Path, threads: int, inputs: list[str]) -> Any:
    """An onnxruntime session over the graph at `path` (read from `resolved`), checked to take `inputs`
    and give one output."""
    import onnxruntime  # the optional extra nerkit[runtime]: the CLI names it when it is missing

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    try:
        session = onnxruntime.InferenceSession(str(resolved), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own classes for a malformed graph
        raise _damaged(path, f"cannot be loaded as an ONNX network ({str(error).splitlines()[0]})") from None
    names = [found.name for found in session.get_inputs()]
    if names != inputs or len(session.get_outputs()) != 1:
        raise _damaged(path, f"takes {', '.join(names)}, not {', '.join(inputs)}")
    return session
