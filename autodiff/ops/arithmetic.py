"""Arithmetic of two operands: ``add``, ``sub``, ``mul``, ``div``, ``pow`` (and their reflected
forms), ``neg``, ``reciprocal``, ``maximum``/``minimum`` and ``lerp``.

Python scalars stay Python scalars: they never require grad and never widen a float32
tensor. Gradients of broadcast operands go through ``sum_to``.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff import dtypes
from autodiff._vmap_state import NOT_BATCHED
from autodiff._vmap_state import state as _vmap
from autodiff.autograd.forward_rules import derived_jvp, linear_sum, no_jvp, symmetric_jvp
from autodiff.autograd.forward_state import state as _fw
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import edge_of, record
from autodiff.float_warnings import quietly
from autodiff.ops._prep import (
    OPERANDS,
    broadcast_error,
    cast,
    float_operand,
    float_result,
    number_as_tensor,
    promote,
)
from autodiff.ops.broadcasting import sum_to
from autodiff.ops.comparison import where
from autodiff.ops.creation import tensor
from autodiff.ops.unary import exp2, log, sigmoid
from autodiff.tensor import Tensor, _make

# The hot ops -- add, sub, mul with a Python float or a tensor, and pow with a Python
# number -- record their node inline instead of through ``record``: on a chain of small
# ops the call and its keyword arguments cost a measurable share of each op
# (docs/architecture.md, "Hot ops"). Every other op here uses ``record``. Inside a forward
# AD level (``_fw.active``) they go through ``record`` as well, for the tangent.


# ---- add / sub ------------------------------------------------------------------
class AddBackward0(Node):
    """``a + alpha * b`` for two tensors."""

    __slots__ = ("a_shape", "b_shape", "alpha")

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        ta, tb = tangents
        if tb is not None and self.alpha != 1:
            tb = tb * self.alpha
        return linear_sum((ta, tb))

    def backward(self, g: Tensor) -> tuple:
        gb = None
        if edges_of(self)[1] is not None:
            gb = sum_to(g if self.alpha == 1 else g * self.alpha, self.b_shape)
        return sum_to(g, self.a_shape), gb


class SubBackward0(AddBackward0):
    __slots__ = ()

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        ta, tb = tangents
        if tb is not None:
            tb = -tb if self.alpha == 1 else tb * -self.alpha
        return linear_sum((ta, tb))

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
    number_operands = 1

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return tangents[0]

    def backward(self, g: Tensor) -> Tensor:
        return g


class ScalarSubBackward(ScalarAddBackward):
    """``tensor - number``."""

    __slots__ = ()
    torch_name = "SubBackward0"


class RsubBackward1(Node):
    """``scalar - tensor``."""

    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        return -g


BOOL_SUB = (
    "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
    "invert a mask, use the `~` or `logical_not()` operator instead."
)


def _wrapped_number(value: Any, other: Any) -> Any:
    """``add(2, 2.0)``: with two Python numbers PyTorch makes the first a 0-d tensor (int64,
    the default float dtype or bool). Anything else is returned as it is, to fail as a
    non-tensor argument."""
    if isinstance(value, (int, float)) and isinstance(other, (int, float)):
        return tensor(value)
    return value


def _check_bool_sub(a: Tensor, b: Any) -> None:
    if a.dtype.kind == "b" or b is True or b is False or (isinstance(b, Tensor) and b.dtype.kind == "b"):
        raise RuntimeError(BOOL_SUB)


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
        if node_cls is SubBackward0:
            _check_bool_sub(a, b)
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
        try:
            data = fn(a._data, other)
        except ValueError:  # (these operators are not wrapped by _prep.checked)
            raise broadcast_error(a._data.shape, b._data.shape) from None
        except TypeError:  # the backend refuses bool - bool
            raise RuntimeError(BOOL_SUB) from None
        if _fw.active:  # forward AD: through record, which computes the tangent
            return record(_make(data, be), node_cls, (a, b), a_shape=a._data.shape,
                          b_shape=b._data.shape, alpha=alpha)
        if _grad.enabled and (a._requires_grad or b._requires_grad):  # (hot: see the top)
            node = node_cls((edge_of(a), edge_of(b)))
            node.a_shape = a._data.shape
            node.b_shape = b._data.shape
            node.alpha = alpha
            return _make(data, be, node)
        return _make(data, be)
    else:
        data = fn(a._data, b * alpha)
    if _fw.active:
        return record(_make(data, be), ScalarAddBackward if node_cls is AddBackward0 else ScalarSubBackward, (a,))
    if a._requires_grad and _grad.enabled:  # (hot: see the top)
        scalar_cls = ScalarAddBackward if node_cls is AddBackward0 else ScalarSubBackward
        return _make(data, be, scalar_cls((edge_of(a),)))
    return _make(data, be)


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """``input + alpha * other`` with broadcasting."""
    try:
        if other.__class__ is float and input.__class__ is Tensor and alpha.__class__ is int and alpha == 1:
            # The hot case, as in mul: a cached operand means promote would change nothing.
            be = input._be
            c = OPERANDS.get((other, input._data.dtype, be))
            if c is not None:
                if _fw.active:
                    return record(_make(be.add(input._data, c), be), ScalarAddBackward, (input,))
                if input._requires_grad and _grad.enabled:
                    node = ScalarAddBackward((edge_of(input),))
                    return _make(be.add(input._data, c), be, node)
                return _make(be.add(input._data, c), be)
        if _vmap.active and (r := _vmap.dispatch("add", add, (input, other), {"alpha": alpha})) is not NOT_BATCHED:
            return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
        if input.__class__ is not Tensor and not isinstance(input, Tensor):
            input, other = (other, input) if isinstance(other, Tensor) else (_wrapped_number(input, other), other)
        return _add_like(input, other, alpha, AddBackward0, "add")
    except RuntimeWarning:  # a float warning made an error by the user (autodiff/float_warnings.py)
        return quietly(add, input, other, alpha=alpha)


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """``input - alpha * other`` with broadcasting."""
    try:
        if _vmap.active and (r := _vmap.dispatch("sub", sub, (input, other), {"alpha": alpha})) is not NOT_BATCHED:
            return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
        if input.__class__ is not Tensor and not isinstance(input, Tensor):
            if isinstance(other, Tensor):
                return rsub(other, input, alpha=alpha)
            input = _wrapped_number(input, other)
        return _add_like(input, other, alpha, SubBackward0, "sub")
    except RuntimeWarning:  # a float warning made an error by the user (autodiff/float_warnings.py)
        return quietly(sub, input, other, alpha=alpha)


def rsub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """``other - alpha * input`` (what ``2 - x`` calls)."""
    try:
        if other.__class__ is Tensor or isinstance(other, Tensor):
            return sub(other, input, alpha=alpha)
        _check_bool_sub(input, other)
        if alpha.__class__ is not int:
            alpha = _number_alpha(alpha, "rsub")
        a, s = promote(input, other, "rsub")
        be = a._be
        data = be.sub(s, a._data if alpha == 1 else be.mul(a._data, alpha))
        if alpha != 1 and a._requires_grad and _grad.enabled:
            return sub(s, a * alpha)
        return record(_make(data, be), RsubBackward1, (a,))
    except RuntimeWarning:  # a float warning made an error by the user (autodiff/float_warnings.py)
        return quietly(rsub, input, other, alpha=alpha)


# ---- mul / div --------------------------------------------------------------------
class MulBackward0(Node):
    """``a * b``; ``b`` is a tensor (saved) or a Python scalar (``other``)."""

    __slots__ = ("a_shape", "b_shape", "other")

    @property
    def number_operands(self) -> int:  # a Python-number ``other``: see Node
        return int(self.other is not None)

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        if self.other is not None:
            return tangents[0] * self.other
        (a, b), (ta, tb) = inputs, tangents
        return linear_sum((None if ta is None else ta * b, None if tb is None else a * tb))

    def backward(self, g: Tensor) -> Any:
        other = self.other
        if other is not None:
            if other.__class__ is float and not g._requires_grad and not _fw.active and g.__class__ is Tensor:
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
    try:
        if other.__class__ is float and input.__class__ is Tensor:
            # The hottest case: a cached operand means a float dtype that the float keeps
            # (see OPERANDS), so promote's checks can be skipped.
            be = input._be
            c = OPERANDS.get((other, input._data.dtype, be))
            if c is not None:
                if _fw.active:
                    return record(_make(be.mul(input._data, c), be), MulBackward0, (input,), other=other)
                if input._requires_grad and _grad.enabled:
                    node = MulBackward0((edge_of(input),))
                    node.other = other
                    return _make(be.mul(input._data, c), be, node)
                return _make(be.mul(input._data, c), be)
        if _vmap.active and (r := _vmap.dispatch("mul", mul, (input, other), {})) is not NOT_BATCHED:
            return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
        if input.__class__ is not Tensor and not isinstance(input, Tensor):
            input, other = (other, input) if isinstance(other, Tensor) else (_wrapped_number(input, other), other)
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
            try:
                data = be.mul(a._data, b._data)
            except ValueError:
                raise broadcast_error(a._data.shape, b._data.shape) from None
            if _fw.active:
                return record(_make(data, be), MulBackward0, (a, b), saved=(a, b), a_shape=a._data.shape,
                              b_shape=b._data.shape, other=None)
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
        if _fw.active:
            return record(_make(data, be), MulBackward0, (a,), other=b)
        if a._requires_grad and _grad.enabled:  # (hot: see the top)
            node = MulBackward0((edge_of(a),))
            node.other = b
            return _make(data, be, node)
        return _make(data, be)
    except RuntimeWarning:  # a float warning made an error by the user (autodiff/float_warnings.py)
        return quietly(mul, input, other)


class DivBackward0(Node):
    """``a / b``; ``b`` is a tensor (saved) or a Python scalar (``other``)."""

    __slots__ = ("a_shape", "b_shape", "other")

    @property
    def number_operands(self) -> int:  # a Python-number ``other``: see Node
        return int(self.other is not None)

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        if self.other is not None:
            return tangents[0] / self.other
        (_, b), (ta, tb) = inputs, tangents
        return linear_sum((None if ta is None else ta / b, None if tb is None else -tb * out / b))

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
    try:
        if _vmap.active and (r := _vmap.dispatch("div", div, (input, other), {} if rounding_mode is None else {"rounding_mode": rounding_mode})) is not NOT_BATCHED:
            return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
        if input.__class__ is not Tensor and not isinstance(input, Tensor):
            if isinstance(other, Tensor):
                return rdiv(other, input)
            input = _wrapped_number(input, other)
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
            try:
                data = be.div(a._data, b._data)
            except ValueError:
                raise broadcast_error(a._data.shape, b._data.shape) from None
            return record(_make(data, be), DivBackward0, (a, b), saved=(a, b),
                          a_shape=a._data.shape, b_shape=b._data.shape, other=None)
        if b.__class__ is float:
            c = OPERANDS.get((b, a._data.dtype, be))
            data = be.div(a._data, c if c is not None else float_operand(be, a._data, b))
        else:
            data = be.div(a._data, b)
        return record(_make(data, be), DivBackward0, (a,), other=b)
    except RuntimeWarning:  # a float warning made an error by the user (autodiff/float_warnings.py)
        return quietly(div, input, other, rounding_mode=rounding_mode)


class ReciprocalBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

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
    try:
        if other.__class__ is Tensor or isinstance(other, Tensor):
            return div(other, input)
        return mul(reciprocal(input), other)
    except RuntimeWarning:  # a float warning made an error by the user (autodiff/float_warnings.py)
        return quietly(rdiv, input, other)


class DivBackward2(Node):
    """``div`` with a rounding mode: piecewise constant, so zero gradients -- made without
    reading ``g`` (as in PyTorch, they need no graph even under ``create_graph``)."""

    __slots__ = ("a_shape", "b_shape", "dtypes")
    jvp = derived_jvp

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
    jvp = symmetric_jvp

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
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        p = self.exponent
        if p == 0:
            return g * 0
        if p == 2:
            if not _grad.enabled and not _fw.active and g.__class__ is Tensor:  # nothing to record: g * 2x on the backend
                be = g._be
                return _make(be.mul(g._data, be.add(x._data, x._data)), be)
            return g * (2 * x)
        return g * (p * x ** (p - 1))


class PowBackward1(Node):
    """``a ** b`` for two tensors."""

    __slots__ = ("a_shape", "b_shape")

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        a, b = inputs
        ta, tb = tangents
        if ta is not None:  # (the gradient of each input is elementwise: reuse backward's formulas)
            ta = ta * b * a ** (b - 1)
        if tb is not None:
            zero = (a == 0) & (b >= 0)
            tb = where(zero, 0.0, tb * out * log(where(zero, 1.0, a)))
        return linear_sum((ta, tb))

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
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        s = self.base
        return g * (s ** x) * math.log(s) if s > 0 else g * 0 * x


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001
    """``input ** exponent``; either may be a Python scalar."""
    try:
        if input.__class__ is not Tensor and not isinstance(input, Tensor):
            return rpow(exponent, input)
        a, b = promote(input, exponent, "pow")
        be = a._be
        if b.__class__ is Tensor or isinstance(b, Tensor):
            try:
                data = be.pow(a._data, b._data)
            except ValueError:
                raise broadcast_error(a._data.shape, b._data.shape) from None
            return record(_make(data, be), PowBackward1, (a, b), saved=(a, b),
                          a_shape=a._data.shape, b_shape=b._data.shape)
        if b.__class__ is int and b < 0 and a.dtype.kind != "f":
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        data = be.pow(a._data, b)
        if _fw.active:
            return record(_make(data, be), PowBackward0, (a,), saved=(a,), exponent=b)
        if a._requires_grad and _grad.enabled:  # (hot: see the top)
            node = PowBackward0((edge_of(a),))
            node.exponent = b
            node.save(a)
            return _make(data, be, node)
        return _make(data, be)
    except RuntimeWarning:  # a float warning made an error by the user (autodiff/float_warnings.py)
        return quietly(pow, input, exponent)


def square(input: Tensor) -> Tensor:
    """``input ** 2`` (recorded as PyTorch records it, ``PowBackward0``)."""
    if input.dtype.kind == "b":
        input = promote(input, 1, "square")[0]  # bool squares to int64, as in PyTorch
    return pow(input, 2)


def rpow(input: Tensor, base: Any) -> Tensor:
    """``base ** input`` for a Python scalar ``base``."""
    try:
        if base.__class__ is Tensor or isinstance(base, Tensor):
            return pow(base, input)
        a, s = promote(input, base, "pow")
        be = a._be
        data = be.pow(s, a._data)
        return record(_make(data, be), PowBackward2, (a,), saved=(a,), base=s)
    except RuntimeWarning:  # a float warning made an error by the user (autodiff/float_warnings.py)
        return quietly(rpow, input, base)


# ---- binary ------------------------------------------------------------------------
class MaximumBackward0(Node):
    """Where ``a == b`` each side gets half the gradient, as in PyTorch."""

    __slots__ = ("a_shape", "b_shape", "take_max")
    jvp = derived_jvp

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
    jvp = derived_jvp

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


negative = neg


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """``input + weight * (end - input)``; ``weight`` is a number or a tensor."""
    if not (isinstance(input, Tensor) and isinstance(end, Tensor)
            and isinstance(weight, (Tensor, int, float))):
        got = ", ".join(type(v).__name__ for v in (input, end, weight))
        raise TypeError(
            f"lerp() received an invalid combination of arguments - got ({got}), but expected one of:\n"
            " * (Tensor input, Tensor end, Tensor weight)\n * (Tensor input, Tensor end, Number weight)"
        )
    if end.dtype is not input.dtype:  # (PyTorch does not promote here)
        raise RuntimeError(f"expected dtype {input.dtype.c_name} for `end` but got dtype {end.dtype.c_name}")
    if isinstance(weight, (int, float)) and weight >= 0.5:
        # PyTorch's form for weights near 1 (exact at 1; its infinities and NaNs are these)
        return end - (end - input) * (1 - weight)
    return input + weight * (end - input)


# ---- more binary math: angles, remainders, NaN-ignoring extremes ---------------------------
def _tensor_other(other: Any, op: str) -> None:
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}(): argument 'other' must be Tensor, not {type(other).__name__}")


def _two_floats(input: Tensor, other: Any, op: str) -> tuple[Tensor, Tensor]:
    """Two tensors (``other`` must be one) of one float dtype."""
    _tensor_other(other, op)
    return promote(float_result(input), float_result(other), op)


class Atan2Backward0(Node):
    __slots__ = ("a_shape", "b_shape")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        a, b = self.unpack()
        ea, eb = edges_of(self)
        r2 = a * a + b * b
        ga = sum_to(g * b / r2, self.a_shape) if ea is not None else None
        gb = sum_to(-g * a / r2, self.b_shape) if eb is not None else None
        return ga, gb


def atan2(input: Tensor, other: Tensor) -> Tensor:
    """The angle of the point ``(other, input)``, in ``[-pi, pi]``."""
    a, b = _two_floats(input, other, "atan2")
    be = a._be
    return record(_make(be.arctan2(a._data, b._data), be), Atan2Backward0, (a, b), saved=(a, b),
                  a_shape=a._data.shape, b_shape=b._data.shape)


arctan2 = atan2


class HypotBackward0(Node):
    __slots__ = ("a_shape", "b_shape")
    jvp = derived_jvp
    saved_outputs = (2,)  # (a, b, hypot(a, b))

    def backward(self, g: Tensor) -> tuple:
        a, b, y = self.unpack()
        ea, eb = edges_of(self)
        ga = sum_to(g * a / y, self.a_shape) if ea is not None else None
        gb = sum_to(g * b / y, self.b_shape) if eb is not None else None
        return ga, gb


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """``sqrt(input**2 + other**2)`` without overflow."""
    a, b = _two_floats(input, other, "hypot")
    be = a._be
    return record(_make(be.hypot(a._data, b._data), be), HypotBackward0, (a, b), saved=(a, b),
                  save_output=True, a_shape=a._data.shape, b_shape=b._data.shape)


class Logaddexp2Backward0(Node):
    """d/da log2(2^a + 2^b) = sigmoid((a - b) ln 2)."""

    __slots__ = ("a_shape", "b_shape")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        a, b = self.unpack()
        ea, eb = edges_of(self)
        ga = sum_to(g * sigmoid((a - b) * math.log(2.0)), self.a_shape) if ea is not None else None
        gb = sum_to(g * sigmoid((b - a) * math.log(2.0)), self.b_shape) if eb is not None else None
        return ga, gb


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """``log2(2**input + 2**other)``, without overflow."""
    a, b = _two_floats(input, other, "logaddexp2")
    be = a._be
    x, y = a._data, b._data
    same = be.eq(x, y)  # equal infinities differ by 0 (inf - inf would be nan)
    gap = be.abs(be.sub(be.where(same, 0.0, x), be.where(same, 0.0, y)))
    data = be.add(be.maximum(x, y), be.div(be.log1p(be.exp2(be.neg(gap))), math.log(2.0)))
    return record(_make(data, be), Logaddexp2Backward0, (a, b), saved=(a, b),
                  a_shape=x.shape, b_shape=y.shape)


class CopysignBackward0(Node):
    """d/da copysign(a, b) = copysign(a, b) / a (0 where a == 0); b gets zeros."""

    __slots__ = ("a_shape", "b_shape")
    jvp = derived_jvp
    saved_outputs = (1,)  # (a, copysign(a, b))

    def backward(self, g: Tensor) -> Any:
        a, y = self.unpack()
        zero = a == 0
        ga = g * where(zero, 0.0, y / where(zero, 1.0, a))
        if self.b_shape is None:  # a Python number: CopysignBackward1, one input
            return ga
        ea, eb = edges_of(self)
        gb = sum_to(g * 0, self.b_shape) if eb is not None else None
        return (sum_to(ga, self.a_shape) if ea is not None else None), gb


class CopysignBackward1(CopysignBackward0):
    __slots__ = ()


def copysign(input: Tensor, other: Any) -> Tensor:
    """``|input|`` with the sign of ``other`` (a tensor or a number; -0.0 counts as negative)."""
    a = float_result(input)
    if isinstance(other, Tensor):
        a, b = promote(a, float_result(other), "copysign")
        be = a._be
        return record(_make(be.copysign(a._data, b._data), be), CopysignBackward0, (a, b), saved=(a,),
                      save_output=True, a_shape=a._data.shape, b_shape=b._data.shape)
    a, s = promote(a, float(other), "copysign")
    be = a._be
    return record(_make(be.copysign(a._data, s), be), CopysignBackward1, (a,), saved=(a,),
                  save_output=True, a_shape=a._data.shape, b_shape=None)


class FmodBackward0(Node):
    """``fmod`` / ``remainder`` by a number: the gradient passes through."""

    __slots__ = ()
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        return g


class RemainderBackward0(FmodBackward0):
    __slots__ = ()


class FmodBackward1(Node):
    """d/db (a - b * trunc(a / b)) = -trunc(a / b) (floor for ``remainder``)."""

    __slots__ = ("a_shape", "b_shape")
    jvp = derived_jvp
    rounding = "trunc"

    def backward(self, g: Tensor) -> tuple:
        a, b = self.unpack()
        ea, eb = edges_of(self)
        ga = sum_to(g, self.a_shape) if ea is not None else None
        gb = None
        if eb is not None:
            # (a / b).trunc() is recorded (with a zero gradient), as PyTorch records it.
            q = a / b
            gb = sum_to(-g * getattr(q, self.rounding)(), self.b_shape)
        return ga, gb


class RemainderBackward1(FmodBackward1):
    __slots__ = ()
    rounding = "floor"


def _modulo(input: Any, other: Any, op: str, scalar_cls: type, tensor_cls: type) -> Tensor:
    if not isinstance(input, Tensor):
        input = _scalar_tensor(input, other, op)
    a, b = promote(input, other, op)
    be = a._be
    fn = be.fmod if op == "fmod" else be.remainder
    if isinstance(b, Tensor):
        _no_integer_zero(b, op)
        return record(_make(fn(a._data, b._data), be), tensor_cls, (a, b), saved=(a, b),
                      a_shape=a._data.shape, b_shape=b._data.shape)
    if b == 0 and a.dtype.kind != "f":
        raise RuntimeError("ZeroDivisionError")
    return record(_make(fn(a._data, b), be), scalar_cls, (a,))


def _scalar_tensor(value: Any, like: Tensor, op: str = "op") -> Tensor:
    """A Python number on the left of a tensor op: a 0-d tensor on ``like``'s device
    (anything else, a list say, is PyTorch's TypeError)."""
    if not isinstance(value, (int, float)):
        raise TypeError(f"{op}() received an invalid combination of arguments - got "
                        f"({type(value).__name__}, {type(like).__name__})")
    return number_as_tensor(value, like)


def _no_integer_zero(b: Tensor, op: str) -> None:
    if b.dtype.kind != "f" and b._be.any(b._be.eq(b._data, 0)):
        raise RuntimeError("ZeroDivisionError")


def fmod(input: Tensor, other: Any) -> Tensor:
    """Remainder of ``input / other`` with the sign of ``input`` (C's fmod)."""
    return _modulo(input, other, "fmod", FmodBackward0, FmodBackward1)


def remainder(input: Any, other: Any) -> Tensor:
    """Remainder of ``input / other`` with the sign of ``other`` (Python's ``%``)."""
    return _modulo(input, other, "remainder", RemainderBackward0, RemainderBackward1)


def _rremainder(input: Tensor, other: Any) -> Tensor:
    """``number % tensor``: PyTorch has no derivative for it (backward raises)."""
    a, s = promote(input, other, "remainder")
    be = a._be
    data = be.remainder(s, a._data)
    return record(_make(be.as_array(data), be), NotImplementedBackward, (a,), op="remainder")


class NotImplementedBackward(Node):
    """The grad_fn of ops PyTorch gives no derivative (``floor_divide``, ``heaviside``):
    backward through it raises, as in PyTorch."""

    __slots__ = ("op",)
    jvp = no_jvp
    torch_name = "NotImplemented"

    def backward(self, g: Tensor) -> Any:
        raise RuntimeError(f"derivative for aten::{self.op} is not implemented")


def floor_divide(input: Any, other: Any) -> Tensor:
    """``floor(input / other)`` (integer tensors stay integer); not differentiable."""
    if not isinstance(input, Tensor):
        input = _scalar_tensor(input, other, "floor_divide") if isinstance(other, Tensor) else _wrapped_number(input, other)
    a, b = promote(input, other, "floor_divide")
    be = a._be
    bd = b._data if isinstance(b, Tensor) else b
    if a.dtype.kind == "f":
        data = be.floor_divide(a._data, bd)  # (Python's //: inf // 2 is nan, as in PyTorch)
    else:
        if isinstance(b, Tensor):
            _no_integer_zero(b, "floor_divide")
        elif b == 0:
            raise RuntimeError("ZeroDivisionError")
        data = be.floor_divide(a._data, bd)
    return record(_make(be.as_array(data), be), NotImplementedBackward, (a, b if isinstance(b, Tensor) else None),
                  op="floor_divide")


def _rfloor_divide(input: Tensor, other: Any) -> Tensor:
    return floor_divide(_scalar_tensor(other, input, "floor_divide"), input)


class FmaxBackward0(Node):
    """The gradient goes to ``a`` where ``a >= b`` or ``b`` is NaN, else to ``b`` (ties go
    to ``a`` entirely, as in PyTorch)."""

    __slots__ = ("a_shape", "b_shape")
    jvp = derived_jvp
    wins = "ge"  # where ``a`` wins the comparison

    def backward(self, g: Tensor) -> tuple:
        a, b = self.unpack()
        ea, eb = edges_of(self)
        first = getattr(a, self.wins)(b) | b.isnan()
        ga = sum_to(where(first, g, 0.0), self.a_shape) if ea is not None else None
        gb = sum_to(where(first, 0.0, g), self.b_shape) if eb is not None else None
        return ga, gb


class FminBackward0(FmaxBackward0):
    __slots__ = ()
    wins = "le"


def _nan_extremum(input: Tensor, other: Tensor, op: str) -> Tensor:
    _tensor_other(other, op)
    a, b = promote(input, other, op)
    be = a._be
    data = (be.fmax if op == "fmax" else be.fmin)(a._data, b._data)
    return record(_make(data, be), FmaxBackward0 if op == "fmax" else FminBackward0, (a, b), saved=(a, b),
                  a_shape=a._data.shape, b_shape=b._data.shape)


def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum where a NaN loses to a number (NaN only where both are NaN)."""
    return _nan_extremum(input, other, "fmax")


def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum where a NaN loses to a number."""
    return _nan_extremum(input, other, "fmin")


def float_power(input: Any, exponent: Any) -> Tensor:
    """``input ** exponent`` computed in float64 (the result is float64)."""
    if isinstance(input, Tensor):
        input = cast(input, dtypes.float64)
    if isinstance(exponent, Tensor):
        exponent = cast(exponent, dtypes.float64)
    elif not isinstance(input, Tensor):
        raise TypeError("float_power(): one of the arguments must be a Tensor")
    else:
        exponent = float(exponent)
    if not isinstance(input, Tensor):
        return rpow(exponent, float(input))
    return pow(input, exponent)


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """0 where ``input < 0``, ``values`` where ``input == 0``, 1 where ``input > 0``;
    not differentiable."""
    _tensor_other(values, "heaviside")
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")
    a, v = promote(input, values, "heaviside")
    be = a._be
    data = be.where(be.eq(a._data, 0), v._data, be.astype(be.gt(a._data, 0), a.dtype.name))
    return record(_make(be.as_array(data), be), NotImplementedBackward, (a, v), op="heaviside")


class NextafterBackward0(Node):
    """As in PyTorch: the gradient passes to ``input``; ``other`` gets zeros."""

    __slots__ = ("a_shape", "b_shape")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        ea, eb = edges_of(self)
        ga = sum_to(g, self.a_shape) if ea is not None else None
        gb = sum_to(g * 0, self.b_shape) if eb is not None else None
        return ga, gb


def nextafter(input: Tensor, other: Tensor) -> Tensor:
    """The next floating-point value after ``input`` towards ``other``."""
    _tensor_other(other, "nextafter")
    a, b = promote(input, other, "nextafter")
    if a.dtype.kind != "f":
        raise RuntimeError(f"\"nextafter_cpu\" not implemented for '{a.dtype.word}'")
    be = a._be
    return record(_make(be.nextafter(a._data, b._data), be), NextafterBackward0, (a, b),
                  a_shape=a._data.shape, b_shape=b._data.shape)


def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """``input * 2**other``."""
    return mul(float_result(input), exp2(other))


class AddcmulBackward0(Node):
    """``input + value * t1 * t2``."""

    __slots__ = ("shapes", "value")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        t1, t2 = self.unpack()
        e0, e1, e2 = edges_of(self)
        s0, s1, s2 = self.shapes
        v = self.value
        g0 = sum_to(g, s0) if e0 is not None else None
        g1 = sum_to(g * t2 * v, s1) if e1 is not None else None
        g2 = sum_to(g * t1 * v, s2) if e2 is not None else None
        return g0, g1, g2


class AddcdivBackward0(Node):
    """``input + value * t1 / t2``."""

    __slots__ = ("shapes", "value")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        t1, t2 = self.unpack()
        e0, e1, e2 = edges_of(self)
        s0, s1, s2 = self.shapes
        v = self.value
        g0 = sum_to(g, s0) if e0 is not None else None
        g1 = sum_to(g * v / t2, s1) if e1 is not None else None
        g2 = sum_to(-g * v * t1 / (t2 * t2), s2) if e2 is not None else None
        return g0, g1, g2


def _three(input: Tensor, t1: Tensor, t2: Tensor, op: str) -> tuple[Tensor, Tensor, Tensor]:
    """The three operands promoted to one dtype."""
    for t in (t1, t2):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument 'tensor1' and 'tensor2' must be Tensor, not {type(t).__name__}")
    a, b = promote(input, t1, op)
    a, c = promote(a, t2, op)
    b, c = promote(b, c, op)
    a, b = promote(a, b, op)
    return a, b, c


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 * tensor2`` (broadcasting)."""
    a, b, c = _three(input, tensor1, tensor2, "addcmul")
    be = a._be
    prod = be.mul(b._data, c._data)
    data = be.add(a._data, prod if value == 1 else be.mul(prod, value))
    return record(_make(data, be), AddcmulBackward0, (a, b, c), saved=(b, c),
                  shapes=(a._data.shape, b._data.shape, c._data.shape), value=value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 / tensor2`` (broadcasting)."""
    if tensor1.dtype.kind != "f" and tensor2.dtype.kind != "f":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) "
            "for integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
            "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
            "for all dtypes."
        )
    a, b, c = _three(input, tensor1, tensor2, "addcdiv")
    be = a._be
    quot = be.div(b._data, c._data)
    data = be.add(a._data, quot if value == 1 else be.mul(quot, value))
    return record(_make(data, be), AddcdivBackward0, (a, b, c), saved=(b, c),
                  shapes=(a._data.shape, b._data.shape, c._data.shape), value=value)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = (
    "add", "sub", "rsub", "mul", "div", "neg", "pow", "reciprocal", "maximum", "minimum", "logaddexp", "lerp",
    "negative", "square", "atan2", "arctan2", "hypot", "logaddexp2", "copysign", "fmod", "remainder", "floor_divide",
    "fmax", "fmin", "float_power", "heaviside", "nextafter", "ldexp", "addcmul", "addcdiv",
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
    "divide": div, "multiply": mul, "subtract": sub, "true_divide": div, "negative": neg,
    "__mod__": remainder, "__rmod__": _rremainder, "__floordiv__": floor_divide,
    "__rfloordiv__": _rfloor_divide,
} | {name: globals()[name] for name in FUNCTIONS[12:]}

