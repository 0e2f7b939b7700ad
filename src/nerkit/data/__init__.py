"""The data layer: CoNLL and the annotation-tool formats, tag schemes, alignment, vocabularies and batches."""

from nerkit.data.formats import read_annotations, write_annotations

__all__ = ["read_annotations", "write_annotations"]
