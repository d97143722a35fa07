"""Sorting and selection: ``sort``/``argsort``/``msort``, ``topk``, ``kthvalue``,
``median``/``nanmedian``, ``mode``, ``quantile``/``nanquantile``, the running
``cummax``/``cummin``, and the integer-valued ``unique``, ``searchsorted``/``bucketize``,
``bincount``, ``histc``.

Every sort is stable (equal elements keep their order, NaN sorts as the largest value),
so the indices are reproducible on every device. The gradient of a selected value goes
to the index returned with it, as in PyTorch; a full ``median()`` shares it evenly
between the elements equal to the median (PyTorch's rule for ties). Where PyTorch's own
index among ties is unspecified (``topk``, ``kthvalue``), ours is the stable one.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff import dtypes
from autodiff.autograd.forward_rules import derived_jvp
from autodiff.autograd.node import Node
from autodiff.autograd.record import record
from autodiff.ops._prep import as_tensor, float_result, wrap_dim
from autodiff.ops.indexing import _scatter_add_into
from autodiff.ops.reduction import _return_type
from autodiff.ops.shape import stack
from autodiff.tensor import Tensor, _make

return_sort = _return_type("sort")
return_topk = _return_type("topk")
return_kthvalue = _return_type("kthvalue")
return_median = _return_type("median")
return_nanmedian = _return_type("nanmedian")
return_mode = _return_type("mode")
return_cummax = _return_type("cummax")
return_cummin = _return_type("cummin")


# ---- the node: a gradient that goes back to the selected indices --------------------------
class SortBackward0(Node):
    """Values picked along ``dim`` at ``indices``: the gradient is scattered back there."""

    __slots__ = ("in_shape", "dim", "keepdim", "indices")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        if not self.in_shape:  # a 0-d input is its own (only) element
            return g.reshape(())
        idx, d = self.indices, self.dim
        if not self.keepdim:
            idx, g = idx.unsqueeze(d), g.unsqueeze(d)
        return _scatter_add_into(g, self.in_shape, d, idx)


class SortBackward1(SortBackward0):
    __slots__ = ()


class TopkBackward0(SortBackward0):
    __slots__ = ()


class KthvalueBackward0(SortBackward0):
    __slots__ = ()


class MedianBackward1(SortBackward0):
    __slots__ = ()


class NanmedianBackward1(SortBackward0):
    __slots__ = ()


class ModeBackward0(SortBackward0):
    __slots__ = ()


class CummaxBackward0(SortBackward0):
    __slots__ = ()


class CumminBackward0(SortBackward0):
    __slots__ = ()


def _selected(input: Tensor, data: Any, idx: Any, cls: type, d: int, keepdim: bool) -> tuple:
    """The values tensor (recorded with ``cls``) and the int64 indices tensor."""
    be = input._be
    indices = _make(be.astype(idx, "int64"), be)
    values = record(_make(data, be), cls, (input,), in_shape=input._data.shape, dim=d,
                    keepdim=keepdim, indices=indices)
    return values, indices


def _as_1d(input: Tensor) -> Any:
    """The input's array, a 0-d one seen as 1-D (the ops below treat it as one element)."""
    be = input._be
    return be.reshape(input._data, (1,)) if not input._data.shape else input._data


def _reduced_shape(shape: tuple, d: int, keepdim: bool) -> tuple:
    """``shape`` with dim ``d`` of size 1 (``keepdim``) or removed; a 0-d shape stays 0-d."""
    if not shape:
        return ()
    return shape[:d] + (1,) + shape[d + 1:] if keepdim else shape[:d] + shape[d + 1:]


def _dim(input: Tensor, dim: int) -> int:
    return wrap_dim(dim, input.ndim) if input.ndim else 0


