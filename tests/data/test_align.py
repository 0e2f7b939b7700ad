"""Tests for nerkit.data.align: every adjustment counted once, with its place; tags and entities exact."""

from __future__ import annotations

from collections import Counter

from nerkit.data.align import AlignedDocument, align
from nerkit.data.annotations import ADJUSTMENTS, AnnotatedDocument, Annotation


def aligned(
    text: str, *spans: tuple[int, int, str], sentences: list[list[tuple[int, int]]] | None = None
) -> AlignedDocument:
    annotations = [
        Annotation(start, end, label, place=f"f:{n}") for n, (start, end, label) in enumerate(spans, 1)
    ]
    return align(AnnotatedDocument(text, annotations, "f:0", sentences=sentences))


def tagged(document: AlignedDocument) -> list[list[tuple[str, str]]]:
    return [
        list(zip(words, tags, strict=True))
        for words, tags in zip(document.tokens(), document.tags, strict=True)
    ]


def kinds(document: AlignedDocument) -> Counter[str]:
    return Counter(adjustment.kind for adjustment in document.adjustments)


def spans(document: AlignedDocument) -> list[tuple[int, int, str]]:
    return [(entity.start, entity.end, entity.label) for entity in document.entities]


def test_clean_spans_give_iob2_tags_and_no_adjustment() -> None:
    document = aligned("Alice met Bob Jones in Paris.", (0, 5, "PER"), (10, 19, "PER"), (23, 28, "LOC"))
    assert tagged(document) == [
        [
            ("Alice", "B-PER"),
            ("met", "O"),
            ("Bob", "B-PER"),
            ("Jones", "I-PER"),
            ("in", "O"),
            ("Paris", "B-LOC"),
            (".", "O"),
        ]
    ]
    assert document.adjustments == []
    assert spans(document) == [(0, 5, "PER"), (10, 19, "PER"), (23, 28, "LOC")]


def test_adjacent_entities_of_one_type_stay_two() -> None:
    document = aligned("New York Boston", (0, 8, "LOC"), (9, 15, "LOC"))
    assert document.tags == [["B-LOC", "I-LOC", "B-LOC"]]


def test_whitespace_edges_are_trimmed_and_counted() -> None:
    document = aligned("see  Paris  now", (3, 11, "LOC"))
    assert spans(document) == [(5, 10, "LOC")]
    assert kinds(document) == Counter(trimmed=1)
    assert document.adjustments[0].line() == 'f:1: trimmed: [3, 11) LOC "  Paris " to [5, 10)'


def test_a_boundary_inside_a_token_splits_it() -> None:
    document = aligned("the Smithsonian opened", (4, 9, "PER"))
    assert tagged(document) == [[("the", "O"), ("Smith", "B-PER"), ("sonian", "O"), ("opened", "O")]]
    assert kinds(document) == Counter(token_split=1)
    assert "'Smithsonian' at 4 cut at 9" in document.adjustments[0].detail


def test_both_boundaries_inside_one_token_split_it_twice() -> None:
    document = aligned("xxABCyy", (2, 5, "ORG"))
    assert tagged(document) == [[("xx", "O"), ("ABC", "B-ORG"), ("yy", "O")]]
    assert kinds(document) == Counter(token_split=2)


def test_nested_crossing_and_repeated_spans_keep_the_longest() -> None:
    text = "University of New York in Albany"
    document = aligned(
        text,
        (14, 22, "LOC"),  # nested in the next
        (0, 22, "ORG"),  # the longest: kept
        (0, 22, "MISC"),  # the same span again: dropped
        (18, 32, "LOC"),  # crosses the kept one: dropped
        (26, 32, "LOC"),  # free: kept
    )
    assert spans(document) == [(0, 22, "ORG"), (26, 32, "LOC")]
    assert kinds(document) == Counter(overlap=3)
    assert [adjustment.place for adjustment in document.adjustments] == ["f:3", "f:4", "f:1"]


def test_a_tie_in_length_keeps_the_earlier_span() -> None:
    document = aligned("ab cd ef", (0, 5, "X"), (3, 8, "Y"))
    assert spans(document) == [(0, 5, "X")]


def test_out_of_range_and_empty_spans_are_dropped_and_counted() -> None:
    document = aligned("Paris", (-1, 3, "LOC"), (2, 9, "LOC"), (3, 3, "LOC"), (4, 2, "LOC"), (0, 5, "LOC"))
    assert spans(document) == [(0, 5, "LOC")]
    assert kinds(document) == Counter(out_of_range=2, empty=2)


def test_a_span_of_white_space_only_is_empty() -> None:
    document = aligned("a   b", (1, 4, "X"))
    assert spans(document) == []
    assert kinds(document) == Counter(empty=1)


