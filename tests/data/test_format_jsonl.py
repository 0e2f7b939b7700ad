"""Tests for nerkit.data.formats.jsonl: spans JSON lines in nerkit's, spaCy's, Prodigy's and Doccano's shapes, and back."""

from __future__ import annotations

import json
import re
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

from nerkit.data import read_annotations, write_annotations
from nerkit.data.align import align
from nerkit.data.annotations import Adjustment, AnnotatedDocument, Annotation
from nerkit.data.formats import ReadOptions, WriteOptions, read_aligned
from nerkit.data.formats.jsonl import read
from nerkit.errors import NerkitError


def jsonl(tmp_path: Path, *rows: object, name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def spans(document: AnnotatedDocument) -> list[tuple[int, int, str]]:
    return [(a.start, a.end, a.label) for a in document.annotations]


def error(path: Path) -> str:
    with pytest.raises(NerkitError) as raised:
        list(read_annotations(path, "jsonl"))
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_nerkit_entities_are_read_with_their_text_confidence_and_place(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        {
            "text": "Alice met Bob.",
            "id": 7,
            "entities": [
                {"start": 0, "end": 5, "label": "PER", "text": "Alice", "confidence": 0.9},
                {"start": 10, "end": 13, "label": "PER", "text": None, "confidence": None},
            ],
        },
    )
    (document,) = read_annotations(path)
    assert document.text == "Alice met Bob."
    assert document.annotations == [
        Annotation(0, 5, "PER", "Alice", place=f"{path}:1", score=0.9),
        Annotation(10, 13, "PER", None, place=f"{path}:1", score=None),
    ]
    assert (document.place, document.extra, document.format) == (f"{path}:1", {"id": 7}, "jsonl")
    assert document.sentences is None and document.adjustments == []


def test_the_sentences_nerkit_predict_writes_fix_the_tokens(tmp_path: Path) -> None:
    row = {
        "text": "New York. Hi",
        "sentences": [
            {
                "start": 0,
                "end": 9,
                "tokens": [
                    {"text": "New", "start": 0, "end": 3},
                    {"text": "York", "start": 4, "end": 8},
                    {"text": ".", "start": 8, "end": 9},
                ],
            },
            {"start": 10, "end": 12, "tokens": [{"text": "Hi", "start": 10, "end": 12}]},
        ],
        "entities": [{"start": 0, "end": 8, "label": "LOC", "text": "New York", "confidence": 0.5}],
    }
    (document,) = read_annotations(jsonl(tmp_path, row))
    assert document.sentences == [[(0, 3), (4, 8), (8, 9)], [(10, 12)]]
    assert document.extra == {}
    assert align(document).tags == [["B-LOC", "I-LOC", "O"], ["O"]]


def test_spacy_and_prodigy_spans_are_read_and_their_tokens_pass_through(tmp_path: Path) -> None:
    tokens = [{"text": "Paris", "start": 0, "end": 5, "id": 0}]
    row = {
        "text": "Paris",
        "spans": [{"start": 0, "end": 5, "label": "GPE"}],
        "tokens": tokens,
        "answer": "accept",
    }
    (document,) = read_annotations(jsonl(tmp_path, row))
    assert spans(document) == [(0, 5, "GPE")]
    assert document.extra == {"tokens": tokens, "answer": "accept"}
    assert document.sentences is None


def test_a_prodigy_record_not_accepted_is_skipped_and_counted(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        {"text": "Paris is big.", "spans": [{"start": 0, "end": 5, "label": "GPE"}], "answer": "reject"},
        {"text": "Rome", "answer": "ignore"},
        {"text": "Oslo", "spans": [], "answer": "accept"},
    )
    rejected, ignored, accepted = read_annotations(path)
    assert (rejected.text, rejected.annotations, rejected.annotated) == ("Paris is big.", [], False)
    assert rejected.adjustments == [Adjustment("rejected", f"{path}:1", 'answer "reject": "Paris is big."')]
    assert ignored.adjustments == [Adjustment("rejected", f"{path}:2", 'answer "ignore": "Rome"')]
    assert accepted.text == "Oslo" and accepted.adjustments == []
    assert [a.kind for a in align(rejected).adjustments] == ["rejected"]


def test_doccano_label_lists_and_offset_entities(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        {"id": 1, "text": "Alice in Paris", "label": [[0, 5, "PER"], [9, 14, "LOC"]]},
        {
            "id": 2,
            "text": "Bob",
            "entities": [{"id": 4, "label": "PER", "start_offset": 0, "end_offset": 3}],
            "relations": [],
        },
        {"id": 3, "text": "Good.", "label": ["positive"]},
    )
    first, second, third = read_annotations(path)
    assert spans(first) == [(0, 5, "PER"), (9, 14, "LOC")] and first.extra == {"id": 1}
    assert spans(second) == [(0, 3, "PER")] and second.extra == {"id": 2, "relations": []}
    assert spans(third) == [] and third.extra == {"id": 3, "label": ["positive"]}


def test_spans_out_of_range_empty_or_reversed_pass_through_for_the_aligner(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        {
            "text": "Alice met Bob.",
            "entities": [
                {"start": 0, "end": 5, "label": "PER"},
                {"start": 10, "end": 40, "label": "PER"},
                {"start": -1, "end": 3, "label": "PER"},
                {"start": 6, "end": 6, "label": "X"},
                {"start": 9, "end": 7, "label": "X"},
                {"start": 10, "end": 13, "label": "PER", "text": "Rob"},
            ],
        },
    )
    (document,) = read_annotations(path)
    assert len(document.annotations) == 6
    aligned = align(document)
    assert Counter(a.kind for a in aligned.adjustments) == Counter(out_of_range=2, empty=2, text_mismatch=1)
    assert [(e.start, e.end) for e in aligned.entities] == [(0, 5), (10, 13)]


def test_offsets_in_code_points(tmp_path: Path) -> None:
    (document,) = read_annotations(
        jsonl(tmp_path, {"text": "😀 Zoë Ünal", "entities": [{"start": 2, "end": 10, "label": "PER"}]})
    )
    assert document.text[2:10] == "Zoë Ünal"
    assert align(document).adjustments == []


@pytest.mark.parametrize(
    ("span", "message"),
    [
        ({"start": "3", "end": 5, "label": "PER"}, 'span 2: start is "3", not a whole number'),
        ({"start": 3.0, "end": 5, "label": "PER"}, "span 2: start is 3.0, not a whole number"),
        ({"start": 3, "end": True, "label": "PER"}, "span 2: end is true, not a whole number"),
        ({"end": 5, "label": "PER"}, 'span 2: no "start"'),
        ({"start": 0, "end": 5}, 'span 2: no "label"'),
        ({"start": 0, "end": 5, "label": "B PER"}, 'span 2: label "B PER" is not one word'),
        ({"start": 0, "end": 5, "label": ""}, 'span 2: label "" is not one word'),
        ({"start": 0, "end": 5, "label": 7}, "span 2: label 7 is not one word"),
        ({"start": 0, "end": 5, "label": "X", "text": 5}, "span 2: text is 5, not a string"),
        (
            {"start": 0, "end": 5, "label": "X", "confidence": "high"},
            'span 2: confidence is "high", not a number',
        ),
        ([0, 5, "PER"], 'span 2: [0, 5, "PER"] is not an object with start, end and label'),
    ],
)
def test_a_bad_span_is_an_error_naming_the_file_line_and_span(
    tmp_path: Path, span: object, message: str
) -> None:
    path = jsonl(
        tmp_path,
        {"text": "a"},
        {"text": "Alice b", "entities": [{"start": 0, "end": 5, "label": "PER"}, span]},
    )
    assert error(path).startswith(f"{path}:2: {message}; ")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"text": "a", "label": [[0, "1", "X"]]}, 'span 1: end is "1", not a whole number'),
        ({"text": "a", "label": [[0, 1]]}, 'span 1: [0, 1] is not [start, end, "LABEL"]'),
        (
            {"text": "a", "entities": [{"start_offset": 0, "end_offset": 1.5, "label": "X"}]},
            "end_offset is 1.5",
        ),
        ({"text": "a", "entities": {"start": 0}}, '"entities" is {"start": 0}, not a list of spans'),
        ({"text": "a", "spans": None}, '"spans" is null, not a list of spans'),
        ({"entities": []}, 'not an object with a "text" string'),
        ({"text": 5}, 'not an object with a "text" string'),
    ],
)
def test_other_bad_records_are_errors_naming_the_line(tmp_path: Path, row: object, message: str) -> None:
    path = jsonl(tmp_path, row)
    assert error(path).startswith(f"{path}:1: ")
    assert message in error(path)


