"""A stranger's model folder through `nerkit spec`, `predict`, `evaluate` and `nerkit.load`: whatever its
model.json, weights or transformer/ hold, one line naming the file and exit 2, no code run, no model built
and no weights read or hashed beyond what the files justify, and the folder left as it was."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import safetensors.torch

import nerkit
from nerkit.cli import main
from nerkit.errors import NerkitError
from nerkit.model import folder as model_folder
from nerkit.model import tagger as model_tagger
from nerkit.model.spec import ModelSpec

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
RETRAIN = "retrain it, or restore the folder from a backup"
LINK = "copy what it links to into the model folder"
SPARSE = 1 << 34  # a 16 GiB file that takes no disk: reading or hashing it would take minutes


# --- helpers ------------------------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def state(folder: Path) -> dict[str, object]:
    """What the folder holds, links and special files included, read without following or opening them
    (a large file by its size and time)."""
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode):
        return {".": describe(folder)}
    found: dict[str, object] = {}
    for root, folders, files in os.walk(folder):
        for name in [*folders, *files]:
            path = Path(root, name)
            found[str(path.relative_to(folder))] = describe(path)
    return found


def describe(path: Path) -> object:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISREG(info.st_mode):
        content = path.read_bytes() if info.st_size <= 1 << 20 else info.st_mtime_ns
        return ("file", info.st_size, content)
    return ("other", stat.S_IFMT(info.st_mode))


def commands(folder: Path, text: Path, spec: bool = True) -> list[list[str]]:
    """Every command that reads a model folder (`spec` reads no transformer)."""
    reading = [
        ["predict", str(folder), str(text), "--threads", "1"],
        ["evaluate", str(folder), str(SAMPLES / "test.conll"), "--threads", "1"],
    ]
    return [["spec", str(folder)], *reading] if spec else reading


@pytest.fixture
def nothing_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a refused folder gets a model built or its weights read."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a refused model folder must not be built or read")

    monkeypatch.setattr(model_tagger, "Tagger", refuse)  # what load_model and `nerkit spec` build
    monkeypatch.setattr(safetensors.torch, "load_file", refuse)


@pytest.fixture
def text(tmp_path: Path) -> Path:
    path = tmp_path / "text.txt"
    path.write_text("Ada Voss met Peter in Paris .\n", encoding="utf-8")
    return path


@pytest.fixture
def model(tiny_model: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny model's folder, free to damage."""
    target = tmp_path / "model"
    shutil.copytree(tiny_model, target)
    return target


def assert_refused(capsys, argv_list: list[list[str]], folder: Path, expected: str) -> None:
    """Each command, and nerkit.load, fails with exactly `expected` (one line), the folder unchanged."""
    before = state(folder)
    for argv in argv_list:
        assert run(capsys, *argv) == (2, "", f"nerkit: error: {expected}\n"), argv
    with pytest.raises(NerkitError) as caught:
        nerkit.load(str(folder), threads=1)
    assert str(caught.value) == expected
    assert state(folder) == before


def edit_meta(folder: Path, change: Callable[[dict], object]) -> Path:
    path = folder / "model.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    change(meta)
    path.write_text(json.dumps(meta), encoding="utf-8")
    return path


def write_weights(folder: Path, header: dict, data: bytes) -> Path:
    """Replace model.safetensors with this header and data, and give model.json its checksum."""
    raw = json.dumps(header).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    content = len(raw).to_bytes(8, "little") + raw + data
    path = folder / "model.safetensors"
    path.write_bytes(content)
    edit_meta(folder, lambda meta: meta["weights"].update(sha256=hashlib.sha256(content).hexdigest()))
    return path


def read_weights(folder: Path) -> tuple[dict, bytes]:
    content = (folder / "model.safetensors").read_bytes()
    length = int.from_bytes(content[:8], "little")
    return json.loads(content[8 : 8 + length]), content[8 + length :]


