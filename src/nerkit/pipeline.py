"""A loaded model put to work: raw text to entities with offsets and confidence, or tokens to tags."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from nerkit.cores import default_threads
from nerkit.data.align import AlignedDocument, plain_sentences, tag_sentences
from nerkit.data.annotations import Annotation, TokenSpans
from nerkit.data.batches import TokenCodes, encode_sentence
from nerkit.data.conll import document_ids, read_conll
from nerkit.data.formats import ReadOptions
from nerkit.data.tags import Span, convert_tags, spans_to_tags, tags_to_spans
from nerkit.data.vocab import Vocab
from nerkit.errors import NerkitError, check_fraction
from nerkit.evaluate import CharSpan, Score, score_char_spans, score_pairs, score_sequences
from nerkit.files import PathLike
from nerkit.model.folder import ENSEMBLE_FORMAT, EXPORTED_FORMAT, LOADABLE_FORMATS, load_model, read_meta
from nerkit.model.inference import BatchTagger, tag_encoded
from nerkit.model.spec import ModelSpec
from nerkit.text.document import Document, Entity, Sentence, parse_text

if TYPE_CHECKING:
    from nerkit.embeddings.subwords import FeatureReader
    from nerkit.report.build import Report


@dataclass
class TaggedTokens:
    """Predicted tags of one pre-tokenised sentence, in the model's output scheme, with confidences."""

    tags: list[str]
    # marginal probability of each token's tag as the model chose it (a token whose entity min_confidence
    # dropped keeps its entity tag's); empty when not asked for
    confidences: list[float]


def check_min_confidence(value: object) -> float:
    """`value` as a confidence threshold: a number from 0 to 1 (bool, NaN and the rest refused)."""
    return check_fraction(
        value, "min_confidence", hint="entities whose confidence is below it are dropped; 0 keeps them all"
    )


def entity_confidence(confidences: Sequence[float], span: Span) -> float:
    """An entity's confidence: the lowest marginal probability among its tokens' tags, to 4 places."""
    return round(min(confidences[span.start : span.end]), 4)


def confident_tags(tagged: TaggedTokens, min_confidence: float, scheme: str) -> list[str]:
    """`tagged`'s tags in `scheme` with every entity whose confidence is below `min_confidence` made O."""
    kept = [
        span
        for span in tags_to_spans(tagged.tags)
        if entity_confidence(tagged.confidences, span) >= min_confidence
    ]
    return spans_to_tags(kept, len(tagged.tags), scheme)


def drop_unconfident(document: Document, min_confidence: float) -> Document:
    """`document` without the entities whose confidence is below `min_confidence` (itself at 0); what
    tagging with that `min_confidence` gives."""
    if not min_confidence:
        return document
    kept = [e for e in document.entities if e.confidence is not None and e.confidence >= min_confidence]
    return replace(document, entities=kept)


def add_entities(document: Document, sentence: Sentence, tagged: TaggedTokens) -> None:
    """Append the entities of one tagged sentence to its document, with character offsets.

    An entity's confidence is the lowest marginal probability among its tokens' tags.
    """
    for span in tags_to_spans(tagged.tags):
        start = sentence.tokens[span.start].start
        end = sentence.tokens[span.end - 1].end
        confidence = entity_confidence(tagged.confidences, span) if tagged.confidences else None
        document.entities.append(Entity(start, end, span.label, document.text[start:end], confidence))


