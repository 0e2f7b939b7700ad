"""How nerkit shares the CPU with other processes: the default number of torch threads, and OpenMP threads
that sleep rather than spin while they wait (set before torch loads, never over the user's own choice)."""

from __future__ import annotations

import os
import sys
from collections.abc import Container, MutableMapping

WAIT_POLICY = "OMP_WAIT_POLICY"
# What the user may have chosen already: the OpenMP standard's variable, GNU libgomp's spin count (the
# runtime torch's Linux wheels bring) and Intel OpenMP's block time (the runtime of some other builds).
USER_WAIT_CHOICES = (WAIT_POLICY, "GOMP_SPINCOUNT", "KMP_BLOCKTIME")


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (taskset, a container's cpuset), where the
    system tells it, else every core; at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def default_threads(processes: int = 1) -> int:
    """The torch threads of a run that did not choose: its share of the usable cores when `processes`
    processes train together, at least 1."""
    return max(1, usable_cores() // processes)


def wait_passively(
    environ: MutableMapping[str, str] = os.environ, loaded: Container[str] = sys.modules
) -> bool:
    """Set OMP_WAIT_POLICY=PASSIVE in `environ`, so that torch's OpenMP threads sleep at once when they
    wait instead of spinning for milliseconds on a core another process needs; returns whether it did.

    Left alone when the user set OMP_WAIT_POLICY, GOMP_SPINCOUNT or KMP_BLOCKTIME, and when torch is
    already in `loaded` (its OpenMP runtime reads the environment once, as torch loads). Processes started
    afterwards inherit the setting."""
    if "torch" in loaded or any(name in environ for name in USER_WAIT_CHOICES):
        return False
    environ[WAIT_POLICY] = "PASSIVE"
    return True
