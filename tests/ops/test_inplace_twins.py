"""In-place twins (autodiff/ops/inplace_twins.py): every twin against PyTorch (values,
dtype errors, version counter, leaf check, views), and the table covering each twin PyTorch
has for an op autodiff has."""

from __future__ import annotations

import pytest

import autodiff
from autodiff.ops.inplace_twins import METHODS, VALUE_TWINS, VIEW_TWINS

torch = pytest.importorskip("torch")

X = [[0.3, -1.2, 2.5], [1.7, -0.4, 0.9]]
# The arguments each twin is called with (none when not listed).
ARGS = {
    "multiply_": lambda m: (m.tensor([2.0, 3.0, 4.0]),), "divide_": lambda m: (2.0,),
    "true_divide_": lambda m: (m.tensor([[2.0], [4.0]]),), "subtract_": lambda m: (0.5,),
    "lerp_": lambda m: (m.ones(2, 3, dtype=m.float64), 0.25), "eq_": lambda m: (0.3,), "ne_": lambda m: (0.3,),
    "lt_": lambda m: (0.5,), "le_": lambda m: (0.9,), "gt_": lambda m: (0.0,), "ge_": lambda m: (0.9,),
    "logical_and_": lambda m: (m.tensor([True, False, True]),), "logical_or_": lambda m: (m.tensor([False]),),
    "cumsum_": lambda m: (1,), "masked_fill_": lambda m: (m.tensor([True, False, True]), 9.0),
    "scatter_add_": lambda m: (0, m.tensor([[1, 0, 1]]), m.ones(1, 3, dtype=m.float64)), "tril_": lambda m: (),
    "triu_": lambda m: (1,), "round_": lambda m: (), "clamp_min_": lambda m: (0.5,), "clamp_max_": lambda m: (0.5,),
    "index_put_": lambda m: ((m.tensor([1]),), m.tensor(7.0, dtype=m.float64)), "transpose_": lambda m: (0, 1),
    "swapaxes_": lambda m: (1, 0), "swapdims_": lambda m: (0, 1), "unsqueeze_": lambda m: (1,),
    "squeeze_": lambda m: (),
    # twins of the newer elementwise, indexing and linear-algebra ops
    "atan2_": lambda m: (m.tensor([0.5, -1.0, 2.0], dtype=m.float64),),
    "arctan2_": lambda m: (m.tensor([0.5, -1.0, 2.0], dtype=m.float64),),
    "hypot_": lambda m: (m.tensor([0.5, -1.0, 2.0], dtype=m.float64),),
    "copysign_": lambda m: (m.tensor([0.5, -1.0, 2.0], dtype=m.float64),), "fmod_": lambda m: (0.7,),
    "float_power_": lambda m: (2,), "heaviside_": lambda m: (m.tensor([0.5], dtype=m.float64),),
    "nextafter_": lambda m: (m.tensor([0.0], dtype=m.float64),), "ldexp_": lambda m: (m.tensor([1, 2, 3]),),
    "addcmul_": lambda m: (m.tensor([1.0, 2.0, 3.0], dtype=m.float64), m.tensor([[2.0], [0.5]], dtype=m.float64)),
    "addcdiv_": lambda m: (m.tensor([1.0, 2.0, 3.0], dtype=m.float64), m.tensor([[2.0], [0.5]], dtype=m.float64)),
    "xlogy_": lambda m: (m.tensor([0.5, 1.0, 2.0], dtype=m.float64),), "polygamma_": lambda m: (1,),
    "mvlgamma_": lambda m: (1,), "greater_": lambda m: (0.3,), "greater_equal_": lambda m: (0.3,),
    "less_": lambda m: (0.3,), "less_equal_": lambda m: (0.3,), "not_equal_": lambda m: (0.3,),
    "logical_xor_": lambda m: (m.tensor([True, False, True]),),
    "bitwise_and_": lambda m: (1,), "bitwise_or_": lambda m: (1,), "bitwise_xor_": lambda m: (1,),
    "bitwise_left_shift_": lambda m: (1,), "bitwise_right_shift_": lambda m: (1,),
    "gcd_": lambda m: (m.tensor([2]),), "lcm_": lambda m: (m.tensor([2]),),
    "index_add_": lambda m: (0, m.tensor([1, 0]), m.ones(2, 3, dtype=m.float64)),
    "index_copy_": lambda m: (1, m.tensor([2]), m.zeros(2, 1, dtype=m.float64)),
    "index_fill_": lambda m: (1, m.tensor([0, 2]), -1.0), "put_": lambda m: (m.tensor([5, 0]), m.tensor([7.0, 8.0], dtype=m.float64)),
    "scatter_": lambda m: (1, m.tensor([[0], [2]]), 5.0),
    "scatter_reduce_": lambda m: (1, m.tensor([[0, 0], [2, 1]]), m.ones(2, 2, dtype=m.float64), "sum"),
    "index_reduce_": lambda m: (0, m.tensor([1, 0]), m.ones(2, 3, dtype=m.float64), "prod"),
    "masked_scatter_": lambda m: (m.tensor([True, False, True]), m.arange(6.0, dtype=m.float64).reshape(2, 3)),
    "addmm_": lambda m: (m.ones(2, 4, dtype=m.float64), m.ones(4, 3, dtype=m.float64)),
    "addr_": lambda m: (m.ones(2, dtype=m.float64), m.ones(3, dtype=m.float64)),
    "addbmm_": lambda m: (m.ones(2, 2, 4, dtype=m.float64), m.ones(2, 4, 3, dtype=m.float64)),
    "cumprod_": lambda m: (1,),
}
# Twins whose input is not the (2, 3) X (their op needs another shape).
SHAPED = {"addmv_": ([0.5, 1.5], lambda m: (m.ones(2, 3, dtype=m.float64), m.ones(3, dtype=m.float64))),
          "baddbmm_": ([[[0.5, 1.5, 2.5]]], lambda m: (m.ones(1, 1, 4, dtype=m.float64),
                                                       m.ones(1, 4, 3, dtype=m.float64)))}
