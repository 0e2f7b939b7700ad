"""Files, JSON and folders written atomically: a reader or a killed run sees the whole old or the whole new."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from nerkit.errors import NerkitError, os_error

PathLike = str | os.PathLike[str]


def temporary_name(target: Path, kind: str = "tmp") -> str:
    """The name of this process's temporary `kind` ("tmp", "old") beside `target`: `.NAME.nerkit-PID.KIND`,
    recognisable as ours, and as stale once process PID has gone (`clear_stale`)."""
    return f".{target.name}.nerkit-{os.getpid()}.{kind}"


def clear_stale(target: Path) -> None:
    """Remove the temporary files and folders a killed nerkit process left beside `target`: those named
    `.NAME.nerkit-PID...` whose process no longer runs on this machine."""
    prefix = f".{target.name}.nerkit-"
    try:
        entries = [entry for entry in target.parent.iterdir() if entry.name.startswith(prefix)]
    except OSError:
        return
    for entry in entries:
        pid = entry.name[len(prefix) :].split(".", 1)[0].split("-", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    """Whether process `pid` exists on this machine."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


def check_output(path: PathLike, inputs: Iterable[PathLike] = ()) -> Path:
    """Check, before any work, that a file can be written at `path` without losing anything: it is not
    empty, not a folder, not one of `inputs` (the same file by inode, whatever its name), and its folder
    exists. Returns the path to write: a symbolic link's target (links are written through)."""
    if not os.fspath(path):
        raise NerkitError("the output path is empty", hint="name the file to write")
    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise NerkitError("is a folder, not a file", path=path, hint="name a file to write in it")
    for source in inputs:
        if os.fspath(source) != "-" and target.exists() and _same_file(source, target):
            raise NerkitError(
                f"is also this command's input {os.fspath(source)!r}",
                path=path,
                hint="write to another file; the input would be lost",
            )
    check_outside_input_folders(path, target, inputs)
    if not target.parent.is_dir():
        raise NerkitError(
            "cannot write here: its folder does not exist", path=path, hint="create the folder first"
        )
    return target


def check_outside_input_folders(path: PathLike, target: Path, inputs: Iterable[PathLike]) -> None:
    """Refuse an output `target` (the resolved `path`) that lies inside a folder among `inputs`: the
    input would change under the reader (a brat folder read while written into)."""
    for source in inputs:
        if os.fspath(source) != "-" and os.path.isdir(source) and within(target.parent, Path(source)):
            raise NerkitError(
                f"lies inside this command's input folder {os.fspath(source)!r}",
                path=path,
                hint="write outside it: the input would change under the reader",
            )


def within(place: PathLike, folder: Path) -> bool:
    """Whether `place` is `folder` or lies inside it (compared by inode, whatever the names or links)."""
    if not folder.exists():
        return False
    resolved = Path(os.path.realpath(place))
    for candidate in (resolved, *resolved.parents):
        try:
            if os.path.samefile(candidate, folder):
                return True
        except OSError:
            continue
    return False


def _same_file(source: PathLike, target: Path) -> bool:
    try:
        return os.path.samefile(source, target)
    except OSError:
        return False


def _special(target: Path) -> bool:
    """Whether `target` exists and is not a regular file (a FIFO, a device, a socket): streamed to, never
    renamed over."""
    try:
        return not stat.S_ISREG(target.stat().st_mode)
    except OSError:
        return False


def _temporary_beside(target: Path) -> Path:
    """A new empty temporary file in `target`'s folder, named after it, for renaming into place."""
    handle, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.nerkit-{os.getpid()}-", suffix=".tmp"
    )
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


def write_text_atomic(path: PathLike, parts: Iterable[str], inputs: Iterable[PathLike] = ()) -> None:
    """Write `parts` to `path` through a temporary file renamed into place, so no half file remains;
    `path` is checked (`check_output`, against `inputs`) before the first part is made."""

    def write(temporary: Path) -> None:
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            handle.writelines(parts)

    replace_file(path, write, inputs)


def append_text(path: PathLike, text: str) -> None:
    """Append `text` to a UTF-8 log file (made if missing): one write, so a line is never split."""
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(text)


def write_json_atomic(path: PathLike, data: object) -> None:
    """Write `data` as indented UTF-8 JSON (one trailing newline) through `write_text_atomic`."""
    write_text_atomic(path, [json.dumps(data, indent=2, ensure_ascii=False) + "\n"])


def replace_file(path: PathLike, write: Callable[[Path], None], inputs: Iterable[PathLike] = ()) -> None:
    """Let `write` fill a temporary file beside `path` (given its name), then rename it into place: a
    reader, or a run killed at any moment, sees the whole old file or the whole new one.

    `path` is checked first (`check_output`: not a folder, not one of `inputs`). A symbolic link is
    written through to its target; a FIFO or a device is written to directly, never renamed over; the file
    keeps its mode (a new one gets the umask's). An OSError (a full disk, no permission) becomes one
    NerkitError naming the file."""
    target = check_output(path, inputs)
    try:
        if _special(target):
            write(target)
            return
        clear_stale(target)
        temporary = _temporary_beside(target)
        try:
            write(temporary)
            temporary.chmod(_mode_for(target))
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as error:
        raise os_error(error, path, "cannot write") from None


def replace_folder(target: PathLike, build: Callable[[Path], None], carry: bool = True) -> None:
    """Build a folder beside `target`, give it what `target` held that the new one lacks (logs,
    checkpoint: files hard-linked, so the old folder stays whole; not with `carry` False, for an output
    that replaces the old one whole), then swap it into place: readers and a run killed at any moment
    see the whole old folder or the whole new one; on failure the old folder is left as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clear_stale(target)
    fresh = target.with_name(temporary_name(target))
    shutil.rmtree(fresh, ignore_errors=True)  # left by an earlier process that had our PID
    fresh.mkdir()
    try:
        build(fresh)
        if carry and target.exists():
            carry_over(target, fresh)
        swap_folder(fresh, target)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def carry_over(old: Path, new: Path) -> None:
    """Give folder `new` the entries of `old` it lacks, as hard links (copies where links are not
    allowed), so `old` stays whole whatever happens next."""
    for entry in old.iterdir():
        if (new / entry.name).exists():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, new / entry.name, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, new / entry.name)


def _link_or_copy(source: PathLike, destination: PathLike) -> None:
    try:
        os.link(source, destination, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, destination, follow_symlinks=False)


def swap_folder(fresh: Path, target: Path) -> None:
    """Put folder `fresh` at `target` and remove what stood there: one atomic exchange where the system
    offers it (Linux renameat2), else two renames with the old folder kept aside until the second is done."""
    if target.exists() and _exchange(fresh, target):
        shutil.rmtree(fresh, ignore_errors=True)  # now the old folder
        return
    if not target.exists():
        os.rename(fresh, target)
        return
    retired = target.with_name(temporary_name(target, "old"))
    os.rename(target, retired)
    try:
        os.rename(fresh, target)
    except BaseException:
        os.rename(retired, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2(RENAME_EXCHANGE); False where it is not offered."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    return bool(result == 0)


def publish_folder(target: PathLike, build: Callable[[Path], None]) -> bool:
    """Let `build` make a folder at a temporary path beside `target` (the path does not exist yet), then
    rename it to `target`, which is never replaced: readers see the whole folder or none. Returns False,
    the new folder discarded, when `target` appeared meanwhile (another process published it first)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clear_stale(target)
    temporary = target.with_name(temporary_name(target))
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
