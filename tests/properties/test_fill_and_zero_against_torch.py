"""fill_ and zero_ as PyTorch's: the gradient through a non-leaf (or a view of one) that was
filled, the version counter after each fill (shared with views), and the tangent of a dual
tensor that was filled (a constant now: zero)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff

torch = pytest.importorskip("torch")

FILLS = {
    "fill_": lambda t: t.fill_(2.5),
    "zero_": lambda t: t.zero_(),
    "fill_-0d-tensor": lambda t: t.fill_(t.new_tensor(-1.0)),
}


def _np(t) -> np.ndarray:
    return np.asarray(t.detach().tolist(), dtype=np.float64)


def _gradient_through_fill(m, fill, where: str, shape: tuple[int, ...]):
    x = m.arange(1.0, 1.0 + int(np.prod(shape)), dtype=m.float64).reshape(shape).requires_grad_()
    w = m.linspace(-1.0, 2.0, int(np.prod(shape)), dtype=m.float64).reshape(shape)
    y = x * w  # a non-leaf
    target = y[..., :1] if where == "view" else y
    fill(target)
    recorded = (y.is_leaf, target.is_leaf, y.grad_fn is None)  # still computed by the graph
    z = (y * x).sum() + (y ** 2).sum()
    z.backward()
    return recorded, _np(y), _np(x.grad)


@pytest.mark.parametrize("where", ["non-leaf", "view"])
@pytest.mark.parametrize("name", sorted(FILLS))
@pytest.mark.parametrize("shape", [(3,), (2, 3)])
def test_gradient_through_a_filled_tensor_matches_torch(name: str, where: str, shape: tuple[int, ...]) -> None:
    ours = _gradient_through_fill(autodiff, FILLS[name], where, shape)
    theirs = _gradient_through_fill(torch, FILLS[name], where, shape)
    assert ours[0] == theirs[0] == (False, False, False)
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(FILLS))
def test_fill_of_a_leaf_that_requires_grad_is_refused_like_torch(name: str) -> None:
    messages = []
    for m in (autodiff, torch):
        x = m.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            FILLS[name](x)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def _version(t) -> int:
    return t._version_value if isinstance(t, autodiff.Tensor) else t._version


def _versions_after_fills(m, name: str, times: int) -> list[int]:
    a = m.zeros(2, 3)
    view = a[1]
    seen = []
    for i in range(times):
        FILLS[name](a if i % 2 == 0 else view)
        seen.append((_version(a), _version(view)))
    return seen


@pytest.mark.parametrize("times", [1, 2, 3])
@pytest.mark.parametrize("name", sorted(FILLS))
def test_fill_moves_the_version_counter_like_torch(name: str, times: int) -> None:
    assert _versions_after_fills(autodiff, name, times) == _versions_after_fills(torch, name, times)


@pytest.mark.parametrize("name", sorted(FILLS))
def test_fill_of_a_saved_tensor_makes_backward_raise(name: str) -> None:
    x = autodiff.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    z = y * y  # y saved at version 0
    FILLS[name](y)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def _tangent_after_fill(m, fill) -> np.ndarray:
    fwad = m.autograd.forward_ad
    with fwad.dual_level():
        x = fwad.make_dual(m.tensor([1.0, -2.0, 3.0], dtype=m.float64),
                           m.tensor([0.5, 1.0, -1.5], dtype=m.float64))
        y = x * 2
        fill(y)
        tangent = fwad.unpack_dual(y).tangent
        # PyTorch keeps a zero tangent, autodiff none at all: both say "a constant".
        return np.zeros(3) if tangent is None else _np(tangent)


@pytest.mark.parametrize("name", sorted(FILLS))
def test_fill_of_a_dual_tensor_leaves_no_tangent(name: str) -> None:
    ours = _tangent_after_fill(autodiff, FILLS[name])
    np.testing.assert_array_equal(ours, _tangent_after_fill(torch, FILLS[name]))
    np.testing.assert_array_equal(ours, np.zeros(3))