class Pipeline:
    """Sentences, tokens, tags and entities from a trained model: `nerkit.load(path).predict(text)`."""

    def __init__(
        self,
        model: BatchTagger,
        vocab: Vocab,
        meta: dict[str, object],
        transformer: FeatureReader | None = None,
        path: PathLike | None = None,
    ) -> None:
        self.model = model
        self.vocab = vocab
        self.labels = vocab.labels
        self.meta = meta
        self.transformer = transformer  # what gives a model that reads transformer features its features
        self.path = path  # the model folder it was loaded from (None for a model built in memory)

    @property
    def spec(self) -> ModelSpec:
        """The model's architecture."""
        return self.model.spec

    @property
    def entity_types(self) -> list[str]:
        """The entity types the model can find, sorted."""
        return sorted({label.partition("-")[2] for label in self.labels if label != "O"})

    def tag_tokens(
        self,
        sentences: Sequence[Sequence[str]],
        batch_size: int = 512,
        confidence: bool = True,
        documents: Sequence[int] | None = None,
        min_confidence: float = 0.0,
    ) -> list[TaggedTokens]:
        """Tags for pre-tokenised sentences, in the training data's scheme (and their marginals).

        `documents` gives each sentence's document, so a model trained in document context reads
        neighbouring sentences together; without it every sentence stands alone. Entities whose
        confidence is below `min_confidence` (0 to 1) are tagged O.
        """
        min_confidence = check_min_confidence(min_confidence)
        seen: dict[str, TokenCodes] = {}  # each word form encoded once per call
        encoded = [encode_sentence(tokens, self.vocab, seen=seen) for tokens in sentences]
        if self.transformer is not None:
            from nerkit.embeddings.subwords import group_documents

            spec = self.spec
            owners = (
                documents if documents is not None and spec.transformer_context else range(len(sentences))
            )
            grouped = group_documents(sentences, list(owners))
            features = self.transformer.features(grouped, spec.transformer_layers, spec.transformer_pooling)
            for sentence, values in zip(encoded, features, strict=True):
                sentence.features = values
        marginals = confidence or min_confidence > 0
        paths, confidences = tag_encoded(self.model, encoded, batch_size, marginals, documents)
        scheme = self.spec.output_scheme
        tagged = [
            TaggedTokens(convert_tags([self.labels[i] for i in path], scheme), token_confidences)
            for path, token_confidences in zip(paths, confidences, strict=True)
        ]
        if not min_confidence:
            return tagged
        return [
            TaggedTokens(confident_tags(t, min_confidence, scheme), t.confidences if confidence else [])
            for t in tagged
        ]

    def tag_documents(
        self, documents: Sequence[Document], batch_size: int = 512, min_confidence: float = 0.0
    ) -> list[Document]:
        """Find the entities of already-split documents (their sentences and tokens set); those whose
        confidence is below `min_confidence` (0 to 1) are left out."""
        self.tag_document_sentences(
            documents, range(len(documents)), batch_size, min_confidence=min_confidence
        )
        return list(documents)

    def tag_document_sentences(
        self,
        documents: Sequence[Document],
        owners: Sequence[int],
        batch_size: int = 512,
        confidence: bool = True,
        min_confidence: float = 0.0,
    ) -> list[list[TaggedTokens]]:
        """Tag every sentence of already-split documents and add their entities; `owners[i]` is the
        context document of `documents[i]` (equal owners are read together). Returns the tags per
        document, per sentence. Entities whose confidence is below `min_confidence` (0 to 1) are left
        out, and their tokens tagged O; confidences are computed for it even without `confidence`."""
        sentences = [sentence for document in documents for sentence in document.sentences]
        context = [
            owner for owner, document in zip(owners, documents, strict=True) for _ in document.sentences
        ]
        tokens = [[t.text for t in s.tokens] for s in sentences]
        tagged = iter(self.tag_tokens(tokens, batch_size, confidence, context, min_confidence))
        results = []
        for document in documents:
            results.append([next(tagged) for _ in document.sentences])
            for sentence, result in zip(document.sentences, results[-1], strict=True):
                add_entities(document, sentence, result)
        return results

    def predict_many(
        self, texts: Iterable[str], batch_size: int = 512, min_confidence: float = 0.0
    ) -> list[Document]:
        """Documents with entities for raw texts; every offset points into its text. Entities whose
        confidence is below `min_confidence` (0 to 1; 0 keeps all) are left out."""
        min_confidence = check_min_confidence(min_confidence)
        return self.tag_documents([parse_text(text) for text in texts], batch_size, min_confidence)

    def predict(self, text: str, min_confidence: float = 0.0) -> Document:
        """One raw text to a Document with its entities, but those whose confidence is below
        `min_confidence` (0 to 1; 0 keeps all)."""
        return self.predict_many([text], min_confidence=min_confidence)[0]

    def report(
        self,
        file: PathLike | None = None,
        format: str | None = None,
        options: ReadOptions | None = None,
        batch_size: int = 512,
        suspect_confidence: float | None = None,
    ) -> Report:
        """Where the model goes wrong on annotated data in any format (detected unless `format` is
        given), and how sure it was: every part of `nerkit report` (`.to_json()`, `.to_html()`); without
        `file`, the model's spec and training curves alone. Gold entities the model contradicts with
        at least `suspect_confidence` (None: 0.95) are the likely annotation errors."""
        from nerkit.report.build import build_report

        if self.path is None:
            raise NerkitError(
                "this model was not loaded from a folder", hint="load it with nerkit.load(path)"
            )
        return build_report(self, self.path, file, format, options, batch_size, suspect_confidence)

    def evaluate(
        self,
        path: PathLike,
        format: str | None = None,
        options: ReadOptions | None = None,
        batch_size: int = 512,
        tag_column: int | None = None,
    ) -> Score:
        """conlleval's figures for the model on annotated data in any format (detected unless `format`
        is given). A CoNLL file's tokens are tagged as given, both tags read as IOB2; a span format's
        annotated documents are aligned and their tokens tagged, and the score adds exact character-span
        figures (`char_spans`). `tag_column` (CoNLL) overrides `options.tag_column`."""
        from nerkit.data.formats import read_aligned
        from nerkit.data.formats.detect import require_format

        options = options or ReadOptions()
        if tag_column is not None:
            options = replace(options, tag_column=tag_column)
        name = require_format(path, format)
        if name != "conll":
            documents = (
                document for document in read_aligned(path, name, options) if document.source.annotated
            )
            return self.evaluate_aligned(documents, batch_size)
        sentences = list(read_conll(path, tag_column=options.tag_column))
        tagged = self.tag_tokens(
            [s.tokens for s in sentences], batch_size, confidence=False, documents=document_ids(sentences)
        )
        return score_sequences(
            [convert_tags(s.tags, "IOB2") for s in sentences],
            [convert_tags(t.tags, "IOB2") for t in tagged],
        )

    def evaluate_aligned(self, documents: Iterable[AlignedDocument], batch_size: int = 512) -> Score:
        """conlleval's figures on aligned documents, with exact character-span figures added. The model
        reads each document as `predict` would (the file's tokens, or nerkit's split of the text: never
        tokens cut at the gold edges); its entities are then laid onto the aligned tokens for conlleval
        (gold: the entities alignment kept; predicted: the characters each predicted entity covers)."""
        return score_aligned(
            (document, predicted_entities(sentences, tagged))
            for document, sentences, tagged in self.tag_aligned(documents, batch_size)
        )

    def tag_aligned(
        self, documents: Iterable[AlignedDocument], batch_size: int = 512, confidence: bool = False
    ) -> Iterator[tuple[AlignedDocument, list[TokenSpans], list[TaggedTokens]]]:
        """Each aligned document with its sentences read as `predict` reads them (`plain_sentences`) and
        their tags; documents are tagged some thousands of sentences at a time, each in its own context."""
        for group in _document_groups(documents, EVALUATE_SENTENCES):
            split = [plain_sentences(document.source) for document in group]
            words = [
                tuple(document.text[start:end] for start, end in spans)
                for document, sentences in zip(group, split, strict=True)
                for spans in sentences
            ]
            owners = [owner for owner, sentences in enumerate(split) for _ in sentences]
            tagged = iter(self.tag_tokens(words, batch_size, confidence, owners) if words else [])
            for document, sentences in zip(group, split, strict=True):
                yield document, sentences, [next(tagged) for _ in sentences]


