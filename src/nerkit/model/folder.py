"""The saved model folder: weights in safetensors, everything else in JSON; written atomically, loaded
without pickle."""

from __future__ import annotations

import codecs
import errno
import hashlib
import json
import os
import shutil
import stat
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from safetensors import SafetensorError

from nerkit.data.gazetteer import check_gazetteer, entity_types
from nerkit.data.vocab import Vocab
from nerkit.errors import NerkitError
from nerkit.files import PathLike, replace_folder, write_json_atomic
from nerkit.jsonl import nested_deeper_than
from nerkit.model.spec import ModelSpec, check_spec, shown
from nerkit.model.weights_file import (
    Header,
    check_filled,
    check_weights_file,
    most_file_bytes,
    read_header,
)
from nerkit.version import __version__

if TYPE_CHECKING:  # torch loads only when a model is built, so the checks run without it
    from nerkit.embeddings.transformer import Transformer
    from nerkit.model.tagger import Tagger

FORMAT = "nerkit-model"
FORMAT_VERSION = 1
MODEL_FORMATS = {FORMAT: FORMAT_VERSION}  # what read_meta accepts unless told otherwise
EXPORTED_FORMAT = "nerkit-onnx"  # a folder written by `nerkit export` (nerkit.runtime)
EXPORTED_VERSION = 1
ENSEMBLE_FORMAT = "nerkit-ensemble"  # a folder written by `nerkit ensemble` (nerkit.model.ensemble)
ENSEMBLE_VERSION = 1
LOADABLE_FORMATS = {
    **MODEL_FORMATS,
    EXPORTED_FORMAT: EXPORTED_VERSION,
    ENSEMBLE_FORMAT: ENSEMBLE_VERSION,
}  # what nerkit.load takes
WEIGHTS = "model.safetensors"
# what model.json says of a model's training, kept when the folder is rewritten (calibrated, exported)
TRAINING_RECORD = ("training", "data", "dev", "best_epoch", "continued_from", "lineage")
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
RETRAIN = "retrain it, or restore the folder from a backup"
MOST_META_BYTES = 256 << 20  # model.json: a vocabulary of the 10,000,000 vectors training may keep fits
MOST_DEPTH = 32  # lists and objects nested in model.json (nerkit writes 4 deep)
MOST_DIGITS = 30  # of a whole number in model.json (a count or a seed has at most 20)


