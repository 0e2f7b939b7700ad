"""Benchmark: dev F1 and time of a transformer-feature model with features computed in float32 or
bfloat16 and kept as float32 or float16 (the default: float16, computed in bfloat16 where the CPU has it).

    python bench/feature_precision.py MODEL ../shared/data/conll2003/valid.txt

Each variant loads the model afresh and scores the file (`Pipeline.evaluate`, document context as trained);
seconds are for scoring, load excluded.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import nerkit.pipeline
from nerkit.embeddings.transformer import bfloat16_is_fast, token_features

VARIANTS = {  # name: (computed in, kept as)
    "float32 computed, float32 kept": ("float32", np.float32),
    "float32 computed, float16 kept": ("float32", np.float16),
    "bfloat16 computed, float16 kept": ("bfloat16", np.float16),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model folder trained with --transformer")
    parser.add_argument("conll", type=Path, help="a tagged CoNLL file (the dev split)")
    parser.add_argument("--output", type=Path, default=Path("bench/results/feature_precision.json"))
    args = parser.parse_args()
    results = {}
    for name, (precision, kept) in VARIANTS.items():
        nerkit.pipeline.token_features = functools.partial(token_features, dtype=kept)
        pipeline = nerkit.pipeline.load(args.model, precision=precision)
        started = time.perf_counter()
        score = pipeline.evaluate(args.conll)
        seconds = time.perf_counter() - started
        results[name] = {"dev_f1": 100 * score.f1, "seconds": seconds}
        print(f"{name}: dev F1 {100 * score.f1:.2f} in {seconds:.1f}s")
    summary = {
        "benchmark": "dev F1 of one transformer-feature model by feature precision",
        "model": args.model,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "cpu_has_fast_bfloat16": bfloat16_is_fast(),
        **results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
