"""Tests for nerkit.data.stats: annotation_stats counts documents, tokens, entities, tags and every kind of
alignment adjustment exactly, in any format, one document at a time; its table and JSON forms."""

from __future__ import annotations

import json
from collections import Counter

from nerkit.data.annotations import ADJUSTMENTS
from nerkit.data.formats import ReadOptions
from nerkit.data.stats import annotation_stats, corpus_stats, format_annotation_stats

CONLL = "-DOCSTART- O\n\nMaria B-PER\nVoss I-PER\nvisited O\nHalvery B-LOC\n. O\n\nIt O\nrained O\n\n"

# One record with every span problem, one whose span crosses a sentence end, one Prodigy rejected.
PROBLEMS = [
    {
        "text": "Maria Voss met Ann McDonald. She left Oslo.",
        "entities": [
            {"start": 0, "end": 11, "label": "PER"},  # trimmed to "Maria Voss"
            {"start": 19, "end": 21, "label": "ORG"},  # "Mc": McDonald split
            {"start": 0, "end": 5, "label": "PER"},  # inside "Maria Voss": overlap
            {"start": 40, "end": 50, "label": "LOC"},  # past the end: out_of_range
            {"start": 15, "end": 15, "label": "PER"},  # empty
            {"start": 38, "end": 42, "label": "LOC", "text": "Osl"},  # text_mismatch, kept
        ],
    },
    {"text": "Ann went home. Then Bob came.", "entities": [{"start": 4, "end": 19, "label": "MISC"}]},
    {"text": "Skip me", "answer": "reject", "spans": []},
]


def _jsonl(write, rows, name="data.jsonl"):
    return write("".join(json.dumps(row) + "\n" for row in rows), name=name)


def test_every_adjustment_counted_exactly(write):
    path = _jsonl(write, PROBLEMS)
    stats = annotation_stats(path, "jsonl")
    assert (stats.documents, stats.sentences, stats.tokens) == (2, 3, 19)  # the rejected record left out
    assert stats.entities == Counter({"PER": 1, "ORG": 1, "LOC": 1, "MISC": 1})
    assert stats.tags == Counter(
        {"O": 11, "I-MISC": 3, "B-PER": 1, "I-PER": 1, "B-ORG": 1, "B-LOC": 1, "B-MISC": 1}
    )
    expected = {
        "trimmed": 1,
        "token_split": 1,
        "overlap": 1,
        "out_of_range": 1,
        "empty": 1,
        "text_mismatch": 1,
        "sentence_joined": 1,
        "rejected": 1,
    }
    assert stats.adjustments == Counter(expected)
    assert stats.listed is None


def test_json_shows_every_kind_in_order_with_zeros_and_the_list(write):
    path = _jsonl(write, PROBLEMS)
    data = annotation_stats(path, "jsonl", list_adjustments=True).to_json()
    assert list(data["alignment"]) == list(ADJUSTMENTS)
    assert data["alignment"]["discontinuous"] == 0 and data["alignment"]["trimmed"] == 1
    assert data["adjustments"][0] == {
        "kind": "trimmed",
        "place": f"{path}:1",
        "detail": '[0, 11) PER "Maria Voss " to [0, 10)',
    }
    assert [item["kind"] for item in data["adjustments"]] == [
        "trimmed", "out_of_range", "empty", "text_mismatch", "overlap", "token_split", "sentence_joined",
        "rejected",
    ]  # fmt: skip
    assert {key: data[key] for key in ("file", "format", "documents", "sentences", "tokens", "entities")} == {
        "file": str(path),
        "format": "jsonl",
        "documents": 2,
        "sentences": 3,
        "tokens": 19,
        "entities": 4,
    }


def test_table(write):
    path = _jsonl(
        write, [{"text": "Ada  Lovelace wrote.", "entities": [{"start": 0, "end": 14, "label": "PER"}]}]
    )
    assert format_annotation_stats(annotation_stats(path, "jsonl")) == (
        f"{path} (jsonl)\n"
        "  documents          1\n"
        "  sentences          1\n"
        "  tokens             4\n"
        "  entities           1\n"
        "    PER           1  100.0%\n"
        "  tags\n"
        "    O             2   50.0%\n"
        "    B-PER         1   25.0%\n"
        "    I-PER         1   25.0%\n"
        "  alignment\n"
        "    trimmed         1  span edges trimmed of white space"
    )


def test_table_says_none_and_lists_when_asked(write):
    path = _jsonl(write, [{"text": "Ada wrote.", "entities": [{"start": 0, "end": 3, "label": "PER"}]}])
    table = format_annotation_stats(annotation_stats(path, "jsonl", list_adjustments=True))
    assert table.endswith("\n  alignment none")
    path = _jsonl(write, [{"text": "Ada wrote.", "entities": [{"start": 0, "end": 4, "label": "PER"}]}])
    table = format_annotation_stats(annotation_stats(path, "jsonl", list_adjustments=True))
    assert table.splitlines()[-2:] == [
        "    trimmed         1  span edges trimmed of white space",
        f'{path}:1: trimmed: [0, 4) PER "Ada " to [0, 3)',
    ]


