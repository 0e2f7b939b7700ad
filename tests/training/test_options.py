"""Tests for nerkit.training.options: every field's range checked when options are made, one line naming
the flag; values left to the data resolved; JSON round trip."""

from __future__ import annotations

import math
from dataclasses import fields

import pytest

from nerkit.errors import NerkitError
from nerkit.training.options import (
    DROPOUT_FINE_TUNE,
    TrainOptions,
    check_option,
    chosen,
    default_of,
    flag,
    given_flags,
    option_of,
)

FIELDS = {spec.name: spec for spec in fields(TrainOptions)}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_epochs": 0}, "--max-epochs 0 is not allowed; give a whole number 1 or more"),
        ({"dropout": -0.5}, "--dropout -0.5 is not allowed; give a number from 0 to 0.95"),
        ({"dropout": 2.0}, "--dropout 2.0 is not allowed; give a number from 0 to 0.95"),
        ({"threads": -1}, "--threads -1 is not allowed; give a whole number from 1 to 1,024"),
        ({"threads": 0}, "--threads 0 is not allowed; give a whole number from 1 to 1,024"),
        ({"hidden": 0}, "--hidden 0 is not allowed; give a whole number from 1 to 4,096"),
        ({"hidden": 10**15}, "--hidden 1000000000000000 is not allowed; give a whole number from 1 to 4,096"),
        ({"learning_rate": math.nan}, "--learning-rate nan is not allowed; give a number above 0 and at most 10"),
        ({"learning_rate": 0.0}, "--learning-rate 0.0 is not allowed; give a number above 0 and at most 10"),
        ({"batch_size": 0}, "--batch-size 0 is not allowed; give a whole number from 1 to 100,000"),
        ({"seed": -1}, "--seed -1 is not allowed; give a whole number from 0 to 4,294,967,295"),
        ({"clip": math.inf}, "--clip inf is not allowed; give a number above 0 and at most 1,000,000"),
        ({"head": "mlp"}, "--head 'mlp' is not allowed; give one of crf, linear"),
        ({"transformer_pooling": "max"}, "--transformer-pooling 'max' is not allowed; give one of first, mean"),
        ({"transformer_precision": "int8"}, "--transformer-precision 'int8' is not allowed; give one of auto, float32, bfloat16"),
        ({"hidden": 2.5}, "--hidden 2.5 is not allowed; give a whole number from 1 to 4,096"),
        ({"hidden": True}, "--hidden True is not allowed; give a whole number from 1 to 4,096"),
        ({"hidden": "8"}, "--hidden '8' is not allowed; give a whole number from 1 to 4,096"),
        ({"fine_tune": 1}, "--fine-tune 1 is not allowed; give true or false"),
        ({"transformer": 5}, "--transformer 5 is not allowed; give a path"),
        ({"validation_split": 1.0}, "--validation-split 1.0 is not allowed; give a number from 0.001 to 0.999"),
    ],
)  # fmt: skip
def test_a_bad_value_is_one_line_naming_the_flag(changes, message):
    with pytest.raises(NerkitError) as caught:
        TrainOptions(**changes)
    assert str(caught.value) == message


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_every_range_has_its_edges_inside_and_its_neighbours_outside(name):
    spec = FIELDS[name]
    described = option_of(spec)
    check_option(spec, default_of(spec))  # the default itself is allowed
    if described.low is None and described.high is None:
        return
    whole = str(spec.type).startswith("int")
    step = 1 if whole else 1e-9
    low, high = described.low, described.high
    assert low is not None
    if not described.above:
        check_option(spec, int(low) if whole else low)
    with pytest.raises(NerkitError):
        check_option(spec, (int(low) if whole else low) - (0 if described.above else step))
    if high is not None:
        check_option(spec, int(high) if whole else high)
        with pytest.raises(NerkitError):
            check_option(spec, (int(high) if whole else high) + step)


def test_every_field_has_help_and_a_flag():
    for name, spec in FIELDS.items():
        assert option_of(spec).help
        assert flag(name) == "--" + name.replace("_", "-")


