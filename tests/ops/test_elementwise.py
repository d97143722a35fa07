"""The elementwise ops beyond the basic set, against PyTorch at their special points: NaN,
infinities, ties, poles and zeros; integer and bool dtypes; the ops without a gradient
(bitwise, comparisons, ``floor_divide``); and the NumPy formulas used for the special
functions when SciPy is missing. The op-spec table checks their gradients elsewhere."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")
SPECIAL_VALUES = [-INF, -2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, INF, NAN]


def _pair(values, dtype="float64", device="cpu", requires_grad=False):
    a = autodiff.tensor(values, dtype=getattr(autodiff, dtype), device=device, requires_grad=requires_grad)
    t = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    return a, t


def _same(a, t, rtol=1e-12):
    assert str(a.dtype) == str(t.dtype), (a.dtype, t.dtype)
    assert tuple(a.shape) == tuple(t.shape)
    np.testing.assert_allclose(np.asarray(a.cpu().tolist(), dtype=float),
                               t.detach().double().numpy(), rtol=rtol, atol=1e-300, equal_nan=True)


# ---- tests, comparisons, logic and bits (no gradient) -----------------------------------------
@pytest.mark.parametrize("name", ["isfinite", "isinf", "isposinf", "isneginf", "isnan", "isreal", "signbit"])
def test_float_tests_match_torch(name, device):
    a, t = _pair(SPECIAL_VALUES, device=device)
    _same(getattr(autodiff, name)(a), getattr(torch, name)(t))
    ai, ti = _pair([-3, 0, 7], "int64", device)
    _same(getattr(autodiff, name)(ai), getattr(torch, name)(ti))


@pytest.mark.parametrize("name", ["greater", "greater_equal", "less", "less_equal", "not_equal"])
def test_comparison_aliases(name, device):
    a, t = _pair([1.0, 2.0, NAN], device=device)
    b, u = _pair([2.0, 2.0, 1.0], device=device)
    _same(getattr(autodiff, name)(a, b), getattr(torch, name)(t, u))
    _same(getattr(a, name)(1.5), getattr(t, name)(1.5))


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                                  "bitwise_right_shift", "gcd", "lcm"])
def test_integer_ops_match_torch(name, device):
    a, t = _pair([12, -8, 5, 0, 7], "int64", device)
    b, u = _pair([18, 3, 1, 4, 2], "int64", device)
    _same(getattr(autodiff, name)(a, b), getattr(torch, name)(t, u))
    a8, t8 = _pair([1, -128, 127], "int8", device)
    b8, u8 = _pair([2, 3, 1], "int8", device)
    _same(getattr(autodiff, name)(a8, b8), getattr(torch, name)(t8, u8))
    if name in ("gcd", "lcm"):  # tensors only, as in PyTorch
        with pytest.raises(TypeError, match="must be Tensor"):
            getattr(autodiff, name)(a, 3)
    else:
        _same(getattr(autodiff, name)(a, 3), getattr(torch, name)(t, 3))


def test_bit_operators_and_bool(device):
    a, t = _pair([5, -8, 3], "int64", device)
    b, u = _pair([1, 2, 0], "int64", device)
    for fa, ft in [(a & b, t & u), (a | 1, t | 1), (a ^ b, t ^ u), (~a, ~t), (a << b, t << u),
                   (a >> 1, t >> 1), (1 << b, 1 << u), (3 & a, 3 & t), (6 | a, 6 | t), (3 ^ a, 3 ^ t)]:
        _same(fa, ft)
    m, n = _pair([True, False, True], "bool", device)
    k, q = _pair([True, True, False], "bool", device)
    for fa, ft in [(m & k, n & q), (m | k, n | q), (m ^ k, n ^ q), (~m, ~n), (m & True, n & True),
                   (m & 1, n & 1), (autodiff.logical_xor(m, k), torch.logical_xor(n, q)),
                   (autodiff.bitwise_not(m), torch.bitwise_not(n))]:
        _same(fa, ft)


def test_bit_ops_refuse_floats():
    x = autodiff.tensor([1.0])
    for fn in (lambda: x & x, lambda: autodiff.bitwise_or(x, x), lambda: autodiff.gcd(x, x),
               lambda: autodiff.bitwise_not(x), lambda: x << 1):
        with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
            fn()
    with pytest.raises(TypeError, match="only implemented on integer and Boolean"):
        _ = ~x


def test_isin(device):
    a, t = _pair([1, 2, 3, 2], "int64", device)
    b, u = _pair([2, 5], "int64", device)
    _same(autodiff.isin(a, b), torch.isin(t, u))
    _same(autodiff.isin(a, b, invert=True), torch.isin(t, u, invert=True))
    _same(autodiff.isin(a, 3), torch.isin(t, 3))
    _same(autodiff.isin(2, b), torch.isin(2, u))
    f, g = _pair([1.0, 2.5], device=device)
    _same(autodiff.isin(f, 2.5), torch.isin(g, 2.5))


# ---- remainders and divisions -----------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int64", "float64"])
def test_remainders_and_floor_divide_match_torch(dtype, device):
    a, t = _pair([-7, -5, 5, 7, 0], dtype, device)
    b, u = _pair([3, -2, -3, 2, 4], dtype, device)
    for name in ("fmod", "remainder", "floor_divide"):
        _same(getattr(autodiff, name)(a, b), getattr(torch, name)(t, u))
        _same(getattr(autodiff, name)(a, 3), getattr(torch, name)(t, 3))
    _same(a % b, t % u)
    _same(a // b, t // u)
    _same(7 // b, 7 // u)
    _same(7 % b, 7 % u)


def test_integer_division_by_zero_raises():
    a = autodiff.tensor([5, 3])
    for fn in (lambda: autodiff.fmod(a, 0), lambda: autodiff.remainder(a, autodiff.tensor([1, 0])),
               lambda: a // 0):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn()


@pytest.mark.parametrize("op", [
    lambda m, x: m.floor_divide(x, 2.0),
    lambda m, x: m.heaviside(x, m.tensor([0.5], dtype=x.dtype)),
    lambda m, x: 2.5 % x,
])
def test_ops_without_derivative_raise_in_backward(op):
    x = autodiff.tensor([1.5, -2.0], requires_grad=True)
    y = op(autodiff, x)
    assert y.grad_fn.name() == "NotImplemented"  # PyTorch's: torch::autograd::NotImplemented
    assert op(torch, torch.tensor([1.5, -2.0], requires_grad=True)).grad_fn.name().endswith("NotImplemented")
    with pytest.raises(RuntimeError, match="derivative for aten::.* is not implemented"):
        y.sum().backward()


def test_heaviside_matches_torch(device):
    a, t = _pair([-1.0, 0.0, 2.0, NAN], device=device)
    v, u = _pair([0.5], device=device)
    _same(autodiff.heaviside(a, v), torch.heaviside(t, u))
    with pytest.raises(RuntimeError, match="different dtypes"):
        autodiff.heaviside(a, autodiff.tensor([1.0]))


# ---- NaN-ignoring extremes and nan_to_num ---------------------------------------------------------
@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_nan_and_ties_match_torch(name, device):
    """A NaN loses to a number; ties send the whole gradient to the first input."""
    a, t = _pair([1.0, NAN, 2.0, NAN, 3.0], device=device, requires_grad=True)
    b, u = _pair([1.0, 2.0, NAN, NAN, -1.0], device=device, requires_grad=True)
    y, z = getattr(autodiff, name)(a, b), getattr(torch, name)(t, u)
    _same(y, z)
    assert y.grad_fn.name() == z.grad_fn.name()
    y.sum().backward()
    z.sum().backward()
    _same(a.grad, t.grad)
    _same(b.grad, u.grad)


def test_nan_to_num_matches_torch(device):
    for kwargs in ({}, {"nan": 1.5, "posinf": 9.0, "neginf": -9.0}):
        for dtype in ("float32", "float64"):
            a, t = _pair(SPECIAL_VALUES, dtype, device, requires_grad=True)
            y, z = autodiff.nan_to_num(a, **kwargs), torch.nan_to_num(t, **kwargs)
            _same(y, z)
            y.sum().backward()
            z.sum().backward()
            _same(a.grad, t.grad)  # 0 where the input was not finite
    ai, ti = _pair([1, -2], "int32", device)
    _same(autodiff.nan_to_num(ai), torch.nan_to_num(ti))


# ---- special points of the float functions ---------------------------------------------------
@pytest.mark.parametrize("name", ["asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "exp2",
                                  "log10", "logit", "erfc", "erfinv", "lgamma", "digamma", "i0", "sinc",
                                  "trunc", "frac", "sgn", "square", "deg2rad", "rad2deg", "expm1"])
def test_values_at_special_points_match_torch(name, device):
    a, t = _pair(SPECIAL_VALUES + [1e-300, 0.99, -0.3], device=device)
    with np.errstate(all="ignore"):
        _same(getattr(autodiff, name)(a), getattr(torch, name)(t), rtol=1e-9)


@pytest.mark.parametrize("name", ["asin", "atan", "sinh", "exp2", "log10", "erfc", "lgamma", "i0", "sinc",
                                  "logit", "deg2rad", "digamma"])
def test_integer_inputs_give_default_float(name, device):
    a, t = _pair([1, 2], "int64", device)
    y = getattr(autodiff, name)(a)
    assert y.dtype is autodiff.float32
    _same(y, getattr(torch, name)(t), rtol=1e-6)


def test_dtypes_of_results_match_torch():
    i, ti = _pair([3, -2], "int64")
    f, tf = _pair([1.5, 2.5], "float32")
    for fa, ft in [(autodiff.trunc(i), torch.trunc(ti)), (autodiff.square(i), torch.square(ti)),
                   (autodiff.float_power(f, 2), torch.float_power(tf, 2)),
                   (autodiff.float_power(i, f), torch.float_power(ti, tf)),
                   (autodiff.copysign(i, -1), torch.copysign(ti, -1)),
                   (autodiff.atan2(i, f), torch.atan2(ti, tf)), (autodiff.hypot(f, f), torch.hypot(tf, tf)),
                   (autodiff.xlogy(i, f), torch.xlogy(ti, tf)), (autodiff.ldexp(f, i), torch.ldexp(tf, ti)),
                   (autodiff.fmod(i, 2), torch.fmod(ti, 2)), (autodiff.remainder(i, 2.5), torch.remainder(ti, 2.5)),
                   (autodiff.addcmul(f, i, i), torch.addcmul(tf, ti, ti))]:
        _same(fa, ft, rtol=1e-6)


def test_sinc_at_zero():
    """Value 1, slope 0 (PyTorch's too) and curvature -pi^2/3 (PyTorch's is nan)."""
    x = autodiff.tensor([0.0], dtype=autodiff.float64, requires_grad=True)
    y = autodiff.sinc(x)
    (g,) = autodiff.autograd.grad(y.sum(), x, create_graph=True)
    (h,) = autodiff.autograd.grad(g.sum(), x)
    assert y.tolist() == [1.0] and g.tolist() == [0.0]
    assert h.tolist() == pytest.approx([-math.pi ** 2 / 3])


def test_i0_curvature_at_zero():
    x = autodiff.tensor([0.0, 1e-300], dtype=autodiff.float64, requires_grad=True)
    (g,) = autodiff.autograd.grad(autodiff.i0(x).sum(), x, create_graph=True)
    (h,) = autodiff.autograd.grad(g.sum(), x)
    assert g.tolist() == pytest.approx([0.0, 5e-301], rel=1e-12) and h.tolist() == pytest.approx([0.5, 0.5])


def test_logit_and_xlogy_edges_match_torch():
    a, t = _pair([-0.5, 0.0, 0.3, 1.0, 1.5], requires_grad=True)
    for eps in (None, 0.1):
        y, z = autodiff.logit(a, eps), torch.logit(t, eps)
        _same(y, z)
        ga, = autodiff.autograd.grad(y.sum(), a)
        gt, = torch.autograd.grad(z.sum(), t)
        _same(ga, gt)
    x, u = _pair([0.0, 0.0, 0.0, 2.0], requires_grad=True)
    w, v = _pair([0.0, NAN, -1.0, 3.0], requires_grad=True)
    y, z = autodiff.xlogy(x, w), torch.xlogy(u, v)
    _same(y, z)
    _same(autodiff.autograd.grad(y.sum(), x)[0], torch.autograd.grad(z.sum(), u)[0])


def test_gamma_family_matches_torch():
    """PyTorch's trigamma and higher polygamma are accurate to ~1e-9 (SciPy's, ours, further)."""
    a, t = _pair([0.25, 1.0, 2.5, 7.0, -1.5], requires_grad=True)
    for fa, ft in [(autodiff.lgamma, torch.lgamma), (autodiff.digamma, torch.digamma),
                   (lambda x: autodiff.polygamma(1, x), lambda x: torch.polygamma(1, x)),
                   (lambda x: x.polygamma(3), lambda x: x.polygamma(3))]:
        y, z = fa(a), ft(t)
        _same(y, z, rtol=1e-8)
        (g,) = autodiff.autograd.grad(y.sum(), a)
        (h,) = torch.autograd.grad(z.sum(), t)
        _same(g, h, rtol=1e-8)
    assert autodiff.polygamma(0, a).tolist() == autodiff.digamma(a).tolist()
    with pytest.raises(RuntimeError, match="negative n"):
        autodiff.polygamma(-1, a)


def test_grad_fn_names_match_torch():
    a, t = _pair([0.5, -0.25], requires_grad=True)
    for f in [lambda m, x: m.clamp_min(x, 0.0), lambda m, x: m.clamp_max(x, 0.0),
              lambda m, x: m.clamp(x, min=0.0), lambda m, x: m.fix(x), lambda m, x: m.square(x),
              lambda m, x: m.copysign(x, 2.0), lambda m, x: m.copysign(x, x), lambda m, x: m.fmod(x, 2),
              lambda m, x: m.fmod(x, x), lambda m, x: x % 2, lambda m, x: m.arctan2(x, x),
              lambda m, x: m.nan_to_num(x), lambda m, x: m.addcdiv(x, x, x), lambda m, x: m.polygamma(2, x)]:
        assert f(autodiff, a).grad_fn.name() == f(torch, t).grad_fn.name()


# ---- the NumPy formulas used without SciPy ---------------------------------------------------
def test_special_function_formulas_match_scipy():
    sp = pytest.importorskip("scipy.special")
    from backends import special_functions as f

    x = np.concatenate([np.linspace(-7.3, 30.0, 801), [0.0, -1.0, -2.0, 1e-3, 100.0, 1e5]])
    with np.errstate(all="ignore"):
        cases = [(f.digamma(x), sp.psi(x), 1e-11), (f._lgamma(x), sp.gammaln(x), 1e-11),
                 (f.polygamma(1, x), sp.polygamma(1, x), 1e-13), (f.polygamma(2, x), sp.polygamma(2, x), 1e-13),
                 (f.erfinv(np.linspace(-1.5, 1.5, 601)), sp.erfinv(np.linspace(-1.5, 1.5, 601)), 1e-12),
                 (f.i1(np.linspace(-40, 40, 401)), sp.i1(np.linspace(-40, 40, 401)), 1e-13),
                 (f._erfc(x), sp.erfc(x), 1e-14)]
    for mine, theirs, rtol in cases:
        # Relative to the scale of the values: digamma and lgamma have roots.
        np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=rtol * 10, equal_nan=True)


def test_python_floats_keep_double_precision_beside_float64():
    """A number is not rounded to float32 on its way into a float64 op (as PyTorch's are not)."""
    a, t = _pair([0.1, 0.3, 0.7])
    _same(autodiff.isin(a, 0.1), torch.isin(t, 0.1))
    _same(autodiff.xlogy(a, 0.1), torch.xlogy(t, 0.1), rtol=1e-15)
    _same(autodiff.xlogy(0.1, a), torch.xlogy(0.1, t), rtol=1e-15)
    _same(0.7 // a, 0.7 // t)
    _same(autodiff.fmod(a, 0.1), torch.fmod(t, 0.1), rtol=1e-15)
