"""Loss functions with their own nodes: ``mse_loss``, ``nll_loss``, ``binary_cross_entropy``
and ``binary_cross_entropy_with_logits`` (``cross_entropy`` composes ``log_softmax`` and
``nll_loss`` in ``autodiff.nn.functional``).

Each node computes the reduced loss; its backward first spreads the incoming gradient
back over the elements (``_spread``), then applies the elementwise derivative in Tensor ops.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff import dtypes
from autodiff.autograd.forward_rules import derived_jvp, linear_sum
from autodiff.autograd.forward_state import state as _fw
from autodiff.autograd.grad_mode import no_grad
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import GradientLink, link_gradient, record
from autodiff.ops._prep import cast, device_mismatch, float_result, no_kernel
from autodiff.ops.broadcasting import expand, sum_to
from autodiff.ops.comparison import where
from autodiff.ops.unary import log, log1p, sigmoid
from autodiff.tensor import Tensor, _make

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce_data(be: Any, data: Any, reduction: str) -> Any:
    if reduction == "mean":
        return be.mean(data)
    if reduction == "sum":
        return be.sum(data)
    return data


def _spread(g: Tensor, shape: tuple, reduction: str) -> Tensor:
    """The gradient of each element of the unreduced loss."""
    if reduction == "mean":
        return expand(g / math.prod(shape), shape)
    if reduction == "sum":
        return expand(g, shape)
    return g


def _pair(input: Tensor, target: Tensor, op: str) -> tuple:
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}(): input and target must be Tensors")
    if input._be is not target._be:
        raise device_mismatch(input, target, op)
    if input._data.shape != target._data.shape:
        try:
            input._be.broadcast_shapes(input._data.shape, target._data.shape)
        except ValueError:
            raise RuntimeError(
                f"{op}(): the size of input {list(input.shape)} and target {list(target.shape)} "
                "do not match and cannot be broadcast"
            ) from None
    return float_result(input), float_result(target)


# ---- mse -------------------------------------------------------------------------
class MseLossBackward0(Node):
    __slots__ = ("reduction", "a_shape", "b_shape", "shape")

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        (x, y), (tx, ty) = inputs, tangents
        d = 2 * (x - y) * linear_sum((tx, None if ty is None else -ty))
        return d if self.reduction == "none" else d.sum() if self.reduction == "sum" else d.mean()

    def backward(self, g: Tensor) -> tuple:
        x, t = self.unpack()
        d = 2 * _spread(g, self.shape, self.reduction) * (x - t)
        ex, et = edges_of(self)
        return (sum_to(d, self.a_shape) if ex is not None else None,
                sum_to(-d, self.b_shape) if et is not None else None)


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean") -> Tensor:
    """Mean (or summed) squared error."""
    _check_reduction(reduction)
    x, t = _pair(input, target, "mse_loss")
    be = x._be
    diff = be.sub(x._data, t._data)
    data = _reduce_data(be, be.mul(diff, diff), reduction)
    return record(_make(data, be), MseLossBackward0, (x, t), saved=(x, t), reduction=reduction,
                  a_shape=x._data.shape, b_shape=t._data.shape, shape=diff.shape)


# ---- nll ---------------------------------------------------------------------------
class NllLossBackward0(Node):
    """The loss is linear in the input: its gradient is ``-g`` times a weighted one-hot."""

    __slots__ = ("coef", "reduction", "batched")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        if self.reduction == "none" and self.batched:
            g = g.unsqueeze(1)
        (x,) = self.unpack()
        return link_gradient(g * self.coef, NllLossBackwardBackward0, (x,))


class NllLossBackwardBackward0(GradientLink):
    __slots__ = ()


def _class_weights(be: Any, weight: Tensor | None, target: Any, valid: Any, dtype: str) -> Any:
    if weight is None:
        return be.astype(valid, dtype)
    picked = be.take(weight._data, be.where(valid, target, 0), 0)
    return be.mul(picked, be.astype(valid, dtype))


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices ``target`` under log-probabilities ``input``."""
    _check_reduction(reduction)
    if not isinstance(target, Tensor):
        raise TypeError(f"nll_loss(): argument 'target' must be Tensor, not {type(target).__name__}")
    if input._be is not target._be:
        raise device_mismatch(input, target, "nll_loss")
    if weight is not None and weight._be is not input._be:
        raise device_mismatch(input, weight, "nll_loss")
    _check_batch(input, target)
    if target.dtype.kind != "i":
        raise RuntimeError(
            f"expected scalar type Long but found {target.dtype} (nll_loss/cross_entropy take class "
            "indices as an integer tensor; pass probabilities as a float tensor to cross_entropy)"
        )
    batched = input.ndim >= 2
    xs, ts = input._data.shape, target._data.shape
    expected = (xs[0],) + xs[2:] if batched else ()
    if input.ndim == 0 or ts != expected:
        raise ValueError(
            f"Expected input batch_size ({xs[0] if input.ndim else 0}) to match target batch_size "
            f"({ts[0] if ts else 0}): input shape {list(xs)}, target shape {list(ts)}"
            if batched and ts and ts[0] != xs[0] else
            f"nll_loss: expected target of shape {list(expected)} for input of shape {list(xs)}, "
            f"got {list(ts)}"
        )
    n_classes = xs[1] if batched else xs[0]
    if weight is not None and weight._data.shape != (n_classes,):
        raise RuntimeError(
            f"weight tensor should be defined either for all {n_classes} classes or no classes but "
            f"got weight tensor of shape: {list(weight.shape)}"
        )
    be = input._be
    t = target._data
    valid = be.ne(t, ignore_index)
    bad = be.logical_and(valid, be.logical_or(be.lt(t, 0), be.ge(t, n_classes)))
    if be.any(bad):
        raise IndexError(f"Target {_first(be, t, bad)} is out of bounds (nll_loss with {n_classes} classes).")
    dt = input.dtype.name
    safe_t = be.where(valid, t, 0)
    w = _class_weights(be, weight, t, valid, dt)
    axis = 1 if batched else 0
    picked = be.gather(input._data, axis, be.reshape(safe_t, ts[:1] + (1,) + ts[1:]) if batched
                       else be.reshape(safe_t, (1,)))
    picked = be.reshape(picked, ts)
    losses = be.neg(be.mul(picked, w))
    if reduction == "mean":
        total = be.sum(w)
        data = be.div(be.sum(losses), total)
    elif reduction == "sum":
        data = be.sum(losses)
    else:
        data = losses
    out = _make(data, be)
    if not (input._requires_grad and _grad.enabled) and not _fw.active:
        return out  # (the gradient's coefficients below are only worth making for a graph)
    onehot = be.zeros(xs, dt)
    idx = be.reshape(safe_t, ts[:1] + (1,) + ts[1:]) if batched else be.reshape(safe_t, (1,))
    src = be.neg(be.reshape(w, idx.shape))
    if reduction == "mean":  # every target ignored: 0 / 0 loss, but zero gradients (PyTorch)
        src = be.div(src, be.where(be.eq(total, 0), be.ones((), dt), total))
    be.scatter_add(onehot, axis, idx, src)
    return record(out, NllLossBackward0, (input,), saved=(input,), coef=_make(onehot, be), reduction=reduction,
                  batched=batched)


