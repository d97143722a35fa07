"""nn modules: Parameter behaviour, initialisation bounds (like PyTorch's) and seeding,
registration, state_dict, repr, train/eval and ``Module.to``.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import autodiff.nn as nn
import autodiff.nn.functional as F


def test_init_bounds_like_torch():
    autodiff.manual_seed(1)
    lin = nn.Linear(50, 20)
    bound = 1 / np.sqrt(50)  # kaiming_uniform(a=sqrt(5)) gives 1/sqrt(fan_in)
    w = np.array(lin.weight.tolist())
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(np.array(lin.bias.tolist())).max() <= bound
    conv = nn.Conv2d(2, 4, 3)
    assert np.abs(np.array(conv.weight.tolist())).max() <= 1 / np.sqrt(18)


def test_manual_seed_makes_init_reproducible():
    autodiff.manual_seed(5)
    a = nn.Linear(3, 3).weight.tolist()
    autodiff.manual_seed(5)
    assert nn.Linear(3, 3).weight.tolist() == a


def test_parameter_is_a_tensor_everywhere(device):
    p = nn.Parameter(autodiff.ones(2, 2, device=device))
    x = autodiff.full((2, 2), 2.0, device=device)
    assert isinstance(p, autodiff.Tensor) and p.requires_grad and p.is_leaf
    for out in (p * x, x * p, p + x, x - p, p / x, x / p, p ** x, p.mm(x), x.mm(p), x @ p, p * 3,
                autodiff.maximum(p, x), F.linear(x, p)):
        out.sum().backward()
        assert p.grad is not None
        p.grad = None
    assert repr(nn.Parameter(autodiff.tensor([1.0, 2.0]))) == (
        "Parameter containing:\ntensor([1., 2.], requires_grad=True)")


def test_module_registration_state_dict_and_repr():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.2), nn.Linear(4, 2, bias=False))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "3.weight"]
    assert len(list(model.parameters())) == 3
    assert list(model.state_dict()) == ["0.weight", "0.bias", "3.weight"]
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.2, inplace=False)\n"
        "  (3): Linear(in_features=4, out_features=2, bias=False)\n"
        ")"
    )
    assert model.eval() is model and not model[2].training
    x = autodiff.randn(5, 3)
    assert model(x).tolist() == model(x).tolist()  # no dropout in eval mode
    model.train()
    assert model[2].training
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.2), nn.Linear(4, 2, bias=False))
    other.load_state_dict(model.state_dict())
    assert other[0].weight.tolist() == model[0].weight.tolist()
    with pytest.raises(RuntimeError, match="Missing key"):
        other.load_state_dict({"0.weight": model[0].weight})
    with pytest.raises(RuntimeError, match="size mismatch for 0.bias"):
        other.load_state_dict({**model.state_dict(), "0.bias": autodiff.zeros(5)})
    with pytest.raises(TypeError, match="cannot assign"):
        model[0].weight = autodiff.zeros(4, 3)


def test_module_to_moves_parameters(device):
    model = nn.Linear(3, 2)
    p = model.weight
    model.to(device)
    where = autodiff.zeros(1, device=device).device  # "cuda" names cuda:0 (or the current one)
    assert model.weight is p and model.weight.device == where
    out = model(autodiff.randn(4, 3, device=device))
    out.sum().backward()
    assert model.weight.grad.device == where
