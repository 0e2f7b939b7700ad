"""The web page at `/`: a text box, a button, the entities highlighted; inline CSS and JS, no external assets."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from html import escape
from importlib.resources import files

from nerkit.pipeline import Pipeline
from nerkit.render import PAGE_STYLE
from nerkit.version import __version__

# The form's CSS and the page's script, in page.css and page.js beside this module (package data).
# The script starts with a newline so that it opens on its own line inside <script>; the CSP hash is of
# exactly what goes between <script> and </script>.
FORM_STYLE = files("nerkit.serve").joinpath("page.css").read_text(encoding="utf-8")
PAGE_SCRIPT = "\n" + files("nerkit.serve").joinpath("page.js").read_text(encoding="utf-8")

SCRIPT_HASH = base64.b64encode(hashlib.sha256(PAGE_SCRIPT.encode("utf-8")).digest()).decode("ascii")
PAGE_POLICY = (  # only this page's own script and styles; requests only to this server
    f"default-src 'none'; script-src 'sha256-{SCRIPT_HASH}'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _about(pipeline: Pipeline) -> str:
    """One line on the model: its kind, dev F1 when known, the nerkit version."""
    kind = "BiLSTM-CNN-CRF tagger" if pipeline.spec.layers else "fine-tuned transformer tagger"
    parts = [kind]
    dev = pipeline.meta.get("dev")
    if isinstance(dev, dict) and isinstance(dev.get("f1"), int | float):
        parts.append(f"dev F1 {100 * dev['f1']:.2f}")
    parts.append(f"nerkit {__version__}")
    return " · ".join(parts)


def page_html(pipeline: Pipeline, colours: Mapping[str, str], min_confidence: float = 0.0) -> str:
    """The whole page for a model: `colours` gives each entity type's background, as in its legend;
    `min_confidence` is where its confidence threshold starts (the server's)."""
    legend = "".join(
        f'<li><span class="key" style="background: {colours[label]}">{escape(label)}</span></li>'
        for label in pipeline.entity_types
    )
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>nerkit: find entities</title>\n<style>\n{PAGE_STYLE}{FORM_STYLE}</style>\n</head>\n<body>\n"
        "<main>\n<h1>Find entities</h1>\n"
        f'<p class="about">{escape(_about(pipeline))}</p>\n'
        f'<ul class="legend" aria-label="entity types">{legend}</ul>\n'
        '<form id="ask">\n<label for="text">Text</label>\n'
        '<textarea id="text" name="text" rows="6" aria-describedby="hint" '
        'placeholder="Paste or type a text, e.g. Maria Voss flew from Halvery to Port Anselm on Monday."'
        "></textarea>\n"
        '<div class="actions"><button type="submit">Find entities</button>'
        '<span class="hint" id="hint">or press <kbd>Ctrl</kbd>+<kbd>Enter</kbd> in the text box</span>'
        '<label class="threshold">Minimum confidence <input type="number" id="min-confidence" '
        f'min="0" max="1" step="any" value="{min_confidence!r}"></label>'
        '<span class="status" id="status" role="status" aria-live="polite"></span></div>\n'
        "</form>\n"
        '<section id="result" aria-labelledby="result-title" hidden>\n'
        '<h2 id="result-title">Entities</h2>\n'
        '<div class="doc"><div class="text" id="shown"></div></div>\n'
        '<table id="entities"><thead><tr><th scope="col">Text</th><th scope="col">Label</th>'
        '<th scope="col">Confidence</th><th scope="col">Characters</th></tr></thead><tbody></tbody></table>\n'
        "</section>\n</main>\n"
        f"<script>{PAGE_SCRIPT}</script>\n</body>\n</html>\n"
    )
