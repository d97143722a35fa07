"""Comparisons (``eq`` ... ``ge`` and their long names), logical and bitwise ops (``&``, ``|``,
``^``, ``~``, ``<<``, ``>>``, ``gcd``, ``lcm``), tests (``isnan``, ``isinf``, ``isfinite``,
``signbit``, ``isin`` ...), and ``where`` (select by a mask).

Comparisons and logical ops return bool tensors and are never differentiable; ``where``
is differentiable in the two values it selects from.
"""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff._vmap_state import NOT_BATCHED
from autodiff._vmap_state import state as _vmap
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import record
from autodiff.ops._defaults import OMITTED
from autodiff.ops._prep import as_tensor, broadcast_error, device_mismatch, number_as_tensor, promote
from autodiff.ops.broadcasting import sum_to
from autodiff.tensor import Tensor, _make


class WhereBackward0(Node):
    """Edges to ``input`` and ``other`` (the condition never gets one, as in PyTorch)."""

    __slots__ = ("a_shape", "b_shape")

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        (cond,) = self.unpack()
        ta, tb = tangents
        return where(cond, 0.0 if ta is None else ta, 0.0 if tb is None else tb)

    def backward(self, g: Tensor) -> tuple:
        (cond,) = self.unpack()
        ea, eb = edges_of(self)
        ga = sum_to(where(cond, g, 0.0), self.a_shape) if ea is not None else None
        gb = sum_to(where(cond, 0.0, g), self.b_shape) if eb is not None else None
        return ga, gb


