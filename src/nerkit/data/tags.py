"""Tag schemes (IOB1, IOB2, BIOES): validation, detection, conversion, and tags <-> entity spans."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import regex

SCHEMES = ("IOB1", "IOB2", "BIOES")
OUTSIDE = "O"
TAG_HINT = "tags are O, or B-, I-, E- or S- followed by a type (B-PER, I-creative-work)"

_VALID_TAG = regex.compile(r"O|[BIES]-\S+")


@dataclass(frozen=True, slots=True)
class Span:
    """An entity over tokens `start` .. `end - 1` (end exclusive) of one sentence."""

    start: int
    end: int
    label: str


def is_valid_tag(tag: str) -> bool:
    """True for `O` and for `B-`, `I-`, `E-`, `S-` followed by a non-empty type."""
    return _VALID_TAG.fullmatch(tag) is not None


def split_tag(tag: str) -> tuple[str, str]:
    """`B-PER` -> (`B`, `PER`); `O` -> (`O`, ``). Types may contain hyphens: `I-creative-work`."""
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, _, label = tag.partition("-")
    return prefix, label


def normalise_scheme(name: str) -> str:
    """Canonical scheme name for a user's spelling (`iob2`, `IOBES`, `bioes`...), or ValueError."""
    key = name.strip().upper()
    if key == "IOBES":
        key = "BIOES"
    if key not in SCHEMES:
        raise ValueError(f"unknown tag scheme {name!r}; use one of {', '.join(SCHEMES)}")
    return key


def tags_to_spans(tags: Sequence[str]) -> list[Span]:
    """Entity spans of one sentence's tags, read leniently as conlleval does.

    A chunk starts at B-/S-, or at I-/E- after O, after another type, or after a chunk that ended (E-/S-).
    It ends before O, B-, S-, another type, or after E-/S-. So IOB1, IOB2 and BIOES all read correctly,
    and ill-formed sequences (I- after O) still give an entity rather than being dropped.
    """
    spans: list[Span] = []
    start = -1
    label = ""
    prev_prefix = OUTSIDE
    for i, tag in enumerate(tags):
        if tag == OUTSIDE:  # most tokens: it only closes an open chunk
            if start >= 0:
                spans.append(Span(start, i, label))
                start = -1
            prev_prefix, label = OUTSIDE, ""
            continue
        prefix, typ = split_tag(tag)
        begins = prefix in ("B", "S") or (
            prefix in ("I", "E") and (prev_prefix in (OUTSIDE, "E", "S") or typ != label)
        )
        if start >= 0 and (prefix == OUTSIDE or begins):
            spans.append(Span(start, i, label))
            start = -1
        if begins:
            start, label = i, typ
        if start >= 0 and prefix in ("E", "S"):
            spans.append(Span(start, i + 1, label))
            start = -1
        prev_prefix = prefix
    if start >= 0:
        spans.append(Span(start, len(tags), label))
    return spans


def spans_to_tags(spans: Iterable[Span], length: int, scheme: str = "IOB2") -> list[str]:
    """Tags of a sentence of `length` tokens holding `spans` (sorted, non-overlapping), in `scheme`."""
    scheme = normalise_scheme(scheme)
    tags = [OUTSIDE] * length
    prev: Span | None = None
    for span in spans:
        if not 0 <= span.start < span.end <= length:
            raise ValueError(f"span {span} lies outside a sentence of {length} tokens")
        if prev is not None and span.start < prev.end:
            raise ValueError(f"spans {prev} and {span} overlap or are not sorted")
        size = span.end - span.start
        if scheme == "IOB2":
            tags[span.start : span.end] = [f"B-{span.label}"] + [f"I-{span.label}"] * (size - 1)
        elif scheme == "IOB1":
            touches_same = prev is not None and prev.end == span.start and prev.label == span.label
            first = "B" if touches_same else "I"
            tags[span.start : span.end] = [f"{first}-{span.label}"] + [f"I-{span.label}"] * (size - 1)
        elif size == 1:
            tags[span.start] = f"S-{span.label}"
        else:
            inner = [f"I-{span.label}"] * (size - 2)
            tags[span.start : span.end] = [f"B-{span.label}", *inner, f"E-{span.label}"]
        prev = span
    return tags


def convert_tags(tags: Sequence[str], scheme: str) -> list[str]:
    """The same entities as `tags`, written in `scheme`."""
    return spans_to_tags(tags_to_spans(tags), len(tags), scheme)


@dataclass
class SchemeReport:
    """What a file's tags say about their scheme: the scheme found and the evidence for it."""

    scheme: str | None  # None when there is no entity at all
    chunk_starts: Counter[str] = field(default_factory=Counter)  # chunk-opening prefix -> count
    chunks: int = 0
    ill_formed: int = 0  # chunks whose tags are not what `scheme` prescribes
    examples: list[int] = field(default_factory=list)  # sentence indices of the first ill-formed chunks


def detect_scheme(sentences: Iterable[Sequence[str]], max_examples: int = 5) -> SchemeReport:
    """Find the scheme of a corpus's tag sequences: BIOES if E-/S- occur, IOB1 if chunks open with I-."""
    report = SchemeReport(scheme=None)
    kept: list[tuple[int, Sequence[str], list[Span]]] = []
    has_end_tags = False
    for index, tags in enumerate(sentences):
        spans = tags_to_spans(tags)
        for span in spans:
            report.chunk_starts[tags[span.start][0]] += 1
        report.chunks += len(spans)
        has_end_tags = has_end_tags or any(tag[0] in "ES" for tag in tags)
        if spans:
            kept.append((index, tags, spans))
    if not report.chunks:
        return report
    if has_end_tags:
        report.scheme = "BIOES"
    elif report.chunk_starts["I"]:
        report.scheme = "IOB1"
    else:
        report.scheme = "IOB2"
    for index, tags, spans in kept:
        expected = spans_to_tags(spans, len(tags), report.scheme)
        for span in spans:
            if list(tags[span.start : span.end]) != expected[span.start : span.end]:
                report.ill_formed += 1
                if len(report.examples) < max_examples:
                    report.examples.append(index)
    return report


def allowed_transitions(tags: Sequence[str], scheme: str) -> tuple[list[list[bool]], list[bool], list[bool]]:
    """Which tag may follow which in `scheme`, which may open and which may close a sentence.

    Returns (allowed[from][to], allowed_start[tag], allowed_end[tag]) over `tags` in their order, so a
    decoder held to them never writes an ill-formed sequence.
    """
    scheme = normalise_scheme(scheme)
    parts = [split_tag(tag) for tag in tags]

    def may_follow(previous: tuple[str, str] | None, current: tuple[str, str]) -> bool:
        prefix, label = current
        before, before_label = previous if previous is not None else (OUTSIDE, "")
        continues = before != OUTSIDE and before_label == label
        if scheme == "IOB2":
            return prefix != "I" or (continues and before in ("B", "I"))
        if scheme == "IOB1":
            return prefix != "B" or (continues and before in ("B", "I"))
        if prefix in ("I", "E"):
            return continues and before in ("B", "I")
        return previous is None or before in (OUTSIDE, "E", "S")

    allowed = [[may_follow(a, b) for b in parts] for a in parts]
    start = [may_follow(None, part) for part in parts]
    end = [scheme != "BIOES" or prefix in (OUTSIDE, "E", "S") for prefix, _ in parts]
    return allowed, start, end
