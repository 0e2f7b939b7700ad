"""Fine-tuning's training steps for the epoch loop: a transformer trained with a CRF or linear head over
document-context windows, first-sub-word labels, AdamW with linear warm-up and decay, gradient clipping;
saved as the same model folder as `nerkit train`."""

from __future__ import annotations

import random
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nerkit.data.batches import EncodedSentence, collate, join_sentences
from nerkit.data.vocab import Vocab
from nerkit.embeddings.subwords import budget_batches, group_documents
from nerkit.embeddings.transformer import (
    Transformer,
    save_transformer,
    subword_pieces,
    token_features,
    window_inputs,
)
from nerkit.errors import NerkitError
from nerkit.model.folder import LoadedModel, save_model
from nerkit.model.spec import ModelSpec
from nerkit.model.tagger import Tagger
from nerkit.training.checkpoint import (
    Tensors,
    optimizer_state,
    prefixed,
    random_state,
    restore_optimizers,
    restore_random_state,
)
from nerkit.training.corpus import Corpus, encode_split, encode_tagged
from nerkit.training.options import TrainOptions, chosen
from nerkit.training.prepare import Prepared, init_word_vectors

HEAD_LEARNING_RATE = 1e-3  # the head (mix, characters, casing, projection, CRF) learns faster than the body
WEIGHT_DECAY = 0.01
WARMUP_SHARE = 0.1  # of all steps, the learning rate rising linearly from 0
CLIP = 1.0
BATCH_SUBWORDS = 1024  # sub-words (padded) per training step: about 50 CoNLL sentences


@dataclass
class Unit:
    """Consecutive sentences of one document read as one transformer input."""

    pieces: list[int]  # the sub-word ids of its tokens, in order
    first: list[int]  # per token, the position of its first sub-word in `pieces`
    encoded: EncodedSentence  # the tokens' indices and tags (sentences joined)


def training_units(
    corpus: Corpus, transformer: Transformer, encoded: Sequence[EncodedSentence], context: bool
) -> tuple[list[Unit], int]:
    """Sentences packed into units of at most the transformer's window, consecutive sentences of a
    document together (with `context`); returns the units and how many sentences were too long alone."""
    pieces = subword_pieces(transformer, corpus.tokens)
    owners = corpus.documents if context else list(range(len(corpus)))
    units: list[Unit] = []
    skipped = 0
    group: list[int] = []
    size = 0

    def close() -> None:
        if group:
            flat: list[int] = []
            first: list[int] = []
            for s in group:
                for token in pieces[s]:
                    first.append(len(flat))
                    flat.extend(token)
            units.append(Unit(flat, first, join_sentences([encoded[s] for s in group])))
            group.clear()

    for index, sentence in enumerate(pieces):
        length = sum(len(token) for token in sentence)
        if not sentence:
            continue
        if length > transformer.window:
            skipped += 1
            continue
        if group and (owners[group[-1]] != owners[index] or size + length > transformer.window):
            close()
            size = 0
        group.append(index)
        size += length
    close()
    return units, skipped


def unit_batches(units: Sequence[Unit], budget: int, rng: random.Random) -> list[list[int]]:
    """Unit indices grouped by similar sub-word length, at most `budget` padded sub-words each, shuffled."""
    return budget_batches([len(u.pieces) for u in units], budget, rng)


def unit_features(transformer: Transformer, units: Sequence[Unit]) -> torch.Tensor:
    """The last hidden layer at each token's first sub-word, with gradients: [units, tokens, 1, dim]."""
    ids, mask = window_inputs(transformer, [u.pieces for u in units])
    first = torch.zeros((len(units), max(len(u.first) for u in units)), dtype=torch.long)
    for row, unit in enumerate(units):
        first[row, : len(unit.first)] = torch.tensor(unit.first) + len(transformer.prefix)
    hidden: torch.Tensor = transformer.model(input_ids=ids, attention_mask=mask).last_hidden_state
    # hidden: [units, width, dim]; picked: [units, tokens, dim]
    picked = hidden.gather(1, first.unsqueeze(2).expand(-1, -1, hidden.size(2)))
    return picked.unsqueeze(2)


