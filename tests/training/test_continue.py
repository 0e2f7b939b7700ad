"""Tests for continuing a model (--init), partial annotations (--annotated-types, FILE:T1,T2) and
--rehearse: grown tables with old weights bit-identical, the allowed tags, lineage, and the bad inputs."""

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
from nerkit.training.continued import continued_options, load_start
from nerkit.training.options import TrainOptions
from nerkit.training.prepare import prepare
from nerkit.training.sources import TrainingFile, allowed_tags, parse_training_file, training_files
from nerkit.training.tagger_steps import TaggerSteps
from nerkit.training.train import train

NAMES = {
    "PER": ["Alice", "Bob", "Carla", "Dan"],
    "LOC": ["Paris", "Oslo", "Lima", "Bern"],
    "ORG": ["Acme", "Globex", "Initech", "Umbrella"],
}
TEMPLATES = ["{PER} visited {LOC} .", "{PER} works for {ORG} .", "{ORG} opened in {LOC} .", "fine weather ."]


def _corpus(path: Path, count: int, seed: int, types: set[str], extra_words: tuple[str, ...] = ()) -> Path:
    """`count` made-up sentences in CoNLL; entities of types outside `types` tagged O."""
    rng = random.Random(seed)
    lines = ["-DOCSTART- O", ""]
    for _ in range(count):
        for part in rng.choice(TEMPLATES).split():
            if part.startswith("{"):
                kind = part[1:-1]
                lines.append(f"{rng.choice(NAMES[kind])} {'B-' + kind if kind in types else 'O'}")
            else:
                lines.append(f"{part} O")
        lines.extend(f"{word} O" for word in extra_words)
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory, tiny_options) -> tuple[Path, Path]:
    """A model trained on PER and LOC only, and its dev file (all three types)."""
    folder = tmp_path_factory.mktemp("first")
    train_file = _corpus(folder / "a.conll", 40, 1, {"PER", "LOC"})
    dev = _corpus(folder / "dev.conll", 12, 2, {"PER", "LOC", "ORG"})
    train(train_file, folder / "model", dev_path=dev, options=tiny_options())
    return folder / "model", dev


def test_allowed_tags_open_o_to_the_types_not_annotated():
    labels = ["O", "B-LOC", "S-LOC", "B-PER", "S-PER"]
    tags = np.array([3, 0, 2])  # B-PER, O, S-LOC
    allowed = allowed_tags(tags, labels, ("PER",))
    assert allowed is not None
    assert allowed.tolist() == [
        [False, False, False, True, False],
        [True, True, True, False, False],
        [False, False, True, False, False],  # a tag of a type not annotated, where given, is kept
    ]
    bioes = ["O", "B-LOC", "E-LOC", "I-LOC", "S-LOC", "S-PER"]
    outside = allowed_tags(np.array([0, 5, 0]), bioes, ("PER",))
    assert outside is not None
    assert outside.tolist() == [  # no entity runs over the sentence's ends, even read joined
        [True, True, False, False, True, False],
        [False, False, False, False, False, True],
        [True, False, True, False, True, False],
    ]
    assert allowed_tags(tags, labels, ("PER", "LOC")) is None
    assert allowed_tags(tags, labels, None) is None


def test_training_files_take_types_per_file(tmp_path):
    odd = tmp_path / "odd:name"
    odd.write_text("x O\n", encoding="utf-8")
    assert parse_training_file("b.conll:MISC") == TrainingFile("b.conll", ("MISC",))
    assert parse_training_file(odd) == TrainingFile(str(odd))  # an existing path is taken whole
    assert parse_training_file("a.conll", "PER,LOC") == TrainingFile("a.conll", ("PER", "LOC"))
    assert training_files(["a.conll:PER", "b.conll"], "ORG") == [
        TrainingFile("a.conll", ("PER",)),
        TrainingFile("b.conll", ("ORG",)),
    ]
    assert TrainingFile("a.conll", ("PER", "LOC")).describe() == "a.conll:PER,LOC"
    for bad in ("PER,,LOC", "PER,PER", "B PER"):
        with pytest.raises(NerkitError):
            parse_training_file("a.conll", bad)


