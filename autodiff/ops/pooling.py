"""Pooling beyond the 2-D windows of conv.py: the 1-D forms (a 2-D pool with a height of
1), adaptive pools (the output size is given; window ``i`` of ``n`` over ``L`` spans
``[floor(i * L / n), ceil((i + 1) * L / n))``) and power-average (LP) pools.

Adaptive average pooling is linear, so it is a matmul with a constant averaging matrix;
adaptive max pooling gathers every window (padded to the longest with ``-inf``) and takes
the max, one spatial dim at a time. Everything is composed of differentiable ops.
"""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.autograd.record import GradientLink, LinkedOutput, link_output
from autodiff.ops.conv import _pair, _single, _triple, avg_pool2d, max_pool2d
from autodiff.ops.creation import arange, tensor, zeros
from autodiff.ops.shape import pad
from autodiff.tensor import Tensor


def _batched1d(input: Tensor, op: str) -> tuple[Tensor, bool]:
    if input.ndim == 2:
        return input.unsqueeze(0), True
    if input.ndim != 3:
        raise RuntimeError(f"{op}: Expected 2D or 3D (batch mode) tensor for input, but got: "
                           f"{list(input.shape)}")
    return input, False


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The maximum of each window of ``(N, C, L)`` (and its position, with ``return_indices``)."""
    x, unbatched = _batched1d(input, "max_pool1d")
    k = _single(kernel_size, "kernel_size")
    s = k if stride is None or stride == [] or stride == () else _single(stride, "stride")
    out = max_pool2d(x.unsqueeze(2), (1, k), (1, s), (0, _single(padding, "padding")),
                     (1, _single(dilation, "dilation")), ceil_mode, return_indices)
    if return_indices:
        v, i = out[0].squeeze(2), out[1].squeeze(2)
        return (v.squeeze(0), i.squeeze(0)) if unbatched else (v, i)
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """The mean of each window of ``(N, C, L)``."""
    x, unbatched = _batched1d(input, "avg_pool1d")
    k = _single(kernel_size, "kernel_size")
    s = k if stride is None or stride == [] or stride == () else _single(stride, "stride")
    out = avg_pool2d(x.unsqueeze(2), (1, k), (1, s), (0, _single(padding, "padding")), ceil_mode,
                     count_include_pad).squeeze(2)
    return out.squeeze(0) if unbatched else out


def _depth_slices(input: Tensor, kernel: Any, stride: Any, padding: Any, dilation: Any, value: float,
                  op: str) -> tuple:
    """For 3-D pooling: the depth-padded input's slices met by each kernel depth ``j``, as
    ``(N, C * OD, H, W)`` tensors, and the shapes to restore."""
    if input.ndim not in (4, 5):
        raise RuntimeError(f"{op}: Expected 4D or 5D input, but got {list(input.shape)}")
    kernel = _triple(kernel, "kernel_size")
    stride = kernel if stride is None or stride == [] or stride == () else _triple(stride, "stride")
    padding, dilation = _triple(padding, "padding"), _triple(dilation, "dilation")
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got pad={list(padding)} "
                           f"and kernel_size={list(kernel)}")
    unbatched = input.ndim == 4
    x = input.unsqueeze(0) if unbatched else input
    if padding[0]:
        x = pad(x, (0, 0, 0, 0, padding[0], padding[0]), value=value)
    n, c, depth, h, w = x.shape
    od = (depth - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    if od < 1:
        raise RuntimeError(f"{op}: the kernel ({kernel[0]}) is deeper than the padded input ({depth})")
    slices = []
    for j in range(kernel[0]):
        lo = j * dilation[0]
        slices.append(x[:, :, lo:lo + stride[0] * (od - 1) + 1:stride[0]].reshape(n, c * od, h, w))
    return slices, (kernel, stride, padding, dilation), (n, c, od), unbatched


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """The maximum of each 3-D window of ``(N, C, D, H, W)``: the 2-D pool of each depth
    slice, then the maximum over the kernel depth."""
    if ceil_mode or return_indices:
        raise NotImplementedError("max_pool3d: ceil_mode and return_indices are not supported")
    slices, (k, s, p, d), (n, c, od), unbatched = _depth_slices(input, kernel_size, stride, padding, dilation,
                                                                 float("-inf"), "max_pool3d")
    out = None
    for xs in slices:
        term = max_pool2d(xs, k[1:], s[1:], p[1:], d[1:])
        out = term if out is None else out.maximum(term)
    out = out.reshape(n, c, od, *out.shape[-2:])
    return out.squeeze(0) if unbatched else out


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each 3-D window of ``(N, C, D, H, W)`` (zero padding counted)."""
    if ceil_mode or (not count_include_pad and padding not in (0, (0, 0, 0), [0, 0, 0])):
        raise NotImplementedError("avg_pool3d: ceil_mode and count_include_pad=False with padding are not "
                                  "supported")
    kernel = _triple(kernel_size, "kernel_size")
    if input.ndim in (4, 5) and any(size < k for size, k in zip(input.shape[-3:], kernel)):
        # PyTorch's check, on the input before its padding (max_pool3d has none)
        t, h, w = input.shape[-3:]
        raise RuntimeError(f"input image (T: {t} H: {h} W: {w}) smaller than kernel size (kT: {kernel[0]} "
                           f"kH: {kernel[1]} kW: {kernel[2]})")
    slices, (k, s, p, _), (n, c, od), unbatched = _depth_slices(input, kernel_size, stride, padding, 1, 0.0,
                                                                 "avg_pool3d")
    out = None
    for xs in slices:
        term = avg_pool2d(xs, k[1:], s[1:], p[1:], divisor_override=1)  # window sums
        out = term if out is None else out + term
    out = out / (divisor_override or k[0] * k[1] * k[2])
    out = out.reshape(n, c, od, *out.shape[-2:])
    return out.squeeze(0) if unbatched else out