class FineTuneSteps:
    """A transformer fine-tuned with a tagging head on the prepared splits; the model folder holds the
    head's weights and the transformer's new ones (its `transformer/` folder)."""

    def __init__(
        self, data: Prepared, options: TrainOptions, on_ready: Callable[[ModelSpec, int], None] | None = None
    ) -> None:
        if data.transformer is None:
            raise NerkitError("fine-tuning needs a transformer", hint="add --transformer FOLDER")
        self.data, self.options, self.transformer = data, options, data.transformer
        self.rng = random.Random(options.seed)
        torch.manual_seed(options.seed)
        self.head = _head(data)
        if on_ready is not None:
            on_ready(data.spec, self.head.parameter_count())
        self.units = _units(data, self.transformer)
        self.train_tokens = sum(len(u.first) for u in self.units)
        self.head_parameters = [p for p in self.head.parameters() if p.requires_grad]
        self.optimizer = _optimizer(self.transformer, self.head_parameters, chosen(options.learning_rate))
        self.peaks = [group["lr"] for group in self.optimizer.param_groups]
        steps_per_epoch = len(unit_batches(self.units, BATCH_SUBWORDS, random.Random(0)))
        self.total_steps = max(1, steps_per_epoch * chosen(options.max_epochs))
        self.warmup = max(1, int(WARMUP_SHARE * self.total_steps))
        self.step = 0
        self.parameters = [*self.transformer.model.parameters(), *self.head_parameters]

    def schedule(self, step: int) -> float:
        """The share of the peak learning rate at a step: a linear warm-up, then a linear decay to 0."""
        if step < self.warmup:
            return (step + 1) / self.warmup
        return max(0.0, (self.total_steps - step) / max(1, self.total_steps - self.warmup))

    def train_epoch(
        self, epoch: int, on_batch: Callable[[int, int], None] | None
    ) -> tuple[float, int, float]:
        """One epoch of units batched by sub-word budget; returns the summed batch losses, the number of
        batches and the transformer's learning rate at the epoch's end."""
        self.transformer.model.train()
        self.head.train()
        total_loss = 0.0
        batches = unit_batches(self.units, BATCH_SUBWORDS, self.rng)
        for done, batch_units in enumerate(batches, start=1):
            total_loss += self._step(batch_units)
            if on_batch is not None:
                on_batch(done, len(batches))
        return total_loss, len(batches), float(self.optimizer.param_groups[0]["lr"])

    def _step(self, batch_units: Sequence[int]) -> float:
        """One optimiser step on a batch of units; returns its loss."""
        for group, peak in zip(self.optimizer.param_groups, self.peaks, strict=True):
            group["lr"] = peak * self.schedule(self.step)
        chosen_units = [self.units[i] for i in batch_units]
        batch = collate([u.encoded for u in chosen_units], list(batch_units))
        batch.features = unit_features(self.transformer, chosen_units)
        loss = self.head.loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)
        torch.nn.utils.clip_grad_norm_(self.parameters, CLIP)
        self.optimizer.step()
        self.step += 1
        return loss.item()

    def end_epoch(self) -> Tagger:
        """The model to score and save after an epoch: the head (the transformer gives its features)."""
        return self.head

    def encoded(self, split: str) -> Sequence[EncodedSentence]:
        """The dev or test split encoded with the transformer's current features."""
        corpus = self.data.dev if split == "dev" else self.data.test
        if corpus is None:
            return []
        return encode_with_features(self.transformer, corpus, self.data.vocab, self.data.spec)

    def encoded_for(self, best: LoadedModel) -> Sequence[EncodedSentence]:
        """Dev encoded with the saved best model's transformer."""
        if best.transformer is None:
            raise ValueError("a fine-tuned model folder without its transformer")
        return encode_with_features(best.transformer, self.data.dev, self.data.vocab, self.data.spec)

    def save(self, output: Path, meta: dict[str, object]) -> None:
        """Write the model folder: the head's weights and the fine-tuned transformer's."""
        parent = output.parent if output.parent.exists() else None
        with tempfile.TemporaryDirectory(prefix=".nerkit-finetune-", dir=parent) as scratch:
            folder = Path(scratch) / "transformer"
            save_transformer(self.transformer, folder)
            save_model(output, self.head, self.data.vocab, meta, folder)

    def state(self) -> tuple[Tensors, dict[str, Any]]:
        """What resuming needs: the head's and the transformer's weights, AdamW's moments, the step and
        random states."""
        tensors = {f"head.{name}": value for name, value in self.head.state_dict().items()}
        tensors.update({f"body.{k}": v for k, v in self.transformer.model.state_dict().items()})
        moments, optimizer = optimizer_state([self.optimizer])
        tensors.update(moments)
        return tensors, {**optimizer, **random_state(self.rng), "step": self.step}

    def restore(self, tensors: Tensors, state: dict[str, Any]) -> None:
        """Put back what `state` saved."""
        self.head.load_state_dict(prefixed("head.", tensors))
        self.transformer.model.load_state_dict(prefixed("body.", tensors))
        restore_optimizers([self.optimizer], tensors, state)
        self.step = int(state["step"])
        restore_random_state(self.rng, state)


