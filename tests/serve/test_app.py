"""Tests for nerkit.serve.app: parity with predict, every bad request as a 4xx JSON error, the model,
health, the page, the request log, load shedding and micro-batching under concurrent calls."""

from __future__ import annotations

import json
import logging
import math
import random
import re
import socket
import sys
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the serve tests need FastAPI: pip install 'nerkit[serve]'")

from fastapi.testclient import TestClient

from nerkit import __version__
from nerkit.cli import main
from nerkit.data.conll import read_conll
from nerkit.errors import NerkitError
from nerkit.predict import predict_file
from nerkit.render import label_colours, render_fragment
from nerkit.serve import create_app
from nerkit.serve.page import PAGE_POLICY, PAGE_SCRIPT, SCRIPT_HASH
from nerkit.serve.server import is_loopback, listen

MAX_TEXT_CHARS = 2_000
MAX_BATCH = 8
MAX_QUEUE = 32
SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
RAW = (SAMPLES / "raw.txt").read_text(encoding="utf-8").splitlines()
ODD_TEXTS = [
    "",
    "   ",
    "\t",
    "<script>alert(1)</script> & Maria Voss",
    "Zoë 🙂 Ferreira-Lund, 東京 and القاهرة",
    "e\u0301\u0301\u0301 \u200b\u200d \u2028 \x00 \x7f \ufeff",
    "x" * MAX_TEXT_CHARS,
    "A." * 300,
]


@pytest.fixture(scope="module")
def client(tiny_pipeline) -> Iterator[TestClient]:
    """A TestClient (lifespan started) of the app serving the tiny model with the limits above."""
    app = create_app(tiny_pipeline, max_text_chars=MAX_TEXT_CHARS, max_batch=MAX_BATCH, max_queue=MAX_QUEUE)
    with TestClient(app) as test_client:
        yield test_client


def chunks(items: list, size: int) -> list[list]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def expected(pipeline, texts: list[str]) -> list[dict]:
    """What `nerkit predict` writes for each text."""
    return [
        {"text": document.text, "entities": [entity.to_json() for entity in document.entities]}
        for document in pipeline.predict_many(texts)
    ]


def post(client, body: object, path: str = "/v1/entities"):
    return client.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})


# --- parity -----------------------------------------------------------------------------------------


def test_entities_are_exactly_what_predict_file_writes(client, tiny_pipeline, tmp_path):
    source = tmp_path / "raw.txt"
    source.write_text("\n".join(RAW) + "\n", encoding="utf-8")
    predict_file(tiny_pipeline, source, tmp_path / "out.jsonl")
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    served = [
        row for texts in chunks(RAW, MAX_BATCH) for row in post(client, {"texts": texts}).json()["results"]
    ]
    assert served == written
    assert sum(len(row["entities"]) for row in served) > 10


def test_dev_sentences_as_text_and_odd_texts_match_predict(client, tiny_pipeline):
    texts = [" ".join(sentence.tokens) for sentence in read_conll(SAMPLES / "dev.conll")] + ODD_TEXTS
    served = []
    for texts_of_request in chunks(texts, MAX_BATCH):
        response = post(client, {"texts": texts_of_request})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        served += response.json()["results"]
    assert served == expected(tiny_pipeline, texts)


def test_empty_text_gives_an_empty_entity_list_and_no_texts_no_results(client):
    assert post(client, {"texts": [""]}).json() == {"results": [{"text": "", "entities": []}]}
    assert post(client, {"texts": []}).json() == {"results": []}


