"""The report page: its sections from report.json alone, in order, left out when null, every text escaped."""

from __future__ import annotations

import copy
import re
from html import escape
from html.parser import HTMLParser
from typing import Any

import pytest

from nerkit.errors import NerkitError
from nerkit.report.page import render_report

pytest.importorskip("matplotlib", reason="the report's charts need matplotlib: pip install -e '.[report]'")

HOSTILE = "<script>alert(1)</script>"
SENTENCE = "Corvane Systems hired Ada Lovelace in Paris ."


def mention(text: str, start: int, end: int, label: str, confidence: float | None = None) -> dict[str, Any]:
    """A mention as report.json writes it (Mention.to_json)."""
    found: dict[str, Any] = {"start": start, "end": end, "label": label, "text": text[start:end]}
    if confidence is not None:
        found["confidence"] = confidence
    return found


def counts(correct: int, incorrect: int, partial: int, missed: int, spurious: int) -> dict[str, Any]:
    """COUNTS as the partial-match schemas write them (precision and recall in SemEval's partial way)."""
    possible, actual = correct + incorrect + partial + missed, correct + incorrect + partial + spurious
    precision, recall = (correct + partial / 2) / actual, (correct + partial / 2) / possible
    f1 = 2 * precision * recall / (precision + recall)
    return {
        "correct": correct,
        "incorrect": incorrect,
        "partial": partial,
        "missed": missed,
        "spurious": spurious,
        "possible": possible,
        "actual": actual,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def fake_report(types: tuple[str, ...] = ("ORG", "PER", "LOC")) -> dict[str, Any]:
    """A small report following the report.json contract, every part present; `types` name the entity
    types (the first three appear in the sentences)."""
    org, per, loc = types[:3]
    text = SENTENCE
    gold = [mention(text, 0, 15, org), mention(text, 22, 34, per), mention(text, 38, 43, loc)]
    predicted = [mention(text, 0, 7, org, 0.91), mention(text, 22, 34, org, 0.97)]
    per_label = {
        label: {"precision": 0.9, "recall": 0.8, "f1": 0.8471, "support": 10, "found_pred": 9, "correct": 8}
        for label in types
    }
    schema = {
        "overall": counts(20, 3, 2, 4, 1),
        "per_type": {label: counts(7, 1, 1, 1, 0) for label in types},
    }
    return {
        "format": "nerkit-report",
        "version": 1,
        "model": {
            "path": "models/conll",
            "spec": {"labels": ["O", f"B-{org}", f"I-{org}"], "hidden": 200, "head": "crf"},
            "training": {
                "max_epochs": 30,
                "learning_rate": 0.002,
                "locked_dropout": False,
                "transformer": None,
            },
            "data": {"train": "train.txt", "dev": "valid.txt"},
            "dev": {"precision": 0.9, "recall": 0.8, "f1": 0.8471},
            "best_epoch": 2,
            "calibration": None,
        },
        "data": {
            "path": "data/dev.conll",
            "format": "conll",
            "sentences": 3250,
            "tokens": 51362,
            "gold_entities": 5942,
            "predicted_entities": 5880,
        },
        "summary": {
            "precision": 0.9,
            "recall": 0.8,
            "f1": 0.8471,
            "accuracy": 0.97,
            "macro_f1": 0.8471,
            "tokens": 51362,
            "found_gold": 30,
            "found_pred": 27,
            "correct": 24,
            "per_label": per_label,
        },
        "partial": {name: schema for name in ("strict", "exact", "partial", "type")},
        "mistakes": {
            "counts": {"wrong_type": 1, "too_short": 1, "missed": 1},
            "per_type": {org: {"too_short": 1}, per: {"wrong_type": 1}, loc: {"missed": 1}},
            "examples": {
                "wrong_type": [
                    {"place": "dev.conll:12", "text": text, "gold": gold[1], "predicted": predicted[1]}
                ],
                "too_short": [
                    {"place": "dev.conll:12", "text": text, "gold": gold[0], "predicted": predicted[0]}
                ],
                "missed": [{"place": "dev.conll:12", "text": text, "gold": gold[2], "predicted": None}],
            },
        },
        "confusion": {
            "gold": [*types, "spurious"],
            "predicted": [*types, "missed"],
            "counts": [[8, 1, 0, 1], [1, 8, 0, 1], [0, 0, 9, 1], [1, 0, 1, 0]],
        },
        "confidence": {
            "ece": 0.0312,
            "bins": [
                {"low": 0.5, "high": 0.75, "count": 0, "confidence": None, "precision": None},
                {"low": 0.75, "high": 0.9, "count": 3, "confidence": 0.82, "precision": 0.6667},
                {"low": 0.9, "high": 1.0, "count": 24, "confidence": 0.97, "precision": 0.9167},
            ],
            "thresholds": [
                {"threshold": 0.0, "precision": 0.9, "recall": 0.8, "f1": 0.8471, "kept": 27},
                {"threshold": 0.9, "precision": 0.9167, "recall": 0.7333, "f1": 0.8148, "kept": 24},
                {"threshold": 0.9467, "precision": 0.96, "recall": 0.5, "f1": 0.6575, "kept": 16},
            ],
            "no_threshold": {"precision": 0.9, "recall": 0.8, "f1": 0.8471},
            "best_f1": {"threshold": 0.0, "precision": 0.9, "recall": 0.8, "f1": 0.8471},
            "precision_95": {"threshold": 0.9467, "precision": 0.96, "recall": 0.5, "f1": 0.6575},
        },
        "worst": [
            {
                "place": "dev.conll:12",
                "text": text,
                "gold": gold,
                "predicted": predicted,
                "mistakes": 3,
                "score": 2.79,
            }
        ],
        "suspects": [
            {
                "place": "dev.conll:12",
                "text": text,
                "gold": gold[1],
                "model": predicted[1],
                "kind": "wrong_type",
                "confidence": 0.97,
            },
            {
                "place": "dev.conll:40",
                "text": text,
                "gold": None,
                "model": predicted[0],
                "kind": "unannotated",
                "confidence": 0.96,
            },
        ],
        "training": {
            "epochs": [
                {
                    "epoch": 1,
                    "loss": 40.5,
                    "f1": 0.8,
                    "per_type": {label: 0.8 for label in types},
                    "best": False,
                },
                {
                    "epoch": 2,
                    "loss": 20.25,
                    "f1": 0.85,
                    "per_type": {label: 0.85 for label in types},
                    "best": True,
                },
            ],
            "kept_epoch": 2,
        },
    }


def section_ids(page: str) -> list[str]:
    """The page's sections, in order."""
    return re.findall(r'<section id="([a-z]+)">', page)


def section(page: str, name: str) -> str:
    """One section's HTML."""
    return re.search(rf'<section id="{name}">(.*?)</section>', page, re.S).group(1)


def visible_text(html: str) -> str:
    """The text a reader sees (tags dropped, entities unescaped): what a hostile string must show as."""
    from html import unescape

    return unescape(re.sub(r"<[^>]*>", "", html))


def attribute_names(page: str) -> set[str]:
    """The names of every attribute of every element, as a browser's parser reads them."""
    names: set[str] = set()

    class Attributes(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            names.update(name for name, _ in attrs)

    Attributes().feed(page)
    return names


ALL_SECTIONS = ["summary", "partial", "mistakes", "confusion", "confidence", "worst", "suspects", "training"]


def test_a_full_report_has_every_section_in_order_and_a_table_of_contents():
    page = render_report(fake_report())
    assert section_ids(page) == ALL_SECTIONS
    assert re.findall(r'<li><a href="#([a-z]+)">', page) == ALL_SECTIONS
    assert page.startswith("<!doctype html>\n") and page.endswith("</html>\n")
    assert page.count("<svg ") == 4
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    ).replace('xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    assert "https://" not in page
    assert (
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        in page
    )


def test_a_report_of_the_model_alone_shows_its_summary_and_training_only():
    report = {key: None for key in fake_report()} | {"format": "nerkit-report", "version": 1}
    full = fake_report()
    report["model"], report["training"] = full["model"], full["training"]
    page = render_report(report)
    assert section_ids(page) == ["summary", "training"]
    assert page.count("<svg ") == 1
    summary = section(page, "summary")
    assert "token accuracy" not in summary and "the data" not in summary
    assert re.findall(r"<h3>([^<]*)</h3>", summary) == [
        "the model",
        "spec",
        "training options",
    ]


@pytest.mark.parametrize("missing", ALL_SECTIONS[1:])
def test_a_missing_or_null_part_leaves_its_section_out(missing):
    nulled = fake_report() | {missing: None}
    dropped = fake_report()
    del dropped[missing]
    expected = [name for name in ALL_SECTIONS if name != missing]
    assert section_ids(render_report(nulled)) == expected
    assert section_ids(render_report(dropped)) == expected


def test_the_summary_shows_conllevals_scores_the_data_and_the_model():
    summary = section(render_report(fake_report()), "summary")
    assert re.findall(r'<span class="value">([^<]*)</span><span class="name">([^<]*)</span>', summary) == [
        ("84.71%", "F1"),
        ("90.00%", "precision"),
        ("80.00%", "recall"),
        ("97.00%", "token accuracy"),
    ]
    assert "30 gold entities, 27 predicted, 24 correct" in summary
    rows = re.findall(r'<tr class="total"><th scope="row">all types</th>(.*?)</tr>', summary)
    assert rows == [
        "<td class=num>90.00%</td><td class=num>80.00%</td><td class=num>84.71%</td>"
        "<td class=num>30</td><td class=num>27</td><td class=num>24</td>"
    ]
    settings = {
        title: dict(re.findall(r"<div><dt>([^<]*)</dt><dd>([^<]*)</dd></div>", items))
        for title, items in re.findall(r"<h3>([^<]*)</h3><dl>(.*?)</dl>", summary)
    }
    assert settings == {
        "the data": {
            "file": "data/dev.conll",
            "format": "conll",
            "sentences": "3,250",
            "tokens": "51,362",
            "gold entities": "5,942",
            "predicted entities": "5,880",
        },
        "the model": {
            "folder": "models/conll",
            "training data": "train: train.txt; dev: valid.txt",
            "dev scores": "precision 90.00%, recall 80.00%, F1 84.71%",
            "kept epoch": "2",
            "calibration": "none",
        },
        "spec": {"labels": "O, B-ORG, I-ORG", "hidden": "200", "head": "crf"},
        "training options": {
            "max_epochs": "30",
            "learning_rate": "0.002",
            "locked_dropout": "no",
            "transformer": "none",
        },
    }


def test_the_partial_match_tables_give_each_schema_overall_and_per_type():
    partial = section(render_report(fake_report()), "partial")
    assert re.findall(r"<h3>([^<]*)</h3>", partial) == [
        f"Per type, {name} schema" for name in ("strict", "exact", "partial", "type")
    ]
    overall = re.search(r'<th scope="row">strict</th>(.*?)</tr>', partial).group(1)
    assert re.findall(r"<td class=num>([^<]*)</td>", overall) == [
        "20",
        "3",
        "2",
        "4",
        "1",
        "29",
        "26",
        "80.77%",
        "72.41%",
        "76.36%",
    ]


def test_the_error_kinds_count_each_kind_and_show_gold_against_the_model():
    mistakes = section(render_report(fake_report()), "mistakes")
    head = re.search(r"<thead><tr>(.*?)</tr></thead>", mistakes).group(1)
    assert re.findall(r">([^<]*)</th>", head) == ["kind", "all types", "LOC", "ORG", "PER"]
    counts_rows = re.findall(r'<tr><th scope="row">([^<]*)</th>((?:<td class=num>\d+</td>)+)</tr>', mistakes)
    assert [(name, re.findall(r">(\d+)<", cells)) for name, cells in counts_rows] == [
        ("right span, wrong type", ["1", "0", "0", "1"]),
        ("right type, too long", ["0", "0", "0", "0"]),
        ("right type, too short", ["1", "0", "1", "0"]),
        ("right type, shifted", ["0", "0", "0", "0"]),
        ("wrong span and type", ["0", "0", "0", "0"]),
        ("missed entirely", ["1", "1", "0", "0"]),
        ("spurious", ["0", "0", "0", "0"]),
    ]
    assert re.findall(r"<h3>(.*?)</h3>", mistakes) == [
        'right span, wrong type <span class="count">(1 of 1)</span>',
        'right type, too short <span class="count">(1 of 1)</span>',
        'missed entirely <span class="count">(1 of 1)</span>',
    ]
    examples = mistakes.split('<div class="example">')[1:]
    marks = [re.findall(r'title="([^"]*)">([^<]*)<span class="label">', example) for example in examples]
    assert marks == [
        [("PER", "Ada Lovelace"), ("ORG 0.97", "Ada Lovelace")],
        [("ORG", "Corvane Systems"), ("ORG 0.91", "Corvane")],
        [("LOC", "Paris")],
    ]
    assert "the model found nothing here" in examples[2]


def test_the_confidence_section_states_the_thresholds_in_words():
    confidence = visible_text(section(render_report(fake_report()), "confidence"))
    assert "Expected calibration error (ECE): 0.031" in confidence
    assert "Best F1: no threshold does better than keeping every entity (F1 84.71%)." in confidence
    report = fake_report()
    report["confidence"]["best_f1"] = {"threshold": 0.8734, "precision": 0.95, "recall": 0.75, "f1": 0.8383}
    assert (
        "Best F1: keeping only entities with confidence \u2265 0.8734 gives F1 83.83% (precision 95.00%, "
        "recall 75.00%), against 84.71% with no threshold."
    ) in visible_text(section(render_report(report), "confidence"))
    assert (
        "95% precision: first reached at confidence \u2265 0.9467, keeping recall 50.00% (precision 96.00%, "
        "F1 65.75%)."
    ) in confidence
    report = fake_report()
    report["confidence"]["precision_95"] = None
    assert "95% precision: no threshold reaches it." in visible_text(
        section(render_report(report), "confidence")
    )


def test_worst_sentences_show_gold_and_predicted_side_by_side():
    worst = section(render_report(fake_report()), "worst")
    assert visible_text(re.search(r'<p class="place">(.*?)</p>', worst).group(1)) == (
        "#1 \u00b7 dev.conll:12 \u00b7 3 mistakes \u00b7 score 2.79"
    )
    sides = re.findall(
        r'<div class="side"><span class="who">(gold|model)</span><span class="text">(.*?)</span></div>', worst
    )
    assert [(who, re.findall(r'title="([^"]*)"', html)) for who, html in sides] == [
        ("gold", ["ORG", "PER", "LOC"]),
        ("model", ["ORG 0.91", "ORG 0.97"]),
    ]
    assert render_report(fake_report() | {"worst": []}).count("No sentence has a mistake.") == 1


def test_suspects_are_a_ranked_table_with_kind_confidence_and_the_sentence():
    suspects = section(render_report(fake_report()), "suspects")
    rows = re.findall(r"<tr><th scope=\"row\">(\d+)</th>(.*?)</tr>", suspects)
    cells = [[visible_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)] for _, row in rows]
    assert [rank for rank, _ in rows] == ["1", "2"]
    assert [row[:4] for row in cells] == [
        ["0.970", "another type", "PER Ada Lovelace", "ORG Ada Lovelace"],
        ["0.960", "an entity left unannotated", "not annotated", "ORG Corvane"],
    ]
    assert cells[0][4] == "Corvane Systems hired Ada LovelacePER in Paris .dev.conll:12"
    empty = render_report(fake_report() | {"suspects": []})
    assert "The model contradicts no gold entity with high confidence." in empty


def test_the_training_section_names_the_kept_epoch_and_lists_the_epochs():
    training = section(render_report(fake_report()), "training")
    assert "The model folder holds epoch 2: dev F1 85.00%." in training
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', training)
    assert [(epoch, re.findall(r">([^<]*)</td>", cells)) for epoch, cells in rows] == [
        ("1", ["40.500", "80.00%", "80.00%", "80.00%", "80.00%"]),
        ("2 (kept)", ["20.250", "85.00%", "85.00%", "85.00%", "85.00%"]),
    ]


def hostile_report() -> dict[str, Any]:
    """The fake report with a script in every piece of text it holds: type names, the sentence, the
    place, the paths, the model's options."""
    report = fake_report(types=(HOSTILE, "PER", "LOC"))
    text = HOSTILE + " hired Ada Lovelace in Paris ."
    for part in (report["mistakes"]["examples"]["wrong_type"], report["worst"], report["suspects"]):
        for item in part:
            item["text"] = text
            item["place"] = HOSTILE
    report["model"]["path"] = HOSTILE
    report["data"]["path"] = HOSTILE
    report["model"]["training"][HOSTILE] = HOSTILE
    report["model"]["spec"]["labels"] = [HOSTILE]
    report["suspects"][0]["kind"] = HOSTILE
    return report


def test_every_hostile_text_is_escaped_and_shows_as_text():
    report = hostile_report()
    page = render_report(report)
    assert "<script" not in page.lower()
    shown = visible_text(page)
    assert shown.count(HOSTILE) >= 20
    assert f"<title>nerkit report: {escape(HOSTILE)}</title>" in page
    assert f"model {escape(HOSTILE)} on {escape(HOSTILE)}" in page
    for name in ("summary", "partial", "mistakes", "worst", "suspects", "training"):
        assert HOSTILE in visible_text(section(page, name)), name
    assert f">{escape(HOSTILE)}</text>" in section(page, "confusion")
    assert report == hostile_report()


def test_a_quote_in_a_label_cannot_leave_its_attribute():
    report = fake_report(types=('x" onmouseover="alert(1)', "PER", "LOC"))
    page = render_report(report)
    assert "onmouseover" not in attribute_names(page)
    assert 'title="x&quot; onmouseover=&quot;alert(1)"' in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "something else"}, "not a nerkit report (format 'something else', version 1)"),
        ({"version": 2}, "not a nerkit report (format 'nerkit-report', version 2)"),
    ],
)
def test_another_format_is_refused(change, message):
    with pytest.raises(NerkitError) as raised:
        render_report(fake_report() | change)
    assert str(raised.value) == f"{message}; write it again with nerkit report --json"


def test_a_malformed_report_is_refused_with_what_is_wrong():
    report = fake_report()
    del report["summary"]["f1"]
    with pytest.raises(NerkitError) as raised:
        render_report(report)
    assert str(raised.value) == (
        "the report is incomplete or malformed (KeyError: 'f1'); write it again with nerkit report --json"
    )
    report = fake_report()
    report["worst"][0]["mistakes"] = "many"
    with pytest.raises(NerkitError, match=r"malformed \(ValueError: invalid literal"):
        render_report(report)
    with pytest.raises(NerkitError, match=r"malformed \(AttributeError: 'list' object has no attribute"):
        render_report(fake_report() | {"model": ["not", "a", "dict"]})


def test_rendering_leaves_the_report_as_it_was_and_is_the_same_every_time():
    report = fake_report()
    before = copy.deepcopy(report)
    assert render_report(report) == render_report(report)
    assert report == before
