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
