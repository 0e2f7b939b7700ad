"""Tests for nerkit.model.folder: model folders round-trip, hold no pickle, fail with one exact line when damaged,
and are replaced atomically."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import safetensors.torch
import torch

import nerkit
from nerkit import files
from nerkit.errors import NerkitError
from nerkit.model import folder
from nerkit.model.folder import load_model, read_meta, save_model

RETRAIN = "retrain it, or restore the folder from a backup"


@pytest.fixture
def model_copy(tiny_model: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny model's folder, free to damage."""
    target = tmp_path / "model"
    shutil.copytree(tiny_model, target)
    return target


def edit_meta(folder: Path, change: Callable[[dict], object]) -> Path:
    """Rewrite model.json after `change` has edited its dict in place; returns model.json's path."""
    path = folder / "model.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    change(meta)
    path.write_text(json.dumps(meta), encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def load_error(folder: Path) -> str:
    with pytest.raises(NerkitError) as caught:
        load_model(folder)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- a sound folder ---------------------------------------------------------------------------------


def test_round_trip_gives_identical_weights_and_vocab(tiny_model, tmp_path):
    first = load_model(tiny_model)
    kept = {key: first.meta[key] for key in ("training", "calibration", "best_epoch")}
    save_model(tmp_path / "again", first.model, first.vocab, kept)
    second = load_model(tmp_path / "again")

    before, after = first.model.state_dict(), second.model.state_dict()
    assert list(after) == list(before)
    for name, tensor in before.items():
        assert after[name].dtype == tensor.dtype
        assert torch.equal(after[name], tensor), name
    assert second.vocab.to_json() == first.vocab.to_json()
    assert second.model.spec == first.model.spec
    assert {key: second.meta[key] for key in kept} == kept
    assert not second.model.training
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again"]


def test_model_json_contents(tiny_model):
    meta = json.loads((tiny_model / "model.json").read_text(encoding="utf-8"))
    assert meta["format"] == "nerkit-model"
    assert meta["format_version"] == folder.FORMAT_VERSION == 1
    assert meta["nerkit_version"] == nerkit.__version__
    assert meta["weights"] == {
        "file": "model.safetensors",
        "sha256": hashlib.sha256((tiny_model / "model.safetensors").read_bytes()).hexdigest(),
    }
    spec = meta["spec"]
    assert spec["scheme"] == "BIOES" and spec["output_scheme"] == "IOB2"
    assert (spec["hidden"], spec["char_filters"], spec["word_dim"]) == (16, 8, 16)
    assert meta["vocab"]["labels"] == spec["labels"]
    assert spec["labels"][0] == "O" and len(spec["labels"]) == 17  # O + B/I/E/S x 4 types
    assert meta["vocab"]["words"][:2] == ["<pad>", "<unk>"]
    assert len(meta["vocab"]["words"]) == spec["words"]
    assert len(meta["vocab"]["chars"]) == spec["chars"]
    calibration = meta["calibration"]
    assert set(calibration) == {"token_ece", "entity_ece", "entities"}
    assert 0 <= calibration["token_ece"] <= 1
    assert 0 <= calibration["entity_ece"] <= 1
    assert read_meta(tiny_model) == meta


def test_no_file_in_the_folder_is_a_pickle(tiny_model):
    names = sorted(p.name for p in tiny_model.iterdir())
    assert names == ["model.json", "model.safetensors", "train_log.jsonl"]  # the checkpoint is gone
    for path in tiny_model.iterdir():
        head = path.read_bytes()[:4]
        assert not head.startswith(b"\x80"), f"{path.name} looks like a pickle"
        assert head != b"PK\x03\x04", f"{path.name} looks like a torch.save zip"
    data = (tiny_model / "model.safetensors").read_bytes()
    header_size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_size])
    assert header["__metadata__"] == {"format": "nerkit-model"}
    json.loads((tiny_model / "model.json").read_text(encoding="utf-8"))
    for line in (tiny_model / "train_log.jsonl").read_text(encoding="utf-8").splitlines():
        assert isinstance(json.loads(line), dict)


