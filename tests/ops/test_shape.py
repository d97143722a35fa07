"""Shape ops (autodiff/ops/shape.py): views, node names and the errors of view/reshape.

Gradients of every op are checked from its rows in autodiff/testing/op_specs.py.
"""

from __future__ import annotations

import pytest

import autodiff


def test_shape_ops(device):
    x = autodiff.arange(6.0, device=device).requires_grad_()
    v = x.view(2, 3)
    assert v.grad_fn.name() == "ViewBackward0" and v.shape == (2, 3)
    assert x.reshape(3, -1).shape == (3, 2)
    assert v.t().shape == (3, 2) and v.t().grad_fn.name() == "TBackward0"
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        v.t().view(6)
    assert v.t().reshape(6).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    with pytest.raises(RuntimeError, match=r"shape '\[4, -1\]' is invalid for input of size 6"):
        x.view(4, -1)
    c = autodiff.cat([v, v * 2], dim=1)
    assert c.shape == (2, 6)
    c.sum().backward()
    assert x.grad.tolist() == [3.0] * 6
    assert x.clone().grad_fn.name() == "CloneBackward0"


def _shape_results(m):
    """Results of the newer shape ops (values, shapes, node names) in library ``m``."""
    x = m.arange(24.0).reshape(2, 3, 4).requires_grad_()
    r = [m.movedim(x, 0, -1).shape, x.moveaxis((0, 1), (2, 0)).shape,
         m.roll(x, 1, 2)[0, 0].tolist(), m.roll(x, (1, -1), (0, 2))[0, 0].tolist(), m.roll(x, 5)[0, 0].tolist(),
         m.rot90(x[0], 1).tolist(), m.rot90(x[0], -1).tolist(), m.rot90(x[0], 2, (1, 0)).tolist(),
         x.narrow(2, 1, 2).shape, [t.shape for t in x.unbind(1)],
         [t.shape for t in m.tensor_split(x, 3, 2)], [t.shape for t in m.tensor_split(x, [1, 3], 2)],
         [t.shape for t in m.hsplit(x, [1])], [t.shape for t in m.vsplit(x, 2)],
         [t.shape for t in m.dsplit(x, 2)], m.atleast_3d(m.tensor(1.0)).shape,
         m.atleast_3d(m.ones(3)).shape, m.atleast_2d(m.ones(3)).shape, m.atleast_3d(m.ones(2, 3)).shape]
    a, b = m.ones(3), m.zeros(3)
    r += [m.hstack([a, b]).shape, m.vstack([a, b]).shape, m.dstack([a, b]).shape, m.column_stack([a, b]).shape,
          m.diagonal(x, 1, 0, 2).tolist(), m.diagonal(x, -1, 2, 1).tolist(), m.diag_embed(m.ones(2, 3), 1).shape,
          m.diag_embed(m.arange(6.0).reshape(2, 3), -1, 0, 2).tolist(), m.diag(m.tensor([1.0, 2]), 1).tolist(),
          m.diag(x[0], -1).tolist(), m.diagflat(m.ones(2, 2)).shape,
          m.block_diag(m.ones(2, 2), m.tensor([3.0, 4, 5]), m.tensor(7.0)).tolist(),
          tuple(m.broadcast_shapes((2, 1), (3,), 1)), [t.shape for t in m.broadcast_tensors(m.ones(2, 1), m.ones(3))],
          [t.tolist() for t in m.meshgrid(m.arange(2), m.arange(3), indexing="xy")],
          [t.shape for t in m.meshgrid(m.arange(2), m.arange(3), m.arange(4), indexing="xy")],
          m.cartesian_prod(m.arange(2), m.arange(3)).tolist(), m.combinations(m.arange(4), 3).tolist(),
          m.combinations(m.arange(3), with_replacement=True).tolist(),
          m.repeat_interleave(m.tensor([[1, 2], [3, 4]]), 2).tolist(),
          m.repeat_interleave(m.tensor([[1, 2], [3, 4]]), m.tensor([1, 2]), dim=0).tolist(),
          m.repeat_interleave(m.tensor([2, 0, 1])).tolist(), x.unfold(2, 2, 1).shape,
          x.unfold(1, 2, 1)[1, 1].tolist(), m.diff(m.tensor([1.0, 4, 9, 16]), 2).tolist(),
          m.diff(x, dim=1, prepend=m.zeros(2, 1, 4)).shape, m.unflatten(x, 2, (2, -1)).shape,
          m.tile(x, (2,)).shape, m.ravel(x.transpose(0, 1)).tolist()[:5], m.fliplr(x[0])[0].tolist(),
          m.flipud(x[0])[0].tolist(), x.adjoint().shape, m.swapdims(x, 0, 2).shape,
          m.diagonal_scatter(x[0], m.zeros(3), 1).tolist()]
    y = ((m.diagonal(x, 1, 0, 2) * m.arange(2.0)).sum() + (x.unfold(2, 3, 1) ** 2).sum()
         + m.roll(x, 1, 1)[0].sum() * 3 + m.diag_embed(x).pow(2).sum())
    y.backward()
    r.append(x.grad.reshape(-1).tolist())
    r.append([t.grad_fn.name() if m is autodiff else type(t.grad_fn).__name__ for t in (
        m.diagonal(x), m.diag_embed(x), m.roll(x, 1), x.unfold(0, 1, 1), m.movedim(x, 0, 1), x.narrow(0, 0, 1),
        m.tile(x, (2,)))])
    return r


def test_newer_shape_ops_match_torch():
    torch = pytest.importorskip("torch")
    for mine, theirs in zip(_shape_results(autodiff), _shape_results(torch)):
        assert str(mine) == str(theirs).replace("torch.Size", "autodiff.Size") or mine == theirs
