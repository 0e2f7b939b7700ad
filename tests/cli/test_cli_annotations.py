"""Tests for the commands that read annotated data (stats, convert, evaluate) on every format: exact
counts, round trips, the alignment notes, and one-line errors with exit code 2 for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nerkit.cli import main
from nerkit.data.conll import read_conll
from nerkit.data.formats import read_aligned

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
CONLL = "-DOCSTART- O\n\nMaria B-PER\nVoss I-PER\nvisited O\nHalvery B-LOC\n. O\n\nIt O\nrained O\n\n"
ROWS = [
    {"text": "Maria Voss visited Halvery. It rained.", "entities": [{"start": 0, "end": 10, "label": "PER"}]},
    {"text": "Ann McDonald ran ", "spans": [{"start": 4, "end": 17, "label": "PER"}]},
]


def run(capsys, *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(write, rows=ROWS, name="data.jsonl") -> Path:
    return write("".join(json.dumps(row) + "\n" for row in rows), name=name)


def spans(path: Path, format: str | None = None) -> list[set[tuple[int, int, str]]]:
    return [{(e.start, e.end, e.label) for e in d.entities} for d in read_aligned(path, format)]


# --- stats -------------------------------------------------------------------------------------------------


def test_stats_of_spans_table_json_and_list(capsys, write):
    path = jsonl(write)
    code, out, _ = run(capsys, "stats", path)
    assert code == 0
    assert out.splitlines()[:5] == [
        f"{path} (jsonl)",
        "  documents          2",
        "  sentences          3",
        "  tokens            11",
        "  entities           2",
    ]
    assert out.endswith("  alignment\n    trimmed         1  span edges trimmed of white space\n")
    code, out, _ = run(capsys, "stats", path, "--json", "--alignment")
    data = json.loads(out)
    assert data["entities_by_type"] == {"PER": 2}
    assert data["alignment"]["trimmed"] == 1 and sum(data["alignment"].values()) == 1
    assert data["adjustments"] == [
        {"kind": "trimmed", "place": f"{path}:2", "detail": '[4, 17) PER "McDonald ran " to [4, 16)'}
    ]
    code, out, _ = run(capsys, "stats", path, "--alignment")
    assert out.splitlines()[-1] == f'{path}:2: trimmed: [4, 17) PER "McDonald ran " to [4, 16)'


def test_stats_of_conll_as_before_and_its_alignment_section(capsys, write):
    path = write(CONLL)
    code, before, _ = run(capsys, "stats", path)
    assert code == 0 and "format" not in before and "alignment" not in before
    code, out, _ = run(capsys, "stats", path, "--alignment")
    assert out == before.removesuffix("\n") + "\n  alignment none\n"
    code, out, _ = run(capsys, "stats", path, "--json", "--alignment")
    data = json.loads(out)
    assert data["tokens"] == 7 and data["adjustments"] == [] and set(data["alignment"].values()) == {0}


def test_stats_scheme_is_a_hidden_alias_of_check_scheme(capsys, write):
    path = write("a B-PER\n\nb O\nc I-PER\n")
    _, old, _ = run(capsys, "stats", path, "--scheme")
    _, new, _ = run(capsys, "stats", path, "--check-scheme")
    assert old == new and "  scheme check" in new
    with pytest.raises(SystemExit):
        main(["stats", "--help"])
    shown = capsys.readouterr().out
    assert "--check-scheme" in shown and "--scheme" not in shown.replace("--check-scheme", "")


def test_stats_refuses_check_scheme_of_spans(capsys, write):
    code, out, err = run(capsys, "stats", jsonl(write), "--check-scheme")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "--check-scheme checks the tags of a CoNLL file, and this is jsonl" in err


def test_stats_of_a_brat_folder(capsys, tmp_path):
    folder = tmp_path / "brat"
    folder.mkdir()
    (folder / "a.txt").write_text("Ada met Bob.", encoding="utf-8")
    (folder / "a.ann").write_text("T1\tPER 0 3\tAda\nT2\tPER 8 11\tBob\n", encoding="utf-8")
    code, out, _ = run(capsys, "stats", folder, "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["format"], data["documents"], data["tokens"], data["entities"]) == ("brat", 1, 4, 2)


@pytest.mark.parametrize(
    ("argv", "content", "expected"),
    [
        (["stats"], '{"text": "Ada"}\n{"text": 5\n', "data.jsonl:2: "),
        (
            ["stats"],
            '{"text": "Ada", "entities": [{"start": "x", "end": 3, "label": "P"}]}\n',
            "data.jsonl:1: ",
        ),
        (["stats", "--input-format", "conll"], '{"text": "Ada"}\n', "data.jsonl:1: "),
        (["convert", "-o", "OUT.conll"], '{"text": "Ada"}\n{"text": 5\n', "data.jsonl:2: "),
        (["convert", "-o", "IN"], '{"text": "Ada"}\n', "is also this command's input"),
    ],
)
def test_bad_files_give_one_line_and_exit_code_2(capsys, write, tmp_path, argv, content, expected):
    path = write(content, name="data.jsonl")
    argv = [
        str(path) if arg == "IN" else str(tmp_path / arg) if arg.startswith("OUT") else arg for arg in argv
    ]
    code, out, err = run(capsys, argv[0], path, *argv[1:])
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("nerkit: error: ")
    assert expected in err and "Traceback" not in err
    assert not (tmp_path / "OUT.conll").exists()


def test_a_folder_is_not_a_file_of_another_format(capsys, tmp_path):
    code, _, err = run(capsys, "stats", tmp_path, "--input-format", "jsonl")
    assert code == 2
    assert (
        err == f"nerkit: error: {tmp_path}: a folder, not a jsonl file; give a file, or --input-format brat\n"
    )


# --- convert -----------------------------------------------------------------------------------------------


def test_convert_conll_to_jsonl_and_back_is_the_same_file(capsys, write, tmp_path):
    source = write(CONLL)
    code, _, err = run(capsys, "convert", source, "-o", tmp_path / "out.jsonl")
    assert code == 0
    assert err == f"wrote 1 documents in jsonl to {tmp_path / 'out.jsonl'}\n"
    code, _, err = run(capsys, "convert", tmp_path / "out.jsonl", "-o", tmp_path / "back.conll")
    assert code == 0 and err == f"wrote 1 documents in conll to {tmp_path / 'back.conll'}\n"
    assert (tmp_path / "back.conll").read_text(encoding="utf-8") == CONLL


def test_convert_samples_round_trip(capsys, tmp_path):
    run(capsys, "convert", SAMPLES / "dev.conll", "-o", tmp_path / "dev.jsonl")
    run(capsys, "convert", tmp_path / "dev.jsonl", "-o", tmp_path / "dev.conll")
    assert (tmp_path / "dev.conll").read_bytes() == (SAMPLES / "dev.conll").read_bytes()


def test_convert_jsonl_to_conll_and_back_keeps_the_spans_and_notes_adjustments(capsys, write, tmp_path):
    source = jsonl(write)
    code, _, err = run(capsys, "convert", source, "-o", tmp_path / "out.conll", "--scheme", "bioes")
    assert code == 0
    assert err.splitlines() == [
        f"wrote 2 documents in conll to {tmp_path / 'out.conll'}",
        f"nerkit: note: {source}: 1 trimmed; list them with nerkit stats {source} --alignment",
    ]
    assert (tmp_path / "out.conll").read_text(encoding="utf-8").splitlines()[:4] == [
        "-DOCSTART- O",
        "",
        "Maria B-PER",
        "Voss E-PER",
    ]
    code, _, err = run(capsys, "convert", tmp_path / "out.conll", "-o", tmp_path / "back.jsonl")
    assert code == 0 and "note" not in err
    # the texts differ (CoNLL keeps tokens, not white space), the entities' words do not
    texts = [(d.text, d.entities) for d in read_aligned(tmp_path / "back.jsonl")]
    assert [[text[e.start : e.end] for e in entities] for text, entities in texts] == [
        ["Maria Voss"],
        ["McDonald ran"],
    ]


def test_convert_output_format_from_the_name_or_the_flag(capsys, write, tmp_path):
    source = jsonl(write)
    code, _, err = run(capsys, "convert", source, "-o", f"{tmp_path / 'folder'}/")
    assert code == 0 and err.startswith("wrote 2 documents in brat to ")
    assert spans(tmp_path / "folder") == spans(source)
    code, _, err = run(capsys, "convert", source, "-o", tmp_path / "out.data", "--format", "conll")
    assert err.startswith("wrote 2 documents in conll to ")
    code, _, err = run(capsys, "convert", tmp_path / "folder", "-o", tmp_path / "same.unknown")
    assert err.startswith("wrote 2 documents in brat to ")  # the input's format


def test_convert_to_is_kept_for_conll_schemes(capsys, write, tmp_path):
    code, _, err = run(capsys, "convert", write(CONLL), "--to", "IOB1", "-o", tmp_path / "x.conll")
    assert code == 0 and err == f"wrote 2 sentences in IOB1 to {tmp_path / 'x.conll'}\n"


def test_convert_hint_names_the_input_format(capsys, write, tmp_path):
    source = write(json.dumps(ROWS[1]) + "\n", name="odd.txt")
    code, _, err = run(capsys, "convert", source, "--input-format", "jsonl", "-o", tmp_path / "x.conll")
    assert code == 0
    assert err.splitlines()[1].endswith(f"nerkit stats {source} --input-format jsonl --alignment")


# --- evaluate ----------------------------------------------------------------------------------------------


def test_evaluate_spans_scores_like_the_conll_file(capsys, tiny_model, tmp_path):
    run(capsys, "convert", SAMPLES / "test.conll", "-o", tmp_path / "test.jsonl")
    _, conll, _ = run(capsys, "evaluate", tiny_model, SAMPLES / "test.conll", "--threads", "1")
    code, out, _ = run(capsys, "evaluate", tiny_model, tmp_path / "test.jsonl", "--threads", "1")
    assert code == 0
    assert out.startswith(conll)  # the same tokens, tags and context: conlleval's report is the same
    extra = out.removeprefix(conll).splitlines()
    assert extra[0].startswith("character spans: 188 gold, ")
    code, out, _ = run(capsys, "evaluate", tiny_model, tmp_path / "test.jsonl", "--json", "--threads", "1")
    data = json.loads(out)
    chars = data["char_spans"]
    assert (chars["found_gold"], chars["found_pred"], chars["correct"]) == (
        data["found_gold"],
        data["found_pred"],
        data["correct"],
    )
    assert set(chars["per_type"]) <= {"PER", "LOC", "ORG", "MISC"}


def test_evaluate_conll_has_no_char_spans(capsys, tiny_model, write):
    code, out, _ = run(capsys, "evaluate", tiny_model, write(CONLL), "--json", "--threads", "1")
    assert code == 0 and "char_spans" not in json.loads(out)


def test_evaluate_in_python_on_spans(tiny_pipeline, write):
    path = jsonl(write)
    score = tiny_pipeline.evaluate(path)
    assert score.tokens == 11 and score.found_gold == 2
    assert score.char_spans is not None and score.char_spans.found_gold == 2
    assert tiny_pipeline.evaluate(path, format="jsonl").to_json() == score.to_json()


def test_evaluate_bad_file_is_one_line(capsys, tiny_model, write):
    path = write('{"text": "Ada", "entities": 3}\n', name="bad.jsonl")
    code, out, err = run(capsys, "evaluate", tiny_model, path, "--threads", "1")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith(f"nerkit: error: {path}:1: ")


@pytest.mark.parametrize(
    ("name", "format"), [("dev.jsonl", "jsonl"), ("dev.json", "labelstudio"), ("dev/", "brat")]
)
def test_convert_conll_to_every_span_format_keeps_every_span(capsys, tmp_path, name, format):
    target = f"{tmp_path}/{name}"
    code, _, err = run(capsys, "convert", SAMPLES / "dev.conll", "-o", target)
    assert code == 0 and err == f"wrote 17 documents in {format} to {target}\n"
    assert spans(Path(target)) == spans(SAMPLES / "dev.conll")
    code, _, _ = run(capsys, "convert", target, "-o", tmp_path / "again.jsonl")
    assert code == 0 and spans(tmp_path / "again.jsonl") == spans(SAMPLES / "dev.conll")


def test_convert_conll_to_hugging_face_rows_and_back(capsys, tmp_path):
    rows = tmp_path / "rows.jsonl"
    code, _, err = run(capsys, "convert", SAMPLES / "dev.conll", "-o", rows, "--format", "hf")
    assert code == 0 and err == f"wrote 17 documents in hf to {rows}\n"
    code, _, err = run(capsys, "convert", rows, "-o", tmp_path / "back.conll")
    assert code == 0 and err.startswith("wrote 123 documents in conll")  # a row is a sentence
    back = [(s.tokens, s.tags) for s in read_conll(tmp_path / "back.conll")]
    assert back == [(s.tokens, s.tags) for s in read_conll(SAMPLES / "dev.conll")]


def test_evaluate_a_label_studio_export(capsys, tiny_model, tmp_path):
    run(capsys, "convert", SAMPLES / "test.conll", "-o", tmp_path / "test.json")
    code, out, _ = run(capsys, "evaluate", tiny_model, tmp_path / "test.json", "--json", "--threads", "1")
    assert code == 0
    data = json.loads(out)
    assert data["found_gold"] == data["char_spans"]["found_gold"] == 188


def test_convert_to_standard_output_is_refused_in_one_line(tmp_path, capsys):
    from nerkit.cli import main

    source = tmp_path / "a.conll"
    source.write_text("Alice B-PER\n")
    assert main(["convert", str(source), "-o", "-"]) == 2
    assert capsys.readouterr().err == (
        "nerkit: error: convert writes a file, not standard output; name the file with -o FILE\n"
    )
    assert not (tmp_path / "-").exists()
