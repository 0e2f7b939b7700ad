"""brat standoff folders as annotated documents: each NAME.txt with the text-bound lines of its NAME.ann, and back.

A folder is read with its subfolders, pairs in natural order of their relative names (`doc2` before
`doc10`), one pair at a time; hidden files and folders are passed over. Offsets count the characters of
the .txt as brat reads it: UTF-8, every character counted, a CR of a CR LF included. A byte-order mark
at the start of a .txt (which brat counts as a character) is read as a space, so offsets stay right.

Of an .ann, `T` lines are read; the other lines (relations, events, attributes, normalisations, notes)
are counted as `other_line`. A discontinuous span is counted as `discontinuous` and skipped, unless
only white space holding a line break lies between its fragments: brat itself splits a span that crosses
a line that way, and it is read as the one span it was.

Written, each document is NAME.txt (its text exactly) and NAME.ann (a `T` line per entity; an entity
that crosses a line is written in fragments split at the line breaks, as brat makes it; a prediction's
score as an `AnnotatorNotes` note, shown in brat beside the span), with an annotation.conf listing the
entity types so that brat opens the folder. The folder is built beside the target and swapped in whole.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from nerkit.data.align import AlignedDocument
from nerkit.data.annotations import Adjustment, AnnotatedDocument, Annotation, quoted
from nerkit.data.formats import ReadOptions, WriteOptions
from nerkit.errors import NerkitError, os_error
from nerkit.files import PathLike, check_outside_input_folders, replace_folder, within
from nerkit.lines import check_characters, count_line_ends, read_lines

TEXT_SUFFIX = ".txt"
ANN_SUFFIX = ".ann"
CONF_NAME = "annotation.conf"
CONF_HEADER = "# brat annotation configuration written by nerkit: the entity types of these documents"
# Where brat's reader of .ann files (Python's str.splitlines) ends a line: no span text may hold one.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
TEXTBOUND_HINT = "a text-bound line reads T1<tab>TYPE START END<tab>TEXT, e.g. T1\tPER 0 5\tAlice"

_ID = re.compile(r"(?:[A-Za-z]+|#[A-Za-z]*)[0-9]+.*|\*")  # brat's annotation identifiers
_OFFSETS = r"[0-9]{1,15} [0-9]{1,15}"
_TEXTBOUND = re.compile(rf"(\S+) ({_OFFSETS}(?:;{_OFFSETS})*)\s*")
_BREAK = re.compile(f"[{LINE_BREAKS}]")
_REJECTED = re.compile("[\x00\ufeff]")
_NUMBER = re.compile(r"([0-9]+)")


@dataclass(frozen=True, slots=True)
class Pair:
    """One brat document on disk: its name (the relative path without suffix, `/`-separated) and its
    .txt and .ann files (either may be missing)."""

    name: str
    text: str | None
    ann: str | None


def read(path: PathLike, options: ReadOptions) -> Iterator[AnnotatedDocument]:
    """The documents of a brat folder (with its subfolders), or of one .ann or .txt file and its pair,
    one pair read at a time."""
    for pair in pairs(path):
        yield read_pair(pair)


def pairs(path: PathLike) -> list[Pair]:
    """The .txt/.ann pairs at `path`: a folder's, in natural order of their names, or a file's own."""
    root = Path(path)
    if root.is_dir():
        found = _folder_pairs(root)
        if not found:
            raise NerkitError(
                "no brat documents (.txt and .ann files) in this folder",
                path=path,
                hint="name the folder that holds NAME.txt and NAME.ann",
            )
        return found
    if root.suffix not in (TEXT_SUFFIX, ANN_SUFFIX):
        if not root.exists():
            raise NerkitError("no such file or folder", path=path, hint="check the path")
        raise NerkitError(
            "not a brat .ann or .txt file", path=path, hint="name a brat folder, or one of its .ann files"
        )
    text, ann = root.with_suffix(TEXT_SUFFIX), root.with_suffix(ANN_SUFFIX)
    if not root.exists():
        raise NerkitError("no such file", path=path, hint="check the path")
    return [Pair(root.stem, str(text) if text.exists() else None, str(ann) if ann.exists() else None)]


def _folder_pairs(root: Path) -> list[Pair]:
    """Every .txt and .ann under `root` (hidden entries passed over), paired by name, in natural order."""
    files: dict[str, dict[str, str]] = {}

    def fail(error: OSError) -> None:
        raise os_error(error, root, "cannot read")

    for folder, subfolders, names in os.walk(root, onerror=fail):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        inside = Path(folder).relative_to(root).as_posix()
        prefix = "" if inside == "." else inside + "/"
        for name in names:
            stem, suffix = os.path.splitext(name)
            if suffix in (TEXT_SUFFIX, ANN_SUFFIX) and not name.startswith("."):
                files.setdefault(prefix + stem, {})[suffix] = os.path.join(folder, name)
    return [
        Pair(stem, found.get(TEXT_SUFFIX), found.get(ANN_SUFFIX))
        for stem, found in sorted(files.items(), key=lambda item: natural_key(item[0]))
    ]


def natural_key(name: str) -> tuple[tuple[tuple[int, str], ...], str]:
    """Sort key putting `doc2` before `doc10`: runs of digits compared as numbers, then the name itself."""
    parts = _NUMBER.split(name)
    return tuple((int(part), "") if index % 2 else (-1, part) for index, part in enumerate(parts)), name


def read_pair(pair: Pair) -> AnnotatedDocument:
    """One document: the text of the .txt and the text-bound annotations of the .ann (none without one)."""
    if pair.text is None:
        raise NerkitError(
            f"no {Path(pair.name).name}{TEXT_SUFFIX} beside it: each .ann annotates the .txt of its name",
            path=pair.ann,
            hint="add the text file, or remove the .ann",
        )
    text = read_text(pair.text)
    annotations: list[Annotation] = []
    adjustments: list[Adjustment] = []
    if pair.ann is not None:
        read_ann(pair.ann, text, annotations, adjustments)
    return AnnotatedDocument(
        text=text,
        annotations=annotations,
        place=pair.ann or pair.text,
        name=pair.name,
        adjustments=adjustments,
        format="brat",
    )


def read_text(path: str) -> str:
    """A .txt as brat reads it: strict UTF-8, line ends kept; a leading byte-order mark read as a space
    (offsets count it); a NUL or another byte-order mark refused with its line and column."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise os_error(error, path, "cannot read") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = max(data.rfind(b"\n", 0, error.start), data.rfind(b"\r", 0, error.start)) + 1
        raise NerkitError(
            f"byte 0x{data[error.start]:02x} at column {error.start - line_start + 1} is not UTF-8",
            path=path,
            line=count_line_ends(data, 0, error.start) + 1,
            hint="re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 IN > OUT)",
        ) from None
    if text.startswith("\ufeff"):
        text = " " + text[1:]
    found = _REJECTED.search(text)
    if found is not None:
        at = found.start()
        start = max(text.rfind("\n", 0, at), text.rfind("\r", 0, at)) + 1
        end = _BREAK.search(text, at)
        line = text[start : end.start() if end else len(text)]
        number = text.count("\n", 0, at) + text.count("\r", 0, at) - text.count("\r\n", 0, at) + 1
        check_characters(line, path, number)
    return text


