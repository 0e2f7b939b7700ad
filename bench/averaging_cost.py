"""Benchmark: what `--average-epochs N` adds to an epoch: averaging N snapshots of a trained model's
weights (`average_weights`, one thread, median of `--repeats`), and the memory the snapshots hold, as JSON.

    python bench/averaging_cost.py MODEL --epochs 3 6 --output bench/results/averaging_cost.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from machine import cpu
from safetensors.torch import load_file

from nerkit.training.tagger_steps import average_weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="a trained model folder")
    parser.add_argument("--epochs", type=int, nargs="+", default=[3, 6])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=Path("bench/results/averaging_cost.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    weights = load_file(args.model / "model.safetensors")
    megabytes = sum(t.numel() * t.element_size() for t in weights.values()) / 1e6
    seconds = {}
    for count in args.epochs:
        snapshots = [{name: t.clone() for name, t in weights.items()} for _ in range(count)]
        times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            average_weights(snapshots)
            times.append(time.perf_counter() - started)
        seconds[str(count)] = round(statistics.median(times), 4)
    summary = {
        "benchmark": "averaging the last epochs' weights",
        "cpu": cpu(),
        "model": str(args.model),
        "weights_mb": round(megabytes, 1),
        "median_seconds_per_epoch": seconds,
        "snapshot_mb": {str(n): round(n * megabytes, 1) for n in args.epochs},
    }
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
