"""Comparisons (``eq`` ... ``ge``), logical ops, ``isnan``, and ``where`` (select by a mask).

Comparisons and logical ops return bool tensors and are never differentiable; ``where``
is differentiable in the two values it selects from.
"""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import record
from autodiff.ops._prep import as_tensor, broadcast_error, device_mismatch, promote
from autodiff.ops.broadcasting import sum_to
from autodiff.tensor import Tensor, _make


class WhereBackward0(Node):
    """Edges to ``input`` and ``other`` (the condition never gets one, as in PyTorch)."""

    __slots__ = ("a_shape", "b_shape")

    def backward(self, g: Tensor) -> tuple:
        (cond,) = self.unpack()
        ea, eb = edges_of(self)
        ga = sum_to(where(cond, g, 0.0), self.a_shape) if ea is not None else None
        gb = sum_to(where(cond, 0.0, g), self.b_shape) if eb is not None else None
        return ga, gb


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
        raise device_mismatch(cond, t, "where")
    a_data = a._data if isinstance(a, Tensor) else a
    b_data = b._data if isinstance(b, Tensor) else b
    data = be.where(cond._data, a_data, b_data)
    ta = a if isinstance(a, Tensor) else None  # a Python scalar gets no edge
    tb = b if isinstance(b, Tensor) else None
    return record(_make(data, be), WhereBackward0, (ta, tb), saved=(cond,),
                  a_shape=() if ta is None else ta._data.shape, b_shape=() if tb is None else tb._data.shape)


# ---- comparisons and logic (bool results, no gradient) -----------------------------
def _compare(a: Any, b: Any, op: str) -> Tensor:
    if not isinstance(a, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(a).__name__}")
    cls = b.__class__
    if cls is int and not -(1 << 63) <= b < 1 << 64:
        raise OverflowError(f"{op}(): int too big to convert")
    if (cls is int or cls is float) and a._data.dtype.kind == "f":
        be = a._be  # a float tensor against a Python number: promote would change nothing
        return _make(getattr(be, op)(a._data, b), be)
    a2, b2 = promote(a, b, op)
    be = a2._be
    data = getattr(be, op)(a2._data, b2._data if isinstance(b2, Tensor) else b2)
    return _make(data, be)


def eq(input: Any, other: Any) -> Tensor:
    return _compare(input, other, "eq")


def ne(input: Any, other: Any) -> Tensor:
    return _compare(input, other, "ne")


def lt(input: Any, other: Any) -> Tensor:
    return _compare(input, other, "lt")


def le(input: Any, other: Any) -> Tensor:
    return _compare(input, other, "le")


def gt(input: Any, other: Any) -> Tensor:
    return _compare(input, other, "gt")


def ge(input: Any, other: Any) -> Tensor:
    return _compare(input, other, "ge")


def _bool_args(a: Any, b: Any, op: str) -> tuple:
    for name, v in (("input", a), ("other", b)):
        if not isinstance(v, Tensor):  # (PyTorch takes no number here)
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(v).__name__}")
    if a._be is not b._be:
        raise device_mismatch(a, b, op)
    return a, b


def logical_and(input: Any, other: Any) -> Tensor:
    a, b = _bool_args(input, other, "logical_and")
    return _make(a._be.logical_and(a._data, b._data), a._be)


def logical_or(input: Any, other: Any) -> Tensor:
    a, b = _bool_args(input, other, "logical_or")
    return _make(a._be.logical_or(a._data, b._data), a._be)


def _operator(fn: Any) -> Any:
    """``fn`` as a comparison operator: an operand that is neither a tensor nor a number gets
    ``NotImplemented``, so Python answers as for any object (``t == None`` is False)."""

    def operator(input: Tensor, other: Any) -> Any:
        if not isinstance(other, (Tensor, int, float)) and not hasattr(other, "__array__"):
            return NotImplemented
        return fn(input, other)

    operator.__name__ = operator.__qualname__ = fn.__name__
    return operator


def _bitwise(input: Tensor, other: Any, op: str) -> Tensor:
    """``a & b`` / ``a | b``: logical on bool tensors, bitwise on integers (as in PyTorch)."""
    a, b = promote(input, other, op)
    be = a._be
    operand = b._data if isinstance(b, Tensor) else b
    kind = a.dtype.kind
    if kind == "b":
        return _make(getattr(be, "logical_" + op.split("_")[1])(a._data, operand), be)
    if kind == "f":
        if isinstance(b, Tensor):  # (PyTorch checks the shapes first)
            try:
                be.broadcast_shapes(a._data.shape, b._data.shape)
            except ValueError:
                raise broadcast_error(a._data.shape, b._data.shape) from None
        raise NotImplementedError(f'"{op}_cpu" not implemented for \'{a.dtype.word}\'')
    return _make(getattr(be, op)(a._data, operand), be)


def bitwise_and(input: Tensor, other: Any) -> Tensor:
    return _bitwise(input, other, "bitwise_and")


def bitwise_or(input: Tensor, other: Any) -> Tensor:
    return _bitwise(input, other, "bitwise_or")


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


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = (
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not", "isnan", "where",
)
METHODS = {
    "__eq__": _operator(eq), "__ne__": _operator(ne), "__lt__": _operator(lt), "__le__": _operator(le),
    "__gt__": _operator(gt), "__ge__": _operator(ge),
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge,
    "__and__": bitwise_and, "__or__": bitwise_or, "__invert__": bitwise_not,
    "logical_and": logical_and, "logical_or": logical_or, "logical_not": logical_not,
    "isnan": isnan,
}
