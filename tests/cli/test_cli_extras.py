"""A command that needs an optional part that is not installed says which extra to install, in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"


@pytest.mark.parametrize(
    ("missing", "argv", "extra"),
    [
        ("torch", ["train", "--train", str(SAMPLES / "train.conll"), "-o", "model"], "train"),
        ("onnx", ["export", "MODEL", "-o", "out"], "export"),
        ("onnxruntime", ["predict", "EXPORTED", str(SAMPLES / "raw.txt")], "runtime"),
    ],
)
def test_a_missing_extra_is_one_line(
    tmp_path: Path, missing: str, argv: list[str], extra: str, tiny_model
) -> None:
    script = f"import sys; sys.modules[{missing!r}] = None\nfrom nerkit.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    if "EXPORTED" in argv:
        pytest.importorskip("onnx", reason="exporting needs onnx: pip install -e '.[export]'")
        from nerkit.runtime.export import export_model

        export_model(tiny_model, tmp_path / "exported")
    argv = [{"MODEL": str(tiny_model), "EXPORTED": str(tmp_path / "exported")}.get(arg, arg) for arg in argv]
    done = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 2
    assert done.stderr == f"nerkit: error: this needs {missing}; pip install 'nerkit[{extra}]'\n"
