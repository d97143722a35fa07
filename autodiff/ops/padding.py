"""Padding by reflecting, replicating or wrapping the edges (``F.pad``'s non-constant modes,
and the convolution modules' ``padding_mode``): an ``index_select`` per padded dim, so the
gradient of a repeated element sums over its copies. Constant padding is ``shape.pad``.

Reflection and replication pads end in an identity node named as PyTorch's
(``ReflectionPad2DBackward0`` ...), which links their gradient -- a scatter of ``g`` alone --
to the input under ``create_graph``, as PyTorch records it (see ``LinkedOutput``).
PyTorch's circular pad is a composite of slices and ``cat``, with no node of its own.
"""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.autograd.record import GradientLink, LinkedOutput, link_output
from autodiff.ops.creation import tensor
from autodiff.tensor import Tensor


class ReflectionPad1DBackwardBackward0(GradientLink):
    __slots__ = ()


class ReflectionPad2DBackwardBackward0(GradientLink):
    __slots__ = ()


class ReflectionPad3DBackwardBackward0(GradientLink):
    __slots__ = ()


class ReplicationPad1DBackwardBackward0(GradientLink):
    __slots__ = ()


class ReplicationPad2DBackwardBackward0(GradientLink):
    __slots__ = ()


class ReplicationPad3DBackwardBackward0(GradientLink):
    __slots__ = ()


class ReflectionPad1DBackward0(LinkedOutput):
    __slots__ = ()
    backward_cls = ReflectionPad1DBackwardBackward0


class ReflectionPad2DBackward0(LinkedOutput):
    __slots__ = ()
    backward_cls = ReflectionPad2DBackwardBackward0


class ReflectionPad3DBackward0(LinkedOutput):
    __slots__ = ()
    backward_cls = ReflectionPad3DBackwardBackward0


class ReplicationPad1DBackward0(LinkedOutput):
    __slots__ = ()
    backward_cls = ReplicationPad1DBackwardBackward0


class ReplicationPad2DBackward0(LinkedOutput):
    __slots__ = ()
    backward_cls = ReplicationPad2DBackwardBackward0


class ReplicationPad3DBackward0(LinkedOutput):
    __slots__ = ()
    backward_cls = ReplicationPad3DBackwardBackward0


# (mode, number of padded dims) -> the node of the result
PAD_NODES = {
    ("reflect", 1): ReflectionPad1DBackward0, ("reflect", 2): ReflectionPad2DBackward0,
    ("reflect", 3): ReflectionPad3DBackward0, ("replicate", 1): ReplicationPad1DBackward0,
    ("replicate", 2): ReplicationPad2DBackward0, ("replicate", 3): ReplicationPad3DBackward0,
}

MODES = ("reflect", "replicate", "circular")


def _source_index(n: int, lo: int, hi: int, mode: str) -> list[int]:
    """The source index of each padded position along one dim of size ``n``."""
    out = []
    for j in range(-lo, n + hi):
        if mode == "reflect":
            out.append(-j if j < 0 else (2 * (n - 1) - j if j >= n else j))
        elif mode == "replicate":
            out.append(min(max(j, 0), n - 1))
        else:  # circular
            out.append(j % n)
    return out


def mode_pad(input: Tensor, pad: Any, mode: str) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims of ``input`` (``pad = (left, right, top, bottom,
    ...)``, non-negative) by ``mode``, one of ``MODES``."""
    k = len(pad) // 2
    out = input
    for i in range(k):
        d = input.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        n = input.shape[d]
        if min(lo, hi) < 0:
            raise NotImplementedError(f"pad: negative padding is not supported in mode '{mode}'")
        limit = n - 1 if mode == "reflect" else n
        if mode != "replicate" and max(lo, hi) > limit:
            raise RuntimeError(
                f"Padding size should be less than{' ' if mode == 'reflect' else ' or equal to '}the "
                f"corresponding input dimension, but got: padding ({lo}, {hi}) at dimension {d} of input "
                f"{list(input.shape)}"
            )
        if n == 0:
            raise RuntimeError(f"pad: cannot pad an empty dimension {d} in mode '{mode}'")
        if lo or hi:
            index = tensor(_source_index(n, lo, hi, mode), dtype=dtypes.int64, device=input.device)
            out = out.index_select(d, index)
    if out is input or mode == "circular":
        return out
    return link_output(out, PAD_NODES[mode, k], (input,))


FUNCTIONS: dict = {}
METHODS: dict = {}
