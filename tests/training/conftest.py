"""What the training tests share: torch's thread count put back after each module, and tiny options."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch

from nerkit.training.options import TrainOptions


@pytest.fixture(autouse=True, scope="module")
def _restore_threads() -> Iterator[None]:
    """train() sets torch's thread count (threads=1 here); put it back for the tests after these."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_options() -> Callable[..., TrainOptions]:
    """TrainOptions of a tiny, fast model (one thread, sentence by sentence), with `changes`."""

    def make(**changes: object) -> TrainOptions:
        settings: dict[str, object] = {
            "hidden": 8,
            "char_filters": 4,
            "word_dim": 8,
            "max_epochs": 2,
            "min_epochs": 1,
            "threads": 1,
            "learning_rate": 0.05,
            "batch_size": 8,
            "seed": 3,
            "context_tokens": 0,
            "average_epochs": 1,
            "gazetteer": False,  # as before the default: tests of the gazetteer ask for it
            **changes,
        }
        return TrainOptions(**settings)  # type: ignore[arg-type]

    return make
