"""Exporting models that read a transformer (frozen features or fine-tuned): two graphs chained by the
runtime, sub-words by `tokenizers`, pooling in numpy; the same tags as torch in float32, no torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nerkit
from nerkit.data.conll import read_conll
from nerkit.errors import NerkitError
from nerkit.model.folder import file_sha256

pytest.importorskip("onnxruntime", reason="exported models run on onnxruntime: pip install -e '.[export]'")
pytest.importorskip("onnx", reason="exporting needs onnx: pip install -e '.[export]'")
pytest.importorskip("transformers", reason="transformer models need pip install -e '.[transformers]'")

from nerkit.runtime.export import export_model
from nerkit.training.options import TrainOptions
from nerkit.training.train import train

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
RAW = (SAMPLES / "raw.txt").read_text(encoding="utf-8").splitlines()
SENTENCES = [s.tokens for s in read_conll(SAMPLES / "dev.conll")]
REEXPORT = "export it again with nerkit export, or restore the folder from a backup"


def tiny_options(**changes: object) -> TrainOptions:
    settings: dict = {"max_epochs": 1, "min_epochs": 1, "hidden": 16, "char_filters": 8, "word_dim": 16}
    return TrainOptions(**{**settings, "seed": 1, "threads": 1, **changes})


@pytest.fixture(scope="module")
def stacked(tiny_bert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model over frozen features of the tiny BERT's two layers, mean-pooled."""
    output = tmp_path_factory.mktemp("stacked") / "model"
    options = tiny_options(transformer=str(tiny_bert), transformer_layers=2, transformer_pooling="mean")
    train(SAMPLES / "train.conll", output, dev_path=SAMPLES / "dev.conll", options=options)
    return output