@dataclass
class LoadedModel:
    """A tagger with its vocabulary and the rest of model.json (training options, metrics...)."""

    model: Tagger
    vocab: Vocab
    meta: dict[str, object]
    transformer: Transformer | None = None


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes, read in blocks."""
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
    from safetensors.torch import save_file

    output = Path(output)
    extra: dict[str, object] = {}
    if transformer is not None:
        transformer = Path(transformer)
        extra["transformer"] = {"sha256": file_sha256(transformer / WEIGHTS)}

    def build(folder: Path) -> None:
        if transformer is not None and transformer.resolve() != (output / TRANSFORMER).resolve():
            copy_transformer(transformer, folder / TRANSFORMER)
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
                "weights": {"file": WEIGHTS, "sha256": file_sha256(folder / WEIGHTS)},
                "spec": model.spec.to_json(),
                "vocab": vocab.to_json(),
            },
        )

    replace_folder(output, build)


def _damaged(path: Path, what: str, hint: str = RETRAIN) -> NerkitError:
    return NerkitError(what, path=path, hint=hint)


def _unreadable(path: Path, error: OSError) -> NerkitError:
    """A file of the folder the system would not let nerkit read."""
    hint = "check its permissions" if isinstance(error, PermissionError) else RETRAIN
    return _damaged(path, f"cannot be read ({error.strerror or error})", hint)


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


def _located(folder: Path, relative: str) -> tuple[Path, os.stat_result]:
    """Where `folder / relative` leads, with its status: it must stay inside the folder (a link may
    point within it, never out of it)."""
    path = folder / relative
    try:
        resolved = path.resolve(strict=True)
        status = resolved.stat()
    except RuntimeError:  # Python 3.11 reports a loop of links so
        raise _damaged(path, "is a loop of symbolic links") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _damaged(path, "is a loop of symbolic links") from None
        raise _unreadable(path, error) from None
    if not resolved.is_relative_to(folder.resolve()):
        raise NerkitError(
            f"is a link to {resolved}, outside the model folder",
            path=path,
            hint="copy what it links to into the model folder",
        )
    return resolved, status


def regular_file(folder: Path, relative: str, most_bytes: int | None = None) -> Path:
    """`folder / relative` resolved, checked to be a regular file inside the folder (never a FIFO, a
    device, a folder or a link out of it) of at most `most_bytes`: safe to open and read whole."""
    resolved, status = _located(folder, relative)
    if not stat.S_ISREG(status.st_mode):
        raise _damaged(folder / relative, f"is {_kind(status.st_mode)}, not a file")
    if most_bytes is not None and status.st_size > most_bytes:
        raise _damaged(
            folder / relative, f"is {status.st_size:,} bytes, more than the {most_bytes:,} it may be"
        )
    return resolved


def _model_folder(folder: Path) -> Path:
    """The model folder, checked to be a folder holding model.json (a pickled model is named, unread)."""
    if not folder.exists():
        raise NerkitError(
            "no such model folder", path=folder, hint="give the --output folder of `nerkit train`"
        )
    if not folder.is_dir():
        raise NerkitError(
            "is a file, not a model folder", path=folder, hint="give the folder `nerkit train` wrote"
        )
    if not (folder / META).exists() and not (folder / META).is_symlink():
        try:
            pickles = sorted(p.name for p in folder.iterdir() if p.suffix in _PICKLES)
        except OSError as error:
            raise _unreadable(folder, error) from None
        if pickles:
            raise _damaged(
                folder,
                f"holds {', '.join(pickles)} but no {META}: a pickled model, which nerkit never loads",
                "nerkit loads only folders written by `nerkit train` (safetensors + JSON)",
            )
        raise _damaged(folder, f"not a nerkit model folder: {META} is missing")
    return folder


class _LongNumber(ValueError):
    """A JSON number with more digits than any value of model.json needs."""

    def __init__(self, digits: int) -> None:
        super().__init__(digits)
        self.digits = digits


def _whole_number(text: str) -> int:
    """A JSON integer, refused past MOST_DIGITS digits: no count or seed nerkit writes has more."""
    digits = len(text.lstrip("-"))
    if digits > MOST_DIGITS:
        raise _LongNumber(digits)
    return int(text)


def _parse_meta(raw: bytes, path: Path) -> object:
    """model.json's bytes as JSON (a leading BOM dropped): UTF-8, numbers of at most MOST_DIGITS digits,
    nested at most MOST_DEPTH deep."""
    deep = _damaged(path, f"has arrays or objects nested more than {MOST_DEPTH} deep")
    try:
        meta = json.loads(raw.removeprefix(codecs.BOM_UTF8).decode("utf-8"), parse_int=_whole_number)
    except _LongNumber as error:
        raise _damaged(
            path,
            f"has a number of {error.digits:,} digits, more than any in a model description ({MOST_DIGITS})",
        ) from None
    except RecursionError:
        raise deep from None
    except ValueError as error:  # not UTF-8, or not JSON
        raise _damaged(path, f"is not valid JSON ({error})") from None
    if nested_deeper_than(meta, MOST_DEPTH):
        raise deep
    return meta


def read_meta(folder: PathLike, formats: Mapping[str, int] = MODEL_FORMATS) -> dict[str, object]:
    """model.json of a model folder, checked: a regular file inside the folder, of at most
    MOST_META_BYTES, holding a JSON object of one of `formats` (format: newest version read)."""
    folder = _model_folder(Path(folder))
    meta_path = folder / META
    try:
        with regular_file(folder, META, MOST_META_BYTES).open("rb") as handle:
            raw = handle.read(MOST_META_BYTES + 1)
    except OSError as error:
        raise _unreadable(meta_path, error) from None
    if len(raw) > MOST_META_BYTES:  # it grew since it was checked
        raise _damaged(meta_path, f"is more than the {MOST_META_BYTES:,} bytes it may be")
    meta = _parse_meta(raw, meta_path)
    if not isinstance(meta, dict) or meta.get("format") not in formats:
        wanted = " or ".join(f'"format": "{name}"' for name in formats)
        raise _damaged(meta_path, f"is not a nerkit model description (no {wanted})")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _damaged(meta_path, f"has no valid format_version (found {shown(version)})")
    newest = formats[str(meta["format"])]
    if version > newest:
        raise NerkitError(
            f"model format version {version}, but this nerkit ({__version__}) reads up to {newest}",
            path=meta_path,
            hint="upgrade nerkit to load it",
        )
    return meta


def _vocab_table(data: dict[str, object], name: str, size: int) -> list[str]:
    """One table of model.json's vocabulary: a list of `size` distinct strings."""
    table = data.get(name)
    if not isinstance(table, list):
        raise NerkitError(f"vocab.{name} is {shown(table)}, not a list of strings")
    if len(table) != size:
        raise NerkitError(f"its vocabulary has {len(table):,} {name} but its spec {size:,}")
    for index, item in enumerate(table):
        if not isinstance(item, str):
            raise NerkitError(f"vocab.{name}[{index}] is {shown(item)}, not a string")
    if len(set(table)) != size:
        repeated = next(item for item, count in Counter(table).items() if count > 1)
        raise NerkitError(f"vocab.{name} lists {shown(repeated)} twice")
    return table


