"""Dropout variants (train/eval, channel masks, alpha statistics) and padding modules
against torch.nn (values and gradients, every mode)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import autodiff.nn as nn
from tests.nn.module_oracle import check_module, to_ours, torch, values


@pytest.mark.parametrize(("name", "shape"), [("Dropout1d", (4, 6, 5)), ("Dropout1d", (6, 5)),
                                             ("Dropout2d", (4, 6, 3, 2)), ("Dropout3d", (4, 6, 2, 2, 2)),
                                             ("FeatureAlphaDropout", (4, 6, 5))])
def test_channel_dropout_zeroes_whole_channels_in_training_only(name, shape):
    m = getattr(nn, name)(0.5)
    assert repr(m) == repr(getattr(torch.nn, name)(0.5))
    x = autodiff.ones(*shape, requires_grad=True)
    y = m(x)
    flat = np.asarray(values(y)).reshape(shape[: len(shape) - (len(shape) - 2 if len(shape) > 2 else 1)] + (-1,))
    per_channel = flat.reshape(-1, flat.shape[-1])
    assert all(len(set(row.tolist())) == 1 for row in per_channel)  # one value per channel
    assert len(set(per_channel[:, 0].tolist())) == 2  # some channels kept, some dropped
    y.sum().backward()
    assert x.grad is not None
    m.eval()
    assert m(x) is x


def test_dropout2d_scales_kept_channels():
    y = nn.Dropout2d(0.25)(autodiff.ones(8, 16, 2, 2))
    assert set(np.round(values(y), 6).ravel().tolist()) <= {0.0, round(1 / 0.75, 6)}


def test_dropout2d_takes_3d_input_as_batched_1d_with_torchs_warning():
    with pytest.warns(UserWarning, match="channel-wise 1D dropout"):
        y = nn.Dropout2d(0.5)(autodiff.ones(8, 6, 5))
    rows = values(y).reshape(48, 5)
    assert all(len(set(r.tolist())) == 1 for r in rows) and len(set(rows[:, 0].tolist())) == 2


def test_dropout_checks_p_and_dims():
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        nn.Dropout1d()(autodiff.ones(2, 3, 4, 5))


def test_alpha_dropout_keeps_selu_statistics():
    autodiff.manual_seed(0)
    x = nn.functional.selu(autodiff.randn(200_000))
    y = nn.AlphaDropout(0.3)(x)
    assert abs(y.mean().item() - x.mean().item()) < 0.02
    assert abs(y.std().item() - x.std().item()) < 0.02
    assert nn.AlphaDropout(0.3).eval()(x) is x
    assert np.allclose(values(nn.functional.alpha_dropout(x, 1.0, True)), 0.0)


PADS = [("ZeroPad1d", (2,), (2, 3, 4)), ("ZeroPad2d", ((1, 0, 2, 1),), (2, 3, 4)),
        ("ZeroPad3d", (1,), (1, 2, 2, 3, 2)), ("ConstantPad1d", ((1, 2), 3.5), (2, 4)),
        ("ConstantPad2d", (1, -1.0), (2, 3, 4)), ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 0.5), (2, 2, 3, 2)),
        ("ReflectionPad1d", ((2, 3),), (2, 3, 4)), ("ReflectionPad1d", (1,), (3, 4)),
        ("ReflectionPad2d", ((1, 0, 2, 1),), (2, 3, 4)), ("ReflectionPad3d", (1,), (1, 2, 2, 3, 2)),
        ("ReplicationPad1d", ((3, 1),), (2, 3, 4)), ("ReplicationPad2d", (2,), (1, 2, 3, 4)),
        ("ReplicationPad3d", ((1, 2, 0, 1, 2, 0),), (2, 2, 3, 2)), ("CircularPad1d", ((2, 4),), (2, 3, 4)),
        ("CircularPad2d", ((1, 0, 2, 3),), (1, 2, 3, 4)), ("CircularPad3d", (1,), (1, 2, 2, 3, 2))]


@pytest.mark.parametrize(("name", "args", "shape"), PADS, ids=[f"{p[0]}{p[1]}" for p in PADS])
def test_padding_matches_torch(name, args, shape):
    theirs, ours = getattr(torch.nn, name)(*args), getattr(nn, name)(*args)
    assert repr(ours) == repr(theirs)
    check_module(ours, theirs, np.arange(np.prod(shape), dtype=np.float64).reshape(shape) * 0.5 - 1)


def test_pad_modes_reject_too_much_padding():
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        nn.functional.pad(to_ours(np.ones((1, 2, 3))), (3, 0), mode="reflect")
    with pytest.raises(NotImplementedError):
        nn.functional.pad(to_ours(np.ones(3)), (1, 1, 1, 1), mode="replicate")


def test_dropout_inplace_writes_into_the_input():
    x = autodiff.ones(4, 5, requires_grad=True)
    h = x * 1
    y = nn.Dropout(0.5, inplace=True)(h)
    assert y is h and h._version[0] == 1
    y.sum().backward()
    assert sorted(set(values(x.grad).ravel().tolist())) == [0.0, 2.0]


@pytest.mark.parametrize("name", ["Dropout1d", "AlphaDropout", "FeatureAlphaDropout"])
def test_dropout_variants_inplace(name):
    x = autodiff.ones(4, 5, 3, requires_grad=True)
    h = x * 1
    y = getattr(nn, name)(0.5, inplace=True)(h)
    assert y is h and h._version[0] == 1
    y.sum().backward()
    assert x.grad is not None