# --- the spec: every field typed and ranged before anything is built -------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "what"),
    [
        ("hidden", -5, "spec.hidden is -5, not a whole number from 1 to 4,096"),
        ("hidden", 1e15, "spec.hidden is 1000000000000000.0, not a whole number from 1 to 4,096"),
        ("hidden", 10**25, "spec.hidden is 10000000000000000000000000, not a whole number from 1 to 4,096"),
        ("hidden", True, "spec.hidden is true, not a whole number from 1 to 4,096"),
        ("hidden", "16", 'spec.hidden is "16", not a whole number from 1 to 4,096'),
        ("hidden", 16.0, "spec.hidden is 16.0, not a whole number from 1 to 4,096"),
        ("hidden", None, "spec.hidden is null, not a whole number from 1 to 4,096"),
        ("char_kernel", 100_000, "spec.char_kernel is 100000, not a whole number from 1 to 31"),
        ("char_kernel", 0, "spec.char_kernel is 0, not a whole number from 1 to 31"),
        ("char_filters", -1, "spec.char_filters is -1, not a whole number from 0 to 4,096"),
        ("char_lstm", 5000, "spec.char_lstm is 5000, not a whole number from 0 to 4,096"),
        ("char_dim", 4097, "spec.char_dim is 4097, not a whole number from 1 to 4,096"),
        ("word_dim", -1, "spec.word_dim is -1, not a whole number from 0 to 4,096"),
        ("casing_dim", [8], "spec.casing_dim is a list of length 1, not a whole number from 1 to 4,096"),
        ("layers", 17, "spec.layers is 17, not a whole number from 0 to 16"),
        ("words", 10**12, "spec.words is 1000000000000, not a whole number from 2 to 100,000,000"),
        ("chars", 1, "spec.chars is 1, not a whole number from 2 to 100,000,000"),
        ("pretrained_words", -1, "spec.pretrained_words is -1, not a whole number from 0 to 100,000,000"),
        ("dropout", 5, "spec.dropout is 5, not a number from 0 to 0.95"),
        ("dropout", "0.5", 'spec.dropout is "0.5", not a number from 0 to 0.95'),
        ("word_dropout", -0.1, "spec.word_dropout is -0.1, not a number from 0 to 0.95"),
        ("context_tokens", 100_001, "spec.context_tokens is 100001, not a whole number from 0 to 100,000"),
        ("transformer_dim", 5000, "spec.transformer_dim is 5000, not a whole number from 0 to 4,096"),
        ("transformer_layers", 1001, "spec.transformer_layers is 1001, not a whole number from 0 to 1,000"),
        ("transformer_window", 513, "spec.transformer_window is 513, not a whole number from 0 to 512"),
        ("scheme", "XYZ", 'spec.scheme is "XYZ", not one of IOB1, IOB2, BIOES'),
        ("scheme", "bioes", 'spec.scheme is "bioes", not one of IOB1, IOB2, BIOES'),
        ("output_scheme", 2, "spec.output_scheme is 2, not one of IOB1, IOB2, BIOES"),
        ("head", "xyz", 'spec.head is "xyz", not one of crf, linear'),
        ("transformer_pooling", "max", 'spec.transformer_pooling is "max", not one of first, mean'),
        ("locked_dropout", 1, "spec.locked_dropout is 1, not true or false"),
        ("transformer_context", "yes", 'spec.transformer_context is "yes", not true or false'),
        ("pretrained_words", 100_000, "spec.pretrained_words is 100,000, more than spec.words (875)"),
        (
            "transformer_dim",
            16,
            "spec.transformer_layers is 0, but a model with transformer features mixes 1 or more",
        ),
        ("labels", [], "spec.labels is a list of length 0, not a list of 1 to 4,096 tags"),
        ("labels", "O", 'spec.labels is "O", not a list of 1 to 4,096 tags'),
        ("labels", ["O"] * 5000, "spec.labels is a list of length 5,000, not a list of 1 to 4,096 tags"),
    ],
)
def test_a_spec_field_out_of_type_or_range(model, text, capsys, nothing_built, field, value, what):
    path = edit_meta(model, lambda meta: meta["spec"].update({field: value}))
    assert_refused(capsys, commands(model, text), model, f"{path}: {what}; {RETRAIN}")


