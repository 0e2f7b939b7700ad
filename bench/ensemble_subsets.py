"""Benchmark: how much an ensemble's dev F1 depends on which models it joins: every subset of one size of
several models (which `nerkit ensemble` would take together) scored on a CoNLL file, with the median.

    python bench/ensemble_subsets.py ../shared/data/conll2003/valid.txt A=MODEL B=MODEL ... --size 3 \\
        --output bench/results/NAME.json

Each subset is tagged as `nerkit ensemble` would tag it (`EnsembleTagger`, with each sentence's
document). Models with transformer features must read it alike; its features are computed once, with the
first model's transformer, and serve every subset.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from machine import cpu

from nerkit.embeddings.subwords import FeatureReader
from nerkit.model.ensemble import EnsembleTagger, check_members
from nerkit.model.folder import load_model
from nerkit.pipeline import Pipeline


class FeaturesOnce:
    """A transformer whose features for the documents of the first call serve every later call alike."""

    def __init__(self, transformer: FeatureReader) -> None:
        self.transformer = transformer
        self.computed: list[np.ndarray] | None = None

    def features(
        self, documents: Sequence[Sequence[Sequence[str]]], layers: int, pooling: str
    ) -> list[np.ndarray]:
        """The first call's features (every call here tags the same file the same way)."""
        if self.computed is None:
            self.computed = self.transformer.features(documents, layers, pooling)
        return self.computed


def main() -> None:
    """Score every subset and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="an annotated CoNLL file (dev)")
    parser.add_argument("models", nargs="+", help="NAME=FOLDER, models an ensemble may join")
    parser.add_argument("--size", type=int, default=3, help="models per ensemble")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    folders = {name: Path(folder) for name, folder in (item.split("=", 1) for item in args.models)}
    check_members(list(folders.values()))
    loaded = {  # the transformer once, the first model's
        name: load_model(folder, with_transformer=index == 0)
        for index, (name, folder) in enumerate(folders.items())
    }
    first = next(iter(loaded.values()))
    reader = None if first.transformer is None else FeaturesOnce(first.transformer)

    def f1(names: Sequence[str]) -> float:
        members = [loaded[name] for name in names]
        model = members[0].model if len(members) == 1 else EnsembleTagger([m.model for m in members])
        return round(100 * Pipeline(model, first.vocab, first.meta, reader).evaluate(args.file).f1, 2)

    singles = {name: f1([name]) for name in folders}
    subsets = {" + ".join(names): f1(names) for names in itertools.combinations(folders, args.size)}
    result = {
        "benchmark": f"ensembles of {args.size} of {len(folders)} models",
        "cpu": cpu(),
        "file": str(args.file),
        "models": {name: str(folder) for name, folder in folders.items()},
        "single_f1": singles,
        "subset_f1": subsets,
        "median": statistics.median(subsets.values()),
        "lowest": min(subsets.values()),
        "highest": max(subsets.values()),
    }
    args.output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({key: result[key] for key in ("single_f1", "median", "lowest", "highest")}))


if __name__ == "__main__":
    main()
