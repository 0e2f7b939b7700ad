"""The BiLSTM-CNN-CRF's training steps for the epoch loop: sparse Adam on the word table and Adam on the
rest, the learning-rate decay (`po` or cosine), gradient clipping, data-parallel shares, and the weights
of the last epochs averaged."""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nerkit.data.batches import EncodedSentence, collate, length_groups
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
from nerkit.training.continued import copy_weights, set_prior_beliefs
from nerkit.training.corpus import Corpus, corpus_features, encode_split, encode_training
from nerkit.training.distributed import broadcast_parameters, shard, sum_gradients, world
from nerkit.training.neighbour_words import NEIGHBOUR_WORDS, NeighbourWords, word_classes
from nerkit.training.options import TrainOptions, chosen
from nerkit.training.prepare import Prepared, init_word_vectors


def lr_at(options: TrainOptions, epoch: int) -> float:
    """The learning rate of an epoch (1-based): lr / (1 + po * (epoch - 1)) under the `po` decay, or
    lr * (1 + cos(pi * (epoch - 1) / max_epochs)) / 2 under the cosine one."""
    rate = chosen(options.learning_rate)
    if options.lr_schedule == "cosine":
        return rate * (1 + math.cos(math.pi * (epoch - 1) / chosen(options.max_epochs))) / 2
    return rate / (1 + options.po * (epoch - 1))


def average_weights(snapshots: Sequence[Tensors]) -> Tensors:
    """The element-wise mean of several weight snapshots (buffers that are not floats: the last one's)."""
    last = snapshots[-1]
    return {
        name: torch.stack([s[name] for s in snapshots]).mean(0) if tensor.is_floating_point() else tensor
        for name, tensor in last.items()
    }


def _copy_weights(model: Tagger) -> Tensors:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


