"""Tests for nerkit.training.finetune_steps: a tiny random BERT fine-tuned on a tiny corpus, saved and loaded back."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from nerkit.data.batches import encode_sentence
from nerkit.data.vocab import build_vocab
from nerkit.embeddings.transformer import load_transformer
from nerkit.errors import NerkitError
from nerkit.pipeline import load
from nerkit.training.corpus import Corpus
from nerkit.training.finetune_steps import training_units, unit_batches
from nerkit.training.options import TrainOptions
from nerkit.training.train import train


def _write_corpus(path: Path, sentences: int, seed: int) -> Path:
    """IOB2 sentences over the tiny BERT's words: "peter" is a person, "paris" a place."""
    rng = random.Random(seed)
    lines = []
    for index in range(sentences):
        if index % 4 == 0:
            lines.extend(["-DOCSTART- O", ""])
        words = rng.choice([["peter", "visited", "paris", "."], ["the", "cat", "sat", "on", "the", "mat"]])
        tags = {"peter": "B-PER", "paris": "B-LOC"}
        lines.extend(f"{w} {tags.get(w, 'O')}" for w in words)
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _options(tiny_bert: Path, **changes) -> TrainOptions:
    settings = {
        "transformer": str(tiny_bert),
        "fine_tune": True,
        "max_epochs": 2,
        "min_epochs": 1,
        "threads": 1,
        "char_filters": 8,
        "seed": 5,
        **changes,
    }
    return TrainOptions(**settings)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("finetune-data")
    return _write_corpus(folder / "train.conll", 24, 1), _write_corpus(folder / "dev.conll", 8, 2)


@pytest.fixture(scope="module")
def fine_tuned(tmp_path_factory: pytest.TempPathFactory, tiny_bert: Path, corpus):
    folder = tmp_path_factory.mktemp("finetuned")
    train_file, dev_file = corpus
    result = train(
        train_file, folder / "model", dev_path=dev_file, options=_options(tiny_bert, learning_rate=1e-3)
    )
    return result, folder / "model"


def test_fine_tuned_folder_holds_the_new_transformer_weights(fine_tuned, tiny_bert):
    result, model = fine_tuned
    assert [log.epoch for log in result.logs] == [1, 2]
    meta = json.loads((model / "model.json").read_text(encoding="utf-8"))
    spec = meta["spec"]
    assert (spec["layers"], spec["head"], spec["word_dim"], spec["transformer_layers"]) == (0, "crf", 0, 1)
    assert meta["training"]["fine_tune"] is True
    assert meta["training"]["dropout"] == 0.1
    tuned = load_file(model / "transformer" / "model.safetensors")
    original = load_file(tiny_bert / "model.safetensors")
    changed = [name for name in original if not torch.equal(original[name], tuned[name])]
    assert changed  # the transformer itself was trained
    assert (model / "transformer" / "tokenizer.json").is_file()


def test_fine_tuned_model_predicts_and_evaluates_like_training(fine_tuned, corpus):
    _, model = fine_tuned
    _, dev_file = corpus
    pipeline = load(model, threads=1)
    saved = json.loads((model / "model.json").read_text(encoding="utf-8"))
    assert pipeline.evaluate(dev_file).f1 == pytest.approx(saved["dev"]["f1"])
    document = pipeline.predict("peter visited paris .")
    assert all(0.0 <= e.confidence <= 1.0 for e in document.entities)


def test_linear_head(tmp_path, tiny_bert, corpus):
    train_file, dev_file = corpus
    options = _options(tiny_bert, head="linear", max_epochs=1)
    train(train_file, tmp_path / "m", dev_path=dev_file, options=options)
    pipeline = load(tmp_path / "m", threads=1)
    assert pipeline.spec.head == "linear"
    assert pipeline.model.crf.transitions.abs().sum().item() == 0.0  # decoding uses only the BIOES rules


def test_units_pack_a_document_within_the_window(tiny_bert):
    transformer = load_transformer(tiny_bert, window=10)
    corpus = Corpus(
        tokens=[("peter", "visited"), ("paris", "."), ("cats",), ("x" * 40,), ("the",)],
        tags=[("B-PER", "O"), ("B-LOC", "O"), ("O",), ("O",), ("O",)],
        documents=[0, 0, 0, 0, 1],
    )
    vocab = build_vocab(corpus.tokens, ["O"])
    encoded = [encode_sentence(t, vocab) for t in corpus.tokens]
    units, skipped = training_units(corpus, transformer, encoded, context=True)
    assert skipped == 1  # 16 sub-words of x: longer than the 10-sub-word window
    assert [u.first for u in units] == [[0, 1, 2, 3, 4], [0]]
    assert [len(u.pieces) for u in units] == [6, 1]
    assert [u.encoded.sentences for u in units] == [3, 1]
    alone, _ = training_units(corpus, transformer, encoded, context=False)
    assert [u.encoded.sentences for u in alone] == [1, 1, 1, 1]


