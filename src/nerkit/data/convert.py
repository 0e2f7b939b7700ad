"""Annotated data from any format to any other, in one call, with what alignment adjusted counted."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from nerkit.data.align import AlignedDocument
from nerkit.data.conll import convert_conll
from nerkit.data.formats import (
    FORMATS,
    ReadOptions,
    WriteOptions,
    input_files,
    read_aligned,
    write_annotations,
)
from nerkit.data.formats.detect import require_format
from nerkit.data.tags import SCHEMES, normalise_scheme
from nerkit.errors import NerkitError, check_choice
from nerkit.files import PathLike

_BY_SUFFIX = {
    ".json": "labelstudio",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "hf",
    ".conll": "conll",
    ".txt": "conll",
    ".iob": "conll",
    ".bio": "conll",
    "": "conll",
}


@dataclass(frozen=True, slots=True)
class Converted:
    """What `convert_annotations` wrote: how many documents (sentences, CoNLL to CoNLL), in which
    formats, and how many adjustments of each kind aligning the annotations made."""

    count: int
    input_format: str
    format: str
    adjustments: Counter[str] = field(default_factory=Counter)


def output_format(output: PathLike, input_format: str) -> str:
    """The format to write `output` in, told from its name: a folder (existing, or a path ending in /)
    is brat; .json labelstudio; .jsonl and .ndjson jsonl; .parquet hf; .conll, .txt, .iob, .bio or no
    extension conll; any other extension the input's format."""
    name = os.fspath(output)
    if name.endswith(("/", os.sep)) or Path(name).is_dir():
        return "brat"
    return _BY_SUFFIX.get(Path(name).suffix.lower(), input_format)


def convert_annotations(
    path: PathLike,
    output: PathLike,
    format: str | None = None,
    input_format: str | None = None,
    read: ReadOptions | None = None,
    scheme: str = "IOB2",
) -> Converted:
    """Write the annotated data at `path` (format detected unless `input_format`) to `output` in
    `format` (told from `output`'s name when None), aligned to tokens; the tags of token formats in
    `scheme`. CoNLL to CoNLL rewrites only the tags, every column kept, and counts sentences."""
    if os.fspath(output) == "-":
        raise NerkitError("convert writes a file, not standard output", hint="name the file with -o FILE")
    read = read or ReadOptions()
    source = require_format(path, input_format)
    target = format or output_format(output, source)
    check_choice("output format", target, FORMATS)
    if scheme.strip().upper() not in (*SCHEMES, "IOBES"):
        raise NerkitError(f"unknown tag scheme {scheme!r}", hint=f"use one of {', '.join(SCHEMES)}")
    scheme = normalise_scheme(scheme)
    if source == target == "conll":
        sentences = convert_conll(path, output, scheme, tag_column=read.tag_column)
        return Converted(sentences, source, target)
    adjustments: Counter[str] = Counter()

    def counted() -> Iterator[AlignedDocument]:
        for document in read_aligned(path, source, read):
            adjustments.update(adjustment.kind for adjustment in document.adjustments)
            yield document

    labels = read.labels if target == "hf" else None  # --labels names the tags of hf output too
    options = WriteOptions(scheme=scheme, labels=labels, inputs=input_files(path, source))
    count = write_annotations(output, counted(), target, options)
    return Converted(count, source, target, adjustments)
