"""Sentences encoded once as index arrays, then grouped by length into padded tensor batches."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

from nerkit.data.gazetteer import Masked
from nerkit.data.vocab import Vocab, casing

if TYPE_CHECKING:  # torch loads only where batches become tensors (training, the torch tagger)
    import torch

MAX_WORD_CHARS = 24  # longer tokens keep their first 12 and last 12 characters


@dataclass(slots=True)
class EncodedSentence:
    """One sentence (or several read together) as index arrays, computed once and reused every epoch."""

    words: np.ndarray  # [seq] int64 rows of the word table
    chars: np.ndarray  # [seq, chars] int64, 0-padded
    casing: np.ndarray  # [seq] int64
    tags: np.ndarray | None  # [seq] int64 label rows, or None when untagged
    sentences: int = 1  # how many sentences it holds (see join_sentences)
    features: np.ndarray | None = (
        None  # [seq, layers, dim] float16 transformer features, if the model has them
    )
    allowed: np.ndarray | None = None  # [seq, tags] bool: the tags a token may have (partial annotation)
    prior: np.ndarray | None = None  # [seq, tags] float32 log-weights of the allowed tags (see CRF)
    soft: np.ndarray | None = None  # [seq, tags] float32 a teacher's marginals (distillation)
    gazetteer: np.ndarray | None = None  # [seq, width] uint8 0/1 gazetteer features (see Gazetteer)

    def __len__(self) -> int:
        return len(self.words)


@dataclass(slots=True)
class Batch:
    """Padded tensors for a group of sentences of similar length."""

    words: torch.Tensor  # [batch, seq]
    chars: torch.Tensor  # [batch, seq, chars]
    casing: torch.Tensor  # [batch, seq]
    mask: torch.Tensor  # [batch, seq] bool
    tags: torch.Tensor | None  # [batch, seq]
    index: list[int]  # position of each row's sentence in the encoded list
    features: torch.Tensor | None = None  # [batch, seq, layers, dim] float32 transformer features
    allowed: torch.Tensor | None = None  # [batch, seq, tags] bool, when a sentence's annotation is partial
    prior: torch.Tensor | None = None  # [batch, seq, tags] float32 log-weights of the allowed tags
    soft: torch.Tensor | None = None  # [batch, seq, tags] float32 a teacher's marginals (zero: none)
    gazetteer: torch.Tensor | None = None  # [batch, seq, width] float32 gazetteer features


def _clip(word: str) -> str:
    half = MAX_WORD_CHARS // 2
    return word if len(word) <= MAX_WORD_CHARS else word[:half] + word[-half:]


TokenCodes = tuple[int, list[int], int]  # a token's word row, character rows (clipped) and casing


def token_codes(token: str, vocab: Vocab) -> TokenCodes:
    """What encoding a token gives, worked out once per distinct token (see `encode_sentence`)."""
    return vocab.word_id(token), vocab.char_ids(_clip(token)), casing(token)


def encode_sentence(
    tokens: Sequence[str],
    vocab: Vocab,
    tags: Sequence[str] | None = None,
    seen: dict[str, TokenCodes] | None = None,
    masked: Masked = frozenset(),
) -> EncodedSentence:
    """Index arrays of one sentence; `tags` must be labels of `vocab` (in the model's scheme). `seen`
    keeps each distinct token's codes across calls, so a corpus encodes every word form once. With a
    gazetteer in `vocab`, the sentence's gazetteer features, but for the phrases `masked` (training's
    own)."""
    seen = {} if seen is None else seen
    codes = []
    for token in tokens:
        found = seen.get(token)
        if found is None:
            found = seen[token] = token_codes(token, vocab)
        codes.append(found)
    width = max((len(chars) for _, chars, _ in codes), default=1)
    chars = np.zeros((len(tokens), width), dtype=np.int64)
    for row, (_, rows, _) in enumerate(codes):
        chars[row, : len(rows)] = rows
    return EncodedSentence(
        words=np.fromiter((code[0] for code in codes), dtype=np.int64, count=len(tokens)),
        chars=chars,
        casing=np.fromiter((code[2] for code in codes), dtype=np.int64, count=len(tokens)),
        tags=None if tags is None else np.array([vocab.label_index[t] for t in tags], dtype=np.int64),
        gazetteer=None if vocab.gazetteer is None else vocab.gazetteer.features(tokens, masked),
    )


@dataclass(slots=True)
class Padded:
    """A group of encoded sentences padded into numpy arrays: a batch before it becomes tensors."""

    words: np.ndarray  # [batch, seq] int64
    chars: np.ndarray  # [batch, seq, chars] int64
    casing: np.ndarray  # [batch, seq] int64
    mask: np.ndarray  # [batch, seq] bool
    tags: np.ndarray | None  # [batch, seq] int64, when every sentence is tagged
    features: np.ndarray | None = None  # [batch, seq, layers, dim] float32 transformer features
    allowed: np.ndarray | None = None  # [batch, seq, tags] bool, when a sentence's annotation is partial
    prior: np.ndarray | None = None  # [batch, seq, tags] float32 log-weights of the allowed tags
    soft: np.ndarray | None = None  # [batch, seq, tags] float32 a teacher's marginals (zero: none)
    gazetteer: np.ndarray | None = None  # [batch, seq, width] float32 gazetteer features


def pad(sentences: Sequence[EncodedSentence]) -> Padded:
    """Pad a group of encoded sentences into arrays (0 past each sentence's end)."""
    size = len(sentences)
    length = max(len(s) for s in sentences)
    width = max(s.chars.shape[1] for s in sentences)
    words = np.zeros((size, length), dtype=np.int64)
    chars = np.zeros((size, length, width), dtype=np.int64)
    cases = np.zeros((size, length), dtype=np.int64)
    tags = np.zeros((size, length), dtype=np.int64)
    mask = np.zeros((size, length), dtype=bool)
    tagged = all(s.tags is not None for s in sentences)
    for row, sentence in enumerate(sentences):
        n = len(sentence)
        words[row, :n] = sentence.words
        chars[row, :n, : sentence.chars.shape[1]] = sentence.chars
        cases[row, :n] = sentence.casing
        mask[row, :n] = True
        if tagged and sentence.tags is not None:  # `tagged`: every sentence's tags are there
            tags[row, :n] = sentence.tags
    features = None
    if sentences[0].features is not None:
        features = np.zeros((size, length, *sentences[0].features.shape[1:]), dtype=np.float32)
        for row, sentence in enumerate(sentences):
            features[row, : len(sentence)] = sentence.features
    allowed = _pad_allowed(sentences, tags) if tagged else None
    # a complete sentence's prior rows stay zero: it has one path, any weight will do
    prior = _pad_rows([s.prior for s in sentences], length) if allowed is not None else None
    soft = _pad_rows([s.soft for s in sentences], length)
    gazetteer = _pad_rows([s.gazetteer for s in sentences], length)
    return Padded(
        words, chars, cases, mask, tags if tagged else None, features, allowed, prior, soft, gazetteer
    )


def _pad_rows(rows: Sequence[np.ndarray | None], length: int) -> np.ndarray | None:
    """Per-token rows [seq, tags] of a batch's sentences (priors, a teacher's marginals, gazetteer
    features) padded into [batch, length, tags] float32 (zero past each sentence's end and for a
    sentence without them); None when no sentence has them."""
    given = [row for row in rows if row is not None]
    if not given:
        return None
    padded = np.zeros((len(rows), length, given[0].shape[1]), dtype=np.float32)
    for index, row in enumerate(rows):
        if row is not None:
            padded[index, : len(row)] = row
    return padded


def _pad_allowed(sentences: Sequence[EncodedSentence], tags: np.ndarray) -> np.ndarray | None:
    """The allowed tags of a batch [batch, seq, tags] when a sentence's annotation is partial (a fully
    annotated sentence allows only its own tags; padding only tag 0); else None."""
    partial = [s.allowed for s in sentences if s.allowed is not None]
    if not partial:
        return None
    allowed: np.ndarray = np.eye(partial[0].shape[1], dtype=bool)[tags]
    for row, sentence in enumerate(sentences):
        if sentence.allowed is not None:
            allowed[row, : len(sentence)] = sentence.allowed
    return allowed


def collate(sentences: Sequence[EncodedSentence], index: list[int]) -> Batch:
    """Pad a group of encoded sentences into one batch of tensors."""
    return to_batch(pad(sentences), index)


def to_batch(padded: Padded, index: list[int]) -> Batch:
    """Padded arrays as a batch of tensors sharing their memory; `index` as `Batch.index`."""
    import torch

    return Batch(
        words=torch.from_numpy(padded.words),
        chars=torch.from_numpy(padded.chars),
        casing=torch.from_numpy(padded.casing),
        mask=torch.from_numpy(padded.mask),
        tags=None if padded.tags is None else torch.from_numpy(padded.tags),
        index=index,
        features=None if padded.features is None else torch.from_numpy(padded.features),
        allowed=None if padded.allowed is None else torch.from_numpy(padded.allowed),
        prior=None if padded.prior is None else torch.from_numpy(padded.prior),
        soft=None if padded.soft is None else torch.from_numpy(padded.soft),
        gazetteer=None if padded.gazetteer is None else torch.from_numpy(padded.gazetteer),
    )


def length_groups(
    sentences: Sequence[EncodedSentence],
    batch_size: int,
    rng: random.Random | None = None,
    max_tokens: int = 0,
) -> list[list[int]]:
    """Indices of sentences of similar length grouped into batches (empty sentences skipped), each
    holding `batch_size` sentences (joined sentences count as the sentences they hold).

    With `rng` (training) the lengths are jittered before sorting and the batch order is shuffled, so
    batches differ from epoch to epoch but padding stays small; without it (inference) the order is
    by length. `max_tokens` (0: no limit) caps a batch's padded size, sentences times the longest, so
    long sentences come in smaller batches.
    """
    order = [i for i, s in enumerate(sentences) if len(s)]
    if rng is None:
        order.sort(key=lambda i: len(sentences[i]))
    else:
        order.sort(key=lambda i: len(sentences[i]) + rng.uniform(-2, 2))
    groups: list[list[int]] = []
    group: list[int] = []
    longest = held = 0
    for i in order:
        length = max(longest, len(sentences[i]))
        if group and (held >= batch_size or (max_tokens and (len(group) + 1) * length > max_tokens)):
            groups.append(group)
            group, length, held = [], len(sentences[i]), 0
        group.append(i)
        held += sentences[i].sentences
        longest = length
    if group:
        groups.append(group)
    if rng is not None:
        rng.shuffle(groups)
    return groups


def length_batches(
    sentences: Sequence[EncodedSentence],
    batch_size: int,
    rng: random.Random | None = None,
    max_tokens: int = 0,
) -> Iterator[Batch]:
    """The padded batches of `length_groups`, built one at a time; `Batch.index` maps rows back to the
    input."""
    for chosen in length_groups(sentences, batch_size, rng, max_tokens):
        yield collate([sentences[i] for i in chosen], chosen)


def pack_sentences(lengths: Sequence[int], documents: Sequence[int], max_tokens: int) -> list[list[int]]:
    """Consecutive sentences of one document packed into groups of at most `max_tokens` tokens (a longer
    sentence forms a group alone), so a model can read each sentence with its neighbours as context."""
    groups: list[list[int]] = []
    size = 0
    for index, (length, document) in enumerate(zip(lengths, documents, strict=True)):
        if groups and documents[groups[-1][-1]] == document and size + length <= max_tokens:
            groups[-1].append(index)
            size += length
        else:
            groups.append([index])
            size = length
    return groups


def join_sentences(sentences: Sequence[EncodedSentence]) -> EncodedSentence:
    """Several encoded sentences as one sequence (tags kept only when every sentence has them)."""
    width = max(s.chars.shape[1] for s in sentences)
    chars = np.zeros((sum(len(s) for s in sentences), width), dtype=np.int64)
    row = 0
    for sentence in sentences:
        chars[row : row + len(sentence), : sentence.chars.shape[1]] = sentence.chars
        row += len(sentence)
    tagged = all(s.tags is not None for s in sentences)
    return EncodedSentence(
        words=np.concatenate([s.words for s in sentences]),
        chars=chars,
        casing=np.concatenate([s.casing for s in sentences]),
        tags=np.concatenate([s.tags for s in sentences]) if tagged else None,
        sentences=sum(s.sentences for s in sentences),
        features=_join_features([s.features for s in sentences]),
        allowed=_join_allowed(sentences) if tagged else None,
        soft=_join_soft(sentences),
        gazetteer=None
        if sentences[0].gazetteer is None
        else np.concatenate([s.gazetteer for s in sentences]),
    )


def _join_soft(sentences: Sequence[EncodedSentence]) -> np.ndarray | None:
    """A teacher's marginals of joined sentences (zero rows for a sentence without them), or None."""
    given = [s.soft for s in sentences if s.soft is not None]
    if not given:
        return None
    width = given[0].shape[1]
    return np.concatenate(
        [s.soft if s.soft is not None else np.zeros((len(s), width), np.float32) for s in sentences]
    )


def _join_allowed(sentences: Sequence[EncodedSentence]) -> np.ndarray | None:
    """The allowed tags of joined sentences (see `_pad_allowed`), or None when every one is complete."""
    partial = [s.allowed for s in sentences if s.allowed is not None]
    if not partial:
        return None
    eye = np.eye(partial[0].shape[1], dtype=bool)
    return np.concatenate(
        [s.allowed if s.allowed is not None else eye[cast(np.ndarray, s.tags)] for s in sentences]
    )


def _join_features(arrays: Sequence[np.ndarray | None]) -> np.ndarray | None:
    """Features of joined sentences: a view when they lie back to back in one buffer (as consecutive
    sentences of a memory-mapped feature cache do), so joining copies nothing; else a concatenation."""
    first = arrays[0]
    if first is None:
        return None
    address = first.__array_interface__["data"][0]
    contiguous = all(a is not None and a.flags.c_contiguous and a.dtype == first.dtype for a in arrays)
    for array in arrays:  # `contiguous` means no array is None
        if not contiguous or array is None or array.__array_interface__["data"][0] != address:
            # sentences have features all or none, so no None here (numpy would raise on one)
            return np.concatenate(cast("Sequence[np.ndarray]", arrays))
        address += array.nbytes
    rows = sum(len(a) for a in arrays if a is not None)
    return np.lib.stride_tricks.as_strided(
        first, shape=(rows, *first.shape[1:]), strides=first.strides, writeable=False
    )
