"""Benchmark: CoNLL-2003 dev through every annotation format and back, reading and aligning speed, memory
on a 100 MB JSON-lines file, and (with --train) the same model trained from a Label Studio export.

    python bench/annotation_formats.py ../shared/data --output bench/results/annotation_formats.json
    python bench/annotation_formats.py ../shared/data --parts train --output bench/results/annotation_formats.json

Round trips: dev is typeset as text (tokens joined by spaces, a sentence per line, a document per
-DOCSTART-) with its gold entities as character spans, written in each format and read back; the
entity sets (document, start, end, label) must be identical. Hugging Face files hold sentences, not
documents, so there the sets are (sentence, start, end, label). "from raw text" repeats the span
formats without the CoNLL tokens: nerkit splits the text itself, as it would an annotation tool's export.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from machine import cpu

from nerkit.data.align import AlignedDocument, align
from nerkit.data.formats import FORMATS, WriteOptions, read_aligned, read_annotations, write_annotations

NERKIT = str(Path(sys.executable).with_name("nerkit"))
TARGETS = {
    "conll": "dev.conll",
    "jsonl": "dev.jsonl",
    "labelstudio": "dev.json",
    "brat": "dev_brat",
    "hf": "dev.hf.jsonl",
}


def entity_set(documents: Iterable[AlignedDocument]) -> set[tuple[int, int, int, str]]:
    """(document, start, end, label) of every kept entity."""
    return {(i, e.start, e.end, e.label) for i, d in enumerate(documents) for e in d.entities}


def sentence_set(documents: Iterable[AlignedDocument]) -> set[tuple[int, int, int, str]]:
    """(sentence, start, end, label) of every entity, offsets from its sentence's first token."""
    found: set[tuple[int, int, int, str]] = set()
    number = 0
    for document in documents:
        for tokens, tags in zip(document.sentences, document.tags, strict=True):
            base = tokens[0][0]
            for entity in document.entities:
                if tokens[0][0] <= entity.start < tokens[-1][1]:
                    found.add((number, entity.start - base, entity.end - base, entity.label))
            number += 1 if tags else 0
    return found


def round_trips(dev: Path, scratch: Path, raw: bool) -> dict[str, object]:
    """Write dev in every format and read it back; compare the entity sets."""
    documents = list(read_annotations(dev))
    if raw:
        documents = [dataclasses.replace(d, sentences=None) for d in documents]
    aligned = [align(d) for d in documents]
    results: dict[str, object] = {}
    for name in FORMATS:
        if raw and name in ("conll", "hf"):
            continue  # token formats typeset the text anew: compared by label and text below
        target = scratch / ("raw_" if raw else "") / TARGETS[name]
        target.parent.mkdir(exist_ok=True)
        write_annotations(target, aligned, name, WriteOptions())
        back = list(read_aligned(target, name))
        compare = sentence_set if name == "hf" else entity_set
        expected, found = compare(aligned), compare(back)
        results[name] = {
            "entities": len(expected),
            "identical": expected == found,
            "missing": len(expected - found),
            "extra": len(found - expected),
        }
    return results


def read_speed(path: Path, name: str, repeats: int = 7) -> dict[str, float]:
    """Median seconds and characters per second of reading and aligning a whole file."""
    chars = 0
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        chars = sum(len(d.text) for d in read_aligned(path, name))
        times.append(time.perf_counter() - started)
    seconds = statistics.median(times)
    return {"chars": chars, "median_seconds": round(seconds, 4), "chars_per_second": round(chars / seconds)}


def big_jsonl(source: Path, target: Path, size: int) -> int:
    """Repeat the lines of `source` into `target` until it holds `size` bytes; returns the size."""
    lines = source.read_bytes()
    written = 0
    with target.open("wb") as handle:
        while written < size:
            handle.write(lines)
            written += len(lines)
    return written


