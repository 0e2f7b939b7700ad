"""`nerkit convert`: annotated data from one format (or tag scheme) to another."""

from __future__ import annotations

import argparse
import sys

from nerkit.cli._options import add_reading, reading_options
from nerkit.data.formats import FORMATS, adjustment_note
from nerkit.data.tags import SCHEMES

HELP = "Convert annotated data between formats (CoNLL, JSON lines, Label Studio, brat, Hugging Face) or tag schemes."
FORMAT_HELP = (
    "the output format (default: from the output's name: a folder or a name ending in / is brat, .json "
    "labelstudio, .jsonl jsonl, .parquet hf, .conll, .txt or no extension conll; else the input's format)"
)


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `convert` command's parser."""
    parser = commands.add_parser("convert", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument("file", help="annotated data in any format (a brat folder too)")
    parser.add_argument("--output", "-o", required=True, help="the file (or brat folder) to write")
    parser.add_argument("--format", choices=FORMATS, help=FORMAT_HELP)
    parser.add_argument(
        "--scheme",
        "--to",
        dest="scheme",
        type=str.upper,
        choices=(*SCHEMES, "IOBES"),
        default="IOB2",
        help="the tag scheme of CoNLL and Hugging Face output (default IOB2); CoNLL to CoNLL rewrites "
        "only the tags, every column kept",
    )
    add_reading(parser)


def run(args: argparse.Namespace) -> int:
    """Write the converted data, say how much, and count what aligning the annotations adjusted."""
    from nerkit.data.convert import convert_annotations

    result = convert_annotations(
        args.file,
        args.output,
        format=args.format,
        input_format=args.input_format,
        read=reading_options(args),
        scheme=args.scheme,
    )
    if result.input_format == result.format == "conll":
        from nerkit.data.tags import normalise_scheme

        unit, shown = "sentences", normalise_scheme(args.scheme)
    else:
        unit, shown = "documents", result.format
    print(f"wrote {result.count:,} {unit} in {shown} to {args.output}", file=sys.stderr)
    note = adjustment_note(args.file, result.adjustments, args.input_format, reading_options(args))
    if note:
        print(f"nerkit: note: {note}", file=sys.stderr)
    return 0