def where(condition: Tensor, input: Any = OMITTED, other: Any = OMITTED) -> Any:
    """``input`` where ``condition`` is True, else ``other`` (scalars allowed); with the
    condition alone, the indices where it holds, as ``nonzero(as_tuple=True)``."""
    if input is OMITTED and other is OMITTED:
        return condition.nonzero(as_tuple=True)
    if input is OMITTED or other is OMITTED:
        raise TypeError("where() received an invalid combination of arguments - expected (Tensor condition) "
                        "or (Tensor condition, Tensor input, Tensor other)")
    if _vmap.active and (r := _vmap.dispatch("where", where, (condition, input, other), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
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


def logical_not(input: Tensor) -> Tensor:
    return _make(input._be.logical_not(input._data), input._be)


def bitwise_not(input: Tensor) -> Tensor:
    """Bitwise not of an integer tensor (logical not of a bool one)."""
    _integral(input, "bitwise_not")
    return _make(input._be.invert(input._data), input._be)


def _invert(input: Tensor) -> Tensor:
    """``~t`` (a TypeError for float tensors, as in PyTorch)."""
    if input.dtype.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(input)


def _integral(t: Tensor, op: str) -> None:
    if t.dtype.kind == "f":
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{t.dtype.word}'")


def _integer_op(input: Any, other: Any, op: str, fn: str) -> Tensor:
    """``fn`` of the backend on two integer or bool operands (tensors or Python numbers)."""
    if not isinstance(input, Tensor):
        input = as_tensor(input, other)
    a, b = promote(input, other, op)
    be = a._be
    if a.dtype.kind == "f" and isinstance(b, Tensor):  # (PyTorch checks the shapes first)
        try:
            be.broadcast_shapes(a._data.shape, b._data.shape)
        except ValueError:
            raise broadcast_error(a._data.shape, b._data.shape) from None
    _integral(a, op)
    return _make(getattr(be, fn)(a._data, b._data if isinstance(b, Tensor) else b), be)


def bitwise_and(input: Any, other: Any) -> Tensor:
    return _integer_op(input, other, "bitwise_and", "bitwise_and")


def bitwise_or(input: Any, other: Any) -> Tensor:
    return _integer_op(input, other, "bitwise_or", "bitwise_or")


def bitwise_xor(input: Any, other: Any) -> Tensor:
    return _integer_op(input, other, "bitwise_xor", "bitwise_xor")


def bitwise_left_shift(input: Any, other: Any) -> Tensor:
    return _integer_op(input, other, "lshift", "left_shift")


def bitwise_right_shift(input: Any, other: Any) -> Tensor:
    return _integer_op(input, other, "rshift", "right_shift")


def gcd(input: Tensor, other: Tensor) -> Tensor:
    """Greatest common divisor (non-negative) of two integer tensors."""
    if not isinstance(other, Tensor):
        raise TypeError(f"gcd(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    return _integer_op(input, other, "gcd", "gcd")


def lcm(input: Tensor, other: Tensor) -> Tensor:
    """Least common multiple (non-negative) of two integer tensors."""
    if not isinstance(other, Tensor):
        raise TypeError(f"lcm(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    return _integer_op(input, other, "lcm", "lcm")


def _reflected(fn: Any) -> Any:
    """``number op tensor`` (``1 & t``, ``1 << t``) for the operator tables."""
    return lambda self, other: fn(as_tensor(other, self), self)


def logical_xor(input: Any, other: Any) -> Tensor:
    a, b = _bool_args(input, other, "logical_xor")
    return _make(a._be.logical_xor(a._data, b._data), a._be)


def isnan(input: Tensor) -> Tensor:
    return _make(input._be.isnan(input._data), input._be)


def isfinite(input: Tensor) -> Tensor:
    return _make(input._be.isfinite(input._data), input._be)


def isinf(input: Tensor) -> Tensor:
    return _make(input._be.isinf(input._data), input._be)


def isposinf(input: Tensor) -> Tensor:
    be = input._be
    return _make(be.logical_and(be.isinf(input._data), be.gt(input._data, 0)), be)


def isneginf(input: Tensor) -> Tensor:
    be = input._be
    return _make(be.logical_and(be.isinf(input._data), be.lt(input._data, 0)), be)


def isreal(input: Tensor) -> Tensor:
    """All True: autodiff's tensors are real."""
    be = input._be
    return _make(be.ones(input._data.shape, "bool"), be)


def signbit(input: Tensor) -> Tensor:
    """True where the sign bit is set (-0.0 included)."""
    be = input._be
    if input.dtype.kind == "f":
        return _make(be.signbit(input._data), be)
    return _make(be.lt(input._data, 0), be)


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """For each of ``elements``, whether it is among ``test_elements`` (either may be a number)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments: at least one must be a Tensor")
    if not isinstance(elements, Tensor):
        elements = number_as_tensor(elements, test_elements)
    if not isinstance(test_elements, Tensor):
        test_elements = number_as_tensor(test_elements, elements)
    a, b = promote(elements, test_elements, "isin")
    return _make(a._be.isin(a._data, b._data, invert), a._be)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

FUNCTIONS = (
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not", "isnan", "where",
    "greater", "greater_equal", "less", "less_equal", "not_equal", "logical_xor", "isfinite", "isinf",
    "isposinf", "isneginf", "isreal", "signbit", "isin", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "gcd", "lcm",
)
def _where_method(self: Tensor, condition: Tensor, other: Any) -> Tensor:
    """``x.where(condition, y)``: ``x`` where ``condition``, else ``y`` (PyTorch's method)."""
    return where(condition, self, other)


METHODS = {
    "where": _where_method,
    "__eq__": _operator(eq), "__ne__": _operator(ne), "__lt__": _operator(lt), "__le__": _operator(le),
    "__gt__": _operator(gt), "__ge__": _operator(ge),
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge,
    "__and__": bitwise_and, "__or__": bitwise_or, "__xor__": bitwise_xor, "__invert__": _invert,
    "__rand__": _reflected(bitwise_and), "__ror__": _reflected(bitwise_or), "__rxor__": _reflected(bitwise_xor),
    "__lshift__": bitwise_left_shift, "__rshift__": bitwise_right_shift,
    "__rlshift__": _reflected(bitwise_left_shift), "__rrshift__": _reflected(bitwise_right_shift),
    "logical_and": logical_and, "logical_or": logical_or, "logical_not": logical_not,
    "isnan": isnan,
} | {name: globals()[name] for name in FUNCTIONS[11:] if name != "isin"}

