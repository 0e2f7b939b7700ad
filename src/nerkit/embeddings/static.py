"""Pretrained word vectors (GloVe text, word2vec text or binary, fastText .vec; plain or gzip) read by path."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nerkit.errors import NerkitError
from nerkit.files import PathLike
from nerkit.ranges import LARGEST_LAYER

_FORMAT_HINT = "give GloVe text, word2vec text or binary (.bin), or fastText .vec, plain or .gz"


@dataclass
class WordVectors:
    """The vectors kept from a file: `vectors[i]` belongs to `words[i]`."""

    words: list[str]
    vectors: np.ndarray  # [words, dim] float32
    dim: int
    format: str  # "glove", "word2vec-text" or "word2vec-binary"
    total: int  # words in the file, kept or not


def _open(path: Path) -> io.BufferedIOBase:
    """The file for reading bytes, through gzip when it starts with gzip's magic number."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise NerkitError("no such vectors file", path=path, hint="check the --embeddings path") from None
    except IsADirectoryError:
        raise NerkitError("is a folder, not a vectors file", path=path, hint=_FORMAT_HINT) from None
    except OSError as error:
        raise NerkitError(f"cannot read: {error.strerror}", path=path) from None
    if handle.read(2) == b"\x1f\x8b":
        handle.close()
        return gzip.open(path, "rb")
    handle.seek(0)
    return handle


def _header(first: bytes) -> tuple[int, int] | None:
    """(count, dim) when the first line is a word2vec/fastText header."""
    fields = first.split()
    if len(fields) == 2 and all(field.isdigit() for field in fields):
        return int(fields[0]), int(fields[1])
    return None


def _decode(raw: bytes, path: Path, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NerkitError(
            "a word is not UTF-8", path=path, line=line, hint="re-save the vectors file as UTF-8"
        ) from None


def _text_rows(
    handle: Iterable[bytes], path: Path, first_line: int, dim: int | None
) -> Iterator[tuple[int, str, bytes]]:
    """(line, word, the line's bytes after the word) for each text row; `dim` checks the field count."""
    for number, raw in enumerate(handle, start=first_line):
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            continue
        fields = raw.rstrip().split(b" ")
        if dim is None:
            dim = len(fields) - 1
            if dim < 1:
                raise NerkitError(
                    "a word with no numbers after it", path=path, line=number, hint=_FORMAT_HINT
                )
        if len(fields) < dim + 1:
            raise NerkitError(
                f"{len(fields) - 1} numbers where {dim} were expected",
                path=path,
                line=number,
                hint="the file is truncated or mixes dimensions; " + _FORMAT_HINT,
            )
        word = b" ".join(fields[: len(fields) - dim])  # GloVe 840B has words with spaces
        yield number, _decode(word, path, number), b" ".join(fields[len(fields) - dim :])


def _binary_rows(
    handle: io.BufferedIOBase, path: Path, count: int, dim: int
) -> Iterator[tuple[int, str, bytes]]:
    """(row, word, raw float32 bytes) for each row of a word2vec binary file."""
    size = 4 * dim
    for row in range(1, count + 1):
        word = bytearray()
        while True:
            byte = handle.read(1)
            if not byte:
                raise NerkitError(
                    f"ends after {row - 1} of the {count} words its header announces",
                    path=path,
                    hint="the file is truncated; download it again",
                )
            if byte == b" ":
                break
            if byte != b"\n" or word:
                word += byte
        data = handle.read(size)
        if len(data) < size:
            raise NerkitError(
                f"ends inside the vector of word {row} of {count}",
                path=path,
                hint="the file is truncated; download it again",
            )
        yield row, _decode(bytes(word), path, row), data


def load_vectors(path: PathLike, keep: set[str] | None = None, max_words: int = 0) -> WordVectors:
    """Read a vectors file, keeping each word in `keep` or in its lower-cased forms, plus the first
    `max_words` words of the file (files list frequent words first); `keep=None` keeps every word.

    The format is detected: a `count dim` header means word2vec/fastText, binary when the name ends in
    .bin (.bin.gz); otherwise GloVe text. The first of duplicate words wins.
    """
    path = Path(path)
    lowered = {word.lower() for word in keep} if keep is not None else set()
    words: list[str] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    total = 0
    with _open(path) as handle:
        try:
            entries, fmt, dim = _entries(handle, path)
            for number, word, data in entries:
                total += 1
                if word in seen:
                    continue
                wanted = keep is None or total <= max_words or word in keep or word in lowered
                if not wanted:
                    continue
                vector = _vector(data, fmt, path, number)
                seen.add(word)
                words.append(word)
                rows.append(vector)
        except (OSError, EOFError, zlib.error) as error:
            raise NerkitError(
                f"cannot be decompressed ({error})",
                path=path,
                hint="the .gz file is damaged; download it again",
            ) from None
    if not total:
        raise NerkitError("the vectors file holds no vectors", path=path, hint=_FORMAT_HINT)
    vectors = np.stack(rows).astype(np.float32) if rows else np.zeros((0, dim), dtype=np.float32)
    if not np.isfinite(vectors).all():
        raise NerkitError("holds NaN or infinite values", path=path, hint="the vectors file is damaged")
    return WordVectors(words=words, vectors=vectors, dim=dim, format=fmt, total=total)


def _entries(handle: io.BufferedIOBase, path: Path) -> tuple[Iterator[tuple[int, str, bytes]], str, int]:
    """The rows of an open vectors file, its format and its dimension (checked: a model loads no wider
    word table), from its first non-blank line: a `count dim` header means word2vec/fastText (binary
    when the name ends in .bin or .bin.gz)."""
    rows, fmt, dim = _rows(handle, path)
    if dim > LARGEST_LAYER:
        raise NerkitError(
            f"vectors of {dim:,} dimensions; nerkit takes up to {LARGEST_LAYER:,}",
            path=path,
            hint="reduce them first (e.g. with PCA), or check the file's format: " + _FORMAT_HINT,
        )
    return rows, fmt, dim


def _rows(handle: io.BufferedIOBase, path: Path) -> tuple[Iterator[tuple[int, str, bytes]], str, int]:
    binary = path.name.endswith((".bin", ".bin.gz"))
    first = handle.readline()
    first_line = 1
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    while first and not first.strip():
        first, first_line = handle.readline(), first_line + 1
    if not first:
        raise NerkitError("the vectors file is empty", path=path, hint=_FORMAT_HINT)
    header = _header(first)
    if binary and header is None:
        raise NerkitError("a .bin file without a word2vec header line", path=path, hint=_FORMAT_HINT)
    if header is not None and binary:
        return _binary_rows(handle, path, *header), "word2vec-binary", header[1]
    if header is not None:
        return _text_rows(handle, path, first_line + 1, header[1]), "word2vec-text", header[1]
    dim = len(first.split()) - 1
    return _text_rows(_Prepend(first, handle), path, first_line, None), "glove", dim


def _vector(data: bytes, fmt: str, path: Path, number: int) -> np.ndarray:
    """One row's numbers: raw little-endian float32 in a binary file, else space-separated text."""
    if fmt == "word2vec-binary":
        return np.frombuffer(data, dtype="<f4")
    try:
        return np.array(data.split(b" "), dtype=np.float32)
    except ValueError:
        raise NerkitError("a value that is not a number", path=path, line=number, hint=_FORMAT_HINT) from None


class _Prepend(io.RawIOBase):
    """A line already read, then the rest of a binary stream, as one iterable of lines."""

    def __init__(self, first: bytes, rest: io.BufferedIOBase) -> None:
        self.first = first
        self.rest = rest

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        yield from self.rest
