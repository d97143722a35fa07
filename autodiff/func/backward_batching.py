"""Batching rules for the internal functions that backward formulas call, added to vmap's
table (batching.py ``RULES``) under their own names.

``vmap`` of a ``vjp_fn`` (``jacrev``: autodiff/func/transforms.py) runs the backward once
with gradients batched by the vmap; each backward op then goes through a batching rule like
any op. Most backward formulas are written with exported ops, whose internal functions
dispatch to vmap when handed a batched tensor; the ones below have no exported name: the
gradient of an indexing (``_index``, the gradient of ``index_put``) and its transpose
(``scatter_into``, the gradient of ``x[index]``) -- with basic indices (and advanced ones
side by side) the batch dimension is one more leading ``slice(None)`` -- and the gather /
scatter-add pair of ``gather``, ``sort``, ``topk``, ``max(dim)`` (one more leading dim, the
index tensor repeated for each sample). Other arguments (a batched index) return
``NOT_BATCHED``: the backward op then runs sample by sample (the engine's fallback).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autodiff._vmap_state import NOT_BATCHED
from autodiff.func.batching import RULES
from autodiff.func.vmap import BatchedTensor, batched_at, wrap

_BASIC = (slice, int, type(None), type(Ellipsis))


def _batched_index(index: Any) -> tuple | None:
    """``index`` with a leading full slice for the batch dim, when that keeps its meaning:
    NumPy moves the dims of non-adjacent advanced indices to the front."""
    index = index if isinstance(index, tuple) else (index,)
    advanced = [k for k, i in enumerate(index) if not isinstance(i, _BASIC) or isinstance(i, bool)]
    if advanced and advanced[-1] - advanced[0] + 1 != len(advanced):
        return None
    return (slice(None),) + index


def index_grad(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    g, index = args
    v, index = batched_at(g, level), _batched_index(index)
    if v is None or index is None:
        return NOT_BATCHED
    return wrap(fn(v, index), level)


def scatter_into(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    g, shape, index, accumulate = args
    v, index = batched_at(g, level), _batched_index(index)
    if v is None or index is None:
        return NOT_BATCHED
    return wrap(fn(v, (v.shape[0],) + tuple(shape), index, accumulate), level)


def _along(index: Any, size: int) -> Any:
    """An index tensor shared by the batch, repeated for each sample (None if batched)."""
    if index.__class__ is BatchedTensor:
        return None
    return index.unsqueeze(0).expand((size,) + tuple(index.shape))


def gather_grad(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    g, d, index = args
    v = batched_at(g, level)
    idx = _along(index, v.shape[0]) if v is not None else None
    if idx is None:
        return NOT_BATCHED
    return wrap(fn(v, d % max(g.ndim, 1) + 1, idx), level)


def scatter_add_into(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    src, shape, d, index = args
    v = batched_at(src, level)
    idx = _along(index, v.shape[0]) if v is not None else None
    if idx is None:
        return NOT_BATCHED
    return wrap(fn(v, (v.shape[0],) + tuple(shape), d % max(len(shape), 1) + 1, idx), level)


RULES.update({"index_grad": index_grad, "scatter_into": scatter_into, "gather_grad": gather_grad,
              "scatter_add_into": scatter_add_into})
