"""Random sampling: ``normal``, ``bernoulli``, ``multinomial``, ``poisson`` and the in-place
random fills (``uniform_``, ``normal_``, ``bernoulli_``, ``exponential_``, ``geometric_``,
``log_normal_``, ``cauchy_``, ``random_``).

Every one takes ``generator=`` (an ``autodiff.Generator``; default: the device's own).
Samples are not differentiable in PyTorch: an output computed from tensors that require
grad gets a node (``NormalBackward1``, ``BernoulliBackward0`` ...) whose gradients are
zeros, and an in-place fill of a tracked tensor rebases it onto such a node, so the old
values get zero gradient -- as PyTorch does.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff import dtypes
from autodiff.autograd.forward_rules import derived_jvp
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node
from autodiff.autograd.record import edge_of, record
from autodiff.ops.creation import _size, factory_backend
from autodiff.ops.inplace import _check_overlap, _rebase, inplace_on_view
from autodiff.random import rng_of
from autodiff.tensor import LEAF_INPLACE, Tensor, _make


class _RandomDraw(Node):
    """A random draw: every input gets a zero gradient (of its own shape)."""

    __slots__ = ("shapes",)
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Any:
        be = g._be
        grads = tuple(_make(be.zeros(s, g.dtype.name), be) for s in self.shapes)
        return grads if len(grads) > 1 else grads[0]


# PyTorch's grad_fn names, one class per overload.
class NormalBackward0(_RandomDraw):
    __slots__ = ()


class NormalBackward1(_RandomDraw):
    __slots__ = ()


class NormalBackward2(_RandomDraw):
    __slots__ = ()


class NormalBackward3(_RandomDraw):
    __slots__ = ()


class BernoulliBackward0(_RandomDraw):
    __slots__ = ()


class BernoulliBackward1(_RandomDraw):
    __slots__ = ()


class BernoulliBackward2(_RandomDraw):
    __slots__ = ()


class PoissonBackward0(_RandomDraw):
    __slots__ = ()


class UniformBackward0(_RandomDraw):
    __slots__ = ()


class ExponentialBackward0(_RandomDraw):
    __slots__ = ()


class GeometricBackward0(_RandomDraw):
    __slots__ = ()


class LogNormalBackward0(_RandomDraw):
    __slots__ = ()


class CauchyBackward0(_RandomDraw):
    __slots__ = ()


class RandomBackward0(_RandomDraw):
    __slots__ = ()


def _sampled(out: Tensor, node_cls: type, inputs: tuple) -> Tensor:
    """``out`` recorded as a draw from ``inputs`` (zero gradients), when one requires grad."""
    return record(out, node_cls, inputs, shapes=tuple(t._data.shape for t in inputs))


def _float_input(op: str, t: Tensor) -> None:
    if not t.dtype.is_floating_point:
        raise NotImplementedError(f'"{op}" not implemented for \'{t.dtype.word}\'')


# ---- distributions --------------------------------------------------------------------------
def normal(mean: Any, std: Any = 1.0, size: Any = None, *, generator: Any = None, dtype: Any = None,
           device: Any = None, requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """Normal samples: ``normal(mean_t, std_t)``, ``normal(mean_t, 1.0)``, ``normal(0.0, std_t)``
    (tensors broadcast) or ``normal(0.0, 1.0, size)``."""
    size = kwargs.pop("size", size)
    kwargs.pop("out", None)
    if kwargs:
        raise TypeError(f"normal() got an unexpected keyword argument '{next(iter(kwargs))}'")
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: with float mean "
                            "and std, size is required")
        _check_std("normal", std)
        be = factory_backend(device)
        dt = dtype or dtypes.get_default_dtype()
        shape = _size((size,), op="normal")
        z = be.random_normal(shape, "float64", rng_of(generator, be))
        data = be.astype(be.add(be.mul(z, float(std)), float(mean)), dt.name)
        out = _make(data, be)
        if requires_grad:
            out.requires_grad = True
        return out
    ref = mean if mt else std
    for t in (mean, std):
        if isinstance(t, Tensor):
            _float_input("normal_kernel_cpu", t)
    be = ref._be
    if st:
        if be.any(be.lt(std._data, 0)):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    else:
        _check_std("normal", std)
    m = mean._data if mt else float(mean)
    s = std._data if st else float(std)
    shape = be.broadcast_shapes(*(t._data.shape for t in (mean, std) if isinstance(t, Tensor)))
    z = be.random_normal(shape, ref.dtype.name, rng_of(generator, be))
    out = _make(be.add(be.mul(z, s), m), be)
    if mt and st:
        return _sampled(out, NormalBackward3, (mean, std))
    return _sampled(out, NormalBackward1 if mt else NormalBackward2, (ref,))


def _check_std(op: str, std: Any) -> None:
    if std < 0:
        raise RuntimeError(f"{op} expects std >= 0.0, but found std {std:g}")


def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None, **kwargs: Any) -> Tensor:
    """0/1 samples (``input``'s dtype): 1 with probability ``input`` (or ``p`` for every element)."""
    kwargs.pop("out", None)
    _float_input("bernoulli_tensor_cpu_p_", input)
    be = input._be
    u = be.random_uniform(input._data.shape, "float64", rng_of(generator, be))
    if p is None:
        probs = input._data
        if not be.all(be.logical_and(be.ge(probs, 0), be.le(probs, 1))):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    else:
        probs = float(p)
        if not 0 <= probs <= 1:
            raise RuntimeError(f"bernoulli expects p to be in [0, 1], but got p={probs:g}")
    out = _make(be.astype(be.lt(u, probs), input.dtype.name), be)
    return _sampled(out, BernoulliBackward0 if p is None else BernoulliBackward1, (input,))


def poisson(input: Tensor, generator: Any = None) -> Tensor:
    """One Poisson sample per element, with rate ``input`` (same dtype)."""
    _float_input("poisson_cpu", input)
    be = input._be
    if be.any(be.lt(input._data, 0)):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    out = _make(be.random_poisson(be.astype(input._data, "float64"), input.dtype.name,
                                  rng_of(generator, be)), be)
    return _sampled(out, PoissonBackward0, (input,))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Any = None, **kwargs: Any) -> Tensor:
    """Category indices (int64) drawn from the weights in the last dim of ``input`` (1-d or
    2-d); without replacement each row's categories are drawn at most once."""
    kwargs.pop("out", None)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input.dtype.word}")
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    n = int(num_samples)
    if n <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    be = input._be
    p = be.astype(input._data, "float64")
    if input.ndim == 1:
        p = be.reshape(p, (1, p.shape[0]))
    rows, k = p.shape
    if not replacement and n > k:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    finite = be.logical_not(be.logical_or(be.isnan(p), be.isinf(p)))
    if not be.all(be.logical_and(finite, be.ge(p, 0))):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    total = be.sum(p, axis=1, keepdims=True)
    if be.any(be.le(total, 0)):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = rng_of(generator, be)
    if replacement:
        # Inverse CDF: the sample is the number of cumulative weights at or below u.
        cdf = be.div(be.cumsum(p, 1), total)
        u = be.random_uniform((rows, n, 1), "float64", rng)
        below = be.le(be.reshape(cdf, (rows, 1, k)), u)
        idx = be.minimum(be.sum(be.astype(below, "int64"), axis=2), k - 1)
    else:
        # Exponential race (Efraimidis-Spirakis): the n smallest -log(1-u)/p win, in order;
        # categories of weight 0 come last, lowest index first.
        u = be.random_uniform((rows, k), "float64", rng)
        positive = be.gt(p, 0)
        race = be.div(be.neg(be.log1p(be.neg(u))), be.where(positive, p, 1.0))
        race = be.where(positive, race, math.inf)
        idx = be.getitem(be.argsort(race, 1), (slice(None), slice(0, n)))
    if input.ndim == 1:
        idx = be.reshape(idx, (n,))
    return _make(be.astype(idx, "int64"), be)


