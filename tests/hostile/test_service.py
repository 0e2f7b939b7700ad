"""Hostile clients against `nerkit serve`: slow heads and bodies, too many connections, clients that leave
before their answer, HEAD requests, and the API docs with no CDN. A real uvicorn server on loopback."""

from __future__ import annotations

import copy
import json
import re
import select
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the serve tests need FastAPI: pip install 'nerkit[serve]'")

from fastapi.testclient import TestClient

from nerkit.cli import main
from nerkit.serve import ConnectionLimits, create_app
from nerkit.serve.connections import closing_response
from nerkit.serve.docs import DOCS_POLICY
from nerkit.serve.server import listen, uvicorn_server

TIMEOUT = 0.4  # the header and body timeouts of the server below, in seconds
MAX_CONNECTIONS = 3  # per client
SLACK = 1.0  # how much later than its deadline a busy machine may close a connection


class GatedModel:
    """The tiny model's `predict_many`, remembering each call's texts; while `gate` is clear, a call waits."""

    def __init__(self, pipeline) -> None:
        self.predict_many = pipeline.predict_many
        self.calls: list[list[str]] = []
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, texts: list[str]):
        self.calls.append(list(texts))
        self.entered.set()
        self.gate.wait(10)
        return self.predict_many(texts)


@dataclass
class Live:
    """A running server: its port and its model."""

    port: int
    model: GatedModel


