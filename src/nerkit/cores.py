"""The number of torch threads a run uses when it does not choose: the usable cores but one.

torch's threads wait for one another many times in every batch; when a busy process shares a core with
one of them, every wait can last a scheduler time slice. On 2 cores, training on both beside one
single-thread process ran 13 to 41 times slower than alone; on one, with a core left for the neighbour,
at its own speed, for 24% more time alone (bench/results/contention.json). OpenMP wait policies did not
help there: a passive wait made training alone 4.5 times slower.
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
