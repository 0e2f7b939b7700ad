"""The report's sentences: one tagging pass gives evaluate's score, the gold and predict's entities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nerkit.data.conll import read_conll
from nerkit.data.formats import read_aligned
from nerkit.data.tags import convert_tags, tags_to_spans
from nerkit.errors import NerkitError
from nerkit.report.collect import collect, token_offsets
from nerkit.report.sentences import Mention, ReportSentence

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"


def test_token_offsets_are_spans_of_the_tokens_joined_by_spaces():
    assert token_offsets(["EU", "rejects", "German"]) == [(0, 2), (3, 10), (11, 17)]
    assert token_offsets([]) == []


def test_a_conll_file_gives_evaluates_score_and_its_sentences(tiny_pipeline):
    path = SAMPLES / "dev.conll"
    collected = collect(tiny_pipeline, path)
    assert collected.format == "conll"
    assert collected.score.to_json() == tiny_pipeline.evaluate(path).to_json()
    sentences = list(read_conll(path))
    assert len(collected.sentences) == len(sentences)
    assert collected.tokens == sum(len(s.tokens) for s in sentences)
    tagged = tiny_pipeline.tag_tokens([s.tokens for s in sentences])
    for found, sentence, result in zip(collected.sentences, sentences, tagged, strict=True):
        assert found.text == " ".join(sentence.tokens)
        assert found.place == f"{path}:{sentence.line}"
        assert [found.text[a:b] for a, b in found.tokens] == list(sentence.tokens)
        gold = tags_to_spans(convert_tags(sentence.tags, "IOB2"))
        assert [(m.label, found.text[m.start : m.end]) for m in found.gold] == [
            (s.label, " ".join(sentence.tokens[s.start : s.end])) for s in gold
        ]
        assert all(m.confidence is None for m in found.gold)
        assert [(m.label, found.text[m.start : m.end]) for m in found.predicted] == [
            (s.label, " ".join(sentence.tokens[s.start : s.end])) for s in tags_to_spans(result.tags)
        ]
        assert found.token_confidences == pytest.approx(result.confidences)
        for mention in found.predicted:
            first = next(i for i, (a, _) in enumerate(found.tokens) if a == mention.start)
            last = next(i for i, (_, b) in enumerate(found.tokens) if b == mention.end)
            assert mention.confidence == round(min(result.confidences[first : last + 1]), 4)


def test_a_span_file_gives_evaluates_score_and_predicts_entities(tiny_pipeline):
    path = SAMPLES / "annotated.jsonl"
    collected = collect(tiny_pipeline, path)
    assert collected.format == "jsonl"
    assert collected.score.to_json() == tiny_pipeline.evaluate(path).to_json()
    documents = [document for document in read_aligned(path) if document.source.annotated]
    gold = sorted((d.text[e.start : e.end], e.label) for d in documents for e in d.entities)
    assert sorted((s.text[m.start : m.end], m.label) for s in collected.sentences for m in s.gold) == gold
    predicted = sorted(
        (e.text, e.label, e.confidence) for d in documents for e in tiny_pipeline.predict(d.text).entities
    )
    found = sorted(
        (s.text[m.start : m.end], m.label, m.confidence) for s in collected.sentences for m in s.predicted
    )
    assert found == predicted


def test_sentences_an_entity_runs_across_are_joined(tiny_pipeline, write):
    text = "He met Dr. John. Smith left Paris. It rained."
    start = text.index("John")
    span = {"start": start, "end": text.index(" left"), "label": "PER"}
    path = write(json.dumps({"text": text, "spans": [span]}) + "\n", "one.jsonl")
    sentences = collect(tiny_pipeline, path).sentences
    assert [s.text for s in sentences] == ["He met Dr. John. Smith left Paris.", "It rained."]
    assert [(m.start, m.end, m.label) for m in sentences[0].gold] == [(start, span["end"], "PER")]
    assert sentences[1].gold == []
    assert sentences[1].place.endswith("sentence 3")
    assert [sentences[1].text[a:b] for a, b in sentences[1].tokens] == ["It", "rained", "."]


def test_outside_confidence_is_the_least_sure_O_token_there_or_none_under_an_entity():
    sentence = ReportSentence(
        text="Ann saw Bob",
        gold=[],
        predicted=[Mention(0, 3, "PER", 0.9)],
        tokens=[(0, 3), (4, 7), (8, 11)],
        token_confidences=[0.9, 0.8, 0.6],
    )
    assert sentence.outside_confidence(4, 11) == 0.6
    assert sentence.outside_confidence(4, 7) == 0.8
    assert sentence.outside_confidence(0, 7) is None  # the model put an entity there
    assert sentence.outside_confidence(3, 4) is None  # no token there
    sentence.token_confidences[2] = 0.98263543844
    assert sentence.outside_confidence(8, 11) == 0.9826  # 4 places, as entity_confidence rounds


@pytest.mark.parametrize(
    ("content", "name"),
    [
        ('[{"data": {"text": "Ann saw Bob."}}]', "tasks.json"),  # Label Studio tasks nobody annotated
        ("[]", "empty.json"),
        ("\n\n", "blank.jsonl"),
    ],
)
def test_span_data_with_nothing_annotated_is_refused(tiny_pipeline, write, content, name):
    path = write(content, name)
    with pytest.raises(NerkitError) as raised:
        collect(tiny_pipeline, path)
    assert str(raised.value).startswith(f"{path}: ")
