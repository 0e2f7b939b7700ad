"""New sentences made from annotated ones, for a teacher to label (distillation): entity mentions swapped
for other mentions of their type, and sentences recombined at entity-safe cuts."""

from __future__ import annotations

import random
from collections.abc import Sequence

from nerkit.data.tags import tags_to_spans

Tokens = tuple[str, ...]


def mentions_by_type(tokens: Sequence[Tokens], tags: Sequence[Sequence[str]]) -> dict[str, list[Tokens]]:
    """Every entity mention of the sentences, by type, in order (repeats kept: common names stay common)."""
    found: dict[str, list[Tokens]] = {}
    for words, labels in zip(tokens, tags, strict=True):
        for span in tags_to_spans(labels):
            found.setdefault(span.label, []).append(tuple(words[span.start : span.end]))
    return found


def swap_mentions(
    words: Tokens, labels: Sequence[str], mentions: dict[str, list[Tokens]], rng: random.Random
) -> Tokens:
    """The sentence with each entity mention replaced by a random mention of the same type."""
    out: list[str] = []
    position = 0
    for span in tags_to_spans(labels):
        out += words[position : span.start]
        out += rng.choice(mentions[span.label])
        position = span.end
    return (*out, *words[position:])


def safe_cuts(labels: Sequence[str]) -> list[int]:
    """Positions 1..n-1 where a sentence may be cut without splitting an entity."""
    inside = {i for span in tags_to_spans(labels) for i in range(span.start + 1, span.end)}
    return [i for i in range(1, len(labels)) if i not in inside]


def recombine(
    first: Tokens, first_tags: Sequence[str], second: Tokens, second_tags: Sequence[str], rng: random.Random
) -> Tokens | None:
    """The start of `first` joined to the end of `second`, each cut where no entity is split (None when
    either has no such place)."""
    head, tail = safe_cuts(first_tags), safe_cuts(second_tags)
    if not head or not tail:
        return None
    return (*first[: rng.choice(head)], *second[rng.choice(tail) :])


def augment(
    tokens: Sequence[Tokens], tags: Sequence[Sequence[str]], count: int, seed: int = 0
) -> list[Tokens]:
    """Up to `count` new sentences, half with their mentions swapped (sentences with an entity), half
    recombined from two sentences (fewer when too few sentences can be cut), reproducibly for a seed;
    tags are left to a teacher. None at all when no sentence has an entity."""
    rng = random.Random(seed)
    mentions = mentions_by_type(tokens, tags)
    with_entities = [i for i, labels in enumerate(tags) if tags_to_spans(labels)]
    made: list[Tokens] = []
    if not with_entities or len(tokens) < 2:
        return made
    while len(made) < count // 2:
        index = rng.choice(with_entities)
        made.append(swap_mentions(tokens[index], tags[index], mentions, rng))
    attempts = 0
    while len(made) < count and attempts < 10 * count:
        attempts += 1
        a, b = rng.sample(range(len(tokens)), 2)
        joined = recombine(tokens[a], tags[a], tokens[b], tags[b], rng)
        if joined:
            made.append(joined)
    return made
