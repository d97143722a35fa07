"""The differentiable ops, one file per kind. Each forward runs on the backend; each
backward is written in Tensor ops, so gradients of gradients come for free.

Where a new op goes is read off the file list: ``unary`` (math of one tensor),
``arithmetic`` (of two), ``comparison`` (bool results, ``where``), ``broadcasting``
(``expand``, ``sum_to``), ``reduction``, ``sorting``, ``shape``, ``indexing``, ``linalg``,
``activation``, ``loss``, ``conv``, ``creation``, ``conversion`` (dtype and device) and
``inplace`` (in-place ops, on tensors and on views). ``_prep`` holds the argument
preparation they share (scalars, devices, dtype promotion, dims). Each file ends with its
public API, ``FUNCTIONS`` and ``METHODS``, which ``autodiff`` and ``Tensor`` are built from.
"""

from autodiff.ops import (
    activation,
    arithmetic,
    broadcasting,
    comparison,
    conv,
    conversion,
    creation,
    indexing,
    inplace,
    linalg,
    loss,
    reduction,
    shape,
    sorting,
    unary,
)

OP_MODULES = (
    creation, conversion, broadcasting, comparison, unary, arithmetic, indexing, shape,
    reduction, sorting, linalg, activation, loss, conv, inplace,
)
