"""Every in-place twin of the op table (autodiff/ops/inplace_twins.py) on a tensor saved for
backward: backward then raises the modified-saved-tensor error exactly where PyTorch's does,
on the tensor itself and through a view of it. (The in-place ops of autodiff/ops/inplace.py
are covered by tests/test_autograd_semantics.py.)"""

from __future__ import annotations

import pytest

import autodiff
from tests.ops.test_inplace_twins import ARGS, INTEGER, TWINS, _input

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")

MODIFIED = "one of the variables needed for gradient computation has been modified by an inplace operation"


def _backward_after_twin(m, name: str, through_view: bool) -> str:
    """Save y for backward, apply the twin to y (or a view of it), backward: how it ended."""
    x = _input(m, name).requires_grad_(True)
    y = x * 1
    loss = (y * y).sum()
    target = y[:] if through_view else y  # a view of the whole: every twin's arguments still fit
    try:
        getattr(target, name)(*ARGS.get(name, lambda m: ())(m))
    except RuntimeError:
        return "twin refused"  # e.g. a view twin on a view that autograd tracks
    try:
        loss.backward()
    except RuntimeError as exc:
        assert MODIFIED in str(exc), str(exc)
        return "modified"
    return "ran"


@pytest.mark.parametrize("through_view", [False, True], ids=["tensor", "view"])
@pytest.mark.parametrize("name", sorted(set(TWINS) - INTEGER))
def test_twin_on_a_saved_tensor_makes_backward_raise_like_torch(name: str, through_view: bool) -> None:
    assert _backward_after_twin(autodiff, name, through_view) == _backward_after_twin(torch, name, through_view)
