"""Tests for nerkit.model.crf against brute-force enumeration of every tag sequence on tiny inputs."""

from __future__ import annotations

import itertools

import pytest
import torch

from nerkit.model.crf import CRF


def _crf(num_tags: int, seed: int, constrained: bool = False) -> CRF:
    torch.manual_seed(seed)
    allowed = start = end = None
    if constrained:
        allowed = torch.rand(num_tags, num_tags) > 0.3
        allowed[:, 0] = True  # tag 0 is always reachable, so every length has a valid path
        start = torch.ones(num_tags, dtype=torch.bool)
        start[1] = False
        end = torch.ones(num_tags, dtype=torch.bool)
        end[-1] = False
    crf = CRF(num_tags, allowed, start, end).double()
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()
    return crf


def _brute_force(crf: CRF, emissions: torch.Tensor, length: int):
    """Score of every tag sequence of one sentence, by enumeration."""
    transitions, start, end = crf.scores()
    paths = {}
    for path in itertools.product(range(crf.num_tags), repeat=length):
        score = start[path[0]] + end[path[-1]] + sum(emissions[t, k] for t, k in enumerate(path))
        score = score + sum(transitions[a, b] for a, b in itertools.pairwise(path))
        paths[path] = score
    return paths


def _batch(seed: int, lengths: list[int], num_tags: int):
    torch.manual_seed(seed)
    emissions = torch.randn(len(lengths), max(lengths), num_tags, dtype=torch.double)
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    return emissions, mask


@pytest.mark.parametrize("constrained", [False, True])
def test_partition_decode_and_marginals_match_brute_force(constrained):
    num_tags, lengths = 3, [4, 1, 3, 2]
    crf = _crf(num_tags, seed=1, constrained=constrained)
    emissions, mask = _batch(2, lengths, num_tags)
    log_z = crf.log_partition(emissions, mask)
    decoded = crf.decode(emissions, mask)
    marginals = crf.marginals(emissions, mask)
    for b, length in enumerate(lengths):
        paths = _brute_force(crf, emissions[b], length)
        scores = torch.stack(list(paths.values()))
        assert log_z[b].item() == pytest.approx(torch.logsumexp(scores, 0).item(), abs=1e-9)
        best = max(paths, key=lambda p: paths[p].item())
        assert decoded[b] == list(best)
        probabilities = torch.softmax(scores, 0)
        expected = torch.zeros(length, num_tags, dtype=torch.double)
        for path, p in zip(paths, probabilities, strict=True):
            for t, k in enumerate(path):
                expected[t, k] += p
        assert torch.allclose(marginals[b, :length], expected, atol=1e-9)
        assert torch.all(marginals[b, length:] == 0)


def test_log_likelihood_of_a_path():
    num_tags, lengths = 4, [3, 2]
    crf = _crf(num_tags, seed=3)
    emissions, mask = _batch(4, lengths, num_tags)
    tags = torch.tensor([[1, 3, 0], [2, 2, 0]])
    likelihood = crf.log_likelihood(emissions, tags, mask)
    for b, length in enumerate(lengths):
        paths = _brute_force(crf, emissions[b], length)
        log_z = torch.logsumexp(torch.stack(list(paths.values())), 0)
        path = tuple(tags[b, :length].tolist())
        assert likelihood[b].item() == pytest.approx((paths[path] - log_z).item(), abs=1e-9)


def test_forbidden_transitions_are_never_decoded():
    crf = _crf(3, seed=5)
    allowed = torch.ones(3, 3, dtype=torch.bool)
    allowed[0, 2] = False  # tag 2 may never follow tag 0
    crf.allowed.copy_(allowed)
    emissions = torch.zeros(1, 6, 3, dtype=torch.double)
    emissions[0, ::2, 0] = 10  # tag 0 wants even positions
    emissions[0, 1::2, 2] = 10  # tag 2 wants odd positions
    path = crf.decode(emissions, torch.ones(1, 6, dtype=torch.bool))[0]
    assert all(not (a == 0 and b == 2) for a, b in itertools.pairwise(path))


