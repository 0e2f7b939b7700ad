"""Benchmark: entity F1 of `predict` on the dev split re-typeset as plain text, scored by character spans,
beside the token-level F1 of the same model on the same sentences.

    python bench/raw_text.py MODEL ../shared/data/conll2003/valid.txt --output bench/results/raw_text.json

Two settings: one sentence per line (the tokenizer alone), and whole documents per line (sentence
splitting too). Gold entities become character spans through the re-typesetting of bench/tokenizer.py;
a predicted entity is right when its start, end and label match a gold one exactly.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tokenizer import load_documents, typeset, typeset_document

import nerkit
from nerkit.data.conll import read_conll
from nerkit.data.tags import tags_to_spans

Entity = tuple[int, int, int, str]  # text number, start, end, label


def f1(gold: set[Entity], predicted: set[Entity]) -> dict[str, float]:
    """Precision, recall and F1 (percent) of exact-match entities."""
    correct = len(gold & predicted)
    precision = 100 * correct / len(predicted) if predicted else 0.0
    recall = 100 * correct / len(gold) if gold else 0.0
    score = 2 * precision * recall / (precision + recall) if correct else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": score,
        "gold": len(gold),
        "predicted": len(predicted),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model folder")
    parser.add_argument("conll", help="the dev split (CoNLL)")
    parser.add_argument("--output", type=Path, default=Path("bench/results/raw_text.json"))
    args = parser.parse_args()
    nlp = nerkit.load(args.model)
    sentences = list(read_conll(args.conll))

    started = time.perf_counter()
    token_score = nlp.evaluate(args.conll)
    token_seconds = time.perf_counter() - started

    texts, gold = [], set()
    for number, sentence in enumerate(sentences):
        text, spans = typeset(list(sentence.tokens))
        texts.append(text)
        for span in tags_to_spans(sentence.tags):
            gold.add((number, spans[span.start][0], spans[span.end - 1][1], span.label))
    started = time.perf_counter()
    documents = nlp.predict_many(texts)
    line_seconds = time.perf_counter() - started
    predicted = {(n, e.start, e.end, e.label) for n, d in enumerate(documents) for e in d.entities}
    per_line = f1(gold, predicted)

    gold_docs, doc_texts = set(), []
    tags_by_doc: dict[int, list[tuple[str, ...]]] = {}
    for sentence in sentences:
        tags_by_doc.setdefault(sentence.document, []).append(sentence.tags)
    for number, (doc_sentences, doc_tags) in enumerate(
        zip(load_documents(args.conll), tags_by_doc.values(), strict=True)
    ):
        text, token_spans, _ = typeset_document(doc_sentences)
        doc_texts.append(text)
        offset = 0
        for tokens, tags in zip(doc_sentences, doc_tags, strict=True):
            for span in tags_to_spans(tags):
                start = token_spans[offset + span.start][0]
                end = token_spans[offset + span.end - 1][1]
                gold_docs.add((number, start, end, span.label))
            offset += len(tokens)
    documents = nlp.predict_many(doc_texts)
    predicted_docs = {(n, e.start, e.end, e.label) for n, d in enumerate(documents) for e in d.entities}
    per_document = f1(gold_docs, predicted_docs)

    token_f1 = 100 * token_score.f1
    result = {
        "benchmark": "raw-text entity F1 (character spans) vs token-level F1 on CoNLL-2003 dev",
        "token_level_f1": token_f1,
        "sentence_per_line": per_line,
        "document_per_line": per_document,
        "relative_gap_sentence_per_line": (token_f1 - per_line["f1"]) / token_f1,
        "relative_gap_document_per_line": (token_f1 - per_document["f1"]) / token_f1,
        "seconds": {"token_level": token_seconds, "sentence_per_line": line_seconds},
    }
    print(json.dumps(result, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
