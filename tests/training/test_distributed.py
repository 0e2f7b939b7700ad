"""Tests for nerkit.training.distributed: two gloo processes' summed gradients equal one process's on the whole batch."""

from __future__ import annotations

import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from nerkit.data.batches import collate, encode_sentence
from nerkit.data.vocab import build_vocab
from nerkit.model.spec import ModelSpec
from nerkit.model.tagger import Tagger
from nerkit.training.distributed import broadcast_flag, shard, sum_gradients, sum_scalar, world

SENTENCES = [
    (("Peter", "visited", "Paris", "."), ("B-PER", "O", "B-LOC", "O")),
    (("The", "cat", "sat"), ("O", "O", "O")),
    (("Anna", "Berg", "left", "Rome"), ("B-PER", "I-PER", "O", "B-LOC")),
    (("Oslo",), ("B-LOC",)),
    (("Tom", "met", "Eva"), ("B-PER", "O", "B-PER")),
]


def tiny_tagger() -> tuple[Tagger, list]:
    torch.manual_seed(3)
    vocab = build_vocab([s for s, _ in SENTENCES], {"O", "B-PER", "I-PER", "B-LOC"}, ())
    spec = ModelSpec(
        labels=vocab.labels,
        scheme="IOB2",
        output_scheme="IOB2",
        words=len(vocab.words),
        pretrained_words=0,
        chars=len(vocab.chars),
        word_dim=6,
        char_filters=4,
        casing_dim=2,
        hidden=5,
        dropout=0.0,
        word_dropout=0.0,
    )
    encoded = [encode_sentence(tokens, vocab, tags) for tokens, tags in SENTENCES]
    return Tagger(spec), encoded


def gradients(model: Tagger) -> dict[str, torch.Tensor]:
    return {
        name: (p.grad.to_dense() if p.grad.is_sparse else p.grad).clone()
        for name, p in model.named_parameters()
        if p.grad is not None
    }


def _process(rank: int, port: int, queue: mp.Queue) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    torch.set_num_threads(1)
    model, encoded = tiny_tagger()
    rows = list(range(len(encoded)))
    local = shard(rows, rank, 2)
    loss = model.loss(collate([encoded[i] for i in local], local))
    (loss * (len(local) / len(rows))).backward()
    dense = [p for name, p in model.named_parameters() if name != "word_embedding.weight"]
    sum_gradients(dense, model.word_embedding.weight)
    total = sum_scalar(loss.item() * len(local) / len(rows))
    flag = broadcast_flag(rank == 0)
    if rank == 0:  # numpy arrays travel by value: a tensor's shared memory dies with this process
        queue.put(({k: v.numpy() for k, v in gradients(model).items()}, total, flag, world()))
    dist.destroy_process_group()


def test_shard():
    assert shard([5, 6, 7, 8, 9], 0, 2) == [5, 7, 9]
    assert shard([5, 6, 7, 8, 9], 1, 2) == [6, 8]
    assert shard([5], 1, 2) == []
    assert world() == (0, 1)


def test_two_processes_sum_to_the_whole_batch_gradient():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = mp.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_process, args=(rank, port, queue)) for rank in range(2)]
    for process in processes:
        process.start()
    found, total, flag, place = queue.get(timeout=120)
    for process in processes:
        process.join(timeout=60)
    model, encoded = tiny_tagger()
    rows = list(range(len(encoded)))
    loss = model.loss(collate(encoded, rows))
    loss.backward()
    expected = gradients(model)
    assert set(found) == set(expected)
    for name in expected:
        torch.testing.assert_close(torch.from_numpy(found[name]), expected[name], atol=1e-6, rtol=1e-5)
    assert total == pytest.approx(loss.item(), rel=1e-6)
    assert flag is True and place == (0, 2)
