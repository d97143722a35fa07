"""Elementwise math of one tensor: ``exp``, ``log``, ``sqrt``, ``abs``, ``sign``, trigonometry,
``tanh``, ``sigmoid``, ``erf``, ``expm1``, ``log1p``, ``log2``, ``rsqrt``, rounding and ``clamp``.

A backward that needs the op's own output (``exp``, ``tanh``, ``sigmoid``, ...) saves it
with ``record(..., save_output=True)``: see ``Node.saved_outputs``.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff.autograd.node import Node
from autodiff.autograd.record import record
from autodiff.ops._prep import as_tensor, float_result, promote
from autodiff.ops.comparison import where
from autodiff.tensor import Tensor, _make


class ExpBackward0(Node):
    """d exp(x) = exp(x): only the output is saved (as in PyTorch, so the input may change
    in place)."""

    __slots__ = ()
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (result,) = self.unpack()
        return g * result


def exp(input: Tensor) -> Tensor:
    return _float_unary(input, "exp", ExpBackward0)


class LogBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / x


def log(input: Tensor) -> Tensor:
    return _float_unary(input, "log", LogBackward0)


class SqrtBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / (2 * sqrt(x))


def sqrt(input: Tensor) -> Tensor:
    return _float_unary(input, "sqrt", SqrtBackward0)


class AbsBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * sign(x)


def abs(input: Tensor) -> Tensor:  # noqa: A001
    be = input._be
    data = be.abs(input._data)
    return record(_make(data, be), AbsBackward0, (input,), saved=(input,))


class SignBackward0(Node):
    """The gradient of sign is zero, but (as in PyTorch) the result is part of the graph."""

    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        return g * 0


def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 by sign; its gradient is zero."""
    be = input._be
    data = be.sign(input._data)
    return record(_make(data, be), SignBackward0, (input,))


def _float_unary(input: Tensor, fn: str, node_cls: type[Node]) -> Tensor:
    """``fn`` of the backend on ``input`` (ints promoted to float), recorded as ``node_cls``:
    saving its output when ``node_cls.saved_outputs`` says backward reads it, else its input."""
    a = float_result(input)
    out = _make(getattr(a._be, fn)(a._data), a._be)
    if node_cls.saved_outputs:
        return record(out, node_cls, (a,), save_output=True)
    return record(out, node_cls, (a,), saved=(a,))


class SinBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * cos(x)


class CosBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * -sin(x)


class TanBackward0(Node):
    __slots__ = ()
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return g * (1 + y * y)


class TanhBackward0(Node):
    __slots__ = ()
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return g * (1 - y * y)


class SigmoidBackward0(Node):
    __slots__ = ()
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return g * (y * (1 - y))


class RsqrtBackward0(Node):
    __slots__ = ()
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return g * (-0.5 * y * y * y)


class Expm1Backward0(Node):
    __slots__ = ()
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return g * (y + 1)


class Log1PBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / (x + 1)


class Log2Backward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / (x * math.log(2.0))


class ErfBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * (2.0 / math.sqrt(math.pi)) * exp(-(x * x))


def sin(input: Tensor) -> Tensor:
    return _float_unary(input, "sin", SinBackward0)


def cos(input: Tensor) -> Tensor:
    return _float_unary(input, "cos", CosBackward0)


def tan(input: Tensor) -> Tensor:
    return _float_unary(input, "tan", TanBackward0)


def tanh(input: Tensor) -> Tensor:
    return _float_unary(input, "tanh", TanhBackward0)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``, without overflow and to full relative precision for large
    ``|x|`` (``sigmoid(-20)`` is ~2e-9 in float32, not 0: see the backend's ``sigmoid``)."""
    return _float_unary(input, "sigmoid", SigmoidBackward0)


def rsqrt(input: Tensor) -> Tensor:
    a = float_result(input)
    be = a._be
    return record(_make(be.div(1, be.sqrt(a._data)), be), RsqrtBackward0, (a,), save_output=True)


def expm1(input: Tensor) -> Tensor:
    return _float_unary(input, "expm1", Expm1Backward0)


def log1p(input: Tensor) -> Tensor:
    return _float_unary(input, "log1p", Log1PBackward0)


def log2(input: Tensor) -> Tensor:
    return _float_unary(input, "log2", Log2Backward0)


def erf(input: Tensor) -> Tensor:
    return _float_unary(input, "erf", ErfBackward0)


# ---- rounding: piecewise constant, so the gradient is zero -------------------------
class _ZeroGrad(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        return g * 0


class FloorBackward0(_ZeroGrad):
    __slots__ = ()


class CeilBackward0(_ZeroGrad):
    __slots__ = ()


class RoundBackward0(_ZeroGrad):
    __slots__ = ()


def _rounding(input: Tensor, data: Any, node_cls: type) -> Tensor:
    return record(_make(data, input._be), node_cls, (input,))


def floor(input: Tensor) -> Tensor:
    return _rounding(input, input._be.floor(input._data), FloorBackward0)


def ceil(input: Tensor) -> Tensor:
    return _rounding(input, input._be.ceil(input._data), CeilBackward0)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even, as PyTorch does."""
    return _rounding(input, input._be.round(input._data, decimals), RoundBackward0)


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
    return record(_make(data, be), ClampBackward1, (a,), saved=(a,), lo=min, hi=max)


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


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = (
    "exp", "log", "sqrt", "abs", "sign", "sin", "cos", "tan", "tanh", "sigmoid", "rsqrt", "expm1",
    "log1p", "log2", "erf", "floor", "ceil", "round", "clamp", "clip",
)
METHODS = {name: globals()[name] for name in FUNCTIONS} | {"__abs__": abs}
