"""Benchmark: `nerkit.spark.annotate_files` rows/s at local[1] and local[2] against `nerkit predict`.

    python bench/spark_annotate.py MODEL ../shared/data/conll2003/valid.txt --sentences 50000 --repeats 3

The dev split (with its -DOCSTART- documents) is repeated until it holds `--sentences` sentences, as
CoNLL (`--input-format conll`, rows are sentences, documents read together) or as text with one
sentence per line (`--input-format text`, rows are lines: what `nerkit predict` does with text). Each
run is a fresh process: a Spark session at the master (its start timed apart), then the annotation job,
CoNLL in and JSON lines out, timed from the call to the written folder (model loads in the workers
included). `nerkit predict` on the same file (CoNLL in, JSON lines out) is timed from process start to
exit on every core. Medians of the repeats.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nerkit.data.conll import ConllSentence, format_conll, read_conll


def build_input(source: Path, sentences: int, path: Path, text: bool) -> tuple[int, int]:
    """The split repeated to at least `sentences` sentences, tokens only (as CoNLL, or as text with one
    sentence per line); returns (sentences, tokens)."""
    split = list(read_conll(source))
    copies = -(-sentences // len(split))
    with path.open("w", encoding="utf-8") as handle:
        for _ in range(copies):
            if text:
                handle.writelines(" ".join(s.tokens) + "\n" for s in split)
                continue
            handle.writelines(
                format_conll(
                    ConllSentence(columns=(s.tokens,), tag_column=None, line=0, docstart=s.docstart)
                    for s in split
                )
            )
    return copies * len(split), copies * sum(len(s) for s in split)


def shard_lines(source: Path, folder: Path, files: int, text: bool) -> None:
    """Split a file into `files` files of about equal size, cutting only before a document (CoNLL: a
    -DOCSTART- line) or a line (text)."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if text or line.startswith("-DOCSTART-")] or [0]
    size = -(-len(lines) // files)
    cuts = [0]
    for start in starts:
        if start >= cuts[-1] + size:
            cuts.append(start)
    cuts.append(len(lines))
    for number, (begin, end) in enumerate(itertools.pairwise(cuts)):
        (folder / f"part-{number:03d}{source.suffix}").write_text("".join(lines[begin:end]), encoding="utf-8")


def worker(master: str, model: str, source: str, output: str, input_format: str) -> None:
    """One measurement in this process: print the session start and job seconds as JSON."""
    from nerkit.spark import annotate_files, spark_session

    started = time.perf_counter()
    spark = spark_session(master, "nerkit bench", log_level="OFF")
    session = time.perf_counter() - started
    started = time.perf_counter()
    annotate_files(spark, model, source, output, input_format=input_format, output_format="jsonl")
    print(json.dumps({"session_seconds": session, "job_seconds": time.perf_counter() - started}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model folder")
    parser.add_argument("conll", type=Path, help="a CoNLL file to repeat (the dev split)")
    parser.add_argument("--sentences", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--masters", nargs="+", default=["local[1]", "local[2]"])
    parser.add_argument("--input-format", choices=("conll", "text"), default="conll")
    parser.add_argument("--files", type=int, default=1, help="give Spark the input as this many files")
    parser.add_argument("--output", type=Path, default=Path("bench/results/spark_annotate.json"))
    parser.add_argument("--worker", nargs=3, metavar=("MASTER", "INPUT", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.model, args.worker[1], args.worker[2], args.input_format)
        return
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        text = args.input_format == "text"
        source = folder / ("input.txt" if text else "input.conll")
        sentences, tokens = build_input(args.conll, args.sentences, source, text)
        spark_source = source
        if args.files > 1:  # the same lines as that many files (whole documents each), for Spark
            spark_source = folder / "shards"
            spark_source.mkdir()
            shard_lines(source, spark_source, args.files, text)
        for master in args.masters:
            runs = []
            for repeat in range(args.repeats):
                out = folder / f"out-{master}-{repeat}"
                command = [
                    sys.executable,
                    __file__,
                    args.model,
                    str(args.conll),
                    "--worker",
                    master,
                    str(spark_source),
                    str(out),
                    "--input-format",
                    args.input_format,
                ]
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    sys.exit(f"{master} failed:\n{done.stderr[-3000:]}")
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
                rows = sum(1 for part in out.glob("part-*") for _ in part.open(encoding="utf-8"))
                assert rows == sentences, (rows, sentences)
            job = statistics.median(r["job_seconds"] for r in runs)
            results[master] = {
                "runs": runs,
                "median_job_seconds": job,
                "rows_per_second": sentences / job,
                "tokens_per_second": tokens / job,
                "median_session_seconds": statistics.median(r["session_seconds"] for r in runs),
            }
            print(f"{master}: {sentences / job:,.0f} rows/s ({tokens / job:,.0f} tokens/s), job {job:.1f}s")
        times = []
        for _ in range(args.repeats):
            command = [str(Path(sys.executable).with_name("nerkit")), "predict", args.model, str(source)]
            command += [
                "--input-format",
                args.input_format,
                "--format",
                "jsonl",
                "--output",
                str(folder / "predict.jsonl"),
            ]
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        results["nerkit predict"] = {
            "seconds": times,
            "median_seconds": median,
            "rows_per_second": sentences / median,
            "tokens_per_second": tokens / median,
        }
        print(
            f"nerkit predict: {sentences / median:,.0f} rows/s ({tokens / median:,.0f} tokens/s), {median:.1f}s"
        )
    masters = [m for m in args.masters if m in results]
    summary = {
        "benchmark": f"nerkit spark annotate ({args.input_format} in, JSON lines out) by master, and nerkit predict",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "sentences": sentences,
        "spark_input_files": args.files,
        "tokens": tokens,
        **results,
    }
    if {"local[1]", "local[2]"} <= set(masters):
        one, two = (results[m]["rows_per_second"] for m in ("local[1]", "local[2]"))  # type: ignore[index]
        summary["local2_over_local1"] = two / one
        summary["local2_over_predict"] = two / results["nerkit predict"]["rows_per_second"]  # type: ignore[index]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
