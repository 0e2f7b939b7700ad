"""The error-analysis report as one self-contained HTML page, rendered from its JSON (report.json) alone."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from html import escape
from importlib.resources import files
from typing import Any

from nerkit.errors import NerkitError
from nerkit.render import PAGE_STYLE, label_colours, render_fragment
from nerkit.report import charts
from nerkit.text.document import Document, Entity

# The report's own CSS, in report.css beside this module (package data), after render.css's.
REPORT_STYLE = files("nerkit.report").joinpath("report.css").read_text(encoding="utf-8")
# Nothing may load or run: styles inline, no script, no request (a hostile text cannot add one either).
POLICY = "default-src 'none'; style-src 'unsafe-inline'"
REPORT_FORMAT = ("nerkit-report", 1)
MALFORMED_HINT = "write it again with nerkit report --json"
SCHEMAS = {
    "strict": "the exact span and the right type",
    "exact": "the exact span, any type",
    "partial": "an overlapping span, any type (an overlap counts half)",
    "type": "an overlapping span and the right type",
}
SCORE_NAMES = {"precision": "precision", "recall": "recall", "f1": "F1"}
COUNT_NAMES = ("correct", "incorrect", "partial", "missed", "spurious", "possible", "actual")
KINDS = {
    "wrong_type": "right span, wrong type",
    "too_long": "right type, too long",
    "too_short": "right type, too short",
    "shifted": "right type, shifted",
    "wrong_both": "wrong span and type",
    "missed": "missed entirely",
    "spurious": "spurious",
}
MODEL_NAMES = {  # model.json's keys as the summary names them
    "path": "folder",
    "best_epoch": "kept epoch",
    "dev": "dev scores",
    "test": "test scores",
    "data": "training data",
    "nerkit_version": "nerkit version",
}
SUSPECT_KINDS = {
    "wrong_type": "another type",
    "boundary": "other boundaries",
    "not_an_entity": "not an entity",
    "unannotated": "an entity left unannotated",
}

Report = Mapping[str, Any]
Colours = Mapping[str, str]


def render_report(report: Report) -> str:
    """The report as one complete HTML page: no script, no request, every text escaped; a part that is
    null or missing in `report` is left out (a report of a model alone shows its summary and training)."""
    if (report.get("format"), report.get("version")) != REPORT_FORMAT:
        raise NerkitError(
            f"not a nerkit report (format {report.get('format')!r}, version {report.get('version')!r})",
            hint=MALFORMED_HINT,
        )
    try:
        colours = label_colours(_labels(report))
        sections = [
            (anchor, title, render(report, colours))
            for anchor, title, key, render in SECTIONS
            if any(report.get(part) is not None for part in key)
        ]
        return _page(report, sections)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise NerkitError(
            f"the report is incomplete or malformed ({type(error).__name__}: {error})", hint=MALFORMED_HINT
        ) from error


def _page(report: Report, sections: list[tuple[str, str, str]]) -> str:
    """The page around its sections: head, title, what was evaluated, a table of contents."""
    model = report.get("model") or {}
    data = report.get("data") or {}
    title = f"nerkit report: {model.get('path', 'model')}"
    evaluated = f"model {_text(model.get('path', '?'))}" + (
        f" on {_text(data.get('path', '?'))}" if data else ""
    )
    contents = "".join(f'<li><a href="#{anchor}">{escape(name)}</a></li>' for anchor, name, _ in sections)
    body = "\n".join(
        f'<section id="{anchor}">\n<h2>{escape(name)}</h2>\n{html}\n</section>'
        for anchor, name, html in sections
    )
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>\n{PAGE_STYLE}{REPORT_STYLE}</style>\n</head>\n<body>\n"
        f'<header>\n<h1>nerkit report</h1>\n<p class="meta">{evaluated}</p>\n'
        f'<nav class="toc" aria-label="contents"><ol>{contents}</ol></nav>\n</header>\n'
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _labels(report: Report) -> set[str]:
    """Every entity type the report names: its colour is the same in every section."""
    labels = set((report.get("summary") or {}).get("per_label") or {})
    for mention in _mentions(report):
        if isinstance(mention, Mapping) and isinstance(mention.get("label"), str):
            labels.add(mention["label"])
    return labels


def _mentions(report: Report) -> Iterator[Any]:
    """Every mention of the report's examples, worst sentences and suspects (None where there is none)."""
    for examples in ((report.get("mistakes") or {}).get("examples") or {}).values():
        for example in examples:
            yield from (example.get("gold"), example.get("predicted"))
    for sentence in report.get("worst") or []:
        yield from [*sentence.get("gold", []), *sentence.get("predicted", [])]
    for suspect in report.get("suspects") or []:
        yield from (suspect.get("gold"), suspect.get("model"))


