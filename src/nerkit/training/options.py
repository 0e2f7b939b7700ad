"""Training options: every field's default, range and help in one place, checked when made; plain data,
importable without torch."""

from __future__ import annotations

import math
from dataclasses import MISSING, Field, asdict, dataclass, field, fields, replace
from typing import Any, TypeVar

from nerkit.embeddings import PRECISIONS
from nerkit.errors import NerkitError
from nerkit.ranges import LARGEST_LAYER, MODEL_SETTINGS, Option

LEARNING_RATE_WITH_VECTORS = 0.002  # measured on CoNLL-2003 dev with the shared vectors
LEARNING_RATE_WITHOUT_VECTORS = 0.004  # measured on WNUT-16 tweets with no vectors (a learned word table)
LEARNING_RATE_FINE_TUNE = 1e-4  # the transformer's peak rate when fine-tuning (its head: 1e-3)
MAX_EPOCHS = 30
MAX_EPOCHS_FINE_TUNE = 8
MAX_EPOCHS_CONTINUE = 10  # with --init: measured on CoNLL-2003 dev by bench/continue.py (see the README)
DISTILL_WEIGHT = 0.5  # with --teacher: half the loss from the gold tags, half from the teacher
DROPOUT = 0.5
LM_WEIGHT = 0.1  # measured on CoNLL-2003 dev with the shared vectors (see the README)
DROPOUT_FINE_TUNE = 0.1
LR_SCHEDULES = ("po", "cosine")
SEEDS = 2**32  # numpy's generator takes seeds below this
Chosen = TypeVar("Chosen")
LATER = (
    "init",
    "annotated_types",
    "init_prior",
    "rehearse",
    "rehearse_share",
    "teacher",
    "unlabeled",
    "distill_weight",
    "distill_temperature",
    "gazetteer",
    "word_lr_scale",
    "lr_schedule",
    "lm_weight",
)  # options an older checkpoint lacks


def option(default: Any, help: str, **settings: Any) -> Any:
    """A TrainOptions field: `default` plus an Option (see its fields) in the field's metadata."""
    return field(default=default, metadata={"option": Option(help, **settings)})


def model_option(name: str, default: Any, help: str, **settings: Any) -> Any:
    """A TrainOptions field that sets a model's `name` setting: its range is the one a model folder's
    spec is checked against (`MODEL_SETTINGS`), so what training makes, loading takes."""
    shared = MODEL_SETTINGS[name]
    ranged = {"low": shared.low, "high": shared.high, "above": shared.above, "choices": shared.choices}
    return option(default, help, **ranged, **settings)


def flag(name: str) -> str:
    """The command-line flag of an option: max_epochs -> --max-epochs."""
    return "--" + name.replace("_", "-")