@pytest.mark.parametrize(
    ("index", "label", "what"),
    [
        (1, "O", 'spec.labels lists "O" twice'),
        (3, 7, "spec.labels[3] is 7, not a tag such as O or B-PER"),
        (2, None, "spec.labels[2] is null, not a tag such as O or B-PER"),
        (1, "X-LOC", 'spec.labels[1] is "X-LOC", not a tag such as O or B-PER'),
        (1, "B-", 'spec.labels[1] is "B-", not a tag such as O or B-PER'),
    ],
)
def test_bad_tags(model, text, capsys, nothing_built, index, label, what):
    def change(meta: dict) -> None:
        meta["spec"]["labels"][index] = label
        meta["vocab"]["labels"][index] = label

    path = edit_meta(model, change)
    assert_refused(capsys, commands(model, text), model, f"{path}: {what}; {RETRAIN}")


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (lambda meta: meta.pop("spec"), 'has no "spec"'),
        (lambda meta: meta.update(spec=[1, 2]), "spec is a list of length 2, not a JSON object"),
        (lambda meta: meta.update(spec=None), "spec is null, not a JSON object"),
        (lambda meta: meta["spec"].pop("words"), "the model spec is incomplete: it lacks words"),
        (
            lambda meta: meta["spec"].update(bogus=1),
            "the model spec has unknown keys ['bogus']; was it written by a newer nerkit?",
        ),
    ],
    ids=["missing", "list", "null", "incomplete", "unknown-key"],
)
def test_a_spec_that_is_not_one(model, text, capsys, nothing_built, change, what):
    path = edit_meta(model, change)
    hint = "" if "newer nerkit" in what else f"; {RETRAIN}"
    assert_refused(capsys, commands(model, text), model, f"{path}: {what}{hint}")


# --- the vocabulary: as the spec says ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (lambda meta: meta.pop("vocab"), 'has no "vocab"'),
        (lambda meta: meta.update(vocab="words"), 'vocab is "words", not a JSON object'),
        (lambda meta: meta["vocab"].pop("chars"), "vocab.chars is null, not a list of strings"),
        (lambda meta: meta["vocab"].update(words="abc"), 'vocab.words is "abc", not a list of strings'),
        (lambda meta: meta["vocab"]["words"].pop(), "its vocabulary has 874 words but its spec 875"),
        (lambda meta: meta["vocab"]["chars"].__setitem__(5, 5), "vocab.chars[5] is 5, not a string"),
        (lambda meta: meta["vocab"]["words"].__setitem__(2, "<pad>"), 'vocab.words lists "<pad>" twice'),
        (
            lambda meta: meta["vocab"]["labels"].reverse(),
            "its vocabulary's labels are not its spec's, in the same order",
        ),
    ],
    ids=["missing", "string", "no-chars", "words-string", "short", "char-int", "duplicate", "label-order"],
)
def test_a_vocabulary_that_does_not_fit(model, text, capsys, nothing_built, change, what):
    path = edit_meta(model, change)
    assert_refused(capsys, commands(model, text), model, f"{path}: {what}; {RETRAIN}")


# --- model.json itself ----------------------------------------------------------------------------------


def test_nested_100000_deep(model, text, capsys, nothing_built):
    path = model / "model.json"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    what = "has arrays or objects nested more than 32 deep"
    assert_refused(capsys, commands(model, text), model, f"{path}: {what}; {RETRAIN}")


def test_nested_deeper_than_32_but_parsable(model, text, capsys, nothing_built):
    path = edit_meta(model, lambda meta: meta.update(extra=json.loads("[" * 40 + "]" * 40)))
    what = "has arrays or objects nested more than 32 deep"
    assert_refused(capsys, commands(model, text), model, f"{path}: {what}; {RETRAIN}")


@pytest.mark.parametrize("where", ["format_version", "spec"])
def test_a_5000_digit_number(model, text, capsys, nothing_built, where):
    path = model / "model.json"
    meta = path.read_text(encoding="utf-8")
    key = '"format_version": 1' if where == "format_version" else '"hidden": 16'
    assert key in meta
    path.write_text(meta.replace(key, key.split(":")[0] + ": " + "9" * 5000), encoding="utf-8")
    what = "has a number of 5,000 digits, more than any in a model description (30)"
    assert_refused(capsys, commands(model, text), model, f"{path}: {what}; {RETRAIN}")


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"", "is not valid JSON (Expecting value: line 1 column 1 (char 0))"),
        (
            b'{"format": "\xff"}',
            "is not valid JSON ('utf-8' codec can't decode byte 0xff in position 12: invalid start byte)",
        ),
        (b"\xef\xbb\xbf", "is not valid JSON (Expecting value: line 1 column 1 (char 0))"),
        (
            b"[]",
            'is not a nerkit model description (no "format": "nerkit-model" or "format": "nerkit-onnx" '
            'or "format": "nerkit-ensemble")',
        ),
    ],
    ids=["empty", "not-utf8", "only-a-bom", "a-list"],
)
def test_model_json_that_is_not_a_description(model, text, capsys, nothing_built, content, what):
    path = model / "model.json"
    path.write_bytes(content)
    assert_refused(capsys, commands(model, text), model, f"{path}: {what}; {RETRAIN}")


