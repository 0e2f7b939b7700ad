"""Benchmark: a default `nerkit train` run on CoNLL-2003 (dev F1, minutes, peak RSS), per seed, as JSON.

    python bench/train_conll.py ../shared/data --seeds 1 2 3 --output bench/results/train_conll.json
    python bench/train_conll.py ../shared/data --output /tmp/try.json --dropout 0.4   # options go to train
    python bench/train_conll.py ../shared/data --spark-processes 2   # nerkit spark train, local[2], 2 processes

Each run is the CLI exactly as a user types it (`nerkit train --train … --dev … --embeddings …`),
timed from process start to exit; peak RSS is the child's maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trained_runs import read_log


def run(
    data: Path, seed: int, extra: list[str], keep: Path | None, vectors: bool, spark: int = 0
) -> dict[str, object]:
    """One training run in a fresh process (with `spark`, `nerkit spark train` in that many processes
    at local[spark]); returns its figures."""
    with tempfile.TemporaryDirectory() as scratch:
        output = keep if keep is not None else Path(scratch) / "model"
        command = [
            str(Path(sys.executable).with_name("nerkit")),
            *(
                ["spark", "train", "--master", f"local[{spark}]", "--num-processes", str(spark)]
                if spark
                else []
            ),
            *([] if spark else ["train"]),
            "--train",
            str(data / "conll2003" / "train.txt"),
            "--dev",
            str(data / "conll2003" / "valid.txt"),
            *(
                ["--embeddings", str(data / "embeddings" / "en_vectors_300d.conll2003.txt.gz")]
                if vectors
                else []
            ),
            "--output",
            str(output),
            "--seed",
            str(seed),
            *extra,
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        minutes = (time.perf_counter() - started) / 60
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if completed.returncode != 0:
            sys.exit(f"training failed:\n{completed.stderr}")
        meta = json.loads((output / "model.json").read_text(encoding="utf-8"))
        log = read_log(output)
    return {
        "seed": seed,
        "dev_f1": 100 * meta["dev"]["f1"],
        "dev_precision": 100 * meta["dev"]["precision"],
        "dev_recall": 100 * meta["dev"]["recall"],
        "best_epoch": meta["best_epoch"],
        "epochs": len(log),
        "minutes": minutes,
        "peak_rss_mb": max(peak, before) / 1024,  # ru_maxrss is in KiB on Linux
        "calibration": meta.get("calibration"),
        "epoch_f1": [round(100 * entry["dev"]["f1"], 2) for entry in log],
        "epoch_seconds": [round(entry["seconds"], 1) for entry in log],
        "stdout_tail": completed.stdout.splitlines()[-3:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (holds conll2003/ and embeddings/)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--output", type=Path, default=Path("bench/results/train_conll.json"))
    parser.add_argument("--keep", type=Path, help="keep the (last) model in this folder")
    parser.add_argument("--no-vectors", action="store_true", help="train without the shared word vectors")
    parser.add_argument(
        "--spark-processes", type=int, default=0, help="run nerkit spark train in N processes"
    )
    args, extra = parser.parse_known_args()  # anything else is passed on to nerkit train
    runs = []
    for seed in args.seeds:
        result = run(args.data, seed, extra, args.keep, not args.no_vectors, args.spark_processes)
        print(
            f"seed {seed}: dev F1 {result['dev_f1']:.2f} in {result['minutes']:.1f} min, "
            f"peak RSS {result['peak_rss_mb']:.0f} MB, {result['epochs']} epochs",
            flush=True,
        )
        runs.append(result)
    summary = {
        "benchmark": ("nerkit spark train" if args.spark_processes else "nerkit train")
        + (
            f" ({args.spark_processes} processes, local[{args.spark_processes}])"
            if args.spark_processes
            else ""
        )
        + " on CoNLL-2003 "
        + ("without vectors" if args.no_vectors else "with the shared vectors"),
        "options": extra + (["(no --embeddings)"] if args.no_vectors else []),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "median_dev_f1": statistics.median(r["dev_f1"] for r in runs),
        "median_minutes": statistics.median(r["minutes"] for r in runs),
        "max_peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
