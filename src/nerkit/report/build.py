"""A model's error-analysis report: every part computed from one tagging pass, as JSON and as a page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nerkit.data.formats import ReadOptions
from nerkit.evaluate import Score
from nerkit.files import PathLike
from nerkit.model.folder import LOADABLE_FORMATS, read_meta
from nerkit.report.collect import collect
from nerkit.report.confidence import Calibration, calibration
from nerkit.report.curves import TrainingCurves, training_curves
from nerkit.report.mistakes import Confusion, Mistakes, confusion_matrix, count_mistakes
from nerkit.report.partial import PartialScores, partial_scores
from nerkit.report.review import (
    SUSPECT_CONFIDENCE,
    WORST,
    Suspect,
    WorstSentence,
    check_suspect_confidence,
    find_suspects,
    worst_sentences,
)
from nerkit.report.sentences import ReportSentence

if TYPE_CHECKING:
    from nerkit.pipeline import Pipeline

FORMAT = "nerkit-report"
FORMAT_VERSION = 1
MODEL_KEYS = (
    "spec",
    "training",
    "data",
    "dev",
    "test",
    "best_epoch",
    "calibration",
    "nerkit_version",
    "created",
    "members",  # an ensemble's (nerkit.model.ensemble)
)


@dataclass
class Report:
    """Where a model goes wrong on annotated data, and how sure it was: each part as report.json names it
    (None where not computed: a report of the model alone has only `model` and `training`)."""

    model: dict[str, object]
    training: TrainingCurves | None = None
    data: dict[str, object] | None = None
    summary: Score | None = None
    partial: PartialScores | None = None
    mistakes: Mistakes | None = None
    confusion: Confusion | None = None
    confidence: Calibration | None = None
    worst: list[WorstSentence] | None = None
    suspects: list[Suspect] | None = None
    sentences: list[ReportSentence] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, object]:
        """The whole report as one JSON-ready object (scores as fractions 0..1)."""
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "model": self.model,
            "data": self.data,
            "summary": None if self.summary is None else self.summary.to_json(),
            "partial": None if self.partial is None else self.partial.to_json(),
            "mistakes": None if self.mistakes is None else self.mistakes.to_json(),
            "confusion": None if self.confusion is None else self.confusion.to_json(),
            "confidence": None if self.confidence is None else self.confidence.to_json(),
            "worst": None if self.worst is None else [found.to_json() for found in self.worst],
            "suspects": None if self.suspects is None else [found.to_json() for found in self.suspects],
            "training": None if self.training is None else self.training.to_json(),
        }

    def to_html(self) -> str:
        """The report as one self-contained HTML page (charts inlined; needs nerkit[report])."""
        from nerkit.report.page import render_report

        return render_report(self.to_json())


def model_report(model: PathLike) -> Report:
    """The report of a model folder alone: its spec, training options and training curves."""
    meta = read_meta(model, LOADABLE_FORMATS)
    best = meta.get("best_epoch")
    kept = best if isinstance(best, int) and not isinstance(best, bool) else None
    shown = {key: meta[key] for key in MODEL_KEYS if key in meta}
    return Report(model={"path": str(model), **shown}, training=training_curves(model, kept))


def build_report(
    pipeline: Pipeline,
    model: PathLike,
    file: PathLike | None = None,
    format: str | None = None,
    options: ReadOptions | None = None,
    batch_size: int = 512,
    suspect_confidence: float | None = None,
) -> Report:
    """The report of the model in folder `model` (loaded as `pipeline`) on annotated data in any format
    (detected unless `format` is given), tagged once; without `file`, `model_report`."""
    suspect_confidence = check_suspect_confidence(
        SUSPECT_CONFIDENCE if suspect_confidence is None else suspect_confidence
    )
    report = model_report(model)
    if file is None:
        return report
    collected = collect(pipeline, file, format, options, batch_size)
    sentences = collected.sentences
    report.data = {
        "path": str(file),
        "format": collected.format,
        "sentences": len(sentences),
        "tokens": collected.tokens,
        "gold_entities": sum(len(s.gold) for s in sentences),
        "predicted_entities": sum(len(s.predicted) for s in sentences),
    }
    report.summary = collected.score
    report.partial = partial_scores(sentences)
    report.mistakes = count_mistakes(sentences)
    report.confusion = confusion_matrix(sentences)
    report.confidence = calibration(sentences)
    report.worst = worst_sentences(sentences, WORST)
    report.suspects = find_suspects(sentences, suspect_confidence)
    report.sentences = sentences
    return report
