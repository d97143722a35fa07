"""Elementwise functions (``exp``, ``log``, ``clamp``, ``where``) and comparisons.

Comparisons and logical ops return bool tensors and are never differentiable.
"""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edge_of
from autodiff.ops._prep import as_tensor, float_result, promote
from autodiff.ops.reduction import sum_to
from autodiff.tensor import Tensor, _make


class ExpBackward0(Node):
    """d exp(x) = exp(x): only the output is saved (as in PyTorch, so the input may change
    in place). Building a graph, the saved output gets this node as its grad_fn again."""

    __slots__ = ()
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (result,) = self.unpack()
        if _grad.enabled:
            result = _make(result._data, result._be, self)
        return g * result


def exp(input: Tensor) -> Tensor:
    a = float_result(input)
    be = a._be
    data = be.exp(a._data)
    if a._requires_grad and _grad.enabled:
        node = ExpBackward0((edge_of(a),))
        out = _make(data, be, node)
        result = _make(data, be)
        result._version = out._version  # an in-place change of the output is caught too
        node.save(result)
        return out
    return _make(data, be)


class LogBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / x


def log(input: Tensor) -> Tensor:
    a = float_result(input)
    be = a._be
    data = be.log(a._data)
    if a._requires_grad and _grad.enabled:
        node = LogBackward0((edge_of(a),))
        node.save(a)
        return _make(data, be, node)
    return _make(data, be)


class ClampBackward1(Node):
    """clamp with scalar bounds: the gradient passes where min <= x <= max."""

    __slots__ = ("lo", "hi")

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        be = x._be
        inside = None
        if self.lo is not None:
            inside = be.ge(x._data, self.lo)
        if self.hi is not None:
            upper = be.le(x._data, self.hi)
            inside = upper if inside is None else be.logical_and(inside, upper)
        return g * _make(be.astype(inside, g.dtype.name), be)


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit values to ``[min, max]`` (either bound may be None)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_tensor(input, min, max)
    a = input
    for bound in (min, max):
        if bound is not None:
            a, _ = promote(a, bound, "clamp")
    be = a._be
    data = be.clip(a._data, min, max)
    if a._requires_grad and _grad.enabled:
        node = ClampBackward1((edge_of(a),))
        node.lo, node.hi = min, max
        node.save(a)
        return _make(data, be, node)
    return _make(data, be)


def _clamp_tensor(input: Tensor, lo: Any, hi: Any) -> Tensor:
    lo = None if lo is None else as_tensor(lo, input)
    hi = None if hi is None else as_tensor(hi, input)
    out = input
    if lo is not None:
        out = where(out < lo, lo, out)
    if hi is not None:
        out = where(out > hi, hi, out)
    return out


clip = clamp


class WhereBackward0(Node):
    __slots__ = ("a_shape", "b_shape")

    def backward(self, g: Tensor) -> tuple:
        (cond,) = self.unpack()
        ea, eb = self.next_edges[1:]
        ga = sum_to(where(cond, g, 0.0), self.a_shape) if ea is not None else None
        gb = sum_to(where(cond, 0.0, g), self.b_shape) if eb is not None else None
        return None, ga, gb


def where(condition: Tensor, input: Any, other: Any) -> Tensor:
    """``input`` where ``condition`` is True, else ``other`` (scalars allowed)."""
    cond = condition
    if cond.dtype is not dtypes.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {cond.dtype}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = as_tensor(input, cond)
    if isinstance(input, Tensor):
        a, b = promote(input, other, "where")
    else:
        b, a = promote(other, input, "where")
    be = cond._be
    t = a if isinstance(a, Tensor) else b  # a scalar may stand on either side
    if t._be is not be:
        from autodiff.ops._prep import device_mismatch

        raise device_mismatch(cond, t, "where")
    a_data = a._data if isinstance(a, Tensor) else a
    b_data = b._data if isinstance(b, Tensor) else b
    data = be.where(cond._data, a_data, b_data)
    ra = isinstance(a, Tensor) and a._requires_grad
    rb = isinstance(b, Tensor) and b._requires_grad
    if _grad.enabled and (ra or rb):
        node = WhereBackward0((None, edge_of(a) if ra else None, edge_of(b) if rb else None))
        node.a_shape = a._data.shape if isinstance(a, Tensor) else ()
        node.b_shape = b._data.shape if isinstance(b, Tensor) else ()
        node.save(cond)
        return _make(data, be, node)
    return _make(data, be)


class AbsBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * sign(x)


def abs(input: Tensor) -> Tensor:  # noqa: A001
    be = input._be
    data = be.abs(input._data)
    if input._requires_grad and _grad.enabled:
        node = AbsBackward0((edge_of(input),))
        node.save(input)
        return _make(data, be, node)
    return _make(data, be)


class SignBackward0(Node):
    """The gradient of sign is zero, but (as in PyTorch) the result is part of the graph."""

    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        return g * 0


def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 by sign; its gradient is zero."""
    be = input._be
    data = be.sign(input._data)
    if input._requires_grad and _grad.enabled:
        return _make(data, be, SignBackward0((edge_of(input),)))
    return _make(data, be)


class SqrtBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / (2 * sqrt(x))


def sqrt(input: Tensor) -> Tensor:
    a = float_result(input)
    be = a._be
    data = be.sqrt(a._data)
    if a._requires_grad and _grad.enabled:
        node = SqrtBackward0((edge_of(a),))
        node.save(a)
        return _make(data, be, node)
    return _make(data, be)


def rounded_div(a: Tensor, b: Any, mode: str) -> Tensor:
    """``div(a, b, rounding_mode=...)``: not differentiable (its gradient is zero)."""
    if mode not in ("floor", "trunc"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{mode}'")
    a, b = promote(a, b, "div")
    be = a._be
    q = be.div(a._data, b._data if isinstance(b, Tensor) else b)
    q = be.floor(q) if mode == "floor" else be.trunc(q)
    return _make(be.astype(q, a.dtype.name), be)


# ---- comparisons and logic (bool results, no gradient) -----------------------------
def _compare(a: Any, b: Any, fn_name: str, op: str) -> Tensor:
    if not isinstance(a, Tensor):
        a = as_tensor(a, b)
    cls = b.__class__
    if (cls is int or cls is float) and a._data.dtype.kind == "f":
        be = a._be  # a float tensor against a Python number: promote would change nothing
        return _make(getattr(be, fn_name)(a._data, b), be)
    a2, b2 = promote(a, b, op)
    be = a2._be
    data = getattr(be, fn_name)(a2._data, b2._data if isinstance(b2, Tensor) else b2)
    return _make(data, be)


def eq(input: Any, other: Any) -> Tensor:
    return _compare(input, other, "eq", "eq")


def ne(input: Any, other: Any) -> Tensor:
    return _compare(input, other, "ne", "ne")


def lt(input: Any, other: Any) -> Tensor:
    return _compare(input, other, "lt", "lt")


def le(input: Any, other: Any) -> Tensor:
    return _compare(input, other, "le", "le")


def gt(input: Any, other: Any) -> Tensor:
    return _compare(input, other, "gt", "gt")


def ge(input: Any, other: Any) -> Tensor:
    return _compare(input, other, "ge", "ge")


def _bool_args(a: Any, b: Any, op: str) -> tuple:
    if not isinstance(a, Tensor):
        a = as_tensor(a, b)
    if not isinstance(b, Tensor):
        b = as_tensor(b, a)
    if a._be is not b._be:
        from autodiff.ops._prep import device_mismatch

        raise device_mismatch(a, b, op)
    return a, b


def logical_and(input: Any, other: Any) -> Tensor:
    a, b = _bool_args(input, other, "logical_and")
    return _make(a._be.logical_and(a._data, b._data), a._be)


def logical_or(input: Any, other: Any) -> Tensor:
    a, b = _bool_args(input, other, "logical_or")
    return _make(a._be.logical_or(a._data, b._data), a._be)


def logical_not(input: Tensor) -> Tensor:
    return _make(input._be.logical_not(input._data), input._be)


def bitwise_not(input: Tensor) -> Tensor:
    """``~t``: logical not for bool tensors, bitwise not for integers."""
    if input.dtype.kind == "f":
        raise TypeError(f"bitwise_not(): not implemented for '{input.dtype}'")
    be = input._be
    if input.dtype is dtypes.bool:
        return _make(be.logical_not(input._data), be)
    return _make(be.sub(be.neg(input._data), 1), be)


def isnan(input: Tensor) -> Tensor:
    return _make(input._be.isnan(input._data), input._be)