def token(text: str, start: int, end: int) -> dict[str, object]:
    return {"text": text, "start": start, "end": end}


@pytest.mark.parametrize(
    ("sentences", "message"),
    [
        (
            [{"tokens": [token("ab", 0, 2), token("ab", 3, 9)]}],
            "sentence 1 token 2: [3, 9) is not a span of the text",
        ),
        (
            [{"tokens": [token("cd", 3, 5)]}, {"tokens": [token("ab", 0, 2)]}],
            "sentence 2 token 1: [0, 2) is not",
        ),
        ([{"tokens": [token("ab", 0, 0)]}], "sentence 1 token 1: [0, 0) is not a span"),
        ([{"tokens": [token("xy", 0, 2)]}], 'sentence 1 token 1: [0, 2) reads "ab", but its text is "xy"'),
        (
            [{"tokens": [{"text": "ab", "start": "0", "end": 2}]}],
            'sentence 1 token 1: start is "0", not a whole',
        ),
        (
            [{"start": 0, "end": 2}],
            'sentence 1: {"start": 0, "end": 2} is not an object with a list of tokens',
        ),
        ("ab cd", '"sentences" is "ab cd", not a list'),
    ],
)
def test_given_sentences_are_checked(tmp_path: Path, sentences: object, message: str) -> None:
    path = jsonl(tmp_path, {"text": "ab cd", "sentences": sentences})
    assert error(path).startswith(f"{path}:1: {message}")


