"""Vocabularies of words, characters and labels, and the casing classes of a token."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import regex

from nerkit.data.gazetteer import Gazetteer, check_gazetteer, entity_types

PAD = "<pad>"
UNK = "<unk>"

_DIGITS = regex.compile(r"\d")
CASINGS = ("pad", "lower", "upper", "title", "mixed", "numeric", "has_digit", "punct", "other")
_PUNCT = regex.compile(r"[\p{P}\p{S}]+")


def normalise_word(word: str) -> str:
    """The form a learned word row is keyed by: lower case, every digit as 0."""
    normalised: str = _DIGITS.sub("0", word.lower())  # regex has no type information
    return normalised


def casing(word: str) -> int:
    """The casing class of a token, an index into CASINGS (0 is padding)."""
    if word.isdigit():
        return CASINGS.index("numeric")
    if word.islower():
        return CASINGS.index("lower")
    if word.isupper():
        return CASINGS.index("upper")
    if word[:1].isupper() and word[1:].islower():
        return CASINGS.index("title")
    if any(c.isdigit() for c in word):
        return CASINGS.index("has_digit")
    if _PUNCT.fullmatch(word):
        return CASINGS.index("punct")
    if any(c.isalpha() for c in word):
        return CASINGS.index("mixed")
    return CASINGS.index("other")


@dataclass
class Vocab:
    """Index tables: words (learned rows; 0 pad, 1 unknown), characters (0 pad, 1 unknown), labels; and
    the training data's entity phrases, for a model that reads them (`ModelSpec.gazetteer_dim`)."""

    words: list[str]
    chars: list[str]
    labels: list[str]
    gazetteer: Gazetteer | None = None
    word_index: dict[str, int] = field(init=False, repr=False)
    char_index: dict[str, int] = field(init=False, repr=False)
    label_index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.word_index = {w: i for i, w in enumerate(self.words)}
        self.char_index = {c: i for i, c in enumerate(self.chars)}
        self.label_index = {t: i for i, t in enumerate(self.labels)}

    def word_id(self, word: str) -> int:
        """Row of a token in the word table: its exact form, lower case, digits as 0; else unknown (1)."""
        index = self.word_index
        found = index.get(word)
        if found is None:
            found = index.get(word.lower())
        if found is None:
            found = index.get(normalise_word(word), 1)
        return found or 1  # a literal "<pad>" token is unknown, never the padding row

    def char_ids(self, word: str) -> list[int]:
        """Rows of a token's characters (1 for a character never seen in training)."""
        index = self.char_index
        return [index.get(c, 1) for c in word]

    def to_json(self) -> dict[str, object]:
        """The tables as JSON-ready lists (and the gazetteer, if any)."""
        tables: dict[str, object] = {"words": self.words, "chars": self.chars, "labels": self.labels}
        if self.gazetteer is not None:
            tables["gazetteer"] = self.gazetteer.to_json()
        return tables

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Vocab:
        """Rebuild from `to_json`'s output."""
        labels = list(data["labels"])
        gazetteer = data.get("gazetteer")
        return cls(
            words=list(data["words"]),
            chars=list(data["chars"]),
            labels=labels,
            gazetteer=None if gazetteer is None else check_gazetteer(gazetteer, entity_types(labels)),
        )


def build_vocab(
    train_tokens: Iterable[Iterable[str]],
    labels: Iterable[str],
    vector_words: Iterable[str] = (),
    min_char_count: int = 1,
) -> Vocab:
    """Word rows for every pretrained word kept and every training word (normalised) missing from them;
    characters seen in training at least `min_char_count` times; labels in a stable order (O first)."""
    words = [PAD, UNK]
    seen = set(words)
    for word in vector_words:
        if word not in seen:
            seen.add(word)
            words.append(word)
    chars: Counter[str] = Counter()
    for sentence in train_tokens:
        for token in sentence:
            chars.update(token)
            if token in seen or token.lower() in seen:
                continue
            key = normalise_word(token)
            if key not in seen:
                seen.add(key)
                words.append(key)
    label_list = sorted(set(labels), key=lambda tag: (tag != "O", tag.partition("-")[2], tag))
    char_list = [PAD, UNK, *sorted(c for c, n in chars.items() if n >= min_char_count)]
    return Vocab(words=words, chars=char_list, labels=label_list)


def grow_vocab(
    vocab: Vocab,
    train_tokens: Iterable[Iterable[str]],
    labels: Iterable[str],
    vector_words: Iterable[str] = (),
) -> Vocab:
    """`vocab` with what new data adds appended, so every old index keeps its row: vector words and
    (normalised) training words it would look up as unknown, characters it never saw, and labels it
    lacks (in `build_vocab`'s order among themselves)."""
    words, chars = list(vocab.words), list(vocab.chars)
    added: set[str] = set()
    for word in vector_words:
        if word not in added and not _looked_up(vocab, word):
            added.add(word)
            words.append(word)
    new_chars: set[str] = set()
    for sentence in train_tokens:
        for token in sentence:
            new_chars.update(c for c in token if c not in vocab.char_index)
            if token in added or token.lower() in added or _looked_up(vocab, token):
                continue
            key = normalise_word(token)
            if key not in added:
                added.add(key)
                words.append(key)
    new_labels = sorted(set(labels) - set(vocab.labels), key=lambda tag: (tag.partition("-")[2], tag))
    return Vocab(words=words, chars=chars + sorted(new_chars), labels=[*vocab.labels, *new_labels])


def _looked_up(vocab: Vocab, word: str) -> bool:
    """Whether `word_id` finds a row for the word by any of its forms (the padding and unknown rows
    included: a literal "<unk>" token is no new word)."""
    index = vocab.word_index
    return word in index or word.lower() in index or normalise_word(word) in index
