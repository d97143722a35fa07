"""Arithmetic of two operands: ``add``, ``sub``, ``mul``, ``div``, ``pow`` (and their reflected
forms), ``neg``, ``reciprocal``, ``maximum``/``minimum`` and ``lerp``.

Python scalars stay Python scalars: they never require grad and never widen a float32
tensor. Gradients of broadcast operands go through ``sum_to``.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import edge_of, record
from autodiff.ops._prep import OPERANDS, float_operand, float_result, promote
from autodiff.ops.broadcasting import sum_to
from autodiff.ops.comparison import where
from autodiff.ops.unary import log, sigmoid
from autodiff.tensor import Tensor, _make

# The hot ops -- add, sub, mul with a Python float or a tensor, and pow with a Python
# number -- record their node inline instead of through ``record``: on a chain of small
# ops the call and its keyword arguments cost a measurable share of each op
# (docs/architecture.md, "Hot ops"). Every other op here uses ``record``.


# ---- add / sub ------------------------------------------------------------------
class AddBackward0(Node):
    """``a + alpha * b`` for two tensors."""

    __slots__ = ("a_shape", "b_shape", "alpha")

    def backward(self, g: Tensor) -> tuple:
        gb = None
        if edges_of(self)[1] is not None:
            gb = sum_to(g if self.alpha == 1 else g * self.alpha, self.b_shape)
        return sum_to(g, self.a_shape), gb


class SubBackward0(AddBackward0):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        gb = None
        if edges_of(self)[1] is not None:
            gb = sum_to(-g if self.alpha == 1 else g * -self.alpha, self.b_shape)
        return sum_to(g, self.a_shape), gb


class ScalarAddBackward(Node):
    """``tensor + number``: the gradient passes through (a class of its own, so that the
    backward of this commonest node is one line; PyTorch's name through ``torch_name``)."""

    __slots__ = ()
    torch_name = "AddBackward0"

    def backward(self, g: Tensor) -> Tensor:
        return g


class ScalarSubBackward(ScalarAddBackward):
    """``tensor - number``."""

    __slots__ = ()
    torch_name = "SubBackward0"


class RsubBackward1(Node):
    """``scalar - tensor``."""

    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        return -g


def _number_alpha(alpha: Any, op: str) -> Any:
    """``alpha`` as PyTorch takes it: a number, or a 0-d tensor that needs no grad."""
    if isinstance(alpha, Tensor):
        if alpha.ndim == 0 and not alpha._requires_grad:
            return alpha.item()
    elif isinstance(alpha, (int, float)):  # (bool is an int; NumPy's float64 a float)
        return alpha
    raise TypeError(f"{op}(): argument 'alpha' must be Number, not {type(alpha).__name__}")


def _add_like(a: Tensor, b: Any, alpha: Any, node_cls: type, op: str) -> Tensor:
    if alpha.__class__ is not int:
        alpha = _number_alpha(alpha, op)
    cls = b.__class__
    if not ((cls is float and a._data.dtype.kind == "f")
            or (cls is Tensor and a._be is b._be and a._data.dtype is b._data.dtype)):
        a, b = promote(a, b, op)
    if alpha.__class__ is float and a._data.dtype.kind != "f":
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    be = a._be
    fn = be.add if node_cls is AddBackward0 else be.sub
    if b.__class__ is float and alpha == 1:  # first: the hot case (and no isinstance call)
        c = OPERANDS.get((b, a._data.dtype, be))
        data = fn(a._data, c if c is not None else float_operand(be, a._data, b))
    elif b.__class__ is Tensor or isinstance(b, Tensor):
        other = b._data if alpha == 1 else be.mul(b._data, alpha)
        data = fn(a._data, other)
        if _grad.enabled and (a._requires_grad or b._requires_grad):  # (hot: see the top)
            node = node_cls((edge_of(a), edge_of(b)))
            node.a_shape = a._data.shape
            node.b_shape = b._data.shape
            node.alpha = alpha
            return _make(data, be, node)
        return _make(data, be)
    else:
        data = fn(a._data, b * alpha)
    if a._requires_grad and _grad.enabled:  # (hot: see the top)
        scalar_cls = ScalarAddBackward if node_cls is AddBackward0 else ScalarSubBackward
        return _make(data, be, scalar_cls((edge_of(a),)))
    return _make(data, be)


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """``input + alpha * other`` with broadcasting."""
    if other.__class__ is float and input.__class__ is Tensor and alpha.__class__ is int and alpha == 1:
        # The hot case, as in mul: a cached operand means promote would change nothing.
        be = input._be
        c = OPERANDS.get((other, input._data.dtype, be))
        if c is not None:
            if input._requires_grad and _grad.enabled:
                node = ScalarAddBackward((edge_of(input),))
                return _make(be.add(input._data, c), be, node)
            return _make(be.add(input._data, c), be)
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        input, other = other, input
    return _add_like(input, other, alpha, AddBackward0, "add")


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """``input - alpha * other`` with broadcasting."""
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        return rsub(other, input, alpha=alpha)
    return _add_like(input, other, alpha, SubBackward0, "sub")


def rsub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """``other - alpha * input`` (what ``2 - x`` calls)."""
    if other.__class__ is Tensor or isinstance(other, Tensor):
        return sub(other, input, alpha=alpha)
    if alpha.__class__ is not int:
        alpha = _number_alpha(alpha, "rsub")
    a, s = promote(input, other, "rsub")
    be = a._be
    data = be.sub(s, a._data if alpha == 1 else be.mul(a._data, alpha))
    if alpha != 1 and a._requires_grad and _grad.enabled:
        return sub(s, a * alpha)
    return record(_make(data, be), RsubBackward1, (a,))


# ---- mul / div --------------------------------------------------------------------
class MulBackward0(Node):
    """``a * b``; ``b`` is a tensor (saved) or a Python scalar (``other``)."""

    __slots__ = ("a_shape", "b_shape", "other")

    def backward(self, g: Tensor) -> Any:
        other = self.other
        if other is not None:
            if other.__class__ is float and not g._requires_grad:
                # No graph to record (g * float records only when g requires grad): just
                # the product, with the operand cached for g's dtype and backend.
                c = OPERANDS.get((other, g._data.dtype, g._be))
                if c is not None:
                    return _make(g._be.mul(g._data, c), g._be)
            return mul(g, other)
        a, b = self.unpack()
        ea, eb = edges_of(self)
        ga = sum_to(g * b, self.a_shape) if ea is not None else None
        gb = sum_to(g * a, self.b_shape) if eb is not None else None
        return ga, gb


def mul(input: Any, other: Any) -> Tensor:
    """Elementwise product with broadcasting."""
    if other.__class__ is float and input.__class__ is Tensor:
        # The hottest case: a cached operand means a float dtype that the float keeps
        # (see OPERANDS), so promote's checks can be skipped.
        be = input._be
        c = OPERANDS.get((other, input._data.dtype, be))
        if c is not None:
            if input._requires_grad and _grad.enabled:
                node = MulBackward0((edge_of(input),))
                node.other = other
                return _make(be.mul(input._data, c), be, node)
            return _make(be.mul(input._data, c), be)
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        input, other = other, input
    cls = other.__class__
    if (cls is float and input._data.dtype.kind == "f") or (
        cls is Tensor and input._be is other._be and input._data.dtype is other._data.dtype
    ):
        a, b = input, other
    else:
        a, b = promote(input, other, "mul")
    be = a._be
    if b.__class__ is float:  # first: the hot case (and no isinstance call)
        c = OPERANDS.get((b, a._data.dtype, be))
        data = be.mul(a._data, c if c is not None else float_operand(be, a._data, b))
    elif b.__class__ is Tensor or isinstance(b, Tensor):
        data = be.mul(a._data, b._data)
        if _grad.enabled and (a._requires_grad or b._requires_grad):  # (hot: see the top)
            node = MulBackward0((edge_of(a), edge_of(b)))
            node.a_shape = a._data.shape
            node.b_shape = b._data.shape
            node.other = None
            node.save(a, b)
            return _make(data, be, node)
        return _make(data, be)
    else:
        data = be.mul(a._data, b)
    if a._requires_grad and _grad.enabled:  # (hot: see the top)
        node = MulBackward0((edge_of(a),))
        node.other = b
        return _make(data, be, node)
    return _make(data, be)


class DivBackward0(Node):
    """``a / b``; ``b`` is a tensor (saved) or a Python scalar (``other``)."""

    __slots__ = ("a_shape", "b_shape", "other")

    def backward(self, g: Tensor) -> Any:
        if self.other is not None:
            return g / self.other
        a, b = self.unpack()
        ea, eb = edges_of(self)
        ga = sum_to(g / b, self.a_shape) if ea is not None else None
        gb = sum_to(-g * a / (b * b), self.b_shape) if eb is not None else None
        return ga, gb


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """True division (``rounding_mode="floor"``/``"trunc"`` give integer-valued results)."""
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        return rdiv(other, input)
    if rounding_mode is not None:
        return rounded_div(input, other, rounding_mode)
    a, b = promote(input, other, "div")
    a = float_result(a)
    if b.__class__ is Tensor or isinstance(b, Tensor):
        b = float_result(b)
        if a._data.dtype != b._data.dtype:
            a, b = promote(a, b, "div")
    be = a._be
    if b.__class__ is Tensor or isinstance(b, Tensor):
        data = be.div(a._data, b._data)
        return record(_make(data, be), DivBackward0, (a, b), saved=(a, b),
                      a_shape=a._data.shape, b_shape=b._data.shape, other=None)
    if b.__class__ is float:
        c = OPERANDS.get((b, a._data.dtype, be))
        data = be.div(a._data, c if c is not None else float_operand(be, a._data, b))
    else:
        data = be.div(a._data, b)
    return record(_make(data, be), DivBackward0, (a,), other=b)


class ReciprocalBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return -g / (x * x)


def reciprocal(input: Tensor) -> Tensor:
    a = float_result(input)
    be = a._be
    data = be.div(1, a._data)
    return record(_make(data, be), ReciprocalBackward0, (a,), saved=(a,))


def rdiv(input: Tensor, other: Any) -> Tensor:
    """``other / input`` for a Python scalar ``other`` (PyTorch: reciprocal, then multiply)."""
    if other.__class__ is Tensor or isinstance(other, Tensor):
        return div(other, input)
    return mul(reciprocal(input), other)


class DivBackward2(Node):
    """``div`` with a rounding mode: piecewise constant, so zero gradients -- made without
    reading ``g`` (as in PyTorch, they need no graph even under ``create_graph``)."""

    __slots__ = ("a_shape", "b_shape", "dtypes")

    def backward(self, g: Tensor) -> tuple:
        be = g._be
        return tuple(None if e is None else _make(be.zeros(shape, dt), be)
                     for e, shape, dt in zip(edges_of(self), (self.a_shape, self.b_shape), self.dtypes))


def rounded_div(a: Tensor, b: Any, mode: str) -> Tensor:
    """``div(a, b, rounding_mode=...)``: its gradient is zero (but, as in PyTorch, the result
    is part of the graph)."""
    if mode not in ("floor", "trunc"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{mode}'")
    a, b = promote(a, b, "div")
    be = a._be
    is_tensor = isinstance(b, Tensor)
    divisor = b._data if is_tensor else b
    if a.dtype.kind != "f" and (be.any(be.eq(divisor, 0)) if is_tensor else divisor == 0):
        # NumPy would give INT_MIN (or 0) with a warning; PyTorch refuses.
        raise RuntimeError(f"ZeroDivisionError: integer division by zero in div(rounding_mode='{mode}')")
    q = be.div(a._data, divisor)
    q = be.floor(q) if mode == "floor" else be.trunc(q)
    out = _make(be.astype(q, a.dtype.name), be)
    if not is_tensor:
        return record(out, DivBackward2, (a,), a_shape=a._data.shape, b_shape=(), dtypes=(a.dtype.name,))
    return record(out, DivBackward2, (a, b), a_shape=a._data.shape, b_shape=b._data.shape,
                  dtypes=(a.dtype.name, b.dtype.name))


# ---- neg / pow --------------------------------------------------------------------
class NegBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        return -g


def neg(input: Tensor) -> Tensor:
    if input.dtype.kind == "b":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    be = input._be
    data = be.neg(input._data)
    return record(_make(data, be), NegBackward0, (input,))


class PowBackward0(Node):
    """``x ** p`` for a Python scalar ``p``."""

    __slots__ = ("exponent",)

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        p = self.exponent
        if p == 0:
            return g * 0
        if p == 2:
            if not _grad.enabled:  # nothing to record: g * 2x on the backend
                be = g._be
                return _make(be.mul(g._data, be.add(x._data, x._data)), be)
            return g * (2 * x)
        return g * (p * x ** (p - 1))


class PowBackward1(Node):
    """``a ** b`` for two tensors."""

    __slots__ = ("a_shape", "b_shape")

    def backward(self, g: Tensor) -> tuple:
        a, b = self.unpack()
        ea, eb = edges_of(self)
        ga = gb = None
        if ea is not None:
            ga = sum_to(g * b * a ** (b - 1), self.a_shape)
        if eb is not None:
            # d/db a**b = a**b * log(a); PyTorch takes it as 0 where a == 0 and b >= 0.
            zero = (a == 0) & (b >= 0)
            gb = sum_to(where(zero, 0.0, g * a ** b * log(where(zero, 1.0, a))), self.b_shape)
        return ga, gb


class PowBackward2(Node):
    """``scalar ** x``."""

    __slots__ = ("base",)

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        s = self.base
        return g * (s ** x) * math.log(s) if s > 0 else g * 0 * x


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001
    """``input ** exponent``; either may be a Python scalar."""
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        return rpow(exponent, input)
    a, b = promote(input, exponent, "pow")
    be = a._be
    if b.__class__ is Tensor or isinstance(b, Tensor):
        data = be.pow(a._data, b._data)
        return record(_make(data, be), PowBackward1, (a, b), saved=(a, b),
                      a_shape=a._data.shape, b_shape=b._data.shape)
    if b.__class__ is int and b < 0 and a.dtype.kind != "f":
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    data = be.pow(a._data, b)
    if a._requires_grad and _grad.enabled:  # (hot: see the top)
        node = PowBackward0((edge_of(a),))
        node.exponent = b
        node.save(a)
        return _make(data, be, node)
    return _make(data, be)


def rpow(input: Tensor, base: Any) -> Tensor:
    """``base ** input`` for a Python scalar ``base``."""
    if base.__class__ is Tensor or isinstance(base, Tensor):
        return pow(base, input)
    a, s = promote(input, base, "pow")
    be = a._be
    data = be.pow(s, a._data)
    return record(_make(data, be), PowBackward2, (a,), saved=(a,), base=s)


# ---- binary ------------------------------------------------------------------------
class MaximumBackward0(Node):
    """Where ``a == b`` each side gets half the gradient, as in PyTorch."""

    __slots__ = ("a_shape", "b_shape", "take_max")

    def backward(self, g: Tensor) -> tuple:
        a, b = self.unpack()
        ea, eb = edges_of(self)
        first = (a > b) if self.take_max else (a < b)
        tie = a == b
        ga = gb = None
        if ea is not None:
            ga = sum_to(where(first, g, where(tie, g * 0.5, 0.0)), self.a_shape)
        if eb is not None:
            second = (a < b) if self.take_max else (a > b)
            gb = sum_to(where(second, g, where(tie, g * 0.5, 0.0)), self.b_shape)
        return ga, gb


class MinimumBackward0(MaximumBackward0):
    __slots__ = ()


def _extremum(input: Tensor, other: Any, take_max: bool) -> Tensor:
    op = "maximum" if take_max else "minimum"
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}(): argument 'other' must be Tensor, not {type(other).__name__}")
    a, b = promote(input, other, op)
    be = a._be
    data = (be.maximum if take_max else be.minimum)(a._data, b._data)
    return record(_make(data, be), MaximumBackward0 if take_max else MinimumBackward0, (a, b), saved=(a, b),
                  a_shape=a._data.shape, b_shape=b._data.shape, take_max=take_max)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum of two tensors (broadcasting)."""
    return _extremum(input, other, True)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum of two tensors (broadcasting)."""
    return _extremum(input, other, False)


class LogaddexpBackward0(Node):
    """d/da log(e^a + e^b) = sigmoid(a - b), d/db = sigmoid(b - a)."""

    __slots__ = ("a_shape", "b_shape")

    def backward(self, g: Tensor) -> tuple:
        a, b = self.unpack()
        ea, eb = edges_of(self)
        ga = sum_to(g * sigmoid(a - b), self.a_shape) if ea is not None else None
        gb = sum_to(g * sigmoid(b - a), self.b_shape) if eb is not None else None
        return ga, gb


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """``log(exp(input) + exp(other))``, without overflow (``max + log1p(exp(-|a - b|))``)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"logaddexp(): argument 'other' must be Tensor, not {type(other).__name__}")
    a, b = promote(float_result(input), float_result(other), "logaddexp")
    be = a._be
    x, y = a._data, b._data
    # Equal arguments differ by 0, equal infinities included (inf - inf would be nan).
    same = be.eq(x, y)
    gap = be.abs(be.sub(be.where(same, 0.0, x), be.where(same, 0.0, y)))
    data = be.add(be.maximum(x, y), be.log1p(be.exp(be.neg(gap))))
    return record(_make(data, be), LogaddexpBackward0, (a, b), saved=(a, b),
                  a_shape=x.shape, b_shape=y.shape)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """``input + weight * (end - input)``; ``weight`` is a number or a tensor."""
    if not (isinstance(input, Tensor) and isinstance(end, Tensor)
            and isinstance(weight, (Tensor, int, float))):
        got = ", ".join(type(v).__name__ for v in (input, end, weight))
        raise TypeError(
            f"lerp() received an invalid combination of arguments - got ({got}), but expected one of:\n"
            " * (Tensor input, Tensor end, Tensor weight)\n * (Tensor input, Tensor end, Number weight)"
        )
    return input + weight * (end - input)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = (
    "add", "sub", "rsub", "mul", "div", "neg", "pow", "reciprocal", "maximum", "minimum", "logaddexp", "lerp",
)
METHODS = {
    "__add__": add, "__radd__": add, "add": add,
    "__sub__": sub, "__rsub__": rsub, "sub": sub,
    "__mul__": mul, "__rmul__": mul, "mul": mul,
    "__truediv__": div, "__rtruediv__": rdiv, "div": div,
    "__neg__": neg, "neg": neg,
    "__pow__": pow, "__rpow__": rpow, "pow": pow,
    "reciprocal": reciprocal, "maximum": maximum, "minimum": minimum, "logaddexp": logaddexp,
    "lerp": lerp,
}
