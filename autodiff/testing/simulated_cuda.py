"""Simulated CUDA devices for tests (and users' tests): ``simulate_cuda(n)``.

The stand-in itself is an array library and lives in ``backends/simulated_cuda.py`` (see
its docstring for what it models of CuPy). Three ways to turn it on:

- ``AUTODIFF_SIMULATE_CUDA=N`` in the environment before ``import autodiff``;
- ``with simulate_cuda(N): ...`` (or ``install(N)`` / ``uninstall()``);
- the pytest fixture ``simulated_cuda`` (two devices), after
  ``from autodiff.testing.simulated_cuda import simulated_cuda`` in a conftest.

Inside, ``autodiff.cuda.is_available()`` is True and ``device="cuda:1"`` works.
"""

from __future__ import annotations

from collections.abc import Iterator

from backends.simulated_cuda import install, is_installed, simulate_cuda, standin_modules, uninstall

__all__ = ["install", "uninstall", "is_installed", "simulate_cuda", "standin_modules", "simulated_cuda"]

try:
    import pytest
except ImportError:  # pytest is only needed for the fixture
    pytest = None

if pytest is not None:

    @pytest.fixture
    def simulated_cuda() -> Iterator[None]:
        """Two simulated CUDA devices for the test (unless the stand-in is already on)."""
        if is_installed():
            yield
            return
        with simulate_cuda(2):
            yield
