"""The HTTP service as a FastAPI app: entities, the model, health, the web page; every error a JSON body."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nerkit.errors import NerkitError
from nerkit.pipeline import Pipeline, check_min_confidence, drop_unconfident, load
from nerkit.render import label_colours, render_fragment
from nerkit.serve.batcher import MicroBatcher, Overloaded
from nerkit.serve.docs import add_docs_routes
from nerkit.serve.page import PAGE_POLICY, page_html
from nerkit.text.document import Document
from nerkit.version import __version__

DEFAULT_MAX_TEXT_CHARS = 100_000
DEFAULT_MAX_BATCH = 64  # texts in one request, and in one model call
DEFAULT_MAX_QUEUE = 1024  # texts waiting for the model before requests get 503
BATCH_WAIT_MS = 2.0  # how long a request waits for others to share its model call
JSON_BYTES_PER_CHAR = 6  # a character escaped as \uXXXX
DEFAULT_BODY_TIMEOUT = 60.0  # seconds from a request's head to the end of its body
TIMEOUTS = (0.1, 3600.0)  # the shortest and longest time limit a flag may set, in seconds
LOG = logging.getLogger("nerkit.serve")


MinConfidence = Annotated[  # strict: true and "0.5" are refused, not read as numbers
    float | None,
    Field(
        ge=0,
        le=1,
        strict=True,
        allow_inf_nan=False,
        description="leave out the entities whose confidence is below this number from 0 to 1 "
        "(default: the server's --min-confidence, itself 0 unless given: keep all)",
        examples=[0.5],
    ),
]


class EntitiesRequest(BaseModel):
    """Texts to find entities in."""

    model_config = ConfigDict(extra="forbid")
    texts: list[str] = Field(
        description="raw texts, each one document", examples=[["Maria Voss flew to Port Anselm."]]
    )
    min_confidence: MinConfidence = None


class RenderRequest(BaseModel):
    """One text to show with its entities highlighted."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(description="a raw text", examples=["Maria Voss flew to Port Anselm."])
    min_confidence: MinConfidence = None


class EntityBody(BaseModel):
    """An entity: `text[start:end]`, its label and the model's confidence (lowest tag marginal)."""

    start: int
    end: int
    label: str
    text: str
    confidence: float | None


class DocumentBody(BaseModel):
    """A text and its entities, exactly as `nerkit predict` writes them."""

    text: str
    entities: list[EntityBody]


class EntitiesResponse(BaseModel):
    """One result per text, in request order."""

    results: list[DocumentBody]


class RenderResponse(BaseModel):
    """The text as escaped HTML with each entity in a `<mark>`, and the entities."""

    html: str
    entities: list[EntityBody]


class ErrorBody(BaseModel):
    """What went wrong, in one line."""

    error: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "malformed JSON"},
    413: {"model": ErrorBody, "description": "too many texts, a text or the body too long"},
    422: {"model": ErrorBody, "description": "wrong fields or types"},
    503: {"model": ErrorBody, "description": "too many texts waiting: retry after Retry-After seconds"},
}


class RequestLog:
    """ASGI middleware: one line per HTTP request on the `nerkit.serve` logger: method, path, status, ms."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            raw_path = scope.get("raw_path")  # as sent, still percent-encoded: one line, whatever it holds
            path = raw_path.decode("latin-1").partition("?")[0] if raw_path else ascii(scope["path"])
            milliseconds = 1000 * (time.perf_counter() - started)
            LOG.info("%s %s %d %.1fms", scope["method"], path, status, milliseconds)


class BodyLimit:
    """ASGI middleware: a request body longer than `max_bytes` gets 413 with a JSON error, unread."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def receive_counting() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, self._message())
            return message

        await self.app(scope, receive_counting, send)

    def _message(self) -> str:
        return f"the request body is longer than {self.max_bytes:,} bytes"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _error(413, self._message(), {"Connection": "close"})(scope, receive, send)