def check_vocab(data: object, spec: ModelSpec) -> Vocab:
    """model.json's vocabulary, checked: lists of distinct strings, as long as the spec says, and the
    spec's labels in its order."""
    if not isinstance(data, dict):
        raise NerkitError(f"vocab is {shown(data)}, not a JSON object")
    words = _vocab_table(data, "words", spec.words)
    chars = _vocab_table(data, "chars", spec.chars)
    labels = _vocab_table(data, "labels", len(spec.labels))
    if labels != spec.labels:
        raise NerkitError("its vocabulary's labels are not its spec's, in the same order")
    gazetteer = None
    if spec.gazetteer_dim:
        gazetteer = check_gazetteer(data.get("gazetteer"), entity_types(labels))
    elif "gazetteer" in data:
        raise NerkitError("its vocabulary has a gazetteer, but its spec no gazetteer features")
    return Vocab(words=words, chars=chars, labels=labels, gazetteer=gazetteer)


def spec_and_vocab(folder: Path, meta: dict[str, object]) -> tuple[ModelSpec, Vocab]:
    """The spec and the vocabulary in model.json, each field checked, before anything is built."""
    for key in ("spec", "vocab"):
        if key not in meta:
            raise _damaged(folder / META, f'has no "{key}"')
    try:
        spec = check_spec(meta["spec"])
        return spec, check_vocab(meta["vocab"], spec)
    except NerkitError as error:
        raise _damaged(folder / META, error.what, error.hint or RETRAIN) from None


def _checked_weights(folder: Path, spec: ModelSpec, checksum: object = None) -> Path:
    """model.safetensors, checked before its tensors are read: a regular file inside the folder, no
    larger than the spec can need, of the `checksum` when one is given, declaring the spec's tensors."""
    path = folder / WEIGHTS
    if not path.exists() and not path.is_symlink():
        raise _damaged(folder, f"{WEIGHTS} is missing")
    expected = spec.tensors()
    resolved = regular_file(folder, WEIGHTS)
    size, most = resolved.stat().st_size, most_file_bytes(expected)
    if size > most:
        raise _damaged(path, f"is {size:,} bytes, more than the {most:,} the spec in model.json can need")
    header = _header(path, resolved)
    check_sum(path, resolved, checksum)
    try:
        check_weights_file(header, expected)
    except NerkitError as error:
        raise _damaged(path, error.what) from None
    return resolved


def _header(path: Path, resolved: Path) -> Header:
    """The safetensors header of `path` (checked to be a regular file, found at `resolved`)."""
    try:
        return read_header(resolved)
    except NerkitError as error:
        raise _damaged(path, error.what) from None
    except OSError as error:
        raise _unreadable(path, error) from None


def check_sum(path: Path, resolved: Path, checksum: object) -> None:
    """Raise NerkitError when model.json gives a checksum for `path` and its bytes do not have it."""
    try:
        matches = not checksum or file_sha256(resolved) == checksum
    except OSError as error:
        raise _unreadable(path, error) from None
    if not matches:
        raise _damaged(path, "does not match the checksum in model.json (truncated or changed)")


def recorded_sha256(meta: dict[str, object], key: str) -> object:
    """The sha256 model.json records under `key` ("weights", "transformer"), or None."""
    entry = meta.get(key)
    return entry.get("sha256") if isinstance(entry, dict) else None


def model_spec(folder: PathLike) -> ModelSpec:
    """The spec in a model folder's model.json (or an exported one's), checked field by field, against
    the vocabulary and, in a model folder, against the weights file's header (its tensors not read):
    building it allocates no more than the file holds."""
    folder = Path(folder)
    meta = read_meta(folder, LOADABLE_FORMATS)
    spec, _ = spec_and_vocab(folder, meta)
    if meta["format"] == FORMAT:
        _checked_weights(folder, spec)
    return spec


