"""Activation modules against torch.nn: values, input and parameter gradients, repr, and
``inplace=True``."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import autodiff.nn as nn
import autodiff.nn.functional as F
from tests.nn.module_oracle import check_module, to_ours, torch, values

X = np.linspace(-4.5, 4.3, 24).reshape(2, 3, 4)  # no value on a kink (0, +-0.5, +-1, +-3, 6)

CASES = [
    ("ELU", ()), ("ELU", (0.5,)), ("SELU", ()), ("CELU", (0.7,)), ("SiLU", ()), ("Mish", ()),
    ("Softplus", ()), ("Softplus", (2.0, 3.0)), ("Hardtanh", ()), ("Hardtanh", (-2.0, 0.7)),
    ("ReLU6", ()), ("Hardsigmoid", ()), ("Hardswish", ()), ("LogSigmoid", ()), ("Softsign", ()),
    ("Tanhshrink", ()), ("Threshold", (0.3, -2.0)), ("GLU", ()), ("GLU", (0,)), ("Hardshrink", ()),
    ("Hardshrink", (1.2,)), ("Softshrink", ()), ("Softshrink", (1.2,)), ("Softmin", (1,)),
    ("Softmax2d", ()), ("ReLU", ()), ("LeakyReLU", (0.2,)), ("PReLU", ()), ("PReLU", (3, 0.1)),
    ("Flatten", ()), ("Unflatten", (2, (2, 2))), ("Identity", ()),
]


@pytest.mark.parametrize(("name", "args"), CASES, ids=[f"{n}{a}" for n, a in CASES])
def test_activation_matches_torch(name, args):
    theirs, ours = getattr(torch.nn, name)(*args), getattr(nn, name)(*args)
    assert repr(ours) == repr(theirs)
    check_module(ours, theirs, X)


INPLACE = ["ELU", "SELU", "CELU", "SiLU", "Mish", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish",
           "ReLU", "LeakyReLU", "RReLU"]


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_writes_into_the_input(name):
    theirs, ours = getattr(torch.nn, name)(inplace=True).eval(), getattr(nn, name)(inplace=True).eval()
    assert repr(ours) == repr(theirs)
    x_t = torch.tensor(X, requires_grad=True)
    x_o = to_ours(X, True)
    h_t, h_o = x_t * 2, x_o * 2
    y_t, y_o = theirs(h_t), ours(h_o)
    assert y_o is h_o and h_o._version[0] == 1
    np.testing.assert_allclose(values(h_o), values(h_t), atol=1e-12)
    (y_t * y_t).sum().backward()
    (y_o * y_o).sum().backward()
    np.testing.assert_allclose(values(x_o.grad), values(x_t.grad), atol=1e-10)


def test_inplace_on_a_leaf_that_requires_grad_raises():
    with pytest.raises(RuntimeError, match="leaf"):
        nn.ELU(inplace=True)(autodiff.ones(2, requires_grad=True))


def test_grad_fn_names_are_pytorchs():
    x = autodiff.randn(3, requires_grad=True)

    names = {F.elu: "EluBackward0", F.selu: "EluBackward0", F.silu: "SiluBackward0",
             F.mish: "MishBackward0", F.softplus: "SoftplusBackward0", F.hardtanh: "HardtanhBackward0",
             F.relu6: "HardtanhBackward0", F.hardsigmoid: "HardsigmoidBackward0",
             F.hardswish: "HardswishBackward0", F.logsigmoid: "LogSigmoidBackward0",
             F.hardshrink: "HardshrinkBackward0", F.softshrink: "SoftshrinkBackward0"}
    for f, name in names.items():
        assert f(x).grad_fn.name() == name
    assert F.threshold(x, 0.1, 0.0).grad_fn.name() == "ThresholdBackward0"
    assert F.prelu(x, autodiff.tensor([0.2])).grad_fn.name() == "PreluKernelBackward0"


def test_rrelu_random_in_training_and_mean_slope_in_eval():
    m = nn.RReLU(0.1, 0.3)
    x = -autodiff.ones(1000)
    slopes = -m(x)
    assert 0.1 <= slopes.min().item() and slopes.max().item() <= 0.3 and slopes.std().item() > 0.01
    m.eval()
    assert np.allclose(values(m(x)), -0.2)
    theirs = torch.nn.RReLU(0.1, 0.3).eval()
    check_module(m, theirs, X)


def test_prelu_learns_one_slope_per_channel():
    theirs, ours = torch.nn.PReLU(3), nn.PReLU(3)
    check_module(ours, theirs, X)
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        ours(to_ours(np.ones((2, 4))))


def test_glu_needs_an_even_dim():
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        nn.GLU(0)(autodiff.ones(3))


def test_gumbel_softmax_is_a_distribution_and_hard_is_one_hot():

    logits = autodiff.randn(4, 5, requires_grad=True)
    y = F.gumbel_softmax(logits, tau=0.5)
    assert np.allclose(values(y.sum(-1)), 1.0)
    h = F.gumbel_softmax(logits, hard=True, dim=0)
    assert sorted(set(values(h).ravel().tolist())) == [0.0, 1.0]
    assert np.allclose(values(h.sum(0)), 1.0)
    h.sum().backward()
    assert logits.grad is not None


IMPLICIT_DIM_CALLS = [
    ("softmax", lambda m, x: m.nn.functional.softmax(x)),
    ("log_softmax", lambda m, x: m.nn.functional.log_softmax(x)),
    ("softmin", lambda m, x: m.nn.functional.softmin(x)),
    ("softmax", lambda m, x: m.nn.Softmax()(x)),
    ("log_softmax", lambda m, x: m.nn.LogSoftmax()(x)),
    ("softmin", lambda m, x: m.nn.Softmin()(x)),
]


@pytest.mark.parametrize(("op", "call"), IMPLICIT_DIM_CALLS)
def test_implicit_softmax_dim_warns_like_torch_and_points_at_the_caller(op, call):
    x = np.arange(6.0).reshape(2, 3)
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {op} has been deprecated") as ours:
        got = call(autodiff, autodiff.tensor(x))
    assert ours[0].filename == __file__  # the user's line, not autodiff's
    if torch is not None:
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {op}"):
            want = call(torch, torch.tensor(x))
        np.testing.assert_allclose(got.numpy(), want.numpy())


def test_an_explicit_softmax_dim_does_not_warn():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.softmax(autodiff.ones(2, 3), 1)
        nn.Softmax(dim=0)(autodiff.ones(2, 3))
