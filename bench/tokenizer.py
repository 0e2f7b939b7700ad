"""Benchmark: how many CoNLL-2003 tokens each tokenizer gives back from the dev split re-typeset as text.

Re-typesets every sentence of a CoNLL file as natural text (no space before `,` `.` `)` `'s` `n't`...,
none after `(` `$`, paired double quotes hugging their words; headlines and datelines on lines of their
own) while recording where each gold token lies, then runs each tokenizer and counts the tokens whose
character span is exactly a gold token's. Two settings: one sentence per line (the tokenizer alone) and
whole documents (sentence splitter + tokenizer), where sentence splitters are compared too. Writes JSON.

    python bench/tokenizer.py ../shared/data/conll2003/valid.txt --output bench/results/tokenizer.json

Other candidates are measured when installed (`pip install -c constraints.txt spacy syntok nltk pysbd`).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from nerkit.data.conll import read_conll
from nerkit.text.sentences import sentence_spans
from nerkit.text.tokenizer import token_spans

Spans = list[tuple[int, int]]
NO_SPACE_BEFORE = {",", ".", ";", ":", "!", "?", "%", ")", "]", "}", "...", "'"}
NO_SPACE_AFTER = {"(", "[", "{", "$", "C$", "US$", "A$"}
CLITICS = ("'s", "'S", "n't", "N'T", "'re", "'ve", "'ll", "'d", "'m", "'RE", "'VE", "'LL", "'D", "'M")


def typeset(tokens: list[str]) -> tuple[str, Spans]:
    """Natural text for one sentence's tokens, and each token's span in it."""
    text = ""
    spans: Spans = []
    quote_open = False
    glue_next = False
    for token in tokens:
        glue = glue_next or token in NO_SPACE_BEFORE or token in CLITICS
        glue_next = token in NO_SPACE_AFTER
        if token == '"':
            glue = glue or quote_open  # a closing quote hugs the word before it
            glue_next = not quote_open  # an opening quote hugs the word after it
            quote_open = not quote_open
        if text and not glue:
            text += " "
        spans.append((len(text), len(text) + len(token)))
        text += token
    return text, spans


def load_documents(path: str) -> list[list[list[str]]]:
    """The sentences (token lists) of each -DOCSTART- document of a CoNLL file."""
    documents: dict[int, list[list[str]]] = {}
    for sentence in read_conll(path):
        documents.setdefault(sentence.document, []).append(list(sentence.tokens))
    return list(documents.values())


def typeset_document(sentences: list[list[str]]) -> tuple[str, Spans, Spans]:
    """A document's text, gold token spans and gold sentence spans; a sentence that does not end in
    final punctuation (a headline, a dateline) ends its line."""
    text = ""
    tokens: Spans = []
    sentence_bounds: Spans = []
    for sentence in sentences:
        if text:
            text += " " if text[-1] in ".!?\"'" else "\n"
        body, spans = typeset(sentence)
        offset = len(text)
        tokens.extend((start + offset, end + offset) for start, end in spans)
        sentence_bounds.append((offset, offset + len(body)))
        text += body
    return text, tokens, sentence_bounds


def candidates() -> dict[str, Callable[[str], Spans]]:
    """The tokenizers to compare, each as text -> token spans; those not installed are left out."""
    found: dict[str, Callable[[str], Spans]] = {
        "nerkit": token_spans,
        "whitespace": lambda text: [(m.start(), m.end()) for m in __import__("re").finditer(r"\S+", text)],
    }
    try:
        import spacy

        nlp = spacy.blank("en")
        found["spacy-blank-en"] = lambda text: [
            (t.idx, t.idx + len(t.text)) for t in nlp.tokenizer(text) if not t.is_space
        ]
    except ImportError:
        pass
    try:
        from syntok.tokenizer import Tokenizer

        syntok = Tokenizer(replace_not_contraction=False)
        found["syntok"] = lambda text: [(t.offset, t.offset + len(t.value)) for t in syntok.tokenize(text)]
    except ImportError:
        pass
    try:
        from nltk.tokenize import NLTKWordTokenizer, TreebankWordTokenizer

        treebank = TreebankWordTokenizer()
        nltk_word = NLTKWordTokenizer()
        found["nltk-treebank"] = lambda text: list(treebank.span_tokenize(text))
        found["nltk-word"] = lambda text: list(nltk_word.span_tokenize(text))
    except ImportError:
        pass
    return found


def splitters() -> dict[str, Callable[[str], Spans]]:
    """The sentence splitters to compare, each as text -> sentence spans; those not installed are left out."""
    found: dict[str, Callable[[str], Spans]] = {"nerkit": sentence_spans}
    try:
        import pysbd

        segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
        found["pysbd"] = lambda text: [trim(text, s.start, s.end) for s in segmenter.segment(text)]
    except ImportError:
        pass
    try:
        from syntok.segmenter import analyze

        def syntok_spans(text: str) -> Spans:
            spans = []
            for paragraph in analyze(text):
                for sentence in paragraph:
                    tokens = list(sentence)
                    spans.append((tokens[0].offset, tokens[-1].offset + len(tokens[-1].value)))
            return spans

        found["syntok"] = syntok_spans
    except ImportError:
        pass
    try:
        import spacy

        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        found["spacy-sentencizer"] = lambda text: [
            trim(text, s.start_char, s.end_char)
            for s in nlp(text).sents
            if text[s.start_char : s.end_char].strip()
        ]
    except ImportError:
        pass
    return found


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """A span without its surrounding white space."""
    piece = text[start:end]
    return start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())


def measure_splitters(docs: list[tuple[str, Spans, Spans]]) -> dict[str, object]:
    """Sentence recall/precision of each splitter, and nerkit's tokens through it, on whole documents."""
    results: dict[str, object] = {}
    for name, splitter in splitters().items():
        matched = predicted = gold = token_matched = token_gold = 0
        started = time.perf_counter()
        for text, gold_tokens, gold_sentences in docs:
            sentences = splitter(text)
            matched += exact(gold_sentences, sentences)
            predicted += len(sentences)
            gold += len(gold_sentences)
            tokens = [(s + a, e + a) for a, b in sentences for s, e in token_spans(text[a:b])]
            token_matched += exact(gold_tokens, tokens)
            token_gold += len(gold_tokens)
        seconds = time.perf_counter() - started
        results[name] = {
            "sentence_recall": matched / gold,
            "sentence_precision": matched / predicted,
            "exact_token_recall_with_nerkit_tokenizer": token_matched / token_gold,
            "seconds": seconds,
        }
        print(
            f"splitter {name:18} sentence recall {matched / gold:.4f} precision {matched / predicted:.4f}  "
            f"tokens {token_matched / token_gold:.4f}  {seconds:.1f} s",
            file=sys.stderr,
        )
    return results


