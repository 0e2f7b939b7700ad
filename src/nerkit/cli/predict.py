"""`nerkit predict`: tag raw text or annotated data with a trained model, for reading or for an annotation tool."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nerkit.cli._options import add_min_confidence, add_precision, add_threads, label_list, positive
from nerkit.errors import NerkitError

HELP = "Tag raw text or annotated data (CoNLL, JSON lines, Label Studio, brat, Hugging Face) with a trained model."
INPUT_HELP = (
    "text: one document per line; conll: tokens as given, one record per sentence; jsonl: objects with a "
    "text field (gold spans dropped, other fields passed through); labelstudio: a Label Studio JSON export; "
    "brat: a folder of .txt and .ann files; hf: Hugging Face tokens and ner_tags (parquet or JSON lines). "
    "Default: from the path: a folder is brat, .json labelstudio, .jsonl jsonl (hf when its rows hold tokens "
    "and ner_tags), .parquet hf, .conll conll; anything else (.txt, no extension, -) is text"
)
FORMAT_HELP = (
    "jsonl, conll, html (default jsonl); labelstudio: tasks with predictions to import (a Label Studio "
    "input's tasks pass through, their predictions replaced); brat: a folder of .txt and .ann files (needs -o)"
)


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `predict` command's parser."""
    from nerkit.predict import INPUT_FORMATS, OUTPUT_FORMATS

    parser = commands.add_parser("predict", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument("model", help="a model folder")
    parser.add_argument("input", help="the input file (a folder for brat), or - for standard input")
    parser.add_argument("--input-format", choices=INPUT_FORMATS, help=INPUT_HELP)
    parser.add_argument("--format", choices=OUTPUT_FORMATS, default="jsonl", help=FORMAT_HELP)
    parser.add_argument("--output", "-o", help="where to write (default: standard output)")
    add_min_confidence(parser)
    parser.add_argument("--batch-size", type=positive, default=512, help="sentences per model call")
    parser.add_argument("--colors", help="HTML colours per label, e.g. PER=#ffd166,LOC=lightblue")
    parser.add_argument(
        "--labels",
        type=label_list,
        help="Hugging Face input: the tag names of ner_tags 0, 1, 2, ... (default: from dataset_info.json)",
    )
    add_threads(parser)
    add_precision(parser)


def run(args: argparse.Namespace) -> int:
    """Tag the input into the output and say how much was tagged, how fast."""
    from nerkit.data.formats import ReadOptions
    from nerkit.pipeline import load
    from nerkit.predict import check_output_format, input_format_of, model_version, predict_file

    colours = parse_colours(args.colors)
    check_output_format(args.output, args.format)
    input_format = args.input_format or input_format_of(args.input)
    pipeline = load(args.model, threads=args.threads, precision=args.transformer_precision)
    summary = predict_file(
        pipeline,
        args.input,
        args.output,
        input_format=input_format,
        output_format=args.format,
        batch_size=args.batch_size,
        colours=colours,
        version=model_version(pipeline.meta, Path(args.model).resolve().name or "nerkit"),
        read_options=ReadOptions(labels=args.labels),
        min_confidence=args.min_confidence,
    )
    where = f" to {args.output}" if args.output not in (None, "-") else ""
    print(
        f"tagged {summary.documents:,} {'sentences' if input_format == 'conll' else 'documents'}, "
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