def _bounds(n_in: int, n_out: int) -> list[tuple[int, int]]:
    return [((i * n_in) // n_out, -(-((i + 1) * n_in) // n_out)) for i in range(n_out)]


def _out_sizes(output_size: Any, spatial: tuple, op: str) -> tuple:
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * len(spatial)
    output_size = tuple(output_size)
    if len(output_size) == 1 and len(spatial) > 1:
        output_size = output_size * len(spatial)
    if len(output_size) != len(spatial):
        raise RuntimeError(f"{op}: output_size must be {len(spatial)} integers")
    sizes = tuple(n if o is None else o for o, n in zip(output_size, spatial))
    if any(o < 0 for o in sizes):
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0")
    return sizes


def _check_adaptive(input: Tensor, nd: int, op: str) -> None:
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(input.shape)}")
    if any(n == 0 for n in input.shape[-nd:]):
        raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch dimensions, "
                           f"but input has sizes {list(input.shape)}")


# As conv.py's pools: the result goes through an identity node named as PyTorch's, which
# links the gradient to the input under create_graph (see LinkedOutput).
class AdaptiveAvgPool2DBackwardBackward0(GradientLink):
    __slots__ = ()


class AdaptiveAvgPool2DBackward0(LinkedOutput):
    __slots__ = ()
    backward_cls = AdaptiveAvgPool2DBackwardBackward0


class AdaptiveMaxPool2DBackwardBackward0(GradientLink):
    __slots__ = ()


class AdaptiveMaxPool2DBackward0(LinkedOutput):
    __slots__ = ()
    backward_cls = AdaptiveMaxPool2DBackwardBackward0


def _adaptive_avg(x: Tensor, dim: int, n_out: int) -> Tensor:
    n_in = x._data.shape[dim]
    rows = [[0.0] * n_in for _ in range(n_out)]
    for i, (lo, hi) in enumerate(_bounds(n_in, n_out)):
        for j in range(lo, hi):
            rows[i][j] = 1.0 / (hi - lo)
    avg = tensor(rows, dtype=x.dtype, device=x.device)  # (n_out, n_in)
    return x.transpose(dim, -1).matmul(avg.t()).transpose(dim, -1)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """``(N, C, L)`` -> ``(N, C, output_size)``: the mean of each adaptive window."""
    _check_adaptive(input, 1, "adaptive_avg_pool1d")
    (o,) = _out_sizes(output_size, input.shape[-1:], "adaptive_avg_pool1d")
    if o == 1:  # a mean, as PyTorch computes it (no node of the pool's own)
        return input.mean(-1, True)
    return link_output(_adaptive_avg(input, input.ndim - 1, o), AdaptiveAvgPool2DBackward0, (input,))


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """``(N, C, H, W)`` -> ``(N, C, *output_size)``: the mean of each adaptive window."""
    _check_adaptive(input, 2, "adaptive_avg_pool2d")
    oh, ow = _out_sizes(output_size, input.shape[-2:], "adaptive_avg_pool2d")
    if oh == ow == 1:  # a mean, as PyTorch computes it (no node of the pool's own)
        return input.mean((-2, -1), True)
    out = _adaptive_avg(_adaptive_avg(input, input.ndim - 2, oh), input.ndim - 1, ow)
    return link_output(out, AdaptiveAvgPool2DBackward0, (input,))


