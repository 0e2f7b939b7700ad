"""`nerkit stats`: count documents, sentences, tokens, entities, tags and alignment adjustments of annotated data."""

from __future__ import annotations

import argparse

from nerkit.cli._options import add_reading, reading_options
from nerkit.cli._output import as_json, emit
from nerkit.data.formats.detect import require_format
from nerkit.data.stats import (
    annotation_stats,
    corpus_stats,
    format_alignment,
    format_annotation_stats,
    format_stats,
)
from nerkit.errors import NerkitError

HELP = "Count documents, sentences, tokens, entities, tags and alignment adjustments of annotated data."


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `stats` command's parser."""
    parser = commands.add_parser("stats", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument("file", help="annotated data in any format (a brat folder too)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument(
        "--check-scheme",
        action="store_true",
        help="CoNLL: also check every chunk against the scheme found",
    )
    parser.add_argument("--scheme", action="store_true", dest="check_scheme", help=argparse.SUPPRESS)
    parser.add_argument(
        "--alignment",
        action="store_true",
        help="also list each adjustment made in aligning the annotations to tokens, with its place",
    )
    add_reading(parser)


def run(args: argparse.Namespace) -> int:
    """Print the data's counts as a table or JSON: a CoNLL file's as they always were (with the
    alignment section under --alignment), any other format's after alignment."""
    name = require_format(args.file, args.input_format)
    options = reading_options(args)
    if name != "conll":
        if args.check_scheme:
            raise NerkitError(
                f"--check-scheme checks the tags of a CoNLL file, and this is {name}",
                path=args.file,
                hint="its tags are made from its spans, always well-formed IOB2: leave out --check-scheme",
            )
        aligned = annotation_stats(args.file, name, options, list_adjustments=args.alignment)
        emit(as_json(aligned.to_json()) if args.json else format_annotation_stats(aligned) + "\n")
        return 0
    if args.alignment and args.file == "-":
        raise NerkitError(
            "--alignment reads a CoNLL file twice, and standard input can be read once",
            hint="give the file's name instead of -",
        )
    stats = corpus_stats(args.file, tag_column=options.tag_column)
    alignment = annotation_stats(args.file, name, options, list_adjustments=True) if args.alignment else None
    if args.json:
        data = stats.to_json(scheme_details=args.check_scheme)
        emit(as_json(data if alignment is None else {**data, **alignment.alignment_json()}))
    else:
        table = format_stats(stats, scheme_details=args.check_scheme)
        emit(table + ("" if alignment is None else "\n" + format_alignment(alignment)) + "\n")
    return 0