def test_text_that_disagrees_with_the_offsets_is_counted_and_the_offsets_kept() -> None:
    annotation = Annotation(0, 5, "PER", text="Alicia", place="t: task 1")
    document = align(AnnotatedDocument("Alice runs", [annotation], "t"))
    assert spans(document) == [(0, 5, "PER")]
    assert [adjustment.line() for adjustment in document.adjustments] == [
        't: task 1: text_mismatch: [0, 5) PER "Alice", but the file says "Alicia"'
    ]


def test_an_entity_across_a_sentence_break_joins_the_sentences() -> None:
    text = "He met Dr. Who. Then\nNew\nYork came. Later it rained."
    document = aligned(text, (21, 29, "LOC"))
    assert [" ".join(words) for words in document.tokens()] == [
        "He met Dr. Who .",
        "Then",
        "New York came .",
        "Later it rained .",
    ]
    assert kinds(document) == Counter(sentence_joined=1)


def test_a_chain_of_entities_joins_every_sentence_it_crosses() -> None:
    text = "A\nB\nC\nD"
    document = aligned(text, (0, 3, "X"), (2, 5, "Y"))  # overlapping: only the first is kept
    assert len(document.sentences) == 3
    document = aligned(text, (0, 3, "X"), (4, 7, "Y"))
    assert [list(words) for words in document.tokens()] == [["A", "B"], ["C", "D"]]
    assert kinds(document) == Counter(sentence_joined=2)


def test_given_tokens_are_kept_and_split_only_at_entity_edges() -> None:
    text = "EU rejects German-made beef"
    given = [[(0, 2), (3, 10), (11, 22), (23, 27)]]
    document = aligned(text, (0, 2, "ORG"), (11, 17, "MISC"), sentences=given)
    assert tagged(document) == [
        [("EU", "B-ORG"), ("rejects", "O"), ("German", "B-MISC"), ("-made", "O"), ("beef", "O")]
    ]
    assert kinds(document) == Counter(token_split=1)


def test_given_sentences_an_entity_crosses_are_joined() -> None:
    text = "a b\nc d"
    document = aligned(text, (2, 5, "X"), sentences=[[(0, 1), (2, 3)], [(4, 5), (6, 7)]])
    assert document.tags == [["O", "B-X", "I-X", "O"]]
    assert kinds(document) == Counter(sentence_joined=1)


def test_a_span_over_no_given_token_is_dropped_and_counted() -> None:
    text = "a # b"
    document = aligned(text, (2, 3, "X"), sentences=[[(0, 1), (4, 5)]])
    assert spans(document) == []
    assert kinds(document) == Counter(out_of_range=1)
    assert document.adjustments[0].detail.endswith("no token in it")


def test_a_span_reaching_past_the_given_tokens_is_cut_to_them() -> None:
    text = "a #b c"
    document = aligned(text, (2, 4, "X"), sentences=[[(0, 1), (3, 4), (5, 6)]])
    assert spans(document) == [(3, 4, "X")]
    assert kinds(document) == Counter(cut_to_tokens=1)


def test_reader_adjustments_come_first_and_an_empty_text_gives_nothing() -> None:
    from nerkit.data.annotations import Adjustment

    skipped = Adjustment("rejected", "f:3", "answer 'reject'")
    document = align(AnnotatedDocument("", [], "f:3", adjustments=[skipped]))
    assert document.sentences == [] and document.tags == [] and document.adjustments == [skipped]


def test_every_kind_has_a_description() -> None:
    assert all(description and not description.endswith(".") for description in ADJUSTMENTS.values())
    assert len(ADJUSTMENTS) == 16


def test_each_problem_is_counted_exactly_once_in_one_document() -> None:
    text = "Mr. John Smithson went to New York.\nHe met IBM's CEO.  "
    annotations = [
        Annotation(4, 14, "PER"),  # token_split (Smith|son)
        Annotation(25, 34, "LOC", text="New York"),  # trimmed (leading space), text_mismatch
        Annotation(26, 30, "LOC"),  # trimmed ("New "), then overlap
        Annotation(43, 46, "ORG"),  # clean
        Annotation(50, 80, "X"),  # out_of_range
        Annotation(5, 5, "X"),  # empty
        Annotation(33, 40, "MISC"),  # overlap (crosses New York)
    ]
    document = align(AnnotatedDocument(text, annotations, "f:1"))
    assert kinds(document) == Counter(
        token_split=1, trimmed=2, text_mismatch=1, out_of_range=1, empty=1, overlap=2
    )
    assert spans(document) == [(4, 14, "PER"), (26, 34, "LOC"), (43, 46, "ORG")]