def test_conll_counts_agree_with_corpus_stats(write):
    path = write(CONLL)
    aligned = annotation_stats(path, "conll")
    plain = corpus_stats(path)
    assert (aligned.documents, aligned.sentences, aligned.tokens) == (1, 2, 7)
    assert (aligned.documents, aligned.sentences, aligned.tokens) == (
        plain.documents,
        plain.sentences,
        plain.tokens,
    )
    assert aligned.entities == plain.entities and aligned.tags == plain.tags
    assert sum(aligned.adjustments.values()) == 0


def test_conll_tag_column_is_read(write):
    path = write("Ada B-PER x\nwrote O x\n")
    stats = annotation_stats(path, "conll", ReadOptions(tag_column=1))
    assert stats.entities == Counter({"PER": 1})


def test_brat_counts_other_lines_and_discontinuous_spans(tmp_path):
    folder = tmp_path / "brat"
    folder.mkdir()
    (folder / "a.txt").write_text("Ada met Bob in Oslo.", encoding="utf-8")
    (folder / "a.ann").write_text(
        "T1\tPER 0 3\tAda\nT2\tPER 8 11;15 19\tBob Oslo\nR1\tMeets Arg1:T1 Arg2:T2\nT3\tLOC 15 19\tOslo\n",
        encoding="utf-8",
    )
    stats = annotation_stats(folder, "brat", list_adjustments=True)
    assert (stats.documents, stats.sentences, stats.tokens) == (1, 1, 6)
    assert stats.entities == Counter({"PER": 1, "LOC": 1})
    assert stats.adjustments == Counter({"discontinuous": 1, "other_line": 1})
    assert [item.place for item in stats.listed or []] == [f"{folder / 'a.ann'}:2", f"{folder / 'a.ann'}:3"]


LABEL_STUDIO = [
    {
        "id": 1,
        "data": {"text": "Ada met Bob in Oslo."},
        "annotations": [
            {
                "id": 10,
                "result": [
                    {"id": "r1", "from_name": "label", "to_name": "text", "type": "labels",
                     "value": {"start": 0, "end": 3, "text": "Ada", "labels": ["PER"]}},
                    {"id": "r2", "from_name": "label", "to_name": "text", "type": "labels",
                     "value": {"start": 8, "end": 11, "labels": ["PER", "ORG"]}},
                    {"id": "c1", "from_name": "mood", "to_name": "text", "type": "choices",
                     "value": {"choices": ["calm"]}},
                ],
            },
            {"id": 11, "result": [{"id": "r3", "from_name": "label", "to_name": "text", "type": "labels",
                                   "value": {"start": 15, "end": 19, "labels": ["LOC"]}}]},
        ],
    },
    {"id": 2, "data": {"text": "Nobody liked it."}, "annotations": [{"id": 12, "was_cancelled": True, "result": []}]},
    {"id": 3, "data": {"text": "Never looked at."}, "annotations": []},
]  # fmt: skip


def test_label_studio_counts_what_it_skipped(write):
    path = write(json.dumps(LABEL_STUDIO), name="export.json")
    stats = annotation_stats(path, "labelstudio", list_adjustments=True)
    assert (stats.documents, stats.sentences, stats.tokens) == (1, 1, 6)  # tasks 2 and 3 left out
    assert stats.entities == Counter({"PER": 2})
    assert stats.adjustments == Counter(
        {"extra_label": 1, "cancelled": 1, "not_chosen": 1, "other_result": 1, "unannotated": 1}
    )
    assert [item.place for item in stats.listed or []] == [
        f"{path}: task 1",
        f"{path}: task 1 region r2",
        f"{path}: task 1 region c1",
        f"{path}: task 2",
        f"{path}: task 3",
    ]
    last = annotation_stats(path, "labelstudio", ReadOptions(annotation="last"))
    assert last.entities == Counter({"LOC": 1})
    assert last.adjustments == Counter({"cancelled": 1, "not_chosen": 1, "unannotated": 1})


def test_hugging_face_rows_with_their_tag_names(write):
    path = write(
        '{"tokens": ["Ada", "Lovelace", "wrote", "."], "ner_tags": [1, 2, 0, 0]}\n'
        '{"tokens": ["Bob"], "ner_tags": [1]}\n',
        name="rows.jsonl",
    )
    stats = annotation_stats(path, "hf", ReadOptions(labels=("O", "B-PER", "I-PER")))
    assert (stats.documents, stats.sentences, stats.tokens) == (2, 2, 5)
    assert stats.entities == Counter({"PER": 2})
    assert stats.tags == Counter({"B-PER": 2, "O": 2, "I-PER": 1})
    assert sum(stats.adjustments.values()) == 0