def pipeline_spans(tokenizer: Callable[[str], Spans], text: str) -> Spans:
    """nerkit's sentence splitter, then `tokenizer` on each sentence: the token spans."""
    tokens: Spans = []
    for start, end in sentence_spans(text):
        tokens.extend((s + start, e + start) for s, e in tokenizer(text[start:end]))
    return tokens


def exact(gold: Spans, predicted: Spans) -> int:
    """How many predicted spans are exactly a gold span."""
    return len(set(gold) & set(predicted))


def measure(path: str, repeats: int) -> dict[str, object]:
    """Run every candidate on the re-typeset file; return the figures."""
    documents = load_documents(path)
    lines = [typeset(sentence) for document in documents for sentence in document]
    docs = [typeset_document(document) for document in documents]
    gold_tokens = sum(len(spans) for _, spans in lines)
    chars = sum(len(text) for text, _ in lines)
    results: dict[str, object] = {}
    for name, tokenizer in candidates().items():
        matched = predicted = exact_sentences = 0
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            outputs = [tokenizer(text) for text, _ in lines]
            timings.append(time.perf_counter() - started)
        for (_, gold), spans in zip(lines, outputs, strict=True):
            hits = exact(gold, spans)
            matched += hits
            predicted += len(spans)
            exact_sentences += hits == len(gold) == len(spans)
        doc_matched = doc_predicted = doc_gold = 0
        for text, gold, _ in docs:
            spans = pipeline_spans(tokenizer, text)
            doc_matched += exact(gold, spans)
            doc_predicted += len(spans)
            doc_gold += len(gold)
        seconds = statistics.median(timings)
        results[name] = {
            "sentence_per_line": {
                "exact_token_recall": matched / gold_tokens,
                "exact_token_precision": matched / predicted,
                "exact_sentences": exact_sentences / len(lines),
            },
            "whole_documents": {
                "exact_token_recall": doc_matched / doc_gold,
                "exact_token_precision": doc_matched / doc_predicted,
            },
            "median_seconds": seconds,
            "chars_per_second": chars / seconds,
        }
        print(
            f"{name:16} recall {matched / gold_tokens:.4f}  sentences exact {exact_sentences / len(lines):.4f}  "
            f"docs recall {doc_matched / doc_gold:.4f}  {chars / seconds / 1e6:.2f} M chars/s",
            file=sys.stderr,
        )
    return {
        "benchmark": "tokenizer",
        "data": str(path),
        "sentences": len(lines),
        "documents": len(docs),
        "gold_tokens": gold_tokens,
        "chars": chars,
        "repeats": repeats,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "results": results,
        "sentence_splitters": measure_splitters(docs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("conll", help="a CoNLL file, e.g. ../shared/data/conll2003/valid.txt")
    parser.add_argument("--output", default="bench/results/tokenizer.json", help="where to write the JSON")
    parser.add_argument("--repeats", type=int, default=3, help="timing runs per tokenizer (median kept)")
    args = parser.parse_args()
    figures = measure(args.conll, args.repeats)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
