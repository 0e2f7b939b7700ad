"""Sub-word windows and pooling without torch: tokens to sub-word ids, windows, features back per token."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from nerkit.embeddings import POOLINGS
from nerkit.errors import check_choice

MAX_PIECES = 16  # sub-words kept per token: a 10,000-character "word" must not fill every window


class FeatureReader(Protocol):
    """What a model with transformer features needs to tag: the features of documents' tokens."""

    def features(
        self, documents: Sequence[Sequence[Sequence[str]]], layers: int, pooling: str
    ) -> list[np.ndarray]:
        """Per sentence in order: [tokens, layers, dim] features pooled over each token's sub-words."""
        ...


def group_documents(sentences: Sequence[Sequence[str]], owners: Sequence[int]) -> list[list[Sequence[str]]]:
    """Consecutive sentences with the same owner (document id) as one document each, in order."""
    documents: list[list[Sequence[str]]] = []
    previous = None
    for index, (sentence, owner) in enumerate(zip(sentences, owners, strict=True)):
        if index == 0 or owner != previous:
            documents.append([])
        documents[-1].append(sentence)
        previous = owner
    return documents


def split_subwords(tokenizer: Any, unknown: int, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
    """Per sentence, per token: its sub-word ids from a `tokenizers.Tokenizer` (at most MAX_PIECES; a
    token the tokenizer drops, such as an empty or zero-width one, gets `unknown`, so every token has at
    least one)."""
    nonempty = [i for i, sentence in enumerate(sentences) if sentence]
    if not nonempty:
        return [[] for _ in sentences]
    encodings = tokenizer.encode_batch(
        [list(sentences[i]) for i in nonempty], is_pretokenized=True, add_special_tokens=False
    )
    result: list[list[list[int]]] = [[] for _ in sentences]
    for encoding, i in zip(encodings, nonempty, strict=True):
        pieces: list[list[int]] = [[] for _ in sentences[i]]
        for piece, owner in zip(encoding.ids, encoding.word_ids, strict=True):
            if owner is not None and len(pieces[owner]) < MAX_PIECES:
                pieces[owner].append(piece)
        result[i] = [p or [unknown] for p in pieces]
    return result


def window_spans(length: int, size: int) -> list[tuple[int, int, int, int]]:
    """Overlapping windows over `length` sub-words: (start, end, keep_from, keep_to) each; every position
    is kept from exactly one window, the one where it sits farthest from an edge. Windows step by three
    quarters of their size, so a kept position has at least an eighth of a window of context each side."""
    if length <= size:
        return [(0, length, 0, length)]
    step = max(1, size - size // 4)
    starts = [*range(0, length - size, step), length - size]
    spans = []
    for k, start in enumerate(starts):
        keep_from = 0 if k == 0 else (start + starts[k - 1] + size) // 2
        keep_to = length if k == len(starts) - 1 else (starts[k + 1] + start + size) // 2
        spans.append((start, start + size, keep_from, keep_to))
    return spans


def window_ids(
    windows: Sequence[Sequence[int]], prefix: Sequence[int], suffix: Sequence[int], pad: int
) -> tuple[np.ndarray, np.ndarray]:
    """Input ids and attention mask [windows, special + longest + special] (int64) of sub-word windows,
    each between the model's special sub-words ([CLS] ... [SEP]) and padded with `pad`."""
    full = len(prefix) + max(len(w) for w in windows) + len(suffix)
    ids = np.full((len(windows), full), pad, dtype=np.int64)
    mask = np.zeros((len(windows), full), dtype=np.int64)
    for row, window in enumerate(windows):
        sequence = [*prefix, *window, *suffix]
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1
    return ids, mask


# the hidden states of sub-word windows: [windows, longest window, layers, dim] float32, content only
WindowReader = Callable[[list[Sequence[int]]], np.ndarray]


def pooled_features(
    pieces: Sequence[Sequence[Sequence[int]]],
    documents: Sequence[Sequence[Sequence[str]]],
    read: WindowReader,
    window: int,
    shape: tuple[int, int],
    pooling: str = "first",
    batch_subwords: int = 8192,
    dtype: type = np.float16,
) -> list[np.ndarray]:
    """Features of every token, per sentence in order: [tokens, layers, dim] (`shape`) of `dtype`, the
    hidden states `read` gives pooled over each token's sub-words ("first" or "mean"); `pieces` are the
    sentences' sub-words per token (`split_subwords`), sentence by sentence through `documents`.

    Each document's sentences are read as one sub-word sequence, cut into overlapping windows of at most
    `window` sub-words when longer: nothing is truncated.
    """
    check_choice("pooling", pooling, POOLINGS)
    ranges = _ranges(documents)
    flat = [
        [piece for s in sentence_range for token in pieces[s] for piece in token] for sentence_range in ranges
    ]
    windows = [
        (ids[span[0] : span[1]], document, span)
        for document, ids in enumerate(flat)
        for span in window_spans(len(ids), window)
        if span[1] > span[0]
    ]
    states = [np.zeros((len(ids), *shape), dtype=np.float32) for ids in flat]
    for batch in budget_batches([len(w[0]) for w in windows], batch_subwords):
        hidden = read([windows[i][0] for i in batch])  # [windows, seq, layers, dim]
        for row, i in enumerate(batch):
            _, document, (start, _, keep_from, keep_to) = windows[i]
            states[document][keep_from:keep_to] = hidden[row, keep_from - start : keep_to - start]
    features: list[np.ndarray] = []
    for document, sentence_range in enumerate(ranges):
        counts = np.array([len(token) for s in sentence_range for token in pieces[s]], dtype=np.int64)
        starts = np.cumsum(counts) - counts  # each token's first sub-word in the document
        if pooling == "first":
            pooled = states[document][starts]
        else:
            pooled = np.add.reduceat(states[document], starts, axis=0) / counts[:, None, None]
        pooled = pooled.astype(dtype)  # [document tokens, layers, dim]
        offset = 0
        for s in sentence_range:
            features.append(pooled[offset : offset + len(pieces[s])])
            offset += len(pieces[s])
    return features


def _ranges(documents: Sequence[Sequence[Sequence[str]]]) -> list[range]:
    """The indices of each document's sentences in the flattened sentence list."""
    ranges, start = [], 0
    for document in documents:
        ranges.append(range(start, start + len(document)))
        start += len(document)
    return ranges


def budget_batches(lengths: Sequence[int], budget: int, rng: random.Random | None = None) -> list[list[int]]:
    """Indices grouped by similar length, each group at most `budget` padded items (a longer item alone);
    with `rng` (training) the lengths are jittered before sorting and the groups shuffled."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i] + (rng.uniform(-8, 8) if rng else 0))
    batches: list[list[int]] = []
    current: list[int] = []
    widest = 0
    for i in order:
        width = max(widest, lengths[i])
        if current and (len(current) + 1) * width > budget:
            batches.append(current)
            current, width = [], lengths[i]
        current.append(i)
        widest = width
    if current:
        batches.append(current)
    if rng is not None:
        rng.shuffle(batches)
    return batches
