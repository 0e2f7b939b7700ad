"""Tests for nerkit.training (train, the epoch loop, corpus, prepare) on tiny models: model folders, logs, determinism, early stopping, resume."""

from __future__ import annotations

import json
import math
import random
import shutil
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import torch

from nerkit.cli import main
from nerkit.data.tags import Span, spans_to_tags
from nerkit.errors import NerkitError
from nerkit.model.folder import load_model
from nerkit.model.spec import ModelSpec
from nerkit.model.tagger import Tagger
from nerkit.pipeline import load
from nerkit.training.checkpoint import CHECKPOINT, load_checkpoint
from nerkit.training.continued import continued_options
from nerkit.training.corpus import Corpus, read_corpus, split_validation
from nerkit.training.options import TrainOptions
from nerkit.training.prepare import plan_model, prepare
from nerkit.training.tagger_steps import average_weights, lr_at
from nerkit.training.train import train

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
LOG_KEYS = {"epoch", "loss", "learning_rate", "seconds", "tokens_per_second", "dev", "test", "best"}

NAMES = {
    "PER": [["Alice"], ["Bob", "Stone"], ["Carla", "de", "Vries"], ["Dan"]],
    "LOC": [["Paris"], ["New", "York"], ["Oslo"], ["Rio", "de", "Janeiro"]],
    "ORG": [["Acme", "Corp"], ["Globex"], ["Initech", "Data", "Systems"]],
}
TEMPLATES = [
    "{PER} visited {LOC} yesterday .",
    "{PER} works for {ORG} in {LOC} .",
    "{ORG} hired {PER} .",
    "shares of {ORG} rose 4.5 % in 1996 .",
    "the weather was fine today .",
]


