"""Benchmark: keep a model learning (issue 18): continue with --init, add a type from partial annotations,
rehearse, and continue on more data; CoNLL-2003 dev F1 per type and training time, as JSON and a table.

    python bench/continue.py ../shared/data --work /tmp/continue --output bench/results/continue.json
    python bench/continue.py ../shared/data --work /tmp/continue --reference MODEL   # reuse a C model
    python bench/continue.py ../shared/data --work /tmp/continue --only A H          # some runs only

Stages are made from the training split, its documents halved with a fixed seed:
  A: half of train, MISC removed (its tags set to O);  B: the other half, only MISC kept;
  H: A's documents with every type;  C: the full train (the reference).
Every run is `nerkit train` as a user types it, with the shared vectors, dev = valid, one thread each;
`--parallel 2` runs two at once (on 2 cores, each keeps one; the time ratio compares runs made alike).
A run whose model folder already holds a finished model is not trained again.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from machine import cpu
from trained_runs import figures, finished, table, train_command


@dataclass
class Job:
    """One training run: its name, what it continues from (another job), its arguments and what it says."""

    name: str
    arguments: list[str]
    after: str | None = None
    says: str = ""
    extra: list[str] = field(default_factory=list)


def read_documents(path: Path) -> list[list[str]]:
    """The lines of a CoNLL file, one list per -DOCSTART- document (the marker line first)."""
    documents: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("-DOCSTART-") or not documents:
            documents.append([])
        documents[-1].append(line)
    return documents


def keep_types(lines: Sequence[str], kept: set[str]) -> list[str]:
    """The lines with every tag of a type outside `kept` set to O (the tag is the last column)."""
    out = []
    for line in lines:
        columns = line.split(" ")
        if len(columns) > 1 and not line.startswith("-DOCSTART-"):
            tag = columns[-1]
            if tag != "O" and tag.partition("-")[2] not in kept:
                columns[-1] = "O"
        out.append(" ".join(columns))
    return out


def make_stages(train: Path, work: Path, seed: int) -> dict[str, Path]:
    """Write A, B and H (see the module's text) into `work`; C is the training file itself."""
    documents = read_documents(train)
    order = list(range(len(documents)))
    random.Random(seed).shuffle(order)
    half = set(order[: len(order) // 2])
    first = [line for i, d in enumerate(documents) if i in half for line in d]
    second = [line for i, d in enumerate(documents) if i not in half for line in d]
    stages = {
        "A": keep_types(first, {"PER", "LOC", "ORG"}),
        "B": keep_types(second, {"MISC"}),
        "H": first,
    }
    paths = {}
    for name, lines in stages.items():
        path = work / f"{name}.txt"
        text = "\n".join(lines) + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths[name] = path
    paths["C"] = train
    return paths


def jobs(stages: dict[str, Path]) -> list[Job]:
    """Every run of the table, in the order they are reported."""
    a, b, h, c = (str(stages[name]) for name in "ABHC")
    return [
        Job("C", ["--train", c], says="from scratch on C (the reference)"),
        Job("A", ["--train", a], says="from scratch on A (no MISC)"),
        Job(
            "A>B partial",
            ["--train", b, "--annotated-types", "MISC"],
            after="A",
            says="A, then --init on B with --annotated-types MISC",
        ),
        Job(
            "A>B partial uniform",
            ["--train", b, "--annotated-types", "MISC", "--no-init-prior"],
            after="A",
            says="the same with --no-init-prior (every allowed tagging alike)",
        ),
        Job("A>B naive", ["--train", b], after="A", says="A, then --init on B (naive)"),
        Job(
            "A>B rehearse",
            ["--train", b, "--rehearse", a],
            after="A",
            says="A, then --init on B with --rehearse A",
        ),
        Job(
            "A+B partial",
            ["--train", f"{a}:PER,LOC,ORG", "--train", f"{b}:MISC"],
            says="from scratch on A:PER,LOC,ORG + B:MISC",
        ),
        Job(
            "A+B partial>A+B",
            ["--train", f"{a}:PER,LOC,ORG", "--train", f"{b}:MISC"],
            after="A+B partial",
            says="then --init on the same two files: their open tokens weighed by that model",
        ),
        Job("H", ["--train", h], says="from scratch on H (half of train)"),
        Job("H>C", ["--train", c], after="H", says="H, then --init on C"),
        # the learning rate --init defaults to, measured: the runs above at the fresh default (0.002), these at half
        Job(
            "A>B partial lr 0.001",
            ["--train", b, "--annotated-types", "MISC", "--learning-rate", "0.001"],
            after="A",
            says="as A>B partial, --learning-rate 0.001",
        ),
        Job(
            "H>C lr 0.001",
            ["--train", c, "--learning-rate", "0.001"],
            after="H",
            says="as H>C, --learning-rate 0.001",
        ),
        Job(
            "H>C 20 epochs",
            ["--train", c, "--max-epochs", "20"],
            after="H",
            says="as H>C, --max-epochs 20",
        ),
    ]


def _file_name(name: str) -> str:
    return name.replace(" ", "_").replace(">", "-")


def train(job: Job, work: Path, data: Path, extra: list[str], models: dict[str, Path]) -> dict[str, object]:
    """Train one job (unless its folder holds a finished model) and read its figures."""
    folder = models[job.name]
    flags = [*job.arguments, *(["--init", str(models[job.after])] if job.after else []), *extra, *job.extra]
    command = train_command(data, folder, flags, with_train=False)
    wall = None
    if not finished(folder):
        started = time.perf_counter()
        log = work / f"{_file_name(job.name)}.out"
        with log.open("w", encoding="utf-8") as out:
            completed = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
        wall = time.perf_counter() - started
        if completed.returncode != 0:
            raise RuntimeError(f"{job.name} failed; see {log}")
    return job_figures(job, folder, command, wall)


def job_figures(job: Job, folder: Path, command: list[str], wall: float | None) -> dict[str, object]:
    """A finished run's figures (see `trained_runs.figures`), with its name, scenario and command."""
    return {
        "run": job.name,
        "scenario": job.says,
        **figures(folder),
        "wall_seconds": None if wall is None else round(wall, 1),
        "command": command,
    }


def run_all(
    selected: list[Job], work: Path, data: Path, extra: list[str], parallel: int, models: dict[str, Path]
) -> dict[str, dict[str, object]]:
    """Run the jobs, at most `parallel` at once, each after the one it continues from."""
    results: dict[str, dict[str, object]] = {}
    waiting = list(selected)
    running: dict[Future[dict[str, object]], Job] = {}
    names = {job.name for job in selected}
    with ThreadPoolExecutor(parallel) as pool:
        while waiting or running:
            for job in list(waiting):
                if job.after is not None and job.after not in names and not finished(models[job.after]):
                    raise SystemExit(
                        f"{job.name} continues {job.after}, which is neither trained nor asked for"
                    )
                ready = job.after is None or job.after in results or job.after not in names
                if ready and len(running) < parallel:
                    waiting.remove(job)
                    running[pool.submit(train, job, work, data, extra, models)] = job
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                job = running.pop(future)
                results[job.name] = future.result()
                row = results[job.name]
                print(
                    f"{job.name}: dev F1 {row['dev_f1']} {row['per_type']} in {row['train_seconds']} s",
                    flush=True,
                )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (holds conll2003/ and embeddings/)")
    parser.add_argument("--work", type=Path, required=True, help="stage files and models go here")
    parser.add_argument("--output", type=Path, default=Path("bench/results/continue.json"))
    parser.add_argument("--seed", type=int, default=42, help="the seed that halves the documents")
    parser.add_argument("--parallel", type=int, default=1, help="runs at once (each one thread)")
    parser.add_argument("--reference", type=Path, help="a finished C model to reuse instead of training C")
    parser.add_argument("--only", nargs="+", help="these runs only (and reuse the finished ones)")
    args, extra = parser.parse_known_args()  # anything else goes to every nerkit train
    args.work.mkdir(parents=True, exist_ok=True)
    stages = make_stages(args.data / "conll2003" / "train.txt", args.work, args.seed)
    every = jobs(stages)
    models = {job.name: args.work / "models" / _file_name(job.name) for job in every}
    if args.reference is not None:
        models["C"] = args.reference
    selected = [job for job in every if not args.only or job.name in args.only]
    results = run_all(selected, args.work, args.data, extra, args.parallel, models)
    ordered = {job.name: results[job.name] for job in every if job.name in results}
    summary: dict[str, object] = {"benchmark": "continue training (issue 18)", "cpu": cpu(), "runs": ordered}
    if "C" in ordered and "H>C" in ordered:
        summary["H>C time / C time"] = round(
            float(ordered["H>C"]["train_seconds"]) / float(ordered["C"]["train_seconds"]),
            3,  # type: ignore[arg-type]
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(table(ordered))


if __name__ == "__main__":
    main()
