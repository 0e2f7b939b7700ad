"""Tests for nerkit.text.sentences: line breaks, final punctuation and abbreviations."""

from __future__ import annotations

import pytest

from nerkit.text.sentences import sentence_spans


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One here. Two there! Three? Four", ["One here.", "Two there!", "Three?", "Four"]),
        ("Dr. Imre Voss met J. Smith. They talked.", ["Dr. Imre Voss met J. Smith.", "They talked."]),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ("It fell 5.4 percent. 1996 was worse.", ["It fell 5.4 percent.", "1996 was worse."]),
        ("Prices rose in the U.S. The dollar fell.", ["Prices rose in the U.S.", "The dollar fell."]),
        ("The U.S. Army left.", ["The U.S. Army left."]),
        ("Acme Corp. Halvery said so.", ["Acme Corp. Halvery said so."]),
        ("He works at Acme Corp. He likes it.", ["He works at Acme Corp.", "He likes it."]),
        ("On Jan. 5 it rained. No. 3 won.", ["On Jan. 5 it rained.", "No. 3 won."]),
        ("e.g. this one. and lower case goes on", ["e.g. this one. and lower case goes on"]),
        (
            "CRICKET - TAKE OVER\nLONDON 1996-08-30\nWest Indian won.",
            ["CRICKET - TAKE OVER", "LONDON 1996-08-30", "West Indian won."],
        ),
        ("a wrapped\nline goes on.\n\nNew paragraph", ["a wrapped\nline goes on.", "New paragraph"]),
        ("Wait... What?! Yes.", ["Wait...", "What?!", "Yes."]),
        ("", []),
        (" \n\t\r\n ", []),
        ("  padded.  ", ["padded."]),
        ("line one\r\nLine two", ["line one", "Line two"]),
    ],
)
def test_sentence_spans(text, expected):
    assert sentences(text) == expected


def test_spans_are_trimmed_offsets():
    text = "  First one.   Second one.\n"
    assert sentence_spans(text) == [(2, 12), (15, 26)]