# --- damaged folders: one exact line each ------------------------------------------------------------


def test_missing_folder(tmp_path):
    path = tmp_path / "nowhere"
    assert load_error(path) == f"{path}: no such model folder; give the --output folder of `nerkit train`"


def test_a_file_instead_of_a_folder(tmp_path):
    path = tmp_path / "model.json"
    path.write_text("{}", encoding="utf-8")
    assert load_error(path) == f"{path}: is a file, not a model folder; give the folder `nerkit train` wrote"


def test_empty_folder(tmp_path):
    assert load_error(tmp_path) == f"{tmp_path}: not a nerkit model folder: model.json is missing; {RETRAIN}"


def test_model_json_missing(model_copy):
    (model_copy / "model.json").unlink()
    assert load_error(model_copy) == (
        f"{model_copy}: not a nerkit model folder: model.json is missing; {RETRAIN}"
    )


def test_model_json_not_json(model_copy):
    (model_copy / "model.json").write_text("hello\n", encoding="utf-8")
    assert load_error(model_copy) == (
        f"{model_copy / 'model.json'}: is not valid JSON (Expecting value: line 1 column 1 (char 0)); "
        f"{RETRAIN}"
    )


def test_model_json_not_utf8(model_copy):
    (model_copy / "model.json").write_bytes(b"\xff\xfe{}")
    assert load_error(model_copy) == (
        f"{model_copy / 'model.json'}: is not valid JSON ('utf-8' codec can't decode byte 0xff in "
        f"position 0: invalid start byte); {RETRAIN}"
    )