def read_ann(path: str, text: str, annotations: list[Annotation], adjustments: list[Adjustment]) -> None:
    """Add an .ann file's text-bound annotations to `annotations` and what it skipped to `adjustments`."""
    for number, line in read_lines(path):
        if not line.strip():
            continue
        ident, tab, rest = line.partition("\t")
        if not tab or _ID.fullmatch(ident) is None:
            raise NerkitError(
                f"not a brat annotation line: {quoted(line)}",
                path=path,
                line=number,
                hint="each line is an ID (T1, R1, #1...), a tab, then the annotation",
            )
        place = f"{path}:{number}"
        if ident[0] != "T":
            adjustments.append(Adjustment("other_line", place, quoted(line)))
            continue
        annotation = textbound(ident, rest, text, path, number)
        if isinstance(annotation, Annotation):
            annotations.append(annotation)
        else:
            adjustments.append(Adjustment("discontinuous", place, annotation))


def textbound(ident: str, rest: str, text: str, path: str, number: int) -> Annotation | str:
    """The annotation of a `T` line (all after its ID and tab in `rest`), or, for a discontinuous span,
    what it was (to count as skipped). A line that is not TYPE START END[;START END...] is an error."""
    fields, tab, given = rest.partition("\t")
    match = _TEXTBOUND.fullmatch(fields)
    if match is None:
        raise NerkitError(
            f"{ident}: not a type and whole-number offsets: {quoted(fields)}",
            path=path,
            line=number,
            hint=TEXTBOUND_HINT,
        )
    label, offsets = match.group(1), match.group(2)
    fragments = [(int(start), int(end)) for start, end in (pair.split(" ") for pair in offsets.split(";"))]
    said = _said(given, fragments) if tab else None
    place = f"{path}:{number}"
    if len(fragments) == 1:
        start, end = fragments[0]
        return Annotation(start, end, label, text=said, place=place)
    if not _split_at_lines(fragments, text):
        return f"{ident} {label} {offsets} {quoted(said or '')}"
    start, end = fragments[0][0], fragments[-1][1]
    if said is not None and said == " ".join(text[a:b] for a, b in fragments):
        said = text[start:end]  # brat's text of the fragments: it agrees with the offsets
    return Annotation(start, end, label, text=said, place=place)


