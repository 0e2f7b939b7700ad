"""`nerkit tokenize`: split raw text (one document per line) into sentences and tokens."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator

from nerkit.cli._output import emit_lines
from nerkit.lines import read_lines
from nerkit.text.document import parse_text

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
    emit_lines(tokenized(args.file, args.format), args.output)
    return 0


def tokenized(path: str, output_format: str) -> Iterator[str]:
    """Each line of a text file as one document, split into sentences and tokens, as output lines."""
    for _, line in read_lines(path):
        document = parse_text(line)
        if output_format == "jsonl":
            yield json.dumps(document.to_json(), ensure_ascii=False) + "\n"
            continue
        yield "-DOCSTART-\n\n"
        for sentence in document.sentences:
            yield "".join(token.text + "\n" for token in sentence.tokens) + "\n"
