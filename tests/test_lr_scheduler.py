"""``autodiff.optim.lr_scheduler`` against ``torch.optim.lr_scheduler``: the learning rates
(and cycled momenta) of 30 steps agree for every scheduler and its main options, with two
parameter groups; ``state_dict`` round trips (through ``autodiff.save``) resume the same
sequence.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import autodiff
import autodiff.optim as optim
from autodiff.optim import lr_scheduler


def _optimizer(m, kind="SGD"):
    w = m.zeros(2, requires_grad=True)
    b = m.zeros(1, requires_grad=True)
    groups = [{"params": [w]}, {"params": [b], "lr": 0.05}]
    if kind == "Adam":
        return m.optim.Adam(groups, lr=0.1)
    return m.optim.SGD(groups, lr=0.1, momentum=0.9)


def _lambda(epoch):
    return 0.95 ** epoch


def _half(epoch):
    return 0.5 if epoch % 3 == 0 else 1.0


# (name, builder(lr_scheduler module, optimizer), optimizer kind)
CASES = {
    "StepLR": (lambda s, o: s.StepLR(o, step_size=4, gamma=0.5), "SGD"),
    "MultiStepLR": (lambda s, o: s.MultiStepLR(o, milestones=[3, 7, 7, 20], gamma=0.3), "SGD"),
    "ExponentialLR": (lambda s, o: s.ExponentialLR(o, gamma=0.9), "SGD"),
    "CosineAnnealingLR": (lambda s, o: s.CosineAnnealingLR(o, T_max=8, eta_min=0.001), "SGD"),
    "CosineAnnealingWarmRestarts": (lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-3),
                                    "SGD"),
    "OneCycleLR": (lambda s, o: s.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=31), "SGD"),
    "OneCycleLR-linear-3phase-adam": (lambda s, o: s.OneCycleLR(o, max_lr=0.3, epochs=4, steps_per_epoch=8,
                                                                 anneal_strategy="linear", three_phase=True,
                                                                 pct_start=0.25), "Adam"),
    "LambdaLR": (lambda s, o: s.LambdaLR(o, lr_lambda=[_lambda, lambda e: 1 / (1 + e)]), "SGD"),
    "MultiplicativeLR": (lambda s, o: s.MultiplicativeLR(o, lr_lambda=_half), "SGD"),
    "LinearLR": (lambda s, o: s.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=7), "SGD"),
    "ConstantLR": (lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=6), "SGD"),
    "PolynomialLR": (lambda s, o: s.PolynomialLR(o, total_iters=12, power=2.0), "SGD"),
    "SequentialLR": (lambda s, o: s.SequentialLR(o, [s.LinearLR(o, start_factor=0.1, total_iters=5),
                                                    s.CosineAnnealingLR(o, T_max=10),
                                                    s.ExponentialLR(o, gamma=0.8)], milestones=[5, 15]), "SGD"),
    "ChainedScheduler": (lambda s, o: s.ChainedScheduler([s.ConstantLR(o, factor=0.5, total_iters=4),
                                                          s.ExponentialLR(o, gamma=0.9)]), "SGD"),
    "CyclicLR-triangular": (lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4), "SGD"),
    "CyclicLR-triangular2": (lambda s, o: s.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3,
                                                     step_size_down=5, mode="triangular2"), "SGD"),
    "CyclicLR-exp_range-adam": (lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                                                        mode="exp_range", gamma=0.9), "Adam"),
    "CyclicLR-scale_fn": (lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2,
                                                  scale_fn=lambda x: 0.8 ** x, scale_mode="iterations",
                                                  cycle_momentum=False), "SGD"),
}


def _settings(opt):
    return [(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups]


def _run(m, name, steps=30):
    build, kind = CASES[name]
    opt = _optimizer(m, kind)
    sched = build(m.optim.lr_scheduler, opt)
    seen = [(list(sched.get_last_lr()), _settings(opt))]
    for _ in range(steps):
        opt.step()
        sched.step()
        seen.append((list(sched.get_last_lr()), _settings(opt)))
    return seen


def _assert_close(ours, theirs):
    for (lr, settings), (tlr, tsettings) in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(lr, tlr, rtol=1e-12, atol=1e-15)
        for (a, m, betas), (ta, tm, tbetas) in zip(settings, tsettings, strict=True):
            np.testing.assert_allclose(a, ta, rtol=1e-12, atol=1e-15)
            assert (m is None) == (tm is None) and (m is None or abs(m - tm) < 1e-12)
            assert (betas is None) == (tbetas is None) and (betas is None or np.allclose(betas, tbetas, rtol=1e-12))


@pytest.mark.parametrize("name", sorted(CASES))
def test_learning_rates_match_torch(name):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _run(torch, name)
    _assert_close(_run(autodiff, name), theirs)


def test_warm_restarts_with_fractional_epochs_match_torch():
    torch = pytest.importorskip("torch")
    results = []
    for m in (autodiff, torch):
        opt = _optimizer(m)
        sched = m.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=3)
        lrs = []
        for epoch in range(10):
            for i in range(4):
                sched.step(epoch + i / 4)
                lrs.append(sched.get_last_lr())
        results.append(lrs)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


@pytest.mark.parametrize("mode, threshold_mode, cooldown", [("min", "rel", 0), ("max", "abs", 2), ("min", "abs", 1)])
def test_reduce_on_plateau_matches_torch(mode, threshold_mode, cooldown):
    torch = pytest.importorskip("torch")
    metrics = [1.0, 0.9, 0.9, 0.95, 0.9, 0.89999, 1.2, 0.5, 0.5, 0.5, 0.5, 0.49, 0.6, 0.7, 0.8] * 2
    results = []
    for m in (autodiff, torch):
        opt = _optimizer(m)
        sched = m.optim.lr_scheduler.ReduceLROnPlateau(opt, mode=mode, factor=0.5, patience=2,
                                                       threshold=0.01, threshold_mode=threshold_mode,
                                                       cooldown=cooldown, min_lr=[0.01, 0.0])
        lrs = []
        for v in metrics:
            sched.step(v)
            lrs.append(sched.get_last_lr())
        results.append(lrs)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_dict_resumes_the_sequence(name):
    build, kind = CASES[name]
    expected = _run(autodiff, name, 20)
    opt = _optimizer(autodiff, kind)
    sched = build(lr_scheduler, opt)
    for _ in range(8):
        opt.step()
        sched.step()
    assert "optimizer" not in sched.state_dict()
    buf = io.BytesIO()  # through a checkpoint file: the state dicts need no pickle
    autodiff.save({"scheduler": sched.state_dict(), "optimizer": opt.state_dict()}, buf)
    buf.seek(0)
    ck = autodiff.load(buf)
    state, opt_state = ck["scheduler"], ck["optimizer"]
    opt2 = _optimizer(autodiff, kind)
    sched2 = build(lr_scheduler, opt2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(state)
    seen = expected[:9]
    for _ in range(12):
        opt2.step()
        sched2.step()
        seen.append((list(sched2.get_last_lr()), _settings(opt2)))
    _assert_close(seen, expected)


def test_scheduler_state_dict_saves_without_pickle():
    opt = _optimizer(autodiff)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    sched.step()
    buf = io.BytesIO()
    autodiff.save({"scheduler": sched.state_dict(), "optimizer": opt.state_dict()}, buf)
    buf.seek(0)
    ck = autodiff.load(buf)
    sched2 = lr_scheduler.OneCycleLR(_optimizer(autodiff), max_lr=1.0, total_steps=10)
    sched2.load_state_dict(ck["scheduler"])
    assert sched2.get_last_lr() == sched.get_last_lr() and sched2.last_epoch == 1


def test_errors():
    opt = _optimizer(autodiff)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        lr_scheduler.OneCycleLR(opt, max_lr=[1.0], total_steps=5)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        sched.step()
    with pytest.raises(ValueError, match="cycle_momentum"):
        lr_scheduler.CyclicLR(optim.Adagrad([autodiff.zeros(1, requires_grad=True)]), 0.1, 1.0)
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
                                  "CosineAnnealingLR", "PolynomialLR"])
def test_step_with_an_epoch_uses_the_closed_form_as_torch(name):
    torch = pytest.importorskip("torch")
    results = []
    for m in (autodiff, torch):
        opt = _optimizer(m)
        sched = CASES[name][0](m.optim.lr_scheduler, opt)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in [3, 7, 2, 10, 0, 20]:
                sched.step(epoch)
                lrs.append(sched.get_last_lr())
        results.append(lrs)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
