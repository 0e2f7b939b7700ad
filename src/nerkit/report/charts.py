"""The report's charts as SVG to inline in its page, drawn with matplotlib (the optional extra nerkit[report])."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from html import escape
from types import ModuleType
from typing import TYPE_CHECKING, Any

from nerkit.errors import NerkitError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

LONGEST_LABEL = 32  # characters of a type name shown on a chart; the page's tables show it whole
CHART_RC = {
    "svg.fonttype": "none",  # text stays text: small, selectable, and escaped as XML character data
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}  # deterministic, and lean
CORRECT_COLOURS = "Blues"  # the confusion map's diagonal
ERROR_COLOURS = "Oranges"  # every other cell
PRECISION_COLOUR = "#1f77b4"
RECALL_COLOUR = "#ff7f0e"
F1_COLOUR = "#2ca02c"
MARK_COLOUR = "#444444"
TAG = re.compile(r"<[^<>]*>")  # a tag: matplotlib escapes < and > in text and attribute values
ID_REFERENCE = re.compile(r'(\bid="|\bhref="#|\burl\(#)')
STYLE_DEFINITIONS = re.compile(r"<defs>\s*<style[^<>]*>[^<]*</style>\s*</defs>\s*")


def confusion_chart(confusion: Mapping[str, Any]) -> str:
    """The confusion of types as a heat map: rows gold (and "spurious"), columns predicted (and "missed"),
    each cell's count written in it; the diagonal in blue, the mistakes in orange, each on its own scale."""
    gold, predicted, counts = list(confusion["gold"]), list(confusion["predicted"]), confusion["counts"]
    if len(counts) != len(gold) or any(len(row) != len(predicted) for row in counts):
        raise NerkitError(
            f"the confusion counts are not {len(gold)} rows of {len(predicted)}",
            hint="write the report again with nerkit report",
        )
    size = (max(4.0, 1.8 + 0.62 * len(predicted)), max(3.0, 1.4 + 0.42 * len(gold)))
    return _render(
        "confusion",
        "heat map of gold types against predicted types",
        size,
        lambda figure: _draw_confusion(figure, gold, predicted, counts),
    )


def reliability_chart(confidence: Mapping[str, Any]) -> str:
    """Observed precision per confidence bin against the diagonal, the bins' entity counts below, and the
    expected calibration error in the title."""
    return _render(
        "reliability",
        "reliability diagram: observed precision per confidence bin",
        (5.0, 4.4),
        lambda figure: _draw_reliability(figure, confidence),
    )


def threshold_chart(confidence: Mapping[str, Any]) -> str:
    """Precision, recall and F1 of the entities kept at each confidence threshold, with the best-F1
    threshold and the first threshold reaching 95% precision marked."""
    return _render(
        "thresholds",
        "precision, recall and F1 against the confidence threshold",
        (5.0, 4.4),
        lambda figure: _draw_thresholds(figure, confidence),
    )


def training_chart(training: Mapping[str, Any]) -> str:
    """Training loss per epoch beside dev F1 per epoch (overall and per type), the kept epoch marked."""
    return _render(
        "training",
        "training loss and dev F1 per epoch",
        (8.5, 3.6),
        lambda figure: _draw_training(figure, training),
    )


def require_matplotlib() -> ModuleType:
    """matplotlib, imported on first use; a NerkitError saying how to install it when it is missing."""
    try:
        import matplotlib
        import matplotlib.figure
    except ImportError as error:
        raise NerkitError(
            "the report's charts need matplotlib", hint="pip install 'nerkit[report]'"
        ) from error
    return matplotlib


def _render(name: str, description: str, size: tuple[float, float], draw: Callable[[Figure], None]) -> str:
    """A figure of `size` inches drawn by `draw`, as SVG ready to inline: ids salted and prefixed by `name`,
    `description` its accessible name."""
    matplotlib = require_matplotlib()
    output = io.StringIO()
    with matplotlib.rc_context({**CHART_RC, "svg.hashsalt": name}):
        figure = matplotlib.figure.Figure(figsize=size, layout="constrained")
        draw(figure)
        figure.savefig(output, format="svg", metadata=NO_METADATA)
    return _inline(output.getvalue(), name, description)


def _inline(svg: str, name: str, description: str) -> str:
    """matplotlib's SVG without its XML prolog and its global `*{...}` style rule (kept as attributes on
    the root instead), every id prefixed with `name` so charts on one page do not share ids, and
    `description` as its accessible name."""
    svg = STYLE_DEFINITIONS.sub("", svg[svg.index("<svg") :], count=1)
    svg = TAG.sub(lambda tag: ID_REFERENCE.sub(lambda start: f"{start.group()}{name}-", tag.group()), svg)
    return svg.replace(
        "<svg ",
        f'<svg class="chart {name}" role="img" aria-label="{escape(description)}" stroke-linejoin="round" stroke-linecap="butt" ',
        1,
    )


