"""Convolution and 2-D pooling through im2col: ``unfold2d`` gathers every sliding window
into its own axis, ``fold2d`` adds windows back (its adjoint). Each is the other's
backward, so what is composed from them (with ``pad``, ``matmul``, ``max``, ``sum``) is
differentiable to any order: ``conv2d`` and ``conv1d`` (a 2-D one with a height of 1),
``conv_transpose2d``/``conv_transpose1d`` (a matmul scattering each input pixel, then
``fold2d``), ``unfold``/``fold``, ``max_pool2d`` and ``avg_pool2d``.
"""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.autograd.forward_rules import derived_jvp
from autodiff.autograd.node import Node
from autodiff.autograd.record import GradientLink, LinkedOutput, link_output, record
from autodiff.ops._prep import device_mismatch
from autodiff.ops.creation import arange, ones
from autodiff.ops.shape import pad
from autodiff.tensor import Tensor, _make


def _pair(v: Any, name: str) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    v = tuple(v)
    if len(v) == 1:
        return (v[0], v[0])
    if len(v) != 2:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of 2 values")
    return v


class Im2ColBackward0(Node):
    __slots__ = ("size", "stride", "dilation")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        return fold2d(g, self.size, self.stride, self.dilation)


class Col2ImBackward0(Node):
    __slots__ = ("kernel", "stride", "dilation")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        return unfold2d(g, self.kernel, self.stride, self.dilation)


# The results of conv2d and the pools go through an identity node named as PyTorch's
# (ConvolutionBackward0 ...): it links their gradient to the op's inputs under
# create_graph, as PyTorch's records it (see LinkedOutput), so that a bias's or a pooled
# input's first derivative is part of the graph even when the incoming gradient is not.
class ConvolutionBackwardBackward0(GradientLink):
    __slots__ = ()


class ConvolutionBackward0(LinkedOutput):
    __slots__ = ()
    backward_cls = ConvolutionBackwardBackward0


class MaxPool2DWithIndicesBackwardBackward0(GradientLink):
    __slots__ = ()


class MaxPool2DWithIndicesBackward0(LinkedOutput):
    __slots__ = ()
    backward_cls = MaxPool2DWithIndicesBackwardBackward0


class AvgPool2DBackwardBackward0(GradientLink):
    __slots__ = ()


class AvgPool2DBackward0(LinkedOutput):
    __slots__ = ()
    backward_cls = AvgPool2DBackwardBackward0


def unfold2d(input: Tensor, kernel: tuple, stride: tuple, dilation: tuple) -> Tensor:
    """``(N, C, H, W)`` -> ``(N, C, kh, kw, OH, OW)``: every window of the (unpadded) input."""
    be = input._be
    data = be.unfold2d(input._data, *kernel, *stride, *dilation)
    return record(_make(data, be), Im2ColBackward0, (input,), size=input._data.shape[2:], stride=stride,
                  dilation=dilation)


def fold2d(cols: Tensor, size: tuple, stride: tuple, dilation: tuple) -> Tensor:
    """The adjoint of ``unfold2d``: sum every window back into an ``(N, C, *size)`` tensor."""
    be = cols._be
    data = be.fold2d(cols._data, *size, *stride, *dilation)
    return record(_make(data, be), Col2ImBackward0, (cols,), kernel=cols._data.shape[2:4], stride=stride,
                  dilation=dilation)


def _batched(input: Tensor, op: str) -> tuple[Tensor, bool]:
    if input.ndim == 3:
        return input.unsqueeze(0), True
    if input.ndim != 4:
        raise RuntimeError(
            f"{op}: Expected 3D (unbatched) or 4D (batched) input to {op}, but got input of size: "
            f"{list(input.shape)}"
        )
    return input, False


