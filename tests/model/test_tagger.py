"""Tests for nerkit.model.tagger on a tiny untrained model: shapes, decoding, confidences, padding."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import pytest
import torch

from nerkit.data.batches import collate, encode_sentence
from nerkit.data.tags import allowed_transitions, convert_tags, detect_scheme
from nerkit.data.vocab import Vocab, build_vocab
from nerkit.model.inference import tag_encoded
from nerkit.model.spec import ModelSpec
from nerkit.model.tagger import Tagger

SENTENCES = [
    (["Alice", "Smith", "visited", "New", "York", "."], ["B-PER", "E-PER", "O", "B-LOC", "E-LOC", "O"]),
    (["Bob", "left", "."], ["S-PER", "O", "O"]),
    (["In", "1996", ",", "Acme", "Corp", "bought", "a", "large", "Paris", "bakery", "."], None),
    (["Hi"], ["O"]),
    (["Extraordinarilylongtokenwithmanycharacters", "ran"], ["O", "O"]),
]
LABELS = ["O", "B-LOC", "E-LOC", "I-LOC", "S-LOC", "B-PER", "E-PER", "I-PER", "S-PER"]


def _vocab():
    return build_vocab([tokens for tokens, _ in SENTENCES[:2]], LABELS)


def _model(seed: int = 0, randomise: bool = False, **changes: int) -> tuple[Tagger, Vocab]:
    vocab = _vocab()
    spec = ModelSpec(
        labels=vocab.labels,
        scheme="BIOES",
        output_scheme="IOB2",
        words=len(vocab.words),
        pretrained_words=0,
        word_dim=16,
        chars=len(vocab.chars),
        char_filters=8,
        hidden=16,
    )
    spec = replace(spec, **changes)
    torch.manual_seed(seed)
    model = Tagger(spec)
    if randomise:
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.normal_(0, 2)
            for table in (model.word_embedding, model.char_embedding, model.casing_embedding):
                table.weight[0] = 0  # padding rows stay zero, as nn.Embedding(padding_idx=0) keeps them
    model.eval()
    return model, vocab


def _encoded(vocab, which=None, tagged=False):
    out = []
    for i in range(len(SENTENCES)) if which is None else which:
        tokens, tags = SENTENCES[i]
        out.append(encode_sentence(tokens, vocab, tags if tagged else None))
    return out


def test_vocab_labels_match_the_scheme():
    assert _vocab().labels == LABELS


def test_emissions_shape():
    model, vocab = _model()
    encoded = _encoded(vocab)
    batch = collate(encoded, list(range(len(encoded))))
    with torch.no_grad():
        emissions = model.emissions(batch)
    assert emissions.shape == (len(SENTENCES), 11, len(LABELS))
    assert torch.isfinite(emissions).all()


@pytest.mark.parametrize("char_filters", [8, 0], ids=["beside-the-cnn", "alone"])
def test_character_bilstm_reads_each_word_alone_and_whole(char_filters):
    """A word's character BiLSTM features are those of its characters read alone, left to right and right
    to left (brute force, no padding), whatever the other words of the batch; the CNN's come first."""
    model, vocab = _model(2, char_lstm=5, char_filters=char_filters)
    encoded = _encoded(vocab)
    batch = collate(encoded, list(range(len(encoded))))
    with torch.no_grad():
        features = model._characters(batch.chars)
        forward, backward = model.char_lstms
        for row, sentence in enumerate(encoded):
            for position, spelling in enumerate(sentence.chars):
                ids = torch.from_numpy(spelling[spelling != 0]).unsqueeze(0)
                embedded = model.char_embedding(ids)
                ahead = forward(embedded)[0][0, -1]
                behind = backward(embedded.flip(1))[0][0, -1]
                expected = torch.cat([ahead, behind])
                assert torch.allclose(features[row, position, char_filters:], expected, atol=1e-6)
    assert features.shape == (len(SENTENCES), 11, char_filters + 10)


