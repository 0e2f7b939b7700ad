"""Which format a file is in, from its name and its first bytes, with `--input-format` to override."""

from __future__ import annotations

import json
import os
from pathlib import Path

from nerkit.errors import NerkitError
from nerkit.files import PathLike

SNIFF_BYTES = 1 << 16  # the first bytes read to tell JSON from CoNLL
_BY_SUFFIX = {
    ".parquet": "hf",
    ".ann": "brat",
    ".json": "labelstudio",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    **dict.fromkeys((".conll", ".conllu", ".iob", ".iob1", ".iob2", ".bio", ".bioes", ".iobes"), "conll"),
}


def format_from_name(path: PathLike) -> str | None:
    """The format `path`'s name alone says: a folder (or a name ending in /) is brat; .parquet is hf;
    .ann is brat; .json is labelstudio; .jsonl and .ndjson are jsonl; .conll, .conllu, .iob, .iob1,
    .iob2, .bio, .bioes and .iobes are conll; None for any other name (.txt, no extension, `-`)."""
    shown = os.fspath(path)
    if shown.endswith(("/", os.sep)) or Path(shown).is_dir():
        return "brat"
    return _BY_SUFFIX.get(Path(shown).suffix.lower())


def detect_format(path: PathLike) -> str:
    """The format of `path`: what its name says (`format_from_name`), its first bytes deciding where the
    name leaves it open (.json, .jsonl, .ndjson and unknown names). A file opening with `[` is a Label
    Studio export; JSON lines (.jsonl, .ndjson, or any file opening with `{`, such as the .json files
    `datasets`' `to_json()` writes) are hf when their first object has `tokens` and `ner_tags` (or
    `tokens` and no `text`), else spans JSONL; any other .json is a Label Studio export (its reader
    says what is wrong), any other file CoNLL. Standard input is CoNLL."""
    if os.fspath(path) == "-":
        return "conll"
    named = format_from_name(path)
    if named is not None and named not in ("labelstudio", "jsonl"):
        return named
    head = _head(Path(path))
    start = head.lstrip()[:1]
    if start == b"[":
        return "labelstudio"
    if start == b"{" or named == "jsonl":
        return _json_lines_kind(head)
    return "labelstudio" if named == "labelstudio" else "conll"


def _head(path: Path) -> bytes:
    """The first bytes of a regular file (nothing for anything else, which its reader then refuses)."""
    if not path.is_file():
        return b""
    try:
        with path.open("rb") as handle:
            return handle.read(SNIFF_BYTES).removeprefix(b"\xef\xbb\xbf")
    except OSError:
        return b""


def _json_lines_kind(head: bytes) -> str:
    """hf when the first complete line is an object with `tokens` and `ner_tags`, or `tokens` and no
    `text` (rows to pre-annotate), else jsonl."""
    for raw in head.split(b"\n")[:-1] or [head]:
        if not raw.strip():
            continue
        try:
            first = json.loads(raw)
        except (ValueError, RecursionError):
            return "jsonl"  # its reader says what is wrong, with the line
        if isinstance(first, dict) and "tokens" in first and ("ner_tags" in first or "text" not in first):
            return "hf"
        return "jsonl"
    return "jsonl"


def require_format(path: PathLike, given: str | None) -> str:
    """`given` when set, else the detected format; a brat folder or a .ann file given as another format
    is refused in one line."""
    name = given or detect_format(path)
    if name != "brat" and Path(path).is_dir():
        raise NerkitError(
            f"a folder, not a {name} file", path=path, hint="give a file, or --input-format brat"
        )
    return name
