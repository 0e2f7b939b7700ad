"""The `nerkit` command line: parses arguments and calls the library; errors are one line, exit code 2."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence

from nerkit import __version__
from nerkit.data.conll import convert_conll
from nerkit.data.stats import corpus_stats, format_stats
from nerkit.data.tags import SCHEMES, normalise_scheme
from nerkit.errors import NerkitError
from nerkit.evaluate import format_report, score_file
from nerkit.files import read_lines, write_text_atomic
from nerkit.text.document import parse_text


def _emit(text: str, output: str | None) -> None:
    """Print `text` to standard output, or write it atomically to `output`."""
    if output is None or output == "-":
        sys.stdout.write(text)
    else:
        write_text_atomic(output, [text])
        print(f"wrote {output}", file=sys.stderr)


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def cmd_stats(args: argparse.Namespace) -> int:
    stats = corpus_stats(args.file, tag_column=args.tag_column)
    if args.json:
        _emit(_json(stats.to_json(scheme_details=args.scheme)), None)
    else:
        _emit(format_stats(stats, scheme_details=args.scheme) + "\n", None)
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    score = score_file(args.file)
    if score.uses_end_tags:
        print(
            f"nerkit: warning: {args.file} has E-/S- (BIOES) tags, which conlleval's rules misread; "
            "convert both columns to IOB2 first for meaningful figures",
            file=sys.stderr,
        )
    _emit(_json(score.to_json()) if args.json else format_report(score), None)
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    scheme = normalise_scheme(args.to)
    sentences = convert_conll(args.file, args.output, scheme, tag_column=args.tag_column)
    print(f"wrote {sentences:,} sentences in {scheme} to {args.output}", file=sys.stderr)
    return 0


def _tokenized(path: str, output_format: str) -> Iterator[str]:
    """Each line of a text file as one document, split into sentences and tokens, as output lines."""
    for _, line in read_lines(path):
        document = parse_text(line)
        if output_format == "jsonl":
            yield json.dumps(document.to_json(), ensure_ascii=False) + "\n"
            continue
        yield "-DOCSTART-\n\n"
        for sentence in document.sentences:
            yield "".join(token.text + "\n" for token in sentence.tokens) + "\n"


def cmd_tokenize(args: argparse.Namespace) -> int:
    lines = _tokenized(args.file, args.format)
    if args.output is None or args.output == "-":
        sys.stdout.writelines(lines)
    else:
        write_text_atomic(args.output, lines)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `nerkit` command."""
    parser = argparse.ArgumentParser(
        prog="nerkit", description="Train, evaluate and use named-entity-recognition models on CoNLL data."
    )
    parser.add_argument("--version", action="version", version=f"nerkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    tag_column_help = "index of the tag column (0 is the token; negative counts from the end; default -1)"

    stats = add("stats", cmd_stats, "Count documents, sentences, tokens, entities and tags of a CoNLL file.")
    stats.add_argument("file", help="a CoNLL file")
    stats.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    stats.add_argument(
        "--scheme", action="store_true", help="also check every chunk against the scheme found"
    )
    stats.add_argument("--tag-column", type=int, default=-1, help=tag_column_help)

    score = add(
        "score", cmd_score, "Score predictions exactly as conlleval.pl does (token ... gold predicted)."
    )
    score.add_argument(
        "file", help="a file in conlleval's format: the gold and predicted tags are the last two"
    )
    score.add_argument("--json", action="store_true", help="print one JSON object (fractions 0..1)")

    convert = add(
        "convert", cmd_convert, "Rewrite a CoNLL file's tags in another scheme (IOB1, IOB2, BIOES)."
    )
    convert.add_argument("file", help="a CoNLL file")
    convert.add_argument(
        "--to", required=True, type=str.upper, choices=(*SCHEMES, "IOBES"), help="the scheme to write"
    )
    convert.add_argument("--output", "-o", required=True, help="the CoNLL file to write")
    convert.add_argument("--tag-column", type=int, default=-1, help=tag_column_help)

    tokenize = add(
        "tokenize", cmd_tokenize, "Split raw text (one document per line) into sentences and tokens."
    )
    tokenize.add_argument("file", help="a UTF-8 text file, or - for standard input")
    tokenize.add_argument("--format", choices=("jsonl", "conll"), default="jsonl", help="output format")
    tokenize.add_argument("--output", "-o", help="where to write (default: standard output)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `nerkit` command; returns the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except NerkitError as error:
        print(f"nerkit: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nerkit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as error:  # a bug in nerkit, not the user's input: still one line unless asked
        if os.environ.get("NERKIT_DEBUG"):
            traceback.print_exc()
        print(
            f"nerkit: internal error: {type(error).__name__}: {error} "
            "(run with NERKIT_DEBUG=1 for details, and please report it)",
            file=sys.stderr,
        )
        return 1
