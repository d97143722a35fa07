"""Creation and random numbers: the factories (autodiff/ops/creation.py, triangular.py), every
spelling of a size, default dtype and device, Generators and seeding (autodiff/random.py),
the sampling ops and in-place random fills (ops/sampling.py), the legacy constructors and
types (autodiff/legacy.py) and the tensor queries (ops/queries.py), against PyTorch where
PyTorch defines the answer.
"""

from __future__ import annotations

import pytest

import autodiff


def test_creation_functions(device):
    assert autodiff.zeros(2, 3, device=device).tolist() == [[0.0] * 3] * 2
    assert autodiff.ones((2,), device=device).dtype is autodiff.float32
    assert autodiff.full((2,), 7, device=device).dtype is autodiff.int64
    assert autodiff.full((2,), 7.0, device=device).tolist() == [7.0, 7.0]
    assert autodiff.empty(3, device=device).shape == (3,)
    assert autodiff.arange(4, device=device).tolist() == [0, 1, 2, 3]
    assert autodiff.arange(4, device=device).dtype is autodiff.int64
    assert autodiff.arange(0, 1, 0.25, device=device).dtype is autodiff.float32
    assert autodiff.randn(3, 4, device=device).shape == autodiff.Size([3, 4])
    r = autodiff.rand(1000, device=device)
    assert ((r >= 0) & (r < 1)).sum().item() == 1000
    t = autodiff.tensor([[1, 2], [3, 4]], device=device)
    assert t.dtype is autodiff.int64
    assert autodiff.tensor([1.5], device=device).dtype is autodiff.float32
    assert autodiff.tensor([True], device=device).dtype is autodiff.bool
    assert autodiff.tensor(3.0, dtype=autodiff.float64, device=device).dtype is autodiff.float64
    assert autodiff.zeros_like(t).tolist() == [[0, 0], [0, 0]]
    assert autodiff.ones_like(t, dtype=autodiff.float).dtype is autodiff.float32
    assert autodiff.full_like(t, 2).tolist() == [[2, 2], [2, 2]]
    assert autodiff.randn_like(autodiff.ones(2, device=device)).shape == (2,)


def test_manual_seed_repeats(device):
    autodiff.manual_seed(3)
    a = autodiff.randn(5, device=device).tolist()
    autodiff.manual_seed(3)
    assert autodiff.randn(5, device=device).tolist() == a


# ---- factories against PyTorch ---------------------------------------------------------------
torch_or_skip = pytest.importorskip  # (torch is the oracle; never a dependency of autodiff)

SIZE_SPELLINGS = [((2, 3), {}), (((2, 3),), {}), (([2, 3],), {}), ((), {"size": (2, 3)})]


@pytest.mark.parametrize("maker", ["zeros", "ones", "empty", "rand", "randn"])
@pytest.mark.parametrize("args,kwargs", SIZE_SPELLINGS)
def test_every_size_spelling(device, maker, args, kwargs):
    t = getattr(autodiff, maker)(*args, device=device, **kwargs)
    assert t.shape == (2, 3) and t.dtype is autodiff.float32
    assert getattr(autodiff, maker)(autodiff.Size([2, 3])).shape == (2, 3)
    assert getattr(autodiff, maker)(()).shape == ()
    assert getattr(autodiff, maker)(2, dtype=autodiff.float64, requires_grad=True).requires_grad


def test_size_errors_match_torch():
    torch = torch_or_skip("torch")
    for args, kwargs in [((2.0,), {}), ((2,), {"size": (2, 3)}), ((-1,), {})]:
        with pytest.raises(Exception) as ours:
            autodiff.zeros(*args, **kwargs)
        with pytest.raises(Exception) as theirs:
            torch.zeros(*args, **kwargs)
        assert type(ours.value) is type(theirs.value)
    with pytest.raises(TypeError):
        autodiff.full(3, 1.0)


