"""Shared test setup: the strict device, the ``device`` fixture and hypothesis profiles."""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

import autodiff
from tests import strict_backend

strict_backend.register()

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=25,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# Hypothesis's pytest plugin nests each parametrized item's settings in the previous one's,
# and reading them recurses once per item: a test over the whole op table on several
# devices (over 1,000 items) passes Python's default limit of 1,000 frames.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))

HAS_CUDA = autodiff.cuda.is_available()
# The CUDA device the device-parametrized tests run on: a real GPU, or simulated ones
# (AUTODIFF_SIMULATE_CUDA=N); AUTODIFF_TEST_CUDA=cuda:1 tests the second device while the
# current device stays 0, which is what catches an op running on the wrong GPU.
CUDA = os.environ.get("AUTODIFF_TEST_CUDA", "cuda")
DEVICES = ["cpu", "strict"] + ([CUDA] if HAS_CUDA else [])

cuda_only = pytest.mark.skipif(not HAS_CUDA, reason="needs CuPy and an NVIDIA GPU")


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> str:
    """Every available device: cpu, the strict test device, and cuda when a GPU is there."""
    return request.param
