"""Tests for nerkit.data.formats.labelstudio: Label Studio JSON and JSON-MIN exports read task by task, and tasks written."""

from __future__ import annotations

import json
import tracemalloc
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from nerkit.data import read_annotations, write_annotations
from nerkit.data.align import AlignedDocument, align
from nerkit.data.annotations import Adjustment, AnnotatedDocument, Annotation
from nerkit.data.formats import ReadOptions, WriteOptions, read_aligned
from nerkit.data.formats.labelstudio import read, write
from nerkit.errors import NerkitError

TEXT = "Alice met Bob in Paris."


def region(rid: str, start: int, end: int, *labels: str, **more: object) -> dict[str, object]:
    value = {"start": start, "end": end, "text": TEXT[start:end], "labels": list(labels)}
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels", "value": value, **more}


def export(tmp_path: Path, *tasks: object, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(list(tasks), ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def documents(path: Path, annotation: str = "first") -> list[AnnotatedDocument]:
    return list(read_annotations(path, "labelstudio", ReadOptions(annotation=annotation)))


def spans(document: AnnotatedDocument) -> list[tuple[int, int, str]]:
    return [(a.start, a.end, a.label) for a in document.annotations]


def kinds(document: AnnotatedDocument | AlignedDocument) -> Counter[str]:
    return Counter(adjustment.kind for adjustment in document.adjustments)


def error(path: Path) -> str:
    with pytest.raises(NerkitError) as raised:
        documents(path)
    message = str(raised.value)
    assert "\n" not in message
    return message


TASK = {
    "id": 17,
    "data": {"text": TEXT, "source": "news"},
    "meta": {"batch": 2},
    "annotations": [
        {
            "id": 101,
            "was_cancelled": False,
            "created_at": "2024-01-02T10:00:00Z",
            "result": [region("r1", 0, 5, "PER"), region("r2", 17, 22, "LOC")],
        }
    ],
    "predictions": [],
}


def test_a_plain_export(tmp_path: Path) -> None:
    path = export(tmp_path, TASK)
    (document,) = documents(path)
    assert document.text == TEXT
    assert document.annotations == [
        Annotation(0, 5, "PER", "Alice", place=f"{path}: task 17 region r1"),
        Annotation(17, 22, "LOC", "Paris", place=f"{path}: task 17 region r2"),
    ]
    assert (document.place, document.name, document.format) == (f"{path}: task 17", "17", "labelstudio")
    assert document.extra == {**TASK, "nerkit:names": ["label", "text"]}
    assert document.adjustments == [] and document.sentences is None
    assert align(document).tags == [["B-PER", "O", "O", "O", "B-LOC", "O"]]


def annotated(ident: int, created: str, *regions: dict[str, object], **more: object) -> dict[str, object]:
    return {"id": ident, "created_at": created, "result": list(regions), **more}


SEVERAL = {
    "id": 3,
    "data": {"text": TEXT},
    "annotations": [
        annotated(2, "2024-01-03T00:00:00Z", region("b", 10, 13, "PER")),
        annotated(1, "2024-01-01T00:00:00Z", region("a", 0, 5, "PER")),
        annotated(3, "2024-01-05T00:00:00Z", region("c", 17, 22, "LOC"), was_cancelled=True),
    ],
    "predictions": [
        {
            "model_version": "m1",
            "score": 0.5,
            "result": [region("p", 0, 5, "ORG", score=0.9), region("q", 17, 22, "LOC")],
        },
        {"model_version": "m2", "result": []},
    ],
}


def test_several_annotations_first_last_or_predictions(tmp_path: Path) -> None:
    path = export(tmp_path, SEVERAL)
    (first,) = documents(path, "first")
    assert spans(first) == [(0, 5, "PER")]  # the earliest made, whatever the file's order
    place = f"{path}: task 3"
    assert first.adjustments == [
        Adjustment("cancelled", place, "annotation 3"),
        Adjustment("not_chosen", place, "annotation 2 (--annotation first)"),
        Adjustment("not_chosen", place, "prediction m1 (--annotation first)"),
        Adjustment("not_chosen", place, "prediction m2 (--annotation first)"),
    ]
    (last,) = documents(path, "last")
    assert spans(last) == [(10, 13, "PER")]
    assert kinds(last) == Counter(cancelled=1, not_chosen=3)
    (predicted,) = documents(path, "predictions")
    assert [(a.start, a.end, a.label, a.score) for a in predicted.annotations] == [
        (0, 5, "ORG", 0.9),
        (17, 22, "LOC", 0.5),
    ]
    assert kinds(predicted) == Counter(cancelled=1, not_chosen=3)


def test_file_order_when_an_annotation_has_no_creation_time(tmp_path: Path) -> None:
    task = {
        "id": 1,
        "data": {"text": TEXT},
        "annotations": [
            {"result": [region("b", 10, 13, "PER")]},
            annotated(1, "2020", region("a", 0, 5, "PER")),
        ],
    }
    path = export(tmp_path, task)
    assert spans(documents(path, "first")[0]) == [(10, 13, "PER")]
    assert spans(documents(path, "last")[0]) == [(0, 5, "PER")]


def test_a_task_without_predictions_has_no_annotations_when_they_are_asked_for(tmp_path: Path) -> None:
    (document,) = documents(export(tmp_path, TASK), "predictions")
    assert document.text == TEXT and document.annotations == []
    assert [a.detail for a in document.adjustments] == [
        "annotation 101 (--annotation predictions)",
        "no prediction",
    ]
    assert not document.annotated


def test_a_task_whose_every_annotation_was_cancelled_is_not_annotated_and_counted(tmp_path: Path) -> None:
    task = {
        "id": 4,
        "data": {"text": TEXT},
        "annotations": [annotated(9, "x", region("a", 0, 5, "PER"), was_cancelled=True)],
    }
    unlabelled = {"id": 5, "data": {"text": TEXT}, "annotations": []}
    path = export(tmp_path, task, unlabelled)
    skipped, plain = documents(path)
    assert (skipped.text, skipped.annotations, skipped.annotated) == (TEXT, [], False)
    assert skipped.adjustments == [Adjustment("cancelled", f"{path}: task 4", "annotation 9")]
    assert (plain.text, plain.annotations, plain.annotated) == (TEXT, [], False)
    assert plain.adjustments == [Adjustment("unannotated", f"{path}: task 5", "no annotation")]
    out = tmp_path / "out.json"
    assert write_annotations(out, documents(path), "labelstudio") == 2  # both go back as they came
    assert json.loads(out.read_text()) == [task, unlabelled]
    assert write_annotations(tmp_path / "out.jsonl", documents(path), "jsonl") == 0


def test_other_results_and_extra_labels_are_counted(tmp_path: Path) -> None:
    results = [
        region("r1", 0, 5, "PER", "MISC"),
        {
            "id": "c1",
            "type": "choices",
            "from_name": "sentiment",
            "to_name": "text",
            "value": {"choices": ["Positive"]},
        },
        {"id": "rel", "type": "relation", "from_id": "r1", "to_id": "r2"},
        {"id": "t1", "type": "textarea", "value": {"text": ["note"]}},
        region("r2", 10, 13),
        region("r3", 17, 22, "LOC"),
    ]
    path = export(tmp_path, {"id": 8, "data": {"text": TEXT}, "annotations": [{"result": results}]})
    (document,) = documents(path)
    assert spans(document) == [(0, 5, "PER"), (17, 22, "LOC")]
    assert document.adjustments == [
        Adjustment("extra_label", f"{path}: task 8 region r1", '[0, 5) PER "Alice", also labelled "MISC"'),
        Adjustment("other_result", f"{path}: task 8 region c1", 'a "choices" result'),
        Adjustment("other_result", f"{path}: task 8 region rel", 'a "relation" result'),
        Adjustment("other_result", f"{path}: task 8 region t1", 'a "textarea" result'),
        Adjustment("other_result", f"{path}: task 8 region r2", "[10, 13) with no label"),
    ]


def test_a_region_text_that_disagrees_is_counted_by_the_aligner(tmp_path: Path) -> None:
    wrong = region("r1", 0, 5, "PER")
    wrong["value"]["text"] = "Alicia"  # type: ignore[index]
    (document,) = documents(
        export(tmp_path, {"id": 1, "data": {"text": TEXT}, "annotations": [{"result": [wrong]}]})
    )
    assert document.annotations[0].text == "Alicia"
    assert kinds(align(document)) == Counter(text_mismatch=1)


def test_the_one_string_field_of_data_is_the_text(tmp_path: Path) -> None:
    task = {"data": {"content": TEXT, "n": 3}, "annotations": [{"result": [region("r1", 0, 5, "PER")]}]}
    path = export(tmp_path, {"id": 1, "data": {"text": "x"}}, task)
    _, document = documents(path)
    assert document.text == TEXT and spans(document) == [(0, 5, "PER")]
    assert (document.place, document.name) == (f"{path}: task #2", "")
    assert document.annotations[0].place == f"{path}: task #2 region r1"


JSON_MIN = [
    {
        "text": TEXT,
        "id": 3,
        "label": [
            {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]},
            {"start": 17, "end": 22, "text": "Paris", "labels": ["LOC", "GPE"]},
        ],
        "sentiment": "Positive",
        "annotator": "ann@example.com",
        "annotation_id": 12,
        "created_at": "2024-01-05T00:00:00Z",
        "updated_at": "2024-01-05T00:00:00Z",
        "lead_time": 3.5,
    },
    {
        "text": TEXT,
        "id": 3,
        "label": [{"start": 10, "end": 13, "text": "Bob", "labels": ["PER"]}],
        "annotator": 2,
        "annotation_id": 11,
        "created_at": "2024-01-01T00:00:00Z",
    },
    {"text": "Oslo", "id": 4},
    {
        "content": "Rome",
        "ner": [{"start": 0, "end": 4, "labels": ["LOC"]}],
        "annotator": "x",
        "created_at": "y",
    },
]


def test_a_json_min_export(tmp_path: Path) -> None:
    path = export(tmp_path, *JSON_MIN)
    first, oslo, rome = documents(path)
    assert first.text == TEXT and spans(first) == [(10, 13, "PER")]  # annotation 11 was made first
    assert first.adjustments == [
        Adjustment("not_chosen", f"{path}: task 3", "annotation 12 (--annotation first)")
    ]
    assert first.extra == {"id": 3, "data": {"text": TEXT}, "nerkit:names": ["label", "text"]}
    last, _, _ = documents(path, "last")
    assert spans(last) == [(0, 5, "PER"), (17, 22, "LOC")]
    assert last.annotations[1] == Annotation(17, 22, "LOC", "Paris", place=f"{path}: task 3 region #2")
    assert kinds(last) == Counter(not_chosen=1, extra_label=1)
    assert last.extra["data"] == {"text": TEXT, "sentiment": "Positive"}
    assert (oslo.text, oslo.annotations, oslo.name, oslo.annotated) == ("Oslo", [], "4", False)
    assert [a.line() for a in oslo.adjustments] == [f"{path}: task 4: unannotated: no annotation"]
    assert rome.text == "Rome" and spans(rome) == [(0, 4, "LOC")] and rome.place == f"{path}: task #4"
    assert rome.extra == {"data": {"content": "Rome"}, "nerkit:names": ["ner", "text"]}
    predicted = documents(path, "predictions")
    assert [spans(d) for d in predicted] == [[], [], []]
    assert [len(d.adjustments) for d in predicted] == [3, 1, 2]  # each has no prediction


def test_json_min_regions_of_a_second_control_are_counted(tmp_path: Path) -> None:
    record = {
        "text": "ab cd",
        "a": [{"start": 0, "end": 2, "labels": ["X"]}],
        "b": [{"start": 3, "end": 5, "labels": ["Y"]}],
    }
    path = export(tmp_path, record)
    (document,) = documents(path)
    assert spans(document) == [(0, 2, "X")]
    assert document.adjustments == [
        Adjustment("other_result", f"{path}: task #1 region b#1", 'a region of "b" (only "a" is read)')
    ]


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (
            {"id": 17, "data": {"text": 5}},
            "task 17: no text to read (its text is 5); give the text as data.text",
        ),
        ({"id": 17, "data": {"a": "x", "b": "y"}}, "task 17: no text to read (no text field)"),
        ({"id": 17, "data": {}}, "task 17: no text to read (no text field)"),
        ({"id": 17, "data": "text"}, 'task 17: "data" is "text", not an object'),
        (
            {"id": 17, "data": {"text": "a"}, "annotations": {}},
            'task 17: "annotations" is {}, not a list of objects',
        ),
        (
            {"id": 17, "data": {"text": "a"}, "annotations": [{"result": 3}]},
            'task 17: "result" is 3, not a list',
        ),
        (
            {"id": 17, "data": {"text": "a"}, "annotations": [{"result": [{"id": "r1", "type": "labels"}]}]},
            'task 17 region r1: "value" is null, not an object',
        ),
        ({"text": ["a"], "sentiment": "x"}, 'task #1: no text to read (its text is ["a"])'),
        ({"a": "x", "b": "y"}, "task #1: no text to read (no text field)"),
        ([1, 2], "task #1: [1, 2] is not an object"),
        ({"data": {"text": "a\x00b"}}, "task #1: the text holds a NUL character at character 2"),
    ],
)
def test_a_task_without_a_readable_text_is_an_error(tmp_path: Path, task: object, message: str) -> None:
    path = export(tmp_path, task)
    assert error(path).startswith(f"{path}")
    assert message in error(path)