def test_predict_paths_have_each_sentence_length():
    model, vocab = _model(1)
    encoded = _encoded(vocab)
    batch = collate(encoded, list(range(len(encoded))))
    with torch.no_grad():
        paths, confidences = model.predict(batch)
    assert [len(p) for p in paths] == [len(tokens) for tokens, _ in SENTENCES]
    assert [len(c) for c in confidences] == [len(tokens) for tokens, _ in SENTENCES]
    assert all(0 <= tag < len(LABELS) for path in paths for tag in path)
    assert all(0.0 <= c <= 1.0 for row in confidences for c in row)


def test_confidences_are_the_crf_marginals_of_the_chosen_tags():
    model, vocab = _model(2, randomise=True)
    encoded = _encoded(vocab)
    batch = collate(encoded, list(range(len(encoded))))
    with torch.no_grad():
        paths, confidences = model.predict(batch)
        marginals = model.crf.marginals(model.emissions(batch), batch.mask)
    for row, (path, confidence) in enumerate(zip(paths, confidences, strict=True)):
        expected = [marginals[row, t, tag].item() for t, tag in enumerate(path)]
        assert confidence == pytest.approx(expected, abs=1e-6)
        # each position's marginals form a distribution
        n = len(path)
        assert torch.allclose(marginals[row, :n].sum(1), torch.ones(n), atol=1e-5)


def test_confidence_of_a_single_sentence_matches_brute_force():
    model, vocab = _model(3, randomise=True)
    tokens = ["Bob", "left", "."]
    batch = collate([encode_sentence(tokens, vocab)], [0])
    with torch.no_grad():
        (path,), (confidence,) = model.predict(batch)
        emissions = model.emissions(batch)[0].double()
        transitions, start, end = (s.double() for s in model.crf.scores())
    scores = {}
    for candidate in itertools.product(range(len(LABELS)), repeat=len(tokens)):
        score = start[candidate[0]] + end[candidate[-1]]
        score = score + sum(emissions[t, k] for t, k in enumerate(candidate))
        score = score + sum(transitions[a, b] for a, b in itertools.pairwise(candidate))
        scores[candidate] = score.item()
    best = max(scores, key=scores.__getitem__)
    assert path == list(best)
    log_z = torch.logsumexp(torch.tensor(list(scores.values()), dtype=torch.double), 0).item()
    for t, tag in enumerate(path):
        marginal = sum(math.exp(s - log_z) for c, s in scores.items() if c[t] == tag)
        assert confidence[t] == pytest.approx(marginal, abs=1e-5)


@pytest.mark.parametrize("seed", range(6))
def test_decoded_paths_never_break_bioes(seed):
    model, vocab = _model(seed, randomise=True)
    allowed, start, end = allowed_transitions(LABELS, "BIOES")
    encoded = _encoded(vocab)
    paths, _ = tag_encoded(model, encoded, batch_size=2)
    for path in paths:
        assert start[path[0]] and end[path[-1]]
        assert all(allowed[a][b] for a, b in itertools.pairwise(path))
        tags = [LABELS[i] for i in path]
        assert convert_tags(tags, "BIOES") == tags  # already well-formed BIOES
        report = detect_scheme([tags])
        assert report.ill_formed == 0


def test_tag_encoded_returns_input_order():
    model, vocab = _model(4, randomise=True)
    order = [2, 0, 4, 3, 1]
    encoded = _encoded(vocab, order)
    encoded.insert(2, encode_sentence([], vocab))  # an empty sentence gets an empty path
    paths, confidences = tag_encoded(model, encoded, batch_size=2)
    assert [len(p) for p in paths] == [len(e) for e in encoded]
    assert paths[2] == [] and confidences[2] == []
    for sentence, path, confidence in zip(encoded, paths, confidences, strict=True):
        if not len(sentence):
            continue
        with torch.no_grad():
            (alone,), (alone_confidence,) = model.predict(collate([sentence], [0]))
        assert path == alone
        assert confidence == pytest.approx(alone_confidence, abs=1e-5)


