"""Limits on connections, in uvicorn's HTTP/1.1 protocol: time to send a request head, connections per client."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from dataclasses import dataclass

from uvicorn.protocols.http.h11_impl import H11Protocol

from nerkit.errors import NerkitError
from nerkit.serve.app import check_timeout

DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_MAX_CLIENT_CONNECTIONS = 64
MAX_CLIENT_CONNECTIONS = 100_000
# seconds a connection answered 408 stays half-closed, its further bytes read and dropped: closed at once,
# a client still sending would get a reset that can discard the answer before the client reads it
LINGER = 1.0
LOG = logging.getLogger("nerkit.serve")


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a client may take to send a request's head (the request line and headers), counted from
    the connection's opening or the previous response; and how many connections one client address may
    hold open at once."""

    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    max_client_connections: int = DEFAULT_MAX_CLIENT_CONNECTIONS

    def __post_init__(self) -> None:
        check_timeout("--header-timeout", self.header_timeout)
        if not 1 <= self.max_client_connections <= MAX_CLIENT_CONNECTIONS:
            raise NerkitError(
                f"--max-client-connections {self.max_client_connections} is out of range",
                hint=f"use 1 to {MAX_CLIENT_CONNECTIONS:,}",
            )


def closing_response(status: int, reason: str, message: str, headers: str = "") -> bytes:
    """A whole HTTP/1.1 response with a one-line JSON error, that closes the connection; `headers` are
    extra header lines, each ending in CRLF."""
    body = json.dumps({"error": message}).encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        f"connection: close\r\n{headers}\r\n"
    )
    return head.encode("ascii") + body


def limited_protocol(limits: ConnectionLimits) -> type[H11Protocol]:
    """uvicorn's HTTP/1.1 protocol (give it as `Config(http=...)`) that enforces `limits`.

    A request head not complete within `header_timeout` gets 408 and the connection closed (a connection
    that has sent nothing is just closed); a client address past `max_client_connections` gets 429 and
    its new connection closed at once.
    """
    open_connections: Counter[str] = Counter()

    class LimitedH11Protocol(H11Protocol):
        """H11Protocol with a deadline for each request head and a count of each client's connections."""

        head_deadline: asyncio.TimerHandle | None = None
        timed_cycle: object = None
        counted_as: str | None = None
        lingering = False  # answered 408: what the client still sends is dropped until the close

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            client = self.client[0] if self.client else "-"
            if open_connections[client] >= limits.max_client_connections:
                self.transport.write(
                    closing_response(
                        429,
                        "Too Many Requests",
                        f"{client} already has {limits.max_client_connections} connections open; "
                        "close one first (--max-client-connections)",
                        "retry-after: 1\r\n",
                    )
                )
                self.transport.close()
                LOG.info("- - 429 0.0ms: %s has %d connections open", client, limits.max_client_connections)
                return
            open_connections[client] += 1
            self.counted_as = client
            self.wait_for_head()

        def data_received(self, data: bytes) -> None:
            if not self.lingering:
                super().data_received(data)

        def connection_lost(self, exc: Exception | None) -> None:
            self.stop_waiting()
            if self.counted_as is not None:
                open_connections[self.counted_as] -= 1
                if not open_connections[self.counted_as]:
                    del open_connections[self.counted_as]
                self.counted_as = None
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and self.cycle is not self.timed_cycle:  # a new request's head is in
                self.timed_cycle = self.cycle
                self.stop_waiting()

        def on_response_complete(self) -> None:
            if not self.transport.is_closing():
                self.wait_for_head()  # before the next request, which may be waiting already
            super().on_response_complete()

        def wait_for_head(self) -> None:
            """Start the clock for the next request head."""
            self.stop_waiting()
            self.head_deadline = self.loop.call_later(limits.header_timeout, self.head_too_slow)

        def stop_waiting(self) -> None:
            """Stop the clock: the head is in, or the connection is gone."""
            if self.head_deadline is not None:
                self.head_deadline.cancel()
                self.head_deadline = None

        def head_too_slow(self) -> None:
            """408 and close when part of a head has come, just close an idle connection."""
            self.head_deadline = None
            if self.transport.is_closing():
                return
            if self.conn.trailing_data[0]:
                seconds = f"{limits.header_timeout:g}"
                message = f"the request head did not arrive within {seconds} s (--header-timeout)"
                self.transport.write(closing_response(408, "Request Timeout", message))
                client = self.client[0] if self.client else "-"
                LOG.info(
                    "- - 408 %.1fms: an incomplete request head from %s", 1000 * limits.header_timeout, client
                )
                if self.transport.can_write_eof():
                    self.lingering = True
                    self.transport.write_eof()
                    self.loop.call_later(LINGER, self.transport.close)
                    return
            self.transport.close()

    return LimitedH11Protocol
