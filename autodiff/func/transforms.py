"""The derivative transforms of ``autodiff.func``: ``grad``, ``grad_and_value``, ``vjp``,
``jvp``, ``jacrev``, ``jacfwd``, ``hessian``, ``linearize``, and ``functional_call``.

Each takes a function and returns one (PyTorch's ``torch.func`` signatures). Reverse mode is
``autograd.grad`` on fresh leaves; forward mode is ``autograd.forward_ad``. Inside ``vmap``
the inputs are BatchedTensors (vmap.py): a transform works on their physical tensors, where
the samples are independent, after batching every differentiated input at every running
vmap level (an input shared by the batch gets one copy per sample, so that its gradient is
per sample too). That is what makes ``vmap(grad(f))`` one batched forward and one backward.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from autodiff._vmap_state import state as vmap_state
from autodiff.autograd import forward_ad
from autodiff.autograd.api import grad as autograd_grad
from autodiff.autograd.forward_state import state as fw_state
from autodiff.autograd.grad_mode import enable_grad
from autodiff.func.vmap import BatchedTensor, tree_flatten, wrap
from autodiff.ops._prep import checked
from autodiff.ops.creation import zeros, zeros_like
from autodiff.ops.shape import stack
from autodiff.tensor import Tensor

# The exported ops (which dispatch batched tensors to vmap's rules), for results that may be
# batched at an outer vmap level.
stack = checked("stack", stack)

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize",
           "functional_call"]


# ---- batched inputs: physical tensors and their vmap levels -------------------------------
def _levels(x: Tensor) -> tuple[list, Tensor]:
    """The vmap levels of ``x``'s wrappers (outermost wrapper first) and its physical tensor."""
    levels = []
    while x.__class__ is BatchedTensor:
        levels.append(x.level)
        x = x.value
    return levels, x


def _rewrap(p: Tensor, levels: list) -> Tensor:
    for level in reversed(levels):
        p = wrap(p, level)
    return p


def _batch_all(x: Tensor) -> Tensor:
    """``x`` batched at every running vmap level (by broadcasting, where it is not)."""
    have = set(_levels(x)[0])
    if not have and vmap_state.levels:  # (the common case, a shared input: expanded, not copied)
        sizes = tuple(size for _, size, _ in vmap_state.levels)
        return _rewrap(x.expand(sizes + tuple(x.shape)), [lvl for lvl, _, _ in reversed(vmap_state.levels)])
    for level, size, _ in vmap_state.levels:
        if level not in have:
            x = x + wrap(zeros(size, dtype=x.dtype, device=x.device), level)
    return x


class _Input:
    """One differentiated input: the tensor the function sees, and its physical leaf."""

    def __init__(self, x: Any, where: str) -> None:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{where}: Expected the differentiated inputs to be Tensors, got {type(x).__name__}")
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"{where}: only floating point inputs can be differentiated, got {x.dtype}")
        x = _batch_all(x)
        self.levels, p = _levels(x)
        self.outer = p._requires_grad  # an outer transform differentiates through us
        leaf = p.view_as(p)  # (graph-connected where p is, and keeps a forward tangent)
        if not leaf._requires_grad:
            leaf.requires_grad_()
        self.leaf = leaf
        self.seen = _rewrap(leaf, self.levels)


def _prepare(args: tuple, argnums: Any, where: str) -> tuple[list, list, Callable]:
    """``args`` with the inputs at ``argnums`` (pytrees) made differentiable."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise RuntimeError(f"{where}: argnums must be non-empty")
    for n in nums:
        if not isinstance(n, int) or not -len(args) <= n < len(args):
            raise RuntimeError(f"{where}: Got argnums={argnums}, but only {len(args)} positional inputs")
    nums = tuple(n % len(args) for n in nums)
    args = list(args)
    inputs, builders = [], []
    for n in nums:
        leaves, build = tree_flatten(args[n])
        prepared = [_Input(leaf, where) for leaf in leaves]
        args[n] = build([p.seen for p in prepared])
        inputs.append(prepared)
        builders.append(build)

    def structure(per_input: list) -> Any:
        trees = [b(g) for b, g in zip(builders, per_input)]
        return trees[0] if isinstance(argnums, int) else tuple(trees)

    return args, inputs, structure


def _physical_output(out: Tensor, like: list) -> Tensor:
    """``out``'s physical tensor, batched at the levels of the inputs (``like``)."""
    levels, p = _levels(_batch_all(out) if like else out)
    return p, levels


