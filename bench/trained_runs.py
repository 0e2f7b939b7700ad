"""What the training benchmarks share: whether a run finished, its figures from its model folder, and the
runs as a Markdown table."""

from __future__ import annotations

import json
from pathlib import Path

from nerkit.training.checkpoint import CHECKPOINT

TYPES = ("PER", "LOC", "ORG", "MISC")


def finished(folder: Path) -> bool:
    """Whether a model folder holds a finished run (a model and no checkpoint left)."""
    return (folder / "model.json").is_file() and not (folder / CHECKPOINT).exists()


def figures(folder: Path) -> dict[str, object]:
    """A finished run's dev F1 (overall and per type), best epoch, epochs and training seconds (the sum of
    its epochs')."""
    meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    log = [json.loads(line) for line in (folder / "train_log.jsonl").read_text().splitlines()]
    per_label = meta["dev"].get("per_label", {})
    return {
        "dev_f1": round(100 * meta["dev"]["f1"], 2),
        "per_type": {t: round(100 * per_label[t]["f1"], 2) for t in TYPES if t in per_label},
        "best_epoch": meta["best_epoch"],
        "epochs": len(log),
        "train_seconds": round(sum(entry["seconds"] for entry in log), 1),
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