def _same(ours, theirs):
    assert ours.dtype.name == str(theirs.dtype).split(".")[1], (ours.dtype, theirs.dtype)
    assert list(ours.shape) == list(theirs.shape)
    flat_ours, flat_theirs = ours.reshape(-1).tolist(), theirs.reshape(-1).tolist()
    assert flat_ours == pytest.approx(flat_theirs, rel=1e-6, abs=1e-6, nan_ok=True)


@pytest.mark.parametrize("call", [
    lambda m: m.linspace(0, 1, 5), lambda m: m.linspace(-2, 3, 7, dtype=m.float64),
    lambda m: m.linspace(0, 10, 5, dtype=m.int64), lambda m: m.linspace(0, 1, 1), lambda m: m.linspace(0, 1, 0),
    lambda m: m.logspace(0, 2, 3), lambda m: m.logspace(0, 3, 4, base=2), lambda m: m.eye(3),
    lambda m: m.eye(2, 3, dtype=m.int64), lambda m: m.full((2,), True), lambda m: m.full((2,), 1.5, dtype=m.int64),
    lambda m: m.full([2], 7), lambda m: m.arange(0, 1, 0.1), lambda m: m.arange(5, 1, -1),
    lambda m: m.arange(1.0, 3), lambda m: m.arange(0, 3, dtype=m.float64), lambda m: m.arange(m.tensor(3)),
    lambda m: m.arange(-1, 1, 0.3), lambda m: m.tril_indices(3, 3), lambda m: m.triu_indices(3, 4, 1),
    lambda m: m.tril_indices(3, 2, -1), lambda m: m.triu_indices(4, 3, -1),
    lambda m: m.tril(m.arange(12.0).reshape(3, 4), 1), lambda m: m.triu(m.arange(24.0).reshape(2, 3, 4), -1),
    lambda m: m.zeros(2, dtype=m.int64).new_tensor([1.5]), lambda m: m.zeros(2).new_full((2,), 3),
    lambda m: m.zeros(2, dtype=m.float64).new_zeros(2, 3), lambda m: m.zeros(2).new_ones((1, 2)),
    lambda m: m.zeros(2).new_empty(size=(2, 3)).zero_(), lambda m: m.full_like(m.zeros(2, dtype=m.int32), 4),
    lambda m: m.randint(3, (2,)) * 0, lambda m: m.randint(low=1, high=3, size=(2,)) * 0,
    lambda m: m.randint(3, 10, (2,), dtype=m.float32) * 0, lambda m: m.randint_like(m.zeros(2), 3, 5) * 0,
    lambda m: m.randperm(3, dtype=m.float32) * 0, lambda m: m.full((2,), 1, dtype=m.bool),
    lambda m: m.Tensor(2, 3).zero_(), lambda m: m.Tensor([1, 2]), lambda m: m.Tensor(), lambda m: m.Tensor((2, 3)),
    lambda m: m.zeros(2, dtype=m.int64).new(2, 3) * 0, lambda m: m.zeros(2, dtype=m.int64).new([1.5, 2]),
    lambda m: m.zeros(2, dtype=m.float64).new(), lambda m: m.Tensor(m.Size([2])).zero_(), lambda m: m.LongTensor([1.5, 2]), lambda m: m.ByteTensor(3) * 0,
    lambda m: m.DoubleTensor([[1, 2]]), lambda m: m.BoolTensor([1, 0]), lambda m: m.zeros(2).type(m.int32),
    lambda m: m.zeros(2).type("torch.LongTensor"), lambda m: m.zeros(2).type(m.DoubleTensor),
    lambda m: m.isclose(m.tensor([1.0, float("inf"), float("nan"), 2.0]), m.tensor([1.0, float("inf"), float("nan"), 2.1])),
    lambda m: m.isclose(m.tensor([1.0, float("nan")]), m.tensor([1.0 + 1e-9, float("nan")]), equal_nan=True),
    lambda m: m.isclose(m.tensor([1, 2]), m.tensor([1, 3])),
    lambda m: m.tensor([1.0, 2.0]).isclose(m.tensor([1.0, 2.5]), atol=0.6),
])
def test_factories_match_torch(call):
    # (uninitialised tensors are zeroed first: garbage may hold inf, and inf * 0 is nan)
    torch = torch_or_skip("torch")
    _same(call(autodiff), call(torch))


