"""Corpus statistics of annotated data: documents, sentences, tokens, entities, tags, and for a CoNLL file
its scheme, for any format what aligning the annotations to tokens adjusted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from nerkit.data.annotations import ADJUSTMENTS, Adjustment
from nerkit.data.conll import read_conll
from nerkit.data.formats import ReadOptions, read_aligned
from nerkit.data.tags import SchemeReport, detect_scheme, tags_to_spans
from nerkit.files import PathLike


@dataclass
class CorpusStats:
    """What `nerkit stats` reports about one CoNLL file."""

    path: str
    documents: int = 0
    sentences: int = 0
    tokens: int = 0
    entities: Counter[str] = field(default_factory=Counter)  # type -> count
    tags: Counter[str] = field(default_factory=Counter)  # tag -> count
    scheme: SchemeReport = field(default_factory=lambda: SchemeReport(scheme=None))
    ill_formed_lines: list[int] = field(
        default_factory=list
    )  # first line of sentences with ill-formed chunks

    def to_json(self, scheme_details: bool = False) -> dict[str, object]:
        """The statistics as one JSON-ready object."""
        data: dict[str, object] = {
            "file": self.path,
            "documents": self.documents,
            "sentences": self.sentences,
            "tokens": self.tokens,
            "scheme": self.scheme.scheme,
            "entities": sum(self.entities.values()),
            "entities_by_type": dict(sorted(self.entities.items())),
            "tags": dict(self.tags.most_common()),
        }
        if scheme_details:
            data["scheme_check"] = {
                "chunks": self.scheme.chunks,
                "chunk_starts": dict(sorted(self.scheme.chunk_starts.items())),
                "ill_formed_chunks": self.scheme.ill_formed,
                "example_lines": self.ill_formed_lines,
            }
        return data


def corpus_stats(path: PathLike, tag_column: int = -1) -> CorpusStats:
    """Read a CoNLL file once and count what is in it."""
    stats = CorpusStats(path=str(path))
    tag_sequences: list[tuple[str, ...]] = []
    first_lines: list[int] = []
    last_document = -1
    for sentence in read_conll(path, tag_column=tag_column):
        if sentence.document != last_document:
            stats.documents += 1
            last_document = sentence.document
        stats.sentences += 1
        stats.tokens += len(sentence)
        stats.tags.update(sentence.tags)
        stats.entities.update(span.label for span in tags_to_spans(sentence.tags))
        tag_sequences.append(sentence.tags)
        first_lines.append(sentence.line)
    stats.scheme = detect_scheme(tag_sequences)
    stats.ill_formed_lines = [first_lines[index] for index in stats.scheme.examples]
    return stats


def format_stats(stats: CorpusStats, scheme_details: bool = False) -> str:
    """The statistics as a table for people."""
    total = sum(stats.entities.values())
    lines = [
        stats.path,
        f"  documents {stats.documents:>10,}",
        f"  sentences {stats.sentences:>10,}",
        f"  tokens    {stats.tokens:>10,}",
        f"  scheme    {stats.scheme.scheme or 'none (no entities)':>10}",
        f"  entities  {total:>10,}",
    ]
    lines.extend(_count_rows(stats.entities, stats.tags, stats.tokens))
    if scheme_details:
        report = stats.scheme
        starts = ", ".join(f"{prefix}- {count:,}" for prefix, count in sorted(report.chunk_starts.items()))
        lines.append("  scheme check")
        lines.append(f"    chunks opened by   {starts or 'none'}")
        lines.append(
            f"    ill-formed chunks  {report.ill_formed:,} (not as {report.scheme or 'any scheme'} writes them)"
        )
        if stats.ill_formed_lines:
            where = ", ".join(f"{stats.path}:{line}" for line in stats.ill_formed_lines)
            lines.append(f"    first at sentences {where}")
    return "\n".join(lines)


def _count_rows(entities: Counter[str], tags: Counter[str], tokens: int) -> list[str]:
    """The rows of entities by type (most first) and of tags, each with its share."""
    total = sum(entities.values())
    width = max((len(name) for name in [*entities, *tags]), default=1)
    rows = [
        f"    {name:<{width}} {count:>9,}  {100 * count / total:5.1f}%"
        for name, count in sorted(entities.items(), key=lambda item: (-item[1], item[0]))
    ]
    rows.append("  tags")
    rows.extend(
        f"    {tag:<{width}} {count:>9,}  {100 * count / tokens:5.1f}%" for tag, count in tags.most_common()
    )
    return rows


@dataclass
class AnnotationStats:
    """What `nerkit stats` reports about annotated data in any format, counted after alignment:
    its IOB2 tags, the entities kept, and each kind of adjustment (the list of them when asked for)."""

    path: str
    format: str
    documents: int = 0
    sentences: int = 0
    tokens: int = 0
    entities: Counter[str] = field(default_factory=Counter)  # type -> count
    tags: Counter[str] = field(default_factory=Counter)  # tag -> count
    adjustments: Counter[str] = field(default_factory=Counter)  # kind -> count
    listed: list[Adjustment] | None = None  # every adjustment, document by document, when asked for

    def alignment_json(self) -> dict[str, object]:
        """The adjustment counts of every kind (zeros too, in ADJUSTMENTS' order), and the list when kept."""
        data: dict[str, object] = {"alignment": {kind: self.adjustments[kind] for kind in ADJUSTMENTS}}
        if self.listed is not None:
            data["adjustments"] = [
                {"kind": item.kind, "place": item.place, "detail": item.detail} for item in self.listed
            ]
        return data

    def to_json(self) -> dict[str, object]:
        """The statistics as one JSON-ready object."""
        return {
            "file": self.path,
            "format": self.format,
            "documents": self.documents,
            "sentences": self.sentences,
            "tokens": self.tokens,
            "entities": sum(self.entities.values()),
            "entities_by_type": dict(sorted(self.entities.items())),
            "tags": dict(self.tags.most_common()),
            **self.alignment_json(),
        }


def annotation_stats(
    path: PathLike, format: str, options: ReadOptions | None = None, list_adjustments: bool = False
) -> AnnotationStats:
    """Read and align annotated data one document at a time and count what is in it (records not
    annotated only by their adjustments); with `list_adjustments`, keep every adjustment too."""
    stats = AnnotationStats(path=str(path), format=format, listed=[] if list_adjustments else None)
    for document in read_aligned(path, format, options):
        stats.adjustments.update(adjustment.kind for adjustment in document.adjustments)
        if stats.listed is not None:
            stats.listed.extend(document.adjustments)
        if not document.source.annotated:
            continue  # a record left out (its adjustment says why), as training leaves it out
        stats.documents += 1
        for tags in document.tags:
            if tags:
                stats.sentences += 1
                stats.tokens += len(tags)
                stats.tags.update(tags)
        stats.entities.update(entity.label for entity in document.entities)
    return stats


def format_annotation_stats(stats: AnnotationStats) -> str:
    """The statistics as a table for people: the counts, then the alignment section."""
    lines = [
        f"{stats.path} ({stats.format})",
        f"  documents {stats.documents:>10,}",
        f"  sentences {stats.sentences:>10,}",
        f"  tokens    {stats.tokens:>10,}",
        f"  entities  {sum(stats.entities.values()):>10,}",
    ]
    lines.extend(_count_rows(stats.entities, stats.tags, stats.tokens))
    return "\n".join([*lines, format_alignment(stats)])


def format_alignment(stats: AnnotationStats) -> str:
    """The alignment section of the table: each kind adjusted with its count and description ("none"
    when nothing was), then with the list kept, every adjustment on a line of its own."""
    kinds = [kind for kind in ADJUSTMENTS if stats.adjustments[kind]]
    if not kinds:
        lines = ["  alignment none"]
    else:
        width = max(len(kind) for kind in kinds)
        lines = ["  alignment"]
        lines.extend(
            f"    {kind:<{width}} {stats.adjustments[kind]:>9,}  {ADJUSTMENTS[kind]}" for kind in kinds
        )
    lines.extend(adjustment.line() for adjustment in stats.listed or ())
    return "\n".join(lines)
