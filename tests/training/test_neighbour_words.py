"""Tests for the neighbouring-word objective (--lm-weight): the word classes, the loss against a
brute-force one, its place in the tagger's loss, and training with it (recorded, never saved, resumed
exactly, refused where it cannot work)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from nerkit.cli import main
from nerkit.data.batches import Batch
from nerkit.errors import NerkitError
from nerkit.model.folder import load_model
from nerkit.model.spec import ModelSpec
from nerkit.model.tagger import Tagger
from nerkit.training.neighbour_words import IGNORED, NeighbourWords, word_classes
from nerkit.training.options import LM_WEIGHT, EpochLog, TrainOptions, given_flags
from nerkit.training.train import train

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TRAIN, DEV = SAMPLES / "train.conll", SAMPLES / "dev.conll"


def test_word_classes_rank_by_count_ties_to_the_lower_row_and_ignore_padding():
    rows = [[2, 3, 3, 0], [3, 4, 5, 5], [0]]  # 3 three times, 5 twice, 2 and 4 once
    classes = word_classes(rows, 7, 3)
    assert classes.tolist() == [IGNORED, 3, 2, 0, 3, 1, 3]


def test_word_classes_with_fewer_words_than_classes():
    assert word_classes([[4, 4, 2]], 5, 10).tolist() == [IGNORED, 10, 1, 10, 0]


def _batch(words: list[list[int]]) -> Batch:
    tensor = torch.tensor(words)
    mask = tensor != 0
    return Batch(tensor, torch.zeros(*tensor.shape, 1, dtype=torch.long), mask.long(), mask, None, [0, 1])


def test_the_loss_equals_a_brute_force_sum_over_the_neighbours():
    """Every token with a next one: -log p(next word | its left-to-right state) and -log p(this word |
    the next token's right-to-left state), summed, over the batch's rows, times the weight."""
    torch.manual_seed(0)
    classes = torch.tensor([IGNORED, 2, 0, 1, 2, 2])  # row -> class: rows 2 and 3 by name, the rest "other"
    head = NeighbourWords(classes, hidden=3, weight=0.5)
    batch = _batch([[2, 3, 4, 5], [5, 2, 0, 0]])
    states = torch.randn(2, 4, 6)
    expected = 0.0
    for row, words in enumerate(batch.words.tolist()):
        length = sum(1 for w in words if w)
        for t in range(length - 1):
            ahead = torch.log_softmax(head.ahead(states[row, t, :3]), 0)
            behind = torch.log_softmax(head.behind(states[row, t + 1, 3:]), 0)
            expected -= ahead[classes[words[t + 1]]].item() + behind[classes[words[t]]].item()
    assert head(states, batch).item() == pytest.approx(0.5 * expected / 2, rel=1e-6)


def test_a_one_token_batch_has_no_neighbours_and_no_loss():
    head = NeighbourWords(torch.tensor([IGNORED, 1, 0]), hidden=2, weight=1.0)
    assert head(torch.randn(1, 1, 4), _batch([[2]])).item() == 0.0


def test_the_tagger_adds_the_auxiliary_loss_on_its_own_states():
    spec = ModelSpec(
        labels=["O", "B-PER"],
        scheme="IOB2",
        output_scheme="IOB2",
        words=6,
        pretrained_words=0,
        word_dim=4,
        chars=3,
        hidden=3,
    )
    torch.manual_seed(1)
    tagger = Tagger(spec).eval()  # no dropout: both calls see the same states
    words = [[2, 3, 4], [5, 0, 0]]
    batch = _batch(words)
    batch.tags = torch.tensor([[1, 0, 0], [0, 0, 0]])
    seen: list[torch.Tensor] = []

    def auxiliary(states: torch.Tensor, given: Batch) -> torch.Tensor:
        seen.append(states)
        return states.sum()

    total = tagger.loss(batch, auxiliary=auxiliary)
    assert seen[0].shape == (2, 3, 6)
    assert torch.equal(seen[0], tagger.states(batch))
    assert total.item() == pytest.approx(tagger.loss(batch).item() + seen[0].sum().item(), rel=1e-6)


def test_training_with_it_records_it_saves_the_same_tensors_and_changes_the_weights(
    tiny_options, tmp_path, capsys
):
    with_lm = train(TRAIN, tmp_path / "lm", DEV, options=tiny_options(max_epochs=3, lm_weight=0.5))
    without = train(TRAIN, tmp_path / "plain", DEV, options=tiny_options(max_epochs=3, lm_weight=0.0))
    assert all(math.isfinite(log.loss) for log in with_lm.logs)
    assert [a.loss > b.loss for a, b in zip(with_lm.logs, without.logs, strict=True)] == [True] * 3
    saved = load_file(str(tmp_path / "lm" / "model.safetensors"))
    plain = load_file(str(tmp_path / "plain" / "model.safetensors"))
    assert {k: v.shape for k, v in saved.items()} == {k: v.shape for k, v in plain.items()}
    assert not torch.equal(saved["project.weight"], plain["project.weight"])
    assert load_model(tmp_path / "lm").meta["training"]["lm_weight"] == 0.5
    assert main(["spec", str(tmp_path / "lm")]) == 0
    assert "--lm-weight 0.5" in capsys.readouterr().out


def test_an_interrupted_run_with_it_resumes_exactly(tiny_options, tmp_path):
    options = tiny_options(max_epochs=3, lm_weight=0.5)

    def stop_after_first(log: EpochLog) -> None:
        if log.epoch == 1:
            raise KeyboardInterrupt

    assert train(TRAIN, tmp_path / "split", DEV, options=options, on_epoch=stop_after_first).interrupted
    resumed = train(TRAIN, tmp_path / "split", DEV, options=options, resume=True)
    straight = train(TRAIN, tmp_path / "whole", DEV, options=options)
    assert [log.loss for log in resumed.logs] == [log.loss for log in straight.logs]
    split = (tmp_path / "split" / "model.safetensors").read_bytes()
    assert split == (tmp_path / "whole" / "model.safetensors").read_bytes()


def test_the_weight_left_unset_is_on_for_the_bilstm_and_off_with_a_transformer():
    assert LM_WEIGHT == 0.1
    assert TrainOptions().lm_weight is None
    assert [TrainOptions().resolved(vectors).lm_weight for vectors in (True, False)] == [0.1, 0.1]
    assert TrainOptions(transformer="t").resolved(True).lm_weight == 0.0
    assert TrainOptions(transformer="t", fine_tune=True).resolved(True).lm_weight == 0.0
    assert TrainOptions(lm_weight=0.0).resolved(True).lm_weight == 0.0
    assert TrainOptions(lm_weight=0.3).resolved(False).lm_weight == 0.3


@pytest.mark.parametrize(
    ("saved", "shown"),
    [
        ({"lm_weight": 0.1}, []),
        ({"lm_weight": 0.0}, ["--lm-weight 0.0"]),
        ({"lm_weight": 0.2}, ["--lm-weight 0.2"]),
        ({"lm_weight": 0.0, "transformer": "t"}, ["--transformer t"]),
        ({"lm_weight": 0.0, "transformer": "t", "fine_tune": True}, ["--transformer t", "--fine-tune"]),
        ({}, []),  # a model from before the option
        ({"lm_weight": None}, []),  # options not yet resolved
    ],
)
def test_nerkit_spec_names_the_weight_only_where_it_is_not_the_usual_one(saved, shown):
    assert given_flags(saved) == shown


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lm_weight": -0.1}, "--lm-weight"),
        (
            {"lm_weight": 0.1, "transformer": "some/folder"},
            "--lm-weight trains a BiLSTM-CNN-CRF without a transformer",
        ),
        (
            {"lm_weight": 0.1, "transformer": "t", "fine_tune": True},
            "--lm-weight trains a BiLSTM-CNN-CRF without a transformer",
        ),
    ],
)
def test_bad_lm_weights_are_one_error_naming_the_flag(changes, message):
    with pytest.raises(NerkitError, match=message):
        TrainOptions(**changes)  # type: ignore[arg-type]
