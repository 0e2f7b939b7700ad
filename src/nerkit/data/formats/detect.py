"""Which format a file is in, from its extension and its first bytes, with `--input-format` to override."""

from __future__ import annotations

import json
from pathlib import Path

from nerkit.errors import NerkitError
from nerkit.files import PathLike

SNIFF_BYTES = 1 << 16  # the first bytes read to tell JSON from CoNLL
_BY_SUFFIX = {
    ".parquet": "hf",
    ".ann": "brat",
    ".json": "labelstudio",
    **dict.fromkeys((".conll", ".conllu", ".iob", ".iob1", ".iob2", ".bio", ".bioes"), "conll"),
}
_JSON_LINES = (".jsonl", ".ndjson")


def detect_format(path: PathLike) -> str:
    """The format of `path`: a folder is brat; .parquet is hf; .ann is brat; .json is a Label Studio
    export; .conll, .iob, .bio (and the like) are CoNLL, whatever their first token; JSON lines are hf
    when their first object has `tokens` and `ner_tags`, else spans JSONL; a file opening with `[` is a
    Label Studio export; anything else is CoNLL. Standard input is CoNLL."""
    if str(path) == "-":
        return "conll"
    target = Path(path)
    if target.is_dir():
        return "brat"
    suffix = target.suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    head = _head(target)
    start = head.lstrip()[:1]
    if start == b"[":
        return "labelstudio"
    if suffix in _JSON_LINES or start == b"{":
        return _json_lines_kind(head)
    return "conll"


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
    """hf when the first complete line is an object with `tokens` and `ner_tags`, else jsonl."""
    for raw in head.split(b"\n")[:-1] or [head]:
        if not raw.strip():
            continue
        try:
            first = json.loads(raw)
        except (ValueError, RecursionError):
            return "jsonl"  # its reader says what is wrong, with the line
        return "hf" if isinstance(first, dict) and "tokens" in first and "ner_tags" in first else "jsonl"
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
