"""Compare `nerkit score` with the real conlleval.pl on many fresh random files; writes JSON.

    python bench/conlleval_fuzz.py --conlleval /path/to/conlleval.pl --files 500 --seed 2026

conlleval.pl is not part of nerkit: point at your own copy. Files mix IOB1, IOB2 and BIOES tags,
corrupted predictions, hyphenated and non-ASCII types, -DOCSTART- and -X- lines.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from nerkit.evaluate import format_report, score_file

TYPES = [["PER", "LOC", "ORG", "MISC"], ["creative-work", "corporation"], ["X"], ["Ort", "Persön", "地名"]]


def random_file(rng: random.Random) -> str:
    """One random conlleval input: 3 to 5 columns, tags drawn from a random tag set and prefixes."""
    types = rng.choice(TYPES)
    prefixes = rng.choice(["BI", "BI", "BIES", "I"])
    tags = ["O"] * rng.randint(1, 6) + [f"{p}-{t}" for p in prefixes for t in types]
    extra = rng.randint(0, 2)
    lines = []
    for _ in range(rng.randint(1, 40)):
        if rng.random() < 0.1:
            lines += [" ".join(["-DOCSTART-"] + ["-X-"] * extra + ["O", "O"]), ""]
        for _ in range(rng.randint(1, 15)):
            token = "-X-" if rng.random() < 0.01 else rng.choice(["w", "Wx", "yz", "Q1"])
            gold = rng.choice(tags)
            pred = gold if rng.random() < 0.6 else rng.choice(tags)
            lines.append(" ".join([token] + ["N"] * extra + [gold, pred]))
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conlleval", required=True, help="path to conlleval.pl")
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--output", default="bench/results/conlleval_fuzz.json")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    mismatches = []
    with tempfile.TemporaryDirectory() as folder:
        for number in range(args.files):
            path = Path(folder) / f"case{number}.txt"
            path.write_text(random_file(rng), encoding="utf-8")
            with path.open("rb") as handle:
                expected = subprocess.run(
                    ["perl", args.conlleval], stdin=handle, capture_output=True, check=True
                ).stdout.decode("utf-8")
            if format_report(score_file(path)) != expected:
                mismatches.append(
                    {"case": number, "input": path.read_text(encoding="utf-8"), "expected": expected}
                )
    result = {
        "benchmark": "conlleval_fuzz",
        "files": args.files,
        "seed": args.seed,
        "mismatches": len(mismatches),
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps({**result, "examples": mismatches[:3]}, indent=2) + "\n")
    print(json.dumps(result), file=sys.stderr)


if __name__ == "__main__":
    main()