def stats_peak(path: Path) -> dict[str, float]:
    """`nerkit stats FILE --json` in a fresh process: seconds and the child's peak RSS in MB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    completed = subprocess.run(
        [NERKIT, "stats", str(path), "--json"], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if completed.returncode:
        raise SystemExit(completed.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "bytes": path.stat().st_size,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(max(peak, before) / 1024, 1),
        "documents": json.loads(completed.stdout)["documents"],
    }


def training(data: Path, scratch: Path, seed: int) -> dict[str, object]:
    """Train twice at once (one thread each, so neither slows the other much): from the CoNLL files, and
    from train as a Label Studio export (raw text, no tokens) with dev as spans JSON lines; both scored
    on dev as read by each run, and the Label Studio model also on the CoNLL dev file."""
    train_ls, dev_jsonl = scratch / "train.json", scratch / "dev.spans.jsonl"
    for source, target, name in (
        (data / "conll2003" / "train.txt", train_ls, "labelstudio"),
        (data / "conll2003" / "valid.txt", dev_jsonl, "jsonl"),
    ):
        raw = (dataclasses.replace(d, sentences=None) for d in read_annotations(source))
        write_annotations(target, raw, name)
    vectors = str(data / "embeddings" / "en_vectors_300d.conll2003.txt.gz")
    runs = {
        "conll": (data / "conll2003" / "train.txt", data / "conll2003" / "valid.txt"),
        "labelstudio": (train_ls, dev_jsonl),
    }
    processes = {}
    for name, (train, dev) in runs.items():
        command = [
            NERKIT,
            "train",
            "--train",
            str(train),
            "--dev",
            str(dev),
            "--embeddings",
            vectors,
            "--output",
            str(scratch / f"model_{name}"),
            "--seed",
            str(seed),
            "--threads",
            "1",
        ]
        processes[name] = (
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
            time.perf_counter(),
        )
    results: dict[str, object] = {}
    for name, (process, started) in processes.items():
        out, err = process.communicate()
        if process.returncode:
            raise SystemExit(f"{name} training failed: {err}")
        results[name] = {
            "minutes": round((time.perf_counter() - started) / 60, 2),
            "last_line": out.strip().splitlines()[-1],
            "notes": [line for line in err.splitlines() if "note" in line],
        }
        for dev_name, dev in (("dev_conll", data / "conll2003" / "valid.txt"), ("dev_jsonl", dev_jsonl)):
            scored = subprocess.run(
                [NERKIT, "evaluate", str(scratch / f"model_{name}"), str(dev), "--json", "--threads", "1"],
                capture_output=True,
                text=True,
                check=False,
            )
            if scored.returncode:
                raise SystemExit(scored.stderr)
            figures = json.loads(scored.stdout)
            results[name][dev_name] = {  # type: ignore[index]
                "f1": round(100 * figures["f1"], 2),
                "char_spans_f1": round(100 * figures["char_spans"]["f1"], 2)
                if "char_spans" in figures
                else None,
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (conll2003/, embeddings/)")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument(
        "--parts",
        default="round_trips,speed",
        help="what to run, comma-separated: round_trips, speed (reading, aligning, streaming), train",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--big-mb", type=int, default=100)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    dev = args.data / "conll2003" / "valid.txt"
    result: dict[str, object] = json.loads(args.output.read_text()) if args.output.exists() else {}
    result.update(
        {
            "benchmark": "annotation formats: round trips, reading and aligning speed, streaming memory, "
            "training from a Label Studio export",
            "cpu": cpu(),
            "python": platform.python_version(),
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        result["round_trips"] = round_trips(dev, scratch, raw=False)
        result["round_trips_from_raw_text"] = round_trips(dev, scratch, raw=True)
        if "speed" in parts:
            speed: dict[str, object] = {name: read_speed(scratch / TARGETS[name], name) for name in FORMATS}
            for name in ("jsonl", "labelstudio", "brat"):
                speed[f"{name}_raw_text"] = read_speed(scratch / "raw_" / TARGETS[name], name)
            result["read_and_align"] = speed
            small, big = scratch / "small.jsonl", scratch / "big.jsonl"
            big_jsonl(scratch / "raw_" / TARGETS["jsonl"], small, 10 << 20)
            big_jsonl(scratch / "raw_" / TARGETS["jsonl"], big, args.big_mb << 20)
            result["streaming"] = {"10MB": stats_peak(small), f"{args.big_mb}MB": stats_peak(big)}
            big.unlink()
        if "train" in parts:
            result["training"] = training(args.data, scratch, args.seed)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
