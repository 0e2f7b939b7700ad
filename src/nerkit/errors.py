"""The one error type nerkit raises for bad input: a single line naming where, what and what to do."""

from __future__ import annotations

import errno
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


def check_fraction(value: object, what: str, hint: str) -> float:
    """`value` as a float from 0 to 1, else NerkitError "`what`=value is not a number from 0 to 1" with
    `hint` (bool, NaN, strings and the rest refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise NerkitError(f"{what}={value!r} is not a number from 0 to 1", hint=hint)
    return float(value)


_ERRNO_HINTS = {
    errno.ENOSPC: "the disk is full: free some space, or write elsewhere",
    errno.EDQUOT: "the disk quota is used up: free some space, or write elsewhere",
    errno.EROFS: "the file system is read-only: write elsewhere",
    errno.EFBIG: "the file is too large for this file system: write elsewhere",
    errno.EIO: "the device reported an input/output error: check the disk",
    errno.EMFILE: "too many open files: raise the limit (ulimit -n)",
    errno.ENFILE: "too many open files on the system: close some programs",
    errno.ENOMEM: "out of memory: close other programs, or give a smaller input",
    errno.ENAMETOOLONG: "the name is too long: use a shorter path",
    errno.ELOOP: "symbolic links loop: fix the link",
    errno.EXDEV: "the paths are on different file systems: keep them on one",
    errno.EBUSY: "it is in use (a mount point, or the current folder?): name another path",
    errno.ETXTBSY: "it is in use by a running program: name another path",
    errno.ENXIO: "no reader or device behind it: start the reader first",
    errno.EINVAL: "the system refused the operation: check the path",
}

_FAMILY_HINTS: tuple[tuple[type[OSError], str], ...] = (
    (FileNotFoundError, "check the path"),
    (FileExistsError, "it exists already: name another path"),
    (IsADirectoryError, "it is a folder: name a file"),
    (NotADirectoryError, "a part of the path is a file, not a folder: check the path"),
    (PermissionError, "check the permissions, or write elsewhere"),
    (ConnectionError, "the connection failed: check that the other side is running and reachable"),
    (TimeoutError, "it timed out: try again, or check the network"),
    (BlockingIOError, "the resource is busy: try again"),
    (InterruptedError, "a signal interrupted it: try again"),
    (ChildProcessError, "a child process failed: see the lines above"),
    (ProcessLookupError, "the process has gone: start it again"),
)


def os_error(error: OSError, path: str | os.PathLike[str] | None = None, doing: str = "") -> NerkitError:
    """The one-line NerkitError for an OSError (a full disk, no permission, a missing file): what the
    system said, about which path, and what to do; `doing` ("cannot write") starts the message."""
    where = error.filename if error.filename is not None else path
    reason = error.strerror or str(error) or type(error).__name__
    hint = _ERRNO_HINTS.get(error.errno or 0) or next(
        (text for family, text in _FAMILY_HINTS if isinstance(error, family)),
        "a system error: check the path and try again",
    )
    what = f"{doing}: {reason}" if doing else reason
    return NerkitError(what, path=None if where is None else os.fspath(where), hint=hint)
