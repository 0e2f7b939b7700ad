"""Tagging encoded sentences with any tagger, torch's or an exported one: context packing, length batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from nerkit.data.batches import EncodedSentence, Padded, join_sentences, length_groups, pack_sentences, pad
from nerkit.model.spec import ModelSpec

INFERENCE_TOKENS = 16_384  # padded tokens per inference batch: bounds the memory of long sentences


class BatchTagger(Protocol):
    """What tagging needs of a model: its spec, and best label rows (with marginals) for padded arrays."""

    @property
    def spec(self) -> ModelSpec:
        """The model's spec."""
        ...

    def tag_padded(
        self, padded: Padded, confidence: bool = True
    ) -> tuple[list[list[int]], list[list[float]]]:
        """Best label rows per sentence and, with `confidence`, the CRF marginal of each chosen label."""
        ...


def tag_encoded(
    model: BatchTagger,
    encoded: Sequence[EncodedSentence],
    batch_size: int = 512,
    confidence: bool = True,
    documents: Sequence[int] | None = None,
) -> tuple[list[list[int]], list[list[float]]]:
    """Best label rows (and, with `confidence`, their marginals) for encoded sentences, in input order.

    When the model reads sentences in context (`spec.context_tokens`) and `documents` gives each
    sentence's document, neighbouring sentences of a document are tagged together, as in training.
    """
    groups = [[i] for i in range(len(encoded))]
    units = list(encoded)
    if model.spec.context_tokens and documents is not None:
        groups = pack_sentences([len(s) for s in encoded], documents, model.spec.context_tokens)
        units = [join_sentences([encoded[i] for i in group]) for group in groups]
    unit_paths: list[list[int]] = [[] for _ in units]
    unit_confidences: list[list[float]] = [[] for _ in units]
    for chosen in length_groups(units, batch_size, max_tokens=INFERENCE_TOKENS):
        batch_paths, batch_confidences = model.tag_padded(pad([units[i] for i in chosen]), confidence)
        for row, index in enumerate(chosen):
            unit_paths[index] = batch_paths[row]
            unit_confidences[index] = batch_confidences[row]
    paths: list[list[int]] = [[] for _ in encoded]
    confidences: list[list[float]] = [[] for _ in encoded]
    for group, path, marginals in zip(groups, unit_paths, unit_confidences, strict=True):
        start = 0
        for index in group:
            end = start + len(encoded[index])
            paths[index] = path[start:end]
            confidences[index] = marginals[start:end]
            start = end
    return paths, confidences
