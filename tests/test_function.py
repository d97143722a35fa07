"""Custom autograd Functions and the MyReLU two-layer network."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import autodiff as torch

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "myrelu_two_layer.py"


def _example():
    spec = importlib.util.spec_from_file_location("myrelu_two_layer", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Scale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        ctx.save_for_backward(x)
        return x * factor

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return grad_output * ctx.factor, None


def test_function_apply_and_node_name(device):
    x = torch.tensor([1.0, -2.0], requires_grad=True, device=device)
    y = Scale.apply(x, 3.0)
    assert y.grad_fn.name() == "ScaleBackward"
    assert repr(y.grad_fn).startswith("<ScaleBackward object at")
    assert y.tolist() == [3.0, -6.0]
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_myrelu_backward_matches_relu(device):
    relu = _example().MyReLU.apply
    x = torch.tensor([[-1.0, 2.0], [3.0, -4.0]], requires_grad=True, device=device)
    y = relu(x)
    assert y.grad_fn.name() == "MyReLUBackward"
    assert y.tolist() == [[0.0, 2.0], [3.0, 0.0]]
    (y * torch.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)).sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0], [3.0, 0.0]]


def test_function_without_grad_records_nothing():
    x = torch.ones(2)
    y = Scale.apply(x, 2.0)
    assert y.grad_fn is None and not y.requires_grad
    with torch.no_grad():
        z = Scale.apply(torch.ones(2, requires_grad=True), 2.0)
    assert z.grad_fn is None


def test_function_wrong_number_of_gradients():
    class Bad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"function BadBackward returned an incorrect number of gradients \(expected 1, got 2\)"):
        Bad.apply(x).sum().backward()


def test_function_wrong_gradient_shape():
    class BadShape(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return torch.ones(3)

    x = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"returned an invalid gradient at index 0 - got \[3\] but expected shape compatible with \[2\]"):
        BadShape.apply(x).sum().backward()
    assert x.grad is None


def test_saved_tensors_freed_after_backward():
    x = torch.ones(2, requires_grad=True)
    y = Scale.apply(x, 2.0)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.sum().backward()


def test_function_returning_its_input_does_not_rebind_it():
    class Identity(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    x = torch.ones(2, requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and y.grad_fn.name() == "IdentityBackward"
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_custom_function_double_backward():
    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    x = torch.tensor([2.0], requires_grad=True)
    (g,) = torch.autograd.grad(Cube.apply(x), x, create_graph=True)
    assert g.tolist() == [12.0]
    (gg,) = torch.autograd.grad(g, x)
    assert gg.tolist() == [12.0]


def test_myrelu_network_trains(device):
    losses = _example().train(device=device, steps=500, log_every=0)
    assert losses[0] > 1e6
    assert losses[-1] < 1e-2
    assert all(b <= a * 1.5 for a, b in zip(losses[::50], losses[50::50]))


def test_function_ctx_state_is_per_call() -> None:
    class Dirty(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1.0)
            ctx.mark_dirty(x)
            ctx.set_materialize_grads(False)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    class Plain(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.0

    w = torch.tensor([1.0], requires_grad=True)
    d = Dirty.apply(w.clone())
    p = Plain.apply(w)
    assert d.grad_fn.dirty_tensors and d.grad_fn.materialize_grads is False
    assert p.grad_fn.dirty_tensors == () and p.grad_fn.materialize_grads is True
    assert p.grad_fn.to_save == () and p.grad_fn.needs_input_grad == (True,)


# ---- a Function that saves its own outputs -------------------------------------------------
class SavesItsResult(torch.autograd.Function):
    """exp, saving its result (PyTorch's double-backward tutorial's ``Exp``)."""

    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y


class SavesLaterOutputs(torch.autograd.Function):
    """``(sinh x, exp x, exp -x)``, saving outputs 1 and 2."""

    @staticmethod
    def forward(ctx, x):
        e, en = x.exp(), (-x).exp()
        ctx.save_for_backward(e, en)
        return (e - en) / 2, e, en

    @staticmethod
    def backward(ctx, g, ge, gen):
        e, en = ctx.saved_tensors
        return g * (e + en) / 2 + ge * e - gen * en


@pytest.mark.parametrize("fn", [SavesItsResult.apply, SavesLaterOutputs.apply])
def test_double_backward_through_saved_outputs(device, fn):
    # A saved output unpacks with the Function's node as grad_fn while a graph is built,
    # so the second derivative sees it as a function of the input (it was taken as a
    # constant: second derivative 0 instead of exp(x)).
    x = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64, requires_grad=True, device=device)
    assert torch.autograd.gradcheck(fn, (x,))
    assert torch.autograd.gradgradcheck(fn, (x,))


def test_saved_output_keeps_no_reference_to_its_node():
    import gc
    import weakref

    x = torch.tensor([0.5, 1.5], requires_grad=True)
    y = SavesItsResult.apply(x)
    node = weakref.ref(y.grad_fn)
    was = gc.isenabled()
    gc.disable()
    try:
        del y
        assert node() is None  # freed by reference counting alone: no cycle through ctx
    finally:
        if was:
            gc.enable()
