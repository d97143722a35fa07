"""Activations (autodiff/ops/activation.py) and dropout: softmax's stability, node names,
and dropout's scaling.

Gradients of every op are checked from its rows in autodiff/testing/op_specs.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as AF


def test_softmax_is_stable():
    x = autodiff.tensor([[1000.0, 0.0, -1000.0]])
    assert autodiff.softmax(x, 1).tolist() == [[1.0, 0.0, 0.0]]
    assert autodiff.log_softmax(x, 1)[0, 0].item() == 0.0
    assert np.isfinite(autodiff.logsumexp(x, 1).item())


def test_grad_fn_names():
    x = autodiff.randn(2, 3, requires_grad=True)
    assert AF.relu(x).grad_fn.name() == "ReluBackward0"
    assert AF.softmax(x, 1).grad_fn.name() == "SoftmaxBackward0"
    assert AF.log_softmax(x, 1).grad_fn.name() == "LogSoftmaxBackward0"


def test_dropout_scales_and_zeroes():
    autodiff.manual_seed(0)
    x = autodiff.ones(1000)
    y = AF.dropout(x, 0.25)
    vals = set(y.tolist())
    assert sorted(vals) == [0.0, pytest.approx(1 / 0.75)] and 0.15 < y.eq(0).float().mean().item() < 0.35
    assert AF.dropout(x, 0.5, training=False) is x