def _windows(x: Tensor, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
             value: float, op: str) -> Tensor:
    # (Left to NumPy, these would give an empty result or a ValueError/ZeroDivisionError.)
    if min(stride) <= 0:
        raise RuntimeError(f"{op}: non-positive stride is not supported, but got stride={list(stride)}")
    if min(padding) < 0:
        raise RuntimeError(f"{op}: negative padding is not supported, but got padding={list(padding)}")
    if min(dilation) <= 0:
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got {list(dilation)}")
    h, w = x._data.shape[2:]
    ph, pw = padding
    eh = dilation[0] * (kernel[0] - 1) + 1
    ew = dilation[1] * (kernel[1] - 1) + 1
    if h + 2 * ph < eh or w + 2 * pw < ew:
        raise RuntimeError(
            f"{op}: Calculated padded input size per channel: ({h + 2 * ph} x {w + 2 * pw}). "
            f"Kernel size: ({eh} x {ew}). Kernel size can't be greater than actual input size"
        )
    if ph or pw:
        x = pad(x, (pw, pw, ph, ph), value=value)
    return unfold2d(x, kernel, stride, dilation)


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _conv_padding(padding: Any, kernel: tuple, stride: tuple, dilation: tuple, op: str) -> tuple:
    """Explicit ``(lo, hi)`` padding per spatial dim from an int, a tuple, 'valid' or 'same'."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}' (should be 'valid' or 'same')")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        # an odd total goes one more to the right, as PyTorch does
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if isinstance(padding, int):
        padding = (padding,) * n
    padding = tuple(padding)
    if len(padding) == 1:
        padding = padding * n
    if len(padding) != n:
        raise RuntimeError(f"{op}: expected padding to be a single integer value or a list of {n} values")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"{op}: negative padding is not supported")
    return tuple((p, p) for p in padding)


def _check_conv(input: Tensor, weight: Tensor, bias: Tensor | None, op: str, ndim: int) -> None:
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}(): input and weight must be Tensors")
    if input._be is not weight._be:
        raise device_mismatch(input, weight, op)
    if bias is not None and bias._be is not input._be:
        raise device_mismatch(input, bias, op)
    if weight.ndim != ndim + 2:
        raise RuntimeError(f"{op}: weight should be {ndim + 2}-D, but got shape {list(weight.shape)}")


def _conv2d(x: Tensor, weight: Tensor, bias: Tensor | None, stride: tuple, padding: tuple,
            dilation: tuple, groups: int, op: str) -> Tensor:
    """The batched 2-D case every convolution reduces to; ``padding`` is ``((t, b), (l, r))``."""
    o, cg, kh, kw = weight._data.shape
    c = x._data.shape[1]
    if groups < 1 or c != cg * groups or o % groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
            f"{list(x.shape)} to have {cg * groups} channels, but got {c} channels instead"
        )
    if bias is not None and bias._data.shape != (o,):
        raise RuntimeError(f"{op}: bias should have shape [{o}], but got {list(bias.shape)}")
    (pt, pb), (pl, pr) = padding
    if pt or pb or pl or pr:
        x = pad(x, (pl, pr, pt, pb))
    cols = _windows(x, (kh, kw), stride, (0, 0), dilation, 0.0, op)
    n, _, _, _, oh, ow = cols._data.shape
    cols = cols.reshape(n, groups, cg * kh * kw, oh * ow)
    w = weight.reshape(groups, o // groups, cg * kh * kw)
    out = w.matmul(cols).reshape(n, o, oh, ow)  # (G, O/G, K) @ (N, G, K, L)
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1)
    return out


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of ``(N, C, H, W)`` with ``(O, C // groups, kh, kw)`` filters."""
    _check_conv(input, weight, bias, "conv2d", 2)
    x, unbatched = _batched(input, "conv2d")
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero")
    padding = _conv_padding(padding, weight._data.shape[2:], stride, dilation, "conv2d")
    out = _conv2d(x, weight, bias, stride, padding, dilation, groups, "conv2d")
    return link_output(out.squeeze(0) if unbatched else out, ConvolutionBackward0, (input, weight))


def _single(v: Any, name: str) -> int:
    if isinstance(v, int):
        return v
    v = tuple(v)
    if len(v) != 1:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of 1 value")
    return v[0]


