"""A sentence as the report sees it: its text, the gold entities, and the model's with confidences."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Mention:
    """An entity in a sentence: characters [start, end) of the sentence's text, its type, and the model's
    confidence in it (None for a gold entity)."""

    start: int
    end: int
    label: str
    confidence: float | None = None

    def overlaps(self, other: Mention) -> bool:
        """Whether the two share at least one character."""
        return self.start < other.end and other.start < self.end

    def to_json(self, text: str) -> dict[str, object]:
        """start, end, label, text (and confidence when the model's)."""
        found: dict[str, object] = {
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "text": text[self.start : self.end],
        }
        if self.confidence is not None:
            found["confidence"] = self.confidence
        return found


@dataclass(slots=True)
class ReportSentence:
    """One sentence of the evaluated file: its text, gold entities and predicted entities (both sorted by
    start, neither overlapping another of its own kind), the model's tokens as character spans of the text,
    and each token's confidence (the marginal probability of its predicted tag, O included). `place` says
    where the sentence is (`file:line` or `document N, sentence M`)."""

    text: str
    gold: list[Mention]
    predicted: list[Mention]
    tokens: list[tuple[int, int]] = field(default_factory=list)
    token_confidences: list[float] = field(default_factory=list)
    place: str = ""

    def outside_confidence(self, start: int, end: int) -> float | None:
        """How sure the model is that characters [start, end) hold no entity: the lowest confidence of
        the tokens there that it tagged O, to 4 places as an entity's; None when it tagged any of them
        as part of an entity, or there are no tokens there."""
        inside = [
            index
            for index, (token_start, token_end) in enumerate(self.tokens)
            if token_start < end and start < token_end
        ]
        if not inside or any(mention.start < end and start < mention.end for mention in self.predicted):
            return None
        return round(min(self.token_confidences[index] for index in inside), 4)
