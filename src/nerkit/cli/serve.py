"""`nerkit serve`: a model over HTTP, a REST API and a web page (needs nerkit[serve])."""

from __future__ import annotations

import argparse

from nerkit.cli._options import add_precision, add_threads
from nerkit.errors import NerkitError

HELP = "Serve a model over HTTP: a REST API and a web page (nerkit[serve])."


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `serve` command's parser."""
    parser = commands.add_parser("serve", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument("model", help="a model folder")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: only here)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port to listen on (default 8000; 0: any free)"
    )
    parser.add_argument(
        "--max-text-chars", type=int, help="longest text in characters (default 100,000; longer: 413)"
    )
    parser.add_argument(
        "--max-batch",
        type=int,
        help="most texts in one request, and in one model call shared by concurrent requests (default 64)",
    )
    parser.add_argument(
        "--max-queue", type=int, help="most texts waiting for the model; beyond it 503 (default 1,024)"
    )
    add_threads(parser)
    add_precision(parser)


def run(args: argparse.Namespace) -> int:
    """Load the model and serve it until stopped."""
    try:
        from nerkit.serve import create_app, run_server
    except ModuleNotFoundError as error:
        if error.name not in ("fastapi", "uvicorn", "starlette", "pydantic"):
            raise
        raise NerkitError(f"nerkit serve needs {error.name}", hint="pip install 'nerkit[serve]'") from None
    from nerkit.pipeline import load

    pipeline = load(args.model, threads=args.threads, precision=args.transformer_precision)
    limits = {
        name: value
        for name in ("max_text_chars", "max_batch", "max_queue")
        if (value := getattr(args, name)) is not None
    }
    run_server(create_app(pipeline, **limits), args.host, args.port)
    return 0