def load_trainable(folder: PathLike, precision: str, use: str) -> LoadedModel:
    """A model folder loaded with its torch weights for `use` (a flag: --init, --teacher); an exported
    (ONNX) folder is one line of error saying which folder to give instead."""
    meta = read_meta(folder, LOADABLE_FORMATS)
    if meta.get("format") == EXPORTED_FORMAT:
        raise NerkitError(
            f"is an exported (ONNX) model; {use} needs the model's own weights",
            path=folder,
            hint=f"give {use} the model folder it was exported from",
        )
    if meta.get("format") == ENSEMBLE_FORMAT:
        raise NerkitError(
            f"is an ensemble; {use} takes one model", path=folder, hint="give one of its member-N folders"
        )
    return load_model(folder, precision, meta)


def copy_transformer(source: Path, target: Path) -> None:
    """Copy a transformer folder's config, weights and tokenizer files (nothing else) into a new `target`."""
    from nerkit.embeddings.transformer import TRANSFORMER_FILES

    target.mkdir()
    for name in (*TRANSFORMER_FILES, *_TRANSFORMER_EXTRAS):
        if (source / name).is_file():
            shutil.copyfile(source / name, target / name)


def load_model(
    folder: PathLike,
    precision: str = "auto",
    meta: dict[str, object] | None = None,
    with_transformer: bool = True,
) -> LoadedModel:
    """Load a model folder written by save_model; never unpickles, never runs code from the folder, and
    checks every file before reading it (see `model_spec`), the transformer's too.
    `precision` is what its transformer, if any, computes features in (see PRECISIONS); `meta` is its
    model.json as `read_meta` returned it, when the caller has read it already. Without
    `with_transformer` its transformer is neither checked nor loaded (an ensemble reads one for all)."""
    from safetensors.torch import load_file

    from nerkit.model.tagger import Tagger

    folder = Path(folder)
    meta = read_meta(folder) if meta is None else meta
    spec, vocab = spec_and_vocab(folder, meta)
    weights_path = _checked_weights(folder, spec, recorded_sha256(meta, "weights"))
    transformer = (
        folder_transformer(folder, spec, recorded_sha256(meta, "transformer"), precision)
        if with_transformer
        else None
    )
    try:
        weights = load_file(weights_path)
    except (SafetensorError, OSError, ValueError) as error:
        raise _damaged(folder / WEIGHTS, f"cannot be read as safetensors ({error})") from None
    model = Tagger(spec)
    model.load_state_dict(weights, strict=True)
    model.eval()
    return LoadedModel(model=model, vocab=vocab, meta=meta, transformer=transformer)


def folder_transformer(
    folder: Path, spec: ModelSpec, checksum: object, precision: str = "auto"
) -> Transformer | None:
    """The transformer in `folder`/transformer/ that a model of `spec` reads (None when it reads none),
    its files checked against `checksum` (its weights' recorded sha256) before it loads."""
    if not spec.transformer_dim:
        return None
    _check_transformer_folder(folder, checksum)
    return _load_transformer(folder, spec, precision)


def _check_transformer_folder(folder: Path, checksum: object) -> None:
    """The transformer/ sub-folder, checked before the transformer loads: a folder inside the model
    folder whose every entry is a regular file inside it, its weights whole safetensors of `checksum`."""
    weights = f"{TRANSFORMER}/{WEIGHTS}"
    if not (folder / weights).exists() and not (folder / weights).is_symlink():
        raise _damaged(folder, f"{weights} is missing but the model uses transformer features")
    _, status = _located(folder, TRANSFORMER)
    if not stat.S_ISDIR(status.st_mode):
        raise _damaged(folder / TRANSFORMER, f"is {_kind(status.st_mode)}, not a folder")
    for entry in sorted((folder / TRANSFORMER).iterdir()):
        if entry.name != WEIGHTS:
            regular_file(folder, f"{TRANSFORMER}/{entry.name}", MOST_META_BYTES)
    resolved = regular_file(folder, weights)
    header = _header(folder / weights, resolved)
    check_sum(folder / weights, resolved, checksum)
    try:
        check_filled(header)
    except NerkitError as error:
        raise _damaged(folder / weights, error.what) from None


def _load_transformer(folder: Path, spec: ModelSpec, precision: str) -> Transformer:
    """The folder's transformer (its files checked already) for a spec that uses one."""
    from nerkit.embeddings.transformer import load_transformer

    path = folder / TRANSFORMER
    try:
        transformer = load_transformer(path, window=spec.transformer_window or None, precision=precision)
    except NerkitError as error:
        raise _damaged(path, error.what, error.hint) from None
    if transformer.dim != spec.transformer_dim or transformer.layers < spec.transformer_layers:
        raise _damaged(
            path, f"its transformer is {transformer.dim} wide, the spec expects {spec.transformer_dim}"
        )
    return transformer
