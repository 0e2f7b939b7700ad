"""Tests for distillation (--teacher, --unlabeled): the teacher's marginals and tags, their columns in the
student's labels, the unlabeled text read and labelled, what model.json records, and the bad inputs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from nerkit.cli import main
from nerkit.errors import NerkitError
from nerkit.model.folder import file_sha256, load_model
from nerkit.model.inference import tag_encoded
from nerkit.training.corpus import encode_split, read_corpus
from nerkit.training.teacher import load_teacher, read_unlabeled, soft_targets, teach
from nerkit.training.train import train

NAMES = {"PER": ["Alice", "Bob", "Carla"], "LOC": ["Paris", "Oslo", "Lima"]}
TEMPLATES = ["{PER} visited {LOC} .", "{PER} left {LOC} today .", "nice weather ."]


def _corpus(path: Path, count: int, seed: int) -> Path:
    """`count` made-up sentences in CoNLL (IOB2), in two documents."""
    rng = random.Random(seed)
    lines = []
    for number in range(count):
        if number % (count // 2 or 1) == 0:
            lines += ["-DOCSTART- O", ""]
        for part in rng.choice(TEMPLATES).split():
            kind = part[1:-1] if part.startswith("{") else ""
            lines.append(f"{rng.choice(NAMES[kind])} B-{kind}" if kind else f"{part} O")
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def teacher(tmp_path_factory: pytest.TempPathFactory, tiny_options) -> tuple[Path, Path, Path]:
    """A trained model (the teacher), its training file and a dev file."""
    folder = tmp_path_factory.mktemp("teacher")
    train_file = _corpus(folder / "train.conll", 30, 1)
    dev = _corpus(folder / "dev.conll", 8, 2)
    train(train_file, folder / "model", dev_path=dev, options=tiny_options(max_epochs=3))
    return folder / "model", train_file, dev


def test_teach_gives_the_models_marginals_and_best_tags(teacher):
    folder, train_file, _ = teacher
    loaded = load_teacher(folder)
    corpus = read_corpus(train_file)
    taught = teach(loaded, corpus)
    assert len(taught.marginals) == len(taught.tags) == len(corpus)
    encoded = encode_split(corpus, loaded.vocab)
    paths, confidences = tag_encoded(loaded.model, encoded, documents=corpus.documents)
    for marginals, tags, path, chosen, tokens in zip(
        taught.marginals, taught.tags, paths, confidences, corpus.tokens, strict=True
    ):
        assert marginals.shape == (len(tokens), len(loaded.vocab.labels))
        assert np.allclose(marginals.sum(1), 1.0, atol=1e-5)
        assert tags == tuple(loaded.vocab.labels[i] for i in path)
        # tagging computes its confidences in float32, the teacher its marginals in float64
        assert marginals[np.arange(len(path)), path].tolist() == pytest.approx(chosen, abs=1e-5)
    flat = teach(loaded, corpus, temperature=4.0)
    entropy = [-(m * np.log(np.clip(m, 1e-12, 1))).sum() for m in taught.marginals]
    flatter = [-(m * np.log(np.clip(m, 1e-12, 1))).sum() for m in flat.marginals]
    assert sum(flatter) > sum(entropy)


def test_soft_targets_move_the_teachers_columns_to_the_students_labels():
    marginals = [np.array([[0.7, 0.2, 0.1], [0.0, 0.5, 0.5]], dtype=np.float32)]
    moved = soft_targets(marginals, ["O", "S-PER", "S-LOC"], ["O", "S-LOC", "S-MISC", "S-PER"])
    assert np.array_equal(moved[0], np.array([[0.7, 0.1, 0.0, 0.2], [0.0, 0.5, 0.0, 0.5]], dtype=np.float32))


def test_read_unlabeled_reads_conll_tokens_and_raw_text(tmp_path):
    conll = tmp_path / "tokens.conll"
    conll.write_text(
        "-DOCSTART- O\n\nAlice B-PER\nran O\n\nBob O\n\n-DOCSTART- O\n\nHi O\n", encoding="utf-8"
    )
    corpus = read_unlabeled(conll)
    assert corpus.tokens == [("Alice", "ran"), ("Bob",), ("Hi",)]
    assert corpus.tags == [("O", "O"), ("O",), ("O",)]  # gold tags in the file are ignored
    assert corpus.documents == [1, 1, 2]
    sniffed = tmp_path / "tokens.txt"  # a .txt name: CoNLL because it opens with -DOCSTART-
    sniffed.write_text(conll.read_text(encoding="utf-8"), encoding="utf-8")
    assert read_unlabeled(sniffed).tokens == corpus.tokens
    text = tmp_path / "raw.txt"
    text.write_text("Alice met Bob in Paris. They left.\n\nOslo is cold.\n", encoding="utf-8")
    raw = read_unlabeled(text)
    assert raw.tokens == [
        ("Alice", "met", "Bob", "in", "Paris", "."),
        ("They", "left", "."),
        ("Oslo", "is", "cold", "."),
    ]
    assert raw.documents == [1, 1, 3]
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(NerkitError, match="has no text to label"):
        read_unlabeled(empty)


def test_a_student_learns_from_the_teacher_and_the_unlabeled_text(teacher, tmp_path, tiny_options):
    folder, train_file, dev = teacher
    unlabeled = tmp_path / "more.txt"
    unlabeled.write_text("Alice visited Lima .\nCarla left Oslo today .\n", encoding="utf-8")
    options = tiny_options(teacher=str(folder), unlabeled=str(unlabeled), distill_weight=0.7)
    train(train_file, tmp_path / "student", dev_path=dev, options=options)
    meta = json.loads((tmp_path / "student" / "model.json").read_text(encoding="utf-8"))
    assert meta["data"]["teacher"] == {
        "model": str(folder.resolve()),
        "weights_sha256": file_sha256(folder / "model.safetensors"),
    }
    assert meta["data"]["unlabeled"] == {"file": str(unlabeled.resolve()), "sentences": 2}
    assert meta["training"]["distill_weight"] == 0.7
    assert meta["training"]["distill_temperature"] == 1.0
    # the teacher's tags (BIOES, the model's own scheme) do not change the scheme predictions come out in
    assert meta["spec"]["output_scheme"] == "IOB2"


def test_a_teacher_at_weight_0_changes_nothing(teacher, tmp_path, tiny_options):
    folder, train_file, dev = teacher
    train(train_file, tmp_path / "plain", dev_path=dev, options=tiny_options())
    taught = tiny_options(teacher=str(folder), distill_weight=0.0)
    train(train_file, tmp_path / "taught", dev_path=dev, options=taught)
    plain = load_model(tmp_path / "plain").model.state_dict()
    same = load_model(tmp_path / "taught").model.state_dict()
    assert all(torch.equal(plain[name], same[name]) for name in plain)


def test_distillation_refuses_bad_input_in_one_line(teacher, tmp_path, tiny_options, capsys):
    folder, train_file, dev = teacher
    for alone in ({"unlabeled": str(train_file)}, {"distill_weight": 0.8}, {"distill_temperature": 2.0}):
        with pytest.raises(NerkitError, match="goes with a --teacher model"):
            tiny_options(**alone)
    with pytest.raises(NerkitError, match="this model has a linear head"):
        tiny_options(teacher=str(folder), head="linear")
    with pytest.raises(NerkitError, match="not standard input"):
        read_unlabeled("-")
    with pytest.raises(NerkitError, match="--teacher teaches a BiLSTM-CNN-CRF"):
        tiny_options(teacher=str(folder), fine_tune=True, transformer=str(folder))
    exported = tmp_path / "exported"
    exported.mkdir()
    (exported / "model.json").write_text(json.dumps({"format": "nerkit-onnx", "format_version": 1}))
    command = ["train", "--train", str(train_file), "--dev", str(dev), "-o", str(tmp_path / "m")]
    errors = []
    for bad in (tmp_path / "nope", exported, train_file):
        code = main([*command, "--teacher", str(bad)])
        errors.append(capsys.readouterr().err)
        assert code != 0 and len(errors[-1].strip().splitlines()) == 1 and "Traceback" not in errors[-1]
    assert "is an exported (ONNX) model; --teacher needs the model's own weights" in errors[1]
    broken = tmp_path / "broken.txt"
    broken.write_bytes(b"caf\xe9 au lait\n")
    code = main([*command, "--teacher", str(folder), "--unlabeled", str(broken)])
    err = capsys.readouterr().err
    assert code != 0 and "broken.txt:1" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "m").exists()