def test_queries_match_torch():
    torch = torch_or_skip("torch")
    for call in [
        lambda m: m.equal(m.tensor([1]), m.tensor([1.0])), lambda m: m.equal(m.tensor([1]), m.tensor([1, 1])),
        lambda m: m.equal(m.tensor([float("nan")]), m.tensor([float("nan")])),
        lambda m: m.allclose(m.tensor([1.0, 2]), m.tensor([1.0, 2.000001])), lambda m: m.zeros(2).equal(m.zeros(2)),
        lambda m: m.tensor([1, 2]).is_signed(), lambda m: m.tensor([1], dtype=m.uint8).is_signed(),
        lambda m: m.tensor([0.0]).is_nonzero(), lambda m: m.tensor(2.5).is_nonzero(),
        lambda m: m.zeros(2, 3).t().stride(), lambda m: m.zeros(2, 3).stride(1), lambda m: m.zeros(2, 3)[1].storage_offset(),
        lambda m: m.zeros(2, 3)[:, 1:].storage_offset(), lambda m: m.zeros(2, 3).t().dim_order(),
        lambda m: m.zeros(2, 3).itemsize, lambda m: m.zeros(2, 3).nbytes, lambda m: m.zeros(2, 3).is_cpu,
        lambda m: m.zeros(2, 3).ndimension(), lambda m: m.is_same_size(m.zeros(2), m.zeros(2)),
        lambda m: m.zeros(2).is_complex(), lambda m: m.is_floating_point(m.zeros(2)), lambda m: m.zeros(2).type(),
        lambda m: m.zeros(2, dtype=m.int8).type(), lambda m: m.zeros(2).is_contiguous(),
        lambda m: m.zeros(2, 3).t().is_contiguous(), lambda m: m.zeros(2).is_pinned(),
        lambda m: [getattr(m.zeros(2), n) for n in ("is_sparse", "is_sparse_csr", "is_quantized", "is_meta",
                                                   "is_mkldnn", "is_nested")],
        lambda m: isinstance(m.zeros(2), m.FloatTensor), lambda m: isinstance(m.zeros(2, dtype=m.int64), m.FloatTensor),
        lambda m: isinstance(m.zeros(2, dtype=m.int64), m.LongTensor), lambda m: m.zeros(2).char().dtype.is_signed,
        lambda m: str(m.zeros(2).byte().dtype), lambda m: str(m.zeros(2).short().dtype),
        lambda m: m.manual_seed(5).initial_seed(), lambda m: m.Generator().manual_seed(7).initial_seed(),
        lambda m: [(f.bits, f.eps, f.max, f.min, f.tiny, f.smallest_normal, f.resolution, f.dtype)
                   for f in (m.finfo(), m.finfo(m.float16), m.finfo(m.float32), m.finfo(m.float64))],
        lambda m: [(i.bits, i.min, i.max, i.dtype) for i in (m.iinfo(m.uint8), m.iinfo(m.int8), m.iinfo(m.int64))],
        lambda m: [m.can_cast(a, b) for a in (m.bool, m.int32, m.float64) for b in (m.bool, m.uint8, m.float16)],
        lambda m: str(m.result_type(m.tensor([1]), 2.5)), lambda m: str(m.result_type(2, 3.0)),
        lambda m: str(m.result_type(m.tensor(1.0, dtype=m.float64), m.tensor([1.0]))),
        lambda m: str(m.result_type(m.tensor([1], dtype=m.int8), m.tensor([1], dtype=m.uint8))),
        lambda m: str(m.result_type(True, m.tensor([1], dtype=m.int8))), lambda m: m.get_device(m.zeros(1)),
        lambda m: m.scalar_tensor(3).tolist(), lambda m: str(m.scalar_tensor(True).dtype),
        lambda m: m.asarray([1.0, 2]).tolist(), lambda m: str(m.asarray([1, 2], dtype=m.float64).dtype),
    ]:
        assert call(autodiff) == call(torch)
    for call in [lambda m: m.tensor([]).is_nonzero(), lambda m: m.tensor([1.0, 2]).is_nonzero(),
                 lambda m: m.isclose(m.tensor([1.0]), m.tensor([1.0], dtype=m.float64)),
                 lambda m: m.isclose(m.tensor([1.0]), 1.0), lambda m: m.Tensor(2.5),
                 lambda m: m.zeros(2).type("torch.Foo"), lambda m: m.LongTensor(m.zeros(2)),
                 lambda m: m.finfo(m.int32), lambda m: m.iinfo(m.float32)]:
        with pytest.raises(Exception) as ours:
            call(autodiff)
        with pytest.raises(Exception) as theirs:
            call(torch)
        assert type(ours.value) is type(theirs.value)


