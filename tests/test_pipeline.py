"""Tests for nerkit.pipeline: loading, raw text to entities with offsets and confidences, tokens to tags,
batching, determinism, and evaluation against conlleval's scorer."""

from __future__ import annotations

from pathlib import Path

import pytest

import nerkit
from nerkit.data.conll import read_conll
from nerkit.data.tags import convert_tags, is_valid_tag, split_tag, tags_to_spans
from nerkit.evaluate import Score, score_file
from nerkit.pipeline import Pipeline, TaggedTokens
from nerkit.text.document import parse_text

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
RAW = (SAMPLES / "raw.txt").read_text(encoding="utf-8").splitlines()
TYPES = ["LOC", "MISC", "ORG", "PER"]


@pytest.fixture(scope="module")
def test_sentences() -> list[list[str]]:
    return [list(sentence.tokens) for sentence in read_conll(SAMPLES / "test.conll")]


@pytest.fixture(scope="module")
def raw_documents(tiny_pipeline):
    return tiny_pipeline.predict_many(RAW)


def test_load_returns_a_pipeline(tiny_model, tiny_pipeline):
    pipeline = nerkit.load(str(tiny_model), threads=1)
    assert isinstance(pipeline, Pipeline)
    assert pipeline.entity_types == TYPES
    assert pipeline.labels == pipeline.spec.labels
    assert pipeline.spec.scheme == "BIOES"
    assert pipeline.spec.output_scheme == "IOB2"
    assert pipeline.meta["format"] == "nerkit-model"
    assert not pipeline.model.training


@pytest.mark.parametrize("text", ["", "   ", "\n\t  \n"])
def test_blank_text_gives_nothing(tiny_pipeline, text):
    document = tiny_pipeline.predict(text)
    assert document.text == text
    assert document.sentences == []
    assert document.entities == []


def test_entities_point_into_their_text(tiny_pipeline, raw_documents):
    assert [document.text for document in raw_documents] == RAW
    assert sum(len(document.entities) for document in raw_documents) > 0  # the tiny model finds some
    for document in raw_documents:
        previous_end = 0
        for entity in document.entities:
            assert document.text[entity.start : entity.end] == entity.text
            assert entity.text == entity.text.strip() and entity.text
            assert entity.confidence is not None and 0 <= entity.confidence <= 1
            assert entity.confidence == round(entity.confidence, 4)
            assert entity.label in tiny_pipeline.entity_types
            assert entity.start >= previous_end  # sorted, never overlapping
            previous_end = entity.end
        for sentence in document.sentences:
            for token in sentence.tokens:
                assert document.text[token.start : token.end] == token.text


def test_entity_confidence_is_the_lowest_token_marginal(tiny_pipeline, raw_documents):
    for document in raw_documents:
        entities = iter(document.entities)
        for sentence in document.sentences:
            tagged = tiny_pipeline.tag_tokens([[t.text for t in sentence.tokens]])[0]
            for span in tags_to_spans(tagged.tags):
                entity = next(entities)
                assert (entity.start, entity.end, entity.label) == (
                    sentence.tokens[span.start].start,
                    sentence.tokens[span.end - 1].end,
                    span.label,
                )
                assert entity.confidence == round(min(tagged.confidences[span.start : span.end]), 4)
        assert next(entities, None) is None


def test_batch_size_does_not_change_results(tiny_pipeline, raw_documents):
    one = tiny_pipeline.predict_many(RAW, batch_size=1)
    assert [d.to_json() for d in one] == [d.to_json() for d in raw_documents]
    assert [d.to_json() for d in tiny_pipeline.predict_many(RAW, batch_size=512)] == [
        d.to_json() for d in raw_documents
    ]


def test_predictions_are_deterministic(tiny_model, tiny_pipeline):
    text = " ".join(RAW)
    first = tiny_pipeline.predict(text).to_json()
    assert tiny_pipeline.predict(text).to_json() == first
    assert nerkit.load(str(tiny_model), threads=1).predict(text).to_json() == first


