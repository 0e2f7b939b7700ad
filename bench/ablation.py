"""Ablation loop: nerkit's training with given options, logging each epoch's dev F1 of the raw weights and
of the mean of the last `--average` epochs' weights, as JSON lines (one run measures both).

    python bench/ablation.py ../shared/data --epochs 22 --average 3 --threads 1 \\
        --options '{"seed": 42, "context_tokens": 512}' > ctx512.jsonl

The same data, model and optimiser as `nerkit train` (train.prepare, Tagger, SparseAdam + Adam, the `po`
decay, clipping), without early stopping or saving, so option variants compare epoch by epoch.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import time
from pathlib import Path

import torch

from nerkit.data.batches import encode_sentence, length_batches
from nerkit.model.tagger import Tagger
from nerkit.training.corpus import encode_training
from nerkit.training.options import TrainOptions
from nerkit.training.prepare import init_word_vectors, prepare
from nerkit.training.scores import score_encoded
from nerkit.training.tagger_steps import average_weights, lr_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (holds conll2003/ and embeddings/)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=22)
    parser.add_argument("--average", type=int, default=3)
    parser.add_argument("--options", default="{}", help="TrainOptions fields as JSON")
    args = parser.parse_args()
    options = TrainOptions(**json.loads(args.options))
    torch.set_num_threads(args.threads)
    random.seed(options.seed)
    torch.manual_seed(options.seed)
    rng = random.Random(options.seed)
    data = prepare(
        args.data / "conll2003" / "train.txt",
        args.data / "conll2003" / "valid.txt",
        None,
        args.data / "embeddings" / "en_vectors_300d.conll2003.txt.gz",
        options,
    )
    options = options.resolved(has_vectors=data.vectors is not None)
    model = Tagger(data.spec)
    if data.vectors is not None:
        init_word_vectors(model, data.vocab, data.vectors)
    dense = [p for n, p in model.named_parameters() if n != "word_embedding.weight"]
    optimizers = [
        torch.optim.SparseAdam([model.word_embedding.weight], lr=options.learning_rate),
        torch.optim.Adam(dense, lr=options.learning_rate),
    ]
    encoded = encode_training(data.train, data.vocab, options.context_tokens)
    dev = [encode_sentence(t, data.vocab) for t in data.dev.tokens]

    def dev_f1(tagger: Tagger) -> float:
        return 100 * score_encoded(tagger, dev, data.dev, data.vocab.labels).f1

    snapshots: list[dict[str, torch.Tensor]] = []
    averaged = copy.deepcopy(model)
    started = time.time()
    for epoch in range(1, args.epochs + 1):
        for optimizer in optimizers:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(options, epoch)
        model.train()
        epoch_started = time.time()
        for batch in length_batches(encoded, options.batch_size, rng):
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=True)
            model.loss(batch).backward()
            torch.nn.utils.clip_grad_norm_(dense, options.clip)
            for optimizer in optimizers:
                optimizer.step()
        seconds = time.time() - epoch_started
        raw = dev_f1(model)
        snapshots = [*snapshots, {k: v.detach().clone() for k, v in model.state_dict().items()}][
            -args.average :
        ]
        averaged.load_state_dict(average_weights(snapshots))
        record = {
            "epoch": epoch,
            "secs": round(seconds, 1),
            "raw": round(raw, 2),
            f"avg{args.average}": round(dev_f1(averaged), 2),
            "total_min": round((time.time() - started) / 60, 1),
        }
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
