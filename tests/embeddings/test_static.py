"""Tests for nerkit.embeddings.static: every vectors format, keep/max_words, and every bad input."""

from __future__ import annotations

import gc
import gzip
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest

from nerkit.embeddings.static import load_vectors
from nerkit.errors import NerkitError

HINT = "give GloVe text, word2vec text or binary (.bin), or fastText .vec, plain or .gz"
TRUNCATED = "the file is truncated; download it again"

WORDS = ["the", "paris", "Berlin", "cat", "dog"]
# Values that float32 holds exactly, so equality is exact.
VECTORS = np.array(
    [
        [0.5, -1.0, 2.0],
        [0.25, 0.125, -0.5],
        [1.5, -2.25, 3.0],
        [-0.75, 4.0, 0.0],
        [8.0, -0.0625, 1.0],
    ],
    dtype=np.float32,
)


def text_lines(words=WORDS, vectors=VECTORS, trailing: str = "") -> list[bytes]:
    """One `word v1 v2 v3` line per word, without the line ending."""
    return [
        (word + " " + " ".join(str(float(value)) for value in vector) + trailing).encode()
        for word, vector in zip(words, vectors, strict=True)
    ]


def glove(end: bytes = b"\n") -> bytes:
    return b"".join(line + end for line in text_lines())


def word2vec_binary(words=WORDS, vectors=VECTORS, count: int | None = None, newline: bool = True) -> bytes:
    count = len(words) if count is None else count
    data = f"{count} {vectors.shape[1]}\n".encode()
    for word, vector in zip(words, vectors, strict=True):
        data += word.encode() + b" " + struct.pack(f"<{len(vector)}f", *vector) + (b"\n" if newline else b"")
    return data


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def load_error(path: Path, **options) -> str:
    with pytest.raises(NerkitError) as info:
        load_vectors(path, **options)
    return str(info.value)


def assert_all_five(loaded, fmt: str) -> None:
    assert loaded.words == WORDS
    assert loaded.vectors.dtype == np.float32
    assert loaded.vectors.shape == (5, 3)
    np.testing.assert_array_equal(loaded.vectors, VECTORS)
    assert loaded.dim == 3
    assert loaded.format == fmt
    assert loaded.total == 5


# Formats


def test_glove_text_plain_and_gzip_give_the_same_words_and_vectors(tmp_path):
    plain = load_vectors(write(tmp_path, "glove.txt", glove()))
    packed = load_vectors(write(tmp_path, "glove.txt.gz", gzip.compress(glove())))
    assert_all_five(plain, "glove")
    assert_all_five(packed, "glove")


def test_gzip_is_detected_by_content_not_name(tmp_path):
    assert_all_five(load_vectors(write(tmp_path, "glove.txt", gzip.compress(glove()))), "glove")


def test_word2vec_text_with_count_dim_header(tmp_path):
    path = write(tmp_path, "vectors.txt", b"5 3\n" + glove())
    assert_all_five(load_vectors(path), "word2vec-text")


def test_fasttext_vec_with_header_and_trailing_spaces(tmp_path):
    data = b"5 3\n" + b"".join(line + b"\n" for line in text_lines(trailing=" "))
    assert_all_five(load_vectors(write(tmp_path, "wiki.en.vec", data)), "word2vec-text")


def test_fasttext_vec_gzip(tmp_path):
    data = b"5 3\n" + b"".join(line + b"\n" for line in text_lines(trailing=" "))
    assert_all_five(load_vectors(write(tmp_path, "wiki.en.vec.gz", gzip.compress(data))), "word2vec-text")


@pytest.mark.parametrize("name", ["vectors.bin", "vectors.bin.gz"])
def test_word2vec_binary_plain_and_gzip(tmp_path, name):
    data = word2vec_binary()
    if name.endswith(".gz"):
        data = gzip.compress(data)
    assert_all_five(load_vectors(write(tmp_path, name, data)), "word2vec-binary")


def test_word2vec_binary_without_newlines_after_vectors(tmp_path):
    path = write(tmp_path, "vectors.bin", word2vec_binary(newline=False))
    assert_all_five(load_vectors(path), "word2vec-binary")