def test_legacy_constructor_makes_sizes_not_values(device):
    t = autodiff.Tensor(40, 1, device=device)
    assert t.shape == (40, 1) and t.dtype is autodiff.float32 and t.device == _dev(device)
    x = autodiff.tensor([1, 2])
    assert autodiff.Tensor(x) is x
    z = autodiff.zeros(2)
    v = autodiff.autograd.Variable(z, requires_grad=True)
    assert v.requires_grad and v.is_leaf and type(v) is autodiff.Tensor and not z.requires_grad
    assert v.data_ptr() == z.data_ptr()
    assert autodiff.autograd.Variable(autodiff.ones(1, requires_grad=True) * 2).grad_fn is None


def test_default_dtype_drives_float_factories_and_inference():
    prev = autodiff.get_default_dtype()
    autodiff.set_default_dtype(autodiff.float64)
    try:
        for t in (autodiff.zeros(2), autodiff.tensor([1.5]), autodiff.tensor(1.5), autodiff.arange(0.0, 3),
                  autodiff.linspace(0, 1, 3), autodiff.Tensor([1]), autodiff.rand(2), autodiff.tensor([1]) * 0.5):
            assert t.dtype is autodiff.float64
        assert autodiff.FloatTensor([1]).dtype is autodiff.float32
        autodiff.set_default_tensor_type("torch.FloatTensor")
        assert autodiff.zeros(1).dtype is autodiff.float32
        autodiff.set_default_tensor_type(autodiff.DoubleTensor)
        assert autodiff.zeros(1).dtype is autodiff.float64
        with pytest.raises(TypeError):
            autodiff.set_default_tensor_type(autodiff.LongTensor)
        assert repr(autodiff.tensor([1.0], dtype=autodiff.float32)) == "tensor([1.], dtype=torch.float32)"
        with pytest.raises(TypeError):
            autodiff.set_default_dtype(autodiff.int64)
    finally:
        autodiff.set_default_dtype(prev)


NUMPY_SCALAR_DATA = [
    "np.float64(1.0)", "np.float32(2.0)", "np.int32(3)", "np.bool_(True)", "np.float16(1.0)",
    "[np.int32(1), 2.5]", "[np.int32(1), 2]", "[np.float16(1), np.float32(2)]", "[np.int8(1), np.uint8(2)]",
    "[[np.float64(1)], [2.0]]", "[True, np.float32(1)]", "[np.int64(1), 1.5]", "(np.float64(2),)",
    "[]", "[[]]", "[[], []]", "[True]", "[1, 2]", "[1.0, 2]",
]


@pytest.mark.parametrize("factory", ["tensor", "as_tensor", "asarray"])
@pytest.mark.parametrize("source", NUMPY_SCALAR_DATA)
def test_numpy_scalars_keep_their_dtype_like_torch(factory, source):
    # np.float64 is also a Python float: it must still give float64, and in a list each NumPy
    # scalar counts with its own dtype, promoted with the Python numbers' dtypes.
    np = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    data = eval(source, {"np": np})
    ours, theirs = getattr(autodiff, factory)(data), getattr(torch, factory)(data)
    assert str(ours.dtype) == str(theirs.dtype)
    assert ours.shape == tuple(theirs.shape) and ours.tolist() == theirs.tolist()


def _dev(device):
    """The device tensors made with ``device=device`` say they are on (``cuda:0`` for ``cuda``)."""
    return autodiff.empty(0, device=device).device


