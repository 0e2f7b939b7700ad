"""The sized architecture of a tagger, derived from the data and the embeddings, as plain JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from nerkit.data.vocab import CASINGS
from nerkit.errors import NerkitError


@dataclass
class ModelSpec:
    """Every size and switch of a BiLSTM-CNN-CRF tagger; saved with the model and shown by `nerkit spec`."""

    labels: list[str]  # the model's tags, in its scheme
    scheme: str  # the scheme the model tags in (BIOES)
    output_scheme: str  # the scheme of the training data, used for output
    words: int  # rows of the word table
    pretrained_words: int  # of which initialised from pretrained vectors
    word_dim: int
    chars: int
    char_dim: int = 30
    char_filters: int = 50
    char_kernel: int = 3
    casing_dim: int = 8
    hidden: int = 200  # LSTM units per direction
    layers: int = 1  # BiLSTM layers; 0 for a fine-tuned transformer's head
    head: str = "crf"  # "crf": learned transitions; "linear": per-token scores, decoded under the BIOES rules
    dropout: float = 0.5
    word_dropout: float = 0.05  # share of training tokens replaced by the unknown word
    locked_dropout: bool = False  # one dropout mask per sentence, the same at every position
    context_tokens: int = 0  # >0: sentences of a document are read together, up to this many tokens
    transformer_dim: int = 0  # >0: contextual features from the model folder's transformer/, this wide
    transformer_layers: int = 0  # its last layers, mixed by learned weights
    transformer_pooling: str = "first"  # a token's feature: its first sub-word's, or the mean of all
    transformer_window: int = 0  # sub-words per transformer window (longer input: overlapping windows)
    transformer_context: bool = True  # the transformer reads each sentence with its document's others

    @property
    def casings(self) -> int:
        """Rows of the casing table."""
        return len(CASINGS)

    def to_json(self) -> dict[str, object]:
        """The spec as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ModelSpec:
        """Rebuild a spec; unknown or missing keys are an error naming them."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise NerkitError(
                f"the model spec has unknown keys {unknown}", hint="was it written by a newer nerkit?"
            )
        values: dict[str, Any] = data  # read from JSON: the fields' types are not checked here
        try:
            return cls(**values)
        except TypeError as error:
            raise NerkitError(f"the model spec is incomplete: {error}") from None

    def describe(self, parameters: int | None = None) -> str:
        """A few lines for people: layer by layer, with sizes."""
        char_out = self.char_filters
        token = self.word_dim + char_out + self.casing_dim + self.transformer_dim
        entity_types = sorted({label.partition("-")[2] for label in self.labels if label != "O"})
        lines = [
            f"{'BiLSTM-CNN-CRF' if self.layers else 'fine-tuned transformer'} tagger, {len(self.labels)} tags in {self.scheme} "
            f"(output in {self.output_scheme}), types: {', '.join(entity_types) or 'none'}",
            f"  word table      {self.words:,} x {self.word_dim} ({self.pretrained_words:,} from pretrained vectors)"
            if self.word_dim
            else "  word table      none",
            f"  characters      {self.chars:,} x {self.char_dim} -> CNN, {self.char_filters} filters of width "
            f"{self.char_kernel}, max-pooled",
            f"  casing          {self.casings} classes x {self.casing_dim}",
            *(
                [
                    f"  transformer     {self.transformer_dim} wide, learned mix of its last {self.transformer_layers} "
                    f"layers, {self.transformer_pooling} sub-word per token, windows of {self.transformer_window}"
                    + (", read in document context" if self.transformer_context else "")
                ]
                if self.transformer_dim
                else []
            ),
            f"  token vector    {token} = {self.word_dim} + {char_out} + {self.casing_dim}"
            + (f" + {self.transformer_dim}" if self.transformer_dim else "")
            + f", dropout {self.dropout}{' (locked)' if self.locked_dropout else ''}, "
            f"word dropout {self.word_dropout}",
            f"  BiLSTM          {self.layers} layer(s) x {self.hidden} units per direction"
            + (
                f", reading sentences in document context of up to {self.context_tokens} tokens"
                if self.context_tokens
                else ""
            )
            if self.layers
            else "  BiLSTM          none: the fine-tuned transformer's token vectors are projected to tag scores",
            f"  CRF             {len(self.labels)} x {len(self.labels)} transitions, {self.scheme} constraints"
            if self.head == "crf"
            else f"  linear head     per-token tag scores, decoded under the {self.scheme} constraints",
        ]
        if parameters is not None:
            counted = (
                " (the tagger's own; the transformer's weights come on top)" if self.transformer_dim else ""
            )
            lines.append(f"  parameters      {parameters:,}{counted}")
        return "\n".join(lines)
