"""`nerkit tokenize`: split raw text (one document per line) into sentences and tokens."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from nerkit.cli._output import emit_lines
from nerkit.lines import read_lines
from nerkit.text.document import document_conll_parts, document_json_parts

HELP = "Split raw text (one document per line) into sentences and tokens."


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `tokenize` command's parser."""
    parser = commands.add_parser("tokenize", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument("file", help="a UTF-8 text file, or - for standard input")
    parser.add_argument("--format", choices=("jsonl", "conll"), default="jsonl", help="output format")
    parser.add_argument("--output", "-o", help="where to write (default: standard output)")


def run(args: argparse.Namespace) -> int:
    """Write each line's sentences and tokens as JSON lines or CoNLL."""
    emit_lines(tokenized(args.file, args.format), args.output, inputs=[args.file])
    return 0


def tokenized(path: str, output_format: str) -> Iterator[str]:
    """Each line of a text file as one document, split into sentences and tokens, as output pieces of
    a few thousand tokens: a line of millions of tokens takes little more memory than its text."""
    for _, line in read_lines(path):
        if output_format == "jsonl":
            yield from document_json_parts(line)
            continue
        yield "-DOCSTART-\n\n"
        yield from document_conll_parts(line)
