"""`nerkit evaluate`: score a model on annotated data by conlleval's rules (and by exact character spans)."""

from __future__ import annotations

import argparse

from nerkit.cli._options import add_precision, add_reading, add_threads, reading_options
from nerkit.cli._output import as_json, emit
from nerkit.evaluate import format_char_spans, format_report

HELP = (
    "Score a model on annotated data in any format by conlleval's rules; span formats also by exact "
    "character spans."
)


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `evaluate` command's parser."""
    parser = commands.add_parser("evaluate", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument("model", help="a model folder")
    parser.add_argument(
        "file",
        help="annotated data in any format (a brat folder too); a CoNLL file's tokens are taken as given, "
        "other formats' spans aligned to tokens (split by nerkit where the format gives none)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (fractions 0..1)")
    add_reading(parser)
    add_threads(parser)
    add_precision(parser)


def run(args: argparse.Namespace) -> int:
    """Print conlleval's report (or JSON) of the model on the data, with the character-span figures
    after it for span formats."""
    from nerkit.data.formats.detect import require_format
    from nerkit.pipeline import load

    name = require_format(args.file, args.input_format)  # before the model loads
    pipeline = load(args.model, threads=args.threads, precision=args.transformer_precision)
    score = pipeline.evaluate(args.file, format=name, options=reading_options(args))
    if args.json:
        emit(as_json(score.to_json()))
    else:
        spans = "" if score.char_spans is None else format_char_spans(score.char_spans)
        emit(format_report(score) + spans)
    return 0
