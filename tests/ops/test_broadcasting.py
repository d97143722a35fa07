"""Broadcasting (autodiff/ops/broadcasting.py): gradients summed back to each input's shape,
and ``expand``'s recorded views.

Gradients of every op are checked from its rows in autodiff/testing/op_specs.py.
"""

from __future__ import annotations

import autodiff


def test_broadcasting_gradients_are_reduced(device):
    a = autodiff.ones(3, 1, requires_grad=True, device=device)
    b = autodiff.ones(4, requires_grad=True, device=device)
    c = autodiff.ones(2, 1, 1, requires_grad=True, device=device)
    out = (a * b + c - b / 2).sum()
    out.backward()
    assert a.grad.shape == (3, 1) and a.grad.tolist() == [[8.0]] * 3
    assert b.grad.shape == (4,) and b.grad.tolist() == [3.0] * 4
    assert c.grad.shape == (2, 1, 1) and c.grad.tolist() == [[[12.0]], [[12.0]]]


def test_expand_with_minus_one_is_a_recorded_view() -> None:
    # Only a literally unchanged size returns the tensor itself; -1 still makes the view.
    x = autodiff.ones(2, 3, requires_grad=True) * 1.0
    assert x.expand(2, 3) is x
    v = x.expand(-1, 3)
    assert v is not x and v.grad_fn.name() == "ExpandBackward0"
