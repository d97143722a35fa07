"""Gradients exactly on the edges the op-table rows stay away from, against PyTorch: logit at
0 and 1 and outside [0, 1] (inf and nan), at its eps clamp bounds; copysign where the
magnitude is 0 or 1 and the sign input changes sign, with the sign input's gradient a zero
tensor (never None) as in PyTorch; the -inf norm (its gradient goes to the smallest entry); p-norms of a zero vector and a unit vector. First derivatives, and second ones where both are finite."""

from __future__ import annotations

import warnings

import pytest

import autodiff
from tests.spec_utils import assert_close

torch = pytest.importorskip("torch")

EDGES = [-0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5]
SIGNS = [1.0, -1.0, 0.0, -0.0, 2.0, -3.0, 1.0]

CASES = {
    "logit": (1, lambda m, a: m.logit(a)),
    "logit-eps-at-bounds": (1, lambda m, a: m.logit(a, eps=0.25)),
    "copysign": (2, lambda m, a, b: m.copysign(a, b)),
    "copysign-magnitude-minus": (2, lambda m, a, b: m.copysign(a - 1.0, b)),
    "norm-minus-inf": (1, lambda m, a: m.norm(a + 2.0, float("-inf")).expand(7)),
    # p-norms of a zero vector (gradient 0), a unit vector (norm 1 for every p) and a third one
    "norm-2-zero-unit": (1, lambda m, a: _norms_at_zero_and_one(m, a, 2.0)),
    "norm-3-zero-unit": (1, lambda m, a: _norms_at_zero_and_one(m, a, 3.0)),
    "norm-4-zero-unit": (1, lambda m, a: _norms_at_zero_and_one(m, a, 4.0)),
    "norm-1.5-zero-unit": (1, lambda m, a: _norms_at_zero_and_one(m, a, 1.5)),
}


def _norms_at_zero_and_one(m, a, p: float):
    """EDGES[1] is 0, EDGES[5] is 1: the norms of [0], [1] and [0.25, 0.5, 0.75]."""
    return (m.norm(a[1:2], p) + 2.0 * m.norm(a[5:6], p) + 3.0 * m.norm(a[2:5], p)).expand(7)


def _grads(m, name: str):
    n, f = CASES[name]
    xs = [m.tensor(v, dtype=m.float64, requires_grad=True) for v in (EDGES, SIGNS)[:n]]
    gs = m.autograd.grad((f(m, *xs) * m.arange(1.0, 8.0, dtype=m.float64)).sum(), xs, create_graph=True)
    assert all(g is not None for g in gs), f"{name}: an input got no gradient"
    return gs


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_on_domain_edges_match_torch(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mine, theirs = _grads(autodiff, name), _grads(torch, name)
    for k, (a, e) in enumerate(zip(mine, theirs)):
        assert_close(a, e, rtol=1e-12, what=f"{name}: gradient of input {k}")
