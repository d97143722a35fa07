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


def test_bad_stride_padding_dilation_raise():
    x, w = autodiff.ones(1, 1, 4, 4), autodiff.ones(1, 1, 2, 2)
    cases = (
        (lambda: AF.conv2d(x, w, stride=-1), "non-positive stride"),
        (lambda: AF.conv2d(x, w, stride=(1, 0)), "non-positive stride"),
        (lambda: AF.conv2d(x, w, padding=-1), "conv2d: negative padding"),
        (lambda: AF.conv2d(x, w, dilation=0), "dilation should be greater than zero"),
        (lambda: AF.max_pool2d(x, 2, stride=-1), "stride should be greater than zero"),
        (lambda: AF.max_pool2d(x, 2, padding=-1), "pad must be non-negative"),
        (lambda: AF.avg_pool2d(x, 2, stride=0), "stride should not be zero"),  # (PyTorch's words, as the others)
    )
    for call, msg in cases:
        with pytest.raises(RuntimeError, match=msg):
            call()


def test_one_hot_refuses_classes_out_of_range():
    with pytest.raises(RuntimeError, match="one_hot: Class values must be smaller than num_classes"):
        AF.one_hot(autodiff.tensor([0, 3]), 3)
    for n in (3, -1):
        with pytest.raises(RuntimeError, match="one_hot: Class values must be non-negative"):
            AF.one_hot(autodiff.tensor([0, -1]), n)
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty tensor"):
        AF.one_hot(autodiff.zeros(0, dtype=autodiff.int64))
    assert AF.one_hot(autodiff.tensor([0, 2])).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert AF.one_hot(autodiff.zeros(0, dtype=autodiff.int64), 3).shape == (0, 3)