@dataclass(frozen=True)
class TrainOptions:
    """Every training option (the seed's NerDLApproach settings, under clear names). None means chosen
    from the data (see `resolved`); every value is checked against its range when the options are made,
    and a bad one is a NerkitError naming its flag."""

    max_epochs: int | None = option(
        None,
        f"most epochs (default {MAX_EPOCHS}, {MAX_EPOCHS_CONTINUE} with --init, {MAX_EPOCHS_FINE_TUNE} with "
        "--fine-tune)",
        low=1,
    )
    min_epochs: int = option(5, "epochs before early stopping may stop (default {default})", low=0)
    learning_rate: float | None = option(
        None,
        f"initial learning rate (default {LEARNING_RATE_WITH_VECTORS} with --embeddings, "
        f"{LEARNING_RATE_WITHOUT_VECTORS} without, {LEARNING_RATE_FINE_TUNE} for the transformer with "
        "--fine-tune)",
        low=0,
        high=10,
        above=True,
        aliases=("--lr",),
    )
    po: float = option(
        0.05, "learning-rate decay: lr / (1 + po * epoch) (default {default})", low=0, high=100
    )
    lr_schedule: str = option(
        "po",
        "how the learning rate falls over the epochs: po (lr / (1 + po * epoch)) or cosine (from lr to "
        "nearly 0 at --max-epochs, half a cosine wave; --po is then unused); default {default}",
        choices=LR_SCHEDULES,
    )
    word_lr_scale: float = option(
        1.0,
        "the word table's learning rate as a share of the learning rate (0: the vectors stay as loaded; "
        "default {default})",
        low=0,
        high=10,
    )
    lm_weight: float | None = option(
        None,
        "the weight of a training-only objective: the BiLSTM's left-to-right states predict each next "
        "word and its right-to-left states each previous one, among the training data's most frequent "
        f"words (Rei, 2017); tagging costs the same (0: off; default {LM_WEIGHT}, 0 with --transformer, "
        "whose features see the words)",
        low=0,
        high=100,
    )
    batch_size: int = option(32, "sentences per batch (default {default})", low=1, high=100_000)
    dropout: float | None = model_option(
        "dropout",
        None,
        f"dropout on token vectors and LSTM output (default {DROPOUT}, {DROPOUT_FINE_TUNE} with --fine-tune)",
    )
    word_dropout: float = model_option(
        "word_dropout", 0.05, "share of words replaced by unknown (default {default})"
    )
    validation_split: float = option(
        0.1, "share of train held out as dev without --dev (default {default})", low=0.001, high=0.999
    )
    seed: int = option(42, "random seed (default {default})", low=0, high=SEEDS - 1)
    patience: int = option(10, "epochs without a better dev F1 before stopping (default {default})", low=1)
    clip: float = option(5.0, "largest gradient norm (default {default})", low=0, high=1e6, above=True)
    hidden: int = model_option("hidden", 200, "LSTM units per direction (default {default})")
    char_filters: int = model_option(
        "char_filters", 50, "character CNN filters (0: no CNN; default {default})"
    )
    char_lstm: int = model_option(
        "char_lstm",
        0,
        "units per direction of a character BiLSTM beside the CNN (0: none; default {default})",
    )
    casing_dim: int = model_option("casing_dim", 8, "size of the casing feature (default {default})")
    tag_column: int = option(
        -1,
        "index of the tag column (0 is the token; negative counts from the end; default -1)",
        low=-1000,
        high=1000,
        group="data",
    )
    extended_log: bool = option(False, "print per-type scores every epoch", group="run")
    max_vectors: int = option(
        50_000, "vectors kept beyond the data's words (default {default})", low=0, high=10_000_000
    )
    word_dim: int = option(
        100,
        "size of the learned word table without --embeddings (default {default})",
        low=1,
        high=LARGEST_LAYER,
    )
    locked_dropout: bool = model_option(
        "locked_dropout", False, "one dropout mask per sentence, the same at every position"
    )
    average_epochs: int = option(
        6,
        "evaluate and keep the mean of the last N epochs' weights (1: off; default {default})",
        low=1,
        high=100,
    )
    context_tokens: int = model_option(
        "context_tokens",
        512,
        "read neighbouring sentences of a -DOCSTART- document together, up to this many tokens "
        "(0: each sentence alone; default {default})",
    )
    threads: int | None = option(
        None, "CPU threads (default: the usable cores but one)", low=1, high=1024, group="run"
    )
    transformer: str | None = option(
        None,
        "a local BERT-family folder (config.json, model.safetensors, tokenizer.json) whose contextual "
        "features the tagger also reads; it is copied into the model folder",
        metavar="FOLDER",
    )
    transformer_layers: int = model_option(
        "transformer_layers", 4, "the transformer's last layers mixed by learned weights (default {default})"
    )
    transformer_pooling: str = model_option(
        "transformer_pooling",
        "mean",
        "a token's feature from its first sub-word or the mean of all (default {default})",
    )
    transformer_context: bool | None = model_option(
        "transformer_context",
        None,
        "the transformer reads each sentence with the rest of its -DOCSTART- document (default: on with "
        "--fine-tune, off for frozen features, which did as well without it)",
    )
    transformer_window: int | None = option(
        None,
        "sub-words the --transformer reads at once, at most its positions; longer text, such as a "
        "document read in context, is read in overlapping windows (default: all its positions)",
        low=8,
        high=100_000,
    )
    fine_tune: bool = option(
        False, "train the --transformer itself with a tagging head (warm-up and linear decay, clipping)"
    )
    head: str = model_option("head", "crf", "the fine-tuned tagger's head (default {default})")
    feature_cache: str | None = option(
        None,
        "where transformer features are cached between runs (default $XDG_CACHE_HOME/nerkit/features)",
        metavar="FOLDER",
    )
    transformer_precision: str = option(
        "auto",
        "what frozen transformer features are computed in (default auto: bfloat16 where the CPU "
        "multiplies it natively, twice as fast; else float32)",
        choices=PRECISIONS,
    )

    init: str | None = option(
        None,
        "continue from this trained model folder (its architecture kept; new words and entity types grow "
        "it) instead of a random model",
        metavar="MODEL",
        group="data",
    )
    annotated_types: str | None = option(
        None,
        "the training files annotate only these types (T1,T2): a token tagged O there may be an entity "
        "of another type (per file: --train FILE:T1,T2)",
        metavar="TYPES",
        group="data",
    )
    init_prior: bool | None = option(
        None,
        "with --init, weigh each tagging a partial annotation allows by what the --init model believed of "
        "its tokens, so the types a file leaves unannotated are kept, not forgotten (default: on; "
        "--no-init-prior: every allowed tagging alike)",
        group="data",
    )
    rehearse: str | None = option(
        None,
        "earlier training data (FILE, or FILE:T1,T2) of which a share is mixed into every epoch",
        metavar="FILE",
        group="data",
    )
    rehearse_share: float = option(
        0.3,
        "the share of the --rehearse file drawn afresh into every epoch: of its sentences, or of the "
        "stretches of a document read together (default {default})",
        low=0,
        high=1,
        above=True,
        group="data",
    )

    teacher: str | None = option(
        None,
        "a trained nerkit model whose CRF marginals the model also learns from, beside the gold tags "
        "(distillation: a fast model taught by a transformer one)",
        metavar="MODEL",
        group="data",
    )
    unlabeled: str | None = option(
        None,
        "text without gold tags that the --teacher labels for training: CoNLL tokens (a CoNLL name such "
        "as .conll or .iob, or a file opening with -DOCSTART-) or raw text, one document per line",
        metavar="FILE",
        group="data",
    )
    distill_weight: float = option(
        DISTILL_WEIGHT,
        "with --teacher, the share of the loss that is the teacher's marginals (the gold tags' is the "
        "rest; default {default})",
        low=0,
        high=1,
    )
    distill_temperature: float = option(
        1.0,
        "with --teacher, the temperature both models' CRF scores are divided by (default {default})",
        low=0,
        high=100,
        above=True,
    )
    gazetteer: bool | None = option(
        None,
        "give each token features saying where it begins, continues or ends an entity phrase of the "
        "training data, per type (in training, a phrase only where another document annotates it too; "
        "default: on, but not with --fine-tune; with --init, as the model continued)",
    )

    def __post_init__(self) -> None:
        for spec in fields(self):
            check_option(spec, getattr(self, spec.name))
        if self.teacher is None:
            for name, default in (
                ("unlabeled", None),
                ("distill_weight", DISTILL_WEIGHT),
                ("distill_temperature", 1.0),
            ):
                if getattr(self, name) != default:
                    raise NerkitError(
                        f"{flag(name)} goes with a --teacher model", hint="give --teacher MODEL too"
                    )
        elif self.head != "crf":
            raise NerkitError(
                "--teacher teaches a model's CRF marginals; this model has a linear head",
                hint="leave out --head linear (or --teacher)",
            )
        if self.fine_tune and self.teacher is not None:
            raise NerkitError(
                "--teacher teaches a BiLSTM-CNN-CRF, not a fine-tuned transformer yet",
                hint="leave out --fine-tune (or --teacher)",
            )
        if self.fine_tune and self.init is not None:
            raise NerkitError(
                "--init continues a BiLSTM-CNN-CRF model; a fine-tuned transformer cannot continue yet",
                hint="leave out --init (or --fine-tune)",
            )
        if self.fine_tune and self.rehearse is not None:
            raise NerkitError(
                "--rehearse mixes data into a BiLSTM-CNN-CRF's epochs, not a fine-tuned transformer's yet",
                hint="give the earlier data as another --train file instead",
            )
        if self.gazetteer is True and self.fine_tune:
            raise NerkitError(
                "--gazetteer adds features to a BiLSTM-CNN-CRF, not to a fine-tuned transformer yet",
                hint="leave out --fine-tune (or --gazetteer)",
            )
        if self.fine_tune and self.lr_schedule != "po":
            raise NerkitError(
                "--lr-schedule sets a BiLSTM-CNN-CRF's decay; fine-tuning has its own warm-up and linear decay",
                hint="leave out --lr-schedule (or --fine-tune)",
            )
        if self.lm_weight and (self.fine_tune or self.transformer is not None):
            raise NerkitError(
                "--lm-weight trains a BiLSTM-CNN-CRF without a transformer, whose features already see "
                "the words it would predict",
                hint="leave out --lm-weight (or --transformer)",
            )
        if self.fine_tune and self.transformer is None:
            raise NerkitError(
                "--fine-tune needs --transformer FOLDER", hint="give a local transformer folder"
            )
        if self.transformer_window is not None and self.transformer is None:
            raise NerkitError(
                "--transformer-window needs --transformer FOLDER", hint="give a local transformer folder"
            )

    def resolved(self, has_vectors: bool) -> TrainOptions:
        """These options with the learning rate, epochs, dropout, document context, gazetteer and
        neighbouring-word weight chosen where left to the data (None)."""
        rate = self.learning_rate
        if rate is None:
            rate = LEARNING_RATE_WITH_VECTORS if has_vectors else LEARNING_RATE_WITHOUT_VECTORS
            rate = LEARNING_RATE_FINE_TUNE if self.fine_tune else rate
        epochs = self.max_epochs or (
            MAX_EPOCHS_FINE_TUNE if self.fine_tune else MAX_EPOCHS_CONTINUE if self.init else MAX_EPOCHS
        )
        dropout = self.dropout
        if dropout is None:
            dropout = DROPOUT_FINE_TUNE if self.fine_tune else DROPOUT
        context = self.fine_tune if self.transformer_context is None else self.transformer_context
        gazetteer = not self.fine_tune if self.gazetteer is None else self.gazetteer
        lm_weight = (
            usual_lm_weight(self.transformer, self.fine_tune) if self.lm_weight is None else self.lm_weight
        )
        chosen: dict[str, Any] = {
            "max_epochs": epochs,
            "learning_rate": rate,
            "dropout": dropout,
            "transformer_context": context,
            "gazetteer": gazetteer,
            "lm_weight": lm_weight,
        }
        if all(getattr(self, name) == value for name, value in chosen.items()):
            return self
        return replace(self, **chosen)

    def to_json(self) -> dict[str, object]:
        """The options as a JSON object (model.json's "training")."""
        return asdict(self)

    def changed_from(self, saved: dict[str, Any]) -> list[str]:
        """The flags whose values differ from `saved` (as `to_json` gave them), leaving out those that
        change no result: threads, the extended log and the feature cache's place. An option added
        since checkpoints were first written (`LATER`) that `saved` lacks had its default (a run from
        before gazetteers had none)."""
        same = {"threads", "extended_log", "feature_cache"}
        defaults = {name: default_of(field_named(name)) for name in LATER} | {
            "gazetteer": False,
            "lm_weight": 0.0,
        }
        return [
            flag(k) for k, v in self.to_json().items() if k not in same and saved.get(k, defaults.get(k)) != v
        ]