# ---- formatting


def _text(value: object) -> str:
    """Any value as escaped text: a float to 6 significant digits, a list joined, a dict as key: value."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, Mapping):
        if {"precision", "recall", "f1"} <= set(value):
            return ", ".join(f"{name} {_percent(value[key])}" for key, name in SCORE_NAMES.items())
        return "; ".join(f"{escape(str(key))}: {_text(item)}" for key, item in value.items())
    return escape(str(value))


def _percent(value: Any) -> str:
    """A fraction 0..1 as a percentage with two decimals; a dash for none."""
    return "\u2013" if value is None else f"{100 * float(value):.2f}%"


def _count(value: Any) -> str:
    """A count with thousands separators."""
    return f"{int(value):,}"


def _plural(count: Any, noun: str) -> str:
    """`1 mistake`, `2 mistakes`."""
    return f"{_count(count)} {noun}" + ("" if int(count) == 1 else "s")


def _tag(label: str, colours: Colours) -> str:
    """A type name on its colour."""
    return f'<span class="tag" style="background: {colours.get(label, "#e6e8eb")}">{escape(label)}</span>'


def _table(
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    total: bool = False,
    numeric: Iterable[int] | None = None,
    css_class: str | None = None,
) -> str:
    """A table: `head` as plain text, each row's cells as HTML (the first a row heading); the `numeric`
    columns (all but the first by default) align right; `total` sets the first row apart; `css_class`
    is the table's class."""
    right = set(range(1, len(head)) if numeric is None else numeric)
    heading = "".join(
        f'<th scope="col"{" class=num" if index in right else ""}>{escape(name)}</th>'
        for index, name in enumerate(head)
    )
    lines = []
    for number, row in enumerate(rows):
        cells = "".join(
            f"<td{' class=num' if index in right else ''}>{cell}</td>"
            for index, cell in enumerate(row[1:], 1)
        )
        shown = ' class="total"' if total and number == 0 else ""
        lines.append(f'<tr{shown}><th scope="row">{row[0]}</th>{cells}</tr>')
    opened = "<table>" if css_class is None else f'<table class="{escape(css_class)}">'
    body = "".join(lines)
    return f'<div class="table">{opened}<thead><tr>{heading}</tr></thead><tbody>{body}</tbody></table></div>'


def _settings(title: str, values: Mapping[str, Any], wide: bool = False) -> str:
    """A titled list of settings, name and value; `wide` flows it over several columns."""
    items = "".join(
        f"<div><dt>{escape(str(name))}</dt><dd>{_text(value)}</dd></div>" for name, value in values.items()
    )
    return f'<div class="settings{" wide" if wide else ""}"><h3>{escape(title)}</h3><dl>{items}</dl></div>'


def _figure(svg: str, caption: str) -> str:
    """A chart with its caption (plain text)."""
    return f'<figure class="chart">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


def _document(text: str, mentions: Iterable[Mapping[str, Any] | None]) -> Document:
    """The sentence as a Document with its mentions as entities (None skipped)."""
    entities = [
        Entity(
            int(m["start"]),
            int(m["end"]),
            str(m["label"]),
            text[int(m["start"]) : int(m["end"])],
            m.get("confidence"),
        )
        for m in mentions
        if m is not None
    ]
    return Document(str(text), entities=entities)


def _sentence(text: str, mentions: Iterable[Mapping[str, Any] | None], colours: Colours) -> str:
    """The sentence, escaped, with the mentions highlighted as `predict --format html` shows them."""
    return f'<span class="text">{render_fragment(_document(text, mentions), colours)}</span>'


def _mention(mention: Mapping[str, Any] | None, colours: Colours, nothing: str) -> str:
    """A mention as its type and its text; `nothing` when there is none."""
    if mention is None:
        return f'<span class="none">{escape(nothing)}</span>'
    return f"{_tag(str(mention['label']), colours)} {escape(str(mention['text']))}"


