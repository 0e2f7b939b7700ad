"""The number of torch threads a run uses when it does not choose: the usable cores but one.

Every torch operation splits its work over the threads and waits for the slowest; when another busy
process shares a core with one of them, each of the thousands of waits in a batch lasts a scheduler time
slice, and training beside one single-thread process ran 34 times slower on 2 cores (bench/contention.py).
With one core left over, such a neighbour runs there and the run keeps its speed; OpenMP wait policies
did not help (a passive wait made training alone 4.5 times slower).
"""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (taskset, a container's cpuset) where the
    system tells it, else every core; at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def default_threads(processes: int = 1) -> int:
    """The torch threads of a run that did not choose: its share of the usable cores but one (left for
    the rest of the machine) when `processes` processes train together; at least 1."""
    return max(1, (usable_cores() - 1) // processes)
