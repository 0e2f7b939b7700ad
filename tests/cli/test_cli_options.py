"""Tests for nerkit.cli._options: training flags generated from TrainOptions, bad values refused in one
line with exit code 2 before any work, and the flags of the commands that load a model."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

import pytest

from nerkit.cli import build_parser, main
from nerkit.cli._options import add_training_options, training_options
from nerkit.training.options import TrainOptions, flag

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"


def test_every_option_has_a_flag_on_train_and_none_is_passed_unless_given():
    parser = argparse.ArgumentParser()
    add_training_options(parser)
    args = parser.parse_args([])
    assert {f.name for f in fields(TrainOptions)} <= set(vars(args))
    assert training_options(args) == TrainOptions()
    assert build_parser().parse_args(["train", "--train", "x", "-o", "y"]).threads is None


def test_flags_parse_into_typed_options():
    parser = argparse.ArgumentParser()
    add_training_options(parser)
    args = parser.parse_args(
        [
            "--lr",
            "0.01",
            "--hidden",
            "8",
            "--no-transformer-context",
            "--fine-tune",
            "--transformer",
            "t",
            "--head",
            "linear",
        ]
    )
    options = training_options(args)
    assert (options.learning_rate, options.hidden, options.transformer_context) == (0.01, 8, False)
    assert (options.fine_tune, options.head) == (True, "linear")


def test_train_help_lists_every_option_with_its_default(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for spec in fields(TrainOptions):
        assert flag(spec.name) in out
    assert "LSTM units per direction (default 200)" in out
    assert "most epochs (default 30, 10 with --init, 8 with --fine-tune)" in out


BAD = [
    (["--threads", "-1"], "--threads -1 is not allowed; give a whole number from 1 to 1,024"),
    (["--dropout", "2"], "--dropout 2.0 is not allowed; give a number from 0 to 0.95"),
    (["--hidden", "0"], "--hidden 0 is not allowed; give a whole number from 1 to 4,096"),
    (["--learning-rate", "nan"], "--learning-rate nan is not allowed; give a number above 0 and at most 10"),
    (["--batch-size", "0"], "--batch-size 0 is not allowed; give a whole number from 1 to 100,000"),
    (["--max-epochs", "0"], "--max-epochs 0 is not allowed; give a whole number 1 or more"),
]  # fmt: skip
CASES = [
    (command, argv, message)
    for command in (["train"], ["spec"], ["spark", "train"])
    for argv, message in BAD
    if command == ["train"] or argv[0] != "--threads"  # spec and spark train take no --threads
]


@pytest.mark.parametrize(("command", "argv", "message"), CASES)
def test_a_bad_option_is_one_line_and_exit_2_before_any_work(capsys, tmp_path, command, argv, message):
    missing = str(tmp_path / "missing.conll")  # never read: the options are checked first
    output = [] if command == ["spec"] else ["--output", str(tmp_path / "m")]
    code = main([*command, "--train", missing, *output, *argv])
    out, err = capsys.readouterr()
    assert code == 2
    assert (out, err) == ("", f"nerkit: error: {message}\n")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("threads", ["-1", "0", "100000"])
def test_threads_out_of_range_on_the_commands_that_load_a_model(capsys, command, threads):
    with pytest.raises(SystemExit) as caught:
        main([command, "model", "file", "--threads", threads])
    assert caught.value.code == 2
    assert capsys.readouterr().err == (
        f"nerkit {command}: error: argument --threads: {threads} is out of range; give a whole number "
        f"from 1 to 1,024; see nerkit {command} --help\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["predict", "m", "f", "--batch-size", "0"],
            "argument --batch-size: 0 is out of range; give a whole number from 1 to 1,000,000",
        ),
        (["predict", "m", "f", "--batch-size", "x"], "argument --batch-size: 'x' is not a whole number"),
        (["predict"], "the following arguments are required: model, input"),
        (
            ["predict", "m", "f", "--format", "xml"],
            "argument --format: invalid choice: 'xml' (choose from 'jsonl', 'conll', 'html', 'labelstudio', 'brat')",
        ),
    ],
)
def test_usage_errors_are_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert capsys.readouterr().err == f"nerkit {argv[0]}: error: {message}; see nerkit {argv[0]} --help\n"


def test_the_library_refuses_threads_out_of_range(tiny_model):
    import nerkit

    for threads in (-1, 1025, True, 2.0):
        with pytest.raises(nerkit.NerkitError) as caught:
            nerkit.load(str(tiny_model), threads=threads)
        assert (
            str(caught.value)
            == f"threads={threads!r} is out of range; give 1 to 1,024, or 0 to let nerkit choose"
        )
