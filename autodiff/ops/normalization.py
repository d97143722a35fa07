"""Normalization ops: ``batch_norm``, ``instance_norm``, ``layer_norm`` and ``group_norm``
(one node each, named like PyTorch's), and the composites ``rms_norm``,
``local_response_norm`` and ``normalize``.

The four with nodes share ``_normalize``: ``(x - mean) * rstd`` over some dims of the
input (for ``group_norm``, of the input viewed as ``(N, groups, -1)``), then the affine
``weight``/``bias`` broadcast at ``wshape``. With batch statistics the backward
differentiates through the mean and variance; with given statistics (running ones, in
evaluation mode) they are constants. The backward recomputes the statistics from the
saved input in Tensor ops, so double backward works.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff.autograd.forward_rules import derived_jvp
from autodiff.autograd.grad_mode import no_grad
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import GradientLink, link_gradient, record
from autodiff.ops._prep import float_result, wrap_dim
from autodiff.ops.broadcasting import sum_to
from autodiff.ops.creation import zeros
from autodiff.ops.shape import cat
from autodiff.tensor import Tensor, _make


class _NormalizeBackward(Node):
    __slots__ = ("dims", "stat_shape", "wshape", "eps")
    # records the bias's gradient (a sum of g) as a function of x and w, where PyTorch does
    link_cls: type[GradientLink] | None = None
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        x, w, b, mean_c, rstd_c = self.unpack()
        ex, ew, eb = edges_of(self)
        dims = self.dims
        xs = x if self.stat_shape is None else x.reshape(self.stat_shape)
        if mean_c is None:
            c = xs - xs.mean(dims, True)
            rstd = ((c * c).mean(dims, True) + self.eps).rsqrt()
        else:
            c, rstd = xs - mean_c, rstd_c
        xhat = c * rstd
        gx = gw = gb = None
        if ex is not None:
            gy = g if w is None else g * w.reshape(self.wshape)
            if self.stat_shape is not None:
                gy = gy.reshape(self.stat_shape)
            if mean_c is None:
                gx = rstd * (gy - gy.mean(dims, True) - xhat * (gy * xhat).mean(dims, True))
            else:
                gx = gy * rstd
            gx = gx.reshape(x.shape)
        if ew is not None:
            gw = sum_to(g * xhat.reshape(x.shape), self.wshape).reshape(w.shape)
        if eb is not None:
            gb = sum_to(g, self.wshape).reshape(b.shape)
            if self.link_cls is not None:
                gb = link_gradient(gb, self.link_cls, tuple(t for t in (x, w) if t is not None))
        return gx, gw, gb


class NativeBatchNormBackwardBackward0(GradientLink):
    __slots__ = ()


class NativeBatchNormBackward0(_NormalizeBackward):
    __slots__ = ()
    link_cls = NativeBatchNormBackwardBackward0


class NativeLayerNormBackwardBackward0(GradientLink):
    __slots__ = ()


class NativeLayerNormBackward0(_NormalizeBackward):
    __slots__ = ()
    link_cls = NativeLayerNormBackwardBackward0


class NativeGroupNormBackward0(_NormalizeBackward):
    __slots__ = ()


def _normalize(x: Tensor, weight: Tensor | None, bias: Tensor | None, dims: tuple, eps: float,
               wshape: tuple, node_cls: type[Node], stat_shape: tuple | None = None,
               mean_c: Tensor | None = None, rstd_c: Tensor | None = None) -> tuple:
    """The normalized (and affine-transformed) ``x``, and the batch mean and biased variance
    (None with given statistics ``mean_c``, ``rstd_c``)."""
    mean = var = None
    with no_grad():
        xs = x if stat_shape is None else x.reshape(stat_shape)
        if mean_c is None:
            mean = xs.mean(dims, True)
            c = xs - mean
            var = (c * c).mean(dims, True)
            y = c * (var + eps).rsqrt()
        else:
            y = (xs - mean_c) * rstd_c
        if stat_shape is not None:
            y = y.reshape(x.shape)
        if weight is not None:
            y = y * weight.reshape(wshape)
        if bias is not None:
            y = y + bias.reshape(wshape)
    out = record(_make(y._data, y._be), node_cls, (x, weight, bias), saved=(x, weight, bias, mean_c, rstd_c),
                 dims=dims, stat_shape=stat_shape, wshape=wshape, eps=eps)
    return out, mean, var


def _channel_shape(x: Tensor, op: str) -> tuple:
    if x.ndim < 2:
        raise ValueError(f"{op}: expected an input of at least 2 dimensions (N, C, ...), got {x.ndim}D")
    return tuple(x.shape[1] if i == 1 else 1 for i in range(x.ndim))


def _check_affine(t: Tensor | None, n: int, what: str, op: str) -> None:
    if t is not None and t.numel() != n:
        raise RuntimeError(f"{op}: expected {what} to have {n} elements, but got {list(t.shape)}")


def _update_running(running: Tensor | None, value: Tensor, momentum: float) -> None:
    if running is not None:
        with no_grad():
            running.mul_(1 - momentum).add_(value.reshape(running.shape).to(running.dtype) * momentum)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) over the batch and spatial dims: with the batch's
    statistics when ``training`` (updating the running ones by ``momentum``), else with
    ``running_mean``/``running_var``."""
    x = float_result(input)
    wshape = _channel_shape(x, "batch_norm")
    c = wshape[1]
    for t, what in ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"),
                    (bias, "bias")):
        _check_affine(t, c, what, "batch_norm")
    dims = (0,) + tuple(range(2, x.ndim))
    if training:
        n = x.numel() // c
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{list(x.shape)}")
        out, mean, var = _normalize(x, weight, bias, dims, eps, wshape, NativeBatchNormBackward0)
        _update_running(running_mean, mean, momentum)
        _update_running(running_var, var * (n / (n - 1)), momentum)
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var must be defined in evaluation mode")
    return _with_stats(x, weight, bias, running_mean, running_var, dims, eps, wshape)