def _first(be: Any, t: Any, bad: Any) -> int:
    flat = be.reshape(t, (-1,))
    pos = be.argmax(be.reshape(be.astype(bad, "int64"), (-1,)))
    return int(be.item(be.getitem(flat, be.item(pos))))


# ---- binary cross entropy ----------------------------------------------------------------
# PyTorch bounds x * (1 - x) below by 1e-12 in the gradient; as a float32 constant, in
# float64 too (9.99999996e-13), which shows at x within 1e-12 of 0 or 1.
_BCE_EPS = 9.999999960041972e-13


class BinaryCrossEntropyBackward0(Node):
    __slots__ = ("reduction", "shape")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        x, t, w = self.unpack()
        g = _spread(g, self.shape, self.reduction)
        if w is not None:
            g = g * w
        ex, et = edges_of(self)[:2]
        gx = gt = None
        if ex is not None:
            gx = g * (x - t) / (x * (1 - x)).clamp(min=_BCE_EPS)
        if et is not None:
            gt = g * ((-x).log1p().clamp(min=-100) - x.log().clamp(min=-100))
        return gx, gt


def _check_batch(input: Tensor, target: Tensor) -> None:
    """PyTorch's first check of a classification loss: the batch sizes (a ValueError)."""
    if input.ndim >= 2 and (target.ndim == 0 or target._data.shape[0] != input._data.shape[0]):
        n = target._data.shape[0] if target.ndim else 0
        raise ValueError(f"Expected input batch_size ({input._data.shape[0]}) to match target batch_size ({n}).")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``-w * (t * log(x) + (1 - t) * log(1 - x))``, logs clamped at -100 as in PyTorch."""
    _check_reduction(reduction)
    if input._data.shape != target._data.shape:
        x, t = input, target
        raise ValueError(
            f"Using a target size ({t.shape}) that is different to the input size ({x.shape}) is "
            "deprecated. Please ensure they have the same size."
        )
    x, t = _pair(input, target, "binary_cross_entropy")
    be = x._be
    if target.dtype is not input.dtype:
        raise RuntimeError(f"Found dtype {target.dtype.word} but expected {input.dtype.word}")
    if be.any(be.logical_or(be.lt(x._data, 0), be.gt(x._data, 1))):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if be.any(be.logical_not(be.logical_and(be.ge(t._data, 0), be.le(t._data, 1)))):  # (NaN too)
        raise RuntimeError("all elements of target should be between 0 and 1")
    log_x = be.maximum(be.log(x._data), be.full((), -100, x.dtype.name))
    # log1p(-x), not log(1 - x): 1 - x rounds to 1 for x below float eps (sigmoid(-20))
    log_1mx = be.maximum(be.log1p(be.neg(x._data)), be.full((), -100, x.dtype.name))
    el = be.neg(be.add(be.mul(t._data, log_x), be.mul(be.sub(1, t._data), log_1mx)))
    if weight is not None:
        el = be.mul(el, weight._data)
    data = _reduce_data(be, el, reduction)
    return record(_make(data, be), BinaryCrossEntropyBackward0, (x, t), saved=(x, t, weight),
                  reduction=reduction, shape=el.shape)


class BinaryCrossEntropyWithLogitsBackward0(Node):
    __slots__ = ("reduction", "shape", "a_shape", "b_shape")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        x, t, w, pw = self.unpack()
        g = _spread(g, self.shape, self.reduction)
        if w is not None:
            g = g * w
        ex, et = edges_of(self)[:2]
        gx = gt = None
        if ex is not None:
            # (1 - t) - lw * sigmoid(-x), rearranged so that no term cancels to 0 where
            # sigmoid(x) is tiny: lw * sigmoid(x) - pw * t.
            if pw is None:
                gx = sigmoid(x) - t
            else:
                gx = (1 + (pw - 1) * t) * sigmoid(x) - pw * t
            gx = sum_to(g * gx, self.a_shape)
        if et is not None:
            d = -x if pw is None else -x + (pw - 1) * _softplus_neg(x)
            gt = sum_to(g * d, self.b_shape)
        return gx, gt


def _softplus_neg(x: Tensor) -> Tensor:
    """``log(1 + exp(-x))`` without overflow, with the right derivatives at ``x == 0`` too
    (``|x|`` and ``relu`` are kinked there); neither branch's ``exp`` can overflow."""
    pos, neg = x.clamp(min=0), x.clamp(max=0)
    return where(x > 0, log1p((-pos).exp()), log1p(neg.exp()) - x)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: Any = None, reduce: Any = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """``binary_cross_entropy(sigmoid(input), target)``, computed stably from the logits."""
    _check_reduction(reduction)
    if input._data.shape != target._data.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    if input.dtype.kind != "f":
        raise no_kernel("log_sigmoid", input)
    if target.dtype.kind == "b":
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead. (binary_cross_entropy_with_logits: "
                           "the target must be float)")
    if target.dtype.kind != "f":
        raise RuntimeError(f"result type {input.dtype.word} can't be cast to the desired output type "
                           f"{target.dtype.word} (binary_cross_entropy_with_logits: the target must be float)")
    x, t = _pair(input, target, "binary_cross_entropy_with_logits")
    with no_grad():  # the forward value only; the node below records the gradient
        sp = _softplus_neg(x)
        lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        el = (1 - t) * x + lw * sp
        if weight is not None:
            el = el * weight
    be = x._be
    data = _reduce_data(be, el._data, reduction)
    out = record(_make(data, be), BinaryCrossEntropyWithLogitsBackward0, (x, t),
                 saved=(x, t, weight, pos_weight), reduction=reduction, shape=el._data.shape,
                 a_shape=x._data.shape, b_shape=t._data.shape)
    # PyTorch's result takes the target's dtype (float64 logits, float32 target: float32)
    return out if out.dtype is target.dtype else cast(out, target.dtype)


_ = (dtypes, log)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ()
METHODS: dict = {}
