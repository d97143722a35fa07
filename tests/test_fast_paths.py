"""The hot-path shortcuts keep PyTorch's semantics: 0-d results, cached float operands,
in-place writes under no_grad, in-place gradient accumulation, the size-1 gradient
broadcast, sum dtypes and the backward paths taken when no graph is recorded.

The engine's edge and ordering shortcuts are tested in test_engine_order.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff
from autodiff.ops import _prep


def test_zero_dim_results_are_backend_arrays(device: str) -> None:
    a = autodiff.tensor(2.0, device=device, requires_grad=True)
    for out in (a * a, a + a, a - 1.5, a / a, a ** 2, a * 3):
        assert out._data.__class__ is out._be._array_type
    (a * a).backward()
    assert a.grad._data.__class__ is a._be._array_type
    assert a.grad.item() == 4.0


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_cached_float_operand_same_bits_and_dtype(device: str) -> None:
    x = autodiff.tensor([1.0, -2.5, 3.25], device=device)
    for value in (1.0001, 0.1, -7.5, 1e-45, 3.4e38, float("inf")):
        for op in ("__mul__", "__add__", "__sub__", "__truediv__"):
            got = getattr(x, op)(value)
            # NEP 50 (and PyTorch): the Python float is cast to float32 first.
            want = getattr(x.detach().cpu().numpy(), op)(np.float32(value))
            assert got.dtype is autodiff.float32
            assert got.tolist() == want.tolist()


def test_negative_zero_keeps_its_sign() -> None:
    x = autodiff.tensor([1.0, 2.0])
    y = x * 0.0001  # caches a non-zero operand
    assert y.tolist()[0] > 0
    z = x * -0.0
    assert all(math.copysign(1.0, v) < 0 for v in z.tolist())
    assert all(math.copysign(1.0, v) > 0 for v in (x * 0.0).tolist())


def test_operand_cache_is_bounded() -> None:
    x = autodiff.tensor([1.0])
    for i in range(3000):
        x * (1.0 + i * 1e-6)
    x * float("nan")
    assert len(_prep.OPERANDS) <= 1025


def test_inplace_sgd_update_under_no_grad(device: str) -> None:
    w = autodiff.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    (w * w).sum().backward()
    data, version = w._data, w._version[0]
    expected = [1.0 - 0.1 * 2.0, 2.0 - 0.1 * 4.0, 3.0 - 0.1 * 6.0]
    with autodiff.no_grad():
        w -= 0.1 * w.grad
    assert w._data is data and w._version[0] == version + 1
    assert w.tolist() == pytest.approx(expected)
    assert w.dtype is autodiff.float32 and w.requires_grad and w.grad_fn is None
    with autodiff.no_grad():
        w *= 2
        w += 1.0
        w /= 2.0
    assert w.tolist() == pytest.approx([(2 * e + 1) / 2 for e in expected])
    assert w._version[0] == version + 4


def test_inplace_fast_path_keeps_errors_and_dtype_rules() -> None:
    w = autodiff.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w -= 1.0
    i = autodiff.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i += 0.5
    assert i.tolist() == [1, 2]
    f = autodiff.tensor([1.0, 2.0])
    f += autodiff.tensor([1.0, 1.0], dtype=autodiff.float64)  # long way: cast back
    assert f.dtype is autodiff.float32 and f.tolist() == [2.0, 3.0]


def test_gradient_accumulates_in_place(device: str) -> None:
    w = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    (w * 3.0).sum().backward()
    g = w.grad
    storage = g._data
    (w * w).sum().backward()
    assert w.grad is g and g._data is storage
    assert g.tolist() == [3.0 + 2.0, 3.0 + 4.0]
    g.zero_()
    (w * 3.0).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_scalar_loss_gradient_broadcast_is_read_only_and_right(device: str) -> None:
    # SumBackward0 expands a one-element gradient (the size-1 broadcast shortcut).
    x = autodiff.tensor([[1.0, 2.0], [3.0, 4.0]], device=device, requires_grad=True)
    (x * 3.0).sum().backward()
    assert x.grad.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    g = autodiff.tensor(2.0, device=device)
    e = g.expand(2, 3)
    assert e.shape == (2, 3) and e.tolist() == [[2.0] * 3] * 2
    be = g._be
    assert be.is_view(e._data)
    for shape in ((0, 3), (1,), (4, 1, 2)):
        assert be.to_host(be.broadcast_to(g._data, shape)).shape == shape
    if device == "cpu":
        with pytest.raises(ValueError):
            e._data[0, 0] = 5.0  # read-only, as np.broadcast_to's views
    g.add_(1.0)
    assert e.tolist() == [[3.0] * 3] * 2  # still a view of g


def test_sum_dtypes_match_numpy_sum() -> None:
    for arr in (np.ones((2, 3), np.int32), np.ones((2, 3), bool), np.ones(4, np.float16),
                np.zeros((0, 2), np.float64), np.float32(2.5)):
        t = autodiff.tensor(arr)
        want = np.sum(arr.astype(np.int64) if arr.dtype.kind in "bi" else arr)
        got = t.sum()
        assert got.tolist() == want.tolist()
        assert got.dtype.name == str(np.asarray(want).dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_mul_add_fast_paths_forward_and_backward(device: str, dtype: str) -> None:
    dt = getattr(autodiff, dtype)
    x = autodiff.tensor([1.0, -2.0], dtype=dt, device=device, requires_grad=True)
    y = (x * 1.0001 + 0.001) * 1.0001  # second use of each float: cached operands
    assert y.grad_fn.name() == "MulBackward0" and y.dtype is dt
    v = autodiff.tensor([1.0, 2.0], dtype=dt, device=device, requires_grad=True)
    (g,) = autodiff.autograd.grad(y, x, grad_outputs=v, create_graph=True)
    assert g.dtype is dt and g.grad_fn.name() == "MulBackward0"  # create_graph: recorded
    (h,) = autodiff.autograd.grad(y.sum(), x)
    want = (np.ones(2, dtype=dtype) * np.asarray(1.0001, dtype=dtype)) * np.asarray(1.0001, dtype=dtype)
    assert h.grad_fn is None and h.dtype is dt and h.tolist() == want.tolist()
    i = autodiff.tensor([1, 2], device=device)
    assert (i * 1.0001).dtype is autodiff.float32 and (i + 0.5).tolist() == [1.5, 2.5]


def test_no_graph_backward_paths_equal_recorded_ones(device: str) -> None:
    # mm, pow(2), sum and mean compute their gradient straight on the backend when no graph
    # is recorded; with create_graph they go through Tensor ops. Same values, bit for bit.
    rng = np.random.default_rng(3)
    a0, b0 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    a = autodiff.tensor(a0, device=device, requires_grad=True)
    b = autodiff.tensor(b0, device=device, requires_grad=True)

    def loss() -> autodiff.Tensor:
        return (a.mm(b) - 0.5).pow(2).sum() + a.mean()

    fast = autodiff.autograd.grad(loss(), (a, b))
    slow = autodiff.autograd.grad(loss(), (a, b), create_graph=True)
    assert all(f.grad_fn is None for f in fast) and all(s.grad_fn is not None for s in slow)
    for f, s in zip(fast, slow):
        assert f.tolist() == s.tolist() and f.dtype is s.dtype
    r = 2 * (a0 @ b0 - 0.5)
    np.testing.assert_allclose(fast[0].tolist(), r @ b0.T + 1 / 12, rtol=1e-12)
    np.testing.assert_allclose(fast[1].tolist(), a0.T @ r, rtol=1e-12)
    only_b = autodiff.tensor(a0, device=device)  # mm with one input needing grad
    (gb,) = autodiff.autograd.grad(only_b.mm(b).sum(), b)
    np.testing.assert_allclose(gb.tolist(), a0.T @ np.ones((3, 2)), rtol=1e-12)