def test_default_device_and_device_context(device):
    assert autodiff.get_default_device() == autodiff.device("cpu")
    with autodiff.device(device):
        assert autodiff.zeros(2).device == _dev(device)
        assert autodiff.tensor([1.0]).device == _dev(device)
        assert autodiff.randn(2).device == _dev(device)
    assert autodiff.zeros(2).device == autodiff.device("cpu")
    autodiff.set_default_device(device)
    try:
        assert autodiff.ones(1).device == _dev(device)
        assert autodiff.get_default_device() == autodiff.zeros(1).device
    finally:
        autodiff.set_default_device(None)
    assert autodiff.ones(1).device == autodiff.device("cpu")


# ---- random numbers ------------------------------------------------------------------------
RANDOM_CALLS = [
    lambda g, d: autodiff.randn(3, generator=g, device=d), lambda g, d: autodiff.rand((3,), generator=g, device=d),
    lambda g, d: autodiff.randint(0, 100, (3,), generator=g, device=d),
    lambda g, d: autodiff.randperm(6, generator=g, device=d),
    lambda g, d: autodiff.normal(0.0, 2.0, (3,), generator=g, device=d),
    lambda g, d: autodiff.normal(autodiff.zeros(3, device=d), 1.0, generator=g),
    lambda g, d: autodiff.bernoulli(autodiff.full((5,), 0.5, device=d), generator=g),
    lambda g, d: autodiff.multinomial(autodiff.ones(5, device=d), 3, generator=g),
    lambda g, d: autodiff.multinomial(autodiff.ones(2, 5, device=d), 4, True, generator=g),
    lambda g, d: autodiff.poisson(autodiff.full((3,), 4.0, device=d), generator=g),
    lambda g, d: autodiff.randn_like(autodiff.zeros(3, device=d), generator=g),
    lambda g, d: autodiff.zeros(4, device=d).uniform_(-1, 1, generator=g),
    lambda g, d: autodiff.zeros(4, device=d).normal_(generator=g),
    lambda g, d: autodiff.zeros(4, device=d).bernoulli_(0.3, generator=g),
    lambda g, d: autodiff.zeros(4, device=d).exponential_(generator=g),
    lambda g, d: autodiff.zeros(4, device=d).geometric_(0.4, generator=g),
    lambda g, d: autodiff.zeros(4, device=d).log_normal_(generator=g),
    lambda g, d: autodiff.zeros(4, device=d).cauchy_(generator=g),
    lambda g, d: autodiff.zeros(4, device=d, dtype=autodiff.int64).random_(0, 1000, generator=g),
]


@pytest.mark.parametrize("draw", RANDOM_CALLS)
def test_same_generator_seed_same_stream(device, draw):
    g = autodiff.Generator(device).manual_seed(11)
    first = draw(g, device).tolist()
    g.manual_seed(11)
    autodiff.manual_seed(99)  # the default generator is another stream
    assert draw(g, device).tolist() == first
    autodiff.manual_seed(4)
    a = draw(None, device).tolist()
    autodiff.manual_seed(4)
    assert draw(None, device).tolist() == a


def test_generator_state_round_trip():
    g = autodiff.Generator()
    assert g.device == autodiff.device("cpu") and g.initial_seed() == 67280421310721
    state = g.get_state()
    assert state.dtype is autodiff.uint8
    a = autodiff.rand(4, generator=g).tolist()
    g.set_state(state)
    assert autodiff.rand(4, generator=g).tolist() == a
    s = autodiff.get_rng_state()
    b = autodiff.randn(3).tolist()
    autodiff.set_rng_state(s)
    assert autodiff.randn(3).tolist() == b
    with autodiff.random.fork_rng():
        autodiff.randn(5)
    assert autodiff.randn(3).tolist() != b  # the stream went on from after b, fork or not
    with pytest.raises(TypeError):
        g.set_state(autodiff.zeros(3))
    with pytest.raises(RuntimeError):
        g.set_state(autodiff.tensor([1, 2, 3], dtype=autodiff.uint8))
    assert isinstance(autodiff.seed(), int) and isinstance(autodiff.initial_seed(), int)


