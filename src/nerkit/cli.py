"""The `nerkit` command line: parses arguments and calls the library; errors are one line, exit code 2."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields

from nerkit import __version__
from nerkit.data.conll import convert_conll
from nerkit.data.stats import corpus_stats, format_stats
from nerkit.data.tags import SCHEMES, normalise_scheme
from nerkit.errors import NerkitError
from nerkit.evaluate import format_report, score_file
from nerkit.files import read_lines, write_text_atomic
from nerkit.text.document import parse_text
from nerkit.train_options import (
    DROPOUT,
    DROPOUT_FINE_TUNE,
    LEARNING_RATE_FINE_TUNE,
    LEARNING_RATE_WITH_VECTORS,
    LEARNING_RATE_WITHOUT_VECTORS,
    MAX_EPOCHS,
    MAX_EPOCHS_FINE_TUNE,
    PRECISIONS,
    EpochLog,
    TrainOptions,
)


def _emit(text: str, output: str | None) -> None:
    """Print `text` to standard output, or write it atomically to `output`."""
    if output is None or output == "-":
        sys.stdout.write(text)
    else:
        write_text_atomic(output, [text])
        print(f"wrote {output}", file=sys.stderr)


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def cmd_stats(args: argparse.Namespace) -> int:
    stats = corpus_stats(args.file, tag_column=args.tag_column)
    if args.json:
        _emit(_json(stats.to_json(scheme_details=args.scheme)), None)
    else:
        _emit(format_stats(stats, scheme_details=args.scheme) + "\n", None)
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    score = score_file(args.file)
    if score.uses_end_tags:
        print(
            f"nerkit: warning: {args.file} has E-/S- (BIOES) tags, which conlleval's rules misread; "
            "convert both columns to IOB2 first for meaningful figures",
            file=sys.stderr,
        )
    _emit(_json(score.to_json()) if args.json else format_report(score), None)
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    scheme = normalise_scheme(args.to)
    sentences = convert_conll(args.file, args.output, scheme, tag_column=args.tag_column)
    print(f"wrote {sentences:,} sentences in {scheme} to {args.output}", file=sys.stderr)
    return 0


def _tokenized(path: str, output_format: str) -> Iterator[str]:
    """Each line of a text file as one document, split into sentences and tokens, as output lines."""
    for _, line in read_lines(path):
        document = parse_text(line)
        if output_format == "jsonl":
            yield json.dumps(document.to_json(), ensure_ascii=False) + "\n"
            continue
        yield "-DOCSTART-\n\n"
        for sentence in document.sentences:
            yield "".join(token.text + "\n" for token in sentence.tokens) + "\n"


def cmd_tokenize(args: argparse.Namespace) -> int:
    lines = _tokenized(args.file, args.format)
    if args.output is None or args.output == "-":
        sys.stdout.writelines(lines)
    else:
        write_text_atomic(args.output, lines)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _progress(label: str) -> Callable[[int, int], None] | None:
    """A one-line progress bar on standard error when it is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        end = "\r" if done < total else "\r" + " " * (width + len(label) + 20) + "\r"
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
        sys.stderr.flush()

    return show


def _train_options(args: argparse.Namespace) -> TrainOptions:
    names = {f.name for f in fields(TrainOptions)}
    given = {name: value for name, value in vars(args).items() if name in names and value is not None}
    return TrainOptions(**given)


def cmd_train(args: argparse.Namespace) -> int:
    from nerkit.train import train

    options = _train_options(args)

    def on_epoch(log: EpochLog) -> None:
        print(log.line(), flush=True)
        if options.extended_log and log.table():
            print(log.table(), flush=True)

    bar = _progress("training")
    result = train(
        args.train,
        args.output,
        dev_path=args.dev,
        test_path=args.test,
        embeddings=args.embeddings,
        options=options,
        on_epoch=on_epoch,
        resume=args.resume,
        on_batch=bar,
        log_folder=args.log_folder,
        on_ready=lambda spec, parameters: print(spec.describe(parameters), flush=True),
    )
    if result.best_epoch:
        dev = result.dev
        how = "interrupted" if result.interrupted else "stopped early" if result.stopped_early else "finished"
        print(
            f"{how}: best dev F1 {100 * float(dev['f1']):.2f} at epoch {result.best_epoch}; "
            f"model saved to {result.output}",
            flush=True,
        )
        if result.interrupted:
            print("resume with the same command plus --resume", file=sys.stderr)
    else:
        print("interrupted before the first epoch ended: no model saved", file=sys.stderr)
    return 130 if result.interrupted else 0