def _said(given: str, fragments: list[tuple[int, int]]) -> str:
    """The span text a `T` line gives: as brat reads it, the fragments' length of text (joined by
    spaces), when white space follows that (the rest is a comment), else all of it."""
    length = sum(end - start for start, end in fragments) + len(fragments) - 1
    return given[:length] if len(given) > length and given[length].isspace() else given


def _split_at_lines(fragments: list[tuple[int, int]], text: str) -> bool:
    """Whether the fragments are one span split at line breaks: in order, inside the text, and only
    white space that holds a line break between each and the next."""
    if not all(0 <= start < end <= len(text) for start, end in fragments):
        return False
    for (_, end), (start, _) in pairwise(fragments):
        gap = text[end:start]
        if not (end < start and gap.isspace() and _BREAK.search(gap)):
            return False
    return True


def write(path: PathLike, documents: Iterable[AlignedDocument], options: WriteOptions) -> int:
    """Write documents as a brat folder at `path`: NAME.txt and NAME.ann per document and an
    annotation.conf. NAME is a brat document's own name (its subfolders kept), another document's name
    when it is a plain file name, else doc00001, doc00002...; made unique. An existing folder is replaced
    whole, and only when it holds nothing but brat files; never one that holds an input."""
    target = check_folder_output(path, options.inputs)
    count = 0

    def build(folder: Path) -> None:
        nonlocal count
        used: set[str] = set()
        labels: set[str] = set()
        for document in documents:
            count += 1
            name = unique_name(document_name(document, count), used)
            lines = ann_lines(document)
            labels.update(entity.label for entity in document.entities)
            base = folder / name
            base.parent.mkdir(parents=True, exist_ok=True)
            base.with_name(base.name + TEXT_SUFFIX).write_text(document.text, encoding="utf-8", newline="")
            base.with_name(base.name + ANN_SUFFIX).write_text("".join(lines), encoding="utf-8", newline="")
        (folder / CONF_NAME).write_text(annotation_conf(labels), encoding="utf-8", newline="")

    try:
        replace_folder(target, build, carry=False)
    except OSError as error:
        raise os_error(error, path, "cannot write") from None
    return count


def ann_lines(document: AlignedDocument) -> list[str]:
    """The .ann lines of a document's entities: `T1<tab>PER 0 5<tab>Alice`, an entity crossing a line
    in fragments (`0 3;4 8`, text `New York`), and after a scored one `#1<tab>AnnotatorNotes T1<tab>score 0.9300`."""
    text = document.text
    lines: list[str] = []
    for number, entity in enumerate(document.entities, start=1):
        if not entity.label or any(character.isspace() for character in entity.label):
            raise NerkitError(
                f"the label {entity.label!r} cannot be a brat type, which holds no white space",
                path=entity.place or document.source.place,
                hint="rename the label (e.g. _ for spaces)",
            )
        fragments = line_fragments(text, entity.start, entity.end)
        offsets = ";".join(f"{start} {end}" for start, end in fragments)
        shown = " ".join(text[start:end] for start, end in fragments)
        lines.append(f"T{number}\t{entity.label} {offsets}\t{shown}\n")
        if entity.score is not None:
            lines.append(f"#{number}\tAnnotatorNotes T{number}\tscore {entity.score:.4f}\n")
    return lines


