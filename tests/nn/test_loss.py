"""Loss modules against torch.nn: values and gradients (of every input that takes one) for
each reduction and constructor option."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff
import autodiff.nn as nn
from tests.nn.module_oracle import to_ours, to_torch, torch, values

R = np.random.default_rng(0)
X, Y, Z = R.normal(size=(3, 4)), R.normal(size=(3, 4)), R.normal(size=(3, 4))
SIGNS = np.sign(R.normal(size=(3, 4)))
PROBS = R.uniform(0.05, 1.0, size=(3, 4))
LABELS = np.array([1.0, -1.0, 1.0])

# (module, kwargs, inputs, how many leading inputs get gradients)
CASES = [
    ("L1Loss", {}, (X, Y), 2),
    ("MSELoss", {}, (X, Y), 2),
    ("SmoothL1Loss", {}, (X, Y), 2),
    ("SmoothL1Loss", {"beta": 0.4}, (X, Y), 2),
    ("SmoothL1Loss", {"beta": 0.0}, (X, Y), 2),
    ("HuberLoss", {}, (X, Y), 2),
    ("HuberLoss", {"delta": 0.3}, (X, Y), 2),
    ("KLDivLoss", {}, (X, PROBS), 2),
    ("KLDivLoss", {"log_target": True}, (X, Y), 2),
    ("PoissonNLLLoss", {}, (X, PROBS * 3), 2),
    ("PoissonNLLLoss", {"log_input": False, "full": True}, (PROBS, PROBS * 3), 2),
    ("GaussianNLLLoss", {}, (X, Y, PROBS), 3),
    ("GaussianNLLLoss", {"full": True, "eps": 0.1}, (X, Y, PROBS[:, 0]), 3),
    ("BCEWithLogitsLoss", {"pos_weight": np.array([1.0, 2.0, 0.5, 3.0])}, (X, PROBS), 2),
    ("SoftMarginLoss", {}, (X, SIGNS), 1),
    ("MultiLabelSoftMarginLoss", {}, (X, (SIGNS > 0) * 1.0), 1),
    ("MultiLabelSoftMarginLoss", {"weight": np.array([1.0, 2.0, 0.5, 3.0])}, (X, (SIGNS > 0) * 1.0), 1),
    ("MultiMarginLoss", {}, (X, np.array([1, 0, 3])), 1),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5, "weight": np.array([1.0, 2.0, 0.5, 3.0])},
     (X, np.array([1, 0, 3])), 1),
    ("MultiLabelMarginLoss", {}, (X, np.array([[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 1, 2]])), 1),
    ("HingeEmbeddingLoss", {}, (X, SIGNS), 1),
    ("HingeEmbeddingLoss", {"margin": 0.3}, (X, SIGNS), 1),
    ("MarginRankingLoss", {}, (X[0], Y[0], SIGNS[0]), 2),
    ("MarginRankingLoss", {"margin": 0.5}, (X[0], Y[0], SIGNS[0]), 2),
    ("CosineEmbeddingLoss", {}, (X, Y, LABELS), 2),
    ("CosineEmbeddingLoss", {"margin": 0.2}, (X, Y, LABELS), 2),
    ("TripletMarginLoss", {}, (X, Y, Z), 3),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "swap": True}, (X, Y, Z), 3),
    ("TripletMarginWithDistanceLoss", {}, (X, Y, Z), 3),
    ("TripletMarginWithDistanceLoss", {"margin": 0.5, "swap": True}, (X, Y, Z), 3),
    ("CrossEntropyLoss", {"label_smoothing": 0.2, "weight": np.array([1.0, 2.0, 0.5, 3.0]), "ignore_index": 3},
     (X, np.array([1, 0, 3])), 1),
    ("CrossEntropyLoss", {"label_smoothing": 0.1}, (X, PROBS / PROBS.sum(1, keepdims=True)), 1),
    ("NLLLoss", {"weight": np.array([1.0, 2.0, 0.5, 3.0]), "ignore_index": 0}, (X, np.array([1, 0, 3])), 1),
]


def _build(lib, name, kwargs, reduction):
    kw = {k: (to_torch(v) if lib is torch else to_ours(v)) if isinstance(v, np.ndarray) else v
          for k, v in kwargs.items()}
    return getattr(lib.nn, name)(reduction=reduction, **kw)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize(("name", "kwargs", "inputs", "n_grad"), CASES,
                         ids=[f"{c[0]}-{sorted(c[1])}" for c in CASES])
def test_loss_matches_torch(name, kwargs, inputs, n_grad, reduction):
    theirs, ours = _build(torch, name, kwargs, reduction), _build(autodiff, name, kwargs, reduction)
    xs_t = [to_torch(x, i < n_grad) for i, x in enumerate(inputs)]
    xs_o = [to_ours(x, i < n_grad) for i, x in enumerate(inputs)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # KLDivLoss's 'mean'
        y_t, y_o = theirs(*xs_t), ours(*xs_o)
    np.testing.assert_allclose(values(y_o), values(y_t), atol=1e-10, rtol=1e-7)
    w = np.linspace(0.5, 1.5, y_t.numel()).reshape(tuple(y_t.shape))
    (y_t * to_torch(w)).sum().backward()
    (y_o * to_ours(w)).sum().backward()
    for i in range(n_grad):
        np.testing.assert_allclose(values(xs_o[i].grad), values(xs_t[i].grad), atol=1e-10, rtol=1e-7)


def test_kl_div_batchmean_and_mean_warning():
    x, t = to_ours(X), to_ours(PROBS)
    want = torch.nn.functional.kl_div(to_torch(X), to_torch(PROBS), reduction="batchmean")
    np.testing.assert_allclose(values(nn.KLDivLoss(reduction="batchmean")(x, t)), want.numpy())
    with pytest.warns(UserWarning, match="batchmean"):
        nn.functional.kl_div(x, t)


def test_distance_modules_match_torch():
    for args in ({}, {"dim": 0, "eps": 0.5}):
        got = nn.CosineSimilarity(**args)(to_ours(X), to_ours(Y))
        want = torch.nn.CosineSimilarity(**args)(to_torch(X), to_torch(Y))
        np.testing.assert_allclose(values(got), want.numpy(), atol=1e-12)
    for args in ({}, {"p": 1.0, "keepdim": True}, {"p": 3.0, "eps": 0.1}):
        got = nn.PairwiseDistance(**args)(to_ours(X), to_ours(Y))
        want = torch.nn.PairwiseDistance(**args)(to_torch(X), to_torch(Y))
        np.testing.assert_allclose(values(got), want.numpy(), atol=1e-12)


def test_bad_loss_arguments_raise_like_torch():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.L1Loss(reduction="avg")(autodiff.ones(2), autodiff.ones(2))
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="var has negative"):
        nn.GaussianNLLLoss()(autodiff.ones(2), autodiff.ones(2), -autodiff.ones(2))
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0.0)