class TaggerSteps:
    """A BiLSTM-CNN-CRF (with frozen transformer features, if any) trained from scratch; inside
    torch.distributed each process takes its share of every batch and their gradients are summed."""

    def __init__(
        self,
        data: Prepared,
        options: TrainOptions,
        rng: random.Random,
        on_ready: Callable[[ModelSpec, int], None] | None = None,
    ) -> None:
        self.data, self.options, self.rng = data, options, rng
        self.rank, self.processes = world()
        self.model = Tagger(data.spec)
        if data.vectors is not None:
            init_word_vectors(self.model, data.vocab, data.vectors)
        if data.start is not None:  # continuing: every old weight where the model left it
            copy_weights(self.model, data.start.model)
        if self.processes > 1:
            broadcast_parameters(self.model)
            torch.manual_seed(options.seed + self.rank)  # each process its own dropout masks
        if on_ready is not None and self.rank == 0:
            on_ready(data.spec, self.model.parameter_count())
        self.encoded_train = encode_training(
            data.train,
            data.vocab,
            options.context_tokens,
            self._features(data.train),
            data.soft_targets(),
            data.masked,
        )
        self.neighbour_words = self._neighbour_words()
        self.optimizers = self._optimizers()
        self.encoded_rehearse = (
            encode_training(
                data.rehearse,
                data.vocab,
                options.context_tokens,
                self._features(data.rehearse),
                masked=data.rehearse_masked,
            )
            if data.rehearse is not None
            else []
        )
        if data.start is not None and options.init_prior is not False:
            set_prior_beliefs(data.start.model, [*self.encoded_train, *self.encoded_rehearse])
        self.encoded_dev = encode_split(data.dev, data.vocab, self._features(data.dev), data.dev_masked)
        self.encoded_test = (
            encode_split(data.test, data.vocab, self._features(data.test)) if data.test is not None else None
        )
        rehearsed = round(options.rehearse_share * sum(len(s) for s in self.encoded_rehearse))
        self.train_tokens = sum(len(s) for s in self.encoded_train) + rehearsed
        self.snapshots: list[Tensors] = []  # weights at the end of the last epochs, oldest first
        # with average_epochs > 1 the model evaluated and saved is the mean of the last epochs' weights
        self.averaged = copy.deepcopy(self.model) if options.average_epochs > 1 else self.model

    def _neighbour_words(self) -> NeighbourWords | None:
        """With --lm-weight, the next- and previous-word predictors trained beside the model (the same
        on every process: seeded alike, then broadcast)."""
        weight = chosen(self.options.lm_weight)
        if not weight:
            return None
        size = len(self.data.vocab.words)
        classes = word_classes((s.words for s in self.encoded_train), size, NEIGHBOUR_WORDS)
        head = NeighbourWords(classes, self.data.spec.hidden, weight)
        if self.processes > 1:
            broadcast_parameters(head)
        return head

    def _optimizers(self) -> list[torch.optim.Optimizer]:
        """Sparse Adam for the word table (sparse gradients update only the rows a batch uses; none with
        --word-lr-scale 0, which leaves the table as loaded), Adam for the rest."""
        table = self.model.word_embedding.weight if self.model.word_embedding is not None else None
        if table is not None and self.options.word_lr_scale == 0:
            table.requires_grad_(False)
            table = None
        self.word_table = table
        self.dense = [p for name, p in self.model.named_parameters() if name != "word_embedding.weight"]
        if self.neighbour_words is not None:
            self.dense += list(self.neighbour_words.parameters())
        rate = chosen(self.options.learning_rate)
        sparse = (
            [torch.optim.SparseAdam([table], lr=rate * self.options.word_lr_scale)]
            if table is not None
            else []
        )
        return [*sparse, torch.optim.Adam(self.dense, lr=rate)]

    def _features(self, corpus: Corpus) -> list[np.ndarray] | None:
        transformer = self.data.transformer
        if transformer is None:
            return None
        return corpus_features(corpus, transformer, self.data.spec, self.options.feature_cache)

    def train_epoch(
        self, epoch: int, on_batch: Callable[[int, int], None] | None
    ) -> tuple[float, int, float]:
        """One epoch of shuffled, length-grouped batches; returns this process's summed batch losses,
        the number of batches and the epoch's learning rate."""
        learning_rate = lr_at(self.options, epoch)
        for optimizer in self.optimizers:
            scale = self.options.word_lr_scale if isinstance(optimizer, torch.optim.SparseAdam) else 1.0
            for group in optimizer.param_groups:
                group["lr"] = learning_rate * scale
        self.model.train()
        if self.neighbour_words is not None:
            self.neighbour_words.train()
        total_loss = 0.0
        units = self._epoch_units()
        # batches are padded one at a time: all of an epoch's at once would copy every feature
        epoch_batches = length_groups(units, self.options.batch_size, self.rng)
        for done, rows in enumerate(epoch_batches, start=1):
            total_loss += self._step(units, rows)
            if on_batch is not None:
                on_batch(done, len(epoch_batches))
        return total_loss, len(epoch_batches), learning_rate

    def _epoch_units(self) -> list[EncodedSentence]:
        """The epoch's training units: all of train and, with --rehearse, a fresh random share of the
        rehearsed file's units (every process draws the same, its generator seeded alike)."""
        if not self.encoded_rehearse:
            return self.encoded_train
        count = round(self.options.rehearse_share * len(self.encoded_rehearse))
        drawn = self.rng.sample(range(len(self.encoded_rehearse)), count)
        return [*self.encoded_train, *(self.encoded_rehearse[i] for i in sorted(drawn))]

    def _step(self, units: Sequence[EncodedSentence], rows: Sequence[int]) -> float:
        """One optimiser step on a batch (this process's share of it); returns its share of the loss."""
        for optimizer in self.optimizers:
            optimizer.zero_grad(set_to_none=True)
        local = shard(rows, self.rank, self.processes)
        loss_share = 0.0
        if local:  # this process's share, weighted so the summed gradient is the batch mean's
            batch = collate([units[i] for i in local], local)
            loss = self.model.loss(
                batch, self.options.distill_weight, self.options.distill_temperature, self.neighbour_words
            )
            torch.autograd.backward(loss * (len(local) / len(rows)))
            loss_share = loss.item() * len(local) / len(rows)
        if self.processes > 1:
            sum_gradients(self.dense, self.word_table)
        torch.nn.utils.clip_grad_norm_(self.dense, self.options.clip)
        for optimizer in self.optimizers:
            optimizer.step()
        return loss_share

    def end_epoch(self) -> Tagger:
        """The model to score and save after an epoch: the mean of the last epochs' weights (or the
        model itself); called once per epoch."""
        if self.options.average_epochs > 1:
            self.snapshots = [*self.snapshots, _copy_weights(self.model)][-self.options.average_epochs :]
            self.averaged.load_state_dict(average_weights(self.snapshots))
        return self.averaged

    def encoded(self, split: str) -> Sequence[EncodedSentence]:
        """The dev or test split encoded for scoring."""
        found = self.encoded_dev if split == "dev" else self.encoded_test
        return found or []

    def encoded_for(self, best: LoadedModel) -> Sequence[EncodedSentence]:
        """Dev encoded for the saved best model (the same as for this one)."""
        return self.encoded_dev

    def save(self, output: Path, meta: dict[str, object]) -> None:
        """Write the model folder with the model `end_epoch` gave."""
        transformer = self.data.transformer.path if self.data.transformer is not None else None
        save_model(output, self.averaged, self.data.vocab, meta, transformer)

    def state(self) -> tuple[Tensors, dict[str, Any]]:
        """What resuming needs: the weights, the optimisers, the snapshots averaged and random states."""
        tensors = {f"model.{name}": value for name, value in self.model.state_dict().items()}
        if self.neighbour_words is not None:
            tensors.update({f"lm.{name}": value for name, value in self.neighbour_words.state_dict().items()})
        for number, snapshot in enumerate(self.snapshots):
            tensors.update({f"snapshot{number}.{name}": value for name, value in snapshot.items()})
        moments, optimizers = optimizer_state(self.optimizers)
        tensors.update(moments)
        return tensors, {**optimizers, **random_state(self.rng), "snapshots": len(self.snapshots)}

    def restore(self, tensors: Tensors, state: dict[str, Any]) -> None:
        """Put back what `state` saved."""
        self.model.load_state_dict(prefixed("model.", tensors))
        if self.neighbour_words is not None:
            self.neighbour_words.load_state_dict(prefixed("lm.", tensors))
        restore_optimizers(self.optimizers, tensors, state)
        self.snapshots = [prefixed(f"snapshot{n}.", tensors) for n in range(state["snapshots"])]
        restore_random_state(self.rng, state)
