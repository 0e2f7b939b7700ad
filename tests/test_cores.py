"""nerkit.cores: the default thread count is the usable cores (the affinity mask) but one, at least one;
training and loading use it unless given a count."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nerkit.cores import default_threads, usable_cores


def affinity(monkeypatch: pytest.MonkeyPatch, cores: set[int]) -> None:
    """Make this process look as if it may run on `cores` only."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: cores)


def test_usable_cores_are_the_affinity_mask_not_every_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    affinity(monkeypatch, {3, 5})
    assert usable_cores() == 2


def test_usable_cores_without_affinity_are_every_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert usable_cores() == 6


def test_usable_cores_are_one_when_the_system_cannot_tell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert usable_cores() == 1


@pytest.mark.parametrize(
    ("cores", "processes", "threads"),
    [(1, 1, 1), (2, 1, 1), (3, 1, 2), (4, 1, 3), (16, 1, 15), (16, 2, 7), (4, 2, 1), (4, 3, 1), (1, 4, 1)],
)
def test_default_threads_share_the_usable_cores_but_one(
    monkeypatch: pytest.MonkeyPatch, cores: int, processes: int, threads: int
) -> None:
    affinity(monkeypatch, set(range(cores)))
    assert default_threads(processes) == threads


def test_load_uses_the_usable_cores_but_one(monkeypatch: pytest.MonkeyPatch, tiny_model: Path) -> None:
    import torch

    import nerkit

    threads = torch.get_num_threads()
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    affinity(monkeypatch, {0, 1, 2, 3})
    try:
        nerkit.load(str(tiny_model))
        assert torch.get_num_threads() == 3
        nerkit.load(str(tiny_model), threads=1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)


def test_training_uses_the_usable_cores_but_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import torch

    from nerkit.training.options import TrainOptions
    from nerkit.training.train import train

    samples = Path(__file__).resolve().parent.parent / "samples"
    options = TrainOptions(max_epochs=1, min_epochs=1, hidden=8, char_filters=4, average_epochs=1)
    threads = torch.get_num_threads()
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    affinity(monkeypatch, {1, 2, 5})
    try:
        train(samples / "train.conll", tmp_path / "model", dev_path=samples / "dev.conll", options=options)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
