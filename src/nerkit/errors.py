"""The one error type nerkit raises for bad input: a single line naming where, what and what to do."""

from __future__ import annotations

import os
from collections.abc import Sequence


class NerkitError(Exception):
    """A problem with the user's input or set-up, reported as one line: `where: what; what to do`."""

    def __init__(
        self,
        what: str,
        *,
        path: str | os.PathLike[str] | None = None,
        line: int | None = None,
        hint: str = "",
    ) -> None:
        self.what = what
        self.path = None if path is None else os.fspath(path)
        self.line = line
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return f"{where}{self.what}" + (f"; {self.hint}" if self.hint else "")


def check_choice(what: str, value: str, choices: Sequence[str]) -> None:
    """Raise NerkitError unless `value` is one of `choices` ("unknown input format 'x'; use one of ...")."""
    if value not in choices:
        raise NerkitError(f"unknown {what} {value!r}", hint=f"use one of {', '.join(choices)}")