class BodyDeadline:
    """ASGI middleware: a body not all received `seconds` after the request's head gets 408, and the
    connection is closed (a client trickling its body holds nothing for long)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.seconds
        body_done = False

        async def receive_by_deadline() -> Message:
            nonlocal body_done
            if body_done:  # later reads only wait for the client to leave
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(
                    408,
                    f"the request body did not arrive within {self.seconds:g} s (--body-timeout)",
                    headers={"Connection": "close"},
                ) from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, receive_by_deadline, send)


class HeadLikeGet:
    """ASGI middleware: HEAD is answered wherever GET is, with GET's status and headers and no body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


def check_timeout(flag: str, seconds: float) -> float:
    """`seconds` if it is a sane time limit for `flag` (0.1 s to an hour), else a one-line error."""
    shortest, longest = TIMEOUTS
    if not shortest <= seconds <= longest:
        raise NerkitError(
            f"{flag} {seconds:g} is out of range", hint=f"use {shortest:g} to {longest:,g} seconds"
        )
    return seconds


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _location(loc: tuple[int | str, ...]) -> str:
    """A field path as written in JSON: ('texts', 3) -> 'texts[3]'."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """400 for malformed JSON, else 422, with the first problem (and how many more) in one line."""
    problems = error.errors()
    first = problems[0]
    if first["type"] == "json_invalid":
        position = first["loc"][-1]
        return _error(400, f"malformed JSON: {first['ctx']['error']} at character {position}")
    where = _location(tuple(first["loc"][1:]))
    content_type = request.headers.get("content-type", "")
    if not where and first["type"] == "missing":
        message = 'the request has no body; send a JSON object such as {"texts": ["..."]}'
    elif not where and "json" not in content_type:
        message = f"the body is {content_type or 'untyped'}, not JSON; send Content-Type: application/json"
    elif not where:
        message = f'the body must be a JSON object such as {{"texts": ["..."]}}, not {first["msg"]}'
    elif first["type"] == "extra_forbidden":
        message = f"unknown field {where!r}"
    else:
        message = f"{where}: {first['msg']}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more {'problem' if len(problems) == 2 else 'problems'})"
    return _error(422, message)


def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    """Starlette's and our HTTP errors as JSON: an unknown path, a wrong method, a body too long..."""
    if error.status_code == 404 and error.detail == "Not Found":
        message = f"no such path: {request.url.path}; the API is described at /docs"
    elif error.status_code == 400 and error.detail == "There was an error parsing the body":
        message = "the body cannot be read as JSON: not UTF-8, or nested too deeply"
    elif error.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(error.detail)
    return _error(error.status_code, message, dict(error.headers or {}))


def _internal_error(request: Request, error: Exception) -> JSONResponse:
    LOG.error("internal error on %s %s", request.method, request.url.path, exc_info=error)
    return _error(500, "internal error; the server log has the details")


def _documents_json(documents: list[Document]) -> list[dict[str, object]]:
    """Documents as `nerkit predict` writes them: text and entities."""
    return [
        {"text": document.text, "entities": [entity.to_json() for entity in document.entities]}
        for document in documents
    ]


def _json_response(data: object) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), media_type="application/json")


def _model_json(pipeline: Pipeline, min_confidence: float) -> dict[str, object]:
    """Labels, spec, metrics and versions of the served model, and the server's confidence threshold."""
    meta = pipeline.meta
    metrics = {key: meta[key] for key in ("dev", "test", "best_epoch", "calibration") if key in meta}
    return {
        "labels": list(pipeline.labels),
        "entity_types": pipeline.entity_types,
        "spec": pipeline.spec.to_json(),
        "metrics": metrics,
        "versions": {
            "nerkit": __version__,
            "trained_with_nerkit": meta.get("nerkit_version"),
            "model_format": meta.get("format_version"),
            **_engine_versions(),
            "python": platform.python_version(),
        },
        "min_confidence": min_confidence,
    }


