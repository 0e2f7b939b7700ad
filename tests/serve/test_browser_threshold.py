"""The page's confidence threshold in a real browser: Playwright drives Debian's chromium against a live
`nerkit serve` (no --min-confidence: the box starts at 0)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
TEXT = (SAMPLES / "raw.txt").read_text(encoding="utf-8").splitlines()[1]  # three entities for the tiny model


@pytest.fixture(scope="module")
def page(browser, served):
    """The page at / in headless chromium; afterwards, no script error and no request elsewhere."""
    errors: list[str] = []
    requests: list[str] = []
    context = browser.new_context()
    opened = context.new_page()
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda message: message.type == "error" and errors.append(message.text))
    opened.on("request", lambda request: requests.append(request.url))
    opened.goto(served.url + "/")
    yield opened
    context.close()
    assert errors == []
    assert [url for url in requests if not url.startswith(served.url + "/")] == []


def shown_rows(page) -> list[list[str]]:
    return page.locator("#entities tbody tr").evaluate_all(
        "rows => rows.map((row) => Array.from(row.cells, (cell) => cell.textContent))"
    )


def test_the_threshold_box_leaves_out_less_confident_entities(page, tiny_pipeline):
    from playwright.sync_api import expect

    entities = tiny_pipeline.predict(TEXT).entities
    middle = sorted(e.confidence for e in entities)[1]
    box = page.get_by_label("Minimum confidence")
    expect(box).to_have_value("0.0")
    page.get_by_label("Text").fill(TEXT)
    for threshold, shown in [
        ("0", entities),
        (repr(middle), [e for e in entities if e.confidence >= middle]),
    ]:
        box.fill(threshold)
        page.get_by_role("button", name="Find entities").click()
        expect(page.locator("#status")).to_have_text(f"{len(shown)} entities found")
        assert shown_rows(page) == [
            [e.text, e.label, f"{e.confidence:.4f}", f"{e.start}\u2013{e.end}"] for e in shown
        ]
    assert len(shown) == 2
    box.fill("")  # empty: the server's default, 0
    page.get_by_role("button", name="Find entities").click()
    expect(page.locator("#status")).to_have_text("3 entities found")


def test_a_threshold_out_of_range_is_refused_by_the_form(page):
    from playwright.sync_api import expect

    box = page.get_by_label("Minimum confidence")
    page.get_by_label("Text").fill(TEXT)
    page.locator("#status").evaluate("status => { status.textContent = 'untouched'; }")
    box.fill("1.5")
    page.get_by_role("button", name="Find entities").click()
    assert box.evaluate("box => box.validity.rangeOverflow") is True
    page.wait_for_timeout(200)
    expect(page.locator("#status")).to_have_text("untouched")
