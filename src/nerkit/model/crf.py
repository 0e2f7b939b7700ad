"""A linear-chain CRF, batch-first with masks: log-likelihood (of one tag path, or of every path a partial
annotation allows), Viterbi, and marginals by forward-backward (for inference, and differentiable ones for
distillation)."""

from __future__ import annotations

import torch
from torch import nn

FORBIDDEN = -10_000.0  # score of a transition the tag scheme does not allow
EXCLUDED = -1e7  # emission score of a tag a partial annotation rules out: far below any forbidden path


class CRF(nn.Module):
    """Transition, start and end scores over `num_tags` tags; disallowed moves are fixed at FORBIDDEN.

    Sequences are left-aligned: `mask[:, :n]` is True for a sentence of n tokens, and n >= 1.
    """

    allowed: torch.Tensor  # buffers registered in __init__, declared for the type checker
    allowed_start: torch.Tensor
    allowed_end: torch.Tensor

    def __init__(
        self,
        num_tags: int,
        allowed: torch.Tensor | None = None,  # [tags, tags] bool: may tag j follow tag i?
        allowed_start: torch.Tensor | None = None,  # [tags] bool
        allowed_end: torch.Tensor | None = None,  # [tags] bool
    ) -> None:
        super().__init__()
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        ones = torch.ones(num_tags, dtype=torch.bool)
        self.register_buffer("allowed", allowed if allowed is not None else ones[:, None] & ones[None, :])
        self.register_buffer("allowed_start", allowed_start if allowed_start is not None else ones)
        self.register_buffer("allowed_end", allowed_end if allowed_end is not None else ones.clone())

    def scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Transition [tags, tags], start [tags] and end [tags] scores with the forbidden moves applied."""
        forbidden = torch.tensor(FORBIDDEN, dtype=self.transitions.dtype, device=self.transitions.device)
        return (
            torch.where(self.allowed, self.transitions, forbidden),
            torch.where(self.allowed_start, self.start, forbidden),
            torch.where(self.allowed_end, self.end, forbidden),
        )

    def log_likelihood(
        self,
        emissions: torch.Tensor,
        tags: torch.Tensor,
        mask: torch.Tensor,
        allowed: torch.Tensor | None = None,
        prior: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """log p(tags | emissions) per sentence: [batch]. emissions [batch, seq, tags]; tags, mask [batch, seq].

        With `allowed` [batch, seq, tags] bool (a partial annotation: the tags each token may have), the
        log of the summed probabilities of every path that keeps to it: log Z(allowed paths) - log Z.
        With `prior` [batch, seq, tags] too (log-weights of each token's tags, say an earlier model's
        log marginals), the paths are weighted by q(path), the product of their tokens' weights
        normalised over the allowed paths: log sum q(path) p(path), the sum over the allowed paths.

        Computed in float64 and returned in the emissions' type, as `log_marginals` is: over a document of
        a few hundred tokens log Z and the path's score reach 1e4 to 1e5, where float32 rounds by 0.001 to
        0.01, so their difference (the loss, about 1 late in training) and its gradients became noise that
        grew the emissions until training diverged (CoNLL-2003 in document context: the training loss rose
        from about 1.2 to 4 within three to five epochs, from about epoch 20 with MiniLM features and 28
        without).
        """
        kind = emissions.dtype
        likelihood = self._log_likelihood(
            emissions.double(), tags, mask, allowed, None if prior is None else prior.double()
        )
        return likelihood.to(kind)

    def _log_likelihood(
        self,
        emissions: torch.Tensor,
        tags: torch.Tensor,
        mask: torch.Tensor,
        allowed: torch.Tensor | None,
        prior: torch.Tensor | None,
    ) -> torch.Tensor:
        """`log_likelihood` in the emissions' own type."""
        if allowed is None:
            return self._path_score(emissions, tags, mask) - self.log_partition(emissions, mask)
        excluded = torch.tensor(EXCLUDED, dtype=emissions.dtype, device=emissions.device)
        scores = emissions if prior is None else emissions + prior
        kept = self.log_partition(torch.where(allowed, scores, excluded), mask)
        if prior is not None:  # q's normaliser: it factorises over tokens
            weights = torch.where(allowed, prior, torch.tensor(float("-inf"), dtype=prior.dtype))
            kept = kept - (weights.logsumexp(2) * mask.to(prior.dtype)).sum(1)
        return kept - self.log_partition(emissions, mask)

    def _path_score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        transitions, start, end = self.scores()
        maskf = mask.to(emissions.dtype)
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # [batch, seq]
        score = start[tags[:, 0]] + (emitted * maskf).sum(1)
        moves = transitions[tags[:, :-1], tags[:, 1:]]  # [batch, seq - 1]
        score = score + (moves * maskf[:, 1:]).sum(1)
        last = mask.sum(1) - 1
        return score + end[tags.gather(1, last.unsqueeze(1)).squeeze(1)]

    def _forward(
        self, emissions: torch.Tensor, mask: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor
    ) -> list[torch.Tensor]:
        """Forward log-scores alpha_t [batch, tags] for every position (frozen past a sentence's end)."""
        alpha = start + emissions[:, 0]
        alphas = [alpha]
        for t in range(1, emissions.size(1)):
            step = torch.logsumexp(alpha.unsqueeze(2) + transitions, dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t : t + 1], step, alpha)
            alphas.append(alpha)
        return alphas

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z per sentence: [batch]."""
        transitions, start, end = self.scores()
        return torch.logsumexp(self._forward(emissions, mask, transitions, start)[-1] + end, dim=1)

    def log_marginals(
        self, emissions: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0
    ) -> torch.Tensor:
        """log p(tag at position t = k | sentence) [batch, seq, tags], differentiable (forward-backward in
        log space), with every score divided by `temperature`; rows past a sentence's end are zero.

        Computed in float64 (returned in the emissions' type): over a few hundred tokens the forward and
        backward scores reach 1e5, where float32 rounds by 0.01, and their differences (the marginals, and
        the gradients) become noise that grows the emissions until training diverges (measured on a
        CoNLL-2003 student after 12 epochs: the float32 gradients were off by 60 to 170 times the true ones' size). At
        these sizes float64 costs no more time than float32 on CPU.
        """
        kind = emissions.dtype
        transitions, start, end = (scores.double() / temperature for scores in self.scores())
        emissions = emissions.double() / temperature
        alphas = self._forward(emissions, mask, transitions, start)
        log_z = torch.logsumexp(alphas[-1] + end, dim=1)
        beta = end.expand(emissions.size(0), -1)
        betas = [beta]
        for t in range(emissions.size(1) - 1, 0, -1):
            step = torch.logsumexp(transitions + (emissions[:, t] + beta).unsqueeze(1), dim=2)
            beta = torch.where(mask[:, t : t + 1], step, beta)  # past the end it stays the end score
            betas.append(beta)
        betas.reverse()
        scores = torch.stack(alphas, dim=1) + torch.stack(betas, dim=1) - log_z[:, None, None]
        return (scores * mask.unsqueeze(2).to(scores.dtype)).to(kind)

    def marginals(
        self, emissions: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0
    ) -> torch.Tensor:
        """p(tag at position t = k | sentence): [batch, seq, tags]; rows past a sentence's end are zero.

        Forward-backward with each step a product of max-shifted exponentials summed over the previous
        tag (exact, and about three times faster than a log-sum-exp over [batch, tags, tags]); for
        inference, not gradients. A sentence's marginals are the same bits whatever else is in its batch.
        With `temperature` T every score is divided by T (T > 1 flattens them, as distillation's teacher).
        """
        transitions, start, end = self.scores()
        if temperature != 1.0:
            transitions, start, end = (scores / temperature for scores in (transitions, start, end))
            emissions = emissions / temperature
        weights = transitions.exp()  # [tags, tags]; a forbidden move weighs 0
        alpha = start + emissions[:, 0]
        alphas = [alpha]
        for t in range(1, emissions.size(1)):
            step = _log_matmul(alpha, weights) + emissions[:, t]
            alpha = torch.where(mask[:, t : t + 1], step, alpha)
            alphas.append(alpha)
        log_z = torch.logsumexp(alphas[-1] + end, dim=1, keepdim=True)
        beta = end.expand(emissions.size(0), -1)
        betas = [beta]
        for t in range(emissions.size(1) - 1, 0, -1):
            step = _log_matmul(emissions[:, t] + beta, weights.T)
            # past the end of a sentence beta is the end score, so the last real token sees `end`
            beta = torch.where(mask[:, t : t + 1], step, beta)
            betas.append(beta)
        betas.reverse()
        scores = torch.stack([a + b for a, b in zip(alphas, betas, strict=True)], dim=1)  # [batch, seq, tags]
        probabilities = (scores - log_z.unsqueeze(1)).exp().clamp(0.0, 1.0)  # float rounding can pass 1
        return probabilities * mask.unsqueeze(2).to(emissions.dtype)

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """The best tag sequence of each sentence (Viterbi), as lists of the sentence's length."""
        transitions, start, end = self.scores()
        batch, length, _ = emissions.shape
        score = start + emissions[:, 0]
        history = []
        for t in range(1, length):
            best, previous = (score.unsqueeze(2) + transitions).max(dim=1)
            step = best + emissions[:, t]
            live = mask[:, t : t + 1]
            score = torch.where(live, step, score)
            # past the end, point every tag at itself so backtracking passes through unchanged
            identity = torch.arange(self.num_tags, device=emissions.device).expand(batch, -1)
            history.append(torch.where(live, previous, identity))
        best_last = (score + end).argmax(dim=1)
        path = [best_last]
        for previous in reversed(history):
            best_last = previous.gather(1, best_last.unsqueeze(1)).squeeze(1)
            path.append(best_last)
        path.reverse()
        tags = torch.stack(path, dim=1).tolist()
        lengths = mask.sum(1).tolist()
        return [row[:n] for row, n in zip(tags, lengths, strict=True)]


def _log_matmul(scores: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """log(exp(scores) @ weights) for scores [batch, tags], computed with each row's maximum taken out."""
    top = scores.max(dim=1, keepdim=True).values
    # a broadcast product summed over one axis, not a matrix product: BLAS picks kernels by batch size,
    # which would make a sentence's marginals depend on the other sentences of its batch
    return torch.log(((scores - top).exp().unsqueeze(2) * weights).sum(1)) + top