def test_concurrent_requests_are_micro_batched_and_each_gets_its_own_answer(tiny_pipeline):
    app = create_app(tiny_pipeline, max_batch=MAX_BATCH, batch_wait_ms=20)
    requests = [[RAW[i % len(RAW)]] if i % 4 else RAW[i % 5 : i % 5 + 3] for i in range(48)]
    with TestClient(app) as client, ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda texts: post(client, {"texts": texts}), requests))
    assert [response.status_code for response in responses] == [200] * 48
    for texts, response in zip(requests, responses, strict=True):
        assert response.json()["results"] == expected(tiny_pipeline, texts)
    stats = app.state.batcher.stats
    assert stats.requests == 48
    assert stats.texts == sum(len(texts) for texts in requests)
    assert stats.calls < 48 / 2
    assert stats.largest_call <= MAX_BATCH


# --- bad requests -----------------------------------------------------------------------------------

TOO_LONG = "x" * (MAX_TEXT_CHARS + 1)
BAD_BODIES = [
    (b'{"texts": ["a"', "application/json", 400, "malformed JSON: Expecting ',' delimiter at character 14"),
    (b"{bad", "application/json", 400, "malformed JSON: Expecting property name enclosed in double quotes at character 1"),
    (b'{"texts": ["\xff"]}', "application/json", 400, "the body cannot be read as JSON: not UTF-8, or nested too deeply"),
    (b"[" * 20_000, "application/json", 400, "the body cannot be read as JSON: not UTF-8, or nested too deeply"),
    (b"", "application/json", 422, 'the request has no body; send a JSON object such as {"texts": ["..."]}'),
    (
        b"[1]",
        "application/json",
        422,
        'the body must be a JSON object such as {"texts": ["..."]}, not Input should be a valid dictionary or object to extract fields from',
    ),
    (b'"texts"', "application/json", 422, 'the body must be a JSON object such as {"texts": ["..."]}, not Input should be a valid dictionary or object to extract fields from'),
    (b'{"texts": "a text"}', "application/json", 422, "texts: Input should be a valid list"),
    (b'{"texts": [1, "a", null]}', "application/json", 422, "texts[0]: Input should be a valid string (and 1 more problem)"),
    (b'{"texts": [["nested", {"junk": 1}]]}', "application/json", 422, "texts[0]: Input should be a valid string"),
    (b'{"texts": ["a"], "extra": 1}', "application/json", 422, "unknown field 'extra'"),
    (b'{"text": "a"}', "application/json", 422, "texts: Field required (and 1 more problem)"),
    (b'{"texts": ["a"]}', "text/plain", 422, "the body is text/plain, not JSON; send Content-Type: application/json"),
    (b'{"texts": ["a"]}', None, 422, "the body is untyped, not JSON; send Content-Type: application/json"),
    (b'{"texts": ["\\ud800 x"]}', "application/json", 422, "texts[0] holds a lone surrogate '\\ud800' at character 0: not valid Unicode"),
    (json.dumps({"texts": ["a"] * (MAX_BATCH + 1)}).encode(), "application/json", 413, "9 texts in one request; at most 8 (--max-batch)"),
    (json.dumps({"texts": ["a", TOO_LONG]}).encode(), "application/json", 413, "texts[1] has 2,001 characters; at most 2,000 (--max-text-chars)"),
    (b"[" * 100_000, "application/json", 413, "the request body is longer than 97,152 bytes"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "content_type", "status", "error"), BAD_BODIES)
def test_bad_requests_are_4xx_with_a_one_line_json_error(client, body, content_type, status, error):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/v1/entities", content=body, headers=headers)
    assert (response.status_code, response.json()) == (status, {"error": error})
    assert response.headers["content-type"] == "application/json"