# ---- the sections, in page order


def _summary(report: Report, colours: Colours) -> str:
    """conlleval's scores overall and per type, the data, and the model's spec and training options."""
    parts = []
    summary = report.get("summary")
    if summary is not None:
        parts.append(_scorecard(summary))
        parts.append(_type_scores(summary, colours))
    tables = []
    data = report.get("data")
    if data is not None:
        shown = {"file": data["path"], "format": data["format"]}
        for name in ("sentences", "tokens", "gold_entities", "predicted_entities"):
            shown[name.replace("_", " ")] = _count(data[name])
        tables.append(_settings("the data", shown))
    model = report.get("model")
    if model is not None:
        about = {
            MODEL_NAMES.get(name, name): value
            for name, value in model.items()
            if name not in ("spec", "training")
        }
        tables.append(_settings("the model", about))
    parts.append(f'<div class="grid">{"".join(tables)}</div>')
    for name, title in (("spec", "spec"), ("training", "training options")):
        if model is not None and model.get(name):
            parts.append(_settings(title, model[name], wide=True))
    return "\n".join(parts)


def _scorecard(summary: Mapping[str, Any]) -> str:
    """The overall scores in large type, and the entity counts."""
    figures = [("F1", summary["f1"]), ("precision", summary["precision"]), ("recall", summary["recall"])]
    figures.append(("token accuracy", summary["accuracy"]))
    items = "".join(
        f'<li><span class="value">{_percent(value)}</span><span class="name">{escape(name)}</span></li>'
        for name, value in figures
    )
    counts = (
        f"{_count(summary['found_gold'])} gold entities, {_count(summary['found_pred'])} predicted, "
        f"{_count(summary['correct'])} correct (conlleval: exact span and type)"
    )
    return f'<ul class="scores">{items}</ul>\n<p>{counts}</p>'


def _type_scores(summary: Mapping[str, Any], colours: Colours) -> str:
    """conlleval's scores per type, after a row for all types."""
    overall = ["all types", *(_percent(summary[name]) for name in ("precision", "recall", "f1"))]
    overall += [_count(summary[name]) for name in ("found_gold", "found_pred", "correct")]
    rows = [overall]
    for label, scores in summary["per_label"].items():
        row = [_tag(label, colours), *(_percent(scores[name]) for name in ("precision", "recall", "f1"))]
        rows.append(row + [_count(scores[name]) for name in ("support", "found_pred", "correct")])
    return _table(("type", "precision", "recall", "F1", "gold", "predicted", "correct"), rows, total=True)


def _partial(report: Report, colours: Colours) -> str:
    """The four SemEval-2013 schemas' counts and scores, overall and per type."""
    partial = report["partial"]
    schemas = [name for name in SCHEMAS if name in partial]
    head = ("schema", *COUNT_NAMES, "precision", "recall", "F1")
    overall = [[f"{escape(name)}", *_partial_cells(partial[name]["overall"])] for name in schemas]
    parts = [
        "<p>Each predicted entity matched to the gold ones as SemEval-2013 task 9.1 and nervaluate score "
        "them. <em>possible</em>: the gold entities; <em>actual</em>: the predicted ones. What each schema "
        "counts as correct:</p>",
        "<ul>"
        + "".join(f"<li><strong>{name}</strong>: {escape(SCHEMAS[name])}</li>" for name in schemas)
        + "</ul>",
        _table(head, overall),
    ]
    for name in schemas:
        per_type = partial[name]["per_type"]
        rows = [[_tag(label, colours), *_partial_cells(counts)] for label, counts in sorted(per_type.items())]
        parts.append(f"<h3>Per type, {escape(name)} schema</h3>\n" + _table(("type", *head[1:]), rows))
    return "\n".join(parts)


def _partial_cells(counts: Mapping[str, Any]) -> list[str]:
    """One row's counts, then precision, recall and F1."""
    return [_count(counts[name]) for name in COUNT_NAMES] + [
        _percent(counts[name]) for name in ("precision", "recall", "f1")
    ]