def _max_along(x: Tensor, dim: int, n_out: int) -> tuple[Tensor, Tensor]:
    """The max of every adaptive window along ``dim`` and its position along ``dim``."""
    n_in = x._data.shape[dim]
    bounds = _bounds(n_in, n_out)
    width = max((hi - lo for lo, hi in bounds), default=1)
    # short windows repeat their last element; max picks the first maximum, so the winner's
    # offset is always inside its window
    flat = [min(lo + j, hi - 1) for lo, hi in bounds for j in range(width)]
    windows = x.index_select(dim, tensor(flat, dtype=dtypes.int64, device=x.device))
    best = windows.reshape(x.shape[:dim] + (n_out, width) + x.shape[dim + 1:]).max(dim + 1)
    starts = tensor([lo for lo, _ in bounds], dtype=dtypes.int64, device=x.device)
    return best.values, best.indices + starts.reshape((n_out,) + (1,) * (x.ndim - 1 - dim))


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """``(N, C, L)`` -> ``(N, C, output_size)``: the max of each adaptive window."""
    _check_adaptive(input, 1, "adaptive_max_pool1d")
    (o,) = _out_sizes(output_size, input.shape[-1:], "adaptive_max_pool1d")
    values, pos = _max_along(input, input.ndim - 1, o)
    values = link_output(values, AdaptiveMaxPool2DBackward0, (input,))
    return (values, pos) if return_indices else values


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """``(N, C, H, W)`` -> ``(N, C, *output_size)``: the max of each adaptive window (rows,
    then columns; the index is the flat position in the ``H * W`` plane)."""
    _check_adaptive(input, 2, "adaptive_max_pool2d")
    oh, ow = _out_sizes(output_size, input.shape[-2:], "adaptive_max_pool2d")
    h_dim, w_dim = input.ndim - 2, input.ndim - 1
    cols, col_pos = _max_along(input, w_dim, ow)  # (..., H, ow)
    values, row_pos = _max_along(cols, h_dim, oh)  # (..., oh, ow)
    values = link_output(values, AdaptiveMaxPool2DBackward0, (input,))
    if not return_indices:
        return values
    # the column of each row's maximum, read at the winning row
    col_at_row = col_pos.gather(h_dim, row_pos)
    return values, row_pos * input.shape[-1] + col_at_row


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """``(sum of x ** p over each window) ** (1 / p)``."""
    k = _single(kernel_size, "kernel_size")
    out = avg_pool1d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(k).pow(1.0 / norm_type)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """``(sum of x ** p over each 2-D window) ** (1 / p)``."""
    kh, kw = _pair(kernel_size, "kernel_size")
    out = avg_pool2d(input.pow(norm_type), (kh, kw), stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kh * kw).pow(1.0 / norm_type)


def _unpool(input: Tensor, indices: Tensor, kernel: tuple, stride: tuple, padding: tuple,
            output_size: Any, op: str) -> Tensor:
    """Scatter each pooled value to the flat position its index names in the output plane."""
    nd = len(kernel)
    if indices.dtype.kind != "i" or tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    spatial = input.shape[-nd:]
    default = tuple((i - 1) * s - 2 * p + k for i, s, p, k in zip(spatial, stride, padding, kernel))
    size = default if output_size is None else tuple(output_size)[-nd:]
    if len(size) != nd:
        raise ValueError(f"{op}: output_size should have {nd} or {nd + 2} elements, got {list(output_size)}")
    lead = input.shape[:-nd]
    plane = 1
    for n in size:
        plane *= n
    flat_in = input.reshape(*lead, -1)
    flat_idx = indices.reshape(*lead, -1)
    if flat_idx.numel() and (int(flat_idx.min().item()) < 0 or int(flat_idx.max().item()) >= plane):
        raise RuntimeError(f"{op}: Found an invalid max index (the output plane has {plane} elements)")
    # an assignment, not a sum: overlapping windows may name one position twice (the same
    # maximum), and each copy then gets the whole gradient there, as in PyTorch
    rows = 1
    for n in lead:
        rows *= n
    out = zeros(rows, plane, dtype=input.dtype, device=input.device)
    which = arange(rows, device=input.device).reshape(rows, 1).expand(rows, flat_idx.shape[-1])
    out[which, flat_idx.reshape(rows, -1)] = flat_in.reshape(rows, -1)
    return out.reshape(*lead, *size)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """The partial inverse of ``max_pool1d``: each value back at its index, zeros elsewhere."""
    k = _single(kernel_size, "kernel_size")
    s = k if stride is None else _single(stride, "stride")
    return _unpool(input, indices, (k,), (s,), (_single(padding, "padding"),), output_size, "max_unpool1d")


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """The partial inverse of ``max_pool2d``: each value back at its index, zeros elsewhere."""
    k = _pair(kernel_size, "kernel_size")
    s = k if stride is None else _pair(stride, "stride")
    return _unpool(input, indices, k, s, _pair(padding, "padding"), output_size, "max_unpool2d")


# ---- the public API of this file (functions of autodiff.nn.functional only)
FUNCTIONS = ()
METHODS: dict = {}
