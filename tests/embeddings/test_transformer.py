"""Tests for nerkit.embeddings.transformer: a tiny random BERT and tokenizer written by the tests themselves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from nerkit.embeddings.subwords import MAX_PIECES
from nerkit.embeddings.transformer import (
    bfloat16_is_fast,
    load_transformer,
    subword_pieces,
    token_features,
)
from nerkit.errors import NerkitError


@pytest.fixture(scope="module")
def bert_folder(tiny_bert: Path) -> Path:
    return tiny_bert


@pytest.fixture(scope="module")
def bert(bert_folder: Path):
    return load_transformer(bert_folder, precision="float32")


@pytest.fixture(scope="module")
def ids(bert):
    def pieces_to_ids(*pieces: str) -> list[int]:
        return bert.tokenizer.convert_tokens_to_ids(list(pieces))

    return pieces_to_ids


# --- loading ----------------------------------------------------------------------------------------------


def test_load_reads_sizes_and_special_tokens(bert, ids):
    assert bert.prefix == ids("[CLS]")
    assert bert.suffix == ids("[SEP]")
    assert bert.window == 62  # 64 positions minus [CLS] and [SEP]
    assert (bert.dim, bert.layers) == (16, 2)
    assert not bert.model.training


def test_window_can_be_narrowed(bert_folder):
    assert load_transformer(bert_folder, window=10).window == 10
    assert load_transformer(bert_folder, window=1000).window == 62


def test_precision_auto_follows_the_cpu(bert_folder):
    assert load_transformer(bert_folder, precision="bfloat16").precision == "bfloat16"
    expected = "bfloat16" if bfloat16_is_fast() else "float32"
    assert load_transformer(bert_folder).precision == expected
    with pytest.raises(NerkitError, match="unknown precision 'float16'"):
        load_transformer(bert_folder, precision="float16")


def test_bfloat16_features_are_close_to_float32(bert_folder, bert):
    sentence = [["peter", "visited", "paris", "and", "the", "cat", "sat"]]
    (exact,) = token_features(bert, [sentence])
    (fast,) = token_features(load_transformer(bert_folder, precision="bfloat16"), [sentence])
    assert fast.dtype == np.float16 and fast.shape == exact.shape
    scale = np.abs(exact.astype(np.float32)).max()
    np.testing.assert_allclose(fast.astype(np.float32), exact.astype(np.float32), atol=0.05 * scale)
    assert not np.array_equal(fast, exact)  # really computed in bfloat16


def test_missing_folder(tmp_path):
    with pytest.raises(NerkitError, match="no such transformer folder"):
        load_transformer(tmp_path / "nowhere")


def test_folder_without_weights(tmp_path, bert_folder):
    folder = tmp_path / "partial"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (folder / name).write_bytes((bert_folder / name).read_bytes())
    with pytest.raises(NerkitError, match=r"partial: the transformer folder lacks model.safetensors"):
        load_transformer(folder)


@pytest.mark.parametrize(
    ("config", "message"),
    [("{not json", "config.json is not JSON"), ('{"hidden_size": 16}', "config.json names no model_type")],
)
def test_bad_config(tmp_path, bert_folder, config, message):
    folder = tmp_path / "bad"
    folder.mkdir()
    for name in ("model.safetensors", "tokenizer.json"):
        (folder / name).write_bytes((bert_folder / name).read_bytes())
    (folder / "config.json").write_text(config, encoding="utf-8")
    with pytest.raises(NerkitError, match=message):
        load_transformer(folder)


def test_truncated_weights(tmp_path, bert_folder):
    folder = tmp_path / "truncated"
    folder.mkdir()
    for path in bert_folder.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(NerkitError, match="cannot load the transformer"):
        load_transformer(folder)


# --- sub-word alignment -----------------------------------------------------------------------------------


def test_pieces_per_token(bert, ids):
    pieces = subword_pieces(bert, [["Peter", "visited", "Café", "🙂", "", "cats"]])
    assert pieces == [
        [ids("peter"), ids("visited"), ids("cafe"), ids("[UNK]"), ids("[UNK]"), ids("cat", "##s")]
    ]


def test_very_long_word_keeps_max_pieces(bert, ids):
    (pieces,) = subword_pieces(bert, [["x" * 100]])
    assert pieces[0] == ids("x", *["##x"] * (MAX_PIECES - 1))


def test_empty_sentences(bert, ids):
    assert subword_pieces(bert, []) == []
    assert subword_pieces(bert, [[], ["cat"]]) == [[], [ids("cat")]]


# --- features ---------------------------------------------------------------------------------------------


def reference_states(bert, sentence_ids: list[int]) -> np.ndarray:
    """The model run directly on [CLS] ids [SEP]: hidden layers [positions, layers, dim] of the content."""
    with torch.inference_mode():
        output = bert.model(
            input_ids=torch.tensor([[*bert.prefix, *sentence_ids, *bert.suffix]]), output_hidden_states=True
        )
    hidden = torch.stack(output.hidden_states[-2:], dim=2)[0]
    return hidden[1 : 1 + len(sentence_ids)].numpy()


def test_features_match_the_model_run_directly(bert, ids):
    sentence = ["Peter", "cats", "sat"]
    (features,) = token_features(bert, [[sentence]], layers=2, pooling="first")
    states = reference_states(bert, ids("peter", "cat", "##s", "sat"))
    assert features.dtype == np.float16
    assert features.shape == (3, 2, 16)
    np.testing.assert_allclose(features[0], states[0], atol=2e-3)
    np.testing.assert_allclose(features[1], states[1], atol=2e-3)  # the first piece of "cats"
    np.testing.assert_allclose(features[2], states[3], atol=2e-3)
    (mean,) = token_features(bert, [[sentence]], layers=2, pooling="mean")
    np.testing.assert_allclose(mean[1], states[1:3].mean(axis=0), atol=2e-3)


def test_layers_are_the_last_ones(bert):
    (one,) = token_features(bert, [[["cat", "sat"]]], layers=1)
    (two,) = token_features(bert, [[["cat", "sat"]]], layers=9)  # capped at the model's 2 layers
    assert one.shape == (2, 1, 16) and two.shape == (2, 2, 16)
    np.testing.assert_array_equal(one[:, 0], two[:, 1])


def test_long_sentence_is_windowed_not_truncated(bert_folder, ids):
    narrow = load_transformer(bert_folder, window=8, precision="float32")
    sentence = ["the", "cat", "sat", "on", "the", "mat"] * 5
    (features,) = token_features(narrow, [[sentence]])
    assert features.shape == (30, 2, 16)
    assert np.isfinite(features).all()
    # the first window's kept positions equal the model run on that window alone
    states = reference_states(narrow, ids(*sentence[:8]))
    np.testing.assert_allclose(features[:6], states[:6], atol=2e-3)


def test_document_context_changes_features_only_when_asked(bert):
    first, second = ["peter", "visited", "paris"], ["the", "cat", "sat"]
    alone = token_features(bert, [[first], [second]])
    together = token_features(bert, [[first, second]])
    again = token_features(bert, [[first], [second]])
    assert [a.shape for a in together] == [(3, 2, 16), (3, 2, 16)]
    np.testing.assert_array_equal(alone[1], again[1])
    assert not np.allclose(alone[1], together[1], atol=1e-3)


def test_batching_does_not_change_features(bert):
    documents = [[["the", "cat"]], [["peter", "visited", "paris", "."]], [[]], [["mat"]]]
    small = token_features(bert, documents, batch_subwords=4)
    large = token_features(bert, documents, batch_subwords=10_000)
    assert [a.shape for a in small] == [(2, 2, 16), (4, 2, 16), (0, 2, 16), (1, 2, 16)]
    for a, b in zip(small, large, strict=True):
        np.testing.assert_allclose(a, b, atol=2e-3)


def test_no_documents_and_bad_pooling(bert):
    assert token_features(bert, []) == []
    empty = token_features(bert, [[[]], [[], ["cat"]]], pooling="mean")
    assert [a.shape for a in empty] == [(0, 2, 16), (0, 2, 16), (1, 2, 16)]
    with pytest.raises(NerkitError, match="unknown pooling 'max'"):
        token_features(bert, [[["cat"]]], pooling="max")


def test_folder_config_is_plain_json(bert_folder):
    assert json.loads((bert_folder / "config.json").read_text(encoding="utf-8"))["model_type"] == "bert"
