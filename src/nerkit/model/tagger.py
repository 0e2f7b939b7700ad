"""The BiLSTM-CNN-CRF tagger: word, character and casing features, a BiLSTM, and a constrained CRF."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import torch
from torch import nn

from nerkit.data.batches import Batch, Padded, to_batch
from nerkit.data.tags import allowed_transitions
from nerkit.model.crf import CRF
from nerkit.model.spec import ModelSpec


class Tagger(nn.Module):
    """Emission scores from word + character (CNN, BiLSTM) + casing (+ transformer, + gazetteer) features
    through a BiLSTM, decoded by a CRF."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        # no word table when word_dim is 0 (a fine-tuned transformer without vectors)
        self.word_embedding = (
            nn.Embedding(spec.words, spec.word_dim, padding_idx=0, sparse=True) if spec.word_dim else None
        )
        self.char_embedding = nn.Embedding(spec.chars, spec.char_dim, padding_idx=0)
        self.char_cnn = (
            nn.Conv1d(spec.char_dim, spec.char_filters, spec.char_kernel, padding=spec.char_kernel // 2)
            if spec.char_filters
            else None
        )
        # a left-to-right and a right-to-left LSTM over each word's characters, as the word BiLSTM's
        self.char_lstms = (
            nn.ModuleList(nn.LSTM(spec.char_dim, spec.char_lstm, batch_first=True) for _ in range(2))
            if spec.char_lstm
            else None
        )
        self.casing_embedding = nn.Embedding(spec.casings, spec.casing_dim, padding_idx=0)
        self.dropout = nn.Dropout(spec.dropout)
        token_dim = spec.token_dim
        if spec.transformer_dim:  # a softmax-weighted mix of the transformer's last layers, scaled
            self.layer_weights = nn.Parameter(torch.zeros(spec.transformer_layers))
            self.layer_scale = nn.Parameter(torch.ones(()))
        # each layer: a left-to-right and a right-to-left LSTM over padded batches (see _bilstm)
        self.lstms = nn.ModuleList(
            nn.ModuleList(
                nn.LSTM(token_dim if layer == 0 else 2 * spec.hidden, spec.hidden, batch_first=True)
                for _ in range(2)
            )
            for layer in range(spec.layers)
        )
        # without LSTM layers (a fine-tuned transformer's head) the token vectors are projected directly
        self.project = nn.Linear(2 * spec.hidden if spec.layers else token_dim, len(spec.labels))
        allowed, start, end = allowed_transitions(spec.labels, spec.scheme)
        self.crf = CRF(
            len(spec.labels),
            torch.tensor(allowed, dtype=torch.bool),
            torch.tensor(start, dtype=torch.bool),
            torch.tensor(end, dtype=torch.bool),
        )

    def emissions(
        self, batch: Batch, bilstm: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
    ) -> torch.Tensor:
        """Emission scores [batch, seq, tags]; `bilstm` (token vectors and lengths to BiLSTM states)
        replaces the model's own BiLSTM code, as the ONNX export does with the same weights."""
        return cast(torch.Tensor, self.project(self.states(batch, bilstm)))

    def states(
        self, batch: Batch, bilstm: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
    ) -> torch.Tensor:
        """What the emission scores are projected from [batch, seq, dim]: the BiLSTM's states (left to
        right, then right to left) after dropout, or the token vectors where the model has no LSTM."""
        words = batch.words
        if self.training and self.spec.word_dropout > 0:
            drop = (torch.rand(words.shape) < self.spec.word_dropout) & batch.mask
            words = words.masked_fill(drop, 1)
        parts = [self._characters(batch.chars), self.casing_embedding(batch.casing)]
        if self.word_embedding is not None:
            parts.insert(0, self.word_embedding(words))
        if self.spec.transformer_dim:
            if batch.features is None:
                raise ValueError("this model needs transformer features in its batches")
            mix = torch.softmax(self.layer_weights, dim=0)
            parts.append(self.layer_scale * torch.einsum("bsld,l->bsd", batch.features, mix))
        if self.spec.gazetteer_dim:
            if batch.gazetteer is None:
                raise ValueError("this model needs gazetteer features in its batches")
            parts.append(batch.gazetteer)
        # padding zeroed (its characters score -1e4): it never reaches a real token's states, but int8
        # quantization of an exported model scales each LSTM input by its largest value
        tokens = self._drop(torch.cat(parts, dim=2) * batch.mask.unsqueeze(2))  # [batch, seq, token_dim]
        if not self.spec.layers:
            return tokens
        return self._drop((bilstm or self._bilstm)(tokens, batch.mask.sum(1)))

    def _characters(self, chars: torch.Tensor) -> torch.Tensor:
        """Character features [batch, seq, char_width] of character ids [batch, seq, width]: the CNN's
        max-pooled filters, then the character BiLSTM's last states (left to right, right to left)."""
        size, length, width = chars.shape
        # the character encoders run once per distinct word of the batch, not once per token
        spellings, where = torch.unique(chars.view(size * length, width), dim=0, return_inverse=True)
        embedded: torch.Tensor = self.char_embedding(spellings)  # [words, chars, dim]
        features = []
        if self.char_cnn is not None:
            filtered = self.char_cnn(embedded.transpose(1, 2)).masked_fill(
                (spellings == 0).unsqueeze(1), -1e4
            )
            features.append(filtered.max(dim=2).values)
        if self.char_lstms is not None:
            features.append(_word_states(self.char_lstms, embedded, (spellings != 0).sum(1)))
        if not features:  # neither encoder: no character features
            return embedded.new_zeros(size, length, 0)
        return torch.cat(features, dim=1)[where].view(size, length, -1)

    def _drop(self, values: torch.Tensor) -> torch.Tensor:
        """Dropout on [batch, seq, dim]; with `spec.locked_dropout` one mask per sentence, the same at
        every position (variational dropout), else a fresh mask per value."""
        if not (self.training and self.spec.locked_dropout and self.spec.dropout > 0):
            return cast(torch.Tensor, self.dropout(values))
        keep = 1.0 - self.spec.dropout
        mask = torch.empty(values.size(0), 1, values.size(2)).bernoulli_(keep) / keep
        return values * mask

    def _bilstm(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """BiLSTM states [batch, seq, 2 * hidden] of left-aligned padded sequences, without packing.

        The right-to-left LSTM reads each sentence reversed within its own length, so padding only ever
        comes after a sentence's last token in both directions and never reaches its states; plain
        (unpacked) LSTM calls are several times faster on CPU than packed ones.
        """
        order = _reversal(lengths, inputs.size(1))  # [batch, seq]
        output = inputs
        for layer, pair in enumerate(self.lstms):
            forward, backward = cast(nn.ModuleList, pair)  # each item of `lstms` is a ModuleList of two
            if layer:
                output = self._drop(output)
            ahead, _ = forward(output)
            behind, _ = backward(_gather(output, order))
            output = torch.cat([ahead, _gather(behind, order)], dim=2)
        return output

    def loss(
        self,
        batch: Batch,
        distill_weight: float = 0.0,
        temperature: float = 1.0,
        auxiliary: Callable[[torch.Tensor, Batch], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Mean negative log-likelihood of the batch's gold tags per sentence (per token for a linear head);
        where `batch.allowed` marks a partial annotation, of every tagging it allows.

        With `batch.soft` (a teacher's marginals) and `distill_weight` w > 0, the loss of each sentence the
        teacher taught is (1 - w) * that + w * T^2 * the cross-entropy of the CRF's marginals at
        temperature T against the teacher's, summed over its tokens (Hinton's T^2 keeps the gradients'
        scale as T grows); a sentence without (all-zero rows, say a rehearsed one) keeps its whole loss.
        `auxiliary` (the states `states` gives and the batch to a loss), if given, is added: a training-only
        objective on the same states, such as predicting the neighbouring words.
        """
        states = self.states(batch)
        loss = self._tag_loss(batch, self.project(states), distill_weight, temperature)
        return loss if auxiliary is None else loss + auxiliary(states, batch)

    def _tag_loss(
        self, batch: Batch, emissions: torch.Tensor, distill_weight: float, temperature: float
    ) -> torch.Tensor:
        """The tagging loss of `loss` from the batch's emission scores."""
        assert batch.tags is not None
        if batch.soft is not None and distill_weight > 0:
            if self.spec.head != "crf":
                raise ValueError("distillation teaches a CRF's marginals; this model has a linear head")
            gold = -self.crf.log_likelihood(emissions, batch.tags, batch.mask, batch.allowed, batch.prior)
            log_marginals = self.crf.log_marginals(emissions, batch.mask, temperature)
            taught = -(batch.soft * log_marginals).sum((1, 2)) * temperature**2
            weight = distill_weight * batch.soft.flatten(1).any(1).to(gold.dtype)  # [batch]: 0 if untaught
            return ((1 - weight) * gold + weight * taught).mean()
        if self.spec.head == "linear":  # per-token cross-entropy, summed over a sentence like the CRF's
            if batch.allowed is None:
                losses = nn.functional.cross_entropy(emissions.transpose(1, 2), batch.tags, reduction="none")
            else:
                kept = emissions.masked_fill(~batch.allowed, float("-inf"))
                losses = emissions.logsumexp(2) - kept.logsumexp(2)
            return (losses * batch.mask).sum(1).mean()
        return -self.crf.log_likelihood(emissions, batch.tags, batch.mask, batch.allowed, batch.prior).mean()

    def predict(self, batch: Batch, confidence: bool = True) -> tuple[list[list[int]], list[list[float]]]:
        """Best tag rows per sentence and, with `confidence`, the CRF marginal of each chosen tag."""
        return self.crf_tags(self.emissions(batch), batch.mask, confidence)

    def crf_tags(
        self, emissions: torch.Tensor, mask: torch.Tensor, confidence: bool
    ) -> tuple[list[list[int]], list[list[float]]]:
        """Best tag rows of emission scores and, with `confidence`, the CRF marginal of each chosen tag."""
        paths = self.crf.decode(emissions, mask)
        if not confidence:
            return paths, [[] for _ in paths]
        return paths, chosen_marginals(self.crf.marginals(emissions, mask), paths, mask)

    def network(self, padded: Padded) -> torch.Tensor:
        """Emission scores of padded arrays, in evaluation mode without gradients (see
        nerkit.model.inference)."""
        self.eval()
        with torch.inference_mode():
            return self.emissions(to_batch(padded, list(range(len(padded.words)))))

    def decode(
        self, scores: torch.Tensor, padded: Padded, confidence: bool = True
    ) -> tuple[list[list[int]], list[list[float]]]:
        """Best tag rows of emission scores by the CRF and, with `confidence`, the CRF marginal of each
        chosen tag."""
        with torch.inference_mode():
            return self.crf_tags(scores, torch.from_numpy(padded.mask), confidence)

    def parameter_count(self) -> int:
        """How many trainable numbers the model has."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


def chosen_marginals(
    marginals: torch.Tensor, paths: list[list[int]], mask: torch.Tensor
) -> list[list[float]]:
    """Each sentence's marginal of the tag its path chose, per token: `marginals` [batch, seq, tags]."""
    chosen = torch.zeros(mask.shape, dtype=torch.long)
    for row, path in enumerate(paths):
        chosen[row, : len(path)] = torch.tensor(path)
    picked = marginals.gather(2, chosen.unsqueeze(2)).squeeze(2)  # [batch, seq]
    return [picked[row, :n].tolist() for row, n in enumerate(mask.sum(1).tolist())]


def _word_states(pair: nn.ModuleList, embedded: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each word's character BiLSTM features [words, 2 * units] from its embedded characters [words, chars,
    dim]: the left-to-right state after its last character and the right-to-left state after its first;
    padding is never read (the right-to-left LSTM reads each word reversed within its length)."""
    forward, backward = pair
    order = _reversal(lengths, embedded.size(1))
    last = (lengths - 1).clamp(min=0).view(-1, 1, 1)  # a word of no characters (padding) reads position 0
    ahead, _ = forward(embedded)
    behind, _ = backward(_gather(embedded, order))
    states = torch.cat([ahead, behind], dim=2)  # [words, chars, 2 * units]
    return states.gather(1, last.expand(-1, 1, states.size(2))).squeeze(1)


def _reversal(lengths: torch.Tensor, length: int) -> torch.Tensor:
    """Per row, the positions that reverse the first `lengths[row]` items and keep padding in place."""
    positions = torch.arange(length).unsqueeze(0)  # broadcast, not expanded: the ONNX export traces it
    reversed_positions = lengths.unsqueeze(1) - 1 - positions
    return torch.where(reversed_positions >= 0, reversed_positions, positions)


def _gather(values: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """values[row, order[row, t]] for every row and position t: [batch, seq, dim]."""
    return values.gather(1, order.unsqueeze(2).expand(-1, -1, values.size(2)))
