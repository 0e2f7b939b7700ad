"""Flags shared by several commands: the training options generated from TrainOptions' field metadata
(type, range, help, group), the transformer precision, the tag column, thread counts and the confidence
threshold."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import Field, fields
from typing import TYPE_CHECKING, Any

from nerkit.training.options import TrainOptions, default_of, field_named, flag, kind_of, option_of

if TYPE_CHECKING:
    from nerkit.data.formats import ReadOptions

Groups = dict[str, "argparse._ArgumentGroup"]
TAG_COLUMN_HELP = option_of(field_named("tag_column")).help
MAX_THREADS = int(option_of(field_named("threads")).high or 1024)  # as many as training takes


def add_training_options(
    parser: argparse.ArgumentParser, groups: Groups | None = None, only: tuple[str, ...] = ()
) -> None:
    """A flag for every TrainOptions field, in the help group its metadata names (`groups` holds those
    the command made already); with `only`, just the fields in those groups. Flags default to None, so
    that `training_options` passes on only what was given."""
    groups = groups if groups is not None else {}
    for spec in fields(TrainOptions):
        group_name = option_of(spec).group
        if only and group_name not in only:
            continue
        if group_name not in groups:
            groups[group_name] = parser.add_argument_group(group_name)
        _add_flag(groups[group_name], spec)


def _add_flag(group: argparse._ArgumentGroup, spec: Field[Any]) -> None:
    """One field's flag: a switch for a bool, --x/--no-x for a bool left to the data, else a typed value."""
    described, default = option_of(spec), default_of(spec)
    settings: dict[str, Any] = {
        "dest": spec.name,
        "default": None,
        "help": described.help.format(default=default),
    }
    kind = kind_of(spec)
    if kind is bool:
        settings["action"] = argparse.BooleanOptionalAction if default is None else "store_true"
    else:
        settings["type"] = kind
        if described.choices:
            settings["choices"] = described.choices
        if described.metavar:
            settings["metavar"] = described.metavar
    group.add_argument(flag(spec.name), *described.aliases, **settings)


def training_options(args: argparse.Namespace) -> TrainOptions:
    """TrainOptions from the flags given (the rest keep their defaults); checked as they are made."""
    given = {
        f.name: getattr(args, f.name) for f in fields(TrainOptions) if getattr(args, f.name, None) is not None
    }
    return TrainOptions(**given)


def add_precision(parser: argparse._ActionsContainer) -> None:
    """--transformer-precision for the commands that load a model, with TrainOptions' help and choices."""
    spec = field_named("transformer_precision")
    described = option_of(spec)
    parser.add_argument(
        flag(spec.name), choices=described.choices, default=default_of(spec), help=described.help
    )


def add_threads(parser: argparse._ActionsContainer) -> None:
    """--threads for the commands that load a model: 0 (the default) uses the usable cores but one."""
    parser.add_argument(
        "--threads",
        type=whole_number(1, MAX_THREADS),
        default=0,
        help="CPU threads (default: the usable cores but one)",
    )


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`, else one line saying the range."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{value} is out of range; give a whole number from {low:,} to {high:,}"
            )
        return value

    return parse


positive = whole_number(1, 1_000_000)  # batch sizes, process counts
MIN_CONFIDENCE_HELP = (
    "leave out every entity whose confidence (the lowest marginal probability of its tokens' tags, as "
    "the output shows it) is below this number from 0 to 1, in every format; in CoNLL output its tokens "
    "are tagged O (default 0: keep all; `nerkit report` finds the thresholds worth using)"
)


def fraction(text: str) -> float:
    """An argparse type: a number from 0 to 1 (NaN refused), else one line saying so."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; give one from 0 to 1") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a number from 0 to 1")
    return value


def add_min_confidence(parser: argparse._ActionsContainer, help: str = MIN_CONFIDENCE_HELP) -> None:
    """--min-confidence for the commands that write entities: a number from 0 to 1, default 0."""
    parser.add_argument("--min-confidence", type=fraction, default=0.0, metavar="FRACTION", help=help)


def add_reading(parser: argparse._ActionsContainer, tag_column: bool = True) -> None:
    """--input-format and what reading each format may need: --tag-column (CoNLL; left out where the
    training options add it), --annotation (Label Studio) and --labels (Hugging Face)."""
    from nerkit.data.formats import ANNOTATION_CHOICES, FORMATS

    parser.add_argument(
        "--input-format",
        choices=FORMATS,
        help="the annotated data's format (default: told from the extension and the content)",
    )
    if tag_column:
        parser.add_argument("--tag-column", type=int, default=-1, help=TAG_COLUMN_HELP)
    parser.add_argument(
        "--annotation",
        choices=ANNOTATION_CHOICES,
        default="first",
        help="Label Studio: which of a task's annotations to read (default: first), or its predictions",
    )
    parser.add_argument(
        "--labels",
        type=label_list,
        help="Hugging Face: the tag names of ner_tags 0, 1, 2, ... (default: from dataset_info.json)",
    )


def label_list(text: str) -> tuple[str, ...]:
    """--labels O,B-PER,I-PER as a tuple of tag names; refused when one is empty or repeated."""
    labels = tuple(label.strip() for label in text.split(","))
    if any(not label for label in labels):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty label; give names like O,B-PER,I-PER")
    if len(set(labels)) != len(labels):
        raise argparse.ArgumentTypeError(f"{text!r} names a label twice")
    return labels


def reading_options(args: argparse.Namespace) -> ReadOptions:
    """The ReadOptions the --tag-column, --annotation and --labels flags give."""
    from nerkit.data.formats import ReadOptions

    return ReadOptions(
        tag_column=-1 if getattr(args, "tag_column", None) is None else int(args.tag_column),
        annotation=args.annotation,
        labels=args.labels,
    )