def bad_value(**value: object) -> dict[str, object]:
    return {
        "id": 17,
        "data": {"text": TEXT},
        "annotations": [{"result": [{"id": "r1", "type": "labels", "value": value}]}],
    }


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (bad_value(start="0", end=5, labels=["PER"]), 'task 17 region r1: start is "0", not a whole number'),
        (bad_value(start=0, end=5.0, labels=["PER"]), "task 17 region r1: end is 5.0, not a whole number"),
        (
            bad_value(start=False, end=5, labels=["PER"]),
            "task 17 region r1: start is false, not a whole number",
        ),
        (bad_value(end=5, labels=["PER"]), 'task 17 region r1: no "start"'),
        (bad_value(start=0, end=5, labels="PER"), 'task 17 region r1: labels is "PER", not a list'),
        (bad_value(start=0, end=5, labels=[" "]), 'task 17 region r1: label " " is not one word'),
        (bad_value(start=0, end=5, labels=[""]), 'task 17 region r1: label "" is not one word'),
        (bad_value(start=0, end=5, labels=["PER"], text=1), "task 17 region r1: text is 1, not a string"),
    ],
)
def test_a_bad_region_is_an_error_naming_the_task_and_region(
    tmp_path: Path, task: object, message: str
) -> None:
    path = export(tmp_path, task)
    assert error(path).startswith(f"{path}: {message}; ")


