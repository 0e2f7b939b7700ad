"""Stream-read and write CoNLL files: any number of columns, -DOCSTART- documents, errors with file:line."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from nerkit.data.tags import TAG_HINT, convert_tags, is_valid_tag
from nerkit.errors import NerkitError
from nerkit.files import PathLike, write_text_atomic
from nerkit.lines import BOM, count_line_ends, decode_lines, read_lines

DOCSTART = "-DOCSTART-"


@dataclass(frozen=True, slots=True)
class ConllSentence:
    """One sentence of a CoNLL file: its columns, which one holds the tags, and where it came from."""

    columns: tuple[tuple[str, ...], ...]  # [column][token]; column 0 holds the tokens
    tag_column: int | None  # index into `columns`, or None for an untagged file
    line: int  # 1-based line number of the sentence's first token
    document: int = 0  # how many -DOCSTART- lines came before it in the file
    docstart: tuple[str, ...] = ()  # the raw -DOCSTART- lines just before it (kept for writing back)
    delimiter: str = " "  # the file's column separator: a space or a tab
    trailing: tuple[str, ...] = ()  # -DOCSTART- lines after the file's last sentence (kept for writing back)

    @property
    def tokens(self) -> tuple[str, ...]:
        """The words of the sentence (the first column)."""
        return self.columns[0]

    @property
    def tags(self) -> tuple[str, ...]:
        """The tag column, or an empty tuple when the file is untagged."""
        return () if self.tag_column is None else self.columns[self.tag_column]

    def __len__(self) -> int:
        return len(self.columns[0])


def split_fields(line: str, tabbed: bool) -> list[str]:
    """The columns of one line: split on tabs in a tab-separated file, else on runs of spaces."""
    if tabbed:
        return [field.strip() for field in line.rstrip().split("\t")]
    return line.split()


_ODD_SPACE = re.compile(r"[^\S \t]")  # white space other than a space or a tab
_SPACES = re.compile(r"[ \t]+")


def read_fields(line: str, tabbed: bool, path: PathLike, number: int) -> list[str]:
    """`split_fields`, refusing what would be misread: in a tab-separated file an empty column; in a
    space-separated one white space other than spaces and tabs (a no-break space, U+3000, ...), which
    never separates columns. Raises NerkitError naming the file, line and column."""
    if tabbed:
        fields = split_fields(line, tabbed)
        if "" in fields:
            raise NerkitError(
                f"column {fields.index('') + 1} is empty",
                path=path,
                line=number,
                hint="every column needs a value; look for two tabs in a row or a tab at the start",
            )
        return fields
    odd = _ODD_SPACE.search(line)
    if odd is not None:
        column = len(_SPACES.split(line[: odd.start()].lstrip(" \t")))
        raise NerkitError(
            f"column {column} holds {_white_space_name(odd.group())} inside a token",
            path=path,
            line=number,
            hint="columns are split only at spaces and tabs: put a space there to split, "
            "or another character to keep one token",
        )
    return line.split()


def _white_space_name(character: str) -> str:
    """`a no-break space (U+00A0)`: what a white-space character is, for an error message."""
    name = unicodedata.name(character, "white-space control character").lower()
    article = "an" if name[0] in "aeiou" else "a"
    return f"{article} {name} (U+{ord(character):04X})"


def read_conll(path: PathLike, tag_column: int | None = -1) -> Iterator[ConllSentence]:
    """Stream the sentences of a CoNLL file, checking columns and tags as it goes.

    `tag_column` picks the tag column (negative counts from the end; None for an untagged file of
    tokens). Raises NerkitError naming the file and line for anything malformed, for an empty file
    and for a file without sentences.
    """
    return parse_conll(read_lines(path), path, tag_column)


@dataclass(frozen=True, slots=True)
class ConllLayout:
    """What a file's first lines fix for the rest: tabs or spaces, and the column count of its first
    token line (and that line's number)."""

    tabbed: bool
    width: int
    width_line: int


def conll_layout(lines: Iterable[tuple[int, str]]) -> ConllLayout | None:
    """The layout `parse_conll` would take from these lines (None when there is no token line)."""
    tabbed: bool | None = None
    for number, line in lines:
        if not line.strip():
            continue
        if tabbed is None:
            tabbed = "\t" in line
        fields = split_fields(line, tabbed)
        if fields[0] != DOCSTART:
            return ConllLayout(tabbed, len(fields), number)
    return None


def parse_conll(
    lines: Iterable[tuple[int, str]],
    path: PathLike,
    tag_column: int | None = -1,
    layout: ConllLayout | None = None,
) -> Iterator[ConllSentence]:
    """`read_conll` over lines already read: (line number, text) pairs of the file `path` names.

    `layout` is the file's, when `lines` are a later piece of it (see `conll_pieces`): errors then
    read as they would for the whole file. It stays one function because it is a streaming state
    machine whose state (layout, current rows, held-back sentence) every line reads and updates.
    """
    tabbed: bool | None = None
    width = 0  # columns per token line, fixed by the first token line
    width_line = 0
    tag_index: int | None = None
    if layout is not None:
        tabbed, width, width_line = layout.tabbed, layout.width, layout.width_line
        tag_index = _tag_index(path, width_line, width, tag_column)
    rows: list[list[str]] = []
    first_line = 0
    documents = 0
    docstart: list[str] = []
    valid_tags: set[str] = set()
    pending: ConllSentence | None = None  # held back one sentence, to attach -DOCSTART- lines after the last
    sentences = 0
    any_content = False

    def flush() -> ConllSentence:
        nonlocal rows, docstart
        sentence = ConllSentence(
            columns=tuple(zip(*rows, strict=True)),
            tag_column=tag_index,
            line=first_line,
            document=documents,
            docstart=tuple(docstart),
            delimiter="\t" if tabbed else " ",
        )
        rows, docstart = [], []
        return sentence

    for number, line in lines:
        if not line.strip():
            if rows:
                sentences += 1
                if pending is not None:
                    yield pending
                pending = flush()
            continue
        any_content = True
        if tabbed is None:
            tabbed = "\t" in line
        fields = read_fields(line, tabbed, path, number)
        if fields[0] == DOCSTART:
            if rows:
                sentences += 1
                if pending is not None:
                    yield pending
                pending = flush()
            documents += 1
            docstart.append(line)
            continue
        if not width:
            width, width_line = len(fields), number
            tag_index = _tag_index(path, number, width, tag_column)
        elif len(fields) != width:
            raise column_count_error(path, number, len(fields), width, width_line)
        if tag_index is not None and fields[tag_index] not in valid_tags:
            check_tag(fields[tag_index], f"tag {{!r}} in column {tag_index + 1}", path, number)
            valid_tags.add(fields[tag_index])
        if not rows:
            first_line = number
        rows.append(fields)
    if rows:
        sentences += 1
        if pending is not None:
            yield pending
        pending = flush()
    if pending is not None:
        yield replace(pending, trailing=tuple(docstart)) if docstart else pending
    _check_not_empty(path, any_content, sentences)


def _check_not_empty(path: PathLike, any_content: bool, sentences: int) -> None:
    """Raise NerkitError for a file of blank lines only, or of -DOCSTART- lines without sentences."""
    if not any_content:
        raise NerkitError("the file is empty", path=path, hint="give a CoNLL file with one token per line")
    if not sentences:
        raise NerkitError(
            "no sentences, only -DOCSTART- lines",
            path=path,
            hint="a CoNLL file needs token lines, with a blank line after each sentence",
        )


@dataclass(frozen=True, slots=True)
class ConllPiece:
    """A byte range of a CoNLL file that parses on its own (whole -DOCSTART- documents, or whole
    sentences in a file without them): the number of its first line, and the -DOCSTART- lines before it."""

    start: int
    end: int
    first_line: int
    documents: int


_TOKEN_LINE = re.compile(rb"(?m)^[ \t]*(?!-DOCSTART-)[!-~]")  # surely a token line, whatever the layout
_SENTENCE_START = re.compile(rb"\n[ \t\r]*\n(?=[ \t]*[!-~])")  # a blank line, then surely a token line


def conll_pieces(
    data: bytes, path: PathLike, piece_bytes: int
) -> tuple[list[ConllPiece], ConllLayout | None]:
    """Cut a CoNLL file's bytes into pieces of about `piece_bytes` (at least one) that `parse_conll`,
    given the returned layout, reads one by one to the same sentences as the whole file (their
    `document` counts start from the piece's `documents`). Cuts fall before -DOCSTART- lines, or between
    sentences in a file without them; every piece holds a token line."""
    layout = conll_layout(decode_lines(data, path))
    if layout is None:
        return [ConllPiece(0, len(data), 1, 0)], None
    docstarts = _docstart_lines(data, layout.tabbed)
    cuts, documents = [0], [0]
    while True:
        token = _TOKEN_LINE.search(data, cuts[-1])
        if token is None:
            break
        lowest = max(cuts[-1] + piece_bytes, token.start() + 1)
        if docstarts:
            index = bisect.bisect_left(docstarts, lowest)
            if index == len(docstarts):
                break
            while index > 0 and not _TOKEN_LINE.search(data, docstarts[index - 1], docstarts[index]):
                index -= 1  # empty documents go with the next one, as parse_conll gives them
            cuts.append(docstarts[index])
            documents.append(index)
        else:
            found = _SENTENCE_START.search(data, lowest - 1)
            if found is None:
                break
            cuts.append(found.end())
            documents.append(0)
    if len(cuts) > 1 and not _TOKEN_LINE.search(data, cuts[-1]):
        cuts.pop()
        documents.pop()
    pieces, line = [], 1
    for start, end, before in zip(cuts, [*cuts[1:], len(data)], documents, strict=True):
        pieces.append(ConllPiece(start, end, line, before))
        line += count_line_ends(data, start, end)
    return pieces, layout


def _docstart_lines(data: bytes, tabbed: bool) -> list[int]:
    """Where each -DOCSTART- line starts (as `parse_conll` tells them), in order."""
    starts: list[int] = []
    at = data.find(b"-DOCSTART-")
    while at != -1:
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        end = len(data) if end == -1 else end
        try:
            line = data[start:end].decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:  # parse_conll stops at this line with the error
            line = ""
        line = line.removeprefix(BOM)
        if line.strip() and split_fields(line, tabbed)[0] == DOCSTART:
            starts.append(start)
        at = data.find(b"-DOCSTART-", end)
    return starts


def column_count_error(path: PathLike, line: int, found: int, width: int, width_line: int) -> NerkitError:
    """The error for a token line whose column count differs from the file's first token line."""
    return NerkitError(
        f"{found} columns, but the first token line (line {width_line}) has {width}",
        path=path,
        line=line,
        hint="every token line needs the same number of columns, separated by spaces or tabs",
    )


def check_tag(tag: str, description: str, path: PathLike, line: int) -> None:
    """Raise NerkitError naming the file and line unless `tag` is O or B-/I-/E-/S- and a type.

    `description` says which tag it is, with `{!r}` where the tag goes ("predicted tag {!r}").
    """
    if not is_valid_tag(tag):
        raise NerkitError(f"invalid {description.format(tag)}", path=path, line=line, hint=TAG_HINT)


def _tag_index(path: PathLike, line: int, width: int, tag_column: int | None) -> int | None:
    """Resolve the user's tag column against the file's width, or explain why it cannot be used."""
    if tag_column is None:
        return None
    index = tag_column + width if tag_column < 0 else tag_column
    if width < 2:
        raise NerkitError(
            "only one column; a tagged CoNLL file needs at least a token and a tag column",
            path=path,
            line=line,
            hint="separate the columns with spaces or tabs",
        )
    if not 1 <= index < width:
        raise NerkitError(
            f"there is no tag column {tag_column} in a file of {width} columns",
            path=path,
            line=line,
            hint=f"pick a column from 1 to {width - 1} (0 holds the tokens), or -1 for the last",
        )
    return index


def format_conll(sentences: Iterable[ConllSentence], delimiter: str | None = None) -> Iterator[str]:
    """The lines of a canonical CoNLL file, each ending in a newline.

    -DOCSTART- lines each followed by a blank line, one token per line, a blank line after every
    sentence; columns joined by `delimiter`, by default the one the sentence was read with.
    """
    for sentence in sentences:
        separator = sentence.delimiter if delimiter is None else delimiter
        for docstart in sentence.docstart:
            yield docstart + "\n"
            yield "\n"
        for row in zip(*sentence.columns, strict=True):
            yield separator.join(row) + "\n"
        yield "\n"
        for docstart in sentence.trailing:
            yield docstart + "\n"
            yield "\n"


def write_conll(path: PathLike, sentences: Iterable[ConllSentence], delimiter: str | None = None) -> None:
    """Write sentences as a canonical CoNLL file, atomically."""
    write_text_atomic(path, format_conll(sentences, delimiter))


def convert_conll(path: PathLike, output: PathLike, scheme: str, tag_column: int = -1) -> int:
    """Rewrite a CoNLL file's tags in `scheme` (IOB1, IOB2, BIOES) to `output`; returns the sentence count."""
    count = 0

    def converted() -> Iterator[ConllSentence]:
        nonlocal count
        for sentence in read_conll(path, tag_column=tag_column):
            index = sentence.tag_column
            assert index is not None
            columns = list(sentence.columns)
            columns[index] = tuple(convert_tags(sentence.tags, scheme))
            count += 1
            yield replace(sentence, columns=tuple(columns))

    write_text_atomic(output, format_conll(converted()), inputs=[path])  # never over its input
    return count


def document_id(sentence: ConllSentence, index: int) -> int:
    """The -DOCSTART- document a sentence belongs to; a sentence before any -DOCSTART- line (or in a
    file without them) is a document of its own, `-1 - index`: nothing says its neighbours belong with it."""
    return sentence.document if sentence.document else -1 - index


def document_ids(sentences: Sequence[ConllSentence]) -> list[int]:
    """`document_id` of each sentence of a file, in order."""
    return [document_id(sentence, index) for index, sentence in enumerate(sentences)]