def test_model_json_too_large_is_refused_unread(model, text, capsys, nothing_built):
    path = model / "model.json"
    with path.open("r+b") as handle:
        handle.truncate(SPARSE)
    what = f"is {SPARSE:,} bytes, more than the 268,435,456 it may be"
    assert_refused(capsys, commands(model, text), model, f"{path}: {what}; {RETRAIN}")


def test_a_bom_is_dropped(model, tiny_model, text, capsys):
    path = model / "model.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert (
        run(capsys, "predict", str(model), str(text), "--threads", "1")[:2]
        == run(capsys, "predict", str(tiny_model), str(text), "--threads", "1")[:2]
    )


# --- what the files are: regular files inside the folder, nothing else ------------------------------------


def damage(path: Path, kind: str, outside: Path) -> tuple[str, str]:
    """Make `path` something other than a regular file inside its folder; the message and hint expected."""
    path.unlink()
    if kind == "folder":
        path.mkdir()
        (path / "inside").write_text("x", encoding="utf-8")
        return "is a folder, not a file", RETRAIN
    if kind == "fifo":
        os.mkfifo(path)
        return "is a FIFO, not a file", RETRAIN
    if kind == "loop":
        os.symlink(path.name, path)
        return "is a loop of symbolic links", RETRAIN
    target = Path("/dev/zero") if kind == "dev-zero" else outside
    os.symlink(target, path)
    return f"is a link to {target}, outside the model folder", LINK


@pytest.mark.parametrize("name", ["model.json", "model.safetensors"])
@pytest.mark.parametrize("kind", ["folder", "fifo", "dev-zero", "outside", "loop"])
def test_a_file_that_is_not_a_regular_file_inside(model, text, tmp_path, capsys, nothing_built, name, kind):
    outside = tmp_path / "elsewhere" / name  # an intact copy, but not in the folder
    outside.parent.mkdir()
    shutil.copyfile(model / name, outside)
    what, hint = damage(model / name, kind, outside)
    assert_refused(capsys, commands(model, text), model, f"{model / name}: {what}; {hint}")


def test_a_link_inside_the_folder_is_followed(model, tiny_model, text, capsys):
    (model / "kept").mkdir()
    for name in ("model.json", "model.safetensors"):
        (model / name).rename(model / "kept" / name)
        os.symlink(Path("kept") / name, model / name)
    assert (
        run(capsys, "predict", str(model), str(text), "--threads", "1")[:2]
        == run(capsys, "predict", str(tiny_model), str(text), "--threads", "1")[:2]
    )


def test_an_empty_folder(tmp_path, text, capsys, nothing_built):
    folder = tmp_path / "empty"
    folder.mkdir()
    expected = f"{folder}: not a nerkit model folder: model.json is missing; {RETRAIN}"
    assert_refused(capsys, commands(folder, text), folder, expected)


def test_a_file_for_the_folder(tmp_path, text, capsys, nothing_built):
    path = tmp_path / "model"
    path.write_text("{}", encoding="utf-8")
    expected = f"{path}: is a file, not a model folder; give the folder `nerkit train` wrote"
    assert_refused(capsys, commands(path, text), path, expected)


def test_a_missing_folder(tmp_path, text, capsys, nothing_built):
    path = tmp_path / "nowhere"
    expected = f"{path}: no such model folder; give the --output folder of `nerkit train`"
    for argv in commands(path, text):
        assert run(capsys, *argv) == (2, "", f"nerkit: error: {expected}\n")
    assert not path.exists()


# --- the weights: bounded by the spec, header read and matched before anything else -----------------------


def test_weights_larger_than_the_spec_needs_are_never_hashed(model, text, capsys, nothing_built, monkeypatch):
    def refuse(path: Path) -> str:
        raise AssertionError("weights larger than the spec needs must not be hashed")

    monkeypatch.setattr(model_folder, "file_sha256", refuse)
    path = model / "model.safetensors"
    with path.open("r+b") as handle:
        handle.truncate(SPARSE)
    most = (
        8
        + (1 << 20)
        + ModelSpec.from_json(json.loads((model / "model.json").read_text())["spec"]).weights_size()
    )
    what = f"is {SPARSE:,} bytes, more than the {most:,} the spec in model.json can need"
    assert_refused(capsys, commands(model, text), model, f"{path}: {what}; {RETRAIN}")


