"""The special-point ops of tests/test_torch_oracle.py (max/min-like reductions, maximum and
minimum, norms, pools, relu-like kinks, clamp bounds, products with zeros, logsumexp) and the
thresholds of hardshrink, softshrink and hardtanh, on drawn inputs full of ties, zeros and
repeated values: forward values, first and second derivatives agree with PyTorch's conventions. The op-table rows keep gradcheck away from these points, and
one fixed input (TIES there) pins down only the ties it happens to hold."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
from tests.spec_utils import loss, outputs
from tests.test_torch_oracle import SPEC_TOLS, SPECIAL_POINTS, _compare, _derivatives

torch = pytest.importorskip("torch")

# Few distinct values: most draws tie somewhere, hold zeros, and sit on the kinks of the rows
# (0.5 for the shifted relu/abs/l1, 0.5 and 1.0 for the clamp, 2.0 for the product).
GRID = st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0])
MATRICES = st.lists(st.lists(GRID, min_size=3, max_size=3), min_size=2, max_size=2)


# More kinks on the grid: the thresholds of the shrinking and clipping activations.
KINKS = {
    "hardshrink-at-lambd": lambda m, a: m.nn.functional.hardshrink(a, 1.0),
    "softshrink-at-lambd": lambda m, a: m.nn.functional.softshrink(a, 1.0),
    "hardtanh-at-bounds": lambda m, a: m.nn.functional.hardtanh(a, -1.0, 1.0),
}
OPS = {**SPECIAL_POINTS, **KINKS}


@pytest.mark.parametrize("name", sorted(OPS))
@settings(max_examples=8)
@given(values=MATRICES)
def test_special_point_ops_on_tied_inputs_match_torch(name: str, values: list) -> None:
    f = OPS[name]

    def derivatives(m):
        a = m.tensor(values, dtype=m.float64, requires_grad=True)
        return _derivatives(m, lambda xs: loss(m, outputs(f(m, xs[0]))), (a,))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        _compare(derivatives(autodiff), derivatives(torch), f"{name} at {values}", SPEC_TOLS)
