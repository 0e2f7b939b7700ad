"""`nerkit spec`: show a model's architecture, or size one from data before training."""

from __future__ import annotations

import argparse

from nerkit.cli._options import add_reading, add_training_options, reading_options, training_options
from nerkit.cli._output import as_json, emit
from nerkit.errors import NerkitError

HELP = "Show a model's architecture, or size one from data before training."


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `spec` command's parser, with the training options that size a model."""
    parser = commands.add_parser("spec", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument("model", nargs="?", help="a model folder")
    parser.add_argument("--train", help="size a model for this training data (any format) instead")
    parser.add_argument("--dev", help="the dev file training would use (default: carved out of train)")
    parser.add_argument("--embeddings", help="the word vectors the model would use")
    parser.add_argument("--json", action="store_true", help="print the spec as JSON")
    add_training_options(parser, only=("data", "training options"))
    add_reading(parser, tag_column=False)  # the training options add --tag-column


def run(args: argparse.Namespace) -> int:
    """Print the spec of a model folder, or of the model `train` would build for the data."""
    if args.model is not None:
        from nerkit.model.folder import model_spec

        spec = model_spec(args.model)
        parameters = spec.parameter_count()  # worked out from the spec: nothing is built
        if not args.json:
            emit(spec.describe(parameters) + "\n" + trained_with(args.model))
            return 0
    elif args.train is not None:
        from nerkit.training.prepare import plan_model

        spec, parameters = plan_model(
            args.train,
            args.dev,
            args.embeddings,
            training_options(args),
            args.input_format,
            reading_options(args),
        )
    else:
        raise NerkitError("give a model folder, or --train FILE to size a model before training")
    emit(as_json(spec.to_json()) if args.json else spec.describe(parameters) + "\n")
    return 0


def trained_with(folder: str) -> str:
    """A line naming the training options a model folder's model.json records beyond the defaults."""
    from nerkit.model.folder import LOADABLE_FORMATS, read_meta
    from nerkit.training.options import given_flags

    meta = read_meta(folder, LOADABLE_FORMATS)
    members = meta.get("members")
    if isinstance(members, list):  # an ensemble (nerkit.model.ensemble)
        sources = ", ".join(str(m.get("source")) if isinstance(m, dict) else "?" for m in members)
        return f"  ensemble of {len(members)} models, their CRF marginals averaged: {sources}\n"
    training = meta.get("training")
    flags = given_flags(training) if isinstance(training, dict) else []
    return f"  trained with    {' '.join(flags) or 'the default options'}\n"
