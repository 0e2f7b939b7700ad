"""Benchmark: distillation (issue 19): static students taught by a transformer model's CRF marginals, on
CoNLL-2003 dev; their F1 per seed and its median, the recipe's cost, and their tagging speed beside the
static model's, as JSON and a table.

    python bench/distill.py ../shared/data --work /tmp/distill --teacher MINILM_MODEL --static MODEL \\
        --parallel 2 --output bench/results/distill.json
    python bench/distill.py ../shared/data --work /tmp/distill --teacher MODEL --only "w0.5 augmented seed 7"
    python bench/distill.py ../shared/data --work /tmp/distill --teacher MODEL --static MODEL --finished-only

Every run is `nerkit train` as a user types it (the shared vectors, dev = valid, one thread each,
`--parallel 2` runs two at once on 2 cores); a run whose folder holds a finished model is not trained
again (`--finished-only` trains none and reports those finished). `augmented` adds sentences made from train (mentions swapped within their type, sentences
recombined: `nerkit.data.augment`) that the teacher labels (`--unlabeled`). The labelling cost is the
teacher tagging train with its transformer features computed afresh (an empty feature cache). Tagging
speed: each model tags dev's tokens (`Pipeline.tag_tokens`, two threads), alternating, `--repeats` times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from machine import cpu
from trained_runs import best_within, figures, finished, table, tagging_speed, train_command

from nerkit.data.augment import augment
from nerkit.training.corpus import read_corpus
from nerkit.training.teacher import load_teacher, teach

SEEDS = (42, 7, 1)  # the seeds the default model's median (92.66, bench/train_conll.py) was taken over
SHORT = 12  # epochs of the runs that compare a weight or a temperature


@dataclass
class Job:
    """One student: its name, its `nerkit train` flags beyond the common ones, and what it is."""

    name: str
    arguments: list[str]
    says: str


def jobs(augmented: Path) -> list[Job]:
    """Every run of the table, in the order they are reported."""
    taught = ["--distill-weight", "0.5", "--unlabeled", str(augmented)]
    found = [
        Job(
            f"w0.5 augmented seed {seed}",
            [*taught, "--seed", str(seed)],
            "weight 0.5, T 1, train and sentences made from it, labelled by the teacher",
        )
        for seed in SEEDS
    ]
    # weight and temperature, measured over the first SHORT epochs: the learning rate's decay does not
    # depend on the number of epochs, so these runs start exactly as the full ones (same seed)
    found += [
        Job(
            f"w0.8 augmented seed 42, {SHORT} epochs",
            ["--distill-weight", "0.8", "--unlabeled", str(augmented), "--max-epochs", str(SHORT)],
            "weight 0.8, T 1, train and sentences made from it",
        ),
        Job(
            f"w0.5 seed 42, {SHORT} epochs",
            ["--distill-weight", "0.5", "--max-epochs", str(SHORT)],
            "weight 0.5, T 1, train only (no augmented sentences)",
        ),
        Job(
            f"w0.5 T2 augmented seed 42, {SHORT} epochs",
            [*taught, "--distill-temperature", "2", "--max-epochs", str(SHORT)],
            "weight 0.5, T 2, train and sentences made from it",
        ),
    ]
    return found


def write_augmented(train: Path, path: Path, count: int) -> Path:
    """`count` sentences made from train's, one document each (no made-up context), as CoNLL tokens."""
    corpus = read_corpus(train)
    made = augment(corpus.tokens, corpus.tags, count, seed=42)
    lines = [line for tokens in made for line in ("-DOCSTART-", "", *tokens, "")]
    text = "\n".join(lines) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def train(job: Job, folder: Path, data: Path, teacher: Path, work: Path) -> dict[str, object]:
    """Train one student (unless its folder holds a finished model) and read its figures."""
    command = train_command(data, folder, ["--teacher", str(teacher), *job.arguments])
    if not finished(folder):
        log = work / f"{folder.name}.out"
        with log.open("w", encoding="utf-8") as out:
            completed = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"{job.name} failed; see {log}")
    return {"run": job.name, "scenario": job.says, **figures(folder), "command": command}


def labelling_seconds(teacher: Path, train: Path) -> float:
    """Seconds the teacher takes to label train, its transformer features computed afresh."""
    loaded = load_teacher(teacher)
    corpus = read_corpus(train)
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        teach(loaded, corpus, feature_cache=cache)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (holds conll2003/ and embeddings/)")
    parser.add_argument("--work", type=Path, required=True, help="models and the augmented file go here")
    parser.add_argument("--teacher", type=Path, required=True, help="the teacher model folder")
    parser.add_argument(
        "--static", type=Path, help="a static model (no teacher) to compare tagging speed with"
    )
    parser.add_argument("--output", type=Path, default=Path("bench/results/distill.json"))
    parser.add_argument("--parallel", type=int, default=1, help="runs at once (each one thread)")
    parser.add_argument("--only", nargs="+", help="these runs only (and reuse the finished ones)")
    parser.add_argument("--augmented", type=int, default=7000, help="sentences made for `augmented`")
    parser.add_argument("--repeats", type=int, default=5, help="tagging-speed repeats")
    parser.add_argument("--skip-timing", action="store_true", help="no labelling or tagging timings")
    parser.add_argument("--finished-only", action="store_true", help="train nothing; report finished runs")
    args = parser.parse_args()
    (args.work / "models").mkdir(parents=True, exist_ok=True)
    train_file = args.data / "conll2003" / "train.txt"
    augmented = write_augmented(train_file, args.work / "augmented.conll", args.augmented)
    every = jobs(augmented)
    folders = {job.name: args.work / "models" / job.name.replace(" ", "_") for job in every}
    selected = [
        job
        for job in every
        if (not args.only or job.name in args.only)
        and (finished(folders[job.name]) or not args.finished_only)
    ]
    with ThreadPoolExecutor(args.parallel) as pool:
        futures = {
            job.name: pool.submit(train, job, folders[job.name], args.data, args.teacher, args.work)
            for job in selected
        }
        results = {name: future.result() for name, future in futures.items()}
    summary: dict[str, object] = {"benchmark": "distillation (issue 19)", "cpu": cpu(), "runs": results}
    median_runs = [f"w0.5 augmented seed {seed}" for seed in SEEDS]
    if all(name in results for name in median_runs):
        summary["median dev F1, w0.5 augmented over seeds 42/7/1"] = statistics.median(
            float(results[name]["dev_f1"])
            for name in median_runs  # type: ignore[arg-type]
        )
    within = {name: best_within(folders[name], SHORT) for name in results if "epochs" not in name}
    if args.static is not None:
        summary["static (no teacher)"] = {"model": str(args.static), **figures(args.static)}
        within["static (no teacher)"] = best_within(args.static, SHORT)
    summary[f"best dev F1 within {SHORT} epochs"] = within
    teacher_log = args.teacher / "train_log.jsonl"
    summary["teacher"] = {"model": str(args.teacher), **figures(args.teacher)} if teacher_log.exists() else {}
    if not args.skip_timing:
        summary["labelling_seconds"] = round(labelling_seconds(args.teacher, train_file), 1)
        if args.static is not None:
            compared = {"static": args.static, "student": folders["w0.5 augmented seed 42"]}
            summary["tagging"] = tagging_speed(compared, args.data / "conll2003" / "valid.txt", args.repeats)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(table(results))


if __name__ == "__main__":
    main()
