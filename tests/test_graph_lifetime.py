"""Graph lifetime and scale: saved tensors released by backward, graphs freed by reference
counting alone, and 100,000-op chains that neither recurse in backward nor on deletion."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

import autodiff
from autodiff.autograd import Function
from autodiff.autograd.node import FREED
from tests._autograd_helpers import T, close


@pytest.fixture
def no_gc() -> Iterator[None]:
    """Only reference counting may free objects while the test runs."""
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def test_training_step_graph_is_freed_by_refcount(device: str, no_gc: None) -> None:
    w = autodiff.randn(3, 2, dtype=autodiff.float64, device=device, requires_grad=True)
    x = autodiff.randn(4, 3, dtype=autodiff.float64, device=device)
    for _ in range(2):  # two steps: the second must not keep the first alive either
        h = (x @ w).exp()
        y = h * h
        loss = y.mean()
        refs = [weakref.ref(o) for o in (h, y, loss, h.grad_fn, y.grad_fn, loss.grad_fn)]
        if device == "cpu":
            refs.append(weakref.ref(h._data))  # the arrays themselves, too
        loss.backward()
        assert y.grad_fn.saved is FREED and h.grad_fn.saved is FREED
        with autodiff.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
        del h, y, loss
        assert all(r() is None for r in refs)


def test_custom_function_saving_tensors_is_freed(device: str, no_gc: None) -> None:
    class Sq(Function):
        @staticmethod
        def forward(ctx, a):
            b = a * a
            ctx.save_for_backward(a, b)  # an input and an output
            return b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return 2 * a * g

    w = T([1.0, 2.0], device, True)
    z = Sq.apply(w * 1)
    refs = [weakref.ref(z), weakref.ref(z.grad_fn)]
    z.sum().backward()
    del z
    assert all(r() is None for r in refs)
    z = Sq.apply(w * 1)  # never backpropagated: freed all the same
    refs = [weakref.ref(z), weakref.ref(z.grad_fn)]
    del z
    assert all(r() is None for r in refs)
    assert close(w.grad, [2.0, 4.0])


def test_hooks_and_retain_grad_make_no_cycles(no_gc: None) -> None:
    x = T([1.0, 2.0], "cpu", True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g)
    z = y[0]
    z.mul_(2)  # in-place on a view: CopySlices + regenerated view grad_fn
    refs = [weakref.ref(y), weakref.ref(y.grad_fn), weakref.ref(z), weakref.ref(z.grad_fn)]
    y.sum().backward()
    del y, z
    assert all(r() is None for r in refs)


def test_second_backward_error_after_release(device: str) -> None:
    x = T([1.0], device, True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_100k_op_chain_forward_backward_and_delete(no_gc: None) -> None:
    x = T([1.0], "cpu", True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert close(x.grad, [1.0])
    ref = weakref.ref(y.grad_fn)
    del y  # a 100,000-node chain: deleting it must not overflow the C stack
    assert ref() is None


def test_100k_chain_holding_saved_tensors_deletes(no_gc: None) -> None:
    x = T([0.5], "cpu", True)
    y = x
    for _ in range(100_000):
        y = y * x  # every node saves two tensors: Node -> saved tuple -> Tensor -> Node ...
    ref = weakref.ref(y.grad_fn)
    del y
    assert ref() is None
