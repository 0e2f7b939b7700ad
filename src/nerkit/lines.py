"""UTF-8 text files read line by line, with file:line errors."""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

from nerkit.errors import NerkitError
from nerkit.files import PathLike

BOM = "\ufeff"
_REJECTED = re.compile("[\x00\ufeff]")


BLOCK_BYTES = 1 << 14  # bytes read at a time: whole lines of them decoded together (memory stays small)


def read_lines(path: PathLike) -> Iterator[tuple[int, str]]:
    """Yield (line number, text without its line ending) for each line; `-` reads standard input.

    A line ends at LF, CR LF or a lone CR (old Mac files). Decodes UTF-8 strictly; a byte-order mark
    at the start of a line is dropped (files joined with `cat` keep theirs), one anywhere else and a
    NUL character are errors. Raises NerkitError naming the file and line.
    """
    with open_bytes(path) as (handle, name):
        yield from _decode_lines(handle, name)


@contextmanager
def open_bytes(path: PathLike) -> Iterator[tuple[BinaryIO, PathLike]]:
    """The file `path` opened for reading bytes (standard input for `-`), with the name its errors
    should give (`<stdin>` for standard input); a missing file, a folder or a refused open is a
    NerkitError."""
    if os.fspath(path) == "-":
        yield sys.stdin.buffer, "<stdin>"
        return
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below; open errors reported first
    except FileNotFoundError:
        raise NerkitError("no such file", path=path, hint="check the path") from None
    except IsADirectoryError:
        raise NerkitError("is a folder, not a file", path=path, hint="name a file") from None
    except OSError as error:
        raise NerkitError(f"cannot read: {error.strerror}", path=path) from None
    with handle:
        yield handle, path


def decode_lines(data: bytes, path: PathLike, first_line: int = 1) -> Iterator[tuple[int, str]]:
    """`read_lines` over a file's bytes already read (`path` names it in errors); `first_line` numbers
    the first line, for a piece cut from further into the file."""
    return _decode_lines(io.BytesIO(data), path, first_line)


def count_line_ends(data: bytes, start: int = 0, end: int | None = None) -> int:
    """How many lines `read_lines` ends in data[start:end] (LF, CR LF and lone CR each end one)."""
    end = len(data) if end is None else end
    return data.count(b"\n", start, end) + data.count(b"\r", start, end) - data.count(b"\r\n", start, end)


def check_characters(
    text: str, path: PathLike, line: int, what: str = "the line", unit: str = "column"
) -> None:
    """Raise NerkitError naming the file and line if `text` holds a NUL or a byte-order mark (`what`
    names `text` in the message, `unit` what its positions are: "at column 4")."""
    found = _REJECTED.search(text)
    if found is None:
        return
    column = f"{unit} {found.start() + 1}"
    if found.group() == "\x00":
        raise NerkitError(
            f"{what} holds a NUL character at {column}",
            path=path,
            line=line,
            hint="remove it; NULs often mean a binary or UTF-16 file: re-save it as UTF-8 text",
        )
    raise NerkitError(
        f"{what} holds a byte-order mark (U+FEFF) at {column}, inside the line",
        path=path,
        line=line,
        hint="remove it (only one at the start of a line is dropped); U+2060 is the word joiner",
    )


def _raw_lines(handle: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a binary stream without their endings: LF, CR LF, or a lone CR."""
    for raw in handle:
        body = raw.removesuffix(b"\n").removesuffix(b"\r")
        if b"\r" in body:
            yield from body.split(b"\r")
        else:
            yield body


def _decode_lines(handle: BinaryIO, path: PathLike, first_line: int = 1) -> Iterator[tuple[int, str]]:
    """The numbered lines of a binary stream, read a block of whole lines at a time: a block of clean
    UTF-8 without NUL or byte-order mark is decoded and split at C speed; any other block line by line,
    so that an error names its exact line and column."""
    number = first_line
    pending = b""
    while block := handle.read(BLOCK_BYTES):
        data = pending + block
        cut = max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1))  # a last CR may open a CR LF
        pending = data[cut + 1 :]
        if cut >= 0:
            yield from _block_lines(data[: cut + 1], path, number)
            number += count_line_ends(data, 0, cut + 1)
    if pending:
        yield from _block_lines(pending, path, number)


def _block_lines(data: bytes, path: PathLike, number: int) -> Iterator[tuple[int, str]]:
    """The numbered lines of `data`, whole lines (the last one's ending may be missing at the file's end)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if not text or "\x00" in text or BOM in text:
        yield from _checked_lines(data, path, number)
        return
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines[-1]:
        lines.pop()  # the ending of the last line, not a line
    yield from enumerate(lines, number)


def _checked_lines(data: bytes, path: PathLike, number: int) -> Iterator[tuple[int, str]]:
    """`_block_lines` one line at a time: decoded, a leading byte-order mark dropped, checked."""
    for line, raw in enumerate(_raw_lines(io.BytesIO(data)), start=number):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise NerkitError(
                f"byte 0x{raw[error.start]:02x} at column {error.start + 1} is not UTF-8",
                path=path,
                line=line,
                hint="re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 IN > OUT)",
            ) from None
        text = text.removeprefix(BOM)
        check_characters(text, path, line)
        yield line, text
