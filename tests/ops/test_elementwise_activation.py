"""The ``torch.*`` activations (autodiff/ops/activation.py): values, gradients and
node names against PyTorch, rrelu's random slopes, and prelu's weight shapes and errors."""

from __future__ import annotations

import pytest

import autodiff

torch = pytest.importorskip("torch")

VALUES = [[-2.0, -0.5, 0.0, 0.25, 3.0], [1.0, -1.0, 0.5, -0.1, 0.1]]


@pytest.mark.parametrize("call", [
    lambda m, x: m.threshold(x, 0.1, 20.0),
    lambda m, x: m.selu(x),
    lambda m, x: m.celu(x, 2.0),
    lambda m, x: m.hardshrink(x, 0.3),
    lambda m, x: x.hardshrink(),
    lambda m, x: m.rrelu(x, 0.1, 0.3),
    lambda m, x: m.prelu(x.t(), m.tensor([0.25, 0.5], dtype=x.dtype, device=x.device).requires_grad_()),
    lambda m, x: m.prelu(x, m.tensor([0.25], dtype=x.dtype, device=x.device)),
])
def test_matches_torch(call, device):
    x = autodiff.tensor(VALUES, dtype=autodiff.float64, device=device, requires_grad=True)
    t = torch.tensor(VALUES, dtype=torch.float64, requires_grad=True)
    y, z = call(autodiff, x), call(torch, t)
    assert y.grad_fn.name() == z.grad_fn.name()
    assert y.reshape(-1).tolist() == pytest.approx(z.reshape(-1).tolist(), rel=1e-12)
    (gx,) = autodiff.autograd.grad((y * y).sum(), x)
    (gt,) = torch.autograd.grad((z * z).sum(), t)
    assert gx.reshape(-1).tolist() == pytest.approx(gt.reshape(-1).tolist(), rel=1e-12)


def test_prelu_weight_gradient_per_channel():
    x = autodiff.tensor([VALUES, VALUES], dtype=autodiff.float64)  # (2, 2, 5): 2 channels
    w = autodiff.tensor([0.25, 0.5], dtype=autodiff.float64, requires_grad=True)
    t = torch.tensor([VALUES, VALUES], dtype=torch.float64)
    u = torch.tensor([0.25, 0.5], dtype=torch.float64, requires_grad=True)
    autodiff.prelu(x, w).sum().backward()
    torch.prelu(t, u).sum().backward()
    assert w.grad.tolist() == pytest.approx(u.grad.tolist())
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        autodiff.prelu(x, autodiff.tensor([0.1, 0.2, 0.3], dtype=autodiff.float64))


def test_rrelu_training_draws_slopes_in_range(device):
    autodiff.manual_seed(0)
    x = autodiff.full((1000,), -1.0, device=device, requires_grad=True)
    y = autodiff.rrelu(x, 0.1, 0.3, training=True)
    slopes = (-y).tolist()
    assert all(0.1 <= s <= 0.3 for s in slopes) and len(set(slopes)) > 100
    y.sum().backward()
    assert x.grad.tolist() == slopes  # the gradient is the drawn slope
    assert autodiff.rrelu(-x, 0.1, 0.3, training=True).tolist() == [1.0] * 1000
