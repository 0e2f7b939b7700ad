"""`nerkit export` and the exported folder: the same tags as the torch model, no torch on the way, int8,
and one-line errors for bad outputs and damaged folders."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import nerkit
from nerkit.cli import main
from nerkit.data.conll import read_conll
from nerkit.errors import NerkitError
from nerkit.model.folder import file_sha256

pytest.importorskip("onnxruntime", reason="exported models run on onnxruntime: pip install -e '.[export]'")
pytest.importorskip("onnx", reason="exporting needs onnx: pip install -e '.[export]'")

from nerkit.runtime.export import export_model

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
RAW = (SAMPLES / "raw.txt").read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def exported(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model exported once (float32)."""
    return export_model(tiny_model, tmp_path_factory.mktemp("export") / "onnx").folder


@pytest.fixture
def damaged(exported: Path, tmp_path: Path) -> Path:
    """A copy of the exported folder to damage."""
    copy = tmp_path / "onnx"
    shutil.copytree(exported, copy)
    return copy


def same_tags(ours: list, theirs: list) -> None:
    """The same tags for every sentence, every confidence within 1e-4."""
    assert [t.tags for t in ours] == [t.tags for t in theirs]
    gaps = [
        abs(a - b)
        for x, y in zip(ours, theirs, strict=True)
        for a, b in zip(x.confidences, y.confidences, strict=True)
    ]
    assert max(gaps) < 1e-4


def entities(documents: list) -> list[list[tuple[int, int, str]]]:
    return [[(e.start, e.end, e.label) for e in document.entities] for document in documents]


def test_the_folder_declares_its_format_and_checksums(exported: Path, tiny_model: Path) -> None:
    assert sorted(p.name for p in exported.iterdir()) == [
        "crf.safetensors",
        "model.json",
        "model.onnx",
        "train_log.jsonl",
    ]
    meta = json.loads((exported / "model.json").read_text(encoding="utf-8"))
    assert (meta["format"], meta["format_version"], meta["quantize"]) == ("nerkit-onnx", 1, None)
    assert meta["network"] == {"file": "model.onnx", "sha256": file_sha256(exported / "model.onnx")}
    assert meta["crf"] == {"file": "crf.safetensors", "sha256": file_sha256(exported / "crf.safetensors")}
    assert meta["exported_from"] == {"sha256": file_sha256(tiny_model / "model.safetensors")}
    source = json.loads((tiny_model / "model.json").read_text(encoding="utf-8"))
    assert (meta["spec"], meta["vocab"], meta["training"]) == (
        source["spec"],
        source["vocab"],
        source["training"],
    )


def test_the_exported_model_tags_as_the_torch_model(exported: Path, tiny_pipeline) -> None:
    onnx = nerkit.load(str(exported), threads=1)
    assert type(onnx.model).__name__ == "ExportedTagger"
    sentences = [s.tokens for s in read_conll(SAMPLES / "dev.conll")]
    same_tags(onnx.tag_tokens(sentences, batch_size=16), tiny_pipeline.tag_tokens(sentences, batch_size=16))
    assert entities(onnx.predict_many(RAW)) == entities(tiny_pipeline.predict_many(RAW))
    assert (
        onnx.evaluate(SAMPLES / "dev.conll").to_json()
        == tiny_pipeline.evaluate(SAMPLES / "dev.conll").to_json()
    )


