"""Benchmark: the torch model against its float32 and int8 exports, side by side in one run.

    python bench/export_speed.py MODEL ../shared/data/conll2003/valid.txt --output bench/results/export_speed.json

MODEL is exported twice (float32, int8) into a temporary folder, then for each of the three:
- parity (the exports against torch on FILE): sentences whose entities differ, the largest confidence gap;
- dev F1 (conlleval, `Pipeline.evaluate`);
- `nerkit predict` on FILE repeated to at least `--tokens` pre-tokenised tokens (CoNLL in, CoNLL out), timed
  from process start to exit: tokens/s;
- one sentence from process start to output (`echo TEXT | nerkit predict MODEL -`);
- with `--install-size`, the site-packages of a fresh venv with `pip install '.[runtime]'` (no torch),
  then of `.[runtime-transformers]`, and one sentence start to output with that venv's `nerkit` (a wheel
  install, as deployed) on both exports.
With `--transformer-model MODEL2` (a model with transformer features), the same for it on
`--transformer-tokens` tokens: its parity is against torch computing features in float32
(`--transformer-precision float32`), its speed against torch's default (bfloat16 where the CPU has it)
and against torch in float32 (what a CPU without bfloat16 runs).
The three models take turns in every repeat, so noise falls on all of them alike; medians are reported.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu
from predict_speed import build_inputs

import nerkit
from nerkit.data.conll import read_conll
from nerkit.runtime.export import export_model

SENTENCE = "EU rejects German call to boycott British lamb ."
NERKIT = [sys.executable, "-m", "nerkit"]
VENV_OWN = ("pip", "setuptools", "pkg_resources", "_distutils_hack", "distutils-precedence")  # any venv's


def parity(models: dict[str, Path], file: Path, transformer: bool) -> dict[str, object]:
    """Per export: sentences whose entities differ from torch's (computing any transformer features in
    float32), the largest confidence gap, dev F1; with `transformer`, torch's default F1 too."""
    sentences = list(read_conll(file))
    tokens = [s.tokens for s in sentences]
    found: dict[str, object] = {}
    reference = None
    for name, folder in models.items():
        pipeline = nerkit.load(str(folder), threads=2, precision="float32")
        tagged = pipeline.tag_tokens(tokens)
        f1 = pipeline.evaluate(file).f1
        if reference is None:
            reference = tagged
            found[name] = {"dev_f1": round(100 * f1, 2)}
            if transformer:
                default = nerkit.load(str(folder), threads=2).evaluate(file).f1
                found[name] = {
                    "dev_f1": round(100 * f1, 2),
                    "default_precision_dev_f1": round(100 * default, 2),
                }
            continue
        differ = sum(a.tags != b.tags for a, b in zip(tagged, reference, strict=True))
        gaps = [
            abs(x - y)
            for a, b in zip(tagged, reference, strict=True)
            if a.tags == b.tags
            for x, y in zip(a.confidences, b.confidences, strict=True)
        ]
        found[name] = {
            "dev_f1": round(100 * f1, 2),
            "sentences_that_differ": differ,
            "sentences": len(tokens),
            "largest_confidence_gap": max(gaps, default=0.0),
        }
    return found


def timed(command: list[str], stdin: str | None = None) -> float:
    """Seconds from process start to exit of a command that must succeed."""
    started = time.perf_counter()
    subprocess.run(command, input=stdin, capture_output=True, text=True, check=True)
    return time.perf_counter() - started


def speed(
    models: dict[str, tuple[Path, list[str]]], conll: Path, tokens: int, repeats: int, folder: Path
) -> dict[str, object]:
    """`nerkit predict` tokens/s on the pre-tokenised input, and one sentence start to output, per model
    (a folder and extra arguments)."""
    runs: dict[str, list[float]] = {name: [] for name in models}
    single: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(repeats):
        for name, (model, extra) in models.items():
            output = folder / f"{name}.conll"
            command = [*NERKIT, "predict", str(model), str(conll), "--input-format", "conll", *extra]
            runs[name].append(timed([*command, "--format", "conll", "--output", str(output)]))
            single[name].append(timed([*NERKIT, "predict", str(model), "-", *extra], SENTENCE + "\n"))
    return {
        name: {
            "predict_seconds": runs[name],
            "predict_tokens_per_second": round(tokens / statistics.median(runs[name])),
            "one_sentence_seconds": single[name],
            "one_sentence_median": round(statistics.median(single[name]), 3),
        }
        for name in models
    }