# ---- in-place random fills ------------------------------------------------------------------
def _fill_random(t: Tensor, data: Any, node_cls: type) -> Tensor:
    """Write the samples ``data`` into ``t`` (PyTorch's in-place rules: version bump, leaf
    check; a tracked tensor is rebased onto ``node_cls``, whose gradient is zero)."""
    _check_overlap(t)
    be = t._be
    data = be.astype(data, t.dtype.name)
    base = t._base
    if _grad.enabled and base is not None and (t._requires_grad or base._requires_grad):
        return inplace_on_view(t, lambda x: _sampled(_make(data, be), node_cls, (x,)))
    if _grad.enabled and t._requires_grad:
        if t.grad_fn is None:
            raise RuntimeError(LEAF_INPLACE)
        node = node_cls((edge_of(t),))
        node.shapes = (t._data.shape,)
        _rebase(t, node, 0)
    be.copyto(t._data, data)
    t._version[0] += 1
    return t


def _uniform01(t: Tensor, generator: Any) -> Any:
    be = t._be
    return be.random_uniform(t._data.shape, "float64", rng_of(generator, be))


def _continuous(op: str, t: Tensor) -> None:
    if not t.dtype.is_floating_point:
        raise RuntimeError(f"{op} distribution is a continuous probability distribution. dtype must "
                           f"be a floating point but you specified {t.dtype.c_name}")


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None, **kwargs: Any) -> Tensor:
    """Fill with uniform samples in ``[from, to)`` (``from``/``to`` also as keywords)."""
    a, b = kwargs.pop("from", a), kwargs.pop("to", b)
    _float_input("check_uniform_bounds", t)
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    be = t._be
    data = be.add(be.mul(_uniform01(t, generator), float(b) - float(a)), float(a))
    return _fill_random(t, data, UniformBackward0)


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    _float_input("normal_kernel_cpu", t)
    _check_std("normal", std)
    be = t._be
    z = be.random_normal(t._data.shape, "float64", rng_of(generator, be))
    return _fill_random(t, be.add(be.mul(z, float(std)), float(mean)), NormalBackward0)


