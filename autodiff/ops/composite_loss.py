"""Loss functions composed of other differentiable ops (their gradients, and gradients of
gradients, come from those ops): ``smooth_l1_loss``, ``huber_loss``, ``kl_div``,
``soft_margin_loss``, ``multilabel_soft_margin_loss``, ``multi_margin_loss``,
``multilabel_margin_loss``, ``hinge_embedding_loss``, ``margin_ranking_loss``,
``cosine_embedding_loss``, ``triplet_margin_loss``, ``triplet_margin_with_distance_loss``,
``poisson_nll_loss`` and ``gaussian_nll_loss``; and the distances two of them use,
``cosine_similarity`` and ``pairwise_distance``.

Every loss takes ``reduction`` = 'none' | 'mean' | 'sum' (``kl_div`` also 'batchmean').
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from autodiff import dtypes
from autodiff.ops._prep import float_result, wrap_dim
from autodiff.ops.activation import logsigmoid, relu, softplus
from autodiff.ops.comparison import where
from autodiff.ops.creation import tensor
from autodiff.ops.loss import _check_reduction
from autodiff.ops.reduction import sum as _sum
from autodiff.tensor import Tensor


def _reduce(el: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return el.mean()
    if reduction == "sum":
        return el.sum()
    return el


def _check_same(input: Tensor, target: Tensor, op: str) -> tuple:
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}(): input and target must be Tensors")
    if input.shape != target.shape:
        try:
            input._be.broadcast_shapes(input._data.shape, target._data.shape)
        except ValueError:
            raise RuntimeError(f"{op}(): the size of input {list(input.shape)} and target {list(target.shape)} "
                               "do not match and cannot be broadcast") from None
    return float_result(input), float_result(target)


# ---- regression ------------------------------------------------------------------------------
def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 * d ** 2 / beta`` where ``|d| < beta``, ``|d| - 0.5 * beta`` elsewhere (``d = x - y``)."""
    x, t = _check_same(input, target, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = x - t
    if beta == 0:
        return _reduce(d.abs(), reduction)
    return _reduce(where(d.abs() < beta, d * d * (0.5 / beta), d.abs() - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 * d ** 2`` where ``|d| <= delta``, ``delta * (|d| - 0.5 * delta)`` elsewhere."""
    x, t = _check_same(input, target, "huber_loss")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = x - t
    el = where(d.abs() <= delta, d * d * 0.5, (d.abs() - 0.5 * delta) * delta)
    return _reduce(el if weight is None else el * weight, reduction)


def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """``target * (log(target) - input)``: ``input`` holds log-probabilities, ``target``
    probabilities (or log-probabilities with ``log_target``); 'batchmean' divides the sum
    by the batch size, which is the true KL divergence."""
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    x, t = _check_same(input, target, "kl_div")
    if log_target:
        el = t.exp() * (t - x)
    else:  # 0 * log(0) is 0 (xlogy)
        el = t * where(t > 0, t, 1.0).log() - t * x
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    if reduction == "batchmean":
        total = el.sum()
        return total / x.shape[0] if x.ndim else total
    return _reduce(el, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target ~ Poisson(rate)``: ``exp(x) - t * x`` with
    ``log_input`` (x is the log-rate), else ``x - t * log(x + eps)``; ``full`` adds
    Stirling's approximation of ``log(t!)`` (where ``t > 1``)."""
    x, t = _check_same(input, target, "poisson_nll_loss")
    el = x.exp() - t * x if log_input else x - t * (x + eps).log()
    if full:
        safe = where(t > 1, t, 2.0)
        el = el + where(t > 1, safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log(), 0.0)
    return _reduce(el, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Any, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target ~ N(input, var)``: ``0.5 * (log(var) + (x - t) ** 2 / var)``
    (plus ``0.5 * log(2 pi)`` with ``full``); ``var`` is clamped to ``eps`` without stopping
    its gradient, and may lack the last dim (or have size 1 there)."""
    x, t = _check_same(input, target, "gaussian_nll_loss")
    if not isinstance(var, Tensor):
        var = tensor(float(var), dtype=x.dtype, device=x.device)
    v = float_result(var)
    if v.shape != x.shape:
        if x.ndim and v.shape == x.shape[:-1]:
            v = v.unsqueeze(-1)
        elif not (x.ndim and v.ndim == x.ndim and v.shape[:-1] == x.shape[:-1] and v.shape[-1] == 1) \
                and v.numel() != 1:
            raise ValueError("var is of incorrect size")
    if v.numel() and v.min().item() < 0:
        raise ValueError("var has negative entry/entries")
    v = v + (v.clamp(min=eps) - v).detach()
    el = 0.5 * (v.log() + (x - t) ** 2 / v)
    if full:
        el = el + 0.5 * math.log(2 * math.pi)
    return _reduce(el, reduction)


# ---- classification margins --------------------------------------------------------------------
def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-y * x))`` for labels ``y`` in {1, -1}."""
    x, t = _check_same(input, target, "soft_margin_loss")
    return _reduce(softplus(-t * x), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None,
                                reduction: str = "mean") -> Tensor:
    """Per-class binary cross-entropy on logits, averaged over the classes (last dim)."""
    x, t = _check_same(input, target, "multilabel_soft_margin_loss")
    el = -(t * logsigmoid(x) + (1 - t) * logsigmoid(-x))
    if weight is not None:
        el = el * weight
    return _reduce(el.mean(-1), reduction)


def _class_index(target: Tensor, input: Tensor, op: str) -> Tensor:
    if not isinstance(target, Tensor) or target.dtype.kind != "i":
        raise RuntimeError(f"{op}(): expected target of integer dtype (class indices)")
    expected = input.shape[:1] if input.ndim == 2 else ()
    if input.ndim not in (1, 2) or tuple(target.shape) not in (tuple(expected), (1,) * (input.ndim == 1)):
        raise RuntimeError(f"{op}(): inconsistent target size {list(target.shape)} for input of size "
                           f"{list(input.shape)} (expected (N, C) input with (N,) target, or (C,) with ())")
    c = input.shape[-1]
    if target.numel() and (target.min().item() < 0 or target.max().item() >= c):
        raise IndexError(f"{op}(): target out of range for {c} classes")
    return target.reshape(expected)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: Any = None, reduce: Any = None,
                      reduction: str = "mean") -> Tensor:
    """``sum_{i != y} max(0, margin - x[y] + x[i]) ** p / C`` (times ``weight[y]``)."""
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = float_result(input)
    y = _class_index(target, x, "multi_margin_loss")
    c = x.shape[-1]
    xs = x if x.ndim == 2 else x.unsqueeze(0)
    ys = y.reshape(-1, 1)
    picked = xs.gather(1, ys)
    hinge = relu(margin - picked + xs)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight.index_select(0, ys.reshape(-1)).reshape(-1, 1)
    classes = tensor(list(range(c)), dtype=dtypes.int64, device=x.device)
    hinge = where(classes.reshape(1, c) == ys, 0.0, hinge)
    el = hinge.sum(1) / c
    return _reduce(el if x.ndim == 2 else el.reshape(()), reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                           reduction: str = "mean") -> Tensor:
    """``sum_{j target, i not} max(0, 1 - (x[j] - x[i])) / C``; each row of ``target`` lists
    class indices up to its first -1."""
    x = float_result(input)
    if x.ndim not in (1, 2) or tuple(target.shape) != tuple(x.shape):
        raise RuntimeError(f"multilabel_margin_loss(): inconsistent target size {list(target.shape)} for input "
                           f"of size {list(x.shape)}")
    c = x.shape[-1]
    rows = target.reshape(-1, c).tolist()
    is_target = []
    for row in rows:
        flags = [0.0] * c
        for k in row:
            if k < 0:
                break
            if k >= c:
                raise IndexError(f"multilabel_margin_loss(): target {k} out of range for {c} classes")
            flags[k] = 1.0
        is_target.append(flags)
    tmask = tensor(is_target, dtype=x.dtype, device=x.device)
    xs = x.reshape(-1, c)
    pairs = tmask.unsqueeze(2) * (1 - tmask).unsqueeze(1)  # [n, j, i]: j a target, i not
    hinge = relu(1 - xs.unsqueeze(2) + xs.unsqueeze(1)) * pairs
    el = hinge.sum((1, 2)) / c
    return _reduce(el if x.ndim == 2 else el.reshape(()), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``x`` where ``y == 1``, ``max(0, margin - x)`` where ``y == -1``."""
    x, t = _check_same(input, target, "hinge_embedding_loss")
    # clamp_min, not relu: its gradient is a mask of g alone, as in PyTorch's composite (whose
    # first derivative has no graph of its own under create_graph)
    el = where(t != -1, x, 0.0) + where(t != 1, (margin - x).clamp_min(0.0), 0.0)
    return _reduce(el, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``max(0, -y * (x1 - x2) + margin)``: ``y = 1`` asks for ``x1 > x2``, ``y = -1`` for less."""
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: "
            f"{list(input1.shape)}, input2: {list(input2.shape)}, target: {list(target.shape)} "
        )
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0.0), reduction)


# ---- embeddings and distances -------------------------------------------------------------------
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``x1 . x2 / (max(||x1||, eps) * max(||x2||, eps))`` along ``dim`` (inputs broadcast)."""
    a, b = float_result(x1), float_result(x2)
    shape = a._be.broadcast_shapes(a._data.shape, b._data.shape)
    a, b = a.expand(shape), b.expand(shape)
    d = wrap_dim(dim, len(shape))
    na = (a * a).sum(d).sqrt().clamp(min=eps)
    nb = (b * b).sum(d).sqrt().clamp(min=eps)
    return (a * b).sum(d) / (na * nb)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dim."""
    d = x1 - x2 + eps
    if d.ndim == 0:
        d = d.reshape(1)
    return d.norm(p, -1, keepdim)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``y == 1``, ``max(0, cos(x1, x2) - margin)`` where ``y == -1``."""
    if input1.ndim not in (1, 2) or input1.shape != input2.shape:
        raise RuntimeError(f"cosine_embedding_loss(): expected (N, D) or (D,) inputs of one shape, got "
                           f"{list(input1.shape)} and {list(input2.shape)}")
    a, b = float_result(input1), float_result(input2)
    eps = 1e-12  # as PyTorch: inside the square root of the product of squared norms
    cos = (a * b).sum(-1) / ((_sum(a * a, -1) + eps) * (_sum(b * b, -1) + eps)).sqrt()
    el = where(target == 1, 1 - cos, 0.0) + where(target == -1, relu(cos - margin), 0.0)
    return _reduce(el, reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Any = None, margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` for a distance ``d`` (pairwise_distance by
    default); with ``swap``, ``d(a, n)`` is ``min(d(a, n), d(p, n))``."""
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} instead")
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
                           f"negative {negative.ndim}D inputs")
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(dist(positive, negative))
    return _reduce(relu(d_pos - d_neg + margin), reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """``max(||a - p||_p - ||a - n||_p + margin, 0)`` (see triplet_margin_with_distance_loss)."""
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
                           f"negative {negative.ndim}D inputs")
    dist = _triplet_distance(p, eps)
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(dist(positive, negative))
    return _reduce(relu(d_pos - d_neg + margin), reduction)


def _triplet_distance(p: float, eps: float) -> Any:
    def dist(a: Tensor, b: Tensor) -> Tensor:
        return pairwise_distance(a, b, p, eps)
    return dist


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ("cosine_similarity", "pairwise_distance")
METHODS: dict = {}
