"""A model scored while it trains: conlleval's figures on dev and test, epoch records, and how well its
confidences are calibrated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nerkit.data.batches import EncodedSentence
from nerkit.data.tags import Span, convert_tags, tags_to_spans
from nerkit.evaluate import Score, expected_calibration_error, score_sequences
from nerkit.model.inference import tag_encoded
from nerkit.model.tagger import Tagger
from nerkit.training.corpus import Corpus
from nerkit.training.options import EpochLog


def to_iob2(tags: Sequence[Sequence[str]]) -> list[list[str]]:
    """Tags rewritten as IOB2, the scheme conlleval's rules read correctly."""
    return [convert_tags(t, "IOB2") for t in tags]


def score_predictions(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> Score:
    """conlleval's figures for predicted against gold tags, both read as IOB2."""
    return score_sequences(to_iob2(gold), to_iob2(predicted))


def score_summary(score: Score) -> dict[str, Any]:
    """Precision, recall, F1 and the per-type figures of a Score, for an epoch log."""
    return {
        "precision": score.precision,
        "recall": score.recall,
        "f1": score.f1,
        "per_label": score.type_scores(),
    }


def label_paths_to_tags(
    paths: Sequence[Sequence[int]], labels: Sequence[str], scheme: str
) -> list[list[str]]:
    """Label rows to tag strings, rewritten from the model's scheme into `scheme`."""
    return [convert_tags([labels[i] for i in path], scheme) for path in paths]


def score_encoded(
    model: Tagger, encoded: Sequence[EncodedSentence], corpus: Corpus, labels: Sequence[str]
) -> Score:
    """conlleval's figures for the model on a split's encoded sentences against its gold tags."""
    paths, _ = tag_encoded(model, encoded, confidence=False, documents=corpus.documents)
    return score_predictions(corpus.tags, label_paths_to_tags(paths, labels, "IOB2"))


def epoch_log(
    epoch: int,
    loss: float,
    learning_rate: float,
    seconds: float,
    tokens: int,
    scores: tuple[Score, Score | None],
    best_f1: float,
) -> EpochLog:
    """An epoch's record from its dev and test scores, marked best when its dev F1 beats `best_f1`."""
    dev, test = scores
    return EpochLog(
        epoch=epoch,
        loss=loss,
        learning_rate=learning_rate,
        seconds=seconds,
        tokens_per_second=tokens / seconds,
        dev=score_summary(dev),
        test=score_summary(test) if test is not None else None,
        best=dev.f1 > best_f1,
    )


def dev_calibration(
    model: Tagger, encoded: Sequence[EncodedSentence], dev: Corpus, labels: Sequence[str]
) -> dict[str, float]:
    """Expected calibration error (10 bins) of token tags and of entities on dev; an entity's confidence
    is its tokens' lowest marginal, and it is right when gold has the same span and type."""
    paths, marginals = tag_encoded(model, encoded, documents=dev.documents)
    predicted = label_paths_to_tags(paths, labels, "IOB2")
    token_conf: list[float] = []
    token_right: list[bool] = []
    entity_conf: list[float] = []
    entity_right: list[bool] = []
    for tags, confidences, gold_tags in zip(predicted, marginals, to_iob2(dev.tags), strict=True):
        token_conf.extend(confidences)
        token_right.extend(p == g for p, g in zip(tags, gold_tags, strict=True))
        gold_spans: set[Span] = set(tags_to_spans(gold_tags))
        for span in tags_to_spans(tags):
            entity_conf.append(min(confidences[span.start : span.end]))
            entity_right.append(span in gold_spans)
    return {
        "token_ece": expected_calibration_error(token_conf, token_right),
        "entity_ece": expected_calibration_error(entity_conf, entity_right),
        "entities": len(entity_conf),
    }