def test_a_spec_in_range_that_the_weights_do_not_hold(model, text, capsys, nothing_built):
    edit_meta(model, lambda meta: meta["spec"].update(hidden=4096))
    what = (
        "does not fit the spec in model.json: tensor lstms.0.0.bias_hh_l0 has shape (64,), the spec needs "
        "(16384,)"
    )
    assert_refused(capsys, commands(model, text), model, f"{model / 'model.safetensors'}: {what}; {RETRAIN}")


def extra_tensor(header: dict, data: bytes) -> tuple[dict, bytes]:
    header["extra"] = {"dtype": "F32", "shape": [1], "data_offsets": [len(data), len(data) + 4]}
    return header, data + b"\0" * 4


def missing_tensor(header: dict, data: bytes) -> tuple[dict, bytes]:
    header.pop("crf.end")
    return header, data


def wrong_dtype(header: dict, data: bytes) -> tuple[dict, bytes]:
    header["crf.end"]["dtype"] = "I32"
    return header, data


def unknown_dtype(header: dict, data: bytes) -> tuple[dict, bytes]:
    header["crf.end"]["dtype"] = "F128"
    return header, data


def wrong_offsets(header: dict, data: bytes) -> tuple[dict, bytes]:
    header["crf.end"]["data_offsets"] = [0, 68]
    return header, data


def reversed_offsets(header: dict, data: bytes) -> tuple[dict, bytes]:
    begin, end = header["crf.end"]["data_offsets"]
    header["crf.end"]["data_offsets"] = [end, begin]
    return header, data


def huge_shape(header: dict, data: bytes) -> tuple[dict, bytes]:
    header["crf.end"]["shape"] = [2**64]
    return header, data


def truncated(header: dict, data: bytes) -> tuple[dict, bytes]:
    return header, data[:-100]


def not_an_object(header: dict, data: bytes) -> tuple[list, bytes]:
    return [1, 2], data


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (extra_tensor, "does not fit the spec in model.json: tensor extra is not part of this model"),
        (missing_tensor, "does not fit the spec in model.json: tensor crf.end is missing"),
        (wrong_dtype, "does not fit the spec in model.json: tensor crf.end is I32, the model needs F32"),
        (unknown_dtype, "is not a valid safetensors file: tensor crf.end has no known dtype"),
        (
            wrong_offsets,
            "is not a valid safetensors file: tensor casing_embedding.weight starts at byte 0 of the data, not 68",
        ),
        (reversed_offsets, "is not a valid safetensors file: tensor crf.end has no valid data_offsets"),
        (huge_shape, "is not a valid safetensors file: tensor crf.end has no valid shape"),
        (
            truncated,
            "is not a valid safetensors file: its tensors take 98,859 bytes, but 98,759 follow the header",
        ),
        (not_an_object, "is not a valid safetensors file: its header is not a JSON object"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_weights_whose_header_does_not_fit(model, text, capsys, nothing_built, change, what):
    path = write_weights(model, *change(*read_weights(model)))
    assert_refused(capsys, commands(model, text), model, f"{path}: {what}; {RETRAIN}")


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"\x01\x02", "it has 2 bytes, fewer than the 8 of its header length"),
        (
            (2**62).to_bytes(8, "little") + b"{}",
            "its header length says 4,611,686,018,427,387,904 bytes, more than the 2 the file holds after it",
        ),
        (
            (2**30).to_bytes(8, "little") + b"{}",
            "its header length says 1,073,741,824 bytes, more than the 2 the file holds after it",
        ),
        ((4).to_bytes(8, "little") + b"{]]]", "its header is not JSON"),
        ((2).to_bytes(8, "little") + b"\xff\xfe", "its header is not JSON"),
    ],
    ids=["short", "length-2**62", "length-1GiB", "not-json", "not-utf8"],
)
def test_weights_that_are_not_safetensors(model, text, capsys, nothing_built, content, what):
    path = model / "model.safetensors"
    path.write_bytes(content)
    edit_meta(model, lambda meta: meta["weights"].update(sha256=hashlib.sha256(content).hexdigest()))
    expected = f"{path}: is not a valid safetensors file: {what}; {RETRAIN}"
    assert_refused(capsys, commands(model, text), model, expected)


