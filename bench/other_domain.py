"""Benchmark: default `nerkit train` with no word vectors against a feature-rich CRF, on a corpus of
another domain and label set (tweets: WNUT-16, ten types), both trained and scored the same way.

    pip install -c constraints.txt python-crfsuite        # the CRF baseline (not a nerkit dependency)
    python bench/other_domain.py wnut16/train.conll --seeds 1 2 3 --output bench/results/other_domain.json

The file's sentences are split at random (seeded) into train and dev (`--dev-share`); nerkit trains with
its defaults through the CLI (`--train`, `--dev`, no `--embeddings`), the CRF (CRFsuite, L-BFGS with
L1+L2) with the usual hand-made features (word, lower case, prefixes and suffixes, shape, casing,
digits, the same for the two words either side). Both are scored on dev by nerkit's conlleval scorer.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import regex

from nerkit.data.conll import ConllSentence, read_conll, write_conll
from nerkit.evaluate import score_sequences


def shape(word: str) -> str:
    """Xxxx-style word shape with runs collapsed (`McDonald's` -> `XxXx'x`)."""
    mapped = regex.sub(r"\p{Lu}", "X", regex.sub(r"\p{Ll}", "x", regex.sub(r"\d", "d", word)))
    return regex.sub(r"(.)\1+", r"\1", mapped)


def word_features(word: str, prefix: str) -> dict[str, object]:
    """CRF features of one word, keys prefixed by its position relative to the token."""
    lower = word.lower()
    return {
        f"{prefix}lower": lower,
        f"{prefix}shape": shape(word),
        f"{prefix}title": word.istitle(),
        f"{prefix}upper": word.isupper(),
        f"{prefix}digit": any(c.isdigit() for c in word),
        f"{prefix}suffix3": lower[-3:],
        f"{prefix}prefix3": lower[:3],
        f"{prefix}mention": word.startswith("@"),
        f"{prefix}hashtag": word.startswith("#"),
        f"{prefix}url": lower.startswith(("http", "www.")),
    }


def sentence_features(tokens: tuple[str, ...]) -> list[dict[str, object]]:
    """Features of every token: itself (plus word, prefixes and suffixes) and two words either side."""
    features = []
    for i, word in enumerate(tokens):
        row: dict[str, object] = {
            "bias": 1.0,
            "word": word,
            "suffix2": word[-2:].lower(),
            "prefix2": word[:2],
        }
        row.update(word_features(word, ""))
        for offset in (-2, -1, 1, 2):
            j = i + offset
            if 0 <= j < len(tokens):
                row.update(word_features(tokens[j], f"{offset:+d}:"))
            else:
                row[f"{offset:+d}:edge"] = True
        features.append(row)
    return features


def crf_f1(train: list[ConllSentence], dev: list[ConllSentence], folder: Path) -> tuple[float, float]:
    """Dev F1 (percent) and training minutes of a CRFsuite model."""
    import pycrfsuite

    started = time.perf_counter()
    trainer = pycrfsuite.Trainer(verbose=False)
    for sentence in train:
        trainer.append(sentence_features(sentence.tokens), list(sentence.tags))
    trainer.set_params({"c1": 0.1, "c2": 0.01, "max_iterations": 200, "feature.possible_transitions": True})
    trainer.train(str(folder / "crf.model"))
    tagger = pycrfsuite.Tagger()
    tagger.open(str(folder / "crf.model"))
    predicted = [tagger.tag(sentence_features(s.tokens)) for s in dev]
    minutes = (time.perf_counter() - started) / 60
    return 100 * score_sequences([s.tags for s in dev], predicted).f1, minutes


def nerkit_f1(train_file: Path, dev_file: Path, folder: Path, seed: int, threads: int) -> tuple[float, float]:
    """Dev F1 (percent) and minutes of a default `nerkit train` run without vectors."""
    command = [
        str(Path(sys.executable).with_name("nerkit")),
        "train",
        "--train",
        str(train_file),
        "--dev",
        str(dev_file),
        "--output",
        str(folder / "model"),
        "--seed",
        str(seed),
        *(["--threads", str(threads)] if threads else []),
    ]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        sys.exit(f"nerkit train failed:\n{completed.stderr}")
    meta = json.loads((folder / "model" / "model.json").read_text(encoding="utf-8"))
    return 100 * meta["dev"]["f1"], (time.perf_counter() - started) / 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("conll", type=Path, help="a tagged CoNLL file of another domain (WNUT-16 train)")
    parser.add_argument("--dev-share", type=float, default=0.2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--threads", type=int, default=0, help="nerkit's threads (0: every core)")
    parser.add_argument("--output", type=Path, default=Path("bench/results/other_domain.json"))
    args = parser.parse_args()
    sentences = list(read_conll(args.conll))
    runs = []
    for seed in args.seeds:
        order = list(range(len(sentences)))
        random.Random(seed).shuffle(order)
        cut = round(len(order) * args.dev_share)
        dev = [sentences[i] for i in sorted(order[:cut])]
        train = [sentences[i] for i in sorted(order[cut:])]
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            write_conll(folder / "train.conll", train)
            write_conll(folder / "dev.conll", dev)
            ours, ours_minutes = nerkit_f1(
                folder / "train.conll", folder / "dev.conll", folder, seed, args.threads
            )
            crf, crf_minutes = crf_f1(train, dev, folder)
        run = {
            "seed": seed,
            "nerkit_f1": ours,
            "nerkit_minutes": ours_minutes,
            "crf_f1": crf,
            "crf_minutes": crf_minutes,
        }
        print(json.dumps(run), flush=True)
        runs.append(run)
    summary = {
        "benchmark": "default nerkit train (no vectors) vs a feature-rich CRF on another domain",
        "corpus": str(args.conll),
        "sentences": len(sentences),
        "dev_share": args.dev_share,
        "nerkit_threads": args.threads or "every core",
        "median_nerkit_f1": statistics.median(r["nerkit_f1"] for r in runs),
        "median_crf_f1": statistics.median(r["crf_f1"] for r in runs),
        "runs": runs,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