def test_gradients_flow():
    crf = _crf(3, seed=6)
    emissions, mask = _batch(7, [3, 2], 3)
    emissions.requires_grad_(True)
    loss = -crf.log_likelihood(emissions, torch.tensor([[0, 1, 2], [1, 1, 0]]), mask).sum()
    loss.backward()
    assert emissions.grad is not None and crf.transitions.grad is not None
    assert torch.all(emissions.grad[1, 2] == 0)  # padding gets no gradient


@pytest.mark.slow
def test_marginals_do_not_depend_on_the_rest_of_the_batch():
    crf = _crf(17, seed=4, constrained=True).float()
    lengths = [int(n) for n in torch.randint(1, 40, (300,), generator=torch.Generator().manual_seed(5))]
    emissions, mask = _batch(6, lengths, 17)
    emissions = emissions.float()
    with torch.no_grad():
        together = crf.marginals(emissions, mask)
        for start, stop in ((0, 1), (0, 37), (100, 300)):
            alone = crf.marginals(emissions[start:stop], mask[start:stop])
            width = alone.size(1)
            assert torch.equal(together[start:stop, :width], alone)  # bit for bit, as predict needs


@pytest.mark.parametrize("constrained", [False, True])
def test_partial_log_likelihood_sums_the_consistent_paths(constrained):
    num_tags, lengths = 4, [4, 1, 3]
    crf = _crf(num_tags, seed=5, constrained=constrained)
    emissions, mask = _batch(6, lengths, num_tags)
    torch.manual_seed(7)
    tags = torch.randint(num_tags, (len(lengths), max(lengths)))
    allowed = torch.rand(len(lengths), max(lengths), num_tags) > 0.5
    allowed.scatter_(2, tags.unsqueeze(2), True)  # the gold tag is always allowed
    likelihood = crf.log_likelihood(emissions, tags, mask, allowed)
    for b, length in enumerate(lengths):
        paths = _brute_force(crf, emissions[b], length)
        log_z = torch.logsumexp(torch.stack(list(paths.values())), 0)
        consistent = [s for p, s in paths.items() if all(allowed[b, t, k] for t, k in enumerate(p))]
        expected = torch.logsumexp(torch.stack(consistent), 0) - log_z
        assert likelihood[b].item() == pytest.approx(expected.item(), abs=1e-9)


def test_partial_log_likelihood_of_a_complete_annotation_is_the_ordinary_one():
    num_tags, lengths = 5, [4, 2, 3]
    crf = _crf(num_tags, seed=8, constrained=True)
    emissions, mask = _batch(9, lengths, num_tags)
    tags = torch.tensor([[0, 2, 3, 0], [4, 0, 0, 0], [1, 0, 2, 0]])
    only_gold = torch.nn.functional.one_hot(tags, num_tags).bool()
    partial = crf.log_likelihood(emissions, tags, mask, only_gold)
    assert torch.allclose(partial, crf.log_likelihood(emissions, tags, mask), atol=1e-9)


def test_partial_log_likelihood_weighs_the_consistent_paths_by_the_prior():
    num_tags, lengths = 4, [4, 2]
    crf = _crf(num_tags, seed=11, constrained=True)
    emissions, mask = _batch(12, lengths, num_tags)
    torch.manual_seed(13)
    tags = torch.randint(num_tags, (len(lengths), max(lengths)))
    allowed = torch.rand(len(lengths), max(lengths), num_tags) > 0.4
    allowed.scatter_(2, tags.unsqueeze(2), True)
    prior = torch.randn(len(lengths), max(lengths), num_tags, dtype=torch.double)
    likelihood = crf.log_likelihood(emissions, tags, mask, allowed, prior)
    for b, length in enumerate(lengths):
        paths = _brute_force(crf, emissions[b], length)
        log_z = torch.logsumexp(torch.stack(list(paths.values())), 0)
        consistent = [p for p in paths if all(allowed[b, t, k] for t, k in enumerate(p))]
        weights = torch.stack([sum(prior[b, t, k] for t, k in enumerate(p)) for p in consistent])
        scores = torch.stack([paths[p] - log_z for p in consistent])
        expected = torch.logsumexp(weights + scores, 0) - torch.logsumexp(weights, 0)  # log E_q[p]
        assert likelihood[b].item() == pytest.approx(expected.item(), abs=1e-9)


