"""``autodiff.cuda``: whether a CUDA GPU is usable (through CuPy), without raising."""

from __future__ import annotations

from autodiff.ops.creation import manual_seed as _seed_all


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return device_count() > 0


def device_count() -> int:
    # A lazy load: CuPy (imported by cupy_backend) is loaded only when a GPU is asked about.
    from backends.cupy_backend import device_count as count

    return count()


def manual_seed(seed: int) -> None:
    _seed_all(seed)


manual_seed_all = manual_seed
