"""Linear algebra (autodiff/ops/linalg.py): mm/matmul values, node names and shape errors.

Gradients of every op are checked from its rows in autodiff/testing/op_specs.py.
"""

from __future__ import annotations

import warnings

import pytest

import autodiff
import autodiff.nn.functional as AF


def test_matmul(device):
    a = autodiff.ones(2, 3, requires_grad=True, device=device)
    b = autodiff.ones(3, 4, requires_grad=True, device=device)
    c = a.mm(b)
    assert c.grad_fn.name() == "MmBackward0" and c.tolist() == [[3.0] * 4] * 2
    assert (a @ b).grad_fn.name() == "MmBackward0"
    c.sum().backward()
    assert a.grad.tolist() == [[4.0] * 3] * 2 and b.grad.tolist() == [[2.0] * 4] * 3
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x3\)"):
        a.mm(autodiff.ones(4, 3, device=device))
    assert (a @ autodiff.ones(3, device=device)).shape == (2,)


def test_linear_shape_error():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x3 and 5x2\)"):
        AF.linear(autodiff.randn(4, 3), autodiff.randn(2, 5))


def test_grad_fn_names():
    x = autodiff.randn(2, 3, requires_grad=True)
    assert AF.linear(x, autodiff.randn(4, 3), autodiff.randn(4)).grad_fn.name() == "AddmmBackward0"


def _linalg_results(m):
    """Values, first and second derivatives of the newer linalg ops in library ``m``."""
    a = m.tensor([[2.0, 1, 0.5], [0.3, 3, 1], [1, 0.2, 4]], dtype=m.float64, requires_grad=True)
    b = m.tensor([[1.0, 2], [3, 4], [5, 6]], dtype=m.float64, requires_grad=True)
    v = m.tensor([1.0, -2, 0.5], dtype=m.float64, requires_grad=True)
    bias = m.tensor([0.1, 0.2], dtype=m.float64, requires_grad=True)
    outs = [m.addmm(bias, a, b, beta=0.5, alpha=2), m.addmv(v, a, v, alpha=3), m.addr(a, v, v, beta=2),
            m.baddbmm(bias, m.stack([a, a * 2]), m.stack([b, b])),
            m.addbmm(bias, m.stack([a, a * 2]), m.stack([b, b]), alpha=0.5), m.mv(a, v), m.vdot(v, v),
            m.inner(a, v), m.inner(b.t(), b.t()), m.tensordot(a, b, 1), m.tensordot(a, a, ([0, 1], [1, 0])),
            m.kron(a[:2, :2], b), m.kron(v, v), m.cross(a, a * v, dim=1), m.linalg.cross(a, b[:, :1].expand(3, 3) + a),
            m.linalg.multi_dot([a, a, b]), m.matrix_power(a, 3), m.matrix_power(a, -2), m.matrix_power(a, 0),
            m.inverse(a), m.det(a), m.det(m.stack([a, a * 2])), m.slogdet(a)[1], m.logdet(a), m.linalg.solve(a, b),
            m.linalg.solve(a, v), m.linalg.solve(m.stack([a, a.t()]), m.stack([v, v])), m.pinverse(b),
            m.linalg.norm(a), m.linalg.norm(a, 1), m.linalg.norm(a, float("inf")), m.linalg.norm(v, 3),
            m.linalg.vector_norm(a, 1, dim=0), m.linalg.matrix_norm(m.stack([a, b @ b.t()]), -1),
            m.linalg.inv(a), m.linalg.det(a), m.linalg.vecdot(a, b[:, :1].t())]
    r = [[round(x, 8) for x in o.reshape(-1).tolist()] for o in outs]
    loss = sum(((o * (1 + 0.1 * m.arange(o.numel()).double().reshape(o.shape))) ** 2).sum() for o in outs)
    gs = m.autograd.grad(loss, (a, b, v, bias), create_graph=True)
    r += [[round(x, 5) for x in g.reshape(-1).tolist()] for g in gs]
    ggs = m.autograd.grad(sum((g ** 2).sum() for g in gs), (a, b, v))
    r += [[round(x / 1e6, 4) for x in g.reshape(-1).tolist()] for g in ggs]
    cd = [m.cdist(b, b * 0.5), m.cdist(b, b, p=1), m.cdist(b.unsqueeze(0), b.unsqueeze(0) + 1, p=3)]
    r += [[round(x, 8) for x in c.reshape(-1).tolist()] for c in cd]
    r.append([round(x, 8) for x in m.autograd.grad(sum((c ** 2).sum() for c in cd), b)[0].reshape(-1).tolist()])
    r.append([o.grad_fn.name() if m is autodiff else type(o.grad_fn).__name__
              for o in outs[:5] + [outs[19], outs[20], outs[22], outs[24]]])
    return r


def test_newer_linalg_ops_match_torch():
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, (mine, theirs) in enumerate(zip(_linalg_results(autodiff), _linalg_results(torch))):
            assert mine == theirs, k


def test_singular_matrix_raises():
    with pytest.raises(RuntimeError, match="singular"):
        autodiff.inverse(autodiff.zeros(2, 2))