@pytest.fixture(scope="module")
def live(tiny_pipeline) -> Iterator[Live]:
    """The app on uvicorn as `nerkit serve` runs it, in a thread, with short timeouts and a low cap."""
    pipeline = copy.copy(tiny_pipeline)
    model = GatedModel(tiny_pipeline)
    pipeline.predict_many = model
    app = create_app(pipeline, body_timeout=TIMEOUT)
    server = uvicorn_server(
        app, ConnectionLimits(header_timeout=TIMEOUT, max_client_connections=MAX_CONNECTIONS)
    )
    sock = listen("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield Live(sock.getsockname()[1], model)
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture
def model(live) -> Iterator[GatedModel]:
    """The live server's model, its calls forgotten and its gate open before and after the test."""
    live.model.calls.clear()
    yield live.model
    live.model.gate.set()


def connect(live: Live) -> socket.socket:
    return socket.create_connection(("127.0.0.1", live.port), timeout=10)


def read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started = time.monotonic()
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data, time.monotonic() - started


def status_and_json(response: bytes) -> tuple[str, dict[str, str], object]:
    head, _, body = response.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    return status, headers, json.loads(body)


def health(live: Live) -> dict[str, int]:
    with connect(live) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return status_and_json(read_until_closed(sock)[0])[2]


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def post_entities(texts: list[str]) -> bytes:
    body = json.dumps({"texts": texts}).encode()
    return (
        b"POST /v1/entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
    )


# --- 1. slow clients -------------------------------------------------------------------------------


HEAD_408 = closing_response(
    408, "Request Timeout", f"the request head did not arrive within {TIMEOUT:g} s (--header-timeout)"
)


def test_half_a_request_line_gets_408_and_is_closed_at_the_header_timeout(live):
    with connect(live) as sock:
        sock.sendall(b"GET / HT")
        data, seconds = read_until_closed(sock)
    assert data == HEAD_408
    assert data.endswith(b'{"error": "the request head did not arrive within 0.4 s (--header-timeout)"}')
    assert TIMEOUT - 0.05 <= seconds <= TIMEOUT + SLACK


def test_a_head_trickled_a_byte_at_a_time_is_cut_at_the_deadline_not_kept_alive_by_each_byte(live):
    with connect(live) as sock:
        started = time.monotonic()
        for byte in b"GET / HTTP/1.1\r\nX-Slow: " + b"a" * 40:
            sock.sendall(bytes([byte]))
            if select.select([sock], [], [], 0.05)[0]:  # the server has answered: stop sending
                break
        data, _ = read_until_closed(sock)
    assert data == HEAD_408
    assert time.monotonic() - started <= TIMEOUT + SLACK


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(live):
    with connect(live) as sock:
        data, seconds = read_until_closed(sock)
    assert data == b""
    assert TIMEOUT - 0.05 <= seconds <= TIMEOUT + SLACK


def test_a_body_that_stops_coming_gets_408_and_is_closed_at_the_body_timeout(live, model):
    with connect(live) as sock:
        sock.sendall(
            b"POST /v1/entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"texts": ['
        )
        data, seconds = read_until_closed(sock)
    status, headers, body = status_and_json(data)
    assert (status, headers["connection"], body) == (
        "HTTP/1.1 408 Request Timeout",
        "close",
        {"error": "the request body did not arrive within 0.4 s (--body-timeout)"},
    )
    assert TIMEOUT - 0.05 <= seconds <= TIMEOUT + SLACK
    assert model.calls == []


def test_after_an_answer_the_next_head_has_the_header_timeout_again(live):
    with connect(live) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(65536)
        while b"}" not in first:  # the end of the JSON body
            first += sock.recv(65536)
        sock.sendall(b"GET /heal")
        rest, seconds = read_until_closed(sock)
    assert first.startswith(b"HTTP/1.1 200 OK\r\n") and first.endswith(b"}")
    assert rest == HEAD_408
    assert seconds <= TIMEOUT + SLACK


def test_one_client_may_hold_only_so_many_connections_and_a_closed_one_frees_its_place(live):
    held = [connect(live) for _ in range(MAX_CONNECTIONS)]
    time.sleep(0.05)
    with connect(live) as extra:
        data, seconds = read_until_closed(extra)
    assert data == closing_response(
        429,
        "Too Many Requests",
        "127.0.0.1 already has 3 connections open; close one first (--max-client-connections)",
        "retry-after: 1\r\n",
    )
    assert seconds < TIMEOUT
    for sock in held:
        sock.close()
    wait_for(lambda: health(live).get("status") == "ok")


# --- 2. a client that leaves ------------------------------------------------------------------------


def test_a_request_whose_client_leaves_while_it_waits_is_never_given_to_the_model(live, model, caplog):
    caplog.set_level("INFO", logger="nerkit.serve")
    model.entered.clear()
    model.gate.clear()  # the first request's call holds the model
    before = health(live)
    with connect(live) as first:
        first.sendall(post_entities(["Maria Voss flew to Port Anselm."]))
        assert model.entered.wait(5)
        leaving = connect(live)
        leaving.sendall(post_entities(["a text nobody waits for", "and another"]))
        wait_for(lambda: health(live)["waiting_texts"] == 2)
        leaving.close()
        wait_for(lambda: health(live)["waiting_texts"] == 0)
        model.gate.set()
        answer, _ = read_until_closed(first)
    assert status_and_json(answer)[0] == "HTTP/1.1 200 OK"
    assert model.calls == [["Maria Voss flew to Port Anselm."]]
    after = health(live)
    assert after["model_calls"] - before["model_calls"] == 1
    assert after["requests_dropped"] - before["requests_dropped"] == 1
    assert after["texts_tagged"] - before["texts_tagged"] == 1
    lines = [record.getMessage() for record in caplog.records if record.name == "nerkit.serve"]
    assert len([line for line in lines if re.fullmatch(r"POST /v1/entities 499 \d+\.\dms", line)]) == 1


# --- 3. HEAD ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(tiny_pipeline) -> Iterator[TestClient]:
    with TestClient(create_app(tiny_pipeline)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "path", ["/", "/healthz", "/v1/model", "/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui.css"]
)
def test_head_answers_wherever_get_does_with_gets_headers_and_no_body(client, path):
    got = client.get(path)
    head = client.head(path)
    assert (head.status_code, head.content) == (200, b"")
    for name in ("content-type", "content-length", "content-security-policy", "etag"):
        assert head.headers.get(name) == got.headers.get(name)
    assert int(head.headers["content-length"]) == len(got.content) > 0


def test_head_where_get_is_not_allowed_is_405_with_the_allowed_method(client):
    response = client.head("/v1/entities")
    assert (response.status_code, response.headers["allow"], response.content) == (405, "POST", b"")


def test_head_over_the_wire_sends_the_head_only(live):
    with connect(live) as sock:
        sock.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data, _ = read_until_closed(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"content-type: text/html; charset=utf-8" in head
    assert body == b""


# --- 4. the docs without a CDN ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_reference_only_this_server(client, path):
    response = client.get(path)
    page = response.text
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == DOCS_POLICY
    assert "//" not in re.sub(r"<!--.*?-->", "", page, flags=re.DOTALL)  # no http://, https://, //host
    links = re.findall(r"(?:src|href|spec-url)=\"([^\"]*)\"", page) + re.findall(r"url: '([^']*)'", page)
    assert links and all(re.fullmatch(r"(docs/assets/[\w.-]+|openapi\.json)", link) for link in links), links
    for link in links:
        assert client.get("/" + link).status_code == 200, link


def test_the_docs_policy_allows_scripts_and_requests_from_this_server_only():
    directives = dict(part.strip().split(" ", 1) for part in DOCS_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    assert re.fullmatch(r"'self' 'sha256-[\w+/]+='", directives["script-src"])
    assert (directives["connect-src"], directives["img-src"]) == ("'self'", "'self' data:")


# --- the flags ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--header-timeout", "0"], "--header-timeout 0 is out of range; use 0.1 to 3,600 seconds"),
        (["--header-timeout", "nan"], "--header-timeout nan is out of range; use 0.1 to 3,600 seconds"),
        (["--body-timeout", "7200"], "--body-timeout 7200 is out of range; use 0.1 to 3,600 seconds"),
        (["--body-timeout", "-1"], "--body-timeout -1 is out of range; use 0.1 to 3,600 seconds"),
        (["--max-client-connections", "0"], "--max-client-connections 0 is out of range; use 1 to 100,000"),
    ],
)
def test_bad_limits_are_one_line_errors_before_the_model_is_read(capsys, tmp_path: Path, argv, error):
    assert main(["serve", str(tmp_path / "no model here"), *argv]) == 2
    assert capsys.readouterr().err == f"nerkit: error: {error}\n"


def test_serve_without_the_docs_assets_says_which_extra_to_install(capsys, tmp_path, monkeypatch):
    for name in [name for name in sys.modules if name.startswith("nerkit.serve")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "fastapi_offline", None)
    assert main(["serve", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "nerkit: error: nerkit serve needs fastapi_offline; pip install 'nerkit[serve]'\n"
    )
