"""Benchmark: the error-analysis report of a model on annotated data: time beyond prediction, page and JSON
size, the thresholds it finds, and its partial-match tables against nervaluate 1.2.1's.

    python bench/report.py MODEL ../shared/data/conll2003/valid.txt --page /tmp/report.html \
        --output bench/results/report.json

Each repeat builds the whole report (`nerkit.load(MODEL).report(FILE)`, then its JSON and its page); the
model's tagging is timed apart (`Pipeline.tag_tokens`), so "beyond prediction" is the rest: reading,
pairing, scoring, ranking, charts and page. Medians over `--repeats`, with the range.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import cpu
from partial_match import differences, nervaluate_json

import nerkit
from nerkit.pipeline import Pipeline
from nerkit.report.build import Report
from nerkit.report.sentences import Mention, ReportSentence


def timed_build(pipeline: Pipeline, file: Path) -> tuple[Report, dict[str, float], str, str]:
    """One whole report: the report, the seconds of each stage, its JSON and its page."""
    tagging = 0.0
    tag_tokens = pipeline.tag_tokens

    def timed_tag_tokens(*args: object, **kwargs: object) -> object:
        nonlocal tagging
        started = time.perf_counter()
        result = tag_tokens(*args, **kwargs)
        tagging += time.perf_counter() - started
        return result

    pipeline.tag_tokens = timed_tag_tokens
    try:
        started = time.perf_counter()
        report = pipeline.report(file)
        built = time.perf_counter()
        text = json.dumps(report.to_json(), indent=2)
        serialised = time.perf_counter()
        page = report.to_html()
        rendered = time.perf_counter()
    finally:
        del pipeline.tag_tokens
    seconds = {
        "tagging": tagging,
        "analysis": built - started - tagging,
        "json": serialised - built,
        "page": rendered - serialised,
        "beyond_prediction": rendered - started - tagging,
    }
    return report, seconds, text, page


def token_spans(sentence: ReportSentence, mentions: list[Mention]) -> list[dict[str, object]]:
    """Mentions as nervaluate's dicts over token indexes, inclusive ends."""
    starts = {start: index for index, (start, _) in enumerate(sentence.tokens)}
    ends = {end: index for index, (_, end) in enumerate(sentence.tokens)}
    return [{"label": m.label, "start": starts[m.start], "end": ends[m.end]} for m in mentions]


def against_nervaluate(report: Report) -> dict[str, object]:
    """nerkit's partial-match tables and nervaluate's on the same token spans, and whether they are equal."""
    assert report.partial is not None
    sentences = report.sentences
    gold = [token_spans(s, s.gold) for s in sentences]
    predicted = [token_spans(s, s.predicted) for s in sentences]
    labels = sorted({str(span["label"]) for spans in [*gold, *predicted] for span in spans})
    ours = report.partial.to_json()
    found = differences(ours, nervaluate_json(gold, predicted, labels, "dict"))
    return {"equal": not found, "differences": found}


def spread(values: list[float]) -> dict[str, float]:
    """Median, lowest and highest, to the millisecond."""
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("file", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--page", type=Path, help="where to write the page (for the screenshot)")
    parser.add_argument("--json", type=Path, help="where to write the report's JSON")
    parser.add_argument("--output", type=Path, default=Path("bench/results/report.json"))
    args = parser.parse_args()
    pipeline = nerkit.load(args.model)
    runs = [timed_build(pipeline, args.file) for _ in range(args.repeats)]
    report, _, text, page = runs[-1]
    if args.page is not None:
        args.page.write_text(page, encoding="utf-8")
    if args.json is not None:
        args.json.write_text(text, encoding="utf-8")
    assert report.confidence is not None and report.summary is not None and report.suspects is not None
    found = report.confidence.to_json()
    result = {
        "benchmark": "report",
        "model": str(args.model),
        "file": str(args.file),
        "cpu": cpu(),
        "repeats": args.repeats,
        "data": report.data,
        "seconds": {stage: spread([run[1][stage] for run in runs]) for stage in runs[0][1]},
        "page_bytes": len(page.encode("utf-8")),
        "json_bytes": len(text.encode("utf-8")),
        "charts": page.count("<svg"),
        "f1": report.summary.f1,
        "thresholds": {key: found[key] for key in ("no_threshold", "best_f1", "precision_95")},
        "ece": found["ece"],
        "suspects": len(report.suspects),
        "mistakes": None if report.mistakes is None else report.mistakes.counts,
        "nervaluate": against_nervaluate(report),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({key: result[key] for key in ("seconds", "page_bytes", "thresholds")}, indent=2))


if __name__ == "__main__":
    main()
