"""Bad arguments to the new ``nn.functional`` ops raise PyTorch's exception classes with a
message naming the problem (checked against torch where both raise)."""

from __future__ import annotations

import pytest

import autodiff
import autodiff.nn.functional as F
from tests.nn.module_oracle import torch

CASES = [
    ("softshrink negative lambda", lambda m: m.nn.functional.softshrink(m.ones(2), -1.0), RuntimeError),
    ("glu odd dim", lambda m: m.nn.functional.glu(m.ones(3)), RuntimeError),
    ("prelu channel mismatch", lambda m: m.nn.functional.prelu(m.ones(2, 3), m.ones(4)), RuntimeError),
    ("hardtanh min > max", lambda m: m.nn.functional.hardtanh(m.ones(2), 1.0, -1.0), ValueError),
    ("layer_norm shape", lambda m: m.nn.functional.layer_norm(m.ones(2, 3), (4,)), RuntimeError),
    ("group_norm groups", lambda m: m.nn.functional.group_norm(m.ones(2, 3, 2), 2), RuntimeError),
    ("batch_norm one value", lambda m: m.nn.functional.batch_norm(m.ones(1, 3), None, None, training=True),
     ValueError),
    ("instance_norm one element", lambda m: m.nn.functional.instance_norm(m.ones(2, 3, 1)), ValueError),
    ("reflect pad too wide", lambda m: m.nn.functional.pad(m.ones(1, 2, 3), (3, 3), mode="reflect"),
     RuntimeError),
    ("circular pad too wide", lambda m: m.nn.functional.pad(m.ones(1, 2, 3), (4, 0), mode="circular"),
     RuntimeError),
    ("dropout p", lambda m: m.nn.functional.dropout2d(m.ones(2, 3, 2, 2), 1.5), ValueError),
    ("kl_div reduction", lambda m: m.nn.functional.kl_div(m.ones(2), m.ones(2), reduction="avg"), ValueError),
    ("smooth_l1 negative beta", lambda m: m.nn.functional.smooth_l1_loss(m.ones(2), m.ones(2), beta=-1.0),
     RuntimeError),
    ("huber non-positive delta", lambda m: m.nn.functional.huber_loss(m.ones(2), m.ones(2), delta=0.0),
     RuntimeError),
    ("multi_margin p", lambda m: m.nn.functional.multi_margin_loss(m.ones(2, 3), m.tensor([0, 1]), p=3),
     ValueError),
    ("gaussian_nll negative var", lambda m: m.nn.functional.gaussian_nll_loss(m.ones(2), m.ones(2), -m.ones(2)),
     ValueError),
    ("triplet margin", lambda m: m.nn.functional.triplet_margin_with_distance_loss(
        m.ones(2, 3), m.ones(2, 3), m.ones(2, 3), margin=0.0), ValueError),
    ("margin_ranking dims", lambda m: m.nn.functional.margin_ranking_loss(m.ones(2), m.ones(2), m.ones(2, 1)),
     RuntimeError),
]


@pytest.mark.parametrize(("what", "call", "exc"), CASES, ids=[c[0] for c in CASES])
def test_bad_arguments_raise_like_torch(what, call, exc):
    with pytest.raises(exc):
        call(torch)
    with pytest.raises(exc):
        call(autodiff)


def test_activation_rejects_non_tensors():
    with pytest.raises(TypeError, match="must be Tensor"):
        F.silu([1.0, 2.0])
