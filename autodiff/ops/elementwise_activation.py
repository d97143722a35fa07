"""Elementwise activations that PyTorch exports as ``torch.*`` functions: ``threshold``,
``selu``, ``celu``, ``hardshrink``, ``rrelu`` and ``prelu`` (``nn.functional`` and the
``nn`` modules can call these).
"""

from __future__ import annotations

from typing import Any

from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import GradientLink, link_gradient, record
from autodiff.ops._prep import check_same_device, float_result
from autodiff.ops.activation import ThresholdBackwardBackward0
from autodiff.ops.broadcasting import sum_to
from autodiff.ops.comparison import where
from autodiff.ops.unary import exp
from autodiff.tensor import Tensor, _make

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class ThresholdBackward0(Node):
    """The gradient passes where ``x > threshold``."""

    __slots__ = ("threshold",)

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return link_gradient(where(x > self.threshold, g, 0.0), ThresholdBackwardBackward0, (x,))


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    """``input`` where ``input > threshold``, else ``value``."""
    be = input._be
    x = input._data
    data = be.where(be.gt(x, threshold), x, be.full((), value, input.dtype.name))
    return record(_make(be.as_array(data), be), ThresholdBackward0, (input,), saved=(input,), threshold=threshold)


class EluBackward0(Node):
    """``scale * x`` for x > 0, ``scale * alpha * (exp(x / beta) - 1)`` elsewhere (selu's
    and elu's node; celu's is CeluBackward0)."""

    __slots__ = ("alpha", "scale", "beta")

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        negative = g * (self.scale * self.alpha / self.beta) * exp(x / self.beta)
        return where(x > 0, g * self.scale, negative)


class CeluBackward0(EluBackward0):
    __slots__ = ()


def _elu(input: Tensor, alpha: float, scale: float, beta: float, node_cls: type[Node]) -> Tensor:
    a = float_result(input)
    be = a._be
    x = a._data
    negative = be.mul(be.expm1(be.div(be.minimum(x, 0), beta)), scale * alpha)
    data = be.where(be.gt(x, 0), be.mul(x, scale), negative)
    return record(_make(be.as_array(data), be), node_cls, (a,), saved=(a,), alpha=alpha, scale=scale, beta=beta)


def selu(input: Tensor) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    return _elu(input, SELU_ALPHA, SELU_SCALE, 1.0, EluBackward0)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _elu(input, alpha, 1.0, alpha, CeluBackward0)


class HardshrinkBackward0(Node):
    __slots__ = ("lambd",)

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return link_gradient(where((x > self.lambd) | (x < -self.lambd), g, 0.0),
                             HardshrinkBackwardBackward0, (x,))


class HardshrinkBackwardBackward0(GradientLink):
    __slots__ = ()


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    be = input._be
    x = input._data
    keep = be.logical_or(be.gt(x, lambd), be.lt(x, -lambd))
    data = be.where(keep, x, be.zeros((), input.dtype.name))
    return record(_make(be.as_array(data), be), HardshrinkBackward0, (input,), saved=(input,), lambd=lambd)


class RreluWithNoiseBackward0(Node):
    """``x * noise``: the slope drawn for each negative element (1 for the others)."""

    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        noise, x = self.unpack()
        return link_gradient(g * noise, RreluWithNoiseBackwardBackward0, (x,))


class RreluWithNoiseBackwardBackward0(GradientLink):
    __slots__ = ()


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          generator: Any = None) -> Tensor:
    """Leaky ReLU whose negative slope is drawn from ``U(lower, upper)`` per element in
    training, and is ``(lower + upper) / 2`` otherwise."""
    if generator is not None:
        raise NotImplementedError("rrelu: generator= is not supported; seed with autodiff.manual_seed")
    a = float_result(input)
    be = a._be
    x = a._data
    name = a.dtype.name
    if training:
        slopes = be.add(be.mul(be.random_uniform(x.shape, name), upper - lower), lower)
    else:
        slopes = be.full(x.shape, (lower + upper) / 2, name)
    noise = be.where(be.ge(x, 0), be.ones((), name), slopes)
    data = be.mul(x, noise)
    return record(_make(data, be), RreluWithNoiseBackward0, (a,), saved=(_make(be.as_array(noise), be), a))


class PreluKernelBackward0(Node):
    """d/dx = 1 (x > 0) or w; d/dw = x where x <= 0, summed onto the weight."""

    __slots__ = ("w_shape", "weight_shape")

    def backward(self, g: Tensor) -> tuple:
        x, w = self.unpack()
        ex, ew = edges_of(self)
        positive = x > 0
        wb = w.reshape(self.w_shape)
        gx = where(positive, g, g * wb) if ex is not None else None
        gw = None
        if ew is not None:
            gw = sum_to(where(positive, 0.0, g * x), self.w_shape).reshape(self.weight_shape)
        return gx, gw


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` has one element or one per
    channel (dim 1, or dim 0 of a 1-D input)."""
    check_same_device((input, weight), "prelu")
    n = weight.numel()
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    channels = 1 if input.ndim == 0 else input.shape[1 if input.ndim >= 2 else 0]
    if n != 1 and n != channels:
        raise RuntimeError(
            f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {n} and "
            f"channel size = {channels}."
        )
    if n == 1 or input.ndim == 0:
        w_shape: tuple = ()
    elif input.ndim == 1:
        w_shape = (n,)
    else:
        w_shape = (n,) + (1,) * (input.ndim - 2)
    be = input._be
    x = input._data
    wb = be.reshape(weight._data, w_shape)
    if wb.dtype != x.dtype:
        raise RuntimeError(f"prelu: expected weight of dtype {input.dtype}, but got {weight.dtype}")
    data = be.where(be.gt(x, 0), x, be.mul(wb, x))
    return record(_make(be.as_array(data), be), PreluKernelBackward0, (input, weight), saved=(input, weight),
                  w_shape=w_shape, weight_shape=weight._data.shape)


FUNCTIONS = ("threshold", "selu", "celu", "hardshrink", "rrelu", "prelu")
METHODS = {"hardshrink": hardshrink, "prelu": prelu}

