"""Tests for nerkit.lines: UTF-8 lines with file:line errors."""

from __future__ import annotations

import pytest

from nerkit.errors import NerkitError
from nerkit.lines import count_line_ends, decode_lines, read_lines


def test_read_lines_numbers_lines_and_names_a_bad_byte(write):
    assert list(read_lines(write(b"\xef\xbb\xbfa\r\nb\n"))) == [(1, "a"), (2, "b")]
    path = write(b"ok\nbad \xe9\n")
    with pytest.raises(NerkitError, match=r":2: byte 0xe9 at column 5 is not UTF-8"):
        list(read_lines(path))


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"a\rb\r", ["a", "b"]),
        (b"a\rb", ["a", "b"]),
        (b"a\r\r\nb\n\rc", ["a", "", "b", "", "c"]),
        (b"a\r\n", ["a"]),
        (b"\r", [""]),
        (b"", []),
    ],
)
def test_lf_crlf_and_a_lone_cr_each_end_a_line(data, lines):
    assert list(decode_lines(data, "f")) == list(enumerate(lines, start=1))
    assert count_line_ends(data) == len(lines) - (0 if data.endswith((b"\n", b"\r")) or not data else 1)


def test_a_bom_at_the_start_of_any_line_is_dropped():
    data = "\ufeffa\n\ufeffb\r\n\ufeff".encode()
    assert list(decode_lines(data, "f", first_line=7)) == [(7, "a"), (8, "b"), (9, "")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"ok\rx\x00y\n",
            "f:2: the line holds a NUL character at column 2; remove it; NULs often mean a binary "
            "or UTF-16 file: re-save it as UTF-8 text",
        ),
        (
            "ok\n\ufeff\ufeffb".encode(),
            "f:2: the line holds a byte-order mark (U+FEFF) at column 1, inside the "
            "line; remove it (only one at the start of a line is dropped); U+2060 is the word joiner",
        ),
    ],
)
def test_a_nul_or_a_bom_inside_a_line_is_refused(data, message):
    with pytest.raises(NerkitError) as caught:
        list(decode_lines(data, "f"))
    assert str(caught.value) == message


@pytest.mark.parametrize("block", [1, 2, 3, 7, 1 << 14])
def test_lines_are_the_same_whatever_the_block_size(monkeypatch, block):
    import nerkit.lines

    monkeypatch.setattr(nerkit.lines, "BLOCK_BYTES", block)
    data = "a\r\nb\rc\n\ufeffd é\n\n🙂\r".encode()
    assert list(decode_lines(data, "f")) == [(1, "a"), (2, "b"), (3, "c"), (4, "d é"), (5, ""), (6, "🙂")]
    with pytest.raises(NerkitError, match=r"^f:3: byte 0xff at column 2 is not UTF-8"):
        list(decode_lines(b"a\r\nb\r\nc\xff\n", "f"))
    with pytest.raises(NerkitError, match=r"^f:2: the line holds a NUL character at column 1"):
        list(decode_lines(b"a\n\x00\n", "f"))
