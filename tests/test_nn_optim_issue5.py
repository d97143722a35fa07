"""nn modules, optimizers and save/load: against PyTorch (same weights, same loss curve),
plus Parameter behaviour, reprs and the errors bad input gets."""

from __future__ import annotations

import io

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


def test_zero_grad_and_set_to_none():
    model = nn.Linear(2, 1)
    opt = autodiff.optim.SGD(model.parameters(), lr=0.1)
    model(autodiff.randn(3, 2)).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert model.weight.grad.tolist() == [[0.0, 0.0]]
    opt.zero_grad()
    assert model.weight.grad is None


def test_dropout_scales_and_zeroes():
    autodiff.manual_seed(0)
    x = autodiff.ones(1000)
    y = F.dropout(x, 0.25)
    vals = set(y.tolist())
    assert sorted(vals) == [0.0, pytest.approx(1 / 0.75)] and 0.15 < y.eq(0).float().mean().item() < 0.35
    assert F.dropout(x, 0.5, training=False) is x


def test_save_load_roundtrip_without_pickle(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = autodiff.optim.Adam(model.parameters(), lr=0.01)
    model(autodiff.randn(2, 3)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.npz"
    autodiff.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": 3}, path)
    ck = autodiff.load(path)
    assert ck["epoch"] == 3 and list(ck["model"]) == list(model.state_dict())
    assert ck["model"]["0.weight"].tolist() == model[0].weight.tolist()
    assert ck["opt"]["param_groups"][0]["betas"] == (0.9, 0.999)
    opt2 = autodiff.optim.Adam(model.parameters(), lr=0.5)
    opt2.load_state_dict(ck["opt"])
    assert opt2.param_groups[0]["lr"] == 0.01
    assert opt2.state[model[0].weight]["exp_avg"].tolist() == opt.state[model[0].weight]["exp_avg"].tolist()
    with np.load(path, allow_pickle=False) as z:  # plain arrays: nothing needs pickle
        assert all(z[k].dtype != object for k in z.files)
    buf = io.BytesIO()
    autodiff.save(model.state_dict(), buf)
    buf.seek(0)
    assert list(autodiff.load(buf)) == list(model.state_dict())


def test_cuda_saved_checkpoint_loads_on_cpu(tmp_path):
    import json

    import backends.npz

    path = tmp_path / "cuda.npz"
    autodiff.save({"w": autodiff.tensor([1.0, 2.0])}, path)
    arrays, meta = backends.npz.read(path)  # rewrite it as if saved from cuda:0
    doc = json.loads(meta)
    doc["tree"]["__dict__"][0][1]["device"] = "cuda:0"
    backends.npz.write(path, arrays, json.dumps(doc))
    loaded = autodiff.load(path, map_location="cpu")
    assert loaded["w"].device.type == "cpu" and loaded["w"].tolist() == [1.0, 2.0]
    if not autodiff.cuda.is_available():
        with pytest.raises(RuntimeError, match="map_location"):
            autodiff.load(path)


def test_save_refuses_objects():
    with pytest.raises(TypeError, match="cannot store"):
        autodiff.save({"m": nn.Linear(2, 2)}, io.BytesIO())


# ---- bad inputs ------------------------------------------------------------------------------
def test_linear_shape_error():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x3 and 5x2\)"):
        F.linear(autodiff.randn(4, 3), autodiff.randn(2, 5))


def test_conv2d_errors():
    with pytest.raises(RuntimeError, match="expected input\\[2, 3, 8, 8\\] to have 1 channels, but got 3"):
        F.conv2d(autodiff.randn(2, 3, 8, 8), autodiff.randn(4, 1, 3, 3))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        F.conv2d(autodiff.randn(1, 1, 2, 2), autodiff.randn(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match="Expected 3D \\(unbatched\\) or 4D"):
        F.conv2d(autodiff.randn(8, 8), autodiff.randn(1, 1, 3, 3))


def test_cross_entropy_errors():
    x = autodiff.randn(3, 4)
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        F.cross_entropy(x, autodiff.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match="batch_size"):
        F.cross_entropy(x, autodiff.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="class-probability target"):
        F.cross_entropy(x, autodiff.tensor([0.0, 1.0, 2.0]))
    assert F.cross_entropy(x, autodiff.tensor([0, -100, 1])).item() == pytest.approx(
        F.cross_entropy(x[[0, 2]], autodiff.tensor([0, 1])).item())


def test_mismatched_devices_raise():
    x = autodiff.randn(2, 3)
    w = autodiff.randn(4, 3, device="strict")
    with pytest.raises(RuntimeError, match="same device"):
        F.linear(x, w)
    with pytest.raises(RuntimeError, match="same device"):
        F.cross_entropy(x, autodiff.tensor([0, 1], device="strict"))
    with pytest.raises(RuntimeError, match="same device"):
        F.conv2d(autodiff.randn(1, 1, 4, 4), autodiff.randn(1, 1, 2, 2, device="strict"))


def test_module_to_moves_parameters(device):
    model = nn.Linear(3, 2)
    p = model.weight
    model.to(device)
    assert model.weight is p and model.weight.device.type == device
    out = model(autodiff.randn(4, 3, device=device))
    out.sum().backward()
    assert model.weight.grad.device.type == device


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
