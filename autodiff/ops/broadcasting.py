"""Broadcasting and its undoing: ``expand``/``broadcast_to`` and ``sum_to``/``sum_to_size``.

``sum_to`` is the one place where broadcasting is undone: every binary op hands its
gradient to it, and its backward is ``expand`` (whose backward is ``sum_to`` again).
``sum_to`` records ``SumBackward1``, the node of ``sum(dim, keepdim=True)``, as PyTorch does.
"""

from __future__ import annotations

from typing import Any

from autodiff._vmap_state import NOT_BATCHED
from autodiff._vmap_state import state as _vmap
from autodiff.autograd.node import Node
from autodiff.autograd.record import record
from autodiff.ops._prep import size_arg
from autodiff.tensor import Tensor, _make, as_view


class ExpandBackward0(Node):
    __slots__ = ("in_shape",)

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return tangents[0].expand(out._data.shape)

    def backward(self, g: Tensor) -> Tensor:
        return sum_to(g, self.in_shape)


class SumBackward1(Node):
    """Sum over ``dims`` (kept as size-1 dims when ``keepdim``)."""

    __slots__ = ("in_shape", "dims", "keepdim")

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        # (sum_to also drops leading dims: the result takes out's shape)
        return tangents[0].sum(self.dims, self.keepdim).reshape(out._data.shape)

    def backward(self, g: Tensor) -> Tensor:
        if not self.keepdim:
            g = g.reshape(_kept_shape(self.in_shape, self.dims))
        return _expand(g, self.in_shape)


def _kept_shape(shape: tuple, dims: tuple) -> tuple:
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def expand(t: Tensor, *sizes: Any) -> Tensor:
    """Broadcast ``t`` to ``sizes`` (a view; -1 keeps a size): ``expand(t, 2, 3)`` or ``expand(t, (2, 3))``."""
    if _vmap.active and (r := _vmap.dispatch("expand", expand, (t, *sizes), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    shape = size_arg(sizes, "expand")
    in_shape = t._data.shape
    if shape == in_shape:
        return t
    if len(shape) < len(in_shape):
        raise RuntimeError(
            f"expand({t.type()}{{{list(in_shape)}}}, size={list(shape)}): the number of sizes "
            f"provided ({len(shape)}) must be greater or equal to the number of dimensions in "
            f"the tensor ({len(in_shape)})"
        )
    lead = len(shape) - len(in_shape)
    for i in range(lead):
        if shape[i] == -1:
            raise RuntimeError(
                f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {i}"
            )
    if -1 in shape:
        shape = tuple(in_shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
    for i, n in enumerate(in_shape):
        if n != 1 and n != shape[lead + i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({shape[lead + i]}) must match the existing "
                f"size ({n}) at non-singleton dimension {lead + i}.  Target sizes: "
                f"{list(shape)}.  Tensor sizes: {list(in_shape)}"
            )
    return _expand_view(t, shape)


def _expand(t: Tensor, shape: tuple) -> Tensor:
    """``expand`` to a ``shape`` known to be valid (the backward of a reduction)."""
    if _vmap.active and t.__class__ is not Tensor:  # (a gradient batched by vmap: func.vjp)
        return t.expand(shape)
    return t if t._data.shape == shape else _expand_view(t, shape)


def _expand_view(t: Tensor, shape: tuple) -> Tensor:
    """The broadcast view of ``t`` at a valid ``shape``, recorded as ``ExpandBackward0``."""
    in_shape = t._data.shape
    be = t._be
    out = _make(be.broadcast_to(t._data, shape), be)
    as_view(out, t, expand, (shape,))
    return record(out, ExpandBackward0, (t,), in_shape=in_shape)


def broadcast_to(t: Tensor, shape: Any) -> Tensor:
    return expand(t, shape)


def sum_to(t: Tensor, shape: tuple) -> Tensor:
    """Sum ``t`` down to ``shape`` (the inverse of broadcasting ``shape`` up to t's shape)."""
    if _vmap.active and t.__class__ is not Tensor:
        return _sum_to_logical(t, shape)
    in_shape = t._data.shape
    if in_shape == shape:
        return t
    lead = len(in_shape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and in_shape[lead + i] != 1
    )
    be = t._be
    data = be.sum(t._data, dims, True)
    if lead:
        data = be.reshape(data, shape)
    out = _make(data, be)
    return record(out, SumBackward1, (t,), in_shape=in_shape, dims=dims, keepdim=True)


def _sum_to_logical(t: Tensor, shape: tuple) -> Tensor:
    """``sum_to`` by the exported ops, which vmap's batching rules carry: for a gradient
    batched by vmap (``vmap`` of a ``func.vjp``), whose array is the whole batch's."""
    in_shape = tuple(t.shape)
    if in_shape == tuple(shape):
        return t
    lead = len(in_shape) - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and in_shape[lead + i] != 1)
    out = t.sum(dims, keepdim=True) if dims else t
    return out.reshape(tuple(shape)) if lead else out


def sum_to_size(t: Tensor, *size: Any) -> Tensor:
    shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else size
    if not all(isinstance(n, int) for n in shape):
        raise TypeError(f"sum_to_size(): argument 'size' must be tuple of ints, but got {list(shape)}")
    in_shape = t._data.shape
    lead = len(in_shape) - len(shape)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, in_shape[lead:], strict=True)):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(in_shape)}}}.")
    return sum_to(t, shape)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ("broadcast_to", "sum_to_size")
METHODS = {
    "expand": expand, "expand_as": lambda self, other: expand(self, other.shape),
    "broadcast_to": broadcast_to, "sum_to_size": sum_to_size,
}
