"""The differentiable ops, one file per kind. Each forward runs on the backend; each
backward is written in Tensor ops, so gradients of gradients come for free.

Where a new op goes is read off the file list: ``unary`` (math of one tensor),
``arithmetic`` (of two), ``comparison`` (bool results, ``where``), ``broadcasting``
(``expand``, ``sum_to``), ``reduction``, ``shape``, ``indexing``, ``linalg``,
``activation``, ``loss``, ``conv``, ``pooling``, ``upsampling``, ``embedding``,
``attention``, ``creation``, ``conversion`` (dtype and device) and
``inplace`` (in-place ops, on tensors and on views). ``_prep`` holds the argument
preparation they share (scalars, devices, dtype promotion, dims). Each file ends with its
public API, ``FUNCTIONS`` and ``METHODS``, which ``autodiff`` and ``Tensor`` are built from.
"""

from autodiff.ops import (
    activation,
    arithmetic,
    attention,
    broadcasting,
    comparison,
    conv,
    conversion,
    creation,
    embedding,
    indexing,
    inplace,
    linalg,
    loss,
    pooling,
    reduction,
    shape,
    unary,
    upsampling,
)

OP_MODULES = (
    creation, conversion, broadcasting, comparison, unary, arithmetic, indexing, shape,
    reduction, linalg, activation, loss, conv, pooling, upsampling, embedding, attention, inplace,
)