def test_values_left_to_the_data_are_none_and_resolved():
    options = TrainOptions()
    assert (options.max_epochs, options.learning_rate, options.dropout, options.threads) == (None,) * 4
    plain = options.resolved(has_vectors=True)
    assert (
        plain.max_epochs,
        plain.learning_rate,
        plain.dropout,
        plain.transformer_context,
        plain.gazetteer,
        plain.lm_weight,
    ) == (
        30,
        0.002,
        0.5,
        False,
        True,
        0.1,
    )
    assert options.resolved(has_vectors=False).learning_rate == 0.004
    tuned = TrainOptions(fine_tune=True, transformer="x").resolved(has_vectors=False)
    assert (
        tuned.max_epochs,
        tuned.learning_rate,
        tuned.dropout,
        tuned.transformer_context,
        tuned.gazetteer,
        tuned.lm_weight,
    ) == (
        8,
        1e-4,
        DROPOUT_FINE_TUNE,
        True,
        False,
        0.0,
    )


@pytest.mark.parametrize(
    ("given", "has_vectors"),
    [
        (
            TrainOptions(
                max_epochs=3,
                learning_rate=0.01,
                dropout=0.0,
                transformer_context=False,
                gazetteer=False,
                lm_weight=0.0,
            ),
            True,
        ),
        (
            TrainOptions(
                learning_rate=0.01,
                max_epochs=3,
                dropout=0.2,
                transformer_context=True,
                gazetteer=True,
                lm_weight=0.2,
            ),
            False,
        ),
    ],
)
def test_options_given_in_full_resolve_to_themselves(given, has_vectors):
    assert given.resolved(has_vectors=has_vectors) is given


def test_chosen_refuses_a_value_left_to_the_data():
    assert chosen(0.0) == 0.0
    with pytest.raises(ValueError, match=r"before TrainOptions\.resolved"):
        chosen(TrainOptions().dropout)


def test_fine_tune_needs_a_transformer_when_the_options_are_made():
    with pytest.raises(NerkitError) as caught:
        TrainOptions(fine_tune=True)
    assert str(caught.value) == "--fine-tune needs --transformer FOLDER; give a local transformer folder"


@pytest.mark.parametrize("name", ["transformer", "feature_cache"])
def test_an_empty_path_is_refused(name):
    with pytest.raises(NerkitError) as caught:
        TrainOptions(**{name: ""})
    assert str(caught.value) == f"{flag(name)} '' is not allowed; give a path, or leave {flag(name)} out"


def test_changed_from_names_the_flags_that_change_results():
    saved = TrainOptions(hidden=16).to_json()
    assert TrainOptions(hidden=16, threads=1, extended_log=True, feature_cache="c").changed_from(saved) == []
    assert TrainOptions(hidden=8, max_epochs=2).changed_from(saved) == ["--max-epochs", "--hidden"]
    assert TrainOptions().changed_from({}) != []


def test_given_flags_name_what_differs_from_the_defaults():
    saved = TrainOptions(
        teacher="teacher/",
        distill_weight=0.8,
        locked_dropout=True,
        init_prior=False,
        threads=3,
        max_epochs=12,
    ).to_json()
    assert given_flags(saved) == [
        "--locked-dropout",
        "--no-init-prior",
        "--teacher teacher/",
        "--distill-weight 0.8",
    ]
    assert given_flags(TrainOptions().to_json()) == []
    assert given_flags({"seed": 7, "unknown": 1}) == ["--seed 7"]
    assert given_flags(TrainOptions(lr_schedule="cosine").to_json()) == ["--lr-schedule cosine"]
    resolved = TrainOptions(gazetteer=False).resolved(has_vectors=True).to_json()
    assert given_flags(resolved) == ["--no-gazetteer"]  # resolved from None, yet shown when off
    assert given_flags(TrainOptions().resolved(has_vectors=True).to_json()) == []
