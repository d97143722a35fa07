"""Normalization layers against torch.nn: values, input and parameter gradients and running
statistics, across constructor arguments, in training and evaluation mode."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import autodiff.nn as nn
from tests.nn.module_oracle import check_module, copy_weights, to_ours, torch, values

RNG = np.random.default_rng(0)


def _x(*shape):
    return RNG.normal(size=shape) * 2 + 0.5


BN = [(1, (4, 3)), (1, (4, 3, 5)), (2, (2, 3, 4, 2)), (3, (2, 3, 2, 2, 2))]
BN_ARGS = [{}, {"affine": False}, {"bias": False}, {"momentum": None}, {"momentum": 0.3, "eps": 1e-3},
           {"track_running_stats": False}]


@pytest.mark.parametrize(("d", "shape"), BN)
@pytest.mark.parametrize("kwargs", BN_ARGS, ids=str)
def test_batch_norm_matches_torch_over_steps_then_in_eval(d, shape, kwargs):
    theirs = getattr(torch.nn, f"BatchNorm{d}d")(3, **kwargs)
    ours = getattr(nn, f"BatchNorm{d}d")(3, **kwargs)
    assert repr(ours) == repr(theirs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(0.5, 1.5)
    copy_weights(ours, theirs)
    for _ in range(3):  # running stats accumulate (and num_batches_tracked counts)
        check_module(ours, theirs, _x(*shape), copy=False)
        theirs.zero_grad()
        ours.zero_grad()
    theirs.eval()
    ours.eval()
    check_module(ours, theirs, _x(*shape), copy=False)


def test_batch_norm_checks_dims_and_batch_size():
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(autodiff.ones(3, 2, 2))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm1d(3)(autodiff.ones(1, 3))
    assert nn.BatchNorm1d(3).eval()(autodiff.ones(1, 3)).shape == (1, 3)


def test_batch_norm_grad_fn_and_buffers():
    bn = nn.BatchNorm1d(2)
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    y = bn(autodiff.randn(4, 2, requires_grad=True))
    assert y.grad_fn.name() == "NativeBatchNormBackward0"
    assert bn.num_batches_tracked.item() == 1 and bn.num_batches_tracked.dtype == autodiff.int64
    assert nn.LayerNorm(2)(autodiff.randn(3, 2)).grad_fn.name() == "NativeLayerNormBackward0"
    assert nn.GroupNorm(1, 2)(autodiff.randn(3, 2, 2)).grad_fn.name() == "NativeGroupNormBackward0"


IN = [(1, (2, 3, 5)), (1, (3, 5)), (2, (2, 3, 4, 2)), (2, (3, 2, 3)), (3, (2, 3, 2, 2, 2))]
IN_ARGS = [{}, {"affine": True}, {"track_running_stats": True}, {"affine": True, "track_running_stats": True,
                                                                   "momentum": 0.4}]


@pytest.mark.parametrize(("d", "shape"), IN)
@pytest.mark.parametrize("kwargs", IN_ARGS, ids=str)
def test_instance_norm_matches_torch(d, shape, kwargs):
    theirs = getattr(torch.nn, f"InstanceNorm{d}d")(3, **kwargs)
    ours = getattr(nn, f"InstanceNorm{d}d")(3, **kwargs)
    assert repr(ours) == repr(theirs)
    if kwargs.get("affine"):
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            theirs.bias.uniform_(-0.5, 0.5)
    copy_weights(ours, theirs)
    for _ in range(2):
        check_module(ours, theirs, _x(*shape), copy=False)
        theirs.zero_grad()
        ours.zero_grad()
    theirs.eval()
    ours.eval()
    check_module(ours, theirs, _x(*shape), copy=False)


LN = [((4,), {}), ((3, 4), {}), ((4,), {"elementwise_affine": False}), ((4,), {"bias": False}),
      ([4], {"eps": 0.1})]


@pytest.mark.parametrize(("shape", "kwargs"), LN, ids=str)
def test_layer_norm_matches_torch(shape, kwargs):
    theirs, ours = torch.nn.LayerNorm(shape, **kwargs), nn.LayerNorm(shape, **kwargs)
    assert repr(ours) == repr(theirs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(0.5, 1.5)
    check_module(ours, theirs, _x(2, 3, 4))


@pytest.mark.parametrize(("groups", "kwargs"), [(1, {}), (2, {}), (4, {"affine": False}), (2, {"eps": 0.2}), (2, {"bias": False})])
def test_group_norm_matches_torch(groups, kwargs):
    theirs, ours = torch.nn.GroupNorm(groups, 4, **kwargs), nn.GroupNorm(groups, 4, **kwargs)
    assert repr(ours) == repr(theirs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(0.5, 1.5)
    check_module(ours, theirs, _x(2, 4, 3))
    check_module(ours, theirs, _x(2, 4, 3, 2))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        nn.functional.group_norm(autodiff.ones(2, 3, 2), 2)


@pytest.mark.parametrize(("shape", "kwargs"), [((4,), {}), ((3, 4), {"eps": 1e-3}),
                                                ((4,), {"elementwise_affine": False})], ids=str)
def test_rms_norm_matches_torch(shape, kwargs):
    theirs, ours = torch.nn.RMSNorm(shape, **kwargs), nn.RMSNorm(shape, **kwargs)
    assert repr(ours) == repr(theirs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(0.5, 1.5)
    check_module(ours, theirs, _x(2, 3, 4))


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_local_response_norm_matches_torch(size):
    theirs, ours = torch.nn.LocalResponseNorm(size, 0.3, 0.6, 1.5), nn.LocalResponseNorm(size, 0.3, 0.6, 1.5)
    assert repr(ours) == repr(theirs)
    check_module(ours, theirs, _x(2, 4, 3))
    check_module(ours, theirs, _x(2, 4, 3, 2))


@pytest.mark.parametrize(("p", "dim"), [(2.0, 1), (1.0, -1), (3.0, 0)])
def test_normalize_matches_torch(p, dim):
    x = _x(2, 3, 4)
    want = torch.nn.functional.normalize(torch.tensor(x), p=p, dim=dim)
    got = nn.functional.normalize(to_ours(x), p=p, dim=dim)
    np.testing.assert_allclose(values(got), want.numpy(), atol=1e-12)


def test_batch_norm_double_backward_matches_torch():
    x = _x(4, 3)
    w = np.array([0.5, 1.0, 2.0])
    outs = []
    for m, t in ((torch, torch.tensor), (autodiff, lambda v: to_ours(v))):
        xt, wt = t(x).requires_grad_(), t(w).requires_grad_()
        y = m.nn.functional.batch_norm(xt, None, None, wt, None, True)
        (gx,) = m.autograd.grad((y * y * y).sum(), xt, create_graph=True)
        (gw,) = m.autograd.grad((gx * gx).sum(), wt)
        outs.append(values(gw))
    np.testing.assert_allclose(outs[1], outs[0], atol=1e-9)
