"""Reductions: ``sum``, ``mean``, ``prod``, ``max``/``min`` (values and indices), ``amax``/``amin``,
``argmax``/``argmin``, ``var``/``std``, ``logsumexp``, ``norm``, and the scan ``cumsum``.

Gradients of ties follow PyTorch: a full ``max()``/``amax`` shares the gradient evenly
between the tied elements; ``max(dim)`` sends it to the one index it returned.
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

from autodiff import dtypes
from autodiff._vmap_state import NOT_BATCHED
from autodiff._vmap_state import state as _vmap
from autodiff.autograd.forward_rules import derived_jvp
from autodiff.autograd.node import Node
from autodiff.autograd.record import record
from autodiff.ops._defaults import OMITTED
from autodiff.ops._prep import (
    cast,
    float_result,
    no_kernel,
    not_none,
    wrap_dim,
    wrap_dim_or_none,
    wrap_dims,
)
from autodiff.ops.arithmetic import maximum, minimum
from autodiff.ops.broadcasting import SumBackward1, _expand
from autodiff.ops.comparison import where
from autodiff.ops.indexing import _scatter_add_into
from autodiff.ops.shape import flip
from autodiff.ops.unary import exp, sign
from autodiff.tensor import Tensor, _make


class SumBackward0(Node):
    __slots__ = ("in_shape",)

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return tangents[0].sum()

    def backward(self, g: Tensor) -> Tensor:
        return _expand(g, self.in_shape)


class MeanBackward0(Node):
    __slots__ = ("in_shape", "count")

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return tangents[0].sum() / self.count

    def backward(self, g: Tensor) -> Tensor:
        return _expand(g / self.count, self.in_shape)


class MeanBackward1(SumBackward1):
    __slots__ = ("count",)

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return tangents[0].sum(self.dims, self.keepdim) / self.count

    def backward(self, g: Tensor) -> Tensor:
        return SumBackward1.backward(self, g / self.count)


def _reduce(t: Tensor, dim: Any, keepdim: bool, mean: bool, dtype: Any, op: str) -> Tensor:
    if dtype is not None:
        if mean and dtype.kind != "f":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Optional dtype must be either a floating "
                f"point or complex dtype. Got: {dtype.word}"
            )
        if dtype.kind == "b":  # PyTorch sums into a bool: whether any element is nonzero
            return _truth(t, dim, keepdim, False)
        t = cast(t, dtype)
    elif mean:
        if t._data.dtype.kind != "f":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {t.dtype.word}"
            )
    elif t._data.dtype.kind != "f":
        t = cast(t, dtypes.int64)
    be = t._be
    in_shape = t._data.shape
    every = dim is None or (not isinstance(dim, int) and len(dim) == 0)  # (PyTorch: () is all dims)
    if every and not keepdim:
        out = _make((be.mean if mean else be.sum)(t._data), be)
        if mean:
            return record(out, MeanBackward0, (t,), in_shape=in_shape, count=math.prod(in_shape))
        return record(out, SumBackward0, (t,), in_shape=in_shape)
    dims = tuple(range(len(in_shape))) if every else wrap_dims(dim, len(in_shape))
    out = _make((be.mean if mean else be.sum)(t._data, dims, keepdim), be)
    if mean:
        return record(out, MeanBackward1, (t,), in_shape=in_shape, dims=dims, keepdim=keepdim,
                      count=math.prod([in_shape[d] for d in dims]))
    return record(out, SumBackward1, (t,), in_shape=in_shape, dims=dims, keepdim=keepdim)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    """Sum of all elements, or over ``dim`` (an int or a tuple of ints)."""
    return _reduce(input, dim, keepdim, False, dtype, "sum")


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mean of all elements, or over ``dim``; floating tensors only, as in PyTorch."""
    return _reduce(input, dim, keepdim, True, dtype, "mean")


def _return_type(name: str, fields: tuple = ("values", "indices")) -> type:
    """A named tuple printed as PyTorch's ``torch.return_types.<name>(...)``."""

    def __repr__(self: Any) -> str:  # noqa: N807
        body = ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields)
        return f"torch.return_types.{name}(\n{body})"

    return type(name, (namedtuple(name, list(fields)),), {"__slots__": (), "__repr__": __repr__})


return_max = _return_type("max")


return_min = _return_type("min")


def _axes(dim: Any, ndim: int) -> tuple | None:
    """``None`` (all dims) or the wrapped tuple of dims."""
    if dim is None:
        return None
    if not isinstance(dim, int) and len(dim) == 0:
        return None
    return wrap_dims(dim, ndim)


