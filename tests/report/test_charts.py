"""The report's charts: inline-ready SVG with drawn content, text escaped, deterministic, and a clear error
without matplotlib."""

from __future__ import annotations

import re
import sys

import pytest

from nerkit.errors import NerkitError
from nerkit.report import charts

pytest.importorskip("matplotlib", reason="the report's charts need matplotlib: pip install -e '.[report]'")

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CONFUSION = {
    "gold": ["LOC", "PER", "spurious"],
    "predicted": ["LOC", "PER", "missed"],
    "counts": [[5, 1, 0], [2, 9, 3], [4, 0, 0]],
}
CONFIDENCE = {
    "ece": 0.0312,
    "bins": [
        {"low": 0.5, "high": 0.75, "count": 0, "confidence": None, "precision": None},
        {"low": 0.75, "high": 0.9, "count": 12, "confidence": 0.82, "precision": 0.75},
        {"low": 0.9, "high": 1.0, "count": 88, "confidence": 0.97, "precision": 0.95},
    ],
    "thresholds": [
        {"threshold": 0.0, "precision": 0.9, "recall": 0.9, "f1": 0.9, "kept": 100},
        {"threshold": 0.5123, "precision": 0.93, "recall": 0.89, "f1": 0.9096, "kept": 95},
        {"threshold": 0.8734, "precision": 0.96, "recall": 0.7, "f1": 0.8096, "kept": 70},
    ],
    "no_threshold": {"precision": 0.9, "recall": 0.9, "f1": 0.9},
    "best_f1": {"threshold": 0.5123, "precision": 0.93, "recall": 0.89, "f1": 0.9096},
    "precision_95": {"threshold": 0.8734, "precision": 0.96, "recall": 0.7, "f1": 0.8096},
}
TRAINING = {
    "epochs": [
        {"epoch": 1, "loss": 40.0, "f1": 0.8, "per_type": {"LOC": 0.82, HOSTILE: 0.7}, "best": False},
        {"epoch": 2, "loss": 20.0, "f1": 0.85, "per_type": {"LOC": 0.86, HOSTILE: 0.8}, "best": True},
        {"epoch": 3, "loss": 15.0, "f1": 0.84, "per_type": {"LOC": 0.85, HOSTILE: 0.79}, "best": False},
    ],
    "kept_epoch": 2,
}
CHARTS = [
    ("confusion", charts.confusion_chart, CONFUSION),
    ("reliability", charts.reliability_chart, CONFIDENCE),
    ("thresholds", charts.threshold_chart, CONFIDENCE),
    ("training", charts.training_chart, TRAINING),
]


def texts(svg: str) -> list[str]:
    """The chart's text elements' contents, in document order (still XML-escaped)."""
    return re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)


@pytest.mark.parametrize(("name", "draw", "data"), CHARTS)
def test_each_chart_is_inline_svg_with_a_drawing_and_no_prolog_or_global_style(name, draw, data):
    svg = draw(data)
    assert svg.startswith(f'<svg class="chart {name}" role="img" aria-label="')
    assert svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg and "<metadata" not in svg
    assert "<style" not in svg and "*{" not in svg
    assert 'stroke-linejoin="round" stroke-linecap="butt"' in svg.split(">", 1)[0]
    assert svg.count("<path") >= 5 and len(texts(svg)) >= 5
    ids = re.findall(r'\bid="([^"]*)"', svg)
    assert ids and all(found.startswith(f"{name}-") for found in ids)
    references = re.findall(r'(?:href="#|url\(#)([^")]*)', svg)
    assert references and set(references) <= set(ids)


@pytest.mark.parametrize(("name", "draw", "data"), CHARTS)
def test_each_chart_is_the_same_every_time(name, draw, data):
    assert draw(data) == draw(data)


def test_the_charts_of_one_page_share_no_id():
    ids = [found for _, draw, data in CHARTS for found in re.findall(r'\bid="([^"]*)"', draw(data))]
    assert len(ids) == len(set(ids))


def test_the_confusion_map_writes_each_count_in_its_cell_with_the_diagonal_in_blue():
    svg = charts.confusion_chart(CONFUSION)
    assert texts(svg) == [
        *("LOC", "PER", "(missed)", "predicted type", "LOC", "PER", "(spurious)", "gold type"),
        *("5", "1", "0", "2", "9", "3", "4", "0", "0"),
    ]
    fills = re.findall(r'style="fill: (#[0-9a-f]{6}); stroke: #ffffff"', svg)
    # row by row; blues on the diagonal (9 the darkest), oranges elsewhere (4 the darkest), white for 0
    assert fills == [
        "#2d7dbb",
        "#fd8c3b",
        "#ffffff",
        "#e75c0c",
        "#08458a",
        "#c14002",
        "#973003",
        "#ffffff",
        "#ffffff",
    ]


