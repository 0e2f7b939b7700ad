"""Hugging Face token-classification rows (`tokens`, `ner_tags`), parquet or JSON lines, as documents and back.

A file ending in .parquet is parquet (read in record batches through pyarrow, which only this needs);
any other is JSON lines. Each row is one sentence, read as one document: its tokens joined by spaces,
kept as its tokenisation, its tags read as entity spans. `ner_tags` holds tag names (`B-PER`) or
numbers; the names of numbers come from `--labels` when given, else from the parquet file's own
Hugging Face schema metadata, else from the `dataset_info.json` beside the file or in its parent folder
(its `features.ner_tags`, a Sequence or List of ClassLabel, as `datasets` saves it). A row without
`ner_tags` (tokens only, as rows to pre-annotate are) is a document nobody annotated, counted as
unannotated. Rows are named `file:line` in JSON lines and `file: row N` in parquet, counted from 0 as
`datasets` indexes them.

Written, each sentence is a row `{"id", "tokens", "ner_tags"}` with tag numbers, and a
`dataset_info.json` beside the file names them (parquet also carries them in its schema metadata), so
`datasets` reads the file with its ClassLabel names. Writing never changes what the files already in
the folder mean: the names of the dataset_info.json they are read with are reused when they hold every
tag written, and one naming other tags is refused.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate, islice
from operator import add
from pathlib import Path
from typing import IO, Any

from nerkit.data.align import AlignedDocument
from nerkit.data.annotations import Adjustment, AnnotatedDocument, Annotation, TokenSpans
from nerkit.data.formats import ReadOptions, WriteOptions
from nerkit.data.tags import TAG_HINT, convert_tags, is_valid_tag, normalise_scheme, tags_to_spans
from nerkit.errors import NerkitError, os_error
from nerkit.files import PathLike, check_output, replace_file, write_text_atomic
from nerkit.jsonl import parse_object, strict_json_line
from nerkit.lines import read_lines

INFO_NAME = "dataset_info.json"
METADATA_KEY = b"huggingface"
BATCH_ROWS = 1024
ROW_HINT = (
    'each line must be a JSON object with "tokens" (strings) and "ner_tags" (tag numbers or names), '
    'e.g. {"tokens": ["Paris", "is", "big"], "ner_tags": [5, 0, 0]}'
)
LABELS_HINT = (
    "give the tag names in the dataset's order with --labels O,B-PER,I-PER,..., "
    f"or put the dataset's {INFO_NAME} beside the file"
)
_LIST_TYPES = ("Sequence", "List", "LargeList")
_NOT_IN_TOKEN = re.compile(r"[\s\x00\ufeff]")


@dataclass(frozen=True, slots=True)
class TagNames:
    """The tag names of a dataset's tag numbers, in order, and where they came from (for messages);
    `names` is None when nothing named them (`source` then says what was looked at)."""

    names: tuple[str, ...] | None
    source: str


@dataclass(frozen=True, slots=True)
class Row:
    """Where a row is: its file, and its line (JSON lines) or its index from 0 (parquet)."""

    path: str
    line: int | None = None
    index: int = 0

    @property
    def place(self) -> str:
        """`file:line` or `file: row N`."""
        return f"{self.path}:{self.line}" if self.line is not None else f"{self.path}: row {self.index}"

    def error(self, what: str, hint: str = "") -> NerkitError:
        """A NerkitError about this row, naming its file and line or row."""
        if self.line is not None:
            return NerkitError(what, path=self.path, line=self.line, hint=hint)
        return NerkitError(f"row {self.index}: {what}", path=self.path, hint=hint)


def is_parquet(path: PathLike) -> bool:
    """Whether `path` names a parquet file (by its extension)."""
    return os.fspath(path).lower().endswith(".parquet")


def read(path: PathLike, options: ReadOptions) -> Iterator[AnnotatedDocument]:
    """The rows of a Hugging Face parquet or JSON-lines file, one document (sentence) per row, streamed."""
    if is_parquet(path):
        return _read_parquet(path, options)
    return _read_json_lines(path, options)


def _read_json_lines(path: PathLike, options: ReadOptions) -> Iterator[AnnotatedDocument]:
    names = tag_names(path, options, None)
    for number, line in read_lines(path):
        if not line.strip():
            continue
        yield row_document(_row_object(line, path, number), names, Row(os.fspath(path), line=number))


def _row_object(line: str, path: PathLike, number: int) -> dict[str, object]:
    """One line's JSON object, read as strictly as `nerkit.jsonl` reads one, with the errors worded
    for rows of tokens and tags."""
    return parse_object(line, path, number, hint=ROW_HINT, wanted="a JSON object")


def _read_parquet(path: PathLike, options: ReadOptions) -> Iterator[AnnotatedDocument]:
    pa, pq = _pyarrow("reading")
    shown = os.fspath(path)
    try:
        handle = pq.ParquetFile(path)
    except FileNotFoundError:
        raise NerkitError("no such file", path=path, hint="check the path") from None
    except IsADirectoryError:
        raise NerkitError("is a folder, not a file", path=path, hint="name a file") from None
    except OSError as error:
        raise os_error(error, path, "cannot read") from None
    except (pa.ArrowException, ValueError) as error:
        raise _not_parquet(error, path) from None
    with handle:
        schema = handle.schema_arrow
        names = tag_names(path, options, (schema.metadata or {}).get(METADATA_KEY))
        tagged = ["ner_tags"] if "ner_tags" in schema.names else []
        columns = ["tokens", *tagged, *_scalar_columns(schema, pa, path)]
        batches = handle.iter_batches(batch_size=BATCH_ROWS, columns=columns)
        index = 0
        while True:
            try:
                batch = next(batches, None)
            except OSError as error:
                raise os_error(error, path, "cannot read") from None
            except (pa.ArrowException, ValueError) as error:
                raise _not_parquet(error, path) from None
            if batch is None:
                return
            for values in batch.to_pylist():
                yield row_document(values, names, Row(shown, index=index))
                index += 1


def _scalar_columns(schema: Any, pa: Any, path: PathLike) -> list[str]:
    """The columns besides `tokens` (required) and `ner_tags` that hold one string, number or truth
    value per row: kept in each document's `extra`."""
    if "tokens" not in schema.names:
        raise NerkitError(
            f'no "tokens" column (it has {", ".join(schema.names) or "none"})',
            path=path,
            hint='Hugging Face token classification data has "tokens" and "ner_tags" columns',
        )
    types = pa.types
    kinds = (types.is_string, types.is_large_string, types.is_integer, types.is_floating, types.is_boolean)
    return [
        field.name
        for field in schema
        if field.name not in ("tokens", "ner_tags") and any(kind(field.type) for kind in kinds)
    ]


