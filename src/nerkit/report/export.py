"""Likely annotation errors written for the next annotation round: JSON lines, or any annotation format."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence

from nerkit.data.annotations import AnnotatedDocument, Annotation
from nerkit.data.formats import FORMATS, WriteOptions, write_annotations
from nerkit.data.formats.brat import check_folder_output
from nerkit.data.formats.detect import format_from_name
from nerkit.errors import NerkitError, check_choice
from nerkit.files import PathLike, check_output, within
from nerkit.report.review import Suspect
from nerkit.report.sentences import ReportSentence


def check_suspects_output(
    path: PathLike, format: str | None, inputs: Iterable[PathLike] = (), others: Iterable[PathLike] = ()
) -> str:
    """The format to write suspects to `path` in (`format`, else what the name says, else JSON lines),
    the path checked before any work: not standard output, not an input, and (a brat folder) holding
    none of the command's `others` outputs."""
    if os.fspath(path) == "-":
        raise NerkitError(
            "the suspects cannot go to standard output", hint="name the file: --suspects suspects.jsonl"
        )
    name = format or format_from_name(path) or "jsonl"
    check_choice("--suspects-format", name, FORMATS)
    if name != "brat":
        check_output(path, inputs)
        return name
    folder = check_folder_output(path, inputs)
    for other in others:
        if within(other, folder):
            raise NerkitError(
                f"would hold {os.fspath(other)!r}, another output of this command",
                path=path,
                hint="write the brat folder elsewhere: writing replaces the whole folder",
            )
    return name


def suspect_documents(suspects: Sequence[Suspect], format: str) -> Iterator[AnnotatedDocument]:
    """One document per sentence holding suspects, in the order of its most confident one: its text, its
    gold entities to review, and (JSON lines: fields `place` and `suspects`; Label Studio: the task's
    `meta`) what the model says of them."""
    for number, (sentence, found) in enumerate(_by_sentence(suspects), start=1):
        described = [_described(suspect) for suspect in found]
        if format == "labelstudio":
            extra: dict[str, object] = {
                "id": number,
                "data": {"text": sentence.text},
                "meta": {"place": sentence.place, "suspects": described},
            }
        elif format == "jsonl":
            extra = {"place": sentence.place, "suspects": described}
        else:
            extra = {}
        yield AnnotatedDocument(
            text=sentence.text,
            annotations=[Annotation(m.start, m.end, m.label) for m in sentence.gold],
            place=sentence.place,
            extra=extra,
            name=f"suspect-{number}",
            format=format,
        )


def write_suspects(
    path: PathLike, suspects: Sequence[Suspect], format: str, inputs: Iterable[PathLike] = ()
) -> int:
    """Write the sentences holding suspects to `path` in `format` (see `suspect_documents`); returns
    how many sentences were written."""
    return write_annotations(
        path, suspect_documents(suspects, format), format, WriteOptions(inputs=tuple(inputs))
    )


def _by_sentence(suspects: Sequence[Suspect]) -> list[tuple[ReportSentence, list[Suspect]]]:
    """The suspects grouped by sentence, the groups in the order of their first suspect."""
    groups: dict[int, tuple[ReportSentence, list[Suspect]]] = {}
    for suspect in suspects:
        groups.setdefault(id(suspect.sentence), (suspect.sentence, []))[1].append(suspect)
    return list(groups.values())


def _described(suspect: Suspect) -> dict[str, object]:
    """A suspect without its sentence's text and place (the record carries them)."""
    text = suspect.sentence.text
    return {
        "kind": suspect.kind,
        "confidence": suspect.confidence,
        "gold": None if suspect.gold is None else suspect.gold.to_json(text),
        "model": None if suspect.model is None else suspect.model.to_json(text),
    }