def _mistakes(report: Report, colours: Colours) -> str:
    """How many mistakes of each kind, overall and per type, then examples of each kind."""
    mistakes = report["mistakes"]
    per_type = mistakes.get("per_type") or {}
    types = sorted(per_type)
    rows = [
        [
            escape(name),
            _count(mistakes["counts"].get(kind, 0)),
            *(_count(per_type[label].get(kind, 0)) for label in types),
        ]
        for kind, name in KINDS.items()
    ]
    head = ("kind", "all types", *types)
    parts = [_table(head, rows)]
    examples = mistakes.get("examples") or {}
    for kind, name in KINDS.items():
        shown = examples.get(kind) or []
        if shown:
            total = _count(mistakes["counts"].get(kind, len(shown)))
            parts.append(f'<h3>{escape(name)} <span class="count">({len(shown)} of {total})</span></h3>')
            parts.extend(_example(example, colours) for example in shown)
    return "\n".join(parts)


def _example(example: Mapping[str, Any], colours: Colours) -> str:
    """One mistake: where, then the sentence with the gold entity and with the model's."""
    text = str(example["text"])
    lines = [
        _side("gold", text, example.get("gold"), "no gold entity here", colours),
        _side("model", text, example.get("predicted"), "the model found nothing here", colours),
    ]
    return f'<div class="example"><p class="place">{escape(str(example["place"]))}</p>{"".join(lines)}</div>'


def _side(who: str, text: str, mention: Mapping[str, Any] | None, nothing: str, colours: Colours) -> str:
    """One line of an example: the sentence with `mention` highlighted, or `nothing` when there is none."""
    shown = (
        f'<span class="none">{escape(nothing)}</span>'
        if mention is None
        else _sentence(text, [mention], colours)
    )
    return f'<div class="side"><span class="who">{escape(who)}</span>{shown}</div>'


def _confusion(report: Report, colours: Colours) -> str:
    """The heat map of gold types against predicted types."""
    caption = (
        'Rows: the gold type, and "(spurious)" for a prediction with no gold entity; columns: the '
        'predicted type, and "(missed)" for a gold entity with no prediction. Blue: right; orange: a mistake.'
    )
    return _figure(charts.confusion_chart(report["confusion"]), caption)


def _confidence(report: Report, colours: Colours) -> str:
    """The reliability diagram and the threshold chart, then the thresholds in words."""
    confidence = report["confidence"]
    figures = [
        _figure(
            charts.reliability_chart(confidence), "Observed precision of the entities in each confidence bin."
        ),
        _figure(
            charts.threshold_chart(confidence), "Scores keeping only the entities at or above each threshold."
        ),
    ]
    return f'<div class="grid">{"".join(figures)}</div>\n<ul class="findings">{"".join(_thresholds(confidence))}</ul>'


def _thresholds(confidence: Mapping[str, Any]) -> Iterator[str]:
    """The calibration error and the two thresholds worth knowing, each as a list item in words."""
    yield (
        f"<li>Expected calibration error (ECE): <strong>{float(confidence['ece']):.3f}</strong>, the gap between "
        "confidence and observed precision averaged over the entities (0 when perfectly calibrated).</li>"
    )
    best, without = confidence["best_f1"], confidence["no_threshold"]
    if float(best["threshold"]) == 0.0:
        yield (
            f"<li>Best F1: no threshold does better than keeping every entity (F1 "
            f"<strong>{_percent(without['f1'])}</strong>).</li>"
        )
    else:
        yield (
            f"<li>Best F1: keeping only entities with confidence \u2265 <strong>{float(best['threshold']):.4f}"
            f"</strong> gives F1 <strong>{_percent(best['f1'])}</strong> (precision {_percent(best['precision'])}"
            f", recall {_percent(best['recall'])}), against {_percent(without['f1'])} with no threshold.</li>"
        )
    precise = confidence.get("precision_95")
    if precise is None:
        yield "<li>95% precision: no threshold reaches it.</li>"
    else:
        yield (
            f"<li>95% precision: first reached at confidence \u2265 <strong>{float(precise['threshold']):.4f}"
            f"</strong>, keeping recall <strong>{_percent(precise['recall'])}</strong> (precision "
            f"{_percent(precise['precision'])}, F1 {_percent(precise['f1'])}).</li>"
        )
    yield "<li>Apply a threshold with <code>nerkit predict MODEL FILE --min-confidence T</code>.</li>"