def bernoulli_(t: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """Fill with 1 (probability ``p``, a number or a tensor broadcast to ``t``) or 0."""
    be = t._be
    if isinstance(p, Tensor):
        probs = be.broadcast_to(be.astype(p._data, "float64"), t._data.shape)
        node = BernoulliBackward1
    else:
        probs = float(p)
        if not 0 <= probs <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={probs:g}")
        node = BernoulliBackward2
    return _fill_random(t, be.lt(_uniform01(t, generator), probs), node)


def exponential_(t: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    _continuous("Exponential", t)
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    be = t._be
    # -log(1 - u) / lambda, with u in [0, 1): never log(0).
    data = be.div(be.neg(be.log1p(be.neg(_uniform01(t, generator)))), float(lambd))
    return _fill_random(t, data, ExponentialBackward0)


def geometric_(t: Tensor, p: float, *, generator: Any = None) -> Tensor:
    """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    be = t._be
    trials = be.ceil(be.div(be.log1p(be.neg(_uniform01(t, generator))), math.log1p(-p)))
    return _fill_random(t, be.maximum(trials, 1.0), GeometricBackward0)


def log_normal_(t: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Tensor:
    _float_input("log_normal_cpu", t)
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    be = t._be
    z = be.random_normal(t._data.shape, "float64", rng_of(generator, be))
    return _fill_random(t, be.exp(be.add(be.mul(z, float(std)), float(mean))), LogNormalBackward0)


def cauchy_(t: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Tensor:
    _continuous("Cauchy", t)
    be = t._be
    angle = be.mul(be.sub(_uniform01(t, generator), 0.5), math.pi)
    return _fill_random(t, be.add(be.mul(be.tan(angle), float(sigma)), float(median)), CauchyBackward0)


# ``random_``'s default range: integers every value of the dtype holds exactly.
_DEFAULT_TO = {"float16": 2**11 + 1, "float32": 2**24 + 1, "float64": 2**53 + 1, "bool": 2}
_INT_RANGE = {"uint8": (0, 255), "int8": (-128, 127), "int16": (-(2**15), 2**15 - 1),
              "int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def random_(t: Tensor, a: Any = None, b: Any = None, *, generator: Any = None, **kwargs: Any) -> Tensor:
    """Fill with integers: ``random_()`` over the dtype's exact range, ``random_(to)`` in
    ``[0, to)``, ``random_(from, to)`` in ``[from, to)``."""
    only_to = a is not None and b is None and not kwargs
    a, b = kwargs.pop("from", a), kwargs.pop("to", b)
    name = t.dtype.name
    if only_to:
        low, high = 0, int(a)
    else:
        low = 0 if a is None else int(a)
        high = int(b) if b is not None else _DEFAULT_TO.get(name, _INT_RANGE.get(name, (0, 0))[1] + 1)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if name in _INT_RANGE:
        lo, hi = _INT_RANGE[name]
        if not lo <= low <= hi:
            raise RuntimeError(f"from is out of bounds for {t.dtype.c_name}")
        if not lo <= high - 1 <= hi:
            raise RuntimeError(f"to - 1 is out of bounds for {t.dtype.c_name}")
    be = t._be
    # PyTorch draws the dtype's default range from one 32-bit word unless it spans 2**32 or
    # more, and an explicit range from two words from 2**28 on (the backend's default).
    wide = high - low >= 2**32 if a is None and b is None else None
    data = be.random_integers(low, high, t._data.shape, "int64", rng_of(generator, be), wide=wide)
    return _fill_random(t, data, RandomBackward0)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ("normal", "bernoulli", "poisson", "multinomial")
METHODS = {
    "bernoulli": bernoulli, "multinomial": multinomial,
    "uniform_": uniform_, "normal_": normal_, "bernoulli_": bernoulli_, "exponential_": exponential_,
    "geometric_": geometric_, "log_normal_": log_normal_, "cauchy_": cauchy_, "random_": random_,
}