def test_a_body_over_the_limit_without_a_length_is_refused_while_read(client):
    chunks_of_body = (b"x" * 10_000 for _ in range(20))
    response = client.post(
        "/v1/entities", content=chunks_of_body, headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()) == (
        413,
        {"error": "the request body is longer than 97,152 bytes"},
    )


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"text": 3}, 422, "text: Input should be a valid string"),
        ({"text": TOO_LONG}, 413, "text has 2,001 characters; at most 2,000 (--max-text-chars)"),
        (
            {"text": "ok \ud83d"},
            422,
            "text holds a lone surrogate '\\ud83d' at character 3: not valid Unicode",
        ),
        ({"texts": ["a"]}, 422, "text: Field required (and 1 more problem)"),
    ],
)
def test_bad_render_requests(client, body, status, error):
    response = post(client, body, "/v1/render")
    assert (response.status_code, response.json()) == (status, {"error": error})


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/nowhere", 404, "no such path: /nowhere; the API is described at /docs"),
        ("GET", "/v1/entities/x", 404, "no such path: /v1/entities/x; the API is described at /docs"),
        ("GET", "/v1/entities", 405, "GET is not allowed on /v1/entities"),
        ("DELETE", "/v1/model", 405, "DELETE is not allowed on /v1/model"),
        ("POST", "/docs", 405, "POST is not allowed on /docs"),
    ],
)
def test_unknown_paths_and_methods_are_json_errors(client, method, path, status, error):
    response = client.request(method, path)
    assert (response.status_code, response.json()) == (status, {"error": error})


def test_random_junk_never_gets_a_5xx(client):
    generator = random.Random(7)
    alphabet = '{}[]":,0123456789.eE+-tfnrul \\"texts\ud800\x00🙂é'

    def junk_value(depth: int) -> object:
        kind = generator.randrange(7 if depth < 4 else 4)
        if kind == 0:
            return "".join(generator.choice(alphabet) for _ in range(generator.randrange(20)))
        if kind == 1:
            return generator.choice([0, -1, 1e308, 10**40, True, None, float("nan")])
        if kind == 2:
            return generator.choice(RAW)[: generator.randrange(200)]
        if kind == 3:
            return chr(generator.randrange(0x110000)) * generator.randrange(5)
        if kind == 4:
            return [junk_value(depth + 1) for _ in range(generator.randrange(12))]
        return {generator.choice(["texts", "text", "x"]): junk_value(depth + 1) for _ in range(2)}

    for _ in range(150):
        raw = "".join(generator.choice(alphabet) for _ in range(generator.randrange(60))).encode(
            "utf-8", "replace"
        )
        for body in (raw, json.dumps(junk_value(0)).encode(), json.dumps({"texts": junk_value(1)}).encode()):
            for path in ("/v1/entities", "/v1/render"):
                response = client.post(path, content=body, headers={"Content-Type": "application/json"})
                assert response.status_code < 500, (body, response.text)
                assert "error" in response.json() or response.status_code == 200


# --- load shedding and internal errors --------------------------------------------------------------


def test_a_full_queue_answers_503_with_retry_after_then_recovers(tiny_pipeline):
    app = create_app(tiny_pipeline, max_batch=2, max_queue=2, batch_wait_ms=0)
    batcher = app.state.batcher
    started, release = threading.Event(), threading.Event()
    tag = batcher.tag

    def slow_tag(texts: list[str]):
        started.set()
        release.wait(10)
        return tag(texts)

    batcher.tag = slow_tag
    with TestClient(app) as client, ThreadPoolExecutor(3) as pool:
        in_call = pool.submit(post, client, {"texts": ["Maria Voss"]})
        assert started.wait(10)
        waiting = [pool.submit(post, client, {"texts": [text]}) for text in ("one", "two")]
        while batcher.waiting_texts < 2:
            threading.Event().wait(0.005)
        refused = post(client, {"texts": ["three"]})
        release.set()
        answered = [in_call.result(), *(future.result() for future in waiting)]
        after = post(client, {"texts": ["four"]})
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.json() == {"error": "busy: 2 texts are waiting for the model; retry in a second"}
    assert [response.status_code for response in [*answered, after]] == [200, 200, 200, 200]


