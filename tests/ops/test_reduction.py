"""Reductions (autodiff/ops/reduction.py): values and dims, node names, ties and zeros
against PyTorch, and ``max``'s (values, indices).

Gradients of every op are checked from its rows in autodiff/testing/op_specs.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff


def test_sum_mean_dims(device):
    x = autodiff.arange(6.0, device=device).view(2, 3).requires_grad_()
    assert x.sum(0).tolist() == [3.0, 5.0, 7.0]
    assert x.sum(1, keepdim=True).shape == (2, 1)
    assert x.mean().item() == 2.5 and x.mean(dim=1).tolist() == [1.0, 4.0]
    assert x.sum(dim=(0, 1)).item() == 15.0
    assert x.mean(1).grad_fn.name() == "MeanBackward1" and x.sum(0).grad_fn.name() == "SumBackward1"
    x.mean(1, keepdim=True).sum().backward()
    assert x.grad.view(6).tolist() == pytest.approx([1 / 3] * 6)
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        autodiff.arange(3, device=device).mean()


def test_max_ties_share_like_torch():
    torch = pytest.importorskip("torch")
    v = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]
    for call in (lambda m, x: m.max(x), lambda m, x: m.amax(x, 1), lambda m, x: m.max(x, 1).values,
                 lambda m, x: m.min(x, 0).values, lambda m, x: m.norm(x, float("inf"))):
        x = autodiff.tensor(v, dtype=autodiff.float64, requires_grad=True)
        t = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        call(autodiff, x).sum().backward()
        call(torch, t).sum().backward()
        np.testing.assert_allclose(np.asarray(x.grad.tolist()), t.grad.numpy())


def test_max_returns_values_and_indices():
    x = autodiff.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert x.argmax().item() == 3 and x.argmin(1).tolist() == [0, 1]
    assert x.max(1, keepdim=True).values.shape == (2, 1)


def test_prod_with_zeros_matches_torch():
    torch = pytest.importorskip("torch")
    v = [[0.0, 2.0, 3.0], [0.0, 0.0, 4.0]]
    for call in (lambda x: x.prod(), lambda x: x.prod(1)):
        x = autodiff.tensor(v, dtype=autodiff.float64, requires_grad=True)
        t = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        call(x).sum().backward()
        call(t).sum().backward()
        np.testing.assert_allclose(np.asarray(x.grad.tolist()), t.grad.numpy())


def test_grad_fn_names():
    x = autodiff.randn(2, 3, requires_grad=True)
    assert x.max(1).values.grad_fn.name() == "MaxBackward0"
    assert x.amax(1).grad_fn.name() == "AmaxBackward0"
    assert x.prod().grad_fn.name() == "ProdBackward0"
    assert x.cumsum(0).grad_fn.name() == "CumsumBackward0"


def _newer_reduction_results(m):
    """Values, first and second derivatives of the newer reductions in library ``m``."""
    x = m.tensor([[1.0, 0, 2], [float("nan"), 3, -1]], dtype=m.float64)
    r = [m.all(x), m.any(x, 1), x.all(0, keepdim=True), m.count_nonzero(x, 0), m.count_nonzero(x), m.nansum(x),
         m.nansum(x, 1), m.nanmean(x, 0), m.nanmean(x)]
    y = m.tensor([[1.0, 0, 2], [4, 3, -1]], dtype=m.float64, requires_grad=True)
    r += [*m.var_mean(y, 1), *m.std_mean(y, unbiased=False), *m.aminmax(y, dim=0), m.dist(y[0], y[1]),
          m.dist(y[0], y[1], 1), m.trace(y)]
    z = m.tensor([[1.0, 0, 2, 3], [2, 3, 0, 0], [1, 2, 3, 4]], dtype=m.float64, requires_grad=True)
    r += [m.cumprod(z, 1), m.logcumsumexp(z, 0), m.cov(z), m.corrcoef(z),
          m.cov(z, correction=0, fweights=m.tensor([1, 2, 1, 1]), aweights=m.tensor([0.5, 1.0, 1, 2], dtype=m.float64))]
    loss = ((m.cumprod(z, 1) * m.arange(4.0).double()).sum() + (m.logcumsumexp(z, 1) ** 2).sum()
            + (m.cov(z) * m.arange(9.0).double().reshape(3, 3)).sum() + m.corrcoef(z)[0, 1] + m.nansum(z * 2)
            + m.nanmean(z))
    (g,) = m.autograd.grad(loss, z, create_graph=True)
    (gg,) = m.autograd.grad((g ** 2).sum(), z)
    return [np.asarray(t.tolist(), dtype=float) for t in r + [g, gg]]


def test_newer_reductions_match_torch():
    torch = pytest.importorskip("torch")
    for k, (mine, theirs) in enumerate(zip(_newer_reduction_results(autodiff), _newer_reduction_results(torch))):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12, err_msg=str(k))
    assert repr(autodiff.aminmax(autodiff.tensor([1.0, 2.0]))).startswith("torch.return_types.aminmax(\nmin=")
