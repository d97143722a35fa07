"""The in-place twins of existing ops (``x.exp_()``, ``x.clamp_min_(0)``, ``x.t_()`` ...),
from one table each over ``ops/inplace.py``'s machinery.

A value twin ``x.op_(*args)`` computes ``x.op(*args)`` and writes it back into ``x`` with
``apply_inplace``: PyTorch's rules come with it (the version counter is bumped, a leaf
that requires grad is refused under grad mode, a view rebases its base through
``CopySlices``, a result whose dtype does not fit raises -- ``int_tensor.sqrt_()`` gives
"result type Float can't be cast to the desired output type Long" -- and a result whose
shape is not ``x``'s raises). A view twin (``t_``, ``transpose_``, ``unsqueeze_`` ...)
changes ``x``'s shape and strides, not its values.

To give a new op its twin, add one row to ``VALUE_TWINS`` (``"asin_": "asin",``): the
right side names the out-of-place Tensor method, looked up when the twin is called, so
the op may live in any ops file. Then add an op_specs row for it (the ``inplace twins``
family in autodiff/testing/op_specs.py gradchecks ``x.clone().op_()``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autodiff.autograd.forward_rules import symmetric_jvp
from autodiff.autograd.forward_state import set_tangent, tangent_of
from autodiff.autograd.forward_state import state as _fw
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node
from autodiff.autograd.record import record
from autodiff.ops.inplace import _check_overlap, apply_inplace, setitem
from autodiff.ops.unary import clamp
from autodiff.tensor import LEAF_INPLACE, Tensor

# in-place name -> the out-of-place Tensor method it writes back (same arguments).
VALUE_TWINS: dict[str, str] = {
    # unary math (ops/unary.py, activation.py)
    "abs_": "abs", "absolute_": "abs", "neg_": "neg", "negative_": "neg", "exp_": "exp",
    "expm1_": "expm1", "log_": "log", "log1p_": "log1p", "log2_": "log2", "sqrt_": "sqrt",
    "rsqrt_": "rsqrt", "reciprocal_": "reciprocal", "sin_": "sin", "cos_": "cos", "tan_": "tan",
    "tanh_": "tanh", "sigmoid_": "sigmoid", "relu_": "relu", "erf_": "erf", "floor_": "floor",
    "ceil_": "ceil", "round_": "round", "sign_": "sign",
    # two operands (ops/arithmetic.py): aliases of add_/mul_/div_/sub_ already in inplace.py
    "multiply_": "mul", "divide_": "div", "true_divide_": "div", "subtract_": "sub", "lerp_": "lerp",
    # comparisons and logic (ops/comparison.py): the bool result is written as 0/1
    "eq_": "eq", "ne_": "ne", "lt_": "lt", "le_": "le", "gt_": "gt", "ge_": "ge",
    "logical_and_": "logical_and", "logical_or_": "logical_or", "logical_not_": "logical_not",
    # reductions along a dim, indexing, triangles
    "cumsum_": "cumsum", "masked_fill_": "masked_fill", "scatter_add_": "scatter_add",
    "tril_": "tril", "triu_": "triu",
    # more unary math (ops/unary.py, special.py)
    "asin_": "asin", "acos_": "acos", "atan_": "atan", "sinh_": "sinh", "cosh_": "cosh",
    "asinh_": "asinh", "acosh_": "acosh", "atanh_": "atanh", "arcsin_": "asin", "arccos_": "acos",
    "arctan_": "atan", "arcsinh_": "asinh", "arccosh_": "acosh", "arctanh_": "atanh",
    "exp2_": "exp2", "log10_": "log10", "logit_": "logit", "trunc_": "trunc", "fix_": "trunc",
    "frac_": "frac", "sgn_": "sgn", "deg2rad_": "deg2rad", "rad2deg_": "rad2deg",
    "nan_to_num_": "nan_to_num", "square_": "square", "erfc_": "erfc", "erfinv_": "erfinv",
    "lgamma_": "lgamma", "digamma_": "digamma", "polygamma_": "polygamma", "mvlgamma_": "mvlgamma",
    "i0_": "i0", "sinc_": "sinc", "xlogy_": "xlogy",
    # more of two operands (ops/arithmetic.py)
    "atan2_": "atan2", "arctan2_": "atan2", "hypot_": "hypot", "copysign_": "copysign",
    "fmod_": "fmod", "float_power_": "float_power", "heaviside_": "heaviside",
    "nextafter_": "nextafter", "ldexp_": "ldexp", "addcmul_": "addcmul", "addcdiv_": "addcdiv",
    # more comparisons, logic and integer bit ops (ops/comparison.py)
    "greater_": "gt", "greater_equal_": "ge", "less_": "lt", "less_equal_": "le",
    "not_equal_": "ne", "logical_xor_": "logical_xor", "bitwise_and_": "bitwise_and",
    "bitwise_or_": "bitwise_or", "bitwise_xor_": "bitwise_xor", "bitwise_not_": "bitwise_not",
    "bitwise_left_shift_": "bitwise_left_shift", "bitwise_right_shift_": "bitwise_right_shift",
    "gcd_": "gcd", "lcm_": "lcm",
    # more indexing (ops/indexing.py)
    "index_add_": "index_add", "index_copy_": "index_copy", "index_fill_": "index_fill",
    "put_": "put", "scatter_": "scatter", "scatter_reduce_": "scatter_reduce",
    "index_reduce_": "index_reduce", "masked_scatter_": "masked_scatter",
    # linear algebra and cumulative products (ops/linalg.py, sorting.py)
    "addmm_": "addmm", "addmv_": "addmv", "addr_": "addr", "addbmm_": "addbmm",
    "baddbmm_": "baddbmm", "cumprod_": "cumprod",
}

# in-place name -> the view op whose result ``x`` becomes (metadata only).
VIEW_TWINS: dict[str, str] = {
    "t_": "t", "transpose_": "transpose", "swapaxes_": "transpose", "swapdims_": "transpose",
    "unsqueeze_": "unsqueeze", "squeeze_": "squeeze",
}


class ComparisonBackward0(Node):
    """An in-place comparison of a tensor that requires grad: the old values get zero.
    Printed as PyTorch names it (``GtBackward0`` for ``gt_``: see ``_COMPARISON_NODES``).
    PyTorch's ``logical_and_``/``logical_or_``/``logical_not_`` record nothing, so the
    gradient flows on as if the op had not happened; here it is zero, like the others."""

    __slots__ = ()
    jvp = symmetric_jvp

    def backward(self, g: Tensor) -> Tensor:
        return g * 0


def _comparison_node(torch_name: str) -> type:
    return type(f"Inplace{torch_name}", (ComparisonBackward0,), {"__slots__": (), "torch_name": torch_name})


_COMPARISON_NODES = {op: _comparison_node(f"{op.capitalize()}Backward0") for op in ("eq", "ne", "lt", "le", "gt", "ge")}


def _value_twin(op_name: str) -> Callable[..., Tensor]:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        op = getattr(Tensor, op_name)

        def compute(x: Tensor) -> Tensor:
            out = op(x, *args, **kwargs)
            if _grad.enabled and x._requires_grad and out.grad_fn is None:
                # A result with no gradient (a comparison): the old values get zero.
                out = record(out.to(x.dtype), _COMPARISON_NODES.get(op_name, ComparisonBackward0), (x,))
            return out

        return apply_inplace(self, compute, *args, *kwargs.values())

    method.__name__ = op_name + "_"
    method.__doc__ = f"In place: ``x.{op_name}(...)`` written into ``x``."
    return method


def _view_twin(op_name: str) -> Callable[..., Tensor]:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if _grad.enabled and self._requires_grad and self.grad_fn is None:
            raise RuntimeError(LEAF_INPLACE)
        out = getattr(Tensor, op_name)(self, *args, **kwargs)
        # ``self`` becomes the view: same memory, new shape and strides, and the view's node.
        self._data = out._data
        if out._requires_grad:
            self.grad_fn, self._output_nr, self._requires_grad = out.grad_fn, out._output_nr, True
        if out._base is not None and out._base is not self:
            self._base, self._view_fn = out._base, out._view_fn
        if _fw.active and tangent_of(out) is not None:  # forward AD: the tangent is reshaped too
            set_tangent(self, tangent_of(out))
        self._version[0] += 1
        return self

    method.__name__ = op_name + "_"
    method.__doc__ = f"In place: ``x`` becomes ``x.{op_name}(...)`` (a view of the same memory)."
    return method


def clamp_min_(t: Tensor, min: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    return apply_inplace(t, lambda x: clamp(x, min, None), min)


def clamp_max_(t: Tensor, max: Any) -> Tensor:  # noqa: A002
    return apply_inplace(t, lambda x: clamp(x, None, max), max)


def index_put_(t: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """``t[indices] = values`` (``indices`` a tuple of index tensors); with ``accumulate``,
    ``t[indices] += values`` where repeated indices each add their value."""
    if accumulate:
        return _index_put_accumulate(t, tuple(indices), values)
    _check_overlap(t)
    setitem(t, tuple(indices), values)
    return t


def _index_put_accumulate(t: Tensor, indices: tuple, values: Any) -> Tensor:
    # The values, broadcast to the indexed shape, scattered into zeros with repeats adding up
    # (``scatter_into``, differentiable in the values), then added to t in place.
    from autodiff.ops.creation import as_tensor
    from autodiff.ops.indexing import _convert_index, scatter_into

    idx = _convert_index(t, indices)[0]
    if not isinstance(values, Tensor):
        values = as_tensor(values, dtype=t.dtype, device=t.device)
    elif values.dtype is not t.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got {t.dtype.word} "
                           f"for the destination and {values.dtype.word} for the source.")
    indexed_shape = t._be.getitem(t._data, idx).shape
    added = scatter_into(values.expand(indexed_shape), t._data.shape, idx, accumulate=True)
    return t.add_(added)


def index_put(t: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """Out of place: a copy of ``t`` with ``copy[indices] = values``."""
    return index_put_(t.clone(), indices, values, accumulate)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
METHODS: dict[str, Any] = {
    **{name: _value_twin(op) for name, op in VALUE_TWINS.items()},
    **{name: _view_twin(op) for name, op in VIEW_TWINS.items()},
    "clamp_min_": clamp_min_, "clamp_max_": clamp_max_, "index_put_": index_put_, "index_put": index_put,
}
# The twins PyTorch also has as functions (``torch.relu_(x)``): the same functions.
TWIN_FUNCTIONS = (
    "abs_", "neg_", "negative_", "exp_", "expm1_", "log_", "log1p_", "log2_", "sqrt_", "rsqrt_",
    "reciprocal_", "sin_", "cos_", "tan_", "tanh_", "sigmoid_", "relu_", "erf_", "floor_", "ceil_",
    "round_",
)
globals().update({name: METHODS[name] for name in TWIN_FUNCTIONS})
FUNCTIONS = ("index_put", "clamp_min_", "clamp_max_", "index_put_") + TWIN_FUNCTIONS