def test_a_bug_in_the_model_is_a_500_json_error_and_logged(tiny_pipeline, caplog):
    app = create_app(tiny_pipeline)

    def broken(texts: list[str]):
        raise ZeroDivisionError("division by zero")

    app.state.batcher.tag = broken
    with (
        caplog.at_level(logging.INFO, logger="nerkit.serve"),
        TestClient(app, raise_server_exceptions=False) as client,
    ):
        response = post(client, {"texts": ["a"]})
    assert (response.status_code, response.json()) == (
        500,
        {"error": "internal error; the server log has the details"},
    )
    assert "internal error on POST /v1/entities" in caplog.messages
    assert "ZeroDivisionError: division by zero" in caplog.text
    assert [m for m in caplog.messages if re.fullmatch(r"POST /v1/entities 500 \d+\.\dms", m)]


# --- the confidence threshold ---------------------------------------------------------------------

THRESHOLD_TEXT = RAW[1]  # three entities of three different confidences for the tiny model


@pytest.fixture(scope="module")
def middle(tiny_pipeline) -> float:
    """The confidence of THRESHOLD_TEXT's middle entity (by confidence)."""
    confidences = sorted(e.confidence for e in tiny_pipeline.predict(THRESHOLD_TEXT).entities)
    assert len(confidences) == len(set(confidences)) == 3
    return confidences[1]


def kept(pipeline, texts: list[str], threshold: float) -> list[dict]:
    """What `nerkit predict --min-confidence threshold` writes for each text."""
    return [
        {"text": document.text, "entities": [entity.to_json() for entity in document.entities]}
        for document in pipeline.predict_many(texts, min_confidence=threshold)
    ]


def test_a_request_min_confidence_keeps_entities_at_it_and_drops_those_below(client, tiny_pipeline, middle):
    texts = [THRESHOLD_TEXT, *RAW[:3], ""]
    everything = expected(tiny_pipeline, texts)
    for threshold, count in [(middle - 0.0001, 2), (middle, 2), (middle + 0.0001, 1), (0, 3), (1, 0)]:
        body = post(client, {"texts": texts, "min_confidence": threshold}).json()
        assert body == {"results": kept(tiny_pipeline, texts, threshold)}
        assert len(body["results"][0]["entities"]) == count
        assert body["results"] == [
            {**row, "entities": [e for e in row["entities"] if e["confidence"] >= threshold]}
            for row in everything
        ]
    assert post(client, {"texts": texts, "min_confidence": None}).json() == {"results": everything}


def test_render_honours_min_confidence(client, tiny_pipeline, middle):
    body = post(client, {"text": THRESHOLD_TEXT, "min_confidence": middle}, "/v1/render").json()
    document = tiny_pipeline.predict(THRESHOLD_TEXT, min_confidence=middle)
    assert body == {
        "html": render_fragment(document, label_colours(tiny_pipeline.entity_types)),
        "entities": [entity.to_json() for entity in document.entities],
    }
    assert body["html"].count("<mark ") == 2


def test_the_server_default_applies_unless_a_request_overrides_it(tiny_pipeline, middle):
    texts = [THRESHOLD_TEXT, RAW[2]]
    with TestClient(create_app(tiny_pipeline, min_confidence=middle)) as client:
        assert client.get("/v1/model").json()["min_confidence"] == middle
        assert post(client, {"texts": texts}).json() == {"results": kept(tiny_pipeline, texts, middle)}
        assert post(client, {"texts": texts, "min_confidence": None}).json() == {
            "results": kept(tiny_pipeline, texts, middle)
        }
        assert post(client, {"texts": texts, "min_confidence": 0}).json() == {
            "results": expected(tiny_pipeline, texts)
        }
        lower = post(client, {"text": THRESHOLD_TEXT, "min_confidence": 0.0}, "/v1/render").json()
        assert len(lower["entities"]) == 3
        assert len(post(client, {"text": THRESHOLD_TEXT}, "/v1/render").json()["entities"]) == 2
        assert f'id="min-confidence" min="0" max="1" step="any" value="{middle!r}"' in client.get("/").text
        health = client.get("/healthz").json()
        assert (health["requests_tagged"], health["texts_tagged"]) == (5, 8)