def test_model_json_truncated(model_copy):
    path = model_copy / "model.json"
    text = path.read_text(encoding="utf-8")
    half = text[: len(text) // 2]
    path.write_text(half, encoding="utf-8")
    with pytest.raises(json.JSONDecodeError) as reason:
        json.loads(half)
    assert load_error(model_copy) == f"{path}: is not valid JSON ({reason.value}); {RETRAIN}"


@pytest.mark.parametrize(
    "content",
    [
        "[1, 2, 3]",
        '"nerkit-model"',
        "null",
        '{"format": "something-else", "format_version": 1}',
        '{"format_version": 1}',
    ],
    ids=["list", "string", "null", "wrong-format", "no-format"],
)
def test_model_json_not_a_nerkit_description(model_copy, content):
    (model_copy / "model.json").write_text(content, encoding="utf-8")
    assert load_error(model_copy) == (
        f'{model_copy / "model.json"}: is not a nerkit model description (no "format": "nerkit-model"); '
        f"{RETRAIN}"
    )


@pytest.mark.parametrize("version", [2, 99])
def test_future_format_version(model_copy, version):
    path = edit_meta(model_copy, lambda meta: meta.update(format_version=version))
    assert load_error(model_copy) == (
        f"{path}: model format version {version}, but this nerkit ({nerkit.__version__}) reads up to 1; "
        "upgrade nerkit to load it"
    )


@pytest.mark.parametrize(
    ("version", "shown"), [(None, "null"), ("1", '"1"'), (True, "true"), (0, "0"), (-1, "-1")]
)
def test_invalid_format_version(model_copy, version, shown):
    path = edit_meta(model_copy, lambda meta: meta.update(format_version=version))
    assert load_error(model_copy) == f"{path}: has no valid format_version (found {shown}); {RETRAIN}"


def test_weights_missing(model_copy):
    (model_copy / "model.safetensors").unlink()
    assert load_error(model_copy) == f"{model_copy}: model.safetensors is missing; {RETRAIN}"


def test_weights_truncated(model_copy):
    path = model_copy / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert load_error(model_copy) == (
        f"{path}: does not match the checksum in model.json (truncated or changed); {RETRAIN}"
    )


def test_weights_garbage_with_matching_checksum(model_copy):
    path = model_copy / "model.safetensors"
    garbage = b"garbage!" * 16
    path.write_bytes(garbage)
    edit_meta(model_copy, lambda meta: meta["weights"].update(sha256=hashlib.sha256(garbage).hexdigest()))
    assert load_error(model_copy) == (
        f"{path}: is not a valid safetensors file: its header length says 2,406,443,243,860,549,991 bytes, "
        f"more than the 120 the file holds after it; {RETRAIN}"
    )


def test_weights_truncated_without_checksum_still_fails_cleanly(model_copy):
    path = model_copy / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    edit_meta(model_copy, lambda meta: meta.pop("weights"))
    assert load_error(model_copy) == (
        f"{path}: is not a valid safetensors file: its tensors take 98,859 bytes, but 48,569 follow the "
        f"header; {RETRAIN}"
    )


def malicious_pickle(marker: Path) -> bytes:
    """A pickle that creates `marker` when unpickled."""

    class Boom:
        def __reduce__(self):
            return (Path.touch, (marker,))

    return pickle.dumps(Boom())


@pytest.fixture
def no_unpickling(monkeypatch):
    """Make every way of unpickling raise, so a test fails if the loader ever tries."""

    def refuse(*args, **kwargs):
        raise AssertionError("nerkit must never unpickle a model file")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(torch.serialization, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)


@pytest.mark.parametrize(
    "names",
    [("model.pt",), ("pytorch_model.bin",), ("pytorch_model.bin", "model.pt")],
    ids=["model.pt", "pytorch_model.bin", "both"],
)
def test_a_pickled_model_is_refused_unopened(tmp_path, no_unpickling, names):
    folder = tmp_path / "pickled"
    folder.mkdir()
    marker = tmp_path / "unpickled"
    for name in names:
        (folder / name).write_bytes(malicious_pickle(marker))
    expected = (
        f"{folder}: holds {', '.join(sorted(names))} but no model.json: a pickled model, which nerkit "
        "never loads; nerkit loads only folders written by `nerkit train` (safetensors + JSON)"
    )
    assert load_error(folder) == expected
    with pytest.raises(NerkitError) as caught:
        nerkit.load(str(folder), threads=1)
    assert str(caught.value) == expected
    assert not marker.exists()


def test_a_stray_pickle_beside_a_good_model_is_ignored(model_copy, tmp_path, no_unpickling):
    marker = tmp_path / "unpickled"
    (model_copy / "model.pt").write_bytes(malicious_pickle(marker))
    assert load_model(model_copy).vocab.labels[0] == "O"
    assert not marker.exists()


def test_spec_missing(model_copy):
    path = edit_meta(model_copy, lambda meta: meta.pop("spec"))
    assert load_error(model_copy) == f'{path}: has no "spec"; {RETRAIN}'


def test_vocab_not_an_object(model_copy):
    path = edit_meta(model_copy, lambda meta: meta.update(vocab=None))
    assert load_error(model_copy) == f"{path}: vocab is null, not a JSON object; {RETRAIN}"


def test_spec_with_an_unknown_key_is_refused(model_copy):
    edit_meta(model_copy, lambda meta: meta["spec"].update(bogus=1))
    message = load_error(model_copy)
    assert message.endswith("the model spec has unknown keys ['bogus']; was it written by a newer nerkit?")


def test_spec_errors_name_model_json(model_copy):
    path = edit_meta(model_copy, lambda meta: meta["spec"].update(bogus=1))
    assert load_error(model_copy) == (
        f"{path}: the model spec has unknown keys ['bogus']; was it written by a newer nerkit?"
    )
    edit_meta(model_copy, lambda meta: (meta["spec"].pop("bogus"), meta["spec"].pop("labels")))
    assert load_error(model_copy).startswith(f"{path}: the model spec is incomplete")


def test_weights_that_do_not_fit_the_spec_name_the_tensor(model_copy):
    edit_meta(model_copy, lambda meta: meta["spec"].update(hidden=32))
    assert load_error(model_copy) == (
        f"{model_copy / 'model.safetensors'}: does not fit the spec in model.json: tensor "
        f"lstms.0.0.bias_hh_l0 has shape (64,), the spec needs (128,); {RETRAIN}"
    )


@pytest.mark.parametrize("table", ["labels", "words"])
def test_vocab_that_does_not_fit_the_spec(model_copy, table):
    def change(meta: dict) -> None:
        if table == "labels":
            meta["vocab"]["labels"] = meta["vocab"]["labels"][:3]
        else:
            meta["vocab"]["words"] += [f"extra{i}" for i in range(50)]

    edit_meta(model_copy, change)
    with pytest.raises(NerkitError):
        nerkit.load(str(model_copy), threads=1).predict("extra49 met Ada Voss in Paris .")


# --- writing --------------------------------------------------------------------------------------


def test_save_model_failing_midway_leaves_the_old_folder(model_copy, monkeypatch):
    before = snapshot(model_copy)
    loaded = load_model(model_copy)
    real_save_file = safetensors.torch.save_file

    def save_then_fail(tensors, filename, metadata=None):
        real_save_file(tensors, filename, metadata=metadata)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", save_then_fail)
    with torch.no_grad():
        for parameter in loaded.model.parameters():
            parameter.add_(1.0)
    with pytest.raises(OSError, match="No space left on device"):
        save_model(model_copy, loaded.model, loaded.vocab, {"note": "new"})
    assert snapshot(model_copy) == before
    assert sorted(p.name for p in model_copy.parent.iterdir()) == ["model"]


def test_save_model_failing_into_a_new_folder_leaves_nothing(tiny_model, tmp_path, monkeypatch):
    loaded = load_model(tiny_model)

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", fail)
    with pytest.raises(OSError):
        save_model(tmp_path / "new", loaded.model, loaded.vocab, {})
    assert list(tmp_path.iterdir()) == []


def test_save_model_replaces_and_keeps_other_files(model_copy):
    loaded = load_model(model_copy)
    log = (model_copy / "train_log.jsonl").read_bytes()
    with torch.no_grad():
        for parameter in loaded.model.parameters():
            parameter.add_(1.0)
    save_model(model_copy, loaded.model, loaded.vocab, {"note": "new"})
    assert sorted(p.name for p in model_copy.parent.iterdir()) == ["model"]
    assert (model_copy / "train_log.jsonl").read_bytes() == log
    again = load_model(model_copy)
    assert again.meta["note"] == "new"
    for name, tensor in loaded.model.state_dict().items():
        assert torch.equal(again.model.state_dict()[name], tensor), name


def test_failed_swap_keeps_the_old_folders_extra_files(model_copy, monkeypatch):
    before = snapshot(model_copy)
    loaded = load_model(model_copy)
    real_rename = os.rename

    def rename(source, destination):
        if Path(source) == model_copy:
            raise OSError(16, "Device or resource busy")
        real_rename(source, destination)

    monkeypatch.setattr(files, "_exchange", lambda first, second: False)  # the two-rename fallback
    monkeypatch.setattr(files.os, "rename", rename)
    with pytest.raises(OSError):
        save_model(model_copy, loaded.model, loaded.vocab, {})
    monkeypatch.undo()
    assert snapshot(model_copy) == before


def test_saving_with_a_loaded_meta_after_changing_the_weights(model_copy, tmp_path):
    loaded = load_model(model_copy)
    with torch.no_grad():
        for parameter in loaded.model.parameters():
            parameter.mul_(0.5)
    save_model(tmp_path / "tuned", loaded.model, loaded.vocab, loaded.meta)
    load_model(tmp_path / "tuned")
