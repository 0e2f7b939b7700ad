"""CoNLL files as annotated documents: each -DOCSTART- document (or lone sentence) typeset as text, and back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from nerkit.data.align import AlignedDocument
from nerkit.data.annotations import AnnotatedDocument, Annotation, TokenSpans
from nerkit.data.conll import DOCSTART, ConllSentence, read_conll
from nerkit.data.formats import ReadOptions, WriteOptions
from nerkit.data.tags import convert_tags, normalise_scheme, tags_to_spans
from nerkit.errors import NerkitError
from nerkit.files import PathLike, write_text_atomic

DOCSTART_LINE = f"{DOCSTART} O\n\n"


def read(path: PathLike, options: ReadOptions) -> Iterator[AnnotatedDocument]:
    """The documents of a tagged CoNLL file: tokens joined by spaces, one sentence per line, the
    file's tokens kept as the tokenisation and its chunks as character spans (placed at their line)."""
    group: list[ConllSentence] = []
    for sentence in read_conll(path, tag_column=options.tag_column):
        if group and (not sentence.document or sentence.document != group[-1].document):
            yield typeset(group, path)
            group = []
        group.append(sentence)
    if group:
        yield typeset(group, path)


def typeset(sentences: list[ConllSentence], path: PathLike) -> AnnotatedDocument:
    """One document of CoNLL sentences: its text, its tokens' spans and its chunks as annotations."""
    parts: list[str] = []
    spans: list[TokenSpans] = []
    annotations: list[Annotation] = []
    offset = 0
    for sentence in sentences:
        tokens: TokenSpans = []
        for word in sentence.tokens:
            tokens.append((offset, offset + len(word)))
            offset += len(word) + 1
        for chunk in tags_to_spans(sentence.tags):
            start, end = tokens[chunk.start][0], tokens[chunk.end - 1][1]
            place = f"{path}:{sentence.line + chunk.start}"
            annotations.append(Annotation(start, end, chunk.label, place=place))
        parts.append(" ".join(sentence.tokens))
        spans.append(tokens)
    first = sentences[0]
    return AnnotatedDocument(
        text="\n".join(parts) + "\n",
        annotations=annotations,
        place=f"{path}:{first.line}",
        sentences=spans,
        docstart=bool(first.document),
        format="conll",
    )


def write(path: PathLike, documents: Iterable[AlignedDocument], options: WriteOptions) -> int:
    """Write documents as a two-column CoNLL file (token, tag in `options.scheme`), a -DOCSTART- line
    before each document that has one; refuses a token with white space in it, which CoNLL cannot hold."""
    scheme = normalise_scheme(options.scheme)
    count = 0

    def lines() -> Iterator[str]:
        nonlocal count
        for document in documents:
            count += 1
            if document.source.docstart:
                yield DOCSTART_LINE
            for words, tags in zip(document.tokens(), document.tags, strict=True):
                if not words:
                    continue
                for word in words:
                    _check_word(word, document)
                yield "".join(
                    f"{word} {tag}\n" for word, tag in zip(words, convert_tags(tags, scheme), strict=True)
                )
                yield "\n"

    write_text_atomic(path, lines(), inputs=options.inputs)
    return count


def _check_word(word: str, document: AlignedDocument) -> None:
    """Refuse a token CoNLL would misread: one with white space in it, or -DOCSTART-."""
    if word == DOCSTART or any(character.isspace() for character in word):
        raise NerkitError(
            f"token {word!r} cannot be written to CoNLL",
            path=document.source.place,
            hint="CoNLL tokens hold no white space and are never -DOCSTART-: fix the tokenisation the file gives",
        )
