"""A safetensors weights file checked before its tensors are read: the header read within a bound, and
the tensors it declares held against those a model needs and against the file's size."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

from nerkit.errors import NerkitError
from nerkit.model.spec import TensorShape

LENGTH_BYTES = 8  # the little-endian header length that opens a safetensors file
MOST_HEADER_BYTES = 1 << 20  # a tagger's header takes a few kB; a transformer's, tens of kB
MOST_DIMENSIONS = 16  # of one tensor (a tagger's have at most 3)
DTYPE_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}


@dataclass(frozen=True)
class Declared:
    """One tensor as a header declares it: dtype, shape and its bytes' place after the header."""

    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int


@dataclass(frozen=True)
class Header:
    """What a safetensors header declares, and how many bytes of tensor data follow it in the file."""

    tensors: dict[str, Declared]
    data_bytes: int


def most_file_bytes(expected: dict[str, TensorShape]) -> int:
    """The largest a weights file holding just `expected` may be: their bytes plus the largest header."""
    return LENGTH_BYTES + MOST_HEADER_BYTES + sum(shape.size for shape in expected.values())


def read_header(path: Path) -> Header:
    """The header of the safetensors file at `path` (a regular file), read and parsed without reading
    more than MOST_HEADER_BYTES; raises NerkitError saying what is wrong."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        length_bytes = handle.read(LENGTH_BYTES)
        if len(length_bytes) < LENGTH_BYTES:
            raise _invalid(f"it has {size:,} bytes, fewer than the {LENGTH_BYTES} of its header length")
        length = int.from_bytes(length_bytes, "little")
        if length > min(MOST_HEADER_BYTES, size - LENGTH_BYTES):
            raise _invalid(f"its header length says {length:,} bytes, {_over_what(size)}")
        raw = handle.read(length)
    return Header(_declared(raw), size - LENGTH_BYTES - length)


def check_filled(header: Header) -> None:
    """Raise NerkitError unless the tensors' bytes fill the data after the header, one after another,
    as the safetensors format requires."""
    problem = _gap(header)
    if problem:
        raise _invalid(problem)


def check_weights_file(header: Header, expected: dict[str, TensorShape]) -> None:
    """Raise NerkitError unless a safetensors `header` declares exactly the `expected` tensors (names,
    shapes, dtypes) and their bytes fill the file: so reading the file allocates what the spec needs."""
    mismatch = header_mismatch(expected, header.tensors)
    if mismatch:
        raise NerkitError(f"does not fit the spec in model.json: {mismatch}")
    check_filled(header)


def header_mismatch(expected: dict[str, TensorShape], found: dict[str, Declared]) -> str:
    """The first difference between the tensors a spec needs and those a header declares, or ''."""
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            return f"tensor {name} is missing"
        if name not in expected:
            return f"tensor {name} is not part of this model"
        needed, declared = expected[name], found[name]
        if declared.shape != needed.shape:
            return f"tensor {name} has shape {declared.shape}, the spec needs {needed.shape}"
        if declared.dtype != needed.dtype:
            return f"tensor {name} is {declared.dtype}, the model needs {needed.dtype}"
    return ""


def _over_what(size: int) -> str:
    if size - LENGTH_BYTES < MOST_HEADER_BYTES:
        return f"more than the {max(0, size - LENGTH_BYTES):,} the file holds after it"
    return f"more than the {MOST_HEADER_BYTES:,} a header may take"


def _invalid(problem: str) -> NerkitError:
    return NerkitError(f"is not a valid safetensors file: {problem}")


def _declared(raw: bytes) -> dict[str, Declared]:
    """The tensors of a header's JSON text (its "__metadata__" left out)."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise _invalid("its header is not JSON") from None
    if not isinstance(data, dict):
        raise _invalid("its header is not a JSON object")
    return {name: _tensor(name, entry) for name, entry in data.items() if name != "__metadata__"}


def _tensor(name: str, entry: object) -> Declared:
    """One header entry as a Declared tensor, its dtype known and its offsets fitting its shape."""
    if not isinstance(entry, dict):
        raise _invalid(f"its entry for {name} is not an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
        raise _invalid(f"tensor {name} has no known dtype")
    if not _whole_numbers(shape):
        raise _invalid(f"tensor {name} has no valid shape")
    if not _whole_numbers(offsets) or len(offsets) != 2 or offsets[0] > offsets[1]:
        raise _invalid(f"tensor {name} has no valid data_offsets")
    declared = Declared(dtype, tuple(shape), offsets[0], offsets[1])
    if declared.end - declared.begin != math.prod(declared.shape) * DTYPE_BYTES[dtype]:
        raise _invalid(
            f"tensor {name} takes {declared.end - declared.begin:,} bytes, not what its shape needs"
        )
    return declared


def _whole_numbers(value: object) -> TypeGuard[list[int]]:
    """Whether `value` is a list of at most MOST_DIMENSIONS whole numbers from 0 to 2**63 - 1."""
    if not isinstance(value, list) or len(value) > MOST_DIMENSIONS:
        return False
    return all(isinstance(item, int) and not isinstance(item, bool) and 0 <= item < 2**63 for item in value)


def _gap(header: Header) -> str:
    """How the tensors' bytes fail to fill the data after the header one after another, or ''."""
    position = 0
    for name, tensor in sorted(header.tensors.items(), key=lambda item: (item[1].begin, item[1].end)):
        if tensor.begin != position:
            return f"tensor {name} starts at byte {tensor.begin:,} of the data, not {position:,}"
        position = tensor.end
    if position != header.data_bytes:
        return f"its tensors take {position:,} bytes, but {header.data_bytes:,} follow the header"
    return ""
