"""Tests for nerkit.runtime.crf: brute force on tiny inputs, the torch CRF on random batches, no torch import."""

from __future__ import annotations

import itertools
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from nerkit.data.tags import allowed_transitions
from nerkit.model import crf as torch_crf
from nerkit.runtime.crf import FORBIDDEN, chosen_confidences, constrained_scores, marginals, viterbi

BIOES = ["O"] + [f"{prefix}-{label}" for label in ("PER", "LOC", "ORG", "MISC") for prefix in "BIES"]


def _torch_crf(tags: list[str], seed: int) -> torch_crf.CRF:
    """A float32 CRF held to BIOES, with standard-normal parameters."""
    allowed, start, end = (torch.tensor(mask) for mask in allowed_transitions(tags, "BIOES"))
    crf = torch_crf.CRF(len(tags), allowed, start, end)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    return crf


def _scores(crf: torch_crf.CRF) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with torch.no_grad():
        return tuple(score.numpy() for score in crf.scores())  # type: ignore[return-value]


def _padded(rng: np.random.Generator, lengths: list[int], num_tags: int) -> np.ndarray:
    """Standard-normal float32 emissions [batch, max length, tags], padding filled with noise too."""
    return rng.standard_normal((len(lengths), max(lengths), num_tags)).astype(np.float32)


def _torch_results(
    crf: torch_crf.CRF, emissions: np.ndarray, lengths: np.ndarray
) -> tuple[list[list[int]], np.ndarray]:
    mask = torch.arange(emissions.shape[1])[None, :] < torch.from_numpy(lengths)[:, None]
    with torch.no_grad():
        tensor = torch.from_numpy(emissions)
        return crf.decode(tensor, mask), crf.marginals(tensor, mask).numpy()


def test_forbidden_is_the_torch_crf_s():
    assert FORBIDDEN == torch_crf.FORBIDDEN


def test_constrained_scores_are_the_torch_crf_s_bit_for_bit():
    crf = _torch_crf(BIOES, seed=0)
    with torch.no_grad():
        raw = (crf.transitions.numpy(), crf.start.numpy(), crf.end.numpy())
        masks = (crf.allowed.numpy(), crf.allowed_start.numpy(), crf.allowed_end.numpy())
    ours = constrained_scores(*raw, *masks)
    for mine, theirs in zip(ours, _scores(crf), strict=True):
        assert mine.dtype == np.float32
        assert np.array_equal(mine, theirs)
    assert ours[0][0, BIOES.index("I-PER")] == np.float32(FORBIDDEN)  # O -> I-PER is ill-formed


