"""2-D convolution and pooling through im2col: ``unfold2d`` gathers every sliding window
into its own axis, ``fold2d`` adds windows back (its adjoint). Each is the other's
backward, so ``conv2d``, ``max_pool2d`` and ``avg_pool2d`` composed from them (with
``pad``, ``matmul``, ``max``, ``mean``) are differentiable to any order.
"""

from __future__ import annotations

from typing import Any

from autodiff.autograd.node import Node
from autodiff.autograd.record import GradientLink, LinkedOutput, link_output, record
from autodiff.ops._prep import device_mismatch
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

    def backward(self, g: Tensor) -> Tensor:
        return fold2d(g, self.size, self.stride, self.dilation)


class Col2ImBackward0(Node):
    __slots__ = ("kernel", "stride", "dilation")

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


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of ``(N, C, H, W)`` with ``(O, C // groups, kh, kw)`` filters."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("conv2d(): input and weight must be Tensors")
    if input._be is not weight._be:
        raise device_mismatch(input, weight, "conv2d")
    if bias is not None and bias._be is not input._be:
        raise device_mismatch(input, bias, "conv2d")
    if weight.ndim != 4:
        raise RuntimeError(f"conv2d: weight should be 4-D (out, in/groups, kh, kw), but got shape {list(weight.shape)}")
    x, unbatched = _batched(input, "conv2d")
    o, cg, kh, kw = weight._data.shape
    c = x._data.shape[1]
    if c != cg * groups or o % groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
            f"{list(x.shape)} to have {cg * groups} channels, but got {c} channels instead"
        )
    if bias is not None and bias._data.shape != (o,):
        raise RuntimeError(f"conv2d: bias should have shape [{o}], but got {list(bias.shape)}")
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero")
    if padding == "valid":
        padding = (0, 0)
    elif padding == "same":
        if stride != (1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions")
        total = (dilation[0] * (kh - 1), dilation[1] * (kw - 1))
        if total[0] % 2 or total[1] % 2:
            raise NotImplementedError("conv2d: padding='same' with an even kernel extent")
        padding = (total[0] // 2, total[1] // 2)
    padding = _pair(padding, "padding")
    cols = _windows(x, (kh, kw), stride, padding, dilation, 0.0, "conv2d")
    n, _, _, _, oh, ow = cols._data.shape
    cols = cols.reshape(n, groups, cg * kh * kw, oh * ow)
    w = weight.reshape(groups, o // groups, cg * kh * kw)
    out = w.matmul(cols).reshape(n, o, oh, ow)  # (G, O/G, K) @ (N, G, K, L)
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1)
    return link_output(out.squeeze(0) if unbatched else out, ConvolutionBackward0, (input, weight))


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


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """The maximum of each window (the gradient goes to one maximal element per window)."""
    if ceil_mode or return_indices:
        raise NotImplementedError("max_pool2d: ceil_mode and return_indices are not supported")
    kernel, stride, padding = _pool_args(kernel_size, stride, padding, "max_pool2d")
    x, unbatched = _batched(input, "max_pool2d")
    cols = _windows(x, kernel, stride, padding, _pair(dilation, "dilation"), float("-inf"), "max_pool2d")
    n, c, kh, kw, oh, ow = cols._data.shape
    out = cols.reshape(n, c, kh * kw, oh, ow).max(2).values
    return link_output(out.squeeze(0) if unbatched else out, MaxPool2DWithIndicesBackward0, (input,))


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each window (zero padding counted, as PyTorch's default)."""
    if ceil_mode or not count_include_pad:
        raise NotImplementedError("avg_pool2d: ceil_mode and count_include_pad=False are not supported")
    kernel, stride, padding = _pool_args(kernel_size, stride, padding, "avg_pool2d")
    x, unbatched = _batched(input, "avg_pool2d")
    cols = _windows(x, kernel, stride, padding, (1, 1), 0.0, "avg_pool2d")
    out = cols.sum((2, 3)) / (divisor_override or kernel[0] * kernel[1])
    return link_output(out.squeeze(0) if unbatched else out, AvgPool2DBackward0, (input,))


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ()
METHODS: dict = {}
