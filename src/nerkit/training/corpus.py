"""The splits of a training run: read from any annotation format, dev carved out of train, encoded for the model."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from nerkit.data.batches import EncodedSentence, TokenCodes, encode_sentence, join_sentences, pack_sentences
from nerkit.data.conll import document_ids, read_conll
from nerkit.data.formats import ReadOptions, read_aligned
from nerkit.data.formats.detect import require_format
from nerkit.data.gazetteer import Masked
from nerkit.data.tags import convert_tags
from nerkit.data.vocab import Vocab
from nerkit.embeddings.cache import cached_token_features
from nerkit.embeddings.subwords import group_documents
from nerkit.embeddings.transformer import Transformer
from nerkit.errors import NerkitError
from nerkit.files import PathLike
from nerkit.model.spec import ModelSpec
from nerkit.training.sources import allowed_tags

MODEL_SCHEME = "BIOES"  # the scheme a model learns and decodes in, whatever its training file's


@dataclass
class Corpus:
    """Sentences of one split: tokens, tags as in the file, and the document of each sentence; the
    format it was read from and what aligning its annotations to tokens adjusted, by kind."""

    tokens: list[tuple[str, ...]] = field(default_factory=list)
    tags: list[tuple[str, ...]] = field(default_factory=list)
    documents: list[int] = field(default_factory=list)
    format: str = "conll"
    adjustments: Counter[str] = field(default_factory=Counter)
    annotated: list[tuple[str, ...] | None] = field(default_factory=list)  # per sentence; [] if all complete

    def __len__(self) -> int:
        return len(self.tokens)

    def annotated_types(self, sentence: int) -> tuple[str, ...] | None:
        """The types a sentence is annotated for (None: every type)."""
        return self.annotated[sentence] if self.annotated else None


def read_corpus(
    path: PathLike, tag_column: int = -1, format: str | None = None, options: ReadOptions | None = None
) -> Corpus:
    """Read annotated data in any format (detected unless `format` is given) into a Corpus. A CoNLL
    file's sentences are taken as they are; other formats' documents are aligned to tokens and IOB2
    tags, each annotated document with sentences one document of the corpus. `tag_column` overrides
    `options.tag_column`."""
    name = require_format(path, format)
    if name == "conll":
        sentences = list(read_conll(path, tag_column=tag_column))
        return Corpus(
            tokens=[s.tokens for s in sentences],
            tags=[s.tags for s in sentences],
            documents=document_ids(sentences),
        )
    corpus = Corpus(format=name)
    options = replace(options or ReadOptions(), tag_column=tag_column)
    for document in read_aligned(path, name, options):
        corpus.adjustments.update(adjustment.kind for adjustment in document.adjustments)
        if not document.source.annotated:
            continue
        kept = [(spans, tags) for spans, tags in zip(document.sentences, document.tags, strict=True) if spans]
        if not kept:
            continue
        owner = corpus.documents[-1] + 1 if corpus.documents else 0
        text = document.text
        for spans, tags in kept:
            corpus.tokens.append(tuple(text[start:end] for start, end in spans))
            corpus.tags.append(tuple(tags))
            corpus.documents.append(owner)
    return corpus


def mark_annotated(corpus: Corpus, annotated: tuple[str, ...] | None) -> Corpus:
    """The corpus with every sentence marked as annotated for those types only (None: every type)."""
    corpus.annotated = [annotated] * len(corpus) if annotated is not None else []
    return corpus


def merge_corpora(corpora: Sequence[Corpus]) -> Corpus:
    """Several corpora as one, their documents kept apart; the format of each, comma-separated."""
    if len(corpora) == 1:
        return corpora[0]
    merged = Corpus(format=",".join(c.format for c in corpora))
    for corpus in corpora:
        # ids shifted past the last corpus's: a file's sentences before any -DOCSTART- have negative ones
        offset = max(merged.documents) + 1 if merged.documents else 0
        lowest = min(corpus.documents, default=0)
        merged.tokens += corpus.tokens
        merged.tags += corpus.tags
        merged.documents += [offset + d - lowest for d in corpus.documents]
        merged.adjustments.update(corpus.adjustments)
    if any(c.annotated for c in corpora):
        merged.annotated = [c.annotated_types(i) for c in corpora for i in range(len(c))]
    return merged


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
    dev, train = Corpus(format=corpus.format), Corpus(format=corpus.format)
    for i in range(len(corpus)):
        part = dev if i in held else train
        part.tokens.append(corpus.tokens[i])
        part.tags.append(corpus.tags[i])
        part.documents.append(corpus.documents[i])
        if corpus.annotated:
            part.annotated.append(corpus.annotated[i])
    return train, dev


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
    corpus: Corpus,
    vocab: Vocab,
    features: Sequence[np.ndarray] | None = None,
    masked: Sequence[Masked] | None = None,
) -> list[EncodedSentence]:
    """A split's sentences encoded for tagging (no tags), with their transformer features if given, and
    without the gazetteer phrases `masked` gives each (see `build_gazetteer`)."""
    seen: dict[str, TokenCodes] = {}  # each word form encoded once
    hidden = masked if masked is not None else [frozenset()] * len(corpus)
    encoded = [
        encode_sentence(tokens, vocab, seen=seen, masked=own)
        for tokens, own in zip(corpus.tokens, hidden, strict=True)
    ]
    for sentence, values in zip(encoded, features or [], strict=False):
        sentence.features = values
    return encoded


def encode_tagged(
    corpus: Corpus, vocab: Vocab, masked: Sequence[Masked] | None = None
) -> list[EncodedSentence]:
    """A split's sentences encoded with their tags in the model's scheme, each word form once; a
    partially annotated sentence also with the tags each token may have. `masked` gives each
    sentence the gazetteer phrases it may not see (see `build_gazetteer`)."""
    seen: dict[str, TokenCodes] = {}
    encoded = []
    for i, (tokens, tags) in enumerate(zip(corpus.tokens, corpus.tags, strict=True)):
        hidden = masked[i] if masked is not None else frozenset()
        sentence = encode_sentence(tokens, vocab, convert_tags(tags, MODEL_SCHEME), seen, hidden)
        if sentence.tags is not None:
            sentence.allowed = allowed_tags(sentence.tags, vocab.labels, corpus.annotated_types(i))
        encoded.append(sentence)
    return encoded


def encode_training(
    corpus: Corpus,
    vocab: Vocab,
    context_tokens: int,
    features: Sequence[np.ndarray] | None = None,
    soft: Sequence[np.ndarray] | None = None,
    masked: Sequence[Masked] | None = None,
) -> list[EncodedSentence]:
    """The training split encoded once, its tags in the model's scheme (and its transformer features, a
    teacher's marginals and the gazetteer phrases each sentence may not see, if given); with
    `context_tokens`, the sentences of each document packed into units read together."""
    encoded = encode_tagged(corpus, vocab, masked)
    for sentence, values in zip(encoded, features or [], strict=False):
        sentence.features = values
    for sentence, targets in zip(encoded, soft or [], strict=soft is not None):
        sentence.soft = targets
    if not context_tokens:
        return encoded
    groups = pack_sentences([len(s) for s in encoded], corpus.documents, context_tokens)
    return [join_sentences([encoded[i] for i in group]) for group in groups]