def _kept(g: Tensor, in_shape: tuple, axes: tuple | None, keepdim: bool) -> Tensor:
    """``g`` reshaped so that it broadcasts against the input (reduced dims of size 1)."""
    if keepdim and axes is not None:
        return g
    if axes is None:
        return g.reshape((1,) * len(in_shape))
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(in_shape)))


def _count(in_shape: tuple, axes: tuple | None) -> int:
    return math.prod(in_shape) if axes is None else math.prod([in_shape[d] for d in axes])


def _record(out: Tensor, cls: type, a: Tensor, axes: tuple | None, keepdim: bool, extra: Any = None) -> Tensor:
    """``record`` for the reductions below: they all save their input and read the same fields."""
    return record(out, cls, (a,), saved=(a,), in_shape=a._data.shape, axes=axes, keepdim=keepdim, extra=extra)


class _Reduction(Node):
    __slots__ = ("in_shape", "axes", "keepdim", "extra")


# ---- prod ----------------------------------------------------------------------------
class ProdBackward0(_Reduction):
    """d prod / d x_i = product of the others; computed exactly even when some x are 0."""

    __slots__ = ()
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        g = _kept(g, self.in_shape, self.axes, self.keepdim)
        if not self.in_shape:
            # A 0-d input is its own product: the gradient is g itself (a constant where g
            # is, as in PyTorch), not g * x / x.
            return g
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


