"""`nerkit predict`: tag raw text, CoNLL or JSON lines with a trained model."""

from __future__ import annotations

import argparse
import sys

from nerkit.cli._options import add_precision, add_threads, positive
from nerkit.errors import NerkitError

HELP = "Tag raw text, CoNLL or JSON lines with a trained model."


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `predict` command's parser."""
    parser = commands.add_parser("predict", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument("model", help="a model folder")
    parser.add_argument("input", help="the input file, or - for standard input")
    parser.add_argument(
        "--input-format",
        choices=("text", "conll", "jsonl"),
        default="text",
        help="text: one document per line; conll: tokens as given; jsonl: objects with a text field",
    )
    parser.add_argument("--format", choices=("jsonl", "conll", "html"), default="jsonl", help="output format")
    parser.add_argument("--output", "-o", help="where to write (default: standard output)")
    parser.add_argument("--batch-size", type=positive, default=512, help="sentences per model call")
    parser.add_argument("--colors", help="HTML colours per label, e.g. PER=#ffd166,LOC=lightblue")
    add_threads(parser)
    add_precision(parser)


def run(args: argparse.Namespace) -> int:
    """Tag the input into the output and say how much was tagged, how fast."""
    from nerkit.pipeline import load
    from nerkit.predict import predict_file

    colours = parse_colours(args.colors)
    pipeline = load(args.model, threads=args.threads, precision=args.transformer_precision)
    summary = predict_file(
        pipeline,
        args.input,
        args.output,
        input_format=args.input_format,
        output_format=args.format,
        batch_size=args.batch_size,
        colours=colours,
    )
    where = f" to {args.output}" if args.output not in (None, "-") else ""
    print(
        f"tagged {summary.documents:,} {'sentences' if args.input_format == 'conll' else 'documents'}, "
        f"{summary.tokens:,} tokens, {summary.entities:,} entities in {summary.seconds:.1f}s "
        f"({summary.tokens_per_second:,.0f} tokens/s){where}",
        file=sys.stderr,
    )
    return 0


def parse_colours(text: str | None) -> dict[str, str] | None:
    """--colors LABEL=COLOUR,... as a dict (None when not given)."""
    if not text:
        return None
    colours = {}
    for item in text.split(","):
        label, sep, colour = item.partition("=")
        if not sep or not label.strip() or not colour.strip():
            raise NerkitError(
                f"--colors item {item!r} is not LABEL=COLOUR", hint="e.g. --colors PER=#ffd166,LOC=lightblue"
            )
        colours[label.strip()] = colour.strip()
    return colours
