"""A small central-difference gradient checker for the op tests (float64).

``check(fn, inputs)`` compares the Jacobian-vector products of ``autograd.grad`` with
finite differences of ``fn``; ``check2`` does the same one order up, for the gradient
itself (grad-of-grad against finite differences of the grad).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff


def _host(t: Any) -> np.ndarray:
    return np.asarray(t.detach().cpu().tolist(), dtype=np.float64).reshape(tuple(t.shape))


def _with(inputs: list, i: int, flat: int, delta: float) -> list:
    x = inputs[i]
    h = _host(x).reshape(-1).copy()
    h[flat] += delta
    moved = autodiff.tensor(h.reshape(tuple(x.shape)), dtype=x.dtype, device=x.device)
    return [moved if k == i else t for k, t in enumerate(inputs)]


def _as_tuple(out: Any) -> tuple:
    return out if isinstance(out, tuple) else (out,)


def _jvp_numeric(fn: Any, inputs: list, weights: tuple, eps: float) -> list:
    """d/dx_i of sum(w * fn(x)), by central differences, for every input entry."""
    grads = []
    with autodiff.no_grad():
        for i, x in enumerate(inputs):
            g = np.zeros(x.numel())
            for k in range(x.numel()):
                hi = _as_tuple(fn(*_with(inputs, i, k, eps)))
                lo = _as_tuple(fn(*_with(inputs, i, k, -eps)))
                g[k] = sum(float(((a - b) * w).sum()) for a, b, w in zip(hi, lo, weights)) / (2 * eps)
            grads.append(g.reshape(tuple(x.shape)))
    return grads


def _weights(out: tuple, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    return tuple(autodiff.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, device=o.device)
                 for o in out)


def check(fn: Any, inputs: list, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """First derivatives of ``fn`` at ``inputs`` (float64 leaves requiring grad)."""
    out = _as_tuple(fn(*inputs))
    w = _weights(out, 0)
    s = sum((o * wi).sum() for o, wi in zip(out, w))
    # A gradient that is constant in the inputs (e.g. of a linear op) has no graph: zero.
    analytic = (autodiff.autograd.grad(s, inputs, allow_unused=True) if s.requires_grad
                else (None,) * len(inputs))
    numeric = _jvp_numeric(fn, inputs, w, eps)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        a = np.zeros_like(n) if a is None else _host(a)
        np.testing.assert_allclose(a, n, atol=atol, rtol=rtol, err_msg=f"gradient of input {i}")


def check2(fn: Any, inputs: list, eps: float = 1e-5, atol: float = 1e-4, rtol: float = 1e-3) -> None:
    """Second derivatives: the (weighted) gradient of ``fn`` is itself checked with ``check``."""
    out = _as_tuple(fn(*inputs))
    w = _weights(out, 0)

    def grad_fn(*xs: Any) -> tuple:
        with autodiff.enable_grad():  # the finite differences run under no_grad
            xs = tuple(x if x.requires_grad else x.detach().requires_grad_() for x in xs)
            o = _as_tuple(fn(*xs))
            s = sum((oi * wi).sum() for oi, wi in zip(o, w))
            gs = autodiff.autograd.grad(s, xs, create_graph=True, allow_unused=True)
            return tuple(g if g is not None else x * 0 for g, x in zip(gs, xs))

    check(grad_fn, inputs, eps, atol, rtol)
