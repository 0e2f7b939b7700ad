"""Tests for nerkit.model.inference: batches tagged in order, the network a batch ahead in a worker."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from nerkit.data.batches import Padded
from nerkit.model.inference import tag_batches


def padded(number: int) -> Padded:
    """A one-sentence batch whose single word id is `number`."""
    ids = np.array([[number]], dtype=np.int64)
    return Padded(ids, ids[:, :, None], ids, np.ones((1, 1), dtype=bool), None)


class Recorder:
    """A stand-in tagger: its label is the word id; it records which thread ran what, and how many
    batches were alive (made, not yet decoded) at each network call."""

    spec = None

    def __init__(self, fail_at: int | None = None) -> None:
        self.threads: list[str] = []
        self.made = 0
        self.decoded = 0
        self.alive: list[int] = []
        self.fail_at = fail_at

    def batches(self, count: int) -> Iterator[Padded]:
        for number in range(count):
            self.made += 1
            yield padded(number)

    def network(self, batch: Padded) -> np.ndarray:
        self.threads.append(threading.current_thread().name)
        self.alive.append(self.made - self.decoded)
        if int(batch.words[0, 0]) == self.fail_at:
            raise ValueError("the network failed")
        return batch.words

    def decode(self, scores: np.ndarray, batch: Padded, confidence: bool = True):
        self.decoded += 1
        return [[int(scores[0, 0])]], [[0.5] if confidence else []]


def test_batches_come_back_in_order_with_the_network_in_a_worker():
    recorder = Recorder()
    tagged = tag_batches(recorder, recorder.batches(6), confidence=True)
    assert [paths for paths, _ in tagged] == [[[n]] for n in range(6)]
    assert all(name.startswith("nerkit-network") for name in recorder.threads)
    assert max(recorder.alive) <= 3


def test_one_batch_is_tagged_in_the_calling_thread():
    recorder = Recorder()
    assert tag_batches(recorder, recorder.batches(1), confidence=False) == [([[0]], [[]])]
    assert recorder.threads == [threading.current_thread().name]
    assert tag_batches(recorder, iter([]), confidence=True) == []


def test_a_network_error_reaches_the_caller():
    recorder = Recorder(fail_at=2)
    with pytest.raises(ValueError, match="the network failed"):
        tag_batches(recorder, recorder.batches(5), confidence=True)
