"""Entities highlighted in HTML: one self-contained page, a colour per label, a legend, text escaped."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from importlib.resources import files

from nerkit.errors import NerkitError
from nerkit.text.document import Document, Entity

COMMON_LABEL_COLOURS = {"PER": "#ffd6a5", "LOC": "#caffbf", "ORG": "#a0c4ff", "MISC": "#fdffb6"}
OTHER_LABEL_COLOURS = ("#ffadad", "#bdb2ff", "#9bf6ff", "#ffc6ff", "#e6ccb2", "#d9ed92", "#d6e2e9", "#c9ada7")
CSS_COLOUR = re.compile(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[A-Za-z]+")

# The page's CSS, in render.css beside this module (package data), newline-terminated.
PAGE_STYLE = files("nerkit").joinpath("render.css").read_text(encoding="utf-8")


def label_colours(labels: Iterable[str], colours: Mapping[str, str] | None = None) -> dict[str, str]:
    """A stable background colour per label: fixed ones for PER/LOC/ORG/MISC, palette ones for the rest."""
    overrides = dict(colours or {})
    for label, value in overrides.items():
        if not CSS_COLOUR.fullmatch(value):
            raise NerkitError(
                f"colour {value!r} for {label} is not a CSS colour", hint="use #rrggbb or a colour name"
            )
    unique = sorted(set(labels))
    others = [label for label in unique if label not in COMMON_LABEL_COLOURS]
    assigned = {label: OTHER_LABEL_COLOURS[i % len(OTHER_LABEL_COLOURS)] for i, label in enumerate(others)}
    return {
        label: overrides.get(label) or COMMON_LABEL_COLOURS.get(label) or assigned[label] for label in unique
    }


def _shown_entities(document: Document) -> list[Entity]:
    """The entities to highlight: inside the text, by start (longest first), none overlapping an earlier one."""
    shown: list[Entity] = []
    end_of_last = 0
    for entity in sorted(document.entities, key=lambda entity: (entity.start, -entity.end)):
        if end_of_last <= entity.start < entity.end <= len(document.text):
            shown.append(entity)
            end_of_last = entity.end
    return shown


def render_fragment(document: Document, colours: Mapping[str, str]) -> str:
    """The document's text as escaped HTML, each entity in a `<mark>` on its label's colour."""
    entities = _shown_entities(document)
    colour_of = label_colours((entity.label for entity in entities), colours)
    parts = []
    position = 0
    for entity in entities:
        title = entity.label if entity.confidence is None else f"{entity.label} {entity.confidence:.2f}"
        parts.append(escape(document.text[position : entity.start]))
        parts.append(
            f'<mark class="entity" style="background: {colour_of[entity.label]}" title="{escape(title)}">'
            f"{escape(document.text[entity.start : entity.end])}"
            f'<span class="label">{escape(entity.label)}</span></mark>'
        )
        position = entity.end
    parts.append(escape(document.text[position:]))
    return "".join(parts)


def _legend(counts: Mapping[str, int], colour_of: Mapping[str, str]) -> str:
    """Each label on its colour with its count, or a line saying there are no entities."""
    if not counts:
        return '<p class="empty">no entities found</p>'
    items = "".join(
        f'<li><span class="key" style="background: {colour}">{escape(label)}</span>'
        f'<span class="count">{counts[label]}</span></li>'
        for label, colour in colour_of.items()
    )
    return f'<ul class="legend">{items}</ul>'


def render_html(
    documents: Sequence[Document], title: str = "nerkit entities", colours: Mapping[str, str] | None = None
) -> str:
    """One complete, self-contained HTML page: a title, a legend of labels with counts, then each document."""
    counts = Counter(entity.label for document in documents for entity in _shown_entities(document))
    colour_of = label_colours(counts, colours)
    if not documents:
        body = '<p class="empty">no documents</p>'
    else:
        blocks = "\n".join(
            f'<div class="doc"><div class="caption">document {number}</div>'
            f'<div class="text">{render_fragment(document, colour_of)}</div></div>'
            for number, document in enumerate(documents, start=1)
        )
        body = f"{_legend(counts, colour_of)}\n{blocks}"
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>\n{PAGE_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )
