"""Several trained models as one: a folder of member models whose CRF marginals are averaged, then decoded."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from nerkit.data.batches import Padded
from nerkit.data.formats.detect import require_format
from nerkit.data.vocab import Vocab
from nerkit.errors import NerkitError
from nerkit.files import PathLike, check_outside_input_folders, replace_folder, within, write_json_atomic
from nerkit.model.folder import (
    ENSEMBLE_FORMAT,
    ENSEMBLE_VERSION,
    EXPORTED_FORMAT,
    LOADABLE_FORMATS,
    META,
    TRANSFORMER,
    WEIGHTS,
    copy_transformer,
    file_sha256,
    folder_transformer,
    load_model,
    read_meta,
    recorded_sha256,
    spec_and_vocab,
)
from nerkit.model.spec import ModelSpec, shown
from nerkit.version import __version__

if TYPE_CHECKING:
    import torch

    from nerkit.embeddings.transformer import Transformer
    from nerkit.model.inference import Tagged
    from nerkit.model.tagger import Tagger

MOST_MEMBERS = 16  # an ensemble tags as slowly as its members together
MEMBER = re.compile(r"member-([1-9]|1[0-6])")  # each member's sub-folder: member-1, member-2...
SAME = ("labels", "scheme", "output_scheme", "context_tokens", "transformer_dim")  # beside the vocab
# what members with transformer features must also share: one transformer's features serve them all
SAME_FEATURES = ("transformer_layers", "transformer_pooling", "transformer_window", "transformer_context")
REBUILD = "build it again with nerkit ensemble from the models it joined"
SMALLEST = 1e-30  # an averaged marginal's floor before its log: a tag no member allows stays far below


class EnsembleTagger:
    """Tags with the average of its members' CRF marginals: each token's marginals are averaged over the
    members, and the best path is the one that maximises the sum of their logs among the paths the tag
    scheme allows; a tag's confidence is its averaged marginal. Members share the vocabulary, labels,
    context and transformer features, so one encoding of the text serves them all."""

    def __init__(self, members: Sequence[Tagger]) -> None:
        from nerkit.model.crf import CRF

        first = members[0].crf
        self.members = list(members)
        # the scheme's rules alone: zero scores, the forbidden moves fixed as in every CRF
        self.rules = CRF(first.num_tags, first.allowed, first.allowed_start, first.allowed_end)

    @property
    def spec(self) -> ModelSpec:
        """The first member's spec (every member's labels, scheme, context and features are the same)."""
        return self.members[0].spec

    def network(self, padded: Padded) -> torch.Tensor:
        """Every member's emission scores [members, batch, seq, tags]."""
        import torch

        return torch.stack([member.network(padded) for member in self.members])

    def marginals(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The members' CRF marginals [batch, seq, tags] averaged (zero past each sentence's end)."""
        import torch

        with torch.inference_mode():  # float64: over a 500-token document float32 loses tenths of a percent
            each = [
                member.crf.marginals(own.double(), mask)
                for member, own in zip(self.members, scores, strict=True)
            ]
            return torch.stack(each).mean(0).to(scores.dtype)

    def decode(self, scores: torch.Tensor, padded: Padded, confidence: bool = True) -> Tagged:
        """Best label rows by the averaged marginals and, with `confidence`, each chosen label's average."""
        import torch

        from nerkit.model.tagger import chosen_marginals

        mask = torch.from_numpy(padded.mask)
        averaged = self.marginals(scores, mask)
        with torch.inference_mode():
            paths = self.rules.decode(averaged.clamp_min(SMALLEST).log(), mask)
        if not confidence:
            return paths, [[] for _ in paths]
        return paths, chosen_marginals(averaged, paths, mask)


@dataclass
class LoadedEnsemble:
    """An ensemble folder loaded: its tagger, the members' shared vocabulary, its model.json and the
    transformer whose features every member reads (None for members without one)."""

    model: EnsembleTagger
    vocab: Vocab
    meta: dict[str, object]
    transformer: Transformer | None = None


@dataclass
class BuiltEnsemble:
    """What `build_ensemble` wrote: the folder, and its dev score when a dev file was given."""

    folder: Path
    members: int
    dev_f1: float | None


def _member(folder: PathLike) -> tuple[dict[str, object], ModelSpec, Vocab]:
    """A member's model.json, spec and vocabulary, checked: a trained nerkit model (not an export or an
    ensemble)."""
    meta = read_meta(folder, LOADABLE_FORMATS)
    if meta["format"] == ENSEMBLE_FORMAT:
        raise NerkitError("is an ensemble already", path=folder, hint="give its members instead")
    if meta["format"] == EXPORTED_FORMAT:
        raise NerkitError(
            "is an exported (ONNX) model; an ensemble needs the models' own weights",
            path=folder,
            hint="give the model folders they were exported from",
        )
    spec, vocab = spec_and_vocab(Path(folder), meta)
    return meta, spec, vocab


def _check_alike(first: tuple[ModelSpec, Vocab], other: tuple[ModelSpec, Vocab], path: PathLike) -> None:
    """Raise NerkitError unless a member encodes text and tags it as the first member does."""
    hint = "ensemble models trained on the same data with the same vectors and options"
    for name in SAME + (SAME_FEATURES if first[0].transformer_dim else ()):
        if getattr(first[0], name) != getattr(other[0], name):
            found, wanted = getattr(other[0], name), getattr(first[0], name)
            raise NerkitError(
                f"its {name} {shown(found)} differ from the first model's {shown(wanted)}",
                path=path,
                hint=hint,
            )
    if first[1].words != other[1].words or first[1].chars != other[1].chars:
        raise NerkitError("its vocabulary differs from the first model's", path=path, hint=hint)
    if first[1].gazetteer != other[1].gazetteer:
        raise NerkitError("its gazetteer differs from the first model's", path=path, hint=hint)


def check_members(models: Sequence[PathLike]) -> list[tuple[dict[str, object], ModelSpec, Vocab]]:
    """Each model folder's model.json, spec and vocabulary, checked to make an ensemble together."""
    if not 2 <= len(models) <= MOST_MEMBERS:
        raise NerkitError(
            f"an ensemble takes 2 to {MOST_MEMBERS} models, not {len(models)}", hint="name the model folders"
        )
    members = [_member(folder) for folder in models]
    seen: dict[str, PathLike] = {}
    for folder, (meta, spec, vocab) in zip(models, members, strict=True):
        _check_alike((members[0][1], members[0][2]), (spec, vocab), folder)
        digest = str(recorded_sha256(meta, "weights") or file_sha256(Path(folder) / WEIGHTS))
        if digest in seen:
            raise NerkitError(
                f"has the same weights as {os.fspath(seen[digest])}",
                path=folder,
                hint="give different models",
            )
        seen[digest] = folder
        if recorded_sha256(meta, "transformer") != recorded_sha256(members[0][0], "transformer"):
            raise NerkitError(
                "reads another transformer than the first model",
                path=folder,
                hint="ensemble models trained with the same --transformer",
            )
    return members


def build_ensemble(
    models: Sequence[PathLike], output: PathLike, dev: PathLike | None = None
) -> BuiltEnsemble:
    """Write an ensemble folder at `output` (replaced whole and atomically): each model's model.json and
    weights copied into member-1, member-2..., the transformer they share (if any) once into
    transformer/, and a model.json naming them; with `dev` (annotated data in any format) the
    ensemble's conlleval score on it is recorded as a trained model's is."""
    members = check_members(models)
    if dev is not None:
        require_format(dev, None)  # a missing or unreadable dev file is refused before any copying
    target = Path(output)
    for folder in models:
        if target.exists() and os.path.samefile(folder, target):
            raise NerkitError(f"is the model {os.fspath(folder)!r}", path=output, hint="name a new folder")
        if within(folder, target):  # replacing the output would remove this input
            raise NerkitError(
                f"holds the model {os.fspath(folder)!r}", path=output, hint="write the ensemble elsewhere"
            )
    check_outside_input_folders(output, target.resolve(), models)
    if target.is_file():
        raise NerkitError("is a file, not a folder", path=output, hint="name a new folder")
    if target.is_dir() and any(target.iterdir()) and not _ensemble_before(target):
        raise NerkitError(
            "holds files that are not a nerkit ensemble",
            path=output,
            hint="name a new or empty folder: the ensemble replaces the whole folder",
        )
    dev_score: dict[str, object] | None = None

    def build(folder: Path) -> None:
        nonlocal dev_score
        listed = []
        for number, (source, (meta, _, _)) in enumerate(zip(models, members, strict=True), start=1):
            name = f"member-{number}"
            (folder / name).mkdir()
            for file in (META, WEIGHTS):
                shutil.copyfile(Path(source) / file, folder / name / file)
            listed.append(
                {
                    "folder": name,
                    "source": str(Path(source).resolve()),
                    "sha256": file_sha256(folder / name / WEIGHTS),
                    "dev": meta.get("dev"),
                }
            )
        record: dict[str, object] = {
            "format": ENSEMBLE_FORMAT,
            "format_version": ENSEMBLE_VERSION,
            "nerkit_version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "members": listed,
            "spec": members[0][1].to_json(),
            "vocab": members[0][2].to_json(),
        }
        if members[0][1].transformer_dim:  # the first member's copy; loading checks it against the checksum
            copy_transformer(Path(models[0]) / TRANSFORMER, folder / TRANSFORMER)
            record["transformer"] = {"sha256": recorded_sha256(members[0][0], "transformer")}
        loaded = load_ensemble(folder, record)  # the copied members load, and load together
        if dev is not None:
            dev_score, record["calibration"] = _dev_figures(loaded, dev)
            record["dev"] = dev_score
        write_json_atomic(folder / META, record)

    replace_folder(target, build, carry=False)
    f1 = None if dev_score is None else float(str(dev_score["f1"]))
    return BuiltEnsemble(target, len(models), f1)


def _ensemble_before(folder: Path) -> bool:
    """Whether `folder` holds an earlier ensemble: a model.json declaring the ensemble format."""
    try:
        read_meta(folder, {ENSEMBLE_FORMAT: ENSEMBLE_VERSION})
    except NerkitError:
        return False
    return True


def _dev_figures(loaded: LoadedEnsemble, dev: PathLike) -> tuple[dict[str, object], dict[str, float]]:
    """The ensemble's conlleval figures on annotated dev data (any format, read as training reads it) and
    how well its confidences are calibrated there, as model.json records a trained model's: dev is
    tagged once for both."""
    from nerkit.evaluate import score_sequences, tags_calibration
    from nerkit.pipeline import Pipeline
    from nerkit.training.corpus import read_corpus
    from nerkit.training.scores import to_iob2

    corpus = read_corpus(dev)
    pipeline = Pipeline(loaded.model, loaded.vocab, loaded.meta, loaded.transformer)
    tagged = pipeline.tag_tokens(corpus.tokens, documents=corpus.documents)
    predicted, gold = to_iob2([t.tags for t in tagged]), to_iob2(corpus.tags)
    score = score_sequences(gold, predicted).to_json()
    return score, tags_calibration(predicted, [t.confidences for t in tagged], gold)


def load_ensemble(
    folder: PathLike, meta: dict[str, object] | None = None, precision: str = "auto"
) -> LoadedEnsemble:
    """An ensemble folder's members loaded as one tagger; every member folder is checked as any model
    folder is, must be one the list names (member-N, inside the folder) and must match the others.
    Members with transformer features read the folder's transformer/, checked and loaded once
    (`precision` as for one model)."""
    folder = Path(folder)
    meta = read_meta(folder, {ENSEMBLE_FORMAT: ENSEMBLE_VERSION}) if meta is None else meta
    listed = meta.get("members")
    if not isinstance(listed, list) or not 2 <= len(listed) <= MOST_MEMBERS:
        raise NerkitError(
            f"its members are {shown(listed)}, not a list of 2 to {MOST_MEMBERS}",
            path=folder / META,
            hint=REBUILD,
        )
    names = [entry.get("folder") if isinstance(entry, dict) else None for entry in listed]
    for name in names:
        if not isinstance(name, str) or not MEMBER.fullmatch(name):
            raise NerkitError(
                f"names a member folder {shown(name)}, not member-1 to member-{MOST_MEMBERS}",
                path=folder / META,
                hint=REBUILD,
            )
        if names.count(name) > 1:
            raise NerkitError(
                f"names the member folder {shown(name)} twice", path=folder / META, hint=REBUILD
            )
    spec, vocab = spec_and_vocab(folder, meta)
    members = []
    for name, entry in zip(names, listed, strict=True):
        if not (folder / str(name)).resolve().is_relative_to(folder.resolve()):
            raise NerkitError("is a link outside the ensemble folder", path=folder / str(name), hint=REBUILD)
        loaded = load_model(folder / str(name), with_transformer=False)
        recorded = entry.get("sha256")  # what it was built with; load_model checked the file against its own
        if recorded is not None and recorded != recorded_sha256(loaded.meta, "weights"):
            raise NerkitError(
                "holds other weights than the ensemble was built with", path=folder / str(name), hint=REBUILD
            )
        _check_alike((spec, vocab), (loaded.model.spec, loaded.vocab), folder / str(name))
        if recorded_sha256(loaded.meta, "transformer") != recorded_sha256(meta, "transformer"):
            raise NerkitError(
                "reads another transformer than the ensemble's", path=folder / str(name), hint=REBUILD
            )
        members.append(loaded.model)
    transformer = folder_transformer(folder, spec, recorded_sha256(meta, "transformer"), precision)
    return LoadedEnsemble(EnsembleTagger(members), vocab, meta, transformer)
