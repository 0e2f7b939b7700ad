"""A training-only objective on the BiLSTM's states: the left-to-right LSTM predicts each next word and
the right-to-left one each previous word (Rei, 2017), among the training data's most frequent words."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import torch
from torch import nn

from nerkit.data.batches import Batch

NEIGHBOUR_WORDS = 1000  # predicted by name (2,000 doubled the added time); every other word is one class
BOTTLENECK = 50  # each direction's states go through a tanh layer this wide to the words (as Rei's)
IGNORED = -100  # padding's class


def word_classes(word_rows: Iterable[Iterable[int]], table_size: int, words: int) -> torch.Tensor:
    """Each word-table row's class [table_size]: 0 to `words` - 1 for the most frequent rows of
    `word_rows` (the training data's, padding left out), `words` for every other row, IGNORED for
    padding (row 0). Ties go to the lower row, so the classes are the same on every run."""
    counts = Counter(row for rows in word_rows for row in rows if row != 0)
    ranked = sorted(counts, key=lambda row: (-counts[row], row))[:words]
    classes = torch.full((table_size,), words, dtype=torch.long)
    classes[torch.tensor(ranked, dtype=torch.long)] = torch.arange(len(ranked))
    classes[0] = IGNORED
    return classes


class NeighbourWords(nn.Module):
    """The loss of predicting the next word from the left-to-right states and the previous word from
    the right-to-left ones, summed over a unit's tokens like the CRF's loss, averaged over the batch
    and scaled by `weight`. It is trained beside the tagger and never saved with it."""

    def __init__(self, classes: torch.Tensor, hidden: int, weight: float) -> None:
        super().__init__()
        self.classes: torch.Tensor
        self.register_buffer("classes", classes)
        self.hidden, self.weight = hidden, weight
        count = int(classes.max()) + 1
        self.ahead = _predictor(hidden, count)
        self.behind = _predictor(hidden, count)

    def forward(self, states: torch.Tensor, batch: Batch) -> torch.Tensor:
        """The weighted loss of a batch's BiLSTM states [batch, seq, 2 * hidden]."""
        targets = self.classes[batch.words]  # the words as given, before word dropout
        following = batch.mask[:, 1:]  # a token that has a next one (masks are left-aligned)
        ahead = states[:, :-1, : self.hidden][following]  # [pairs, hidden]: position t predicts t + 1
        behind = states[:, 1:, self.hidden :][following]  # position t + 1 predicts word t
        losses = nn.functional.cross_entropy(
            self.ahead(ahead), targets[:, 1:][following], reduction="sum"
        ) + nn.functional.cross_entropy(self.behind(behind), targets[:, :-1][following], reduction="sum")
        return self.weight * losses / batch.words.size(0)


def _predictor(hidden: int, count: int) -> nn.Sequential:
    """One direction's states to scores of the `count` word classes, through a narrow tanh layer."""
    return nn.Sequential(nn.Linear(hidden, BOTTLENECK), nn.Tanh(), nn.Linear(BOTTLENECK, count))
