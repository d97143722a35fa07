"""gradcheck / gradgradcheck themselves: they pass on correct gradients, fail with a useful
message on wrong ones, warn on non-float64 inputs, and work on every device."""

from __future__ import annotations

import warnings

import pytest

import autodiff
from autodiff.autograd import Function, GradcheckError, gradcheck, gradgradcheck


def _x(*values, device="cpu"):
    return autodiff.tensor(list(values), dtype=autodiff.float64, device=device, requires_grad=True)


class WrongSquare(Function):
    """x * x with a backward off by a factor of 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x


class DetachedSquare(Function):
    """Right first derivative, but its backward cuts the graph: second derivative wrong."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (2 * x.detach())


def test_passes_on_correct_ops(device) -> None:
    a = _x(0.5, -1.25, 2.0, device=device)
    b = autodiff.tensor([[0.3], [-0.7]], dtype=autodiff.float64, device=device, requires_grad=True)

    def f(a, b, k):
        return (a * b).exp() / (b * b + k), (a - b).sum(0)

    assert gradcheck(f, (a, b, 1.5))
    assert gradgradcheck(f, (a, b, 1.5))


def test_does_not_touch_the_inputs() -> None:
    a = _x(0.5, -1.25)
    version = a._version_value
    gradcheck(lambda t: t * t, (a,))
    assert a.tolist() == [0.5, -1.25] and a._version_value == version and a.grad is None


def test_reports_input_output_difference_and_jacobians() -> None:
    x = _x(1.0, 2.0, 3.0)
    y = _x(0.5)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: (a + b, WrongSquare.apply(b)), (y, x))
    msg = str(info.value)
    assert "for output 1 with respect to input 1" in msg
    assert "largest difference: 3.0" in msg  # d/dx3 of x3^2: 6 numerically, 3 analytically
    assert "at input element 2, output element 2" in msg
    assert "numerical:" in msg and "analytical:" in msg
    assert "6.0000" in msg and "3.0000" in msg  # both Jacobians printed


def test_returns_false_without_raise_exception() -> None:
    assert gradcheck(WrongSquare.apply, (_x(1.0, 2.0),), raise_exception=False) is False


def test_gradgradcheck_catches_a_wrong_second_derivative() -> None:
    x = _x(0.5, -1.5)
    assert gradcheck(DetachedSquare.apply, (x,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(DetachedSquare.apply, (x,))


def test_warns_on_float32_input() -> None:
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision"):
        gradcheck(lambda t: t * 3, (x,), eps=1e-3, atol=1e-2)


def test_no_warning_on_float64() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradcheck(lambda t: t * 3, (_x(1.0),))


def test_needs_an_input_that_requires_grad() -> None:
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda t: t * 2, (autodiff.ones(2, dtype=autodiff.float64),))


def test_non_deterministic_backward_is_not_reentrant() -> None:
    class Noisy(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g + autodiff.rand(g.shape, dtype=g.dtype) * 1e-3

    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(Noisy.apply, (_x(1.0, 2.0),))


def test_zero_size_and_scalar_inputs() -> None:
    assert gradcheck(lambda t: t.sum() * 2, (autodiff.zeros(0, dtype=autodiff.float64, requires_grad=True),))
    s = autodiff.tensor(1.5, dtype=autodiff.float64, requires_grad=True)
    assert gradgradcheck(lambda t: t * t * t, (s,))


def test_outputs_that_do_not_require_grad_have_zero_jacobian() -> None:
    x = _x(1.0, -2.0)
    const = autodiff.ones(2, dtype=autodiff.float64)
    assert gradcheck(lambda t: (t * 2, const * 3), (x,))


def test_agrees_with_torch_verdicts() -> None:
    torch = pytest.importorskip("torch")

    class TorchWrongSquare(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(TorchWrongSquare.apply, (tx,), raise_exception=False) is False
    assert gradcheck(WrongSquare.apply, (_x(1.0, 2.0),), raise_exception=False) is False
    assert torch.autograd.gradcheck(lambda t: (t * t).exp(), (tx,))
    assert gradcheck(lambda t: (t * t).exp(), (_x(1.0, 2.0),))


def test_fast_mode_passes_correct_and_catches_wrong_gradients() -> None:
    x = autodiff.randn(3, 4, dtype=autodiff.float64, requires_grad=True)
    w = autodiff.randn(4, 2, dtype=autodiff.float64, requires_grad=True)
    assert gradcheck(lambda a, b: (a @ b).tanh(), (x, w), fast_mode=True)
    assert gradgradcheck(lambda a, b: (a @ b).tanh(), (x, w), fast_mode=True,
                         gen_non_contig_grad_outputs=True)

    class WrongFactor(autodiff.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    assert not gradcheck(WrongFactor.apply, (x,), fast_mode=True, raise_exception=False)
    with pytest.raises(GradcheckError, match="fast mode"):
        gradcheck(WrongFactor.apply, (x,), fast_mode=True)


def test_check_undefined_grad_catches_a_backward_that_invents_gradient() -> None:
    x = autodiff.randn(3, dtype=autodiff.float64, requires_grad=True)

    class Offset(autodiff.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):  # right, except that it invents a gradient from a zero one
            return g * 2 if g.abs().sum().item() > 0 else autodiff.ones_like(g)

    with pytest.raises(GradcheckError, match="undefined output grads"):
        gradcheck(Offset.apply, (x,))
    assert gradcheck(lambda a: a * 2, (x,), check_undefined_grad=True)


def test_checks_needing_forward_ad_are_refused_not_skipped() -> None:
    x = autodiff.randn(3, dtype=autodiff.float64, requires_grad=True)
    for flag in ("check_forward_ad", "check_batched_grad", "check_batched_forward_grad"):
        with pytest.raises(NotImplementedError, match=flag):
            gradcheck(lambda a: a * 2, (x,), **{flag: True})
    with pytest.raises(NotImplementedError, match="check_fwd_over_rev"):
        gradgradcheck(lambda a: a * a, (x,), check_fwd_over_rev=True)
    assert gradcheck(lambda a: a * 2, (x,), check_backward_ad=False)