def _grads(outputs: list, inputs: list, grad_outputs: list | None, retain: bool) -> list:
    """Gradients of the physical ``outputs`` for each prepared input (zeros when unused)."""
    flat = [i for group in inputs for i in group]
    create = any(i.outer for i in flat)
    outs = [(o, g) for k, o in enumerate(outputs) if o._requires_grad
            for g in [None if grad_outputs is None else grad_outputs[k]]]
    if outs:
        gs = autograd_grad([o for o, _ in outs], [i.leaf for i in flat],
                           grad_outputs=None if grad_outputs is None else [g for _, g in outs],
                           retain_graph=retain or create, create_graph=create, allow_unused=True)
    else:
        gs = [None] * len(flat)
    result, k = [], 0
    for group in inputs:
        part = []
        for i in group:
            g = gs[k]
            k += 1
            part.append(_rewrap(zeros_like(i.leaf) if g is None else g, i.levels))
        result.append(part)
    return result


def _unpack_aux(out: Any, has_aux: bool, where: str) -> tuple:
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{where}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return out


# ---- grad -----------------------------------------------------------------------------------
def grad_and_value(func: Callable, argnums: int | tuple = 0, has_aux: bool = False) -> Callable:
    """``f -> (gradient of f at argnums, f's value)``; ``f`` returns a scalar (with
    ``has_aux``, a pair ``(scalar, aux)``: then ``(gradient, (value, aux))``, as PyTorch)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        where = "grad_and_value(f)(*args)"
        with enable_grad():
            args, inputs, structure = _prepare(args, argnums, where)
            out, aux = _unpack_aux(func(*args, **kwargs), has_aux, where)
            if not isinstance(out, Tensor):
                raise RuntimeError(f"{where}: Expected f(*args) to return a Tensor, got {type(out)}")
            if out.ndim != 0:
                raise RuntimeError(
                    f"{where}: Expected f(*args) to return a scalar Tensor, got tensor with {out.ndim} "
                    "dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
            p, _ = _physical_output(out, inputs)
            total = p.sum() if p.ndim else p
            grads = structure(_grads([total], inputs, None, retain=False))
        value = out if any(i.outer for g in inputs for i in g) else out.detach()
        if has_aux:
            return grads, (value, aux)
        return grads, value

    return wrapper


def grad(func: Callable, argnums: int | tuple = 0, has_aux: bool = False) -> Callable:
    """``f -> gradient of f at argnums`` (``(gradient, aux)`` with ``has_aux``)."""
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        grads, value = both(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


# ---- vjp ------------------------------------------------------------------------------------
def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(f(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` (shaped like f's output) gives the
    vector-Jacobian products, one per primal (``(output, vjp_fn, aux)`` with ``has_aux``)."""
    where = "vjp(f, *primals)"
    with enable_grad():
        args, inputs, structure = _prepare(primals, tuple(range(len(primals))), where)
        out, aux = _unpack_aux(func(*args), has_aux, where)
    out_leaves, _ = tree_flatten(out)
    for o in out_leaves:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{where}: Expected f to return Tensors, got {type(o)}")
    physical = [_physical_output(o, inputs) for o in out_leaves]

    def vjp_fn(*cotangents: Any) -> tuple:
        cts = cotangents[0] if len(cotangents) == 1 else cotangents
        ct_leaves, _ = tree_flatten(cts)
        if len(ct_leaves) != len(out_leaves):
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as pytree structure "
                               f"of outputs to the function: {len(ct_leaves)} cotangents for {len(out_leaves)} outputs")
        gouts = []
        for o, c, (_, levels) in zip(out_leaves, ct_leaves, physical):
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"Mismatch in shape: cotangent has a shape of {tuple(c.shape)} and the "
                                   f"output has a shape of {tuple(o.shape)}")
            c_levels, pc = _levels(_batch_all(c))
            if c_levels != levels:
                raise NotImplementedError("vjp_fn: cotangents batched by a vmap inside the vjp are not "
                                          "supported; use jacrev")
            gouts.append(pc)
        with enable_grad():
            grads = _grads([p for p, _ in physical], inputs, gouts, retain=True)
        return tuple(structure(grads))

    if has_aux:
        return out, vjp_fn, aux
    return out, vjp_fn


