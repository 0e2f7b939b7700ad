"""The training files of a run (FILE, or FILE:T1,T2 for a file annotating only some types) and the tags
each token of a partially annotated sentence may have."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import regex

from nerkit.errors import NerkitError
from nerkit.files import PathLike

_TYPES = regex.compile(r"[\w.-]+(?:,[\w.-]+)*")


@dataclass(frozen=True)
class TrainingFile:
    """A training file and the entity types it annotates (None: every type)."""

    path: str
    annotated: tuple[str, ...] | None = None

    def describe(self) -> str:
        """The file as `--train` takes it: FILE, or FILE:T1,T2."""
        return self.path if self.annotated is None else f"{self.path}:{','.join(self.annotated)}"


TrainingData = PathLike | TrainingFile | Sequence[PathLike | TrainingFile]  # what train() takes


def entity_types(text: str, flag: str = "--annotated-types") -> tuple[str, ...]:
    """T1,T2 as a tuple of type names; a NerkitError when one is empty, repeated or not a plain name."""
    names = tuple(name.strip() for name in text.split(","))
    if not _TYPES.fullmatch(",".join(names)):
        raise NerkitError(
            f"{flag} {text!r} is not a list of entity types",
            hint="give type names like PER,LOC (no B- or I-)",
        )
    if len(set(names)) != len(names):
        raise NerkitError(f"{flag} {text!r} names a type twice", hint="name each type once")
    return names


def parse_training_file(
    text: PathLike, annotated_types: str | None = None, flag: str = "--train"
) -> TrainingFile:
    """FILE or FILE:T1,T2 (a path that exists is taken whole, colons and all); `annotated_types` is what
    a file without its own types annotates; `flag` is named in errors."""
    path = os.fspath(text)
    head, colon, tail = str(path).rpartition(":")
    if colon and head and not os.path.exists(path) and (_TYPES.fullmatch(tail) or os.path.exists(head)):
        return TrainingFile(head, entity_types(tail, f"{flag} {path}"))
    default = entity_types(annotated_types) if annotated_types is not None else None
    return TrainingFile(str(path), default)


def training_files(train: TrainingData, annotated_types: str | None = None) -> list[TrainingFile]:
    """The run's training files, each with what it annotates."""
    given = [train] if isinstance(train, str | os.PathLike | TrainingFile) else list(train)
    if not given:
        raise NerkitError("no training file given", hint="give --train FILE")
    return [
        item if isinstance(item, TrainingFile) else parse_training_file(item, annotated_types)
        for item in given
    ]


def allowed_tags(
    tags: np.ndarray, labels: Sequence[str], annotated: Sequence[str] | None
) -> np.ndarray | None:
    """[seq, tags] bool: the tags each token of a sentence annotated only for `annotated` types may have.
    An annotated token keeps its tag; a token tagged O may be O or any tag (BIOES) of a type not
    annotated, except that no entity may run over the sentence's ends (its first token cannot be I- or
    E-, its last B- or I-), also where sentences are read joined. None when the sentence is complete
    (every type of `labels` annotated)."""
    if annotated is None:
        return None
    open_tags = np.array([label != "O" and label.partition("-")[2] not in annotated for label in labels])
    if not open_tags.any():
        return None
    allowed: np.ndarray = np.eye(len(labels), dtype=bool)[tags]
    outside = tags == labels.index("O")
    allowed[outside] |= open_tags
    if len(tags) and outside[0]:
        allowed[0] &= ~(open_tags & np.array([label[:2] in ("I-", "E-") for label in labels]))
    if len(tags) and outside[-1]:
        allowed[-1] &= ~(open_tags & np.array([label[:2] in ("B-", "I-") for label in labels]))
    return allowed
