"""Neural-net activations: ``relu``, ``leaky_relu``, ``gelu``, ``softmax``, ``log_softmax``,
and the pointwise family of ``torch.nn.functional`` (``elu``/``selu``/``celu``, ``silu``,
``mish``, ``softplus``, ``hardtanh``/``relu6``, ``hardsigmoid``, ``hardswish``,
``logsigmoid``, ``threshold``, ``hardshrink``, ``softshrink``, ``prelu``, ``rrelu``).

``softmax`` and ``log_softmax`` subtract the row maximum first, so they never overflow.
The pointwise family computes its forward with Tensor ops outside the graph
(``_pointwise``) and records one node named like PyTorch's, whose backward (in Tensor ops,
from the saved input) gives double backward; ``softsign``, ``tanhshrink``, ``glu``,
``softmin`` and ``gumbel_softmax`` are composites, as PyTorch's are.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from autodiff.autograd.forward_rules import derived_jvp, symmetric_jvp
from autodiff.autograd.grad_mode import no_grad
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import GradientLink, link_gradient, record
from autodiff.ops._prep import cast, float_result, no_kernel, not_none, wrap_dim
from autodiff.ops.broadcasting import sum_to
from autodiff.ops.comparison import where
from autodiff.ops.unary import clamp, erf, exp, sigmoid, tanh
from autodiff.tensor import Tensor, _make


class ReluBackward0(Node):
    """The gradient passes where the output is positive (0 at x == 0, as in PyTorch)."""

    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return link_gradient(where(x > 0, g, 0.0), ThresholdBackwardBackward0, (x,))


class ThresholdBackwardBackward0(GradientLink):
    """relu's derivative under create_graph (its derivative in x is zero)."""

    __slots__ = ()


def relu(input: Tensor) -> Tensor:
    dtype = input.dtype
    if dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    be = input._be
    data = be.maximum(input._data, be.zeros((), dtype.name))
    return record(_make(data, be), ReluBackward0, (input,), saved=(input,))


class LeakyReluBackward0(Node):
    __slots__ = ("slope",)
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return link_gradient(where(x > 0, g, g * self.slope), LeakyReluBackwardBackward0, (x,))


class LeakyReluBackwardBackward0(GradientLink):
    __slots__ = ()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    if input._data.dtype.kind != "f":
        raise no_kernel("leaky_relu", input)
    if negative_slope.__class__ is not float:
        negative_slope = _number(negative_slope, "leaky_relu", "negative_slope", 2)
    be = input._be
    data = be.where(be.gt(input._data, 0), input._data, be.mul(input._data, negative_slope))
    return record(_make(data, be), LeakyReluBackward0, (input,), saved=(input,), slope=negative_slope)


def _number(value: Any, op: str, arg: str, position: int) -> Any:
    """``value`` checked as PyTorch checks a ``Number`` argument (bool, int within int64, float)."""
    if isinstance(value, Tensor) and value.numel() == 1:
        return value.item()
    if not isinstance(value, (int, float)):
        raise TypeError(f"{op}(): argument '{arg}' (position {position}) must be Number, not {type(value).__name__}")
    if isinstance(value, int) and not -(1 << 63) <= value < 1 << 63:
        raise OverflowError("int too big to convert")
    return value


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class GeluBackward0(Node):
    __slots__ = ("approximate",)
    jvp = symmetric_jvp

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
    jvp = symmetric_jvp
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return y * (g - (g * y).sum(self.dim, True))


class LogSoftmaxBackward0(Node):
    __slots__ = ("dim",)
    saved_outputs = (0,)

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        t = tangents[0]
        return t - (exp(out) * t).sum(self.dim, True)

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


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """``exp(x) / exp(x).sum(dim)``, computed stably."""
    if dim is None:  # (``nn.functional.softmax`` picks a dim for None)
        raise not_none("softmax", "dim")
    return _softmax_like(input, dim, dtype, False)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """``x - logsumexp(x, dim)``, computed stably."""
    if dim is None:
        raise not_none("log_softmax", "dim")
    return _softmax_like(input, dim, dtype, True)


def _warn_implicit_dim(op: str, stacklevel: int) -> None:
    # PyTorch still accepts the legacy implicit dim, with this deprecation warning.
    warnings.warn(f"Implicit dimension choice for {op} has been deprecated. "
                  "Change the call to include dim=X as an argument.", UserWarning, stacklevel=stacklevel + 1)


