"""`nerkit train`: train a tagger on annotated data in any format, keeping the best model by dev F1."""

from __future__ import annotations

import argparse
import sys

from nerkit.cli._options import add_reading, add_training_options, reading_options, training_options
from nerkit.cli._output import progress
from nerkit.training.options import EpochLog

HELP = "Train a BiLSTM-CNN-CRF tagger on annotated data in any format; keeps the best model by dev F1."
DATA_HELP = "(CoNLL, JSON lines, Label Studio, a brat folder or Hugging Face; each told apart on its own)"


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `train` command's parser: its data and run flags, and every training option."""
    parser = commands.add_parser("train", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    data = parser.add_argument_group("data")
    data.add_argument(
        "--train",
        required=True,
        action="append",
        metavar="FILE[:TYPES]",
        help=f"the training data {DATA_HELP}; give it again for more files; FILE:T1,T2 says the file "
        "annotates only those types",
    )
    data.add_argument("--dev", help="the dev data for model selection (default: carve it out of train)")
    data.add_argument("--test", help="data also scored every epoch (never used for selection)")
    add_reading(data, tag_column=False)  # the training options add --tag-column to this group
    data.add_argument(
        "--embeddings", help="word vectors: GloVe, word2vec (.bin) or fastText .vec, plain or .gz"
    )
    data.add_argument("--output", "-o", required=True, help="the model folder to write")
    groups = {"data": data, "training options": parser.add_argument_group("training options")}
    groups["run"] = run_group = parser.add_argument_group("run")
    run_group.add_argument(
        "--resume", action="store_true", help="go on from the checkpoint an interrupted run left"
    )
    run_group.add_argument(
        "--log-folder", help="also write the epoch log to a dated .log file in this folder"
    )
    add_training_options(parser, groups)


def run(args: argparse.Namespace) -> int:
    """Train, printing the model's size, each epoch's line and where the best model went; 130 when
    interrupted (the best model so far stays saved)."""
    from nerkit.training.train import train

    options = training_options(args)

    def on_epoch(log: EpochLog) -> None:
        print(log.line(), flush=True)
        if options.extended_log and log.table():
            print(log.table(), flush=True)

    result = train(
        args.train,
        args.output,
        dev_path=args.dev,
        test_path=args.test,
        embeddings=args.embeddings,
        options=options,
        on_epoch=on_epoch,
        resume=args.resume,
        on_batch=progress("training"),
        log_folder=args.log_folder,
        on_ready=lambda spec, parameters: print(spec.describe(parameters), flush=True),
        input_format=args.input_format,
        read=reading_options(args),
    )
    if not result.best_epoch:
        print("interrupted before the first epoch ended: no model saved", file=sys.stderr)
        return 130 if result.interrupted else 0
    how = "interrupted" if result.interrupted else "stopped early" if result.stopped_early else "finished"
    print(
        f"{how}: best dev F1 {100 * float(result.dev['f1']):.2f} at epoch {result.best_epoch}; "
        f"model saved to {result.output}",
        flush=True,
    )
    if result.interrupted:
        print("resume with the same command plus --resume", file=sys.stderr)
    return 130 if result.interrupted else 0
