"""Losses (autodiff/ops/loss.py; cross_entropy in autodiff/nn/functional.py): node names
and the errors bad targets get.

Gradients of every op are checked from its rows in autodiff/testing/op_specs.py.
"""

from __future__ import annotations

import pytest

import autodiff
import autodiff.nn.functional as AF


def test_cross_entropy_errors():
    x = autodiff.randn(3, 4)
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        AF.cross_entropy(x, autodiff.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match="batch_size"):
        AF.cross_entropy(x, autodiff.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="class-probability target"):
        AF.cross_entropy(x, autodiff.tensor([0.0, 1.0, 2.0]))
    assert AF.cross_entropy(x, autodiff.tensor([0, -100, 1])).item() == pytest.approx(
        AF.cross_entropy(x[[0, 2]], autodiff.tensor([0, 1])).item())


def test_grad_fn_names():
    x = autodiff.randn(2, 3, requires_grad=True)
    assert AF.cross_entropy(x, autodiff.tensor([0, 1])).grad_fn.name() == "NllLossBackward0"
    assert AF.mse_loss(x, x.detach()).grad_fn.name() == "MseLossBackward0"
