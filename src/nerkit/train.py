"""Training: data to a sized model, the epoch loop, learning-rate decay, early stopping, logs, resume."""

from __future__ import annotations

import copy
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from nerkit.data.batches import (
    EncodedSentence,
    collate,
    encode_sentence,
    join_sentences,
    length_groups,
    pack_sentences,
)
from nerkit.data.conll import document_ids, read_conll
from nerkit.data.tags import Span, convert_tags, detect_scheme, tags_to_spans
from nerkit.data.vocab import Vocab, build_vocab
from nerkit.embeddings.cache import cached_token_features
from nerkit.embeddings.static import WordVectors, load_vectors
from nerkit.embeddings.transformer import Transformer, group_documents, load_transformer
from nerkit.errors import NerkitError
from nerkit.evaluate import Score, expected_calibration_error, score_sequences
from nerkit.files import PathLike
from nerkit.io import LoadedModel, load_checkpoint, load_model, remove_checkpoint, save_checkpoint, save_model
from nerkit.model.spec import ModelSpec
from nerkit.model.tagger import Tagger, tag_encoded
from nerkit.parallel import broadcast_flag, broadcast_parameters, shard, sum_gradients, sum_scalar, world
from nerkit.train_options import EpochLog, TrainOptions

MODEL_SCHEME = "BIOES"


@dataclass
class Corpus:
    """Sentences of one split: tokens, tags as in the file, and the document of each sentence."""

    tokens: list[tuple[str, ...]] = field(default_factory=list)
    tags: list[tuple[str, ...]] = field(default_factory=list)
    documents: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.tokens)


def read_corpus(path: PathLike, tag_column: int = -1) -> Corpus:
    """Read a tagged CoNLL file into a Corpus."""
    sentences = list(read_conll(path, tag_column=tag_column))
    return Corpus(
        tokens=[s.tokens for s in sentences],
        tags=[s.tags for s in sentences],
        documents=document_ids(sentences),
    )


def split_validation(corpus: Corpus, share: float, seed: int) -> tuple[Corpus, Corpus]:
    """Carve a dev split of `share` of the sentences out of train, reproducibly."""
    if not 0 < share < 1:
        raise NerkitError(
            f"validation split {share} must be between 0 and 1",
            hint="give --dev FILE, or --validation-split 0.1 to hold out a tenth of train",
        )
    order = list(range(len(corpus)))
    random.Random(seed).shuffle(order)
    cut = max(1, round(len(order) * share))
    if cut >= len(order):
        raise NerkitError(f"too few sentences ({len(order)}) to hold out a dev split", hint="give --dev FILE")
    held = set(order[:cut])
    dev, train = Corpus(), Corpus()
    for i in range(len(corpus)):
        part = dev if i in held else train
        part.tokens.append(corpus.tokens[i])
        part.tags.append(corpus.tags[i])
        part.documents.append(corpus.documents[i])
    return train, dev


def to_iob2(tags: Sequence[Sequence[str]]) -> list[list[str]]:
    """Tags rewritten as IOB2, the scheme conlleval's rules read correctly."""
    return [convert_tags(t, "IOB2") for t in tags]