@pytest.mark.parametrize(("constrained", "temperature"), [(False, 1.0), (True, 1.0), (True, 2.5)])
def test_log_marginals_match_brute_force_at_any_temperature(constrained, temperature):
    num_tags, lengths = 3, [4, 1, 3]
    crf = _crf(num_tags, seed=9, constrained=constrained)
    emissions, mask = _batch(10, lengths, num_tags)
    logs = crf.log_marginals(emissions, mask, temperature)
    fast = crf.marginals(emissions, mask, temperature)
    for b, length in enumerate(lengths):
        paths = _brute_force(crf, emissions[b], length)
        probabilities = torch.softmax(torch.stack(list(paths.values())) / temperature, 0)
        expected = torch.zeros(length, num_tags, dtype=torch.double)
        for path, p in zip(paths, probabilities, strict=True):
            for t, k in enumerate(path):
                expected[t, k] += p
        assert torch.allclose(logs[b, :length].exp(), expected, atol=1e-9)
        assert torch.allclose(fast[b, :length], expected, atol=1e-9)
        assert torch.all(logs[b, length:] == 0)


def test_log_marginals_have_gradients():
    crf = _crf(3, seed=11)
    emissions, mask = _batch(12, [3, 2], 3)
    emissions.requires_grad_(True)
    crf.log_marginals(emissions, mask)[:, :, 1].sum().backward()
    assert emissions.grad is not None and torch.isfinite(emissions.grad).all()
    assert crf.transitions.grad is not None and crf.transitions.grad.abs().sum() > 0


def _late_training_scores(seed: int) -> tuple[CRF, torch.Tensor, torch.Tensor, CRF, torch.Tensor]:
    """A float32 CRF and two 500-token documents of a late-training model's emission scores (about 300 a
    token), both with gradients, and the same CRF and scores in float64."""
    torch.manual_seed(seed)
    crf = CRF(5)
    with torch.no_grad():
        crf.transitions.normal_(0, 3)
    emissions = (torch.randn(2, 500, 5) * 300).requires_grad_(True)
    crf64 = CRF(5).double()
    crf64.load_state_dict(crf.state_dict())
    exact = emissions.detach().double().requires_grad_(True)
    return crf, emissions, torch.ones(2, 500, dtype=torch.bool), crf64, exact


def test_log_marginals_keep_their_gradients_exact_over_long_confident_sentences():
    """Scores of a trained model's size over hundreds of tokens: float32 forward-backward would round the
    1e5-sized sums by 0.01 and turn the gradients into noise (they came out 50 times too large)."""
    crf, emissions, mask, crf64, exact = _late_training_scores(13)
    soft = torch.softmax(torch.randn(2, 500, 5), 2)
    (soft * crf.log_marginals(emissions, mask)).sum().backward()
    (soft.double() * crf64.log_marginals(exact, mask)).sum().backward()
    assert emissions.grad is not None and exact.grad is not None
    assert torch.allclose(emissions.grad.double(), exact.grad, atol=1e-5)


@pytest.mark.parametrize("partial", [False, True])
def test_log_likelihood_keeps_loss_and_gradients_exact_over_long_confident_documents(partial):
    """Training's loss over a 500-token document of a late-training model's scores: in float32, log Z and
    the path's score (about 1e5) would round by 0.01, and the loss and its gradients would be noise."""
    crf, emissions, mask, crf64, exact = _late_training_scores(17)
    tags = torch.randint(0, 5, (2, 500))
    allowed = torch.rand(2, 500, 5) > 0.5 if partial else None
    if allowed is not None:
        allowed.scatter_(2, tags.unsqueeze(2), True)
    loss = -crf.log_likelihood(emissions, tags, mask, allowed)
    loss.sum().backward()
    expected = -crf64.log_likelihood(exact, tags, mask, allowed)
    expected.sum().backward()
    assert loss.dtype == torch.float32
    assert torch.allclose(loss.double(), expected, atol=1e-3)
    assert emissions.grad is not None and exact.grad is not None
    assert torch.allclose(emissions.grad.double(), exact.grad, atol=1e-5)