def softmax_any_dim(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``nn.functional.softmax``: ``softmax``, where ``dim=None`` is PyTorch's legacy
    implicit choice (0 for 0-, 1- and 3-d input, else 1), with its deprecation warning."""
    if dim is None:
        _warn_implicit_dim("softmax", _stacklevel)
    return _softmax_like(input, dim, dtype, False)


def log_softmax_any_dim(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``nn.functional.log_softmax`` (``dim=None`` as in ``softmax_any_dim``)."""
    if dim is None:
        _warn_implicit_dim("log_softmax", _stacklevel)
    return _softmax_like(input, dim, dtype, True)


# ---- the pointwise family ---------------------------------------------------------------
def _pointwise(input: Tensor, node_cls: type[Node], forward: Any, **fields: Any) -> Tensor:
    """``forward(x)`` computed outside the graph, recorded as one ``node_cls`` node that saves x."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{node_cls.__name__[:-9].lower()}(): argument 'input' must be Tensor, "
                        f"not {type(input).__name__}")
    a = float_result(input)
    with no_grad():
        y = forward(a)
    return record(_make(y._data, y._be), node_cls, (a,), saved=(a,), **fields)


def _inplace(input: Tensor, fn: Any, *args: Any) -> Tensor:
    """``fn(input, *args)`` written into ``input``: the op runs on a clone (whose saved
    copy no later write touches) and ``copy_`` records the write, as in-place ops do."""
    return input.copy_(fn(input.clone(), *args))


class EluBackward0(Node):
    """elu, selu and celu: ``scale * x`` for x > 0, ``scale * alpha * (exp(x * input_scale) - 1)``."""

    __slots__ = ("alpha", "scale", "input_scale")
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        neg = exp(x * self.input_scale) * (self.scale * self.alpha * self.input_scale)
        return where(x > 0, g * self.scale, g * neg)


class CeluBackward0(EluBackward0):
    __slots__ = ()


def _elu(input: Tensor, alpha: float, scale: float, input_scale: float,
         node_cls: type[Node] = EluBackward0) -> Tensor:
    def forward(x: Tensor) -> Tensor:
        return where(x > 0, x * scale, (exp(x * input_scale) - 1) * (scale * alpha))

    return _pointwise(input, node_cls, forward, alpha=alpha, scale=scale, input_scale=input_scale)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    if inplace:
        return _inplace(input, elu, alpha)
    return _elu(input, alpha, 1.0, 1.0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalizing constants."""
    if inplace:
        return _inplace(input, selu)
    return _elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu: alpha must not be 0")
    if inplace:
        return _inplace(input, celu, alpha)
    return _elu(input, alpha, 1.0, 1.0 / alpha, CeluBackward0)


class SiluBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        s = sigmoid(x)
        return g * (s * (1 + x * (1 - s)))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)``."""
    if inplace:
        return _inplace(input, silu)
    return _pointwise(input, SiluBackward0, lambda x: x * sigmoid(x))


def _softplus_data(x: Tensor, beta: float, threshold: float) -> Tensor:
    bx = x * beta
    return where(bx > threshold, x, bx.logaddexp(bx * 0) / beta)


class MishBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        t = tanh(_softplus_data(x, 1.0, 20.0))
        return g * (t + x * (1 - t * t) * sigmoid(x))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    if inplace:
        return _inplace(input, mish)
    return _pointwise(input, MishBackward0, lambda x: x * tanh(_softplus_data(x, 1.0, 20.0)))


class SoftplusBackward0(Node):
    __slots__ = ("beta", "threshold")
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        bx = x * self.beta
        return where(bx > self.threshold, g, g * sigmoid(bx))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``."""
    return _pointwise(input, SoftplusBackward0, lambda x: _softplus_data(x, beta, threshold),
                      beta=beta, threshold=threshold)


class HardtanhBackward0(Node):
    __slots__ = ("lo", "hi")
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return link_gradient(where((x > self.lo).logical_and(x < self.hi), g, 0.0),
                             HardtanhBackwardBackward0, (x,))


