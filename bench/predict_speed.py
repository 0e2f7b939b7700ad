"""Benchmark: `nerkit predict` tokens/s on pre-tokenised CoNLL input, process start and model load included.

    python bench/predict_speed.py MODEL ../shared/data/conll2003/valid.txt --tokens 250000 --repeats 5

The dev split is repeated until it holds at least `--tokens` tokens; each repeat runs the CLI as a user
would (`nerkit predict MODEL input.conll --input-format conll --format conll --output out.conll`) and is
timed from process start to exit. Also times raw-text input (`--input-format text --format jsonl`).

By default every sentence stands alone (no -DOCSTART- lines; one sentence per text line). With
`--documents` the input keeps the split's documents: its -DOCSTART- lines, and one document per text line,
so a model trained in document context reads each sentence with its neighbours.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from nerkit.data.conll import ConllSentence, document_ids, format_conll, read_conll


def build_inputs(source: Path, tokens: int, folder: Path, documents: bool) -> tuple[Path, Path, int]:
    """A CoNLL file (token column only) and a text file of at least `tokens`: one sentence per line, or
    with `documents` the split's -DOCSTART- lines and one document per line."""
    sentences = list(read_conll(source))
    per_copy = sum(len(s.tokens) for s in sentences)
    copies = -(-tokens // per_copy)
    conll = folder / "input.conll"
    text = folder / "input.txt"
    lines = [" ".join(s.tokens) for s in sentences]
    if documents:
        owners = document_ids(sentences)
        lines = [
            " ".join(line for line, owner in zip(lines, owners, strict=True) if owner == document)
            for document in dict.fromkeys(owners)
        ]
    with conll.open("w", encoding="utf-8") as handle:
        for _ in range(copies):
            handle.writelines(format_conll(_untagged(sentences, documents)))
    with text.open("w", encoding="utf-8") as handle:
        for _ in range(copies):
            handle.writelines(line + "\n" for line in lines)
    return conll, text, copies * per_copy


def _untagged(sentences: list[ConllSentence], documents: bool) -> Iterator[ConllSentence]:
    for sentence in sentences:
        docstart = sentence.docstart if documents else ()
        yield ConllSentence(columns=(sentence.tokens,), tag_column=None, line=0, docstart=docstart)


def time_cli(arguments: list[str]) -> float:
    """Seconds one CLI run takes, start to exit."""
    command = [str(Path(sys.executable).with_name("nerkit")), *arguments]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"nerkit predict failed:\n{completed.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model folder")
    parser.add_argument("conll", type=Path, help="a CoNLL file to repeat as input (the dev split)")
    parser.add_argument("--tokens", type=int, default=250_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--documents", action="store_true", help="keep the split's documents (see above)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for nerkit (default: every core)")
    parser.add_argument("--output", type=Path, default=Path("bench/results/predict_speed.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        conll, text, tokens = build_inputs(args.conll, args.tokens, folder, args.documents)
        settings = {
            "conll_to_conll": [args.model, str(conll), "--input-format", "conll", "--format", "conll"],
            "text_to_jsonl": [args.model, str(text), "--input-format", "text", "--format", "jsonl"],
        }
        results = {}
        for name, arguments in settings.items():
            times = [
                time_cli(
                    ["predict", *arguments, "--output", str(folder / "out"), "--threads", str(args.threads)]
                )
                for _ in range(args.repeats)
            ]
            median = statistics.median(times)
            results[name] = {
                "tokens": tokens,
                "seconds": times,
                "median_seconds": median,
                "tokens_per_second": tokens / median,
            }
            print(
                f"{name}: {tokens:,} tokens in {median:.2f}s (median of {len(times)}) = {tokens / median:,.0f} tokens/s"
            )
        startup = [time_cli(["spec", args.model]) for _ in range(args.repeats)]
        results["cli_start_and_read_spec_seconds"] = statistics.median(startup)
    summary = {
        "benchmark": "nerkit predict through the CLI, process start and model load included",
        "input": "documents" if args.documents else "sentences",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        **results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