RESOLVED = (
    "max_epochs",
    "learning_rate",
    "dropout",
    "transformer_context",
    "gazetteer",
    "lm_weight",
)  # chosen from the data
UNSHOWN = ("threads", "extended_log", "feature_cache", "word_dim", *RESOLVED)  # word_dim: the spec says it


def given_flags(saved: dict[str, Any]) -> list[str]:
    """The options a model was trained with (model.json's "training") that differ from the defaults, as
    flags: `--teacher MODEL`, `--distill-weight 0.8`, `--locked-dropout`, `--no-init-prior`... (threads,
    the log and the cache's place left out, and the values resolved from the data: they change with it)."""
    shown = []
    for spec in fields(TrainOptions):
        if spec.name in UNSHOWN or spec.name not in saved:
            continue
        value, default = saved[spec.name], default_of(spec)
        if value == default:
            continue
        if isinstance(value, bool):
            shown.append(flag(spec.name) if value else flag(spec.name).replace("--", "--no-", 1))
        else:
            shown.append(f"{flag(spec.name)} {value}")
    if saved.get("gazetteer") is False and not saved.get("fine_tune"):  # resolved, yet not the default
        shown.append("--no-gazetteer")
    usual = usual_lm_weight(saved.get("transformer"), saved.get("fine_tune"))  # what None resolves to
    if saved.get("lm_weight") not in (None, usual):
        shown.append(f"{flag('lm_weight')} {saved['lm_weight']}")
    return shown