def install_size(folder: Path, exports: dict[str, Path], repeats: int) -> dict[str, object]:
    """The site-packages of a fresh venv holding nerkit[runtime] (no torch), in MB, and whether torch is
    there; one sentence start to output with its `nerkit` on each export; then the size with
    `tokenizers` alone (--no-deps) and with nerkit[runtime-transformers] (tokenizers and huggingface_hub)."""
    venv = folder / "runtime-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    root = Path(__file__).resolve().parent.parent
    pip = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "-c",
        str(root / "constraints.txt"),
    ]
    subprocess.run([*pip, f"{root}[runtime]"], check=True)
    packages = next((venv / "lib").glob("python3*/site-packages"))
    sizes = {entry.name: _megabytes(entry) for entry in packages.iterdir()}
    venv_own = sum(size for name, size in sizes.items() if name.startswith(VENV_OWN))
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:5]
    found: dict[str, object] = {
        "site_packages_mb": _megabytes(packages),
        "without_pip_and_setuptools_mb": _megabytes(packages) - venv_own,
        "largest_mb": dict(largest),
        "torch_installed": (packages / "torch").exists(),
    }
    single: dict[str, list[float]] = {name: [] for name in exports}
    for _ in range(repeats):
        for name, export in exports.items():
            single[name].append(
                timed([str(venv / "bin" / "nerkit"), "predict", str(export), "-"], SENTENCE + "\n")
            )
    found["one_sentence_seconds"] = single
    found["one_sentence_median"] = {name: round(statistics.median(runs), 3) for name, runs in single.items()}
    subprocess.run([*pip, "--no-deps", "tokenizers"], check=True)  # all an exported transformer needs
    found["with_tokenizers_alone_mb"] = _megabytes(packages) - venv_own
    subprocess.run([*pip, f"{root}[runtime-transformers]"], check=True)  # tokenizers' own dependencies too
    found["with_runtime_transformers_mb"] = _megabytes(packages) - venv_own
    return found


def _megabytes(path: Path) -> int:
    """What `du -sm` says of `path`."""
    return int(
        subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]
    )


def measure(
    model: Path, file: Path, tokens: int, repeats: int, folder: Path, transformer: bool
) -> dict[str, object]:
    """Export `model` (float32 and int8) into `folder`, then its parity, F1 and speed against torch."""
    folder.mkdir()
    exports = {}
    for quantize in (None, "int8"):
        started = time.perf_counter()
        export_model(model, folder / (quantize or "float32"), quantize)
        exports[quantize or "float32"] = round(time.perf_counter() - started, 2)
    models = {"torch": model, "float32": folder / "float32", "int8": folder / "int8"}
    sizes = {
        name: sum(p.stat().st_size for p in path.glob("*.onnx"))
        for name, path in models.items()
        if name != "torch"
    }
    conll, _, counted = build_inputs(file, tokens, folder, documents=False)
    timed_models = {name: (path, []) for name, path in models.items()}
    if transformer:  # torch's features in float32, as on a CPU without bfloat16
        timed_models["torch_float32"] = (model, ["--transformer-precision", "float32"])
    return {
        "model": str(model),
        "export_seconds": exports,
        "network_bytes": sizes,
        "parity": parity(models, file, transformer),
        "tokens": counted,
        "speed": speed(timed_models, conll, counted, repeats, folder),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", type=Path)
    parser.add_argument("file", type=Path, help="annotated CoNLL data (CoNLL-2003 dev)")
    parser.add_argument(
        "--transformer-model", type=Path, help="a model with transformer features, measured too"
    )
    parser.add_argument("--tokens", type=int, default=250_000)
    parser.add_argument(
        "--transformer-tokens", type=int, default=50_000, help="tokens for the transformer model"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--install-size", action="store_true")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        result: dict[str, object] = {
            "benchmark": "export",
            "file": str(args.file),
            "cpu": cpu(),
            "python": platform.python_version(),
            **measure(args.model, args.file, args.tokens, args.repeats, folder / "static", False),
        }
        if args.transformer_model is not None:
            result["transformer"] = measure(
                args.transformer_model,
                args.file,
                args.transformer_tokens,
                args.repeats,
                folder / "transformer",
                True,
            )
        if args.install_size:
            exports = {name: folder / "static" / name for name in ("float32", "int8")}
            result["runtime_install"] = install_size(folder, exports, args.repeats)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
