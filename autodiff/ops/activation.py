"""Neural-net activations: ``relu``, ``leaky_relu``, ``gelu``, ``softmax`` and ``log_softmax``.

``softmax`` and ``log_softmax`` subtract the row maximum first, so they never overflow.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff.autograd.node import Node
from autodiff.autograd.record import GradientLink, link_gradient, record
from autodiff.ops._prep import cast, wrap_dim
from autodiff.ops.comparison import where
from autodiff.ops.unary import erf, exp, tanh
from autodiff.tensor import Tensor, _make


class ReluBackward0(Node):
    """The gradient passes where the output is positive (0 at x == 0, as in PyTorch)."""

    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return link_gradient(where(x > 0, g, 0.0), ThresholdBackwardBackward0, (x,))


class ThresholdBackwardBackward0(GradientLink):
    """relu's derivative under create_graph (its derivative in x is zero)."""

    __slots__ = ()


def relu(input: Tensor) -> Tensor:
    be = input._be
    data = be.maximum(input._data, be.zeros((), input.dtype.name))
    return record(_make(data, be), ReluBackward0, (input,), saved=(input,))


class LeakyReluBackward0(Node):
    __slots__ = ("slope",)

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return link_gradient(where(x > 0, g, g * self.slope), LeakyReluBackwardBackward0, (x,))


class LeakyReluBackwardBackward0(GradientLink):
    __slots__ = ()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    be = input._be
    data = be.where(be.gt(input._data, 0), input._data, be.mul(input._data, negative_slope))
    return record(_make(data, be), LeakyReluBackward0, (input,), saved=(input,), slope=negative_slope)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class GeluBackward0(Node):
    __slots__ = ("approximate",)

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        if self.approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
            t = tanh(inner)
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner)
        cdf = 0.5 * (1 + erf(x * (1 / math.sqrt(2.0))))
        pdf = exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return g * (cdf + x * pdf)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` (exact, with erf) or its tanh approximation (``approximate="tanh"``)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got '{approximate}'")
    if input.dtype.kind != "f":
        raise NotImplementedError(f'"GeluKernelImpl" not implemented for \'{input.dtype.word}\'')
    a = input
    be = a._be
    x = a._data
    if approximate == "tanh":
        inner = be.mul(be.add(x, be.mul(be.mul(be.mul(x, x), x), 0.044715)), _SQRT_2_OVER_PI)
        data = be.mul(be.mul(x, 0.5), be.add(be.tanh(inner), 1))
    else:
        data = be.mul(be.mul(x, 0.5), be.add(be.erf(be.mul(x, 1 / math.sqrt(2.0))), 1))
    return record(_make(data, be), GeluBackward0, (a,), saved=(a,), approximate=approximate)


def _softmax_dim(dim: Any, ndim: int, op: str) -> int:
    if dim is None:  # PyTorch's legacy implicit choice
        dim = 0 if ndim in (0, 1, 3) else 1
    return wrap_dim(dim, ndim)


def _log_softmax_data(be: Any, x: Any, d: int) -> Any:
    shifted = be.sub(x, be.amax(x, d, True))
    return be.sub(shifted, be.log(be.sum(be.exp(shifted), d, True)))


class SoftmaxBackward0(Node):
    __slots__ = ("dim",)
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return y * (g - (g * y).sum(self.dim, True))


class LogSoftmaxBackward0(Node):
    __slots__ = ("dim",)
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return g - exp(y) * g.sum(self.dim, True)


def _softmax_like(input: Tensor, dim: Any, dtype: Any, log: bool) -> Tensor:
    a = input if dtype is None else cast(input, dtype)
    if a.dtype.kind != "f":
        raise NotImplementedError(
            f'"{"log_" if log else ""}softmax_lastdim_kernel_impl" not implemented for \'{a.dtype.word}\''
        )
    be = a._be
    if a.ndim == 0:
        d = _softmax_dim(dim, 0, "softmax")
        data = be.zeros((), a.dtype.name) if log else be.ones((), a.dtype.name)
    else:
        d = _softmax_dim(dim, a.ndim, "softmax")
        if not a.numel():  # nothing to normalise (and no maximum to shift by)
            data = be.zeros(a._data.shape, a.dtype.name)
        else:
            data = _log_softmax_data(be, a._data, d)
            if not log:
                data = be.exp(data)
    return record(_make(data, be), LogSoftmaxBackward0 if log else SoftmaxBackward0, (a,),
                  save_output=True, dim=d if a.ndim else None)


def softmax(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:
    """``exp(x) / exp(x).sum(dim)``, computed stably."""
    return _softmax_like(input, dim, dtype, False)


def log_softmax(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:
    """``x - logsumexp(x, dim)``, computed stably."""
    return _softmax_like(input, dim, dtype, True)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ("relu", "softmax", "log_softmax")
METHODS = {"relu": relu, "softmax": softmax, "log_softmax": log_softmax}
