"""Everything a run does before its first epoch: the splits read, the vectors and transformer loaded, the
vocabulary built and the model sized from them."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import torch

from nerkit.data.formats import ReadOptions, adjustment_note
from nerkit.data.tags import convert_tags, detect_scheme
from nerkit.data.vocab import Vocab, build_vocab
from nerkit.embeddings.static import WordVectors, load_vectors
from nerkit.embeddings.transformer import Transformer, load_transformer
from nerkit.errors import NerkitError
from nerkit.files import PathLike
from nerkit.model.spec import ModelSpec
from nerkit.model.tagger import Tagger
from nerkit.training.corpus import MODEL_SCHEME, Corpus, read_corpus, split_validation
from nerkit.training.options import TrainOptions, chosen


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
    input_format: str | None = None,
    read: ReadOptions | None = None,
) -> Prepared:
    """Read the splits (carving dev out of train when no dev file is given), load the vectors the data
    needs, build the vocabulary and size the model: everything a run does before its first epoch.
    Each file's format is detected on its own unless `input_format` names one for all; `read` says
    how to read them (its tag column is `options.tag_column`)."""
    options = (options or TrainOptions()).resolved(has_vectors=embeddings is not None)
    train_corpus, dev_corpus, test_corpus = read_splits(
        train_path, dev_path, test_path, options, input_format, read
    )
    if dev_path is not None and not len(dev_corpus):
        raise NerkitError(
            "no annotated sentence to score the model on",
            path=dev_path,
            hint="give a dev file with annotated text (nerkit stats shows what was left out and why)",
        )
    label_set = {"O"} | {tag for tags in train_corpus.tags for tag in convert_tags(tags, MODEL_SCHEME)}
    if label_set == {"O"}:
        raise NerkitError(
            "every tag is O: there is no entity to learn",
            path=train_path,
            hint="annotate some entities, or give --tag-column if the tags are in another column",
        )
    _warn_unseen_types(label_set, dev_corpus, "dev")
    if test_corpus is not None:
        _warn_unseen_types(label_set, test_corpus, "test")
    vectors = None
    if embeddings is not None:
        splits = [c for c in (train_corpus, dev_corpus, test_corpus) if c is not None]
        keep = {word for corpus in splits for sentence in corpus.tokens for word in sentence}
        vectors = load_vectors(embeddings, keep=keep, max_words=options.max_vectors)
    vocab = build_vocab(train_corpus.tokens, label_set, vectors.words if vectors is not None else ())
    transformer = (
        load_transformer(options.transformer, precision=options.transformer_precision)
        if options.transformer is not None
        else None
    )
    output_scheme = detect_scheme(train_corpus.tags).scheme or "IOB2"
    spec = size_model(vocab, vectors, transformer, options, output_scheme)
    return Prepared(train_corpus, dev_corpus, test_corpus, vocab, spec, vectors, transformer)


def read_splits(
    train_path: PathLike,
    dev_path: PathLike | None,
    test_path: PathLike | None,
    options: TrainOptions,
    input_format: str | None = None,
    read: ReadOptions | None = None,
) -> tuple[Corpus, Corpus, Corpus | None]:
    """The train, dev and test splits, each file in its own format (or `input_format`); dev carved
    out of train when no dev file is given. What aligning a file's annotations adjusted is one note
    on standard error."""

    def read_split(path: PathLike) -> Corpus:
        corpus = read_corpus(path, options.tag_column, input_format, read)
        note = adjustment_note(path, corpus.adjustments, input_format, read)
        if note:
            print(f"nerkit: note: {note}", file=sys.stderr)
        return corpus

    train_corpus = read_split(train_path)
    if dev_path is not None:
        dev_corpus = read_split(dev_path)
    else:
        train_corpus, dev_corpus = split_validation(train_corpus, options.validation_split, options.seed)
    test_corpus = read_split(test_path) if test_path is not None else None
    return train_corpus, dev_corpus, test_corpus


def size_model(
    vocab: Vocab,
    vectors: WordVectors | None,
    transformer: Transformer | None,
    options: TrainOptions,
    output_scheme: str,
) -> ModelSpec:
    """The spec of the model for this vocabulary, these vectors and transformer, and resolved options."""
    word_dim = vectors.dim if vectors is not None else (0 if options.fine_tune else options.word_dim)
    return ModelSpec(
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
        dropout=chosen(options.dropout),
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


def plan_model(
    train_path: PathLike,
    dev_path: PathLike | None = None,
    embeddings: PathLike | None = None,
    options: TrainOptions | None = None,
    input_format: str | None = None,
    read: ReadOptions | None = None,
) -> tuple[ModelSpec, int]:
    """The spec and parameter count of the model `train` would build for this data (in any format, as
    `prepare` reads it), without training."""
    data = prepare(train_path, dev_path, None, embeddings, options, input_format, read)
    return data.spec, data.spec.parameter_count()


def init_word_vectors(model: Tagger, vocab: Vocab, vectors: WordVectors) -> None:
    """Copy pretrained vectors into the rows of their words (never the padding or unknown row, even
    for a vectors file that lists `<pad>` or `<unk>` as words)."""
    if model.word_embedding is None:
        raise ValueError("a model without a word table cannot take word vectors")
    rows = torch.tensor([vocab.word_index[word] for word in vectors.words], dtype=torch.long)
    kept = rows >= 2
    with torch.no_grad():
        model.word_embedding.weight[rows[kept]] = torch.from_numpy(vectors.vectors)[kept]


def _warn_unseen_types(labels: set[str], corpus: Corpus, name: str) -> None:
    known = {label.partition("-")[2] for label in labels}
    unseen = sorted({tag.partition("-")[2] for tags in corpus.tags for tag in tags} - known - {""})
    if unseen:
        print(
            f"nerkit: warning: {name} has entity types never seen in train: {', '.join(unseen)}; "
            "the model cannot predict them",
            file=sys.stderr,
        )