def predicted_entities(sentences: Sequence[TokenSpans], tagged: Sequence[TaggedTokens]) -> list[Annotation]:
    """The entities the tags of a document's sentences mark, as character spans of the document."""
    return [
        Annotation(spans[chunk.start][0], spans[chunk.end - 1][1], chunk.label)
        for spans, result in zip(sentences, tagged, strict=True)
        for chunk in tags_to_spans(result.tags)
    ]


def score_aligned(predicted: Iterable[tuple[AlignedDocument, list[Annotation]]]) -> Score:
    """conlleval's figures over aligned documents and the model's entities in each, the entities laid
    onto the aligned tokens, with exact character-span figures added."""
    gold_spans: list[set[CharSpan]] = []
    pred_spans: list[set[CharSpan]] = []

    def pairs() -> Iterator[tuple[list[str], list[str]]]:
        for document, entities in predicted:
            tags, _ = tag_sentences(document.sentences, entities, document.source, [])
            yield from zip(document.tags, tags, strict=True)
            gold_spans.append({(e.start, e.end, e.label) for e in document.entities})
            pred_spans.append({(e.start, e.end, e.label) for e in entities})

    score = score_pairs(pairs())
    score.char_spans = score_char_spans(gold_spans, pred_spans)
    return score


EVALUATE_SENTENCES = 4096  # sentences tagged at a time when evaluating aligned documents


def _document_groups(documents: Iterable[AlignedDocument], sentences: int) -> Iterator[list[AlignedDocument]]:
    """Whole documents in groups of about `sentences` sentences (a longer document alone)."""
    group: list[AlignedDocument] = []
    count = 0
    for document in documents:
        group.append(document)
        count += len(document.sentences)
        if count >= sentences:
            yield group
            group, count = [], 0
    if group:
        yield group


MAX_THREADS = 1024  # as many as training takes (TrainOptions.threads)


def load(path: PathLike, threads: int = 0, precision: str = "auto") -> Pipeline:
    """Load a model folder written by `nerkit train`, by `nerkit export` (then run by onnxruntime,
    without torch) or by `nerkit ensemble`, ready to predict; `precision` is what a transformer model computes its features in:
    "float32", "bfloat16", or "auto" (bfloat16 where the CPU has it); `threads` 0 lets nerkit choose,
    else 1 to 1,024."""
    if isinstance(threads, bool) or not isinstance(threads, int) or not 0 <= threads <= MAX_THREADS:
        raise NerkitError(
            f"threads={threads!r} is out of range", hint="give 1 to 1,024, or 0 to let nerkit choose"
        )
    meta = read_meta(path, LOADABLE_FORMATS)
    if meta["format"] == EXPORTED_FORMAT:
        from nerkit.runtime.exported import load_exported

        exported = load_exported(path, threads or default_threads(), meta)
        return Pipeline(exported.tagger, exported.vocab, exported.meta, exported.transformer, path)
    import torch

    torch.set_num_threads(threads or default_threads())
    if meta["format"] == ENSEMBLE_FORMAT:
        from nerkit.model.ensemble import load_ensemble

        ensemble = load_ensemble(path, meta, precision)
        return Pipeline(ensemble.model, ensemble.vocab, ensemble.meta, ensemble.transformer, path)
    loaded = load_model(path, precision, meta)  # model.json read once
    return Pipeline(loaded.model, loaded.vocab, loaded.meta, loaded.transformer, path)
