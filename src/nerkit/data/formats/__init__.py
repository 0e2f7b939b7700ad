"""Every annotation format by name: detect a file's format, read its documents, write documents in any format.

Each format is a module of this package with two functions:

- `read(path, options: ReadOptions) -> Iterator[AnnotatedDocument]`: streams the file's documents,
  raising NerkitError (file and record named) for what cannot be read, and recording in each
  document's `adjustments` what it skipped;
- `write(path, documents: Iterable[AlignedDocument], options: WriteOptions) -> int`: writes them
  atomically (never over one of `options.inputs`) and returns how many it wrote.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType

from nerkit.data.align import AlignedDocument, align
from nerkit.data.annotations import ADJUSTMENTS, AnnotatedDocument
from nerkit.errors import check_choice
from nerkit.files import PathLike

FORMATS = ("conll", "jsonl", "labelstudio", "brat", "hf")
ANNOTATION_CHOICES = ("first", "last", "predictions")


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read a file: the CoNLL tag column, which Label Studio annotation to take per task
    (first, last, or the predictions), and the tag names of a Hugging Face file's integers."""

    tag_column: int = -1
    annotation: str = "first"
    labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        check_choice("--annotation", self.annotation, ANNOTATION_CHOICES)


@dataclass(frozen=True, slots=True)
class WriteOptions:
    """How to write: the tag scheme of token formats; `model_version` set for a model's predictions
    (Label Studio writes them as `predictions` with a score per region); the tag names of a Hugging
    Face file in order (default: O, then B-/I- of each type, sorted); paths never to write over."""

    scheme: str = "IOB2"
    model_version: str | None = None
    labels: tuple[str, ...] | None = None
    inputs: tuple[PathLike, ...] = ()


def adjustment_note(
    path: PathLike,
    counts: Mapping[str, int],
    input_format: str | None = None,
    options: ReadOptions | None = None,
) -> str:
    """`FILE: 3 trimmed, 1 rejected; list them with nerkit stats FILE --alignment` (with the reading
    flags that were given, so the listing reads the file the same way): what reading and aligning a file
    changed, in ADJUSTMENTS' order; "" when nothing was."""
    made = ", ".join(f"{counts[kind]:,} {kind}" for kind in ADJUSTMENTS if counts.get(kind))
    if not made:
        return ""
    options = options or ReadOptions()
    flags = [f"--input-format {input_format}"] if input_format else []
    flags += [f"--tag-column {options.tag_column}"] if options.tag_column != -1 else []
    flags += [f"--annotation {options.annotation}"] if options.annotation != "first" else []
    flags += [f"--labels {','.join(options.labels)}"] if options.labels else []
    again = " ".join([os.fspath(path), *flags])
    return f"{os.fspath(path)}: {made}; list them with nerkit stats {again} --alignment"


def input_files(path: PathLike, format: str) -> tuple[PathLike, ...]:
    """Every file reading `path` in `format` reads, so that no output lands on one: a brat .ann file
    with the .txt beside it, else `path` itself (a folder stands for all it holds)."""
    if format == "brat" and os.fspath(path).endswith(".ann"):
        return (path, os.fspath(path)[: -len(".ann")] + ".txt")
    return (path,)


def format_module(name: str) -> ModuleType:
    """The module that reads and writes format `name` (imported when first asked for)."""
    check_choice("format", name, FORMATS)
    return importlib.import_module(f"nerkit.data.formats.{name}")


def read_annotations(
    path: PathLike, format: str | None = None, options: ReadOptions | None = None
) -> Iterator[AnnotatedDocument]:
    """Stream the documents of an annotated file in any format (detected when `format` is None)."""
    from nerkit.data.formats.detect import detect_format

    name = format or detect_format(path)
    documents: Iterator[AnnotatedDocument] = format_module(name).read(path, options or ReadOptions())
    return documents


def read_aligned(
    path: PathLike, format: str | None = None, options: ReadOptions | None = None
) -> Iterator[AlignedDocument]:
    """`read_annotations`, each document aligned to tokens and tags."""
    for document in read_annotations(path, format, options):
        yield align(document)


def write_annotations(
    path: PathLike,
    documents: Iterable[AnnotatedDocument | AlignedDocument],
    format: str,
    options: WriteOptions | None = None,
) -> int:
    """Write documents (aligned first where they are not) to `path` in `format`; returns how many were
    written. Documents not annotated (`AnnotatedDocument.annotated`) are left out, but for a Label
    Studio task written back to Label Studio, where it goes back as it came."""
    aligned = (
        document if isinstance(document, AlignedDocument) else align(document)
        for document in documents
        if _written(document.source if isinstance(document, AlignedDocument) else document, format)
    )
    count: int = format_module(format).write(path, aligned, options or WriteOptions())
    return count


def _written(document: AnnotatedDocument, format: str) -> bool:
    """Whether `write_annotations` writes the document: an annotated one, or a Label Studio task nobody
    annotated, back into Label Studio (where it stays a task to annotate)."""
    return document.annotated or format == document.format == "labelstudio"
