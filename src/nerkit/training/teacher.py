"""Distillation's teacher (--teacher): a trained model's CRF marginals and best tags for the student's
sentences, and the text without gold tags (--unlabeled) it labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nerkit.data.batches import join_sentences, length_groups, pack_sentences, pad
from nerkit.data.conll import DOCSTART, document_ids, read_conll
from nerkit.data.formats.detect import format_from_name
from nerkit.errors import NerkitError
from nerkit.files import PathLike
from nerkit.lines import read_lines
from nerkit.model.folder import (
    LoadedModel,
    load_trainable,
    recorded_sha256,
)
from nerkit.model.inference import INFERENCE_TOKENS
from nerkit.text.document import parse_text
from nerkit.training.corpus import Corpus, corpus_features, encode_split, merge_corpora
from nerkit.training.options import TrainOptions


@dataclass
class Taught:
    """What a teacher makes of a corpus: per sentence, its marginals [tokens, its tags] and its best tags."""

    marginals: list[np.ndarray]
    tags: list[tuple[str, ...]]


@dataclass
class Teaching:
    """What a run keeps of its teacher: its labels, model.json's record of it, its marginals for every
    training sentence (--unlabeled ones last) and how many sentences --unlabeled gave."""

    labels: list[str]
    record: dict[str, object]
    marginals: list[np.ndarray]
    unlabeled: int

    def soft_targets(self, labels: Sequence[str]) -> list[np.ndarray]:
        """The marginals in the columns of the student's `labels` (see `soft_targets`)."""
        return soft_targets(self.marginals, self.labels, labels)


def taught_corpus(corpus: Corpus, options: TrainOptions) -> tuple[Corpus, Teaching | None]:
    """With `options.teacher`: the training corpus with the --unlabeled text added, tagged with the
    teacher's best tags (in the model's scheme), and the teacher's marginals for all of it; else the
    corpus as it is. The teacher itself is let go once it has taught."""
    if options.teacher is None:
        return corpus, None
    with torch.random.fork_rng(devices=[]):  # building the teacher leaves the student's random numbers alone
        teacher = load_teacher(options.teacher, options.transformer_precision)
    temperature, cache = options.distill_temperature, options.feature_cache
    marginals = teach(teacher, corpus, temperature, cache).marginals
    added = 0
    if options.unlabeled is not None:
        extra = read_unlabeled(options.unlabeled)
        labelled = teach(teacher, extra, temperature, cache)
        extra.tags, added = labelled.tags, len(extra)
        corpus = merge_corpora([corpus, extra])
        marginals += labelled.marginals
    record = teacher_record(options.teacher, teacher)
    return corpus, Teaching(list(teacher.vocab.labels), record, marginals, added)


def load_teacher(path: PathLike, precision: str = "auto") -> LoadedModel:
    """The teacher model, checked: a trained nerkit model folder (not an export) with a CRF."""
    teacher = load_trainable(path, precision, "--teacher")
    if teacher.model.spec.head != "crf" or teacher.model.spec.scheme != "BIOES":
        raise NerkitError(
            "has a linear head or tags outside BIOES; a teacher's marginals come from a BIOES CRF",
            path=path,
            hint="teach with a model trained with --head crf",
        )
    return teacher


def teach(
    teacher: LoadedModel,
    corpus: Corpus,
    temperature: float = 1.0,
    feature_cache: PathLike | None = None,
    batch_size: int = 64,
) -> Taught:
    """The teacher's marginals (its CRF scores divided by `temperature`) and best tags for every sentence
    of `corpus`, each read as the teacher reads text: in its document context, with its features."""
    model, spec = teacher.model, teacher.model.spec
    features = (
        corpus_features(corpus, teacher.transformer, spec, feature_cache)
        if teacher.transformer is not None
        else None
    )
    encoded = encode_split(corpus, teacher.vocab, features)
    groups = [[i] for i in range(len(encoded))]
    if spec.context_tokens:
        groups = pack_sentences([len(s) for s in encoded], corpus.documents, spec.context_tokens)
    units = [join_sentences([encoded[i] for i in group]) for group in groups]
    marginals = [np.zeros((len(s), len(spec.labels)), np.float32) for s in encoded]
    tags: list[tuple[str, ...]] = [() for _ in encoded]
    for rows in length_groups(units, batch_size, max_tokens=INFERENCE_TOKENS):
        padded = pad([units[i] for i in rows])
        scores = model.network(padded)
        mask = torch.from_numpy(padded.mask)
        with torch.inference_mode():  # in float64: a 500-token unit's sums lose 1% in float32
            probabilities = model.crf.marginals(scores.double(), mask, temperature).float().numpy()
            paths = model.crf.decode(scores, mask)
        for row, unit in enumerate(rows):
            start = 0
            for index in groups[unit]:
                end = start + len(encoded[index])
                marginals[index] = probabilities[row, start:end]
                tags[index] = tuple(spec.labels[label] for label in paths[row][start:end])
                start = end
    return Taught(marginals, tags)


def soft_targets(
    marginals: Sequence[np.ndarray], teacher_labels: Sequence[str], labels: Sequence[str]
) -> list[np.ndarray]:
    """The teacher's marginals with their columns moved to the student's `labels` (which hold every
    teacher label); a label the teacher lacks gets 0."""
    index = {label: i for i, label in enumerate(labels)}
    columns = [index[label] for label in teacher_labels]
    moved = []
    for rows in marginals:
        targets = np.zeros((len(rows), len(labels)), dtype=np.float32)
        targets[:, columns] = rows
        moved.append(targets)
    return moved


def read_unlabeled(path: PathLike) -> Corpus:
    """Text without gold tags as a corpus tagged O: CoNLL tokens (a CoNLL name such as .conll, .iob or
    .bio, or a file opening with -DOCSTART-; any tag columns ignored) or raw text, each line a document split into
    sentences and tokens. A file with no token is one line of error."""
    if str(path) == "-":
        raise NerkitError(
            "--unlabeled reads a file, not standard input", hint="save the text to a file and name it"
        )
    if _is_conll(path):
        sentences = list(read_conll(path, tag_column=None))
        corpus = Corpus(
            tokens=[s.tokens for s in sentences], documents=document_ids(sentences), format="conll"
        )
    else:
        corpus = Corpus(format="text")
        for number, line in read_lines(path):
            for sentence in parse_text(line).sentences:
                corpus.tokens.append(tuple(token.text for token in sentence.tokens))
                corpus.documents.append(number)
    if not len(corpus):
        raise NerkitError("has no text to label", path=path, hint="give --unlabeled a file with text in it")
    corpus.tags = [("O",) * len(tokens) for tokens in corpus.tokens]
    return corpus


def _is_conll(path: PathLike) -> bool:
    """Whether --unlabeled reads `path` as CoNLL tokens (see `read_unlabeled`)."""
    if format_from_name(path) == "conll":
        return True
    for _, line in read_lines(path):
        if line.strip():
            return line.split()[0] == DOCSTART
    return False


def teacher_record(path: PathLike, teacher: LoadedModel) -> dict[str, object]:
    """model.json's record of the teacher: its folder and the sha256 of its weights."""
    return {"model": str(Path(path).resolve()), "weights_sha256": recorded_sha256(teacher.meta, "weights")}
