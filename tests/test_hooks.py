"""Tensor hooks, ``retain_grad``/``retains_grad`` and the non-leaf ``.grad`` warning."""

from __future__ import annotations

import warnings

import pytest

import autodiff
from autodiff.autograd import grad
from tests._autograd_helpers import T, close


def test_leaf_hook_sees_and_replaces_grad(device: str) -> None:
    x = T([1.0, 2.0], device, True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]] and close(x.grad, [30.0, 30.0])


def test_non_leaf_hook_replaces_grad_flowing_on(device: str) -> None:
    x = T([1.0, 2.0], device, True)
    y = x * 2
    y.register_hook(lambda g: g + 1)
    (y ** 2).sum().backward()  # dL/dy = 2y = [4, 8] -> [5, 9] -> dL/dx = 2 * that
    assert close(x.grad, [10.0, 18.0])


def test_hooks_run_in_registration_order_and_remove(device: str) -> None:
    x = T([1.0], device, True)
    order = []
    h1 = x.register_hook(lambda g: order.append(1))
    x.register_hook(lambda g: order.append(2))
    x.sum().backward()
    h1.remove()
    h1.remove()  # removing twice is harmless
    x.sum().backward()
    assert order == [1, 2, 2]


def test_hook_in_autograd_grad(device: str) -> None:
    x = T([1.0, 2.0], device, True)
    x.register_hook(lambda g: g * 0 + 7)
    (g,) = grad((x ** 2).sum(), x)
    assert close(g, [7.0, 7.0]) and x.grad is None


def test_hook_errors(device: str) -> None:
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        T([1.0], device).register_hook(lambda g: g)
    x = T([1.0, 2.0], device, True)
    y = x * 1
    y.register_hook(lambda g: g[0])
    with pytest.raises(RuntimeError, match="hook '<lambda>' has changed the size of value"):
        y.sum().backward()


def test_retain_grad(device: str) -> None:
    x = T([1.0, 2.0], device, True)
    y = x * 2
    assert not y.retains_grad and not x.retains_grad
    y.retain_grad()
    x.retain_grad()  # no-op on a leaf
    assert y.retains_grad and not x.retains_grad
    y.register_hook(lambda g: g * 3)  # retain_grad stores the grad after the other hooks
    (y ** 2).sum().backward(retain_graph=True)
    assert close(y.grad, [12.0, 24.0])
    (y ** 2).sum().backward()
    assert close(y.grad, [24.0, 48.0])  # accumulates, as .grad of a leaf does


def test_retain_grad_follows_inplace_rebase(device: str) -> None:
    x = T([1.0, 2.0], device, True)
    y = x * 2
    y.retain_grad()
    y.mul_(3)
    (y * y).sum().backward()
    assert close(y.grad, [12.0, 24.0])  # gradient of the new (in-place) value


def test_non_leaf_grad_warning(device: str) -> None:
    x = T([1.0], device, True)
    y = x * 2
    with pytest.warns(UserWarning, match="The .grad attribute of a Tensor that is not a leaf"):
        assert y.grad is None
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y.grad is None and x.grad is None


def test_grad_setter_checks(device: str) -> None:
    x = T([1.0, 2.0], device, True)
    with pytest.raises(RuntimeError, match=r"attempting to assign a gradient of size '\[3\]' to a tensor of size '\[2\]'"):
        x.grad = T([1.0, 2.0, 3.0], device)
    x.grad = T([5.0, 6.0], device)
    (x * 1).sum().backward()
    assert close(x.grad, [6.0, 7.0])
    del x.grad
    assert x.grad is None


def test_hooks_match_torch() -> None:
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(g.tolist()))
        x.register_hook(lambda g: g * 10)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g + 1)
        (y ** 2).sum().backward()
        a = x * 3
        (a ** 2).sum().backward(inputs=[a])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a_grad = a.grad.tolist()
        return seen, x.grad.tolist(), y.grad.tolist(), a_grad

    assert run(autodiff) == run(torch)
