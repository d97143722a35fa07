"""Tests for autodiff._formatting with PyTorch as an oracle: ``format_tensor`` of a torch
tensor's values must equal ``repr`` of that tensor (fixed cases and hypothesis draws).

The torch-free tests (hard-coded expected strings) are in test_formatting.py."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodiff
from autodiff._formatting import EDGEITEMS, SUMMARIZE_THRESHOLD, format_tensor

NAN, INF = math.nan, math.inf

torch = pytest.importorskip("torch")

_DEFAULT_DTYPES = (torch.float32, torch.int64, torch.bool)


def _kind(t: Any) -> str:
    if t.dtype.is_floating_point:
        return "f"
    return "b" if t.dtype == torch.bool else "i"


def _suffixes(t: Any) -> list[str]:
    """The suffixes torch prints for a dense CPU tensor (except ``size=``)."""
    suffixes = []
    # Empty tensors show every dtype except the default float one.
    if t.numel() == 0:
        if t.dtype != torch.float32:
            suffixes.append(f"dtype={t.dtype}")
    elif t.dtype not in _DEFAULT_DTYPES:
        suffixes.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return suffixes


def _trim(t: Any) -> Any:
    """Keep the first and last EDGEITEMS entries of each dim longer than 2*EDGEITEMS."""
    for dim, size in enumerate(t.shape):
        if size > 2 * EDGEITEMS:
            head = t.narrow(dim, 0, EDGEITEMS)
            tail = t.narrow(dim, size - EDGEITEMS, EDGEITEMS)
            t = torch.cat([head, tail], dim=dim)
    return t


def _check(t: Any, pre_trim: bool = True) -> None:
    """Format ``t`` the way a caller would and compare with ``repr(t)``."""
    summarized = t.numel() > SUMMARIZE_THRESHOLD
    data = t.detach()
    if summarized and pre_trim:
        data = _trim(data)
    got = format_tensor(
        data.tolist(), tuple(t.shape), _kind(t), _suffixes(t), summarized
    )
    assert got == repr(t)


def _t(values: Any, dtype: Any = None, requires_grad: bool = False) -> Any:
    return torch.tensor(values, dtype=dtype, requires_grad=requires_grad)


def _oracle_cases() -> list[Any]:
    x = _t([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    return [
        torch.ones(2, 2, requires_grad=True),
        (torch.ones(2, 2, requires_grad=True) * 3 + 6).sum(),
        x.mean(),
        x * 4.5 / x,
        _t([2.0, 0.2, 0.02, 0.002]),
        _t([True, False]),
        _t([1, 2, 3]),
        _t(1.5),
        _t(-0.0),
        _t(float("nan")),
        _t(-7, dtype=torch.int32),
        _t(False),
        _t([[[1.5, -2.0], [3.25, 4.0]], [[5.0, 6.0], [7.0, 8.125]]]),
        torch.arange(24.0).reshape(1, 2, 3, 4) - 12,
        torch.arange(120).reshape(2, 3, 4, 5) * 10,
        torch.arange(30.0) / 3,
        torch.arange(100, dtype=torch.int32) - 50,
        torch.linspace(-1, 1, 37, dtype=torch.float64),
        _t([1e-8, 1.0, 1e8]),
        _t([1e9, 2e9]),
        _t([1e-5, 2e-5]),
        _t([123456.0, 0.5]),
        _t([1e300, -1e-300], dtype=torch.float64),
        _t([float("nan"), float("inf"), float("-inf"), 0.0, -0.0]),
        _t([float("nan"), 1.5, float("-inf")]),
        _t([float("inf"), 1e10]),
        _t([-0.0, 0.0, 1.0]),
        _t([0.0, 0.0]),
        _t([-5, 0, 17, -123456789]),
        _t([[True, True], [False, True]]),
        _t([[1.0, 2.0]], dtype=torch.float64, requires_grad=True),
        _t([1.5, 2.5], dtype=torch.float16),
        _t([1.5, 2.5], dtype=torch.bfloat16),
        torch.arange(11, dtype=torch.float64, requires_grad=True) * 3,
        torch.empty(0),
        torch.empty(0, 3),
        torch.empty(2, 0, dtype=torch.int64),
        torch.empty(0, dtype=torch.bool),
        torch.empty(0, 2, dtype=torch.float64, requires_grad=True),
        # Summarized (numel > 1000) in 1-d, 2-d, 3-d and 4-d.
        torch.arange(1001),
        torch.arange(5000.0) / 3,
        torch.arange(2000.0).reshape(40, 50) / 7,
        torch.arange(1200).reshape(2, 600),
        torch.arange(1200).reshape(600, 2),
        torch.arange(3000.0).reshape(10, 15, 20),
        torch.arange(1500).reshape(3, 5, 100) % 7 == 0,
        torch.arange(4096.0).reshape(8, 8, 8, 8) - 2048.5,
        torch.full((1001,), float("nan")),
        torch.linspace(1e-6, 1e6, 2000, dtype=torch.float64),
    ]


@pytest.mark.parametrize("t", _oracle_cases(), ids=lambda t: str(tuple(t.shape)))
def test_oracle_cases(t: Any) -> None:
    _check(t)
    if t.numel() > SUMMARIZE_THRESHOLD:
        _check(t, pre_trim=False)  # untrimmed data must give the same result


_INTERESTING = [0.0, -0.0, NAN, INF, -INF, 1e-5, 1e-4, 1e8, 1e9, 0.5, -2.5, 1000.0]

_floats = st.one_of(
    st.integers(-1000, 1000).map(float),
    st.integers(-99999, 99999).map(lambda i: i / 100),
    st.floats(-100, 100, width=32),
    st.floats(width=32, allow_nan=True, allow_infinity=True),
    st.sampled_from(_INTERESTING),
)

_shapes = st.lists(st.integers(0, 5), min_size=0, max_size=4).map(tuple)


@st.composite
def _small_tensors(draw: st.DrawFn) -> Any:
    shape = draw(_shapes)
    numel = math.prod(shape)
    kind = draw(st.sampled_from("fib"))
    if kind == "f":
        dtype = draw(
            st.sampled_from([torch.float32, torch.float64, torch.float16, torch.bfloat16])
        )
        flat = draw(st.lists(_floats, min_size=numel, max_size=numel))
        t = torch.tensor(flat, dtype=dtype).reshape(shape)
        mode = draw(st.sampled_from(["plain", "leaf", "grad_fn"]))
        if mode != "plain":
            t.requires_grad_()
            if mode == "grad_fn":
                t = t * 1
        return t
    if kind == "i":
        dtype = draw(st.sampled_from([torch.int64, torch.int32, torch.int8]))
        info = torch.iinfo(dtype)
        ints = st.one_of(st.integers(-20, 20), st.integers(info.min, info.max))
        flat = draw(st.lists(ints, min_size=numel, max_size=numel))
        return torch.tensor(flat, dtype=dtype).reshape(shape)
    flat = draw(st.lists(st.booleans(), min_size=numel, max_size=numel))
    return torch.tensor(flat, dtype=torch.bool).reshape(shape)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_small_tensors())
def test_oracle_small(t: Any) -> None:
    _check(t)


_big_shapes = st.one_of(
    st.integers(1001, 3000).map(lambda n: (n,)),
    st.tuples(st.integers(1, 80), st.integers(1, 80)),
    st.tuples(st.integers(1, 20), st.integers(1, 20), st.integers(1, 20)),
    st.tuples(*[st.integers(1, 9)] * 4),
).filter(lambda s: math.prod(s) > SUMMARIZE_THRESHOLD)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _big_shapes,
    st.integers(0, 2**31 - 1),
    st.sampled_from(["randn", "scaled", "ints", "int64", "bool", "nan"]),
)
def test_oracle_summarized(shape: tuple[int, ...], seed: int, content: str) -> None:
    gen = torch.Generator().manual_seed(seed)
    if content == "int64":
        t = torch.randint(-(10**6), 10**6, shape, generator=gen)
    elif content == "bool":
        t = torch.rand(shape, generator=gen) > 0.5
    else:
        t = torch.randn(shape, generator=gen)
        if content == "scaled":
            t = t * 10.0 ** torch.randint(-6, 7, shape, generator=gen)
        elif content == "ints":
            t = t.mul(100).round()
        elif content == "nan":
            t[t > 1] = float("nan")
            t[t < -1.5] = float("-inf")
    _check(t)


def _print_options_story(m):
    said = []
    try:
        m.set_printoptions(precision=2)
        said.append(repr(m.tensor([1.23456, 100.5])))
        m.set_printoptions(sci_mode=True)
        said.append(repr(m.tensor([1.5, 2.0])))
        m.set_printoptions(profile="short")
        said += [repr(m.arange(10.0)), repr(m.arange(2000.0).reshape(40, 50))]
        m.set_printoptions(profile="full")
        said.append(repr(m.arange(1200)))
        m.set_printoptions(threshold=5, edgeitems=1)
        said += [repr(m.arange(10)), repr(m.arange(12.0).reshape(3, 4))]
        m.set_printoptions(profile="default")
        m.set_printoptions(linewidth=20)
        said.append(repr(m.arange(20.0)))
        m.set_printoptions(profile="default")
        m.set_printoptions(precision=3)  # (every call sets sci_mode: None here)
        m.set_printoptions(sci_mode=False)
        said.append(repr(m.tensor([1e-8, 1.0])))
        m.set_printoptions(threshold=math.inf)
        said.append(repr(m.arange(2000)))
        m.set_printoptions(profile="no such profile")  # ignored, as PyTorch does
    finally:
        m.set_printoptions(profile="default")
    said.append(repr(m.tensor([1e-8, 1.0])) + repr(m.arange(2000.0)))
    return said


def test_set_printoptions_prints_as_torch():
    assert _print_options_story(autodiff) == _print_options_story(torch)
