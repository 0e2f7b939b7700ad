"""Benchmark: default training alone and beside one busy single-thread process, old default against new.

    python bench/contention.py --output bench/results/contention.json
    python bench/contention.py --batches 5 --warmup 2 --repeats 1 --threads 1 --output /tmp/try.json  # a check
    python bench/contention.py --configs spin-1k spin-3k --busy spin --output /tmp/spin.json  # wait policies

Each measurement is a fresh process that trains as `nerkit train --train … --dev … --embeddings …` would
(CoNLL-2003 from ../shared/data, seed 42, every option at its default) and times batches `--warmup` + 1 to
`--warmup` + `--batches` of the first epoch, the data already read; then it stops. It runs alone, and
beside one busy process started first: `spin`, a pure-Python loop, and `predict`, a model tagging the dev
texts in a loop with one thread, as `nerkit predict --threads 1` does. Configurations:

- `old`: nerkit before this benchmark: every core (os.cpu_count()), libgomp's default wait (spin about
  3 ms, then sleep);
- `new`: nerkit's default (nerkit.cores): the usable cores but one;
- `passive`, `spin-1k`, `spin-3k`: every core with OpenMP threads that sleep at once when they wait
  (OMP_WAIT_POLICY=PASSIVE), or spin 1,000 or 3,000 times first (GOMP_SPINCOUNT): the wait policies tried.

The JSON has, per configuration, the median seconds alone and beside each busy process, the ratios
beside/alone, each configuration alone against old alone, and the CPU (lscpu's model name and flags).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path("../shared/data")
# What decides threads and waiting in a child: cleared from the environment, then set per configuration.
CLEARED = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
BUSY_MODEL_SENTENCES = 1000  # the predict neighbour's model: one epoch on this many train sentences


@dataclass(frozen=True)
class Config:
    """A way to run the training: its thread count (0: nerkit's default) and environment additions."""

    description: str
    threads: int
    env: dict[str, str] = field(default_factory=dict)


EVERY_CORE = os.cpu_count() or 1  # nerkit's old default
CONFIGS = {
    "old": Config(
        "every core (os.cpu_count()), libgomp's default wait: spin about 3 ms, then sleep", EVERY_CORE
    ),
    "new": Config("nerkit's default: the usable cores but one", 0),
    "passive": Config("every core, OMP_WAIT_POLICY=PASSIVE", EVERY_CORE, {"OMP_WAIT_POLICY": "PASSIVE"}),
    "spin-1k": Config("every core, GOMP_SPINCOUNT=1000", EVERY_CORE, {"GOMP_SPINCOUNT": "1000"}),
    "spin-3k": Config("every core, GOMP_SPINCOUNT=3000", EVERY_CORE, {"GOMP_SPINCOUNT": "3000"}),
}


class Enough(BaseException):
    """Raised from the batch callback once the timed batches are done (not an Exception: nothing on the
    way out catches it)."""


def time_batches(args: argparse.Namespace) -> None:
    """The `train` role: train with the defaults (and `--threads` unless 0) and print, as JSON, the
    seconds of the timed batches, the torch threads used and the wait policy seen."""
    import torch

    from nerkit.training.options import TrainOptions
    from nerkit.training.train import train

    marks: list[float] = []

    def on_batch(done: int, total: int) -> None:
        if total < args.warmup + args.batches:
            sys.exit(f"the first epoch has {total} batches; ask for fewer")
        marks.append(time.perf_counter())
        if done == args.warmup + args.batches:
            raise Enough

    with tempfile.TemporaryDirectory() as scratch, contextlib.suppress(Enough):
        train(
            args.train,
            Path(scratch) / "model",
            dev_path=args.dev,
            embeddings=args.embeddings,
            options=TrainOptions(threads=args.threads or None),
            on_batch=on_batch,
        )
    seen = {name: os.environ[name] for name in CLEARED if name in os.environ}
    figures = {"seconds": marks[-1] - marks[args.warmup - 1], "threads": torch.get_num_threads(), "env": seen}
    print(json.dumps(figures))


def predict_forever(args: argparse.Namespace) -> None:
    """The `predict` role: load `--model` with one thread and tag the dev split's sentences, over and over."""
    import nerkit
    from nerkit.data.conll import read_conll

    pipeline = nerkit.load(str(args.model), threads=1)
    texts = [" ".join(sentence.tokens) for sentence in read_conll(args.dev)]
    while True:
        pipeline.predict_many(texts)


def busy_model(args: argparse.Namespace, folder: Path) -> Path:
    """A default-sized model for the predict neighbour: one epoch, one thread, on the first sentences of
    train (written to `folder`, never into the project)."""
    lines = args.train.read_text(encoding="utf-8").splitlines(keepends=True)
    blank = [i for i, line in enumerate(lines) if not line.strip()]
    head = folder / "train_head.txt"
    head.write_text("".join(lines[: blank[min(BUSY_MODEL_SENTENCES, len(blank)) - 1] + 1]), encoding="utf-8")
    model = folder / "busy_model"
    command = [*nerkit_command(), "train", "--train", str(head), "--output", str(model)]
    command += ["--max-epochs", "1", "--threads", "1"]
    completed = subprocess.run(command, capture_output=True, text=True, env=child_env(CONFIGS["new"]))
    if completed.returncode != 0:
        sys.exit(f"training the predict neighbour's model failed:\n{completed.stderr}")
    return model


def nerkit_command() -> list[str]:
    """The `nerkit` command of this Python."""
    return [sys.executable, "-m", "nerkit"]


def child_env(config: Config) -> dict[str, str]:
    """This process's environment without thread or wait settings, plus the configuration's own."""
    env = {name: value for name, value in os.environ.items() if name not in CLEARED}
    return env | config.env


def start_busy(
    kind: str, args: argparse.Namespace, model: Path | None, config: Config
) -> subprocess.Popen[bytes]:
    """Start the busy neighbour of `kind` and give it a moment to get going."""
    if kind == "spin":
        command = [sys.executable, "-c", "while True: pass"]
    else:
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--role",
            "predict",
            "--model",
            str(model),
            "--dev",
            str(args.dev),
        ]
    busy = subprocess.Popen(command, env=child_env(config), stdout=subprocess.DEVNULL)
    time.sleep(args.settle)
    return busy