def test_init_grows_tables_and_keeps_every_old_weight_bit_identical(first, tmp_path, tiny_options):
    start_folder, dev = first
    new = _corpus(tmp_path / "b.conll", 20, 5, {"PER", "LOC", "ORG"}, extra_words=("Zürich", "1996"))
    start = load_start(start_folder)
    options = continued_options(tiny_options(), start, start_folder).resolved(has_vectors=False)
    data = prepare(new, dev, options=options, start=start)
    old_vocab = start.vocab
    assert data.vocab.words[: len(old_vocab.words)] == old_vocab.words
    assert data.vocab.chars[: len(old_vocab.chars)] == old_vocab.chars
    assert data.vocab.labels == [*old_vocab.labels, "S-ORG"]  # the tags the data has, as a new model
    assert {"zürich", "0000"} <= set(data.vocab.words[len(old_vocab.words) :])
    assert "ü" in data.vocab.chars[len(old_vocab.chars) :]
    steps = TaggerSteps(data, options, random.Random(0))
    grown = steps.model.state_dict()
    for name, old in start.model.state_dict().items():
        leading = grown[name][tuple(slice(0, size) for size in old.shape)]
        assert torch.equal(leading, old), name
    assert grown["project.weight"].shape[0] == len(data.vocab.labels)


def test_a_continued_model_records_its_lineage(first, tmp_path, tiny_options):
    start_folder, dev = first
    new = _corpus(tmp_path / "b.conll", 20, 5, {"ORG"})
    second, third = tmp_path / "second", tmp_path / "third"
    train(f"{new}:ORG", second, dev_path=dev, options=tiny_options(init=str(start_folder)))
    train(new, third, dev_path=dev, options=tiny_options(init=str(second), annotated_types="ORG"))
    meta = load_model(third).meta
    assert meta["continued_from"] == {
        "model": str(second.resolve()),
        "weights_sha256": file_sha256(second / "model.safetensors"),
    }
    stages = meta["lineage"]
    assert [stage["model"] for stage in stages] == [str(start_folder.resolve()), str(second.resolve())]
    assert stages[0]["data"]["train"] == str(start_folder.parent / "a.conll")
    assert stages[1]["data"]["train"] == f"{new}:ORG"
    assert stages[0]["weights_sha256"] == file_sha256(start_folder / "model.safetensors")
    assert meta["data"]["train"] == f"{new}:ORG"
    assert meta["training"]["init"] == str(second)
    assert "S-ORG" in meta["spec"]["labels"]


def test_partial_files_train_from_scratch_and_say_so_in_model_json(tmp_path, capsys):
    a = _corpus(tmp_path / "a.conll", 30, 1, {"PER", "LOC"})
    b = _corpus(tmp_path / "b.conll", 30, 2, {"ORG"})
    dev = _corpus(tmp_path / "dev.conll", 10, 3, {"PER", "LOC", "ORG"})
    code = main(
        ["train", "--train", f"{a}:PER,LOC", "--train", f"{b}:ORG", "--dev", str(dev), "-o", str(tmp_path / "m"),
         "--hidden", "8", "--char-filters", "4", "--word-dim", "8", "--max-epochs", "1", "--threads", "1"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    meta = json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))
    assert meta["data"]["train"] == [f"{a}:PER,LOC", f"{b}:ORG"]
    assert meta["data"]["formats"]["train"] == "conll,conll"


def test_partial_sentences_carry_their_allowed_tags(tmp_path, tiny_options):
    a = _corpus(tmp_path / "a.conll", 6, 1, {"PER", "LOC", "ORG"})
    b = _corpus(tmp_path / "b.conll", 6, 2, {"ORG"})
    options = tiny_options().resolved(has_vectors=False)
    data = prepare([a, f"{b}:ORG"], a, options=options)
    steps = TaggerSteps(data, options, random.Random(0))
    complete, partial = steps.encoded_train[:6], steps.encoded_train[6:]
    assert all(s.allowed is None for s in complete)
    labels = data.vocab.labels
    for sentence in partial:
        assert sentence.allowed is not None and sentence.tags is not None
        outside = sentence.tags == 0
        open_tags = [label != "O" and not label.endswith("ORG") for label in labels]
        assert (sentence.allowed[outside] == np.array([True, *open_tags[1:]])).all()