def test_word2vec_binary_with_utf8_words(tmp_path):
    words = ["café", "日本", "naïve"]
    path = write(tmp_path, "vectors.bin", word2vec_binary(words, VECTORS[:3]))
    loaded = load_vectors(path)
    assert loaded.words == words
    np.testing.assert_array_equal(loaded.vectors, VECTORS[:3])


# keep, max_words, duplicates, total


def test_keep_exact_words_only(tmp_path):
    loaded = load_vectors(write(tmp_path, "glove.txt", glove()), keep={"cat", "Berlin", "absent"})
    assert loaded.words == ["Berlin", "cat"]
    np.testing.assert_array_equal(loaded.vectors, VECTORS[[2, 3]])
    assert loaded.total == 5


def test_keep_matches_a_file_word_through_lower_case(tmp_path):
    loaded = load_vectors(write(tmp_path, "glove.txt", glove()), keep={"Paris"})
    assert loaded.words == ["paris"]
    np.testing.assert_array_equal(loaded.vectors, VECTORS[[1]])
    assert loaded.total == 5


@pytest.mark.parametrize("name", ["vectors.txt", "vectors.bin"])
def test_keep_works_for_word2vec_text_and_binary(tmp_path, name):
    data = word2vec_binary() if name.endswith(".bin") else b"5 3\n" + glove()
    loaded = load_vectors(write(tmp_path, name, data), keep={"DOG", "Paris"})
    assert loaded.words == ["paris", "dog"]
    np.testing.assert_array_equal(loaded.vectors, VECTORS[[1, 4]])
    assert loaded.total == 5


def test_max_words_keeps_the_first_words_too(tmp_path):
    loaded = load_vectors(write(tmp_path, "glove.txt", glove()), keep={"dog"}, max_words=2)
    assert loaded.words == ["the", "paris", "dog"]
    np.testing.assert_array_equal(loaded.vectors, VECTORS[[0, 1, 4]])
    assert loaded.total == 5


def test_max_words_with_an_empty_keep(tmp_path):
    loaded = load_vectors(write(tmp_path, "glove.txt", glove()), keep=set(), max_words=3)
    assert loaded.words == ["the", "paris", "Berlin"]
    np.testing.assert_array_equal(loaded.vectors, VECTORS[:3])


def test_keep_none_keeps_every_word_whatever_max_words(tmp_path):
    assert_all_five(load_vectors(write(tmp_path, "glove.txt", glove()), max_words=2), "glove")


def test_nothing_kept_gives_an_empty_matrix_with_the_dimension(tmp_path):
    loaded = load_vectors(write(tmp_path, "glove.txt", glove()), keep={"absent"})
    assert loaded.words == []
    assert loaded.vectors.shape == (0, 3)
    assert loaded.vectors.dtype == np.float32
    assert loaded.dim == 3
    assert loaded.total == 5


def test_duplicates_first_wins_and_total_counts_every_word(tmp_path):
    data = glove() + b"cat 9.0 9.0 9.0\nthe 7.0 7.0 7.0\n"
    loaded = load_vectors(write(tmp_path, "glove.txt", data))
    assert loaded.words == WORDS
    np.testing.assert_array_equal(loaded.vectors, VECTORS)
    assert loaded.total == 7


def test_duplicates_first_wins_in_binary(tmp_path):
    words = [*WORDS, "cat"]
    vectors = np.vstack([VECTORS, np.full((1, 3), 9.0, dtype=np.float32)])
    loaded = load_vectors(write(tmp_path, "vectors.bin", word2vec_binary(words, vectors)))
    assert loaded.words == WORDS
    np.testing.assert_array_equal(loaded.vectors, VECTORS)
    assert loaded.total == 6


# Text layout


def test_glove_word_with_spaces_is_one_word(tmp_path):
    data = b"the 0.5 -1.0 2.0\n. . . 0.25 0.125 -0.5\nNew York 1.5 -2.25 3.0\n"
    loaded = load_vectors(write(tmp_path, "glove.840B.txt", data))
    assert loaded.words == ["the", ". . .", "New York"]
    np.testing.assert_array_equal(loaded.vectors, VECTORS[:3])
    assert loaded.dim == 3
    assert loaded.total == 3


