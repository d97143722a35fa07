"""Special functions on NumPy arrays: ``gammaln``, ``digamma``, ``polygamma``, ``erfc``,
``erfinv`` and ``i1``.

SciPy is not a dependency of autodiff: when it is installed its ``scipy.special``
functions are used (the reference PyTorch is tested against); without it, the NumPy
formulas below are used (within a few ulps of SciPy in float64; ``erfc`` and ``gammaln``
go through Python's ``math`` elementwise, slow but exact). The CUDA backend uses
``cupyx.scipy.special`` instead, and the simulated CUDA devices use this file.
Results keep the input's dtype.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def special(name: str, a: Any, n: int | None = None) -> Any:
    """``name`` (a ``scipy.special`` name) of ``a``; ``n`` is polygamma's order."""
    try:  # looked up on each call: SciPy may be installed or not
        import scipy.special as sp
    except ImportError:
        sp = None
    if sp is not None:
        fn = getattr(sp, name)
        out = fn(n, a) if name == "polygamma" else fn(a)
    else:
        x = np.asarray(a, dtype=np.float64)
        out = polygamma(n, x) if name == "polygamma" else FALLBACKS[name](x)
    return np.asarray(out).astype(a.dtype, copy=False)


# ---- NumPy formulas (used when SciPy is missing), on float64 arrays -------------------------
def _lgamma_scalar(x: float) -> float:
    if x <= 0 and x == math.floor(x):
        return math.inf  # the poles (math.lgamma raises there)
    return math.lgamma(x)


_lgamma = np.vectorize(_lgamma_scalar, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _negative_pole(x: Any) -> Any:
    return (x <= 0) & (x == np.floor(x))


def digamma(x: Any) -> Any:
    """psi(x): shifted up to >= 10 by ``psi(y) = psi(y + 1) - 1/y``, then the asymptotic
    series; ``psi(x) = psi(1 - x) - pi / tan(pi x)`` for x < 0.5."""
    with np.errstate(all="ignore"):
        reflect = x < 0.5
        y = np.where(reflect, 1.0 - x, x)
        acc = np.zeros_like(y)
        for _ in range(10):
            small = y < 10
            acc = np.where(small, acc - 1.0 / y, acc)
            y = np.where(small, y + 1.0, y)
        r = 1.0 / (y * y)
        series = r * (1 / 12 - r * (1 / 120 - r * (1 / 252 - r * (1 / 240 - r * (1 / 132 - r * (691 / 32760 - r / 12))))))
        out = acc + np.log(y) - 0.5 / y - series
        out = np.where(reflect, out - np.pi / np.tan(np.pi * x), out)
        out = np.where(_negative_pole(x), np.nan, out)
        return np.where(x == 0, -np.inf, out)


_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _hurwitz_zeta(s: int, q: Any) -> Any:
    """zeta(s, q) = sum_k (q + k)^-s for an integer s >= 2 (Euler-Maclaurin after shifting
    q up to >= 10; negative non-integer q are summed through)."""
    shift = 10 + int(math.ceil(max(0.0, -float(np.nanmin(q, initial=0.0)))))
    acc = np.zeros_like(q)
    y = q
    for _ in range(shift):
        small = y < 10
        acc = np.where(small, acc + y ** -s, acc)
        y = np.where(small, y + 1.0, y)
    tail = y ** (1 - s) / (s - 1) + 0.5 * y ** -s
    rising = float(s)  # s (s + 1) ... (s + 2j - 2), the falling powers' coefficients
    fact = 2.0  # (2j)!
    for j, b in enumerate(_BERNOULLI, start=1):
        tail = tail + b / fact * rising * y ** (-s - 2 * j + 1)
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        fact *= (2 * j + 1) * (2 * j + 2)
    return acc + tail


def polygamma(n: int, x: Any) -> Any:
    """psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x) for n >= 1; digamma for n = 0."""
    if n == 0:
        return digamma(x)
    with np.errstate(all="ignore"):
        out = (-1.0) ** (n + 1) * math.factorial(n) * _hurwitz_zeta(n + 1, x)
        pole = np.inf if n % 2 else -np.inf  # as SciPy and PyTorch give at the poles
        return np.where(_negative_pole(x), pole, out)


def erfinv(x: Any) -> Any:
    """Giles' approximation ("Approximating the erfinv function", 2010), then two Newton
    steps on erf."""
    with np.errstate(all="ignore"):
        w = -np.log((1.0 - x) * (1.0 + x))
        small = w < 5.0
        ws = w - 2.5
        p_small = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):
            p_small = c + p_small * ws
        wl = np.sqrt(np.where(small, 5.0, w)) - 3.0
        p_large = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682):
            p_large = c + p_large * wl
        y = np.where(small, p_small, p_large) * x
        finite = np.abs(x) < 1
        for _ in range(2):
            step = (_erf(np.where(finite, y, 0.0)) - x) / (2 / math.sqrt(math.pi) * np.exp(-y * y))
            y = np.where(finite, y - step, y)
        y = np.where(np.abs(x) == 1, np.copysign(np.inf, x), y)
        return np.where(np.abs(x) > 1, np.nan, y)


def i1(x: Any) -> Any:
    """The modified Bessel function of order 1, by its power series (all terms positive)."""
    half = 0.5 * np.abs(x)
    terms = int(min(max(30.0, float(np.nanmax(half, initial=0.0)) * 1.5 + 30), 2000))
    with np.errstate(all="ignore"):
        term = half.copy()
        total = term.copy()
        sq = half * half
        for k in range(1, terms):
            term = term * sq / (k * (k + 1))
            total = total + term
    return np.copysign(total, x)


FALLBACKS = {"gammaln": _lgamma, "digamma": digamma, "erfc": _erfc, "erfinv": erfinv, "i1": i1}
