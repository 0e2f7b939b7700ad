"""The sentences a report analyses: a model's entities and confidences beside a file's gold entities."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nerkit.data.align import AlignedDocument
from nerkit.data.annotations import Annotation, TokenSpans
from nerkit.data.conll import ConllSentence, document_ids, read_conll
from nerkit.data.formats import ReadOptions
from nerkit.data.tags import convert_tags, tags_to_spans
from nerkit.errors import NerkitError
from nerkit.evaluate import Score, score_sequences
from nerkit.files import PathLike
from nerkit.pipeline import entity_confidence, predicted_entities, score_aligned
from nerkit.report.sentences import Mention, ReportSentence

if TYPE_CHECKING:
    from nerkit.pipeline import Pipeline, TaggedTokens


@dataclass
class Collected:
    """What the model found in a file beside the gold: the sentences, conlleval's score (with exact
    character-span figures for span formats), the file's format and its token count."""

    sentences: list[ReportSentence]
    score: Score
    format: str
    tokens: int


def collect(
    pipeline: Pipeline,
    path: PathLike,
    format: str | None = None,
    options: ReadOptions | None = None,
    batch_size: int = 512,
) -> Collected:
    """Tag annotated data in any format (detected unless `format` is given) once, with confidences, and
    pair each sentence's gold entities with the model's; the score is what `Pipeline.evaluate` gives."""
    from nerkit.data.formats.detect import require_format

    options = options or ReadOptions()
    name = require_format(path, format)
    if name == "conll":
        return _collect_conll(pipeline, path, options, batch_size)
    return _collect_aligned(pipeline, path, name, options, batch_size)


def token_offsets(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """The character span of each token in the tokens joined by single spaces."""
    offsets = []
    position = 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    return offsets


def predicted_mentions(
    tagged: TaggedTokens, offsets: Sequence[tuple[int, int]], shift: int = 0
) -> list[Mention]:
    """The entities of tagged tokens as mentions, each with its confidence as `predict` gives it
    (`entity_confidence`), offsets less `shift`."""
    return [
        Mention(
            offsets[span.start][0] - shift,
            offsets[span.end - 1][1] - shift,
            span.label,
            entity_confidence(tagged.confidences, span),
        )
        for span in tags_to_spans(tagged.tags)
    ]


def _collect_conll(pipeline: Pipeline, path: PathLike, options: ReadOptions, batch_size: int) -> Collected:
    """A CoNLL file's sentences tagged as given (in document context), the gold read as IOB2."""
    sentences = list(read_conll(path, tag_column=options.tag_column))
    tagged = pipeline.tag_tokens(
        [s.tokens for s in sentences], batch_size, confidence=True, documents=document_ids(sentences)
    )
    gold = [convert_tags(s.tags, "IOB2") for s in sentences]
    score = score_sequences(gold, [convert_tags(t.tags, "IOB2") for t in tagged])
    found = [
        _conll_sentence(sentence, tags, result, f"{path}:{sentence.line}")
        for sentence, tags, result in zip(sentences, gold, tagged, strict=True)
    ]
    return Collected(found, score, "conll", sum(len(s.tokens) for s in sentences))


def _conll_sentence(
    sentence: ConllSentence, gold: Sequence[str], tagged: TaggedTokens, place: str
) -> ReportSentence:
    """One CoNLL sentence, its tokens joined by spaces into its text."""
    offsets = token_offsets(sentence.tokens)
    return ReportSentence(
        text=" ".join(sentence.tokens),
        gold=[Mention(offsets[s.start][0], offsets[s.end - 1][1], s.label) for s in tags_to_spans(gold)],
        predicted=predicted_mentions(tagged, offsets),
        tokens=offsets,
        token_confidences=list(tagged.confidences),
        place=place,
    )


def _collect_aligned(
    pipeline: Pipeline, path: PathLike, name: str, options: ReadOptions, batch_size: int
) -> Collected:
    """A span format's annotated documents, each read as `predict` reads it; conlleval's figures come
    from the aligned tokens as `Pipeline.evaluate_aligned` computes them."""
    from nerkit.data.formats import read_aligned

    documents = (document for document in read_aligned(path, name, options) if document.source.annotated)
    found: list[ReportSentence] = []
    tokens = 0

    def predicted() -> Iterator[tuple[AlignedDocument, list[Annotation]]]:
        nonlocal tokens
        for document, sentences, tagged in pipeline.tag_aligned(documents, batch_size, confidence=True):
            found.extend(_document_sentences(document, sentences, tagged))
            tokens += sum(len(spans) for spans in sentences)
            yield document, predicted_entities(sentences, tagged)

    score = score_aligned(predicted())
    if not found:
        raise NerkitError(
            "holds no annotated text to compare the model with",
            path=path,
            hint="give a file with annotated records (tasks, documents or lines)",
        )
    return Collected(found, score, name, tokens)


def _document_sentences(
    document: AlignedDocument, sentences: list[TokenSpans], tagged: list[TaggedTokens]
) -> list[ReportSentence]:
    """The document's sentences as the report shows them: the model's sentences, neighbours joined where
    a gold entity runs from one into the next; offsets relative to each one's text."""
    found = []
    for first, last in _joined_runs(sentences, document.entities):
        start, end = sentences[first][0][0], sentences[last][-1][1]
        tokens = [(a - start, b - start) for spans in sentences[first : last + 1] for a, b in spans]
        found.append(
            ReportSentence(
                text=document.text[start:end],
                gold=[
                    Mention(e.start - start, e.end - start, e.label)
                    for e in document.entities
                    if start <= e.start and e.end <= end
                ],
                predicted=[
                    mention
                    for spans, result in zip(
                        sentences[first : last + 1], tagged[first : last + 1], strict=True
                    )
                    for mention in predicted_mentions(result, spans, start)
                ],
                tokens=tokens,
                token_confidences=[c for result in tagged[first : last + 1] for c in result.confidences],
                place=f"{document.source.place}, sentence {first + 1}",
            )
        )
    return found


def _joined_runs(sentences: list[TokenSpans], entities: list[Annotation]) -> list[tuple[int, int]]:
    """Runs (first, last) of sentence indices that cover the text in order, a run extended wherever an
    entity overlaps two sentences."""
    starts = [spans[0][0] for spans in sentences]
    ends = [spans[-1][1] for spans in sentences]
    joined = [False] * len(sentences)  # joined[i]: sentence i continues into sentence i + 1
    for entity in entities:
        first = bisect_right(ends, entity.start)
        last = bisect_left(starts, entity.end) - 1
        for index in range(first, last):
            joined[index] = True
    runs = []
    first = 0
    for index in range(len(sentences)):
        if not joined[index]:
            runs.append((first, index))
            first = index + 1
    return runs
