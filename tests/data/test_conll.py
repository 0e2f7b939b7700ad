"""Tests for nerkit.data.conll: reading every CoNLL variant, writing back, and every bad input."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from nerkit.data.conll import (
    ConllPiece,
    ConllSentence,
    conll_pieces,
    document_ids,
    format_conll,
    parse_conll,
    read_conll,
    write_conll,
)
from nerkit.errors import NerkitError
from nerkit.lines import decode_lines

CANONICAL = (
    "-DOCSTART- -X- -X- O\n\n"
    "Corvane NNP B-NP B-ORG\nhires VBZ B-VP O\nVeldorian JJ B-NP B-MISC\n\n"
    "Maria NNP B-NP B-PER\nVoss NNP I-NP I-PER\n\n"
    "-DOCSTART- -X- -X- O\n\n"
    "Halvery NNP B-NP B-LOC\n\n"
)


def test_reads_sentences_documents_and_columns(write):
    sentences = list(read_conll(write(CANONICAL)))
    assert [s.tokens for s in sentences] == [
        ("Corvane", "hires", "Veldorian"),
        ("Maria", "Voss"),
        ("Halvery",),
    ]
    assert [s.tags for s in sentences] == [("B-ORG", "O", "B-MISC"), ("B-PER", "I-PER"), ("B-LOC",)]
    assert [s.document for s in sentences] == [1, 1, 2]
    assert [s.line for s in sentences] == [3, 7, 12]
    assert sentences[0].columns[1] == ("NNP", "VBZ", "JJ")
    assert sentences[0].tag_column == 3
    assert sentences[0].docstart == ("-DOCSTART- -X- -X- O",)
    assert sentences[1].docstart == ()


def test_canonical_file_is_written_back_byte_identical(write, tmp_path):
    source = write(CANONICAL)
    target = tmp_path / "copy.conll"
    write_conll(target, read_conll(source))
    assert target.read_bytes() == source.read_bytes()


def test_tab_separated_file_round_trips_with_tabs(write, tmp_path):
    text = "New York\tB-LOC\nis\tO\n\n"  # a tab file may hold spaces inside a token
    sentences = list(read_conll(write(text)))
    assert sentences[0].tokens == ("New York", "is")
    assert "".join(format_conll(sentences)) == text


def test_crlf_bom_trailing_spaces_and_extra_blank_lines(write):
    raw = "\ufeffAda B-PER  \r\nLovelace I-PER\t\r\n\r\n\r\n\r\nwrote O\r\n"
    sentences = list(read_conll(write(raw.encode("utf-8"))))
    assert [s.tokens for s in sentences] == [("Ada", "Lovelace"), ("wrote",)]
    assert sentences[0].tags == ("B-PER", "I-PER")
    assert sentences[1].line == 6


def test_file_without_docstart_and_without_final_blank_line(write):
    sentences = list(read_conll(write("a O\nb B-X\n\nc O")))
    assert [s.tokens for s in sentences] == [("a", "b"), ("c",)]
    assert [s.document for s in sentences] == [0, 0]


def test_bare_docstart_line_is_accepted(write):
    sentences = list(read_conll(write("-DOCSTART-\n\nx O\n")))
    assert sentences[0].document == 1
    assert sentences[0].docstart == ("-DOCSTART-",)


def test_tag_column_can_be_chosen_and_any_tag_set_works(write):
    text = "Hamlet B-creative-work NNP\nrocks O VBZ\n\n"
    sentences = list(read_conll(write(text), tag_column=1))
    assert sentences[0].tags == ("B-creative-work", "O")
    assert sentences[0].tag_column == 1
    assert next(read_conll(write(text), tag_column=-2)).tags == ("B-creative-work", "O")


def test_untagged_file_of_tokens(write):
    sentences = list(read_conll(write("Hello\nworld\n\nAgain\n"), tag_column=None))
    assert [s.tokens for s in sentences] == [("Hello", "world"), ("Again",)]
    assert sentences[0].tags == ()


def test_reading_streams_sentence_by_sentence(write):
    # one sentence is held back (to attach -DOCSTART- lines after the last), the rest stream
    reader = read_conll(write("a O\n\nb O\n\nc O\n\nd X-BAD\n"))
    assert next(reader).tokens == ("a",)
    assert next(reader).tokens == ("b",)
    with pytest.raises(NerkitError):
        next(reader)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a NNP B-PER\nb O\n", ":2: 2 columns, but the first token line (line 1) has 3; every token line"),
        ("a O\n\nb X-PER\n", ":3: invalid tag 'X-PER' in column 2; tags are O, or B-, I-, E- or S-"),
        ("a B-\n", ":1: invalid tag 'B-' in column 2"),
        ("a PER\n", ":1: invalid tag 'PER' in column 2"),
        ("a b-per\n", ":1: invalid tag 'b-per' in column 2"),
        ("", ": the file is empty; give a CoNLL file"),
        ("\n\n  \n", ": the file is empty"),
        ("-DOCSTART- -X- O\n\n-DOCSTART- -X- O\n", ": no sentences, only -DOCSTART- lines"),
        ("word\nother\n", ":1: only one column; a tagged CoNLL file needs at least a token and a tag column"),
        (b"caf\xe9 O\n", ":1: byte 0xe9 at column 4 is not UTF-8; re-save the file as UTF-8"),
        (b"ok O\n\nna\xefve O\n", ":3: byte 0xef at column 3 is not UTF-8"),
    ],
)
def test_bad_input_is_one_line_naming_file_and_line(write, content, message):
    path = write(content)
    with pytest.raises(NerkitError) as caught:
        list(read_conll(path))
    text = str(caught.value)
    assert text.startswith(str(path) + message)
    assert "\n" not in text


def test_tag_column_out_of_range(write):
    path = write("a B-PER\n")
    with pytest.raises(
        NerkitError, match=r":1: there is no tag column 5 in a file of 2 columns; pick a column"
    ):
        list(read_conll(path, tag_column=5))
    with pytest.raises(NerkitError, match="there is no tag column 0"):
        list(read_conll(path, tag_column=0))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(NerkitError, match=r"nope.conll: no such file; check the path"):
        list(read_conll(tmp_path / "nope.conll"))
    with pytest.raises(NerkitError, match=r"is a folder, not a file"):
        list(read_conll(tmp_path))


def test_failed_write_leaves_nothing_behind(tmp_path, write):
    source = write("a O\n\nb B-BAD-\n\nc X-WRONG\n")
    target = tmp_path / "out.conll"
    with pytest.raises(NerkitError):
        write_conll(target, read_conll(source))
    assert sorted(os.listdir(tmp_path)) == ["data.conll"]


def test_sentence_length_and_defaults():
    sentence = ConllSentence(columns=(("a", "b"), ("O", "O")), tag_column=1, line=1)
    assert len(sentence) == 2
    assert sentence.delimiter == " "


def test_sample_corpus_is_canonical(tmp_path):
    root = Path(__file__).resolve().parents[2] / "samples"
    for name in ("train.conll", "dev.conll", "test.conll"):
        target = tmp_path / name
        write_conll(target, read_conll(root / name))
        assert target.read_bytes() == (root / name).read_bytes(), name


def test_document_ids(write):
    sentences = list(read_conll(write("a O\n\n-DOCSTART- O\n\nb O\n\nc O\n\n-DOCSTART- O\n\nd O\n")))
    assert document_ids(sentences) == [-1, 1, 1, 2]
    assert document_ids(list(read_conll(write("a O\n\nb O\n")))) == [-1, -2]


PIECE_FILES = [
    # sentences before the first document, an empty document, no final newline
    "a O\n\n-DOCSTART- O\n\nb B-PER\nc O\n\nd O\n\n-DOCSTART- O\n\ne O\n\n\n-DOCSTART- O\n\n-DOCSTART- O\nf O",
    # tabs, CRLF, no documents, blank lines holding spaces, a token line starting with spaces
    "a\tO\n\nb\tO\r\n\r\nc\tO\n \n\n  d\tO\n",
    # a BOM, -DOCSTART- lines after the last sentence
    "\ufeff-DOCSTART- -X- O\n\nx O\n\n-DOCSTART- -X- O\n\ny O\n\n-DOCSTART- -X- O\n\n",
    # a token that only starts like -DOCSTART-; non-ASCII tokens
    "-DOCSTART-x O\n\nä O\n\n-DOCSTART- O\n\n\u0431 O\n\n-DOCSTART- O\n\nc O\n",
    # empty documents: their -DOCSTART- lines stay with the next sentence's
    "x O\n-DOCSTART- O\n-DOCSTART- O\ny O\n\n-DOCSTART- O\n\n\n-DOCSTART- O\n\nz O\n",
    # tab-separated: fields are stripped, so an indented -DOCSTART- counts
    "a\tO\n\n -DOCSTART-\tO\n\nb\tO\n\n-DOCSTART-\t-X-\n\nc\tO\n",
    # lone CRs end lines too; a BOM at the start of any line is dropped (files joined with cat)
    "a O\r\rb O\n\n-DOCSTART- O\r\r\ufeffc O\n\n\ufeff-DOCSTART- O\n\nd O\r\re O\r",
]


def _parsed(data: bytes, layout_from_pieces: bool, piece_bytes: int) -> list[tuple[int, object, int]]:
    if not layout_from_pieces:
        return [
            (s.line, s.columns, s.document, s.docstart, s.trailing)
            for s in parse_conll(decode_lines(data, "f"), "f")
        ]
    pieces, layout = conll_pieces(data, "f", piece_bytes)
    assert pieces[0].start == 0 and pieces[-1].end == len(data)
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))
    rows = []
    for piece in pieces:
        lines = decode_lines(data[piece.start : piece.end], "f", piece.first_line)
        for s in parse_conll(lines, "f", -1, layout):
            document = s.document + piece.documents if s.document else 0
            rows.append((s.line, s.columns, document, s.docstart, s.trailing))
    return rows


@pytest.mark.parametrize("text", PIECE_FILES)
def test_pieces_parse_to_the_same_sentences_as_the_whole_file(text):
    data = text.encode("utf-8")
    whole = _parsed(data, False, 0)
    for piece_bytes in range(1, len(data) + 2):
        assert _parsed(data, True, piece_bytes) == whole, piece_bytes


def test_pieces_cut_before_documents_or_between_sentences():
    data = PIECE_FILES[0].encode()
    pieces, layout = conll_pieces(data, "f", 1)
    assert [(p.start, p.first_line, p.documents) for p in pieces] == [
        (0, 1, 0),
        (5, 3, 0),
        (37, 10, 1),
        (57, 15, 2),  # an empty document, then one with a sentence
    ]
    assert (layout.tabbed, layout.width, layout.width_line) == (False, 2, 1)
    assert conll_pieces(data, "f", 1000)[0] == [ConllPiece(0, len(data), 1, 0)]
    data = PIECE_FILES[1].encode()
    assert [p.first_line for p in conll_pieces(data, "f", 1)[0]] == [1, 3, 5, 8]
    assert conll_pieces(b"", "f", 1) == ([ConllPiece(0, 0, 1, 0)], None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a O\n\n-DOCSTART- O\n\nb O\n\n-DOCSTART- O\n\nc O X\n",
            "f:9: 3 columns, but the first token line (line 1)",
        ),
        ("a O\n\n-DOCSTART- O\n\nb O\n\n-DOCSTART- O\n\nc \xff\n", "f:9: byte 0xc3"),
    ],
)
def test_errors_in_a_later_piece_read_as_for_the_whole_file(text, message):
    data = text.encode("utf-8").replace(b"\xc3\xbf", b"\xc3")
    pieces, layout = conll_pieces(data, "f", 1)
    assert len(pieces) == 3
    last = pieces[-1]
    with pytest.raises(NerkitError) as caught:
        list(parse_conll(decode_lines(data[last.start :], "f", last.first_line), "f", -1, layout))
    assert str(caught.value).startswith(message)