# ---- sort / argsort / msort / topk ------------------------------------------------------
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool | None = None) -> Any:
    """``(values, indices)`` sorted along ``dim``; equal elements keep their order."""
    d = _dim(input, dim)
    be = input._be
    a = _as_1d(input)
    order = be.argsort(a, d, descending)
    data = be.gather(a, d, order)
    if not input._data.shape:
        data, order = be.reshape(data, ()), be.reshape(order, ())
    values, indices = _selected(input, data, order, SortBackward0 if stable is None else SortBackward1,
                                d, True)
    return return_sort(values, indices)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (stable)."""
    be = input._be
    order = be.argsort(_as_1d(input), _dim(input, dim), descending)
    return _make(be.reshape(be.astype(order, "int64"), input._data.shape), be)


def msort(input: Tensor) -> Tensor:
    """``input`` sorted along its first dimension."""
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """The ``k`` largest (or smallest) elements along ``dim``, and their indices."""
    d = _dim(input, dim)
    n = input._data.shape[d] if input._data.shape else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range: k = {k} is not in [0, {n}]")
    be = input._be
    a = _as_1d(input)
    order = be.argsort(a, d, largest)
    order = be.getitem(order, (slice(None),) * d + (slice(0, k),))
    data = be.gather(a, d, order)
    if not input._data.shape:
        data, order = be.reshape(data, ()), be.reshape(order, ())
    values, indices = _selected(input, data, order, TopkBackward0, d, True)
    return return_topk(values, indices)


# ---- kthvalue / median / nanmedian / mode --------------------------------------------------
def _pick_sorted(input: Tensor, d: int, position: Any, keepdim: bool) -> tuple:
    """``(values, indices)`` arrays at ``position`` (an int, or an int array with ``d`` of
    size 1) of the stable ascending order along ``d``."""
    be = input._be
    a = _as_1d(input)
    order = be.argsort(a, d)
    if isinstance(position, int):
        shape = list(a.shape)
        shape[d] = 1
        position = be.full(tuple(shape), position, "int64")
    idx = be.gather(order, d, position)
    data = be.gather(a, d, idx)
    out_shape = _reduced_shape(input._data.shape, d, keepdim)
    return be.reshape(data, out_shape), be.reshape(idx, out_shape)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """The ``k``-th smallest element along ``dim`` (``k`` counts from 1), and its index."""
    d = _dim(input, dim)
    n = input._data.shape[d] if input._data.shape else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    data, idx = _pick_sorted(input, d, k - 1, keepdim)
    return return_kthvalue(*_selected(input, data, idx, KthvalueBackward0, d, keepdim))


class MedianBackward0(Node):
    """A full ``median()``: the gradient is shared evenly between the elements equal to
    the result (the NaNs, when the result is NaN)."""

    __slots__ = ()
    jvp = derived_jvp
    saved_outputs = (1,)

    def backward(self, g: Tensor) -> Tensor:
        x, out = self.unpack()
        be = x._be
        if be.any(be.isnan(out._data)):
            mask = be.isnan(x._data)
        else:
            mask = be.eq(x._data, out._data)
        mask = be.astype(mask, x.dtype.name)
        share = _make(be.div(mask, be.sum(mask)), be)
        return g * share


class NanmedianBackward0(MedianBackward0):
    __slots__ = ()


def _median_position(input: Tensor, d: int, ignore_nan: bool) -> Any:
    """Per row along ``d`` (kept, size 1): where the median sits in the stable order.
    NaN sorts last: ``median`` gives NaN for a row with one (its first NaN), ``nanmedian``
    the lower median of the other values."""
    be = input._be
    a = _as_1d(input)
    n = a.shape[d]
    if a.dtype.kind != "f":
        nans = be.zeros(tuple(1 if i == d else s for i, s in enumerate(a.shape)), "int64")
    else:
        nans = be.astype(be.sum(be.isnan(a), (d,), True), "int64")
    if ignore_nan:
        valid = be.sub(n, nans)
        half = be.astype(be.floor(be.div(be.sub(valid, 1), 2)), "int64")
        return be.where(be.gt(valid, 0), half, 0)
    return be.where(be.gt(nans, 0), be.sub(n, nans), (n - 1) // 2)


def _median(input: Tensor, dim: Any, keepdim: bool, ignore_nan: bool) -> Any:
    if dim is None:
        if input.numel() == 0:
            return _make(input._be.full((), math.nan, input.dtype.name), input._be)
        flat = input.reshape(-1)
        pos = _median_position(flat.detach(), 0, ignore_nan)
        data, _ = _pick_sorted(flat.detach(), 0, pos, False)
        out = _make(input._be.reshape(data, ()), input._be)
        cls = NanmedianBackward0 if ignore_nan else MedianBackward0
        return record(out, cls, (input,), saved=(input,), save_output=True)
    d = _dim(input, dim)
    pos = _median_position(input, d, ignore_nan)
    data, idx = _pick_sorted(input, d, pos, keepdim)
    values, indices = _selected(input, data, idx, NanmedianBackward1 if ignore_nan else MedianBackward1,
                                d, keepdim)
    return (return_nanmedian if ignore_nan else return_median)(values, indices)


def median(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The lower median of all elements, or ``(values, indices)`` along ``dim``; NaN if
    there is one."""
    return _median(input, dim, keepdim, False)


