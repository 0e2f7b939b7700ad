"""UTF-8 text files read line by line, with file:line errors."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable, Iterator

from nerkit.errors import NerkitError
from nerkit.files import PathLike


def read_lines(path: PathLike) -> Iterator[tuple[int, str]]:
    """Yield (line number, text without its line ending) for each line; `-` reads standard input.

    Decodes UTF-8 strictly (a leading BOM is dropped); raises NerkitError naming the file and line.
    """
    if os.fspath(path) == "-":
        yield from _decode_lines(sys.stdin.buffer, "<stdin>")
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
        yield from _decode_lines(handle, path)


def decode_lines(data: bytes, path: PathLike, first_line: int = 1) -> Iterator[tuple[int, str]]:
    """`read_lines` over a file's bytes already read (`path` names it in errors); `first_line` numbers
    the first line, for a piece cut from further into the file."""
    return _decode_lines(io.BytesIO(data), path, first_line)


def _decode_lines(handle: Iterable[bytes], path: PathLike, first_line: int = 1) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(handle, start=first_line):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise NerkitError(
                f"byte 0x{raw[error.start]:02x} at column {error.start + 1} is not UTF-8",
                path=path,
                line=number,
                hint="re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 IN > OUT)",
            ) from None
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        yield number, text.rstrip("\r\n")