def test_generator_device_must_match():
    g = autodiff.Generator("cpu")
    with pytest.raises(RuntimeError, match="Expected a 'strict' device type for generator"):
        autodiff.randn(2, generator=g, device="strict")


def test_distributions_have_the_right_law():
    autodiff.manual_seed(0)
    n = 20000
    u = autodiff.zeros(n, dtype=autodiff.float64).uniform_(2, 4)
    assert 2 <= u.min().item() and u.max().item() < 4 and abs(u.mean().item() - 3) < 0.02
    e = autodiff.zeros(n, dtype=autodiff.float64).exponential_(2.0)
    assert abs(e.mean().item() - 0.5) < 0.02
    geo = autodiff.zeros(n).geometric_(0.25)
    assert geo.min().item() >= 1 and abs(geo.mean().item() - 4) < 0.15
    ln = autodiff.zeros(n, dtype=autodiff.float64).log_normal_(0.0, 0.5)
    assert abs(ln.log().mean().item()) < 0.02
    b = autodiff.bernoulli(autodiff.full((n,), 0.3))
    assert set(b.tolist()) <= {0.0, 1.0} and abs(b.mean().item() - 0.3) < 0.02
    p = autodiff.poisson(autodiff.full((n,), 3.0))
    assert abs(p.mean().item() - 3) < 0.05
    m = autodiff.multinomial(autodiff.tensor([1.0, 3.0]), n, replacement=True)
    assert abs(m.float().mean().item() - 0.75) < 0.02
    perm = autodiff.randperm(50).tolist()
    assert sorted(perm) == list(range(50))
    rows = autodiff.multinomial(autodiff.tensor([[1.0, 0.0, 2.0], [1.0, 1.0, 1.0]]), 3).tolist()
    assert rows[0][2] == 1 and sorted(rows[1]) == [0, 1, 2]
    r = autodiff.zeros(n).random_()
    assert r.min().item() >= 0 and r.max().item() <= 2**24
    assert set(autodiff.zeros(50, dtype=autodiff.bool).random_().tolist()) == {False, True}


def test_random_argument_errors_match_torch():
    torch = torch_or_skip("torch")
    for call in [
        lambda m: m.zeros(3).exponential_(0), lambda m: m.zeros(3).geometric_(1),
        lambda m: m.zeros(3).log_normal_(1, 0), lambda m: m.zeros(3).normal_(1, -1),
        lambda m: m.zeros(3).uniform_(1, 0), lambda m: m.zeros(3).bernoulli_(1.5),
        lambda m: m.zeros(3).random_(5, 2), lambda m: m.zeros(3, dtype=m.uint8).random_(-1, 3),
        lambda m: m.zeros(3, dtype=m.int64).uniform_(), lambda m: m.zeros(3, dtype=m.int64).cauchy_(),
        lambda m: m.normal(0.0, -1.0, (2,)), lambda m: m.bernoulli(m.full((2,), 1.5)),
        lambda m: m.bernoulli(m.tensor([1, 0])), lambda m: m.multinomial(m.tensor([1.0, 2.0]), 3),
        lambda m: m.multinomial(m.tensor([1.0, -2.0]), 1), lambda m: m.multinomial(m.tensor([0.0, 0.0]), 1),
        lambda m: m.multinomial(m.tensor([1, 1]), 1), lambda m: m.multinomial(m.ones(1, 2, 2), 1),
        lambda m: m.poisson(m.tensor([1.0, -2.0])), lambda m: m.randperm(-1), lambda m: m.arange(5, 1),
        lambda m: m.linspace(0, 1, -1), lambda m: m.zeros(3, requires_grad=True).uniform_(),
        lambda m: m.rand(2, dtype=m.int64), lambda m: m.randn(2, dtype=m.int64), lambda m: m.randint(3, 3, (2,)),
        lambda m: m.randint(3, (2,), requires_grad=True), lambda m: m.eye(-1), lambda m: m.linspace(0, 1, 2.5),
        lambda m: m.tril(m.ones(3)), lambda m: m.arange(0, 5, 0), lambda m: m.arange(float("inf")),
    ]:
        with pytest.raises(Exception) as ours:
            call(autodiff)
        with pytest.raises(Exception) as theirs:
            call(torch)
        assert type(ours.value) is type(theirs.value), (ours.value, theirs.value)


