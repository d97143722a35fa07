"""Every optimizer's update rule against ``torch.optim`` across its main flags: the same
float64 weights and the same loss (so the same gradients) in both libraries, parameters
compared after each of several steps; state kept on the parameter's device; parameter
groups, ``add_param_group``, live ``lr`` edits and ``state_dict`` round trips.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

import autodiff
import autodiff.optim as optim

# (optimizer name, keyword arguments): the main flags of each algorithm
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, maximize=True, betas=(0.8, 0.9))),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.5)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, alpha=0.9)),
    ("RMSprop", dict(lr=0.01, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, eps=1e-6, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1)),
    ("Adadelta", dict(maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),
    ("Adamax", dict(maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(maximize=True, betas=(0.5, 0.8))),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=3, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=2, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.06))),
    ("Rprop", dict(maximize=True)),
]

STEPS = 10


def _problem(m, device="cpu"):
    """Two float64 parameters and a loss whose gradients change sign and scale over steps."""
    rng = np.random.default_rng(7)
    w = m.tensor(rng.standard_normal((4, 3)), dtype=m.float64, requires_grad=True, device=device)
    b = m.tensor(rng.standard_normal(3), dtype=m.float64, requires_grad=True, device=device)
    x = m.tensor(rng.standard_normal((6, 4)), dtype=m.float64, device=device)
    y = m.tensor(rng.standard_normal((6, 3)), dtype=m.float64, device=device)

    def loss_fn():
        return (((x @ w + b).tanh() * 2 - y) ** 2).mean() + (w ** 4).sum() * 0.01

    return [w, b], loss_fn


def _host(t):
    return np.asarray(t.detach().cpu().numpy())


def _ids(case):
    name, kw = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_steps_match_torch(case):
    torch = pytest.importorskip("torch")
    name, kw = case
    params, loss_fn = _problem(autodiff)
    tparams, tloss_fn = _problem(torch)
    opt = getattr(optim, name)(params, **kw)
    topt = getattr(torch.optim, name)(tparams, **kw)
    for step in range(STEPS):
        for o, lf in ((opt, loss_fn), (topt, tloss_fn)):
            o.zero_grad()
            lf().backward()
            o.step()
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(_host(p), tp.detach().numpy(), rtol=1e-6, atol=1e-9,
                                       err_msg=f"{name} step {step}")
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert list(ours["state"]) == list(theirs["state"])
    for i in theirs["state"]:
        assert sorted(ours["state"][i]) == sorted(theirs["state"][i])
        for k, v in theirs["state"][i].items():
            got = ours["state"][i][k]
            assert got.shape == tuple(v.shape), k
            np.testing.assert_allclose(_host(got).astype(float), v.double().numpy(), rtol=1e-6, atol=1e-9,
                                       err_msg=k)
    assert [g["params"] for g in ours["param_groups"]] == [g["params"] for g in theirs["param_groups"]]
    for g, tg in zip(ours["param_groups"], theirs["param_groups"]):
        assert {k: g[k] for k in g if k in tg} == {k: tg[k] for k in g if k in tg}
        assert set(g) <= set(tg)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("history_size", [2, 100])
def test_lbfgs_matches_torch(line_search_fn, history_size):
    torch = pytest.importorskip("torch")
    params, loss_fn = _problem(autodiff)
    tparams, tloss_fn = _problem(torch)
    kw = dict(lr=0.5, max_iter=6, history_size=history_size, line_search_fn=line_search_fn)
    opt, topt = optim.LBFGS(params, **kw), torch.optim.LBFGS(tparams, **kw)

    def closure(o, lf):
        def run():
            o.zero_grad()
            loss = lf()
            loss.backward()
            return loss
        return run

    for step in range(4):
        loss = opt.step(closure(opt, loss_fn))
        tloss = topt.step(closure(topt, tloss_fn))
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-6)
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(_host(p), tp.detach().numpy(), rtol=1e-6, atol=1e-9, err_msg=f"step {step}")
    s, ts = opt.state[params[0]], topt.state[tparams[0]]
    assert (s["func_evals"], s["n_iter"]) == (ts["func_evals"], ts["n_iter"])
    with pytest.raises(RuntimeError, match="closure"):
        opt.step()


def test_lbfgs_converges_on_a_quadratic():
    w = autodiff.tensor([3.0, -2.0], dtype=autodiff.float64, requires_grad=True)
    a = autodiff.tensor([1.0, 10.0], dtype=autodiff.float64)
    opt = optim.LBFGS([w], line_search_fn="strong_wolfe", max_iter=50)

    def closure():
        opt.zero_grad()
        loss = (a * w * w).sum()
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    # (it stops once the loss changes by < tolerance_change: at 2e-5 here, as PyTorch does)
    assert np.abs(_host(w)).max() < 1e-4


@pytest.mark.parametrize("name", sorted({c[0] for c in CASES}))
def test_state_stays_on_the_parameters_device(name, device):
    """On every device (the strict one refuses NumPy conversions) the steps agree with cpu."""
    kw = dict(CASES[[c[0] for c in CASES].index(name)][1])
    results = {}
    for dev in ("cpu", device):
        params, loss_fn = _problem(autodiff, dev)
        opt = getattr(optim, name)(params, **kw)
        for _ in range(3):
            opt.zero_grad()
            loss_fn().backward()
            opt.step()
        for p in params:
            for k, v in opt.state.get(p, {}).items():
                if isinstance(v, autodiff.Tensor) and v.dim() > 0:
                    assert v.device == p.device, k
        results[dev] = [_host(p) for p in params]
    for a, b in zip(results["cpu"], results[device]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def _train(opt, loss_fn, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()


@pytest.mark.parametrize("name", ["SGD", "Adam", "NAdam", "ASGD", "Rprop", "Adagrad"])
def test_state_dict_round_trip_through_save_resumes_exactly(name):
    kw = dict(CASES[[c[0] for c in CASES].index(name) + (1 if name in ("SGD", "ASGD", "Adagrad") else 0)][1])
    params, loss_fn = _problem(autodiff)
    opt = getattr(optim, name)(params, **kw)
    _train(opt, loss_fn, 6)
    expected = [_host(p) for p in params]

    params2, loss_fn2 = _problem(autodiff)
    opt2 = getattr(optim, name)(params2, **kw)
    _train(opt2, loss_fn2, 3)
    buf = io.BytesIO()
    autodiff.save({"optimizer": opt2.state_dict(), "params": [p.detach() for p in params2]}, buf)
    buf.seek(0)
    ck = autodiff.load(buf)
    params3, loss_fn3 = _problem(autodiff)
    with autodiff.no_grad():
        for p, saved in zip(params3, ck["params"]):
            p.copy_(saved)
    opt3 = getattr(optim, name)(params3, **{**kw, "lr": 123.0})
    opt3.load_state_dict(ck["optimizer"])
    assert opt3.param_groups[0]["lr"] == kw.get("lr", opt2.defaults["lr"])
    _train(opt3, loss_fn3, 3)
    for a, b in zip(expected, params3):
        # (NAdam's float32 mu_product comes back in the parameter's dtype, as PyTorch casts it)
        np.testing.assert_allclose(a, _host(b), rtol=1e-7 if name == "NAdam" else 0)


def test_state_dict_layout_is_torchs():
    torch = pytest.importorskip("torch")
    params, loss_fn = _problem(autodiff)
    tparams, tloss_fn = _problem(torch)
    opt = optim.Adam([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}], lr=0.1)
    topt = torch.optim.Adam([{"params": [tparams[0]]}, {"params": [tparams[1]], "lr": 0.5}], lr=0.1)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["state"] == tsd["state"] == {}
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert [g["lr"] for g in sd["param_groups"]] == [g["lr"] for g in tsd["param_groups"]]
    _train(opt, loss_fn, 1)
    _train(topt, tloss_fn, 1)
    assert {i: sorted(s) for i, s in opt.state_dict()["state"].items()} == \
        {i: sorted(s) for i, s in topt.state_dict()["state"].items()}


def test_param_groups_lr_edits_and_add_param_group_match_torch():
    torch = pytest.importorskip("torch")
    params, loss_fn = _problem(autodiff)
    tparams, tloss_fn = _problem(torch)
    opt = optim.SGD([params[0]], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([tparams[0]], lr=0.1, momentum=0.9)
    for step in range(6):
        if step == 2:
            opt.add_param_group({"params": params[1], "lr": 0.01})
            topt.add_param_group({"params": tparams[1], "lr": 0.01})
        if step == 4:
            opt.param_groups[0]["lr"] = topt.param_groups[0]["lr"] = 0.3
            opt.param_groups[1]["momentum"] = topt.param_groups[1]["momentum"] = 0.0
        _train(opt, loss_fn, 1)
        _train(topt, tloss_fn, 1)
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(_host(p), tp.detach().numpy(), rtol=1e-6, atol=1e-9)
    assert opt.param_groups[1]["nesterov"] is False  # defaults fill the new group
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [params[0]]})


def test_zero_grad_sets_to_none_by_default():
    params, loss_fn = _problem(autodiff)
    opt = optim.RMSprop(params)
    loss_fn().backward()
    opt.zero_grad(set_to_none=False)
    assert _host(params[0].grad).tolist() == np.zeros((4, 3)).tolist()
    opt.zero_grad()
    assert all(p.grad is None for p in params)


@pytest.mark.parametrize("make, message", [
    (lambda ps: optim.RMSprop(ps, lr=-1), "Invalid learning rate: -1"),
    (lambda ps: optim.Adagrad(ps, lr_decay=-1), "Invalid lr_decay value: -1"),
    (lambda ps: optim.Adadelta(ps, rho=2), "Invalid rho value: 2"),
    (lambda ps: optim.NAdam(ps, betas=(1.0, 0.9)), r"Invalid beta parameter at index 0: 1.0"),
    (lambda ps: optim.Rprop(ps, etas=(1.5, 1.2)), "Invalid eta values"),
    (lambda ps: optim.LBFGS(ps, line_search_fn="armijo"), "line_search_fn"),
])
def test_bad_hyperparameters_raise_value_error(make, message):
    params, _ = _problem(autodiff)
    with pytest.raises(ValueError, match=message):
        make(params)


def test_lbfgs_on_every_device(device):
    results = {}
    for dev in ("cpu", device):
        params, loss_fn = _problem(autodiff, dev)
        opt = optim.LBFGS(params, max_iter=5, line_search_fn="strong_wolfe")

        def closure(opt=opt, loss_fn=loss_fn):
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        opt.step(closure)
        assert opt.state[params[0]]["d"].device == params[0].device
        results[dev] = [_host(p) for p in params]
    for a, b in zip(results["cpu"], results[device]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
