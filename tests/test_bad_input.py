"""Bad input: every exported op and Tensor method, called with wrong arguments.

The cases come from ``autodiff.testing.bad_input`` (one or two valid calls per op, each
mutated one argument at a time: non-tensors, ``None``, strings, out-of-range dims, 0-d and
empty tensors, shapes that do not broadcast, NaN/inf, bad dtypes); hypothesis draws a
fixed sample of them (derandomized). Every case must end without an internal exception
class and without changing its inputs when it fails; where PyTorch is installed, the
outcome must be PyTorch's: the same exception class, or the same value when PyTorch
succeeds. ``python -m autodiff.testing.bad_input`` prints the figures for all cases.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodiff
from autodiff.testing.bad_input import Case, T, all_cases, check, is_known

try:
    import torch
except ImportError:  # the comparisons with PyTorch are skipped
    torch = None

CASES = all_cases()
EXAMPLES = settings(derandomize=True, max_examples=1500, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))

@EXAMPLES
@given(case=st.sampled_from(CASES))
def test_no_internal_error_and_inputs_unchanged(case: Case) -> None:
    problems = [p for p in check(case, torch) if p[0] in ("internal", "mutated")]
    assert not problems, f"{case}: {problems}"


@pytest.mark.skipif(torch is None, reason="needs PyTorch")
@EXAMPLES
@given(case=st.sampled_from(CASES))
def test_same_outcome_as_pytorch(case: Case) -> None:
    problems = [p for p in check(case, torch) if not is_known(case)]
    assert not problems, f"{case}: {problems}"


# ---- the messages users read ------------------------------------------------------------------
def _raises(exc: type, fn, *args, **kwargs) -> str:
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_non_tensor_argument_named_like_pytorch() -> None:
    x = autodiff.ones(2, 3)
    assert _raises(TypeError, autodiff.abs, 2) == "abs(): argument 'input' (position 1) must be Tensor, not int"
    assert _raises(TypeError, autodiff.mm, x, None) == "mm(): argument 'mat2' (position 2) must be Tensor, not NoneType"
    assert _raises(TypeError, x.mm, None) == "mm(): argument 'mat2' (position 1) must be Tensor, not NoneType"
    assert "must be Tensor, not list" in _raises(TypeError, autodiff.sum, [1.0])
    assert "must be Tensor, not int" in _raises(TypeError, autodiff.zeros_like, 2)
    assert _raises(TypeError, autodiff.sum, x, dtype="float32") == (
        "sum(): argument 'dtype' must be torch.dtype, not str")


def test_dims_out_of_range_including_0d() -> None:
    s = autodiff.tensor(1.0)
    message = "Dimension out of range (expected to be in range of [-1, 0], but got 2)"
    assert _raises(IndexError, s.softmax, 2) == message
    assert _raises(IndexError, s.sum, 2) == message
    assert "but got -3" in _raises(IndexError, s.squeeze, -3)
    assert "[-2, 1], but got 2" in _raises(IndexError, autodiff.ones(2, 3).sum, 2)
    assert s.sum(0).item() == 1.0 and s.softmax(-1).item() == 1.0  # -1 and 0 name a 0-d tensor's dim


def test_broadcasting_mismatch_is_pytorchs_runtime_error() -> None:
    a, b = autodiff.ones(2, 3), autodiff.ones(4)
    message = "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"
    assert _raises(RuntimeError, lambda: a + b) == message  # an operator (not wrapped)
    assert _raises(RuntimeError, autodiff.maximum, a, b) == message  # a function (wrapped)
    assert _raises(RuntimeError, a.add_, b) == message
    assert "at non-singleton dimension 0" in _raises(RuntimeError, lambda: autodiff.ones(5, 2, 3) * autodiff.ones(4, 1, 3))


def test_conv_and_pool_strides() -> None:
    nnf = autodiff.nn.functional
    x, w = autodiff.ones(1, 1, 4, 4), autodiff.ones(1, 1, 2, 2)
    assert _raises(RuntimeError, nnf.conv2d, x, w, stride=0) == "non-positive stride is not supported"
    assert _raises(RuntimeError, nnf.max_pool2d, x, 0) == "stride should not be zero"
    assert _raises(RuntimeError, nnf.avg_pool2d, x, 2, 0) == "stride should not be zero"
    assert "greater than zero" in _raises(RuntimeError, nnf.max_pool2d, x, 2, -1)


def test_failed_call_leaves_its_inputs_alone() -> None:
    x = autodiff.ones(2, 3, requires_grad=True)
    y = x * 1
    before = (y.tolist(), y._version[0])
    with pytest.raises(RuntimeError):
        y.add_(autodiff.ones(4))
    assert (y.tolist(), y._version[0]) == before


def test_floor_divide_and_remainder_like_python() -> None:
    a = autodiff.tensor([5.0, -3.5])
    assert (a // 2).tolist() == [2.0, -2.0] and (a % 2).tolist() == [1.0, 0.5]
    assert (7 // autodiff.tensor([2, 3])).tolist() == [3, 2]
    assert (5.5 % autodiff.tensor([2, 3])).tolist() == [1.5, 2.5]
    assert (autodiff.tensor([5, -3]) // 2).dtype is autodiff.int64
    assert _raises(RuntimeError, lambda: autodiff.tensor([1, 2]) // 0) == "ZeroDivisionError"
    n = autodiff.tensor([5, 7])
    n //= 2
    n %= 3
    assert n.tolist() == [2, 0]


def test_format_of_a_0d_tensor_is_its_number() -> None:
    assert f"{autodiff.tensor(0.5)}" == "0.5"
    assert f"{autodiff.tensor(0.5):.2f}" == "0.50"
    assert f"{autodiff.tensor([0.5, 1.0])}" == str(autodiff.tensor([0.5, 1.0]))
    with pytest.raises(TypeError):
        f"{autodiff.tensor([0.5]):.2f}"


def test_empty_tensors_where_pytorch_takes_them() -> None:
    e = autodiff.ones(0, 3)
    assert autodiff.softmax(e, 1).shape == (0, 3)
    assert autodiff.logsumexp(e, 0).tolist() == [float("-inf")] * 3
    assert [p.shape for p in autodiff.split(autodiff.ones(0), 2)] == [(0,)]
    assert [p.shape for p in autodiff.chunk(autodiff.ones(0), 2)] == [(0,), (0,)]
    assert autodiff.ones(2, 3).sum(dim=()).item() == 6.0
    assert autodiff.ones(2, 3).sum(dim=(), keepdim=True).shape == (1, 1)


def test_generator_builds_each_case_in_both_libraries() -> None:
    case = Case("fn", "add", (T((2, 3)), T((4,))))
    assert str(case).startswith("add(")
    assert [p[0] for p in check(case, None)] == []


def test_new_operators_and_errors_on_every_device(device: str) -> None:
    a = autodiff.tensor([5.0, -3.5], device=device)
    assert (a // 2).tolist() == [2.0, -2.0] and (a % 2).tolist() == [1.0, 0.5]
    n = autodiff.tensor([1, 2], device=device)
    assert (n & autodiff.tensor([3, 1], device=device)).tolist() == [1, 0]
    assert (n | 4).tolist() == [5, 6]
    b = autodiff.tensor([True, False], device=device)
    assert (b & b).tolist() == [True, False]
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        n // 0
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        a + autodiff.ones(3, device=device)
    with pytest.raises(IndexError, match="Dimension out of range"):
        a.sum(1)


# ---- behaviours matched to PyTorch 2.13 (once listed as known differences) ----------------------
def test_dtypes_without_a_pytorch_kernel_are_refused() -> None:
    b, i = autodiff.tensor([[True, False]]), autodiff.tensor([[1, -2]])
    nnf = autodiff.nn.functional
    for fn in (autodiff.abs, autodiff.floor, autodiff.ceil, autodiff.round, autodiff.trunc):
        assert "not implemented for 'Bool'" in _raises(NotImplementedError, fn, b)
    assert "not implemented for 'Long'" in _raises(NotImplementedError, autodiff.round, i, decimals=1)
    assert autodiff.round(i).tolist() == [[1, -2]] and autodiff.floor(i).dtype is autodiff.int64
    assert _raises(RuntimeError, autodiff.relu, b) == "Boolean inputs not supported for relu"
    assert autodiff.sign(b).tolist() == [[True, False]]  # PyTorch's sign of a bool is itself
    for x in (b, i):
        _raises(NotImplementedError, nnf.leaky_relu, x, 0.1)
        _raises(NotImplementedError, nnf.binary_cross_entropy_with_logits, x, autodiff.ones(1, 2))
    assert "can't be cast" in _raises(RuntimeError, nnf.binary_cross_entropy_with_logits, autodiff.ones(1, 2), i)
    assert "bool" in _raises(RuntimeError, nnf.binary_cross_entropy_with_logits, autodiff.ones(1, 2), b)
    assert "bmm" in _raises(NotImplementedError, autodiff.einsum, "ij,jk->ik", b, autodiff.ones(2, 2))
    assert autodiff.einsum("i,j->ij", b[0], b[0]).dtype is autodiff.bool  # no contraction: fine
    assert "cumsum" in _raises(NotImplementedError, autodiff.cumsum, autodiff.ones(2), 0, dtype=autodiff.bool)
    assert "arange" in _raises(NotImplementedError, autodiff.arange, 0, 5, dtype=autodiff.bool)


def test_bool_accumulators_and_result_dtypes() -> None:
    x = autodiff.tensor([[0.0, 2.0], [0.0, 0.0]])
    assert autodiff.sum(x, dtype=autodiff.bool).item() is True
    assert autodiff.sum(x, 1, dtype=autodiff.bool).tolist() == [True, False]
    assert autodiff.prod(x + 1, dtype=autodiff.bool).item() is True
    assert autodiff.prod(x, 1, True, dtype=autodiff.bool).tolist() == [[False], [False]]
    logits = autodiff.zeros(2, dtype=autodiff.float64, requires_grad=True)
    loss = autodiff.nn.functional.binary_cross_entropy_with_logits(logits, autodiff.ones(2))
    assert loss.dtype is autodiff.float32  # the target's dtype, as in PyTorch
    loss.backward()
    assert logits.grad.dtype is autodiff.float64


def test_explicit_none_is_refused_where_pytorch_has_no_none() -> None:
    x = autodiff.ones(2, 3)
    calls = [(autodiff.prod, x, None), (autodiff.max, x, None), (x.min, None, True), (autodiff.var, x, 1, None),
             (autodiff.std, x, 1, None), (autodiff.logsumexp, x, None), (autodiff.squeeze, x, None),
             (autodiff.softmax, x, None), (x.log_softmax, None), (autodiff.arange, 0, None, 1)]
    for fn, *args in calls:
        assert "NoneType" in _raises(TypeError, fn, *args)
    # ... while leaving the argument out, or a None that PyTorch takes, still works
    assert x.prod().item() == 1.0 and x.max().item() == 1.0 and autodiff.var(x, None).item() == 0.0
    assert autodiff.squeeze(autodiff.ones(1, 2)).shape == (2,) and autodiff.arange(3).tolist() == [0, 1, 2]
    assert autodiff.nn.functional.softmax(x, None).shape == (2, 3)  # the implicit dim (1 here)
    assert autodiff.sum(x, None).item() == 6.0 and autodiff.norm(x, None).item() > 0


def test_argument_types_checked_first_as_pytorch_does() -> None:
    nnf = autodiff.nn.functional
    x = autodiff.ones(2, 3)
    assert "must be Number, not list" in _raises(TypeError, nnf.leaky_relu, x, [1.0])
    assert _raises(OverflowError, nnf.leaky_relu, x, 10**30) == "int too big to convert"
    assert nnf.leaky_relu(-x, True).tolist() == (-x).tolist()  # a bool is a Number
    assert "found element of type bool" in _raises(TypeError, autodiff.norm, x.long(), 1, True)
    assert "Overflow when unpacking long long" in _raises(ValueError, x.__setitem__, 0, 10**30)
    target = autodiff.tensor([0, 1, 2, 1])
    assert "1.5" not in _raises(TypeError, nnf.one_hot, target, 1.5)
    assert "smaller than num_classes" in _raises(RuntimeError, nnf.one_hot, target, -3)
    assert nnf.one_hot(target, -1).shape == (4, 3)
    assert "class probabilities" in _raises(RuntimeError, nnf.cross_entropy, autodiff.ones(4), target)
    _raises(IndexError, nnf.cross_entropy, autodiff.tensor(1.0), target)
    _raises(NotImplementedError, nnf.cross_entropy, x.long(), target)
    assert "but got -3" in _raises(IndexError, nnf.avg_pool2d, x, 2)
    assert "Invalid padding string: '0'" in _raises(RuntimeError, nnf.conv2d, autodiff.ones(1, 1, 3, 3),
                                                    autodiff.ones(1, 1, 2, 2), None, 1, "0")


def test_index_ops_edge_cases() -> None:
    x = autodiff.arange(6.0).reshape(2, 3)
    index = autodiff.zeros(2, 3, dtype=autodiff.int64)
    assert autodiff.gather(x, 1, autodiff.zeros(0, 5)).shape == (0, 5)  # an empty index, any dtype
    assert autodiff.scatter_add(x, 1, autodiff.zeros(0), x).tolist() == x.tolist()
    assert autodiff.gather(x, 1, index.int()).tolist() == [[0.0] * 3, [3.0] * 3]  # int32 is an index too
    assert "[-1, 0], but got 1" in _raises(IndexError, autodiff.scatter_add, x, 1, index, autodiff.ones(4))
    assert "only 1 value, got 2" in _raises(RuntimeError, autodiff.index_select, autodiff.tensor(1.0), 0,
                                            autodiff.tensor([0, 0]))
    mask = autodiff.tensor([[True, False, True], [False, False, True]])
    assert autodiff.masked_fill(autodiff.tensor(1.0), mask, 0.5).tolist() == [[0.5, 1.0, 0.5], [1.0, 1.0, 0.5]]
    assert "doesn't match the broadcast shape" in _raises(RuntimeError, autodiff.ones(3).masked_fill_, mask, 0.5)


def test_numbers_where_pytorch_takes_them() -> None:
    for fn, want, dtype in ((autodiff.add, 4.0, autodiff.float32), (autodiff.mul, 4, autodiff.int64),
                            (autodiff.div, 1.0, autodiff.float32), (autodiff.sub, 0.0, autodiff.float32)):
        out = fn(2, 2.0 if dtype is autodiff.float32 else 2)
        assert out.shape == () and out.item() == want and out.dtype is dtype
    assert autodiff.add(True, 2.0).item() == 3.0 and autodiff.floor_divide(7, 2).item() == 3
    assert "bool tensor is not supported" in _raises(RuntimeError, autodiff.sub, True, 2.0)
    x = autodiff.ones(2, dtype=autodiff.float64)
    assert x.copy_(0.1).tolist() == [0.1, 0.1]  # the number in the tensor's own dtype
    assert autodiff.ones(2, dtype=autodiff.int64).copy_(2.7).tolist() == [2, 2]
    _raises(TypeError, x.copy_, [1.0])


def test_negative_pad_crops() -> None:
    pad = autodiff.nn.functional.pad
    x = autodiff.arange(6.0).reshape(2, 3).requires_grad_()
    assert pad(x, (-1, -1)).tolist() == [[1.0], [4.0]]
    assert pad(x, (2, -2)).tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 3.0]]
    assert pad(x, (0, 0, -1, 2), value=9.0).tolist() == [[3.0, 4.0, 5.0], [9.0] * 3, [9.0] * 3]
    assert pad(x, (-3, 0)).shape == (2, 0)
    pad(x, (1, -2)).sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    assert "non-negative" in _raises(RuntimeError, pad, x, (-2, -2))


def test_to_an_accelerator_index_is_a_device() -> None:
    with pytest.raises(RuntimeError):  # no such device here (PyTorch: no accelerator available)
        autodiff.ones(2).to(7)
