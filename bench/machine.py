"""The machine a benchmark ran on, to put beside every absolute figure: lscpu's model and the flags that matter."""

from __future__ import annotations

import subprocess


def cpu() -> dict[str, str]:
    """lscpu's model name, its CPU count, and whether the CPU has AVX-512 BF16 and AVX2."""
    text = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    flags = fields.get("Flags", "").split()
    return {
        "model": fields.get("Model name", "?").strip(),
        "cpus": fields.get("CPU(s)", "?").strip(),
        "avx512_bf16": str("avx512_bf16" in flags),
        "avx2": str("avx2" in flags),
    }
