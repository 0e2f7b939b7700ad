"""Tests for nerkit.predict with annotated formats: the input format told from the path, span JSON lines
with their gold spans replaced, Label Studio and brat output read back with read_annotations, Label
Studio tasks passed through with a model_version and a score per region, brat input, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nerkit.cli import main
from nerkit.data.formats import ReadOptions
from nerkit.errors import NerkitError
from nerkit.predict import aligned_prediction, input_format_of, model_version, predict_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TEXTS = [
    "Ada Voss visited Halvery on Monday.",
    "Kelderwick Rovers beat Port Halvery. Maria Voss scored twice.",
    "",
]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def predicted(pipeline, texts: list[str]) -> list[set[tuple[int, int, str]]]:
    """The entities the model finds in each text, as (start, end, label)."""
    return [{(e.start, e.end, e.label) for e in pipeline.predict(text).entities} for text in texts]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- the input format from the path ---------------------------------------------------------------


def test_input_format_from_the_path(write, tmp_path):
    assert input_format_of("-") == "text"
    assert input_format_of(write("Ada ran.\n", name="in.txt")) == "text"
    assert input_format_of(write("Ada ran.\n", name="notes")) == "text"
    assert input_format_of(write("Ada B-PER\n", name="in.conll")) == "conll"
    assert input_format_of(write('{"text": "Ada"}\n', name="in.jsonl")) == "jsonl"
    assert input_format_of(write('{"tokens": ["Ada"], "ner_tags": [1]}\n', name="hf.jsonl")) == "hf"
    assert input_format_of(write("[]\n", name="tasks.json")) == "labelstudio"
    assert input_format_of(tmp_path / "data.parquet") == "hf"
    (tmp_path / "brat").mkdir()
    assert input_format_of(tmp_path / "brat") == "brat"
    assert input_format_of(write("[]\n", name="tasks.txt")) == "text"  # a .txt file is always text


# --- span JSON lines in ---------------------------------------------------------------------------


def test_span_jsonl_gold_replaced_by_predictions_other_fields_kept(tiny_pipeline, write, tmp_path):
    text = TEXTS[0]
    rows = [
        {"text": text, "entities": [{"start": 0, "end": 8, "label": "PER"}], "id": 1},
        {
            "text": text,
            "spans": [{"start": 0, "end": 8, "label": "PER"}],
            "answer": "reject",
            "meta": {"a": 1},
        },
        {"id": 3, "text": text, "label": [[0, 8, "PER"]]},
        {"text": text, "entities": [{"id": 0, "start_offset": 0, "end_offset": 8, "label": "PER"}]},
        {"text": text, "label": "positive"},  # a document label, not spans: kept
    ]
    source = write("".join(json.dumps(row) + "\n" for row in rows), name="in.jsonl")
    output = tmp_path / "out.jsonl"
    summary = predict_file(tiny_pipeline, source, output, input_format=None)
    out = read_jsonl(output)
    assert [list(row) for row in out] == [
        ["text", "id", "entities"],
        ["text", "answer", "meta", "entities"],
        ["text", "id", "entities"],
        ["text", "entities"],
        ["text", "label", "entities"],
    ]
    expected = [e.to_json() for e in tiny_pipeline.predict(text).entities]
    assert expected and all(row["entities"] == expected for row in out)
    assert (out[1]["answer"], out[1]["meta"], out[4]["label"]) == ("reject", {"a": 1}, "positive")
    assert (summary.documents, summary.entities) == (5, 5 * len(expected))


# --- model_version and the predictions as the format writers take them -----------------------------


def test_model_version_names_the_folder_and_the_weights():
    meta = {"weights": {"file": "model.safetensors", "sha256": "0123456789abcdef" * 4}}
    assert model_version(meta, "conll-en") == "conll-en@0123456789ab"
    assert model_version(meta) == "nerkit@0123456789ab"
    assert model_version({}, "conll-en") == "conll-en"
    assert model_version({"weights": "x"}, "m") == "m"


def test_aligned_prediction_carries_tokens_iob2_tags_and_scores(tiny_pipeline, write, tmp_path):
    from nerkit.predict import _Record, _tag_chunk
    from nerkit.text.document import parse_text

    record = _Record(parse_text(TEXTS[1]), {"id": 9}, place="in.jsonl:4", name="n", format="jsonl")
    _tag_chunk(tiny_pipeline, [record], 512, confidence=True)
    aligned = aligned_prediction(record)
    document = record.document
    assert aligned.text == TEXTS[1]
    assert aligned.sentences == [[(t.start, t.end) for t in s.tokens] for s in document.sentences]
    assert len(aligned.sentences) == 2
    assert aligned.tags == [t.tags for t in record.tagged]  # the tiny model tags in IOB2
    assert [(e.start, e.end, e.label, e.text, e.score, e.place) for e in aligned.entities] == [
        (e.start, e.end, e.label, e.text, e.confidence, "in.jsonl:4") for e in document.entities
    ]
    assert all(e.score is not None and 0 < e.score <= 1 for e in aligned.entities)
    source = aligned.source
    assert (source.extra, source.name, source.format, source.place, source.annotations) == (
        {"id": 9},
        "n",
        "jsonl",
        "in.jsonl:4",
        [],
    )
    assert aligned.adjustments == []


# --- errors ---------------------------------------------------------------------------------------

BRAT_TO_STDOUT = "brat output is a folder of files; name the folder to write with -o FOLDER"


@pytest.mark.parametrize("output", [None, "-"])
def test_brat_needs_an_output_folder(tiny_pipeline, write, tmp_path, output):
    source = write("Ada ran.\n", name="in.txt")
    with pytest.raises(NerkitError) as caught:
        predict_file(tiny_pipeline, source, output, output_format="brat")
    assert str(caught.value) == BRAT_TO_STDOUT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


def test_cli_brat_without_output_is_one_line_before_the_model_loads(capsys, write, tmp_path):
    source = write("Ada ran.\n", name="in.txt")
    code, out, err = run(capsys, "predict", str(tmp_path / "no-model"), str(source), "--format", "brat")
    assert (code, out, err) == (2, "", f"nerkit: error: {BRAT_TO_STDOUT}\n")


# --- brat out, brat and Hugging Face in -----------------------------------------------------------


def test_brat_output_reads_back_as_the_predictions(tiny_pipeline, write, tmp_path):
    from nerkit.data.formats import read_annotations

    source = write("".join(text + "\n" for text in TEXTS), name="in.txt")
    summary = predict_file(tiny_pipeline, source, tmp_path / "out", output_format="brat")
    documents = list(read_annotations(tmp_path / "out"))
    assert [d.name for d in documents] == ["doc00001", "doc00002", "doc00003"]
    assert [d.text for d in documents] == TEXTS
    found = [{(a.start, a.end, a.label) for a in d.annotations} for d in documents]
    assert found == predicted(tiny_pipeline, TEXTS)
    assert summary.entities == sum(map(len, found)) > 0
    scores = [entity.confidence for entity in tiny_pipeline.predict(TEXTS[1]).entities]
    notes = [
        line.split("\t")
        for line in (tmp_path / "out" / "doc00002.ann").read_text().splitlines()
        if line[0] == "#"
    ]
    assert notes == [
        [f"#{n}", f"AnnotatorNotes T{n}", f"score {score:.4f}"] for n, score in enumerate(scores, start=1)
    ]


def test_brat_folder_in_brat_folder_out_keeps_the_names(tiny_pipeline, tmp_path):
    from nerkit.data.formats import read_annotations

    folder = tmp_path / "corpus"
    (folder / "news").mkdir(parents=True)
    (folder / "news" / "a.txt").write_text(TEXTS[0], encoding="utf-8")
    (folder / "news" / "a.ann").write_text("T1\tPER 0 8\tAda Voss\nR1\tx Arg1:T1 Arg2:T1\n", encoding="utf-8")
    (folder / "b.txt").write_text(TEXTS[1], encoding="utf-8")
    summary = predict_file(tiny_pipeline, folder, tmp_path / "out", input_format=None, output_format="brat")
    documents = list(read_annotations(tmp_path / "out", "brat"))
    assert [d.name for d in documents] == ["b", "news/a"]
    assert [{(a.start, a.end, a.label) for a in d.annotations} for d in documents] == predicted(
        tiny_pipeline, [TEXTS[1], TEXTS[0]]
    )
    assert summary.documents == 2
    with pytest.raises(NerkitError) as caught:  # never over the input
        predict_file(tiny_pipeline, folder, folder, output_format="brat")
    assert str(caught.value).startswith(f"{folder}: ")
    assert sorted(p.name for p in folder.iterdir()) == ["b.txt", "news"]


def test_brat_input_to_jsonl_keeps_the_text_and_drops_gold(tiny_pipeline, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXTS[1] + "\n", encoding="utf-8")
    (folder / "a.ann").write_text("T1\tPER 0 10\tKelderwick\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    predict_file(tiny_pipeline, folder, output, input_format="brat")
    assert read_jsonl(output) == [
        {
            "text": TEXTS[1] + "\n",
            "entities": [e.to_json() for e in tiny_pipeline.predict(TEXTS[1] + "\n").entities],
        }
    ]


def test_hf_input_keeps_its_tokens(tiny_pipeline, write, tmp_path):
    rows = [
        {"id": "0", "tokens": ["Ada", "Voss", "visited", "Halvery", "."], "ner_tags": [1, 2, 0, 3, 0]},
        {"id": "1", "tokens": ["Kelderwick", "Rovers", "won", "."], "ner_tags": [0, 0, 0, 0]},
    ]
    source = write("".join(json.dumps(row) + "\n" for row in rows), name="train.jsonl")
    output = tmp_path / "out.conll"
    predict_file(
        tiny_pipeline,
        source,
        output,
        input_format=None,
        output_format="conll",
        read_options=ReadOptions(labels=("O", "B-PER", "I-PER", "B-LOC")),
    )
    tags = [t.tags for t in tiny_pipeline.tag_tokens([row["tokens"] for row in rows], confidence=False)]
    assert output.read_text(encoding="utf-8") == "".join(
        "-DOCSTART- O\n\n" + "".join(f"{w} {t}\n" for w, t in zip(row["tokens"], tag, strict=True)) + "\n"
        for row, tag in zip(rows, tags, strict=True)
    )


def test_hf_numbers_without_names_is_one_line(tiny_pipeline, write, tmp_path, capsys):
    source = write('{"tokens": ["Ada"], "ner_tags": [1]}\n', name="train.jsonl")
    with pytest.raises(NerkitError) as caught:
        predict_file(tiny_pipeline, source, tmp_path / "out.jsonl", input_format=None)
    assert str(caught.value).startswith(f"{source}:1: ner_tags are numbers, and nothing names them")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.jsonl"]


def test_span_jsonl_sentences_fix_the_tokens(tiny_pipeline, write, tmp_path):
    text = "AdaVoss-Halvery ran."
    sentences = [
        {
            "start": 0,
            "end": 21,
            "tokens": [
                {"text": text[s:e], "start": s, "end": e} for s, e in ((0, 7), (8, 15), (16, 19), (19, 20))
            ],
        }
    ]
    row = {"text": text, "sentences": sentences, "entities": [], "id": 4}
    source = write(json.dumps(row) + "\n", name="in.jsonl")
    output = tmp_path / "out.conll"
    predict_file(tiny_pipeline, source, output, input_format="jsonl", output_format="conll")
    tags = tiny_pipeline.tag_tokens([["AdaVoss", "Halvery", "ran", "."]], confidence=False)[0].tags
    words = ["AdaVoss", "Halvery", "ran", "."]
    assert (
        output.read_text(encoding="utf-8")
        == "-DOCSTART- O\n\n" + "".join(f"{w} {t}\n" for w, t in zip(words, tags, strict=True)) + "\n"
    )
    predict_file(tiny_pipeline, source, tmp_path / "out.jsonl", input_format="jsonl")
    assert list(read_jsonl(tmp_path / "out.jsonl")[0]) == ["text", "sentences", "id", "entities"]


def test_span_jsonl_bad_sentences_is_one_line(tiny_pipeline, write, tmp_path):
    row = {"text": "Ada ran.", "sentences": [{"tokens": [{"start": 4, "end": 2}]}]}
    source = write('{"text": "b"}\n' + json.dumps(row) + "\n", name="in.jsonl")
    with pytest.raises(NerkitError) as caught:
        predict_file(tiny_pipeline, source, tmp_path / "out.jsonl", input_format=None)
    assert str(caught.value).startswith(
        f"{source}:2: sentence 1 token 1: [4, 2) is not a span of the text (8 characters)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_conll_output_of_a_token_with_white_space_is_one_line(tiny_pipeline, write, tmp_path):
    text = "Ada Voss ran."
    tokens = [{"start": 0, "end": 8}, {"start": 9, "end": 12}, {"start": 12, "end": 13}]
    source = write(json.dumps({"text": text, "sentences": [{"tokens": tokens}]}) + "\n", name="in.jsonl")
    with pytest.raises(NerkitError) as caught:
        predict_file(
            tiny_pipeline, source, tmp_path / "out.conll", input_format="jsonl", output_format="conll"
        )
    assert str(caught.value) == (
        f"{source}:1: token 'Ada Voss' holds white space, which CoNLL cannot; "
        "write --format jsonl, or give tokens without white space"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


# --- Label Studio out and in ----------------------------------------------------------------------


def regions_of(task: dict) -> set[tuple[int, int, str]]:
    return {
        (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
        for r in task["predictions"][0]["result"]
    }


def test_labelstudio_output_is_predictions_with_scores(tiny_pipeline, write, tmp_path):
    from nerkit.data.formats import read_annotations

    source = write("".join(text + "\n" for text in TEXTS), name="in.txt")
    output = tmp_path / "tasks.json"
    summary = predict_file(tiny_pipeline, source, output, output_format="labelstudio", version="tiny@0123")
    tasks = json.loads(output.read_text(encoding="utf-8"))
    assert [(task["id"], task["data"]) for task in tasks] == [
        (n, {"text": t}) for n, t in enumerate(TEXTS, 1)
    ]
    assert [sorted(task) for task in tasks] == [["data", "id", "predictions"]] * 3
    expected = [tiny_pipeline.predict(text).entities for text in TEXTS]
    for task, entities in zip(tasks, expected, strict=True):
        (prediction,) = task["predictions"]
        assert prediction["model_version"] == "tiny@0123"
        result = prediction["result"]
        assert [
            (r["value"]["start"], r["value"]["end"], r["value"]["labels"], r["score"]) for r in result
        ] == [(e.start, e.end, [e.label], e.confidence) for e in entities]
        assert all(
            r["type"] == "labels" and r["value"]["text"] == e.text
            for r, e in zip(result, entities, strict=True)
        )
        if entities:
            assert prediction["score"] == pytest.approx(sum(e.confidence for e in entities) / len(entities))
        else:
            assert "score" not in prediction
    assert summary.entities == sum(map(len, expected)) > 0
    back = list(read_annotations(output, "labelstudio", ReadOptions(annotation="predictions")))
    assert [{(a.start, a.end, a.label) for a in d.annotations} for d in back] == predicted(
        tiny_pipeline, TEXTS
    )
    assert [[a.score for a in d.annotations] for d in back] == [[e.confidence for e in es] for es in expected]


LS_TASKS = [
    {
        "id": 17,
        "data": {"text": TEXTS[0], "source": "wire"},
        "meta": {"batch": 2},
        "annotations": [
            {
                "id": 5,
                "result": [
                    {
                        "id": "a",
                        "from_name": "ner",
                        "to_name": "body",
                        "type": "labels",
                        "value": {"start": 0, "end": 8, "text": "Ada Voss", "labels": ["PER"]},
                    }
                ],
            }
        ],
        "predictions": [{"model_version": "old", "score": 0.5, "result": []}],
    },
    {"id": 18, "data": {"text": TEXTS[1]}, "annotations": [{"id": 6, "was_cancelled": True, "result": []}]},
    {"id": 19, "data": {"text": ""}},
]


def test_labelstudio_tasks_pass_through_with_new_predictions(
    capsys, tiny_model, tiny_pipeline, write, tmp_path
):
    source = write(json.dumps(LS_TASKS), name="export.json")
    code, out, err = run(
        capsys, "predict", str(tiny_model), str(source), "--format", "labelstudio", "--threads", "1"
    )
    assert code == 0
    assert err.startswith("tagged 3 documents, ")
    tasks = json.loads(out)
    digest = json.loads((tiny_model / "model.json").read_text(encoding="utf-8"))["weights"]["sha256"]
    version = f"{tiny_model.name}@{digest[:12]}"
    for given, task in zip(LS_TASKS, tasks, strict=True):
        assert {key: value for key, value in task.items() if key != "predictions"} == {
            key: value for key, value in given.items() if key != "predictions"
        }
        assert [p["model_version"] for p in task["predictions"]] == [version]
        assert regions_of(task) == predicted(tiny_pipeline, [given["data"]["text"]])[0]
    assert {r["from_name"] for r in tasks[0]["predictions"][0]["result"]} == {"ner"}
    assert {r["to_name"] for r in tasks[0]["predictions"][0]["result"]} == {"body"}
    assert regions_of(tasks[1])  # a task whose annotation was cancelled is predicted too


def test_labelstudio_json_min_input(tiny_pipeline, write, tmp_path):
    records = [
        {
            "id": 1,
            "text": TEXTS[0],
            "label": [{"start": 0, "end": 8, "text": "Ada Voss", "labels": ["PER"]}],
            "annotator": 1,
        },
        {"id": 2, "text": TEXTS[1], "annotation_id": 9},
    ]
    source = write(json.dumps(records), name="min.json")
    output = tmp_path / "out.json"
    predict_file(tiny_pipeline, source, output, input_format=None, output_format="labelstudio")
    tasks = json.loads(output.read_text(encoding="utf-8"))
    assert [(task["id"], task["data"]) for task in tasks] == [
        (1, {"text": TEXTS[0]}),
        (2, {"text": TEXTS[1]}),
    ]
    assert [regions_of(task) for task in tasks] == predicted(tiny_pipeline, TEXTS[:2])


def test_labelstudio_input_errors_name_the_task(tiny_pipeline, write, tmp_path):
    source = write(json.dumps([{"id": 4, "data": {"text": 5}}]), name="bad.json")
    with pytest.raises(NerkitError) as caught:
        predict_file(tiny_pipeline, source, tmp_path / "out.jsonl", input_format=None)
    assert str(caught.value).startswith(f"{source}: task 4: no text to read (its text is 5)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


# --- jsonl and conll out read back as annotations -------------------------------------------------


def test_jsonl_and_conll_output_read_back_as_the_predictions(tiny_pipeline, write, tmp_path):
    from nerkit.data.formats import read_annotations

    source = write("".join(text + "\n" for text in TEXTS), name="in.txt")
    predict_file(tiny_pipeline, source, tmp_path / "out.jsonl")
    documents = list(read_annotations(tmp_path / "out.jsonl"))
    assert [{(a.start, a.end, a.label) for a in d.annotations} for d in documents] == predicted(
        tiny_pipeline, TEXTS
    )
    expected = [tiny_pipeline.predict(text).entities for text in TEXTS]
    assert [[a.score for a in d.annotations] for d in documents] == [
        [e.confidence for e in es] for es in expected
    ]
    predict_file(tiny_pipeline, source, tmp_path / "out.conll", output_format="conll")
    back = list(read_annotations(tmp_path / "out.conll"))
    assert len(back) == 2  # a -DOCSTART- document per line; the empty line's holds no sentence
    assert [[(d.text[a.start : a.end], a.label) for a in d.annotations] for d in back] == [
        [(e.text, e.label) for e in es] for es in expected[:2]
    ]


def test_hf_parquet_input_with_tag_names(tiny_pipeline, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from nerkit.data.tags import tags_to_spans

    tokens = [["Ada", "Voss", "visited", "Halvery", "."], ["Kelderwick", "won", "."]]
    table = pa.table(
        {"tokens": tokens, "ner_tags": [["B-PER", "I-PER", "O", "B-LOC", "O"], ["B-ORG", "O", "O"]]}
    )
    pq.write_table(table, tmp_path / "train.parquet")
    output = tmp_path / "out.jsonl"
    summary = predict_file(tiny_pipeline, tmp_path / "train.parquet", output, input_format=None)
    rows = read_jsonl(output)
    assert [row["text"] for row in rows] == [" ".join(words) for words in tokens]
    expected = []
    for words, tagged in zip(tokens, tiny_pipeline.tag_tokens(tokens), strict=True):
        starts = [sum(len(word) + 1 for word in words[:index]) for index in range(len(words))]
        expected.append(
            [
                (starts[s.start], starts[s.end - 1] + len(words[s.end - 1]), s.label)
                for s in tags_to_spans(tagged.tags)
            ]
        )
    assert [[(e["start"], e["end"], e["label"]) for e in row["entities"]] for row in rows] == expected
    assert any(expected) and summary.tokens == 8