def test_concurrent_requests_of_different_thresholds_share_model_calls(tiny_pipeline, middle):
    app = create_app(tiny_pipeline, max_batch=MAX_BATCH, batch_wait_ms=50, min_confidence=middle)
    thresholds = [None, 0.0, middle, middle + 0.0001, 1.0, 0.3] * 4
    texts = [THRESHOLD_TEXT, RAW[2]]
    with TestClient(app) as client, ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda m: post(client, {"texts": texts, "min_confidence": m}), thresholds))
    for threshold, response in zip(thresholds, responses, strict=True):
        wanted = middle if threshold is None else threshold
        assert response.json() == {"results": kept(tiny_pipeline, texts, wanted)}
    assert app.state.batcher.stats.requests == len(thresholds)
    assert app.state.batcher.stats.calls < len(thresholds) / 2


BAD_THRESHOLDS = [
    (b"-0.1", "min_confidence: Input should be greater than or equal to 0"),
    (b"1.5", "min_confidence: Input should be less than or equal to 1"),
    (b"1e400", "min_confidence: Input should be a finite number"),
    (b"NaN", "min_confidence: Input should be a finite number"),
    (b"-Infinity", "min_confidence: Input should be a finite number"),
    (b'"0.5"', "min_confidence: Input should be a valid number"),
    (b"true", "min_confidence: Input should be a valid number"),
    (b"[0.5]", "min_confidence: Input should be a valid number"),
    (b'{"value": 0.5}', "min_confidence: Input should be a valid number"),
]


@pytest.mark.parametrize(("value", "error"), BAD_THRESHOLDS)
@pytest.mark.parametrize(
    ("path", "field"), [("/v1/entities", b'"texts": ["a"]'), ("/v1/render", b'"text": "a"')]
)
def test_a_bad_min_confidence_is_a_422_naming_the_field(client, path, field, value, error):
    body = b"{" + field + b', "min_confidence": ' + value + b"}"
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (422, {"error": error})


@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan, True, "0.5"])
def test_a_bad_server_min_confidence_is_a_one_line_error(tiny_pipeline, value):
    with pytest.raises(NerkitError) as caught:
        create_app(tiny_pipeline, min_confidence=value)
    assert str(caught.value) == (
        f"min_confidence={value!r} is not a number from 0 to 1; "
        "entities whose confidence is below it are dropped; 0 keeps them all"
    )


def test_nerkit_serve_min_confidence_sets_the_default(tiny_model, tiny_pipeline, middle, monkeypatch):
    import nerkit.serve

    apps = []
    monkeypatch.setattr(nerkit.serve, "run_server", lambda app, host, port, limits: apps.append(app))
    assert main(["serve", str(tiny_model), "--threads", "1", "--min-confidence", repr(middle)]) == 0
    assert main(["serve", str(tiny_model), "--threads", "1"]) == 0
    with TestClient(apps[0]) as client:
        assert client.get("/v1/model").json()["min_confidence"] == middle
        assert post(client, {"texts": [THRESHOLD_TEXT]}).json() == {
            "results": kept(tiny_pipeline, [THRESHOLD_TEXT], middle)
        }
    with TestClient(apps[1]) as client:
        assert client.get("/v1/model").json()["min_confidence"] == 0.0
        assert post(client, {"texts": [THRESHOLD_TEXT]}).json() == {
            "results": expected(tiny_pipeline, [THRESHOLD_TEXT])
        }


# --- model, health, render, page, log ---------------------------------------------------------------