def test_written_back_with_fields_confidence_and_the_tokens_a_file_fixed(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        {
            "id": 1,
            "text": "Alice met Bob",
            "spans": [{"start": 0, "end": 6, "label": "PER"}],
            "answer": "accept",
        },
        {"text": "No", "answer": "reject"},
        {
            "text": "Bob",
            "entities": [{"start": 0, "end": 3, "label": "PER", "confidence": 0.75}],
            "meta": {"a": 1},
        },
    )
    out = tmp_path / "out.jsonl"
    assert write_annotations(out, read_annotations(path), "jsonl") == 2
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {
            "text": "Alice met Bob",
            "id": 1,
            "answer": "accept",
            "entities": [{"start": 0, "end": 5, "label": "PER", "text": "Alice"}],
        },
        {
            "text": "Bob",
            "meta": {"a": 1},
            "entities": [{"start": 0, "end": 3, "label": "PER", "text": "Bob", "confidence": 0.75}],
        },
    ]
    conll = tmp_path / "a.conll"
    conll.write_text("-DOCSTART- O\n\nNew B-LOC\nYork I-LOC\n.. O\n\nHi O\n")
    assert write_annotations(out, read_annotations(conll), "jsonl", WriteOptions(inputs=(conll,))) == 1
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row == {
        "text": "New York ..\nHi\n",
        "entities": [{"start": 0, "end": 8, "label": "LOC", "text": "New York"}],
        "sentences": [
            {"start": 0, "end": 11, "tokens": [token("New", 0, 3), token("York", 4, 8), token("..", 9, 11)]},
            {"start": 12, "end": 14, "tokens": [token("Hi", 12, 14)]},
        ],
    }
    (again,) = read_aligned(out)
    assert again.tokens() == [("New", "York", ".."), ("Hi",)]
    assert again.tags == [["B-LOC", "I-LOC", "O"], ["O"]]


def test_a_round_trip_keeps_the_entity_spans(tmp_path: Path) -> None:
    rows = [
        {
            "text": "Alice and Bob Jones met in Paris.",
            "entities": [
                {"start": 0, "end": 5, "label": "PER"},
                {"start": 10, "end": 19, "label": "PER"},
                {"start": 27, "end": 32, "label": "LOC"},
            ],
        },
        {"text": "Nothing here.", "entities": []},
        {"text": "IBM's CEO", "label": [[0, 3, "ORG"]]},
    ]
    path = jsonl(tmp_path, *rows)
    first = [{(e.start, e.end, e.label) for e in d.entities} for d in read_aligned(path)]
    out = tmp_path / "out.jsonl"
    write_annotations(out, read_annotations(path), "jsonl")
    assert [{(e.start, e.end, e.label) for e in d.entities} for d in read_aligned(out)] == first
    assert first[2] == {(0, 3, "ORG")}


def test_extra_passes_through_only_from_spans_json_lines(tmp_path: Path) -> None:
    document = AnnotatedDocument(
        "Rome", [Annotation(0, 4, "LOC")], "x.json: task 1", extra={"data": {}}, format="labelstudio"
    )
    out = tmp_path / "out.jsonl"
    write_annotations(out, [document], "jsonl")
    assert json.loads(out.read_text()) == {
        "text": "Rome",
        "entities": [{"start": 0, "end": 4, "label": "LOC", "text": "Rome"}],
    }


def test_a_nan_score_is_refused_in_one_line(tmp_path: Path) -> None:
    document = AnnotatedDocument("Rome", [Annotation(0, 4, "LOC", score=float("nan"))], "in.txt:3")
    with pytest.raises(
        NerkitError, match=r"^in.txt:3: the model gave a score that is not a number \(NaN\); "
    ):
        write_annotations(tmp_path / "out.jsonl", [document], "jsonl")
    assert not (tmp_path / "out.jsonl").exists()


def test_never_written_over_its_input(tmp_path: Path) -> None:
    path = jsonl(tmp_path, {"text": "a"})
    before = path.read_text()
    with pytest.raises(NerkitError):
        write_annotations(path, read_annotations(path), "jsonl", WriteOptions(inputs=(path,)))
    assert path.read_text() == before


def test_reading_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    text = "Alice Smith met Bob in Paris yesterday. " * 40
    row = {
        "text": text,
        "entities": [{"start": 0, "end": 11, "label": "PER"}, {"start": 23, "end": 28, "label": "LOC"}],
    }
    with path.open("w") as handle:
        handle.write((json.dumps(row) + "\n") * 1_600)
    size = path.stat().st_size
    assert size > 2_500_000
    tracemalloc.start()
    try:
        count = sum(1 for _ in read(path, ReadOptions()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 1_600
    assert peak < size // 20


def test_errors_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "a"}\n{"text": "b", "entities": [{"start": 0, "end": 1, "label": "A\\nB"}]}\n')
    assert re.fullmatch(rf'{re.escape(str(path))}:2: span 1: label "A\\nB" is not one word; .*', error(path))