def _not_parquet(error: Exception, path: PathLike) -> NerkitError:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return NerkitError(
        f"not a readable parquet file ({reason})", path=path, hint="check the file, or give JSON lines"
    )


def _pyarrow(doing: str) -> tuple[Any, Any]:
    """pyarrow and pyarrow.parquet, imported when first needed: nerkit needs them only for parquet."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise NerkitError(f"{doing} parquet needs pyarrow", hint="pip install pyarrow") from None
    return pyarrow, pyarrow.parquet


def row_document(values: dict[str, object], names: TagNames, row: Row) -> AnnotatedDocument:
    """One row as a document: its tokens joined by spaces, one sentence of them, its tags' entities
    as spans, its other fields kept in `extra`. A row with no `ner_tags` (or null ones) is read as not
    annotated, counted as unannotated: its tokens reach prediction, never training. Raises NerkitError
    naming the row for what is wrong."""
    if "tokens" not in values:
        raise row.error('no "tokens" field', ROW_HINT)
    tokens = values["tokens"]
    if type(tokens) is not list or not set(map(type, tokens)) <= {str}:
        raise row.error('"tokens" is not a list of strings', ROW_HINT)
    if "" in tokens or _NOT_IN_TOKEN.search("".join(tokens)):
        _refuse_tokens(tokens, row)
    lengths = list(map(len, tokens))
    starts = [0, *accumulate(length + 1 for length in lengths)][:-1]
    spans: TokenSpans = list(zip(starts, map(add, starts, lengths), strict=True))
    place = row.place
    document = AnnotatedDocument(
        text=" ".join(tokens),
        annotations=[],
        place=place,
        sentences=[spans],
        extra={key: value for key, value in values.items() if key not in ("tokens", "ner_tags")},
        docstart=False,
        format="hf",
    )
    tags = values.get("ner_tags")
    if tags is None:
        document.adjustments.append(Adjustment("unannotated", place, "no ner_tags"))
        document.annotated = False
        return document
    if type(tags) is not list:
        raise row.error('"ner_tags" is not a list', ROW_HINT)
    if len(tags) != len(tokens):
        raise row.error(f"{len(tokens)} tokens but {len(tags)} ner_tags", "give one tag per token")
    tag_strings = _tag_strings(tags, names, row)
    if tag_strings.count("O") != len(tag_strings):
        document.annotations = [
            Annotation(spans[chunk.start][0], spans[chunk.end - 1][1], chunk.label, place=place)
            for chunk in tags_to_spans(tag_strings)
        ]
    return document


def _refuse_tokens(tokens: list[str], row: Row) -> None:
    """Raise NerkitError for the first token that is empty or holds white space, a NUL or a byte-order mark."""
    for number, token in enumerate(tokens, start=1):
        if not token:
            raise row.error(f"token {number} is empty", "every token holds at least one character")
        found = _NOT_IN_TOKEN.search(token)
        if found is not None and found.group().isspace():
            raise row.error(
                f"token {number} {token!r} holds white space",
                "nerkit joins tokens with spaces: split the token, or drop the white space",
            )
        if found is not None:
            raise row.error(f"token {number} {token!r} holds a NUL or a byte-order mark", "remove it")


def _tag_strings(tags: list[Any], names: TagNames, row: Row) -> list[str]:
    """The row's tags as names: names checked, numbers looked up in `names`."""
    kinds = set(map(type, tags))
    if kinds <= {str}:
        for tag in set(tags):
            if not is_valid_tag(tag):
                raise row.error(f"tag {tag!r} (token {tags.index(tag) + 1}) is not a tag", TAG_HINT)
        return tags
    if kinds != {int}:  # bool, float, None or a mix: not tag numbers
        raise row.error('"ner_tags" must be all tag numbers or all tag names', ROW_HINT)
    if names.names is None:
        raise row.error(f"ner_tags are numbers, and nothing names them ({names.source})", LABELS_HINT)
    known = names.names
    if min(tags) < 0 or max(tags) >= len(known):
        number, tag = next((n, t) for n, t in enumerate(tags, start=1) if not 0 <= t < len(known))
        raise row.error(
            f"tag number {tag} (token {number}) is out of range: {names.source} names {len(known)} "
            f"tags (0 to {len(known) - 1})",
            LABELS_HINT,
        )
    return list(map(known.__getitem__, tags))


