"use strict";
const form = document.getElementById("ask");
const box = document.getElementById("text");
const threshold = document.getElementById("min-confidence");
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
      body: JSON.stringify({ text: box.value, min_confidence: threshold.valueAsNumber }),
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
