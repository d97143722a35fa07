"""An in-place op writes its result into the tensor's own dtype when PyTorch allows that cast
(bool into anything, int into any int or float, float into any float) and otherwise refuses it
with PyTorch's RuntimeError and words: every pair of bool, int32, int64, float32 and float64 for
the tensor written and the operand."""

from __future__ import annotations

import itertools

import pytest

import autodiff

torch = pytest.importorskip("torch")

DTYPES = ["bool", "int32", "int64", "float32", "float64"]
OPS = ["add_", "mul_", "maximum"]


def _outcome(m, op: str, dtype: str, other_dtype: str):
    t = m.tensor([True, False, True]).to(getattr(m, dtype))
    other = m.tensor([True, True, False]).to(getattr(m, other_dtype))
    try:
        if op == "maximum":
            m.maximum(t, other, out=t)
        else:
            getattr(t, op)(other)
    except RuntimeError as e:
        return "RuntimeError", str(e)
    return str(t.dtype).rsplit(".", 1)[-1], t.tolist()


@pytest.mark.parametrize("dtype,other_dtype", list(itertools.product(DTYPES, DTYPES)))
@pytest.mark.parametrize("op", OPS)
def test_inplace_result_type_is_the_tensors_own_or_refused_like_torch(op: str, dtype: str, other_dtype: str) -> None:
    assert _outcome(autodiff, op, dtype, other_dtype) == _outcome(torch, op, dtype, other_dtype)