def test_a_label_with_white_space_is_refused_with_the_renaming_to_make(tmp_path: Path) -> None:
    path = export(tmp_path, bad_value(start=0, end=5, labels=["Medical  Condition\t"]))
    assert error(path) == (
        f'{path}: task 17 region r1: label "Medical  Condition\\t" holds white space, and nerkit\'s labels are '
        'one word; rename it, e.g. to "Medical_Condition", in the Label Studio labeling config '
        '(<Label value="Medical_Condition"/>) and in this export'
    )
    minimal = export(
        tmp_path,
        {
            "id": 4,
            "text": TEXT,
            "label": [{"start": 0, "end": 5, "text": "Alice", "labels": ["Person name"]}],
        },
        name="min.json",
    )
    assert error(minimal) == (
        f'{minimal}: task 4 region #1: label "Person name" holds white space, and nerkit\'s labels are one word; '
        'rename it, e.g. to "Person_name", in the Label Studio labeling config (<Label value="Person_name"/>) '
        "and in this export"
    )


def test_a_bad_prediction_score_is_an_error(tmp_path: Path) -> None:
    task = {"id": 2, "data": {"text": TEXT}, "predictions": [{"score": "high", "result": []}]}
    path = export(tmp_path, task)
    with pytest.raises(NerkitError, match=r'task 2: score is "high", not a number'):
        documents(path, "predictions")


