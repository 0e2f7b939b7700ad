"""The saved model folder: weights in safetensors, everything else in JSON; written atomically, loaded
without pickle."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from nerkit.data.vocab import Vocab
from nerkit.embeddings.transformer import TRANSFORMER_FILES, Transformer, load_transformer
from nerkit.errors import NerkitError
from nerkit.files import PathLike, replace_folder, write_json_atomic
from nerkit.model.spec import ModelSpec
from nerkit.model.tagger import Tagger
from nerkit.version import __version__

FORMAT = "nerkit-model"
FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
META = "model.json"
TRANSFORMER = "transformer"  # the sub-folder holding a feature transformer's config, weights and tokenizer
_TRANSFORMER_EXTRAS = (
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
)
_PICKLES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")


@dataclass
class LoadedModel:
    """A tagger with its vocabulary and the rest of model.json (training options, metrics...)."""

    model: Tagger
    vocab: Vocab
    meta: dict[str, object]
    transformer: Transformer | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(
    output: PathLike,
    model: Tagger,
    vocab: Vocab,
    meta: dict[str, object],
    transformer: PathLike | None = None,
) -> None:
    """Write a self-contained model folder atomically: model.safetensors, model.json and, for a model
    with transformer features, the `transformer` folder's config, weights and tokenizer files."""
    output = Path(output)
    extra: dict[str, object] = {}
    if transformer is not None:
        transformer = Path(transformer)
        extra["transformer"] = {"sha256": _sha256(transformer / WEIGHTS)}

    def build(folder: Path) -> None:
        if transformer is not None and transformer.resolve() != (output / TRANSFORMER).resolve():
            (folder / TRANSFORMER).mkdir()
            for name in (*TRANSFORMER_FILES, *_TRANSFORMER_EXTRAS):
                if (transformer / name).is_file():
                    shutil.copyfile(transformer / name, folder / TRANSFORMER / name)
        weights = {name: tensor.detach().contiguous() for name, tensor in model.state_dict().items()}
        save_file(weights, folder / WEIGHTS, metadata={"format": FORMAT})
        (folder / WEIGHTS).chmod(0o644)
        write_json_atomic(
            folder / META,
            {
                **meta,
                **extra,
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "nerkit_version": __version__,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "weights": {"file": WEIGHTS, "sha256": _sha256(folder / WEIGHTS)},
                "spec": model.spec.to_json(),
                "vocab": vocab.to_json(),
            },
        )

    replace_folder(output, build)


def _damaged(
    path: Path, what: str, hint: str = "retrain it, or restore the folder from a backup"
) -> NerkitError:
    return NerkitError(what, path=path, hint=hint)


def read_meta(folder: PathLike) -> dict[str, object]:
    """model.json of a model folder, checked: a JSON object of the right format and version."""
    folder = Path(folder)
    if not folder.exists():
        raise NerkitError(
            "no such model folder", path=folder, hint="give the --output folder of `nerkit train`"
        )
    if not folder.is_dir():
        raise NerkitError(
            "is a file, not a model folder", path=folder, hint="give the folder `nerkit train` wrote"
        )
    meta_path = folder / META
    if not meta_path.exists():
        pickles = sorted(p.name for p in folder.iterdir() if p.suffix in _PICKLES)
        if pickles:
            raise _damaged(
                folder,
                f"holds {', '.join(pickles)} but no {META}: a pickled model, which nerkit never loads",
                "nerkit loads only folders written by `nerkit train` (safetensors + JSON)",
            )
        raise _damaged(folder, f"not a nerkit model folder: {META} is missing")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _damaged(meta_path, f"is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _damaged(meta_path, f'is not a nerkit model description (no "format": "{FORMAT}")')
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _damaged(meta_path, f"has no valid format_version (found {version!r})")
    if version > FORMAT_VERSION:
        raise NerkitError(
            f"model format version {version}, but this nerkit ({__version__}) reads up to {FORMAT_VERSION}",
            path=meta_path,
            hint="upgrade nerkit to load it",
        )
    return meta


def model_spec(folder: PathLike) -> ModelSpec:
    """The spec in a model folder's model.json, checked (no weights read)."""
    meta = read_meta(folder)
    try:
        return ModelSpec.from_json(meta["spec"])  # type: ignore[arg-type]
    except (KeyError, TypeError) as error:
        raise NerkitError(f"model.json has no usable spec ({error})", path=folder) from None


def _shape_mismatch(expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor]) -> str:
    """The first difference between the tensors a spec needs and those a weights file holds, or ''."""
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            return f"tensor {name} is missing"
        if name not in expected:
            return f"tensor {name} is not part of this model"
        if tuple(found[name].shape) != tuple(expected[name].shape):
            return f"tensor {name} has shape {tuple(found[name].shape)}, the spec needs {tuple(expected[name].shape)}"
        if found[name].dtype != expected[name].dtype:
            return f"tensor {name} is {found[name].dtype}, the model needs {expected[name].dtype}"
    return ""


