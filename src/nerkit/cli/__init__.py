"""The `nerkit` command line: one module per command, each parsing its flags and making one library call;
errors are one line with exit code 2."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from nerkit.cli import (
    convert,
    ensemble,
    evaluate,
    export,
    predict,
    report,
    score,
    serve,
    spark,
    spec,
    stats,
    tokenize,
    train,
)
from nerkit.errors import NerkitError, os_error
from nerkit.version import __version__

COMMANDS = (
    stats,
    score,
    convert,
    tokenize,
    train,
    spec,
    ensemble,
    export,
    predict,
    evaluate,
    report,
    serve,
    spark,
)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (what is wrong; where to read more), exit code 2;
    its subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        """Print `message` as one line and exit with code 2."""
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


EXTRAS = {
    "torch": "train",
    "onnx": "export",
    "onnxruntime": "runtime",
    "tokenizers": "runtime-transformers",
}  # a missing package: its extra


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `nerkit` command."""
    parser = OneLineParser(
        prog="nerkit", description="Train, evaluate and use named-entity-recognition models on CoNLL data."
    )
    parser.add_argument("--version", action="version", version=f"nerkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add(commands)
    return parser


def _names_pass_through() -> None:
    """Let a file name that is not UTF-8 (given as bytes, decoded with surrogate escapes) go back out
    as the same bytes in messages and tables, as `ls` does, rather than fail to print."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="surrogateescape")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `nerkit` command; returns the exit code (2 for bad input)."""
    _names_pass_through()
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
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
    except OSError as error:  # the system's answer (a full disk, no permission), not a bug in nerkit
        print(f"nerkit: error: {os_error(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # a bug in nerkit, not the user's input: still one line unless asked
        if isinstance(error, ModuleNotFoundError) and error.name in EXTRAS:  # an optional part not installed
            print(
                f"nerkit: error: this needs {error.name}; pip install 'nerkit[{EXTRAS[error.name]}]'",
                file=sys.stderr,
            )
            return 2
        if os.environ.get("NERKIT_DEBUG"):
            traceback.print_exc()
        print(
            f"nerkit: internal error: {type(error).__name__}: {error} "
            "(run with NERKIT_DEBUG=1 for details, and please report it)",
            file=sys.stderr,
        )
        return 1
