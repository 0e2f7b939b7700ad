"""The web page at `/`: a text box, a button, the entities highlighted; inline CSS and JS, no external assets."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from html import escape

from nerkit import __version__
from nerkit.pipeline import Pipeline
from nerkit.render import PAGE_STYLE

FORM_STYLE = """\
label { display: block; font-weight: 600; margin: 0 0 0.35rem; }
textarea {
  display: block;
  width: 100%;
  box-sizing: border-box;
  min-height: 9rem;
  padding: 0.6rem 0.75rem;
  font: inherit;
  line-height: 1.5;
  border: 1px solid #8c959f;
  border-radius: 0.5rem;
  resize: vertical;
}
.actions { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; margin: 0.75rem 0 1.5rem; }
button {
  font: inherit;
  font-weight: 600;
  padding: 0.4rem 1.1rem;
  border: 1px solid #0969da;
  border-radius: 0.5rem;
  background: #0969da;
  color: #fff;
  cursor: pointer;
}
button:hover { background: #0757b8; }
:focus-visible { outline: 3px solid #bf8700; outline-offset: 2px; }
.about, .hint, .status { color: #656d76; font-size: 0.9rem; }
.about { margin: -0.75rem 0 1rem; }
.status.failed { color: #cf222e; }
kbd {
  font: 0.8rem ui-monospace, SFMono-Regular, Menlo, monospace;
  border: 1px solid #d0d7de;
  border-bottom-width: 2px;
  border-radius: 0.3rem;
  padding: 0 0.3rem;
}
h2 { font-size: 1.1rem; font-weight: 600; margin: 0 0 0.5rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.95rem; }
th, td { text-align: left; padding: 0.25rem 1rem 0.25rem 0; border-bottom: 1px solid #d0d7de; vertical-align: top; }
td.number { font-variant-numeric: tabular-nums; }
td .key { padding: 0.1rem 0.5rem; border-radius: 0.3rem; font-size: 0.8rem; font-weight: 600; }
"""

PAGE_SCRIPT = r"""
"use strict";
const form = document.getElementById("ask");
const box = document.getElementById("text");
const status = document.getElementById("status");
const result = document.getElementById("result");
const shown = document.getElementById("shown");
const table = document.getElementById("entities");
const rows = table.tBodies[0];
const colours = new Map(
  Array.from(document.querySelectorAll(".legend .key"), (key) => [key.textContent, key.style.background]),
);
let busy = false;

box.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    form.requestSubmit();
  }
});

function say(message, failed) {
  status.textContent = message;
  status.classList.toggle("failed", failed);
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function show(body) {
  shown.innerHTML = body.html; // the server's renderer escapes the text, as `nerkit predict --format html` does
  rows.replaceChildren();
  for (const entity of body.entities) {
    const row = rows.insertRow();
    cell(row, entity.text);
    const key = document.createElement("span");
    key.className = "key";
    key.textContent = entity.label;
    key.style.background = colours.get(entity.label) || "";
    row.insertCell().append(key);
    cell(row, entity.confidence === null ? "" : entity.confidence.toFixed(4), "number");
    cell(row, entity.start + "\u2013" + entity.end, "number");
  }
  table.hidden = body.entities.length === 0;
  result.hidden = false;
  const count = body.entities.length;
  say(count === 1 ? "1 entity found" : count + " entities found", false);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (busy) return;
  busy = true;
  form.setAttribute("aria-busy", "true");
  say("Finding entities\u2026", false);
  try {
    const response = await fetch("v1/render", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: box.value }),
    });
    const body = await response.json();
    if (response.ok) show(body);
    else say("Error " + response.status + ": " + body.error, true);
  } catch (error) {
    say("No answer from the server: " + error.message, true);
  } finally {
    busy = false;
    form.removeAttribute("aria-busy");
  }
});
"""

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


def page_html(pipeline: Pipeline, colours: Mapping[str, str]) -> str:
    """The whole page for a model: `colours` gives each entity type's background, as in its legend."""
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
