"""A real `nerkit serve` process on a free loopback port, shared by the tests that need a live server."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class Served:
    """A running server: its base URL and every line it wrote to standard error so far."""

    url: str
    process: subprocess.Popen[str]
    max_text_chars: int
    lines: list[str] = field(default_factory=list)

    def wait_for_line(self, pattern: str, timeout: float = 10.0) -> str:
        """The first standard-error line matching `pattern`, waiting for it to be written."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if re.search(pattern, line):
                    return line
            time.sleep(0.02)
        raise AssertionError(f"no line matching {pattern!r} in {self.lines}")


@pytest.fixture(scope="session")
def served(tiny_model: Path) -> Iterator[Served]:
    """`nerkit serve` on the tiny model (port 0: a free one; texts up to 300 characters); stopped by
    Ctrl+C (SIGINT) at the end, which must exit 0."""
    max_text_chars = 300
    pytest.importorskip("fastapi", reason="the serve tests need FastAPI: pip install 'nerkit[serve]'")
    command = [sys.executable, "-m", "nerkit", "serve", str(tiny_model), "--port", "0", "--threads", "1"]
    command += ["--max-text-chars", str(max_text_chars)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    assert process.stderr is not None
    served = Served("", process, max_text_chars)

    def read_lines() -> None:
        for line in process.stderr:
            served.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read_lines, daemon=True)
    reader.start()
    try:
        line = served.wait_for_line(r"serving on http://127\.0\.0\.1:\d+/", timeout=60)
        served.url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        reader.join(timeout=5)
    assert (code, served.lines[-1]) == (0, "nerkit: stopped"), served.lines
