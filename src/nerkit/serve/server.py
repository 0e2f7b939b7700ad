"""Running the service under uvicorn: loopback by default, one line per request on standard error."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import sys

import uvicorn
from fastapi import FastAPI

from nerkit.errors import NerkitError
from nerkit.serve.connections import ConnectionLimits, limited_protocol

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def is_loopback(host: str) -> bool:
    """Whether `host` names only this machine (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one), or a one-line error saying why not."""
    if not 0 <= port <= 65535:
        raise NerkitError(f"port {port} does not exist", hint="use 1 to 65535, or 0 for any free port")
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise NerkitError(f"cannot resolve host {host!r} ({error.strerror})") from None
    sock = socket.socket(family, kind, protocol)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise NerkitError(
            f"cannot listen on {host}:{port} ({error.strerror})", hint="is another server using that port?"
        ) from None
    return sock


def log_requests_to_stderr() -> None:
    """Send the `nerkit.serve` logger's lines (one per request) to standard error, with the time."""
    logger = logging.getLogger("nerkit.serve")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def uvicorn_server(app: FastAPI, limits: ConnectionLimits) -> uvicorn.Server:
    """A uvicorn server for `app` that enforces `limits`, logging nothing of its own below warnings."""
    config = uvicorn.Config(
        app, http=limited_protocol(limits), access_log=False, log_level="warning", server_header=False
    )
    return uvicorn.Server(config)


def run_server(
    app: FastAPI,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    limits: ConnectionLimits | None = None,
) -> None:
    """Serve `app` until Ctrl+C, which stops it gracefully; says where on standard error, warns off loopback."""
    sock = listen(host, port)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    if not is_loopback(host):
        print(
            f"nerkit: warning: listening on {host}: anyone who can reach this machine can use the model "
            "(there is no authentication)",
            file=sys.stderr,
        )
    print(
        f"nerkit: serving on http://{shown_host}:{bound_port}/ (the page; API docs at /docs); Ctrl+C stops",
        file=sys.stderr,
        flush=True,
    )
    log_requests_to_stderr()
    server = uvicorn_server(app, limits or ConnectionLimits())
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl+C once it has shut down gracefully
        server.run(sockets=[sock])
    print("nerkit: stopped", file=sys.stderr)
