"""Tagging encoded sentences with any tagger, torch's or an exported one: context packing, length batches."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from nerkit.data.batches import EncodedSentence, Padded, join_sentences, length_groups, pack_sentences, pad
from nerkit.model.spec import ModelSpec

INFERENCE_TOKENS = 16_384  # padded tokens per inference batch: bounds the memory of long sentences


Tagged = tuple[list[list[int]], list[list[float]]]  # best label rows, and the marginal of each label


class BatchTagger(Protocol):
    """What tagging needs of a model: its spec, emission scores for padded arrays (the network, which
    runs without holding the GIL), and the CRF's best label rows (with marginals) from them."""

    @property
    def spec(self) -> ModelSpec:
        """The model's spec."""
        ...

    def network(self, padded: Padded) -> Any:
        """Emission scores [batch, seq, tags] of padded arrays, in the model's own array type."""
        ...

    def decode(self, scores: Any, padded: Padded, confidence: bool = True) -> Tagged:
        """Best label rows per sentence and, with `confidence`, the CRF marginal of each chosen label."""
        ...


def tag_batches(model: BatchTagger, batches: Iterable[Padded], confidence: bool) -> list[Tagged]:
    """Each padded batch tagged, in order, the batches taken from `batches` one ahead of the network.
    With several, the network runs in a worker thread a batch ahead of the CRF: torch and onnxruntime
    release the GIL while they compute, so padding, decoding and whatever else the caller's threads do
    costs no time beside it. At most three batches are held at once."""
    upcoming = iter(batches)
    first, second = next(upcoming, None), next(upcoming, None)
    if first is None:
        return []
    if second is None:
        return [model.decode(model.network(first), first, confidence)]
    results: list[Tagged] = []
    with ThreadPoolExecutor(1, thread_name_prefix="nerkit-network") as worker:
        running: list[tuple[Padded, Future[Any]]] = [(first, worker.submit(model.network, first))]
        following: Padded | None = second
        while running:
            if following is not None:  # queued before waiting: the worker never idles
                running.append((following, worker.submit(model.network, following)))
                following = next(upcoming, None)
            padded, scores = running.pop(0)
            results.append(model.decode(scores.result(), padded, confidence))
    return results


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
    groups_of_units = length_groups(units, batch_size, max_tokens=INFERENCE_TOKENS)
    batches = (pad([units[i] for i in chosen]) for chosen in groups_of_units)
    tagged = tag_batches(model, batches, confidence)
    for chosen, (batch_paths, batch_confidences) in zip(groups_of_units, tagged, strict=True):
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
