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
from nerkit.data.formats.detect import format_from_name, require_format
from nerkit.data.tags import SCHEMES, normalise_scheme
from nerkit.errors import NerkitError, check_choice
from nerkit.files import PathLike


@dataclass(frozen=True, slots=True)
class Converted:
    """What `convert_annotations` wrote: how many documents (sentences, CoNLL to CoNLL), in which
    formats, and how many adjustments of each kind aligning the annotations made."""

    count: int
    input_format: str
    format: str
    adjustments: Counter[str] = field(default_factory=Counter)


def output_format(output: PathLike, input_format: str) -> str:
    """The format to write `output` in, told from its name as `format_from_name` tells it (a folder or a
    name ending in / is brat; .json labelstudio; .jsonl jsonl; .parquet hf; .conll, .iob, .bio conll);
    .txt or no extension is conll; any other extension the input's format."""
    named = format_from_name(output)
    if named is not None:
        return named
    return "conll" if Path(os.fspath(output)).suffix.lower() in ("", ".txt") else input_format


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
