"""The sized architecture of a tagger, derived from the data and the embeddings, as plain JSON; a spec
read from a model folder is checked field by field before anything is built from it."""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, Field, asdict, dataclass, fields
from typing import Any, TypeGuard

from nerkit.data.tags import SCHEMES, is_valid_tag
from nerkit.data.vocab import CASINGS
from nerkit.errors import NerkitError
from nerkit.ranges import LARGEST_LAYER, MODEL_SETTINGS, Option

MOST_ROWS = 100_000_000  # rows of a word or character table: ten times the most vectors training keeps
WIDEST_KERNEL = 31  # characters one filter of the character CNN spans: wider is longer than a word
MOST_LAYERS = 16  # stacked BiLSTM layers (training builds one)
WIDEST_WINDOW = 512  # sub-words per transformer window: the most positions nerkit gives a transformer
FLOAT = "F32"  # the safetensors dtype of every parameter
BOOL = "BOOL"  # the safetensors dtype of the CRF's allowed-transition masks
DTYPE_BYTES = {FLOAT: 4, BOOL: 1}


@dataclass(frozen=True)
class TensorShape:
    """The shape and safetensors dtype of one tensor of a tagger's weights."""

    shape: tuple[int, ...]
    dtype: str = FLOAT

    @property
    def numbers(self) -> int:
        """How many values the tensor holds."""
        return math.prod(self.shape)

    @property
    def size(self) -> int:
        """How many bytes the tensor takes in a safetensors file."""
        return self.numbers * DTYPE_BYTES[self.dtype]


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
    char_filters: int = 50  # 0: no character CNN
    char_kernel: int = 3
    char_lstm: int = 0  # >0: a character BiLSTM of this many units per direction beside the CNN
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
    gazetteer_dim: int = (
        0  # >0: per-token gazetteer features (4 per entity type) from the vocabulary's phrases
    )

    @property
    def casings(self) -> int:
        """Rows of the casing table."""
        return len(CASINGS)

    def to_json(self) -> dict[str, object]:
        """The spec as a JSON-ready dict; `gazetteer_dim` and `char_lstm` only when set, so a model without
        them writes the spec an older nerkit wrote (and reads), and a run interrupted by one resumes."""
        data = asdict(self)
        for name in ("gazetteer_dim", "char_lstm"):
            if not data[name]:
                del data[name]
        return data

    @classmethod
    def from_json(cls, data: object) -> ModelSpec:
        """Rebuild a spec from JSON, checked field by field (see `check_spec`)."""
        return check_spec(data)

    @property
    def char_width(self) -> int:
        """Width of a token's character features: the CNN's filters and both directions of the BiLSTM."""
        return self.char_filters + 2 * self.char_lstm

    @property
    def token_dim(self) -> int:
        """Width of a token vector: word, character, casing, transformer and gazetteer features side by
        side."""
        return self.word_dim + self.char_width + self.casing_dim + self.transformer_dim + self.gazetteer_dim

    def tensors(self) -> dict[str, TensorShape]:
        """Every tensor the tagger's weights file holds, by name: what a file must match, worked out
        without building the model."""
        shapes = {"char_embedding.weight": TensorShape((self.chars, self.char_dim))}
        if self.char_filters:
            shapes["char_cnn.weight"] = TensorShape((self.char_filters, self.char_dim, self.char_kernel))
            shapes["char_cnn.bias"] = TensorShape((self.char_filters,))
        if self.char_lstm:
            shapes.update(_lstm_pair(self.char_dim, self.char_lstm, "char_lstms."))
        shapes["casing_embedding.weight"] = TensorShape((self.casings, self.casing_dim))
        if self.word_dim:
            shapes["word_embedding.weight"] = TensorShape((self.words, self.word_dim))
        if self.transformer_dim:
            shapes["layer_weights"] = TensorShape((self.transformer_layers,))
            shapes["layer_scale"] = TensorShape(())
        shapes.update(_lstm_tensors(self.layers, self.token_dim, self.hidden))
        width = 2 * self.hidden if self.layers else self.token_dim
        shapes["project.weight"] = TensorShape((len(self.labels), width))
        shapes["project.bias"] = TensorShape((len(self.labels),))
        shapes.update(_crf_tensors(len(self.labels)))
        return shapes

    def parameter_count(self) -> int:
        """How many trainable numbers the tagger has (its masks are not trained), without building it."""
        return sum(shape.numbers for shape in self.tensors().values() if shape.dtype == FLOAT)

    def weights_size(self) -> int:
        """How many bytes the tagger's tensors take in its weights file, header not counted."""
        return sum(shape.size for shape in self.tensors().values())

    def describe(self, parameters: int | None = None) -> str:
        """A few lines for people: layer by layer, with sizes."""
        char_out = self.char_width
        char_parts = []
        if self.char_filters:
            char_parts.append(f"CNN, {self.char_filters} filters of width {self.char_kernel}, max-pooled")
        if self.char_lstm:
            char_parts.append(f"BiLSTM, {self.char_lstm} units per direction")
        token = self.token_dim
        entity_types = sorted({label.partition("-")[2] for label in self.labels if label != "O"})
        lines = [
            f"{('BiLSTM-CNN-CRF' if self.char_filters else 'BiLSTM-CRF') if self.layers else 'fine-tuned transformer'} tagger, {len(self.labels)} tags in {self.scheme} "
            f"(output in {self.output_scheme}), types: {', '.join(entity_types) or 'none'}",
            f"  word table      {self.words:,} x {self.word_dim} ({self.pretrained_words:,} from pretrained vectors)"
            if self.word_dim
            else "  word table      none",
            f"  characters      {self.chars:,} x {self.char_dim} -> {' + '.join(char_parts) or 'nothing'}",
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
            *(
                [
                    f"  gazetteer       {self.gazetteer_dim} features: the training entities' phrases, "
                    "where each begins, continues and ends, per type"
                ]
                if self.gazetteer_dim
                else []
            ),
            f"  token vector    {token} = {self.word_dim} + {char_out} + {self.casing_dim}"
            + (f" + {self.transformer_dim}" if self.transformer_dim else "")
            + (f" + {self.gazetteer_dim}" if self.gazetteer_dim else "")
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


def _lstm_tensors(layers: int, token_dim: int, hidden: int) -> dict[str, TensorShape]:
    """The BiLSTM's tensors: per layer a left-to-right (0) and a right-to-left (1) one-layer LSTM."""
    shapes = {}
    for layer in range(layers):
        shapes.update(_lstm_pair(token_dim if layer == 0 else 2 * hidden, hidden, f"lstms.{layer}."))
    return shapes


def _lstm_pair(width: int, hidden: int, prefix: str) -> dict[str, TensorShape]:
    """A left-to-right (0) and a right-to-left (1) one-layer LSTM's tensors, names after `prefix`."""
    shapes = {}
    for direction in (0, 1):
        name = f"{prefix}{direction}."
        shapes[name + "weight_ih_l0"] = TensorShape((4 * hidden, width))
        shapes[name + "weight_hh_l0"] = TensorShape((4 * hidden, hidden))
        shapes[name + "bias_ih_l0"] = TensorShape((4 * hidden,))
        shapes[name + "bias_hh_l0"] = TensorShape((4 * hidden,))
    return shapes


def _crf_tensors(tags: int) -> dict[str, TensorShape]:
    """The CRF's scores and its masks of the moves the tag scheme allows."""
    return {
        "crf.transitions": TensorShape((tags, tags)),
        "crf.start": TensorShape((tags,)),
        "crf.end": TensorShape((tags,)),
        "crf.allowed": TensorShape((tags, tags), BOOL),
        "crf.allowed_start": TensorShape((tags,), BOOL),
        "crf.allowed_end": TensorShape((tags,), BOOL),
    }


def _within(low: float, high: float) -> Option:
    return Option("", low=low, high=high)


# what each field may hold: the training option's range where one sets it, else the widest sane one
_ALLOWED: dict[str, Option] = {
    **MODEL_SETTINGS,
    "scheme": Option("", choices=SCHEMES),
    "output_scheme": Option("", choices=SCHEMES),
    "words": _within(2, MOST_ROWS),
    "pretrained_words": _within(0, MOST_ROWS),
    "word_dim": _within(0, LARGEST_LAYER),
    "chars": _within(2, MOST_ROWS),
    "char_dim": _within(1, LARGEST_LAYER),
    "char_kernel": _within(1, WIDEST_KERNEL),
    "layers": _within(0, MOST_LAYERS),
    "transformer_dim": _within(0, LARGEST_LAYER),
    "transformer_layers": _within(0, MODEL_SETTINGS["transformer_layers"].high or 0),  # 0: no transformer
    "transformer_window": _within(0, WIDEST_WINDOW),
    "gazetteer_dim": _within(0, LARGEST_LAYER),
}


def check_spec(data: object) -> ModelSpec:
    """The spec in `data` (model.json's "spec"), every field checked for its type and range, and the
    fields against each other, before anything is built from it; NerkitError names the first bad one."""
    if not isinstance(data, dict):
        raise NerkitError(f"spec is {shown(data)}, not a JSON object")
    values = _complete(data)
    _check_labels(values["labels"])
    for spec_field in fields(ModelSpec):
        if spec_field.name != "labels":
            _check_field(spec_field.name, str(spec_field.type), values[spec_field.name])
    spec = ModelSpec(**values)
    _check_together(spec)
    return spec


def _complete(data: dict[str, Any]) -> dict[str, Any]:
    """Every field's value: from `data`, or its default; unknown or missing required keys are errors."""
    known = {spec_field.name: spec_field for spec_field in fields(ModelSpec)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise NerkitError(
            f"the model spec has unknown keys {unknown}", hint="was it written by a newer nerkit?"
        )
    missing = [name for name, spec_field in known.items() if name not in data and _no_default(spec_field)]
    if missing:
        raise NerkitError(f"the model spec is incomplete: it lacks {', '.join(missing)}")
    return {name: data.get(name, spec_field.default) for name, spec_field in known.items()}


def _no_default(spec_field: Field[Any]) -> bool:
    return spec_field.default is MISSING and spec_field.default_factory is MISSING


def _check_labels(labels: object) -> None:
    """The tags: a list of 1 to LARGEST_LAYER distinct tags (O, or B-, I-, E-, S- and a type)."""
    if not isinstance(labels, list) or not 1 <= len(labels) <= LARGEST_LAYER:
        raise NerkitError(f"spec.labels is {shown(labels)}, not a list of 1 to {LARGEST_LAYER:,} tags")
    for index, label in enumerate(labels):
        if not isinstance(label, str) or not is_valid_tag(label):
            raise NerkitError(f"spec.labels[{index}] is {shown(label)}, not a tag such as O or B-PER")
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            raise NerkitError(f"spec.labels lists {shown(label)} twice")
        seen.add(label)


def _check_field(name: str, kind: str, value: object) -> None:
    """Raise NerkitError unless `value` is of the field's kind ("int", "float", "bool", "str") and in
    its range or choices."""
    allowed = _ALLOWED[name]
    if kind == "bool":
        fits, wanted = isinstance(value, bool), "true or false"
    elif kind == "str":
        fits, wanted = isinstance(value, str) and value in allowed.choices, allowed.allowed()
    else:
        whole = kind == "int"
        fits = _is_number(value, whole) and allowed.holds(value)
        wanted = f"{'a whole number' if whole else 'a number'} {allowed.allowed()}"
    if not fits:
        raise NerkitError(f"spec.{name} is {shown(value)}, not {wanted}")


def _is_number(value: object, whole: bool) -> TypeGuard[float]:
    """Whether `value` is a JSON number (not true or false), finite, and whole when `whole`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) if whole else math.isfinite(value)


def _check_together(spec: ModelSpec) -> None:
    """The fields that bound each other."""
    if spec.pretrained_words > spec.words:
        raise NerkitError(
            f"spec.pretrained_words is {spec.pretrained_words:,}, more than spec.words ({spec.words:,})"
        )
    if spec.transformer_dim and not spec.transformer_layers:
        raise NerkitError(
            "spec.transformer_layers is 0, but a model with transformer features mixes 1 or more"
        )
    types = len({label.partition("-")[2] for label in spec.labels if label != "O"})
    if spec.gazetteer_dim not in (0, 4 * types):
        raise NerkitError(
            f"spec.gazetteer_dim is {spec.gazetteer_dim}, not 0 or 4 per entity type ({4 * types})"
        )


def shown(value: object) -> str:
    """A JSON value as a message shows it: short, on one line (a container by its kind and size)."""
    if isinstance(value, list):
        return f"a list of length {len(value):,}"
    if isinstance(value, dict):
        return f"an object of {len(value):,} key{'' if len(value) == 1 else 's'}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        return "a whole number of more than 40 digits"  # Python writes none over 4,300 digits
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"