def test_crlf_line_endings_and_blank_lines_are_tolerated(tmp_path):
    lines = text_lines()
    data = lines[0] + b"\r\n\r\n" + lines[1] + b"\r\n" + b"   \r\n" + b"\r\n".join(lines[2:]) + b"\r\n\r\n"
    assert_all_five(load_vectors(write(tmp_path, "glove.txt", data)), "glove")


def test_crlf_word2vec_text_and_fasttext(tmp_path):
    data = b"5 3\r\n" + b"".join(line + b"\r\n" for line in text_lines(trailing=" "))
    assert_all_five(load_vectors(write(tmp_path, "wiki.vec", data)), "word2vec-text")


def test_crlf_word2vec_binary_header(tmp_path):
    data = word2vec_binary().replace(b"5 3\n", b"5 3\r\n", 1)
    assert_all_five(load_vectors(write(tmp_path, "vectors.bin", data)), "word2vec-binary")


def test_last_line_without_newline(tmp_path):
    assert_all_five(load_vectors(write(tmp_path, "glove.txt", glove().rstrip(b"\n"))), "glove")


def test_blank_first_line_is_tolerated(tmp_path):
    assert_all_five(load_vectors(write(tmp_path, "glove.txt", b"\n" + glove())), "glove")


def test_gzip_file_is_closed_after_loading(tmp_path):
    path = write(tmp_path, "glove.txt.gz", gzip.compress(glove()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_vectors(path)
        gc.collect()
    assert [str(warning.message) for warning in caught if warning.category is ResourceWarning] == []


# Bad inputs


def test_missing_file(tmp_path):
    path = tmp_path / "absent.txt"
    assert load_error(path) == f"{path}: no such vectors file; check the --embeddings path"


def test_folder(tmp_path):
    assert load_error(tmp_path) == f"{tmp_path}: is a folder, not a vectors file; {HINT}"


@pytest.mark.parametrize("name", ["empty.txt", "empty.bin"])
def test_empty_file(tmp_path, name):
    path = write(tmp_path, name, b"")
    assert load_error(path) == f"{path}: the vectors file is empty; {HINT}"


def test_whitespace_only_file_is_empty(tmp_path):
    path = write(tmp_path, "blank.txt", b"  \n")
    assert load_error(path) == f"{path}: the vectors file is empty; {HINT}"


def test_header_without_rows(tmp_path):
    path = write(tmp_path, "vectors.txt", b"5 3\n\n")
    assert load_error(path) == f"{path}: the vectors file holds no vectors; {HINT}"


def test_glove_row_with_too_few_numbers_names_its_line(tmp_path):
    lines = text_lines()
    data = lines[0] + b"\n\n" + lines[1] + b"\ncat 0.5 1.0\n" + lines[4] + b"\n"
    path = write(tmp_path, "glove.txt", data)
    assert load_error(path) == (
        f"{path}:4: 2 numbers where 3 were expected; the file is truncated or mixes dimensions; {HINT}"
    )


def test_word2vec_text_row_with_too_few_numbers_counts_the_header_line(tmp_path):
    lines = text_lines()
    data = b"5 3\n" + lines[0] + b"\n" + lines[1] + b"\ncat\n"
    path = write(tmp_path, "vectors.txt", data)
    assert load_error(path) == (
        f"{path}:4: 0 numbers where 3 were expected; the file is truncated or mixes dimensions; {HINT}"
    )


def test_too_few_numbers_in_a_word_that_is_not_kept_still_fails(tmp_path):
    path = write(tmp_path, "glove.txt", glove() + b"zebra 1.0\n")
    assert load_error(path, keep={"cat"}) == (
        f"{path}:6: 1 numbers where 3 were expected; the file is truncated or mixes dimensions; {HINT}"
    )


def test_glove_first_line_without_numbers(tmp_path):
    path = write(tmp_path, "glove.txt", b"hello\n" + glove())
    assert load_error(path) == f"{path}:1: a word with no numbers after it; {HINT}"


def test_value_that_is_not_a_number(tmp_path):
    lines = text_lines()
    data = b"\n".join([*lines[:3], b"cat 0.5 x 1.0", lines[4]]) + b"\n"
    path = write(tmp_path, "glove.txt", data)
    assert load_error(path) == f"{path}:4: a value that is not a number; {HINT}"


def test_value_that_is_not_a_number_in_word2vec_text(tmp_path):
    path = write(tmp_path, "vectors.vec", b"2 3\nthe 0.5 -1.0 2.0\ncat 0.5 1,5 1.0\n")
    assert load_error(path) == f"{path}:3: a value that is not a number; {HINT}"


def test_word_that_is_not_utf8(tmp_path):
    lines = text_lines()
    data = lines[0] + b"\ncaf\xe9 0.5 1.0 2.0\n" + lines[1] + b"\n"
    path = write(tmp_path, "glove.txt", data)
    assert load_error(path) == f"{path}:2: a word is not UTF-8; re-save the vectors file as UTF-8"


def test_binary_word_that_is_not_utf8_names_its_row(tmp_path):
    data = word2vec_binary().replace(b"paris ", b"par\xefs ", 1)
    path = write(tmp_path, "vectors.bin", data)
    assert load_error(path) == f"{path}:2: a word is not UTF-8; re-save the vectors file as UTF-8"


def test_binary_with_fewer_words_than_its_header(tmp_path):
    path = write(tmp_path, "vectors.bin", word2vec_binary(WORDS[:3], VECTORS[:3], count=5))
    assert load_error(path) == f"{path}: ends after 3 of the 5 words its header announces; {TRUNCATED}"


def test_binary_ending_inside_a_word(tmp_path):
    path = write(tmp_path, "vectors.bin", word2vec_binary(WORDS[:4], VECTORS[:4], count=5) + b"do")
    assert load_error(path) == f"{path}: ends after 4 of the 5 words its header announces; {TRUNCATED}"


def test_binary_ending_inside_a_vector(tmp_path):
    path = write(tmp_path, "vectors.bin", word2vec_binary()[:-6])
    assert load_error(path) == f"{path}: ends inside the vector of word 5 of 5; {TRUNCATED}"


def test_binary_gzip_ending_inside_a_vector(tmp_path):
    path = write(tmp_path, "vectors.bin.gz", gzip.compress(word2vec_binary()[:-6]))
    assert load_error(path) == f"{path}: ends inside the vector of word 5 of 5; {TRUNCATED}"


def test_damaged_gzip(tmp_path):
    # A valid gzip header, then bytes that are not a deflate stream ("g" starts a block of invalid type).
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    path = write(tmp_path, "glove.txt.gz", header + b"garbage, not deflate data")
    assert load_error(path) == (
        f"{path}: cannot be decompressed (Error -3 while decompressing data: invalid block type); "
        "the .gz file is damaged; download it again"
    )


def test_truncated_gzip(tmp_path):
    path = write(tmp_path, "glove.txt.gz", gzip.compress(glove() * 20)[:-12])
    assert load_error(path) == (
        f"{path}: cannot be decompressed (Compressed file ended before the end-of-stream marker was reached); "
        "the .gz file is damaged; download it again"
    )


@pytest.mark.parametrize("value", [b"nan", b"NaN", b"inf", b"-inf"])
def test_nan_or_infinite_values(tmp_path, value):
    path = write(tmp_path, "glove.txt", glove() + b"zebra 1.0 " + value + b" 2.0\n")
    assert load_error(path) == f"{path}: holds NaN or infinite values; the vectors file is damaged"


def test_nan_in_binary(tmp_path):
    vectors = VECTORS.copy()
    vectors[2, 1] = np.nan
    path = write(tmp_path, "vectors.bin", word2vec_binary(WORDS, vectors))
    assert load_error(path) == f"{path}: holds NaN or infinite values; the vectors file is damaged"


@pytest.mark.parametrize("name", ["vectors.bin", "vectors.bin.gz"])
def test_bin_without_header(tmp_path, name):
    data = gzip.compress(glove()) if name.endswith(".gz") else glove()
    path = write(tmp_path, name, data)
    assert load_error(path) == f"{path}: a .bin file without a word2vec header line; {HINT}"
