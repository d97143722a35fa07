"""More elementwise math: trigonometry, ``tanh``/``sigmoid``/``relu``, ``erf``, ``expm1``,
``log1p``/``log2``, ``rsqrt``, rounding, ``maximum``/``minimum`` and ``lerp``.

A backward that needs the op's own output (``tanh``, ``sigmoid``, ``rsqrt``) uses the saved
output when only a first derivative is asked for, and recomputes it from the input when a
graph is being built, so that higher-order gradients see it as a function of the input.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edge_of
from autodiff.ops._prep import float_result, promote
from autodiff.ops.elementwise import where
from autodiff.ops.reduction import sum_to
from autodiff.tensor import Tensor, _make


def _record(a: Tensor, data: Any, node_cls: type, save_output: bool = False) -> Tensor:
    """Wrap ``data`` = f(a); record ``node_cls`` saving ``a`` (and the output) if needed."""
    be = a._be
    if not (a._requires_grad and _grad.enabled):
        return _make(data, be)
    node = node_cls((edge_of(a),))
    out = _make(data, be, node)
    if save_output:
        result = _make(data, be)
        result._version = out._version
        node.save(a, result)
    else:
        node.save(a)
    return out


def _float_unary(input: Tensor, fn: str, node_cls: type, save_output: bool = False) -> Tensor:
    a = float_result(input)
    return _record(a, getattr(a._be, fn)(a._data), node_cls, save_output)


class _Unary(Node):
    __slots__ = ()

    def _out(self, fn: Any) -> tuple:
        x, result = self.unpack()
        return x, (fn(x) if _grad.enabled else result)


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


class TanBackward0(_Unary):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        _, y = self._out(tan)
        return g * (1 + y * y)


class TanhBackward0(_Unary):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        _, y = self._out(tanh)
        return g * (1 - y * y)


class SigmoidBackward0(_Unary):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        _, y = self._out(sigmoid)
        return g * (y * (1 - y))


class RsqrtBackward0(_Unary):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        x, y = self._out(rsqrt)
        return g * (-0.5 * y / x)


class Expm1Backward0(_Unary):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        _, y = self._out(expm1)
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
        from autodiff.ops.elementwise import exp

        (x,) = self.unpack()
        return g * (2.0 / math.sqrt(math.pi)) * exp(-(x * x))


class ReluBackward0(Node):
    """The gradient passes where the output is positive (0 at x == 0, as in PyTorch)."""

    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return where(x > 0, g, 0.0)


def sin(input: Tensor) -> Tensor:
    return _float_unary(input, "sin", SinBackward0)


def cos(input: Tensor) -> Tensor:
    return _float_unary(input, "cos", CosBackward0)


def tan(input: Tensor) -> Tensor:
    return _float_unary(input, "tan", TanBackward0, True)


def tanh(input: Tensor) -> Tensor:
    return _float_unary(input, "tanh", TanhBackward0, True)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``, computed without overflow for large ``|x|``."""
    a = float_result(input)
    be = a._be
    # 0.5 * (1 + tanh(x / 2)) is exact algebra and never overflows.
    data = be.mul(be.add(be.tanh(be.mul(a._data, 0.5)), 1), 0.5)
    return _record(a, data, SigmoidBackward0, True)


def rsqrt(input: Tensor) -> Tensor:
    a = float_result(input)
    be = a._be
    return _record(a, be.div(1, be.sqrt(a._data)), RsqrtBackward0, True)


def expm1(input: Tensor) -> Tensor:
    return _float_unary(input, "expm1", Expm1Backward0, True)


def log1p(input: Tensor) -> Tensor:
    return _float_unary(input, "log1p", Log1PBackward0)


def log2(input: Tensor) -> Tensor:
    return _float_unary(input, "log2", Log2Backward0)


def erf(input: Tensor) -> Tensor:
    return _float_unary(input, "erf", ErfBackward0)


def relu(input: Tensor) -> Tensor:
    be = input._be
    return _record(input, be.maximum(input._data, be.zeros((), input.dtype.name)), ReluBackward0)


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
    be = input._be
    if input._requires_grad and _grad.enabled:
        return _make(data, be, node_cls((edge_of(input),)))
    return _make(data, be)


def floor(input: Tensor) -> Tensor:
    return _rounding(input, input._be.floor(input._data), FloorBackward0)


def ceil(input: Tensor) -> Tensor:
    return _rounding(input, input._be.ceil(input._data), CeilBackward0)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even, as PyTorch does."""
    return _rounding(input, input._be.round(input._data, decimals), RoundBackward0)


# ---- binary ------------------------------------------------------------------------
class MaximumBackward0(Node):
    """Where ``a == b`` each side gets half the gradient, as in PyTorch."""

    __slots__ = ("a_shape", "b_shape", "take_max")

    def backward(self, g: Tensor) -> tuple:
        a, b = self.unpack()
        ea, eb = self.next_edges
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
    if _grad.enabled and (a._requires_grad or b._requires_grad):
        node = (MaximumBackward0 if take_max else MinimumBackward0)((edge_of(a), edge_of(b)))
        node.a_shape, node.b_shape = a._data.shape, b._data.shape
        node.take_max = take_max
        node.save(a, b)
        return _make(data, be, node)
    return _make(data, be)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum of two tensors (broadcasting)."""
    return _extremum(input, other, True)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum of two tensors (broadcasting)."""
    return _extremum(input, other, False)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """``input + weight * (end - input)``; ``weight`` is a number or a tensor."""
    return input + weight * (end - input)
