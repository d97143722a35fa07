"""The CPU generator's PyTorch-exact streams: seeded alike, ``randperm``, ``randint`` and
``random_`` give PyTorch's numbers (the samplers and ``DistributedSampler`` rely on it);
generator states still save and restore."""

from __future__ import annotations

import pytest

import autodiff

torch = pytest.importorskip("torch")

SEEDS = [0, 1, 1234, 2**32 + 5, 67280421310721]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [0, 1, 2, 7, 100, 5000])
def test_randperm_with_a_seeded_generator_is_torchs(seed: int, n: int) -> None:
    g, h = torch.Generator().manual_seed(seed), autodiff.Generator().manual_seed(seed)
    for _ in range(2):  # consecutive draws stay in step
        assert autodiff.randperm(n, generator=h).tolist() == torch.randperm(n, generator=g).tolist()


def test_manual_seed_then_randperm_is_torchs() -> None:
    torch.manual_seed(3)
    autodiff.manual_seed(3)
    assert autodiff.randperm(300).tolist() == torch.randperm(300).tolist()


@pytest.mark.parametrize("low, high", [(0, 10), (-5, 5), (0, 2**28 - 1), (0, 2**28), (7, 2**40),
                                       (-(2**63), 2**63 - 1)])
def test_randint_with_a_seeded_generator_is_torchs(low: int, high: int) -> None:
    g, h = torch.Generator().manual_seed(11), autodiff.Generator().manual_seed(11)
    expected = torch.randint(low, high, (3, 5), generator=g).tolist()
    assert autodiff.randint(low, high, (3, 5), generator=h).tolist() == expected


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "int16", "int32", "int64",
                                   "uint8", "bool"])
def test_random_fill_with_a_seeded_generator_is_torchs(dtype: str) -> None:
    g, h = torch.Generator().manual_seed(4), autodiff.Generator().manual_seed(4)
    a = autodiff.empty(9, dtype=getattr(autodiff, dtype))
    t = torch.empty(9, dtype=getattr(torch, dtype))
    assert a.random_(generator=h).tolist() == t.random_(generator=g).tolist()  # the dtype's range
    to = 2 if dtype == "bool" else 3
    assert a.random_(to, generator=h).tolist() == t.random_(to, generator=g).tolist()


def test_generator_state_round_trips_on_the_mt19937_stream() -> None:
    g = autodiff.Generator().manual_seed(5)
    autodiff.randperm(10, generator=g)
    state = g.get_state()
    first = (autodiff.randn(4, generator=g).tolist(), autodiff.randperm(20, generator=g).tolist())
    g.set_state(state)
    assert (autodiff.randn(4, generator=g).tolist(), autodiff.randperm(20, generator=g).tolist()) == first