def test_no_torch_is_imported_on_the_exported_path(exported: Path, tiny_model: Path, tmp_path: Path) -> None:
    script = (
        "import sys; sys.modules['torch'] = None\n"
        "from nerkit.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "assert sys.modules.get('torch') is None, 'torch was imported'\n"
        "sys.exit(code)\n"
    )
    blocked = subprocess.run(
        [sys.executable, "-c", script, "predict", str(exported), str(SAMPLES / "raw.txt")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert blocked.returncode == 0, blocked.stderr
    torch_run = subprocess.run(
        [sys.executable, "-m", "nerkit", "predict", str(tiny_model), str(SAMPLES / "raw.txt")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert torch_run.returncode == 0, torch_run.stderr
    strip = [
        {
            **json.loads(line),
            "entities": [
                {k: v for k, v in e.items() if k != "confidence"} for e in json.loads(line)["entities"]
            ],
        }
        for line in blocked.stdout.splitlines()
    ]
    theirs = [
        {
            **json.loads(line),
            "entities": [
                {k: v for k, v in e.items() if k != "confidence"} for e in json.loads(line)["entities"]
            ],
        }
        for line in torch_run.stdout.splitlines()
    ]
    assert strip == theirs and len(strip) == len(RAW)


def test_each_bilstm_layer_is_one_bidirectional_onnx_lstm(exported: Path) -> None:
    import onnx

    nodes = onnx.load(str(exported / "model.onnx")).graph.node
    lstms = [node for node in nodes if node.op_type == "LSTM"]
    assert len(lstms) == 1
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in lstms[0].attribute}
    assert attributes["direction"] == b"bidirectional"
    assert len(lstms[0].input) == 5 and lstms[0].input[4]  # sequence_lens: no reversal in the graph
    assert not {"GatherElements", "ReverseSequence"} & {node.op_type for node in nodes}


def test_stacked_bilstm_layers_export_with_the_same_tags(tiny_model: Path, tmp_path: Path) -> None:
    import torch

    from nerkit.model.folder import load_model, save_model
    from nerkit.model.tagger import Tagger

    loaded = load_model(tiny_model)
    torch.manual_seed(3)
    tagger = Tagger(replace(loaded.model.spec, layers=2))
    save_model(tmp_path / "two", tagger, loaded.vocab, {})
    two = nerkit.load(str(tmp_path / "two"), threads=1)
    onnx = nerkit.load(str(export_model(tmp_path / "two", tmp_path / "onnx").folder), threads=1)
    sentences = [s.tokens for s in read_conll(SAMPLES / "dev.conll")]
    same_tags(onnx.tag_tokens(sentences), two.tag_tokens(sentences))


@pytest.mark.parametrize("char_filters", [8, 0], ids=["beside-the-cnn", "alone"])
def test_a_character_bilstm_exports_with_the_same_tags(
    tiny_model: Path, tmp_path: Path, char_filters
) -> None:
    import torch

    from nerkit.model.folder import load_model, save_model
    from nerkit.model.tagger import Tagger

    loaded = load_model(tiny_model)
    torch.manual_seed(4)
    tagger = Tagger(replace(loaded.model.spec, char_lstm=5, char_filters=char_filters))
    save_model(tmp_path / "chars", tagger, loaded.vocab, {})
    chars = nerkit.load(str(tmp_path / "chars"), threads=1)
    onnx = nerkit.load(str(export_model(tmp_path / "chars", tmp_path / "onnx").folder), threads=1)
    sentences = [s.tokens for s in read_conll(SAMPLES / "dev.conll")]
    same_tags(onnx.tag_tokens(sentences), chars.tag_tokens(sentences))


def test_int8_is_smaller_and_still_tags(tiny_model: Path, tmp_path: Path, capsys) -> None:
    assert main(["export", str(tiny_model), "-o", str(tmp_path / "int8"), "--quantize", "int8"]) == 0
    assert capsys.readouterr().err.startswith(f"wrote {tmp_path / 'int8'} (int8, network ")
    meta = json.loads((tmp_path / "int8" / "model.json").read_text(encoding="utf-8"))
    assert meta["quantize"] == "int8"
    float32 = export_model(tiny_model, tmp_path / "float32")
    assert (tmp_path / "int8" / "model.onnx").stat().st_size < float32.network_bytes  # the LSTM stays float32
    tagged = nerkit.load(str(tmp_path / "int8"), threads=1).tag_tokens([["Ada", "Voss", "ran", "."]])
    assert len(tagged[0].tags) == 4


def test_exporting_again_replaces_the_export(tiny_model: Path, tmp_path: Path) -> None:
    export_model(tiny_model, tmp_path / "out", quantize="int8")
    export_model(tiny_model, tmp_path / "out")
    assert json.loads((tmp_path / "out" / "model.json").read_text(encoding="utf-8"))["quantize"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("model", "is the model folder or lies in it"),
        ("model/inside", "is the model folder or lies in it"),
        ("busy", "holds files that are not an exported nerkit model"),
        ("file.txt", "is a file, not a folder"),
        ("missing/out", "its parent folder does not exist"),
    ],
)
def test_a_bad_output_is_one_line_and_writes_nothing(tiny_model, tmp_path, capsys, output, message) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("keep me", encoding="utf-8")
    (tmp_path / "file.txt").write_text("keep me", encoding="utf-8")
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert main(["export", str(model), "-o", str(tmp_path / output)]) == 2
    err = capsys.readouterr().err
    assert err == f"nerkit: error: {tmp_path / output}: {message}" + err.split(message, 1)[1]
    assert len(err.strip().splitlines()) == 1
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before


def test_an_unknown_quantization_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    with pytest.raises(NerkitError, match="unknown quantization 'int4'"):
        export_model(tiny_model, tmp_path / "out", quantize="int4")


def load_error(folder: Path) -> str:
    with pytest.raises(NerkitError) as raised:
        nerkit.load(str(folder), threads=1)
    return str(raised.value)


REEXPORT = "export it again with nerkit export, or restore the folder from a backup"


def test_a_missing_or_changed_network_is_refused(damaged: Path) -> None:
    network = damaged / "model.onnx"
    content = network.read_bytes()
    network.write_bytes(content[:-1] + bytes([content[-1] ^ 1]))
    assert load_error(damaged) == (
        f"{network}: does not match the checksum in model.json (truncated or changed); "
        "retrain it, or restore the folder from a backup"
    )
    network.unlink()
    assert load_error(damaged) == f"{damaged}: model.onnx is missing; {REEXPORT}"


def rewrite_meta(folder: Path, **changes: object) -> None:
    meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    meta.update(changes)
    (folder / "model.json").write_text(json.dumps(meta), encoding="utf-8")


def test_garbage_with_a_matching_checksum_is_one_line(damaged: Path) -> None:
    (damaged / "model.onnx").write_bytes(b"not an onnx graph at all")
    rewrite_meta(damaged, network={"file": "model.onnx", "sha256": file_sha256(damaged / "model.onnx")})
    message = load_error(damaged)
    assert message.startswith(f"{damaged / 'model.onnx'}: cannot be loaded as an ONNX network (")
    assert message.endswith(f"); {REEXPORT}")


def test_a_network_larger_than_the_spec_justifies_is_refused_unread(damaged: Path) -> None:
    with (damaged / "model.onnx").open("ab") as handle:
        handle.truncate(64 << 20)
    rewrite_meta(damaged, network={"file": "model.onnx", "sha256": "0" * 64})
    assert "is 67,108,864 bytes, more than the" in load_error(damaged)


def test_a_crf_of_the_wrong_shape_is_refused(damaged: Path) -> None:
    import numpy as np
    from safetensors.numpy import load_file, save_file

    arrays = load_file(str(damaged / "crf.safetensors"))
    arrays["start"] = np.zeros(3, dtype=np.float32)
    save_file(arrays, str(damaged / "crf.safetensors"))
    rewrite_meta(damaged, crf={"file": "crf.safetensors", "sha256": file_sha256(damaged / "crf.safetensors")})
    tags = len(arrays["end"])
    assert load_error(damaged) == (
        f"{damaged / 'crf.safetensors'}: start is float32[3], not float32[{tags}]; {REEXPORT}"
    )


def test_a_missing_checksum_is_refused(damaged: Path) -> None:
    rewrite_meta(damaged, crf={"file": "crf.safetensors"})
    assert (
        load_error(damaged)
        == f'{damaged / "model.json"}: has no "crf" checksum for crf.safetensors; {REEXPORT}'
    )


def test_an_export_is_not_a_model_to_train_from(exported: Path) -> None:
    from nerkit.model.folder import load_model

    with pytest.raises(NerkitError, match='no "format": "nerkit-model"'):
        load_model(exported)


def test_serve_takes_the_exported_folder(exported: Path, tiny_pipeline) -> None:
    pytest.importorskip("fastapi", reason="nerkit serve needs its extra: pip install -e '.[serve]'")
    from fastapi.testclient import TestClient

    from nerkit.serve.app import create_app

    with TestClient(create_app(exported)) as client:
        served = client.post("/v1/entities", json={"texts": RAW[:4]}).json()["results"]
        versions = client.get("/v1/model").json()["versions"]
    assert [[(e["start"], e["end"], e["label"]) for e in row["entities"]] for row in served] == entities(
        tiny_pipeline.predict_many(RAW[:4])
    )
    assert versions["onnxruntime"] is not None


def test_spec_reads_the_exported_folder(exported: Path, tiny_model: Path, capsys) -> None:
    assert main(["spec", str(exported), "--json"]) == 0
    ours = json.loads(capsys.readouterr().out)
    assert main(["spec", str(tiny_model), "--json"]) == 0
    assert ours == json.loads(capsys.readouterr().out)
