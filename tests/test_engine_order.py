"""The engine's graph walk: edges (lone node edges, edges to a Function's other outputs) and
the order nodes run in (sequence numbers, several roots, shared nodes), and backward calls
from several threads at once (no lost gradient, no process-wide gc switch).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading

import autodiff


class Two(autodiff.autograd.Function):
    """Two outputs: output 0 is recorded as the node itself, output 1 as (node, 1)."""

    @staticmethod
    def forward(ctx, x):
        return x * 1.0, x * 10.0

    @staticmethod
    def backward(ctx, ga, gb):
        return ga + 10.0 * gb


def test_edge_to_other_outputs_keeps_output_number() -> None:
    # Output 0 is recorded as the node itself, other outputs as (node, output_nr).
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    a, b = Two.apply(x)
    y = a * 2.0 + b * 3.0
    # (each ``* number`` node also lists its number as a (None, 0) entry, as in PyTorch)
    (ea, _), (eb, _) = (f.next_functions for f in (y.grad_fn.next_functions[0][0],
                                                    y.grad_fn.next_functions[1][0]))
    assert ea[0] is eb[0] is a.grad_fn and (ea[1], eb[1]) == (0, 1)
    y.sum().backward()
    assert x.grad.tolist() == [32.0, 32.0]


def test_lone_edge_nodes_read_as_one_edge() -> None:
    # x * float and x + float store a lone node edge without a tuple (see autograd/node.py).
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    a = (x * 3.5) * 3.5  # the second 3.5 hits the operand cache
    b = (a + 0.25) + 0.25
    assert a.grad_fn.next_edges.__class__ is not tuple  # the lone edge, stored bare
    assert a.grad_fn.next_functions == ((a.grad_fn.next_edges, 0), (None, 0))  # (None, 0): 3.5
    assert b.grad_fn.next_functions[0][0].next_functions[0][0] is a.grad_fn
    (ga,) = autodiff.autograd.grad(b.sum(), a, retain_graph=True)  # runs only what leads to a
    assert ga.tolist() == [1.0, 1.0]
    b.sum().backward(inputs=[x])
    assert x.grad.tolist() == [12.25, 12.25]

    x.grad = None
    _, second = Two.apply(x)
    c = second * 3.5  # an edge to output 1 stays a (node, output_nr) tuple
    assert c.grad_fn.next_functions == ((second.grad_fn, 1), (None, 0))
    c.sum().backward()
    assert x.grad.tolist() == [35.0, 35.0]


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


@contextlib.contextmanager
def _frequent_thread_switches():
    """Threads switch every microsecond (not every 5 ms), so races show within a few rounds."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _in_threads(n: int, work) -> None:
    """Run ``work()`` in ``n`` threads released together; re-raise the first failure."""
    barrier = threading.Barrier(n)
    errors = []

    def run() -> None:
        try:
            barrier.wait()
            work()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_concurrent_backward_into_the_same_leaves_loses_nothing() -> None:
    # Many small leaves: each is a first write (.grad None -> set) every round, the window
    # where two threads could both see None; the large one: NumPy's in-place add runs
    # without the GIL, so two unserialised adds race on its memory.
    small = [autodiff.zeros(1, requires_grad=True) for _ in range(64)]
    large = [autodiff.zeros(200_000, requires_grad=True) for _ in range(4)]
    n_threads = 8
    with _frequent_thread_switches():
        for leaves, rounds in ((small, 20), (large, 10)):
            grads = [autodiff.ones(w.shape) for w in leaves]
            for _ in range(rounds):
                for w in leaves:
                    w.grad = None
                _in_threads(n_threads, lambda ls=leaves, gs=grads: autodiff.autograd.backward(ls, gs))
                assert all(w.grad.min().item() == n_threads for w in leaves)
                assert all(w.grad.max().item() == n_threads for w in leaves)


def test_concurrent_backward_through_shared_graph_sums_every_call() -> None:
    w = autodiff.ones(3, requires_grad=True)
    n_threads, calls = 6, 20

    def work() -> None:
        for _ in range(calls):
            (w * 2.0).sum().backward()

    with _frequent_thread_switches():
        _in_threads(n_threads, work)
    assert w.grad.tolist() == [2.0 * n_threads * calls] * 3


def test_backward_leaves_the_cyclic_gc_alone() -> None:
    """gc is process-wide: backward must not switch it off for other threads, nor undo a
    gc.disable() made while it runs."""
    was_enabled = gc.isenabled()
    seen_elsewhere = []

    def look_from_another_thread(g):
        t = threading.Thread(target=lambda: seen_elsewhere.append(gc.isenabled()))
        t.start()
        t.join()
        return g

    def user_disables_gc(g):
        gc.disable()
        return g

    try:
        gc.enable()
        x = autodiff.ones(2, requires_grad=True)
        y = x * 2.0
        y.register_hook(look_from_another_thread)
        y.sum().backward()
        assert seen_elsewhere == [True]

        z = x * 3.0
        z.register_hook(user_disables_gc)
        z.sum().backward()
        assert not gc.isenabled()
    finally:
        (gc.enable if was_enabled else gc.disable)()
