"""The report page in a real browser: Playwright drives Debian's chromium, offline, over a page rendered from
a small hand-built report.json."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from nerkit.report.page import render_report

pytestmark = pytest.mark.browser

LABEL = "<script>alert(1)</script>"  # a script that ran would open a dialog
TEXT = "<script>window.pwned = 'text'</script><img src=x onerror=\"alert(2)\"> met Ada in Paris ."
ADA = TEXT.index("Ada")
PARIS = TEXT.index("Paris")
SECTIONS = [
    "Summary",
    "Partial-match scores",
    "Error kinds",
    "Confusion of types",
    "Confidence",
    "Worst sentences",
    "Likely annotation errors",
    "Training curves",
]


def mention(start: int, end: int, label: str, confidence: float | None = None) -> dict[str, Any]:
    """A mention of TEXT as report.json writes it."""
    found: dict[str, Any] = {"start": start, "end": end, "label": label, "text": TEXT[start:end]}
    return found if confidence is None else found | {"confidence": confidence}


def counts() -> dict[str, Any]:
    """One row of partial-match counts."""
    found = {
        "correct": 3,
        "incorrect": 1,
        "partial": 0,
        "missed": 1,
        "spurious": 1,
        "possible": 5,
        "actual": 5,
    }
    return found | {"precision": 0.6, "recall": 0.6, "f1": 0.6}


def report() -> dict[str, Any]:
    """Every part of report.json, small, with a script in a sentence and as a type name."""
    gold = [mention(ADA, ADA + 3, LABEL), mention(PARIS, PARIS + 5, "LOC")]
    predicted = [mention(ADA, ADA + 3, "LOC", 0.97)]
    scores = {"precision": 0.6, "recall": 0.6, "f1": 0.6}
    per_label = {name: scores | {"support": 2, "found_pred": 2, "correct": 1} for name in (LABEL, "LOC")}
    schema = {"overall": counts(), "per_type": {LABEL: counts(), "LOC": counts()}}
    example = {"place": TEXT, "text": TEXT, "gold": gold[0], "predicted": predicted[0]}
    return {
        "format": "nerkit-report",
        "version": 1,
        "model": {
            "path": TEXT,
            "spec": {"labels": ["O", f"B-{LABEL}"]},
            "training": {"seed": 42},
            "best_epoch": 2,
        },
        "data": {
            "path": TEXT,
            "format": "conll",
            "sentences": 1,
            "tokens": 9,
            "gold_entities": 2,
            "predicted_entities": 1,
        },
        "summary": scores
        | {
            "accuracy": 0.9,
            "macro_f1": 0.6,
            "found_gold": 2,
            "found_pred": 1,
            "correct": 0,
            "per_label": per_label,
        },
        "partial": {name: schema for name in ("strict", "exact", "partial", "type")},
        "mistakes": {
            "counts": {"wrong_type": 1, "missed": 1},
            "per_type": {LABEL: {"wrong_type": 1}, "LOC": {"missed": 1}},
            "examples": {"wrong_type": [example]},
        },
        "confusion": {
            "gold": [LABEL, "LOC", "spurious"],
            "predicted": [LABEL, "LOC", "missed"],
            "counts": [[0, 1, 0], [0, 0, 1], [0, 0, 0]],
        },
        "confidence": {
            "ece": 0.97,
            "bins": [{"low": 0.9, "high": 1.0, "count": 1, "confidence": 0.97, "precision": 0.0}],
            "thresholds": [{"threshold": 0.0, "precision": 0.0, "recall": 0.0, "f1": 0.0, "kept": 1}],
            "no_threshold": {"precision": 0.0, "recall": 0.0, "f1": 0.0},
            "best_f1": {"threshold": 0.0, "precision": 0.0, "recall": 0.0, "f1": 0.0},
            "precision_95": None,
        },
        "worst": [
            {"place": TEXT, "text": TEXT, "gold": gold, "predicted": predicted, "mistakes": 2, "score": 1.97}
        ],
        "suspects": [
            {
                "place": TEXT,
                "text": TEXT,
                "gold": gold[0],
                "model": predicted[0],
                "kind": "wrong_type",
                "confidence": 0.97,
            }
        ],
        "training": {
            "epochs": [
                {"epoch": 1, "loss": 9.0, "f1": 0.4, "per_type": {LABEL: 0.3, "LOC": 0.5}, "best": False},
                {"epoch": 2, "loss": 5.0, "f1": 0.6, "per_type": {LABEL: 0.5, "LOC": 0.7}, "best": True},
            ],
            "kept_epoch": 2,
        },
    }


@dataclass
class Visit:
    """The report open in a browser, and what the browser saw besides: requests, dialogs, errors."""

    page: Any
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip(
        "matplotlib", reason="the report's charts need matplotlib: pip install -e '.[report]'"
    )
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(report()), encoding="utf-8")
    return path


def open_report(browser, report_file: Path, width: int = 1280) -> tuple[Any, Visit]:
    """The report from its file:// URL in a fresh offline context that refuses (and records) any other
    request."""
    context = browser.new_context(offline=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    seen = Visit(page)

    def only_the_file(route) -> None:
        if route.request.url == report_file.as_uri():
            route.continue_()
        else:
            seen.refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_file)
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("console", lambda message: seen.errors.append(message.text) if message.type == "error" else None)

    def on_dialog(dialog) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(report_file.as_uri())
    page.wait_for_load_state("load")
    return context, seen


@pytest.fixture
def visit(browser, report_file) -> Iterator[Visit]:
    """The report on a laptop-sized screen; afterwards, nothing but the file was asked for, nothing failed."""
    context, seen = open_report(browser, report_file)
    yield seen
    context.close()
    assert seen.requests == [report_file.as_uri()]
    assert seen.refused == [] and seen.errors == [] and seen.dialogs == []


def test_the_page_shows_every_section_offline(visit):
    page = visit.page
    assert page.locator("section h2").all_text_contents() == SECTIONS
    assert page.locator("nav.toc a").all_text_contents() == SECTIONS
    assert page.locator(".scores .value").first.text_content() == "60.00%"


def test_every_chart_is_an_svg_with_a_drawing(visit):
    charts = visit.page.locator("figure.chart > svg").evaluate_all(
        """svgs => svgs.map((svg) => {
            const box = svg.getBoundingClientRect();
            const drawing = svg.querySelector('g').getBBox();
            return [svg.namespaceURI, svg.getAttribute('class'), svg.querySelectorAll('path').length > 4,
                    svg.querySelectorAll('text').length > 4, box.width > 200 && box.height > 150,
                    drawing.width > 100 && drawing.height > 100];
        })"""
    )
    names = ["confusion", "reliability", "thresholds", "training"]
    assert charts == [
        ["http://www.w3.org/2000/svg", f"chart {name}", True, True, True, True] for name in names
    ]


def test_a_script_typed_in_the_data_shows_as_text_and_does_not_run(visit):
    page = visit.page
    assert page.locator("script").count() == 0 and page.locator("main img").count() == 0
    assert page.evaluate("window.pwned") is None
    gold = page.locator("#worst .example .grid > div").first.locator(".text")
    assert gold.evaluate("text => text.firstChild.textContent") == TEXT[:ADA]
    assert gold.locator("mark .label").first.text_content() == LABEL
    assert page.locator("#suspects td .tag").first.text_content() == LABEL
    confusion = page.locator("svg.confusion text").all_text_contents()
    assert confusion.count(LABEL) == 2
    assert page.title() == f"nerkit report: {TEXT}"
    page.wait_for_timeout(100)
    assert visit.dialogs == []


@pytest.mark.parametrize("width", [1280, 400])
def test_the_page_fits_the_screen_with_side_by_side_charts_only_when_wide(browser, report_file, width):
    context, seen = open_report(browser, report_file, width)
    page = seen.page
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator("main").evaluate("main => main.getBoundingClientRect().width") <= 1100
    lefts = page.locator("#confidence figure").evaluate_all(
        "figures => figures.map((figure) => Math.round(figure.getBoundingClientRect().left))"
    )
    assert (lefts[0] == lefts[1]) is (width == 400)
    context.close()
    assert seen.errors == [] and seen.refused == []


def test_in_print_the_marks_keep_their_colours_and_the_charts_fit_the_page(browser, report_file):
    context, seen = open_report(browser, report_file)
    page = seen.page
    page.emulate_media(media="print")
    mark = page.locator("#worst mark.entity").first
    assert mark.evaluate("mark => getComputedStyle(mark).printColorAdjust") == "exact"
    widths = page.locator("figure.chart").evaluate_all(
        "figures => figures.map((f) => Math.round(f.querySelector('svg').getBoundingClientRect().width - "
        "f.getBoundingClientRect().width))"
    )
    assert widths == [0, 0, 0, 0]
    assert page.pdf(format="A4")[:5] == b"%PDF-"
    context.close()
