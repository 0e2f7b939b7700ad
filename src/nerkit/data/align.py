"""Character spans onto tokens: flat, trimmed entities, tokens split at their edges, IOB2 tags, every change counted."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

from nerkit.data.annotations import Adjustment, AnnotatedDocument, Annotation, TokenSpans, quoted
from nerkit.text.sentences import sentence_spans
from nerkit.text.tokenizer import iter_token_spans, split_at


@dataclass(slots=True)
class AlignedDocument:
    """A document split into sentences of tokens, with IOB2 tags and the entities they encode.

    `entities` are the annotations kept: inside the text, trimmed, flat and sorted, each covering
    whole tokens; `adjustments` lists everything the reader and the aligner did to get there.
    """

    source: AnnotatedDocument
    sentences: list[TokenSpans]
    tags: list[list[str]]
    entities: list[Annotation]
    adjustments: list[Adjustment]

    @property
    def text(self) -> str:
        """The document's text."""
        return self.source.text

    def tokens(self) -> list[tuple[str, ...]]:
        """The words of each sentence."""
        text = self.source.text
        return [tuple(text[start:end] for start, end in sentence) for sentence in self.sentences]


def align(document: AnnotatedDocument) -> AlignedDocument:
    """Map a document's annotations onto tokens: spans outside the text or empty are dropped, edges
    trimmed of white space, overlaps resolved to the longest span, sentences an entity crosses joined
    and tokens split where an entity starts or ends inside one. Every step is counted."""
    adjustments = list(document.adjustments)
    candidates = checked_spans(document, adjustments)
    entities = keep_longest(candidates, document, adjustments)
    sentences = tokenised_sentences(document, entities, adjustments)
    tags, kept = tag_sentences(sentences, entities, document, adjustments)
    return AlignedDocument(document, sentences, tags, kept, adjustments)


def plain_sentences(document: AnnotatedDocument) -> list[TokenSpans]:
    """The document's sentences of tokens as prediction reads them, knowing no entity: the file's own,
    or nerkit's split of the text (as `nerkit.text.document.parse_text` makes it)."""
    if document.sentences is not None:
        return [sentence for sentence in document.sentences if sentence]
    text = document.text
    sentences = (list(iter_token_spans(text, start, end)) for start, end in sentence_spans(text))
    return [sentence for sentence in sentences if sentence]


def _place(annotation: Annotation, document: AnnotatedDocument) -> str:
    return annotation.place or document.place


def checked_spans(document: AnnotatedDocument, adjustments: list[Adjustment]) -> list[Annotation]:
    """The annotations that lie inside the text and cover something, trimmed of white space; the
    rest counted (out_of_range, empty), as are trimmed edges and `text` values the offsets contradict."""
    text, length = document.text, len(document.text)
    kept: list[Annotation] = []

    def note(kind: str, annotation: Annotation, said: str) -> None:
        separator = " " if said and said[0].isalnum() else ""
        detail = f"{annotation.describe(text)}{separator}{said}"
        adjustments.append(Adjustment(kind, _place(annotation, document), detail))

    for annotation in document.annotations:
        start, end = annotation.start, annotation.end
        if start < 0 or end > length:
            note("out_of_range", annotation, f"in a text of {length}")
            continue
        if start >= end:
            note("empty", annotation, "")
            continue
        if annotation.text is not None and text[start:end] != annotation.text:
            note("text_mismatch", annotation, f", but the file says {quoted(annotation.text)}")
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            note("empty", annotation, ": only white space")
            continue
        if (start, end) != (annotation.start, annotation.end):
            note("trimmed", annotation, f" to [{start}, {end})")
            annotation = replace(annotation, start=start, end=end)
        kept.append(annotation)
    return kept


def keep_longest(
    annotations: list[Annotation], document: AnnotatedDocument, adjustments: list[Adjustment]
) -> list[Annotation]:
    """Flat entities: of spans that overlap (nested, crossing or repeated), the longest is kept (the
    earlier on a tie, then the first given); the others are counted as `overlap`. Sorted by start."""
    text = document.text
    order = sorted(
        range(len(annotations)),
        key=lambda i: (annotations[i].start - annotations[i].end, annotations[i].start, i),
    )
    starts: list[int] = []
    kept: list[Annotation] = []  # parallel to `starts`, sorted by start
    for index in order:
        annotation = annotations[index]
        at = bisect.bisect_left(starts, annotation.end)
        blocker = kept[at - 1] if at and kept[at - 1].end > annotation.start else None
        if blocker is not None:
            adjustments.append(
                Adjustment(
                    "overlap",
                    _place(annotation, document),
                    f"{annotation.describe(text)} overlaps {blocker.describe(text)}, which is kept",
                )
            )
            continue
        starts.insert(at, annotation.start)
        kept.insert(at, annotation)
    return kept


def tokenised_sentences(
    document: AnnotatedDocument, entities: list[Annotation], adjustments: list[Adjustment]
) -> list[TokenSpans]:
    """The document's sentences of tokens (the file's own, or nerkit's split of the text), with the
    sentences an entity crosses joined and tokens split at entity edges inside them."""
    text = document.text
    if document.sentences is not None:
        given = [sentence for sentence in document.sentences if sentence]
        ranges = [(sentence[0][0], sentence[-1][1]) for sentence in given]
        groups = _joined(ranges, entities, document, adjustments)
        sentences = [[token for index in group for token in given[index]] for group in groups]
    else:
        ranges = sentence_spans(text)
        groups = _joined(ranges, entities, document, adjustments)
        sentences = [
            list(iter_token_spans(text, ranges[group[0]][0], ranges[group[-1]][1])) for group in groups
        ]
    edges = _edges(entities)
    if not edges:
        return sentences
    cuts = sorted(edges)
    return [_split_tokens(sentence, cuts, edges, document, adjustments) for sentence in sentences]