# --- a transformer model's transformer/ -----------------------------------------------------------------


@pytest.fixture(scope="module")
def transformer_model(tmp_path_factory: pytest.TempPathFactory, tiny_bert: Path) -> Path:
    """A tiny model with transformer features, trained once for this module (a few seconds)."""
    from nerkit.training.options import TrainOptions
    from nerkit.training.train import train

    folder = tmp_path_factory.mktemp("with-transformer")
    options = TrainOptions(
        max_epochs=1,
        hidden=8,
        char_filters=8,
        word_dim=8,
        threads=1,
        context_tokens=0,
        average_epochs=1,
        transformer=str(tiny_bert),
        transformer_layers=2,
        feature_cache=str(folder / "cache"),
    )
    train(SAMPLES / "dev.conll", folder / "model", dev_path=SAMPLES / "dev.conll", options=options)
    return folder / "model"


@pytest.fixture
def with_transformer(transformer_model: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(transformer_model, target)
    return target


def test_a_sound_transformer_model_loads(with_transformer):
    assert nerkit.load(str(with_transformer), threads=1).transformer is not None


def test_transformer_folder_linked_outside(with_transformer, tmp_path, text, capsys, nothing_built):
    outside = tmp_path / "outside"
    (with_transformer / "transformer").rename(outside)
    os.symlink(outside, with_transformer / "transformer")
    expected = f"{with_transformer / 'transformer'}: is a link to {outside}, outside the model folder; {LINK}"
    assert_refused(capsys, commands(with_transformer, text, spec=False), with_transformer, expected)


def test_transformer_folder_is_a_file(with_transformer, text, capsys, nothing_built):
    shutil.rmtree(with_transformer / "transformer")
    (with_transformer / "transformer").write_text("x", encoding="utf-8")
    expected = (
        f"{with_transformer}: transformer/model.safetensors is missing but the model uses transformer "
        f"features; {RETRAIN}"
    )
    assert_refused(capsys, commands(with_transformer, text, spec=False), with_transformer, expected)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("config.json", "dev-zero"),
        ("config.json", "outside"),
        ("tokenizer.json", "fifo"),
        ("model.safetensors", "fifo"),
        ("model.safetensors", "loop"),
        ("tokenizer_config.json", "folder"),
    ],
)
def test_transformer_files_that_are_not_regular_files_inside(
    with_transformer, tmp_path, text, capsys, nothing_built, name, kind
):
    path = with_transformer / "transformer" / name
    outside = tmp_path / name
    shutil.copyfile(path, outside)
    what, hint = damage(path, kind, outside)
    expected = f"{path}: {what}; {hint}"
    assert_refused(capsys, commands(with_transformer, text, spec=False), with_transformer, expected)


def test_a_huge_sparse_transformer_weights_file_is_refused_unhashed(
    with_transformer, text, capsys, nothing_built, monkeypatch
):
    path = with_transformer / "transformer" / "model.safetensors"
    real_sha256 = model_folder.file_sha256

    def only_the_taggers(file: Path) -> str:
        assert file.parent.name != "transformer", (
            "a transformer weights file without a valid header was hashed"
        )
        return real_sha256(file)

    monkeypatch.setattr(model_folder, "file_sha256", only_the_taggers)
    with path.open("r+b") as handle:
        handle.write((2**62).to_bytes(8, "little"))
        handle.truncate(SPARSE)
    expected = (
        f"{path}: is not a valid safetensors file: its header length says 4,611,686,018,427,387,904 bytes, "
        f"more than the 1,048,576 a header may take; {RETRAIN}"
    )
    assert_refused(capsys, commands(with_transformer, text, spec=False), with_transformer, expected)


def test_a_read_error_is_one_line(model, text, capsys, nothing_built, monkeypatch):
    def failing_disk(path: Path) -> str:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(model_folder, "file_sha256", failing_disk)
    expected = f"{model / 'model.safetensors'}: cannot be read (Input/output error); {RETRAIN}"
    for argv in commands(model, text)[1:]:  # `spec` checks no checksum
        assert run(capsys, *argv) == (2, "", f"nerkit: error: {expected}\n"), argv