def test_tag_encoded_without_confidence():
    model, vocab = _model(5)
    encoded = _encoded(vocab)
    paths, confidences = tag_encoded(model, encoded, confidence=False)
    assert [len(p) for p in paths] == [len(t) for t, _ in SENTENCES]
    assert confidences == [[] for _ in SENTENCES]
    assert tag_encoded(model, []) == ([], [])


def test_tag_encoded_puts_the_model_in_eval_mode():
    model, vocab = _model(6)
    model.train()
    first, _ = tag_encoded(model, _encoded(vocab))
    assert not model.training
    second, _ = tag_encoded(model, _encoded(vocab))
    assert first == second


def test_loss_is_finite_and_reaches_every_parameter():
    model, vocab = _model(7)
    model.train()
    tagged = [1, 3, 4]  # the words of sentence 0 are in the vocabulary but not in this batch
    batch = collate(_encoded(vocab, tagged, tagged=True), tagged)
    loss = model.loss(batch)
    assert loss.dim() == 0 and torch.isfinite(loss) and loss.item() > 0
    loss.backward()
    grads = {}
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        grad = parameter.grad.to_dense() if parameter.grad.is_sparse else parameter.grad  # sparse word table
        assert torch.isfinite(grad).all(), name
        assert grad.abs().sum() > 0, name
        grads[name] = grad
    # the padding rows of the embedding tables learn nothing
    for table in ("word_embedding", "char_embedding", "casing_embedding"):
        assert torch.all(grads[f"{table}.weight"][0] == 0), table
    # rows of words not in the batch get none (row 1 may: word dropout swaps words for the unknown word)
    used = {0, 1, *batch.words[batch.mask].tolist()}
    unused = [row for row in range(model.spec.words) if row not in used]
    assert unused
    assert torch.all(grads["word_embedding.weight"][unused] == 0)


def test_loss_needs_tags():
    model, vocab = _model(8)
    with pytest.raises(AssertionError):
        model.loss(collate(_encoded(vocab, [0]), [0]))


@pytest.mark.parametrize("seed", range(3))
def test_padding_does_not_change_emissions(seed):
    model, vocab = _model(seed, randomise=True)
    encoded = _encoded(vocab)
    with torch.no_grad():
        together = model.emissions(collate(encoded, list(range(len(encoded)))))
        for row, sentence in enumerate(encoded):
            alone = model.emissions(collate([sentence], [0]))[0]
            n = len(sentence)
            assert alone.shape == (n, len(LABELS))
            assert torch.allclose(together[row, :n], alone, atol=1e-5)


def test_dropout_only_in_training():
    model, vocab = _model(9)
    batch = collate(_encoded(vocab), list(range(len(SENTENCES))))
    with torch.no_grad():
        assert torch.equal(model.emissions(batch), model.emissions(batch))
        model.train()
        torch.manual_seed(0)
        assert not torch.equal(model.emissions(batch), model.emissions(batch))


def test_parameter_count():
    model, _ = _model()
    spec = model.spec
    expected = (
        spec.words * 16
        + spec.chars * spec.char_dim
        + (spec.char_dim * 3 + 1) * 8
        + spec.casings * spec.casing_dim
        + 2 * 4 * 16 * (16 + 8 + spec.casing_dim + 16 + 2)  # two directions, four gates
        + (2 * 16 + 1) * len(LABELS)
        + len(LABELS) ** 2
        + 2 * len(LABELS)
    )
    assert model.parameter_count() == expected


def test_tag_encoded_in_document_context_splits_back_per_sentence():
    model, vocab = _model(seed=3, randomise=True)
    model.spec.context_tokens = 16
    encoded = [encode_sentence(tokens, vocab) for tokens, _ in SENTENCES]
    alone, alone_confidences = tag_encoded(model, encoded)
    together, confidences = tag_encoded(model, encoded, documents=[1, 1, 1, 2, 3])
    assert [len(p) for p in together] == [len(tokens) for tokens, _ in SENTENCES]
    assert [len(c) for c in confidences] == [len(tokens) for tokens, _ in SENTENCES]
    # sentences alone in their document are tagged exactly as without context
    assert together[3:] == alone[3:] and confidences[3:] == alone_confidences[3:]
    # without documents the model reads every sentence alone
    assert tag_encoded(model, encoded)[0] == alone


