"""``autograd.functional``: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``vhp``, ``hvp``.

Same signatures, return structures and ``create_graph``/``strict`` options as PyTorch's
``torch.autograd.functional``. Everything is reverse mode on top of ``autograd.grad``
(except ``jacobian(strategy="forward-mode", vectorize=True)``, forward mode on
``autograd.forward_ad``, and ``hessian`` with that outer strategy); ``jvp`` and ``hvp``
use the double-backward trick (differentiate a vjp with respect to
the vector it was taken with), which needs every op's backward to be differentiable.

>>> jacobian(lambda x: x ** 2, tensor([1., 2.]))
tensor([[2., 0.],
        [0., 4.]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autodiff.autograd.api import grad as _grad
from autodiff.autograd.forward_state import set_tangent, tangent_of
from autodiff.autograd.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from autodiff.ops.creation import eye, zeros_like
from autodiff.ops.shape import stack
from autodiff.tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


# ---- helpers (PyTorch's, for the same errors and structures) ----------------------
def _as_tuple(inp: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                f"but the {where} has type {type(el)}."
            )
    return is_tuple, items


def _tuple_postprocess(res: Any, to_unpack: Any) -> Any:
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Fresh leaves to differentiate at (or graph-connected aliases with create_graph)."""
    return tuple(
        inp.view_as(inp) if create_graph and inp._requires_grad
        else _keep_tangent(inp, need_graph) if tangent_of(inp) is not None
        else inp.detach().requires_grad_(need_graph)
        for inp in inputs
    )


def _keep_tangent(inp: Tensor, need_graph: bool) -> Tensor:
    """A fresh leaf that keeps ``inp``'s forward-mode tangent (an outer forward-mode
    jacobian differentiates through this one: hessian's forward-over-reverse)."""
    out = inp.detach().view_as(inp)
    set_tangent(out, tangent_of(inp))
    return out.requires_grad_(need_graph)


def _grad_postprocess(inputs: tuple, create_graph: bool) -> tuple:
    if inputs and isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(
                f"{prepend}v has invalid size: should be {el_other.size()} but got {el_v.size()}."
            )


_INDEPENDENT = {
    "hessian": "The hessian of the user-provided function with respect to input {i} is independent "
    "of the input. This is not allowed in strict mode. You should ensure that your function is "
    "thrice differentiable and that the hessian depends on the inputs.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided function "
    "with respect to input {i} is independent of the input. This is not allowed in strict mode. "
    "You should ensure that your function is twice differentiable and that the jacobian depends "
    "on the inputs (this would be violated by a linear function for example).",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the "
    "user-provided function. This is not allowed in strict mode.",
    "outputs": "Output {i} of the user-provided function does not require gradients. The outputs "
    "must be computed in a differentiable manner from the input when running in strict mode.",
}


def _check_requires_grad(inputs: tuple, input_type: str, strict: bool) -> None:
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. This is "
                "not allowed in strict mode."
            )
        if not inp._requires_grad:
            raise RuntimeError(_INDEPENDENT[input_type].format(i=i))


