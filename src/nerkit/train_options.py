"""Training options and epoch records: plain data, importable without loading torch."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

LEARNING_RATE_WITH_VECTORS = 0.002  # measured on CoNLL-2003 dev with the shared vectors
LEARNING_RATE_WITHOUT_VECTORS = 0.004  # measured on WNUT-16 tweets with no vectors (a learned word table)
LEARNING_RATE_FINE_TUNE = 1e-4  # the transformer's peak rate when fine-tuning (its head: 1e-3)
MAX_EPOCHS = 30
MAX_EPOCHS_FINE_TUNE = 8
PRECISIONS = ("auto", "float32", "bfloat16")  # of frozen features; "auto": bfloat16 where the CPU has it
DROPOUT = 0.5
DROPOUT_FINE_TUNE = 0.1


@dataclass
class TrainOptions:
    """Every training option (the seed's NerDLApproach settings, under clear names)."""

    max_epochs: int = 0  # 0: MAX_EPOCHS, or MAX_EPOCHS_FINE_TUNE when fine-tuning
    min_epochs: int = 5
    learning_rate: float = 0.0  # 0: LEARNING_RATE_WITH_VECTORS, or _WITHOUT_VECTORS when there are none
    po: float = 0.05  # learning-rate decay: lr / (1 + po * epoch)
    batch_size: int = 32
    dropout: float = -1.0  # <0: DROPOUT, or DROPOUT_FINE_TUNE when fine-tuning
    word_dropout: float = 0.05
    validation_split: float = 0.1  # share of train held out as dev when no dev file is given
    seed: int = 42
    patience: int = 10  # epochs without a better dev F1 before stopping
    clip: float = 5.0
    hidden: int = 200
    char_filters: int = 50
    casing_dim: int = 8
    tag_column: int = -1
    extended_log: bool = False
    max_vectors: int = 50_000  # the file's first (most frequent) words kept beyond the data's own
    word_dim: int = 100  # size of the learned word table when no vectors are given
    locked_dropout: bool = False  # one dropout mask per sentence, the same at every position
    average_epochs: int = 3  # >1: evaluate and keep the mean of the last this-many epochs' weights
    context_tokens: int = 512  # >0: sentences of a document are read together, up to this many tokens
    threads: int = 0  # 0: every core
    transformer: str = ""  # a local transformer folder whose (frozen) features the tagger also reads
    transformer_layers: int = 4  # its last layers, mixed by learned weights
    transformer_pooling: str = "mean"  # a token's feature: the "mean" of its sub-words', or the "first"'s
    # the transformer reads each sentence with the rest of its document; None: only when fine-tuning
    # (frozen features did as well without it on dev, and each sentence alone is faster)
    transformer_context: bool | None = None
    fine_tune: bool = False  # train the transformer itself, with a head on top (needs `transformer`)
    head: str = "crf"  # the fine-tuned tagger's head: "crf" or "linear"
    feature_cache: str = ""  # where transformer features are cached ("": $XDG_CACHE_HOME/nerkit/features)
    transformer_precision: str = "auto"  # frozen features in "float32", "bfloat16", or "auto" (by CPU)

    def resolved(self, has_vectors: bool) -> TrainOptions:
        """These options with the learning rate, epochs, dropout and document context chosen where left
        automatic."""
        rate = self.learning_rate
        if not rate:
            rate = LEARNING_RATE_WITH_VECTORS if has_vectors else LEARNING_RATE_WITHOUT_VECTORS
            rate = LEARNING_RATE_FINE_TUNE if self.fine_tune else rate
        epochs = self.max_epochs or (MAX_EPOCHS_FINE_TUNE if self.fine_tune else MAX_EPOCHS)
        dropout = self.dropout if self.dropout >= 0 else (DROPOUT_FINE_TUNE if self.fine_tune else DROPOUT)
        context = self.fine_tune if self.transformer_context is None else self.transformer_context
        chosen = (rate, epochs, dropout, context)
        if chosen == (self.learning_rate, self.max_epochs, self.dropout, self.transformer_context):
            return self
        return replace(
            self, learning_rate=rate, max_epochs=epochs, dropout=dropout, transformer_context=context
        )

    @classmethod
    def from_json(cls, data: dict[str, object]) -> TrainOptions:
        """Options from a dict, ignoring keys this version does not know."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})  # type: ignore[arg-type]


@dataclass
class EpochLog:
    """One epoch's record: printed as a line, written as a JSON line."""

    epoch: int
    loss: float
    learning_rate: float
    seconds: float
    tokens_per_second: float
    dev: dict[str, object]
    test: dict[str, object] | None = None
    best: bool = False

    def line(self) -> str:
        """The epoch as one line for people."""
        dev = self.dev
        text = (
            f"epoch {self.epoch:3d}  loss {self.loss:8.4f}  lr {self.learning_rate:.5f}  "
            f"{self.seconds:6.1f}s  {self.tokens_per_second:8,.0f} tok/s  "
            f"dev P {100 * dev['precision']:.2f} R {100 * dev['recall']:.2f} F1 {100 * dev['f1']:.2f}"
        )
        if self.test is not None:
            text += f"  test F1 {100 * self.test['f1']:.2f}"
        return text + ("  *" if self.best else "")

    def table(self) -> str:
        """The extended log: per entity type, precision, recall, F1 and support on dev (and test)."""
        lines = []
        for name, summary in (("dev", self.dev), ("test", self.test)):
            per_label = summary.get("per_label") if summary else None
            if not isinstance(per_label, dict):
                continue
            lines.append(f"  {name:<5}{'type':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
            for label, row in per_label.items():
                lines.append(
                    f"       {label:<16}{100 * row['precision']:>10.2f}{100 * row['recall']:>10.2f}"
                    f"{100 * row['f1']:>10.2f}{row['support']:>10,}"
                )
        return "\n".join(lines)
