"""Helpers shared by the op-spec property tests and the PyTorch differential tests.

Everything takes the library ``m`` (``autodiff`` or ``torch``), so one function computes
the same quantity in both.
"""

from __future__ import annotations

from typing import Any

from autodiff.testing import OpSpec
from autodiff.testing.strategies import Case, make_tensor


def outputs(result: Any) -> tuple:
    """An op's result as a tuple of its floating-point tensor outputs."""
    res = result if isinstance(result, (tuple, list)) else (result,)
    return tuple(o for o in res if o.dtype.is_floating_point)


def weights(m: Any, like: Any) -> Any:
    """Fixed, uneven weights shaped like ``like`` (so a wrong permutation of a gradient shows)."""
    n = like.numel()
    flat = [1.0 + 0.25 * (k % 5) - 0.1 * (k % 3) for k in range(n)]
    return make_tensor(m, flat, tuple(like.shape), str(like.dtype).split(".")[-1],
                       like.device, requires_grad=False)


def loss(m: Any, outs: tuple) -> Any:
    """``sum_o (o * w_o).sum()``, in the first output's dtype."""
    total = None
    for o in outs:
        term = (o * weights(m, o)).sum()
        total = term if total is None else total + term.to(total.dtype)
    return total


def run(spec: OpSpec, m: Any, case: Case, dtype: str = "float64", device: str = "cpu") -> tuple:
    """Inputs, outputs and the first derivatives of ``loss`` w.r.t. every input."""
    xs = case.tensors(m, dtype, device)
    outs = outputs(spec.fn(m, *xs, **case.params))
    grads = grads_of(m, loss(m, outs), xs) if outs else ()
    return xs, outs, grads


def grads_of(m: Any, y: Any, xs: tuple, create_graph: bool = False, retain_graph: bool = False) -> tuple:
    """``autograd.grad`` with unused inputs' gradients as zeros."""
    if not y.requires_grad:
        return tuple(m.zeros_like(x) for x in xs)
    gs = m.autograd.grad(y, xs, allow_unused=True, create_graph=create_graph,
                         retain_graph=retain_graph or create_graph)
    return tuple(m.zeros_like(x) if g is None else g for x, g in zip(xs, gs))


def host(t: Any) -> list:
    """Values as nested Python lists (float), from either library and any device."""
    # "+ 0" materializes torch's efficient zero tensors (which refuse tolist()).
    v = (t.detach().cpu().double() + 0).tolist()
    return v if isinstance(v, list) else [v]


def flat(v: Any) -> list[float]:
    if isinstance(v, list):
        return [x for item in v for x in flat(item)]
    return [v]


def assert_close(actual: Any, expected: Any, rtol: float, atol: float = 0.0, what: str = "") -> None:
    """Elementwise ``|a - e| <= atol + rtol * |e|`` on host values (NaNs must match)."""
    a, e = flat(host(actual)), flat(host(expected))
    assert len(a) == len(e), f"{what}: {len(a)} values, expected {len(e)}"
    for k, (x, y) in enumerate(zip(a, e)):
        if x == y:  # also equal infinities, whose difference is nan
            continue
        if x != x or y != y:
            assert x != x and y != y, f"{what}: NaN mismatch at {k}: {x} vs {y}"
            continue
        assert abs(x - y) <= atol + rtol * abs(y), f"{what}: element {k}: {x} vs expected {y}\n{a}\n{e}"


def scale(t: Any) -> float:
    """The largest magnitude in ``t`` (at least 1): tolerances are relative to it."""
    vals = [abs(x) for x in flat(host(t)) if x == x]
    return max([1.0] + vals)