def prod(input: Tensor, dim: Any = OMITTED, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product of all elements, or over one ``dim``."""
    if dim is OMITTED:
        dim = None
    elif dim is None:
        raise not_none("prod", "dim")
    if dtype is not None and dtype.kind == "b":  # a bool product: whether every element is nonzero
        return _truth(input, dim, keepdim, True)
    a = cast(input, dtype) if dtype is not None else input
    if dtype is None and a.dtype.kind != "f":
        a = cast(a, dtypes.int64)
    be = a._be
    if dim is None:
        return _record(_make(be.prod(a._data), be), ProdBackward0, a, None, False)
    axes = wrap_dims(dim, a.ndim)
    data = be.prod(a._data, axes, keepdim)
    return _record(_make(data, be), ProdBackward1, a, axes or None, keepdim)


# ---- max / min / amax / amin -----------------------------------------------------------
class AmaxBackward0(_Reduction):
    """The gradient is shared evenly between the elements equal to the extremum."""

    __slots__ = ()
    jvp = derived_jvp

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
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        if not self.in_shape:  # a 0-d input is its own maximum
            return g
        (d,) = self.axes
        index = self.extra if self.keepdim else self.extra.unsqueeze(d)
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
        return _record(_make(data, be), MaxBackward1 if take_max else MinBackward1, input, None, False, take_max)
    if isinstance(dim, Tensor):
        return (maximum if take_max else minimum)(input, dim)
    d = wrap_dim(dim, input.ndim)
    axis = d if input.ndim else None
    idx = (be.argmax if take_max else be.argmin)(input._data, axis, keepdim)
    data = (be.amax if take_max else be.amin)(input._data, axis, keepdim)
    indices = _make(be.astype(idx, "int64"), be)
    values = record(_make(data, be), MaxBackward0 if take_max else MinBackward0, (input,),
                    in_shape=input._data.shape, axes=(d,), keepdim=keepdim, extra=indices)
    return (return_max if take_max else return_min)(values, indices)


def max(input: Tensor, dim: Any = OMITTED, keepdim: bool = False) -> Any:  # noqa: A001
    """The largest element; with ``dim``, ``(values, indices)``; with a tensor, ``maximum``."""
    if dim is None:
        raise not_none("max", "dim")
    return _extreme(input, None if dim is OMITTED else dim, keepdim, True, "max")


def min(input: Tensor, dim: Any = OMITTED, keepdim: bool = False) -> Any:  # noqa: A001
    """The smallest element; with ``dim``, ``(values, indices)``; with a tensor, ``minimum``."""
    if dim is None:
        raise not_none("min", "dim")
    return _extreme(input, None if dim is OMITTED else dim, keepdim, False, "min")


def _amax_like(input: Tensor, dim: Any, keepdim: bool, take_max: bool) -> Tensor:
    axes = _axes(dim, input.ndim)
    be = input._be
    data = (be.amax if take_max else be.amin)(input._data, axes, keepdim)
    return _record(_make(data, be), AmaxBackward0 if take_max else AminBackward0, input, axes, keepdim, take_max)


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return _amax_like(input, dim, keepdim, True)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return _amax_like(input, dim, keepdim, False)


def _no_bool(input: Tensor, op: str, dim: Any) -> None:
    """argmax/argmin's checks: no bool input, no empty input without a dim."""
    if input.dtype.kind == "b":
        raise RuntimeError(f"{op}(): does not support bool input")
    if dim is None and not input.numel():
        raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    _no_bool(input, "argmax", dim)
    be = input._be
    axis = None if dim is None else wrap_dim_or_none(dim, input.ndim)
    return _make(be.astype(be.argmax(input._data, axis, keepdim), "int64"), be)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    _no_bool(input, "argmin", dim)
    be = input._be
    axis = None if dim is None else wrap_dim_or_none(dim, input.ndim)
    return _make(be.astype(be.argmin(input._data, axis, keepdim), "int64"), be)


# ---- var / std ---------------------------------------------------------------------
class VarBackward0(_Reduction):
    __slots__ = ()
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        n = _count(self.in_shape, self.axes) - self.extra
        centered = x - x.mean(self.axes, True) if self.axes is not None else x - x.mean()
        # n == 0 (as many elements as the correction): the variance is nan, so is its gradient.
        return _kept(g, self.in_shape, self.axes, self.keepdim) * (2.0 / n if n else math.inf) * centered


class StdBackward0(_Reduction):
    __slots__ = ()
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        n = _count(self.in_shape, self.axes) - self.extra
        centered = x - x.mean(self.axes, True) if self.axes is not None else x - x.mean()
        sd = std(x, self.axes, correction=self.extra, keepdim=True) if self.axes is not None else std(
            x, correction=self.extra)
        # Where all values are equal (std 0) the gradient is 0, as in PyTorch, not 0 / 0.
        safe = where(sd == 0, 1.0, sd)
        return where(sd == 0, 0.0, _kept(g, self.in_shape, self.axes, self.keepdim) * centered / (safe * n))


def _var_args(dim: Any, unbiased: Any, correction: Any, op: str = "var") -> tuple:
    if unbiased is None:  # (PyTorch's overloads take a bool or nothing)
        raise not_none(op, "unbiased", "bool")
    if unbiased is OMITTED:
        unbiased = None
    if isinstance(dim, bool):  # var(x, False): the old positional ``unbiased``
        dim, unbiased = None, dim
    if unbiased is not None and unbiased.__class__ is not bool:
        raise TypeError(f"var(): argument 'unbiased' must be bool, not {type(unbiased).__name__}")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def _var(input: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any, is_std: bool) -> Tensor:
    if input.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    a = float_result(input)
    dim, corr = _var_args(dim, unbiased, correction, "std" if is_std else "var")
    axes = _axes(dim, a.ndim)
    be = a._be
    data = be.var(a._data, axes, corr, keepdim)
    if is_std:
        data = be.sqrt(data)
    return _record(_make(data, be), StdBackward0 if is_std else VarBackward0, a, axes, keepdim, corr)


def var(input: Tensor, dim: Any = None, unbiased: Any = OMITTED, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Variance with Bessel's correction by default (``correction=1``, or ``unbiased=False``)."""
    return _var(input, dim, unbiased, keepdim, correction, False)


def std(input: Tensor, dim: Any = None, unbiased: Any = OMITTED, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Standard deviation (the square root of ``var``)."""
    return _var(input, dim, unbiased, keepdim, correction, True)


# ---- logsumexp / norm / cumsum ---------------------------------------------------------
class LogsumexpBackward0(_Reduction):
    __slots__ = ()

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        (x,) = self.unpack()
        kept = _kept(out, self.in_shape, self.axes, self.keepdim)
        return (tangents[0] * exp(x - kept)).sum(self.axes, self.keepdim)

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        out = logsumexp(x, () if self.axes is None else self.axes, keepdim=True)
        return _kept(g, self.in_shape, self.axes, self.keepdim) * exp(x - out)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, shifted by the maximum so it never overflows."""
    if dim is None:
        raise not_none("logsumexp", "dim", "tuple of ints")
    a = float_result(input)
    axes = _axes(dim, a.ndim)
    be = a._be
    if a.numel():
        m = be.amax(a._data, axes, True)
        # Rows that are all -inf (or +inf) keep their max instead of producing nan.
        m = be.where(be.isinf(m), be.zeros((), a.dtype.name), m)
        s = be.log(be.sum(be.exp(be.sub(a._data, m)), axes, True))
        data = be.add(s, m)
    else:  # no elements: every sum is 0, its log -inf (and there is no maximum to shift by)
        kept = tuple(1 if axes is None or i in axes else n for i, n in enumerate(a._data.shape))
        data = be.full(kept, float("-inf"), a.dtype.name)
    if not keepdim:
        data = be.reshape(data, tuple(n for i, n in enumerate(a._data.shape)
                                      if axes is not None and i not in axes))
    return _record(_make(data, be), LogsumexpBackward0, a, axes, keepdim)


class LinalgVectorNormBackward0(_Reduction):
    __slots__ = ()
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        p = self.extra
        g = _kept(g, self.in_shape, self.axes, self.keepdim)
        if p == 0:
            return None  # piecewise constant: no gradient at all, as in PyTorch
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
    if dim is not None:  # dim's type first, as PyTorch's argument parser checks it
        for j, d in enumerate(dim if isinstance(dim, (tuple, list)) else (dim,)):
            if d.__class__ is bool or not hasattr(d, "__index__"):
                raise TypeError(f"norm(): argument 'dim' must be tuple of ints, but found element of type "
                                f"{type(d).__name__} at pos {j}")
    if (dtype or input.dtype).kind != "f":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {input.dtype.word}"
        )
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
    return _record(_make(data, be), LinalgVectorNormBackward0, a, axes, keepdim, p)


class CumsumBackward0(Node):
    __slots__ = ("dim",)

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return cumsum(tangents[0], self.dim)

    def backward(self, g: Tensor) -> Tensor:
        return flip(cumsum(flip(g, (self.dim,)), self.dim), (self.dim,))


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sum along ``dim``."""
    if _vmap.active and (r := _vmap.dispatch("cumsum", cumsum, (input, dim), {"dtype": dtype})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    if dtype is not None and dtype.kind == "b":
        raise no_kernel("cumsum_out", input, dtype)
    a = cast(input, dtype) if dtype is not None else input
    if dtype is None and a.dtype.kind != "f":
        a = cast(a, dtypes.int64)
    d = wrap_dim(dim, a.ndim)
    be = a._be
    data = be.cumsum(a._data, d) if a.ndim else be.copy(a._data)
    return record(_make(data, be), CumsumBackward0, (a,), dim=d)


# ---- logical and NaN-aware reductions, moments in pairs ------------------------------------
def _truth(input: Tensor, dim: Any, keepdim: bool, want_all: bool) -> Tensor:
    be = input._be
    axes = _axes(dim, input.ndim)
    # all: no element is zero; any: some element is not (NaN counts as true, as in PyTorch).
    hits = be.eq(input._data, 0) if want_all else be.ne(input._data, 0)
    count = be.sum(be.astype(hits, "int64"), axes, keepdim)
    return _make(be.eq(count, 0) if want_all else be.gt(count, 0), be)


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element (over ``dim``) is non-zero."""
    return _truth(input, dim, keepdim, True)


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element (over ``dim``) is non-zero."""
    return _truth(input, dim, keepdim, False)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    be = input._be
    return _make(be.sum(be.astype(be.ne(input._data, 0), "int64"), _axes(dim, input.ndim)), be)


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``sum`` treating NaN as zero (NaNs get no gradient)."""
    if input.dtype.kind == "f":
        input = where(input != input, 0.0, input)
    return sum(input, dim, keepdim, dtype=dtype)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``mean`` of the non-NaN elements."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {input.dtype.word}")
    be = input._be
    count = be.sum(be.astype(be.logical_not(be.isnan(input._data)), input.dtype.name), _axes(dim, input.ndim),
                   keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / _make(count, be)


def var_mean(input: Tensor, dim: Any = None, unbiased: Any = OMITTED, keepdim: bool = False, *,
             correction: Any = None) -> tuple:
    """``(var, mean)`` over ``dim`` (see ``var``)."""
    dim, corr = _var_args(dim, unbiased, correction)
    return var(input, dim, keepdim=keepdim, correction=corr), mean(float_result(input), dim, keepdim)


def std_mean(input: Tensor, dim: Any = None, unbiased: Any = OMITTED, keepdim: bool = False, *,
             correction: Any = None) -> tuple:
    """``(std, mean)`` over ``dim`` (see ``std``)."""
    dim, corr = _var_args(dim, unbiased, correction)
    return std(input, dim, keepdim=keepdim, correction=corr), mean(float_result(input), dim, keepdim)


return_aminmax = _return_type("aminmax", ("min", "max"))


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """``(min, max)`` of all elements or over ``dim`` (ties share the gradient, as ``amax``)."""
    if input.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    d = () if dim is None else dim
    return return_aminmax(amin(input, d, keepdim), amax(input, d, keepdim))


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm of ``input - other``."""
    return norm(input - other, p)


def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return sum(input.diagonal())


# ---- scans: cumprod, logcumsumexp ----------------------------------------------------------
class CumprodBackward0(Node):
    """Without zeros: a reversed cumsum of ``g * out`` divided by ``x``; with zeros, each
    element's gradient from the products of the others (exact)."""

    __slots__ = ("dim",)
    jvp = derived_jvp
    saved_outputs = (1,)

    def backward(self, g: Tensor) -> Tensor:
        x, out = self.unpack()
        d = self.dim
        if not x.ndim:
            return g
        be = x._be
        if not be.any(be.eq(x._data, 0)):
            return flip(cumsum(flip(g * out, (d,)), d), (d,)) / x
        n = x._data.shape[d]
        xm = x.movedim(d, -1)
        # others[..., i, j] = x[..., j] except 1 at j == i; its cumprod along j is, for j >= i,
        # d out[j] / d x[i].
        rows = xm.unsqueeze(-2).expand(xm.shape[:-1] + (n, n))
        ar = be.arange(0, n, 1, "int64")
        eye = _make(be.eq(be.reshape(ar, (n, 1)), be.reshape(ar, (1, n))), be)
        upper = _make(be.astype(be.le(be.reshape(ar, (n, 1)), be.reshape(ar, (1, n))), x.dtype.name), be)
        jac = cumprod(where(eye, 1.0, rows), -1) * upper
        gm = g.movedim(d, -1).unsqueeze(-2)
        return (jac * gm).sum(-1).movedim(-1, d)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running product along ``dim``."""
    if dtype is not None and dtype.kind == "b":
        raise no_kernel("cumprod_out", input, dtype)
    a = cast(input, dtype) if dtype is not None else input
    if dtype is None and a.dtype.kind != "f":
        a = cast(a, dtypes.int64)
    d = wrap_dim(dim, a.ndim)
    be = a._be
    data = be.cumprod(a._data, d) if a.ndim else be.copy(a._data)
    return record(_make(data, be), CumprodBackward0, (a,), saved=(a,), save_output=True, dim=d)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``dim``, shifted by the maximum along ``dim``."""
    a = float_result(input)
    d = wrap_dim(dim, a.ndim)
    if not a.ndim:
        return a * 1.0
    be = a._be
    m = be.amax(a._data, (d,), True)
    m = _make(be.where(be.isinf(m), be.zeros((), a.dtype.name), m), be)
    return cumsum(exp(a - m), d).log() + m


# ---- covariance ----------------------------------------------------------------------------
def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """Covariance of the variables in the rows of ``input`` (observations in columns)."""
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with {input.ndim} dimensions")
    x = float_result(input)
    x = x.reshape(1, -1) if x.ndim < 2 else x
    n = x._data.shape[1]
    w = None
    if fweights is not None:
        w = fweights.to(x.dtype)
    if aweights is not None:
        w = aweights.to(x.dtype) if w is None else w * aweights.to(x.dtype)
    if w is None:
        avg = x.mean(1, keepdim=True)
        total = float(n)
        factor = total - correction
    else:
        total_t = w.sum()
        avg = (x * w).sum(1, keepdim=True) / total_t
        total = total_t
        if aweights is None:
            factor = total_t - correction
        else:
            factor = total_t - correction * (w * aweights.to(x.dtype)).sum() / total_t
    xc = x - avg
    xw = xc if w is None else xc * w
    if isinstance(factor, float) and factor < 0:
        factor = 0.0  # PyTorch's rule: too few observations give inf/nan, not a negative scale
    out = xw.mm(xc.t()) / factor
    return out.squeeze() if input.ndim < 2 else out


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the variables in the rows of ``input``."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    stddev = d.sqrt()
    c = c / stddev.unsqueeze(1) / stddev.unsqueeze(0)
    return c.clamp(-1, 1)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = (
    "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std",
    "logsumexp", "norm", "cumsum", "all", "any", "count_nonzero", "nansum", "nanmean", "var_mean",
    "std_mean", "aminmax", "dist", "trace", "cumprod", "logcumsumexp", "cov", "corrcoef",
)
METHODS = {name: globals()[name] for name in FUNCTIONS}
