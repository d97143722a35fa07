"""The differentiable ops, one file per kind. Each forward runs on the backend; each
backward is written in Tensor ops, so gradients of gradients come for free.

Where a new op goes is read off the file list: ``unary`` (math of one tensor),
``arithmetic`` (of two), ``comparison`` (bool results, ``where``), ``broadcasting``
(``expand``, ``sum_to``), ``reduction``, ``sorting``, ``shape``, ``indexing``, ``linalg``,
``special`` (gamma, erf and Bessel functions), ``activation``, ``normalization``, ``loss`` (and
``composite_loss``: losses made of other ops), ``conv``, ``padding`` (reflect, replicate, circular), ``pooling``, ``upsampling``, ``embedding``, ``attention``, ``creation``, ``conversion``
(dtype and device), ``inplace`` (in-place ops, on tensors and on views), ``inplace_twins``
(``x.exp_()`` and the like, one table), ``sampling`` (random draws and fills),
``triangular`` (``tril``, ``triu``) and ``queries`` (``isclose``, ``equal``, strides).
``_prep`` holds the argument preparation they share (scalars, devices, dtype promotion,
dims). Each file ends with its public API, ``FUNCTIONS`` and ``METHODS``, which
``autodiff`` and ``Tensor`` are built from.
"""

from autodiff.ops import (
    activation,
    arithmetic,
    attention,
    broadcasting,
    comparison,
    composite_loss,
    conv,
    conversion,
    creation,
    embedding,
    indexing,
    inplace,
    inplace_twins,
    linalg,
    loss,
    normalization,
    padding,
    pooling,
    queries,
    reduction,
    sampling,
    shape,
    sorting,
    special,
    triangular,
    unary,
    upsampling,
)

OP_MODULES = (
    creation, conversion, broadcasting, comparison, unary, special, arithmetic, indexing, shape,
    reduction, sorting, linalg, activation, normalization, loss, composite_loss,
    conv, padding, pooling, upsampling, embedding, attention, inplace, sampling, triangular, queries,
    inplace_twins,
)
