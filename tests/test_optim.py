"""Optimizers (SGD with momentum/nesterov/weight decay, Adam with amsgrad, AdamW): training
curves against PyTorch from the same weights (MLP, CNN, regression, examples/digits.py),
and ``zero_grad``.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import autodiff.nn as nn
import autodiff.nn.functional as F


def _mlp(m):
    return m.nn.Sequential(m.nn.Linear(6, 8), m.nn.Tanh(), m.nn.Linear(8, 8), m.nn.ReLU(), m.nn.Linear(8, 3))


def _cnn(m):
    return m.nn.Sequential(m.nn.Conv2d(1, 3, 3, padding=1), m.nn.ReLU(), m.nn.MaxPool2d(2), m.nn.Flatten(),
                           m.nn.Linear(12, 3))


def _copy_weights(model, tmodel, torch):
    with torch.no_grad():
        for (name, p), (tname, tp) in zip(model.named_parameters(), tmodel.named_parameters()):
            assert name == tname
            tp.copy_(torch.from_numpy(np.array(p.detach().numpy())))


OPTIMIZERS = {
    "sgd": lambda o, ps: o.SGD(ps, lr=0.1),
    "sgd_momentum": lambda o, ps: o.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01),
    "sgd_nesterov": lambda o, ps: o.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda o, ps: o.Adam(ps, lr=0.01),
    "adam_wd_amsgrad": lambda o, ps: o.Adam(ps, lr=0.01, weight_decay=0.1, amsgrad=True),
    "adamw": lambda o, ps: o.AdamW(ps, lr=0.01),
}


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_loss_curve_matches_torch(arch, opt_name):
    """Same initial weights and data: the 20-step loss curve agrees to 1e-5 relative (float64)."""
    torch = pytest.importorskip("torch")
    autodiff.manual_seed(0)
    build = _mlp if arch == "mlp" else _cnn
    model = build(autodiff).double()
    tmodel = build(torch).double()
    _copy_weights(model, tmodel, torch)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 6) if arch == "mlp" else (10, 1, 4, 4))
    y = rng.integers(0, 3, 10)
    opt = OPTIMIZERS[opt_name](autodiff.optim, model.parameters())
    topt = OPTIMIZERS[opt_name](torch.optim, tmodel.parameters())
    ax, ay = autodiff.tensor(x), autodiff.tensor(y)
    tx, ty = torch.tensor(x), torch.tensor(y)
    ours, theirs = [], []
    for _ in range(20):
        loss = nn.CrossEntropyLoss()(model(ax), ay)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = torch.nn.CrossEntropyLoss()(tmodel(tx), ty)
        topt.zero_grad()
        tloss.backward()
        topt.step()
        ours.append(loss.item())
        theirs.append(tloss.item())
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    assert ours[-1] < ours[0]


def test_mse_regression_matches_torch():
    torch = pytest.importorskip("torch")
    model = nn.Linear(4, 2).double()
    tmodel = torch.nn.Linear(4, 2).double()
    _copy_weights(model, tmodel, torch)
    x = np.random.default_rng(3).standard_normal((8, 4))
    opt, topt = autodiff.optim.SGD(model.parameters(), lr=0.1), torch.optim.SGD(tmodel.parameters(), lr=0.1)
    for _ in range(20):
        loss = nn.MSELoss()(model(autodiff.tensor(x)), autodiff.tensor(x[:, :2] * 2))
        opt.zero_grad(); loss.backward(); opt.step()  # noqa: E702
        tloss = torch.nn.MSELoss()(tmodel(torch.tensor(x)), torch.tensor(x[:, :2] * 2))
        topt.zero_grad(); tloss.backward(); topt.step()  # noqa: E702
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-5)


def test_zero_grad_and_set_to_none():
    model = nn.Linear(2, 1)
    opt = autodiff.optim.SGD(model.parameters(), lr=0.1)
    model(autodiff.randn(3, 2)).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert model.weight.grad.tolist() == [[0.0, 0.0]]
    opt.zero_grad()
    assert model.weight.grad is None


def test_digits_example_matches_torch():
    """A short run of examples/digits.py's model in autodiff and PyTorch from the same weights."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    pytest.importorskip("tqdm")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    import digits

    x_train, x_test, y_train, y_test = digits.load_data(0)
    autodiff.manual_seed(0)
    model = digits.make_model()
    tmodel = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    _copy_weights(model, tmodel, torch)
    opt = autodiff.optim.Adam(model.parameters(), lr=3e-3)
    topt = torch.optim.Adam(tmodel.parameters(), lr=3e-3)
    order = np.random.default_rng(0).permutation(len(x_train))
    for _epoch in range(3):
        for i in range(0, len(order), 32):
            idx = order[i:i + 32]
            loss = F.cross_entropy(model(autodiff.tensor(x_train[idx])), autodiff.tensor(y_train[idx]))
            opt.zero_grad(); loss.backward(); opt.step()  # noqa: E702
            tloss = torch.nn.functional.cross_entropy(tmodel(torch.tensor(x_train[idx])),
                                                      torch.tensor(y_train[idx]))
            topt.zero_grad(); tloss.backward(); topt.step()  # noqa: E702
    acc = digits.accuracy(model, autodiff.tensor(x_test), autodiff.tensor(y_test))
    with torch.no_grad():
        tacc = (tmodel(torch.tensor(x_test)).argmax(1) == torch.tensor(y_test)).float().mean().item()
    assert acc > 0.9 and abs(acc - tacc) <= 0.02, (acc, tacc)
