"""`nerkit convert`: rewrite a CoNLL file's tags in another scheme."""

from __future__ import annotations

import argparse
import sys

from nerkit.cli._options import TAG_COLUMN_HELP
from nerkit.data.conll import convert_conll
from nerkit.data.tags import SCHEMES, normalise_scheme

HELP = "Rewrite a CoNLL file's tags in another scheme (IOB1, IOB2, BIOES)."


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `convert` command's parser."""
    parser = commands.add_parser("convert", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument("file", help="a CoNLL file")
    parser.add_argument(
        "--to", required=True, type=str.upper, choices=(*SCHEMES, "IOBES"), help="the scheme to write"
    )
    parser.add_argument("--output", "-o", required=True, help="the CoNLL file to write")
    parser.add_argument("--tag-column", type=int, default=-1, help=TAG_COLUMN_HELP)


def run(args: argparse.Namespace) -> int:
    """Write the converted file and say how many sentences it holds."""
    scheme = normalise_scheme(args.to)
    sentences = convert_conll(args.file, args.output, scheme, tag_column=args.tag_column)
    print(f"wrote {sentences:,} sentences in {scheme} to {args.output}", file=sys.stderr)
    return 0
