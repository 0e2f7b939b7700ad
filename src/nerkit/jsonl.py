"""JSON lines read strictly, one object per line with file:line errors, and written back as strict JSON."""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from itertools import accumulate

from nerkit.errors import NerkitError
from nerkit.files import PathLike
from nerkit.lines import check_characters, read_lines

MAX_DEPTH = 100  # arrays and objects nested deeper than this are refused: they could not be written back
TEXT_HINT = 'each line must be a JSON object with a "text" string, e.g. {"text": "Paris is big."}'
_SURROGATE = re.compile("[\ud800-\udfff]")


class NotWritable(ValueError):
    """A number the JSON parser met that strict JSON cannot hold (NaN, Infinity, 1e999, 5,000 digits)."""


def read_text_objects(path: PathLike) -> Iterator[tuple[int, dict[str, object]]]:
    """Yield (line number, object) for each non-blank line of a JSON-lines file whose objects each hold
    a "text" string (checked as a text line is: no NUL, no byte-order mark); `-` reads standard input.

    Refuses, naming the file and line, what strict JSON cannot write back: NaN and Infinity, numbers
    beyond a double (1e999) or longer than Python reads (4,300 digits), lone surrogates (`"\\ud800"`)
    and nesting deeper than `MAX_DEPTH`.
    """
    for number, line in read_lines(path):
        if not line.strip():
            continue
        row = parse_object(line, path, number)
        if not isinstance(row.get("text"), str):
            raise NerkitError('not an object with a "text" string', path=path, line=number, hint=TEXT_HINT)
        check_characters(str(row["text"]), path, number, what='the "text"', unit="character")
        yield number, row


def parse_object(
    line: str,
    path: PathLike,
    number: int,
    hint: str = TEXT_HINT,
    wanted: str = 'an object with a "text" string',
) -> dict[str, object]:
    """One line's JSON object, or NerkitError saying why it is not one nerkit can read and write back;
    `wanted` and `hint` word the error for a line that is valid JSON but not such an object."""
    try:
        row = decoder_for(line).decode(line)
    except json.JSONDecodeError as error:
        raise NerkitError(f"not valid JSON ({error.msg})", path=path, line=number, hint=hint) from None
    except NotWritable as error:
        raise NerkitError(str(error), path=path, line=number, hint="write it as a string") from None
    except RecursionError:  # nested deeper than the parser goes
        raise NerkitError(_TOO_DEEP[0], path=path, line=number, hint=_TOO_DEEP[1]) from None
    if not isinstance(row, dict):
        raise NerkitError(f"not {wanted}", path=path, line=number, hint=hint)
    problem = unwritable(row, line)
    if problem is not None:
        what, why = problem
        raise NerkitError(what, path=path, line=number, hint=why)
    return row


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def decoder_for(line: str) -> json.JSONDecoder:
    """STRICT_DECODER where the line may hold an integer too long to read; else the same decoder with
    Python's own int, which reads every shorter integer as `_short_int` would, faster."""
    limit = sys.get_int_max_str_digits()
    if not limit:
        return STRICT_DECODER
    digits = sum(map(line.count, "0123456789"))  # a quick bound (no copy of the text) before the search
    long_run = digits >= limit and re.search(rf"[0-9]{{{limit},}}", line) is not None
    return STRICT_DECODER if long_run else _SHORT_INTS_DECODER


_TOO_DEEP = (
    f"arrays or objects nested more than {MAX_DEPTH} deep",
    "flatten the data, or pass it as a string",
)


def _refuse_constant(name: str) -> float:
    raise NotWritable(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NotWritable(f"the number {_shorten(text)} is beyond the range of a double")
    return value


def _short_int(text: str) -> int:
    limit = sys.get_int_max_str_digits()
    digits = len(text.lstrip("-"))
    if limit and digits > limit:
        raise NotWritable(f"a number of {digits:,} digits, more than nerkit reads ({limit:,})")
    return int(text)


def _shorten(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}..."


# Strict JSON: NaN, Infinity, numbers beyond a double and longer than Python reads raise NotWritable.
STRICT_DECODER = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_short_int
)
_SHORT_INTS_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def unwritable(value: object, source: str | None = None) -> tuple[str, str] | None:
    """Why a parsed JSON value cannot be written back as strict UTF-8 JSON (what, hint): nesting deeper
    than `MAX_DEPTH` or a lone surrogate in a string (a key or a value); None when it can. Given the
    JSON text it was parsed from, the depth is read off the text (`text_depth`) and the surrogate
    search is passed over when the text has no \\uD800-\\uDFFF escape (the only way JSON holds one)."""
    if source is None:
        too_deep = nested_deeper_than(value, MAX_DEPTH)
    else:
        too_deep = source.count("[") + source.count("{") > MAX_DEPTH and text_depth(source) > MAX_DEPTH
    if too_deep:
        return _TOO_DEEP
    if source is not None and not _SURROGATE_ESCAPE.search(source):
        return None
    found = _SURROGATE.search(json.dumps(value, ensure_ascii=False))
    if found is not None:
        return (
            f"a lone surrogate \\u{ord(found.group()):04x} (half of a UTF-16 pair) is not a character",
            "write the whole pair (e.g. \\ud83d\\ude00) or the character itself",
        )
    return None


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def text_depth(source: str) -> int:
    """How deep valid JSON text nests, as `nested_deeper_than` counts (a value alone is 1): its brackets
    outside strings counted, at C speed, where walking the parsed value is slow."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", source))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=1)


def nested_deeper_than(value: object, depth: int) -> bool:
    """Whether JSON `value` nests lists and objects more than `depth` deep (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > depth:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return False


def strict_json_line(row: dict[str, object]) -> str:
    """`row` as one line of strict JSON (UTF-8 text, no NaN or Infinity) with its newline.

    Raises ValueError for a NaN or an infinite float, which only a bug can put there: input is checked.
    """
    return json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n"


def scored_json(value: object, place: str | None = None) -> str:
    """`value` as strict JSON text (UTF-8 as it is, one line). A NaN or an infinite number in it, which
    only a model's score can put there (input is checked), is one NerkitError naming `place`."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise NerkitError(
            "the model gave a score that is not a number (NaN)",
            path=place,
            hint="its weights are broken: retrain it, or use an earlier copy",
        ) from None