TWINS = sorted(set(VALUE_TWINS) | set(VIEW_TWINS) | {"clamp_min_", "clamp_max_", "index_put_"})
DOMAIN = {"log_": abs, "log1p_": abs, "log2_": abs, "sqrt_": abs, "rsqrt_": abs,
          "mvlgamma_": lambda v: abs(v) + 0.5, "polygamma_": lambda v: abs(v) + 0.5}
# Twins of integer-only ops: called on an integer tensor.
INTEGER = {"bitwise_and_", "bitwise_or_", "bitwise_xor_", "bitwise_not_", "bitwise_left_shift_",
           "bitwise_right_shift_", "gcd_", "lcm_"}
# PyTorch's polygamma is accurate to about 1e-9 only (see tests/ops/test_elementwise.py).
RTOL = {"polygamma_": 1e-8}


def _input(m, name, dtype="float64"):
    if name in SHAPED:
        return m.tensor(SHAPED[name][0], dtype=getattr(m, dtype))
    f = DOMAIN.get(name, lambda v: v)
    return m.tensor([[f(v) for v in row] for row in X], dtype=getattr(m, dtype))


ARGS.update({name: args for name, (_, args) in SHAPED.items()})


@pytest.mark.parametrize("name", TWINS)
def test_twin_matches_torch(name):
    dtype = "int64" if name in INTEGER else "float64"
    ours, theirs = _input(autodiff, name, dtype), _input(torch, name, dtype)
    v = ours._version_value
    out = getattr(ours, name)(*ARGS.get(name, lambda m: ())(autodiff))
    expected = getattr(theirs, name)(*ARGS.get(name, lambda m: ())(torch))
    assert out is ours and ours._version_value == v + 1
    assert list(ours.shape) == list(theirs.shape) and ours.stride() == theirs.stride()
    assert ours.reshape(-1).tolist() == pytest.approx(expected.reshape(-1).tolist(), rel=RTOL.get(name, 1e-12),
                                                      nan_ok=True)


@pytest.mark.parametrize("name", sorted(VALUE_TWINS))
def test_twin_on_int_tensor_raises_like_torch(name):
    """A result that does not fit the tensor's dtype raises RuntimeError (``int.sqrt_()``)."""
    args_of = ARGS.get(name, lambda m: ())
    outcomes = []
    for m in (autodiff, torch):
        t = m.tensor([[1, 2, 3], [4, 5, 6]])
        try:
            getattr(t, name)(*args_of(m))
            outcomes.append(("ok", t.tolist()))
        except Exception as exc:  # noqa: BLE001 - the class is what is compared
            outcomes.append((type(exc).__name__, None))
    assert outcomes[0] == outcomes[1]


def test_int_sqrt_message():
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        autodiff.tensor([1, 2]).sqrt_()


@pytest.mark.parametrize("name", ["exp_", "t_", "unsqueeze_", "clamp_min_"])
def test_twin_refuses_leaf_that_requires_grad(name):
    x = autodiff.ones(2, 2, requires_grad=True)
    args = ARGS.get(name, lambda m: ())(autodiff)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        getattr(x, name)(*args)
    with autodiff.no_grad():
        getattr(x, name)(*args)


def test_twin_on_view_rebases_base_like_torch():
    grads = []
    for m in (autodiff, torch):
        x = m.tensor(X, dtype=m.float64, requires_grad=True)
        y = x * 1
        y[0].neg_()
        y[1].clamp_min_(0.5)
        y.t_()
        (y * m.arange(6.0, dtype=m.float64).reshape(3, 2)).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]


def test_every_torch_twin_of_an_existing_op_is_in_the_table():
    """PyTorch's ``op_`` methods whose ``op`` autodiff has: each is a Tensor method."""
    missing = sorted(
        n for n in dir(torch.Tensor)
        if n.endswith("_") and not n.startswith("_") and hasattr(autodiff.Tensor, n[:-1])
        and not hasattr(autodiff.Tensor, n)
    )
    assert not missing, f"add these to VALUE_TWINS (autodiff/ops/inplace_twins.py): {missing}"
    assert set(METHODS) >= set(VALUE_TWINS) | set(VIEW_TWINS)


def test_twin_functions_match_torch():
    """``torch.relu_(x)`` and the other twins PyTorch has as functions."""
    from autodiff.ops.inplace_twins import FUNCTIONS

    for name in FUNCTIONS:
        assert hasattr(torch, name), name
        if name.startswith("index_put") or name.startswith("clamp_m"):
            continue
        ours, theirs = _input(autodiff, name), _input(torch, name)
        assert getattr(autodiff, name)(ours) is ours
        getattr(torch, name)(theirs)
        assert ours.reshape(-1).tolist() == pytest.approx(theirs.reshape(-1).tolist(), rel=1e-12)
    x = autodiff.tensor([1.0, -2.0])
    assert autodiff.clamp_min_(x, 0.0).tolist() == [1.0, 0.0]
