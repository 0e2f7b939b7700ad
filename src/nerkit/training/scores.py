"""A model scored while it trains: conlleval's figures on dev and test, epoch records, and how well its
confidences are calibrated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nerkit.data.batches import EncodedSentence
from nerkit.data.tags import convert_tags
from nerkit.evaluate import Score, score_sequences, tags_calibration
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
    return tags_calibration(label_paths_to_tags(paths, labels, "IOB2"), marginals, to_iob2(dev.tags))