def line_fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Span [start, end) as brat stores a selection: split at line breaks, each piece trimmed of white
    space, empty pieces dropped (the span whole when it holds no line break)."""
    if _BREAK.search(text, start, end) is None:
        return [(start, end)]
    fragments: list[tuple[int, int]] = []
    piece = start
    for found in [*_BREAK.finditer(text, start, end), None]:
        stop = found.start() if found is not None else end
        first, last = piece, stop
        while first < last and text[first].isspace():
            first += 1
        while last > first and text[last - 1].isspace():
            last -= 1
        if first < last:
            fragments.append((first, last))
        piece = stop + 1
    return fragments or [(start, end)]


def annotation_conf(labels: Iterable[str]) -> str:
    """brat's annotation.conf for these entity types (sorted), with empty relation, event and
    attribute sections; its first line marks it as nerkit's, so a later write may replace it."""
    entities = "".join(f"{label}\n" for label in sorted(labels))
    return f"{CONF_HEADER}\n[entities]\n{entities}\n[relations]\n\n[events]\n\n[attributes]\n"


def document_name(document: AlignedDocument, index: int) -> str:
    """The file name (without suffix) for a document: a brat document's own relative name, another's
    name when it is one plain file name, else `doc` and its index, zero-padded (doc00001)."""
    name = document.source.name
    parts = name.split("/")
    if document.source.format == "brat" and all(_safe_part(part) for part in parts):
        return name
    if len(parts) == 1 and _safe_part(name):
        return name
    return f"doc{index:05d}"


def _safe_part(part: str) -> bool:
    """Whether `part` can name a file in any folder: 1 to 100 characters, none a separator or a control
    character, not starting with a dot or a hyphen, no trailing dot or space."""
    return (
        0 < len(part) <= 100
        and not part.startswith((".", "-"))
        and not part.endswith((".", " "))
        and not any(c in "/\\" or unicodedata.category(c) == "Cc" for c in part)
    )


def unique_name(name: str, used: set[str]) -> str:
    """`name`, or `name-2`, `name-3`... when it is taken (case ignored: some file systems ignore it)."""
    candidate, number = name, 1
    while candidate.casefold() in used:
        number += 1
        candidate = f"{name}-{number}"
    used.add(candidate.casefold())
    return candidate


def check_folder_output(path: PathLike, inputs: Iterable[PathLike]) -> Path:
    """Check, before any work, that a brat folder can be written at `path` without losing anything: it
    is not a file, holds none of `inputs` and lies in no input folder (by inode), holds nothing but brat
    documents and nerkit's
    annotation.conf, and its parent folder exists. Returns the folder to write (links followed)."""
    if not os.fspath(path):
        raise NerkitError("the output path is empty", hint="name the folder to write")
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_dir():
        raise NerkitError(
            "is a file, not a folder",
            path=path,
            hint="brat output is a folder of .txt and .ann files: name a new folder",
        )
    for source in inputs:
        if os.fspath(source) != "-" and within(source, target):
            raise NerkitError(
                f"holds this command's input {os.fspath(source)!r}",
                path=path,
                hint="write to another folder; the input would be lost",
            )
    check_outside_input_folders(path, target, inputs)
    if target.is_dir():
        stray = _stray_entry(target)
        if stray is not None:
            raise NerkitError(
                f"holds {stray!r}, which is not a brat document nerkit would replace",
                path=path,
                hint="name a new or empty folder: writing replaces the whole folder",
            )
    elif not target.parent.is_dir():
        raise NerkitError(
            "cannot write here: its folder does not exist", path=path, hint="create the folder first"
        )
    return target


def _stray_entry(folder: Path) -> str | None:
    """The first entry under `folder` (relative) that a brat write would lose: anything but .txt and
    .ann files, subfolders of them, and an annotation.conf that nerkit wrote; None when there is none."""
    try:
        for current, subfolders, names in os.walk(folder):
            subfolders.sort()
            for name in sorted(names):
                file = Path(current, name)
                if file.suffix in (TEXT_SUFFIX, ANN_SUFFIX) and not name.startswith("."):
                    continue
                if file == folder / CONF_NAME and _conf_is_ours(file):
                    continue
                return file.relative_to(folder).as_posix()
    except OSError as error:
        raise os_error(error, folder, "cannot read") from None
    return None


def _conf_is_ours(file: Path) -> bool:
    """Whether an annotation.conf opens with the line nerkit writes."""
    try:
        with file.open(encoding="utf-8", errors="replace") as handle:
            return handle.readline().rstrip("\r\n") == CONF_HEADER
    except OSError:
        return False