def nanmedian(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """``median`` ignoring NaNs."""
    return _median(input, dim, keepdim, True)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """The most frequent value along ``dim`` (the smallest if several are) and the index
    of its last occurrence."""
    d = _dim(input, dim)
    be = input._be
    data, idx = be.mode(_as_1d(input), d)
    out_shape = _reduced_shape(input._data.shape, d, keepdim)
    return return_mode(*_selected(input, be.reshape(data, out_shape), be.reshape(idx, out_shape),
                                  ModeBackward0, d, keepdim))


# ---- quantile (interpolated between two sorted elements: differentiable through sort) ------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input: Tensor, q: Any, dim: Any, keepdim: bool, interpolation: str, ignore_nan: bool,
              op: str) -> Tensor:
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}() interpolation must be one of {', '.join(_INTERPOLATIONS)}. "
                         f"Got {interpolation}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    scalar_q = not isinstance(q, Tensor) or q.ndim == 0
    qs = [float(q)] if not isinstance(q, Tensor) else [float(v) for v in q.reshape(-1).tolist()]
    if any(not 0 <= v <= 1 for v in qs):
        raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim(input, dim)
    if not x._data.shape:
        x = x.reshape(1)
    srt = sort(x, d).values
    n = srt._data.shape[d]
    be = x._be
    nans = be.astype(be.sum(be.isnan(x._data), (d,), True), "int64")
    count = be.sub(n, nans) if ignore_nan else be.sub(n, be.mul(nans, 0))
    # quantile of a row with a NaN, nanquantile of a row of NaNs only: a NaN (the first).
    special = be.eq(count, 0) if ignore_nan else be.gt(nans, 0)
    fallback = 0 if ignore_nan else be.sub(n, nans)
    top = be.clip(be.sub(count, 1), 0, None)
    outs = []
    for v in qs:
        pos = be.mul(be.astype(be.sub(count, 1), x.dtype.name), v)
        if interpolation == "lower":
            pos = be.floor(pos)
        elif interpolation == "higher":
            pos = be.ceil(pos)
        elif interpolation == "nearest":
            pos = be.round(pos)
        lo = be.where(special, fallback, be.clip(be.astype(be.floor(pos), "int64"), 0, top))
        hi = be.where(special, fallback, be.clip(be.astype(be.ceil(pos), "int64"), 0, top))
        weight = _make(be.sub(pos, be.floor(pos)), be)
        if interpolation == "midpoint":
            weight = _make(be.mul(be.astype(be.ne(lo, hi), x.dtype.name), 0.5), be)
        a = srt.gather(d, _make(lo, be))
        b = srt.gather(d, _make(hi, be))
        out = a + (b - a) * weight
        if not keepdim:
            out = out.squeeze(d)
        if keepdim and dim is None:
            out = out.reshape((1,) * input.ndim)
        outs.append(out)
    if scalar_q:
        return outs[0]
    return stack(outs)


def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles (``q`` a number or a 1-D tensor in [0, 1]) of all elements
    or along ``dim``, interpolating between the two nearest sorted elements."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """``quantile`` ignoring NaNs."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# ---- cummax / cummin ---------------------------------------------------------------------
def _cumextreme(input: Tensor, dim: int, take_max: bool) -> Any:
    d = _dim(input, dim)
    be = input._be
    data, idx = be.cumextreme(_as_1d(input), d, take_max)
    data, idx = be.reshape(data, input._data.shape), be.reshape(idx, input._data.shape)
    values, indices = _selected(input, data, idx, CummaxBackward0 if take_max else CumminBackward0, d, True)
    return (return_cummax if take_max else return_cummin)(values, indices)


def cummax(input: Tensor, dim: int) -> Any:
    """Running maximum along ``dim`` and where it was (last) reached."""
    return _cumextreme(input, dim, True)


def cummin(input: Tensor, dim: int) -> Any:
    """Running minimum along ``dim`` and where it was (last) reached."""
    return _cumextreme(input, dim, False)


