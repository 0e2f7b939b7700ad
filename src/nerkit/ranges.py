"""Allowed values of a setting, a range or choices, checked and described the same way for the training
options and for a model folder's spec; and the ranges of the settings the two share."""

from __future__ import annotations

from dataclasses import dataclass

from nerkit.embeddings import POOLINGS

LARGEST_LAYER = 4096  # units, filters or dimensions of one layer: beyond it a typo, not a model
HEADS = ("crf", "linear")


@dataclass(frozen=True)
class Option:
    """How a setting is checked and offered: its range (or choices); for a training option, also its help
    text and flag group."""

    help: str
    low: float | None = None  # the smallest value allowed (with `above`, values must exceed it)
    high: float | None = None
    above: bool = False
    choices: tuple[str, ...] = ()
    group: str = "training options"  # the `nerkit train --help` section its flag is listed in
    metavar: str | None = None
    aliases: tuple[str, ...] = ()  # more flags for it, such as --lr

    def allowed(self) -> str:
        """The values allowed, as a hint: "a number above 0", "a whole number from 1 to 4096"..."""
        if self.choices:
            return f"one of {', '.join(self.choices)}"
        low = "" if self.low is None else _number(self.low)
        if self.low is not None and self.high is not None:
            if self.above:
                return f"above {low} and at most {_number(self.high)}"
            return f"from {low} to {_number(self.high)}"
        if self.low is not None:
            return f"above {low}" if self.above else f"{low} or more"
        return "any"

    def holds(self, value: float) -> bool:
        """Whether the number `value` is in the range (choices are checked by the caller)."""
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            return False
        return self.high is None or value <= self.high


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


MODEL_SETTINGS: dict[str, Option] = {  # a trained model's settings: its spec holds what the options chose
    "hidden": Option("", low=1, high=LARGEST_LAYER),
    "char_filters": Option("", low=0, high=LARGEST_LAYER),
    "char_lstm": Option("", low=0, high=LARGEST_LAYER),
    "casing_dim": Option("", low=1, high=LARGEST_LAYER),
    "dropout": Option("", low=0, high=0.95),
    "word_dropout": Option("", low=0, high=0.95),
    "locked_dropout": Option(""),
    "context_tokens": Option("", low=0, high=100_000),
    "transformer_layers": Option("", low=1, high=1000),
    "transformer_pooling": Option("", choices=POOLINGS),
    "transformer_context": Option(""),
    "head": Option("", choices=HEADS),
}
