"""Resizing images and signals: ``interpolate`` (nearest, nearest-exact, linear, bilinear)
and the channel/space shuffles ``pixel_shuffle`` / ``pixel_unshuffle``.

Interpolation is separable: along each spatial dim the output reads one source index
(nearest) or blends two (linear), an ``index_select`` with constant indices and weights,
so the gradient scatters back through ``index_select``'s backward.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff import dtypes
from autodiff.ops.creation import tensor
from autodiff.tensor import Tensor

_MODES = {"nearest": 1, "nearest-exact": 1, "linear": 1, "bilinear": 2}


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """``(*, C * r * r, H, W)`` -> ``(*, C, H * r, W * r)``."""
    r = upscale_factor
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
                           f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """``(*, C, H * r, W * r)`` -> ``(*, C * r * r, H, W)`` (the inverse of ``pixel_shuffle``)."""
    r = downscale_factor
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor, "
                           f"but got {h} x {w} and {r}")
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


def _sizes(spatial: tuple, size: Any, scale_factor: Any) -> tuple[tuple, tuple]:
    """Output sizes and the source/output scale per dim (``1 / scale_factor`` when a scale
    factor is given, as PyTorch computes it without ``recompute_scale_factor``)."""
    nd = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        size = (size,) * nd if isinstance(size, int) else tuple(size)
        if len(size) != nd:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got "
                             f"input with spatial dimensions of {list(spatial)} and output size of {list(size)}.")
        return size, tuple(i / o for i, o in zip(spatial, size))
    scale = (scale_factor,) * nd if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
    if len(scale) != nd:
        raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                         f"input with spatial dimensions of {list(spatial)} and scale_factor of {list(scale)}.")
    return tuple(math.floor(i * s) for i, s in zip(spatial, scale)), tuple(1.0 / s for s in scale)


def _resample(x: Tensor, dim: int, n_out: int, scale: float, mode: str, align_corners: bool) -> Tensor:
    n_in = x._data.shape[dim]
    if mode in ("nearest", "nearest-exact"):
        shift = 0.5 if mode == "nearest-exact" else 0.0
        idx = [min(int(math.floor((i + shift) * scale)), n_in - 1) for i in range(n_out)]
        return x.index_select(dim, tensor(idx, dtype=dtypes.int64, device=x.device))
    lo, hi, frac = [], [], []
    for i in range(n_out):
        if align_corners:
            src = i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            src = max((i + 0.5) * scale - 0.5, 0.0)
        i0 = min(int(math.floor(src)), n_in - 1)
        lo.append(i0)
        hi.append(min(i0 + 1, n_in - 1))
        frac.append(src - i0)
    shape = [1] * x.ndim
    shape[dim] = n_out
    w = tensor(frac, dtype=x.dtype, device=x.device).reshape(shape)
    a = x.index_select(dim, tensor(lo, dtype=dtypes.int64, device=x.device))
    b = x.index_select(dim, tensor(hi, dtype=dtypes.int64, device=x.device))
    return a + (b - a) * w


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of ``(N, C, *spatial)`` by ``mode``: 'nearest',
    'nearest-exact', 'linear' (3-D input) or 'bilinear' (4-D input)."""
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode '{mode}' is not supported (nearest, nearest-exact, "
                                  "linear, bilinear are)")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if align_corners is not None and mode.startswith("nearest"):
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    nd = input.ndim - 2
    if nd < 1:
        raise ValueError(f"interpolate: expected an input with a batch and a channel dim, got {list(input.shape)}")
    if mode in ("linear", "bilinear") and nd != _MODES[mode]:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_MODES[mode] + 2}D input")
    sizes, scales = _sizes(input.shape[2:], size, scale_factor)
    if recompute_scale_factor:
        scales = tuple(i / o for i, o in zip(input.shape[2:], sizes))
    out = input
    for d, (n_out, scale) in enumerate(zip(sizes, scales)):
        out = _resample(out, 2 + d, n_out, scale, mode, bool(align_corners))
    return out


# ---- the public API of this file (functions of autodiff.nn.functional only)
FUNCTIONS = ()
METHODS: dict = {}
