"""Triangular parts of matrices: ``tril``, ``triu`` (differentiable, batched over leading
dims) and the index factories ``tril_indices``, ``triu_indices``."""

from __future__ import annotations

import operator
from typing import Any

from autodiff import dtypes
from autodiff._vmap_state import NOT_BATCHED
from autodiff._vmap_state import state as _vmap
from autodiff.autograd.forward_rules import symmetric_jvp
from autodiff.autograd.node import Node
from autodiff.autograd.record import record
from autodiff.ops.creation import factory_backend
from autodiff.tensor import Tensor, _make


def _keep(be: Any, rows: int, cols: int, diagonal: int, lower: bool) -> Any:
    """The bool mask of the kept entries: ``j - i <= diagonal`` (lower) or ``>=`` (upper)."""
    i = be.reshape(be.arange(0, rows, 1, "int64"), (rows, 1))
    j = be.reshape(be.arange(0, cols, 1, "int64"), (1, cols))
    offset = be.sub(j, i)
    return be.le(offset, diagonal) if lower else be.ge(offset, diagonal)


def _triangle(input: Tensor, diagonal: int, lower: bool, node_cls: type) -> Tensor:
    name = "tril" if lower else "triu"
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    diagonal = operator.index(diagonal)
    be = input._be
    rows, cols = input._data.shape[-2:]
    keep = _keep(be, rows, cols, diagonal, lower)
    zero = be.zeros((), input.dtype.name)
    out = _make(be.where(keep, input._data, zero), be)
    return record(out, node_cls, (input,), diagonal=diagonal)


class TrilBackward0(Node):
    __slots__ = ("diagonal",)
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        return tril(g, self.diagonal)


class TriuBackward0(Node):
    __slots__ = ("diagonal",)
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        return triu(g, self.diagonal)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (``j - i <= diagonal``) of the last two dims; the rest zero."""
    if _vmap.active and (r := _vmap.dispatch("tril", tril, (input, diagonal), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    return _triangle(input, diagonal, True, TrilBackward0)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (``j - i >= diagonal``) of the last two dims; the rest zero."""
    if _vmap.active and (r := _vmap.dispatch("triu", triu, (input, diagonal), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    return _triangle(input, diagonal, False, TriuBackward0)


def _indices(row: int, col: int, offset: int, lower: bool, dtype: Any, device: Any) -> Tensor:
    row, col, offset = operator.index(row), operator.index(col), operator.index(offset)
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got {row}" if row < 0
                           else f"col must be non-negative, got {col}")
    be = factory_backend(device)
    keep = _keep(be, row, col, offset, lower)
    rows = be.broadcast_to(be.reshape(be.arange(0, row, 1, "int64"), (row, 1)), (row, col))
    cols = be.broadcast_to(be.reshape(be.arange(0, col, 1, "int64"), (1, col)), (row, col))
    out = be.stack([be.getitem(rows, (keep,)), be.getitem(cols, (keep,))], 0)
    return _make(be.astype(out, (dtype or dtypes.int64).name), be)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 **kwargs: Any) -> Tensor:
    """The (2, N) row/column indices of the lower triangle of a ``row`` x ``col`` matrix."""
    return _indices(row, col, offset, True, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 **kwargs: Any) -> Tensor:
    """The (2, N) row/column indices of the upper triangle of a ``row`` x ``col`` matrix."""
    return _indices(row, col, offset, False, dtype, device)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ("tril", "triu", "tril_indices", "triu_indices")
METHODS = {"tril": tril, "triu": triu}
