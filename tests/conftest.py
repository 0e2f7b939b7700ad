"""Shared test helpers: writing small files into a temporary folder, tiny models; in CI (CI=true), a test
skipped for a missing requirement (Java, chromium, an optional package) fails instead."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytester"]  # for tests/test_ci_skips.py


def strict_ci() -> bool:
    """Whether skips must fail: in CI (`.ci/run` sets CI=true), where `make install` provides everything."""
    return os.environ.get("CI") == "true"


def declared_skip(item: pytest.Item) -> bool:
    """Whether the test declares its skip with a skip or skipif mark: an intentional skip, kept in CI too."""
    return item.get_closest_marker("skip") is not None or item.get_closest_marker("skipif") is not None


def fail_the_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Turn a skip (pytest.skip, pytest.importorskip: a missing requirement) into a failure saying why."""
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    report.outcome = "failed"
    report.longrepr = (
        f"{reason}\nCI=true: a test skipped for a missing requirement fails in CI, where `make install` "
        "provides every one; declare an intentional skip with @pytest.mark.skip or skipif"
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.skipped and not hasattr(report, "wasxfail") and strict_ci() and not declared_skip(item):
        fail_the_skip(report)
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield  # skipped: a module-level pytest.importorskip or pytest.skip(allow_module_level=True)
    if report.skipped and strict_ci():
        fail_the_skip(report)
    return report


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


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless chromium driven by Playwright, for one test module: Playwright's sync API holds an
    event loop while it runs, which must be gone before the next module's asyncio tests."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the browser test needs playwright: pip install -e '.[dev]'"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip("the browser test needs Debian's chromium: apt-get install chromium (make test does)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model trained once per test session on samples/ (about a second); do not change it."""
    from nerkit.training.options import TrainOptions
    from nerkit.training.train import train

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
        gazetteer=False,  # the figures tests assert were taken without one (tests/data/test_gazetteer.py)
        lm_weight=0.0,  # and without the neighbouring words (tests/training/test_neighbour_words.py)
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