def test_unit_batches_respect_the_budget_and_cover_every_unit(tiny_bert):
    transformer = load_transformer(tiny_bert)
    corpus = Corpus(tokens=[("the",) * n for n in range(1, 30)], tags=[("O",) * n for n in range(1, 30)])
    corpus.documents = list(range(len(corpus.tokens)))
    vocab = build_vocab(corpus.tokens, ["O"])
    encoded = [encode_sentence(t, vocab) for t in corpus.tokens]
    units, _ = training_units(corpus, transformer, encoded, context=False)
    batches = unit_batches(units, 40, random.Random(1))
    assert sorted(i for batch in batches for i in batch) == list(range(len(units)))
    for batch in batches:
        assert len(batch) == 1 or len(batch) * max(len(units[i].pieces) for i in batch) <= 40


def test_fine_tune_needs_a_transformer(tmp_path, corpus):
    train_file, dev_file = corpus
    with pytest.raises(NerkitError, match="--fine-tune needs --transformer"):
        train(train_file, tmp_path / "m", dev_path=dev_file, options=TrainOptions(fine_tune=True))


def test_fine_tuning_resumes_exactly_like_an_uninterrupted_run(tmp_path, tiny_bert, corpus):
    train_file, dev_file = corpus
    options = _options(tiny_bert, max_epochs=3, learning_rate=1e-3)

    def stop_after_first(log):
        if log.epoch == 1:
            raise KeyboardInterrupt

    first = train(
        train_file, tmp_path / "split", dev_path=dev_file, options=options, on_epoch=stop_after_first
    )
    assert first.interrupted and [log.epoch for log in first.logs] == [1]
    resumed = train(train_file, tmp_path / "split", dev_path=dev_file, options=options, resume=True)
    straight = train(train_file, tmp_path / "whole", dev_path=dev_file, options=options)
    assert [log.loss for log in resumed.logs] == [log.loss for log in straight.logs]
    assert [log.dev for log in resumed.logs] == [log.dev for log in straight.logs]
    for name in ("model.safetensors", "transformer/model.safetensors"):
        assert (tmp_path / "split" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
    assert not (tmp_path / "split" / "checkpoint.safetensors").exists()


def test_automatic_options_when_fine_tuning():
    options = TrainOptions(fine_tune=True, transformer="x").resolved(has_vectors=False)
    assert (options.learning_rate, options.max_epochs, options.dropout) == (1e-4, 8, 0.1)
    plain = TrainOptions().resolved(has_vectors=True)
    assert (plain.learning_rate, plain.max_epochs, plain.dropout) == (0.002, 30, 0.5)


def test_stacked_word_vectors_stay_fixed(tmp_path, tiny_bert, corpus):
    train_file, dev_file = corpus
    vectors = tmp_path / "vectors.txt"
    vectors.write_text(
        "\n".join(f"{word} {i}.0 0.5 -1.0" for i, word in enumerate(["peter", "paris", "the", "cat", "mat"]))
        + "\n",
        encoding="utf-8",
    )
    train(
        train_file,
        tmp_path / "m",
        dev_path=dev_file,
        embeddings=vectors,
        options=_options(tiny_bert, max_epochs=1),
    )
    pipeline = load(tmp_path / "m", threads=1)
    assert pipeline.spec.word_dim == 3
    row = pipeline.vocab.word_index["paris"]
    assert pipeline.model.word_embedding.weight[row].tolist() == [1.0, 0.5, -1.0]


@pytest.mark.parametrize("head", ["crf", "linear"])
def test_fine_tuning_learns_from_a_partial_annotation(tmp_path, tiny_bert, corpus, head):
    train_file, dev_file = corpus
    options = _options(tiny_bert, head=head, max_epochs=1, annotated_types="PER")
    result = train(train_file, tmp_path / "m", dev_path=dev_file, options=options)
    assert result.best_epoch == 1 and result.logs[0].loss > 0
    assert json.loads((tmp_path / "m" / "model.json").read_text())["data"]["train"] == f"{train_file}:PER"
