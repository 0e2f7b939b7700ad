"""`nerkit score`: score predictions exactly as conlleval.pl does."""

from __future__ import annotations

import argparse
import sys

from nerkit.cli._output import as_json, emit
from nerkit.evaluate import format_report, score_file

HELP = "Score predictions exactly as conlleval.pl does (token ... gold predicted)."


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `score` command's parser."""
    parser = commands.add_parser("score", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument(
        "file", help="a file in conlleval's format: the gold and predicted tags are the last two"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (fractions 0..1)")


def run(args: argparse.Namespace) -> int:
    """Print conlleval's report (or JSON) of the file; warn about BIOES tags, which conlleval misreads."""
    score = score_file(args.file)
    if score.uses_end_tags:
        print(
            f"nerkit: warning: {args.file} has E-/S- (BIOES) tags, which conlleval's rules misread; "
            "convert both columns to IOB2 first for meaningful figures",
            file=sys.stderr,
        )
    emit(as_json(score.to_json()) if args.json else format_report(score))
    return 0