def test_malformed_json_names_the_line_and_task(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text('[\n  {"id": 1, "data": {"text": "a"}},\n  {"id": 2, "data": {"text": "b"}\n]\n')
    assert error(path) == (
        f"{path}:4: task #2: not valid JSON (Expecting ',' delimiter at column 1); fix the JSON there"
    )
    path.write_text('{"id": 1, "data": {"text": "a"}}')
    assert error(path).startswith(f"{path}:1: a single JSON object; give a JSON array of tasks")


def test_spans_out_of_range_pass_through_for_the_aligner(tmp_path: Path) -> None:
    task = {
        "id": 1,
        "data": {"text": TEXT},
        "annotations": [
            {"result": [region("r1", 20, 40, "LOC"), region("r2", 5, 5, "X"), region("r3", 9, 3, "X")]}
        ],
    }
    (document,) = documents(export(tmp_path, task))
    assert len(document.annotations) == 3
    assert kinds(align(document)) == Counter(out_of_range=1, empty=2)


def test_a_round_trip_keeps_spans_and_task_fields(tmp_path: Path) -> None:
    task = json.loads(json.dumps(TASK))
    task["annotations"][0]["result"] = [
        {**r, "from_name": "ner", "to_name": "doc"} for r in task["annotations"][0]["result"]
    ]
    path = export(tmp_path, task, SEVERAL, {"id": 9, "data": {"text": "Nobody here."}})
    before = [{(e.start, e.end, e.label) for e in d.entities} for d in read_aligned(path, "labelstudio")]
    out = tmp_path / "out.json"
    assert write_annotations(out, documents(path), "labelstudio") == 3
    written = json.loads(out.read_text())
    assert written[0] == {
        "id": 17,
        "data": {"text": TEXT, "source": "news"},
        "meta": {"batch": 2},
        "annotations": [
            {
                "result": [
                    {
                        "id": "n1",
                        "from_name": "ner",
                        "to_name": "doc",
                        "type": "labels",
                        "value": {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]},
                    },
                    {
                        "id": "n2",
                        "from_name": "ner",
                        "to_name": "doc",
                        "type": "labels",
                        "value": {"start": 17, "end": 22, "text": "Paris", "labels": ["LOC"]},
                    },
                ]
            }
        ],
        "predictions": [],
    }
    assert written[1]["predictions"] == SEVERAL["predictions"]
    assert len(written[1]["annotations"]) == 1
    assert written[2] == {"id": 9, "data": {"text": "Nobody here."}}  # nobody annotated it: as it came
    after = [{(e.start, e.end, e.label) for e in d.entities} for d in read_aligned(out, "labelstudio")]
    assert after == before
    assert before[0] == {(0, 5, "PER"), (17, 22, "LOC")}
    assert out.read_text().startswith("[\n{") and out.read_text().endswith("}\n]\n")


