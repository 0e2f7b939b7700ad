"""The CRF's inference in numpy, op for op as nerkit.model.crf.CRF: constrained scores, Viterbi, marginals.

Everything is computed in the inputs' dtype, float32 for an exported model, as torch does. Viterbi only
adds and compares, so its scores are the same bits as torch's and its paths are torch's, ties included.
The marginals also take exp, log and sums, whose float32 roundings differ between numpy's kernels and
torch's by an ulp here and there; everything else rounds as in torch, so the two stay closer than a
float64 computation would: a float64 result is nearly exact, and differs from torch's by all of torch's own
float32 error (measured: at most 1.8e-5 against 1.1e-5 on up to 40 standard-normal tokens). That error grows with the
size of the log-scores (long sentences, large emissions), since it is a few ulps of them.
"""

from __future__ import annotations

import numpy as np

FORBIDDEN = -10_000.0  # score of a transition the tag scheme does not allow, as in nerkit.model.crf


def constrained_scores(
    transitions: np.ndarray,  # [tags, tags]
    start: np.ndarray,  # [tags]
    end: np.ndarray,  # [tags]
    allowed: np.ndarray,  # [tags, tags] bool: may tag j follow tag i?
    allowed_start: np.ndarray,  # [tags] bool
    allowed_end: np.ndarray,  # [tags] bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Transition, start and end scores with the moves the tag scheme forbids set to FORBIDDEN."""
    forbidden = np.asarray(FORBIDDEN, dtype=transitions.dtype)
    return (
        np.where(allowed, transitions, forbidden),
        np.where(allowed_start, start, forbidden),
        np.where(allowed_end, end, forbidden),
    )


def viterbi(
    emissions: np.ndarray,  # [batch, seq, tags]
    lengths: np.ndarray,  # [batch] int, each >= 1
    transitions: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> list[list[int]]:
    """The best tag sequence of each sentence, as lists of the sentence's length (CRF.decode's)."""
    batch, length, tags = emissions.shape
    live = _mask(lengths, length)
    # past the end, every tag points at itself so that backtracking passes through unchanged
    identity = np.broadcast_to(np.arange(tags), (batch, tags))
    score = start + emissions[:, 0]
    history = []
    for t in range(1, length):
        candidates = score[:, :, None] + transitions  # [batch, previous tag, tag]
        previous = candidates.argmax(axis=1)  # the first maximal index, as torch's max
        score = np.where(live[:, t : t + 1], candidates.max(axis=1) + emissions[:, t], score)
        history.append(np.where(live[:, t : t + 1], previous, identity))
    path = [(score + end).argmax(axis=1)]
    rows = np.arange(batch)
    for previous in reversed(history):
        path.append(previous[rows, path[-1]])
    tags_by_row = np.stack(path[::-1], axis=1).tolist()
    return [row[:n] for row, n in zip(tags_by_row, lengths.tolist(), strict=True)]


def marginals(
    emissions: np.ndarray,  # [batch, seq, tags]
    lengths: np.ndarray,  # [batch] int, each >= 1
    transitions: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> np.ndarray:
    """p(tag at position t = k | sentence): [batch, seq, tags]; rows past a sentence's end are zero.

    Forward-backward with max-shifted exponentials, as CRF.marginals; a sentence's marginals are the same
    bits whatever else is in its batch.
    """
    live = _mask(lengths, emissions.shape[1])[:, :, None]  # [batch, seq, 1]
    weights = np.exp(transitions)  # [tags, tags]; a forbidden move weighs 0
    alphas = _alphas(emissions, live, start, weights)
    betas = _betas(emissions, live, end, weights)
    log_z = _logsumexp(alphas[:, -1] + end)  # [batch]
    # clipped because float rounding can pass 1; times `live` to zero the rows past a sentence's end
    probabilities: np.ndarray = np.exp(alphas + betas - log_z[:, None, None]).clip(0.0, 1.0) * live
    return probabilities


def chosen_confidences(
    paths: list[list[int]], marginals: np.ndarray, lengths: np.ndarray
) -> list[list[float]]:
    """The marginal of each chosen tag, per sentence, as Python floats (Tagger.predict's confidences)."""
    return [
        marginals[row, np.arange(n), path].tolist()
        for row, (path, n) in enumerate(zip(paths, lengths.tolist(), strict=True))
    ]


def _mask(lengths: np.ndarray, length: int) -> np.ndarray:
    """[batch, length] bool, True on each sentence's tokens."""
    return np.arange(length)[None, :] < lengths[:, None]


def _alphas(emissions: np.ndarray, live: np.ndarray, start: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Forward log-scores [batch, seq, tags], frozen past a sentence's end."""
    alpha = start + emissions[:, 0]
    alphas = [alpha]
    for t in range(1, emissions.shape[1]):
        alpha = np.where(live[:, t], _log_matmul(alpha, weights) + emissions[:, t], alpha)
        alphas.append(alpha)
    return np.stack(alphas, axis=1)


def _betas(emissions: np.ndarray, live: np.ndarray, end: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Backward log-scores [batch, seq, tags]; past a sentence's end beta is the end score."""
    beta = np.broadcast_to(end, emissions[:, 0].shape)
    betas = [beta]
    for t in range(emissions.shape[1] - 1, 0, -1):
        beta = np.where(live[:, t], _log_matmul(emissions[:, t] + beta, weights.T), beta)
        betas.append(beta)
    return np.stack(betas[::-1], axis=1)


def _log_matmul(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """log(exp(scores) @ weights) for scores [batch, tags], computed with each row's maximum taken out."""
    top = scores.max(axis=1, keepdims=True)
    # a broadcast product summed over one axis, not `@`: BLAS picks its kernel (and so its order of
    # additions) by the matrix sizes, which would make a sentence's marginals depend on its batch
    summed = (np.exp(scores - top)[:, :, None] * weights).sum(axis=1)
    # a tag whose every allowed predecessor lies far below the best sums to 0: log -inf, as in torch
    with np.errstate(divide="ignore"):
        log_product: np.ndarray = np.log(summed) + top
    return log_product


def _logsumexp(scores: np.ndarray) -> np.ndarray:
    """log(sum(exp(scores))) over the last axis, with each row's maximum taken out."""
    top = scores.max(axis=-1)
    log_sum: np.ndarray = np.log(np.exp(scores - top[..., None]).sum(axis=-1)) + top
    return log_sum