def _autograd_grad(outputs: tuple, inputs: tuple, grad_outputs: Any = None,
                   create_graph: bool = False, retain_graph: bool | None = None) -> tuple:
    """``autograd.grad`` over the outputs that require grad (None where unused)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o._requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _grad([o for o, _ in pairs], inputs, [g for _, g in pairs], allow_unused=True,
                 create_graph=create_graph, retain_graph=retain_graph)


_ZERO_MSG = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
    "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
    "grad_outputs when using the double backward trick to compute forward mode gradients. This "
    "is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This "
    "is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
    "in the grad_jacobian. This is not allowed in strict mode as it prevents from using the "
    "double backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str) -> tuple:
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_ZERO_MSG[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g._requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. This is "
                "not allowed in strict mode when create_graph=True."
            )
        res.append(g)
    return tuple(res)


def _prepare_v(v: Any, against: tuple, is_tuple: bool, fn_name: str, create_graph: bool,
               none_msg: str) -> Any:
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, against, is_tuple)
    elif len(against) != 1 or against[0].numel() != 1:
        raise RuntimeError(none_msg)
    return v


_V_NONE_OUT = ("The vector v can only be None if the user-provided function returns a single "
               "Tensor with a single element.")
_V_NONE_IN = ("The vector v can only be None if the input to the user-provided function is a "
              "single Tensor with a single element.")


# ---- the transforms ----------------------------------------------------------------
def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        v = _prepare_v(v, outputs, is_outputs_tuple, "vjp", create_graph, _V_NONE_OUT)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_inputs_tuple)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), J v)``: the Jacobian-vector product (double-backward trick)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, "jvp", create_graph, _V_NONE_IN)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_outputs_tuple)


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: shape ``out.shape + in.shape`` per pair,
    nested as ``[output][input]`` tuples when either side is a tuple."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                'torch.autograd.functional.jacobian: `strategy="forward-mode"` does not support '
                "`create_graph=True`")
        if not vectorize:
            raise NotImplementedError(
                'torch.autograd.functional.jacobian: `strategy="forward-mode"` only works when '
                "`vectorize=True`")
        return _forward_jacobian(func, inputs, strict)
    if vectorize and strict:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
            "supported together. Please either set `strict=False` or `vectorize=False`.")
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(
            outputs, "outputs of the user-provided function", "jacobian"
        )
        _check_requires_grad(outputs, "outputs", strict=strict)
        if vectorize:
            jac = _vectorized_jacobian(outputs, inputs, create_graph)
            jac = _grad_postprocess(jac, create_graph)
            return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))
        jac: tuple = ()
        for i, out in enumerate(outputs):
            rows: tuple = tuple([] for _ in inputs)
            flat = out.reshape(-1)
            for j in range(out.numel()):
                vj = _autograd_grad((flat[j],), inputs, retain_graph=True, create_graph=create_graph)
                for k, (row, g, inp) in enumerate(zip(rows, vj, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of "
                                f"input {k}. This is not allowed in strict mode."
                            )
                        g = zeros_like(inp)
                    elif strict and create_graph and not g._requires_grad:
                        raise RuntimeError(
                            f"The jacobian of the user-provided function is independent of input "
                            f"{i}. This is not allowed in strict mode when create_graph=True."
                        )
                    row.append(g)
            jac += (tuple(
                stack(row, 0).reshape(tuple(out.shape) + tuple(inp.shape)) if row
                else zeros_like(inp).reshape(tuple(out.shape) + tuple(inp.shape))
                for row, inp in zip(rows, inputs)
            ),)
        jac = _grad_postprocess(jac, create_graph)
        return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def _vectorized_jacobian(outputs: tuple, inputs: tuple, create_graph: bool) -> tuple:
    """jacobian(vectorize=True), reverse mode, as PyTorch: the rows of an identity matrix as a
    batch of grad_outputs, one backward for all (``grad(..., is_grads_batched=True)``)."""
    sizes = [o.numel() for o in outputs]
    total = sum(sizes)
    used = [o for o in outputs if o._requires_grad]
    if total == 0 or not used:  # nothing to differentiate: zero Jacobians
        return tuple(tuple(zeros_like(inp).expand(tuple(o.shape) + tuple(inp.shape)).clone() for inp in inputs)
                     for o in outputs)
    eye_ = eye(total, dtype=outputs[0].dtype, device=outputs[0].device)
    blocks, start = [], 0
    for o, n in zip(outputs, sizes):
        blocks.append(eye_[:, start:start + n].to(o.dtype).reshape((total,) + tuple(o.shape)))
        start += n
    pairs = [(o, b) for o, b in zip(outputs, blocks) if o._requires_grad]
    rows = _grad(tuple(o for o, _ in pairs), inputs, tuple(b for _, b in pairs), retain_graph=True,
                 create_graph=create_graph, allow_unused=True, is_grads_batched=True)
    jac, start = [], 0
    for o, n in zip(outputs, sizes):
        shape = tuple(o.shape)
        jac.append(tuple(
            zeros_like(inp).expand(shape + tuple(inp.shape)).clone() if r is None
            else r.narrow(0, start, n).reshape(shape + tuple(inp.shape))
            for r, inp in zip(rows, inputs)))
        start += n
    return tuple(jac)


def _forward_jacobian(func: Callable, inputs: Any, strict: bool) -> Any:
    """jacobian(strategy="forward-mode"): one forward-mode pass per input element
    (autograd/forward_ad.py), each giving a column of the Jacobian."""
    from autodiff.autograd import forward_ad

    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    inputs = tuple(inp.detach() for inp in inputs)
    columns: list = []  # [input][element] -> tuple of output tangents
    outputs: tuple = ()
    is_outputs_tuple = False
    with forward_ad.dual_level():
        for k, inp in enumerate(inputs):
            cols = []
            for j in range(inp.numel()):
                basis = zeros_like(inp).reshape(-1)
                basis[j] = 1.0
                duals = tuple(forward_ad.make_dual(x, basis.reshape(inp.shape)) if i == k else x
                              for i, x in enumerate(inputs))
                out = func(*duals)
                is_outputs_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "jacobian")
                outputs = tuple(forward_ad.unpack_dual(o).primal for o in outs)
                cols.append(tuple(forward_ad.unpack_dual(o).tangent for o in outs))
            columns.append(cols)
        if not outputs:
            is_outputs_tuple, outs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jacobian")
            outputs = tuple(forward_ad.unpack_dual(o).primal for o in outs)
    jac = []
    for i, out in enumerate(outputs):
        row = []
        for k, inp in enumerate(inputs):
            tangents = [c[i] for c in columns[k]]
            if strict and all(t is None for t in tangents):
                raise RuntimeError(f"Output {i} of the user-provided function is independent of input {k}. "
                                   "This is not allowed in strict mode.")
            parts = [zeros_like(out) if t is None else t.detach() for t in tangents]
            shape = tuple(out.shape) + tuple(inp.shape)
            row.append(stack(parts, -1).reshape(shape) if parts else zeros_like(out).reshape(-1)[:0].reshape(shape))
        jac.append(tuple(row))
    return _tuple_postprocess(tuple(jac), (is_outputs_tuple, is_inputs_tuple))


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of the scalar function ``func`` at ``inputs`` (``in.shape + in.shape``;
    a tuple of tuples for tuple inputs)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def ensure_single_output_function(*inp: Tensor) -> Tensor:
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single element"
            )
        return out.squeeze()

    def jac_func(*inp: Tensor) -> Any:
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_jac(func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool,
                fn_name: str) -> tuple:
    """Shared start of vhp/hvp: outputs, gradient (with graph), inputs, v, tuple flags."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, fn_name, create_graph, _V_NONE_IN)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(
            outputs, "outputs of the user-provided function", fn_name
        )
        _check_requires_grad(outputs, "outputs", strict=strict)
        if is_outputs_tuple or not isinstance(outputs[0], Tensor):
            raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
        if outputs[0].numel() != 1:
            raise RuntimeError(
                f"The Tensor returned by the function given to {fn_name} should contain a single "
                "element"
            )
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
    return outputs, is_outputs_tuple, inputs, is_inputs_tuple, v, jac


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), v^T H)`` for a scalar ``func``."""
    outputs, is_out_t, inputs, is_in_t, v, jac = _scalar_jac(func, inputs, v, create_graph, strict, "vhp")
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_out_t), _tuple_postprocess(result, is_in_t)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), H v)`` for a scalar ``func`` (double-backward trick)."""
    outputs, is_out_t, inputs, is_in_t, v, jac = _scalar_jac(func, inputs, v, create_graph, strict, "hvp")
    with enable_grad():
        grad_jac = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_out_t), _tuple_postprocess(result, is_in_t)