# ---- integer-valued: unique, searchsorted, bucketize, bincount, histc ----------------------
def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct values (sorted), and with ``return_inverse``/``return_counts`` where each
    element went and how often each value occurs (PyTorch's ``unique`` has no gradient)."""
    be = input._be
    axis = None if dim is None else _dim(input, dim)
    values, inverse, counts = be.unique(input._data, axis)
    out = _make(values, be)
    if not (return_inverse or return_counts):
        return out
    result = [out]
    if return_inverse:
        shape = input._data.shape if axis is None else (input._data.shape[axis],)
        result.append(_make(be.reshape(be.astype(inverse, "int64"), shape), be))
    if return_counts:
        result.append(_make(be.astype(counts, "int64"), be))
    return tuple(result)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """Collapse runs of equal consecutive elements (of the flattened input, or along ``dim``)."""
    be = input._be
    x = input.reshape(-1) if dim is None else input.movedim(_dim(input, dim), 0)
    n = x._data.shape[0]
    if n == 0:
        starts = be.zeros((0,), "bool")
    else:
        diff = be.ne(be.getitem(x._data, (slice(1, None),)), be.getitem(x._data, (slice(0, -1),)))
        if diff.ndim > 1:
            diff = be.sum(diff, tuple(range(1, diff.ndim)))
            diff = be.gt(diff, 0)
        starts = be.concatenate([be.ones((1,), "bool"), diff], 0)
    run = be.sub(be.cumsum(be.astype(starts, "int64"), 0), 1)
    (first,) = be.nonzero(starts)
    values = _make(be.take(x._data, first, 0), be)
    if dim is not None:
        values = values.movedim(0, _dim(input, dim))
    if not (return_inverse or return_counts):
        return values
    result = [values]
    if return_inverse:
        result.append(_make(be.reshape(run, input._data.shape if dim is None else (n,)), be))
    if return_counts:
        ends = be.concatenate([first, be.full((1,), n, "int64")], 0)
        result.append(_make(be.sub(be.getitem(ends, (slice(1, None),)), first), be))
    return tuple(result)


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None) -> Tensor:
    """Where each value of ``input`` would be inserted into the sorted last dim of
    ``sorted_sequence`` to keep it sorted (``right``: after equal elements)."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"side can only be 'left' or 'right' but got {side}")
        right = side == "right"
    values = as_tensor(input, sorted_sequence)
    be = sorted_sequence._be
    seq = sorted_sequence._data
    if sorter is not None:
        seq = be.gather(seq, seq.ndim - 1, sorter._data)
    if seq.ndim > 1 and seq.shape[:-1] != values._data.shape[:-1]:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq.shape)} and input value tensor {list(values.shape)}")
    idx = be.searchsorted(seq, values._data, right)
    return _make(be.astype(idx, "int32" if out_int32 else "int64"), be)


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each element of ``input`` among the 1-D sorted ``boundaries``."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    if not isinstance(input, Tensor):
        return searchsorted(boundaries, as_tensor(input, boundaries), out_int32=out_int32, right=right)
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each non-negative integer occurs in the 1-D ``input`` (summed ``weights``)."""
    if input.ndim != 1 or input.dtype.kind not in "iu":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    be = input._be
    if input.numel() and be.any(be.lt(input._data, 0)):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    data = be.bincount(input._data, None if weights is None else weights._data, minlength)
    if weights is None:
        return _make(be.astype(data, "int64"), be)
    out_dtype = weights.dtype.name if weights.dtype.kind == "f" and weights.dtype is not dtypes.float16 \
        else "float64"
    return _make(be.astype(data, out_dtype), be)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Histogram of ``bins`` equal-width bins over ``[min, max]`` (the data's range when both
    are 0); elements outside are ignored."""
    x = float_result(input)
    be = x._be
    lo, hi = float(min), float(max)
    if lo == hi and x.numel():
        lo, hi = float(be.item(be.amin(x._data))), float(be.item(be.amax(x._data)))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    return _make(be.astype(be.histogram(x._data, bins, lo, hi), x.dtype.name), be)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods in METHODS (autodiff/__init__.py and autodiff/tensor_methods.py read both).
FUNCTIONS = (
    "sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "quantile",
    "nanquantile", "cummax", "cummin", "unique", "unique_consecutive", "searchsorted", "bucketize",
    "bincount", "histc",
)
METHODS = {name: globals()[name] for name in FUNCTIONS if name not in ("searchsorted", "bucketize")}
