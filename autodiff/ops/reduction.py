"""Reductions and their broadcasting twins: ``sum``, ``mean``, ``sum_to``, ``expand``.

``sum_to`` is the one place where broadcasting is undone: every binary op hands its
gradient to it, and its backward is ``expand`` (whose backward is ``sum_to`` again).
"""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edge_of
from autodiff.ops._prep import cast, wrap_dims
from autodiff.tensor import Size, Tensor, _make, as_view


class ExpandBackward0(Node):
    __slots__ = ("in_shape",)

    def backward(self, g: Tensor) -> Tensor:
        return sum_to(g, self.in_shape)


class SumBackward0(Node):
    __slots__ = ("in_shape",)

    def backward(self, g: Tensor) -> Tensor:
        return _expand(g, self.in_shape)


class SumBackward1(Node):
    """Sum over ``dims`` (kept as size-1 dims when ``keepdim``)."""

    __slots__ = ("in_shape", "dims", "keepdim")

    def backward(self, g: Tensor) -> Tensor:
        if not self.keepdim:
            g = g.reshape(_kept_shape(self.in_shape, self.dims))
        return _expand(g, self.in_shape)


class MeanBackward0(Node):
    __slots__ = ("in_shape", "count")

    def backward(self, g: Tensor) -> Tensor:
        return _expand(g / self.count, self.in_shape)


class MeanBackward1(SumBackward1):
    __slots__ = ("count",)

    def backward(self, g: Tensor) -> Tensor:
        return SumBackward1.backward(self, g / self.count)


def _kept_shape(shape: tuple, dims: tuple) -> tuple:
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def expand(t: Tensor, *sizes: Any) -> Tensor:
    """Broadcast ``t`` to ``sizes`` (a view; -1 keeps a size): ``expand(t, 2, 3)`` or ``expand(t, (2, 3))``."""
    shape = tuple(sizes[0]) if len(sizes) == 1 and not isinstance(sizes[0], int) else tuple(sizes)
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
    return t if t._data.shape == shape else _expand_view(t, shape)


def _expand_view(t: Tensor, shape: tuple) -> Tensor:
    """The broadcast view of ``t`` at a valid ``shape``, recorded as ``ExpandBackward0``."""
    in_shape = t._data.shape
    be = t._be
    out = _make(be.broadcast_to(t._data, shape), be)
    as_view(out, t, expand, (shape,))
    if t._requires_grad and _grad.enabled:
        node = ExpandBackward0((edge_of(t),))
        node.in_shape = in_shape
        out.grad_fn = node
        out._requires_grad = True
    return out


def broadcast_to(t: Tensor, shape: Any) -> Tensor:
    return expand(t, shape)


def sum_to(t: Tensor, shape: tuple) -> Tensor:
    """Sum ``t`` down to ``shape`` (the inverse of broadcasting ``shape`` up to t's shape)."""
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
    if t._requires_grad and _grad.enabled:
        node = SumBackward1((edge_of(t),))
        node.in_shape = in_shape
        node.dims = dims
        node.keepdim = True
        out.grad_fn = node
        out._requires_grad = True
    return out


def sum_to_size(t: Tensor, *size: Any) -> Tensor:
    shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else size
    return sum_to(t, shape)


def _reduce(t: Tensor, dim: Any, keepdim: bool, mean: bool, dtype: Any, op: str) -> Tensor:
    if dtype is not None:
        t = cast(t, dtype)
    elif mean:
        if t._data.dtype.kind != "f":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {_type_word(t.dtype)}"
            )
    elif t._data.dtype.kind != "f":
        t = cast(t, dtypes.int64)
    be = t._be
    in_shape = t._data.shape
    if dim is None or (not isinstance(dim, int) and len(dim) == 0 and not keepdim):
        data = (be.mean if mean else be.sum)(t._data)
        out = _make(data, be)
        if t._requires_grad and _grad.enabled:
            node = (MeanBackward0 if mean else SumBackward0)((edge_of(t),))
            node.in_shape = in_shape
            if mean:
                node.count = Size(in_shape).numel()
            out.grad_fn = node
            out._requires_grad = True
        return out
    dims = wrap_dims(dim, len(in_shape)) if in_shape else ()
    data = (be.mean if mean else be.sum)(t._data, dims, keepdim)
    out = _make(data, be)
    if t._requires_grad and _grad.enabled:
        node = (MeanBackward1 if mean else SumBackward1)((edge_of(t),))
        node.in_shape = in_shape
        node.dims = dims
        node.keepdim = keepdim
        if mean:
            count = 1
            for d in dims:
                count *= in_shape[d]
            node.count = count
        out.grad_fn = node
        out._requires_grad = True
    return out


def _type_word(dt: dtypes.dtype) -> str:
    return {"int64": "Long", "int32": "Int", "bool": "Bool", "int16": "Short", "int8": "Char",
            "uint8": "Byte"}.get(dt.name, dt.name)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    """Sum of all elements, or over ``dim`` (an int or a tuple of ints)."""
    return _reduce(input, dim, keepdim, False, dtype, "sum")


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mean of all elements, or over ``dim``; floating tensors only, as in PyTorch."""
    return _reduce(input, dim, keepdim, True, dtype, "mean")