def test_predictions_are_written_with_a_score_per_region_and_their_mean(tmp_path: Path) -> None:
    document = AnnotatedDocument(
        TEXT,
        [Annotation(0, 5, "PER", score=0.9), Annotation(17, 22, "LOC", score=0.5), Annotation(10, 13, "PER")],
        "in.txt:1",
    )
    out = tmp_path / "out.json"
    assert (
        write_annotations(
            out,
            [document, AnnotatedDocument("Nothing.", [], "in.txt:2")],
            "labelstudio",
            WriteOptions(model_version="m@1"),
        )
        == 2
    )
    first, second = json.loads(out.read_text())
    assert first["id"] == 1 and first["data"] == {"text": TEXT}
    (prediction,) = first["predictions"]
    assert prediction["model_version"] == "m@1" and prediction["score"] == pytest.approx(0.7)
    assert [(r["value"]["start"], r["value"]["labels"], r.get("score")) for r in prediction["result"]] == [
        (0, ["PER"], 0.9),
        (10, ["PER"], None),
        (17, ["LOC"], 0.5),
    ]
    assert "annotations" not in first
    assert second == {
        "id": 2,
        "data": {"text": "Nothing."},
        "predictions": [{"model_version": "m@1", "result": []}],
    }
    again = documents(out, "predictions")
    assert [(a.start, a.end, a.label, a.score) for a in again[0].annotations] == [
        (0, 5, "PER", 0.9),
        (10, 13, "PER", pytest.approx(0.7)),
        (17, 22, "LOC", 0.5),
    ]


