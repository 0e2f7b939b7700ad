"""Benchmark: two ways to tag with one stacked model that need no training, scored on a CoNLL file:
its CRF marginals from several readings of the text by the transformer (windows of several sizes, each
sentence alone) averaged, and each entity phrase given one type per document (the type its mentions
there were most confidently given).

    python bench/tagging_views.py ../shared/data/conll2003/valid.txt A=MODEL B=MODEL ... \\
        --windows 128 256 510 --output bench/results/NAME.json

The models read the same transformer (the first model's is used). A reading's marginals are each
sentence's CRF marginals with the features of that reading; readings are averaged and decoded as
`nerkit ensemble` decodes its members' average (the best path by the sum of the logs, among the paths the
tag scheme allows). "alone" reads each sentence without its document; a number is windows of that many
sub-words over the document.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from ensemble_subsets import FeaturesOnce
from machine import cpu

from nerkit.data.batches import Padded
from nerkit.data.conll import document_ids, read_conll
from nerkit.data.tags import Span, convert_tags, spans_to_tags, tags_to_spans
from nerkit.embeddings.subwords import FeatureReader
from nerkit.evaluate import score_sequences
from nerkit.model.ensemble import SMALLEST, EnsembleTagger
from nerkit.model.folder import LoadedModel, load_model
from nerkit.model.spec import ModelSpec
from nerkit.model.tagger import Tagger
from nerkit.pipeline import Pipeline


class SentencesAlone:
    """A transformer reading each sentence without the rest of its document."""

    def __init__(self, transformer: FeatureReader) -> None:
        self.transformer = transformer

    def features(
        self, documents: Sequence[Sequence[Sequence[str]]], layers: int, pooling: str
    ) -> list[np.ndarray]:
        """Each sentence's features, read as a document of its own."""
        alone = [[sentence] for document in documents for sentence in document]
        return self.transformer.features(alone, layers, pooling)


class FullMarginals:
    """A tagger whose "confidences" are every token's CRF marginals over all tags (its paths unused)."""

    def __init__(self, model: Tagger) -> None:
        self.model = model

    @property
    def spec(self) -> ModelSpec:
        """The model's spec."""
        return self.model.spec

    def network(self, padded: Padded) -> torch.Tensor:
        """The model's emission scores."""
        return self.model.network(padded)

    def decode(
        self, scores: torch.Tensor, padded: Padded, confidence: bool = True
    ) -> tuple[list[list[int]], list[np.ndarray]]:
        """Placeholder paths, and each sentence's marginals [tokens, tags] in float64."""
        mask = torch.from_numpy(padded.mask)
        with torch.inference_mode():
            marginals = self.model.crf.marginals(scores.double(), mask).numpy()
        lengths = [int(n) for n in padded.mask.sum(1)]
        return [[0] * n for n in lengths], [marginals[row, :n] for row, n in enumerate(lengths)]


def reading_marginals(
    loaded: LoadedModel, reader: FeatureReader, tokens: Sequence[Sequence[str]], documents: Sequence[int]
) -> list[np.ndarray]:
    """Every sentence's marginals [tokens, tags] with the features `reader` gives."""
    pipeline = Pipeline(FullMarginals(loaded.model), loaded.vocab, loaded.meta, reader)  # type: ignore[arg-type]
    return [np.asarray(t.confidences) for t in pipeline.tag_tokens(tokens, documents=documents)]


def best_paths(loaded: LoadedModel, marginals: Sequence[np.ndarray]) -> list[list[int]]:
    """Each sentence's best label row by its marginals' logs, among the paths the scheme allows (the rules
    an ensemble of the model decodes with)."""
    rules = EnsembleTagger([loaded.model]).rules
    paths: list[list[int]] = []
    for start in range(0, len(marginals), 256):
        chunk = marginals[start : start + 256]
        width = max(1, *(len(m) for m in chunk))
        padded = np.full((len(chunk), width, rules.num_tags), SMALLEST)
        mask = np.zeros((len(chunk), width), dtype=bool)
        for row, rows in enumerate(chunk):
            padded[row, : len(rows)], mask[row, : len(rows)] = rows, True
        with torch.inference_mode():
            paths += rules.decode(torch.from_numpy(padded).log().float(), torch.from_numpy(mask))
    return paths


def iob2(loaded: LoadedModel, paths: Sequence[Sequence[int]]) -> list[list[str]]:
    """Label rows as IOB2 tags."""
    labels, scheme = loaded.vocab.labels, loaded.model.spec.output_scheme
    return [convert_tags(convert_tags([labels[i] for i in path], scheme), "IOB2") for path in paths]


