"""``DistributedSampler``, as ``torch.utils.data.distributed``'s: each of ``num_replicas``
processes visits its own share of a dataset's indices.

Its index lists are PyTorch's, shuffled or not: a shuffled epoch is
``randperm(len(dataset))`` from a CPU generator seeded with ``seed + epoch``, and autodiff's
CPU ``randperm`` draws PyTorch's permutation from PyTorch's mt19937 stream (see
``autodiff.random``). The list is padded by repeating its start (or cut, with
``drop_last``) to a multiple of ``num_replicas``; replica ``rank`` takes every
``num_replicas``-th index from position ``rank``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from autodiff.ops.creation import randperm
from autodiff.random import Generator
from autodiff.utils.data.dataset import Dataset
from autodiff.utils.data.sampler import Sampler


def _process_group() -> Any:
    """``autodiff.distributed``, imported on first need: a DistributedSampler told its
    rank and world size never needs it, and it needs MPI."""
    try:
        import autodiff.distributed as dist  # lazy: only when num_replicas/rank are not given
    except ImportError:
        dist = None
    if dist is None or not getattr(dist, "is_available", lambda: True)():
        raise RuntimeError("Requires distributed package to be available")
    return dist


class DistributedSampler(Sampler):
    """The indices of ``dataset`` that replica ``rank`` of ``num_replicas`` visits (by
    default this process's rank and the world size of ``autodiff.distributed``'s default
    group). Call ``set_epoch(epoch)`` before each epoch so shuffling differs per epoch."""

    def __init__(self, dataset: Dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = _process_group().get_world_size()
        if rank is None:
            rank = _process_group().get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            # Cut to the largest multiple of num_replicas, so every replica gets as many.
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            g = Generator().manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            missing = self.total_size - len(indices)
            if missing <= len(indices):
                indices += indices[:missing]
            else:
                indices += (indices * math.ceil(missing / len(indices)))[:missing]
        assert len(indices) == self.total_size
        indices = indices[self.rank:self.total_size:self.num_replicas]
        assert len(indices) == self.num_samples
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose shuffle the next pass gives (each replica must be told the same)."""
        self.epoch = epoch


__all__ = ["DistributedSampler"]