def test_predictions_written_for_an_export_keep_its_annotations(tmp_path: Path) -> None:
    path = export(tmp_path, SEVERAL)
    (document,) = documents(path, "predictions")
    predicted = align(replace(document, annotations=[Annotation(0, 5, "PER", score=0.8)]))
    out = tmp_path / "out.json"
    write_annotations(out, [predicted], "labelstudio", WriteOptions(model_version="v2"))
    (task,) = json.loads(out.read_text())
    assert task["annotations"] == SEVERAL["annotations"] and task["data"] == SEVERAL["data"]
    assert task["predictions"] == [
        {
            "model_version": "v2",
            "score": 0.8,
            "result": [
                {
                    "id": "n1",
                    "from_name": "label",
                    "to_name": "text",
                    "type": "labels",
                    "value": {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]},
                    "score": 0.8,
                }
            ],
        }
    ]


def named(rid: str, start: int, end: int, label: str, names: tuple[str, str]) -> dict[str, object]:
    return {**region(rid, start, end, label), "from_name": names[0], "to_name": names[1]}


def written_names(out: Path, key: str) -> list[list[tuple[str, str]]]:
    """Per task, the (from_name, to_name) of each region of its first annotation or prediction."""
    return [
        [(r["from_name"], r["to_name"]) for r in task[key][0]["result"]] if task.get(key) else []
        for task in json.loads(out.read_text())
    ]


def predicted(path: Path) -> list[AlignedDocument]:
    """The tasks of `path`, each with one predicted entity (Alice)."""
    return [
        align(replace(document, annotations=[Annotation(0, 5, "PER", score=0.5)]))
        for document in documents(path, "predictions")
    ]


NER = ("ner", "txt")


def test_predictions_for_tasks_without_names_take_those_of_the_other_tasks(tmp_path: Path) -> None:
    bare = [{"id": n, "data": {"text": TEXT}} for n in (1, 2, 4, 6)]
    annotated_task = {
        "id": 5,
        "data": {"text": TEXT},
        "annotations": [{"result": [named("r", 0, 5, "PER", NER)]}],
    }
    other = {
        "id": 7,
        "data": {"text": TEXT},
        "predictions": [{"result": [named("r", 0, 5, "PER", ("ents", "doc"))]}],
    }
    path = export(tmp_path, bare[0], bare[1], annotated_task, bare[2], other, bare[3])
    out = tmp_path / "out.json"
    assert write_annotations(out, predicted(path), "labelstudio", WriteOptions(model_version="m")) == 6
    tasks = json.loads(out.read_text())
    assert [task["id"] for task in tasks] == [1, 2, 5, 4, 7, 6]
    assert written_names(out, "predictions") == [
        [NER],
        [NER],
        [NER],
        [NER],
        [("ents", "doc")],
        [("ents", "doc")],
    ]
    assert tasks[2]["annotations"] == annotated_task["annotations"]
    assert out.read_text().startswith("[\n{") and out.read_text().endswith("}\n]\n")