def _worst(report: Report, colours: Colours) -> str:
    """The sentences with the most confident mistakes: gold and predicted side by side."""
    worst = report["worst"]
    if not worst:
        return '<p class="empty">No sentence has a mistake.</p>'
    intro = (
        f"<p>The {len(worst)} sentences with the most confident mistakes, worst first: the gold entities "
        "beside the model's (hover over an entity for its confidence).</p>"
    )
    cards = []
    for rank, sentence in enumerate(worst, start=1):
        text = str(sentence["text"])
        about = f"#{rank} \u00b7 {escape(str(sentence['place']))} \u00b7 {_plural(sentence['mistakes'], 'mistake')}"
        sides = (
            f'<div class="side"><span class="who">gold</span>{_sentence(text, sentence["gold"], colours)}</div>'
            f'<div class="side"><span class="who">model</span>{_sentence(text, sentence["predicted"], colours)}</div>'
        )
        score = f"score {float(sentence['score']):.2f}"
        cards.append(
            f'<div class="example"><p class="place">{about} \u00b7 {score}</p><div class="grid">{sides}</div></div>'
        )
    return intro + "\n" + "\n".join(cards)


def _suspects(report: Report, colours: Colours) -> str:
    """Gold entities the model contradicts most confidently, ranked: where to review the annotation."""
    suspects = report["suspects"]
    if not suspects:
        return '<p class="empty">The model contradicts no gold entity with high confidence.</p>'
    rows = []
    for rank, suspect in enumerate(suspects, start=1):
        gold, model = suspect.get("gold"), suspect.get("model")
        shown = _sentence(str(suspect["text"]), [gold if gold is not None else model], colours)
        rows.append(
            [
                str(rank),
                f"{float(suspect['confidence']):.3f}",
                escape(SUSPECT_KINDS.get(str(suspect["kind"]), str(suspect["kind"]))),
                _mention(gold, colours, "not annotated"),
                _mention(model, colours, "no entity"),
                f'{shown}<span class="place">{escape(str(suspect["place"]))}</span>',
            ]
        )
    intro = (
        f"<p>{len(suspects)} gold annotations the model contradicts with high confidence, most confident "
        "first: where a reviewer should look first. The sentence shows the annotation in doubt.</p>"
    )
    head = ("#", "confidence", "the model says", "gold", "model", "sentence")
    table = _table(head, rows, numeric=(1,), css_class="suspects")
    return intro + "\n" + table


def _training(report: Report, colours: Colours) -> str:
    """The training curves, the kept epoch in words, and the numbers per epoch."""
    training = report["training"]
    epochs = training["epochs"]
    kept = training.get("kept_epoch")
    parts = [
        _figure(
            charts.training_chart(training),
            "Loss and dev F1 per epoch; the dashed line marks the kept epoch.",
        )
    ]
    for epoch in epochs:
        if epoch["epoch"] == kept:
            parts.append(
                f"<p>The model folder holds epoch {_count(kept)}: dev F1 {_percent(epoch.get('f1'))}.</p>"
            )
    types = sorted({label for epoch in epochs for label in (epoch.get("per_type") or {})})
    rows = [
        [
            _count(epoch["epoch"]) + (" (kept)" if epoch["epoch"] == kept else ""),
            "\u2013" if epoch.get("loss") is None else f"{float(epoch['loss']):.3f}",
            _percent(epoch.get("f1")),
            *(_percent((epoch.get("per_type") or {}).get(label)) for label in types),
        ]
        for epoch in epochs
    ]
    if rows:
        parts.append(_table(("epoch", "loss", "dev F1", *(f"F1 {label}" for label in types)), rows))
    return "\n".join(parts)


SECTIONS: tuple[tuple[str, str, tuple[str, ...], Callable[[Report, Colours], str]], ...] = (
    ("summary", "Summary", ("summary", "model", "data"), _summary),
    ("partial", "Partial-match scores", ("partial",), _partial),
    ("mistakes", "Error kinds", ("mistakes",), _mistakes),
    ("confusion", "Confusion of types", ("confusion",), _confusion),
    ("confidence", "Confidence", ("confidence",), _confidence),
    ("worst", "Worst sentences", ("worst",), _worst),
    ("suspects", "Likely annotation errors", ("suspects",), _suspects),
    ("training", "Training curves", ("training",), _training),
)
