"""More reductions: ``prod``, ``max``/``min`` (values and indices), ``amax``/``amin``,
``argmax``/``argmin``, ``var``/``std``, ``logsumexp``, ``norm`` and ``cumsum``.

Gradients of ties follow PyTorch: a full ``max()``/``amax`` shares the gradient evenly
between the tied elements; ``max(dim)`` sends it to the one index it returned.
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

from autodiff import dtypes
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edge_of
from autodiff.ops._prep import cast, float_result, wrap_dim, wrap_dims
from autodiff.ops.elementwise import exp, sign, where
from autodiff.tensor import Size, Tensor, _make


def _return_type(name: str) -> type:
    """``(values, indices)`` named tuple printed as PyTorch's ``torch.return_types.max(...)``."""

    def __repr__(self: Any) -> str:  # noqa: N807
        return f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    return type(name, (namedtuple(name, ["values", "indices"]),), {"__slots__": (), "__repr__": __repr__})


return_max = _return_type("max")
return_min = _return_type("min")


def _axes(dim: Any, ndim: int) -> tuple | None:
    """``None`` (all dims) or the wrapped tuple of dims."""
    if dim is None:
        return None
    if not isinstance(dim, int) and len(dim) == 0:
        return None
    return wrap_dims(dim, ndim) if ndim else ()


def _kept(g: Tensor, in_shape: tuple, axes: tuple | None, keepdim: bool) -> Tensor:
    """``g`` reshaped so that it broadcasts against the input (reduced dims of size 1)."""
    if keepdim and axes is not None:
        return g
    if axes is None:
        return g.reshape((1,) * len(in_shape))
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(in_shape)))


def _count(in_shape: tuple, axes: tuple | None) -> int:
    if axes is None:
        return Size(in_shape).numel()
    n = 1
    for d in axes:
        n *= in_shape[d]
    return n


def _record(a: Tensor, data: Any, node: Node | None) -> Tensor:
    return _make(data, a._be, node) if node is not None else _make(data, a._be)


def _node(a: Tensor, cls: type, axes: tuple | None, keepdim: bool) -> Node | None:
    if not (a._requires_grad and _grad.enabled):
        return None
    node = cls((edge_of(a),))
    node.in_shape, node.axes, node.keepdim = a._data.shape, axes, keepdim
    node.save(a)
    return node


class _Reduction(Node):
    __slots__ = ("in_shape", "axes", "keepdim", "extra")


# ---- prod ----------------------------------------------------------------------------
class ProdBackward0(_Reduction):
    """d prod / d x_i = product of the others; computed exactly even when some x are 0."""

    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        g = _kept(g, self.in_shape, self.axes, self.keepdim)
        be = x._be
        if not be.any(be.eq(x._data, 0)):
            total = prod(x) if self.axes is None else prod(x, self.axes[0], True)
            return g * _kept(total, self.in_shape, self.axes, True) / x
        return g * _prod_of_others(x, self.axes)


class ProdBackward1(ProdBackward0):
    __slots__ = ()


def _prod_of_others(x: Tensor, axes: tuple | None) -> Tensor:
    """For each element, the product of the other elements of its reduction group."""
    shape = x._data.shape
    if axes is None:
        flat = x.reshape(-1)
        return _prod_of_others(flat, (0,)).reshape(shape)
    (d,) = axes
    n = shape[d]
    moved = x.transpose(d, -1) if d != x.ndim - 1 else x
    # rows[..., i, j] = x[..., j] except 1 at j == i, so prod over j excludes element i.
    rows = moved.unsqueeze(-2).expand(moved.shape[:-1] + (n, n))
    be = x._be
    ar = be.arange(0, n, 1, "int64")
    eye = _make(be.eq(be.reshape(ar, (n, 1)), be.reshape(ar, (1, n))), be)
    others = prod(where(eye, 1.0, rows), -1)
    return others.transpose(d, -1) if d != x.ndim - 1 else others


