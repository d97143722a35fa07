"""Module hooks against torch.nn: forward pre-hooks and forward hooks (replacing inputs and
outputs, with_kwargs, always_call, prepend, handles), full backward hooks and pre-hooks
(grad_input / grad_output as PyTorch defines them, and replacing them)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import autodiff.nn as nn
from tests.nn.module_oracle import copy_weights, to_ours, to_torch, torch, values

X = np.linspace(-1, 1, 6).reshape(2, 3)


def _pair():
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    copy_weights(ours, theirs)
    return theirs, ours


def _flat(gs):
    return [None if g is None else values(g) for g in gs]


def _run_both(setup):
    """``setup(lib, model, log)`` registers hooks; returns (log, x.grad, output) for each library."""
    results = []
    theirs, ours = _pair()
    for lib, model, conv in ((torch, theirs, to_torch), (autodiff, ours, to_ours)):
        log = []
        setup(lib, model, log)
        x = conv(X, True)
        y = model(x)
        (y * y).sum().backward()
        results.append((log, values(x.grad), values(y)))
    return results


def _assert_same(results):
    (log_t, g_t, y_t), (log_o, g_o, y_o) = results
    np.testing.assert_allclose(y_o, y_t, atol=1e-12)
    np.testing.assert_allclose(g_o, g_t, atol=1e-12)
    assert len(log_o) == len(log_t)
    for a, b in zip(log_o, log_t):
        assert a[0] == b[0]
        for u, v in zip(a[1:], b[1:]):
            assert len(u) == len(v)
            for p, q in zip(u, v):
                assert (p is None) == (q is None)
                if p is not None:
                    np.testing.assert_allclose(p, q, atol=1e-12)


def test_forward_hooks_replace_inputs_and_outputs():
    def setup(lib, model, log):
        model[0].register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        model[2].register_forward_hook(lambda m, args, out: out * 3)
        model[1].register_forward_hook(lambda m, args, out: log.append(("fwd", _flat(args), _flat([out]))))
    _assert_same(_run_both(setup))


def test_full_backward_hooks_see_grad_input_and_grad_output():
    def setup(lib, model, log):
        for i, m in enumerate(model):
            m.register_full_backward_hook(lambda m, gi, go, i=i: log.append((f"bw{i}", _flat(gi), _flat(go))))
            m.register_full_backward_pre_hook(lambda m, go, i=i: log.append((f"pre{i}", _flat(go))))
        model.register_full_backward_hook(lambda m, gi, go: log.append(("bw-all", _flat(gi), _flat(go))))
    _assert_same(_run_both(setup))


def test_backward_hooks_replace_gradients():
    def setup(lib, model, log):
        model[1].register_full_backward_hook(lambda m, gi, go: (gi[0] * 10,))
        model[2].register_full_backward_pre_hook(lambda m, go: (go[0] + 1,))
    _assert_same(_run_both(setup))


def test_backward_hook_on_an_input_without_grad_gets_none():
    for lib, conv in ((torch, to_torch), (autodiff, to_ours)):
        log = []
        lin = lib.nn.Linear(3, 2).double()
        lin.register_full_backward_hook(lambda m, gi, go, log=log: log.append((gi, go)))
        with pytest.warns(UserWarning, match="no inputs require gradients"):
            lin(conv(X)).sum().backward()
        assert len(log) == 1 and log[0][0] == (None,) and tuple(log[0][1][0].shape) == (2, 2)


def test_handles_remove_hooks_and_prepend_orders_them():
    lin = nn.Linear(3, 2)
    order = []
    h1 = lin.register_forward_hook(lambda m, a, o: order.append(1))
    lin.register_forward_hook(lambda m, a, o: order.append(0), prepend=True)
    with lin.register_forward_pre_hook(lambda m, a: order.append("pre")):
        lin(autodiff.ones(1, 3))
    assert order == ["pre", 0, 1]
    h1.remove()
    order.clear()
    lin(autodiff.ones(1, 3))
    assert order == [0]


def test_with_kwargs_and_always_call():
    class Scale(nn.Module):
        def forward(self, x, scale=1.0):
            if scale < 0:
                raise ValueError("negative")
            return x * scale

    m = Scale()
    seen = []
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"scale": kwargs.get("scale", 1.0) * 2}),
                                with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs["scale"]), with_kwargs=True,
                            always_call=True)
    assert m(autodiff.ones(2), scale=3.0).tolist() == [6.0, 6.0]
    assert seen == [6.0]
    with pytest.raises(ValueError, match="negative"):
        m(autodiff.ones(2), scale=-1.0)
    assert seen == [6.0, -2.0]
