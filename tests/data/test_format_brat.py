"""Tests for nerkit.data.formats.brat: brat standoff folders read, counted and written back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nerkit.data import read_annotations, write_annotations
from nerkit.data.annotations import AnnotatedDocument, Annotation
from nerkit.data.formats import WriteOptions, read_aligned
from nerkit.data.formats.brat import CONF_HEADER, natural_key
from nerkit.errors import NerkitError


def make(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write `files` (relative name -> text or bytes) under `folder`; returns the folder."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return folder


def spans(documents: list[AnnotatedDocument]) -> list[set[tuple[int, int, str]]]:
    return [{(a.start, a.end, a.label) for a in document.annotations} for document in documents]


TEXT = "Alice met Bob in Paris.\n"
ANN = (
    "T1\tPER 0 5\tAlice\n"
    "T2\tPER 10 13\tBob\n"
    "R1\tKnows Arg1:T1 Arg2:T2\n"
    "E1\tMeet:T3 Agent:T1\n"
    "A1\tNegated E1\n"
    "M1\tSpeculation E1\n"
    "N1\tReference T1 Wikipedia:534366\tAlice\n"
    "*\tEquiv T1 T2\n"
    "#1\tAnnotatorNotes T1\tsure\n"
    "\n"
    "T3\tLOC 17 22\tParis\n"
)


def test_text_bound_lines_are_read_and_the_others_counted(tmp_path: Path) -> None:
    folder = make(tmp_path / "corpus", {"a.txt": TEXT, "a.ann": ANN})
    (document,) = read_annotations(folder, "brat")
    ann = folder / "a.ann"
    assert document.text == TEXT
    assert [(a.start, a.end, a.label, a.text, a.place) for a in document.annotations] == [
        (0, 5, "PER", "Alice", f"{ann}:1"),
        (10, 13, "PER", "Bob", f"{ann}:2"),
        (17, 22, "LOC", "Paris", f"{ann}:11"),
    ]
    assert [(a.kind, a.place) for a in document.adjustments] == [
        ("other_line", f"{ann}:{line}") for line in range(3, 10)
    ]
    assert document.adjustments[0].detail == '"R1\tKnows Arg1:T1 Arg2:T2"'
    assert (document.name, document.place, document.format) == ("a", str(ann), "brat")
    assert document.sentences is None and document.docstart


def test_a_folder_is_detected_and_read_with_its_subfolders_in_natural_order(tmp_path: Path) -> None:
    folder = make(
        tmp_path / "corpus",
        {
            "doc10.txt": "ten",
            "doc2.txt": "two",
            "doc2.ann": "T1\tNUM 0 3\ttwo\n",
            "b/doc1.txt": "one",
            "annotation.conf": "[entities]\nNUM\n",
            "notes.md": "not a document",
            ".hidden.txt": "skipped",
            ".git/x.txt": "skipped",
        },
    )
    documents = list(read_annotations(folder))
    assert [d.name for d in documents] == ["b/doc1", "doc2", "doc10"]
    assert spans(documents) == [set(), {(0, 3, "NUM")}, set()]
    assert documents[0].place == str(folder / "b" / "doc1.txt")
    assert natural_key("doc2") < natural_key("doc10") < natural_key("doc10a") < natural_key("e")


def test_one_ann_or_txt_file_reads_its_pair(tmp_path: Path) -> None:
    make(tmp_path, {"a.txt": TEXT, "a.ann": ANN, "b.txt": "no annotations"})
    assert spans(list(read_annotations(tmp_path / "a.ann"))) == [
        {(0, 5, "PER"), (10, 13, "PER"), (17, 22, "LOC")}
    ]
    (alone,) = read_annotations(tmp_path / "b.txt", "brat")
    assert (alone.text, alone.annotations, alone.name) == ("no annotations", [], "b")


def test_a_discontinuous_span_is_counted_and_skipped(tmp_path: Path) -> None:
    text = "North and South America\n"
    folder = make(tmp_path, {"a.txt": text, "a.ann": "T1\tLOC 0 5;16 23\tNorth America\nT2\tLOC 10 23\tx\n"})
    (document,) = read_annotations(folder, "brat")
    assert [(a.start, a.end) for a in document.annotations] == [(10, 23)]
    (skipped,) = document.adjustments
    assert (skipped.kind, skipped.place, skipped.detail) == (
        "discontinuous",
        f"{folder / 'a.ann'}:1",
        'T1 LOC 0 5;16 23 "North America"',
    )


def test_fragments_split_at_a_line_break_are_read_as_one_span(tmp_path: Path) -> None:
    text = "in New \r\n  York today\n"
    folder = make(tmp_path, {"a.txt": text, "a.ann": "T1\tLOC 3 6;11 15\tNew York\n"})
    (document,) = read_annotations(folder, "brat")
    (annotation,) = document.annotations
    assert (annotation.start, annotation.end, annotation.text) == (3, 15, "New \r\n  York")
    assert document.adjustments == []
    (aligned,) = read_aligned(folder, "brat")
    assert [(e.start, e.end, e.label) for e in aligned.entities] == [(3, 15, "LOC")]
    assert not [a for a in aligned.adjustments if a.kind == "text_mismatch"]


def test_unicode_offsets_count_code_points(tmp_path: Path) -> None:
    text = "😀 Zoë met 李雷 in Zürich.\n"
    ann = "T1\tPER 2 5\tZoë\nT2\tPER 10 12\t李雷\nT3\tLOC 16 22\tZürich\n"
    folder = make(tmp_path, {"u.txt": text, "u.ann": ann})
    (aligned,) = read_aligned(folder, "brat")
    assert [text[e.start : e.end] for e in aligned.entities] == ["Zoë", "李雷", "Zürich"]
    assert aligned.adjustments == []


def test_crlf_line_ends_are_counted_as_brat_counts_them(tmp_path: Path) -> None:
    text = "Alice left.\r\nBob stayed in Oslo.\r\n"
    ann = "T1\tPER 0 5\tAlice\nT2\tPER 13 16\tBob\nT3\tLOC 27 31\tOslo\n"
    folder = make(tmp_path, {"c.txt": text, "c.ann": ann.replace("\n", "\r\n")})
    (aligned,) = read_aligned(folder, "brat")
    assert aligned.text == text
    assert [(e.start, e.end, text[e.start : e.end]) for e in aligned.entities] == [
        (0, 5, "Alice"),
        (13, 16, "Bob"),
        (27, 31, "Oslo"),
    ]
    assert aligned.adjustments == []


def test_a_leading_byte_order_mark_keeps_the_offsets(tmp_path: Path) -> None:
    folder = make(tmp_path, {"a.txt": "\ufeffAlice", "a.ann": "\ufeffT1\tPER 1 6\tAlice\n"})
    (document,) = read_annotations(folder, "brat")
    assert document.text == " Alice"
    assert [(a.start, a.end, a.text) for a in document.annotations] == [(1, 6, "Alice")]


def test_the_text_after_the_span_is_a_comment_and_a_wrong_text_is_counted(tmp_path: Path) -> None:
    ann = "T1\tPER 0 5\tAlice (checked)\nT2\tPER 10 13\tBen\nT3\tLOC 17 22\n"
    folder = make(tmp_path, {"a.txt": TEXT, "a.ann": ann})
    (document,) = read_annotations(folder, "brat")
    assert [a.text for a in document.annotations] == ["Alice", "Ben", None]
    (aligned,) = read_aligned(folder, "brat")
    assert [(a.kind, a.place) for a in aligned.adjustments] == [("text_mismatch", f"{folder / 'a.ann'}:2")]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("T1\tPER 0\tAlice", 'T1: not a type and whole-number offsets: "PER 0"'),
        ("T1\tPER zero 5\tAlice", 'T1: not a type and whole-number offsets: "PER zero 5"'),
        ("T1\tPER -1 5\tAlice", 'T1: not a type and whole-number offsets: "PER -1 5"'),
        ("T1\tPER 0 5.0\tAlice", 'T1: not a type and whole-number offsets: "PER 0 5.0"'),
        ("T1\tPER  0 5\tAlice", 'T1: not a type and whole-number offsets: "PER  0 5"'),
        ("T1\tPER 0 5;\tAlice", 'T1: not a type and whole-number offsets: "PER 0 5;"'),
        ("T1\tPER 0 \u0665\tAlice", 'T1: not a type and whole-number offsets: "PER 0 \u0665"'),
        ("T1\tPER 0 1234567890123456\tAlice", "T1: not a type and whole-number offsets"),
        ("T1\t0 5\tAlice", 'T1: not a type and whole-number offsets: "0 5"'),
        ("T1 PER 0 5 Alice", 'not a brat annotation line: "T1 PER 0 5 Alice"'),
        ("Alice\tPER", 'not a brat annotation line: "Alice\tPER"'),
    ],
)
def test_a_malformed_line_names_the_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    folder = make(tmp_path, {"a.txt": TEXT, "a.ann": f"T9\tPER 0 5\tAlice\n{line}\n"})
    with pytest.raises(NerkitError) as caught:
        list(read_annotations(folder, "brat"))
    assert str(caught.value).startswith(f"{folder / 'a.ann'}:2: {message}")


def test_an_ann_without_its_txt_is_an_error(tmp_path: Path) -> None:
    folder = make(tmp_path, {"a.txt": "fine", "b.ann": "T1\tPER 0 5\tAlice\n"})
    with pytest.raises(NerkitError) as caught:
        list(read_annotations(folder, "brat"))
    assert str(caught.value) == (
        f"{folder / 'b.ann'}: no b.txt beside it: each .ann annotates the .txt of its name; "
        "add the text file, or remove the .ann"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"ok\nbad \xff here", ":2: byte 0xff at column 5 is not UTF-8"),
        (b"one\r\ntwo\x00", ":2: the line holds a NUL character at column 4"),
        ("a\ufeffb".encode(), ":1: the line holds a byte-order mark (U+FEFF) at column 2"),
    ],
)
def test_a_text_that_is_not_clean_utf8_names_its_line(tmp_path: Path, content: bytes, message: str) -> None:
    folder = make(tmp_path, {"a.txt": content})
    with pytest.raises(NerkitError) as caught:
        list(read_annotations(folder, "brat"))
    assert str(caught.value).startswith(f"{folder / 'a.txt'}{message}")


def test_a_folder_without_documents_and_other_paths_are_refused(tmp_path: Path) -> None:
    make(tmp_path, {"empty/notes.md": "nothing", "x.conll": "a O\n"})
    with pytest.raises(NerkitError, match=r"empty: no brat documents \(.txt and .ann files\) in this folder"):
        list(read_annotations(tmp_path / "empty", "brat"))
    with pytest.raises(NerkitError, match=r"x.conll: not a brat .ann or .txt file"):
        list(read_annotations(tmp_path / "x.conll", "brat"))
    with pytest.raises(NerkitError, match=r"missing: no such file or folder"):
        list(read_annotations(tmp_path / "missing", "brat"))
    with pytest.raises(NerkitError, match=r"missing.ann: no such file"):
        list(read_annotations(tmp_path / "missing.ann", "brat"))


def test_written_back_and_read_again_with_the_same_spans_and_names(tmp_path: Path) -> None:
    source = make(
        tmp_path / "in",
        {
            "a.txt": TEXT,
            "a.ann": ANN,
            "sub/b.txt": "Zoë in\r\nOslo\n",
            "sub/b.ann": "T1\tPER 0 3\tZoë\nT2\tLOC 8 12\tOslo\n",
        },
    )
    out = tmp_path / "out"
    assert write_annotations(out, read_annotations(source), "brat", WriteOptions(inputs=(source,))) == 2
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "a.ann",
        "a.txt",
        "annotation.conf",
        "sub",
        "sub/b.ann",
        "sub/b.txt",
    ]
    assert (out / "sub" / "b.txt").read_bytes() == "Zoë in\r\nOslo\n".encode()
    assert (out / "a.ann").read_text() == "T1\tPER 0 5\tAlice\nT2\tPER 10 13\tBob\nT3\tLOC 17 22\tParis\n"
    assert (out / "annotation.conf").read_text() == (
        f"{CONF_HEADER}\n[entities]\nLOC\nPER\n\n[relations]\n\n[events]\n\n[attributes]\n"
    )
    before, after = list(read_annotations(source)), list(read_annotations(out))
    assert [d.name for d in after] == ["a", "sub/b"]
    assert [d.text for d in after] == [d.text for d in before]
    assert spans(after) == spans(before)


def test_other_documents_get_safe_unique_names(tmp_path: Path) -> None:
    names = ["17", "", "../up", ".hidden", "a/b", "17", "Doc", "doc", "doc00003", "x" * 101, "-n"]
    documents = [AnnotatedDocument(f"text {i}", [], f"in.json:{i}", name=n) for i, n in enumerate(names)]
    out = tmp_path / "out"
    assert write_annotations(out, documents, "brat") == len(names)
    written = sorted(p.stem for p in out.glob("*.txt"))
    assert written == sorted(
        [
            "17",
            "doc00002",
            "doc00003",
            "doc00004",
            "doc00005",
            "17-2",
            "Doc",
            "doc-2",
            "doc00003-2",
            "doc00010",
            "doc00011",
        ]
    )
    assert (out / "doc00003-2.txt").read_text() == "text 8"


def test_an_entity_across_lines_is_written_in_fragments_as_brat_makes_it(tmp_path: Path) -> None:
    text = "Flights to New \n\n York leave.\n"
    document = AnnotatedDocument(text, [Annotation(11, 22, "LOC")], "in.jsonl:1")
    out = tmp_path / "out"
    write_annotations(out, [document], "brat")
    assert (out / "doc00001.ann").read_text() == "T1\tLOC 11 14;18 22\tNew York\n"
    (back,) = read_aligned(out, "brat")
    assert [(e.start, e.end, e.label) for e in back.entities] == [(11, 22, "LOC")]


def test_scores_are_written_as_annotator_notes(tmp_path: Path) -> None:
    document = AnnotatedDocument(
        TEXT, [Annotation(0, 5, "PER", score=0.93125), Annotation(17, 22, "LOC")], "in.txt", name="a"
    )
    out = tmp_path / "out"
    write_annotations(out, [document], "brat")
    assert (out / "a.ann").read_text() == (
        "T1\tPER 0 5\tAlice\n#1\tAnnotatorNotes T1\tscore 0.9313\nT2\tLOC 17 22\tParis\n"
    )
    (back,) = read_annotations(out)
    assert spans([back]) == [{(0, 5, "PER"), (17, 22, "LOC")}]
    assert [(a.kind, a.place) for a in back.adjustments] == [("other_line", f"{out / 'a.ann'}:2")]


def test_a_label_with_white_space_is_refused_and_nothing_written(tmp_path: Path) -> None:
    document = AnnotatedDocument(TEXT, [Annotation(0, 5, "a person", place="in.jsonl:3")], "in.jsonl:3")
    with pytest.raises(NerkitError) as caught:
        write_annotations(tmp_path / "out", [document], "brat")
    assert str(caught.value) == (
        "in.jsonl:3: the label 'a person' cannot be a brat type, which holds no white space; "
        "rename the label (e.g. _ for spaces)"
    )
    assert os.listdir(tmp_path) == []


def test_an_old_output_folder_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_annotations(out, [AnnotatedDocument("old", [], "x", name="old")], "brat")
    write_annotations(out, [AnnotatedDocument("new", [], "x", name="new")], "brat")
    assert sorted(os.listdir(out)) == ["annotation.conf", "new.ann", "new.txt"]
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_a_failing_input_leaves_the_old_folder_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_annotations(out, [AnnotatedDocument("old", [], "x", name="old")], "brat")
    bad = make(tmp_path / "bad", {"a.txt": "fine", "b.txt": "x", "b.ann": "T1\tPER zero\n"})
    with pytest.raises(NerkitError, match=r"b\.ann:1: T1: not a type"):
        write_annotations(out, read_annotations(bad), "brat")
    assert sorted(os.listdir(out)) == ["annotation.conf", "old.ann", "old.txt"]
    assert sorted(os.listdir(tmp_path)) == ["bad", "out"]


def test_outputs_that_would_lose_something_are_refused(tmp_path: Path) -> None:
    source = make(tmp_path / "in", {"a.txt": TEXT, "a.ann": ANN})
    (tmp_path / "link").symlink_to(source)
    (tmp_path / "file").write_text("keep")
    make(tmp_path / "mixed", {"a.txt": "x", "sub/readme.md": "keep"})
    make(tmp_path / "theirs", {"a.txt": "x", "annotation.conf": "[entities]\nPER\n"})
    documents = list(read_annotations(source))
    cases = [
        (source, WriteOptions(inputs=(source / "a.ann",)), "holds this command's input"),
        (tmp_path / "link", WriteOptions(inputs=(source,)), "holds this command's input"),
        (tmp_path / "file", WriteOptions(), "is a file, not a folder"),
        (tmp_path / "mixed", WriteOptions(), "holds 'sub/readme.md', which is not a brat document"),
        (tmp_path / "theirs", WriteOptions(), "holds 'annotation.conf', which is not a brat document"),
        (tmp_path / "no" / "out", WriteOptions(), "cannot write here: its folder does not exist"),
    ]
    for target, options, message in cases:
        with pytest.raises(NerkitError, match=message):
            write_annotations(target, documents, "brat", options)
    assert (source / "a.ann").read_text() == ANN
    assert (tmp_path / "file").read_text() == "keep"
    assert (tmp_path / "mixed" / "sub" / "readme.md").read_text() == "keep"
    assert (tmp_path / "theirs" / "annotation.conf").read_text() == "[entities]\nPER\n"
    assert not (tmp_path / "no").exists()
