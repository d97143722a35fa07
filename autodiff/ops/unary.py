"""Elementwise math of one tensor: ``exp``, ``log``, ``sqrt``, ``abs``, ``sign``, trigonometry,
``tanh``, ``sigmoid``, ``erf``, ``expm1``, ``log1p``, ``log2``, ``rsqrt``, rounding and ``clamp``.

A backward that needs the op's own output (``exp``, ``tanh``, ``sigmoid``, ...) saves it
with ``record(..., save_output=True)``: see ``Node.saved_outputs``.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff.autograd.forward_rules import symmetric_jvp
from autodiff.autograd.node import Node
from autodiff.autograd.record import record
from autodiff.ops._prep import as_tensor, float_result, no_kernel, promote
from autodiff.ops.comparison import where
from autodiff.tensor import Tensor, _make


class ExpBackward0(Node):
    """d exp(x) = exp(x): only the output is saved (as in PyTorch, so the input may change
    in place)."""

    __slots__ = ()
    jvp = symmetric_jvp
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (result,) = self.unpack()
        return g * result


def exp(input: Tensor) -> Tensor:
    return _float_unary(input, "exp", ExpBackward0)


class LogBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / x


def log(input: Tensor) -> Tensor:
    return _float_unary(input, "log", LogBackward0)


class SqrtBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / (2 * sqrt(x))


def sqrt(input: Tensor) -> Tensor:
    return _float_unary(input, "sqrt", SqrtBackward0)


class AbsBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * sign(x)


def abs(input: Tensor) -> Tensor:  # noqa: A001
    if input._data.dtype.kind == "b":
        raise no_kernel("abs", input)
    be = input._be
    data = be.abs(input._data)
    return record(_make(data, be), AbsBackward0, (input,), saved=(input,))


class SignBackward0(Node):
    """The gradient of sign is zero, but (as in PyTorch) the result is part of the graph."""

    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        return g * 0


def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 by sign (0 for NaN, as in PyTorch); its gradient is zero."""
    return record(_make(_sign(input), input._be), SignBackward0, (input,))


def _sign(input: Tensor) -> Any:
    be = input._be
    if input._data.dtype.kind == "b":  # the sign of a bool is itself (NumPy has no bool sign)
        return be.copy(input._data)
    data = be.sign(input._data)
    if input.dtype.kind == "f":
        data = be.where(be.isnan(input._data), 0, data)
    return data


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
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * cos(x)


class CosBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * -sin(x)


class TanBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return g * (1 + y * y)


class TanhBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return g * (1 - y * y)


class SigmoidBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return g * (y * (1 - y))


class RsqrtBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return g * (-0.5 * y * y * y)


class Expm1Backward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return g * (y + 1)


class Log1PBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / (x + 1)


class Log2Backward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / (x * math.log(2.0))


class ErfBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

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
    jvp = symmetric_jvp

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


def _no_bool_rounding(input: Tensor, op: str) -> None:
    if input._data.dtype.kind == "b":  # (PyTorch rounds integers, as a copy, but has no bool kernel)
        raise no_kernel(op, input)


def floor(input: Tensor) -> Tensor:
    _no_bool_rounding(input, "floor")
    return _rounding(input, input._be.floor(input._data), FloorBackward0)


def ceil(input: Tensor) -> Tensor:
    _no_bool_rounding(input, "ceil")
    return _rounding(input, input._be.ceil(input._data), CeilBackward0)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even, as PyTorch does (integers only with ``decimals=0``)."""
    _no_bool_rounding(input, "round")
    if decimals and input._data.dtype.kind != "f":
        raise no_kernel("round", input)
    return _rounding(input, input._be.round(input._data, decimals), RoundBackward0)


class ClampBackward1(Node):
    """clamp with scalar bounds: the gradient passes where min <= x <= max."""

    __slots__ = ("lo", "hi")
    jvp = symmetric_jvp

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
absolute = abs


# ---- inverse trigonometry and hyperbolic functions -------------------------------------
class AsinBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / sqrt(1 - x * x)


class AcosBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return -g / sqrt(1 - x * x)


class AtanBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / (1 + x * x)


class SinhBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * cosh(x)


class CoshBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * sinh(x)


class AsinhBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / sqrt(x * x + 1)


class AcoshBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / sqrt(x * x - 1)


class AtanhBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / (1 - x * x)


def asin(input: Tensor) -> Tensor:
    return _float_unary(input, "arcsin", AsinBackward0)


def acos(input: Tensor) -> Tensor:
    return _float_unary(input, "arccos", AcosBackward0)


def atan(input: Tensor) -> Tensor:
    return _float_unary(input, "arctan", AtanBackward0)


def sinh(input: Tensor) -> Tensor:
    return _float_unary(input, "sinh", SinhBackward0)


def cosh(input: Tensor) -> Tensor:
    return _float_unary(input, "cosh", CoshBackward0)


def asinh(input: Tensor) -> Tensor:
    return _float_unary(input, "arcsinh", AsinhBackward0)


def acosh(input: Tensor) -> Tensor:
    return _float_unary(input, "arccosh", AcoshBackward0)


def atanh(input: Tensor) -> Tensor:
    return _float_unary(input, "arctanh", AtanhBackward0)


arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


# ---- exponentials and logarithms in other bases ------------------------------------------
class Exp2Backward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return g * (y * math.log(2.0))


class Log10Backward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g / (x * math.log(10.0))


def exp2(input: Tensor) -> Tensor:
    return _float_unary(input, "exp2", Exp2Backward0)


def log10(input: Tensor) -> Tensor:
    return _float_unary(input, "log10", Log10Backward0)


class LogitBackward0(Node):
    """``1 / (x (1 - x))``; with ``eps``, 0 where the input was clamped (as in PyTorch)."""

    __slots__ = ("eps",)
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        if self.eps is None:  # nan outside [0, 1], as PyTorch gives
            return where((x < 0) | (x > 1), math.nan, g / (x * (1 - x)))
        clamped = (x < self.eps) | (x > 1 - self.eps)
        x = where(clamped, 0.5, x)  # no inf/nan there, not even in double backward
        return where(clamped, 0.0, g / (x * (1 - x)))


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))``; with ``eps``, ``p`` is first clamped to ``[eps, 1 - eps]``."""
    a = float_result(input)
    be = a._be
    p = a._data if eps is None else be.clip(a._data, eps, 1 - eps)
    data = be.log(be.div(p, be.sub(1, p)))
    return record(_make(data, be), LogitBackward0, (a,), saved=(a,), eps=eps)