def _sentences(count: int, seed: int, types: dict[str, str] | None = None):
    """`count` made-up sentences as (tokens, spans), entity types renamed by `types`."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        tokens: list[str] = []
        spans: list[Span] = []
        for part in rng.choice(TEMPLATES).split():
            if part.startswith("{"):
                label = part[1:-1]
                name = rng.choice(NAMES[label])
                spans.append(Span(len(tokens), len(tokens) + len(name), (types or {}).get(label, label)))
                tokens.extend(name)
            else:
                tokens.append(part)
        out.append((tokens, spans))
    return out


def _write_corpus(
    path: Path,
    count: int,
    seed: int,
    scheme: str = "IOB2",
    types: dict[str, str] | None = None,
    outside_only: bool = False,
    extra: list[tuple[list[str], list[str]]] = (),
) -> Path:
    lines = ["-DOCSTART- O", ""]
    rows = [
        (tokens, ["O"] * len(tokens) if outside_only else spans_to_tags(spans, len(tokens), scheme))
        for tokens, spans in _sentences(count, seed, types)
    ]
    for tokens, tags in [*rows, *extra]:
        lines.extend(f"{t} {g}" for t, g in zip(tokens, tags, strict=True))
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _options(**changes) -> TrainOptions:
    settings = {
        "hidden": 16,
        "char_filters": 8,
        "word_dim": 16,
        "max_epochs": 3,
        "min_epochs": 1,
        "threads": 1,
        "learning_rate": 0.05,
        "batch_size": 8,
        "seed": 3,
        "context_tokens": 0,  # sentence by sentence unless a test asks for context
        "average_epochs": 1,
        **changes,
    }
    return TrainOptions(**settings)


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    """A tiny IOB2 train (40 sentences) and dev (12 sentences) file."""
    return _write_corpus(tmp_path / "train.conll", 40, 1), _write_corpus(tmp_path / "dev.conll", 12, 2)


def _log_lines(output: Path) -> list[dict]:
    return [
        json.loads(line) for line in (output / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
    ]


# --- a run on samples/, shared by several tests ---------------------------------------------------------


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("samples")
    batches: list[tuple[int, int]] = []
    epochs = []
    ready = []
    options = _options(max_epochs=2, batch_size=32, extended_log=True, seed=1)
    result = train(
        SAMPLES / "train.conll",
        folder / "model",
        dev_path=SAMPLES / "dev.conll",
        test_path=SAMPLES / "test.conll",
        options=options,
        on_epoch=epochs.append,
        on_batch=lambda done, total: batches.append((done, total)),
        log_folder=folder / "logs",
        on_ready=lambda spec, parameters: ready.append((spec, parameters)),
    )
    return result, folder, options, batches, epochs, ready


def test_model_folder_contents(sample_run):
    result, folder, *_ = sample_run
    output = folder / "model"
    assert result.output == output
    assert sorted(p.name for p in output.iterdir()) == ["model.json", "model.safetensors", "train_log.jsonl"]
    assert not (output / CHECKPOINT).exists()
    assert not result.interrupted and not result.stopped_early
    assert [log.epoch for log in result.logs] == [1, 2]
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary folders left


def test_train_log_lines(sample_run):
    result, folder, options, *_ = sample_run
    lines = _log_lines(folder / "model")
    assert len(lines) == 2
    assert [line["epoch"] for line in lines] == [1, 2]
    for line, log in zip(lines, result.logs, strict=True):
        assert set(line) == LOG_KEYS
        assert line["learning_rate"] == pytest.approx(lr_at(options, line["epoch"]))
        assert line["loss"] > 0 and line["seconds"] > 0 and line["tokens_per_second"] > 0
        assert set(line["dev"]) == {"precision", "recall", "f1", "per_label"}
        assert set(line["test"]) == {"precision", "recall", "f1", "per_label"}
        for summary in (line["dev"], line["test"]):
            assert all(0 <= summary[key] <= 1 for key in ("precision", "recall", "f1"))
            assert set(summary["per_label"]) == {"LOC", "MISC", "ORG", "PER"}
            for row in summary["per_label"].values():
                assert {"precision", "recall", "f1", "support"} <= set(row)
        assert line == json.loads(json.dumps(asdict(log)))
    assert lines[0]["best"] is True
    best = max(range(2), key=lambda i: (lines[i]["dev"]["f1"], -i))
    assert result.best_epoch == best + 1
    assert result.dev == lines[best]["dev"]
    assert [line["best"] for line in lines] == [True, lines[1]["dev"]["f1"] > lines[0]["dev"]["f1"]]


def test_saved_model_and_meta(sample_run):
    result, folder, options, *_ = sample_run
    loaded = load_model(folder / "model")
    meta = loaded.meta
    assert meta["best_epoch"] == result.best_epoch
    assert meta["dev"] == result.dev
    assert meta["training"]["seed"] == options.seed and meta["training"]["hidden"] == 16
    assert meta["data"] == {
        "train": str(SAMPLES / "train.conll"),
        "dev": str(SAMPLES / "dev.conll"),
        "formats": {"train": "conll", "dev": "conll"},
    }
    assert set(meta["calibration"]) == {"token_ece", "entity_ece", "entities"}
    assert loaded.model.spec.output_scheme == "IOB2"
    assert loaded.model.spec.scheme == "BIOES"
    assert loaded.vocab.labels[0] == "O"
    assert loaded.vocab.labels == loaded.model.spec.labels
    assert len(loaded.vocab.labels) == 1 + 4 * 4


def test_on_batch_counts_up_to_the_total(sample_run):
    _, _, options, batches, *_ = sample_run
    sentences = sum(1 for tokens in read_corpus(SAMPLES / "train.conll").tokens if tokens)
    total = -(-sentences // options.batch_size)
    assert batches == [(done, total) for done in range(1, total + 1)] * 2


def test_on_epoch_and_on_ready(sample_run):
    result, folder, _, _, epochs, ready = sample_run
    assert epochs == result.logs
    ((spec, parameters),) = ready
    assert spec == load_model(folder / "model").model.spec
    assert parameters == Tagger(spec).parameter_count()


def test_log_folder(sample_run):
    result, folder, *_ = sample_run
    (log_file,) = (folder / "logs").iterdir()
    assert log_file.name.startswith("nerkit-train-") and log_file.suffix == ".log"
    text = log_file.read_text(encoding="utf-8")
    for log in result.logs:
        assert log.line() in text
        assert log.table() and log.table() in text


# --- learning rate ----------------------------------------------------------------------------------------


def test_lr_at():
    options = TrainOptions(learning_rate=0.01, po=0.5)
    assert [lr_at(options, e) for e in (1, 2, 3, 4)] == pytest.approx(
        [0.01, 0.01 / 1.5, 0.01 / 2, 0.01 / 2.5]
    )
    default = TrainOptions().resolved(has_vectors=True)
    assert lr_at(default, 1) == default.learning_rate == 0.002
    assert lr_at(default, 11) == pytest.approx(0.002 / 1.5)
    assert lr_at(TrainOptions(po=0.0).resolved(has_vectors=True), 30) == 0.002


def test_lr_at_cosine_falls_from_the_rate_to_nearly_zero_over_max_epochs():
    options = TrainOptions(learning_rate=0.01, max_epochs=4, po=0.5, lr_schedule="cosine")
    half = 0.01 * (1 + math.cos(math.pi / 4)) / 2
    assert [lr_at(options, e) for e in (1, 2, 3, 4)] == pytest.approx([0.01, half, 0.005, 0.01 - half])
    default = TrainOptions(lr_schedule="cosine").resolved(has_vectors=True)
    assert lr_at(default, 16) == pytest.approx(0.001)  # half way through 30 epochs, half the rate
    assert lr_at(default, 30) == pytest.approx(0.002 * (1 + math.cos(math.pi * 29 / 30)) / 2)


def test_lr_schedule_bad_or_with_fine_tune_is_one_error_naming_the_flag():
    with pytest.raises(NerkitError, match="--lr-schedule"):
        TrainOptions(lr_schedule="linear")
    with pytest.raises(NerkitError, match="--lr-schedule sets a BiLSTM-CNN-CRF's decay"):
        TrainOptions(lr_schedule="cosine", fine_tune=True, transformer="t")


def test_learning_rate_left_unset_depends_on_the_vectors():
    assert TrainOptions().learning_rate is None
    assert TrainOptions().resolved(has_vectors=True).learning_rate == 0.002
    assert TrainOptions().resolved(has_vectors=False).learning_rate == 0.004


def test_document_context_left_unset_follows_fine_tuning():
    assert TrainOptions().transformer_context is None
    assert TrainOptions().resolved(has_vectors=True).transformer_context is False
    assert (
        TrainOptions(fine_tune=True, transformer="x").resolved(has_vectors=False).transformer_context is True
    )
    assert TrainOptions(transformer_context=True).resolved(has_vectors=True).transformer_context is True


def test_the_saved_options_hold_the_learning_rate_used(tmp_path, tiny):
    train_file, dev_file = tiny
    options = _options(max_epochs=1, learning_rate=None)
    result = train(train_file, tmp_path / "m", dev_path=dev_file, options=options)
    meta = json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))
    assert meta["training"]["learning_rate"] == 0.004
    assert result.logs[0].learning_rate == 0.004


# --- determinism ------------------------------------------------------------------------------------------


def test_same_seed_same_weights_other_seed_other_weights(tiny, tmp_path):
    train_file, dev_file = tiny
    outputs = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        outputs[name] = train(train_file, tmp_path / name, dev_path=dev_file, options=_options(seed=seed))
    weights = {name: (tmp_path / name / "model.safetensors").read_bytes() for name in outputs}
    assert weights["a"] == weights["b"]
    assert weights["a"] != weights["c"]
    assert [log.loss for log in outputs["a"].logs] == [log.loss for log in outputs["b"].logs]
    assert [log.dev for log in outputs["a"].logs] == [log.dev for log in outputs["b"].logs]


# --- early stopping ---------------------------------------------------------------------------------------


def test_early_stopping_when_dev_cannot_improve(tmp_path):
    train_file = _write_corpus(tmp_path / "train.conll", 40, 1)
    dev_file = _write_corpus(tmp_path / "dev.conll", 8, 2, outside_only=True)  # F1 is 0 whatever is predicted
    result = train(train_file, tmp_path / "m", dev_path=dev_file, options=_options(max_epochs=4, patience=1))
    assert result.stopped_early
    assert [log.epoch for log in result.logs] == [1, 2]
    assert [log.best for log in result.logs] == [True, False]
    assert result.best_epoch == 1
    assert result.dev["f1"] == 0.0
    assert not (tmp_path / "m" / CHECKPOINT).exists()
    assert [line["epoch"] for line in _log_lines(tmp_path / "m")] == [1, 2]


def test_early_stopping_waits_for_min_epochs(tmp_path):
    train_file = _write_corpus(tmp_path / "train.conll", 40, 1)
    dev_file = _write_corpus(tmp_path / "dev.conll", 8, 2, outside_only=True)
    options = _options(max_epochs=5, min_epochs=3, patience=1)
    result = train(train_file, tmp_path / "m", dev_path=dev_file, options=options)
    assert result.stopped_early
    assert [log.epoch for log in result.logs] == [1, 2, 3]


def test_no_early_stop_when_max_epochs_reached(tiny, tmp_path):
    train_file, dev_file = tiny
    result = train(train_file, tmp_path / "m", dev_path=dev_file, options=_options(max_epochs=2, patience=5))
    assert not result.stopped_early
    assert [log.epoch for log in result.logs] == [1, 2]
    assert all(log.test is None for log in result.logs)  # no test file, no test scores
    assert set(result.logs[0].dev) == {"precision", "recall", "f1", "per_label"}  # for the report's curves


# --- validation split -------------------------------------------------------------------------------------


def _corpus(count: int) -> Corpus:
    corpus = Corpus()
    for i in range(count):
        corpus.tokens.append((f"w{i}",))
        corpus.tags.append(("O",))
        corpus.documents.append(i // 3)
    return corpus


def test_split_validation_sizes_and_reproducibility():
    corpus = _corpus(20)
    train_part, dev_part = split_validation(corpus, 0.25, seed=7)
    assert (len(train_part), len(dev_part)) == (15, 5)
    assert split_validation(corpus, 0.25, seed=7) == (train_part, dev_part)
    assert split_validation(corpus, 0.25, seed=8)[1] != dev_part
    # a partition of the corpus that keeps each part in file order, with documents alongside
    assert sorted(train_part.tokens + dev_part.tokens) == sorted(corpus.tokens)
    assert train_part.tokens == sorted(train_part.tokens, key=corpus.tokens.index)
    assert dev_part.tokens == sorted(dev_part.tokens, key=corpus.tokens.index)
    for part in (train_part, dev_part):
        assert part.documents == [int(t[0][1:]) // 3 for t in part.tokens]
        assert len(part.tags) == len(part.tokens)
    # at least one sentence is held out, however small the share
    assert [len(p) for p in split_validation(_corpus(3), 0.01, seed=1)] == [2, 1]
    assert [len(p) for p in split_validation(_corpus(10), 0.5, seed=1)] == [5, 5]


@pytest.mark.parametrize("share", [0, 1, 0.0, 1.0, -0.5, 1.5])
def test_split_validation_share_out_of_range(share):
    with pytest.raises(NerkitError) as caught:
        split_validation(_corpus(10), share, seed=1)
    assert str(caught.value) == (
        f"validation split {share} must be between 0 and 1; "
        "give --dev FILE, or --validation-split 0.1 to hold out a tenth of train"
    )


@pytest.mark.parametrize(("count", "share"), [(1, 0.5), (1, 0.1), (2, 0.9)])
def test_split_validation_too_few_sentences(count, share):
    with pytest.raises(NerkitError) as caught:
        split_validation(_corpus(count), share, seed=1)
    assert str(caught.value) == f"too few sentences ({count}) to hold out a dev split; give --dev FILE"


def test_prepare_carves_dev_out_of_train(tiny):
    train_file, _ = tiny
    data = prepare(train_file, options=_options(validation_split=0.25))
    assert (len(data.train), len(data.dev)) == (30, 10)
    again = prepare(train_file, options=_options(validation_split=0.25))
    assert again.dev.tokens == data.dev.tokens
    other = prepare(train_file, options=_options(validation_split=0.25, seed=4))
    assert other.dev.tokens != data.dev.tokens
    assert data.test is None


def test_bad_validation_split_is_refused_when_the_options_are_made():
    with pytest.raises(
        NerkitError, match=r"^--validation-split 0 is not allowed; give a number from 0.001 to 0.999$"
    ):
        _options(validation_split=0)


# --- plan_model -------------------------------------------------------------------------------------------


def test_plan_model_matches_the_saved_spec(tiny, tmp_path):
    train_file, _ = tiny
    options = _options(max_epochs=1, validation_split=0.2)
    spec, parameters = plan_model(train_file, options=options)
    train(train_file, tmp_path / "m", options=options)  # no dev file: dev is carved out of train
    loaded = load_model(tmp_path / "m")
    saved = ModelSpec.from_json(
        json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))["spec"]
    )
    assert spec == saved == loaded.model.spec
    assert parameters == loaded.model.parameter_count()
    assert (spec.hidden, spec.char_filters, spec.word_dim, spec.pretrained_words) == (16, 8, 16, 0)
    assert spec.words == len(loaded.vocab.words) and spec.chars == len(loaded.vocab.chars)


def test_a_character_bilstm_is_trained_recorded_and_shown(tiny, tmp_path, capsys):
    """--char-lstm (here instead of the CNN, --char-filters 0) sizes the spec, trains, and `nerkit spec`
    names both flags and the encoder."""
    train_file, dev_file = tiny
    train(train_file, tmp_path / "m", dev_file, options=_options(max_epochs=1, char_lstm=4, char_filters=0))
    spec = load_model(tmp_path / "m").model.spec
    assert (spec.char_lstm, spec.char_filters, spec.token_dim) == (4, 0, 16 + 8 + 8 + spec.gazetteer_dim)
    assert main(["spec", str(tmp_path / "m")]) == 0
    shown = capsys.readouterr().out
    assert "-> BiLSTM, 4 units per direction\n" in shown
    assert "--char-filters 0 --char-lstm 4" in shown


def test_the_cosine_schedule_is_followed_recorded_and_shown(tiny, tmp_path, capsys):
    """--lr-schedule cosine: each epoch's logged learning rate is lr_at's, model.json records it, and
    `nerkit spec` shows it among the options the model was trained with."""
    train_file, dev_file = tiny
    options = _options(max_epochs=3, min_epochs=3, lr_schedule="cosine")
    train(train_file, tmp_path / "m", dev_file, options=options)
    rates = [line["learning_rate"] for line in _log_lines(tmp_path / "m")]
    assert rates == pytest.approx([0.05, 0.05 * 0.75, 0.05 * 0.25])
    assert load_model(tmp_path / "m").meta["training"]["lr_schedule"] == "cosine"
    assert main(["spec", str(tmp_path / "m")]) == 0
    assert "--lr-schedule cosine" in capsys.readouterr().out


# --- tag sets and schemes ---------------------------------------------------------------------------------


def test_bioes_with_hyphenated_types(tmp_path):
    types = {"PER": "person", "ORG": "corporation", "LOC": "creative-work"}
    train_file = _write_corpus(tmp_path / "train.conll", 40, 1, "BIOES", types)
    dev_file = _write_corpus(tmp_path / "dev.conll", 12, 2, "BIOES", types)
    text = train_file.read_text(encoding="utf-8")
    assert "I-corporation" in text and "S-corporation" in text and "E-creative-work" in text
    result = train(train_file, tmp_path / "m", dev_path=dev_file, options=_options(max_epochs=2))
    spec = load_model(tmp_path / "m").model.spec
    assert spec.output_scheme == "BIOES"
    assert spec.scheme == "BIOES"
    assert spec.labels == [
        "O",
        *(f"{p}-corporation" for p in "BEIS"),
        *(f"{p}-creative-work" for p in "BEIS"),
        *(f"{p}-person" for p in "BEIS"),
    ]
    assert not result.interrupted


def test_iob1_input_keeps_iob1_output(tmp_path):
    # two touching names of one type: IOB1 marks the second with B-
    extra = [(["Alice", "Bob", "met", "."], ["I-PER", "B-PER", "O", "O"])]
    train_file = _write_corpus(tmp_path / "train.conll", 40, 1, "IOB1", extra=extra)
    dev_file = _write_corpus(tmp_path / "dev.conll", 12, 2, "IOB1")
    text = train_file.read_text(encoding="utf-8")
    assert "B-" in text and "\nParis I-LOC\n" in text
    train(train_file, tmp_path / "m", dev_path=dev_file, options=_options(max_epochs=1))
    spec = load_model(tmp_path / "m").model.spec
    assert spec.output_scheme == "IOB1"
    assert spec.scheme == "BIOES"
    assert "S-PER" in spec.labels and "E-LOC" in spec.labels


def test_warning_for_dev_types_unseen_in_train(tmp_path, capsys):
    extra = [(["the", "Expo", "2030", "opened", "."], ["O", "B-EVENT", "I-EVENT", "O", "O"])]
    extra_test = [(["a", "Gizmo", "sold", "."], ["O", "B-PRODUCT", "O", "O"])]
    train_file = _write_corpus(tmp_path / "train.conll", 10, 1)
    dev_file = _write_corpus(tmp_path / "dev.conll", 4, 2, extra=extra)
    test_file = _write_corpus(tmp_path / "test.conll", 4, 3, extra=extra + extra_test)
    prepare(train_file, dev_file, test_file, options=_options())
    assert capsys.readouterr().err == (
        "nerkit: warning: dev has entity types never seen in train: EVENT; the model cannot predict them\n"
        "nerkit: warning: test has entity types never seen in train: EVENT, PRODUCT; "
        "the model cannot predict them\n"
        # the file is one document
        "nerkit: note: the training data is one document, so the model has no gazetteer: its features "
        "only fire, in training, on phrases another document annotates\n"
    )
    prepare(train_file, _write_corpus(tmp_path / "dev2.conll", 4, 2), options=_options(gazetteer=False))
    assert capsys.readouterr().err == ""


# --- Ctrl-C and resume ------------------------------------------------------------------------------------


def _interrupt_after_epoch(number: int):
    def on_epoch(log):
        if log.epoch == number:
            raise KeyboardInterrupt

    return on_epoch


def test_interrupt_then_resume(tiny, tmp_path):
    train_file, dev_file = tiny
    options = _options(max_epochs=4, patience=10)
    output = tmp_path / "m"
    first = train(train_file, output, dev_path=dev_file, options=options, on_epoch=_interrupt_after_epoch(2))
    assert first.interrupted and not first.stopped_early
    assert [log.epoch for log in first.logs] == [1, 2]
    assert load_checkpoint(output)[1]["epoch"] == 2
    assert [line["epoch"] for line in _log_lines(output)] == [1, 2]
    best = max(first.logs, key=lambda log: (log.dev["f1"], -log.epoch))
    assert first.best_epoch == best.epoch
    loaded = load_model(output)  # the best model so far, complete with its calibration
    assert loaded.meta["best_epoch"] == first.best_epoch
    assert "calibration" in loaded.meta

    seen = []
    second = train(train_file, output, dev_path=dev_file, options=options, resume=True, on_epoch=seen.append)
    assert not second.interrupted
    assert [log.epoch for log in seen] == [3, 4]
    assert [log.epoch for log in second.logs] == [1, 2, 3, 4]
    assert second.logs[:2] == first.logs
    assert [line["epoch"] for line in _log_lines(output)] == [1, 2, 3, 4]
    assert not (output / CHECKPOINT).exists()
    assert load_model(output).meta["best_epoch"] == second.best_epoch


def test_interrupt_mid_epoch_then_resume(tiny, tmp_path):
    train_file, dev_file = tiny
    options = _options(max_epochs=3, patience=10)
    output = tmp_path / "m"
    calls = []

    def on_batch(done, total):
        calls.append(done)
        if len(calls) == 2 * total + 2:  # the second batch of epoch 3
            raise KeyboardInterrupt

    first = train(train_file, output, dev_path=dev_file, options=options, on_batch=on_batch)
    assert first.interrupted
    assert [log.epoch for log in first.logs] == [1, 2]
    assert load_checkpoint(output)[1]["epoch"] == 2
    assert [line["epoch"] for line in _log_lines(output)] == [1, 2]
    second = train(train_file, output, dev_path=dev_file, options=options, resume=True)
    assert [log.epoch for log in second.logs] == [1, 2, 3]
    assert [line["epoch"] for line in _log_lines(output)] == [1, 2, 3]
    assert not (output / CHECKPOINT).exists()


@pytest.mark.parametrize("where", ["after epoch 2", "in epoch 3"])
def test_resume_continues_exactly_like_an_uninterrupted_run(tiny, tmp_path, where):
    train_file, dev_file = tiny
    options = _options(max_epochs=4, patience=10)
    output = tmp_path / "m"
    if where == "after epoch 2":
        first = train(
            train_file, output, dev_path=dev_file, options=options, on_epoch=_interrupt_after_epoch(2)
        )
    else:
        calls = []

        def on_batch(done, total):
            calls.append(done)
            if len(calls) == 2 * total + 1:
                raise KeyboardInterrupt

        first = train(train_file, output, dev_path=dev_file, options=options, on_batch=on_batch)
    assert first.interrupted
    resumed = train(train_file, output, dev_path=dev_file, options=options, resume=True)
    straight = train(train_file, tmp_path / "straight", dev_path=dev_file, options=options)
    assert [log.loss for log in resumed.logs] == [log.loss for log in straight.logs]
    assert [log.dev for log in resumed.logs] == [log.dev for log in straight.logs]
    assert resumed.best_epoch == straight.best_epoch
    assert (output / "model.safetensors").read_bytes() == (
        tmp_path / "straight" / "model.safetensors"
    ).read_bytes()


def test_resume_without_checkpoint_raises(tiny, tmp_path):
    train_file, dev_file = tiny
    output = tmp_path / "m"
    with pytest.raises(NerkitError) as caught:
        train(train_file, output, dev_path=dev_file, options=_options(), resume=True)
    assert (
        str(caught.value)
        == f"{output / CHECKPOINT}: nothing to resume: no checkpoint; train without --resume"
    )
    assert not output.exists()


def test_resume_with_other_options_raises_and_keeps_the_checkpoint(tiny, tmp_path):
    train_file, dev_file = tiny
    output = tmp_path / "m"
    options = _options(max_epochs=3)
    train(train_file, output, dev_path=dev_file, options=options, on_epoch=_interrupt_after_epoch(1))
    changed = _options(max_epochs=4, hidden=8, threads=2)  # threads change no result
    with pytest.raises(NerkitError) as caught:
        train(train_file, output, dev_path=dev_file, options=changed, resume=True)
    assert str(caught.value) == (
        f"{output / CHECKPOINT}: the interrupted run used other values of --max-epochs, --hidden; "
        "resume with the same options, or train again without --resume"
    )
    assert load_checkpoint(output)[1]["epoch"] == 1
    resumed = train(
        train_file, output, dev_path=dev_file, options=_options(max_epochs=3, threads=2), resume=True
    )
    assert [log.epoch for log in resumed.logs] == [1, 2, 3]


@pytest.mark.parametrize("damage", [b"", b"garbage", None])
def test_a_damaged_checkpoint_is_one_line(tiny, tmp_path, damage):
    train_file, dev_file = tiny
    output = tmp_path / "m"
    train(train_file, output, dev_path=dev_file, options=_options(), on_epoch=_interrupt_after_epoch(1))
    path = output / CHECKPOINT
    path.write_bytes(path.read_bytes()[:1000] if damage is None else damage)
    with pytest.raises(NerkitError) as caught:
        train(train_file, output, dev_path=dev_file, options=_options(), resume=True)
    assert str(caught.value).startswith(f"{path}: the checkpoint is damaged or from another run (")
    assert str(caught.value).endswith("; train again without --resume")


def test_a_finished_run_clears_an_older_nerkits_checkpoint_folder(tiny, tmp_path):
    train_file, dev_file = tiny
    (tmp_path / "m" / "checkpoint").mkdir(parents=True)
    (tmp_path / "m" / "checkpoint" / "checkpoint.json").write_text("{}", encoding="utf-8")
    train(train_file, tmp_path / "m", dev_path=dev_file, options=_options(max_epochs=1))
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "model.json",
        "model.safetensors",
        "train_log.jsonl",
    ]


def test_resume_after_a_finished_run_raises(tiny, tmp_path):
    train_file, dev_file = tiny
    train(train_file, tmp_path / "m", dev_path=dev_file, options=_options(max_epochs=1))
    with pytest.raises(NerkitError, match="nothing to resume: no checkpoint"):
        train(train_file, tmp_path / "m", dev_path=dev_file, options=_options(max_epochs=2), resume=True)


def test_document_context_training_and_prediction(tmp_path):
    output = tmp_path / "model"
    options = _options(context_tokens=40, batch_size=4, max_epochs=1)
    train(SAMPLES / "train.conll", output, dev_path=SAMPLES / "dev.conll", options=options)
    pipeline = load(output, threads=1)
    assert pipeline.spec.context_tokens == 40
    score = pipeline.evaluate(SAMPLES / "test.conll")
    assert score.tokens == 1559
    document = pipeline.predict("Maria Voss visited Halvery. She met Bob Lund there.")
    assert all(document.text[e.start : e.end] == e.text for e in document.entities)


def test_average_weights():
    first = {"w": torch.tensor([1.0, 2.0]), "mask": torch.tensor([True, False])}
    second = {"w": torch.tensor([3.0, 6.0]), "mask": torch.tensor([False, False])}
    averaged = average_weights([first, second])
    assert averaged["w"].tolist() == [2.0, 4.0]
    assert averaged["mask"].tolist() == [False, False]


def test_averaged_weights_resume_exactly(tiny, tmp_path):
    train_file, dev_file = tiny
    options = _options(max_epochs=4, average_epochs=3)
    train(train_file, tmp_path / "whole", dev_path=dev_file, options=options)
    interrupted = train(
        train_file, tmp_path / "split", dev_path=dev_file, options=options, on_epoch=_interrupt_after_epoch(2)
    )
    assert interrupted.interrupted
    train(train_file, tmp_path / "split", dev_path=dev_file, options=options, resume=True)
    whole = (tmp_path / "whole" / "model.safetensors").read_bytes()
    assert whole == (tmp_path / "split" / "model.safetensors").read_bytes()

    def scores(folder: Path) -> list[dict]:
        timing = {"seconds", "tokens_per_second"}
        return [{k: v for k, v in line.items() if k not in timing} for line in _log_lines(folder)]

    assert scores(tmp_path / "whole") == scores(tmp_path / "split")


def test_init_word_vectors_puts_each_vector_in_its_word_row(tmp_path):
    import numpy as np

    from nerkit.data.vocab import build_vocab
    from nerkit.embeddings.static import WordVectors
    from nerkit.training.prepare import init_word_vectors

    vectors = WordVectors(
        words=["<unk>", "paris", "the"],
        vectors=np.array([[9.0, 9.0], [1.0, 2.0], [3.0, 4.0]], dtype=np.float32),
        dim=2,
        format="glove",
        total=3,
    )
    vocab = build_vocab([("the", "Paris")], ["O"], vectors.words)
    spec = ModelSpec(
        labels=vocab.labels,
        scheme="BIOES",
        output_scheme="IOB2",
        words=len(vocab.words),
        pretrained_words=3,
        word_dim=2,
        chars=len(vocab.chars),
    )
    model = Tagger(spec)
    init_word_vectors(model, vocab, vectors)
    table = model.word_embedding.weight
    assert table[vocab.word_index["paris"]].tolist() == [1.0, 2.0]
    assert table[vocab.word_index["the"]].tolist() == [3.0, 4.0]
    assert table[0].tolist() == [0.0, 0.0]  # padding untouched
    assert table[1].tolist() != [9.0, 9.0]  # the unknown row keeps its own initialisation


@pytest.mark.parametrize(("scale", "moved"), [(0.0, False), (0.1, True), (1.0, True)])
def test_word_lr_scale_zero_keeps_the_vectors_as_loaded(tiny, tmp_path, scale, moved):
    train_file, dev_file = tiny
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("Alice 0.5 -0.25 1.0\nvisited 0.125 0.75 -1.0\n", encoding="utf-8")
    output = tmp_path / "model"
    train(train_file, output, dev_path=dev_file, embeddings=vectors, options=_options(word_lr_scale=scale))
    loaded = load_model(output)
    table = loaded.model.word_embedding.weight
    rows = [table[loaded.vocab.word_index[word]].tolist() for word in ("Alice", "visited")]
    assert (rows != [[0.5, -0.25, 1.0], [0.125, 0.75, -1.0]]) is moved
    assert loaded.meta["training"]["word_lr_scale"] == scale


# --- transformer features ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def transformer_run(tmp_path_factory: pytest.TempPathFactory, tiny_bert: Path):
    folder = tmp_path_factory.mktemp("with-transformer")
    train_file = _write_corpus(folder / "train.conll", 30, 1)
    dev_file = _write_corpus(folder / "dev.conll", 8, 2)
    options = _options(
        max_epochs=2, transformer=str(tiny_bert), transformer_layers=2, feature_cache=str(folder / "cache")
    )
    result = train(train_file, folder / "model", dev_path=dev_file, options=options)
    return result, folder, options, dev_file


def test_transformer_model_folder_is_self_contained(transformer_run, tiny_bert):
    result, folder, _, _ = transformer_run
    model = folder / "model"
    copied = sorted(p.name for p in (model / "transformer").iterdir())
    assert copied == ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]
    meta = json.loads((model / "model.json").read_text(encoding="utf-8"))
    assert meta["spec"]["transformer_dim"] == 16
    assert meta["spec"]["transformer_layers"] == 2
    assert meta["spec"]["transformer_window"] == 62
    assert len(meta["transformer"]["sha256"]) == 64
    assert result.best_epoch >= 1


def test_transformer_features_are_cached_per_split(transformer_run):
    _, folder, _, _ = transformer_run
    entries = sorted(p for p in (folder / "cache").iterdir())
    assert len(entries) == 2  # train and dev
    assert all((entry / "features.f16").is_file() for entry in entries)


def test_transformer_model_predicts_without_the_original_folder(transformer_run):
    _, folder, _, dev_file = transformer_run
    pipeline = load(folder / "model", threads=1)
    assert pipeline.transformer is not None
    assert pipeline.transformer.path == folder / "model" / "transformer"
    document = pipeline.predict("Peter visited Paris.")
    assert [t.text for s in document.sentences for t in s.tokens] == ["Peter", "visited", "Paris", "."]
    saved = json.loads((folder / "model" / "model.json").read_text(encoding="utf-8"))
    assert pipeline.evaluate(dev_file).f1 == pytest.approx(saved["dev"]["f1"])


def test_transformer_precision_is_chosen_at_load(transformer_run, capsys):
    _, folder, _, dev_file = transformer_run
    assert load(folder / "model", threads=1, precision="float32").transformer.precision == "float32"
    assert load(folder / "model", threads=1, precision="bfloat16").transformer.precision == "bfloat16"
    arguments = ["evaluate", str(folder / "model"), str(dev_file), "--json", "--threads", "1"]
    assert main([*arguments, "--transformer-precision", "float32"]) == 0
    assert 0 <= json.loads(capsys.readouterr().out)["f1"] <= 1


def test_transformer_window_is_recorded_and_used_again_at_load(tmp_path, tiny_bert, capsys):
    train_file = _write_corpus(tmp_path / "train.conll", 12, 1)
    dev_file = _write_corpus(tmp_path / "dev.conll", 4, 2)
    options = _options(
        max_epochs=1,
        transformer=str(tiny_bert),
        transformer_layers=2,
        transformer_context=True,
        transformer_window=16,
        feature_cache=str(tmp_path / "cache"),
    )
    train(train_file, tmp_path / "model", dev_path=dev_file, options=options)
    meta = json.loads((tmp_path / "model" / "model.json").read_text(encoding="utf-8"))
    assert (meta["spec"]["transformer_window"], meta["training"]["transformer_window"]) == (16, 16)
    pipeline = load(tmp_path / "model", threads=1)
    assert pipeline.transformer is not None and pipeline.transformer.window == 16
    assert pipeline.evaluate(dev_file).f1 == pytest.approx(meta["dev"]["f1"])
    assert main(["spec", str(tmp_path / "model")]) == 0
    shown = capsys.readouterr().out
    assert "windows of 16, read in document context" in shown
    assert "--transformer-window 16" in shown


def test_a_continued_model_keeps_its_transformer_window(transformer_run):
    _, folder, options, _ = transformer_run
    start = load_model(folder / "model")
    kept = continued_options(replace(options, init=str(folder / "model")), start, folder / "model")
    assert kept.transformer_window == 62
    with pytest.raises(NerkitError, match="--transformer-window 16 differs from the model's 62"):
        continued_options(replace(options, transformer_window=16), start, folder / "model")


def test_transformer_window_needs_a_transformer_and_a_sane_size():
    with pytest.raises(NerkitError, match="--transformer-window needs --transformer FOLDER"):
        TrainOptions(transformer_window=128)
    with pytest.raises(NerkitError, match="--transformer-window"):
        TrainOptions(transformer="bert", transformer_window=7)


def test_transformer_model_with_damaged_transformer(transformer_run, tmp_path):
    _, folder, _, _ = transformer_run
    copy = tmp_path / "model"
    shutil.copytree(folder / "model", copy)
    weights = copy / "transformer" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(NerkitError, match="does not match the checksum"):
        load_model(copy)
    shutil.rmtree(copy / "transformer")
    with pytest.raises(NerkitError, match=r"transformer/model\.safetensors is missing"):
        load_model(copy)


def test_missing_transformer_folder_is_one_clear_error(tmp_path, tiny):
    train_file, dev_file = tiny
    options = _options(transformer=str(tmp_path / "nowhere"))
    with pytest.raises(NerkitError, match="no such transformer folder"):
        train(train_file, tmp_path / "m", dev_path=dev_file, options=options)
    assert not (tmp_path / "m").exists()
