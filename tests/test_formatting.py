"""Tests for autodiff._formatting against hard-coded PyTorch outputs (no torch needed).

The comparisons with torch's own repr are in test_formatting_torch.py."""

from __future__ import annotations

import math
from typing import Any

import pytest

from autodiff._formatting import EDGEITEMS, SUMMARIZE_THRESHOLD, format_tensor

NAN, INF = math.nan, math.inf


# ---------------------------------------------------------------------------
# Expected strings copied from PyTorch output (no torch needed)
# ---------------------------------------------------------------------------

HARD_CODED = [
    # (values, shape, kind, suffixes, summarized, expected)
    ([[1.0, 1.0], [1.0, 1.0]], (2, 2), "f", ["requires_grad=True"], False,
     "tensor([[1., 1.],\n        [1., 1.]], requires_grad=True)"),
    (27.0, (), "f", ["grad_fn=<MeanBackward0>"], False,
     "tensor(27., grad_fn=<MeanBackward0>)"),
    ([[4.5, 4.5], [4.5, 4.5]], (2, 2), "f", [], False,
     "tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])"),
    ([2.0, 0.2, 0.02, 0.002], (4,), "f", [], False,
     "tensor([2.0000, 0.2000, 0.0200, 0.0020])"),
    ([True, False], (2,), "b", [], False, "tensor([ True, False])"),
    ([1, 2, 3], (3,), "i", [], False, "tensor([1, 2, 3])"),
    (3.14159, (), "f", [], False, "tensor(3.1416)"),
    (7, (), "i", [], False, "tensor(7)"),
    (True, (), "b", [], False, "tensor(True)"),
    ([1e-5, 1.0, 1e5], (3,), "f", [], False,
     "tensor([1.0000e-05, 1.0000e+00, 1.0000e+05])"),
    ([1e10, 2.0], (2,), "f", [], False, "tensor([1.0000e+10, 2.0000e+00])"),
    ([NAN, INF, -INF, 0.0], (4,), "f", [], False, "tensor([nan, inf, -inf, 0.])"),
    ([-0.0, 1.0], (2,), "f", [], False, "tensor([-0., 1.])"),
    ([-1.5, 0.0, 2.25], (3,), "f", [], False, "tensor([-1.5000,  0.0000,  2.2500])"),
    ([[-3, 10], [7, -120]], (2, 2), "i", [], False,
     "tensor([[  -3,   10],\n        [   7, -120]])"),
    ([[[float(i * 6 + j * 2 + k) for k in range(2)] for j in range(3)] for i in range(2)],
     (2, 3, 2), "f", [], False,
     ("tensor([[[ 0.,  1.],\n         [ 2.,  3.],\n         [ 4.,  5.]],\n\n"
      "        [[ 6.,  7.],\n         [ 8.,  9.],\n         [10., 11.]]])")),
    # Empty tensors.
    ([], (0,), "f", [], False, "tensor([])"),
    ([], (0, 3), "f", [], False, "tensor([], size=(0, 3))"),
    ([[], []], (2, 0), "i", ["dtype=torch.int64"], False,
     "tensor([], size=(2, 0), dtype=torch.int64)"),
    # Long rows wrap; suffixes move to a new line when they would overflow.
    ([i * 1.5 for i in range(10)], (10,), "f", ["dtype=torch.float64"], False,
     ("tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
      "        12.0000, 13.5000], dtype=torch.float64)")),
    ([i * 3.0 for i in range(6)], (6,), "f",
     ["dtype=torch.float64", "grad_fn=<MulBackward0>"], False,
     ("tensor([ 0.,  3.,  6.,  9., 12., 15.], dtype=torch.float64,\n"
      "       grad_fn=<MulBackward0>)")),
    ([i * 3.0 for i in range(11)], (11,), "f",
     ["dtype=torch.float64", "grad_fn=<MulBackward0>"], False,
     ("tensor([ 0.,  3.,  6.,  9., 12., 15., 18., 21., 24., 27., 30.],\n"
      "       dtype=torch.float64, grad_fn=<MulBackward0>)")),
    # Summarized: trimmed data ...
    ([0, 1, 2, 998, 999, 1000], (1001,), "i", [], True,
     "tensor([   0,    1,    2,  ...,  998,  999, 1000])"),
    # ... or full data (trimmed by the formatter itself).
    (list(range(1001)), (1001,), "i", [], True,
     "tensor([   0,    1,    2,  ...,  998,  999, 1000])"),
]


@pytest.mark.parametrize(
    ("values", "shape", "kind", "suffixes", "summarized", "expected"), HARD_CODED
)
def test_hard_coded(
    values: Any,
    shape: tuple[int, ...],
    kind: str,
    suffixes: list[str],
    summarized: bool,
    expected: str,
) -> None:
    assert format_tensor(values, shape, kind, suffixes, summarized) == expected


def test_summarized_2d_sci() -> None:
    # torch.arange(2000.).reshape(40, 50) / 7
    rows = [[(r * 50 + c) / 7 for c in range(50)] for r in range(40)]
    expected = (
        "tensor([[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 6.7143e+00, 6.8571e+00,\n"
        "         7.0000e+00],\n"
        "        [7.1429e+00, 7.2857e+00, 7.4286e+00,  ..., 1.3857e+01, 1.4000e+01,\n"
        "         1.4143e+01],\n"
        "        [1.4286e+01, 1.4429e+01, 1.4571e+01,  ..., 2.1000e+01, 2.1143e+01,\n"
        "         2.1286e+01],\n"
        "        ...,\n"
        "        [2.6429e+02, 2.6443e+02, 2.6457e+02,  ..., 2.7100e+02, 2.7114e+02,\n"
        "         2.7129e+02],\n"
        "        [2.7143e+02, 2.7157e+02, 2.7171e+02,  ..., 2.7814e+02, 2.7829e+02,\n"
        "         2.7843e+02],\n"
        "        [2.7857e+02, 2.7871e+02, 2.7886e+02,  ..., 2.8529e+02, 2.8543e+02,\n"
        "         2.8557e+02]])"
    )
    assert format_tensor(rows, (40, 50), "f", [], summarized=True) == expected


def test_constants_and_bad_kind() -> None:
    assert SUMMARIZE_THRESHOLD == 1000
    assert EDGEITEMS == 3
    with pytest.raises(ValueError):
        format_tensor([1], (1,), "c", [])