def usual_lm_weight(transformer: object, fine_tune: object) -> float:
    """The neighbouring-word weight a run gets when none is given: LM_WEIGHT for a BiLSTM-CNN-CRF over
    its own features, 0 with a transformer (whose features already see the words)."""
    return 0.0 if fine_tune or transformer is not None else LM_WEIGHT


def chosen(value: Chosen | None) -> Chosen:
    """An option's value once `resolved` has chosen it: never None (a None here is a bug in nerkit)."""
    if value is None:
        raise ValueError("training options used before TrainOptions.resolved chose their values")
    return value


def field_named(name: str) -> Field[Any]:
    """The TrainOptions field of that name."""
    return next(spec for spec in fields(TrainOptions) if spec.name == name)


def option_of(spec: Field[Any]) -> Option:
    """The Option in a TrainOptions field's metadata."""
    found: Option = spec.metadata["option"]
    return found


def default_of(spec: Field[Any]) -> Any:
    """A TrainOptions field's default value."""
    return None if spec.default is MISSING else spec.default


def check_option(spec: Field[Any], value: Any) -> None:
    """Raise a NerkitError naming the flag when `value` is not of the field's type or out of its range."""
    described = option_of(spec)
    kind = kind_of(spec)
    if value is None and default_of(spec) is None:
        return
    if kind is bool:
        if not isinstance(value, bool):
            raise _bad(spec, value, "true or false")
        return
    if kind is str:
        if not isinstance(value, str) or (described.choices and value not in described.choices):
            raise _bad(spec, value, described.allowed() if described.choices else "a path")
        if not value:
            raise _bad(spec, value, f"a path, or leave {flag(spec.name)} out")
        return
    whole = kind is int
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (whole and not isinstance(value, int))
    ):
        raise _bad(spec, value, f"{'a whole number' if whole else 'a number'} {described.allowed()}")
    if not math.isfinite(value) or not described.holds(value):
        raise _bad(spec, value, f"{'a whole number' if whole else 'a number'} {described.allowed()}")


def kind_of(spec: Field[Any]) -> type:
    """The type a field holds besides None: bool, int, float or str (from its annotation)."""
    annotation = str(spec.type).replace(" | None", "")
    kinds: dict[str, type] = {"bool": bool, "int": int, "float": float, "str": str}
    return kinds[annotation]


def _bad(spec: Field[Any], value: object, allowed: str) -> NerkitError:
    shown = value if isinstance(value, int | float | bool) and not isinstance(value, str) else repr(value)
    return NerkitError(f"{flag(spec.name)} {shown} is not allowed", hint=f"give {allowed}")


@dataclass
class EpochLog:
    """One epoch's record: printed as a line, written as a JSON line."""

    epoch: int
    loss: float
    learning_rate: float
    seconds: float
    tokens_per_second: float
    dev: dict[str, Any]  # precision, recall and f1 (0..1), and per_label
    test: dict[str, Any] | None = None
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
