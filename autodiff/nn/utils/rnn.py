"""Variable-length sequences for recurrent layers, as ``torch.nn.utils.rnn``.

A ``PackedSequence`` stores a batch of sequences sorted by length, time step by time step:
``data`` holds the ``batch_sizes[t]`` still-running sequences of step ``t``, one after the
other. Packing and unpacking are ``index_select``/``cat``/``pad``, so gradients flow through.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from autodiff import dtypes
from autodiff.ops.creation import tensor
from autodiff.ops.shape import cat, pad, stack
from autodiff.tensor import Tensor


class PackedSequence(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        data = self.data.to(*args, **kwargs)
        s, u = self.sorted_indices, self.unsorted_indices
        return PackedSequence(data, self.batch_sizes, None if s is None else s.to(device=data.device),
                              None if u is None else u.to(device=data.device))

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def _lengths(lengths: Any) -> list[int]:
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise RuntimeError(f"'lengths' argument should be a 1D tensor, but got {lengths.ndim}D")
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded ``(T, B, *)`` (or ``(B, T, *)``) batch whose sequence ``b`` has
    ``lengths[b]`` valid steps; unless ``enforce_sorted``, lengths may come in any order."""
    lens = _lengths(lengths)
    x = input.transpose(0, 1) if batch_first else input
    if len(lens) != x.shape[1]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lens)} "
                           f"(batch_size={x.shape[1]})")
    if any(n <= 0 for n in lens):
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if max(lens) > x.shape[0]:
        raise RuntimeError(f"a length ({max(lens)}) is longer than the padded sequence ({x.shape[0]})")
    dev = input.device
    if enforce_sorted:
        if any(a < b for a, b in zip(lens, lens[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                               "to sidestep this requirement if you do not need ONNX exportability.")
        order = list(range(len(lens)))
        sorted_indices = unsorted_indices = None
    else:
        order = sorted(range(len(lens)), key=lambda b: -lens[b])  # stable: ties keep their order
        inverse = [0] * len(order)
        for i, b in enumerate(order):
            inverse[b] = i
        sorted_indices = tensor(order, dtype=dtypes.int64, device=dev)
        unsorted_indices = tensor(inverse, dtype=dtypes.int64, device=dev)
    sorted_lens = [lens[b] for b in order]
    sizes = [sum(1 for n in sorted_lens if n > t) for t in range(sorted_lens[0])]
    return PackedSequence(_steps(x, order, sizes), tensor(sizes, dtype=dtypes.int64), sorted_indices,
                          unsorted_indices)


def _steps(x: Tensor, order: list[int], sizes: list[int]) -> Tensor:
    """The packed data of a padded ``(T, B, *)`` batch: at step ``t`` the first ``sizes[t]``
    sequences of ``order``."""
    dev = x.device
    return cat([x[t].index_select(0, tensor(order[:n], dtype=dtypes.int64, device=dev))
                for t, n in enumerate(sizes)], 0)


def _pack_like(padded: Tensor, like: PackedSequence) -> PackedSequence:
    """Pack a padded ``(T, B, *)`` batch exactly as ``like`` was packed (same order and sizes)."""
    sizes = [int(n) for n in like.batch_sizes.tolist()]
    order = like.sorted_indices.tolist() if like.sorted_indices is not None else list(range(sizes[0]))
    return PackedSequence(_steps(padded, order, sizes), like.batch_sizes, like.sorted_indices,
                          like.unsorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The inverse of ``pack_padded_sequence``: ``(padded, lengths)`` in the original order."""
    data, batch_sizes = sequence.data, [int(v) for v in sequence.batch_sizes.tolist()]
    steps_n = len(batch_sizes)
    if total_length is not None:
        if total_length < steps_n:
            raise ValueError(f"Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps_n}")
    b = batch_sizes[0]
    rows, start = [], 0
    for n in batch_sizes:
        step = data[start:start + n]
        rows.append(pad(step, (0, 0) * (data.ndim - 1) + (0, b - n), value=padding_value) if n < b else step)
        start += n
    out = stack(rows, 0)
    if total_length is not None and total_length > steps_n:
        out = pad(out, (0, 0) * (out.ndim - 1) + (0, total_length - steps_n), value=padding_value)
    lens = [sum(1 for n in batch_sizes if n > i) for i in range(b)]
    if sequence.unsorted_indices is not None:
        out = out.index_select(1, sequence.unsorted_indices)
        order = sequence.unsorted_indices.tolist()
        lens = [lens[i] for i in order]
    if batch_first:
        out = out.transpose(0, 1)
    return out, tensor(lens, dtype=dtypes.int64)


def pad_sequence(sequences: Any, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shape ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)`` with
    ``batch_first``), padding each with ``padding_value`` on ``padding_side``."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    seqs = list(sequences)
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        extra = longest - s.shape[0]
        widths = (0, 0) * (s.ndim - 1) + ((0, extra) if padding_side == "right" else (extra, 0))
        padded.append(pad(s, widths, value=padding_value) if extra else s)
    return stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences: Any, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of ``(L_i, *)`` sequences (longest first, unless not ``enforce_sorted``)."""
    seqs = list(sequences)
    return pack_padded_sequence(pad_sequence(seqs), [s.shape[0] for s in seqs], enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """The sequences of a padded batch, each cut to its length."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[b, :n] for b, n in enumerate(_lengths(lengths))]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The sequences of a ``PackedSequence``, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