def _head(data: Prepared) -> Tagger:
    """The tagging head on the transformer: stacked word vectors stay fixed features, and a linear head
    decodes under the BIOES rules with no learned transition scores."""
    head = Tagger(data.spec)
    if head.word_embedding is not None:
        if data.vectors is not None:
            init_word_vectors(head, data.vocab, data.vectors)
        head.word_embedding.weight.requires_grad_(False)
    if data.spec.head == "linear":
        for parameter in head.crf.parameters():
            parameter.requires_grad_(False)
    return head


def _units(data: Prepared, transformer: Transformer) -> list[Unit]:
    """The training split packed into units, warning about sentences too long for the window."""
    encoded_train = encode_tagged(data.train, data.vocab)
    units, skipped = training_units(data.train, transformer, encoded_train, data.spec.transformer_context)
    if skipped:
        print(
            f"warning: {skipped} training sentence(s) longer than the transformer window "
            f"({transformer.window} sub-words) are left out of fine-tuning",
            file=sys.stderr,
        )
    return units


def _optimizer(
    transformer: Transformer, head_parameters: list[torch.nn.Parameter], learning_rate: float
) -> torch.optim.AdamW:
    """AdamW: the transformer at `learning_rate` (no weight decay on biases and LayerNorm), the head at
    HEAD_LEARNING_RATE."""
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, parameter in transformer.model.named_parameters():
        (no_decay if parameter.ndim == 1 or "LayerNorm" in name else decay).append(parameter)
    return torch.optim.AdamW(
        [
            {"params": decay, "lr": learning_rate, "weight_decay": WEIGHT_DECAY},
            {"params": no_decay, "lr": learning_rate, "weight_decay": 0.0},
            {"params": head_parameters, "lr": HEAD_LEARNING_RATE, "weight_decay": 0.0},
        ]
    )


def encode_with_features(
    transformer: Transformer, corpus: Corpus, vocab: Vocab, spec: ModelSpec
) -> list[EncodedSentence]:
    """A split encoded with the transformer's current features (inference, whole-document windows)."""
    transformer.model.eval()
    owners = corpus.documents if spec.transformer_context else list(range(len(corpus)))
    features = token_features(transformer, group_documents(corpus.tokens, owners), layers=1, pooling="first")
    return encode_split(corpus, vocab, features)
