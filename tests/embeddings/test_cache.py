"""Tests for nerkit.embeddings.cache: computed once, memory-mapped, rebuilt when stale or damaged."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from nerkit.embeddings import cache
from nerkit.embeddings.cache import cached_token_features, default_cache_dir, features_key
from nerkit.embeddings.transformer import load_transformer, token_features

DOCUMENTS = [[["peter", "visited", "paris"], ["the", "cat", "sat"]], [["mat", "."]], [[]]]


@pytest.fixture(scope="module")
def bert(tiny_bert: Path):
    return load_transformer(tiny_bert, precision="float32")


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir())


def test_first_call_stores_then_reads_the_same(tmp_path, bert, monkeypatch):
    first = cached_token_features(bert, DOCUMENTS, tmp_path, layers=2)
    (entry,) = entries(tmp_path)
    assert sorted(p.name for p in entry.iterdir()) == ["features.f16", "index.json"]
    assert json.loads((entry / "index.json").read_text())["lengths"] == [3, 3, 2, 0]
    direct = token_features(bert, DOCUMENTS, layers=2)
    for a, b in zip(first, direct, strict=True):
        np.testing.assert_array_equal(a, b)

    def no_transformer(*args, **kwargs):
        raise AssertionError("the transformer ran on cached data")

    monkeypatch.setattr(cache, "token_features", no_transformer)
    second = cached_token_features(bert, DOCUMENTS, tmp_path, layers=2)
    assert isinstance(second[0].base, np.memmap) or isinstance(second[0], np.memmap)
    assert not second[0].flags.writeable
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_key_changes_with_data_and_settings(bert):
    key = features_key(bert, DOCUMENTS, 2, "first")
    assert key == features_key(bert, [[list(s) for s in d] for d in DOCUMENTS], 2, "first")
    assert key != features_key(bert, DOCUMENTS, 1, "first")
    assert key != features_key(bert, DOCUMENTS, 2, "mean")
    assert key != features_key(replace(bert, precision="bfloat16"), DOCUMENTS, 2, "first")
    assert key != features_key(bert, [[s] for d in DOCUMENTS for s in d], 2, "first")  # other documents
    assert key != features_key(bert, [[["peter", "visited", "paris", "the"], ["cat", "sat"]]], 2, "first")


@pytest.mark.parametrize(
    "damage",
    [
        lambda entry: (entry / "features.f16").write_bytes(b"\x00" * 10),
        lambda entry: (entry / "index.json").write_text("{not json"),
        lambda entry: (entry / "index.json").unlink(),
        lambda entry: (entry / "index.json").write_text(json.dumps({"format": 99})),
    ],
)
def test_damaged_entry_is_rebuilt(tmp_path, bert, damage):
    good = [np.array(a) for a in cached_token_features(bert, DOCUMENTS, tmp_path, layers=2)]
    (entry,) = entries(tmp_path)
    damage(entry)
    again = cached_token_features(bert, DOCUMENTS, tmp_path, layers=2)
    for a, b in zip(good, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert entries(tmp_path) == [entry]  # no temporary folder left behind


def test_a_deleted_cache_is_rebuilt(tmp_path, bert):
    folder = tmp_path / "cache"
    cached_token_features(bert, DOCUMENTS, folder, layers=1)
    for entry in entries(folder):
        for path in entry.iterdir():
            path.unlink()
        entry.rmdir()
    assert [a.shape for a in cached_token_features(bert, DOCUMENTS, folder, layers=1)] == [
        (3, 1, 16),
        (3, 1, 16),
        (2, 1, 16),
        (0, 1, 16),
    ]


def test_no_tokens_at_all(tmp_path, bert):
    assert [a.shape for a in cached_token_features(bert, [[[]]], tmp_path)] == [(0, 2, 16)]
    assert cached_token_features(bert, [], tmp_path) == []


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "nerkit" / "features"
