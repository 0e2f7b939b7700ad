"""Files, JSON and folders written atomically: a reader or a killed run sees the whole old or the whole new."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from nerkit.errors import NerkitError

PathLike = str | os.PathLike[str]


def _temporary_beside(target: Path) -> Path:
    """A new empty temporary file in `target`'s folder, named after it, for renaming into place."""
    try:
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise NerkitError(
            f"cannot write here: {error.strerror}", path=target, hint="check the folder"
        ) from None
    os.close(handle)
    return Path(name)


def _mode_for(target: Path) -> int:
    """The permissions a file written to `target` gets: those of the file it replaces, else the
    umask's (a temporary file starts private)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def write_text_atomic(path: PathLike, parts: Iterable[str]) -> None:
    """Write `parts` to `path` through a temporary file renamed into place, so no half file remains."""

    def write(temporary: Path) -> None:
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            handle.writelines(parts)

    replace_file(path, write)


def append_text(path: PathLike, text: str) -> None:
    """Append `text` to a UTF-8 log file (made if missing): one write, so a line is never split."""
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(text)


def write_json_atomic(path: PathLike, data: object) -> None:
    """Write `data` as indented UTF-8 JSON (one trailing newline) through `write_text_atomic`."""
    write_text_atomic(path, [json.dumps(data, indent=2, ensure_ascii=False) + "\n"])


def replace_file(path: PathLike, write: Callable[[Path], None]) -> None:
    """Let `write` fill a temporary file beside `path` (given its name), then rename it into place: a
    reader, or a run killed at any moment, sees the whole old file or the whole new one."""
    target = Path(path)
    temporary = _temporary_beside(target)
    try:
        write(temporary)
        temporary.chmod(_mode_for(target))
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def replace_folder(target: PathLike, build: Callable[[Path], None]) -> None:
    """Build a folder beside `target`, move over what `target` held that the new one lacks (logs,
    checkpoint), then rename it into place: readers see the old folder or the new (or, for the instant
    between two renames, none), never half of one; on failure the old folder is left as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir()
    moved: list[str] = []
    try:
        build(fresh)
        if target.exists():
            for entry in target.iterdir():
                if not (fresh / entry.name).exists():
                    os.rename(entry, fresh / entry.name)
                    moved.append(entry.name)
            retired = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.rename(target, retired)
            os.rename(fresh, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(fresh, target)
    except BaseException:
        if target.exists():
            for name in moved:
                if (fresh / name).exists():
                    os.rename(fresh / name, target / name)
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def publish_folder(target: PathLike, build: Callable[[Path], None]) -> bool:
    """Let `build` make a folder at a temporary path beside `target` (the path does not exist yet), then
    rename it to `target`, which is never replaced: readers see the whole folder or none. Returns False,
    the new folder discarded, when `target` appeared meanwhile (another process published it first)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.{os.getpid()}.tmp"
    shutil.rmtree(temporary, ignore_errors=True)
    try:
        build(temporary)
        if target.exists():
            return False
        try:
            os.rename(temporary, target)
        except OSError:
            if not target.is_dir():
                raise
            return False
        return True
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
