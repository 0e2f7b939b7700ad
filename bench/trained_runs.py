"""What the training benchmarks share: whether a run finished, its figures from its model folder, its best
dev F1 within some epochs, models' tagging speed, and the runs as a Markdown table."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import nerkit
from nerkit.training.checkpoint import CHECKPOINT
from nerkit.training.corpus import read_corpus

TYPES = ("PER", "LOC", "ORG", "MISC")


def train_command(data: Path, folder: Path, flags: Sequence[str], with_train: bool = True) -> list[str]:
    """`nerkit train` on CoNLL-2003 as a user types it: train (unless `with_train` is False: `flags` give
    it), dev = valid, the shared vectors, one thread, into `folder`, then `flags`."""
    conll = data / "conll2003"
    return [
        str(Path(sys.executable).with_name("nerkit")),
        "train",
        *(["--train", str(conll / "train.txt")] if with_train else []),
        "--dev",
        str(conll / "valid.txt"),
        "--embeddings",
        str(data / "embeddings" / "en_vectors_300d.conll2003.txt.gz"),
        "--output",
        str(folder),
        "--threads",
        "1",
        *flags,
    ]


def read_log(folder: Path) -> list[dict]:
    """A run's epoch records (its train_log.jsonl), oldest first."""
    return [json.loads(line) for line in (folder / "train_log.jsonl").read_text().splitlines()]


def finished(folder: Path) -> bool:
    """Whether a model folder holds a finished run (a model and no checkpoint left)."""
    return (folder / "model.json").is_file() and not (folder / CHECKPOINT).exists()


def figures(folder: Path) -> dict[str, object]:
    """A finished run's dev F1 (overall and per type), best epoch, epochs, training seconds (the sum of
    its epochs') and each epoch's training loss and dev F1."""
    meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    log = read_log(folder)
    per_label = meta["dev"].get("per_label", {})
    return {
        "dev_f1": round(100 * meta["dev"]["f1"], 2),
        "per_type": {t: round(100 * per_label[t]["f1"], 2) for t in TYPES if t in per_label},
        "best_epoch": meta["best_epoch"],
        "epochs": len(log),
        "train_seconds": round(sum(entry["seconds"] for entry in log), 1),
        **epoch_curves(log),
    }


def epoch_curves(log: list[dict]) -> dict[str, list[float]]:
    """Each epoch's training loss and dev F1 from a run's epoch records."""
    return {
        "epoch_loss": [round(entry["loss"], 3) for entry in log],
        "epoch_dev_f1": [round(100 * entry["dev"]["f1"], 2) for entry in log],
    }


def table(results: dict[str, dict[str, object]]) -> str:
    """Runs (each with run, scenario and `figures`) as a Markdown table, in their order."""
    lines = [
        "| run | scenario | dev F1 | PER | LOC | ORG | MISC | epochs (best) | training s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results.values():
        types = row["per_type"]
        assert isinstance(types, dict)
        cells = " | ".join(str(types.get(t, "-")) for t in TYPES)
        lines.append(
            f"| {row['run']} | {row['scenario']} | {row['dev_f1']} | {cells} | {row['epochs']} "
            f"({row['best_epoch']}) | {row['train_seconds']} |"
        )
    return "\n".join(lines)


def best_within(folder: Path, epochs: int) -> float:
    """The best dev F1 of a run's first `epochs` epochs (what a run stopped there would have kept)."""
    log = read_log(folder)
    return round(max(100 * entry["dev"]["f1"] for entry in log[:epochs]), 2)


def tagging_speed(
    models: dict[str, Path], dev: Path, repeats: int, in_documents: bool = False
) -> dict[str, object]:
    """Tokens per second of each model tagging dev's sentences (median of `repeats`, alternating), two
    threads, and each one's ratio to the first; with `in_documents`, each sentence with its document, as
    a model read in context reads it (else each sentence alone)."""
    corpus = read_corpus(dev)
    documents = corpus.documents if in_documents else None
    tokens = sum(len(sentence) for sentence in corpus.tokens)
    pipelines = {name: nerkit.load(folder, threads=2) for name, folder in models.items()}
    seconds: dict[str, list[float]] = {name: [] for name in models}
    for pipeline in pipelines.values():  # warm-up
        pipeline.tag_tokens(corpus.tokens[:200])
    for _ in range(repeats):
        for name, pipeline in pipelines.items():
            started = time.perf_counter()
            pipeline.tag_tokens(corpus.tokens, documents=documents)
            seconds[name].append(time.perf_counter() - started)
    speed = {name: tokens / statistics.median(times) for name, times in seconds.items()}
    first = next(iter(speed.values()))
    return {
        "tokens": tokens,
        "in_documents": in_documents,
        "tokens_per_second": {name: round(value) for name, value in speed.items()},
        "ratio_to_first": {name: round(value / first, 3) for name, value in speed.items()},
        "seconds": seconds,
    }
