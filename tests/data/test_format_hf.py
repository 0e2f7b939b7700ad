"""Tests for nerkit.data.formats.hf: Hugging Face rows in JSON lines and parquet, read and written back."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from nerkit.data import read_annotations, write_annotations
from nerkit.data.annotations import Adjustment, AnnotatedDocument, Annotation
from nerkit.data.formats import ReadOptions, WriteOptions, read_aligned
from nerkit.data.formats.hf import default_names, features, names_in_features
from nerkit.data.stats import annotation_stats
from nerkit.errors import NerkitError
from nerkit.training.corpus import read_corpus

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

NAMES = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
ROWS: list[dict[str, object]] = [
    {"id": "0", "tokens": ["EU", "rejects", "German", "call"], "ner_tags": [3, 0, 7, 0]},
    {"id": "1", "tokens": ["Peter", "Blackburn"], "ner_tags": [1, 2]},
]
LABELS = ReadOptions(labels=tuple(NAMES))


def jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def parquet(path: Path, rows: list[dict[str, object]], names: list[str] | None = None) -> Path:
    """Rows as `datasets` writes them: ClassLabel names in the schema's Hugging Face metadata."""
    table = pa.Table.from_pylist(rows)
    if names is not None:
        ner_tags = {
            "feature": {"names": names, "_type": "ClassLabel"},
            "_type": "List",
        }  # as datasets 4 writes
        metadata = {"info": {"features": {"id": {"dtype": "string", "_type": "Value"}, "ner_tags": ner_tags}}}
        table = table.replace_schema_metadata({b"huggingface": json.dumps(metadata).encode()})
    pq.write_table(table, path)
    return path


def seen(documents: list[AnnotatedDocument]) -> list[tuple[str, list[tuple[int, int, str]]]]:
    return [(d.text, [(a.start, a.end, a.label) for a in d.annotations]) for d in documents]


def tags(path: Path, options: ReadOptions | None = None) -> list[tuple[tuple[str, ...], list[str]]]:
    return [(d.tokens()[0], d.tags[0]) for d in read_aligned(path, "hf", options)]


EXPECTED = [
    ("EU rejects German call", [(0, 2, "ORG"), (11, 17, "MISC")]),
    ("Peter Blackburn", [(0, 15, "PER")]),
]


def test_json_lines_rows_become_one_sentence_documents(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "train.jsonl", ROWS)
    first, second = read_annotations(path, options=LABELS)
    assert seen([first, second]) == EXPECTED
    assert first.sentences == [[(0, 2), (3, 10), (11, 17), (18, 22)]]
    assert (first.place, first.extra, first.docstart, first.format) == (f"{path}:1", {"id": "0"}, False, "hf")
    assert [a.place for a in second.annotations] == [f"{path}:2"]


def test_tag_names_as_strings_need_no_names(tmp_path: Path) -> None:
    row: dict[str, object] = {
        "tokens": ["New", "York", "is", "big"],
        "ner_tags": ["B-LOC", "E-LOC", "O", "S-MISC"],
    }
    path = jsonl(tmp_path / "a.jsonl", [row])
    assert seen(list(read_annotations(path))) == [("New York is big", [(0, 8, "LOC"), (12, 15, "MISC")])]


