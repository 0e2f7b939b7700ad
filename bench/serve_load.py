"""Benchmark: `nerkit serve` under load on loopback, with and without micro-batching.

    python bench/serve_load.py MODEL [../shared/data/conll2003/valid.txt] --requests 2000 --clients 32

Starts `nerkit serve MODEL --port 0` on 127.0.0.1 twice: with micro-batching (`--max-batch 64`) and
without (`--max-batch 1`: every request its own model call). Each time, after a warm-up, `--clients`
keep-alive connections send `--requests` single-text POST /v1/entities requests in all (one sentence of
the CoNLL file typeset as plain text each), one at a time per connection, and the run stops by itself
after the last one or after `--time-limit` seconds. Reports requests/s, p50/p90/p99/max latency, errors
(anything but a 200 with results, a timeout, a dropped connection) and the server's model calls; writes
JSON to bench/results/serve_load.json. Traffic goes only to the server it started on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from nerkit.data.conll import read_conll

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30.0
CONFIGURATIONS = (("micro-batching", 64), ("no micro-batching", 1))


@dataclass
class Server:
    """A `nerkit serve` process on a free loopback port, and its standard-error lines."""

    process: subprocess.Popen[str]
    port: int = 0
    lines: list[str] = field(default_factory=list)


def start_server(model: str, *options: str) -> Server:
    """`nerkit serve MODEL --port 0 OPTIONS` on 127.0.0.1, once it says where it listens."""
    command = [sys.executable, "-m", "nerkit", "serve", model, "--host", HOST, "--port", "0", *options]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    server = Server(process)

    def read_lines() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if not re.search(r" (GET|POST) /", line):  # one line per request: keep only the others
                server.lines.append(line.rstrip("\n"))

    threading.Thread(target=read_lines, daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        for line in list(server.lines):
            if found := re.search(rf"serving on http://{re.escape(HOST)}:(\d+)/", line):
                server.port = int(found.group(1))
                return server
        time.sleep(0.05)
    process.kill()
    raise SystemExit(f"the server did not start: {server.lines}")


def stop_server(server: Server) -> None:
    """Ctrl+C, as a person would; killed if it has not stopped after 20 s."""
    server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def http_request(method: str, path: str, body: bytes = b"") -> bytes:
    """One HTTP/1.1 request with keep-alive, as bytes."""
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one response (Content-Length framing, as uvicorn sends it)."""
    status_line = await reader.readuntil(b"\r\n")
    length = 0
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(status_line.split()[1]), await reader.readexactly(length)


async def fetch(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    """One request on its own connection."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(http_request(method, path, body))
        return await asyncio.wait_for(read_response(reader), REQUEST_TIMEOUT)
    finally:
        writer.close()


@dataclass
class Outcome:
    """Latencies of answered requests, and errors by kind."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def client(
    port: int, bodies: list[bytes], numbers: itertools.count, total: int, deadline: float, outcome: Outcome
) -> None:
    """One keep-alive connection sending requests one after another until all are sent or time is up."""
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while (number := next(numbers)) < total and time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            if connection is None:
                connection = await asyncio.open_connection(HOST, port)
            reader, writer = connection
            writer.write(http_request("POST", "/v1/entities", bodies[number % len(bodies)]))
            status, body = await asyncio.wait_for(read_response(reader), REQUEST_TIMEOUT)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as error:
            outcome.error(type(error).__name__)
            if connection is not None:
                connection[1].close()
            connection = None
            continue
        if status != 200 or not body.startswith(b'{"results": [{"text": '):
            outcome.error(f"HTTP {status}")
            continue
        outcome.latencies.append(time.perf_counter() - started)
    if connection is not None:
        connection[1].close()


async def load(
    port: int, bodies: list[bytes], total: int, clients: int, time_limit: float
) -> tuple[Outcome, float]:
    """`total` requests from `clients` connections; the outcome and the seconds it took."""
    outcome = Outcome()
    numbers = itertools.count()
    started = time.perf_counter()
    deadline = time.monotonic() + time_limit
    await asyncio.gather(*(client(port, bodies, numbers, total, deadline, outcome) for _ in range(clients)))
    return outcome, time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the sorted values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def run(
    model: str, texts: list[str], name: str, max_batch: int, args: argparse.Namespace
) -> dict[str, object]:
    """One server configuration under load: its figures as a JSON-ready dict."""
    server = start_server(model, "--max-batch", str(max_batch), "--threads", str(args.threads))
    bodies = [json.dumps({"texts": [text]}, ensure_ascii=False).encode("utf-8") for text in texts]
    try:
        asyncio.run(load(server.port, bodies, min(args.warmup, len(bodies)), args.clients, args.time_limit))
        before = json.loads(asyncio.run(fetch(server.port, "GET", "/healthz"))[1])
        outcome, seconds = asyncio.run(
            load(server.port, bodies, args.requests, args.clients, args.time_limit)
        )
        after = json.loads(asyncio.run(fetch(server.port, "GET", "/healthz"))[1])
    finally:
        stop_server(server)
    answered = len(outcome.latencies)
    calls = after["model_calls"] - before["model_calls"]
    milliseconds = [1000 * latency for latency in outcome.latencies] or [float("nan")]
    result = {
        "name": name,
        "max_batch": max_batch,
        "requests": args.requests,
        "answered": answered,
        "errors": sum(outcome.errors.values()),
        "error_kinds": outcome.errors,
        "not_sent": args.requests - answered - sum(outcome.errors.values()),  # the time limit came first
        "seconds": round(seconds, 3),
        "requests_per_s": round(answered / seconds, 1),
        "p50_ms": round(percentile(milliseconds, 0.50), 2),
        "p90_ms": round(percentile(milliseconds, 0.90), 2),
        "p99_ms": round(percentile(milliseconds, 0.99), 2),
        "max_ms": round(max(milliseconds), 2),
        "mean_ms": round(statistics.fmean(milliseconds), 2),
        "model_calls": calls,
        "texts_per_call": round((after["texts_tagged"] - before["texts_tagged"]) / max(calls, 1), 2),
    }
    print(
        f"{name:>18}: {result['requests_per_s']:8.1f} requests/s  p50 {result['p50_ms']:7.2f} ms  "
        f"p99 {result['p99_ms']:7.2f} ms  errors {result['errors']}  "
        f"{calls} model calls ({result['texts_per_call']} texts each)",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", help="a model folder")
    parser.add_argument(
        "conll", nargs="?", default=str(ROOT / "samples" / "dev.conll"), help="sentences to send"
    )
    parser.add_argument(
        "--requests", type=int, default=2000, help="requests per configuration (default 2000)"
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--warmup", type=int, default=200, help="requests before timing (default 200)")
    parser.add_argument("--time-limit", type=float, default=300, help="seconds per run at most (default 300)")
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count() or 1, help="the server's threads (default: all cores)"
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "serve_load.json"))
    args = parser.parse_args()
    if not 1 <= args.clients <= 64 or not 1 <= args.requests <= 100_000:
        parser.error("use 1 to 64 clients and 1 to 100,000 requests")
    texts = [" ".join(sentence.tokens) for sentence in read_conll(args.conll)]
    runs = [run(args.model, texts, name, max_batch, args) for name, max_batch in CONFIGURATIONS]
    report = {
        "model": args.model,
        "texts": f"{len(texts)} sentences of {args.conll}, one per request, tokens joined by spaces",
        "clients": args.clients,
        "host": HOST,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "runs": runs,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
