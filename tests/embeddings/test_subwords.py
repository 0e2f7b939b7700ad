"""Tests for nerkit.embeddings.subwords: windows, padded window ids, pooling and batching, without torch."""

from __future__ import annotations

import numpy as np
import pytest

from nerkit.embeddings.subwords import budget_batches, pooled_features, window_ids, window_spans


def test_window_spans_exact():
    assert window_spans(0, 16) == [(0, 0, 0, 0)]
    assert window_spans(10, 16) == [(0, 10, 0, 10)]
    assert window_spans(40, 16) == [(0, 16, 0, 14), (12, 28, 14, 26), (24, 40, 26, 40)]


@pytest.mark.parametrize("size", [2, 3, 8, 9, 62])
def test_window_spans_keep_every_position_once(size):
    for length in range(0, 200, 7):
        spans = window_spans(length, size)
        kept = [p for _, _, keep_from, keep_to in spans for p in range(keep_from, keep_to)]
        assert kept == list(range(length))
        for start, end, keep_from, keep_to in spans:
            assert 0 <= start <= keep_from <= keep_to <= end <= max(length, 0)
            assert end - start <= size


def test_window_ids_put_specials_around_and_pad():
    ids, mask = window_ids([[7, 8, 9], [5]], prefix=[2], suffix=[3], pad=0)
    assert ids.tolist() == [[2, 7, 8, 9, 3], [2, 5, 3, 0, 0]]
    assert mask.tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]
    assert ids.dtype == mask.dtype == np.int64


def position_reader(windows):
    """A stand-in transformer: each sub-word's state is its id, in both layers and every dimension."""
    width = max(len(w) for w in windows)
    hidden = np.zeros((len(windows), width, 2, 3), dtype=np.float32)
    for row, window in enumerate(windows):
        hidden[row, : len(window)] = np.asarray(window, dtype=np.float32)[:, None, None]
    return hidden


def test_pooling_first_and_mean_per_token():
    pieces = [[[10, 11], [12]], [[13, 14, 15]]]  # two sentences: tokens of 2 + 1 and 3 sub-words
    documents = [[["a", "b"], ["c"]]]  # one document holding both
    first = pooled_features(pieces, documents, position_reader, 62, (2, 3), "first")
    mean = pooled_features(pieces, documents, position_reader, 62, (2, 3), "mean")
    assert [f[:, 0, 0].tolist() for f in first] == [[10, 12], [13]]
    assert [f[:, 1, 2].tolist() for f in mean] == [[10.5, 12], [14]]
    assert first[0].shape == (2, 2, 3) and first[0].dtype == np.float16


def test_pooling_through_windows_reads_every_sub_word_from_one_window():
    pieces = [[[i] for i in range(1, 41)]]  # 40 one-sub-word tokens, windows of 16
    features = pooled_features(pieces, [[["w"] * 40]], position_reader, 16, (2, 3), "first")
    assert features[0][:, 0, 0].tolist() == list(range(1, 41))


def test_budget_batches_exact():
    assert budget_batches([3, 1, 2, 10], 4) == [[1, 2], [0], [3]]
    assert budget_batches([], 4) == []
