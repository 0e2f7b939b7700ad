"""Tests for nerkit.data.formats.conll and the format registry: CoNLL documents typeset as text, and back."""

from __future__ import annotations

from pathlib import Path

import pytest

from nerkit.data import read_annotations, write_annotations
from nerkit.data.formats import ReadOptions, WriteOptions, read_aligned
from nerkit.errors import NerkitError

CONLL = """-DOCSTART- -X- O

EU NNP B-ORG
rejects VBZ O
German JJ B-MISC
call NN O

Peter NNP B-PER
Blackburn NNP I-PER

-DOCSTART- -X- O

BRUSSELS NNP B-LOC
"""


def test_documents_are_typeset_with_their_tokens_and_spans(tmp_path: Path) -> None:
    path = tmp_path / "train.conll"
    path.write_text(CONLL)
    first, second = read_annotations(path)
    assert first.text == "EU rejects German call\nPeter Blackburn\n"
    assert first.sentences == [[(0, 2), (3, 10), (11, 17), (18, 22)], [(23, 28), (29, 38)]]
    assert [(a.start, a.end, a.label, a.place) for a in first.annotations] == [
        (0, 2, "ORG", f"{path}:3"),
        (11, 17, "MISC", f"{path}:5"),
        (23, 38, "PER", f"{path}:8"),
    ]
    assert (first.place, first.docstart, first.format) == (f"{path}:3", True, "conll")
    assert second.text == "BRUSSELS\n" and [a.label for a in second.annotations] == ["LOC"]


def test_a_file_without_docstart_gives_a_document_per_sentence(tmp_path: Path) -> None:
    path = tmp_path / "a.conll"
    path.write_text("a B-X\nb O\n\nc I-Y\n")
    documents = list(read_annotations(path))
    assert [d.text for d in documents] == ["a b\n", "c\n"]
    assert [d.docstart for d in documents] == [False, False]
    assert [(a.start, a.end, a.label) for a in documents[1].annotations] == [(0, 1, "Y")]


def test_written_back_in_another_scheme_and_read_again(tmp_path: Path) -> None:
    path = tmp_path / "train.conll"
    path.write_text(CONLL)
    out = tmp_path / "out.conll"
    assert write_annotations(out, read_annotations(path), "conll", WriteOptions(scheme="BIOES")) == 2
    assert out.read_text() == (
        "-DOCSTART- O\n\nEU S-ORG\nrejects O\nGerman S-MISC\ncall O\n\nPeter B-PER\nBlackburn E-PER\n\n"
        "-DOCSTART- O\n\nBRUSSELS S-LOC\n\n"
    )
    again = list(read_aligned(out))
    assert [d.tags for d in again] == [[["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER"]], [["B-LOC"]]]


def test_the_tag_column_is_chosen(tmp_path: Path) -> None:
    path = tmp_path / "a.conll"
    path.write_text("a B-X O\n")
    assert [a.label for a in next(read_annotations(path, options=ReadOptions(tag_column=1))).annotations] == [
        "X"
    ]


def test_a_token_with_white_space_cannot_be_written(tmp_path: Path) -> None:
    from nerkit.data.annotations import AnnotatedDocument, Annotation

    document = AnnotatedDocument("New York", [Annotation(0, 8, "LOC")], "in.jsonl:4", sentences=[[(0, 8)]])
    with pytest.raises(NerkitError, match=r"^in.jsonl:4: token 'New York' cannot be written to CoNLL"):
        write_annotations(tmp_path / "out.conll", [document], "conll")
    assert not (tmp_path / "out.conll").exists()


def test_never_written_over_its_input(tmp_path: Path) -> None:
    path = tmp_path / "a.conll"
    path.write_text("a B-X\n")
    with pytest.raises(NerkitError):
        write_annotations(path, read_annotations(path), "conll", WriteOptions(inputs=(path,)))
    assert path.read_text() == "a B-X\n"


def test_an_unknown_format_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(NerkitError, match="unknown format 'xml'; use one of conll, jsonl"):
        list(read_annotations(tmp_path / "a", format="xml"))
    with pytest.raises(NerkitError, match="unknown --annotation 'middle'"):
        ReadOptions(annotation="middle")


def test_the_adjustment_note_repeats_the_reading_flags() -> None:
    from nerkit.data.formats import adjustment_note

    counts = {"rejected": 1, "trimmed": 3, "overlap": 0}
    assert adjustment_note("x.json", {}) == ""
    assert adjustment_note(
        "x.json", counts, "labelstudio", ReadOptions(annotation="last", labels=("O", "B-X"))
    ) == (
        "x.json: 3 trimmed, 1 rejected; list them with nerkit stats x.json --input-format labelstudio "
        "--annotation last --labels O,B-X --alignment"
    )
