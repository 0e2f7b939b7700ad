"""Tests for nerkit.lines: UTF-8 lines with file:line errors."""

from __future__ import annotations

import pytest

from nerkit.errors import NerkitError
from nerkit.lines import read_lines


def test_read_lines_numbers_lines_and_names_a_bad_byte(write):
    assert list(read_lines(write(b"\xef\xbb\xbfa\r\nb\n"))) == [(1, "a"), (2, "b")]
    path = write(b"ok\nbad \xe9\n")
    with pytest.raises(NerkitError, match=r":2: byte 0xe9 at column 5 is not UTF-8"):
        list(read_lines(path))