def test_model_endpoint(client, tiny_pipeline):
    body = client.get("/v1/model").json()
    assert list(body) == ["labels", "entity_types", "spec", "metrics", "versions", "min_confidence"]
    assert body["min_confidence"] == 0.0
    assert body["labels"] == tiny_pipeline.labels
    assert body["entity_types"] == ["LOC", "MISC", "ORG", "PER"]
    assert body["spec"] == json.loads(json.dumps(tiny_pipeline.spec.to_json()))
    assert body["metrics"] == {key: tiny_pipeline.meta[key] for key in ("dev", "best_epoch", "calibration")}
    assert set(body["metrics"]["dev"]) == {"precision", "recall", "f1", "per_label"}
    assert body["versions"]["nerkit"] == body["versions"]["trained_with_nerkit"] == __version__
    assert body["versions"]["model_format"] == 1
    assert set(body["versions"]) == {
        "nerkit",
        "trained_with_nerkit",
        "model_format",
        "torch",
        "onnxruntime",
        "python",
    }


def test_health_counts_model_calls_and_texts(tiny_pipeline):
    with TestClient(create_app(tiny_pipeline)) as client:
        assert client.get("/healthz").json() == {
            "status": "ok",
            "waiting_texts": 0,
            "model_calls": 0,
            "requests_tagged": 0,
            "texts_tagged": 0,
            "requests_dropped": 0,
        }
        post(client, {"texts": ["a", "b"]})
        post(client, {"texts": []})
        response = client.get("/healthz")
    assert (response.status_code, response.json()) == (
        200,
        {
            "status": "ok",
            "waiting_texts": 0,
            "model_calls": 1,
            "requests_tagged": 1,
            "texts_tagged": 2,
            "requests_dropped": 0,
        },
    )


def test_openapi_describes_the_endpoints(client):
    schema = client.get("/openapi.json").json()
    assert sorted(schema["paths"]) == ["/healthz", "/v1/entities", "/v1/model", "/v1/render"]
    for request in ("EntitiesRequest", "RenderRequest"):
        threshold = schema["components"]["schemas"][request]["properties"]["min_confidence"]
        assert threshold["anyOf"] == [{"type": "number", "maximum": 1.0, "minimum": 0.0}, {"type": "null"}]
        assert threshold["description"].startswith("leave out the entities whose confidence is below this")
    entities = schema["paths"]["/v1/entities"]["post"]
    assert sorted(entities["responses"]) == ["200", "400", "413", "422", "503"]
    assert client.get("/docs").status_code == 200


def test_render_gives_the_escaped_fragment_of_the_html_renderer(client, tiny_pipeline):
    text = RAW[2] + " <script>alert(1)</script>"
    body = post(client, {"text": text}, "/v1/render").json()
    document = tiny_pipeline.predict(text)
    assert body == {
        "html": render_fragment(document, label_colours(tiny_pipeline.entity_types)),
        "entities": [entity.to_json() for entity in document.entities],
    }
    assert body["html"].count("<mark ") == len(document.entities) > 0
    assert "<script>" not in body["html"] and "&lt;script&gt;alert(1)&lt;/script&gt;" in body["html"]


def test_page_is_self_contained_with_a_legend_and_a_strict_policy(client):
    response = client.get("/")
    page = response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == PAGE_POLICY
    assert f"script-src 'sha256-{SCRIPT_HASH}'" in PAGE_POLICY and "connect-src 'self'" in PAGE_POLICY
    assert f"<script>{PAGE_SCRIPT}</script>" in page
    assert re.findall(r"(?:src|href)=\"([^\"]*)\"", page) == ["data:,"]
    assert "http://" not in page and "https://" not in page and "url(" not in page
    keys = re.findall(r'<span class="key" style="background: (#\w+)">(\w+)</span>', page)
    assert keys == [("#caffbf", "LOC"), ("#fdffb6", "MISC"), ("#a0c4ff", "ORG"), ("#ffd6a5", "PER")]
    assert '<label for="text">Text</label>' in page and '<button type="submit">' in page
    assert (
        '<label class="threshold">Minimum confidence <input type="number" id="min-confidence" min="0" max="1" '
        'step="any" value="0.0"></label>'
    ) in page