def _engine_versions() -> dict[str, str | None]:
    """The versions of what runs the model: torch for a model folder, onnxruntime for an exported one
    (None for the one not loaded)."""
    return {
        name: getattr(sys.modules[name], "__version__", None) if sys.modules.get(name) else None
        for name in ("torch", "onnxruntime")
    }


def _check_texts(texts: list[str], names: list[str], max_batch: int, max_text_chars: int) -> None:
    """413 for too many or too long texts, 422 for a text that is not valid Unicode; `names` says where
    each text is in the request."""
    if len(texts) > max_batch:
        raise HTTPException(413, f"{len(texts):,} texts in one request; at most {max_batch:,} (--max-batch)")
    for name, text in zip(names, texts, strict=True):
        if len(text) > max_text_chars:
            raise HTTPException(
                413, f"{name} has {len(text):,} characters; at most {max_text_chars:,} (--max-text-chars)"
            )
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as error:
                raise HTTPException(
                    422,
                    f"{name} holds a lone surrogate {text[error.start]!a} at character {error.start}: "
                    "not valid Unicode",
                ) from None


def create_app(
    model: Pipeline | str | os.PathLike[str],
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
    max_batch: int = DEFAULT_MAX_BATCH,
    max_queue: int = DEFAULT_MAX_QUEUE,
    batch_wait_ms: float = BATCH_WAIT_MS,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
    min_confidence: float = 0.0,
) -> FastAPI:
    """The service for a loaded pipeline or a model folder.

    A request carries at most `max_batch` texts of at most `max_text_chars` characters each; concurrent
    requests share model calls of at most `max_batch` texts; beyond `max_queue` waiting texts, 503. A body
    must arrive within `body_timeout` seconds of its request's head. A request whose client leaves before
    its texts reach the model is dropped from the queue. Entities whose confidence is below a request's
    `min_confidence`, else this `min_confidence` (0 to 1; 0 keeps all), are left out of its answer.
    """
    if max_text_chars < 1:
        raise NerkitError(f"--max-text-chars {max_text_chars} would refuse every text", hint="use 1 or more")
    check_timeout("--body-timeout", body_timeout)
    min_confidence = check_min_confidence(min_confidence)
    pipeline = model if isinstance(model, Pipeline) else load(model)
    batcher: MicroBatcher[Document] = MicroBatcher(
        pipeline.predict_many, max_batch=max_batch, max_waiting=max_queue, wait_ms=batch_wait_ms
    )
    colours = label_colours(pipeline.entity_types)
    page = page_html(pipeline, colours, min_confidence)
    model_json = _model_json(pipeline, min_confidence)
    max_body_bytes = max_batch * (max_text_chars * JSON_BYTES_PER_CHAR + 16) + 1024
    app = _new_app(batcher, max_body_bytes, body_timeout)
    app.state.pipeline = pipeline
    app.state.batcher = batcher
    _add_tagging_routes(app, _tagging(batcher, max_batch, max_text_chars), colours, min_confidence)
    _add_info_routes(app, batcher, model_json, page)
    return app