def phrase_in_document(
    tokens: Sequence[Sequence[str]], documents: Sequence[int], sentence: int, span: Span
) -> tuple[int, str]:
    """A span's document and the words it covers."""
    return documents[sentence], " ".join(tokens[sentence][span.start : span.end])


def one_type_per_document(
    tags: Sequence[Sequence[str]],
    confidence: Sequence[np.ndarray],
    tokens: Sequence[Sequence[str]],
    documents: Sequence[int],
) -> list[list[str]]:
    """The tags with every entity phrase of a document given the type whose mentions of it there have
    the largest summed confidence (a mention's confidence: its tokens' mean)."""
    spans = [tags_to_spans(t) for t in tags]
    weight: dict[tuple[int, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for i, found in enumerate(spans):
        for span in found:
            key = phrase_in_document(tokens, documents, i, span)
            weight[key][span.label] += float(np.mean(confidence[i][span.start : span.end]))
    result = []
    for i, found in enumerate(spans):
        kept = []
        for span in found:
            types = weight[phrase_in_document(tokens, documents, i, span)]
            kept.append(Span(span.start, span.end, max(types, key=types.__getitem__)))
        result.append(spans_to_tags(kept, len(tags[i])))
    return result


def phrases_of_two_types(
    tags: Sequence[Sequence[str]], tokens: Sequence[Sequence[str]], documents: Sequence[int]
) -> dict[str, int]:
    """How many (document, phrase) pairs the tags name as entities, and how many of them with two types
    or more."""
    types: dict[tuple[int, str], set[str]] = defaultdict(set)
    for i, row in enumerate(tags):
        for span in tags_to_spans(row):
            types[phrase_in_document(tokens, documents, i, span)].add(span.label)
    return {"phrases": len(types), "of two types or more": sum(len(t) > 1 for t in types.values())}


def main() -> None:
    """Score every reading and combination per model, and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="an annotated CoNLL file (dev)")
    parser.add_argument("models", nargs="+", help="NAME=FOLDER, stacked models reading one transformer")
    parser.add_argument("--windows", nargs="+", type=int, default=[128, 256, 510])
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    sentences = list(read_conll(args.file))
    tokens, documents = [s.tokens for s in sentences], document_ids(sentences)
    gold = [convert_tags(s.tags, "IOB2") for s in sentences]
    folders = {name: Path(folder) for name, folder in (item.split("=", 1) for item in args.models)}
    loaded = {name: load_model(folder) for name, folder in folders.items()}
    transformer = next(iter(loaded.values())).transformer
    assert transformer is not None, "the models read no transformer"
    readers: dict[str, FeatureReader] = {
        str(w): FeaturesOnce(dataclasses.replace(transformer, window=w)) for w in args.windows
    }
    readers["alone"] = FeaturesOnce(
        SentencesAlone(dataclasses.replace(transformer, window=max(args.windows)))
    )

    def f1(tags: Sequence[Sequence[str]]) -> float:
        return round(100 * score_sequences(gold, tags).f1, 2)

    scores: dict[str, dict[str, float]] = {}
    for name, model in loaded.items():
        readings = {
            key: reading_marginals(model, reader, tokens, documents) for key, reader in readers.items()
        }
        own = str(model.model.spec.transformer_window or max(args.windows))
        row = {key: f1(iob2(model, best_paths(model, marginals))) for key, marginals in readings.items()}
        for size in range(2, len(readings) + 1):
            for keys in itertools.combinations(readings, size):
                averaged = [np.mean(rows, axis=0) for rows in zip(*(readings[k] for k in keys), strict=True)]
                row[" + ".join(keys)] = f1(iob2(model, best_paths(model, averaged)))
        paths = best_paths(model, readings[own])
        chosen = [rows[np.arange(len(path)), path] for rows, path in zip(readings[own], paths, strict=True)]
        voted = one_type_per_document(iob2(model, paths), chosen, tokens, documents)
        row[f"{own}, one type per document"] = f1(voted)
        scores[name] = row
        print(name, json.dumps(row), flush=True)
    columns = list(next(iter(scores.values())))
    result = {
        "benchmark": "one stacked model's readings averaged, and one type per phrase and document",
        "cpu": cpu(),
        "file": str(args.file),
        "models": {name: str(folder) for name, folder in folders.items()},
        "f1": scores,
        "gold phrases per document": phrases_of_two_types(gold, tokens, documents),
        "median": {
            column: round(statistics.median(row[column] for row in scores.values()), 2) for column in columns
        },
    }
    args.output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result["median"]))


if __name__ == "__main__":
    main()
