"""The hot-path shortcuts keep PyTorch's semantics: 0-d results, cached float operands,
in-place writes under no_grad, in-place gradient accumulation."""

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


def test_edge_to_other_outputs_keeps_output_number() -> None:
    # Output 0 is recorded as the node itself, other outputs as (node, output_nr).
    class Two(autodiff.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0, x * 10.0

        @staticmethod
        def backward(ctx, ga, gb):
            return ga + 10.0 * gb

    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    a, b = Two.apply(x)
    y = a * 2.0 + b * 3.0
    (ea,), (eb,) = (f.next_functions for f in (y.grad_fn.next_functions[0][0],
                                                y.grad_fn.next_functions[1][0]))
    assert ea[0] is eb[0] is a.grad_fn and (ea[1], eb[1]) == (0, 1)
    y.sum().backward()
    assert x.grad.tolist() == [32.0, 32.0]


def test_function_ctx_state_is_per_call() -> None:
    class Dirty(autodiff.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1.0)
            ctx.mark_dirty(x)
            ctx.set_materialize_grads(False)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    class Plain(autodiff.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.0

    w = autodiff.tensor([1.0], requires_grad=True)
    d = Dirty.apply(w.clone())
    p = Plain.apply(w)
    assert d.grad_fn.dirty_tensors and d.grad_fn.materialize_grads is False
    assert p.grad_fn.dirty_tensors == () and p.grad_fn.materialize_grads is True
    assert p.grad_fn.to_save == () and p.grad_fn.needs_input_grad == (True,)


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


def test_lone_edge_nodes_read_as_one_edge() -> None:
    # x * float and x + float store a lone node edge without a tuple (see autograd/node.py).
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    a = (x * 3.5) * 3.5  # the second 3.5 hits the operand cache
    b = (a + 0.25) + 0.25
    assert a.grad_fn.next_functions == ((a.grad_fn.next_edges, 0),)
    assert b.grad_fn.next_functions[0][0].next_functions[0][0] is a.grad_fn
    (ga,) = autodiff.autograd.grad(b.sum(), a, retain_graph=True)  # runs only what leads to a
    assert ga.tolist() == [1.0, 1.0]
    b.sum().backward(inputs=[x])
    assert x.grad.tolist() == [12.25, 12.25]

    class Two(autodiff.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0, x * 10.0

        @staticmethod
        def backward(ctx, ga, gb):
            return ga + 10.0 * gb

    x.grad = None
    _, second = Two.apply(x)
    c = second * 3.5  # an edge to output 1 stays a (node, output_nr) tuple
    assert c.grad_fn.next_functions == ((second.grad_fn, 1),)
    c.sum().backward()
    assert x.grad.tolist() == [35.0, 35.0]


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


def test_lone_edges_meeting_at_a_node_sum_their_gradients() -> None:
    # Two lone-edge chains meet at y: the first to arrive waits in a buffer for the second.
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    z = (y + 1.0) * 3.0 + (y * 5.0 + 2.0)
    z.sum().backward()
    assert x.grad.tolist() == [16.0, 16.0]

    class Cut(autodiff.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1.0

        @staticmethod
        def backward(ctx, g):
            return None  # nothing flows further up this branch

    x.grad = None
    w = Cut.apply(x * 2.0) * 4.0 + x * 7.0
    w.sum().backward()
    assert x.grad.tolist() == [7.0, 7.0]
    x.grad = None
    Cut.apply((x * 2.0) + 1.0).sum().backward()  # no gradient reaches the leaf at all
    assert x.grad is None


def test_deep_chain_benchmark_runs_in_its_own_process() -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-m", "benchmarks.deep_chain", "autodiff",
                           "--samples", "1"], cwd=root, capture_output=True, text=True, check=True)
    times = json.loads(proc.stdout)
    assert set(times) == {"10000", "100000"} and all(t > 0 for t in times.values())


def test_function_on_a_fresh_leaf_runs_before_the_leaf_collects() -> None:
    # The ctx of a Function is made before its input's AccumulateGrad (made while recording
    # the call); it is renumbered so the engine still runs it before the leaf's node.
    class Square(autodiff.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t * t

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return 2 * t * g

    x = autodiff.tensor([1.5, -2.0], requires_grad=True)
    assert x._accumulator is None
    y = Square.apply(x)
    assert y.grad_fn.seq > x._accumulator.seq
    z = (y * x).sum()  # d/dx x^3 = 3x^2, from two paths into one leaf
    (g,) = autodiff.autograd.grad(z, x)
    assert g.tolist() == [6.75, 12.0]


def test_sequence_order_with_several_roots_and_shared_nodes() -> None:
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    a = x * 3.0
    b = a * a  # uses a twice: a's node waits for both gradients
    c = a + 1.0
    autodiff.autograd.backward([b.sum(), c.sum(), a.sum()])
    # d/dx [9x^2 + 3x + 1 + 3x] = 18x + 6
    assert x.grad.tolist() == [24.0, 42.0]


def test_expand_with_minus_one_is_a_recorded_view() -> None:
    # Only a literally unchanged size returns the tensor itself; -1 still makes the view.
    x = autodiff.ones(2, 3, requires_grad=True) * 1.0
    assert x.expand(2, 3) is x
    v = x.expand(-1, 3)
    assert v is not x and v.grad_fn.name() == "ExpandBackward0"


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool"])
@pytest.mark.parametrize("value", [0, 1.5, -1, 7, float("nan"), True])
def test_mask_setitem_matches_numpy_indexing(device: str, dtype: str, value: object) -> None:
    # ``t[mask] = scalar`` with a mask of t's shape takes np.putmask on the CPU: same values,
    # same casts and same errors as NumPy's boolean indexing, which is PyTorch's index_put_.
    base = np.array([[0, 3, 1], [2, 0, 5]]).astype(dtype)
    mask = np.array([[True, False, True], [False, False, True]])
    expected = base.copy()
    try:
        with np.errstate(invalid="ignore"):
            expected[mask] = value
    except (ValueError, OverflowError) as exc:
        expected = type(exc)
    t = autodiff.tensor(base, device=device)
    m = autodiff.tensor(mask, device=device)
    if expected is ValueError or expected is OverflowError:
        with pytest.raises(expected):
            t[m] = value
        return
    with np.errstate(invalid="ignore"):
        t[m] = value
    np.testing.assert_array_equal(t.cpu().numpy(), expected)
    assert t._version[0] == 1