# ---- jacrev ---------------------------------------------------------------------------------
def jacrev(func: Callable, argnums: int | tuple = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable:
    """``f -> Jacobian of f at argnums`` by reverse mode: one backward per output element,
    the rows stacked (shape ``out.shape + in.shape``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        where = "jacrev(f)(*args)"
        with enable_grad():
            args, inputs, structure = _prepare(args, argnums, where)
            out, aux = _unpack_aux(func(*args, **kwargs), has_aux, where)
            out_leaves, out_build = tree_flatten(out)
            jacs = []
            for o in out_leaves:
                p, levels = _physical_output(o, inputs)
                nb = len(levels)
                batch, shape = tuple(p.shape[:nb]), tuple(p.shape[nb:])
                m = 1
                for s in shape:
                    m *= s
                rows = []
                for j in range(m):
                    onehot = zeros(batch + (m,), dtype=p.dtype, device=p.device)
                    onehot[(Ellipsis, j)] = 1.0
                    rows.append(_grads([p], inputs, [onehot.reshape(p.shape)], retain=True))
                per_input = []
                for g, group in enumerate(inputs):
                    part = []
                    for k, i in enumerate(group):
                        ilevels, leaf = i.levels, i.leaf
                        in_shape = tuple(leaf.shape[len(ilevels):])
                        if m:
                            phys = stack([_levels(r[g][k])[1] for r in rows], len(ilevels))
                        else:
                            phys = zeros(tuple(leaf.shape[:len(ilevels)]) + (0,) + in_shape, dtype=leaf.dtype)
                        phys = phys.reshape(tuple(leaf.shape[:len(ilevels)]) + shape + in_shape)
                        part.append(_rewrap(phys, ilevels))
                    per_input.append(part)
                jacs.append(structure(per_input))
        result = out_build(jacs)
        return (result, aux) if has_aux else result

    return wrapper


# ---- forward mode -----------------------------------------------------------------------------
@contextmanager
def _dual_level(where: str) -> Any:
    if fw_state.level is not None:
        raise NotImplementedError(f"{where}: nested forward-mode transforms (jvp or jacfwd inside jvp "
                                  "or jacfwd) are not supported")
    with forward_ad.dual_level():
        yield


def _dual(x: Tensor, t: Tensor) -> Tensor:
    """``x`` carrying tangent ``t`` (both possibly batched: brought to the same levels)."""
    if x.__class__ is BatchedTensor or t.__class__ is BatchedTensor:
        x, t = x + t.detach() * 0, t + x.detach() * 0
    x_levels, px = _levels(x)
    _, pt = _levels(t)
    return _rewrap(forward_ad.make_dual(px, pt), x_levels)


def _tangent(out: Tensor) -> Tensor:
    levels, p = _levels(out)
    tangent = forward_ad.unpack_dual(p).tangent
    return _rewrap(zeros_like(p) if tangent is None else tangent, levels)


def _primal(out: Tensor) -> Tensor:
    levels, p = _levels(out)
    return _rewrap(forward_ad.unpack_dual(p).primal, levels)


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> tuple:
    """``(f(*primals), J v)`` with ``v`` = ``tangents``, by forward mode (one pass)."""
    where = "jvp(f, primals, tangents)"
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise RuntimeError(f"{where}: Expected primals and tangents to be tuples")
    if len(primals) != len(tangents):
        raise RuntimeError(f"{where}: Expected primals and tangents to have the same python structure: "
                           f"{len(primals)} primals and {len(tangents)} tangents")
    with _dual_level(where):
        args = []
        for p, t in zip(primals, tangents):
            pl, build = tree_flatten(p)
            tl, _ = tree_flatten(t)
            for a, b in zip(pl, tl):
                if tuple(a.shape) != tuple(b.shape):
                    raise RuntimeError(f"{where}: Expected primals and tangents to have the same shape, "
                                       f"got {tuple(a.shape)} and {tuple(b.shape)}")
            args.append(build([_dual(a, b) for a, b in zip(pl, tl)]))
        out, aux = _unpack_aux(func(*args), has_aux, where)
        leaves, build = tree_flatten(out)
        primal_out = build([_primal(o) for o in leaves])
        tangent_out = build([_tangent(o) for o in leaves])
    if has_aux:
        return primal_out, tangent_out, aux
    return primal_out, tangent_out


def jacfwd(func: Callable, argnums: int | tuple = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """``f -> Jacobian of f at argnums`` by forward mode: one forward pass per input element,
    the columns stacked (shape ``out.shape + in.shape``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        where = "jacfwd(f)(*args)"
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        for n in nums:
            if not isinstance(n, int) or not -len(args) <= n < len(args):
                raise RuntimeError(f"{where}: Got argnums={argnums}, but only {len(args)} positional inputs")
        nums = tuple(n % len(args) for n in nums)
        columns_per_input = []  # [input][leaf] -> list over outputs of jacobians
        out = aux = None
        with _dual_level(where):
            for n in nums:
                leaves, build = tree_flatten(args[n])
                per_leaf = []
                for k, x in enumerate(leaves):
                    size = x.numel()
                    cols = []
                    for j in range(size):
                        basis = zeros(size, dtype=x.dtype, device=x.device)
                        basis[j] = 1.0
                        new = list(leaves)
                        new[k] = _dual(x, basis.reshape(tuple(x.shape)))
                        call_args = list(args)
                        call_args[n] = build(new)
                        result, aux = _unpack_aux(func(*call_args, **kwargs), has_aux, where)
                        out_leaves, out_build = tree_flatten(result)
                        if out is None:
                            out = (out_leaves, out_build)
                        cols.append([_tangent(o) for o in out_leaves])
                    per_leaf.append((x, cols))
                columns_per_input.append((build, per_leaf))
            if out is None:  # no input elements at all
                result, aux = _unpack_aux(func(*args, **kwargs), has_aux, where)
                out = tree_flatten(result)
        out_leaves, out_build = out
        jacs = []
        for o_index, o in enumerate(out_leaves):
            trees = []
            for build, per_leaf in columns_per_input:
                parts = []
                for x, cols in per_leaf:
                    if cols:
                        j = stack([c[o_index] for c in cols], -1)
                    else:
                        j = zeros(tuple(o.shape) + (0,), dtype=o.dtype)
                    parts.append(j.reshape(tuple(o.shape) + tuple(x.shape)))
                trees.append(build(parts))
            jacs.append(trees[0] if isinstance(argnums, int) else tuple(trees))
        jac = out_build(jacs)
        return (jac, aux) if has_aux else jac

    return wrapper


def hessian(func: Callable, argnums: int | tuple = 0) -> Callable:
    """``f -> Hessian of f at argnums``: ``jacfwd(jacrev(f))`` (forward over reverse)."""
    return jacfwd(jacrev(func, argnums), argnums)


def linearize(func: Callable, *primals: Any) -> tuple:
    """``(f(*primals), jvp_fn)``: ``jvp_fn(*tangents)`` is ``J tangents`` at ``primals``
    (each call runs the forward pass again, in forward mode)."""
    out = func(*primals)

    def jvp_fn(*tangents: Any) -> Any:
        return jvp(func, primals, tangents)[1]

    return out, jvp_fn


# ---- functional_call ----------------------------------------------------------------------
def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = None,
                    kwargs: dict | None = None, *, tie_weights: bool = True, strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with its parameters and buffers replaced by the tensors in
    ``parameter_and_buffer_dicts`` (a dict ``{"layer.weight": tensor}``, or a tuple of dicts);
    the module is left as it was."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        dicts = (dicts,)
    merged: dict = {}
    for d in dicts:
        for name, value in d.items():
            if name in merged:
                raise ValueError(f"{name} appeared in multiple dictionaries; behavior of functional call "
                                 "is ambiguous")
            merged[name] = value
    if strict:
        expected = {n for n, _ in module.named_parameters()} | {n for n, _ in module.named_buffers()}
        missing, unexpected = sorted(expected - set(merged)), sorted(set(merged) - expected)
        if missing or unexpected:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}: missing keys "
                               f"{missing}, unexpected keys {unexpected}")
    if tie_weights:  # a tensor shared by two names follows the one given
        by_id: dict = {}
        for n, p in list(module.named_parameters(remove_duplicate=False)) if _takes_dup(module) else []:
            by_id.setdefault(id(p), []).append(n)
        for names in by_id.values():
            given = [n for n in names if n in merged]
            if given:
                for n in names:
                    merged.setdefault(n, merged[given[0]])
    saved = []
    try:
        for name, value in merged.items():
            owner, _, attr = name.rpartition(".")
            mod = module
            for part in owner.split(".") if owner else ():
                mod = getattr(mod, part)
            for store in ("_parameters", "_buffers"):
                table = mod.__dict__.get(store)
                if table is not None and attr in table:
                    saved.append((table, attr, table[attr]))
                    table[attr] = value
                    break
            else:
                saved.append((mod.__dict__, attr, mod.__dict__.get(attr, _ABSENT)))
                mod.__dict__[attr] = value
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for table, attr, old in reversed(saved):
            if old is _ABSENT:
                del table[attr]
            else:
                table[attr] = old


_ABSENT = object()


def _takes_dup(module: Any) -> bool:
    import inspect

    return "remove_duplicate" in inspect.signature(module.named_parameters).parameters
