"""autodiff: PyTorch's autograd API on NumPy (CPU) and CuPy (CUDA).

``import autodiff as torch`` and the classic autograd tutorials run unchanged.
"""

from autodiff import autograd, cuda
from autodiff.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autodiff.device import device
from autodiff.dtypes import (
    bool,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
)
from autodiff.ops.arithmetic import add, div, mul, neg, pow, reciprocal, rsub, sub
from autodiff.ops.conversion import to
from autodiff.ops.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    from_numpy,
    full,
    full_like,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from autodiff.ops.elementwise import (
    abs,
    clamp,
    clip,
    eq,
    exp,
    ge,
    gt,
    isnan,
    le,
    log,
    logical_and,
    logical_not,
    logical_or,
    lt,
    ne,
    sign,
    sqrt,
    where,
)
from autodiff.ops.linalg import dot, matmul, mm
from autodiff.ops.reduction import broadcast_to, mean, sum, sum_to_size
from autodiff.ops.shape import (
    cat,
    clone,
    concat,
    flatten,
    permute,
    reshape,
    squeeze,
    stack,
    t,
    transpose,
    unsqueeze,
)
from autodiff.tensor import Size, Tensor
from autodiff.tensor_methods import attach as _attach

_attach()

divide, multiply, subtract, true_divide = div, mul, sub, div
__version__ = "0.1.0"


def is_tensor(obj: object) -> "builtins.bool":  # noqa: F821
    """True when ``obj`` is an autodiff Tensor."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> "builtins.int":  # noqa: F821
    return input.numel()


# ---- extended op set, nn, optim, save/load (issue 5) -----------------------------------
from autodiff import nn, optim  # noqa: E402,I001
from autodiff.ops.activation import log_softmax, softmax
from autodiff.ops.indexing_extra import gather, index_select, masked_fill, scatter_add
from autodiff.ops.linalg_extra import bmm, einsum, ger, outer
from autodiff.ops.reduction_extra import (
    amax,
    amin,
    argmax,
    argmin,
    cumsum,
    logsumexp,
    max,
    min,
    norm,
    prod,
    std,
    var,
)
from autodiff.ops.shape_extra import chunk, flip, split
from autodiff.ops.unary import (
    ceil,
    cos,
    erf,
    expm1,
    floor,
    lerp,
    log1p,
    log2,
    maximum,
    minimum,
    relu,
    round,
    rsqrt,
    sigmoid,
    sin,
    tan,
    tanh,
)
from autodiff.serialization import load, save