def _batched1d(input: Tensor, op: str) -> tuple[Tensor, bool]:
    if input.ndim == 2:
        return input.unsqueeze(0), True
    if input.ndim != 3:
        raise RuntimeError(f"{op}: Expected 2D (unbatched) or 3D (batched) input to {op}, but got input "
                           f"of size: {list(input.shape)}")
    return input, False


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of ``(N, C, L)`` with ``(O, C // groups, k)`` filters (a 2-D one
    with a height of 1)."""
    _check_conv(input, weight, bias, "conv1d", 1)
    x, unbatched = _batched1d(input, "conv1d")
    stride, dilation = _single(stride, "stride"), _single(dilation, "dilation")
    (p,) = _conv_padding(padding, weight._data.shape[2:], (stride,), (dilation,), "conv1d")
    out = _conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, stride), ((0, 0), p), (1, dilation),
                  groups, "conv1d").squeeze(2)
    return link_output(out.squeeze(0) if unbatched else out, ConvolutionBackward0, (input, weight))


def _triple(v: Any, name: str) -> tuple[int, int, int]:
    if isinstance(v, int):
        return (v, v, v)
    v = tuple(v)
    if len(v) == 1:
        return v * 3
    if len(v) != 3:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of 3 values")
    return v


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D cross-correlation of ``(N, C, D, H, W)`` with ``(O, C // groups, kd, kh, kw)``
    filters: for each kernel depth ``j``, a 2-D convolution of the depth slices it meets
    (folded into the batch), summed over ``j``."""
    _check_conv(input, weight, bias, "conv3d", 3)
    if input.ndim not in (4, 5):
        raise RuntimeError(f"conv3d: Expected 4D (unbatched) or 5D (batched) input to conv3d, but got input "
                           f"of size: {list(input.shape)}")
    unbatched = input.ndim == 4
    x = input.unsqueeze(0) if unbatched else input
    stride, dilation = _triple(stride, "stride"), _triple(dilation, "dilation")
    kd = weight._data.shape[2]
    pads = _conv_padding(padding, weight._data.shape[2:], stride, dilation, "conv3d")
    (pd0, pd1), hw_pads = pads[0], pads[1:]
    if pd0 or pd1:
        x = pad(x, (0, 0, 0, 0, pd0, pd1))
    n, c, depth, h, w = x._data.shape
    od = (depth - dilation[0] * (kd - 1) - 1) // stride[0] + 1
    if od < 1:
        raise RuntimeError(f"conv3d: Calculated padded input size per channel: ({depth} x {h} x {w}). "
                           f"Kernel size can't be greater than actual input size")
    out = None
    for j in range(kd):
        lo = j * dilation[0]
        xs = x[:, :, lo:lo + stride[0] * (od - 1) + 1:stride[0]]  # (N, C, od, H, W)
        xs = xs.transpose(1, 2).reshape(n * od, c, h, w)
        term = _conv2d(xs, weight[:, :, j], None, stride[1:], hw_pads, dilation[1:], groups, "conv3d")
        out = term if out is None else out + term
    o, oh, ow = out._data.shape[1:]
    out = out.reshape(n, od, o, oh, ow).transpose(1, 2)
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1, 1)
    return link_output(out.squeeze(0) if unbatched else out, ConvolutionBackward0, (input, weight))


