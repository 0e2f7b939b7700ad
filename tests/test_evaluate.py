"""Tests for nerkit.evaluate: conlleval.pl's figures to the digit, its quirks, the JSON form, bad input."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from nerkit.data.tags import spans_to_tags, tags_to_spans
from nerkit.errors import NerkitError
from nerkit.evaluate import format_report, score_file, score_sequences, tags_calibration

FIXTURES = Path(__file__).parent / "fixtures" / "conlleval"
CASES = sorted(FIXTURES.glob("*.txt"))


def test_there_are_reference_cases():
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_report_equals_conlleval_pl(case):
    """Each .expected file is what conlleval.pl printed for the .txt beside it."""
    expected = case.with_suffix(".expected").read_text(encoding="utf-8")
    assert format_report(score_file(case)) == expected


def test_report_layout_and_counts(write):
    path = write(
        "-DOCSTART- -X- O O\n\n"
        "Maria NNP B-PER B-PER\nVoss NNP I-PER I-PER\nin IN O O\nPort NNP B-LOC B-ORG\nHalvery NNP I-LOC I-ORG\n\n"
        "Acme NNP B-ORG O\nrose VBD O O\n",
    )
    score = score_file(path)
    assert (score.tokens, score.found_gold, score.found_pred, score.correct) == (8, 3, 2, 1)
    assert score.correct_tags == 5  # the -DOCSTART- line counts as a correct token, as in conlleval
    assert format_report(score) == (
        "processed 8 tokens with 3 phrases; found: 2 phrases; correct: 1.\n"
        "accuracy:  62.50%; precision:  50.00%; recall:  33.33%; FB1:  40.00\n"
        "              LOC: precision:   0.00%; recall:   0.00%; FB1:   0.00  0\n"
        "              ORG: precision:   0.00%; recall:   0.00%; FB1:   0.00  1\n"
        "              PER: precision: 100.00%; recall: 100.00%; FB1: 100.00  1\n"
    )


def test_json_form(write):
    path = write("a B-PER B-PER\nb O B-LOC\nc B-LOC B-LOC\nd I-LOC O\n")
    data = score_file(path).to_json()
    assert data["found_gold"] == 2 and data["found_pred"] == 3 and data["correct"] == 1
    assert data["precision"] == pytest.approx(1 / 3)
    assert data["recall"] == pytest.approx(1 / 2)
    assert data["f1"] == pytest.approx(0.4)
    assert data["accuracy"] == pytest.approx(2 / 4)
    assert data["per_label"] == {
        "LOC": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "found_pred": 2, "correct": 0},
        "PER": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1, "found_pred": 1, "correct": 1},
    }
    assert data["macro_f1"] == pytest.approx(0.5)


def test_ill_formed_predictions_follow_conlleval(write):
    # I- opens a chunk after O or another type, and "a b" is still a correct PER; as in conlleval.
    path = write("a B-PER I-PER\nb I-PER I-PER\nc O I-LOC\nd B-ORG I-ORG\ne I-ORG I-PER\n")
    score = score_file(path)
    assert (score.found_gold, score.found_pred, score.correct) == (2, 4, 1)
    assert not score.uses_end_tags


def test_conlleval_reads_bioes_literally(write):
    # conlleval has no rule for S-: two S-PER in a row are read as one chunk. We match it, and flag it.
    score = score_file(write("a S-PER S-PER\nb S-PER S-PER\n"))
    assert (score.found_gold, score.found_pred, score.correct) == (1, 1, 1)
    assert score.uses_end_tags


def test_tab_separated_and_bare_docstart(write):
    score = score_file(write("-DOCSTART-\n\na\tB-PER\tB-PER\n\nb\tO\tO\n"))
    assert (score.tokens, score.correct) == (2, 1)


def test_score_sequences_matches_the_file_form(write):
    rng = random.Random(3)
    labels = ["PER", "LOC", "creative-work"]
    choices = ["O", "O", "O"] + [f"{p}-{t}" for p in "BI" for t in labels]
    gold = [[rng.choice(choices) for _ in range(rng.randint(1, 9))] for _ in range(200)]
    pred = [[rng.choice(choices) for _ in tags] for tags in gold]
    lines = []
    for gold_tags, pred_tags in zip(gold, pred, strict=True):
        lines += [f"w {g} {p}" for g, p in zip(gold_tags, pred_tags, strict=True)] + [""]
    from_file = format_report(score_file(write("\n".join(lines) + "\n")))
    assert format_report(score_sequences(gold, pred)) == from_file


def test_agrees_with_seqeval_on_iob2():
    """seqeval's default mode chunks as conlleval does; on IOB2 input the per-type counts agree."""
    pytest.importorskip("seqeval")
    rng = random.Random(11)
    labels = ["PER", "LOC", "ORG"]
    choices = ["O"] * 4 + [f"{p}-{t}" for p in "BI" for t in labels]
    gold, pred = [], []
    for _ in range(300):
        length = rng.randint(1, 10)
        gold.append(spans_to_tags(tags_to_spans([rng.choice(choices) for _ in range(length)]), length))
        pred.append([rng.choice(choices) for _ in range(length)])
    ours = score_sequences(gold, pred)
    true_sum, pred_sum, tp_sum = _seqeval_counts(gold, pred)
    for label in labels:
        counts = ours.per_type[label]
        assert (counts.found_gold, counts.found_pred, counts.correct) == (
            true_sum[label],
            pred_sum[label],
            tp_sum[label],
        )