def score_predictions(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> Score:
    """conlleval's figures for predicted against gold tags, both read as IOB2."""
    return score_sequences(to_iob2(gold), to_iob2(predicted))


def score_summary(score: Score, extended: bool) -> dict[str, object]:
    """Precision, recall, F1 (and per type when extended) of a Score, for an epoch log."""
    summary: dict[str, object] = {"precision": score.precision, "recall": score.recall, "f1": score.f1}
    if extended:
        summary["per_label"] = score.type_scores()
    return summary


def label_paths_to_tags(
    paths: Sequence[Sequence[int]], labels: Sequence[str], scheme: str
) -> list[list[str]]:
    """Label rows to tag strings, rewritten from the model's scheme into `scheme`."""
    return [convert_tags([labels[i] for i in path], scheme) for path in paths]


def score_encoded(
    model: Tagger, encoded: Sequence[EncodedSentence], corpus: Corpus, labels: Sequence[str]
) -> Score:
    """conlleval's figures for the model on a split's encoded sentences against its gold tags."""
    paths, _ = tag_encoded(model, encoded, confidence=False, documents=corpus.documents)
    return score_predictions(corpus.tags, label_paths_to_tags(paths, labels, "IOB2"))


def corpus_features(
    corpus: Corpus, transformer: Transformer, spec: ModelSpec, cache_dir: PathLike | None = None
) -> list[np.ndarray]:
    """Transformer features of every sentence of a split (from the cache when computed before)."""
    owners = corpus.documents if spec.transformer_context else list(range(len(corpus)))
    return cached_token_features(
        transformer,
        group_documents(corpus.tokens, owners),
        cache_dir or None,
        spec.transformer_layers,
        spec.transformer_pooling,
    )


def encode_split(
    corpus: Corpus, vocab: Vocab, features: Sequence[np.ndarray] | None = None
) -> list[EncodedSentence]:
    """A split's sentences encoded for tagging (no tags), with their transformer features if given."""
    encoded = [encode_sentence(tokens, vocab) for tokens in corpus.tokens]
    for sentence, values in zip(encoded, features or [], strict=False):
        sentence.features = values
    return encoded


def encode_training(
    corpus: Corpus, vocab: Vocab, context_tokens: int, features: Sequence[np.ndarray] | None = None
) -> list[EncodedSentence]:
    """The training split encoded once, its tags in the model's scheme (and its transformer features
    if given); with `context_tokens`, the sentences of each document packed into units read together."""
    encoded = [
        encode_sentence(tokens, vocab, convert_tags(tags, MODEL_SCHEME))
        for tokens, tags in zip(corpus.tokens, corpus.tags, strict=True)
    ]
    for sentence, values in zip(encoded, features or [], strict=False):
        sentence.features = values
    if not context_tokens:
        return encoded
    groups = pack_sentences([len(s) for s in encoded], corpus.documents, context_tokens)
    return [join_sentences([encoded[i] for i in group]) for group in groups]


def init_word_vectors(model: Tagger, vocab: Vocab, vectors: WordVectors) -> None:
    """Copy pretrained vectors into the rows of their words (never the padding or unknown row, even
    for a vectors file that lists `<pad>` or `<unk>` as words)."""
    rows = torch.tensor([vocab.word_index[word] for word in vectors.words], dtype=torch.long)
    kept = rows >= 2
    with torch.no_grad():
        model.word_embedding.weight[rows[kept]] = torch.from_numpy(vectors.vectors)[kept]


@dataclass
class Prepared:
    """The data of a run, read and checked, with the vocabulary and the model sized from it."""

    train: Corpus
    dev: Corpus
    test: Corpus | None
    vocab: Vocab
    spec: ModelSpec
    vectors: WordVectors | None
    transformer: Transformer | None = None


def prepare(
    train_path: PathLike,
    dev_path: PathLike | None = None,
    test_path: PathLike | None = None,
    embeddings: PathLike | None = None,
    options: TrainOptions | None = None,
) -> Prepared:
    """Read the splits (carving dev out of train when no dev file is given), load the vectors the data
    needs, build the vocabulary and size the model: everything a run does before its first epoch."""
    options = (options or TrainOptions()).resolved(has_vectors=embeddings is not None)
    train_corpus = read_corpus(train_path, options.tag_column)
    if dev_path is not None:
        dev_corpus = read_corpus(dev_path, options.tag_column)
    else:
        train_corpus, dev_corpus = split_validation(train_corpus, options.validation_split, options.seed)
    test_corpus = read_corpus(test_path, options.tag_column) if test_path is not None else None
    output_scheme = detect_scheme(train_corpus.tags).scheme or "IOB2"
    label_set = {"O"} | {tag for tags in train_corpus.tags for tag in convert_tags(tags, MODEL_SCHEME)}
    _warn_unseen_types(label_set, dev_corpus, "dev")
    if test_corpus is not None:
        _warn_unseen_types(label_set, test_corpus, "test")
    vectors = None
    if embeddings is not None:
        splits = [c for c in (train_corpus, dev_corpus, test_corpus) if c is not None]
        keep = {word for corpus in splits for sentence in corpus.tokens for word in sentence}
        vectors = load_vectors(embeddings, keep=keep, max_words=options.max_vectors)
    vocab = build_vocab(train_corpus.tokens, label_set, vectors.words if vectors is not None else ())
    if options.fine_tune and not options.transformer:
        raise NerkitError("--fine-tune needs --transformer FOLDER", hint="give a local transformer folder")
    transformer = (
        load_transformer(options.transformer, precision=options.transformer_precision)
        if options.transformer
        else None
    )
    word_dim = vectors.dim if vectors is not None else (0 if options.fine_tune else options.word_dim)
    spec = ModelSpec(
        labels=vocab.labels,
        scheme=MODEL_SCHEME,
        output_scheme=output_scheme,
        words=len(vocab.words),
        pretrained_words=len(vectors.words) if vectors is not None else 0,
        word_dim=word_dim,
        chars=len(vocab.chars),
        char_filters=options.char_filters,
        casing_dim=options.casing_dim,
        hidden=options.hidden,
        dropout=options.dropout,
        word_dropout=options.word_dropout,
        context_tokens=0 if options.fine_tune else options.context_tokens,
        locked_dropout=options.locked_dropout,
        layers=0 if options.fine_tune else 1,  # a fine-tuned transformer needs no BiLSTM on top
        head=options.head,
        transformer_dim=transformer.dim if transformer is not None else 0,
        transformer_layers=(1 if options.fine_tune else min(options.transformer_layers, transformer.layers))
        if transformer is not None
        else 0,
        transformer_pooling="first" if options.fine_tune else options.transformer_pooling,
        transformer_window=transformer.window if transformer is not None else 0,
        transformer_context=bool(options.transformer_context),
    )
    return Prepared(train_corpus, dev_corpus, test_corpus, vocab, spec, vectors, transformer)


def plan_model(
    train_path: PathLike,
    dev_path: PathLike | None = None,
    embeddings: PathLike | None = None,
    options: TrainOptions | None = None,
) -> tuple[ModelSpec, int]:
    """The spec and parameter count of the model `train` would build for this data, without training."""
    data = prepare(train_path, dev_path, None, embeddings, options)
    return data.spec, Tagger(data.spec).parameter_count()


@dataclass
class TrainResult:
    """What a training run produced."""

    output: Path
    best_epoch: int
    dev: dict[str, object]
    logs: list[EpochLog]
    stopped_early: bool
    interrupted: bool


def _set_seed(seed: int) -> random.Random:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return random.Random(seed)


def train(
    train_path: PathLike,
    output: PathLike,
    dev_path: PathLike | None = None,
    test_path: PathLike | None = None,
    embeddings: PathLike | None = None,
    options: TrainOptions | None = None,
    on_epoch: Callable[[EpochLog], None] | None = None,
    resume: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
    log_folder: PathLike | None = None,
    on_ready: Callable[[ModelSpec, int], None] | None = None,
) -> TrainResult:
    """Train a tagger on a CoNLL file and save the best model (by dev F1) to `output`.

    `on_epoch` gets each epoch's log; `on_batch(done, total)` is called after every training batch (for a
    progress bar). With `log_folder`, the epoch lines (and per-type tables) also go to a dated .log file
    there, as the seed's output logs do. `on_ready(spec, parameters)` is called once the model is sized.
    Ctrl-C stops cleanly: the best model so far stays saved and `resume=True` goes on.

    Inside torch.distributed (`nerkit.spark.train` starts it) every process reads the data and takes its
    share of each batch, their gradients are summed, and rank 0 alone scores, logs and saves.
    """
    options = options or TrainOptions()
    rank, processes = world()
    torch.set_num_threads(options.threads or max(1, (os.cpu_count() or 1) // processes))
    rng = _set_seed(options.seed)
    output = Path(output)
    if processes > 1 and (resume or options.fine_tune):
        raise NerkitError(
            "distributed training cannot resume or fine-tune a transformer", hint="train in one process"
        )

    options = options.resolved(has_vectors=embeddings is not None)
    data = prepare(train_path, dev_path, test_path, embeddings, options)
    log_file = None
    if log_folder is not None:
        Path(log_folder).mkdir(parents=True, exist_ok=True)
        log_file = Path(log_folder) / f"nerkit-train-{time.strftime('%Y%m%d-%H%M%S')}.log"
    metadata = {"training": asdict(options), "data": {"train": str(train_path), "dev": str(dev_path or "")}}
    if options.fine_tune:
        if resume:
            raise NerkitError("--resume is not available with --fine-tune", hint="start the run again")
        from nerkit.finetune import fine_tune

        (output / "train_log.jsonl").unlink(missing_ok=True)
        return fine_tune(data, output, options, metadata, on_epoch, on_batch, log_file, on_ready)
    train_corpus, dev_corpus, test_corpus, vocab = data.train, data.dev, data.test, data.vocab
    model = Tagger(data.spec)
    if data.vectors is not None:
        init_word_vectors(model, vocab, data.vectors)
    if processes > 1:
        broadcast_parameters(model)
        torch.manual_seed(options.seed + rank)  # each process its own dropout masks
    if on_ready is not None and rank == 0:
        on_ready(data.spec, model.parameter_count())
    # the word table is large: sparse gradients and a sparse Adam update only the rows a batch uses
    dense = [p for name, p in model.named_parameters() if name != "word_embedding.weight"]
    optimizers = [
        torch.optim.SparseAdam([model.word_embedding.weight], lr=options.learning_rate),
        torch.optim.Adam(dense, lr=options.learning_rate),
    ]

    transformer = data.transformer

    def features(corpus: Corpus) -> list[np.ndarray] | None:
        if transformer is None:
            return None
        return corpus_features(corpus, transformer, data.spec, options.feature_cache)

    encoded_train = encode_training(train_corpus, vocab, options.context_tokens, features(train_corpus))
    encoded_dev = encode_split(dev_corpus, vocab, features(dev_corpus))
    encoded_test = (
        encode_split(test_corpus, vocab, features(test_corpus)) if test_corpus is not None else None
    )
    transformer_path = transformer.path if transformer is not None else None
    train_tokens = sum(len(s) for s in encoded_train)

    logs: list[EpochLog] = []
    snapshots: list[dict[str, torch.Tensor]] = []  # weights at the end of the last epochs, oldest first
    best_f1, best_epoch, start_epoch = -1.0, 0, 1
    if resume:
        state, snapshots = load_checkpoint(output, model, optimizers)
        best_f1, best_epoch, start_epoch = state["best_f1"], state["best_epoch"], state["epoch"] + 1
        logs = [EpochLog(**entry) for entry in state["logs"]]
        rng.setstate(_tuple_state(state["rng"]))
        torch.set_rng_state(torch.tensor(state["torch_rng"], dtype=torch.uint8))
    elif rank == 0:
        (output / "train_log.jsonl").unlink(missing_ok=True)
        remove_checkpoint(output)
    stopped_early = interrupted = False
    # with average_epochs > 1 the model evaluated and saved is the mean of the last epochs' weights
    averaged = copy.deepcopy(model) if options.average_epochs > 1 else model  # no draw from the RNG
    try:
        for epoch in range(start_epoch, options.max_epochs + 1):
            learning_rate = lr_at(options, epoch)
            for optimizer in optimizers:
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate
            model.train()
            started = time.perf_counter()
            total_loss, batches = 0.0, 0
            # batches are padded one at a time: all of an epoch's at once would copy every feature
            epoch_batches = length_groups(encoded_train, options.batch_size, rng)
            for rows in epoch_batches:
                for optimizer in optimizers:
                    optimizer.zero_grad(set_to_none=True)
                local = shard(rows, rank, processes)
                if local:  # this process's share, weighted so the summed gradient is the batch mean's
                    loss = model.loss(collate([encoded_train[i] for i in local], local))
                    (loss * (len(local) / len(rows))).backward()
                    total_loss += loss.item() * len(local) / len(rows)
                if processes > 1:
                    sum_gradients(dense, model.word_embedding.weight)
                torch.nn.utils.clip_grad_norm_(dense, options.clip)
                for optimizer in optimizers:
                    optimizer.step()
                batches += 1
                if on_batch is not None:
                    on_batch(batches, len(epoch_batches))
            seconds = time.perf_counter() - started
            if processes > 1:
                total_loss = sum_scalar(total_loss)
                if rank != 0:  # rank 0 scores and saves; the others learn from it whether to go on
                    if broadcast_flag(False):
                        break
                    continue
            if options.average_epochs > 1:
                snapshots = [*snapshots, _copy_weights(model)][-options.average_epochs :]
                averaged.load_state_dict(average_weights(snapshots))
            dev_score = score_encoded(averaged, encoded_dev, dev_corpus, vocab.labels)
            test_score = None
            if encoded_test is not None and test_corpus is not None:
                test_score = score_encoded(averaged, encoded_test, test_corpus, vocab.labels)
            loss = total_loss / max(batches, 1)
            log = epoch_log(
                epoch, loss, learning_rate, seconds, train_tokens, dev_score, test_score, best_f1, options
            )
            logs.append(log)
            if log.best:
                best_f1, best_epoch = dev_score.f1, epoch
                meta = {**metadata, "dev": log.dev, "best_epoch": epoch}
                save_model(output, averaged, vocab, meta, transformer_path)
            save_checkpoint(
                output,
                model,
                optimizers,
                {
                    "epoch": epoch,
                    "best_f1": best_f1,
                    "best_epoch": best_epoch,
                    "logs": [asdict(entry) for entry in logs],
                    "rng": rng.getstate(),
                    "torch_rng": torch.get_rng_state().tolist(),
                },
                snapshots,
            )
            stopped_early = close_epoch(output, log, log_file, on_epoch, options, best_epoch)
            if processes > 1:
                broadcast_flag(stopped_early)
            if stopped_early:
                break
    except KeyboardInterrupt:
        interrupted = True
    if rank != 0:
        return TrainResult(output, 0, {}, [], False, interrupted)
    if best_epoch:
        save_calibrated(output, dev_corpus, lambda best: encoded_dev)
    if not interrupted:
        remove_checkpoint(output)
    best_dev = next((entry.dev for entry in logs if entry.epoch == best_epoch), {})
    return TrainResult(output, best_epoch, best_dev, logs, stopped_early, interrupted)


def epoch_log(
    epoch: int,
    loss: float,
    learning_rate: float,
    seconds: float,
    tokens: int,
    dev: Score,
    test: Score | None,
    best_f1: float,
    options: TrainOptions,
) -> EpochLog:
    """An epoch's record from its scores, marked best when its dev F1 beats `best_f1`."""
    return EpochLog(
        epoch=epoch,
        loss=loss,
        learning_rate=learning_rate,
        seconds=seconds,
        tokens_per_second=tokens / seconds,
        dev=score_summary(dev, options.extended_log),
        test=score_summary(test, options.extended_log) if test is not None else None,
        best=dev.f1 > best_f1,
    )


def save_calibrated(
    output: Path, dev: Corpus, encode_dev: Callable[[LoadedModel], Sequence[EncodedSentence]]
) -> None:
    """Rewrite the saved best model with the calibration of its confidences on dev added; `encode_dev`
    gives the dev split encoded for that model."""
    best = load_model(output)
    calibration = dev_calibration(best.model, encode_dev(best), dev, best.vocab.labels)
    kept = {key: best.meta[key] for key in ("training", "data", "dev", "best_epoch") if key in best.meta}
    transformer = best.transformer.path if best.transformer is not None else None
    save_model(output, best.model, best.vocab, {**kept, "calibration": calibration}, transformer)


def _copy_weights(model: Tagger) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def average_weights(snapshots: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of several weight snapshots (buffers that are not floats: the last one's)."""
    last = snapshots[-1]
    return {
        name: torch.stack([s[name] for s in snapshots]).mean(0) if tensor.is_floating_point() else tensor
        for name, tensor in last.items()
    }


def dev_calibration(
    model: Tagger, encoded: Sequence[EncodedSentence], dev: Corpus, labels: Sequence[str]
) -> dict[str, float]:
    """Expected calibration error (10 bins) of token tags and of entities on dev; an entity's confidence
    is its tokens' lowest marginal, and it is right when gold has the same span and type."""
    paths, marginals = tag_encoded(model, encoded, documents=dev.documents)
    predicted = label_paths_to_tags(paths, labels, "IOB2")
    token_conf: list[float] = []
    token_right: list[bool] = []
    entity_conf: list[float] = []
    entity_right: list[bool] = []
    for tags, confidences, gold_tags in zip(predicted, marginals, to_iob2(dev.tags), strict=True):
        token_conf.extend(confidences)
        token_right.extend(p == g for p, g in zip(tags, gold_tags, strict=True))
        gold_spans: set[Span] = set(tags_to_spans(gold_tags))
        for span in tags_to_spans(tags):
            entity_conf.append(min(confidences[span.start : span.end]))
            entity_right.append(span in gold_spans)
    return {
        "token_ece": expected_calibration_error(token_conf, token_right),
        "entity_ece": expected_calibration_error(entity_conf, entity_right),
        "entities": len(entity_conf),
    }


def _tuple_state(state: object) -> object:
    """random.Random state back from JSON lists to the nested tuples it needs."""
    if isinstance(state, list):
        return tuple(_tuple_state(item) for item in state)
    return state


def _warn_unseen_types(labels: set[str], corpus: Corpus, name: str) -> None:
    known = {label.partition("-")[2] for label in labels}
    unseen = sorted({tag.partition("-")[2] for tags in corpus.tags for tag in tags} - known - {""})
    if unseen:
        print(
            f"nerkit: warning: {name} has entity types never seen in train: {', '.join(unseen)}; "
            "the model cannot predict them",
            file=sys.stderr,
        )


def close_epoch(
    output: Path,
    log: EpochLog,
    log_file: Path | None,
    on_epoch: Callable[[EpochLog], None] | None,
    options: TrainOptions,
    best_epoch: int,
) -> bool:
    """Write and report an epoch's record; True when early stopping ends the run there."""
    write_epoch_log(output, log, log_file)
    if on_epoch is not None:
        on_epoch(log)
    return log.epoch >= options.min_epochs and log.epoch - best_epoch >= options.patience


def write_epoch_log(output: Path, log: EpochLog, log_file: Path | None = None) -> None:
    """Append an epoch's record to the model folder's train_log.jsonl (and its lines to `log_file`)."""
    with (output / "train_log.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(log)) + "\n")
    if log_file is not None:
        with log_file.open("a", encoding="utf-8") as handle:
            handle.write(log.line() + "\n" + (log.table() + "\n" if log.table() else ""))


def lr_at(options: TrainOptions, epoch: int) -> float:
    """The learning rate of an epoch (1-based) under the `po` decay: lr / (1 + po * (epoch - 1))."""
    return options.learning_rate / (1 + options.po * (epoch - 1))