def measure(name: str, beside: str, args: argparse.Namespace, model: Path | None) -> dict[str, object]:
    """One timed training of configuration `name`, alone or beside a busy process of kind `beside`."""
    config = CONFIGS[name]
    threads = args.threads or config.threads
    command = [sys.executable, str(Path(__file__).resolve()), "--role", "train", "--threads", str(threads)]
    command += ["--batches", str(args.batches), "--warmup", str(args.warmup)]
    command += ["--train", str(args.train), "--dev", str(args.dev), "--embeddings", str(args.embeddings)]
    busy = None if beside == "alone" else start_busy(beside, args, model, config)
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, env=child_env(config), check=False
        )
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    if completed.returncode != 0:
        sys.exit(f"{name} {beside}: training failed:\n{completed.stderr}")
    figures: dict[str, object] = json.loads(completed.stdout.splitlines()[-1])
    print(f"{name:10} {beside:7} {figures['seconds']:7.2f} s  threads {figures['threads']}", flush=True)
    return figures


def lscpu() -> dict[str, object]:
    """lscpu's model name and flags."""
    lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    return {
        "model_name": fields.get("Model name", "").strip(),
        "flags": fields.get("Flags", "").split(),
    }


def summary(
    runs: dict[str, dict[str, list[dict[str, object]]]], args: argparse.Namespace
) -> dict[str, object]:
    """The medians and ratios of every configuration, with the runs themselves."""
    results: dict[str, object] = {}
    for name, by_neighbour in runs.items():
        medians = {
            beside: statistics.median(float(str(r["seconds"])) for r in rs)
            for beside, rs in by_neighbour.items()
        }
        results[name] = {
            "threads": by_neighbour["alone"][0]["threads"],
            "env": by_neighbour["alone"][0]["env"],
            "median_seconds": medians,
            "ratio_to_alone": {b: round(m / medians["alone"], 3) for b, m in medians.items() if b != "alone"},
            "runs": {b: [r["seconds"] for r in rs] for b, rs in by_neighbour.items()},
        }
    alone = {name: statistics.median(float(str(r["seconds"])) for r in runs[name]["alone"]) for name in runs}
    return {
        "benchmark": f"batches {args.warmup + 1}-{args.warmup + args.batches} of a default nerkit training "
        "epoch on CoNLL-2003 (shared vectors, seed 42), alone and beside one busy single-thread process",
        "configs": {name: CONFIGS[name].description for name in runs},
        "threads_flag": args.threads,
        "repeats": args.repeats,
        "machine": {
            "cpus": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)),
            **lscpu(),
            "python": platform.python_version(),
            "torch": importlib.metadata.version("torch"),
            "loadavg_at_start": args.loadavg,
        },
        "results": results,
        "alone_vs_old": {name: round(seconds / alone["old"], 3) for name, seconds in alone.items()}
        if "old" in alone
        else {},
    }


def bench(args: argparse.Namespace) -> None:
    """The measuring role: every configuration alone and beside each busy kind, repeats interleaved."""
    args.loadavg = os.getloadavg()
    runs: dict[str, dict[str, list[dict[str, object]]]] = {
        name: {beside: [] for beside in ["alone", *args.busy]} for name in args.configs
    }
    with tempfile.TemporaryDirectory() as scratch:
        model = busy_model(args, Path(scratch)) if "predict" in args.busy else None
        for _ in range(args.repeats):
            for name in args.configs:
                for beside in ["alone", *args.busy]:
                    runs[name][beside].append(measure(name, beside, args, model))
    result = summary(runs, args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=DATA / "conll2003" / "train.txt")
    parser.add_argument("--dev", type=Path, default=DATA / "conll2003" / "valid.txt")
    parser.add_argument(
        "--embeddings", type=Path, default=DATA / "embeddings" / "en_vectors_300d.conll2003.txt.gz"
    )
    parser.add_argument("--output", type=Path, default=Path("bench/results/contention.json"))
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=["old", "new", "passive"])
    parser.add_argument("--busy", nargs="+", choices=["spin", "predict"], default=["spin", "predict"])
    parser.add_argument("--batches", type=int, default=60, help="timed batches (default 60)")
    parser.add_argument(
        "--warmup", type=int, default=10, help="untimed batches first (default 10, at least 1)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="every configuration with this many threads")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds the busy process runs first")
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--role", choices=["bench", "train", "predict"], default="bench", help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.warmup < 1 or args.batches < 1:
        parser.error("--warmup and --batches must be 1 or more")
    return args


def main() -> None:
    args = parse_args()
    {"bench": bench, "train": time_batches, "predict": predict_forever}[args.role](args)


if __name__ == "__main__":
    main()