def _shown(label: str) -> str:
    """A type name as a chart shows it: at most LONGEST_LABEL characters, on one line."""
    label = " ".join(label.split())
    return label if len(label) <= LONGEST_LABEL else label[: LONGEST_LABEL - 1] + "\u2026"


def _plain_text(axes: Axes) -> None:
    """Show the axes' tick labels and legend as typed: no mathtext for a `$` in a type name."""
    legend = axes.get_legend()
    texts = [*axes.get_xticklabels(), *axes.get_yticklabels(), *(legend.get_texts() if legend else [])]
    for text in texts:
        text.set_parse_math(False)


def _note(axes: Axes, text: str) -> None:
    """A line in the middle of empty axes saying why they are empty."""
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", color=MARK_COLOUR)


def _draw_confusion(
    figure: Figure, gold: list[str], predicted: list[str], counts: Sequence[Sequence[int]]
) -> None:
    """The heat map's cells, counts, separators before the buckets, and axis labels."""
    from matplotlib import colormaps
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    axes = figure.add_subplot()
    diagonal = {
        (row, column)
        for row, name in enumerate(gold[:-1])
        for column, other in enumerate(predicted[:-1])
        if name == other
    }
    largest_correct = max((counts[row][column] for row, column in diagonal), default=0) or 1
    largest_error = (
        max(
            (
                count
                for row, line in enumerate(counts)
                for column, count in enumerate(line)
                if (row, column) not in diagonal
            ),
            default=0,
        )
        or 1
    )
    font_size = 9 if len(gold) * len(predicted) <= 144 else 7
    cells, colours = [], []
    for row, line in enumerate(counts):
        for column, count in enumerate(line):
            scale = largest_correct if (row, column) in diagonal else largest_error
            colour = _cell_colour(
                colormaps[CORRECT_COLOURS if (row, column) in diagonal else ERROR_COLOURS], count, scale
            )
            cells.append(Rectangle((column, row), 1, 1))
            colours.append(colour)
            dark = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2] < 0.55
            text_colour = "#ffffff" if dark else ("#1f2328" if count else "#b0b7bf")
            text = axes.text(
                column + 0.5,
                row + 0.5,
                str(count),
                ha="center",
                va="center",
                fontsize=font_size,
                color=text_colour,
            )
            text.set_in_layout(False)
    axes.add_collection(
        PatchCollection(cells, facecolors=colours, edgecolors="#ffffff", linewidths=1), autolim=False
    )
    axes.axvline(len(predicted) - 1, color=MARK_COLOUR, linewidth=1.2)
    axes.axhline(len(gold) - 1, color=MARK_COLOUR, linewidth=1.2)
    axes.set_xlim(0, len(predicted))
    axes.set_ylim(len(gold), 0)
    axes.set_xticks(
        [column + 0.5 for column in range(len(predicted))],
        [*map(_shown, predicted[:-1]), f"({predicted[-1]})"],
        rotation=30,
        ha="right",
        rotation_mode="anchor",
    )
    axes.set_yticks(
        [row + 0.5 for row in range(len(gold))], [*map(_shown, gold[:-1]), f"({gold[-1]})"]
    )  # the buckets in brackets: a type may be called "missed" or "spurious" too
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    axes.set_xlabel("predicted type")
    axes.set_ylabel("gold type")
    _plain_text(axes)


def _cell_colour(colour_map: Colormap, count: int, largest: int) -> tuple[float, float, float, float]:
    """A cell's colour: white for none, else darker the nearer `count` is to `largest` (on a square-root
    scale, so that small counts still show)."""
    return colour_map(0.08 + 0.84 * (count / largest) ** 0.5) if count else (1.0, 1.0, 1.0, 1.0)


def _draw_reliability(figure: Figure, confidence: Mapping[str, Any]) -> None:
    """Bars of observed precision per bin over the diagonal; the bins' entity counts in a strip below."""
    bins = list(confidence["bins"])
    filled = [one for one in bins if one["count"] and one["precision"] is not None]
    low = min((float(one["low"]) for one in bins), default=0.0)
    high = max((float(one["high"]) for one in bins), default=1.0)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot(
        [low, high], [low, high], linestyle="--", color=MARK_COLOUR, linewidth=1, label="perfect calibration"
    )
    top.bar(
        [one["low"] for one in filled],
        [one["precision"] for one in filled],
        width=[one["high"] - one["low"] for one in filled],
        align="edge",
        color=PRECISION_COLOUR,
        alpha=0.7,
        edgecolor="#ffffff",
        label="observed precision",
    )
    top.plot(
        [one["confidence"] for one in filled],
        [one["precision"] for one in filled],
        "o",
        color=PRECISION_COLOUR,
        markersize=3.5,
        label="at the bin's mean confidence",
    )
    if not filled:
        _note(top, "no predicted entities")
    top.set_ylim(0, 1.02)
    top.set_xlim(low, high)
    top.set_ylabel("observed precision")
    top.set_title(f"Reliability: ECE {float(confidence['ece']):.3f}")
    top.legend(loc="upper left", fontsize=8, frameon=False)
    bottom.bar(
        [one["low"] for one in bins],
        [one["count"] for one in bins],
        width=[one["high"] - one["low"] for one in bins],
        align="edge",
        color="#9aa4ae",
        edgecolor="#ffffff",
    )
    if len(bins) <= 20:
        for one in bins:
            middle = (one["low"] + one["high"]) / 2
            bottom.annotate(
                str(one["count"]),
                (middle, one["count"]),
                xytext=(0, 1),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
                color=MARK_COLOUR,
            )
    bottom.set_ylim(0, max((one["count"] for one in bins), default=0) * 1.35 or 1)
    bottom.set_ylabel("entities")
    bottom.set_xlabel("entity confidence")