def test_one_log_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger="nerkit.serve"):
        post(client, {"texts": ["Maria Voss"]})
        client.get("/healthz?verbose=1")
        client.get("/no%0Awhere")
        post(client, {"texts": 1})
    lines = [record.getMessage() for record in caplog.records if record.name == "nerkit.serve"]
    assert len(lines) == 4
    for line, start in zip(
        lines,
        ["POST /v1/entities 200 ", "GET /healthz 200 ", "GET /no%0Awhere 404 ", "POST /v1/entities 422 "],
        strict=True,
    ):
        assert line.startswith(start)
        assert re.fullmatch(r"\d+\.\dms", line.removeprefix(start))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_text_chars": 0}, "--max-text-chars 0 would refuse every text"),
        ({"max_batch": 0}, "a batch of at most 0 texts is impossible"),
        ({"max_batch": 64, "max_queue": 10}, "a queue of 10 texts cannot hold one batch of 64"),
    ],
)
def test_impossible_limits_are_one_line_errors(tiny_pipeline, options, message):
    with pytest.raises(NerkitError, match=message):
        create_app(tiny_pipeline, **options)


def test_a_model_folder_is_loaded_and_a_damaged_one_is_a_one_line_error(tiny_model, tmp_path):
    app = create_app(str(tiny_model))
    assert app.state.pipeline.entity_types == ["LOC", "MISC", "ORG", "PER"]
    with pytest.raises(NerkitError, match="no such model folder"):
        create_app(tmp_path / "missing")


# --- the command and the server process -------------------------------------------------------------


def test_nerkit_serve_answers_over_http_and_logs_one_line_per_request(served, tiny_pipeline):
    texts = [RAW[0], ""]
    request = urllib.request.Request(
        served.url + "/v1/entities",
        data=json.dumps({"texts": texts}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read()) == {"results": expected(tiny_pipeline, texts)}
        assert "server" not in response.headers
    line = served.wait_for_line(r"POST /v1/entities 200 ")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d POST /v1/entities 200 \d+\.\dms", line)
    assert not [line for line in served.lines if "uvicorn" in line.lower() or "INFO" in line]


def test_serve_errors_are_one_line_with_exit_code_2(capsys, tiny_model, tmp_path):
    assert main(["serve", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err == (
        f"nerkit: error: {tmp_path / 'missing'}: no such model folder; give the --output folder of `nerkit train`\n"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", str(tiny_model), "--threads", "1", "--port", str(port)]) == 2
    assert capsys.readouterr().err == (
        f"nerkit: error: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "is another server using that port?\n"
    )
    for argv, error in [
        (["--max-batch", "0"], "a batch of at most 0 texts is impossible; use 1 or more"),
        (["--max-queue", "10"], "a queue of 10 texts cannot hold one batch of 64; make the queue at least as long as a batch"),
        (["--port", "70000"], "port 70000 does not exist; use 1 to 65535, or 0 for any free port"),
    ]:  # fmt: skip
        assert main(["serve", str(tiny_model), "--threads", "1", *argv]) == 2
        assert capsys.readouterr().err == f"nerkit: error: {error}\n"


def test_serve_without_fastapi_says_which_extra_to_install(capsys, tiny_model, monkeypatch):
    for name in [name for name in sys.modules if name.startswith("nerkit.serve")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "fastapi", None)
    assert main(["serve", str(tiny_model)]) == 2
    assert (
        capsys.readouterr().err == "nerkit: error: nerkit serve needs fastapi; pip install 'nerkit[serve]'\n"
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
     ("::", False), ("192.168.1.2", False), ("example.org", False)],
)  # fmt: skip
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_listen_on_a_free_port_and_a_bad_host():
    with listen("127.0.0.1", 0) as sock:
        assert sock.getsockname()[0] == "127.0.0.1" and sock.getsockname()[1] > 0
    with pytest.raises(NerkitError, match="cannot resolve host 'no such host'"):
        listen("no such host", 0)
