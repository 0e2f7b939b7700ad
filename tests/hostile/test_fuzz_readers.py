"""Property-based fuzzing of the CoNLL, text and JSON-lines readers: on arbitrary bytes and on near-valid
input they raise nothing but NerkitError, and what they accept is sound (offsets slice the text, pieces
of a CoNLL file read as the whole, JSON goes back out strict). Deterministic: derandomized, no database."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nerkit.data.conll import conll_pieces, parse_conll
from nerkit.errors import NerkitError
from nerkit.evaluate import read_score_items
from nerkit.jsonl import read_text_objects, strict_json_line
from nerkit.lines import decode_lines
from nerkit.text.document import document_json_parts, parse_text

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Pieces of lines that trip readers: separators, line ends, BOMs, NULs, odd white space, tags good and bad.
CONLL_PIECES = [
    "EU", "rejects", "B-ORG", "I-PER", "O", "B-", "X-Y", "-DOCSTART-", "-X-", "é", "日本",
    " ", "  ", "\t", "\n", "\r\n", "\r", "\n\n", "\ufeff", "\x00", "\u00a0", "\u3000", "\u2028", "\x0b", "\x85",
]  # fmt: skip
TEXT_PIECES = [
    "Dr.", "Voss", "didn't", "U.S.", "3.", "e.g.", "a@b.co", "http://x.y/z", "...", "\u2026", "'s", "!",
    "\U0001f600", "\u0301", "ß", " ", "\t", "\n", "\r", "\u00a0", "\u2028", "\u3000", "\ufeff", "\x00", "\x0b",
]  # fmt: skip


def pieces_text(pieces: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces), max_size=40).map("".join)


TOKENS = ["EU", "rejects", "German", "é", "日本", "-X-", "-DOCSTART-", "a\u00a0b", "\ufeffx", "x\x00"]
TAGS = ["O", "O", "B-ORG", "I-ORG", "B-PER", "E-PER", "X-Y"]


def conll_file(rows: list[tuple[str, str] | None], separator: str, line_end: str, bom: str) -> bytes:
    """A CoNLL file of token lines (`None` is a blank line, a tag "" a -DOCSTART- line)."""
    lines = ["" if row is None else row[0] + separator + row[1] if row[1] else "-DOCSTART- O" for row in rows]
    return (bom + "".join(line + line_end for line in lines)).encode("utf-8")


near_conll = st.builds(
    conll_file,
    st.lists(
        st.one_of(st.none(), st.tuples(st.sampled_from(TOKENS), st.sampled_from([*TAGS, ""]))), max_size=12
    ),
    st.sampled_from([" ", "  ", "\t", " \t"]),
    st.sampled_from(["\n", "\r\n", "\r", "\n\n"]),
    st.sampled_from(["", "\ufeff"]),
)
any_bytes = st.binary(max_size=300)
conll_bytes = st.one_of(
    any_bytes, pieces_text(CONLL_PIECES).map(lambda text: text.encode("utf-8")), near_conll
)
text_strings = st.one_of(st.text(max_size=200), pieces_text(TEXT_PIECES))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "input"


def conll_rows(data: bytes, piece_bytes: int | None) -> list[tuple[object, ...]]:
    """The sentences of a CoNLL file's bytes, read whole (`piece_bytes` None) or piece by piece."""
    if piece_bytes is None:
        return [
            (s.line, s.columns, s.document, s.docstart) for s in parse_conll(decode_lines(data, "f"), "f")
        ]
    pieces, layout = conll_pieces(data, "f", piece_bytes)
    rows: list[tuple[object, ...]] = []
    for piece in pieces:
        lines = decode_lines(data[piece.start : piece.end], "f", piece.first_line)
        for s in parse_conll(lines, "f", -1, layout):
            rows.append((s.line, s.columns, s.document + piece.documents if s.document else 0, s.docstart))
    return rows


