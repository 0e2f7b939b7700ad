"""The API docs at /docs (Swagger UI) and /redoc (ReDoc), their scripts served by this server: no CDN."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

# Swagger UI's and ReDoc's files as the fastapi-offline package ships them (Apache-2.0 and MIT). Every URL
# on the pages is relative, so that they also work behind a proxy that serves the API under a prefix.
ASSETS = files("fastapi_offline").joinpath("static")
ASSETS_PATH = "/docs/assets"
TITLE = "nerkit API"


def _script_hash(html: str) -> str:
    """The CSP source allowing exactly the page's one inline script."""
    script = re.search(r"<script>(.*?)</script>", html, re.DOTALL)
    assert script is not None, "Swagger UI's page has an inline script"
    return (
        "'sha256-" + base64.b64encode(hashlib.sha256(script.group(1).encode("utf-8")).digest()).decode() + "'"
    )


SWAGGER_PAGE = bytes(
    get_swagger_ui_html(
        openapi_url="openapi.json",
        title=TITLE,
        swagger_js_url="docs/assets/swagger-ui-bundle.js",
        swagger_css_url="docs/assets/swagger-ui.css",
        swagger_favicon_url="docs/assets/favicon.png",
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
    ).body
).decode("utf-8")
REDOC_PAGE = bytes(
    get_redoc_html(
        openapi_url="openapi.json",
        title=TITLE,
        redoc_js_url="docs/assets/redoc.standalone.js",
        redoc_favicon_url="docs/assets/favicon.png",
        with_google_fonts=False,
    ).body
).decode("utf-8")
DOCS_POLICY = (  # scripts, styles, images and requests from this server only (ReDoc adds styles, a worker)
    f"default-src 'none'; script-src 'self' {_script_hash(SWAGGER_PAGE)}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def add_docs_routes(app: FastAPI) -> None:
    """GET /docs and /redoc, and their scripts, styles and icon under /docs/assets/."""
    app.mount(ASSETS_PATH, StaticFiles(directory=str(ASSETS)), name="docs-assets")

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        """The API, to read and try, in Swagger UI."""
        return HTMLResponse(SWAGGER_PAGE, headers={"Content-Security-Policy": DOCS_POLICY})

    @app.get("/redoc", response_class=HTMLResponse, include_in_schema=False)
    async def redoc() -> HTMLResponse:
        """The API, to read, in ReDoc."""
        return HTMLResponse(REDOC_PAGE, headers={"Content-Security-Policy": DOCS_POLICY})