def _with_stats(x: Tensor, weight: Any, bias: Any, running_mean: Tensor, running_var: Tensor, dims: tuple,
                eps: float, wshape: tuple) -> Tensor:
    with no_grad():
        mean_c = running_mean.reshape(wshape).to(x.dtype)
        rstd_c = (running_var.reshape(wshape).to(x.dtype) + eps).rsqrt()
    return _normalize(x, weight, bias, dims, eps, wshape, NativeBatchNormBackward0, mean_c=mean_c,
                      rstd_c=rstd_c)[0]


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel of each sample over its spatial dims (``(N, C, ...)`` input)."""
    x = float_result(input)
    wshape = _channel_shape(x, "instance_norm")
    c = wshape[1]
    for t, what in ((weight, "weight"), (bias, "bias")):
        _check_affine(t, c, what, "instance_norm")
    dims = tuple(range(2, x.ndim))
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        return _with_stats(x, weight, bias, running_mean, running_var, dims, eps, wshape)
    n = math.prod(x.shape[2:])
    if n <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {list(x.shape)}")
    out, mean, var = _normalize(x, weight, bias, dims, eps, wshape, NativeBatchNormBackward0)
    _update_running(running_mean, mean.mean(0), momentum)
    _update_running(running_var, (var * (n / (n - 1))).mean(0), momentum)
    return out


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize over the last ``len(normalized_shape)`` dims, then ``* weight + bias``."""
    x = float_result(input)
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(ns)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != ns:
        raise RuntimeError(
            f"Given normalized_shape={list(ns)}, expected input with shape [*, {', '.join(map(str, ns))}], "
            f"but got input of size{list(x.shape)}"
        )
    for t, what in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"layer_norm: expected {what} of shape {list(ns)}, but got {list(t.shape)}")
    dims = tuple(range(x.ndim - k, x.ndim))
    return _normalize(x, weight, bias, dims, eps, ns, NativeLayerNormBackward0)[0]


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize each group of ``C / num_groups`` channels of each sample (with its spatial
    dims), then apply a per-channel ``weight`` and ``bias``."""
    x = float_result(input)
    wshape = _channel_shape(x, "group_norm")
    n, c = x.shape[0], x.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input "
                           f"of shape {list(x.shape)} and num_groups={num_groups}")
    for t, what in ((weight, "weight"), (bias, "bias")):
        _check_affine(t, c, what, "group_norm")
    stat_shape = (n, num_groups, x.numel() // max(n * num_groups, 1))
    return _normalize(x, weight, bias, (2,), eps, wshape, NativeGroupNormBackward0, stat_shape)[0]


_EPS = {"float16": 0.0009765625, "bfloat16": 0.0078125, "float32": 1.1920928955078125e-07,
        "float64": 2.220446049250313e-16}


def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x ** 2) + eps) * weight`` over the last ``len(normalized_shape)`` dims
    (``eps`` defaults to the dtype's machine epsilon)."""
    x = float_result(input)
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(ns)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != ns:
        raise RuntimeError(
            f"Given normalized_shape={list(ns)}, expected input with shape [*, {', '.join(map(str, ns))}], "
            f"but got input of size{list(x.shape)}"
        )
    eps = _EPS.get(x.dtype.name, 1.1920928955078125e-07) if eps is None else eps
    dims = tuple(range(x.ndim - k, x.ndim))
    y = x * ((x * x).mean(dims, True) + eps).rsqrt()
    return y if weight is None else y * weight


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """``x / (k + alpha * mean of x ** 2 over a window of size channels) ** beta``."""
    x = float_result(input)
    if x.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {x.ndim} dimensions)")
    if x.numel() == 0:
        return x
    c = x.shape[1]
    sq = x * x
    lo, hi = size // 2, (size - 1) // 2
    parts = [sq]
    if lo:
        parts.insert(0, zeros(x.shape[0], lo, *x.shape[2:], dtype=x.dtype, device=x.device))
    if hi:
        parts.append(zeros(x.shape[0], hi, *x.shape[2:], dtype=x.dtype, device=x.device))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    window = padded[:, 0:c]
    for j in range(1, size):
        window = window + padded[:, j:j + c]
    return x / (window * (alpha / size) + k) ** beta


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported")
    x = float_result(input)
    d = wrap_dim(dim, max(x.ndim, 1))
    return x / x.norm(p, d, keepdim=True).clamp(min=eps).expand_as(x)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ("layer_norm", "group_norm", "rms_norm")  # torch.batch_norm and torch.instance_norm
# take their arguments in another order than F.batch_norm and F.instance_norm
METHODS: dict = {}
