"""Tests for nerkit.model.spec: the tensors and parameters a spec implies, worked out without building the
tagger, are exactly the tagger's; check_spec takes every spec training writes and names a bad field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nerkit.errors import NerkitError
from nerkit.model.spec import ModelSpec, TensorShape, check_spec, shown
from nerkit.model.tagger import Tagger

DTYPES = {torch.float32: "F32", torch.bool: "BOOL"}
LABELS = ["O", "B-PER", "I-PER", "E-PER", "S-PER"]


def spec(**changes: object) -> ModelSpec:
    base = ModelSpec(
        labels=LABELS,
        scheme="BIOES",
        output_scheme="IOB2",
        words=50,
        pretrained_words=10,
        word_dim=6,
        chars=20,
    )
    return check_spec({**base.to_json(), **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"layers": 3, "hidden": 5},
        {"layers": 0, "word_dim": 0, "transformer_dim": 16, "transformer_layers": 1, "head": "linear"},
        {"transformer_dim": 8, "transformer_layers": 3, "char_kernel": 4, "char_dim": 7, "casing_dim": 2},
        {"labels": ["O"], "char_filters": 1, "hidden": 1},
        {"gazetteer_dim": 4},
        {"char_lstm": 3},
        {"char_lstm": 3, "char_filters": 0},
        {"char_filters": 0},
    ],
    ids=[
        "default",
        "three-layers",
        "fine-tuned",
        "transformer-features",
        "smallest",
        "gazetteer",
        "char-bilstm",
        "char-bilstm-alone",
        "no-characters",
    ],
)
def test_tensors_and_parameters_are_the_taggers(changes):
    sized = spec(**changes)
    model = Tagger(sized)
    built = {name: TensorShape(tuple(t.shape), DTYPES[t.dtype]) for name, t in model.state_dict().items()}
    assert sized.tensors() == built
    assert sized.parameter_count() == model.parameter_count()
    assert sized.weights_size() == sum(t.numel() * t.element_size() for t in model.state_dict().values())


def test_the_tiny_models_spec_round_trips(tiny_model: Path):
    saved = json.loads((tiny_model / "model.json").read_text(encoding="utf-8"))["spec"]
    assert check_spec(saved).to_json() == saved
    assert ModelSpec.from_json(saved) == check_spec(saved)


def test_gazetteer_dim_is_written_only_when_set():
    """A spec without gazetteer features is the JSON an older nerkit wrote (and a checkpoint's
    fingerprint of it unchanged)."""
    assert "gazetteer_dim" not in spec().to_json()
    assert spec(gazetteer_dim=4).to_json()["gazetteer_dim"] == 4


def test_char_lstm_is_written_only_when_set():
    """A spec without a character BiLSTM is the JSON an older nerkit wrote."""
    assert "char_lstm" not in spec().to_json()
    assert spec(char_lstm=5).to_json()["char_lstm"] == 5
    assert spec(char_lstm=5, char_filters=0).token_dim == spec().token_dim - 50 + 10


def test_defaults_fill_keys_an_older_model_json_lacks():
    data = spec().to_json()
    del data["transformer_context"], data["char_kernel"]
    assert check_spec(data) == spec()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hidden": 0}, "spec.hidden is 0, not a whole number from 1 to 4,096"),
        ({"dropout": float("nan")}, "spec.dropout is NaN, not a number from 0 to 0.95"),
        ({"dropout": float("inf")}, "spec.dropout is Infinity, not a number from 0 to 0.95"),
        (
            {"hidden": 10**5000},
            "spec.hidden is a whole number of more than 40 digits, not a whole number from 1 to 4,096",
        ),
        ({"scheme": "x" * 100}, 'spec.scheme is "' + "x" * 38 + "…, not one of IOB1, IOB2, BIOES"),
        ({"labels": ["O", "B-PER", "O"]}, 'spec.labels lists "O" twice'),
        ({"gazetteer_dim": 8}, "spec.gazetteer_dim is 8, not 0 or 4 per entity type (4)"),
        ({"char_lstm": -1}, "spec.char_lstm is -1, not a whole number from 0 to 4,096"),
    ],
    ids=[
        "zero",
        "nan",
        "infinity",
        "5000-digits",
        "long-string",
        "duplicate-tag",
        "gazetteer-width",
        "char-lstm",
    ],
)
def test_check_spec_names_the_first_bad_field(changes, message):
    data = {**spec().to_json(), **changes}
    with pytest.raises(NerkitError) as caught:
        check_spec(data)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (3, "3"),
        (0.5, "0.5"),
        ("é", '"é"'),
        ([1, 2], "a list of length 2"),
        ({"a": 1}, "an object of 1 key"),
        ({}, "an object of 0 keys"),
    ],
)
def test_shown(value, text):
    assert shown(value) == text
