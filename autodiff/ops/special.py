"""Special functions of one tensor: ``erfc``, ``erfinv``, ``lgamma``, ``digamma``,
``polygamma``, ``mvlgamma``, ``i0`` (modified Bessel) and ``sinc``; and ``xlogy`` (``x * log(y)``, 0 where
``x == 0``).

Their values come from the backend's special functions (``scipy.special`` when installed,
NumPy formulas otherwise: backends/special_functions.py; ``cupyx.scipy.special`` on CUDA).
Integer inputs give float results, as in PyTorch.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff.autograd.forward_rules import derived_jvp, symmetric_jvp
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import record
from autodiff.ops._prep import float_result, number_as_tensor, promote
from autodiff.ops.broadcasting import sum_to
from autodiff.ops.comparison import where
from autodiff.ops.unary import _float_unary, cos, exp, sin
from autodiff.tensor import Tensor, _make

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class ErfcBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * (-_TWO_OVER_SQRT_PI) * exp(-(x * x))


class ErfinvBackward0(Node):
    """d erfinv(x) = sqrt(pi) / 2 * exp(erfinv(x)^2): the output is saved."""

    __slots__ = ()
    jvp = symmetric_jvp
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (y,) = self.unpack()
        return g * (0.5 * math.sqrt(math.pi)) * exp(y * y)


class LgammaBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * digamma(x)


class DigammaBackward0(Node):
    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * polygamma(1, x)


class PolygammaBackward0(Node):
    __slots__ = ("n",)
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * polygamma(self.n + 1, x)


class I0Backward0(Node):
    """d i0(x) = i1(x)."""

    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        return g * _i1(x)


class SpecialI1Backward0(Node):
    """d i1(x) = i0(x) - i1(x) / x; its series 1/2 + 3x^2/16 + 5x^4/384 near 0 (where the
    quotient underflows)."""

    __slots__ = ()
    jvp = symmetric_jvp
    saved_outputs = (1,)  # (x, i1(x))

    def backward(self, g: Tensor) -> Tensor:
        x, y = self.unpack()
        small = x.abs() < 1e-3
        safe = where(small, 1.0, x)
        x2 = x * x
        return g * where(small, 0.5 + x2 * (3 / 16 + x2 * (5 / 384)), i0(safe) - y / safe)


class SincBackward0(Node):
    """d sinc(x) = (cos(pi x) pi x - sin(pi x)) / (pi x^2); near 0, where that cancels
    (and underflows), its series -pi^2 x / 3 + pi^4 x^3 / 30 (0 at x == 0, as in PyTorch)."""

    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        small = x.abs() < 1e-3
        safe = where(small, 1.0, x)
        px = safe * math.pi
        series = x * (-math.pi ** 2 / 3 + x * x * (math.pi ** 4 / 30))
        return g * where(small, series, (cos(px) * px - sin(px)) / (px * safe))


def erfc(input: Tensor) -> Tensor:
    """``1 - erf(x)``, accurate where it is small."""
    return _float_unary(input, "erfc", ErfcBackward0)


def erfinv(input: Tensor) -> Tensor:
    """The inverse of ``erf`` on ``(-1, 1)`` (``+-inf`` at ``+-1``, NaN outside)."""
    return _float_unary(input, "erfinv", ErfinvBackward0)


def lgamma(input: Tensor) -> Tensor:
    """``log |Gamma(x)|`` (``inf`` at 0 and the negative integers)."""
    return _float_unary(input, "lgamma", LgammaBackward0)


def digamma(input: Tensor) -> Tensor:
    """The derivative of ``lgamma`` (``-inf`` at 0, NaN at the negative integers)."""
    return _float_unary(input, "digamma", DigammaBackward0)


def polygamma(n: int, input: Tensor) -> Tensor:
    """The ``n``-th derivative of ``digamma``."""
    if isinstance(n, Tensor) or not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    a = float_result(input)
    be = a._be
    return record(_make(be.polygamma(n, a._data), be), PolygammaBackward0, (a,), saved=(a,), n=n)


class MvlgammaBackward0(Node):
    """d/dx = sum_i digamma(x - i / 2)."""

    __slots__ = ("p",)
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        (x,) = self.unpack()
        total = digamma(x)
        for i in range(1, self.p):
            total = total + digamma(x - i / 2)
        return g * total


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma function of dimension ``p``:
    ``p (p - 1) / 4 log(pi) + sum_{i < p} lgamma(x - i / 2)``."""
    if not isinstance(p, int) or p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    a = float_result(input)
    be = a._be
    x = a._data
    if not be.all(be.gt(x, (p - 1) / 2)):
        raise RuntimeError(f"All elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    data = be.add(be.lgamma(x), p * (p - 1) / 4 * math.log(math.pi))
    for i in range(1, p):
        data = be.add(data, be.lgamma(be.sub(x, i / 2)))
    return record(_make(be.as_array(data), be), MvlgammaBackward0, (a,), saved=(a,), p=p)


def _polygamma_method(input: Tensor, n: int) -> Tensor:
    """``x.polygamma(n)``: the method takes the order second."""
    return polygamma(n, input)


def i0(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 0."""
    return _float_unary(input, "i0", I0Backward0)


def _i1(input: Tensor) -> Tensor:
    """Order 1 (what i0's backward needs; PyTorch's ``torch.special.i1``)."""
    a = float_result(input)
    be = a._be
    return record(_make(be.i1(a._data), be), SpecialI1Backward0, (a,), saved=(a,), save_output=True)


def sinc(input: Tensor) -> Tensor:
    """``sin(pi x) / (pi x)``, 1 at 0."""
    return _float_unary(input, "sinc", SincBackward0)


class XlogyBackward0(Node):
    """d/dx = log(y) (0 where x == 0 and y <= 0, as in PyTorch), d/dy = x / y."""

    __slots__ = ("a_shape", "b_shape")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        a, b = self.unpack()
        ea, eb = edges_of(self)
        ga = gb = None
        if ea is not None:
            ga = sum_to(where((a == 0) & (b <= 0), 0.0, xlogy(g, b)), self.a_shape)
        if eb is not None:
            gb = sum_to(g * a / b, self.b_shape)
        return ga, gb


def xlogy(input: Any, other: Any) -> Tensor:
    """``input * log(other)``, 0 where ``input == 0`` (unless ``other`` is NaN)."""
    if not isinstance(input, Tensor):
        input = number_as_tensor(input, other)
    if not isinstance(other, Tensor):
        other = number_as_tensor(float(other), float_result(input))
    a, b = promote(float_result(input), float_result(other), "xlogy")
    be = a._be
    x, y = a._data, b._data
    product = be.mul(x, be.log(y))
    data = be.where(be.logical_and(be.eq(x, 0), be.logical_not(be.isnan(y))), 0.0, product)
    return record(_make(be.as_array(data), be), XlogyBackward0, (a, b), saved=(a, b),
                  a_shape=x.shape, b_shape=y.shape)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods in METHODS (autodiff/__init__.py and autodiff/tensor_methods.py read both).
FUNCTIONS = ("erfc", "erfinv", "lgamma", "digamma", "polygamma", "mvlgamma", "i0", "sinc", "xlogy")
METHODS = {name: globals()[name] for name in FUNCTIONS} | {"polygamma": _polygamma_method}

