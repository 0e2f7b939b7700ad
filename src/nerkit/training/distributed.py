"""Data-parallel training over torch.distributed processes: each takes a share of every batch and their
gradients are summed, so the updates are those of one process on the whole batch."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.distributed as dist


def world() -> tuple[int, int]:
    """This process's rank and the number of processes (0 and 1 outside torch.distributed)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shard(rows: Sequence[int], rank: int, size: int) -> list[int]:
    """This process's share of a batch's rows: every size-th row from its rank."""
    return list(rows[rank::size])


def broadcast_parameters(module: torch.nn.Module) -> None:
    """Give every process rank 0's weights."""
    for tensor in module.state_dict().values():
        dist.broadcast(tensor, src=0)


def sum_gradients(dense: Sequence[torch.Tensor], sparse: torch.Tensor | None = None) -> None:
    """Sum the gradients of every process into each: the dense ones in one flat buffer (a missing one
    counts as zeros), and the rows of a sparse embedding gradient gathered from all."""
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in dense]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    offset = 0
    for parameter, grad in zip(dense, grads, strict=True):
        parameter.grad = flat[offset : offset + grad.numel()].view_as(grad)
        offset += grad.numel()
    if sparse is not None:
        sparse.grad = _gather_sparse(sparse)


def _gather_sparse(parameter: torch.Tensor) -> torch.Tensor:
    """The sum over processes of a sparse row gradient [rows, dim], as one coalesced sparse tensor."""
    rows, dim = parameter.shape
    if parameter.grad is None:
        indices = torch.zeros(0, dtype=torch.long)
        values = torch.zeros((0, dim), dtype=parameter.dtype)
    else:
        grad = parameter.grad.coalesce()
        indices, values = grad.indices()[0], grad.values()
    size = torch.tensor([indices.numel()])
    sizes = [torch.zeros_like(size) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, size)
    longest = int(max(s.item() for s in sizes))
    padded_indices = torch.zeros(longest, dtype=torch.long)
    padded_values = torch.zeros((longest, dim), dtype=values.dtype)
    padded_indices[: indices.numel()] = indices
    padded_values[: indices.numel()] = values
    all_indices = [torch.zeros_like(padded_indices) for _ in sizes]
    all_values = [torch.zeros_like(padded_values) for _ in sizes]
    dist.all_gather(all_indices, padded_indices)
    dist.all_gather(all_values, padded_values)
    kept = [slice(0, int(s.item())) for s in sizes]
    merged_indices = torch.cat([i[k] for i, k in zip(all_indices, kept, strict=True)])
    merged_values = torch.cat([v[k] for v, k in zip(all_values, kept, strict=True)])
    merged = torch.sparse_coo_tensor(
        merged_indices.unsqueeze(0), merged_values, (rows, dim), check_invariants=True
    )
    return merged.coalesce()


def sum_scalar(value: float) -> float:
    """The sum of a number over all processes."""
    tensor = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(tensor)
    return float(tensor.item())


def broadcast_flag(flag: bool) -> bool:
    """Rank 0's flag, on every process."""
    tensor = torch.tensor([1 if flag else 0])
    dist.broadcast(tensor, src=0)
    return bool(tensor.item())