def test_rehearse_mixes_a_fresh_share_into_every_epoch(tmp_path, tiny_options):
    a = _corpus(tmp_path / "a.conll", 20, 1, {"PER"})
    b = _corpus(tmp_path / "b.conll", 10, 2, {"PER"})
    options = tiny_options(rehearse=str(a), rehearse_share=0.5).resolved(has_vectors=False)
    steps = TaggerSteps(prepare(b, b, options=options), options, random.Random(0))
    first_epoch, second_epoch = steps._epoch_units(), steps._epoch_units()
    assert len(first_epoch) == len(second_epoch) == 10 + 10
    ids = [[id(unit) for unit in epoch] for epoch in (first_epoch, second_epoch, steps.encoded_rehearse)]
    assert ids[0][:10] == ids[1][:10] == [id(unit) for unit in steps.encoded_train]
    assert set(ids[0][10:]) <= set(ids[2]) and set(ids[1][10:]) <= set(ids[2])
    assert ids[0][10:] != ids[1][10:]


def test_continuing_refuses_what_would_lose_or_change_the_model(first, tmp_path, tiny_options):
    start_folder, dev = first
    new = _corpus(tmp_path / "b.conll", 5, 5, {"PER"})
    with pytest.raises(NerkitError, match="--hidden 32 differs from the model's 8"):
        train(new, tmp_path / "m", dev_path=dev, options=tiny_options(init=str(start_folder), hidden=32))
    with pytest.raises(NerkitError, match="is the --init model"):
        train(new, start_folder, dev_path=dev, options=tiny_options(init=str(start_folder)))
    with pytest.raises(NerkitError, match="annotates FOO, a type no training file tags"):
        train(f"{new}:FOO", tmp_path / "m", dev_path=dev, options=tiny_options(init=str(start_folder)))
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("Alice 0.1 0.2 0.3\n", encoding="utf-8")
    with pytest.raises(NerkitError, match="3-dimensional, the model's word table 8"):
        train(
            new,
            tmp_path / "m",
            dev_path=dev,
            embeddings=vectors,
            options=tiny_options(init=str(start_folder)),
        )
    with pytest.raises(NerkitError):
        train(new, tmp_path / "m", dev_path=dev, options=tiny_options(init=str(tmp_path / "missing")))
    with pytest.raises(NerkitError, match="need a --dev file"):
        train(f"{new}:PER", tmp_path / "m", options=tiny_options())
    with pytest.raises(NerkitError, match="annotates FOO"):
        train(new, tmp_path / "m", dev_path=dev, options=tiny_options(rehearse=f"{new}:FOO"))
    with pytest.raises(NerkitError, match="--rehearse"):
        train(new, tmp_path / "m", dev_path=dev, options=tiny_options(rehearse=f"{new}:PER,,LOC"))
    assert not (tmp_path / "m").exists()


def test_a_checkpoint_without_the_new_options_had_their_defaults():
    saved = TrainOptions().to_json()
    for name in ("init", "annotated_types", "rehearse", "rehearse_share", "lr_schedule"):
        del saved[name]
    assert TrainOptions().changed_from(saved) == []
    assert TrainOptions(rehearse_share=0.5).changed_from(saved) == ["--rehearse-share"]


def test_cli_init_with_an_unknown_model_is_one_line(tmp_path, capsys):
    new = _corpus(tmp_path / "b.conll", 5, 5, {"PER"})
    code = main(["train", "--train", str(new), "-o", str(tmp_path / "m"), "--init", str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert code != 0 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("init_prior", [None, False])
def test_continuing_on_a_partial_file_weighs_open_tokens_by_the_old_model(
    first, tmp_path, tiny_options, init_prior
):
    start_folder, dev = first
    new = _corpus(tmp_path / "b.conll", 8, 5, {"ORG"})
    start = load_start(start_folder)
    options = continued_options(
        tiny_options(init_prior=init_prior, annotated_types="ORG"), start, start_folder
    )
    data = prepare(new, dev, options=options.resolved(has_vectors=False), start=start)
    steps = TaggerSteps(data, options.resolved(has_vectors=False), random.Random(0))
    unit = steps.encoded_train[0]
    if init_prior is False:
        assert unit.prior is None
        return
    assert unit.prior is not None and unit.prior.shape == (len(unit), len(data.vocab.labels))
    old = len(start.vocab.labels)
    assert np.allclose(np.exp(unit.prior[:, :old]).sum(1), 1, atol=1e-4)  # the old model's marginals
    assert (unit.prior[:, old:] == unit.prior[:, :1]).all()  # a new type weighs what O does
