"""Corpus statistics of a CoNLL file: documents, sentences, tokens, scheme, entities and tag counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from nerkit.data.conll import read_conll
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
    width = max((len(name) for name in [*stats.entities, *stats.tags]), default=1)
    for name, count in sorted(stats.entities.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"    {name:<{width}} {count:>9,}  {100 * count / total:5.1f}%")
    lines.append("  tags")
    for tag, count in stats.tags.most_common():
        lines.append(f"    {tag:<{width}} {count:>9,}  {100 * count / stats.tokens:5.1f}%")
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