@pytest.fixture(scope="module")
def tuned(tiny_bert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT fine-tuned with a CRF head for one epoch."""
    output = tmp_path_factory.mktemp("tuned") / "model"
    options = tiny_options(transformer=str(tiny_bert), fine_tune=True)
    train(SAMPLES / "train.conll", output, dev_path=SAMPLES / "dev.conll", options=options)
    return output


@pytest.fixture(scope="module")
def exported(stacked: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_model(stacked, tmp_path_factory.mktemp("export") / "onnx").folder


@pytest.fixture
def damaged(exported: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "onnx"
    shutil.copytree(exported, copy)
    return copy


FLOAT16_STEP = 1e-3  # features are kept in float16 on both paths: a last-bit difference in a hidden
# state can round a feature to the neighbouring float16, which moves a confidence by some 1e-4


def same_as_torch(model: Path, export: Path, tolerance: float) -> None:
    """The export tags the sample sentences as the torch model does in float32, alone and in one
    document (longer than the transformer's window of 62 sub-words), and finds the same entities."""
    torch_pipeline = nerkit.load(str(model), threads=1, precision="float32")
    onnx = nerkit.load(str(export), threads=1)
    assert type(onnx.transformer).__name__ == "ExportedTransformer"
    for documents in (None, [0] * len(SENTENCES)):
        ours = onnx.tag_tokens(SENTENCES, documents=documents)
        theirs = torch_pipeline.tag_tokens(SENTENCES, documents=documents)
        assert [t.tags for t in ours] == [t.tags for t in theirs]
        gaps = [
            abs(a - b)
            for x, y in zip(ours, theirs, strict=True)
            for a, b in zip(x.confidences, y.confidences, strict=True)
        ]
        assert max(gaps) < tolerance
    found = [[(e.start, e.end, e.label) for e in d.entities] for d in onnx.predict_many(RAW)]
    assert found == [
        [(e.start, e.end, e.label) for e in d.entities] for d in torch_pipeline.predict_many(RAW)
    ]


def test_a_model_with_frozen_features_exports_two_graphs(exported: Path, stacked: Path) -> None:
    assert sorted(p.name for p in exported.iterdir()) == [
        "crf.safetensors",
        "model.json",
        "model.onnx",
        "tokenizer.json",
        "train_log.jsonl",
        "transformer.onnx",
    ]
    meta = json.loads((exported / "model.json").read_text(encoding="utf-8"))
    assert meta["transformer_network"] == {
        "file": "transformer.onnx",
        "sha256": file_sha256(exported / "transformer.onnx"),
    }
    assert meta["tokenizer"] == {"file": "tokenizer.json", "sha256": file_sha256(exported / "tokenizer.json")}
    assert meta["subwords"] == {
        "prefix": [2],
        "suffix": [3],
        "pad": 0,
        "unknown": 1,
        "window": 62,
        "dim": 16,
        "layers": 2,
    }
    same_as_torch(stacked, exported, FLOAT16_STEP)


def test_a_fine_tuned_model_exports_and_tags_as_torch(tuned: Path, tmp_path: Path) -> None:
    same_as_torch(tuned, export_model(tuned, tmp_path / "onnx").folder, FLOAT16_STEP)


def test_int8_quantizes_the_transformer_too(stacked: Path, tmp_path: Path) -> None:
    import onnx

    int8 = export_model(stacked, tmp_path / "int8", quantize="int8").folder
    operators = {node.op_type for node in onnx.load(str(int8 / "transformer.onnx")).graph.node}
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= operators  # the tiny BERT's weights are too
    # small for int8 to shrink the file: its scales and zero points outweigh them
    tagged = nerkit.load(str(int8), threads=1).tag_tokens(SENTENCES)
    assert [len(t.tags) for t in tagged] == [len(s) for s in SENTENCES]


def test_neither_torch_nor_transformers_is_imported(exported: Path, stacked: Path) -> None:
    script = (
        "import sys; sys.modules['torch'] = None; sys.modules['transformers'] = None\n"
        "from nerkit.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    blocked = subprocess.run(
        [sys.executable, "-c", script, "predict", str(exported), str(SAMPLES / "raw.txt")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert blocked.returncode == 0, blocked.stderr
    found = [
        [(e["start"], e["end"], e["label"]) for e in json.loads(line)["entities"]]
        for line in blocked.stdout.splitlines()
    ]
    torch_pipeline = nerkit.load(str(stacked), threads=1, precision="float32")
    assert found == [
        [(e.start, e.end, e.label) for e in d.entities] for d in torch_pipeline.predict_many(RAW)
    ]


def load_error(folder: Path) -> str:
    with pytest.raises(NerkitError) as raised:
        nerkit.load(str(folder), threads=1)
    return str(raised.value)


def rewrite_meta(folder: Path, **changes: object) -> None:
    meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    meta.update(changes)
    (folder / "model.json").write_text(json.dumps(meta), encoding="utf-8")


def test_a_missing_transformer_or_tokenizer_is_refused(damaged: Path) -> None:
    (damaged / "tokenizer.json").unlink()
    assert load_error(damaged) == f"{damaged}: tokenizer.json is missing; {REEXPORT}"
    (damaged / "transformer.onnx").unlink()
    assert load_error(damaged) == f"{damaged}: transformer.onnx is missing; {REEXPORT}"


def test_a_changed_tokenizer_is_refused(damaged: Path) -> None:
    (damaged / "tokenizer.json").write_text("{}", encoding="utf-8")
    assert load_error(damaged).startswith(f"{damaged / 'tokenizer.json'}: does not match the checksum")
    rewrite_meta(
        damaged, tokenizer={"file": "tokenizer.json", "sha256": file_sha256(damaged / "tokenizer.json")}
    )
    message = load_error(damaged)
    assert message.startswith(f"{damaged / 'tokenizer.json'}: cannot be read as a tokenizer (")
    assert message.endswith(f"); {REEXPORT}")


@pytest.mark.parametrize(
    ("subwords", "what"),
    [
        (None, 'has no "subwords" object for its transformer'),
        ({"prefix": "2"}, "subwords.prefix is not a list of at most 8 sub-word ids"),
        ({"suffix": [3] * 9}, "subwords.suffix is not a list of at most 8 sub-word ids"),
        ({"pad": True}, "subwords.pad is not a sub-word id"),
        ({"unknown": -1}, "subwords.unknown is not a sub-word id"),
        ({"window": 0}, "subwords.window is not a whole number from 1 to 512"),
        ({"window": 10**9}, "subwords.window is not a whole number from 1 to 512"),
        ({"layers": 1}, "subwords.layers and .dim are not the spec's transformer_layers and _dim"),
        ({"pad": 10**6}, "subwords name ids beyond the tokenizer's 67"),
    ],
)
def test_bad_window_rules_are_one_line(damaged: Path, subwords: dict | None, what: str) -> None:
    meta = json.loads((damaged / "model.json").read_text(encoding="utf-8"))
    rewrite_meta(damaged, subwords=None if subwords is None else {**meta["subwords"], **subwords})
    assert load_error(damaged) == f"{damaged / 'model.json'}: {what}; {REEXPORT}"


def test_a_transformer_graph_of_other_layers_is_refused(damaged: Path, tmp_path: Path, tuned: Path) -> None:
    other = export_model(tuned, tmp_path / "tuned").folder  # one layer of hidden states, not two
    shutil.copyfile(other / "transformer.onnx", damaged / "transformer.onnx")
    rewrite_meta(
        damaged,
        transformer_network={"file": "transformer.onnx", "sha256": file_sha256(damaged / "transformer.onnx")},
    )
    assert load_error(damaged) == (
        f"{damaged / 'transformer.onnx'}: gives hidden layers shaped ['windows', 'subwords', 1, 16], "
        f"not [windows, subwords, 2, 16]; {REEXPORT}"
    )


def test_without_tokenizers_the_extra_is_named(exported: Path, tmp_path: Path) -> None:
    script = "import sys; sys.modules['tokenizers'] = None\nfrom nerkit.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    done = subprocess.run(
        [sys.executable, "-c", script, "predict", str(exported), str(SAMPLES / "raw.txt")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert (done.returncode, done.stderr) == (
        2,
        "nerkit: error: this needs tokenizers; pip install 'nerkit[runtime-transformers]'\n",
    )