def _new_app(batcher: MicroBatcher[Document], max_body_bytes: int, body_timeout: float) -> FastAPI:
    """The app with only its docs: the batcher started and stopped with it, the middleware, the JSON
    errors."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await batcher.start()
        try:
            yield
        finally:
            await batcher.stop()

    app = FastAPI(
        title="nerkit",
        version=__version__,
        description="Named entities in raw text, from a model trained with `nerkit train`.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    add_docs_routes(app)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(BodyDeadline, seconds=body_timeout)
    app.add_middleware(HeadLikeGet)
    app.add_middleware(RequestLog)
    # Starlette types every handler as taking any Exception; these two are registered for their own class
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal_error)
    return app


# (request, texts, names, min_confidence)
_Tagging = Callable[[Request, list[str], list[str], float], Awaitable[list[Document]]]


async def _client_gone(request: Request) -> None:
    """Returns when the client has closed its connection (to be awaited once the body has been read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _tagging(batcher: MicroBatcher[Document], max_batch: int, max_text_chars: int) -> _Tagging:
    """The documents of a request's texts through the batcher, after `_check_texts`, without the entities
    below the request's `min_confidence` (the batcher keeps all, so that requests of any threshold share
    model calls); 503 when busy; 499 (for the log: nobody is there to read it) when the client leaves
    first, its texts dropped from the queue."""

    async def tagged(
        request: Request, texts: list[str], names: list[str], min_confidence: float
    ) -> list[Document]:
        _check_texts(texts, names, max_batch, max_text_chars)
        submitted = asyncio.ensure_future(batcher.submit(texts))
        gone = asyncio.ensure_future(_client_gone(request))
        try:
            await asyncio.wait((submitted, gone), return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            submitted.cancel()  # a no-op once answered; else its texts leave the queue
        try:
            return [drop_unconfident(document, min_confidence) for document in await submitted]
        except Overloaded:
            raise HTTPException(
                503,
                f"busy: {batcher.waiting_texts:,} texts are waiting for the model; retry in a second",
                headers={"Retry-After": "1"},
            ) from None
        except asyncio.CancelledError:
            if not gone.done() or gone.cancelled():
                raise  # this request itself was cancelled (the server is stopping)
            raise HTTPException(499, "the client left before its texts reached the model") from None

    return tagged


def _add_tagging_routes(
    app: FastAPI, tagged: _Tagging, colours: dict[str, str], min_confidence: float
) -> None:
    """POST /v1/entities and /v1/render: the entities of texts, and one text rendered as HTML; a request's
    `min_confidence` overrides the server's."""

    def threshold(given: float | None) -> float:
        return min_confidence if given is None else given

    @app.post("/v1/entities", response_model=EntitiesResponse, responses=ERRORS)
    async def entities(body: EntitiesRequest, request: Request) -> Response:
        """The entities of each text, exactly as `nerkit predict` gives them for the same texts (and the
        same `--min-confidence`)."""
        names = [f"texts[{n}]" for n in range(len(body.texts))]
        documents = await tagged(request, body.texts, names, threshold(body.min_confidence))
        return _json_response({"results": _documents_json(documents)})

    @app.post("/v1/render", response_model=RenderResponse, responses=ERRORS)
    async def render(body: RenderRequest, request: Request) -> Response:
        """One text as escaped HTML with its entities highlighted (what the page at / shows)."""
        document = (await tagged(request, [body.text], ["text"], threshold(body.min_confidence)))[0]
        entities = [entity.to_json() for entity in document.entities]
        return _json_response({"html": render_fragment(document, colours), "entities": entities})


def _add_info_routes(
    app: FastAPI, batcher: MicroBatcher[Document], model_json: dict[str, object], page: str
) -> None:
    """GET /v1/model, /healthz and the web page at /."""

    @app.get("/v1/model")
    async def model_info() -> dict[str, object]:
        """The served model: its labels, entity types, spec, dev metrics and versions, and the confidence
        below which the server leaves entities out unless a request says otherwise (`min_confidence`)."""
        return model_json

    @app.get("/healthz")
    async def health() -> dict[str, object]:
        """200 while the service answers; the texts waiting for the model, the model calls so far, and
        the requests dropped from the queue because their client left."""
        stats = batcher.stats
        return {
            "status": "ok",
            "waiting_texts": batcher.waiting_texts,
            "model_calls": stats.calls,
            "requests_tagged": stats.requests,
            "texts_tagged": stats.texts,
            "requests_dropped": stats.dropped,
        }

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        """The page: a text box, a button, the entities highlighted, the model's labels as a legend."""
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_POLICY})