def test_random_draws_give_zero_gradients_like_torch():
    torch = torch_or_skip("torch")
    for m in (autodiff, torch):
        mean = m.zeros(3, requires_grad=True)
        std = m.ones(3, requires_grad=True)
        out = m.normal(mean, std) + m.bernoulli(m.full((3,), 0.5, requires_grad=True)) * 0
        assert out.grad_fn is not None
        out.sum().backward()
        assert mean.grad.tolist() == [0.0] * 3 and std.grad.tolist() == [0.0] * 3
        x = m.ones(3, requires_grad=True)
        y = x * 2
        y.uniform_()
        assert type(y.grad_fn).__name__ == "UniformBackward0"
        y.sum().backward()
        assert x.grad.tolist() == [0.0] * 3
        version = (lambda t: t._version_value) if m is autodiff else (lambda t: t._version)
        v = version(y)
        y.normal_()
        assert version(y) == v + 1


def test_fills_write_through_views():
    base = autodiff.zeros(2, 3)
    base[1].uniform_(5, 6)
    assert base[0].tolist() == [0.0] * 3 and all(5 <= x < 6 for x in base[1].tolist())
    x = autodiff.ones(2, 3, requires_grad=True)
    y = x * 1
    y[0].normal_()
    y.sum().backward()
    assert x.grad.tolist() == [[0.0] * 3, [1.0] * 3]


def test_legacy_cuda_types(device):
    """``autodiff.cuda.FloatTensor``: constructs on the GPU; isinstance checks the device."""
    t = autodiff.zeros(2, device=device)
    assert isinstance(t, autodiff.cuda.FloatTensor) == (t.device.type == "cuda")
    assert isinstance(t, autodiff.FloatTensor) == (t.device.type != "cuda")
    assert t.type(autodiff.DoubleTensor).device == autodiff.device("cpu")
    if t.device.type == "cuda":
        x = autodiff.cuda.LongTensor([1, 2])
        assert x.device.type == "cuda" and x.type() == "torch.cuda.LongTensor"
        assert autodiff.zeros(2).type("torch.cuda.FloatTensor").device.type == "cuda"
    with pytest.raises(AttributeError):
        autodiff.cuda.NoSuchTensor  # noqa: B018


def test_fill_values_that_do_not_fit_the_dtype_raise(device):
    """PyTorch refuses a fill value its integer dtype cannot hold (NumPy gave INT_MIN for NaN)."""
    i32 = autodiff.zeros(3, dtype=autodiff.int32, device=device)
    for make in (lambda v: autodiff.full_like(i32, v), lambda v: autodiff.full((2,), v, dtype=autodiff.int64),
                 lambda v: i32.clone().fill_(v)):
        for v in (float("nan"), float("inf"), -float("inf"), 2.0 ** 70):
            with pytest.raises(RuntimeError, match=r"value cannot be converted to type \w+ without overflow \((full|full_like|fill_)"):
                make(v)
        with pytest.raises(OverflowError, match="int too big to convert"):  # (a Python int: as PyTorch)
            make(2 ** 70)
    with pytest.raises(RuntimeError, match="int8_t without overflow"):
        autodiff.full((1,), 200, dtype=autodiff.int8)
    with pytest.raises(RuntimeError, match="type float without overflow"):
        autodiff.full((1,), 1e300, dtype=autodiff.float32)
    assert autodiff.full_like(i32, 2.5).tolist() == [2, 2, 2]
    assert autodiff.full((1,), -1, dtype=autodiff.uint8).tolist() == [255]  # as in PyTorch
    assert autodiff.full((1,), float("nan"), dtype=autodiff.bool).tolist() == [True]
    assert autodiff.full((1,), float("inf")).tolist() == [float("inf")]