def test_predict_equals_predict_many_and_tag_documents(tiny_pipeline, raw_documents):
    assert tiny_pipeline.predict(RAW[2]).to_json() == raw_documents[2].to_json()
    documents = [parse_text(text) for text in RAW]
    assert tiny_pipeline.tag_documents(documents) == documents
    assert [d.to_json() for d in documents] == [d.to_json() for d in raw_documents]


def test_tag_tokens_without_confidence(tiny_pipeline, test_sentences):
    with_confidence = tiny_pipeline.tag_tokens(test_sentences)
    without = tiny_pipeline.tag_tokens(test_sentences, confidence=False)
    assert len(with_confidence) == len(without) == len(test_sentences) == 120
    assert [t.tags for t in without] == [t.tags for t in with_confidence]
    assert all(t.confidences == [] for t in without)
    for tokens, tagged in zip(test_sentences, with_confidence, strict=True):
        assert len(tagged.tags) == len(tagged.confidences) == len(tokens)
        assert all(0 <= c <= 1 for c in tagged.confidences)
    assert [t.tags for t in tiny_pipeline.tag_tokens(test_sentences, batch_size=7)] == [
        t.tags for t in without
    ]


def test_token_marginals_never_exceed_one(tiny_pipeline, test_sentences):
    confidences = [c for t in tiny_pipeline.tag_tokens(test_sentences) for c in t.confidences]
    assert max(confidences) <= 1.0
    assert min(confidences) >= 0.0


def test_tag_tokens_of_an_empty_sentence(tiny_pipeline):
    tagged = tiny_pipeline.tag_tokens([[], ["Ada"], []])
    assert tagged[0] == TaggedTokens([], []) == tagged[2]
    assert len(tagged[1].tags) == len(tagged[1].confidences) == 1


def test_tags_are_in_the_training_datas_scheme(tiny_pipeline, test_sentences):
    tagged = tiny_pipeline.tag_tokens(test_sentences, confidence=False)
    found = set()
    for result in tagged:
        previous = "O"
        for tag in result.tags:
            assert is_valid_tag(tag)
            prefix, label = split_tag(tag)
            assert prefix in ("B", "I", "O"), tag  # IOB2, never the model's E-/S-
            if prefix == "I":  # IOB2: an inside tag only continues an entity of its type
                assert previous in (f"B-{label}", f"I-{label}"), (previous, tag)
            if label:
                assert label in TYPES
                found.add(prefix)
            previous = tag
        assert convert_tags(result.tags, "IOB2") == result.tags
    assert "B" in found  # the tiny model does tag entities


def test_evaluate_matches_conlleval_on_the_same_predictions(tiny_pipeline, test_sentences, tmp_path):
    score = tiny_pipeline.evaluate(SAMPLES / "test.conll")
    assert isinstance(score, Score)
    reference_keys = set(score_file(SAMPLES / "dev_predictions.conll").to_json())
    assert set(score.to_json()) == reference_keys
    assert set(score.to_json()["per_label"]) <= set(TYPES)

    gold = [sentence.tags for sentence in read_conll(SAMPLES / "test.conll")]
    predicted = tiny_pipeline.tag_tokens(test_sentences, confidence=False)
    lines = []
    for tokens, tags, result in zip(test_sentences, gold, predicted, strict=True):
        lines += [f"{t} {g} {p}\n" for t, g, p in zip(tokens, tags, result.tags, strict=True)]
        lines.append("\n")
    path = tmp_path / "scored.txt"
    path.write_text("".join(lines), encoding="utf-8")
    assert score.to_json() == score_file(path).to_json()
    assert score.tokens == sum(len(tokens) for tokens in test_sentences) == 1559
    assert score.found_gold == sum(len(tags_to_spans(tags)) for tags in gold)
    assert 0 <= score.f1 <= 1 and score.found_pred > 0