def _joined(
    ranges: list[tuple[int, int]],
    entities: list[Annotation],
    document: AnnotatedDocument,
    adjustments: list[Adjustment],
) -> list[list[int]]:
    """Groups of consecutive sentence indexes, one per sentence of the result: a sentence alone, or
    the sentences one entity (or a chain of them) crosses, counted as `sentence_joined`."""
    starts = [start for start, _ in ranges]
    reach = list(range(len(ranges)))  # reach[i]: the last sentence that sentence i must be read with
    for entity in entities:
        first = bisect.bisect_right(starts, entity.start) - 1
        last = bisect.bisect_right(starts, entity.end - 1) - 1
        if first >= 0 and last > first:
            reach[first] = max(reach[first], last)
            adjustments.append(
                Adjustment(
                    "sentence_joined",
                    _place(entity, document),
                    f"{entity.describe(document.text)} crosses {last - first + 1} sentences",
                )
            )
    groups: list[list[int]] = []
    index = 0
    while index < len(ranges):
        end = reach[index]
        cursor = index
        while cursor < end:
            cursor += 1
            end = max(end, reach[cursor])
        groups.append(list(range(index, end + 1)))
        index = end + 1
    return groups


def _edges(entities: list[Annotation]) -> dict[int, Annotation]:
    """Each offset where an entity starts or ends, with that entity."""
    edges: dict[int, Annotation] = {}
    for entity in entities:
        edges.setdefault(entity.start, entity)
        edges.setdefault(entity.end, entity)
    return edges


def _split_tokens(
    sentence: TokenSpans,
    cuts: list[int],
    edges: dict[int, Annotation],
    document: AnnotatedDocument,
    adjustments: list[Adjustment],
) -> TokenSpans:
    """The tokens of a sentence cut at every entity edge (of the sorted `cuts`) strictly inside one,
    each cut counted as `token_split`."""
    if not sentence:
        return sentence
    first = bisect.bisect_right(cuts, sentence[0][0])
    last = bisect.bisect_left(cuts, sentence[-1][1])
    if first >= last:
        return sentence
    starts = [start for start, _ in sentence]
    inside: dict[int, list[int]] = {}  # token index -> the cuts inside it, in order
    for cut in cuts[first:last]:
        index = bisect.bisect_right(starts, cut) - 1
        if index >= 0 and sentence[index][0] < cut < sentence[index][1]:
            inside.setdefault(index, []).append(cut)
    if not inside:
        return sentence
    text = document.text
    for index, cuts_inside in inside.items():
        start, end = sentence[index]
        for cut in cuts_inside:
            entity = edges[cut]
            detail = f"token {text[start:end]!r} at {start} cut at {cut} for {entity.describe(text)}"
            adjustments.append(Adjustment("token_split", _place(entity, document), detail))
    return list(split_at(sentence, [cut for index in sorted(inside) for cut in inside[index]]))


def tag_sentences(
    sentences: list[TokenSpans],
    entities: list[Annotation],
    document: AnnotatedDocument,
    adjustments: list[Adjustment],
) -> tuple[list[list[str]], list[Annotation]]:
    """IOB2 tags of each sentence's tokens, and the entities that cover at least one token (their
    offsets those of the tokens covered, counted as `cut_to_tokens` where they reached past them; the
    others counted as `out_of_range`: no token lies in them).
    Tokens never straddle an entity edge here: `tokenised_sentences` cut them."""
    covered: dict[int, tuple[int, int]] = {}  # entity index -> (first token start, last token end)
    all_tags: list[list[str]] = []
    position = 0
    for sentence in sentences:
        tags = ["O"] * len(sentence)
        all_tags.append(tags)
        if not sentence:
            continue
        low, high = sentence[0][0], sentence[-1][1]
        while position < len(entities) and entities[position].end <= low:
            position += 1
        index = position
        starts: list[int] | None = None
        while index < len(entities) and entities[index].start < high:
            entity = entities[index]
            starts = starts or [start for start, _ in sentence]
            first = bisect.bisect_left(starts, entity.start)
            last = bisect.bisect_left(starts, entity.end)
            if first < last:
                tags[first] = f"B-{entity.label}"
                tags[first + 1 : last] = [f"I-{entity.label}"] * (last - first - 1)
                earlier = covered.get(index)
                opening = sentence[first][0] if earlier is None else earlier[0]
                covered[index] = (opening, sentence[last - 1][1])
            index += 1
    kept = []
    for index, entity in enumerate(entities):
        tokens = covered.get(index)
        if tokens is None:
            adjustments.append(
                Adjustment(
                    "out_of_range",
                    _place(entity, document),
                    f"{entity.describe(document.text)}: no token in it",
                )
            )
            continue
        if tokens != (entity.start, entity.end):
            adjustments.append(
                Adjustment(
                    "cut_to_tokens",
                    _place(entity, document),
                    f"{entity.describe(document.text)} to its tokens [{tokens[0]}, {tokens[1]})",
                )
            )
            entity = replace(entity, start=tokens[0], end=tokens[1])
        kept.append(entity)
    return all_tags, kept
