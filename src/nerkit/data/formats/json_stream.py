"""A JSON array read one item at a time, in chunks, so a file of any size is read in bounded memory."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import BinaryIO

from nerkit.errors import NerkitError
from nerkit.files import PathLike
from nerkit.jsonl import NotWritable, decoder_for, unwritable
from nerkit.lines import open_bytes

CHUNK = 1 << 16  # bytes read at a time (more while one item is longer than what is buffered)
_NOT_SPACE = re.compile(r"[^ \t\n\r]")
_AFTER_SCALAR = " \t\n\r,]}"
_NEAR_END = 16  # a parse error this close to the end of what is buffered may only mean the item goes on


def iter_json_array(
    path: PathLike, noun: str = "item", chunk: int = CHUNK
) -> Iterator[tuple[int, int, object]]:
    """Yield (position from 1, line it starts on, value) for each item of the JSON array in `path`
    (`-` reads standard input), reading `chunk` bytes at a time: memory holds one item and a chunk.
    Errors name an item by `noun` and position ("task #5").

    Strict UTF-8 and strict JSON as `nerkit.jsonl` reads a line (no NaN or Infinity, no number beyond a
    double, no lone surrogate, no nesting deeper than it writes). Raises NerkitError naming the file,
    the line and the item for anything else: a file that is not one array, malformed JSON, text after it.
    """
    with open_bytes(path) as (handle, name):
        yield from _items(_Buffer(handle, name, chunk), noun)


def _items(buffer: _Buffer, noun: str) -> Iterator[tuple[int, int, object]]:
    """The items of the array `buffer` holds, checked to be the whole of it."""
    first = buffer.next_character()
    if first != "[":
        what = (
            "an empty file" if not first else "a single JSON object" if first == "{" else "not a JSON array"
        )
        raise NerkitError(
            what,
            path=buffer.path,
            line=buffer.line,
            hint="give a JSON array of tasks, [{...}, {...}], as Label Studio exports it",
        )
    buffer.advance(buffer.at + 1)
    if buffer.next_character() == "]":
        buffer.advance(buffer.at + 1)
    else:
        position = 0
        while True:
            position += 1
            buffer.next_character()
            line = buffer.line
            name = f"{noun} #{position}"
            yield position, line, buffer.value(name)
            following = buffer.next_character()
            if not following:
                raise buffer.error(f"{name}: the file ends before the array's closing ]", buffer.at)
            if following not in ",]":
                raise buffer.error(f"{name}: a , or the closing ] should follow it", buffer.at)
            buffer.advance(buffer.at + 1)
            if following == "]":
                break
    if buffer.next_character():
        raise buffer.error("text after the closing ]", buffer.at)


def _whole(value: object, text: str, end: int) -> bool:
    """Whether `value`, parsed from `text` up to `end`, is all of it: an object, array or string ends
    with its closing character, a number or a literal only where the next character is no part of it."""
    return isinstance(value, dict | list | str) or (end < len(text) and text[end] in _AFTER_SCALAR)


class _Buffer:
    """The part of a file read and not yet parsed, with the line number of where parsing stands."""

    def __init__(self, handle: BinaryIO, path: PathLike, chunk: int) -> None:
        self.handle = handle
        self.path = path
        self.chunk = chunk
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self.text = ""
        self.parser = decoder_for(self.text)  # the JSON decoder for what `text` holds (see `decoder_for`)
        self.at = 0  # where parsing stands in `text`
        self.line = 1  # the line of text[at]
        self.offset = 0  # how far into its line text[at] is
        self.read_bytes = 0
        self.started = False  # whether any text was read (a byte-order mark opening it is dropped)
        self.ended = False

    def fill(self, size: int) -> bool:
        """Read at least `size` more bytes (or to the end) behind what is buffered, dropping what is
        parsed; False when the file has ended."""
        if self.ended:
            return False
        data = self.handle.read(size)
        pending = len(self.decoder.getstate()[0])
        try:
            decoded = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as error:
            offset = self.read_bytes - pending + error.start
            raise NerkitError(
                f"byte 0x{error.object[error.start]:02x} at byte {offset + 1} is not UTF-8",
                path=self.path,
                hint="re-save the file as UTF-8",
            ) from None
        if decoded and not self.started:
            decoded = decoded.removeprefix("\ufeff")
            self.started = True
        if not data:
            self.ended = True
            return False
        self.read_bytes += len(data)
        self.text = self.text[self.at :] + decoded
        self.parser = decoder_for(self.text)
        self.at = 0
        return True

    def advance(self, to: int) -> None:
        """Move parsing on to text[to], counting the lines passed."""
        self.line += self.text.count("\n", self.at, to)
        self.offset = self.column(to) - 1
        self.at = to

    def column(self, at: int) -> int:
        """The column (from 1) of text[at], at or after where parsing stands."""
        newline = self.text.rfind("\n", self.at, at)
        return at - newline if newline >= 0 else self.offset + at - self.at + 1

    def next_character(self) -> str:
        """The next character that is not JSON white space ("" at the end), parsing moved onto it."""
        while True:
            found = _NOT_SPACE.search(self.text, self.at)
            if found is not None:
                self.advance(found.start())
                return found.group()
            self.advance(len(self.text))
            if not self.fill(self.chunk):
                return ""

    def value(self, name: str) -> object:
        """The JSON value that starts at text[at], reading on until it is whole; parsing moved past it."""
        while True:
            try:
                value, end = self.parser.raw_decode(self.text, self.at)
            except json.JSONDecodeError as error:
                cut = error.msg.startswith("Unterminated string") or error.pos >= len(self.text) - _NEAR_END
                if cut and self.fill(max(self.chunk, len(self.text))):
                    continue
                where = f"{'' if error.msg.endswith(' at') else ' at'} column {self.column(error.pos)}"
                raise self.error(f"{name}: not valid JSON ({error.msg}{where})", error.pos) from None
            except NotWritable as error:
                raise self.error(f"{name}: {error}", self.at, "write it as a string") from None
            except RecursionError:
                raise self.error(f"{name}: nested too deep", self.at) from None
            if _whole(value, self.text, end) or not self.fill(max(self.chunk, len(self.text))):
                break
        problem = unwritable(value, self.text[self.at : end])
        if problem is not None:
            raise self.error(f"{name}: {problem[0]}", self.at, problem[1])
        self.advance(end)
        return value

    def error(self, what: str, at: int, hint: str = "") -> NerkitError:
        """A NerkitError for text[at] of the buffer, naming its line."""
        line = self.line + self.text.count("\n", self.at, at)
        return NerkitError(what, path=self.path, line=line, hint=hint or "fix the JSON there")
