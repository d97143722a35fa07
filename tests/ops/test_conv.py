"""Convolution and pooling (autodiff/ops/conv.py): the errors bad shapes get.

Gradients of every op are checked from its rows in autodiff/testing/op_specs.py.
"""

from __future__ import annotations

import pytest

import autodiff
import autodiff.nn.functional as AF


def test_conv2d_errors():
    with pytest.raises(RuntimeError, match="expected input\\[2, 3, 8, 8\\] to have 1 channels, but got 3"):
        AF.conv2d(autodiff.randn(2, 3, 8, 8), autodiff.randn(4, 1, 3, 3))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        AF.conv2d(autodiff.randn(1, 1, 2, 2), autodiff.randn(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match="Expected 3D \\(unbatched\\) or 4D"):
        AF.conv2d(autodiff.randn(8, 8), autodiff.randn(1, 1, 3, 3))
