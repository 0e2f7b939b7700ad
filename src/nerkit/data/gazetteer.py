"""Entity phrases of the training data as token features: which tokens begin, continue, end or make up a known phrase of each type."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nerkit.data.tags import tags_to_spans
from nerkit.errors import NerkitError

PARTS = 4  # per type: the phrase's first token, a middle one, its last, a one-token phrase
MOST_PHRASE_TOKENS = 6  # longer entities are left out: rare, and costly to look up
Phrase = tuple[str, ...]  # a phrase's tokens in lower case
Masked = frozenset[tuple[Phrase, int]]  # (phrase, type) pairs a sentence may not see: they come from it


@dataclass
class Gazetteer:
    """Every entity phrase (lower case, up to MOST_PHRASE_TOKENS tokens) of the training data, by type."""

    types: list[str]  # the entity types, in the order of the feature columns
    phrases: dict[Phrase, frozenset[int]]  # each phrase's types, as indices into `types`
    prefixes: set[Phrase] = field(init=False, repr=False, compare=False)  # every phrase's first tokens
    firsts: set[str] = field(init=False, repr=False, compare=False)  # every phrase's first token

    def __post_init__(self) -> None:
        self.prefixes = {phrase[:end] for phrase in self.phrases for end in range(2, len(phrase) + 1)}
        self.firsts = {phrase[0] for phrase in self.phrases}

    @property
    def width(self) -> int:
        """How many features a token gets: PARTS per type."""
        return PARTS * len(self.types)

    def features(self, tokens: Sequence[str], masked: Masked = frozenset()) -> np.ndarray:
        """[tokens, width] 0/1 as uint8 (a quarter of float32's memory; batches widen them): for every
        phrase of a type found in the tokens (overlapping ones too), its first token marks column
        4 * type, its middle ones + 1, its last + 2, a one-token phrase + 3; the (phrase, type) pairs in
        `masked` are not looked for."""
        values = np.zeros((len(tokens), self.width), dtype=np.uint8)
        lowered = [token.lower() for token in tokens]
        for start, first in enumerate(lowered):
            if first not in self.firsts:  # most tokens: a string looked up, no tuple built
                continue
            for end in range(start + 1, len(lowered) + 1):
                phrase = tuple(lowered[start:end])
                if end - start > 1 and phrase not in self.prefixes:  # nor is any longer one
                    break
                for kind in self.phrases.get(phrase, ()):
                    if (phrase, kind) in masked:
                        continue
                    column = PARTS * kind
                    if end - start == 1:
                        values[start, column + 3] = 1
                    else:
                        values[start, column] = 1
                        values[start + 1 : end - 1, column + 1] = 1
                        values[end - 1, column + 2] = 1
        return values

    def to_json(self) -> dict[str, object]:
        """The types and, per type, its phrases (lists of tokens), sorted: the same data, the same JSON."""
        by_type: dict[str, list[list[str]]] = {name: [] for name in self.types}
        for phrase, kinds in sorted(self.phrases.items()):
            for kind in sorted(kinds):
                by_type[self.types[kind]].append(list(phrase))
        return {"types": self.types, "phrases": by_type}


def _gazetteer(types: Sequence[str], phrases: dict[Phrase, set[int]]) -> Gazetteer:
    """A gazetteer of `types` from each phrase's set of type indices."""
    return Gazetteer(list(types), {phrase: frozenset(kinds) for phrase, kinds in phrases.items()})


def build_gazetteer(
    tokens: Sequence[Sequence[str]],
    tags: Sequence[Sequence[str]],
    documents: Sequence[int],
    types: Sequence[str],
) -> tuple[Gazetteer, dict[int, Masked]]:
    """The gazetteer of annotated sentences (tags in any scheme; entities of `types` only), and for each
    document what its sentences must not see: the (phrase, type) pairs annotated in it and in no other,
    so that in training a phrase fires only where other documents vouch for it, as in new text (see
    `masks`)."""
    index = {name: kind for kind, name in enumerate(types)}
    found: list[set[tuple[Phrase, int]]] = []
    for sentence_tokens, sentence_tags in zip(tokens, tags, strict=True):
        pairs = set()
        for span in tags_to_spans(sentence_tags):
            if span.label in index and span.end - span.start <= MOST_PHRASE_TOKENS:
                phrase = tuple(token.lower() for token in sentence_tokens[span.start : span.end])
                pairs.add((phrase, index[span.label]))
        found.append(pairs)
    by_document: dict[int, set[tuple[Phrase, int]]] = {}
    for document, pairs in zip(documents, found, strict=True):
        by_document.setdefault(document, set()).update(pairs)
    vouching = Counter(pair for pairs in by_document.values() for pair in pairs)  # documents per pair
    phrases: dict[Phrase, set[int]] = {}
    for phrase, kind in vouching:
        phrases.setdefault(phrase, set()).add(kind)
    own = {
        document: frozenset(pair for pair in pairs if vouching[pair] == 1)
        for document, pairs in by_document.items()
    }
    return _gazetteer(types, phrases), own


def masks(own: dict[int, Masked], documents: Sequence[int]) -> list[Masked]:
    """What each sentence of these documents may not see: its document's own phrases (none for a
    document the gazetteer was not built from)."""
    return [own.get(document, frozenset()) for document in documents]


def check_gazetteer(data: object, types: Sequence[str]) -> Gazetteer:
    """model.json's gazetteer, checked: the model's entity `types`, each with a list of distinct phrases
    of 1 to MOST_PHRASE_TOKENS lower-case strings."""
    if not isinstance(data, dict) or set(data) != {"types", "phrases"}:
        raise NerkitError("vocab.gazetteer is not an object of types and phrases")
    if data["types"] != list(types):
        raise NerkitError("vocab.gazetteer's types are not the model's entity types, in order")
    by_type = data["phrases"]
    if not isinstance(by_type, dict) or set(by_type) != set(types):
        raise NerkitError("vocab.gazetteer.phrases does not list the phrases of each entity type")
    phrases: dict[Phrase, set[int]] = {}
    for kind, name in enumerate(types):
        listed = by_type[name]
        if not isinstance(listed, list):
            raise NerkitError(f"vocab.gazetteer.phrases.{name} is not a list of phrases")
        for number, phrase in enumerate(listed):
            if (
                not isinstance(phrase, list)
                or not 1 <= len(phrase) <= MOST_PHRASE_TOKENS
                or not all(isinstance(token, str) and token and token == token.lower() for token in phrase)
            ):
                raise NerkitError(
                    f"vocab.gazetteer.phrases.{name}[{number}] is not a list of 1 to "
                    f"{MOST_PHRASE_TOKENS} lower-case tokens"
                )
            kinds = phrases.setdefault(tuple(phrase), set())
            if kind in kinds:
                raise NerkitError(f"vocab.gazetteer.phrases.{name}[{number}] is listed twice")
            kinds.add(kind)
    return _gazetteer(types, phrases)


def grow_gazetteer(
    old: Gazetteer,
    tokens: Sequence[Sequence[str]],
    tags: Sequence[Sequence[str]],
    documents: Sequence[int],
    types: Sequence[str],
) -> tuple[Gazetteer, dict[int, Masked]]:
    """A continued model's gazetteer: `old`'s phrases and the new data's (see `build_gazetteer`), over
    `types` (the old ones first, so their columns stay where they were). A new sentence may not see the
    phrases only its own document annotates among the new data's, even where the old data has them:
    the new data may hold the old documents again, and the old counts are not kept."""
    new, own = build_gazetteer(tokens, tags, documents, types)
    index = {name: kind for kind, name in enumerate(types)}
    phrases = {phrase: set(kinds) for phrase, kinds in new.phrases.items()}
    for phrase, kinds in old.phrases.items():
        phrases.setdefault(phrase, set()).update(index[old.types[kind]] for kind in kinds)
    return _gazetteer(types, phrases), own


def entity_types(labels: Sequence[str]) -> list[str]:
    """The entity types of a model's labels in the order they first come (sorted for a new model, whose
    labels are; a continued model's new types after its old ones): the gazetteer's column order."""
    return list(dict.fromkeys(label.partition("-")[2] for label in labels if label != "O"))
