"""`nerkit export`: a model folder as ONNX plus numpy arrays, to run without torch (onnxruntime)."""

from __future__ import annotations

import argparse
import sys

HELP = (
    "Export a model to ONNX: a folder that nerkit loads and runs with onnxruntime, without torch "
    "(nerkit[runtime]); every command that takes a model folder takes it."
)


def add(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `export` command's parser."""
    parser = commands.add_parser("export", help=HELP, description=HELP)
    parser.set_defaults(handler=run)
    parser.add_argument("model", help="a model folder written by nerkit train")
    parser.add_argument("--output", "-o", required=True, help="the exported folder to write (replaced whole)")
    parser.add_argument(
        "--quantize",
        choices=("int8",),
        help="store the weights as 8-bit integers (onnxruntime's dynamic quantization): a smaller folder",
    )


def run(args: argparse.Namespace) -> int:
    """Export the model and say what was written."""
    from nerkit.runtime.export import export_model

    exported = export_model(args.model, args.output, args.quantize)
    kind = "int8" if exported.quantize else "float32"
    print(f"wrote {exported.folder} ({kind}, network {exported.network_bytes / 1e6:.1f} MB)", file=sys.stderr)
    return 0
