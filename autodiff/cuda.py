"""``autodiff.cuda``: whether a CUDA GPU is usable (through CuPy), without raising."""

from __future__ import annotations


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return device_count() > 0


def device_count() -> int:
    from backends.cupy_backend import device_count as count

    return count()


def manual_seed(seed: int) -> None:
    from autodiff.ops.creation import manual_seed as seed_all

    seed_all(seed)


manual_seed_all = manual_seed