def _draw_thresholds(figure: Figure, confidence: Mapping[str, Any]) -> None:
    """Precision, recall and F1 against the threshold; the F1 with no threshold and the two thresholds."""
    from matplotlib.ticker import PercentFormatter

    axes = figure.add_subplot()
    rows = sorted(confidence["thresholds"], key=lambda row: float(row["threshold"]))
    thresholds = [row["threshold"] for row in rows]
    for name, colour in (("precision", PRECISION_COLOUR), ("recall", RECALL_COLOUR), ("f1", F1_COLOUR)):
        axes.plot(
            thresholds,
            [_plotted(row, name) for row in rows],
            color=colour,
            linewidth=1.6,
            label=name.replace("f1", "F1"),
        )
    without = float(confidence["no_threshold"]["f1"])
    axes.axhline(
        without, color=F1_COLOUR, linestyle=":", linewidth=1, label=f"F1 without a threshold: {without:.1%}"
    )
    best = confidence["best_f1"]
    axes.axvline(
        best["threshold"],
        color=F1_COLOUR,
        linestyle="--",
        linewidth=1,
        label=f"best F1 {float(best['f1']):.1%} at \u2265 {float(best['threshold']):.4f}",
    )
    precise = confidence.get("precision_95")
    if precise:
        axes.axvline(
            precise["threshold"],
            color=PRECISION_COLOUR,
            linestyle="--",
            linewidth=1,
            label=(
                f"95% precision at \u2265 {float(precise['threshold']):.4f}: "
                f"recall {float(precise['recall']):.1%}"
            ),
        )
    if not rows:
        _note(axes, "no predicted entities")
    lowest = min(
        (
            float(row[name])
            for row in rows
            for name in ("precision", "recall", "f1")
            if _plotted(row, name) >= 0
        ),
        default=0.0,
    )
    axes.set_ylim(max(0.0, min(lowest, without) - 0.05), 1.01)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    axes.set_xlabel("confidence threshold (entities kept at \u2265 threshold)")
    axes.set_title("Precision, recall and F1 against the threshold")
    axes.legend(loc="lower left", fontsize=8, frameon=False)
    axes.grid(alpha=0.3)


def _plotted(row: Mapping[str, Any], name: str) -> float:
    """A curve point's score; NaN (a gap) for precision where nothing is kept, which has none."""
    if name == "precision" and row.get("kept", 1) == 0:
        return math.nan
    return float(row[name])


def _draw_training(figure: Figure, training: Mapping[str, Any]) -> None:
    """Loss per epoch (left) and dev F1 per epoch overall and per type (right), the kept epoch marked."""
    from matplotlib import colormaps
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    epochs = list(training["epochs"])
    kept = training.get("kept_epoch")
    loss_axes, f1_axes = figure.subplots(1, 2)
    losses = [epoch for epoch in epochs if epoch.get("loss") is not None]
    loss_axes.plot(
        [e["epoch"] for e in losses], [e["loss"] for e in losses], marker="o", markersize=3, color=MARK_COLOUR
    )
    scored = [epoch for epoch in epochs if epoch.get("f1") is not None]
    f1_axes.plot(
        [e["epoch"] for e in scored],
        [e["f1"] for e in scored],
        marker="o",
        markersize=3,
        color="#1f2328",
        linewidth=2.2,
        label="overall",
    )
    types = sorted({name for epoch in scored for name in (epoch.get("per_type") or {})})
    for index, name in enumerate(types):
        points = [
            (e["epoch"], e["per_type"][name])
            for e in scored
            if (e.get("per_type") or {}).get(name) is not None
        ]
        f1_axes.plot(
            [epoch for epoch, _ in points],
            [f1 for _, f1 in points],
            color=colormaps["tab10"](index % 10),
            linewidth=1,
            label=_shown(name),
        )
    if kept is not None:
        loss_axes.axvline(kept, color=MARK_COLOUR, linestyle="--", linewidth=1)
        f1_axes.axvline(kept, color=MARK_COLOUR, linestyle="--", linewidth=1, label=f"kept epoch {kept}")
    if not losses:
        _note(loss_axes, "no loss logged")
    if not scored:
        _note(f1_axes, "no dev scores logged")
    loss_axes.set_title("training loss")
    f1_axes.set_title("dev F1")
    f1_axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    for axes in (loss_axes, f1_axes):
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
    f1_axes.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    _plain_text(f1_axes)
