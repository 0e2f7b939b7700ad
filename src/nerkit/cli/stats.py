"""`nerkit stats`: count documents, sentences, tokens, entities and tags of a CoNLL file."""

from __future__ import annotations

import argparse

from nerkit.cli._options import TAG_COLUMN_HELP
from nerkit.cli._output import as_json, emit
from nerkit.data.stats import corpus_stats, format_stats

HELP = "Count documents, sentences, tokens, entities and tags of a CoNLL file."


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `stats` command's parser."""
    parser = commands.add_parser("stats", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument("file", help="a CoNLL file")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument(
        "--scheme", action="store_true", help="also check every chunk against the scheme found"
    )
    parser.add_argument("--tag-column", type=int, default=-1, help=TAG_COLUMN_HELP)


def run(args: argparse.Namespace) -> int:
    """Print the file's counts as a table or JSON."""
    stats = corpus_stats(args.file, tag_column=args.tag_column)
    if args.json:
        emit(as_json(stats.to_json(scheme_details=args.scheme)))
    else:
        emit(format_stats(stats, scheme_details=args.scheme) + "\n")
    return 0
