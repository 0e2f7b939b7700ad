"""Benchmark: the tagging speed of several model folders on one file's sentences, timed alternately
(median of `--repeats`, two threads), so models of the same network can be told apart from noise.

    python bench/tagging_speed.py ../shared/data/conll2003/valid.txt A=MODEL B=MODEL ... \
        --repeats 11 --output bench/results/NAME.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from machine import cpu
from trained_runs import tagging_speed


def main() -> None:
    """Time the models and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="a CoNLL file whose sentences are tagged")
    parser.add_argument("models", nargs="+", help="NAME=FOLDER, timed in this order, round after round")
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument(
        "--documents",
        action="store_true",
        help="tag each sentence with its document (models read in context)",
    )
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    models = {name: Path(folder) for name, folder in (item.split("=", 1) for item in args.models)}
    result = {
        "benchmark": "tagging speed",
        "cpu": cpu(),
        **tagging_speed(models, args.file, args.repeats, args.documents),
    }
    args.output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result["tokens_per_second"]), json.dumps(result["ratio_to_first"]))


if __name__ == "__main__":
    main()