def tag_names(path: PathLike, options: ReadOptions, metadata: bytes | None) -> TagNames:
    """The names of the file's tag numbers: `--labels`, else a parquet file's Hugging Face schema
    `metadata`, else the dataset_info.json beside the file or in its parent folder; each checked to be a
    tag. `names` is None when none of them names the tags."""
    if options.labels is not None:
        return _checked(TagNames(tuple(options.labels), "--labels"))
    if metadata is not None:
        shown = f"{os.fspath(path)} (its Hugging Face metadata)"
        try:
            features = json.loads(metadata.decode("utf-8")).get("info", {}).get("features")
        except (ValueError, AttributeError):
            features = None
        names = names_in_features(features)
        if names is not None:
            return _checked(TagNames(tuple(names), shown))
    if os.fspath(path) == "-":
        return TagNames(None, "standard input has no dataset_info.json")
    for info in info_files(path):
        if info.is_file():
            names = names_in_features(_read_info(info).get("features"))
            if names is None:
                return TagNames(None, f"{info} has no ClassLabel names for ner_tags")
            return _checked(TagNames(tuple(names), str(info)))
    return TagNames(None, f"no {INFO_NAME} beside the file or in its parent folder")


def info_files(path: PathLike) -> tuple[Path, Path]:
    """Where the dataset_info.json naming the tags of the file at `path` may be, nearest first: beside
    it, then in its parent folder (`..` where the file's folder is `.` or ends in `..`)."""
    here = Path(path).parent
    above = here.parent if here.name not in ("", "..") else here / os.pardir
    return here / INFO_NAME, above / INFO_NAME


