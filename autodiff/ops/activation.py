"""Neural-net activations with their own nodes: ``leaky_relu``, ``gelu``, ``softmax``,
``log_softmax`` and ``linear`` (``AddmmBackward0`` for the common 2-D case).

``softmax`` and ``log_softmax`` subtract the row maximum first, so they never overflow.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edge_of
from autodiff.ops._prep import cast, device_mismatch, float_result, wrap_dim
from autodiff.ops.elementwise import exp, where
from autodiff.ops.linalg import matmul
from autodiff.ops.unary import erf, tanh
from autodiff.tensor import Tensor, _make


class LeakyReluBackward0(Node):
    __slots__ = ("slope",)

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return where(x > 0, g, g * self.slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    be = input._be
    data = be.where(be.gt(input._data, 0), input._data, be.mul(input._data, negative_slope))
    if input._requires_grad and _grad.enabled:
        node = LeakyReluBackward0((edge_of(input),))
        node.slope = negative_slope
        node.save(input)
        return _make(data, be, node)
    return _make(data, be)


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
    a = float_result(input)
    be = a._be
    x = a._data
    if approximate == "tanh":
        inner = be.mul(be.add(x, be.mul(be.mul(be.mul(x, x), x), 0.044715)), _SQRT_2_OVER_PI)
        data = be.mul(be.mul(x, 0.5), be.add(be.tanh(inner), 1))
    else:
        data = be.mul(be.mul(x, 0.5), be.add(be.erf(be.mul(x, 1 / math.sqrt(2.0))), 1))
    if a._requires_grad and _grad.enabled:
        node = GeluBackward0((edge_of(a),))
        node.approximate = approximate
        node.save(a)
        return _make(data, be, node)
    return _make(data, be)


def _softmax_dim(dim: Any, ndim: int, op: str) -> int:
    if dim is None:  # PyTorch's legacy implicit choice
        dim = 0 if ndim in (0, 1, 3) else 1
    return wrap_dim(dim, ndim)


def _log_softmax_data(be: Any, x: Any, d: int) -> Any:
    shifted = be.sub(x, be.amax(x, d, True))
    return be.sub(shifted, be.log(be.sum(be.exp(shifted), d, True)))


class SoftmaxBackward0(Node):
    __slots__ = ("dim",)

    def backward(self, g: Tensor) -> Tensor:
        x, result = self.unpack()
        y = softmax(x, self.dim) if _grad.enabled else result
        return y * (g - (g * y).sum(self.dim, True))


class LogSoftmaxBackward0(Node):
    __slots__ = ("dim",)

    def backward(self, g: Tensor) -> Tensor:
        x, result = self.unpack()
        y = log_softmax(x, self.dim) if _grad.enabled else result
        return g - exp(y) * g.sum(self.dim, True)


def _softmax_like(input: Tensor, dim: Any, dtype: Any, log: bool) -> Tensor:
    a = float_result(input if dtype is None else cast(input, dtype))
    be = a._be
    if a.ndim == 0:
        d = 0
        data = be.zeros((), a.dtype.name) if log else be.ones((), a.dtype.name)
    else:
        d = _softmax_dim(dim, a.ndim, "softmax")
        data = _log_softmax_data(be, a._data, d)
        if not log:
            data = be.exp(data)
    if a._requires_grad and _grad.enabled:
        node = (LogSoftmaxBackward0 if log else SoftmaxBackward0)((edge_of(a),))
        node.dim = d if a.ndim else None
        out = _make(data, be, node)
        result = _make(data, be)
        result._version = out._version
        node.save(a, result)
        return out
    return _make(data, be)


def softmax(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:
    """``exp(x) / exp(x).sum(dim)``, computed stably."""
    return _softmax_like(input, dim, dtype, False)


def log_softmax(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:
    """``x - logsumexp(x, dim)``, computed stably."""
    return _softmax_like(input, dim, dtype, True)


class AddmmBackward0(Node):
    """``bias + x @ w.T`` for a 2-D ``x`` (``linear``): one node instead of three."""

    __slots__ = ("bias_shape",)

    def backward(self, g: Tensor) -> tuple:
        from autodiff.ops.reduction import sum_to

        x, w = self.unpack()
        eb, ex, ew = self.next_edges
        gb = sum_to(g, self.bias_shape) if eb is not None else None
        gx = g.mm(w) if ex is not None else None
        gw = g.t().mm(x) if ew is not None else None
        return gb, gx, gw


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``; ``weight`` is ``(out_features, in_features)``."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("linear(): input and weight must be Tensors")
    if weight.ndim not in (1, 2):
        raise RuntimeError(f"linear(): weight must be 1-D or 2-D, but got {weight.ndim}-D of shape {list(weight.shape)}")
    if input._be is not weight._be:
        raise device_mismatch(input, weight, "linear")
    if bias is not None and bias._be is not input._be:
        raise device_mismatch(input, bias, "linear")
    if input.ndim == 0 or input._data.shape[-1] != weight._data.shape[-1]:
        rows = input._data.shape[:-1]
        n = 1
        for d in rows:
            n *= d
        k = input._data.shape[-1] if input.ndim else 1
        wk = weight._data.shape[-1]
        wo = weight._data.shape[0] if weight.ndim == 2 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {wk}x{wo})")
    if (input.ndim == 2 and weight.ndim == 2 and bias is not None and bias.ndim <= 1
            and input.dtype is weight.dtype is bias.dtype):
        be = input._be
        data = be.add(be.matmul(input._data, be.transpose(weight._data, (1, 0))), bias._data)
        if _grad.enabled and (input._requires_grad or weight._requires_grad or bias._requires_grad):
            node = AddmmBackward0((edge_of(bias), edge_of(input), edge_of(weight)))
            node.bias_shape = bias._data.shape
            node.save(input, weight)
            return _make(data, be, node)
        return _make(data, be)
    out = matmul(input, weight.t() if weight.ndim == 2 else weight)
    return out if bias is None else out + bias
