"""Document, Sentence, Token and Entity, with character offsets into the original text."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from nerkit.text.sentences import sentence_spans
from nerkit.text.tokenizer import iter_token_spans, token_spans

TOKENS_PER_PART = 4096  # tokens per piece of `document_json_parts`: bounded memory, few writes


@dataclass(slots=True)
class Token:
    """One token: `document.text[start:end] == text`."""

    text: str
    start: int
    end: int


@dataclass(slots=True)
class Entity:
    """A named entity: `document.text[start:end] == text`, with its label and the model's confidence."""

    start: int
    end: int
    label: str
    text: str
    confidence: float | None = None

    def to_json(self) -> dict[str, object]:
        """The entity as a JSON-ready dict."""
        return {
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "text": self.text,
            "confidence": self.confidence,
        }


@dataclass(slots=True)
class Sentence:
    """A sentence: its span in the document and its tokens."""

    start: int
    end: int
    tokens: list[Token]


@dataclass(slots=True)
class Document:
    """A text, its sentences and tokens, and the entities found in it."""

    text: str
    sentences: list[Sentence] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)

    @property
    def tokens(self) -> list[Token]:
        """All tokens of the document, in order."""
        return [token for sentence in self.sentences for token in sentence.tokens]

    def to_json(self) -> dict[str, object]:
        """The document as a JSON-ready dict: text, sentences with their tokens, entities."""
        return {
            "text": self.text,
            "sentences": [
                {
                    "start": sentence.start,
                    "end": sentence.end,
                    "tokens": [{"text": t.text, "start": t.start, "end": t.end} for t in sentence.tokens],
                }
                for sentence in self.sentences
            ],
            "entities": [entity.to_json() for entity in self.entities],
        }


def parse_text(text: str) -> Document:
    """Split raw text into sentences and tokens; every offset points into `text`."""
    sentences = []
    for start, end in sentence_spans(text):
        tokens = [Token(text[s:e], s, e) for s, e in token_spans(text, start, end)]
        if tokens:
            sentences.append(Sentence(start, end, tokens))
    return Document(text, sentences)


def document_json_parts(text: str) -> Iterator[str]:
    """The JSON line of `parse_text(text).to_json()` (with its newline), in pieces that together hold
    at most a few thousand tokens, so a text of millions of tokens is written in little memory."""
    yield '{"text": ' + _json_string(text) + ', "sentences": ['
    written = 0
    for start, end in sentence_spans(text):
        spans = iter_token_spans(text, start, end)
        first = next(spans, None)
        if first is None:
            continue
        yield (", " if written else "") + f'{{"start": {start}, "end": {end}, "tokens": ['
        yield _token_json(text, first)
        while part := "".join(", " + _token_json(text, span) for span in islice(spans, TOKENS_PER_PART)):
            yield part
        yield "]}"
        written += 1
    yield '], "entities": []}\n'


def document_conll_parts(text: str) -> Iterator[str]:
    """The tokens of `parse_text(text)` one per line, a blank line after each sentence, in pieces of at
    most a few thousand tokens (see `document_json_parts`)."""
    for start, end in sentence_spans(text):
        spans = iter_token_spans(text, start, end)
        written = False
        while part := "".join(text[s:e] + "\n" for s, e in islice(spans, TOKENS_PER_PART)):
            written = True
            yield part
        if written:
            yield "\n"


def _json_string(text: str) -> str:
    """`text` as a JSON string, as `json.dumps(..., ensure_ascii=False)` writes it."""
    return json.dumps(text, ensure_ascii=False)


def _token_json(text: str, span: tuple[int, int]) -> str:
    """One token of `Document.to_json` as JSON text."""
    start, end = span
    return f'{{"text": {_json_string(text[start:end])}, "start": {start}, "end": {end}}}'


def document_from_tokens(sentences: Iterable[Sequence[str]]) -> Document:
    """A Document for pre-tokenised sentences: tokens joined by spaces, each sentence on its own line."""
    lines: list[str] = []
    built: list[Sentence] = []
    offset = 0
    for words in sentences:
        if not words:
            continue
        tokens = []
        start = offset
        for word in words:
            tokens.append(Token(word, start, start + len(word)))
            start += len(word) + 1
        line = " ".join(words)
        built.append(Sentence(offset, offset + len(line), tokens))
        lines.append(line + "\n")
        offset += len(line) + 1
    return Document("".join(lines), built)
