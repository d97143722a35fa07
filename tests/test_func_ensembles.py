"""Ensembles with the function transforms: ``func.stack_module_state`` and
``func.replace_all_batch_norm_modules_`` against ``torch.func``, and PyTorch's model-ensembling
recipe (stacked state, ``functional_call``, ``vmap`` over the models) run unchanged."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import autodiff
from autodiff import func

torch = pytest.importorskip("torch")
import torch.func as tfunc  # noqa: E402


def _mlp(m, seed):
    m.manual_seed(seed)
    return m.nn.Sequential(m.nn.Linear(3, 4), m.nn.BatchNorm1d(4), m.nn.ReLU(), m.nn.Linear(4, 2))


def _same_weights():
    ours = [_mlp(autodiff, s) for s in range(3)]
    theirs = [_mlp(torch, s) for s in range(3)]
    for o, t in zip(ours, theirs):
        t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in o.state_dict().items()})
    return ours, theirs


def test_stack_module_state_matches_torch():
    ours, theirs = _same_weights()
    (op, ob), (tp, tb) = func.stack_module_state(ours), tfunc.stack_module_state(theirs)
    assert list(op) == list(tp) and list(ob) == list(tb)
    for mine, want in [(op[k], tp[k]) for k in tp] + [(ob[k], tb[k]) for k in tb]:
        assert mine.shape == tuple(want.shape) and str(mine.dtype) == str(want.dtype)
        assert (mine.requires_grad, mine.is_leaf) == (want.requires_grad, want.is_leaf)
        np.testing.assert_array_equal(mine.detach().numpy(), want.detach().numpy())
    # new leaves: a gradient through the stack reaches it, never the models' parameters
    op["0.weight"].sum().backward()
    assert op["0.weight"].grad is not None and all(m[0].weight.grad is None for m in ours)


@pytest.mark.parametrize("case", ["empty", "classes", "modes", "requires_grad"])
def test_stack_module_state_refuses_like_torch(case):
    def build(m):
        if case == "empty":
            return []
        if case == "classes":
            return [m.nn.Linear(2, 3), m.nn.ReLU()]
        if case == "modes":
            return [m.nn.Linear(2, 3), m.nn.Linear(2, 3).eval()]
        frozen = m.nn.Linear(2, 3)
        frozen.weight.requires_grad_(False)
        return [frozen, m.nn.Linear(2, 3)]

    with pytest.raises(RuntimeError) as theirs:
        tfunc.stack_module_state(build(torch))
    with pytest.raises(RuntimeError) as ours:
        func.stack_module_state(build(autodiff))
    assert str(ours.value) == str(theirs.value)


def test_the_model_ensembling_recipe_runs_unchanged():
    ours, theirs = _same_weights()
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)

    def ensemble(m, f, models):
        params, buffers = f.stack_module_state(models)
        base = copy.deepcopy(models[0])

        def fmodel(params, buffers, x):
            return f.functional_call(base, (params, buffers), (x,))

        return f.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, m.tensor(x)), params

    got, params = ensemble(autodiff, func, ours)
    want, _ = ensemble(torch, tfunc, theirs)
    assert got.shape == (3, 5, 2)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1].detach().numpy(), ours[1](autodiff.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    got.sum().backward()  # the stacked parameters are optimizable leaves
    assert params["3.bias"].grad.shape == (3, 2)


def test_replace_all_batch_norm_modules_matches_torch():
    def build(m):
        return m.nn.Sequential(m.nn.BatchNorm1d(3), m.nn.Linear(3, 3), m.nn.Sequential(m.nn.BatchNorm2d(2)),
                               m.nn.InstanceNorm1d(3, track_running_stats=True))

    ours, theirs = build(autodiff), build(torch)
    assert func.replace_all_batch_norm_modules_(ours) is ours
    tfunc.replace_all_batch_norm_modules_(theirs)
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    for i in (0, 2):
        bn, want = (ours[0], theirs[0]) if i == 0 else (ours[2][0], theirs[2][0])
        assert (bn.running_mean, bn.running_var, bn.num_batches_tracked) == (None, None, None)
        assert bn.track_running_stats is want.track_running_stats is False
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    out = ours[0].eval()(autodiff.tensor(x))  # eval uses the batch's statistics now
    theirs[0].eval()
    np.testing.assert_allclose(out.detach().numpy(), theirs[0](torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