def _brute_force(
    emissions: np.ndarray, transitions: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[tuple[int, ...], np.ndarray]:
    """The best path of one sentence [length, tags] and its marginals, enumerating every path in float64."""
    length, num_tags = emissions.shape
    paths = list(itertools.product(range(num_tags), repeat=length))
    scores = np.array(
        [
            float(start[path[0]])
            + float(end[path[-1]])
            + sum(float(emissions[t, k]) for t, k in enumerate(path))
            + sum(float(transitions[a, b]) for a, b in itertools.pairwise(path))
            for path in paths
        ]
    )
    probabilities = np.exp(scores - scores.max())
    probabilities /= probabilities.sum()
    expected = np.zeros((length, num_tags))
    for path, p in zip(paths, probabilities, strict=True):
        expected[np.arange(length), path] += p
    return paths[int(scores.argmax())], expected


@pytest.mark.parametrize("num_tags", [2, 3, 4])
@pytest.mark.parametrize("constrained", [False, True])
def test_viterbi_and_marginals_match_brute_force(num_tags, constrained):
    rng = np.random.default_rng(10 * num_tags + constrained)
    raw = [rng.standard_normal(shape).astype(np.float32) for shape in ((num_tags,) * 2, num_tags, num_tags)]
    allowed = rng.random((num_tags, num_tags)) > 0.3 if constrained else np.ones((num_tags,) * 2, bool)
    allowed[:, 0] = True  # tag 0 is always reachable, so every length has an allowed path
    allowed_start, allowed_end = np.ones(num_tags, bool), np.ones(num_tags, bool)
    allowed_start[1] = allowed_end[-1] = not constrained
    transitions, start, end = constrained_scores(*raw, allowed, allowed_start, allowed_end)
    lengths = np.array([4, 1, 3, 2])
    emissions = _padded(rng, lengths.tolist(), num_tags)
    paths = viterbi(emissions, lengths, transitions, start, end)
    probabilities = marginals(emissions, lengths, transitions, start, end)
    assert probabilities.dtype == np.float32
    for row, length in enumerate(lengths):
        best, expected = _brute_force(emissions[row, :length], transitions, start, end)
        assert paths[row] == list(best)
        assert np.abs(probabilities[row, :length] - expected).max() < 1e-5
        assert not probabilities[row, length:].any()


@pytest.mark.parametrize("seed", range(5))
def test_paths_and_marginals_match_the_torch_crf(seed):
    rng = np.random.default_rng(seed)
    crf = _torch_crf(BIOES, seed)
    lengths = rng.integers(1, 13, size=24)
    emissions = _padded(rng, lengths.tolist(), len(BIOES))
    torch_paths, torch_marginals = _torch_results(crf, emissions, lengths)
    scores = _scores(crf)
    paths = viterbi(emissions, lengths, *scores)
    probabilities = marginals(emissions, lengths, *scores)
    assert paths == torch_paths
    assert probabilities.dtype == np.float32
    assert np.abs(probabilities - torch_marginals).max() < 1e-5
    assert not probabilities[np.arange(lengths.max())[None, :] >= lengths[:, None]].any()
    confidences = chosen_confidences(paths, probabilities, lengths)
    assert [len(row) for row in confidences] == lengths.tolist()
    for row, (path, values) in enumerate(zip(paths, confidences, strict=True)):
        assert all(type(value) is float for value in values)
        assert values == [float(probabilities[row, t, k]) for t, k in enumerate(path)]
        assert np.allclose(values, torch_marginals[row, np.arange(len(path)), path], rtol=0, atol=1e-5)


def test_ties_break_as_in_torch():
    """Integer scores make many paths equally good: both keep the first maximal tag at every step."""
    rng = np.random.default_rng(7)
    crf = _torch_crf(BIOES, seed=7)
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.copy_(torch.from_numpy(rng.integers(0, 2, parameter.shape).astype(np.float32)))
    lengths = rng.integers(1, 9, size=32)
    emissions = rng.integers(0, 2, (32, lengths.max(), len(BIOES))).astype(np.float32)
    torch_paths, _ = _torch_results(crf, emissions, lengths)
    assert viterbi(emissions, lengths, *_scores(crf)) == torch_paths
    flat = np.zeros(2, np.float32)  # every score zero: every path ties, and the first tag wins
    paths = viterbi(
        np.zeros((3, 5, 2), np.float32), np.array([5, 2, 1]), np.zeros((2, 2), np.float32), flat, flat
    )
    assert paths == [[0] * 5, [0] * 2, [0]]


def test_an_unreachable_tag_scores_minus_infinity_quietly_as_in_torch():
    """O far ahead at the first token leaves I-PER, E-PER after it with every predecessor at weight 0."""
    tags = ["O", "B-PER", "I-PER", "E-PER", "S-PER"]
    crf = _torch_crf(tags, seed=3)
    emissions = np.zeros((1, 4, len(tags)), np.float32)
    emissions[0, 0, 0] = 200.0
    lengths = np.array([4])
    torch_paths, torch_marginals = _torch_results(crf, emissions, lengths)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        probabilities = marginals(emissions, lengths, *_scores(crf))
        assert viterbi(emissions, lengths, *_scores(crf)) == torch_paths
    assert np.isfinite(probabilities).all()
    assert np.abs(probabilities - torch_marginals).max() < 1e-5


def test_a_sentence_s_results_do_not_depend_on_its_batch():
    rng = np.random.default_rng(11)
    crf = _torch_crf(BIOES, seed=11)
    scores = _scores(crf)
    lengths = rng.integers(1, 30, size=60)
    emissions = _padded(rng, lengths.tolist(), len(BIOES))
    together = marginals(emissions, lengths, *scores)
    together_paths = viterbi(emissions, lengths, *scores)
    for begin, stop in ((0, 1), (5, 6), (0, 7), (20, 60)):
        part = lengths[begin:stop]
        width = part.max()  # as a batch of its own would be padded
        alone = marginals(emissions[begin:stop, :width], part, *scores)
        assert np.array_equal(together[begin:stop, :width], alone)  # bit for bit
        assert viterbi(emissions[begin:stop, :width], part, *scores) == together_paths[begin:stop]


def test_importing_it_does_not_import_torch():
    code = "import sys; sys.modules['torch'] = None; import nerkit.runtime.crf"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