def cmd_spark_annotate(args: argparse.Namespace) -> int:
    from nerkit.spark import annotate_files, spark_session

    spark = spark_session(args.master, "nerkit annotate", log_level="OFF")
    started = time.perf_counter()
    annotate_files(
        spark,
        args.model,
        args.input,
        args.output,
        input_format=args.input_format,
        output_format=args.output_format,
        batch_size=args.batch_size,
        precision=args.transformer_precision,
    )
    print(
        f"annotated {args.input} into {args.output} in {time.perf_counter() - started:.1f}s", file=sys.stderr
    )
    return 0


def cmd_spark_train(args: argparse.Namespace) -> int:
    from nerkit.spark import spark_session
    from nerkit.spark import train as spark_train

    spark = spark_session(args.master, "nerkit train", log_level="OFF")
    result = spark_train(
        spark,
        args.train,
        args.output,
        dev=args.dev,
        test=args.test,
        embeddings=args.embeddings,
        options=_train_options(args),
        num_processes=args.num_processes,
        local_mode=not args.on_executors,
    )
    if not result.best_epoch:
        raise NerkitError("training ended before its first epoch: no model saved")
    print(
        f"finished: best dev F1 {100 * float(result.dev['f1']):.2f} at epoch {result.best_epoch}; "
        f"model saved to {result.output}",
        flush=True,
    )
    return 0


def cmd_spec(args: argparse.Namespace) -> int:
    if args.model is not None:
        from nerkit.io import read_meta
        from nerkit.model.spec import ModelSpec

        meta = read_meta(args.model)
        try:
            spec = ModelSpec.from_json(meta["spec"])  # type: ignore[arg-type]
        except (KeyError, TypeError) as error:
            raise NerkitError(f"model.json has no usable spec ({error})", path=args.model) from None
        from nerkit.model.tagger import Tagger

        parameters = Tagger(spec).parameter_count()
    elif args.train is not None:
        from nerkit.train import plan_model

        spec, parameters = plan_model(args.train, args.dev, args.embeddings, _train_options(args))
    else:
        raise NerkitError("give a model folder, or --train FILE to size a model before training")
    _emit(_json(spec.to_json()) if args.json else spec.describe(parameters) + "\n", None)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from nerkit.pipeline import load
    from nerkit.predict import predict_file

    colours = _parse_colours(args.colors)
    pipeline = load(args.model, threads=args.threads, precision=args.transformer_precision)
    summary = predict_file(
        pipeline,
        args.input,
        args.output,
        input_format=args.input_format,
        output_format=args.format,
        batch_size=args.batch_size,
        colours=colours,
    )
    where = f" to {args.output}" if args.output not in (None, "-") else ""
    print(
        f"tagged {summary.documents:,} {'sentences' if args.input_format == 'conll' else 'documents'}, "
        f"{summary.tokens:,} tokens, {summary.entities:,} entities in {summary.seconds:.1f}s "
        f"({summary.tokens_per_second:,.0f} tokens/s){where}",
        file=sys.stderr,
    )
    return 0


