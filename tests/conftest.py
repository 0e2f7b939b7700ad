"""Shared test helpers: writing small files into a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write text (or bytes) to a file in the test's folder and return its path."""

    def _write(content: str | bytes, name: str = "data.conll") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
        return path

    return _write


SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model trained once per test session on samples/ (about a second); do not change it."""
    from nerkit.train import train
    from nerkit.train_options import TrainOptions

    output = tmp_path_factory.mktemp("tiny") / "model"
    options = TrainOptions(
        max_epochs=2,
        min_epochs=1,
        learning_rate=0.05,
        hidden=16,
        char_filters=8,
        word_dim=16,
        seed=1,
        threads=1,
        context_tokens=0,  # each sentence alone, so tag_tokens without documents gives the same tags
        average_epochs=1,
    )
    train(SAMPLES / "train.conll", output, dev_path=SAMPLES / "dev.conll", options=options)
    return output


@pytest.fixture(scope="session")
def tiny_pipeline(tiny_model: Path):
    """The tiny model loaded once per test session; tests must not change it."""
    import nerkit

    return nerkit.load(str(tiny_model), threads=1)


TINY_BERT_WORDS = ["the", "cat", "sat", "on", "mat", "peter", "paris", "cafe", "visited", "."]


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer BERT (hidden size 16, 64 positions) with a fast uncased word-piece
    tokenizer over a few words and every letter, written as a transformer folder."""
    transformers = pytest.importorskip("transformers")
    import torch

    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *TINY_BERT_WORDS, *letters]
    pieces += [f"##{c}" for c in letters]
    folder = tmp_path_factory.mktemp("bert") / "tiny-bert"
    folder.mkdir()
    tokenizer = transformers.BertTokenizerFast(vocab={p: i for i, p in enumerate(pieces)}, do_lower_case=True)
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(pieces),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    transformers.BertModel(config).save_pretrained(folder)
    return folder
