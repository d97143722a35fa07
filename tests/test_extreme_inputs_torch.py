"""Activations and losses at extreme inputs (+-20, +-50, +-100, logits of +-1000) against
PyTorch: forward values and gradients, in float32 and float64.

The op specs draw moderate inputs; this is where a formula that is exact algebra but loses
precision or overflows far out (``sigmoid`` as ``0.5 * (1 + tanh(x / 2))`` is 0 in float32
from x = -20, so ``log(sigmoid(-20))`` was -inf) shows. Activations and losses that autodiff
does not have (yet) are skipped, so the table can list every one PyTorch users reach for.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff

torch = pytest.importorskip("torch")

WIDE = [-100.0, -50.0, -20.0, -1.0, 0.0, 1.0, 20.0, 50.0, 100.0]
# log(sigmoid(x)) at -100: float32 PyTorch underflows sigmoid to 0 (log = -inf) where the
# exact value, 3.8e-44, is a float32 denormal; the comparison stays inside the normal range.
NORMAL = [-50.0, -20.0, -1.0, 0.0, 1.0, 20.0, 50.0]
LOGITS = [[1000.0, 0.0, -1000.0], [-50.0, 50.0, 20.0], [100.0, 100.0, -100.0], [-20.0, -20.0, 20.0]]
TARGET = [0, 2, 1, 0]
# Class probabilities for the soft-target losses: exact in binary, so both libraries start
# from the same bits (gradients such as softmax(x) - p cancel badly near p = 1).
PROBS = [[0.75, 0.125, 0.125], [0.0, 0.5, 0.5], [0.25, 0.25, 0.5], [1.0, 0.0, 0.0]]


def _functional(m):
    return m.nn.functional


def _fn(path):
    """``m.<path>`` (e.g. ``"nn.functional.softplus"``), or None when the module lacks it."""
    def get(m):
        obj = m
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj
    return get


# name -> (inputs, f(m, x) or None when m lacks the op); x requires grad.
ACTIVATIONS = {
    "sigmoid": (WIDE, _fn("sigmoid")),
    "F.sigmoid": (WIDE, _fn("nn.functional.sigmoid")),
    "Tensor.sigmoid": (WIDE, lambda m: lambda x: x.sigmoid()),
    "log(sigmoid)": (NORMAL, lambda m: lambda x: m.log(m.sigmoid(x))),
    "tanh": (WIDE, _fn("tanh")),
    "F.tanh": (WIDE, _fn("nn.functional.tanh")),
    "relu": (WIDE, _fn("relu")),
    "F.relu": (WIDE, _fn("nn.functional.relu")),
    "F.leaky_relu": (WIDE, _fn("nn.functional.leaky_relu")),
    "F.gelu": (WIDE, _fn("nn.functional.gelu")),
    "F.gelu(tanh)": (WIDE, lambda m: lambda x: _functional(m).gelu(x, approximate="tanh")),
    "F.softplus": (WIDE, _fn("nn.functional.softplus")),
    "F.logsigmoid": (WIDE, _fn("nn.functional.logsigmoid")),
    "F.silu": (WIDE, _fn("nn.functional.silu")),
    "F.elu": (WIDE, _fn("nn.functional.elu")),
    "F.selu": (WIDE, _fn("nn.functional.selu")),
    "F.celu": (WIDE, _fn("nn.functional.celu")),
    "F.mish": (WIDE, _fn("nn.functional.mish")),
    "F.hardtanh": (WIDE, _fn("nn.functional.hardtanh")),
    "F.hardsigmoid": (WIDE, _fn("nn.functional.hardsigmoid")),
    "F.hardswish": (WIDE, _fn("nn.functional.hardswish")),
    "F.softsign": (WIDE, _fn("nn.functional.softsign")),
    "F.relu6": (WIDE, _fn("nn.functional.relu6")),
    "exp": ([-100.0, -50.0, -20.0, 0.0, 20.0, 50.0], _fn("exp")),
    "expm1": ([-100.0, -50.0, -20.0, 0.0, 20.0, 50.0], _fn("expm1")),
    "log1p(exp)": ([-100.0, -50.0, -20.0, 0.0, 20.0], lambda m: lambda x: m.log1p(m.exp(x))),
    "logaddexp": (WIDE, lambda m: lambda x: m.logaddexp(x, m.zeros_like(x))),
    "softmax": (LOGITS, lambda m: lambda x: m.softmax(x, 1)),
    "log_softmax": (LOGITS, lambda m: lambda x: m.log_softmax(x, 1)),
    "F.softmax(dim=0)": (LOGITS, lambda m: lambda x: _functional(m).softmax(x, 0)),
    "F.log_softmax(dim=0)": (LOGITS, lambda m: lambda x: _functional(m).log_softmax(x, 0)),
    "logsumexp": (LOGITS, lambda m: lambda x: m.logsumexp(x, 1)),
}


def _target(m, dtype, values):
    return m.tensor(values, dtype=dtype)


def _bce_target(m, dtype, n):
    return m.tensor([float(i % 2) for i in range(n)], dtype=dtype)


# name -> (inputs, f(m, x, dtype)); the losses are summed per element (reduction="none"),
# then weighted like every other case, and reduced too.
LOSSES = {
    "F.binary_cross_entropy(sigmoid)": (WIDE, lambda m, x, dt: _functional(m).binary_cross_entropy(
        m.sigmoid(x), _bce_target(m, dt, x.shape[0]), reduction="none")),
    "F.binary_cross_entropy(sigmoid, mean)": (WIDE, lambda m, x, dt: _functional(m).binary_cross_entropy(
        m.sigmoid(x), _bce_target(m, dt, x.shape[0]))),
    "F.binary_cross_entropy(sigmoid, target 1)": (NORMAL, lambda m, x, dt: _functional(m).binary_cross_entropy(
        m.sigmoid(x), m.ones_like(x), reduction="none")),
    "F.binary_cross_entropy_with_logits": (WIDE, lambda m, x, dt: (
        _functional(m).binary_cross_entropy_with_logits(x, _bce_target(m, dt, x.shape[0]), reduction="none"))),
    "F.binary_cross_entropy_with_logits(pos_weight)": (WIDE, lambda m, x, dt: (
        _functional(m).binary_cross_entropy_with_logits(x, _bce_target(m, dt, x.shape[0]),
                                               pos_weight=m.tensor(3.0, dtype=dt), reduction="sum"))),
    "F.cross_entropy": (LOGITS, lambda m, x, dt: _functional(m).cross_entropy(x, m.tensor(TARGET),
                                                                      reduction="none")),
    "F.cross_entropy(mean)": (LOGITS, lambda m, x, dt: _functional(m).cross_entropy(x, m.tensor(TARGET))),
    "F.cross_entropy(probabilities)": (LOGITS, lambda m, x, dt: _functional(m).cross_entropy(
        x, m.tensor(PROBS, dtype=dt))),
    "F.cross_entropy(label_smoothing)": (LOGITS, lambda m, x, dt: _functional(m).cross_entropy(
        x, m.tensor(TARGET), label_smoothing=0.1)),
    "F.nll_loss(log_softmax)": (LOGITS, lambda m, x, dt: _functional(m).nll_loss(
        m.log_softmax(x, 1), m.tensor(TARGET), reduction="none")),
    "F.mse_loss": (WIDE, lambda m, x, dt: _functional(m).mse_loss(x, m.zeros_like(x) + 3, reduction="none")),
    "F.l1_loss": (WIDE, lambda m, x, dt: _functional(m).l1_loss(x, m.zeros_like(x) + 3, reduction="none")),
    "F.smooth_l1_loss": (WIDE, lambda m, x, dt: _functional(m).smooth_l1_loss(x, m.zeros_like(x) + 3,
                                                                      reduction="none")),
    "F.huber_loss": (WIDE, lambda m, x, dt: _functional(m).huber_loss(x, m.zeros_like(x) + 3, reduction="none")),
    "F.soft_margin_loss": (WIDE, lambda m, x, dt: _functional(m).soft_margin_loss(
        x, m.ones_like(x), reduction="none")),
    "F.kl_div": (LOGITS, lambda m, x, dt: _functional(m).kl_div(
        m.log_softmax(x, 1), m.tensor(PROBS, dtype=dt), reduction="sum")),
}

DTYPES = ["float32", "float64"]


def _run(m, f, values, dtype):
    """f's value and the gradient of a weighted sum of it (uneven weights, so a wrong
    element cannot hide in a sum)."""
    dt = getattr(m, dtype)
    x = m.tensor(values, dtype=dt, requires_grad=True)
    y = f(x, dt)
    w = m.arange(1, y.numel() + 1, dtype=dt).reshape(y.shape) / y.numel()
    (g,) = m.autograd.grad((y * w).sum(), x)
    return np.array(y.detach().tolist(), dtype=dtype), np.array(g.tolist(), dtype=dtype)


# Where PyTorch is the less accurate one, each with why:
LOOSER = {
    ("F.hardsigmoid", "float64"): 1e-7,  # its float64 gradient uses a float32 1/6
    ("F.softsign", "float32"): 1e-5,  # its float32 gradient rounds 1 / (1 + |x|)^2 differently
}
# soft_margin_loss(-100) in float32: PyTorch's log(1 + exp(100)) overflows to inf; ours is 100.
OVERFLOWS_IN_TORCH = {("F.soft_margin_loss", "float32")}


def _check(name, mine, theirs, dtype):
    rtol = LOOSER.get((name, dtype), 2e-6 if dtype == "float32" else 1e-13)
    for what, a, e in zip(("value", "gradient"), mine, theirs):
        assert a.shape == e.shape, f"{name} {dtype}: {what} shape"
        if (name, dtype) in OVERFLOWS_IN_TORCH:
            finite = np.isfinite(e)
            assert np.isfinite(a).all(), f"{name} {dtype}: {what} must stay finite"
            a, e = a[finite], e[finite]
        # atol: float32 PyTorch flushes some results to zero where autodiff keeps a
        # denormal (sigmoid(-100) = 3.8e-44); anything that matters is far above this.
        np.testing.assert_allclose(a, e, rtol=rtol, atol=1e-30, err_msg=f"{name} {dtype}: {what}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_at_extreme_inputs_matches_torch(name, dtype):
    values, make = ACTIVATIONS[name]
    mine_f, theirs_f = make(autodiff), make(torch)
    if mine_f is None:
        pytest.skip(f"autodiff has no {name}")
    mine = _run(autodiff, lambda x, dt: mine_f(x), values, dtype)
    theirs = _run(torch, lambda x, dt: theirs_f(x), values, dtype)
    _check(name, mine, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_at_extreme_inputs_matches_torch(name, dtype):
    values, f = LOSSES[name]
    try:
        mine = _run(autodiff, lambda x, dt: f(autodiff, x, dt), values, dtype)
    except (AttributeError, TypeError) as exc:  # a loss or an argument autodiff lacks
        if "has no attribute" in str(exc) or "unexpected keyword" in str(exc):
            pytest.skip(f"autodiff has no {name}: {exc}")
        raise
    theirs = _run(torch, lambda x, dt: f(torch, x, dt), values, dtype)
    _check(name, mine, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_of_sigmoid_minus_20(dtype):
    """The case that was -inf: bce(sigmoid(-20), 1) = 20, with gradient -1 (float32 too)."""
    x = autodiff.tensor(-20.0, dtype=getattr(autodiff, dtype), requires_grad=True)
    loss = autodiff.nn.functional.binary_cross_entropy(autodiff.sigmoid(x), autodiff.tensor(
        1.0, dtype=x.dtype))
    loss.backward()
    assert loss.item() == pytest.approx(20.0, rel=1e-6)
    assert x.grad.item() == pytest.approx(-1.0, rel=1e-6)
    assert np.isfinite(autodiff.log(autodiff.sigmoid(x)).item())
