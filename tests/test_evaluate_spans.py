"""Tests for nerkit.evaluate's exact character-span scores (score_char_spans, format_char_spans) and score_pairs."""

from __future__ import annotations

import json

import pytest

from nerkit.evaluate import (
    Score,
    format_char_spans,
    format_report,
    score_char_spans,
    score_pairs,
    score_sequences,
)

GOLD = [{(0, 5, "PER"), (10, 15, "LOC")}, {(0, 5, "PER"), (6, 9, "ORG")}]
PRED = [{(0, 5, "PER"), (10, 15, "ORG")}, {(0, 5, "PER"), (6, 10, "ORG"), (20, 25, "LOC")}]


def test_exact_counts_overall_and_per_type():
    score = score_char_spans(GOLD, PRED)
    assert (score.found_gold, score.found_pred, score.correct) == (4, 5, 2)
    assert score.precision == 0.4
    assert score.recall == 0.5
    assert score.f1 == pytest.approx(4 / 9)
    data = score.to_json()
    assert data["per_type"] == {
        "LOC": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "found_pred": 1, "correct": 0},
        "ORG": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "found_pred": 2, "correct": 0},
        "PER": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2, "found_pred": 2, "correct": 2},
    }
    assert {key: data[key] for key in ("found_gold", "found_pred", "correct")} == {
        "found_gold": 4,
        "found_pred": 5,
        "correct": 2,
    }


def test_a_span_counts_in_its_own_document_only_and_repeats_once():
    gold = [[(0, 5, "PER"), (0, 5, "PER")], []]
    pred = [[], [(0, 5, "PER")]]  # the same offsets, but in the other document
    score = score_char_spans(gold, pred)
    assert (score.found_gold, score.found_pred, score.correct) == (1, 1, 0)


def test_a_tokenisation_difference_conlleval_on_tokens_hides():
    # "Smith's car": the gold entity is "Smith" [0, 5); a tokenizer that keeps "Smith's" whole tags it
    # B-PER, and conlleval on those tokens finds the prediction right. By characters it is not.
    tokens = score_sequences([["B-PER", "O"]], [["B-PER", "O"]])
    assert (tokens.correct, tokens.f1) == (1, 1.0)
    spans = score_char_spans([{(0, 5, "PER")}], [{(0, 7, "PER")}])
    assert (spans.found_gold, spans.found_pred, spans.correct, spans.f1) == (1, 1, 0, 0.0)


def test_nothing_to_score_is_zero():
    score = score_char_spans([], [])
    assert (score.precision, score.recall, score.f1, score.per_type) == (0.0, 0.0, 0.0, {})


def test_documents_must_pair_up():
    with pytest.raises(ValueError):
        score_char_spans([set()], [set(), set()])


def test_report_lines():
    assert format_char_spans(score_char_spans(GOLD, PRED)) == (
        "character spans: 4 gold, 5 found, 2 correct; precision:  40.00%; recall:  50.00%; FB1:  44.44\n"
        "              LOC: precision:   0.00%; recall:   0.00%; FB1:   0.00  1\n"
        "              ORG: precision:   0.00%; recall:   0.00%; FB1:   0.00  2\n"
        "              PER: precision: 100.00%; recall: 100.00%; FB1: 100.00  2\n"
    )


def test_json_has_char_spans_only_when_scored():
    score = score_sequences([["B-PER", "O"]], [["B-PER", "O"]])
    assert "char_spans" not in score.to_json()
    score.char_spans = score_char_spans([{(0, 5, "PER")}], [{(0, 5, "PER")}])
    assert score.to_json()["char_spans"]["f1"] == 1.0
    assert format_report(score) == format_report(score_sequences([["B-PER", "O"]], [["B-PER", "O"]]))


def test_score_pairs_is_score_sequences():
    gold = [["B-PER", "I-PER", "O"], ["B-LOC"]]
    pred = [["B-PER", "O", "O"], ["B-LOC"]]
    assert score_pairs(zip(gold, pred, strict=True)) == score_sequences(gold, pred)
    assert isinstance(score_pairs([]), Score)


def test_the_model_reads_span_data_as_predict_does_never_cut_at_gold_edges(
    tiny_pipeline, tmp_path, monkeypatch
):
    from nerkit.pipeline import TaggedTokens

    path = tmp_path / "leak.jsonl"
    lines = [
        {
            "text": "Officials in Britain-led talks met.",
            "entities": [{"start": 13, "end": 20, "label": "LOC"}],
        },
        {"text": "The France-based firm", "entities": [{"start": 4, "end": 10, "label": "LOC"}]},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    seen: list[tuple[str, ...]] = []

    def tag_tokens(sentences, batch_size=512, confidence=True, documents=None):
        seen.extend(tuple(sentence) for sentence in sentences)
        tags = {"Britain-led": "B-LOC", "talks": "I-LOC", "France-based": "B-LOC"}
        return [TaggedTokens([tags.get(word, "O") for word in sentence], []) for sentence in sentences]

    monkeypatch.setattr(tiny_pipeline, "tag_tokens", tag_tokens)
    score = tiny_pipeline.evaluate(path)
    assert seen == [("Officials", "in", "Britain-led", "talks", "met", "."), ("The", "France-based", "firm")]
    assert score.char_spans is not None
    assert (score.char_spans.found_gold, score.char_spans.found_pred, score.char_spans.correct) == (2, 2, 0)
    # laid onto the aligned tokens (Britain | -led): the predicted entity covers both pieces
    assert (score.found_gold, score.found_pred, score.correct) == (2, 2, 0)