def prod(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product of all elements, or over one ``dim``."""
    a = cast(input, dtype) if dtype is not None else input
    if dtype is None and a.dtype.kind != "f":
        a = cast(a, dtypes.int64)
    be = a._be
    if dim is None:
        return _record(a, be.prod(a._data), _node(a, ProdBackward0, None, False))
    axes = (wrap_dim(dim, a.ndim),) if a.ndim else ()
    data = be.prod(a._data, axes, keepdim)
    return _record(a, data, _node(a, ProdBackward1, axes or None, keepdim))


# ---- max / min / amax / amin -----------------------------------------------------------
class AmaxBackward0(_Reduction):
    """The gradient is shared evenly between the elements equal to the extremum."""

    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        be = x._be
        fn = be.amax if self.extra else be.amin
        ext = fn(x._data, self.axes, True)
        mask = be.astype(be.eq(x._data, ext), x.dtype.name)
        count = be.sum(mask, self.axes, True)
        share = _make(be.div(mask, count), be)
        return _kept(g, self.in_shape, self.axes, self.keepdim) * share


class AminBackward0(AmaxBackward0):
    __slots__ = ()


class MaxBackward1(AmaxBackward0):
    __slots__ = ()


class MinBackward1(AmaxBackward0):
    __slots__ = ()


class MaxBackward0(_Reduction):
    """``max(dim)``: the gradient goes to the returned index only."""

    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        from autodiff.ops.indexing_extra import _scatter_add_into

        if not self.in_shape:  # a 0-d input is its own maximum
            return g
        index = self.extra
        (d,) = self.axes
        g = _kept(g, self.in_shape, self.axes, self.keepdim)
        return _scatter_add_into(g, self.in_shape, d, index)


class MinBackward0(MaxBackward0):
    __slots__ = ()


def _extreme(input: Tensor, dim: Any, keepdim: bool, take_max: bool, op: str) -> Any:
    be = input._be
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        data = (be.amax if take_max else be.amin)(input._data)
        node = _node(input, MaxBackward1 if take_max else MinBackward1, None, False)
        if node is not None:
            node.extra = take_max
        return _record(input, data, node)
    if isinstance(dim, Tensor):
        from autodiff.ops.unary import maximum, minimum

        return (maximum if take_max else minimum)(input, dim)
    d = wrap_dim(dim, input.ndim)
    axis = d if input.ndim else None
    idx = (be.argmax if take_max else be.argmin)(input._data, axis, keepdim)
    data = (be.amax if take_max else be.amin)(input._data, axis, keepdim)
    indices = _make(be.astype(idx, "int64"), be)
    node = None
    if input._requires_grad and _grad.enabled:
        node = (MaxBackward0 if take_max else MinBackward0)((edge_of(input),))
        node.in_shape, node.axes, node.keepdim = input._data.shape, (d,), keepdim
        node.extra = indices if keepdim else indices.unsqueeze(d)
    values = _record(input, data, node)
    return (return_max if take_max else return_min)(values, indices)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The largest element; with ``dim``, ``(values, indices)``; with a tensor, ``maximum``."""
    return _extreme(input, dim, keepdim, True, "max")


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The smallest element; with ``dim``, ``(values, indices)``; with a tensor, ``minimum``."""
    return _extreme(input, dim, keepdim, False, "min")


def _amax_like(input: Tensor, dim: Any, keepdim: bool, take_max: bool) -> Tensor:
    axes = _axes(dim, input.ndim)
    be = input._be
    data = (be.amax if take_max else be.amin)(input._data, axes, keepdim)
    node = _node(input, AmaxBackward0 if take_max else AminBackward0, axes, keepdim)
    if node is not None:
        node.extra = take_max
    return _record(input, data, node)


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return _amax_like(input, dim, keepdim, True)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return _amax_like(input, dim, keepdim, False)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    be = input._be
    axis = None if dim is None else (wrap_dim(dim, input.ndim) if input.ndim else None)
    return _make(be.astype(be.argmax(input._data, axis, keepdim and axis is not None), "int64"), be)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    be = input._be
    axis = None if dim is None else (wrap_dim(dim, input.ndim) if input.ndim else None)
    return _make(be.astype(be.argmin(input._data, axis, keepdim and axis is not None), "int64"), be)


# ---- var / std ---------------------------------------------------------------------
class VarBackward0(_Reduction):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        n = _count(self.in_shape, self.axes) - self.extra
        centered = x - x.mean(self.axes, True) if self.axes is not None else x - x.mean()
        # n == 0 (as many elements as the correction): the variance is nan, so is its gradient.
        return _kept(g, self.in_shape, self.axes, self.keepdim) * (2.0 / n if n else math.inf) * centered


class StdBackward0(_Reduction):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        n = _count(self.in_shape, self.axes) - self.extra
        centered = x - x.mean(self.axes, True) if self.axes is not None else x - x.mean()
        sd = std(x, self.axes, correction=self.extra, keepdim=True) if self.axes is not None else std(
            x, correction=self.extra)
        # Where all values are equal (std 0) the gradient is 0, as in PyTorch, not 0 / 0.
        safe = where(sd == 0, 1.0, sd)
        return where(sd == 0, 0.0, _kept(g, self.in_shape, self.axes, self.keepdim) * centered / (safe * n))


def _var_args(dim: Any, unbiased: Any, correction: Any) -> tuple:
    if isinstance(dim, bool):  # var(x, False): the old positional ``unbiased``
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def _var(input: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any, is_std: bool) -> Tensor:
    a = float_result(input)
    dim, corr = _var_args(dim, unbiased, correction)
    axes = _axes(dim, a.ndim)
    be = a._be
    data = be.var(a._data, axes, corr, keepdim)
    if is_std:
        data = be.sqrt(data)
    node = _node(a, StdBackward0 if is_std else VarBackward0, axes, keepdim)
    if node is not None:
        node.extra = corr
    return _record(a, data, node)


def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Variance with Bessel's correction by default (``correction=1``, or ``unbiased=False``)."""
    return _var(input, dim, unbiased, keepdim, correction, False)


def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Standard deviation (the square root of ``var``)."""
    return _var(input, dim, unbiased, keepdim, correction, True)


# ---- logsumexp / norm / cumsum ---------------------------------------------------------
class LogsumexpBackward0(_Reduction):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        out = logsumexp(x, self.axes, keepdim=True)
        return _kept(g, self.in_shape, self.axes, self.keepdim) * exp(x - out)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, shifted by the maximum so it never overflows."""
    a = float_result(input)
    axes = _axes(dim, a.ndim)
    be = a._be
    m = be.amax(a._data, axes, True)
    # Rows that are all -inf (or +inf) keep their max instead of producing nan.
    m = be.where(be.isinf(m), be.zeros((), a.dtype.name), m)
    s = be.log(be.sum(be.exp(be.sub(a._data, m)), axes, True))
    data = be.add(s, m)
    if not keepdim:
        data = be.reshape(data, tuple(n for i, n in enumerate(a._data.shape)
                                      if axes is not None and i not in axes))
    return _record(a, data, _node(a, LogsumexpBackward0, axes, keepdim))


class LinalgVectorNormBackward0(_Reduction):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        p = self.extra
        g = _kept(g, self.in_shape, self.axes, self.keepdim)
        if p == 0:
            return g * 0 * x
        if p == 1:
            return g * sign(x)
        n = norm(x, p, self.axes, keepdim=True)
        if math.isinf(p):
            a = x.abs()
            be = x._be
            fn = be.amax if p > 0 else be.amin
            mask = be.astype(be.eq(a._data, fn(a._data, self.axes, True)), x.dtype.name)
            share = _make(be.div(mask, be.sum(mask, self.axes, True)), be)
            return g * sign(x) * share
        safe = where(n == 0, 1.0, n)
        if p == 2:
            return where(n == 0, 0.0, g * x / safe)
        return where(n == 0, 0.0, g * x * x.abs() ** (p - 2) / safe ** (p - 1))


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default); ``p`` is a number, inf or 'fro'."""
    a = float_result(input if dtype is None else cast(input, dtype))
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise RuntimeError(f"norm: p='{p}' is not supported (use a number, inf or 'fro')")
    p = float(p)
    axes = _axes(dim, a.ndim)
    be = a._be
    absx = be.abs(a._data)
    if p == 2:
        data = be.sqrt(be.sum(be.mul(a._data, a._data), axes, keepdim))
    elif math.isinf(p):
        data = (be.amax if p > 0 else be.amin)(absx, axes, keepdim)
    elif p == 0:
        data = be.sum(be.astype(be.ne(absx, 0), a.dtype.name), axes, keepdim)
    elif p == 1:
        data = be.sum(absx, axes, keepdim)
    else:
        data = be.pow(be.sum(be.pow(absx, p), axes, keepdim), 1.0 / p)
    node = _node(a, LinalgVectorNormBackward0, axes, keepdim)
    if node is not None:
        node.extra = p
    return _record(a, data, node)


class CumsumBackward0(Node):
    __slots__ = ("dim",)

    def backward(self, g: Tensor) -> Tensor:
        from autodiff.ops.shape_extra import flip

        return flip(cumsum(flip(g, (self.dim,)), self.dim), (self.dim,))


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sum along ``dim``."""
    a = cast(input, dtype) if dtype is not None else input
    if dtype is None and a.dtype.kind != "f":
        a = cast(a, dtypes.int64)
    d = wrap_dim(dim, a.ndim)
    be = a._be
    data = be.cumsum(a._data, d) if a.ndim else be.copy(a._data)
    if a._requires_grad and _grad.enabled:
        node = CumsumBackward0((edge_of(a),))
        node.dim = d
        return _make(data, be, node)
    return _make(data, be)

