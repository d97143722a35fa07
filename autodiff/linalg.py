"""``autodiff.linalg``: PyTorch's ``torch.linalg`` names for the linear-algebra ops of
``autodiff/ops/linalg.py`` and the norms of ``autodiff/ops/reduction.py``.

Matrix norms that need a singular value decomposition (``ord=2``, ``-2``, ``"nuc"``) are
not available: they raise ``NotImplementedError``.

Every public function goes through ``ops/_prep.py`` ``checked`` under PyTorch's internal name
(``linalg_det``: its argument errors, ``out=``, and ``vmap``'s batching rules, which
autodiff/func/batching.py keys by that name).
"""

from __future__ import annotations

import math
from typing import Any

from autodiff.ops import linalg as _ops
from autodiff.ops import reduction as _reduction
from autodiff.ops import shape as _shape
from autodiff.ops._prep import cast as _cast
from autodiff.ops._prep import checked as _checked
from autodiff.ops._prep import placed as _placed
from autodiff.tensor import Tensor

inv = _ops.inverse
cholesky = _ops.cholesky
det = _ops.det
slogdet = _ops.slogdet
solve = _ops.solve
matmul = _ops.matmul
matrix_power = _ops.matrix_power
pinv = _ops.pinverse


def multi_dot(tensors: list) -> Tensor:
    """``tensors[0] @ tensors[1] @ ...``: 2-D tensors, except that the first and the last
    may be 1-D (a row and a column vector, dropped from the result as in ``matmul``)."""
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for k, t in enumerate(ts):
        allowed = (1, 2) if k in (0, len(ts) - 1) else (2,)
        if t.ndim not in allowed:
            which = "first" if k == 0 else "last" if k == len(ts) - 1 else None
            raise RuntimeError(f"multi_dot(): the {which} tensor must be 1D or 2D but got {t.ndim}D" if which
                               else f"multi_dot(): tensor {k} must be 2D but got {t.ndim}D")
    out = ts[0]
    for t in ts[1:]:
        out = _ops.matmul(out, t)
    return out


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: N803
    """The diagonals of the matrices in the last two dims (``torch.linalg.diagonal``'s
    defaults; ``torch.diagonal``'s are the first two)."""
    return _shape.diagonal(A, offset, dim1, dim2)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (the last by default)."""
    return _ops.cross(input, other, dim)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Dot products of vectors along ``dim`` (broadcasting the other dims)."""
    return (x * y).sum(dim)


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
                dtype: Any = None) -> Tensor:
    """The ``ord``-norm of ``x`` as a vector (flattened), or over ``dim``."""
    return _reduction.norm(x, ord, dim, keepdim, dtype=dtype)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple = (-2, -1), keepdim: bool = False, *,  # noqa: A002, N803
                dtype: Any = None) -> Tensor:
    """Frobenius norm, or the max (``ord=1``, ``inf``) / min (``-1``, ``-inf``) absolute
    column / row sum of the matrices in ``dim``."""
    if dtype is not None:
        A = _cast(A, dtype)  # noqa: N806
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    d0, d1 = (d % A.ndim for d in dim)
    if ord == "fro":
        return _reduction.norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs an SVD, which autodiff does not have")
    if ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    # ord 1: sums over rows (d0), extremum over columns (d1); inf: the other way round.
    summed, over = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = A.abs().sum(summed, keepdim=True)
    out = sums.amax(over, keepdim=True) if ord > 0 else sums.amin(over, keepdim=True)
    return out if keepdim else out.squeeze((d0, d1))


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,  # noqa: A002, N803
         dtype: Any = None) -> Tensor:
    """A vector norm (``dim`` an int, or a 1-D input) or a matrix norm (``dim`` a pair, or a
    2-D input with ``ord`` given); with neither ``ord`` nor ``dim``, the 2-norm of all elements."""
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if isinstance(dim, int) or (dim is None and A.ndim == 1) or (dim is not None and len(dim) == 1):
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    if dim is None:
        if A.ndim != 2:
            raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must be 1D "
                               f"or 2D. Got {A.ndim}D.")
        dim = (-2, -1)
    return matrix_norm(A, ord, tuple(dim), keepdim, dtype=dtype)


# Through ``checked`` (see the module docstring), each under PyTorch's internal name.
for _name in ("inv", "cholesky", "det", "slogdet", "solve", "matmul", "multi_dot", "matrix_power",
              "pinv", "diagonal", "cross", "vecdot", "vector_norm", "matrix_norm", "norm"):
    globals()[_name] = _placed(_checked("linalg_" + _name, globals()[_name]), __name__, _name)
del _name
