"""Screenshot of a report page for the README: a laptop-sized view (1280 wide) of its top, or of a section.

    python bench/report_screenshot.py REPORT.html -o bench/results/report_page.png
    python bench/report_screenshot.py REPORT.html -o shot.png --section confidence --full full.png

The page opens offline in Debian's chromium (through Playwright), from its file:// URL, with every other
request refused; any request, console error or dialog fails the run, so a screenshot is only taken of a page
that stands alone. `--full` also writes the whole page, top to bottom.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def screenshot(
    report: Path, output: Path, width: int, height: int, section: str | None, full: Path | None
) -> list[str]:
    """Take the screenshots; returns what went wrong in the page (refused requests, errors, dialogs)."""
    url = report.resolve().as_uri()
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = browser.new_context(offline=True, viewport={"width": width, "height": height})

        def only_the_file(route) -> None:
            if route.request.url == url:
                route.continue_()
            else:
                problems.append(f"request refused: {route.request.url}")
                route.abort()

        context.route("**/*", only_the_file)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: problems.append(f"console: {message.text}") if message.type == "error" else None,
        )
        page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        page.goto(url)
        page.wait_for_load_state("load")
        top = 0.0
        if section is not None:
            found = page.locator(f"section#{section}")
            if found.count() == 0:
                problems.append(f"the page has no section {section!r}")
            else:
                top = found.evaluate("section => section.getBoundingClientRect().top + window.scrollY - 16")
        if not problems:
            output.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=str(output), clip={"x": 0, "y": top, "width": width, "height": height}, full_page=True
            )
            if full is not None:
                full.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(full), full_page=True)
        context.close()
        browser.close()
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("report", type=Path, help="the report page (nerkit report ... -o REPORT.html)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the PNG of the view")
    parser.add_argument("--width", type=int, default=1280, help="view width in CSS pixels (default 1280)")
    parser.add_argument("--height", type=int, default=900, help="view height in CSS pixels (default 900)")
    parser.add_argument("--section", help="start the view at this section (summary, confidence, worst, ...)")
    parser.add_argument("--full", type=Path, help="also write the whole page to this PNG")
    args = parser.parse_args()
    if not args.report.is_file():
        parser.error(f"{args.report}: no such file")
    if args.section is not None and not re.fullmatch(r"[a-z_]+", args.section):
        parser.error(f"--section {args.section!r}: give a section's id, such as confidence")
    problems = screenshot(args.report, args.output, args.width, args.height, args.section, args.full)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{args.output}: not written", file=sys.stderr)
        return 1
    size = args.report.stat().st_size
    print(f"{args.output}: {args.width}x{args.height} view of {args.report} ({size / 1e6:.2f} MB page)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
