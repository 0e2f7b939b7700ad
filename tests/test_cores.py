"""nerkit.cores: the default thread count from the usable cores, and the passive OpenMP wait policy set
before torch loads, never over the user's choice; training and loading use that default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nerkit.cores import USER_WAIT_CHOICES, default_threads, usable_cores, wait_passively


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
    [(4, 1, 4), (4, 2, 2), (4, 3, 1), (4, 8, 1), (1, 1, 1), (1, 4, 1), (2, 1, 2)],
)
def test_default_threads_share_the_usable_cores(
    monkeypatch: pytest.MonkeyPatch, cores: int, processes: int, threads: int
) -> None:
    affinity(monkeypatch, set(range(cores)))
    assert default_threads(processes) == threads


def test_passive_is_set_when_nothing_was_chosen() -> None:
    environ = {"PATH": "/bin"}
    assert wait_passively(environ, loaded={"numpy"}) is True
    assert environ == {"PATH": "/bin", "OMP_WAIT_POLICY": "PASSIVE"}


@pytest.mark.parametrize("name", USER_WAIT_CHOICES)
@pytest.mark.parametrize("value", ["ACTIVE", "300000", "200", ""])
def test_the_users_own_choice_is_kept(name: str, value: str) -> None:
    environ = {name: value}
    assert wait_passively(environ, loaded=set()) is False
    assert environ == {name: value}


def test_nothing_is_set_once_torch_is_loaded() -> None:
    environ: dict[str, str] = {}
    assert wait_passively(environ, loaded={"torch"}) is False
    assert environ == {}


def openmp_settings(env: dict[str, str], code: str) -> str:
    """libgomp's own report of its settings (OMP_DISPLAY_ENV, printed as torch loads) from a fresh Python
    running `code`: OMP_WAIT_POLICY, and GOMP_SPINCOUNT (0 when passive, 300000 when nothing is set)."""
    clean = {k: v for k, v in os.environ.items() if k not in USER_WAIT_CHOICES}
    clean |= {"OMP_DISPLAY_ENV": "VERBOSE", "OMP_NUM_THREADS": "1"} | env
    completed = subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=True, timeout=120
    )
    return completed.stderr


def test_openmp_in_torch_waits_passively_after_importing_nerkit() -> None:
    stderr = openmp_settings({}, "import nerkit, torch; torch.ones(1)")
    assert "OMP_WAIT_POLICY = 'PASSIVE'" in stderr
    assert "GOMP_SPINCOUNT = '0'" in stderr


def test_openmp_keeps_the_users_wait_policy() -> None:
    stderr = openmp_settings({"OMP_WAIT_POLICY": "ACTIVE"}, "import nerkit, torch; torch.ones(1)")
    assert "OMP_WAIT_POLICY = 'ACTIVE'" in stderr
    assert "GOMP_SPINCOUNT = '30000000000'" in stderr


def test_openmp_keeps_the_users_spin_count() -> None:
    stderr = openmp_settings({"GOMP_SPINCOUNT": "300000"}, "import nerkit, torch; torch.ones(1)")
    assert "GOMP_SPINCOUNT = '300000'" in stderr


def test_torch_imported_first_keeps_its_settings() -> None:
    stderr = openmp_settings(
        {}, "import torch, nerkit, os; torch.ones(1); assert 'OMP_WAIT_POLICY' not in os.environ"
    )
    assert "GOMP_SPINCOUNT = '300000'" in stderr  # libgomp's own default: spin about 3 ms


def test_load_uses_the_usable_cores(monkeypatch: pytest.MonkeyPatch, tiny_model: Path) -> None:
    import torch

    import nerkit

    threads = torch.get_num_threads()
    affinity(monkeypatch, {0})
    try:
        nerkit.load(str(tiny_model))
        assert torch.get_num_threads() == 1
        nerkit.load(str(tiny_model), threads=2)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)


def test_training_uses_the_usable_cores(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import torch

    from nerkit.training.options import TrainOptions
    from nerkit.training.train import train

    samples = Path(__file__).resolve().parent.parent / "samples"
    options = TrainOptions(max_epochs=1, min_epochs=1, hidden=8, char_filters=4, average_epochs=1)
    threads = torch.get_num_threads()
    affinity(monkeypatch, {1})
    try:
        train(samples / "train.conll", tmp_path / "model", dev_path=samples / "dev.conll", options=options)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
