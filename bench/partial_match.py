"""Compare nerkit's partial-match tables (strict, exact, partial, type) with nervaluate 1.2.1's on a file in
conlleval's format (`token ... gold predicted`); writes JSON.

    python bench/partial_match.py samples/dev_predictions.conll --output bench/results/partial_match.json

Entities are read with nerkit's conlleval chunking and scored by both on the same spans: nerkit through
`partial_scores` over report sentences (character offsets, scored in tokens), nervaluate on token spans.
`equal_with_nervaluate_chunking` also runs nervaluate on the raw tags with its own chunking (the same
entities for IOB2; odd IOB1 sequences can differ, which is chunking, not scoring; null for E- and S- tags,
which its loader refuses).
Needs nervaluate (`pip install nervaluate==1.2.1`, part of nerkit's dev extra).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from nervaluate import Evaluator

from nerkit.data.conll import DOCSTART
from nerkit.data.tags import Span, tags_to_spans
from nerkit.errors import NerkitError
from nerkit.evaluate import BOUNDARY, read_score_items
from nerkit.report.partial import SCHEMAS, partial_scores
from nerkit.report.sentences import Mention, ReportSentence

NERVALUATE_SCHEMAS = {"strict": "strict", "exact": "exact", "partial": "partial", "type": "ent_type"}
COUNT_NAMES = ("correct", "incorrect", "partial", "missed", "spurious", "possible", "actual")

Sentence = tuple[list[str], list[str], list[str]]  # tokens, gold tags, predicted tags


def read_sentences(path: Path) -> list[Sentence]:
    """The file's non-empty sentences, split at blank, -X- and -DOCSTART- lines (full-width ones too)."""
    return [sentence for sentence in _split(read_score_items(path)) if sentence[0]]


def _split(items: Iterable[tuple[str, str, str]]) -> Iterator[Sentence]:
    tokens: list[str] = []
    gold: list[str] = []
    predicted: list[str] = []
    for token, gold_tag, predicted_tag in items:
        if token in (BOUNDARY, DOCSTART):
            yield tokens, gold, predicted
            tokens, gold, predicted = [], [], []
        else:
            tokens.append(token)
            gold.append(gold_tag)
            predicted.append(predicted_tag)
    yield tokens, gold, predicted


def report_sentence(tokens: list[str], gold: list[Span], predicted: list[Span]) -> ReportSentence:
    """The sentence as the report sees it: tokens joined by spaces, entities over characters."""
    offsets, start = [], 0
    for token in tokens:
        offsets.append((start, start + len(token)))
        start += len(token) + 1

    def mention(span: Span, confidence: float | None) -> Mention:
        return Mention(offsets[span.start][0], offsets[span.end - 1][1], span.label, confidence)

    return ReportSentence(
        " ".join(tokens),
        [mention(span, None) for span in gold],
        [mention(span, 1.0) for span in predicted],
        offsets,
        [1.0] * len(tokens),
    )


def nervaluate_json(true: object, pred: object, tags: list[str], loader: str) -> dict[str, object]:
    """nervaluate's tables in the shape of nerkit's PartialScores.to_json()."""
    results = Evaluator(true, pred, tags=tags, loader=loader).evaluate()

    def table(result: object) -> dict[str, object]:
        return {name: getattr(result, name) for name in (*COUNT_NAMES, "precision", "recall", "f1")}

    return {
        ours: {
            "overall": table(results["overall"][theirs]),
            "per_type": {
                label: table(results["entities"][label][theirs]) for label in sorted(results["entities"])
            },
        }
        for ours, theirs in NERVALUATE_SCHEMAS.items()
    }


def differences(ours: dict[str, object], theirs: dict[str, object]) -> dict[str, object]:
    """{"schema/table": {"nerkit": ..., "nervaluate": ...}} for every table that differs."""
    found: dict[str, object] = {}
    for schema in SCHEMAS:
        mine, other = ours[schema], theirs[schema]
        assert isinstance(mine, dict) and isinstance(other, dict)
        tables = {"overall": (mine["overall"], other["overall"])}
        for label in sorted(set(mine["per_type"]) | set(other["per_type"])):
            tables[label] = (mine["per_type"].get(label), other["per_type"].get(label))
        for name, (left, right) in tables.items():
            if left != right:
                found[f"{schema}/{name}"] = {"nerkit": left, "nervaluate": right}
    return found


def compare(path: Path) -> dict[str, object]:
    """Both scorers' tables for one file, whether they are equal, and how long each took."""
    sentences = read_sentences(path)
    gold = [tags_to_spans(gold_tags) for _, gold_tags, _ in sentences]
    predicted = [tags_to_spans(predicted_tags) for _, _, predicted_tags in sentences]
    labels = sorted({span.label for spans in [*gold, *predicted] for span in spans})
    report_sentences = [
        report_sentence(tokens, g, p) for (tokens, _, _), g, p in zip(sentences, gold, predicted, strict=True)
    ]
    started = time.perf_counter()
    ours = partial_scores(report_sentences).to_json()
    nerkit_seconds = time.perf_counter() - started

    def inclusive(documents: list[list[Span]]) -> list[list[dict[str, object]]]:
        return [
            [{"label": s.label, "start": s.start, "end": s.end - 1} for s in spans] for spans in documents
        ]

    started = time.perf_counter()
    theirs = nervaluate_json(inclusive(gold), inclusive(predicted), labels, "dict")
    nervaluate_seconds = time.perf_counter() - started
    try:
        own_chunks: dict[str, object] | None = nervaluate_json(
            [s[1] for s in sentences], [s[2] for s in sentences], labels, "list"
        )
    except ValueError:  # its list loader takes B- and I- tags only
        own_chunks = None
    found = differences(ours, theirs)
    return {
        "benchmark": "partial_match",
        "file": str(path),
        "sentences": len(sentences),
        "tokens": sum(len(tokens) for tokens, _, _ in sentences),
        "gold_entities": sum(map(len, gold)),
        "predicted_entities": sum(map(len, predicted)),
        "equal": not found,
        "equal_with_nervaluate_chunking": None if own_chunks is None else ours == own_chunks,
        "seconds": {"nerkit": round(nerkit_seconds, 4), "nervaluate": round(nervaluate_seconds, 4)},
        "differences": found,
        "partial": ours,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="conlleval input: token ... gold predicted")
    parser.add_argument("--output", default="bench/results/partial_match.json")
    args = parser.parse_args()
    try:
        result = compare(args.file)
    except NerkitError as error:
        sys.exit(f"error: {error}")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    summary = {
        key: result[key] for key in ("sentences", "equal", "equal_with_nervaluate_chunking", "seconds")
    }
    print(json.dumps(summary), file=sys.stderr)
    if not result["equal"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
