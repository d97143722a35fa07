"""backward(create_graph=True) leaves in ``.grad`` a gradient that is itself differentiable,
as PyTorch does, whether ``.grad`` was empty or already held a gradient: the second
derivative can be taken through ``x.grad``."""

from __future__ import annotations

import pytest

import autodiff

torch = pytest.importorskip("torch")


def _through_grad(m, accumulate_twice: bool):
    x = m.tensor([0.5, -1.0, 2.0], dtype=m.float64, requires_grad=True)
    for _ in range(2 if accumulate_twice else 1):
        (x ** 3).sum().backward(create_graph=True)
    first = x.grad
    requires = first.requires_grad
    (second,) = m.autograd.grad(first.sum(), x)
    return requires, first.tolist(), second.tolist()


@pytest.mark.parametrize("accumulate_twice", [False, True])
def test_create_graph_leaves_a_differentiable_grad_like_torch(accumulate_twice: bool) -> None:
    ours = _through_grad(autodiff, accumulate_twice)
    assert ours == _through_grad(torch, accumulate_twice)
    assert ours[0] is True