# ---- signs, rounding toward zero and unit conversions ------------------------------------
class TruncBackward0(_ZeroGrad):
    __slots__ = ()


class SgnBackward0(_ZeroGrad):
    """``sgn`` of a real tensor is ``sign``: zero gradient."""

    __slots__ = ()


class FracBackward0(Node):
    """``x - trunc(x)``: the gradient passes through."""

    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        return g


def trunc(input: Tensor) -> Tensor:
    """Round toward zero (integers are returned unchanged, as a new tensor)."""
    _no_bool_rounding(input, "trunc")
    be = input._be
    data = be.copy(input._data) if input.dtype.kind != "f" else be.trunc(input._data)
    return _rounding(input, data, TruncBackward0)


fix = trunc


def frac(input: Tensor) -> Tensor:
    """The fractional part ``x - trunc(x)``, with the sign of ``x`` (float tensors only)."""
    if input.dtype.kind != "f":
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{input.dtype.word}'")
    be = input._be
    data = be.sub(input._data, be.trunc(input._data))
    return record(_make(data, be), FracBackward0, (input,))


def sgn(input: Tensor) -> Tensor:
    """``sign`` for real tensors (``x / |x|`` for complex ones, which autodiff has not)."""
    return record(_make(_sign(input), input._be), SgnBackward0, (input,))


def positive(input: Tensor) -> Tensor:
    """The input itself (bool tensors are refused, as by PyTorch)."""
    if input.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


class Deg2RadBackward0(Node):
    __slots__ = ("factor",)
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        return g * self.factor


class Rad2DegBackward0(Deg2RadBackward0):
    __slots__ = ()


def _scaled(input: Tensor, factor: float, node_cls: type[Node]) -> Tensor:
    a = float_result(input)
    be = a._be
    return record(_make(be.mul(a._data, factor), be), node_cls, (a,), factor=factor)


def deg2rad(input: Tensor) -> Tensor:
    return _scaled(input, math.pi / 180.0, Deg2RadBackward0)


def rad2deg(input: Tensor) -> Tensor:
    return _scaled(input, 180.0 / math.pi, Rad2DegBackward0)


class NanToNumBackward0(Node):
    """The gradient passes where the input was finite; replaced values get none."""

    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        be = x._be
        return where(_make(be.isfinite(x._data), be), g, 0.0)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf`` (the dtype's largest and
    smallest finite values by default); integer tensors are returned as a copy."""
    be = input._be
    if input.dtype.kind != "f":
        return _make(be.copy(input._data), be)
    data = be.nan_to_num(input._data, nan, posinf, neginf)
    return record(_make(data, be), NanToNumBackward0, (input,), saved=(input,))


class ClampMinBackward0(ClampBackward1):
    __slots__ = ()


class ClampMaxBackward0(ClampBackward1):
    __slots__ = ()


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    """``clamp(input, min=min)``."""
    return _clamp_one(input, min, None, ClampMinBackward0, "clamp_min")


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    """``clamp(input, max=max)``."""
    return _clamp_one(input, None, max, ClampMaxBackward0, "clamp_max")


def _clamp_one(input: Tensor, lo: Any, hi: Any, node_cls: type[Node], op: str) -> Tensor:
    if isinstance(lo, Tensor) or isinstance(hi, Tensor):
        return _clamp_tensor(input, lo, hi)
    a, _ = promote(input, lo if hi is None else hi, op)
    be = a._be
    data = be.clip(a._data, lo, hi)
    return record(_make(data, be), node_cls, (a,), saved=(a,), lo=lo, hi=hi)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = (
    "exp", "log", "sqrt", "abs", "sign", "sin", "cos", "tan", "tanh", "sigmoid", "rsqrt", "expm1",
    "log1p", "log2", "erf", "floor", "ceil", "round", "clamp", "clip",
    "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan",
    "arcsinh", "arccosh", "arctanh", "exp2", "log10", "logit", "trunc", "fix", "frac", "sgn", "positive", "deg2rad", "rad2deg", "nan_to_num", "clamp_min", "clamp_max", "absolute",
)
METHODS = {name: globals()[name] for name in FUNCTIONS} | {"__abs__": abs, "__pos__": positive}

