"""What the commands print: text to standard output or a file written atomically, JSON, a progress bar."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence


def emit(text: str) -> None:
    """Print `text` to standard output."""
    sys.stdout.write(text)


def emit_lines(lines: Iterable[str], output: str | None, inputs: Sequence[str] = ()) -> None:
    """Write `lines` to standard output (`output` None or "-"), or atomically to the file `output`, which
    must not be one of the command's `inputs` (checked before any line is made)."""
    from nerkit.files import write_text_atomic

    if output is None or output == "-":
        sys.stdout.writelines(lines)
        return
    write_text_atomic(output, lines, inputs)
    print(f"wrote {output}", file=sys.stderr)


def as_json(data: object) -> str:
    """Indented strict JSON (no NaN) with a trailing newline; UTF-8 text as it is, unless a string holds a
    file name's undecodable bytes (surrogate escapes), which only ASCII escapes can carry."""
    text = json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data, ensure_ascii=True, indent=2, allow_nan=False)
    return text + "\n"


def progress(label: str) -> Callable[[int, int], None] | None:
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