def test_annotations_for_tasks_without_names_take_those_of_the_other_tasks(tmp_path: Path) -> None:
    first = AnnotatedDocument(TEXT, [Annotation(10, 13, "PER")], "in.jsonl:1")
    path = export(
        tmp_path,
        {"id": 5, "data": {"text": TEXT}, "annotations": [{"result": [named("r", 0, 5, "PER", NER)]}]},
    )
    out = tmp_path / "out.json"
    assert write_annotations(out, [first, *documents(path)], "labelstudio") == 2
    assert written_names(out, "annotations") == [[NER], [NER]]
    assert [task["id"] for task in json.loads(out.read_text())] == [1, 5]


def test_a_cancelled_annotation_names_the_controls_too_and_goes_back_untouched(tmp_path: Path) -> None:
    cancelled = {
        "id": 3,
        "data": {"text": TEXT},
        "annotations": [{"was_cancelled": True, "result": [named("r", 0, 5, "PER", ("keep", "these"))]}],
    }
    path = export(tmp_path, {"id": 1, "data": {"text": TEXT}}, cancelled)
    out = tmp_path / "out.json"
    write_annotations(out, predicted(path), "labelstudio", WriteOptions(model_version="m"))
    assert written_names(out, "predictions") == [[("keep", "these")], [("keep", "these")]]
    write_annotations(out, documents(path), "labelstudio")  # neither annotated: both go back as they came
    assert json.loads(out.read_text()) == [{"id": 1, "data": {"text": TEXT}}, cancelled]


def test_the_defaults_only_when_no_task_has_names(tmp_path: Path) -> None:
    path = export(tmp_path, {"id": 1, "data": {"text": TEXT}}, {"id": 2, "data": {"text": TEXT}})
    out = tmp_path / "out.json"
    write_annotations(out, predicted(path), "labelstudio", WriteOptions(model_version="m"))
    assert written_names(out, "predictions") == [[("label", "text")], [("label", "text")]]


def test_records_not_annotated_become_bare_tasks(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps(
            {"text": "Alice left.", "spans": [{"start": 0, "end": 5, "label": "PER"}], "answer": "reject"}
        )
        + "\n"
        + json.dumps(
            {"text": "Bob came.", "spans": [{"start": 0, "end": 3, "label": "PER"}], "answer": "accept"}
        )
        + "\n"
    )
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"tokens": ["Carol", "stayed"]}) + "\n")
    out = tmp_path / "out.json"
    documents_in = [align(d) for d in [*read_annotations(source, "jsonl"), *read_annotations(rows, "hf")]]
    assert write(out, documents_in, WriteOptions()) == 3  # the writer itself, as predict calls it
    assert json.loads(out.read_text()) == [
        {"id": 1, "data": {"text": "Alice left."}},
        {
            "id": 2,
            "data": {"text": "Bob came."},
            "annotations": [
                {
                    "result": [
                        {
                            "id": "n1",
                            "from_name": "label",
                            "to_name": "text",
                            "type": "labels",
                            "value": {"start": 0, "end": 3, "text": "Bob", "labels": ["PER"]},
                        }
                    ]
                }
            ],
        },
        {"id": 3, "data": {"text": "Carol stayed"}},
    ]
    assert [(d.annotated, kinds(d)) for d in documents(out)] == [
        (False, Counter(unannotated=1)),
        (True, Counter()),
        (False, Counter(unannotated=1)),
    ]


def test_an_empty_export_is_written_and_read(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    assert write_annotations(out, [], "labelstudio") == 0
    assert out.read_text() == "[\n]\n"
    assert documents(out) == []


def test_reading_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    task = json.dumps(
        {
            "id": 1,
            "data": {"text": TEXT * 200},
            "annotations": [{"result": [region("r1", 0, 5, "PER"), region("r2", 17, 22, "LOC")]}],
        }
    )
    with path.open("w") as handle:
        handle.write("[\n" + ",\n".join([task] * 430) + "\n]\n")
    size = path.stat().st_size
    assert size > 2_000_000
    tracemalloc.start()
    try:
        count = sum(1 for _ in read(path, ReadOptions()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 430
    assert peak < size // 4