def _read_info(info: Path) -> dict[str, Any]:
    """A dataset_info.json as a JSON object, or NerkitError naming it."""
    try:
        text = info.read_text(encoding="utf-8")
    except OSError as error:
        raise os_error(error, info, "cannot read") from None
    except UnicodeDecodeError:
        raise NerkitError("is not UTF-8 text", path=info, hint="re-save it as UTF-8") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise NerkitError(
            f"not valid JSON ({error})", path=info, hint="fix it, or give the tag names with --labels"
        ) from None
    if not isinstance(data, dict):
        raise NerkitError("not a JSON object", path=info, hint="fix it, or give the tag names with --labels")
    return data


def names_in_features(features: object) -> list[str] | None:
    """The ClassLabel names of `ner_tags` in a `datasets` features dictionary: a Sequence, List or
    LargeList of ClassLabel (`{"feature": {"names": [...], "_type": "ClassLabel"}, "_type": "Sequence"}`),
    or a one-item list of ClassLabel; None when it has none."""
    if not isinstance(features, dict):
        return None
    feature = features.get("ner_tags")
    if isinstance(feature, list) and len(feature) == 1:
        feature = feature[0]
    if isinstance(feature, dict) and feature.get("_type") in _LIST_TYPES:
        feature = feature.get("feature")
    if not isinstance(feature, dict) or feature.get("_type") != "ClassLabel":
        return None
    names = feature.get("names")
    if isinstance(names, list) and all(isinstance(name, str) for name in names):
        return names
    return None


def _checked(names: TagNames) -> TagNames:
    """`names`, once each is known to be a tag (O, or B-, I-, E-, S- and a type)."""
    for name in names.names or ():
        if not is_valid_tag(name):
            raise NerkitError(f"{names.source}: tag name {name!r} is not a tag", hint=TAG_HINT)
    return names


def default_names(types: Iterable[str], scheme: str) -> tuple[str, ...]:
    """O, then each type's tags in `scheme` (B-, I-; BIOES adds E-, S-), types sorted."""
    prefixes = ("B", "I", "E", "S") if normalise_scheme(scheme) == "BIOES" else ("B", "I")
    return ("O", *(f"{prefix}-{label}" for label in sorted(types) for prefix in prefixes))


def features(names: Iterable[str]) -> dict[str, object]:
    """The `datasets` features of the rows nerkit writes: id, tokens, and ner_tags as ClassLabel names."""
    return {
        "id": {"dtype": "string", "_type": "Value"},
        "tokens": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "Sequence"},
        "ner_tags": {"feature": {"names": list(names), "_type": "ClassLabel"}, "_type": "Sequence"},
    }


Sentence = tuple[str, list[str], list[str]]  # the document's place, a sentence's tokens, its tags


@dataclass(frozen=True, slots=True)
class Info:
    """The dataset_info.json the files in an output's folder are read with: where it is, the tag names
    it gives (None when it gives none), and whether it lies in that folder (else in its parent)."""

    path: Path
    names: tuple[str, ...] | None
    own: bool