def _parse_colours(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    colours = {}
    for item in text.split(","):
        label, sep, colour = item.partition("=")
        if not sep or not label.strip() or not colour.strip():
            raise NerkitError(
                f"--colors item {item!r} is not LABEL=COLOUR", hint="e.g. --colors PER=#ffd166,LOC=lightblue"
            )
        colours[label.strip()] = colour.strip()
    return colours


def cmd_evaluate(args: argparse.Namespace) -> int:
    from nerkit.pipeline import load

    pipeline = load(args.model, threads=args.threads, precision=args.transformer_precision)
    score = pipeline.evaluate(args.file, tag_column=args.tag_column)
    _emit(_json(score.to_json()) if args.json else format_report(score), None)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from nerkit.serve import create_app, run_server
    except ModuleNotFoundError as error:
        if error.name not in ("fastapi", "uvicorn", "starlette", "pydantic"):
            raise
        raise NerkitError(f"nerkit serve needs {error.name}", hint="pip install 'nerkit[serve]'") from None
    from nerkit.pipeline import load

    pipeline = load(args.model, threads=args.threads, precision=args.transformer_precision)
    limits = {
        name: value
        for name in ("max_text_chars", "max_batch", "max_queue")
        if (value := getattr(args, name)) is not None
    }
    run_server(create_app(pipeline, **limits), args.host, args.port)
    return 0


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    """The model and optimisation options of `train` (and of `spec --train`); defaults from TrainOptions."""
    d = TrainOptions()
    group = parser.add_argument_group("training options")
    group.add_argument(
        "--max-epochs",
        type=int,
        help=f"most epochs (default {MAX_EPOCHS}, {MAX_EPOCHS_FINE_TUNE} with --fine-tune)",
    )
    group.add_argument(
        "--min-epochs", type=int, help=f"epochs before early stopping may stop (default {d.min_epochs})"
    )
    group.add_argument(
        "--learning-rate",
        "--lr",
        type=float,
        help=(
            f"initial learning rate (default {LEARNING_RATE_WITH_VECTORS} with --embeddings, "
            f"{LEARNING_RATE_WITHOUT_VECTORS} without, {LEARNING_RATE_FINE_TUNE} for the transformer with --fine-tune)"
        ),
    )
    group.add_argument(
        "--po", type=float, help=f"learning-rate decay: lr / (1 + po * epoch) (default {d.po})"
    )
    group.add_argument("--batch-size", type=int, help=f"sentences per batch (default {d.batch_size})")
    group.add_argument(
        "--dropout",
        type=float,
        help=f"dropout on token vectors and LSTM output (default {DROPOUT}, {DROPOUT_FINE_TUNE} with --fine-tune)",
    )
    group.add_argument(
        "--word-dropout", type=float, help=f"share of words replaced by unknown (default {d.word_dropout})"
    )
    group.add_argument(
        "--validation-split",
        type=float,
        help=f"share of train held out as dev without --dev (default {d.validation_split})",
    )
    group.add_argument("--seed", type=int, help=f"random seed (default {d.seed})")
    group.add_argument(
        "--patience", type=int, help=f"epochs without a better dev F1 before stopping (default {d.patience})"
    )
    group.add_argument("--hidden", type=int, help=f"LSTM units per direction (default {d.hidden})")
    group.add_argument("--char-filters", type=int, help=f"character CNN filters (default {d.char_filters})")
    group.add_argument(
        "--max-vectors", type=int, help=f"vectors kept beyond the data's words (default {d.max_vectors})"
    )
    group.add_argument(
        "--average-epochs",
        type=int,
        help=f"evaluate and keep the mean of the last N epochs' weights (1: off; default {d.average_epochs})",
    )
    group.add_argument(
        "--context-tokens",
        type=int,
        help="read neighbouring sentences of a -DOCSTART- document together, up to this many tokens "
        f"(0: each sentence alone; default {d.context_tokens})",
    )
    group.add_argument(
        "--transformer",
        metavar="FOLDER",
        help="a local BERT-family folder (config.json, model.safetensors, tokenizer.json) whose "
        "contextual features the tagger also reads; it is copied into the model folder",
    )
    group.add_argument(
        "--transformer-layers",
        type=int,
        help=f"the transformer's last layers mixed by learned weights (default {d.transformer_layers})",
    )
    group.add_argument(
        "--transformer-pooling",
        choices=("first", "mean"),
        help=f"a token's feature from its first sub-word or the mean of all (default {d.transformer_pooling})",
    )
    group.add_argument(
        "--transformer-context",
        action=argparse.BooleanOptionalAction,
        help="the transformer reads each sentence with the rest of its -DOCSTART- document (default: on "
        "with --fine-tune, off for frozen features, which did as well without it)",
    )
    group.add_argument(
        "--fine-tune",
        action="store_true",
        default=None,
        help="train the --transformer itself with a tagging head (warm-up and linear decay, clipping)",
    )
    group.add_argument(
        "--head",
        choices=("crf", "linear"),
        help=f"the fine-tuned tagger's head (default {d.head})",
    )
    group.add_argument(
        "--feature-cache",
        metavar="FOLDER",
        help="where transformer features are cached between runs (default $XDG_CACHE_HOME/nerkit/features)",
    )
    _add_precision(group)


def _add_precision(parser: argparse._ActionsContainer) -> None:
    parser.add_argument(
        "--transformer-precision",
        choices=PRECISIONS,
        default="auto",
        help="what frozen transformer features are computed in (default auto: bfloat16 where the CPU "
        "multiplies it natively, twice as fast; else float32)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `nerkit` command."""
    parser = argparse.ArgumentParser(
        prog="nerkit", description="Train, evaluate and use named-entity-recognition models on CoNLL data."
    )
    parser.add_argument("--version", action="version", version=f"nerkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    tag_column_help = "index of the tag column (0 is the token; negative counts from the end; default -1)"

    stats = add("stats", cmd_stats, "Count documents, sentences, tokens, entities and tags of a CoNLL file.")
    stats.add_argument("file", help="a CoNLL file")
    stats.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    stats.add_argument(
        "--scheme", action="store_true", help="also check every chunk against the scheme found"
    )
    stats.add_argument("--tag-column", type=int, default=-1, help=tag_column_help)

    score = add(
        "score", cmd_score, "Score predictions exactly as conlleval.pl does (token ... gold predicted)."
    )
    score.add_argument(
        "file", help="a file in conlleval's format: the gold and predicted tags are the last two"
    )
    score.add_argument("--json", action="store_true", help="print one JSON object (fractions 0..1)")

    convert = add(
        "convert", cmd_convert, "Rewrite a CoNLL file's tags in another scheme (IOB1, IOB2, BIOES)."
    )
    convert.add_argument("file", help="a CoNLL file")
    convert.add_argument(
        "--to", required=True, type=str.upper, choices=(*SCHEMES, "IOBES"), help="the scheme to write"
    )
    convert.add_argument("--output", "-o", required=True, help="the CoNLL file to write")
    convert.add_argument("--tag-column", type=int, default=-1, help=tag_column_help)

    tokenize = add(
        "tokenize", cmd_tokenize, "Split raw text (one document per line) into sentences and tokens."
    )
    tokenize.add_argument("file", help="a UTF-8 text file, or - for standard input")
    tokenize.add_argument("--format", choices=("jsonl", "conll"), default="jsonl", help="output format")
    tokenize.add_argument("--output", "-o", help="where to write (default: standard output)")
    train = add(
        "train", cmd_train, "Train a BiLSTM-CNN-CRF tagger on a CoNLL file; keeps the best model by dev F1."
    )
    data = train.add_argument_group("data")
    data.add_argument("--train", required=True, help="the training CoNLL file")
    data.add_argument("--dev", help="the dev CoNLL file for model selection (default: carve it out of train)")
    data.add_argument("--test", help="a CoNLL file also scored every epoch (never used for selection)")
    data.add_argument(
        "--embeddings", help="word vectors: GloVe, word2vec (.bin) or fastText .vec, plain or .gz"
    )
    data.add_argument("--output", "-o", required=True, help="the model folder to write")
    data.add_argument("--tag-column", type=int, help=tag_column_help)
    _add_training_options(train)
    run = train.add_argument_group("run")
    run.add_argument(
        "--resume", action="store_true", help="go on from the checkpoint an interrupted run left"
    )
    run.add_argument("--extended-log", action="store_true", help="print per-type scores every epoch")
    run.add_argument("--log-folder", help="also write the epoch log to a dated .log file in this folder")
    run.add_argument("--threads", type=int, help="CPU threads (default: every core)")

    spec = add("spec", cmd_spec, "Show a model's architecture, or size one from data before training.")
    spec.add_argument("model", nargs="?", help="a model folder")
    spec.add_argument("--train", help="size a model for this training CoNLL file instead")
    spec.add_argument("--dev", help="the dev file training would use (default: carved out of train)")
    spec.add_argument("--embeddings", help="the word vectors the model would use")
    spec.add_argument("--tag-column", type=int, help=tag_column_help)
    spec.add_argument("--json", action="store_true", help="print the spec as JSON")
    _add_training_options(spec)

    predict = add("predict", cmd_predict, "Tag raw text, CoNLL or JSON lines with a trained model.")
    predict.add_argument("model", help="a model folder")
    predict.add_argument("input", help="the input file, or - for standard input")
    predict.add_argument(
        "--input-format",
        choices=("text", "conll", "jsonl"),
        default="text",
        help="text: one document per line; conll: tokens as given; jsonl: objects with a text field",
    )
    predict.add_argument(
        "--format", choices=("jsonl", "conll", "html"), default="jsonl", help="output format"
    )
    predict.add_argument("--output", "-o", help="where to write (default: standard output)")
    predict.add_argument("--batch-size", type=int, default=512, help="sentences per model call")
    predict.add_argument("--colors", help="HTML colours per label, e.g. PER=#ffd166,LOC=lightblue")
    predict.add_argument("--threads", type=int, default=0, help="CPU threads (default: every core)")
    _add_precision(predict)

    evaluate = add("evaluate", cmd_evaluate, "Score a model on a tagged CoNLL file by conlleval's rules.")
    evaluate.add_argument("model", help="a model folder")
    evaluate.add_argument("file", help="a tagged CoNLL file (tokens as given)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object (fractions 0..1)")
    evaluate.add_argument("--tag-column", type=int, default=-1, help=tag_column_help)
    evaluate.add_argument("--threads", type=int, default=0, help="CPU threads (default: every core)")
    _add_precision(evaluate)
    serve = add("serve", cmd_serve, "Serve a model over HTTP: a REST API and a web page (nerkit[serve]).")
    serve.add_argument("model", help="a model folder")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: only here)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000; 0: any free)")
    serve.add_argument(
        "--max-text-chars", type=int, help="longest text in characters (default 100,000; longer: 413)"
    )
    serve.add_argument(
        "--max-batch",
        type=int,
        help="most texts in one request, and in one model call shared by concurrent requests (default 64)",
    )
    serve.add_argument(
        "--max-queue", type=int, help="most texts waiting for the model; beyond it 503 (default 1,024)"
    )
    serve.add_argument("--threads", type=int, default=0, help="CPU threads (default: every core)")
    _add_precision(serve)
    spark = commands.add_parser(
        "spark",
        help="Run on Apache Spark: annotate files, train in several processes (pip install 'nerkit[spark]').",
        description="Run on Apache Spark: annotate files, train in several processes.",
    )
    spark_commands = spark.add_subparsers(dest="spark_command", required=True, metavar="COMMAND")
    master_help = (
        "the Spark master: local[N] uses N cores here (default local[*]); spark://HOST:PORT, yarn, k8s://URL"
    )
    annotate = spark_commands.add_parser(
        "annotate",
        help="Annotate files into a folder of part files, as nerkit predict would.",
        description="Annotate files into a folder of part files, as nerkit predict would.",
    )
    annotate.set_defaults(handler=cmd_spark_annotate)
    annotate.add_argument("model", help="a model folder (readable where the executors run)")
    annotate.add_argument("input", help="a file, folder or glob")
    annotate.add_argument("output", help="the folder of part files to create")
    annotate.add_argument("--master", default="local[*]", help=master_help)
    annotate.add_argument(
        "--input-format",
        choices=("text", "conll", "jsonl", "parquet"),
        default="text",
        help="text: one document per line; conll: tokens as given; jsonl, parquet: rows with a text field",
    )
    annotate.add_argument("--output-format", choices=("jsonl", "parquet"), default="jsonl")
    annotate.add_argument("--batch-size", type=int, default=512, help="sentences per model call")
    _add_precision(annotate)
    spark_train = spark_commands.add_parser(
        "train",
        help="Train as nerkit train does, in several processes (DDP over gloo) started by Spark.",
        description="Train as nerkit train does, in several processes (DDP over gloo) started by Spark.",
    )
    spark_train.set_defaults(handler=cmd_spark_train)
    data = spark_train.add_argument_group("data")
    data.add_argument("--train", required=True, help="the training CoNLL file(s): a file, folder or glob")
    data.add_argument("--dev", help="the dev CoNLL file(s) for model selection")
    data.add_argument("--test", help="CoNLL file(s) also scored every epoch")
    data.add_argument("--embeddings", help="word vectors, readable where the processes run")
    data.add_argument("--output", "-o", required=True, help="the model folder to write (on this machine)")
    spark_train.add_argument("--master", default="local[*]", help=master_help)
    spark_train.add_argument("--num-processes", type=int, default=2, help="training processes (default 2)")
    spark_train.add_argument(
        "--on-executors",
        action="store_true",
        help="run the processes on the cluster's executors (default: on this machine)",
    )
    _add_training_options(spark_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `nerkit` command; returns the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except NerkitError as error:
        print(f"nerkit: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nerkit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as error:  # a bug in nerkit, not the user's input: still one line unless asked
        if os.environ.get("NERKIT_DEBUG"):
            traceback.print_exc()
        print(
            f"nerkit: internal error: {type(error).__name__}: {error} "
            "(run with NERKIT_DEBUG=1 for details, and please report it)",
            file=sys.stderr,
        )
        return 1