class HardtanhBackwardBackward0(GradientLink):
    __slots__ = ()


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` clamped to ``[min_val, max_val]`` (gradient 0 at and beyond the bounds)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _inplace(input, hardtanh, min_val, max_val)
    return _pointwise(input, HardtanhBackward0, lambda x: clamp(x, min_val, max_val), lo=min_val, hi=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(0, x), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


class HardsigmoidBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return where((x > -3).logical_and(x < 3), g / 6, 0.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    if inplace:
        return _inplace(input, hardsigmoid)
    return _pointwise(input, HardsigmoidBackward0, lambda x: clamp(x + 3, 0.0, 6.0) / 6)


class HardswishBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return where(x < -3, 0.0, where(x <= 3, g * (x / 3 + 0.5), g))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    if inplace:
        return _inplace(input, hardswish)
    return _pointwise(input, HardswishBackward0, lambda x: x * clamp(x + 3, 0.0, 6.0) / 6)


class LogSigmoidBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * sigmoid(-x)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, computed without overflow."""
    return _pointwise(input, LogSigmoidBackward0, lambda x: -(-x).logaddexp(x * 0))


class ThresholdBackward0(Node):
    __slots__ = ("threshold",)
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return link_gradient(where(x > self.threshold, g, 0.0), ThresholdBackwardBackward0, (x,))


def _threshold(input: Tensor, level: float, value: float) -> Tensor:
    return _pointwise(input, ThresholdBackward0, lambda x: where(x > level, x, float(value)), threshold=level)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, ``value`` elsewhere."""
    if inplace:
        return _inplace(input, _threshold, threshold, value)
    return _threshold(input, threshold, value)


class HardshrinkBackward0(Node):
    __slots__ = ("lambd",)
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return link_gradient(where((x > self.lambd).logical_or(x < -self.lambd), g, 0.0),
                             HardshrinkBackwardBackward0, (x,))


class HardshrinkBackwardBackward0(GradientLink):
    __slots__ = ()


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, 0 elsewhere."""
    return _pointwise(input, HardshrinkBackward0,
                      lambda x: where((x > lambd).logical_or(x < -lambd), x, 0.0), lambd=lambd)


class SoftshrinkBackward0(Node):
    __slots__ = ("lambd",)
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return link_gradient(where((x > self.lambd).logical_or(x < -self.lambd), g, 0.0),
                             SoftshrinkBackwardBackward0, (x,))


class SoftshrinkBackwardBackward0(GradientLink):
    __slots__ = ()


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return _pointwise(input, SoftshrinkBackward0,
                      lambda x: where(x > lambd, x - lambd, where(x < -lambd, x + lambd, 0.0)), lambd=lambd)


class PreluKernelBackward0(Node):
    __slots__ = ("wshape",)
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        x, w = self.unpack()
        ex, ew = edges_of(self)
        wb = w.reshape(self.wshape)
        gx = where(x > 0, g, g * wb) if ex is not None else None
        gw = sum_to(where(x > 0, 0.0, g * x), self.wshape).reshape(w.shape) if ew is not None else None
        return gx, gw


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` has one value, or one per
    channel (dim 1 of the input, dim 0 of a 1-d input)."""
    a = float_result(input)
    n = weight.numel()
    if weight.ndim > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    wshape = (1,) * a.ndim
    if n != 1:
        cdim = 1 if a.ndim >= 2 else 0
        if a.ndim == 0 or a.shape[cdim] != n:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {n} "
                f"and channel size = {a.shape[cdim] if a.ndim else 1}."
            )
        wshape = tuple(n if i == cdim else 1 for i in range(a.ndim))
    with no_grad():
        y = where(a > 0, a, a * weight.reshape(wshape))
    return record(_make(y._data, y._be), PreluKernelBackward0, (a, weight), saved=(a, weight), wshape=wshape)


class RreluWithNoiseBackward0(Node):
    """``x * noise``: the slope drawn for each negative element (1 for the others)."""

    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        noise, x = self.unpack()
        return link_gradient(g * noise, RreluWithNoiseBackwardBackward0, (x,))


class RreluWithNoiseBackwardBackward0(GradientLink):
    __slots__ = ()


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Leaky ReLU whose negative slope is drawn from ``U(lower, upper)`` per element in
    training, and is ``(lower + upper) / 2`` otherwise."""
    if inplace:
        return _inplace(input, rrelu, lower, upper, training)
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


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    return input - tanh(input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """``a * sigmoid(b)`` where ``a, b`` are the two halves of ``input`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, input.ndim)
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    a, b = input.chunk(2, d)
    return a * sigmoid(b)


def softmin(input: Tensor, dim: Any = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``softmax(-x, dim)``."""
    if dim is None:
        _warn_implicit_dim("softmin", _stacklevel)
    return _softmax_like(-input, dim, dtype, False)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ("relu", "softmax", "log_softmax", "selu", "celu", "threshold", "prelu", "rrelu", "hardshrink")
METHODS = {"relu": relu, "softmax": softmax, "log_softmax": log_softmax, "hardshrink": hardshrink,
           "prelu": prelu}