def write(path: PathLike, documents: Iterable[AlignedDocument], options: WriteOptions) -> int:
    """Write documents as Hugging Face rows, one per sentence (parquet for a .parquet path, else JSON
    lines), tags in `options.scheme` as numbers of `options.labels`, with a dataset_info.json beside it
    naming them. Without labels, the names of the dataset_info.json the folder's files are read with
    (its own, else its parent folder's) are kept when they hold every tag written, else O and each
    type's tags, sorted. Writing never changes what the files already there mean: a dataset_info.json
    naming other tags is refused, unless the folder holds nothing but the file written; one naming the
    same is left as it is (copied beside the file when it is the parent folder's). Standard output is
    refused: the rows need their dataset_info.json beside them."""
    if os.fspath(path) == "-":
        raise NerkitError(
            "Hugging Face rows cannot be written to standard output",
            hint="give a file (-o rows.jsonl or rows.parquet): a dataset_info.json naming the tags goes beside it",
        )
    scheme = normalise_scheme(options.scheme)
    parquet = _pyarrow("writing") if is_parquet(path) else None
    check_output(path, options.inputs)
    existing = existing_info(path)
    info = info_files(path)[0]
    count = 0

    def sentences() -> Iterator[Sentence]:
        nonlocal count
        for document in documents:
            count += 1
            for words, tags in zip(document.tokens(), document.tags, strict=True):
                if words:
                    _check_words(words, document)
                    yield document.source.place, list(words), convert_tags(tags, scheme)

    if options.labels is not None:
        names = _checked(TagNames(tuple(options.labels), "--labels"))
        keep_info = _info_kept(path, existing, names.names or (), None)
        _write_rows(path, sentences(), names, info, keep_info, parquet, options)
        return count
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        written: set[str] = set()
        for place, words, tags in sentences():
            written.update(tags)
            spool.write(json.dumps([place, words, tags], ensure_ascii=False) + "\n")
        names = _names_for(written, existing, scheme)
        keep_info = _info_kept(path, existing, names.names or (), written)
        spool.seek(0)
        _write_rows(path, _spooled(spool), names, info, keep_info, parquet, options)
    return count


def existing_info(path: PathLike) -> Info | None:
    """The dataset_info.json the files in `path`'s folder are read with, as `tag_names` finds it (the
    folder's own, else its parent folder's); None when there is none. NerkitError for one that cannot
    be read, or a folder's own that is not a file (it could not be replaced)."""
    here, above = info_files(path)
    if here.exists() and not here.is_file():
        raise NerkitError("is not a file", path=here, hint="write to another folder")
    for info in (here, above):
        if info.is_file():
            found = names_in_features(_read_info(info).get("features"))
            return Info(info, None if found is None else tuple(found), info == here)
    return None


def _names_for(written: set[str], existing: Info | None, scheme: str) -> TagNames:
    """The names of the tags written: those of the existing dataset_info.json when they are tags and
    hold every one written, else O and each type's tags in `scheme`, types sorted."""
    if (
        existing is not None
        and existing.names is not None
        and written <= set(existing.names)
        and all(map(is_valid_tag, existing.names))
    ):
        return TagNames(existing.names, str(existing.path))
    types = {tag[2:] for tag in written if tag != "O"}
    return TagNames(default_names(types, scheme), "the default tag names")


