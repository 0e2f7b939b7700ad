"""`nerkit report`: where a model goes wrong on annotated data, as one HTML page with charts and as JSON."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from nerkit.cli._options import add_precision, add_reading, add_threads, fraction, positive, reading_options
from nerkit.errors import NerkitError

if TYPE_CHECKING:
    from nerkit.report.build import Report

HELP = (
    "Error analysis of a model on annotated data: conlleval's and partial-match scores, error kinds, a "
    "confusion heat map, confidence and thresholds, the worst sentences, likely annotation errors and "
    "training curves, as one self-contained HTML page (and JSON)."
)
SUSPECTS_HELP = (
    "write the likely annotation errors, for the next annotation round: JSON lines (one sentence per "
    "line with its text, its gold entities, its place and its suspects; nerkit reads it back for "
    "training), or, by the name or --suspects-format, Label Studio tasks (.json), brat (a folder), "
    "CoNLL or Hugging Face"
)


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `report` command's parser."""
    from nerkit.data.formats import FORMATS

    parser = commands.add_parser("report", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument("model", help="a model folder")
    parser.add_argument(
        "file",
        nargs="?",
        help="annotated data in any format evaluate reads; without it the page shows the training curves",
    )
    parser.add_argument("--output", "-o", help="the HTML page to write (e.g. report.html)")
    parser.add_argument(
        "--json", metavar="FILE", help="write the report's figures as JSON (- for standard output)"
    )
    parser.add_argument("--suspects", metavar="FILE", help=SUSPECTS_HELP)
    parser.add_argument(
        "--suspects-format", choices=FORMATS, help="the format of --suspects (default: from its name)"
    )
    parser.add_argument(
        "--suspect-confidence",
        type=fraction,
        default=0.95,
        help="how sure the model must be to cast doubt on an annotation (default 0.95)",
    )
    parser.add_argument("--batch-size", type=positive, default=512, help="sentences per model call")
    add_reading(parser)
    add_threads(parser)
    add_precision(parser)


def run(args: argparse.Namespace) -> int:
    """Build the report, write the page, the JSON and the suspects, and say what was found."""
    from nerkit.cli._output import as_json, emit
    from nerkit.files import check_output, write_text_atomic
    from nerkit.pipeline import load
    from nerkit.report.charts import require_matplotlib
    from nerkit.report.export import check_suspects_output, write_suspects

    outputs = [name for name in (args.output, args.json, args.suspects) if name not in (None, "-")]
    if args.output is None and args.json is None and args.suspects is None:
        raise NerkitError(
            "nothing to write",
            hint="name the page (-o report.html), the JSON (--json FILE) or the suspects (--suspects FILE)",
        )
    if args.suspects is not None and args.file is None:
        raise NerkitError(
            "--suspects needs a FILE of annotated data", hint="nerkit report MODEL FILE --suspects OUT"
        )
    if args.output == "-":
        raise NerkitError("the page cannot go to standard output", hint="name the file: -o report.html")
    if len({os.path.realpath(name) for name in outputs}) < len(outputs):
        raise NerkitError("-o, --json and --suspects name the same file", hint="give each its own file")
    inputs = [args.model] + ([args.file] if args.file is not None else [])
    others = [name for name in (args.output, args.json) if name not in (None, "-")]
    for name in others:
        check_output(name, inputs)
    suspects_format = None
    if args.suspects is not None:
        suspects_format = check_suspects_output(args.suspects, args.suspects_format, inputs, others)
    if args.output is not None:
        require_matplotlib()  # before the model tags anything
    if args.file is not None:
        from nerkit.data.formats.detect import require_format

        require_format(args.file, args.input_format)  # before the model loads
    pipeline = load(args.model, threads=args.threads, precision=args.transformer_precision)
    report = pipeline.report(
        args.file,
        format=args.input_format,
        options=reading_options(args),
        batch_size=args.batch_size,
        suspect_confidence=args.suspect_confidence,
    )
    if args.json is not None:
        text = as_json(report.to_json())
        if args.json == "-":
            emit(text)
        else:
            write_text_atomic(args.json, [text], inputs)
    if args.output is not None:
        write_text_atomic(args.output, [report.to_html()], inputs)
    if args.suspects is not None and report.suspects is not None and suspects_format is not None:
        write_suspects(args.suspects, report.suspects, suspects_format, inputs)
    print(_said(report, args), file=sys.stderr)
    return 0


def _said(report: Report, args: argparse.Namespace) -> str:
    """One line saying what was written and what the report found."""
    written = ", ".join(name for name in (args.output, args.json, args.suspects) if name not in (None, "-"))
    parts = [f"wrote {written}" if written else "wrote the report"]
    if report.summary is not None:
        parts.append(f"F1 {100 * report.summary.f1:.2f}")
    if report.confidence is not None:
        best = report.confidence.best_f1
        parts.append(f"best threshold {best.threshold:.4f} (F1 {100 * best.f1:.2f})")
    if report.suspects is not None:
        parts.append(f"{len(report.suspects):,} likely annotation errors")
    if report.training is None:
        parts.append("no training log in the model folder")
    return "; ".join(parts)
