"""Second derivatives through every op, compared with PyTorch (``create_graph=True``)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from tests._autograd_helpers import close

A = np.random.default_rng(0).uniform(0.5, 1.5, (2, 3))
B = np.random.default_rng(1).uniform(0.5, 1.5, (3,))
M = np.random.default_rng(2).uniform(-1, 1, (3, 2))

OPS = {
    "add_broadcast": lambda a, b, m: a + b * 2,
    "sub_alpha": lambda a, b, m: (a * a).sub(b, alpha=3),
    "mul": lambda a, b, m: a * b * a,
    "div": lambda a, b, m: a / (b + a),
    "rdiv": lambda a, b, m: 2.0 / a,
    "pow_scalar": lambda a, b, m: a ** 3 + a ** 0.5,
    "pow_tensor": lambda a, b, m: a ** b,
    "rpow": lambda a, b, m: 2.0 ** a,
    "neg_reciprocal": lambda a, b, m: -(a * b).reciprocal(),
    "exp_log_sqrt": lambda a, b, m: (a * b).exp() + (a * a).log() * (a + b).sqrt(),
    "abs_clamp": lambda a, b, m: (a - 1).abs() * a + (a * a).clamp(0.6, 1.5),
    "where": lambda a, b, m: autodiff_or_torch(a).where(a > 1, a * a, b * a),
    "sum_mean_dims": lambda a, b, m: (a * a).sum(0) * (a * b).mean(1, keepdim=True),
    "expand_view_reshape": lambda a, b, m: (a * a).view(3, 2).reshape(6).expand(2, 6) * a.reshape(6),
    "permute_t_transpose": lambda a, b, m: (a * a).t() * a.permute(1, 0) + a.transpose(0, 1) ** 2,
    "unsqueeze_squeeze": lambda a, b, m: (a * a).unsqueeze(1).squeeze(1) * a,
    "getitem_basic_advanced": lambda a, b, m: (a * a)[1, 1:] * a[0, [2, 0]] + (a ** 3)[:, None][1, 0, 1:],
    "setitem": lambda a, b, m: _setitem(a, b),
    "mm_matmul": lambda a, b, m: (a * a) @ m @ (m.t() @ a[0]) + a @ b,
    "dot": lambda a, b, m: (a[0] * a[0]).dot(a[1] * b),
    "clone_contiguous": lambda a, b, m: (a * a).clone() * a.t().contiguous().t(),
}


def autodiff_or_torch(t):
    return autodiff if isinstance(t, autodiff.Tensor) else __import__("torch")


def _setitem(a, b):
    y = a * 1
    y[0, 1:] = b[:2] * a[1, :2]
    y[1] = y[1].clone() * b
    return y * y


def _cat_stack(a, b, m):
    lib = autodiff_or_torch(a)
    return lib.cat([a * a, a], 0).sum(0) * lib.stack([a, a * b]).sum(0).sum(0)


OPS["cat_stack"] = _cat_stack


@pytest.mark.parametrize("name", sorted(OPS))
def test_second_derivative_matches_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    fn = OPS[name]

    def run(lib):
        a = lib.tensor(A, dtype=lib.float64, requires_grad=True)
        b = lib.tensor(B, dtype=lib.float64, requires_grad=True)
        m = lib.tensor(M, dtype=lib.float64, requires_grad=True)
        out = fn(a, b, m)
        w = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)), dtype=lib.float64)
        ga, gb, gm = lib.autograd.grad((out * w).sum(), [a, b, m], create_graph=True, allow_unused=True)
        s = sum((g * g).sum() for g in (ga, gb, gm) if g is not None and g.requires_grad)
        if not isinstance(s, (lib.Tensor,)):
            return [ga, gb, gm], [None, None, None]
        return [ga, gb, gm], list(lib.autograd.grad(s, [a, b, m], allow_unused=True))

    ours, theirs = run(autodiff), run(torch)
    for x, y in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        assert (x is None) == (y is None)
        if x is not None:
            assert close(x, y, 1e-9)
