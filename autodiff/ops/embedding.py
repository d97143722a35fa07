"""Embedding lookups: ``embedding`` (rows of a weight matrix picked by index) and
``embedding_bag`` (the sum, mean or max of bags of such rows).

Both are composed of ``index_select`` (whose backward scatters with accumulation, so a
row picked twice gets both gradients). ``padding_idx`` rows take part in the forward
value but get no gradient: they are read through a detached copy.
"""

from __future__ import annotations

from autodiff import dtypes
from autodiff.autograd.grad_mode import no_grad
from autodiff.ops.comparison import where
from autodiff.ops.creation import tensor
from autodiff.tensor import Tensor


def _check(input: Tensor, weight: Tensor, op: str) -> None:
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}(): input and weight must be Tensors")
    if input.dtype.kind != "i":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar "
                           f"types: Long, Int; but got {input.dtype} instead (while checking arguments for {op})")
    if weight.ndim != 2:
        raise RuntimeError(f"{op}: 'weight' must be 2-D, but got shape {list(weight.shape)}")


def _padding_idx(padding_idx: int | None, n: int) -> int | None:
    if padding_idx is None:
        return None
    if not -n <= padding_idx < n:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx % n


def _renorm(weight: Tensor, flat: Tensor, max_norm: float, norm_type: float) -> None:
    """In place, outside autograd: rows in ``flat`` longer than ``max_norm`` scaled onto it."""
    with no_grad():
        rows = sorted(set(flat.tolist()))
        if not rows:
            return
        idx = tensor(rows, dtype=dtypes.int64, device=weight.device)
        picked = weight.index_select(0, idx)
        norms = picked.abs().pow(norm_type).sum(1, keepdim=True).pow(1.0 / norm_type)
        scale = where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[idx] = picked * scale


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """``weight[input]``: an ``(*, D)`` tensor of rows of the ``(num_embeddings, D)`` weight."""
    _check(input, weight, "embedding")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse gradients are not supported")
    pad = _padding_idx(padding_idx, weight.shape[0])
    flat = input.reshape(-1)
    if max_norm is not None:
        _renorm(weight, flat, max_norm, norm_type)
    rows = weight.index_select(0, flat)
    if pad is not None and weight.requires_grad:
        rows = where((flat != pad).unsqueeze(1), rows, rows.detach())
    return rows.reshape(*input.shape, weight.shape[1])


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """One ``(D,)`` row per bag: the sum, mean or max of the bag's embeddings. Bags are the
    rows of a 2-D ``input``, or the runs of a 1-D ``input`` that start at ``offsets``;
    ``padding_idx`` entries are left out of their bag (an empty bag gives zeros)."""
    _check(input, weight, "embedding_bag")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, but got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request "
                                  "on GitHub.")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding_bag: scale_grad_by_freq and sparse gradients are not supported")
    pad = _padding_idx(padding_idx, weight.shape[0])
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch "
                             "of fixed length sequences.")
        n_bags, length = input.shape
        starts = [b * length for b in range(n_bags)] + [n_bags * length]
    elif input.ndim == 1:
        if offsets is None or offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor but got None" if offsets is None
                             else f"offsets has to be a 1D Tensor, but got Tensor of dimension {offsets.ndim}")
        starts = offsets.tolist()
        if starts and starts[0] != 0:
            raise ValueError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                             f"from position 0. However, got {starts[0]}")
        if not include_last_offset:
            starts = starts + [input.shape[0]]
        if any(b < a for a, b in zip(starts, starts[1:])) or (starts and starts[-1] > input.shape[0]):
            raise RuntimeError("embedding_bag: offsets must be non-decreasing and at most the input length")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    flat = input.reshape(-1)
    values = flat.tolist()
    if max_norm is not None:
        _renorm(weight, flat, max_norm, norm_type)
    bags = [[j for j in range(a, b) if values[j] != pad] for a, b in zip(starts, starts[1:])]
    width = max((len(b) for b in bags), default=0) or 1
    # a (bags, width) table of positions in ``input`` and which of them are real
    where_ = [b + [0] * (width - len(b)) for b in bags]
    real = [[True] * len(b) + [False] * (width - len(b)) for b in bags]
    dev = weight.device
    pos = tensor(where_, dtype=dtypes.int64, device=dev).reshape(-1)
    mask = tensor(real, dtype=dtypes.bool, device=dev).unsqueeze(2)
    rows = weight.index_select(0, flat.index_select(0, pos)).reshape(len(bags), width, weight.shape[1])
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1).index_select(0, pos).reshape(len(bags), width, 1)
    if mode == "max":
        out = rows.masked_fill(mask.logical_not(), float("-inf")).amax(1)
        empty = tensor([[not b] for b in bags], dtype=dtypes.bool, device=dev)
        return out.masked_fill(empty, 0.0) if any(not b for b in bags) else out
    out = where(mask, rows, 0.0).sum(1)
    if mode == "mean":
        counts = [[max(len(b), 1)] for b in bags]
        out = out / tensor(counts, dtype=weight.dtype, device=dev)
    return out


# ---- the public API of this file (functions of autodiff.nn.functional only)
FUNCTIONS = ()
METHODS: dict = {}