@FUZZ
@given(data=conll_bytes, piece_bytes=st.integers(1, 64))
def test_conll_reader_raises_only_nerkit_error_and_reads_pieces_as_the_whole(data, piece_bytes):
    try:
        whole = conll_rows(data, None)
    except NerkitError:
        return
    lines = dict(decode_lines(data, "f"))
    for line, columns, _, _ in whole:
        assert len({len(column) for column in columns}) == 1
        for offset, token in enumerate(columns[0]):
            assert token and token in lines[line + offset]
    assert conll_rows(data, piece_bytes) == whole


@FUZZ
@given(data=conll_bytes)
def test_score_reader_raises_only_nerkit_error(scratch, data):
    scratch.write_bytes(data)
    try:
        items = list(read_score_items(scratch))
    except NerkitError:
        return
    assert all(len(item) == 3 and all(item) for item in items)


def assert_offsets_slice(text: str) -> None:
    """parse_text's sentences and tokens are in order, inside each other, and slice `text` exactly."""
    document = parse_text(text)
    previous_end = 0
    for sentence in document.sentences:
        assert previous_end <= sentence.start < sentence.end <= len(text)
        for token in sentence.tokens:
            assert sentence.start <= token.start < token.end <= sentence.end
            assert previous_end <= token.start
            assert text[token.start : token.end] == token.text
            previous_end = token.end
        previous_end = sentence.end
    assert "".join(document_json_parts(text)) == json.dumps(document.to_json(), ensure_ascii=False) + "\n"


@FUZZ
@given(text=text_strings)
def test_text_offsets_slice_any_text(text):
    assert_offsets_slice(text)


@FUZZ
@given(data=st.one_of(any_bytes, text_strings.map(lambda text: text.encode("utf-8", "surrogatepass"))))
def test_text_reader_raises_only_nerkit_error(data):
    try:
        lines = list(decode_lines(data, "f"))
    except NerkitError:
        return
    for _, line in lines:
        assert "\n" not in line and "\r" not in line and "\x00" not in line and "\ufeff" not in line
        assert_offsets_slice(line)


json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # NaN and infinities too: json.dumps writes them as NaN and Infinity
    st.text(max_size=20),  # lone surrogates included
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=20,
)
json_rows = st.dictionaries(st.sampled_from(["text", "id", "entities", "x"]), json_values, max_size=4)


def json_line(row: dict[str, object], nest: int = 0, digits: int = 0) -> bytes:
    """`row` as JSON (NaN and Infinity allowed, surrogates escaped) with a number of `digits` digits as
    its first field when `digits`, wrapped in `nest` arrays."""
    text = json.dumps(row)
    if digits:
        text = "{" + f'"n": {"9" * digits}' + (", " if row else "") + text[1:]
    return ("[" * nest + text + "]" * nest + "\n").encode("ascii")


jsonl_bytes = st.one_of(
    any_bytes,
    st.lists(
        st.builds(
            json_line,
            json_rows,
            st.sampled_from([0, 0, 0, 1, 200, 5000]),
            st.sampled_from([0, 0, 4300, 4301]),
        ),
        max_size=3,
    ).map(b"".join),
    st.lists(st.builds(json_line, st.fixed_dictionaries({"text": text_strings})), max_size=3).map(b"\r".join),
)


@FUZZ
@given(data=jsonl_bytes)
def test_jsonl_reader_raises_only_nerkit_error_and_what_it_reads_goes_out_strict(scratch, data):
    scratch.write_bytes(data)
    try:
        rows = list(read_text_objects(scratch))
    except NerkitError:
        return
    for _, row in rows:
        assert isinstance(row["text"], str)
        line = strict_json_line(row)
        line.encode("utf-8")
        assert json.loads(line, parse_constant=lambda name: pytest.fail(name)) == row
        assert all(not isinstance(value, float) or math.isfinite(value) for value in _leaves(row))
        assert_offsets_slice(row["text"])


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for child in value.values() for leaf in _leaves(child)]
    if isinstance(value, list):
        return [leaf for child in value for leaf in _leaves(child)]
    return [value]
