"""Training checkpoints: what resuming needs (weights, optimiser moments, random states, the run's
progress) in one safetensors file beside the model, its state as JSON in the header, written with one
rename."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from nerkit.errors import NerkitError
from nerkit.files import PathLike, replace_file

CHECKPOINT = "checkpoint.safetensors"
OLD_CHECKPOINT = "checkpoint"  # the folder nerkit 0.1 checkpointed in before one-file checkpoints
FORMAT = "nerkit-checkpoint"
Tensors = dict[str, torch.Tensor]


def save_checkpoint(output: PathLike, tensors: Tensors, state: dict[str, Any]) -> None:
    """Write `tensors` and the JSON `state` as output/checkpoint.safetensors, replacing the last one whole."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    header = {"format": FORMAT, "state": json.dumps(state)}
    contiguous = _unshared(tensors)
    replace_file(output / CHECKPOINT, lambda path: save_file(contiguous, path, metadata=header))


def _unshared(tensors: Tensors) -> Tensors:
    """The tensors made contiguous, a copy of each that shares memory with an earlier one (tied
    weights), which safetensors refuses to write twice."""
    seen: set[int] = set()
    unshared: Tensors = {}
    for name, tensor in tensors.items():
        tensor = tensor.detach().contiguous()
        place = tensor.untyped_storage().data_ptr()
        unshared[name] = tensor.clone() if place in seen and tensor.numel() else tensor
        seen.add(place)
    return unshared


def load_checkpoint(output: PathLike) -> tuple[Tensors, dict[str, Any]]:
    """The tensors and state of output/checkpoint.safetensors, checked to be a nerkit checkpoint."""
    path = Path(output) / CHECKPOINT
    if not path.exists():
        raise NerkitError("nothing to resume: no checkpoint", path=path, hint="train without --resume")
    try:
        with safe_open(path, framework="pt") as handle:
            header = handle.metadata() or {}
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
        state = json.loads(header["state"])
        if header.get("format") != FORMAT or not isinstance(state, dict):
            raise ValueError("not a nerkit checkpoint")
    except (SafetensorError, OSError, KeyError, ValueError) as error:
        raise damaged_checkpoint(output, error) from None
    return tensors, state


def damaged_checkpoint(output: PathLike, error: Exception) -> NerkitError:
    """The error for a checkpoint that cannot be read or does not fit this run."""
    return NerkitError(
        f"the checkpoint is damaged or from another run ({_first_line(error)})",
        path=Path(output) / CHECKPOINT,
        hint="train again without --resume",
    )


def _first_line(error: Exception) -> str:
    """The first line of an error's message (torch's size mismatches run to many lines)."""
    lines = str(error).strip().splitlines()
    return lines[0].rstrip(":. ") if lines else type(error).__name__


def remove_checkpoint(output: PathLike) -> None:
    """Delete the checkpoint once a run has finished and cannot be resumed (and an older nerkit's)."""
    (Path(output) / CHECKPOINT).unlink(missing_ok=True)
    shutil.rmtree(Path(output) / OLD_CHECKPOINT, ignore_errors=True)


def optimizer_state(optimizers: Sequence[torch.optim.Optimizer]) -> tuple[Tensors, dict[str, Any]]:
    """The optimisers' moments as tensors (`optimizer{n}.{index}.{key}`) and the rest as JSON: their
    step counts and parameter groups."""
    tensors: Tensors = {}
    scalars: list[dict[str, dict[str, float | int]]] = []
    groups = []
    for number, optimizer in enumerate(optimizers):
        saved = optimizer.state_dict()
        scalars.append({})
        groups.append(saved["param_groups"])
        for index, values in saved["state"].items():
            for key, value in values.items():
                if isinstance(value, torch.Tensor) and value.dim() > 0:
                    tensors[f"optimizer{number}.{index}.{key}"] = value
                else:  # SparseAdam counts steps in a Python int, Adam in a 0-d tensor
                    scalars[number].setdefault(str(index), {})[key] = (
                        value if isinstance(value, int) else float(value)
                    )
    return tensors, {"optimizer_scalars": scalars, "param_groups": groups}


def restore_optimizers(
    optimizers: Sequence[torch.optim.Optimizer], tensors: Tensors, state: dict[str, Any]
) -> None:
    """Put back what `optimizer_state` saved."""
    for number, optimizer in enumerate(optimizers):
        restored: dict[int, dict[str, Any]] = {}
        prefix = f"optimizer{number}."
        for key, value in tensors.items():
            if key.startswith(prefix):
                index, name = key[len(prefix) :].split(".", 1)
                restored.setdefault(int(index), {})[name] = value
        for index_text, values in state["optimizer_scalars"][number].items():
            for name, value in values.items():
                restored.setdefault(int(index_text), {})[name] = (
                    value if isinstance(value, int) else torch.tensor(value, dtype=torch.float32)
                )
        optimizer.load_state_dict({"state": restored, "param_groups": state["param_groups"][number]})


def prefixed(prefix: str, tensors: Tensors) -> Tensors:
    """The tensors whose names start with `prefix`, under their names without it."""
    return {name[len(prefix) :]: value for name, value in tensors.items() if name.startswith(prefix)}


def random_state(rng: random.Random) -> dict[str, Any]:
    """Python's and torch's random states, as JSON."""
    return {"rng": rng.getstate(), "torch_rng": torch.get_rng_state().tolist()}


def restore_random_state(rng: random.Random, state: dict[str, Any]) -> None:
    """Put back what `random_state` saved."""
    rng.setstate(_tuple_state(state["rng"]))
    torch.set_rng_state(torch.tensor(state["torch_rng"], dtype=torch.uint8))


def _tuple_state(state: list[Any]) -> tuple[Any, ...]:
    """random.Random state back from JSON lists to the nested tuples it needs."""
    return tuple(_tuple_state(item) if isinstance(item, list) else item for item in state)
