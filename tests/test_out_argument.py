"""PyTorch's ``out=`` on the ``torch.*`` functions (ops/_prep.py ``write_out``): the result is
written into the given tensor (resized when its shape differs), which is returned; its dtype
must take the result's; no autograd through it."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff

CALLS = {
    "add": lambda m, a, b, out: m.add(a, b, out=out),
    "mul": lambda m, a, b, out: m.mul(a, b, out=out),
    "exp": lambda m, a, b, out: m.exp(a, out=out),
    "matmul": lambda m, a, b, out: m.matmul(a, b.t(), out=out),
    "sum-dim": lambda m, a, b, out: m.sum(a, 1, out=out),
    "cat": lambda m, a, b, out: m.cat([a, b], out=out),
    "stack": lambda m, a, b, out: m.stack([a, b], out=out),
    "clamp": lambda m, a, b, out: m.clamp(a, -0.5, 0.5, out=out),
    "where": lambda m, a, b, out: m.where(a > 0, a, b, out=out),
    "zeros": lambda m, a, b, out: m.zeros(2, 3, out=out),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("out_shape", [(2, 3), (0,)], ids=["same-shape", "resized"])
def test_out_matches_torch(name: str, out_shape: tuple) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    results = []
    for m in (autodiff, torch):
        out = m.zeros(out_shape, dtype=m.float64)
        returned = CALLS[name](m, m.tensor(x), m.tensor(y), out)
        assert returned is out
        results.append(np.array(out.tolist()))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_out_with_several_results() -> None:
    values, indices = autodiff.empty(3), autodiff.empty(3, dtype=autodiff.int64)
    autodiff.sort(autodiff.tensor([3.0, 1.0, 2.0]), out=(values, indices))
    assert values.tolist() == [1.0, 2.0, 3.0] and indices.tolist() == [1, 2, 0]


def test_out_refuses_what_torch_refuses() -> None:
    a = autodiff.ones(2)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        autodiff.add(a, a, out=autodiff.empty(2, dtype=autodiff.int64))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        autodiff.add(a.clone().requires_grad_(), a, out=autodiff.empty(2))
    with autodiff.no_grad():  # under no_grad it is allowed, as in PyTorch
        autodiff.add(a.clone().requires_grad_(), a, out=autodiff.empty(2))
    with pytest.raises(TypeError, match="argument 'out' must be Tensor"):
        autodiff.add(a, a, out=[1.0, 2.0])
    version = autodiff.empty(2)
    before = version._version[0]
    autodiff.add(a, a, out=version)
    assert version._version[0] == before + 1  # a write, as every in-place op
