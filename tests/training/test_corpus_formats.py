"""Tests for training on annotated data in any format: read_corpus from aligned documents, the alignment
note per file, the formats in model.json, and tiny runs on JSON lines through train, spec and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nerkit.cli import main
from nerkit.data.conll import document_ids, read_conll
from nerkit.data.convert import convert_annotations
from nerkit.data.formats import ReadOptions
from nerkit.model.folder import load_model
from nerkit.training.corpus import read_corpus, split_validation
from nerkit.training.options import TrainOptions
from nerkit.training.prepare import plan_model, read_splits
from nerkit.training.train import train

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
ROWS = [
    {"text": "Maria Voss visited Halvery. It rained.", "entities": [{"start": 0, "end": 10, "label": "PER"}]},
    {"text": "", "entities": []},
    {"text": "Skip me", "answer": "reject", "spans": []},
    {"text": "Ann McDonald  ran", "spans": [{"start": 4, "end": 6, "label": "PER"}]},
]


def _jsonl(path: Path, rows: list[dict[str, object]] = ROWS) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_read_corpus_of_spans(tmp_path):
    corpus = read_corpus(_jsonl(tmp_path / "a.jsonl"))
    assert corpus.tokens == [
        ("Maria", "Voss", "visited", "Halvery", "."),
        ("It", "rained", "."),
        ("Ann", "Mc", "Donald", "ran"),
    ]
    assert corpus.tags == [("B-PER", "I-PER", "O", "O", "O"), ("O", "O", "O"), ("O", "B-PER", "O", "O")]
    assert corpus.documents == [0, 0, 1]  # the empty and the rejected record hold no sentence
    assert corpus.format == "jsonl"
    assert dict(corpus.adjustments) == {"rejected": 1, "token_split": 1}


def test_read_corpus_of_conll_is_as_before(tmp_path):
    corpus = read_corpus(SAMPLES / "dev.conll")
    sentences = list(read_conll(SAMPLES / "dev.conll"))
    assert corpus.tokens == [s.tokens for s in sentences]
    assert corpus.tags == [s.tags for s in sentences]
    assert corpus.documents == document_ids(sentences)
    assert (corpus.format, sum(corpus.adjustments.values())) == ("conll", 0)


def test_read_corpus_of_a_brat_folder_and_a_forced_format(tmp_path):
    folder = tmp_path / "brat"
    folder.mkdir()
    (folder / "a.txt").write_text("Ada met Bob.", encoding="utf-8")
    (folder / "a.ann").write_text("T1\tPER 0 3\tAda\n", encoding="utf-8")
    corpus = read_corpus(folder)
    assert (corpus.tokens, corpus.tags, corpus.format) == (
        [("Ada", "met", "Bob", ".")],
        [("B-PER", "O", "O", "O")],
        "brat",
    )
    odd = _jsonl(tmp_path / "a.data", ROWS[:1])
    assert read_corpus(odd, format="jsonl").tags[0] == ("B-PER", "I-PER", "O", "O", "O")


def test_split_validation_keeps_the_format(tmp_path):
    rows = [
        {"text": f"Ada ran {i} times.", "entities": [{"start": 0, "end": 3, "label": "PER"}]}
        for i in range(10)
    ]
    train_part, dev_part = split_validation(read_corpus(_jsonl(tmp_path / "a.jsonl", rows)), 0.2, 1)
    assert (len(train_part), len(dev_part), train_part.format, dev_part.format) == (8, 2, "jsonl", "jsonl")


def test_one_note_per_file_that_alignment_adjusted(tmp_path, capsys):
    train_file = _jsonl(tmp_path / "train.jsonl")
    dev_file = _jsonl(tmp_path / "dev.jsonl", ROWS[:1])
    read_splits(train_file, dev_file, None, TrainOptions())
    assert capsys.readouterr().err == (
        f"nerkit: note: {train_file}: 1 token_split, 1 rejected; "
        f"list them with nerkit stats {train_file} --alignment\n"
    )


def test_spans_train_the_model_their_conll_trains(tmp_path, tiny_options):
    """The same tokens and tags from JSON lines (converted from CoNLL) train the same model."""
    train_jsonl, dev_jsonl = tmp_path / "train.jsonl", tmp_path / "dev.jsonl"
    convert_annotations(SAMPLES / "dev.conll", train_jsonl)
    convert_annotations(SAMPLES / "test.conll", dev_jsonl)
    options = tiny_options(max_epochs=1, context_tokens=64)  # documents read together: their ids matter
    from_spans = train(train_jsonl, tmp_path / "spans", dev_path=dev_jsonl, options=options)
    from_conll = train(
        SAMPLES / "dev.conll", tmp_path / "conll", dev_path=SAMPLES / "test.conll", options=options
    )
    assert from_spans.dev == from_conll.dev
    spans_model, conll_model = load_model(tmp_path / "spans"), load_model(tmp_path / "conll")
    ours, theirs = spans_model.model.state_dict(), conll_model.model.state_dict()
    assert list(ours) == list(theirs)
    assert all(torch.equal(ours[name], theirs[name]) for name in ours)
    assert spans_model.meta["data"] == {
        "train": str(train_jsonl),
        "dev": str(dev_jsonl),
        "formats": {"train": "jsonl", "dev": "jsonl"},
    }


def test_plan_model_of_spans(tmp_path, tiny_options):
    train_jsonl = tmp_path / "train.jsonl"
    convert_annotations(SAMPLES / "train.conll", train_jsonl)
    ours, parameters = plan_model(train_jsonl, options=tiny_options())
    theirs, same = plan_model(SAMPLES / "train.conll", options=tiny_options())
    assert (ours.to_json(), parameters) == (theirs.to_json(), same)


VISITS = [
    {"text": f"{name} visited {place} today.", "entities": [
        {"start": 0, "end": len(name), "label": "PER"},
        {"start": len(name) + 9, "end": len(name) + 9 + len(place), "label": "LOC"},
    ]}
    for name in ("Ada", "Bob Stone", "Carla") for place in ("Oslo", "Paris", "New York")
]  # fmt: skip


def _label_studio(path: Path, rows: list[dict[str, object]]) -> Path:
    """The rows as a Label Studio JSON export, one task each."""
    tasks = []
    for number, row in enumerate(rows, 1):
        entities = row["entities"]
        assert isinstance(entities, list)
        result = [
            {"id": f"r{index}", "from_name": "label", "to_name": "text", "type": "labels",
             "value": {"start": e["start"], "end": e["end"], "labels": [e["label"]]}}
            for index, e in enumerate(entities)
        ]  # fmt: skip
        tasks.append(
            {"id": number, "data": {"text": row["text"]}, "annotations": [{"id": number, "result": result}]}
        )
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


def test_read_corpus_of_label_studio_and_hugging_face(tmp_path):
    export = _label_studio(tmp_path / "export.json", VISITS[:2])
    corpus = read_corpus(export)
    assert corpus.tokens == [
        ("Ada", "visited", "Oslo", "today", "."),
        ("Ada", "visited", "Paris", "today", "."),
    ]
    assert corpus.tags == [("B-PER", "O", "B-LOC", "O", "O")] * 2
    assert (corpus.documents, corpus.format) == ([0, 1], "labelstudio")
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        '{"tokens": ["Ada", "ran"], "ner_tags": [1, 0]}\n{"tokens": [], "ner_tags": []}\n', encoding="utf-8"
    )
    corpus = read_corpus(rows, options=ReadOptions(labels=("O", "B-PER", "I-PER")))
    assert (corpus.tokens, corpus.tags, corpus.documents, corpus.format) == (
        [("Ada", "ran")],
        [("B-PER", "O")],
        [0],
        "hf",
    )


def test_train_on_label_studio_with_spans_dev(tmp_path, tiny_options):
    export = _label_studio(tmp_path / "train.json", VISITS)
    dev = _jsonl(tmp_path / "dev.jsonl", VISITS[:3])
    result = train(export, tmp_path / "model", dev_path=dev, options=tiny_options(max_epochs=1))
    assert result.best_epoch == 1
    assert load_model(tmp_path / "model").meta["data"]["formats"] == {"train": "labelstudio", "dev": "jsonl"}


def test_train_and_spec_commands_read_any_format(tmp_path, capsys):
    data = _jsonl(tmp_path / "train.txt", VISITS)  # no extension says JSON lines: --input-format does
    flags = ["--hidden", "8", "--char-filters", "4", "--word-dim", "8", "--input-format", "jsonl"]
    assert main(["spec", "--train", str(data), *flags]) == 0
    assert "parameters" in capsys.readouterr().out
    output = tmp_path / "model"
    argv = ["train", "--train", str(data), "-o", str(output), *flags, "--max-epochs", "1", "--threads", "1"]
    assert main(argv) == 0
    assert "model saved to" in capsys.readouterr().out
    assert json.loads((output / "model.json").read_text(encoding="utf-8"))["data"]["formats"] == {
        "train": "jsonl",
        "dev": "jsonl",
    }


def test_train_on_a_bad_span_file_is_one_line(tmp_path, capsys):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "Ada", "entities": [{"start": 0, "end": 3}]}\n', encoding="utf-8")
    assert main(["train", "--train", str(data), "-o", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"nerkit: error: {data}:1: ")
    assert not (tmp_path / "m").exists()


def test_a_dev_file_with_nothing_annotated_is_refused(tmp_path):
    from nerkit.errors import NerkitError
    from nerkit.training.prepare import prepare

    train = tmp_path / "train.conll"
    train.write_text("Alice B-PER\nran O\n")
    dev = tmp_path / "dev.jsonl"
    dev.write_text('{"text": "Bob ran.", "spans": [], "answer": "reject"}\n')
    with pytest.raises(NerkitError, match=r"dev.jsonl: no annotated sentence to score the model on"):
        prepare(train, dev)


def test_merged_files_keep_their_documents_apart_even_without_docstart():
    """Sentences before any -DOCSTART- have negative document ids (each alone); merged, no two files'
    sentences may share one."""
    from nerkit.training.corpus import Corpus, merge_corpora

    def corpus(documents: list[int]) -> Corpus:
        return Corpus(
            tokens=[["a"]] * len(documents),
            tags=[["O"]] * len(documents),
            documents=documents,
            format="conll",
        )

    merged = merge_corpora([corpus([-1, -2, -3]), corpus([-1, -2]), corpus([1, 1, 2]), corpus([-1, 0, 0])])
    assert merged.documents == [2, 1, 0, 4, 3, 5, 5, 6, 7, 8, 8]
    assert merge_corpora([corpus([0, 0, 1]), corpus([0, 1])]).documents == [0, 0, 1, 2, 3]
