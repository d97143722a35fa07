"""``nn.utils`` (gradient clipping, parameters <-> vector) and the ``nn.init`` functions
against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff
import autodiff.nn as nn
from tests.nn.module_oracle import to_ours, to_torch, torch, values

R = np.random.default_rng(0)
GRADS = [R.normal(size=(3, 4)) * 3, R.normal(size=(4,)), R.normal(size=(2, 2)) * 0.1]


def _params(lib, conv):
    ps = []
    for g in GRADS:
        p = lib.nn.Parameter(conv(np.zeros(g.shape)))
        p.grad = conv(g)
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    pt, po = _params(torch, to_torch), _params(autodiff, to_ours)
    nt = float(norm_type) if isinstance(norm_type, str) else norm_type
    total_t = torch.nn.utils.clip_grad_norm_(pt, max_norm, nt)
    total_o = nn.utils.clip_grad_norm_(iter(po), max_norm, norm_type)
    np.testing.assert_allclose(values(total_o), values(total_t), rtol=1e-12)
    for a, b in zip(po, pt):
        np.testing.assert_allclose(values(a.grad), values(b.grad), rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf * 0 in the scaling (NaN gradients, as in PyTorch)
def test_clip_grad_norm_nonfinite_and_empty():
    p = nn.Parameter(autodiff.zeros(2))
    p.grad = autodiff.tensor([1.0, math.inf])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert math.isinf(nn.utils.clip_grad_norm_(p, 1.0).item())
    assert nn.utils.clip_grad_norm_([nn.Parameter(autodiff.zeros(2))], 1.0).item() == 0.0


def test_clip_grad_value_matches_torch():
    pt, po = _params(torch, to_torch), _params(autodiff, to_ours)
    torch.nn.utils.clip_grad_value_(pt, 0.7)
    nn.utils.clip_grad_value_(po, 0.7)
    for a, b in zip(po, pt):
        np.testing.assert_allclose(values(a.grad), values(b.grad))


def test_parameters_to_vector_and_back():
    lin = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    (vec * autodiff.arange(8.0)).sum().backward()
    assert lin.weight.grad.reshape(-1).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    nn.utils.vector_to_parameters(autodiff.arange(8.0), lin.parameters())
    assert lin.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and lin.bias.tolist() == [6.0, 7.0]
    with pytest.raises(RuntimeError, match="expected a vector of 8"):
        nn.utils.vector_to_parameters(autodiff.zeros(3), lin.parameters())


@pytest.mark.parametrize(("name", "param"), [("linear", None), ("relu", None), ("tanh", None), ("selu", None),
                                             ("leaky_relu", 0.2), ("conv_transpose2d", None), ("sigmoid", None)])
def test_calculate_gain_matches_torch(name, param):
    assert nn.init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_eye_and_dirac_match_torch():
    np.testing.assert_array_equal(values(nn.init.eye_(autodiff.empty(3, 4))),
                                  torch.nn.init.eye_(torch.empty(3, 4)).numpy())
    for shape, groups in (((4, 2, 3), 2), ((3, 3, 3, 3), 1), ((2, 3, 1, 2, 3), 1)):
        np.testing.assert_array_equal(values(nn.init.dirac_(autodiff.empty(*shape), groups)),
                                      torch.nn.init.dirac_(torch.empty(*shape), groups).numpy())


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    w = nn.init.orthogonal_(autodiff.empty(*shape, dtype=autodiff.float64), gain=2.0).reshape(shape[0], -1)
    small = w @ w.t() if w.shape[0] <= w.shape[1] else w.t() @ w
    np.testing.assert_allclose(values(small), 4 * np.eye(min(w.shape)), atol=1e-12)


def test_trunc_normal_stays_in_bounds():
    autodiff.manual_seed(0)
    w = nn.init.trunc_normal_(autodiff.empty(20000), mean=0.5, std=1.0, a=-0.5, b=1.0)
    v = values(w)
    assert v.min() >= -0.5 and v.max() <= 1.0 and len(np.unique(v)) > 19000
    want = torch.distributions.Normal(0.5, 1.0)
    lo, hi = want.cdf(torch.tensor(-0.5)), want.cdf(torch.tensor(1.0))
    assert abs(v.mean() - (0.5 + (want.log_prob(torch.tensor(-0.5)).exp() - want.log_prob(torch.tensor(1.0)).exp())
                           / (hi - lo)).item()) < 0.02
