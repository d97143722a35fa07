"""autograd.graph.increment_version on a tensor, a view, a 0-d tensor and a list of tensors:
the version counters move as PyTorch's do (by one, shared with views), and a tensor saved for
backward and then marked changed makes backward raise, whatever its version was when saved."""

from __future__ import annotations

import pytest

import autodiff

torch = pytest.importorskip("torch")

MODIFIED = "one of the variables needed for gradient computation has been modified by an inplace operation"


def _version(t) -> int:
    """autodiff keeps the counter in a list shared by views (``_version_value`` reads it)."""
    return t._version_value if isinstance(t, autodiff.Tensor) else t._version


def _versions_after_increments(m) -> list[int]:
    a, b, s = m.zeros(3), m.ones(2, 2), m.tensor(1.5)
    view = a[1:]
    m.autograd.graph.increment_version(a)
    m.autograd.graph.increment_version(view)
    m.autograd.graph.increment_version(s)
    m.autograd.graph.increment_version([b, s])
    m.autograd.graph.increment_version((b,))
    return [_version(a), _version(view), _version(b), _version(s)]


def test_increment_version_moves_the_counters_like_torch() -> None:
    assert _versions_after_increments(autodiff) == _versions_after_increments(torch)


@pytest.mark.parametrize("writes_before_saving", [0, 1, 2])
@pytest.mark.parametrize("as_list", [False, True])
def test_increment_version_makes_backward_refuse_the_saved_tensor(writes_before_saving: int,
                                                                    as_list: bool) -> None:
    x = autodiff.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    for _ in range(writes_before_saving):
        y.add_(0.0)
    loss = (y * y).sum()  # y saved at version writes_before_saving
    autodiff.autograd.graph.increment_version([y] if as_list else y)
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()
