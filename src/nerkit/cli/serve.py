"""`nerkit serve`: a model over HTTP, a REST API and a web page (needs nerkit[serve])."""

from __future__ import annotations

import argparse
from typing import Any

from nerkit.cli._options import add_min_confidence, add_precision, add_threads
from nerkit.errors import NerkitError

HELP = "Serve a model over HTTP: a REST API and a web page (nerkit[serve])."
MIN_CONFIDENCE_HELP = (
    "leave out every entity whose confidence (the lowest marginal probability of its tokens' tags) is "
    "below this number from 0 to 1, unless a request gives its own min_confidence (default 0: keep all; "
    "`nerkit report` finds the thresholds worth using)"
)


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
    parser.add_argument(
        "--header-timeout",
        type=float,
        metavar="SECONDS",
        help="time to send a request's line and headers, from connecting or the last answer; then 408 "
        "(default 10; 0.1 to 3,600)",
    )
    parser.add_argument(
        "--body-timeout",
        type=float,
        metavar="SECONDS",
        help="time to send a request's body, after its headers; then 408 (default 60; 0.1 to 3,600)",
    )
    parser.add_argument(
        "--max-client-connections",
        type=int,
        metavar="N",
        help="connections one client address may hold open; more get 429 (default 64)",
    )
    add_min_confidence(parser, help=MIN_CONFIDENCE_HELP)
    add_threads(parser)
    add_precision(parser)


def run(args: argparse.Namespace) -> int:
    """Load the model and serve it until stopped."""
    try:
        from nerkit.serve import ConnectionLimits, create_app, run_server
        from nerkit.serve.app import check_timeout
    except ModuleNotFoundError as error:
        if error.name not in ("fastapi", "uvicorn", "starlette", "pydantic", "fastapi_offline"):
            raise
        raise NerkitError(f"nerkit serve needs {error.name}", hint="pip install 'nerkit[serve]'") from None
    from nerkit.pipeline import load

    connection_limits = ConnectionLimits(**_given(args, "header_timeout", "max_client_connections"))
    if args.body_timeout is not None:
        check_timeout("--body-timeout", args.body_timeout)
    pipeline = load(args.model, threads=args.threads, precision=args.transformer_precision)
    given = _given(args, "max_text_chars", "max_batch", "max_queue", "body_timeout", "min_confidence")
    app = create_app(pipeline, **given)
    run_server(app, args.host, args.port, connection_limits)
    return 0


def _given(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The options among `names` given on the command line (the others keep the library's defaults)."""
    return {name: value for name in names if (value := getattr(args, name)) is not None}
