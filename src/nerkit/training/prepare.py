"""Everything a run does before its first epoch: the splits read, the vectors and transformer loaded, the
vocabulary built and the model sized from them."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from nerkit.data.formats import ReadOptions, adjustment_note
from nerkit.data.gazetteer import Masked, build_gazetteer, entity_types, grow_gazetteer, masks
from nerkit.data.tags import convert_tags, detect_scheme
from nerkit.data.vocab import Vocab, build_vocab, grow_vocab
from nerkit.embeddings.static import WordVectors, load_vectors
from nerkit.embeddings.transformer import Transformer, load_transformer
from nerkit.errors import NerkitError
from nerkit.files import PathLike
from nerkit.model.folder import LoadedModel
from nerkit.model.spec import ModelSpec
from nerkit.model.tagger import Tagger
from nerkit.training.continued import continue_from, grown_spec
from nerkit.training.corpus import (
    MODEL_SCHEME,
    Corpus,
    mark_annotated,
    merge_corpora,
    read_corpus,
    split_validation,
)
from nerkit.training.options import TrainOptions, chosen
from nerkit.training.sources import TrainingData, TrainingFile, parse_training_file, training_files
from nerkit.training.teacher import Teaching, taught_corpus


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
    start: LoadedModel | None = None  # the model continued from (--init), its vocabulary the old part
    rehearse: Corpus | None = None  # earlier data mixed into every epoch (--rehearse)
    files: list[TrainingFile] = field(default_factory=list)  # the training files, with what each annotates
    teaching: Teaching | None = None  # what the run keeps of its --teacher: labels, record, marginals
    masked: list[Masked] | None = None  # with --gazetteer: per training sentence, its own phrases
    dev_masked: list[Masked] | None = None  # and per dev sentence, when dev was carved out of train
    rehearse_masked: list[Masked] | None = None  # and per rehearsed sentence, among the rehearsed

    def soft_targets(self) -> list[np.ndarray] | None:
        """The teacher's marginals of every training sentence in this model's label columns, or None."""
        return self.teaching.soft_targets(self.vocab.labels) if self.teaching is not None else None


def prepare(
    train_path: TrainingData,
    dev_path: PathLike | None = None,
    test_path: PathLike | None = None,
    embeddings: PathLike | None = None,
    options: TrainOptions | None = None,
    input_format: str | None = None,
    read: ReadOptions | None = None,
    start: LoadedModel | None = None,
) -> Prepared:
    """Read the splits (carving dev out of train when no dev file is given), load the vectors the data
    needs, build the vocabulary and size the model: everything a run does before its first epoch.
    Each file's format is detected on its own unless `input_format` names one for all; `read` says
    how to read them (its tag column is `options.tag_column`). With `start` (the model --init
    continues, see `nerkit.training.continued`), its vocabulary and spec grow instead."""
    options = (options or TrainOptions()).resolved(has_vectors=embeddings is not None)
    files = training_files(train_path, options.annotated_types)
    train_corpus, dev_corpus, test_corpus = read_splits(
        files, dev_path, test_path, options, input_format, read
    )
    rehearse, checked = None, files
    if options.rehearse is not None:
        rehearsed = parse_training_file(options.rehearse, flag="--rehearse")
        rehearse = mark_annotated(
            read_noted(rehearsed.path, options, input_format, read), rehearsed.annotated
        )
        checked = [*files, rehearsed]  # its types are checked with the training files'
    gold_corpus = train_corpus  # its scheme is the one predictions come out in
    train_corpus, teaching = taught_corpus(train_corpus, options)
    if dev_path is not None and not len(dev_corpus):
        raise NerkitError(
            "no annotated sentence to score the model on",
            path=dev_path,
            hint="give a dev file with annotated text (nerkit stats shows what was left out and why)",
        )
    learned = [train_corpus, *([rehearse] if rehearse is not None else [])]
    label_set = {"O"} | {tag for c in learned for tags in c.tags for tag in convert_tags(tags, MODEL_SCHEME)}
    if start is not None:
        label_set |= set(start.vocab.labels)
    if teaching is not None:
        label_set |= set(teaching.labels)
    _check_annotated_types(checked, label_set)
    if label_set == {"O"}:
        raise NerkitError(
            "every tag is O: there is no entity to learn",
            path=checked[0].path if len(checked) == 1 else None,
            hint="annotate some entities, or give --tag-column if the tags are in another column",
        )
    _warn_unseen_types(label_set, dev_corpus, "dev")
    if test_corpus is not None:
        _warn_unseen_types(label_set, test_corpus, "test")
    vectors = None
    if embeddings is not None:
        splits = [c for c in (*learned, dev_corpus, test_corpus) if c is not None]
        keep = {word for corpus in splits for sentence in corpus.tokens for word in sentence}
        vectors = load_vectors(embeddings, keep=keep, max_words=options.max_vectors)
    tokens = [sentence for corpus in learned for sentence in corpus.tokens]
    vector_words = vectors.words if vectors is not None else ()
    masked = dev_masked = own = None
    if start is not None:
        vocab = grow_vocab(start.vocab, tokens, label_set, vector_words)
        if start.vocab.gazetteer is not None:  # the old phrases, and the new data's
            vocab.gazetteer, own = grow_gazetteer(
                start.vocab.gazetteer,
                gold_corpus.tokens,
                gold_corpus.tags,
                gold_corpus.documents,
                entity_types(vocab.labels),
            )
        spec = _continued_spec(start, vocab, vectors, options)
        transformer = start.transformer
    else:
        vocab = build_vocab(tokens, label_set, vector_words)
        if options.gazetteer and _one_document(gold_corpus):
            print(
                "nerkit: note: the training data is one document, so the model has no gazetteer: its "
                "features only fire, in training, on phrases another document annotates",
                file=sys.stderr,
            )
        elif options.gazetteer:  # the gold entities only: the teacher's guesses on --unlabeled text are not
            vocab.gazetteer, own = build_gazetteer(
                gold_corpus.tokens, gold_corpus.tags, gold_corpus.documents, entity_types(vocab.labels)
            )
        transformer = (
            load_transformer(
                options.transformer,
                window=options.transformer_window,
                precision=options.transformer_precision,
            )
            if options.transformer is not None
            else None
        )
        output_scheme = detect_scheme(gold_corpus.tags).scheme or "IOB2"
        spec = size_model(vocab, vectors, transformer, options, output_scheme)
    if own is not None:
        # gold comes first in train (see taught_corpus); the teacher's sentences see every phrase
        unlabeled = len(train_corpus) - len(gold_corpus)
        masked = masks(own, gold_corpus.documents) + [frozenset()] * unlabeled
        if dev_path is None:  # carved out of train, dev's documents are train's: masked alike
            dev_masked = masks(own, dev_corpus.documents)
    rehearse_masked = None
    if vocab.gazetteer is not None and rehearse is not None:  # the old data: its phrases are the model's
        types = vocab.gazetteer.types
        _, rehearsed_own = build_gazetteer(rehearse.tokens, rehearse.tags, rehearse.documents, types)
        rehearse_masked = masks(rehearsed_own, rehearse.documents)
    return Prepared(
        train_corpus,
        dev_corpus,
        test_corpus,
        vocab,
        spec,
        vectors,
        transformer,
        start,
        rehearse,
        files,
        teaching,
        masked,
        dev_masked,
        rehearse_masked,
    )


def _one_document(corpus: Corpus) -> bool:
    """Whether every sentence of a corpus belongs to one document (a gazetteer's masks would hide all)."""
    return len(set(corpus.documents)) < 2


def _continued_spec(
    start: LoadedModel, vocab: Vocab, vectors: WordVectors | None, options: TrainOptions
) -> ModelSpec:
    """The spec of a continued model: the start's, grown to `vocab`, with this run's dropouts and
    document context."""
    spec = start.model.spec
    if vectors is not None and vectors.dim != spec.word_dim:
        raise NerkitError(
            f"the vectors are {vectors.dim}-dimensional, the model's word table {spec.word_dim}",
            path=options.init,
            hint="give the vectors the model was trained with, or leave out --embeddings",
        )
    old = len(start.vocab.words)
    pretrained = len(set(vocab.words[old:]) & set(vectors.words)) if vectors is not None else 0
    grown = grown_spec(spec, vocab.labels, len(vocab.words), len(vocab.chars), pretrained)
    return replace(
        grown,
        gazetteer_dim=vocab.gazetteer.width if vocab.gazetteer is not None else 0,
        dropout=chosen(options.dropout),
        word_dropout=options.word_dropout,
        locked_dropout=options.locked_dropout,
        context_tokens=options.context_tokens,
    )


def _check_annotated_types(files: Sequence[TrainingFile], labels: set[str]) -> None:
    """Every type a training file says it annotates must be a type some file tags or the model knows."""
    known = {label.partition("-")[2] for label in labels}
    for file in files:
        unknown = [name for name in file.annotated or () if name not in known]
        if unknown:
            raise NerkitError(
                f"annotates {', '.join(unknown)}, a type no training file tags and the model does not know",
                path=file.path,
                hint="check the type names (they are case-sensitive), or leave them out",
            )


def read_splits(
    train_path: TrainingData,
    dev_path: PathLike | None,
    test_path: PathLike | None,
    options: TrainOptions,
    input_format: str | None = None,
    read: ReadOptions | None = None,
) -> tuple[Corpus, Corpus, Corpus | None]:
    """The train, dev and test splits, each file in its own format (or `input_format`); dev carved
    out of train when no dev file is given. What aligning a file's annotations adjusted is one note
    on standard error."""

    files = training_files(train_path, options.annotated_types)
    if dev_path is None and any(file.annotated is not None for file in files):
        raise NerkitError(
            "partially annotated training files need a --dev file: a dev split carved out of them would "
            "count the types they leave out as mistakes",
            hint="give --dev FILE, annotated for every type",
        )
    corpora = [
        mark_annotated(read_noted(file.path, options, input_format, read), file.annotated) for file in files
    ]
    train_corpus = merge_corpora(corpora)
    if dev_path is not None:
        dev_corpus = read_noted(dev_path, options, input_format, read)
    else:
        train_corpus, dev_corpus = split_validation(train_corpus, options.validation_split, options.seed)
    test_corpus = read_noted(test_path, options, input_format, read) if test_path is not None else None
    return train_corpus, dev_corpus, test_corpus


def read_noted(
    path: PathLike, options: TrainOptions, input_format: str | None, read: ReadOptions | None
) -> Corpus:
    """One file read as a corpus, what aligning its annotations adjusted as a note on standard error."""
    corpus = read_corpus(path, options.tag_column, input_format, read)
    note = adjustment_note(path, corpus.adjustments, input_format, read)
    if note:
        print(f"nerkit: note: {note}", file=sys.stderr)
    return corpus


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
        char_lstm=options.char_lstm,
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
        gazetteer_dim=vocab.gazetteer.width if vocab.gazetteer is not None else 0,
    )


def plan_model(
    train_path: TrainingData,
    dev_path: PathLike | None = None,
    embeddings: PathLike | None = None,
    options: TrainOptions | None = None,
    input_format: str | None = None,
    read: ReadOptions | None = None,
) -> tuple[ModelSpec, int]:
    """The spec and parameter count of the model `train` would build for this data (in any format, as
    `prepare` reads it), without training."""
    start, options = continue_from(options or TrainOptions())
    data = prepare(train_path, dev_path, None, embeddings, options, input_format, read, start)
    return data.spec, data.spec.parameter_count()


def init_word_vectors(model: Tagger, vocab: Vocab, vectors: WordVectors) -> None:
    """Copy pretrained vectors into the rows of their words (never the padding or unknown row, even
    for a vectors file that lists `<pad>` or `<unk>` as words)."""
    if model.word_embedding is None:
        raise ValueError("a model without a word table cannot take word vectors")
    index = vocab.word_index
    # every vector word has a row in a new vocabulary; a grown one has none for words it already knew
    rows = torch.tensor([index.get(word, -1) for word in vectors.words], dtype=torch.long)
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
