"""Benchmark: what computing the CRF's training loss in float64 costs and saves: the loss's forward and
backward on a training batch's shape in float32 and float64 (one thread, alternating, median of
`--repeats`), and how far the float32 loss lies from the float64 one as the scores grow, as JSON.

    python bench/crf_precision.py --output bench/results/crf_precision.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from machine import cpu

from nerkit.model.crf import CRF


def loss_seconds(
    crf: CRF, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor, precision: str
) -> float:
    """Seconds for one forward and backward of the batch's summed negative log-likelihood, computed in
    float64 (what training does) or in the emissions' float32 (what it did before)."""
    scores = emissions.clone().requires_grad_(True)
    started = time.perf_counter()
    if precision == "float64":
        likelihood = crf.log_likelihood(scores, tags, mask)
    else:
        likelihood = crf._log_likelihood(scores, tags, mask, None, None)
    (-likelihood).sum().backward()
    return time.perf_counter() - started


def float32_error(crf: CRF, scale: float, length: int) -> dict[str, float]:
    """log Z and the largest gap between the float32 and float64 loss of two documents of `length`
    tokens whose emission scores are `scale` times a standard normal draw, tagged with their best tags."""
    torch.manual_seed(17)
    emissions = torch.randn(2, length, crf.num_tags) * scale
    mask = torch.ones(2, length, dtype=torch.bool)
    tags = emissions.argmax(2)
    single = crf._log_likelihood(emissions, tags, mask, None, None)
    double = crf.log_likelihood(emissions.double(), tags, mask)
    return {
        "scale": scale,
        "log_z": round(float(crf.log_partition(emissions.double(), mask)[0].detach()), 1),
        "float32_loss_error": round(float((single.double() - double).abs().max()), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32, help="units per batch (default 32)")
    parser.add_argument("--length", type=int, default=200, help="tokens per unit (default 200)")
    parser.add_argument("--tags", type=int, default=17, help="tags (default 17: CoNLL-2003 in BIOES)")
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--output", type=Path, default=Path("bench/results/crf_precision.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(13)
    crf = CRF(args.tags)
    with torch.no_grad():
        crf.transitions.normal_(0, 3)
    emissions = torch.randn(args.batch, args.length, args.tags) * 30
    tags = torch.randint(0, args.tags, (args.batch, args.length))
    mask = torch.ones(args.batch, args.length, dtype=torch.bool)
    timed: dict[str, list[float]] = {"float32": [], "float64": []}
    for _ in range(args.repeats):
        for precision, seconds in timed.items():
            seconds.append(loss_seconds(crf, emissions, tags, mask, precision))
    medians = {kind: round(statistics.median(values), 4) for kind, values in timed.items()}
    result = {
        "benchmark": "the CRF's training loss in float32 and float64",
        "cpu": cpu(),
        "batch": {"units": args.batch, "tokens_per_unit": args.length, "tags": args.tags},
        "median_seconds": medians,
        "ratio_float64_to_float32": round(medians["float64"] / medians["float32"], 3),
        "float32_error_500_tokens": [float32_error(crf, scale, 500) for scale in (3, 30, 100, 300)],
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
