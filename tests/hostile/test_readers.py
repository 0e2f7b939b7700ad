"""Hostile input to the text, CoNLL and JSON-lines readers, through the CLI: one line naming file:line and
exit 2 for what cannot be read, the documented reading for the quirks that can, strict JSON out, inputs
untouched."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from nerkit.cli import main
from nerkit.jsonl import strict_json_line
from nerkit.text.document import parse_text

JSONL_HINT = 'each line must be a JSON object with a "text" string, e.g. {"text": "Paris is big."}'
NUL_HINT = "remove it; NULs often mean a binary or UTF-16 file: re-save it as UTF-8 text"
BOM_HINT = "remove it (only one at the start of a line is dropped); U+2060 is the word joiner"
SPACE_HINT = (
    "columns are split only at spaces and tabs: put a space there to split, or another character to keep "
    "one token"
)
EMPTY_HINT = "every column needs a value; look for two tabs in a row or a tab at the start"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def conll_commands(model: Path, path: Path) -> list[list[str]]:
    """Every command that reads a tagged CoNLL file (score needs its own three-column files)."""
    return [
        ["stats", str(path)],
        ["predict", str(model), str(path), "--input-format", "conll", "--threads", "1"],
        ["evaluate", str(model), str(path), "--threads", "1"],
    ]


def assert_refused(capsys, argv: list[str], path: Path, expected: str, out: str = "") -> None:
    """The command exits 2 with one line naming the file and line, having written `out`, input intact."""
    before = path.read_bytes()
    assert run(capsys, *argv) == (2, out, f"nerkit: error: {path}:{expected}\n"), argv
    assert path.read_bytes() == before


# --- JSON lines in ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b'{"text": "\\ud800"}\n',
            "1: a lone surrogate \\ud800 (half of a UTF-16 pair) is not a character; "
            "write the whole pair (e.g. \\ud83d\\ude00) or the character itself",
        ),
        (
            b'{"text": "a", "id": ["\\udfff"]}\n',
            "1: a lone surrogate \\udfff (half of a UTF-16 pair) is not a character; "
            "write the whole pair (e.g. \\ud83d\\ude00) or the character itself",
        ),
        (
            b'{"text": "a"}\n' + b"[" * 100_000 + b"\n",
            "2: arrays or objects nested more than 100 deep; flatten the data, or pass it as a string",
        ),
        (
            b'{"text": "a", "x": ' + b"[" * 101 + b"]" * 101 + b"}\n",
            "1: arrays or objects nested more than 100 deep; flatten the data, or pass it as a string",
        ),
        (
            b'{"text": "a", "n": ' + b"9" * 5000 + b"}\n",
            "1: a number of 5,000 digits, more than nerkit reads (4,300); write it as a string",
        ),
        (
            b'{"text": "a", "n": 1e999}\n',
            "1: the number 1e999 is beyond the range of a double; write it as a string",
        ),
        (
            b'{"text": "a", "n": -1e999}\n',
            "1: the number -1e999 is beyond the range of a double; write it as a string",
        ),
        (b'{"text": "a", "n": NaN}\n', "1: NaN is not a JSON number; write it as a string"),
        (b'{"text": "a", "n": [Infinity]}\n', "1: Infinity is not a JSON number; write it as a string"),
        (b'{"text": "a", "n": -Infinity}\n', "1: -Infinity is not a JSON number; write it as a string"),
        (b'{"text": "Par\\u0000is"}\n', f'1: the "text" holds a NUL character at character 4; {NUL_HINT}'),
        (b'{"text": "a"}\x00\n', f"1: the line holds a NUL character at column 14; {NUL_HINT}"),
        (
            b'{"text": "ab\\ufeffc"}\n',
            f'1: the "text" holds a byte-order mark (U+FEFF) at character 3, inside the line; {BOM_HINT}',
        ),
        (b"[1]\n", f'1: not an object with a "text" string; {JSONL_HINT}'),
        (b"\n\n{\n", f"3: not valid JSON (Expecting property name enclosed in double quotes); {JSONL_HINT}"),
    ],
)
def test_jsonl_input_nerkit_cannot_write_back_is_refused(capsys, write, tiny_model, content, expected):
    path = write(content, name="in.jsonl")
    argv = ["predict", str(tiny_model), str(path), "--input-format", "jsonl", "--threads", "1"]
    assert_refused(capsys, argv, path, expected)


@pytest.mark.parametrize(
    "content",
    [
        b'{"text": "Paris", "id": 7}\r{"text": "Ada"}\r',  # CR-only line ends
        b'{"text": "Paris", "id": 7}\n\xef\xbb\xbf{"text": "Ada"}\n',  # files joined with cat: a BOM at a line start
        b'\xef\xbb\xbf{"text": "Paris", "id": 7}\r\n{"text": "Ada"}',
    ],
)
def test_jsonl_line_quirks_read_as_documented(capsys, write, tiny_model, content):
    path = write(content, name="in.jsonl")
    code, out, _ = run(
        capsys, "predict", str(tiny_model), str(path), "--input-format", "jsonl", "--threads", "1"
    )
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(row["text"], row.get("id")) for row in rows] == [("Paris", 7), ("Ada", None)]


def test_json_out_is_strict(capsys, write, tiny_model):
    text = "Ada Voss visited Paris. \U0001f600 \u2028 caf\u00e9"
    path = write(
        json.dumps({"text": text, "n": 1.5e308, "big": 10**4000, "deep": [[[1]]]}) + "\n", name="in.jsonl"
    )
    code, out, _ = run(
        capsys, "predict", str(tiny_model), str(path), "--input-format", "jsonl", "--threads", "1"
    )
    assert code == 0
    row = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in the output"))
    assert (row["text"], row["n"], row["big"], row["deep"]) == (text, 1.5e308, 10**4000, [[[1]]])
    out.encode("utf-8")
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        strict_json_line({"confidence": float("nan")})


# --- raw text in --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"Paris is big.\nPar\x00is\n", f"2: the line holds a NUL character at column 4; {NUL_HINT}"),
        (
            "Paris\ufeff is big.\n".encode(),
            f"1: the line holds a byte-order mark (U+FEFF) at column 6, inside the line; {BOM_HINT}",
        ),
    ],
)
def test_text_with_nul_or_inner_bom_is_refused(capsys, write, tiny_model, content, expected):
    path = write(content, name="in.txt")
    first = "" if expected.startswith("1:") else json.dumps(parse_text("Paris is big.").to_json()) + "\n"
    assert_refused(capsys, ["tokenize", str(path)], path, expected, out=first)  # streams line by line
    assert_refused(capsys, ["predict", str(tiny_model), str(path), "--threads", "1"], path, expected)


def test_text_line_quirks_read_as_documented(capsys, write, tiny_model):
    """CR-only line ends end lines; a BOM at the start of any line is dropped; a no-break space or
    other Unicode white space separates tokens and offsets still slice the text."""
    path = write("\ufeffParis is big.\r\ufeffAda\u00a0Voss ran\u3000home.\r".encode(), name="in.txt")
    code, out, _ = run(capsys, "tokenize", str(path))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row["text"] for row in rows] == ["Paris is big.", "Ada\u00a0Voss ran\u3000home."]
    tokens = [[t["text"] for s in row["sentences"] for t in s["tokens"]] for row in rows]
    assert tokens == [["Paris", "is", "big", "."], ["Ada", "Voss", "ran", "home", "."]]
    for row in rows:
        for token in (t for s in row["sentences"] for t in s["tokens"]):
            assert row["text"][token["start"] : token["end"]] == token["text"]
    code, out, _ = run(capsys, "predict", str(tiny_model), str(path), "--threads", "1")
    assert code == 0
    assert [json.loads(line)["text"] for line in out.splitlines()] == [row["text"] for row in rows]


# --- CoNLL in -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"EU B-ORG\nrej\x00ects O\n", f"2: the line holds a NUL character at column 4; {NUL_HINT}"),
        (
            "EU B-ORG\nrejects\ufeff O\n".encode(),
            f"2: the line holds a byte-order mark (U+FEFF) at column 8, inside the line; {BOM_HINT}",
        ),
        (b"EU\tB-ORG\n\tO\nrejects\tO\n", f"2: column 1 is empty; {EMPTY_HINT}"),
        (b"EU\tNNP\tB-ORG\nx\t\tO\n", f"2: column 2 is empty; {EMPTY_HINT}"),
        (
            "EU B-ORG\n10\u00a0000 O\n".encode(),
            f"2: column 1 holds a no-break space (U+00A0) inside a token; {SPACE_HINT}",
        ),
        (
            "EU B-ORG\nab O\u00a0\n".encode(),
            f"2: column 2 holds a no-break space (U+00A0) inside a token; {SPACE_HINT}",
        ),
        (
            "EU B-ORG\n\u00a0ab O\n".encode(),
            f"2: column 1 holds a no-break space (U+00A0) inside a token; {SPACE_HINT}",
        ),
        (
            "EU B-ORG\nab\u3000cd O\n".encode(),
            f"2: column 1 holds an ideographic space (U+3000) inside a token; {SPACE_HINT}",
        ),
        (
            "EU B-ORG\nab\u2028cd O\n".encode(),
            f"2: column 1 holds a line separator (U+2028) inside a token; {SPACE_HINT}",
        ),
        (
            b"EU B-ORG\nab  c\x0bd O\n",
            f"2: column 2 holds a white-space control character (U+000B) inside a token; {SPACE_HINT}",
        ),
    ],
)
def test_conll_quirks_that_would_be_misread_are_refused(capsys, write, tiny_model, content, expected):
    path = write(content)
    for argv in conll_commands(tiny_model, path):
        assert_refused(capsys, argv, path, expected)


def test_score_refuses_a_no_break_space_inside_a_token(capsys, write):
    path = write("EU B-ORG B-ORG\n10\u00a0000 O O\n".encode())
    expected = f"2: column 1 holds a no-break space (U+00A0) inside a token; {SPACE_HINT}"
    assert_refused(capsys, ["score", str(path)], path, expected)


PLAIN = "EU B-ORG\nrejects O\n\nGerman B-MISC\ncall O\n"


@pytest.mark.parametrize(
    "content",
    [
        PLAIN.replace("\n", "\r").encode(),  # CR-only line ends
        PLAIN.replace("\n", "\r\n").encode(),
        ("\ufeff" + PLAIN.replace("\nGerman", "\n\ufeffGerman")).encode(),  # BOMs at line starts (cat a b)
    ],
)
def test_conll_line_quirks_read_as_documented(capsys, write, tiny_model, content):
    expected_path = write(PLAIN, name="plain.conll")
    path = write(content)
    for argv, plain_argv in zip(
        conll_commands(tiny_model, path), conll_commands(tiny_model, expected_path), strict=True
    ):
        code, out, _ = run(capsys, *argv)
        _, expected, _ = run(capsys, *plain_argv)
        assert code == 0
        assert out == expected.replace(str(expected_path), str(path))


def test_tab_separated_token_keeps_inner_white_space(capsys, write, tiny_model):
    """In a tab-separated file a column may hold spaces, a no-break space too; white space around it goes."""
    path = write("EU\tB-ORG\n10\u00a0000 \u00a0\tO\n".encode())
    argv = ["predict", str(tiny_model), str(path), "--input-format", "conll", "--format", "conll"]
    code, out, _ = run(capsys, *argv, "--threads", "1")
    assert code == 0
    assert [line.split("\t")[:2] for line in out.splitlines() if line] == [
        ["EU", "B-ORG"],
        ["10\u00a0000", "O"],
    ]


@pytest.mark.parametrize("text", ["a+" * 20_000, "." * 20_000 + "x", "x" + "!" * 20_000 + "y"])
def test_long_runs_split_in_linear_time(text):
    """A run that an email or sentence-end pattern starts inside is tried once, not at every position
    (these took 6 to 12 s each before; about 0.1 s now)."""
    started = time.perf_counter()
    document = parse_text(text)
    assert time.perf_counter() - started < 2.0
    assert "".join(token.text for token in document.tokens) == text