def _seqeval_counts(gold, pred):
    from seqeval.metrics.sequence_labeling import get_entities

    true_sum, pred_sum, tp_sum = {}, {}, {}
    for gold_tags, pred_tags in zip(gold, pred, strict=True):
        true_entities = set(get_entities(list(gold_tags)))
        pred_entities = set(get_entities(list(pred_tags)))
        for label, *_ in true_entities:
            true_sum[label] = true_sum.get(label, 0) + 1
        for label, *_ in pred_entities:
            pred_sum[label] = pred_sum.get(label, 0) + 1
        for label, *_ in true_entities & pred_entities:
            tp_sum[label] = tp_sum.get(label, 0) + 1
    return true_sum, pred_sum, tp_sum


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a B-PER B-PER\nb O\n", ":2: 2 columns, but the first token line (line 1) has 3; every token line"),
        ("a B-PER\n", ":1: 2 columns; conlleval's format needs at least three"),
        ("a O X-PER\n", ":1: invalid predicted tag 'X-PER'; tags are O, or B-, I-, E- or S-"),
        ("a B- O\n", ":1: invalid gold tag 'B-'"),
        ("", ": the file is empty"),
        ("\n\n", ": the file is empty"),
        ("-X- O O\n\n", ": the file has no tokens"),
        (b"a O O\nb\xff O O\n", ":2: byte 0xff at column 2 is not UTF-8"),
    ],
)
def test_bad_input(write, content, message):
    path = write(content)
    with pytest.raises(NerkitError) as caught:
        score_file(path)
    assert str(caught.value).startswith(str(path) + message)


def test_unequal_sentence_lengths_are_refused():
    with pytest.raises(ValueError, match="sentence 0: 2 gold tags but 1 predicted"):
        score_sequences([["O", "O"]], [["O"]])


def test_a_type_spelt_zero_is_no_type_as_in_perl(write):
    score = score_file(write("a B-0 B-0\nb O O\n"))
    assert (score.found_gold, score.found_pred, score.correct) == (1, 1, 1)
    assert list(score.per_type) == [""]


def test_tags_calibration_of_tokens_and_entities():
    predicted = [["B-PER", "I-PER", "O"], ["B-LOC"]]
    confidences = [[0.9, 0.6, 0.95], [0.7]]
    gold = [["B-PER", "I-PER", "O"], ["B-ORG"]]
    found = tags_calibration(predicted, confidences, gold)
    # tokens: bin 9 holds 0.9 and 0.95, both right (|2 - 1.85|); bin 6 0.6 right; bin 7 0.7 wrong
    assert found["token_ece"] == pytest.approx((0.15 + 0.4 + 0.7) / 4)
    # entities: PER's confidence is its lowest token's, 0.6, right; LOC at 0.7 is wrong (gold says ORG)
    assert found["entity_ece"] == pytest.approx((0.4 + 0.7) / 2)
    assert found["entities"] == 2
    assert tags_calibration([], [], []) == {"token_ece": 0.0, "entity_ece": 0.0, "entities": 0}


def test_tags_calibration_refuses_unequal_lengths():
    with pytest.raises(ValueError):
        tags_calibration([["O"]], [[0.9], [0.8]], [["O"]])
    with pytest.raises(ValueError):
        tags_calibration([["O", "O"]], [[0.9, 0.8]], [["O"]])
