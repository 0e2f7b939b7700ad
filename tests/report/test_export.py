"""Suspects for the next annotation round: the exact JSON-lines record, Label Studio tasks, the gold alone in
brat, CoNLL and Hugging Face, and the output checked before any work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nerkit.data.formats import read_aligned
from nerkit.errors import NerkitError
from nerkit.report.export import check_suspects_output, suspect_documents, write_suspects
from nerkit.report.review import Suspect
from nerkit.report.sentences import Mention, ReportSentence

TEXT = "Anna met John Lee in Paris."
ANNA, JOHN_LEE, PARIS = (0, 4), (9, 17), (21, 26)
FIRST = ReportSentence(
    text=TEXT,
    gold=[Mention(*ANNA, "LOC"), Mention(*JOHN_LEE, "PER")],
    predicted=[Mention(*ANNA, "PER", 0.97), Mention(*JOHN_LEE, "PER", 0.9), Mention(*PARIS, "LOC", 0.99)],
    place="a.jsonl:1",
)
SECOND = ReportSentence(text="Rome is old.", gold=[Mention(0, 4, "LOC")], predicted=[], place="a.jsonl:2")
SUSPECTS = [
    Suspect(FIRST, None, Mention(*PARIS, "LOC", 0.99), "unannotated", 0.99),
    Suspect(SECOND, Mention(0, 4, "LOC"), None, "not_an_entity", 0.98),
    Suspect(FIRST, Mention(*ANNA, "LOC"), Mention(*ANNA, "PER", 0.97), "wrong_type", 0.97),
]


def test_one_json_lines_record_per_sentence_in_the_order_of_its_most_confident_suspect(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.jsonl"
    assert write_suspects(path, SUSPECTS, "jsonl") == 2
    first, second = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    assert first["text"] == TEXT and first["place"] == "a.jsonl:1"
    assert [(e["start"], e["end"], e["label"]) for e in first["entities"]] == [(0, 4, "LOC"), (9, 17, "PER")]
    assert first["suspects"] == [
        {
            "kind": "unannotated",
            "confidence": 0.99,
            "gold": None,
            "model": {"start": 21, "end": 26, "label": "LOC", "text": "Paris", "confidence": 0.99},
        },
        {
            "kind": "wrong_type",
            "confidence": 0.97,
            "gold": {"start": 0, "end": 4, "label": "LOC", "text": "Anna"},
            "model": {"start": 0, "end": 4, "label": "PER", "text": "Anna", "confidence": 0.97},
        },
    ]
    assert [second["text"], second["place"], [s["kind"] for s in second["suspects"]]] == [
        "Rome is old.",
        "a.jsonl:2",
        ["not_an_entity"],
    ]


def test_the_json_lines_file_reads_back_as_training_data(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    write_suspects(path, SUSPECTS, "jsonl")
    documents = list(read_aligned(path, "jsonl"))
    assert [d.text for d in documents] == [TEXT, "Rome is old."]
    assert [[(e.start, e.end, e.label) for e in d.entities] for d in documents] == [
        [(0, 4, "LOC"), (9, 17, "PER")],
        [(0, 4, "LOC")],
    ]


def test_label_studio_tasks_carry_the_suspects_in_meta(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    write_suspects(path, SUSPECTS, "labelstudio")
    tasks = json.loads(path.read_text(encoding="utf-8"))
    assert [task["id"] for task in tasks] == [1, 2]
    assert tasks[0]["data"] == {"text": TEXT}
    assert tasks[0]["meta"]["place"] == "a.jsonl:1"
    assert [s["kind"] for s in tasks[0]["meta"]["suspects"]] == ["unannotated", "wrong_type"]
    (result,) = [task["annotations"][0]["result"] for task in tasks[:1]]
    assert sorted((r["value"]["start"], r["value"]["end"], r["value"]["labels"]) for r in result) == [
        (0, 4, ["LOC"]),
        (9, 17, ["PER"]),
    ]


@pytest.mark.parametrize(("format", "name"), [("brat", "out"), ("conll", "s.conll"), ("hf", "s.jsonl")])
def test_other_formats_hold_the_sentences_and_their_gold_alone(
    tmp_path: Path, format: str, name: str
) -> None:
    path = tmp_path / name
    assert write_suspects(path, SUSPECTS, format) == 2
    documents = list(read_aligned(path, format))
    assert [[(d.text[e.start : e.end], e.label) for e in d.entities] for d in documents] == [
        [("Anna", "LOC"), ("John Lee", "PER")],
        [("Rome", "LOC")],
    ]
    assert all(not document.extra for document in suspect_documents(SUSPECTS, format))


def test_the_format_comes_from_the_option_then_the_name_then_json_lines(tmp_path: Path) -> None:
    assert check_suspects_output(tmp_path / "s.json", None) == "labelstudio"
    assert check_suspects_output(tmp_path / "s.json", "jsonl") == "jsonl"
    assert check_suspects_output(tmp_path / "s.txt", None) == "jsonl"
    assert check_suspects_output(tmp_path / "out", "brat") == "brat"


@pytest.mark.parametrize(
    ("name", "format", "message"),
    [
        ("-", None, "the suspects cannot go to standard output"),
        ("s.jsonl", "xml", "unknown --suspects-format 'xml'"),
        ("in.conll", None, "is also this command's input"),
        ("in", "brat", "holds this command's input"),
        ("out", "brat", "would hold"),
    ],
)
def test_a_bad_output_is_refused_before_any_work(
    tmp_path: Path, name: str, format: str | None, message: str
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "in.conll").write_text("Anna B-PER\n", encoding="utf-8")
    (tmp_path / "out").mkdir()
    place = "-" if name == "-" else tmp_path / ("in/in.conll" if name == "in.conll" else name)
    with pytest.raises(NerkitError, match=message):
        check_suspects_output(place, format, [tmp_path / "in" / "in.conll"], [tmp_path / "out" / "r.html"])
