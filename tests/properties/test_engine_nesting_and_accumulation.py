"""The engine's nested backward passes and its accumulation into ``.grad``, against PyTorch:
callbacks queued from inside a hook run at the end of the backward pass that was running
(``Variable._execution_engine.queue_callback``, three passes deep), gradients stored in two
leaves never alias, a gradient that requires grad is stored detached, a backward without
``create_graph`` adds in place into a ``.grad`` that a ``create_graph`` backward made, and one
with ``create_graph`` adds out of place."""

from __future__ import annotations

import warnings

import pytest

import autodiff

torch = pytest.importorskip("torch")


def _nested_callbacks(m):
    log = []

    def queue(fn):
        m.autograd.Variable._execution_engine.queue_callback(fn)

    def middle_hook(g):
        with m.enable_grad():
            a = m.tensor(3.0, requires_grad=True)
            m.autograd.grad(a * a, a)  # a third pass, inside the second
        queue(lambda: log.append("middle callback"))  # the second pass's, not the first's
        return g

    def outer_hook(g):
        with m.enable_grad():
            b = m.tensor(2.0, requires_grad=True)
            t = b * b
            t.register_hook(middle_hook)
            m.autograd.grad(t * 1.0, b)  # the second pass
        log.append("middle returned")
        queue(lambda: log.append("outer callback"))
        return g

    x = m.tensor(1.0, requires_grad=True)
    y = x * 2
    y.register_hook(outer_hook)
    (y * 3).backward()
    log.append("outer returned")
    return log


def _queue_outside_backward(m):
    m.autograd.Variable._execution_engine.queue_callback(lambda: None)


def _grads_not_aliased(m):
    x1, x2 = m.ones(2, requires_grad=True), m.ones(2, requires_grad=True)
    ((x1 + x2) * m.tensor([2.0, 3.0])).sum().backward()  # one gradient array reaches both leaves
    x1.grad.add_(1)
    return x1.grad.tolist(), x2.grad.tolist()


def _leaf_hook_grad_requiring_grad_is_stored_detached(m):
    w = m.tensor([2.0, 3.0], requires_grad=True)
    x = m.ones(2, requires_grad=True)

    def hook(g):
        with m.enable_grad():
            return g * w  # requires grad, though no graph is being made

    x.register_hook(hook)
    (x * m.tensor([1.0, 5.0])).sum().backward()
    return x.grad.tolist(), x.grad.requires_grad, x.grad.grad_fn is None


def _grad_requiring_grad_is_stored_detached(m):
    w = m.tensor([2.0, 3.0], requires_grad=True)

    class Scale(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            with m.enable_grad():
                return g * w  # requires grad, though no graph is being made

    x = m.ones(2, requires_grad=True)
    Scale.apply(x).sum().backward()
    return x.grad.tolist(), x.grad.requires_grad, x.grad.grad_fn is None


def _second_backward_onto_a_graph_grad(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    (x ** 2).sum().backward(create_graph=True)
    first = x.grad
    (x ** 3).sum().backward()
    return first.tolist(), x.grad.tolist(), x.grad is first, first.requires_grad


def _graph_backward_onto_a_plain_grad(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    (x ** 2).sum().backward()
    first = x.grad
    (x ** 3).sum().backward(create_graph=True)  # adds out of place: the sum has a graph
    return first.tolist(), x.grad.tolist(), x.grad is first, x.grad.requires_grad


STORIES = [_nested_callbacks, _queue_outside_backward, _grads_not_aliased,
           _grad_requiring_grad_is_stored_detached, _leaf_hook_grad_requiring_grad_is_stored_detached,
           _second_backward_onto_a_graph_grad, _graph_backward_onto_a_plain_grad]


def _told(story, m):
    try:
        return story(m)
    except Exception as e:  # the class and message are compared
        return type(e).__name__, str(e)


@pytest.mark.parametrize("story", STORIES, ids=[s.__name__[1:] for s in STORIES])
def test_engine_behaves_as_torch(story):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's warning about create_graph in backward())
        want = _told(story, torch)
    assert _told(story, autodiff) == want