def _info_kept(
    path: PathLike, existing: Info | None, names: tuple[str, ...], written: set[str] | None
) -> bool:
    """Whether the existing dataset_info.json is left as it is (True: it is the folder's own and names
    these tags), or one is written beside `path` (none there; the parent folder's names the same; or the
    folder holds nothing but the file written, whose meaning alone changes). NerkitError otherwise: the
    files beside `path` would be misread. `written` is the set of tags written, when known."""
    if existing is None:
        return False
    if existing.names == names:
        return existing.own
    if _alone(path):
        return False
    said = (
        "no ClassLabel names for ner_tags"
        if existing.names is None
        else f"the tags {_listed(existing.names)}"
    )
    if existing.own:
        what = f"already holds {said}, not {_listed(names)}"
        remove = ", or remove it if nothing it describes is kept"
    else:
        folder = Path(path).parent
        shown = "the current folder" if folder == Path() else str(folder)
        what = f"gives {said} to the files in {shown}, not {_listed(names)}"
        remove = f" (a {INFO_NAME} there would change what its files mean)"
    if written is None:
        hint = f"give --labels in its order, or write to a folder of its own{remove}"
    elif existing.names is None:
        hint = f"write to a folder of its own{remove}"
    else:
        missing = sorted(written - set(existing.names))
        hint = f"it has no {_listed(missing)}: write to a folder of its own{remove}"
    raise NerkitError(what, path=existing.path, hint=hint)


def _alone(path: PathLike) -> bool:
    """Whether the folder of `path` holds nothing but `path` itself and a dataset_info.json."""
    folder = Path(path).parent
    try:
        return set(os.listdir(folder)) <= {Path(path).name, INFO_NAME}
    except OSError:
        return False


def _spooled(spool: IO[str]) -> Iterator[Sentence]:
    for line in spool:
        place, words, tags = json.loads(line)
        yield place, words, tags


def _check_words(words: tuple[str, ...], document: AlignedDocument) -> None:
    """Refuse a token a Hugging Face row cannot hold as nerkit reads it back: one with white space."""
    for word in words:
        if _NOT_IN_TOKEN.search(word):
            raise NerkitError(
                f"token {word!r} cannot be written to a Hugging Face file",
                path=document.source.place,
                hint="its tokens hold no white space: fix the tokenisation the file gives",
            )


def _listed(names: Iterable[str], limit: int = 8) -> str:
    shown = list(names)
    return ", ".join(shown[:limit]) + (f", ... ({len(shown)} in all)" if len(shown) > limit else "")


def _write_rows(
    path: PathLike,
    sentences: Iterator[Sentence],
    names: TagNames,
    info: Path,
    keep_info: bool,
    parquet: tuple[Any, Any] | None,
    options: WriteOptions,
) -> None:
    """Write the rows, then dataset_info.json (unless the one there agrees), each atomically: a tag
    the names lack stops the rows before anything is written."""
    known = names.names or ()
    index = {name: number for number, name in enumerate(known)}

    def rows() -> Iterator[dict[str, object]]:
        for number, (place, words, tags) in enumerate(sentences):
            for tag in tags:
                if tag not in index:
                    raise NerkitError(
                        f"tag {tag!r} is not among the tag names of {names.source} ({_listed(known)})",
                        path=place,
                        hint="add it to --labels (in --scheme's tags), or leave --labels out",
                    )
            yield {"id": str(number), "tokens": words, "ner_tags": [index[tag] for tag in tags]}

    if parquet is None:
        write_text_atomic(path, (strict_json_line(row) for row in rows()), inputs=options.inputs)
    else:
        _write_parquet(path, rows(), known, parquet, options)
    if not keep_info:
        text = json.dumps({"features": features(known)}, indent=2, ensure_ascii=False) + "\n"
        write_text_atomic(info, [text], inputs=options.inputs)


def _write_parquet(
    path: PathLike,
    rows: Iterator[dict[str, object]],
    known: tuple[str, ...],
    parquet: tuple[Any, Any],
    options: WriteOptions,
) -> None:
    """The rows as a parquet file, in batches, its schema metadata naming the tags as `datasets` does."""
    pa, pq = parquet
    metadata = {METADATA_KEY: json.dumps({"info": {"features": features(known)}}).encode()}
    schema = pa.schema(
        [("id", pa.string()), ("tokens", pa.list_(pa.string())), ("ner_tags", pa.list_(pa.int64()))],
        metadata=metadata,
    )

    def fill(temporary: Path) -> None:
        with pq.ParquetWriter(temporary, schema) as writer:
            while batch := list(islice(rows, BATCH_ROWS)):
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))

    replace_file(path, fill, options.inputs)
