"""Comparison and logical ops (autodiff/ops/comparison.py): bool results, never in a graph."""

from __future__ import annotations

import autodiff


def test_comparisons_return_bool(device):
    x = autodiff.tensor([1.0, 2.0, 3.0], device=device)
    for m in (x > 1, x >= 2, x < 2, x <= 1, x == 2, x != 2):
        assert m.dtype is autodiff.bool and not m.requires_grad
    assert (x > 1).tolist() == [False, True, True]
    assert (~(x > 1)).tolist() == [True, False, False]
