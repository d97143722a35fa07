"""``autograd.functional``: vjp, jvp, jacobian, hessian, hvp, vhp against closed forms
and against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from autodiff.autograd import functional as F  # noqa: N812 - PyTorch users write F
from tests._autograd_helpers import T, close, host


def rosenbrock(x):
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def rosenbrock_hessian(x: np.ndarray) -> np.ndarray:
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 2 - 400 * (x[i + 1] - x[i] ** 2) + 800 * x[i] ** 2
        h[i, i + 1] += -400 * x[i]
        h[i + 1, i] += -400 * x[i]
        h[i + 1, i + 1] += 200
    return h


def test_hessian_of_rosenbrock(device: str) -> None:
    xs = np.array([1.2, 0.8, -0.5, 2.0])
    h = F.hessian(rosenbrock, T(xs.tolist(), device))
    assert h.shape == (4, 4) and not h.requires_grad
    assert close(h, rosenbrock_hessian(xs))


def test_jacobian_of_linear_map_is_its_matrix(device: str) -> None:
    a = T([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device)
    j = F.jacobian(lambda x: a @ x, T([0.3, -1.0, 2.0], device))
    assert j.shape == (2, 3) and close(j, a)


def test_jacobian_structures(device: str) -> None:
    x, y = T([1.0, 2.0], device), T([3.0, 4.0, 5.0], device)
    jac = F.jacobian(lambda a, b: (a.sum() * b, a ** 2), (x, y))
    assert isinstance(jac, tuple) and len(jac) == 2 and all(len(r) == 2 for r in jac)
    assert [tuple(j.shape) for r in jac for j in r] == [(3, 2), (3, 3), (2, 2), (2, 3)]
    assert close(jac[0][0], [[3.0, 3.0], [4.0, 4.0], [5.0, 5.0]])
    assert close(jac[0][1], 3.0 * np.eye(3)) and close(jac[1][0], np.diag([2.0, 4.0]))
    assert close(jac[1][1], np.zeros((2, 3)))
    single = F.jacobian(lambda a: a ** 2, (x,))  # tuple input, single output
    assert isinstance(single, tuple) and len(single) == 1


def test_vjp_jvp_hvp_vhp(device: str) -> None:
    xs = np.array([1.2, 0.8, -0.5])
    x, v = T(xs.tolist(), device), T([1.0, -1.0, 2.0], device)
    out, g = F.vjp(lambda a: a ** 3, x, v)
    assert close(out, xs ** 3) and close(g, 3 * xs ** 2 * host(v))
    out, g = F.jvp(lambda a: a ** 3, x, v)
    assert close(g, 3 * xs ** 2 * host(v))
    hv = rosenbrock_hessian(xs) @ host(v)
    out, g = F.hvp(rosenbrock, x, v)
    assert close(g, hv) and close(out, host(rosenbrock(x)))
    out, g = F.vhp(rosenbrock, x, v)
    assert close(g, hv)


def test_create_graph_and_strict(device: str) -> None:
    x = T([1.0, 2.0], device, True)
    _, g = F.vjp(lambda a: (a ** 3).sum(), x, create_graph=True)
    assert g.requires_grad
    (gg,) = autodiff.autograd.grad(g.sum(), x)
    assert close(gg, [6.0, 12.0])
    with pytest.raises(RuntimeError, match="independent of input 1"):
        F.vjp(lambda a, b: a * 2, (x, x), T([1.0, 1.0], device), strict=True)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients"):
        F.jacobian(lambda a: a.detach(), x, strict=True)
    assert close(F.jacobian(lambda a: a.detach(), x), np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="The vector v can only be None"):
        F.vjp(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="v has invalid size: should be torch.Size"):
        F.jvp(lambda a: a * 2, x, T([1.0], device))
    with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor or a tuple"):
        F.jacobian(lambda a: a, [x])


def test_functional_matches_torch() -> None:
    torch = pytest.importorskip("torch")

    def run(lib):
        Fl = lib.autograd.functional  # noqa: N806
        x = lib.tensor([1.2, 0.8, -0.5], dtype=lib.float64)
        v = lib.tensor([1.0, -1.0, 2.0], dtype=lib.float64)

        def f2(a, b):
            return (a * b.exp()).sum(), a ** 2

        res = [Fl.hessian(rosenbrock, x), Fl.jvp(lambda a: a.exp() * a, x, v), Fl.vjp(f2, (x, x * 2), (
            lib.tensor(1.0, dtype=lib.float64), v)), Fl.jacobian(f2, (x, x * 2)),
            Fl.hessian(lambda a, b: (a * a * b).sum(), (x, x + 1)), Fl.hvp(rosenbrock, x, v)]

        def walk(o):
            if isinstance(o, (tuple, list)):
                return [walk(e) for e in o]
            return np.round(host(o), 8).tolist()

        return walk(res)

    assert run(autodiff) == run(torch)
