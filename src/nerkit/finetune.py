"""Fine-tuning a transformer as a tagger: document-context windows, first-sub-word labels, a CRF or linear
head, linear warm-up and decay, gradient clipping; saved as the same model folder as `nerkit train`."""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from nerkit.data.batches import EncodedSentence, collate, encode_sentence, join_sentences
from nerkit.data.tags import convert_tags
from nerkit.data.vocab import Vocab
from nerkit.embeddings.transformer import (
    Transformer,
    budget_batches,
    group_documents,
    subword_pieces,
    token_features,
    window_inputs,
)
from nerkit.errors import NerkitError
from nerkit.files import PathLike
from nerkit.io import save_model
from nerkit.model.spec import ModelSpec
from nerkit.model.tagger import Tagger
from nerkit.train import (
    MODEL_SCHEME,
    Corpus,
    Prepared,
    TrainResult,
    close_epoch,
    encode_split,
    epoch_log,
    init_word_vectors,
    save_calibrated,
    score_encoded,
)
from nerkit.train_options import EpochLog, TrainOptions

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
    hidden = transformer.model(input_ids=ids, attention_mask=mask).last_hidden_state  # [units, width, dim]
    picked = hidden.gather(1, first.unsqueeze(2).expand(-1, -1, hidden.size(2)))  # [units, tokens, dim]
    return picked.unsqueeze(2)


def fine_tune(
    data: Prepared,
    output: PathLike,
    options: TrainOptions,
    metadata: dict[str, object],
    on_epoch: Callable[[EpochLog], None] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
    log_file: Path | None = None,
    on_ready: Callable[..., None] | None = None,
) -> TrainResult:
    """Fine-tune `data.transformer` with a tagging head on the prepared splits; keep the best epoch by
    dev F1 in `output` (the transformer's new weights in its `transformer/` folder)."""
    transformer = data.transformer
    if transformer is None:
        raise NerkitError("fine-tuning needs a transformer", hint="add --transformer FOLDER")
    output = Path(output)
    rng = random.Random(options.seed)
    torch.manual_seed(options.seed)
    vocab, spec = data.vocab, data.spec
    head = Tagger(spec)
    if head.word_embedding is not None:  # stacked word vectors stay as they are: fixed features
        if data.vectors is not None:
            init_word_vectors(head, vocab, data.vectors)
        head.word_embedding.weight.requires_grad_(False)
    if spec.head == "linear":  # decoding keeps the BIOES rules, with no learned transition scores
        for parameter in head.crf.parameters():
            parameter.requires_grad_(False)
    if on_ready is not None:
        on_ready(spec, head.parameter_count())

    encoded_train = [
        encode_sentence(tokens, vocab, convert_tags(tags, MODEL_SCHEME))
        for tokens, tags in zip(data.train.tokens, data.train.tags, strict=True)
    ]
    units, skipped = training_units(data.train, transformer, encoded_train, spec.transformer_context)
    if skipped:
        print(
            f"warning: {skipped} training sentence(s) longer than the transformer window "
            f"({transformer.window} sub-words) are left out of fine-tuning",
            file=sys.stderr,
        )
    train_tokens = sum(len(u.first) for u in units)
    decay, no_decay = [], []
    for name, parameter in transformer.model.named_parameters():
        (no_decay if parameter.ndim == 1 or "LayerNorm" in name else decay).append(parameter)
    head_parameters = [p for p in head.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "lr": options.learning_rate, "weight_decay": WEIGHT_DECAY},
            {"params": no_decay, "lr": options.learning_rate, "weight_decay": 0.0},
            {"params": head_parameters, "lr": HEAD_LEARNING_RATE, "weight_decay": 0.0},
        ]
    )
    peaks = [group["lr"] for group in optimizer.param_groups]
    steps_per_epoch = len(unit_batches(units, BATCH_SUBWORDS, random.Random(0)))
    total_steps = max(1, steps_per_epoch * options.max_epochs)
    warmup = max(1, int(WARMUP_SHARE * total_steps))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    logs: list[EpochLog] = []
    best_f1, best_epoch, step = -1.0, 0, 0
    stopped_early = interrupted = False
    parameters = [*transformer.model.parameters(), *head_parameters]
    scratch = Path(
        tempfile.mkdtemp(prefix=".nerkit-finetune-", dir=output.parent if output.parent.exists() else None)
    )
    try:
        for epoch in range(1, options.max_epochs + 1):
            transformer.model.train()
            head.train()
            started = time.perf_counter()
            total_loss = 0.0
            batches = unit_batches(units, BATCH_SUBWORDS, rng)
            for done, batch_units in enumerate(batches, start=1):
                for group, peak in zip(optimizer.param_groups, peaks, strict=True):
                    group["lr"] = peak * schedule(step)
                chosen = [units[i] for i in batch_units]
                batch = collate([u.encoded for u in chosen], list(batch_units))
                batch.features = unit_features(transformer, chosen)
                loss = head.loss(batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(parameters, CLIP)
                optimizer.step()
                total_loss += loss.item()
                step += 1
                if on_batch is not None:
                    on_batch(done, len(batches))
            seconds = time.perf_counter() - started
            encoded_dev = _encode_with_features(transformer, data.dev, vocab, spec)
            dev_score = score_encoded(head, encoded_dev, data.dev, vocab.labels)
            test_score = None
            if data.test is not None:
                encoded_test = _encode_with_features(transformer, data.test, vocab, spec)
                test_score = score_encoded(head, encoded_test, data.test, vocab.labels)
            loss, rate = total_loss / max(len(batches), 1), optimizer.param_groups[0]["lr"]
            log = epoch_log(epoch, loss, rate, seconds, train_tokens, dev_score, test_score, best_f1, options)
            logs.append(log)
            if log.best:
                best_f1, best_epoch = dev_score.f1, epoch
                _save(
                    output,
                    head,
                    transformer,
                    data,
                    scratch,
                    {**metadata, "dev": log.dev, "best_epoch": epoch},
                )
            if close_epoch(output, log, log_file, on_epoch, options, best_epoch):
                stopped_early = True
                break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if best_epoch:
        save_calibrated(
            output, data.dev, lambda best: _encode_with_features(best.transformer, data.dev, vocab, spec)
        )
    best_dev = next((entry.dev for entry in logs if entry.epoch == best_epoch), {})
    return TrainResult(output, best_epoch, best_dev, logs, stopped_early, interrupted)


def _encode_with_features(
    transformer: Transformer, corpus: Corpus, vocab: Vocab, spec: ModelSpec
) -> list[EncodedSentence]:
    """A split encoded with the transformer's current features (inference, whole-document windows)."""
    transformer.model.eval()
    owners = corpus.documents if spec.transformer_context else list(range(len(corpus)))
    features = token_features(transformer, group_documents(corpus.tokens, owners), layers=1, pooling="first")
    return encode_split(corpus, vocab, features)


def _save(
    output: Path,
    head: Tagger,
    transformer: Transformer,
    data: Prepared,
    scratch: Path,
    meta: dict[str, object],
) -> None:
    """Write the model folder: the head's weights and the fine-tuned transformer's."""
    folder = scratch / "transformer"
    shutil.rmtree(folder, ignore_errors=True)
    transformer.model.save_pretrained(folder, safe_serialization=True)
    for name in os.listdir(transformer.path):
        if name.startswith(("tokenizer", "special_tokens", "vocab", "merges", "added_tokens")):
            shutil.copyfile(transformer.path / name, folder / name)
    save_model(output, head, data.vocab, meta, folder)