def test_an_empty_row_is_an_empty_document(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", [{"tokens": [], "ner_tags": []}, ROWS[1]])
    empty, _ = read_annotations(path, "hf", LABELS)
    assert (empty.text, empty.annotations, empty.sentences) == ("", [], [[]])
    assert [d.tags for d in read_aligned(path, "hf", LABELS)] == [[], [["B-PER", "I-PER"]]]


TOKENS_ONLY: list[dict[str, object]] = [
    {"id": "7", "tokens": ["Angela", "Merkel", "spoke"]},
    {"tokens": ["Paris", "is", "big"], "ner_tags": ["B-LOC", "O", "O"]},
    {"tokens": ["Hi"], "ner_tags": None},
]


def test_rows_without_ner_tags_are_documents_nobody_annotated(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", TOKENS_ONLY)
    first, second, third = read_annotations(path, "hf")
    assert (first.text, first.sentences, first.annotations, first.extra) == (
        "Angela Merkel spoke",
        [[(0, 6), (7, 13), (14, 19)]],
        [],
        {"id": "7"},
    )
    assert (first.annotated, first.adjustments) == (
        False,
        [Adjustment("unannotated", f"{path}:1", "no ner_tags")],
    )
    assert (second.annotated, second.adjustments, seen([second])) == (
        True,
        [],
        [("Paris is big", [(0, 5, "LOC")])],
    )
    assert (third.annotated, third.adjustments) == (
        False,
        [Adjustment("unannotated", f"{path}:3", "no ner_tags")],
    )


def test_rows_without_ner_tags_are_counted_by_stats_and_left_out_of_training(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", TOKENS_ONLY)
    stats = annotation_stats(path, "hf")
    assert (stats.documents, stats.sentences, stats.tokens, dict(stats.entities)) == (1, 1, 3, {"LOC": 1})
    assert stats.adjustments["unannotated"] == 2
    corpus = read_corpus(path, format="hf")
    assert (corpus.tokens, corpus.tags) == ([("Paris", "is", "big")], [("B-LOC", "O", "O")])
    assert corpus.adjustments["unannotated"] == 2


def test_tokens_only_rows_need_no_tag_names_but_unnamed_numbers_still_do(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", [TOKENS_ONLY[0], ROWS[0]])
    with pytest.raises(NerkitError, match=r"a\.jsonl:2: ner_tags are numbers, and nothing names them"):
        list(read_annotations(path, "hf"))


def test_a_parquet_file_without_ner_tags_is_read_not_annotated(tmp_path: Path) -> None:
    path = parquet(tmp_path / "a.parquet", [{"id": "0", "tokens": ["Angela", "Merkel"]}])
    (document,) = read_annotations(path)
    assert (document.text, document.extra, document.annotated, document.adjustments) == (
        "Angela Merkel",
        {"id": "0"},
        False,
        [Adjustment("unannotated", f"{path}: row 0", "no ner_tags")],
    )


@pytest.mark.parametrize(
    "ner_tags",
    [
        {"feature": {"names": NAMES, "_type": "ClassLabel"}, "_type": "Sequence"},
        {"feature": {"names": NAMES, "_type": "ClassLabel"}, "_type": "List"},
        {
            "feature": {
                "num_classes": 9,
                "names": NAMES,
                "names_file": None,
                "id": None,
                "_type": "ClassLabel",
            },
            "length": -1,
            "id": None,
            "_type": "Sequence",
        },
        [{"names": NAMES, "_type": "ClassLabel"}],
    ],
)
def test_names_come_from_dataset_info_json_beside_the_file(tmp_path: Path, ner_tags: object) -> None:
    info = {"description": "", "features": {"tokens": {}, "ner_tags": ner_tags}, "splits": {}}
    (tmp_path / "dataset_info.json").write_text(json.dumps(info))
    assert seen(list(read_annotations(jsonl(tmp_path / "train.jsonl", ROWS), "hf"))) == EXPECTED


def test_names_come_from_dataset_info_json_in_the_parent_folder(tmp_path: Path) -> None:
    (tmp_path / "dataset_info.json").write_text(json.dumps({"features": features(NAMES)}))
    (tmp_path / "train").mkdir()
    assert seen(list(read_annotations(jsonl(tmp_path / "train" / "data.jsonl", ROWS), "hf"))) == EXPECTED


def test_labels_given_win_over_dataset_info_json(tmp_path: Path) -> None:
    (tmp_path / "dataset_info.json").write_text(json.dumps({"features": features(["O", "B-X", "I-X"])}))
    path = jsonl(tmp_path / "a.jsonl", ROWS)
    assert seen(list(read_annotations(path, "hf", LABELS))) == EXPECTED


def test_names_come_from_the_parquet_schema_metadata(tmp_path: Path) -> None:
    path = parquet(tmp_path / "train.parquet", ROWS, NAMES)
    first, second = read_annotations(path)
    assert seen([first, second]) == EXPECTED
    assert (first.place, second.place, first.extra) == (f"{path}: row 0", f"{path}: row 1", {"id": "0"})


def test_parquet_is_streamed_in_batches_with_scalar_columns_kept(tmp_path: Path) -> None:
    rows = [
        {"id": i, "score": 0.5, "pos": [1], "tokens": ["a", "b"], "ner_tags": ["B-X", "O"]}
        for i in range(2500)
    ]
    path = parquet(tmp_path / "big.parquet", rows)
    documents = read_annotations(path)
    assert next(documents).extra == {"id": 0, "score": 0.5}
    last = list(documents)[-1]
    assert (last.place, last.extra["id"], len(last.annotations)) == (f"{path}: row 2499", 2499, 1)


def test_names_in_features_takes_only_ner_tags_class_labels() -> None:
    assert (
        names_in_features({"ner_tags": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "List"}})
        is None
    )
    assert names_in_features({"tags": {"feature": {"names": NAMES, "_type": "ClassLabel"}}}) is None
    assert names_in_features([NAMES]) is None
    assert names_in_features(features(["O", "B-X"])) == ["O", "B-X"]


HINT = "each line must be a JSON object"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"tokens": ["a"], "ner_tags": [0]', "not valid JSON"),
        ('["a"]', "not a JSON object; " + HINT),
        ('{"ner_tags": [0]}', 'no "tokens" field'),
        ('{"tokens": "a b", "ner_tags": [0, 0]}', '"tokens" is not a list of strings'),
        ('{"tokens": ["a", 1], "ner_tags": [0, 0]}', '"tokens" is not a list of strings'),
        ('{"tokens": ["a"], "ner_tags": 0}', '"ner_tags" is not a list'),
        ('{"tokens": ["a", "b"], "ner_tags": [0]}', "2 tokens but 1 ner_tags; give one tag per token"),
        ('{"tokens": ["a", ""], "ner_tags": [0, 0]}', "token 2 is empty"),
        ('{"tokens": ["New York"], "ner_tags": [0]}', "token 1 'New York' holds white space"),
        ('{"tokens": ["a\\u00a0b"], "ner_tags": [0]}', "token 1 'a\\xa0b' holds white space"),
        ('{"tokens": ["a\\u0000"], "ner_tags": [0]}', "token 1 'a\\x00' holds a NUL or a byte-order mark"),
        ('{"tokens": ["a"], "ner_tags": ["PER"]}', "tag 'PER' (token 1) is not a tag; tags are O, or B-"),
        (
            '{"tokens": ["a", "b"], "ner_tags": [1, "O"]}',
            '"ner_tags" must be all tag numbers or all tag names',
        ),
        ('{"tokens": ["a"], "ner_tags": [true]}', '"ner_tags" must be all tag numbers or all tag names'),
        ('{"tokens": ["a"], "ner_tags": [1.0]}', '"ner_tags" must be all tag numbers or all tag names'),
        (
            '{"tokens": ["a"], "ner_tags": [9]}',
            "tag number 9 (token 1) is out of range: --labels names 9 tags (0 to 8)",
        ),
        ('{"tokens": ["a"], "ner_tags": [-1]}', "tag number -1 (token 1) is out of range"),
        ('{"tokens": ["a"], "ner_tags": [NaN]}', "NaN is not a JSON number"),
    ],
)
def test_a_bad_json_lines_row_names_its_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n\n" + line + "\n")
    with pytest.raises(NerkitError) as caught:
        list(read_annotations(path, "hf", LABELS))
    assert str(caught.value).startswith(f"{path}:3: {message}")


def test_numbers_without_names_ask_for_labels(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", ROWS)
    with pytest.raises(NerkitError) as caught:
        list(read_annotations(path, "hf"))
    assert str(caught.value) == (
        f"{path}:1: ner_tags are numbers, and nothing names them (no dataset_info.json beside the file or in "
        "its parent folder); give the tag names in the dataset's order with --labels O,B-PER,I-PER,..., "
        "or put the dataset's dataset_info.json beside the file"
    )
    (tmp_path / "dataset_info.json").write_text(json.dumps({"features": {"tokens": {}}}))
    with pytest.raises(
        NerkitError, match=r"nothing names them \(.*dataset_info.json has no ClassLabel names"
    ):
        list(read_annotations(path, "hf"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "dataset_info.json: not valid JSON"),
        ("[]", "dataset_info.json: not a JSON object"),
        (json.dumps({"features": features(["O", "PER"])}), "dataset_info.json: tag name 'PER' is not a tag"),
    ],
)
def test_a_bad_dataset_info_json_is_named(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "dataset_info.json").write_text(content)
    with pytest.raises(NerkitError, match=message):
        list(read_annotations(jsonl(tmp_path / "a.jsonl", ROWS), "hf"))


def test_labels_that_are_not_tags_are_refused(tmp_path: Path) -> None:
    with pytest.raises(NerkitError, match=r"^--labels: tag name 'PER' is not a tag; tags are O"):
        list(read_annotations(jsonl(tmp_path / "a.jsonl", ROWS), "hf", ReadOptions(labels=("O", "PER"))))


def test_a_bad_parquet_row_is_named_by_its_index(tmp_path: Path) -> None:
    path = parquet(tmp_path / "a.parquet", [*ROWS, {"id": "2", "tokens": ["a", "b"], "ner_tags": [0]}], NAMES)
    with pytest.raises(NerkitError) as caught:
        list(read_annotations(path))
    assert str(caught.value) == f"{path}: row 2: 2 tokens but 1 ner_tags; give one tag per token"
    nulls = parquet(tmp_path / "b.parquet", [{"tokens": ["a"], "ner_tags": [None]}], NAMES)
    with pytest.raises(NerkitError, match=r"b.parquet: row 0: \"ner_tags\" must be all tag numbers"):
        list(read_annotations(nulls))


def test_a_parquet_file_without_the_columns_or_not_parquet_at_all(tmp_path: Path) -> None:
    path = parquet(tmp_path / "a.parquet", [{"words": ["a"], "ner_tags": [0]}])
    with pytest.raises(NerkitError, match=r'a.parquet: no "tokens" column \(it has words, ner_tags\)'):
        list(read_annotations(path))
    fake = tmp_path / "fake.parquet"
    fake.write_text('{"tokens": ["a"], "ner_tags": ["O"]}\n')
    with pytest.raises(NerkitError, match=r"fake.parquet: not a readable parquet file \("):
        list(read_annotations(fake))
    with pytest.raises(NerkitError, match=r"missing\.parquet: no such file"):
        list(read_annotations(tmp_path / "missing.parquet"))


def test_parquet_without_pyarrow_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = parquet(tmp_path / "a.parquet", ROWS, NAMES)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(NerkitError) as caught:
        list(read_annotations(path))
    assert str(caught.value) == "reading parquet needs pyarrow; pip install pyarrow"
    with pytest.raises(NerkitError, match=r"^writing parquet needs pyarrow; pip install pyarrow$"):
        write_annotations(tmp_path / "out.parquet", [], "hf")
    assert not (tmp_path / "out.parquet").exists()


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_written_and_read_back_with_the_same_tokens_and_tags(tmp_path: Path, suffix: str) -> None:
    source = jsonl(tmp_path / "in.jsonl", ROWS)
    out = tmp_path / "out" / f"train{suffix}"
    out.parent.mkdir()
    assert write_annotations(out, read_annotations(source, options=LABELS), "hf") == 2
    default = ["O", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    info = json.loads((out.parent / "dataset_info.json").read_text())
    assert info == {"features": features(default)}
    assert (
        tags(out)
        == tags(source, LABELS)
        == [
            (("EU", "rejects", "German", "call"), ["B-ORG", "O", "B-MISC", "O"]),
            (("Peter", "Blackburn"), ["B-PER", "I-PER"]),
        ]
    )
    if suffix == ".jsonl":
        assert out.read_text() == (
            '{"id": "0", "tokens": ["EU", "rejects", "German", "call"], "ner_tags": [3, 0, 1, 0]}\n'
            '{"id": "1", "tokens": ["Peter", "Blackburn"], "ner_tags": [5, 6]}\n'
        )
    else:
        metadata = json.loads(pq.read_schema(out).metadata[b"huggingface"])
        assert names_in_features(metadata["info"]["features"]) == default
        assert pq.read_table(out).column("ner_tags").to_pylist() == [[3, 0, 1, 0], [5, 6]]


def test_bioes_names_and_tags(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    write_annotations(
        out,
        read_annotations(jsonl(tmp_path / "in.jsonl", ROWS), options=LABELS),
        "hf",
        WriteOptions(scheme="bioes"),
    )
    names = default_names(["MISC", "ORG", "PER"], "BIOES")
    assert names[:5] == ("O", "B-MISC", "I-MISC", "E-MISC", "S-MISC")
    assert [json.loads(line)["ner_tags"] for line in out.read_text().splitlines()] == [
        [names.index("S-ORG"), 0, names.index("S-MISC"), 0],
        [names.index("B-PER"), names.index("E-PER")],
    ]
    assert [d.tags[0] for d in read_aligned(out)] == [["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER"]]


def test_labels_given_fix_the_numbers_and_a_missing_tag_is_refused(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", ROWS)
    out = tmp_path / "out" / "a.jsonl"
    out.parent.mkdir()
    write_annotations(out, read_annotations(source, options=LABELS), "hf", WriteOptions(labels=tuple(NAMES)))
    assert [json.loads(line)["ner_tags"] for line in out.read_text().splitlines()] == [[3, 0, 7, 0], [1, 2]]
    other = tmp_path / "other" / "a.jsonl"
    other.parent.mkdir()
    with pytest.raises(NerkitError) as caught:
        write_annotations(
            other,
            read_annotations(source, options=LABELS),
            "hf",
            WriteOptions(labels=("O", "B-ORG", "I-ORG")),
        )
    assert str(caught.value) == (
        f"{source}:1: tag 'B-MISC' is not among the tag names of --labels (O, B-ORG, I-ORG); "
        "add it to --labels (in --scheme's tags), or leave --labels out"
    )
    assert list(other.parent.iterdir()) == []


def test_the_names_of_a_dataset_info_json_there_are_reused_when_they_hold_every_tag(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", ROWS)
    theirs = json.dumps({"features": features(NAMES)}, indent=1)
    (tmp_path / "dataset_info.json").write_text(theirs)
    write_annotations(tmp_path / "out.jsonl", read_annotations(source), "hf")
    assert (tmp_path / "dataset_info.json").read_text() == theirs
    assert [json.loads(line)["ner_tags"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == [
        [3, 0, 7, 0],
        [1, 2],
    ]
    assert seen(list(read_annotations(tmp_path / "out.jsonl"))) == EXPECTED


LOC_NAMES = ["O", "B-LOC", "I-LOC"]
OURS = "O, B-MISC, I-MISC, B-ORG, I-ORG, B-PER, I-PER"


def test_a_dataset_info_json_naming_other_tags_is_never_replaced(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", ROWS)
    info = tmp_path / "dataset_info.json"
    theirs = json.dumps({"features": features(LOC_NAMES)}, indent=1)
    info.write_text(theirs)
    with pytest.raises(NerkitError) as caught:
        write_annotations(tmp_path / "out.jsonl", read_annotations(source, options=LABELS), "hf")
    assert str(caught.value) == (
        f"{info}: already holds the tags O, B-LOC, I-LOC, not {OURS}; it has no B-MISC, B-ORG, B-PER, "
        "I-PER: write to a folder of its own, or remove it if nothing it describes is kept"
    )
    with pytest.raises(NerkitError) as caught:
        write_annotations(
            tmp_path / "out.jsonl",
            read_annotations(source, options=LABELS),
            "hf",
            WriteOptions(labels=tuple(NAMES)),
        )
    assert str(caught.value) == (
        f"{info}: already holds the tags O, B-LOC, I-LOC, not O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC, "
        "B-MISC, ... (9 in all); give --labels in its order, or write to a folder of its own, or remove it if "
        "nothing it describes is kept"
    )
    info.write_text('{"features": {}}')
    with pytest.raises(NerkitError) as caught:
        write_annotations(tmp_path / "out.jsonl", read_annotations(source, options=LABELS), "hf")
    assert str(caught.value) == (
        f"{info}: already holds no ClassLabel names for ner_tags, not {OURS}; write to a folder of its own, "
        "or remove it if nothing it describes is kept"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset_info.json", "in.jsonl"]


PER = AnnotatedDocument(
    "Alice met Bob", [Annotation(0, 5, "PER")], "p.jsonl:1", sentences=[[(0, 5), (6, 9), (10, 13)]]
)
LOC = AnnotatedDocument(
    "Paris is big", [Annotation(0, 5, "LOC")], "l.jsonl:1", sentences=[[(0, 5), (6, 8), (9, 12)]]
)


def names_beside(path: Path) -> list[str] | None:
    return names_in_features(json.loads((path.parent / "dataset_info.json").read_text())["features"])


def test_the_parent_folders_dataset_info_json_is_never_overridden(tmp_path: Path) -> None:
    parent = tmp_path / "h" / "dataset_info.json"
    parent.parent.mkdir()
    parent.write_text(json.dumps({"features": features(LOC_NAMES)}))
    (tmp_path / "h" / "sub").mkdir()
    train = jsonl(
        tmp_path / "h" / "sub" / "train.jsonl", [{"tokens": ["Paris", "is", "big"], "ner_tags": [1, 0, 0]}]
    )
    out = tmp_path / "h" / "sub" / "out.jsonl"
    with pytest.raises(NerkitError) as caught:
        write_annotations(out, [PER], "hf")
    assert str(caught.value) == (
        f"{parent}: gives the tags O, B-LOC, I-LOC to the files in {out.parent}, not O, B-PER, I-PER; it has "
        "no B-PER: write to a folder of its own (a dataset_info.json there would change what its files mean)"
    )
    assert sorted(p.name for p in out.parent.iterdir()) == ["train.jsonl"]
    own = tmp_path / "h" / "own" / "out.jsonl"
    own.parent.mkdir()
    assert write_annotations(own, [PER], "hf") == 1
    assert names_beside(own) == ["O", "B-PER", "I-PER"]
    assert seen(list(read_annotations(own))) == [("Alice met Bob", [(0, 5, "PER")])]
    write_annotations(out.parent / "loc.jsonl", [LOC], "hf")
    assert names_beside(out) == LOC_NAMES
    assert seen(list(read_annotations(train))) == [("Paris is big", [(0, 5, "LOC")])]


def test_a_relative_path_finds_the_parent_folders_dataset_info_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dataset_info.json").write_text(json.dumps({"features": features(LOC_NAMES)}))
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    jsonl(Path("train.jsonl"), [{"tokens": ["Paris", "is", "big"], "ner_tags": [1, 0, 0]}])
    assert seen(list(read_annotations("train.jsonl"))) == [("Paris is big", [(0, 5, "LOC")])]
    with pytest.raises(NerkitError) as caught:
        write_annotations("out.jsonl", [PER], "hf")
    assert str(caught.value) == (
        "../dataset_info.json: gives the tags O, B-LOC, I-LOC to the files in the current folder, not O, B-PER, "
        "I-PER; it has no B-PER: write to a folder of its own (a dataset_info.json there would change "
        "what its files mean)"
    )


def test_a_folder_holding_only_the_file_written_gets_a_new_dataset_info_json(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    write_annotations(out, [PER], "hf")
    assert names_beside(out) == ["O", "B-PER", "I-PER"]
    write_annotations(out, [LOC], "hf")
    assert names_beside(out) == LOC_NAMES
    assert seen(list(read_annotations(out))) == [("Paris is big", [(0, 5, "LOC")])]


def test_standard_output_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NerkitError) as caught:
        write_annotations("-", [PER], "hf")
    assert str(caught.value) == (
        "Hugging Face rows cannot be written to standard output; give a file (-o rows.jsonl or rows.parquet): "
        "a dataset_info.json naming the tags goes beside it"
    )
    assert list(tmp_path.iterdir()) == []


def test_never_written_over_its_input_nor_with_spaces_in_tokens(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", ROWS)
    before = source.read_bytes()
    with pytest.raises(NerkitError, match="is also this command's input"):
        write_annotations(
            source, read_annotations(source, options=LABELS), "hf", WriteOptions(inputs=(source,))
        )
    assert source.read_bytes() == before
    document = AnnotatedDocument("New York", [], "in.conll:3", sentences=[[(0, 8)]])
    with pytest.raises(
        NerkitError, match=r"^in.conll:3: token 'New York' cannot be written to a Hugging Face file"
    ):
        write_annotations(tmp_path / "out.jsonl", [document], "hf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_text_documents_are_split_into_sentence_rows(tmp_path: Path) -> None:
    document = AnnotatedDocument("Alice left. Bob came.\n", [Annotation(12, 15, "PER")], "in.jsonl:1")
    out = tmp_path / "out.jsonl"
    assert write_annotations(out, [document, AnnotatedDocument("", [], "in.jsonl:2")], "hf") == 2
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"id": "0", "tokens": ["Alice", "left", "."], "ner_tags": [0, 0, 0]},
        {"id": "1", "tokens": ["Bob", "came", "."], "ner_tags": [1, 0, 0]},
    ]
    assert json.loads((tmp_path / "dataset_info.json").read_text()) == {
        "features": features(["O", "B-PER", "I-PER"])
    }