def _taught_batch(vocab, seed: int):
    """Sentences 0, 1 and 3 tagged, with made-up teacher marginals on the first two (none on the third)."""
    which = [0, 1, 3]
    encoded = _encoded(vocab, which, tagged=True)
    generator = torch.Generator().manual_seed(seed)
    for sentence in encoded[:2]:
        sentence.soft = torch.softmax(torch.randn(len(sentence), len(LABELS), generator=generator), 1).numpy()
    return collate(encoded, which)


def _brute_force_log_marginals(model: Tagger, emissions: torch.Tensor, temperature: float) -> torch.Tensor:
    """log p(tag at t) of one sentence at `temperature`, by enumerating every tag sequence (in log space:
    a tag no allowed path takes has a very negative log, not minus infinity)."""
    transitions, start, end = model.crf.scores()
    length, tags = emissions.shape
    paths = list(itertools.product(range(tags), repeat=length))
    scores = (
        torch.stack(
            [
                start[path[0]]
                + end[path[-1]]
                + sum(emissions[t, k] for t, k in enumerate(path))
                + sum(transitions[a, b] for a, b in itertools.pairwise(path))
                for path in paths
            ]
        ).double()
        / temperature
    )
    logs = torch.empty(length, tags, dtype=torch.double)
    for t in range(length):
        for k in range(tags):
            logs[t, k] = scores[[i for i, path in enumerate(paths) if path[t] == k]].logsumexp(0)
    return logs - scores.logsumexp(0)


def test_distillation_loss_at_weight_0_is_the_gold_loss():
    model, vocab = _model(5, randomise=True)
    batch = _taught_batch(vocab, 1)
    plain = collate(_encoded(vocab, [0, 1, 3], tagged=True), [0, 1, 3])
    assert batch.soft is not None and plain.soft is None
    assert model.loss(batch, 0.0, 2.0).item() == model.loss(plain).item()
    assert model.loss(batch, 0.0).item() == model.loss(batch).item()


@pytest.mark.parametrize(("weight", "temperature"), [(0.5, 1.0), (1.0, 2.0), (0.3, 0.5)])
def test_distillation_loss_is_the_cross_entropy_against_the_teacher(weight, temperature):
    model, vocab = _model(6, randomise=True)
    batch = _taught_batch(vocab, 2)
    emissions = model.emissions(batch)  # eval mode: no dropout, the same emissions as inside loss
    gold = -model.crf.log_likelihood(emissions, batch.tags, batch.mask)
    assert batch.soft is not None
    taught_rows = [bool(batch.soft[row].any()) for row in range(len(batch.index))]
    assert taught_rows == [True, True, False]  # the third sentence has no teacher marginals
    expected = []
    for row, length in enumerate(batch.mask.sum(1).tolist()):
        if length > 3:  # brute force over 9^n paths: only short sentences; the long one is checked below
            continue
        student = _brute_force_log_marginals(model, emissions[row, :length].detach(), temperature)
        cross_entropy = -(batch.soft[row, :length].double() * student).sum()
        mixed = (1 - weight) * gold[row] + weight * temperature**2 * cross_entropy
        expected.append((mixed if taught_rows[row] else gold[row]).item())  # untaught: its whole gold loss
    logs = model.crf.log_marginals(emissions, batch.mask, temperature)
    taught = -(batch.soft * logs).sum((1, 2)) * temperature**2
    weights = weight * torch.tensor(taught_rows, dtype=gold.dtype)
    per_sentence = (1 - weights) * gold + weights * taught
    short = [i for i, n in enumerate(batch.mask.sum(1).tolist()) if n <= 3]
    assert len(short) == 2 and per_sentence[short].tolist() == pytest.approx(expected, rel=1e-4)
    assert model.loss(batch, weight, temperature).item() == pytest.approx(
        per_sentence.mean().item(), rel=1e-6
    )