def load_model(folder: PathLike, precision: str = "auto") -> LoadedModel:
    """Load a model folder written by save_model; never unpickles, never runs code from the folder.
    `precision` is what its transformer, if any, computes features in (see PRECISIONS)."""
    folder = Path(folder)
    meta = read_meta(folder)
    weights_path = folder / WEIGHTS
    if not weights_path.exists():
        raise _damaged(folder, f"{WEIGHTS} is missing")
    expected = meta.get("weights", {})
    if isinstance(expected, dict) and expected.get("sha256") and _sha256(weights_path) != expected["sha256"]:
        raise _damaged(weights_path, "does not match the checksum in model.json (truncated or changed)")
    try:
        spec = ModelSpec.from_json(meta["spec"])  # type: ignore[arg-type]
        vocab = Vocab.from_json(meta["vocab"])  # type: ignore[arg-type]
    except NerkitError as error:
        raise _damaged(folder / META, error.what, error.hint) from None
    except (KeyError, TypeError, ValueError) as error:
        raise _damaged(folder / META, f"lacks a usable spec or vocabulary ({error})") from None
    sizes = {"labels": (len(vocab.labels), len(spec.labels)), "words": (len(vocab.words), spec.words)}
    sizes["characters"] = (len(vocab.chars), spec.chars)
    for name, (found, expected) in sizes.items():
        if found != expected or (name == "labels" and vocab.labels != spec.labels):
            raise _damaged(folder / META, f"its vocabulary has {found} {name} but its spec {expected}")
    try:
        weights = load_file(weights_path)
    except (SafetensorError, OSError, ValueError) as error:
        raise _damaged(weights_path, f"cannot be read as safetensors ({error})") from None
    model = Tagger(spec)
    mismatch = _shape_mismatch(model.state_dict(), weights)
    if mismatch:
        raise _damaged(weights_path, f"does not fit the spec in model.json: {mismatch}")
    model.load_state_dict(weights, strict=True)
    model.eval()
    return LoadedModel(
        model=model, vocab=vocab, meta=meta, transformer=_load_transformer(folder, spec, meta, precision)
    )


def _load_transformer(
    folder: Path, spec: ModelSpec, meta: dict[str, object], precision: str
) -> Transformer | None:
    """The model folder's own transformer, checked against model.json, when the spec uses one."""
    if not spec.transformer_dim:
        return None
    path = folder / TRANSFORMER
    if not (path / WEIGHTS).is_file():
        raise _damaged(folder, f"{TRANSFORMER}/{WEIGHTS} is missing but the model uses transformer features")
    expected = meta.get("transformer")
    if (
        isinstance(expected, dict)
        and expected.get("sha256")
        and _sha256(path / WEIGHTS) != expected["sha256"]
    ):
        raise _damaged(path / WEIGHTS, "does not match the checksum in model.json (truncated or changed)")
    try:
        transformer = load_transformer(path, window=spec.transformer_window or None, precision=precision)
    except NerkitError as error:
        raise _damaged(path, error.what, error.hint) from None
    if transformer.dim != spec.transformer_dim or transformer.layers < spec.transformer_layers:
        raise _damaged(
            path, f"its transformer is {transformer.dim} wide, the spec expects {spec.transformer_dim}"
        )
    return transformer
