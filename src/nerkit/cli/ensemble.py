"""`nerkit ensemble`: several trained models as one folder whose CRF marginals are averaged."""

from __future__ import annotations

import argparse
import sys

HELP = (
    "Join models trained on the same data (say, with different seeds) into one model folder that tags "
    "with their averaged CRF marginals; predict, evaluate, report, serve and spark take it."
)


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `ensemble` command's parser."""
    parser = commands.add_parser("ensemble", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument("models", nargs="+", help="2 to 16 model folders written by nerkit train")
    parser.add_argument("--output", "-o", required=True, help="the ensemble folder to write (replaced whole)")
    parser.add_argument(
        "--dev", help="annotated data (any format) to score the ensemble on, recorded in its model.json"
    )


def run(args: argparse.Namespace) -> int:
    """Write the ensemble and say what was written (and its dev F1)."""
    from nerkit.model.ensemble import build_ensemble

    built = build_ensemble(args.models, args.output, args.dev)
    scored = "" if built.dev_f1 is None else f", dev F1 {100 * built.dev_f1:.2f}"
    print(f"wrote {built.folder} ({built.members} models{scored})", file=sys.stderr)
    return 0