def test_a_hostile_type_name_is_text_on_every_chart_that_names_types():
    confusion = {
        "gold": [HOSTILE, "a $x$ b", "spurious"],
        "predicted": [HOSTILE, "a $x$ b", "missed"],
        "counts": [[1, 0, 0], [0, 1, 0], [0, 0, 0]],
    }
    for svg in (charts.confusion_chart(confusion), charts.training_chart(TRAINING)):
        assert ESCAPED in texts(svg)
        assert "<script" not in svg
    assert "a $x$ b" in texts(charts.confusion_chart(confusion))


def test_types_named_like_the_buckets_stay_apart_from_them():
    confusion = {
        "gold": ["missed", "spurious", "spurious"],
        "predicted": ["missed", "spurious", "missed"],
        "counts": [[1, 0, 0], [0, 1, 0], [0, 0, 0]],
    }
    found = texts(charts.confusion_chart(confusion))
    assert found[:8] == [
        "missed",
        "spurious",
        "(missed)",
        "predicted type",
        "missed",
        "spurious",
        "(spurious)",
        "gold type",
    ]


def test_a_long_or_multi_line_type_name_is_cut_to_one_line():
    name = "A\nvery long type name that goes on and on"
    confusion = {"gold": [name, "spurious"], "predicted": [name, "missed"], "counts": [[1, 0], [0, 0]]}
    assert texts(charts.confusion_chart(confusion))[:2] == [
        "A very long type name that goes\u2026",
        "(missed)",
    ]


def test_the_reliability_diagram_names_the_ece_and_counts_every_bin():
    found = texts(charts.reliability_chart(CONFIDENCE))
    assert "Reliability: ECE 0.031" in found
    assert found[-3:] == ["0", "12", "88"]
    assert "perfect calibration" in found and "observed precision" in found


def test_the_threshold_chart_marks_the_best_f1_and_the_95_percent_precision_thresholds():
    found = texts(charts.threshold_chart(CONFIDENCE))
    legend = ["precision", "recall", "F1", "F1 without a threshold: 90.0%", "best F1 91.0% at \u2265 0.5123"]
    assert found[-6:] == [*legend, "95% precision at \u2265 0.8734: recall 70.0%"]
    assert texts(charts.threshold_chart({**CONFIDENCE, "precision_95": None}))[-5:] == legend


def test_the_training_curves_name_each_type_and_the_kept_epoch():
    found = texts(charts.training_chart(TRAINING))
    assert found[-4:] == ["overall", ESCAPED, "LOC", "kept epoch 2"]
    assert "kept epoch" not in " ".join(texts(charts.training_chart({**TRAINING, "kept_epoch": None})))


def test_empty_data_draws_axes_that_say_why_they_are_empty():
    empty = {**CONFIDENCE, "bins": [], "thresholds": []}
    assert "no predicted entities" in texts(charts.reliability_chart(empty))
    assert "no predicted entities" in texts(charts.threshold_chart(empty))
    found = texts(charts.training_chart({"epochs": [], "kept_epoch": None}))
    assert "no loss logged" in found and "no dev scores logged" in found
    no_dev = {
        "epochs": [{"epoch": 1, "loss": 3.0, "f1": None, "per_type": None, "best": False}],
        "kept_epoch": 1,
    }
    assert "no dev scores logged" in texts(charts.training_chart(no_dev))
    nothing = charts.confusion_chart({"gold": ["spurious"], "predicted": ["missed"], "counts": [[0]]})
    assert texts(nothing)[-1] == "0"


@pytest.mark.parametrize(
    "counts", [[[1, 0], [0, 0], [0, 0]], [[1, 0], [0]], []], ids=["too many rows", "short row", "no rows"]
)
def test_confusion_counts_of_the_wrong_shape_are_refused(counts):
    confusion = {"gold": ["LOC", "spurious"], "predicted": ["LOC", "missed"], "counts": counts}
    with pytest.raises(NerkitError) as raised:
        charts.confusion_chart(confusion)
    assert str(raised.value) == (
        "the confusion counts are not 2 rows of 2; write the report again with nerkit report"
    )


@pytest.mark.parametrize(("name", "draw", "data"), CHARTS)
def test_without_matplotlib_each_chart_says_how_to_install_it(monkeypatch, name, draw, data):
    for module in [module for module in sys.modules if module.split(".")[0] == "matplotlib"]:
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(NerkitError) as raised:
        draw(data)
    assert str(raised.value) == "the report's charts need matplotlib; pip install 'nerkit[report]'"
