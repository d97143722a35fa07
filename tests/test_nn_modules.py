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


def _registration_story(m):
    """Register names the ways programs do, PyTorch's refusals included; what each step printed."""
    nn_ = m.nn
    said = []

    def attempt(fn, *args):
        try:
            fn(*args)
            said.append("ok")
        except Exception as e:  # the class and message are what is compared
            said.append(f"{type(e).__name__}: {e}")

    lin = nn_.Linear(2, 2)
    for args in [(1, m.ones(1)), ("a.b", m.ones(1)), ("", m.ones(1)), ("weight", m.ones(1)),
                 ("training", m.ones(1)), ("x", 3), ("forward", None)]:
        attempt(lin.register_buffer, *args)
    for args in [(1, None), ("a.b", None), ("", None), ("training", None)]:
        attempt(lin.register_parameter, *args)
    for args in [(1, nn_.ReLU()), ("a.b", nn_.ReLU()), ("", nn_.ReLU()), ("weight", nn_.ReLU()), ("x", 3),
                 ("y", None)]:
        attempt(lin.add_module, *args)

    class Stats(nn_.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("scratch", m.ones(1), persistent=False)
            self.register_buffer("mean", m.ones(1))

    s = Stats()
    said.append((list(s.state_dict()), [n for n, _ in s.named_buffers()]))
    s.register_buffer("scratch", m.zeros(1))  # persistent again, in its old place
    said.append(list(s.state_dict()))
    del s.mean
    s.register_buffer("mean", m.ones(1), persistent=False)
    s.mean = m.ones(2)  # assigning keeps it a non-persistent buffer
    said.append((list(s.state_dict()), sorted(s._non_persistent_buffers_set)))
    s.mean = nn_.Parameter(m.ones(1))
    said.append((list(s.state_dict()), sorted(s._non_persistent_buffers_set)))
    said.append(repr(s.load_state_dict({"mean": m.ones(1), "scratch": m.ones(1)})))
    said.append(repr(s.load_state_dict({"mean": m.ones(1)}, strict=False)))
    return said


def test_registration_and_non_persistent_buffers_like_torch():
    torch = pytest.importorskip("torch")
    assert _registration_story(autodiff) == _registration_story(torch)
