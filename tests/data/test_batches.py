"""Tests for nerkit.data.batches: encoded arrays, long-token clipping, padding, length batches."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from nerkit.data.batches import (
    MAX_WORD_CHARS,
    EncodedSentence,
    collate,
    encode_sentence,
    join_sentences,
    length_batches,
    pack_sentences,
)
from nerkit.data.vocab import CASINGS, PAD, UNK, Vocab, build_vocab

LOWER, UPPER, TITLE, NUMERIC, PUNCT = (
    CASINGS.index(n) for n in ("lower", "upper", "title", "numeric", "punct")
)


@pytest.fixture
def vocab() -> Vocab:
    return Vocab(
        words=[PAD, UNK, "the", "paris", "0000", "."],
        chars=[PAD, UNK, ".", "0", "1", "6", "9", "P", "a", "e", "h", "i", "r", "s", "t"],
        labels=["O", "B-LOC", "E-LOC", "S-LOC"],
    )


def test_encode_sentence_arrays(vocab):
    encoded = encode_sentence(["The", "Paris", "1996", "UFO", "."], vocab, ["O", "S-LOC", "O", "O", "O"])
    assert len(encoded) == 5
    assert encoded.words.dtype == encoded.chars.dtype == encoded.casing.dtype == np.int64
    assert encoded.words.tolist() == [2, 3, 4, 1, 5]
    assert encoded.chars.tolist() == [
        [1, 10, 9, 0, 0],  # "The": T never seen in training -> 1
        [7, 8, 12, 11, 13],  # "Paris"
        [4, 6, 6, 5, 0],  # "1996"
        [1, 1, 1, 0, 0],  # "UFO"
        [2, 0, 0, 0, 0],  # "."
    ]
    assert encoded.casing.tolist() == [TITLE, TITLE, NUMERIC, UPPER, PUNCT]
    assert encoded.tags is not None and encoded.tags.tolist() == [0, 3, 0, 0, 0]


def test_encoding_with_seen_tokens_gives_the_same_arrays_and_keeps_each_form_once(vocab):
    sentences = [["The", "Paris", "1996", "."], ["Paris", "the", "UFO", "."], ["x" * 30, "Paris"]]
    seen: dict = {}
    for tokens in sentences:
        fresh, cached = encode_sentence(tokens, vocab), encode_sentence(tokens, vocab, seen=seen)
        for name in ("words", "chars", "casing"):
            assert getattr(fresh, name).tolist() == getattr(cached, name).tolist()
    assert sorted(seen) == sorted({token for tokens in sentences for token in tokens})
    assert seen["Paris"] == (3, [7, 8, 12, 11, 13], TITLE)
    assert len(seen["x" * 30][1]) == 24  # clipped as encoding clips


def test_encode_sentence_without_tags(vocab):
    encoded = encode_sentence(["the"], vocab)
    assert encoded.tags is None
    assert encoded.words.tolist() == [2]
    assert encoded.chars.tolist() == [[14, 10, 9]]
    assert encoded.casing.tolist() == [LOWER]


def test_encode_empty_sentence(vocab):
    encoded = encode_sentence([], vocab, [])
    assert len(encoded) == 0
    assert encoded.chars.shape == (0, 1)
    assert encoded.tags is not None and encoded.tags.shape == (0,)


def test_encode_unknown_tag_raises(vocab):
    with pytest.raises(KeyError):
        encode_sentence(["the"], vocab, ["B-PER"])


def test_long_tokens_keep_first_and_last_12_chars():
    assert MAX_WORD_CHARS == 24
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = Vocab(words=[PAD, UNK, letters], chars=[PAD, UNK, *letters], labels=["O"])
    exact = letters[:24]
    encoded = encode_sentence([letters, exact, "ab"], vocab)
    assert encoded.chars.shape == (3, 24)
    clipped = "abcdefghijkl" + "opqrstuvwxyz"
    assert encoded.chars[0].tolist() == [vocab.char_index[c] for c in clipped]
    assert encoded.chars[1].tolist() == [vocab.char_index[c] for c in exact]  # 24 chars: not clipped
    assert encoded.chars[2].tolist() == [2, 3] + [0] * 22
    assert encoded.words.tolist() == [2, 1, 1]  # the word row uses the whole token
    one_more = encode_sentence([letters[:25]], vocab)
    assert one_more.chars[0].tolist() == [vocab.char_index[c] for c in letters[:12] + letters[13:25]]


def _sentence(words, width, tags=None):
    n = len(words)
    chars = np.arange(1, n * width + 1, dtype=np.int64).reshape(n, width)
    return EncodedSentence(
        words=np.array(words, dtype=np.int64),
        chars=chars,
        casing=np.full(n, 2, dtype=np.int64),
        tags=None if tags is None else np.array(tags, dtype=np.int64),
    )


def test_collate_pads_and_masks():
    a = _sentence([5, 6, 7], 2, [1, 0, 2])
    b = _sentence([8], 3, [3])
    batch = collate([a, b], [4, 9])
    assert batch.index == [4, 9]
    assert batch.words.dtype == torch.int64 and batch.mask.dtype == torch.bool
    assert batch.words.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch.casing.tolist() == [[2, 2, 2], [2, 0, 0]]
    assert batch.mask.tolist() == [[True, True, True], [True, False, False]]
    assert batch.tags is not None and batch.tags.tolist() == [[1, 0, 2], [3, 0, 0]]
    assert batch.chars.shape == (2, 3, 3)
    assert batch.chars.tolist() == [
        [[1, 2, 0], [3, 4, 0], [5, 6, 0]],
        [[1, 2, 3], [0, 0, 0], [0, 0, 0]],
    ]


def test_collate_untagged_when_any_sentence_lacks_tags():
    batch = collate([_sentence([5], 1, [1]), _sentence([6], 1)], [0, 1])
    assert batch.tags is None


def _corpus(lengths):
    return [_sentence(list(range(2, 2 + n)), 1, [0] * n) for n in lengths]


def test_inference_batches_sorted_by_length_with_index():
    lengths = [5, 0, 2, 7, 2, 0, 1, 3]
    sentences = _corpus(lengths)
    batches = list(length_batches(sentences, batch_size=3))
    assert [b.index for b in batches] == [[6, 2, 4], [7, 0, 3]]
    for batch in batches:
        for row, index in enumerate(batch.index):
            n = lengths[index]
            assert batch.mask[row].sum().item() == n
            assert batch.words[row, :n].tolist() == sentences[index].words.tolist()
        assert batch.mask.shape[1] == max(lengths[i] for i in batch.index)


def test_every_nonempty_sentence_once_and_empty_ones_skipped():
    lengths = [random.Random(i).randint(0, 9) for i in range(50)]
    sentences = _corpus(lengths)
    expected = sorted(i for i, n in enumerate(lengths) if n)
    assert len(expected) < len(lengths)  # some are empty
    for rng in (None, random.Random(0)):
        batches = list(length_batches(sentences, 4, rng))
        seen = [i for b in batches for i in b.index]
        assert sorted(seen) == expected
        assert all(len(b.index) <= 4 for b in batches)
        assert sum(len(b.index) == 4 for b in batches) == len(expected) // 4


def test_no_batches_for_only_empty_sentences():
    assert list(length_batches(_corpus([0, 0]), 4)) == []
    assert list(length_batches([], 4, random.Random(0))) == []


def test_training_batches_reproducible_and_vary_by_epoch():
    sentences = _corpus([random.Random(i).randint(1, 30) for i in range(80)])

    def plan(rng):
        return [b.index for b in length_batches(sentences, 8, rng)]

    first, second = random.Random(7), random.Random(7)
    epoch1 = plan(first)
    assert epoch1 == plan(second)
    epoch2 = plan(first)
    assert epoch2 == plan(second)
    assert epoch1 != epoch2
    assert plan(random.Random(8)) != epoch1
    # the inference order is fixed
    assert plan(None) == plan(None)


def test_training_batches_keep_padding_small():
    # lengths 10 and 30 are further apart than the +-2 jitter, so no batch mixes them
    lengths = [10, 30] * 32
    sentences = _corpus(lengths)
    for seed in range(5):
        batches = list(length_batches(sentences, 8, random.Random(seed)))
        assert len(batches) == 8
        for batch in batches:
            assert batch.mask.all()
            assert len({lengths[i] for i in batch.index}) == 1


def test_training_batches_padding_close_to_sorted():
    lengths = [random.Random(i).randint(1, 40) for i in range(200)]
    sentences = _corpus(lengths)

    def padding(batches):
        return sum((~b.mask).sum().item() for b in batches)

    sorted_padding = padding(length_batches(sentences, 16))
    shuffled = list(range(len(sentences)))
    random.Random(0).shuffle(shuffled)
    random_padding = padding(
        collate([sentences[i] for i in shuffled[k : k + 16]], []) for k in range(0, 200, 16)
    )
    for seed in range(3):
        jittered = padding(length_batches(sentences, 16, random.Random(seed)))
        # within a batch, a sentence sorted before another is at most 3 tokens longer
        assert jittered <= sorted_padding + 3 * 200
        assert jittered < random_padding / 3


def test_max_tokens_caps_the_padded_size_of_a_batch(vocab):
    sentences = [encode_sentence(["w"] * n, vocab) for n in (1, 2, 3, 10, 10, 10, 40)]
    batches = list(length_batches(sentences, batch_size=100, max_tokens=30))
    assert [b.index for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.words.numel() for b in batches] == [9, 30, 40]  # one sentence over the cap still comes


def test_pack_sentences_keeps_documents_apart_and_respects_the_budget():
    lengths = [3, 4, 2, 9, 1, 1, 12, 2]
    documents = [1, 1, 1, 1, 2, 2, 2, 3]
    assert pack_sentences(lengths, documents, max_tokens=9) == [[0, 1, 2], [3], [4, 5], [6], [7]]
    assert pack_sentences([], [], max_tokens=9) == []
    assert pack_sentences([5, 5], [-1, -2], max_tokens=100) == [[0], [1]]  # sentences of their own


def test_join_sentences_concatenates_and_pads_characters(vocab):
    first = encode_sentence(["the", "Paris"], vocab, ["O", "S-LOC"])
    second = encode_sentence(["."], vocab, ["O"])
    joined = join_sentences([first, second])
    assert joined.words.tolist() == [2, 3, 5]
    assert joined.chars.tolist() == [[14, 10, 9, 0, 0], [7, 8, 12, 11, 13], [2, 0, 0, 0, 0]]
    assert joined.casing.tolist() == [LOWER, TITLE, PUNCT]
    assert joined.tags is not None and joined.tags.tolist() == [0, 3, 0]
    assert join_sentences([first, encode_sentence(["."], vocab)]).tags is None


def test_joined_sentences_count_as_the_sentences_they_hold(vocab):
    one = encode_sentence(["the"], vocab)
    three = join_sentences([one, one, one])
    assert three.sentences == 3
    batches = list(length_batches([three, one, three, one, one], batch_size=4))
    assert [b.index for b in batches] == [[1, 3, 4, 0], [2]]


def test_join_sentences_features_view_consecutive_rows_and_copy_others():
    vocab = build_vocab([["a", "b", "c"]], ["O"])
    base = np.arange(5 * 2 * 3, dtype=np.float16).reshape(5, 2, 3)  # as a memory-mapped cache holds them
    first, second = encode_sentence(["a", "b"], vocab), encode_sentence(["c", "a", "b"], vocab)
    first.features, second.features = base[0:2], base[2:5]
    joined = join_sentences([first, second])
    assert np.array_equal(joined.features, base)
    assert np.shares_memory(joined.features, base) and not joined.features.flags.writeable
    first.features, second.features = base[3:5], base[0:3]  # not back to back: copied
    swapped = join_sentences([first, second])
    assert np.array_equal(swapped.features, np.concatenate([base[3:5], base[0:3]]))
    assert not np.shares_memory(swapped.features, base)
    batch = collate([first, second], [0, 1])
    assert batch.features.dtype == torch.float32 and tuple(batch.features.shape) == (2, 3, 2, 3)
    assert batch.features[0, 2].abs().sum().item() == 0.0  # padding
