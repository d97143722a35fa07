"""``autodiff.profiler``: PyTorch's ``torch.profiler`` spelling of the profiler in
``autodiff.autograd.profiler`` (``profile(activities=[ProfilerActivity.CPU])``)."""

from __future__ import annotations

from enum import Enum

from autodiff.autograd.profiler import EventList, profile, record_function

__all__ = ["profile", "record_function", "ProfilerActivity", "EventList"]


class ProfilerActivity(Enum):
    """What to profile; autodiff records host-side times of both (see autograd/profiler.py)."""

    CPU = "cpu"
    CUDA = "cuda"
