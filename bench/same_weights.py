"""Benchmark: does a commit train the same model as another? Trains at both (each from a git worktree,
by the CLI as a user types it), tags the dev file with each model, and writes the weights' sha256, whether
the weights and the predictions are byte-identical, and the dev F1, as JSON.

    python bench/same_weights.py --before ecc9f0a --train ../shared/data/conll2003/train.txt \
        --dev ../shared/data/conll2003/valid.txt \
        --embeddings ../shared/data/embeddings/en_vectors_300d.conll2003.txt.gz \
        --output bench/results/same_weights.json
    python bench/same_weights.py --before HEAD~3 --train samples/train.conll --dev samples/dev.conll

Training runs with --threads 1, the two commits at once (one core each): with more threads, two runs of
one commit already differ (parallel sums), and their minutes are not a speed benchmark.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def cpu() -> dict[str, str]:
    """lscpu's model name and the flags that matter here."""
    text = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    flags = fields.get("Flags", "").split()
    kept = sorted(f for f in flags if f.startswith(("avx2", "avx512", "amx")))
    return {"model": fields.get("Model name", "").strip(), "flags": " ".join(kept)}


def run_at(tree: Path, args: argparse.Namespace, folder: Path) -> dict[str, object]:
    """Train and predict with the nerkit source of `tree`; the model's hash, dev F1 and outputs."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    nerkit = [sys.executable, "-m", "nerkit"]
    model = folder / "model"
    command = [*nerkit, "train", "--train", args.train, "--dev", args.dev, "-o", str(model)]
    command += ["--seed", str(args.seed), "--threads", "1"]
    command += ["--embeddings", args.embeddings] if args.embeddings else []
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, cwd=tree)
    minutes = (time.perf_counter() - started) / 60
    outputs = {}
    for output_format in ("conll", "jsonl"):
        out = folder / f"dev.{output_format}"
        predict = [
            *nerkit,
            "predict",
            str(model),
            args.dev,
            "--input-format",
            "conll",
            "--format",
            output_format,
        ]
        subprocess.run([*predict, "-o", str(out)], env=env, check=True, capture_output=True, cwd=tree)
        outputs[output_format] = out.read_bytes()
    meta = json.loads((model / "model.json").read_text(encoding="utf-8"))
    weights = (model / "model.safetensors").read_bytes()
    return {
        "sha256": hashlib.sha256(weights).hexdigest(),
        "dev_f1": round(100 * meta["dev"]["f1"], 2),
        "best_epoch": meta["best_epoch"],
        "minutes": round(minutes, 1),
        "weights": weights,
        "predictions": outputs,
    }


def _commit(revision: str) -> str:
    """A revision as its short commit hash."""
    found = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", revision], capture_output=True, text=True, check=True
    )
    return found.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the commit to compare with (a git revision)")
    parser.add_argument("--after", default="HEAD", help="the commit under test (default HEAD)")
    parser.add_argument("--train", required=True)
    parser.add_argument("--dev", required=True)
    parser.add_argument("--embeddings")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", type=Path, help="where to write the JSON (default: standard output)")
    args = parser.parse_args()
    for name in ("train", "dev", "embeddings"):
        if getattr(args, name):
            setattr(args, name, str(Path(getattr(args, name)).resolve()))
    with tempfile.TemporaryDirectory() as scratch:
        trees = {side: Path(scratch) / side for side in ("before", "after")}
        for side, tree in trees.items():
            revision = getattr(args, side)
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), revision],
                check=True,
                capture_output=True,
            )
            (tree / "run").mkdir()
        try:  # the two sides train at once, one thread each
            with ThreadPoolExecutor(2) as pool:
                runs = {side: pool.submit(run_at, tree, args, tree / "run") for side, tree in trees.items()}
                results = {
                    side: {"commit": getattr(args, side), **run.result()} for side, run in runs.items()
                }
        finally:
            for tree in trees.values():
                subprocess.run(
                    ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=True
                )
    report = {
        "same_weights": results["before"].pop("weights") == results["after"].pop("weights"),
        "same_predictions": results["before"].pop("predictions") == results["after"].pop("predictions"),
        **results,
        "train": args.train,
        "dev": args.dev,
        "embeddings": args.embeddings,
        "seed": args.seed,
        "threads": 1,
        "cpu": cpu(),
    }
    text = json.dumps(report, indent=2) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    print(text, end="")


if __name__ == "__main__":
    main()
