"""`nerkit evaluate`: score a model on a tagged CoNLL file by conlleval's rules."""

from __future__ import annotations

import argparse

from nerkit.cli._options import TAG_COLUMN_HELP, add_precision, add_threads
from nerkit.cli._output import as_json, emit
from nerkit.evaluate import format_report

HELP = "Score a model on a tagged CoNLL file by conlleval's rules."


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `evaluate` command's parser."""
    parser = commands.add_parser("evaluate", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument("model", help="a model folder")
    parser.add_argument("file", help="a tagged CoNLL file (tokens as given)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (fractions 0..1)")
    parser.add_argument("--tag-column", type=int, default=-1, help=TAG_COLUMN_HELP)
    add_threads(parser)
    add_precision(parser)


def run(args: argparse.Namespace) -> int:
    """Print conlleval's report (or JSON) of the model on the file."""
    from nerkit.pipeline import load

    pipeline = load(args.model, threads=args.threads, precision=args.transformer_precision)
    score = pipeline.evaluate(args.file, tag_column=args.tag_column)
    emit(as_json(score.to_json()) if args.json else format_report(score))
    return 0