def _conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor | None, stride: tuple, padding: tuple,
                      output_padding: tuple, groups: int, dilation: tuple, op: str) -> Tensor:
    """The adjoint of ``conv2d`` in its input: each input pixel scatters ``weight`` times
    itself (a matmul), ``fold2d`` adds the scattered windows up, then padding is cropped."""
    c, og, kh, kw = weight._data.shape
    n, cx, h, w = x._data.shape
    if groups < 1 or c % groups or cx != c:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(x.shape)} "
            f"to have {c} channels, but got {cx} channels instead"
        )
    o = og * groups
    if bias is not None and bias._data.shape != (o,):
        raise RuntimeError(f"{op}: bias should have shape [{o}], but got {list(bias.shape)}")
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= s and op_ >= d:
            raise RuntimeError(f"{op}: output padding must be smaller than either stride or dilation, "
                               f"but got output_padding={list(output_padding)}, stride={list(stride)}, "
                               f"dilation={list(dilation)}")
    full = tuple((i - 1) * s + d * (k - 1) + 1 for i, s, d, k in zip((h, w), stride, dilation, (kh, kw)))
    wt = weight.reshape(groups, c // groups, og * kh * kw).transpose(1, 2)
    cols = wt.matmul(x.reshape(n, groups, c // groups, h * w))  # (N, G, O/G * kh * kw, H * W)
    out = fold2d(cols.reshape(n, o, kh, kw, h, w), full, stride, dilation)
    if output_padding[0] or output_padding[1]:
        out = pad(out, (0, output_padding[1], 0, output_padding[0]))
    (ph, pw) = padding
    if ph or pw:
        hh, ww = out._data.shape[2:]
        if 2 * ph >= hh or 2 * pw >= ww:
            raise RuntimeError(f"{op}: padding {list(padding)} leaves an empty output")
        out = out[:, :, ph:hh - ph, pw:ww - pw]
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1)
    return out


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """2-D transposed convolution of ``(N, C, H, W)`` with ``(C, O // groups, kh, kw)`` filters."""
    _check_conv(input, weight, bias, "conv_transpose2d", 2)
    x, unbatched = _batched(input, "conv_transpose2d")
    out = _conv_transpose2d(x, weight, bias, _pair(stride, "stride"), _pair(padding, "padding"),
                            _pair(output_padding, "output_padding"), groups, _pair(dilation, "dilation"),
                            "conv_transpose2d")
    return link_output(out.squeeze(0) if unbatched else out, ConvolutionBackward0, (input, weight))


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """1-D transposed convolution of ``(N, C, L)`` with ``(C, O // groups, k)`` filters."""
    _check_conv(input, weight, bias, "conv_transpose1d", 1)
    x, unbatched = _batched1d(input, "conv_transpose1d")
    out = _conv_transpose2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, _single(stride, "stride")),
                            (0, _single(padding, "padding")), (0, _single(output_padding, "output_padding")),
                            groups, (1, _single(dilation, "dilation")), "conv_transpose1d").squeeze(2)
    return link_output(out.squeeze(0) if unbatched else out, ConvolutionBackward0, (input, weight))


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """``(N, C, H, W)`` -> ``(N, C * kh * kw, L)``: every (padded) sliding window as a column."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)")
    x, unbatched = _batched(input, "unfold")
    kernel, dilation = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    cols = _windows(x, kernel, _pair(stride, "stride"), _pair(padding, "padding"), dilation, 0.0, "unfold")
    n, c, kh, kw, oh, ow = cols._data.shape
    out = cols.reshape(n, c * kh * kw, oh * ow)
    return out.squeeze(0) if unbatched else out


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """The adjoint of ``unfold``: ``(N, C * kh * kw, L)`` columns summed into ``(N, C, *output_size)``."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                           f"(got {input.ndim}D)")
    x = input.unsqueeze(0) if input.ndim == 2 else input
    size, kernel = _pair(output_size, "output_size"), _pair(kernel_size, "kernel_size")
    dilation, padding, stride = _pair(dilation, "dilation"), _pair(padding, "padding"), _pair(stride, "stride")
    n, ck, length = x._data.shape
    if ck % (kernel[0] * kernel[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={ck} and kernel_size={kernel}")
    padded = (size[0] + 2 * padding[0], size[1] + 2 * padding[1])
    blocks = [(p - d * (k - 1) - 1) // s + 1 for p, d, k, s in zip(padded, dilation, kernel, stride)]
    if blocks[0] * blocks[1] != length:
        raise RuntimeError(f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, "
                           f"padding={padding}, stride={stride}, expected size of input's dimension 2 "
                           f"to match the calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size(2)={length}.")
    cols = x.reshape(n, ck // (kernel[0] * kernel[1]), kernel[0], kernel[1], blocks[0], blocks[1])
    out = fold2d(cols, padded, stride, dilation)
    if padding[0] or padding[1]:
        out = out[:, :, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]
    return out.squeeze(0) if input.ndim == 2 else out


def _pool_args(kernel_size: Any, stride: Any, padding: Any, op: str) -> tuple:
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == [] or stride == () else _pair(stride, "stride")
    padding = _pair(padding, "padding")
    if 0 in stride:
        raise RuntimeError("stride should not be zero")
    if min(stride) < 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {stride[0]} dW: {stride[1]}")
    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel[0]} kW: {kernel[1]}")
    if min(padding) < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {padding[0]}")
    if padding[0] * 2 > kernel[0] or padding[1] * 2 > kernel[1]:
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got "
                           f"pad={list(padding)} and kernel_size={list(kernel)}")
    return kernel, stride, padding


def _pool_extra(size: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
                ceil_mode: bool) -> tuple:
    """Padding past the right/bottom edge that ``ceil_mode`` needs for its last windows
    (a last window must start inside the input or its left padding)."""
    if not ceil_mode:
        return (0, 0)
    extra = []
    for n, k, s, p, d in zip(size, kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        out = -(-span // s) + 1
        if (out - 1) * s >= n + p:
            out -= 1
        extra.append(max(0, (out - 1) * s + d * (k - 1) + 1 - (n + 2 * p)))
    return tuple(extra)


def _pool_windows(x: Tensor, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
                  ceil_mode: bool, value: float, op: str) -> Tensor:
    extra = _pool_extra(x._data.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    if extra[0] or extra[1]:
        x = pad(x, (0, extra[1], 0, extra[0]), value=value)
    return _windows(x, kernel, stride, padding, dilation, value, op)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The maximum of each window (the gradient goes to one maximal element per window);
    with ``return_indices`` also each maximum's flat position in its ``H * W`` plane."""
    kernel, stride, padding = _pool_args(kernel_size, stride, padding, "max_pool2d")
    dilation = _pair(dilation, "dilation")
    x, unbatched = _batched(input, "max_pool2d")
    cols = _pool_windows(x, kernel, stride, padding, dilation, ceil_mode, float("-inf"), "max_pool2d")
    n, c, kh, kw, oh, ow = cols._data.shape
    best = cols.reshape(n, c, kh * kw, oh, ow).max(2)
    out = best.values
    if not return_indices:
        return link_output(out.squeeze(0) if unbatched else out, MaxPool2DWithIndicesBackward0, (input,))
    # the flat input position of every window element, windowed exactly as the values were
    h, w = x._data.shape[2:]
    where_ = arange(h * w, dtype=dtypes.int64, device=input.device).reshape(1, 1, h, w)
    pos = _pool_windows(where_, kernel, stride, padding, dilation, ceil_mode, -1, "max_pool2d")
    pos = pos.reshape(1, 1, kh * kw, oh, ow).expand(n, c, kh * kw, oh, ow)
    idx = pos.gather(2, best.indices.unsqueeze(2)).squeeze(2)
    out = link_output(out, MaxPool2DWithIndicesBackward0, (input,))
    return (out.squeeze(0), idx.squeeze(0)) if unbatched else (out, idx)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each window. The divisor counts the zero padding when
    ``count_include_pad`` (never the part of a ``ceil_mode`` window past the padding)."""
    if input.ndim < 3:  # (PyTorch's first check: it looks for the channel dim, -3)
        raise IndexError("Dimension specified as -3 but tensor has no dimensions" if not input.ndim else
                         f"Dimension out of range (expected to be in range of [{-input.ndim}, {input.ndim - 1}], "
                         "but got -3)")
    kernel, stride, padding = _pool_args(kernel_size, stride, padding, "avg_pool2d")
    x, unbatched = _batched(input, "avg_pool2d")
    cols = _pool_windows(x, kernel, stride, padding, (1, 1), ceil_mode, 0.0, "avg_pool2d")
    total = cols.sum((2, 3))
    if divisor_override:
        out = total / divisor_override
    elif not ceil_mode and count_include_pad:
        out = total / (kernel[0] * kernel[1])
    else:
        # how many counted cells each window covers: window a constant mask of them
        h, w = x._data.shape[2:]
        (ph, pw), (eh, ew) = padding, _pool_extra((h, w), kernel, stride, padding, (1, 1), ceil_mode)
        if count_include_pad:
            mask = pad(ones(1, 1, h + 2 * ph, w + 2 * pw, dtype=x.dtype, device=x.device), (0, ew, 0, eh))
        else:
            mask = pad(ones(1, 1, h, w, dtype=x.dtype, device=x.device), (pw, pw + ew, ph, ph + eh))
        counted = _windows(mask, kernel, stride, (0, 0), (1, 1), 0.0, "avg_pool2d")
        out = total / counted.sum((2, 3))
    return link_output(out.squeeze(0) if unbatched else out, AvgPool2DBackward0, (input,))


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ()
METHODS: dict = {}
