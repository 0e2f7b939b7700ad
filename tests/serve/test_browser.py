"""The page in a real browser: Playwright drives Debian's chromium against a live `nerkit serve`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
RAW = (SAMPLES / "raw.txt").read_text(encoding="utf-8").splitlines()
SHOWN_TEXT = "(() => { const copy = document.getElementById('shown').cloneNode(true); \
copy.querySelectorAll('.label').forEach((label) => label.remove()); return copy.textContent; })()"


@dataclass
class Visit:
    """A page open on the server, and what the browser saw besides: requests, dialogs, errors."""

    page: object
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def visit(browser, served) -> Iterator[Visit]:
    """The page at / in a fresh browser context; afterwards, no request left the server, no script error."""
    context = browser.new_context()
    page = context.new_page()
    seen = Visit(page)
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on("pageerror", lambda error: seen.errors.append(str(error)))

    def on_console(message) -> None:  # a CSP violation is one; a 4xx answer is reported too, and expected
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            seen.errors.append(message.text)

    page.on("console", on_console)

    def on_dialog(dialog) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(served.url + "/")
    yield seen
    context.close()
    assert [url for url in seen.requests if not url.startswith(served.url + "/")] == []
    assert seen.errors == []


def find_entities(page, text: str) -> None:
    """Type `text` into the box and press the button."""
    page.get_by_label("Text").fill(text)
    page.get_by_role("button", name="Find entities").click()


def test_typed_text_shows_the_models_entities_highlighted_with_labels_and_confidence(visit, tiny_pipeline):
    from playwright.sync_api import expect

    page = visit.page
    text = RAW[1]
    entities = tiny_pipeline.predict(text).entities
    assert len(entities) == 3
    expect(page.locator(".legend .key")).to_have_text(["LOC", "MISC", "ORG", "PER"])
    find_entities(page, text)
    expect(page.locator("#status")).to_have_text("3 entities found")
    marks = page.locator("#shown mark.entity").evaluate_all(
        "marks => marks.map((m) => [m.firstChild.textContent, m.querySelector('.label').textContent, m.title])"
    )
    assert marks == [[e.text, e.label, f"{e.label} {e.confidence:.2f}"] for e in entities]
    assert page.evaluate(SHOWN_TEXT) == text
    rows = page.locator("#entities tbody tr").evaluate_all(
        "rows => rows.map((row) => Array.from(row.cells, (cell) => cell.textContent))"
    )
    assert rows == [[e.text, e.label, f"{e.confidence:.4f}", f"{e.start}\u2013{e.end}"] for e in entities]
    assert visit.requests[-1] == visit.requests[0] + "v1/render"


def test_script_typed_into_the_box_shows_as_text(visit):
    from playwright.sync_api import expect

    page = visit.page
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)"> & Corvane Systems Inc. <b>bold</b>'
    find_entities(page, hostile)
    expect(page.locator("#status")).to_contain_text("found")
    assert page.evaluate(SHOWN_TEXT) == hostile
    assert page.locator("#shown script, #shown img, #shown b").count() == 0
    page.wait_for_timeout(100)
    assert visit.dialogs == []


def test_keyboard_only_tab_type_ctrl_enter_then_the_button(visit, tiny_pipeline):
    from playwright.sync_api import expect

    page = visit.page
    text = "Corvane Systems Inc. said on Tuesday."
    count = len(tiny_pipeline.predict(text).entities)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "text"
    page.keyboard.type(text)
    page.keyboard.press("Control+Enter")
    found = "1 entity found" if count == 1 else f"{count} entities found"
    expect(page.locator("#status")).to_have_text(found)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName + ' ' + document.activeElement.textContent") == (
        "BUTTON Find entities"
    )
    page.locator("#shown").evaluate("shown => shown.replaceChildren()")
    page.keyboard.press("Enter")
    expect(page.locator("#shown mark.entity")).to_have_count(count)


def test_a_refused_text_shows_the_servers_error(visit, served):
    from playwright.sync_api import expect

    page = visit.page
    assert served.max_text_chars == 300
    find_entities(page, "x" * 301)
    expect(page.locator("#status")).to_have_text(
        "Error 413: text has 301 characters; at most 300 (--max-text-chars)"
    )
    expect(page.locator("#status")).to_have_class("status failed")
    expect(page.locator("#result")).to_be_hidden()


@pytest.mark.parametrize(
    ("path", "shown", "text", "blocked"),
    [
        ("/docs", "#swagger-ui .opblock-summary-path", "/v1/entities", []),
        # ReDoc's bundle always shows Redocly's logo from its CDN; the page's policy blocks it and ReDoc hides it
        ("/redoc", "[role=menuitem]", "Entities", ["https://cdn.redoc.ly/redoc/logo-mini.svg"]),
    ],
)
def test_the_api_docs_render_from_this_server_alone(browser, served, path, shown, text, blocked):
    from playwright.sync_api import expect

    context = browser.new_context()
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.goto(served.url + path)
    expect(page.locator(shown).first).to_be_visible()
    expect(page.locator(shown).filter(has_text=text).first).to_be_visible()
    context.close()
    assert [
        url for url in requests if not url.startswith((served.url + "/", "blob:" + served.url))
    ] == blocked
    assert [error for error in errors if "violates the following Content Security Policy" not in error] == []
    assert len(errors) == len(blocked)
