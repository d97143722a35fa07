"""The derivative transforms of ``autodiff.func``: ``grad``, ``grad_and_value``, ``vjp``,
``jvp``, ``jacrev``, ``jacfwd``, ``hessian``, ``linearize``, and ``functional_call``.

Each takes a function and returns one (PyTorch's ``torch.func`` signatures). Reverse mode is
``autograd.grad`` on fresh leaves; forward mode is ``autograd.forward_ad``. Inside ``vmap``
the inputs are BatchedTensors (vmap.py): a transform works on their physical tensors, where
the samples are independent, after batching every differentiated input at every running
vmap level (an input shared by the batch gets one copy per sample, so that its gradient is
per sample too). That is what makes ``vmap(grad(f))`` one batched forward and one backward.

Jacobians are computed as PyTorch computes them: ``jacrev`` is ``vmap`` of the ``vjp_fn``
over the rows of an identity matrix -- the ``vjp_fn`` accepts cotangents batched at vmap
levels its forward did not have, and the engine runs one backward with those batched
gradients (each backward op through its batching rule; the engine's fallback,
``_backward_loop``, runs a backward op with no batched form sample by sample). ``jacfwd``
is ``vmap`` of ``jvp``. Forward AD has one level, so a ``jvp`` inside another forward-mode
transform uses the double-vjp trick instead (``_jvp_by_double_vjp``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from autodiff._vmap_state import state as vmap_state
from autodiff.autograd import forward_ad
from autodiff.autograd.api import grad as autograd_grad
from autodiff.autograd.engine import run_backward
from autodiff.autograd.forward_state import state as fw_state
from autodiff.autograd.grad_mode import enable_grad
from autodiff.func import backward_batching  # noqa: F401 (adds the rules of backward's internal functions)
from autodiff.func.vmap import BatchedTensor, innermost_level, loop, tree_flatten, vmap, wrap
from autodiff.ops.creation import eye, zeros, zeros_like
from autodiff.tensor import Tensor

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


class _Tracing:
    """``depth``: how many reverse-mode transforms are running their function. A gradient
    taken meanwhile is part of that function, so its backward is recorded (create_graph)
    for the enclosing transform to differentiate -- even when its own inputs do not tell
    (the double-vjp of a nested ``jvp`` depends on the enclosing inputs only through the
    saved tensors of its graph)."""

    depth = 0


_tracing = _Tracing()


def _traced(func: Callable, args: list, kwargs: dict) -> Any:
    _tracing.depth += 1
    try:
        return func(*args, **kwargs)
    finally:
        _tracing.depth -= 1


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


def _argnums(args: tuple, argnums: Any, where: str) -> tuple[int, ...]:
    """``argnums`` (an int or a tuple of them) as non-negative positions in ``args``, with
    PyTorch's errors for none or one out of range."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise RuntimeError(f"{where}: argnums must be non-empty")
    for n in nums:
        if not isinstance(n, int) or not -len(args) <= n < len(args):
            raise RuntimeError(f"{where}: Got argnums={argnums}, but only {len(args)} positional inputs")
    return tuple(n % len(args) for n in nums)


def _prepare(args: tuple, argnums: Any, where: str) -> tuple[list, list, Callable]:
    """``args`` with the inputs at ``argnums`` (pytrees) made differentiable."""
    nums = _argnums(args, argnums, where)
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


def _grads(outputs: list, inputs: list, grad_outputs: list | None, retain: bool,
           create: bool | None = None, rewrap: bool = True) -> list:
    """Gradients of the physical ``outputs`` for each prepared input (zeros when unused),
    batched again like the inputs (``rewrap``) or as the engine gave them."""
    flat = [i for group in inputs for i in group]
    if create is None:
        create = any(i.outer for i in flat) or _tracing.depth > 0
    outs = [(o, g) for k, o in enumerate(outputs) if o._requires_grad
            for g in [None if grad_outputs is None else grad_outputs[k]]]
    if outs and any(g.__class__ is BatchedTensor for _, g in outs):
        # Cotangents batched by an outer vmap: the engine itself (autograd.grad checks the
        # arrays' shapes, which a batched tensor does not show).
        gs = run_backward([o for o, _ in outs], [g for _, g in outs], retain or create, create,
                          [i.leaf for i in flat], accumulate=False)
    elif outs:
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
            g = zeros_like(i.leaf) if g is None else g
            part.append(_rewrap(g, i.levels) if rewrap else g)
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
            out, aux = _unpack_aux(_traced(func, args, kwargs), has_aux, where)
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


def _backward_loop(node: Any, grads: list) -> Any:
    """The engine's fallback for a node whose backward cannot take gradients batched by a
    vmap (it reads their arrays): the backward on each sample in turn, the results stacked
    (at each level, innermost first, for as long as it still fails)."""
    level = innermost_level(tuple(grads), {})
    if level is None:  # (not a batching problem: the backward's own error)
        return node.backward(*grads)

    def one(*gs: Any) -> Any:
        try:
            return node.backward(*gs)
        except Exception:
            if innermost_level(gs, {}) is None:
                raise
            return _backward_loop(node, list(gs))

    return loop(f"{node.name()} (backward)", one, level, tuple(grads), {})


vmap_state.backward_loop = _backward_loop


def _batched_grad(outputs: tuple, inputs: tuple, grad_outputs: tuple, retain: bool, create: bool) -> list:
    """``autograd.grad(..., is_grads_batched=True)``: one backward under a ``vmap`` over
    dim 0 of the grad_outputs (the gradients batched by it: see ``_vjp``)."""
    used: list = []

    def backward(*gs: Tensor) -> list:
        gs = [g if g.dtype is o.dtype else g.to(o.dtype) for g, o in zip(gs, outputs)]
        got = run_backward(list(outputs), gs, retain, create, list(inputs), accumulate=False)
        used[:] = [g is not None for g in got]
        return [zeros_like(t) if g is None else g for g, t in zip(got, inputs)]

    results = vmap(backward)(*grad_outputs)
    return [g if u else None for g, u in zip(results, used)]


vmap_state.batched_grad = _batched_grad


# ---- vjp ------------------------------------------------------------------------------------
def _split(c: Tensor, graph_levels: list) -> tuple[Tensor, list]:
    """A cotangent ``c`` for a graph built at vmap levels ``graph_levels`` (wrapper order),
    as the engine takes it: batched at the other running levels only (an outer ``vmap`` of
    the ``vjp_fn``), its logical shape the graph's physical one. Returns it and those
    levels, ascending."""
    wrappers, pc = _levels(_batch_all(c))
    physical = list(reversed(wrappers))  # the level of each leading dim of pc
    graph = list(reversed(graph_levels))
    if any(lvl not in physical for lvl in graph):
        raise RuntimeError("vjp_fn: called outside the vmap that its vjp was computed in")
    extra = sorted(lvl for lvl in physical if lvl not in graph)
    if not extra:
        return pc, []
    lead = [physical.index(lvl) for lvl in extra + graph]
    perm = lead + list(range(len(physical), pc.ndim))
    if perm != list(range(pc.ndim)):
        pc = pc.permute(perm)
    return _rewrap(pc, list(reversed(extra))), extra


def _join(g: Tensor, extra: list, graph_levels: list) -> Tensor:
    """A gradient the engine computed with cotangents batched at the ``extra`` levels (its
    logical shape a leaf's physical one, led by the dims of ``graph_levels``) as a tensor
    batched at every one of those levels."""
    have = set(_levels(g)[0])
    for lvl in extra:  # (a gradient that does not depend on the cotangents: broadcast)
        if lvl not in have:
            g = g + wrap(zeros(_size_of(lvl), dtype=g.dtype, device=g.device), lvl)
    wrappers, p = _levels(g)
    physical = list(reversed(wrappers)) + list(reversed(graph_levels))
    order = sorted(range(len(physical)), key=lambda k: physical[k])
    perm = order + list(range(len(physical), p.ndim))
    if perm != list(range(p.ndim)):
        p = p.permute(perm)
    return _rewrap(p, sorted(physical, reverse=True))


def _size_of(level: int) -> int:
    for lvl, size, _ in vmap_state.levels:
        if lvl == level:
            return size
    raise RuntimeError("vjp_fn: a batched cotangent escaped the vmap that made it")


def _vjp(func: Callable, args: tuple, kwargs: dict, argnums: Any, has_aux: bool, where: str) -> tuple:
    """``(output, vjp_fn, aux)``: the forward pass of ``func`` differentiable at ``argnums``;
    ``vjp_fn(cotangent leaves)`` gives the vector-Jacobian products (structured as argnums).

    ``vjp_fn`` may be called inside a ``vmap`` that was not running when the forward ran
    (``vmap(vjp_fn)(basis)``, which is ``jacrev``): its cotangents are then batched at
    levels the graph does not have, and the backward runs once, with batched gradients --
    each backward op through its batching rule (a backward op without one runs sample by
    sample, with vmap's warning).
    """
    with enable_grad():
        args, inputs, structure = _prepare(args, argnums, where)
        out, aux = _unpack_aux(_traced(func, args, kwargs), has_aux, where)
    out_leaves, _ = tree_flatten(out)
    for o in out_leaves:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{where}: Expected f to return Tensors, got {type(o)}")
    physical = [_physical_output(o, inputs) for o in out_leaves]
    flat = [i for group in inputs for i in group]

    def vjp_fn(ct_leaves: list) -> Any:
        if len(ct_leaves) != len(out_leaves):
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as pytree structure "
                               f"of outputs to the function: {len(ct_leaves)} cotangents for {len(out_leaves)} outputs")
        gouts, extra = [], []
        for o, c, (_, levels) in zip(out_leaves, ct_leaves, physical):
            if not isinstance(c, Tensor):
                raise RuntimeError(f"vjp_fn: Expected the cotangents to be Tensors, got {type(c).__name__}")
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"Mismatch in shape: cotangent has a shape of {tuple(c.shape)} and the "
                                   f"output has a shape of {tuple(o.shape)}")
            pc, more = _split(c, levels)
            gouts.append(pc)
            extra = sorted(set(extra) | set(more))
        create = any(i.outer for i in flat) or _tracing.depth > 0 or any(g.requires_grad for g in gouts)
        with enable_grad():
            grads = _grads([p for p, _ in physical], inputs, gouts, retain=True, create=create,
                           rewrap=not extra)
        if extra:  # (every cotangent is batched at the same levels: all those running)
            grads = [[_join(g, extra, i.levels) for g, i in zip(part, group)]
                     for part, group in zip(grads, inputs)]
        return structure(grads)

    counts = [len(group) for group in inputs]

    def rebuild(flat_grads: list) -> Any:  # (leaves, one per differentiated input leaf, as vjp_fn structures them)
        per_input, start = [], 0
        for n in counts:
            per_input.append(flat_grads[start:start + n])
            start += n
        return structure(per_input)

    vjp_fn.rebuild = rebuild
    return out, vjp_fn, aux


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(f(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` (shaped like f's output) gives the
    vector-Jacobian products, one per primal (``(output, vjp_fn, aux)`` with ``has_aux``).
    ``vmap(vjp_fn)`` runs one backward for the whole batch of cotangents."""
    where = "vjp(f, *primals)"
    out, inner, aux = _vjp(func, primals, {}, tuple(range(len(primals))), has_aux, where)

    def vjp_fn(*cotangents: Any) -> tuple:
        cts = cotangents[0] if len(cotangents) == 1 else cotangents
        return tuple(inner(tree_flatten(cts)[0]))

    if has_aux:
        return out, vjp_fn, aux
    return out, vjp_fn


# ---- jacrev ---------------------------------------------------------------------------------
def _basis(sizes: list, likes: list) -> list:
    """The rows of an identity matrix of ``sum(sizes)`` rows, split by columns into one
    block per tensor of ``likes`` (flattened; its dtype and device)."""
    total = sum(sizes)
    like = likes[0]
    eye_ = eye(total, dtype=like.dtype, device=like.device)
    blocks, start = [], 0
    for n, t in zip(sizes, likes):
        block = eye_[:, start:start + n]
        blocks.append(block if t.dtype is like.dtype else block.to(t.dtype))
        start += n
    return blocks


def jacrev(func: Callable, argnums: int | tuple = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable:
    """``f -> Jacobian of f at argnums`` by reverse mode, as PyTorch computes it: one
    forward pass, then ``vmap`` of its ``vjp_fn`` over the rows of an identity matrix (one
    row per output element; ``chunk_size`` rows at a time) -- a single backward pass whose
    gradients carry the whole basis. Shape ``out.shape + in.shape`` for each pair."""
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        where = "jacrev(f)(*args)"
        out, vjp_fn, aux = _vjp(func, args, kwargs, argnums, has_aux, where)
        out_leaves, out_build = tree_flatten(out)
        sizes = [o.numel() for o in out_leaves]
        total = sum(sizes)
        in_shapes = None

        def rows(*blocks: Tensor) -> list:
            cts = [b.reshape(tuple(o.shape)) for b, o in zip(blocks, out_leaves)]
            return tree_flatten(vjp_fn(cts))[0]

        if total:
            per_leaf = vmap(rows, chunk_size=chunk_size)(*_basis(sizes, out_leaves))
        else:  # no output elements: empty Jacobians, shaped like the inputs
            per_leaf = [zeros((0,) + tuple(g.shape), dtype=g.dtype, device=g.device)
                        for g in tree_flatten(vjp_fn([zeros_like(o) for o in out_leaves]))[0]]
        in_shapes = [tuple(g.shape[1:]) for g in per_leaf]
        jacs, start = [], 0
        for o, n in zip(out_leaves, sizes):
            parts = [g.narrow(0, start, n).reshape(tuple(o.shape) + shape) for g, shape in zip(per_leaf, in_shapes)]
            start += n
            jacs.append(vjp_fn.rebuild(parts))
        result = out_build(jacs)
        return (result, aux) if has_aux else result

    return wrapper


# ---- forward mode -----------------------------------------------------------------------------
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


def _jvp_by_double_vjp(func: Callable, primals: tuple, tangents: tuple, has_aux: bool, where: str) -> tuple:
    """``jvp`` inside another forward-mode transform (a dual level is already open, and
    forward AD has one level): reverse mode instead. ``vjp_fn`` is linear in its
    cotangent ``u``, so the vjp of ``u -> vjp_fn(u)`` applied to the tangents is ``J t``
    (the double-vjp trick). Every op of both backward passes runs under the open level, so
    the result carries the outer transform's tangent."""
    out, vjp_fn, aux = _vjp(func, primals, {}, tuple(range(len(primals))), has_aux, where)
    leaves, build = tree_flatten(out)
    for o in leaves:
        if not o.dtype.is_floating_point:
            raise RuntimeError(f"{where}: Expected f to return floating point Tensors, got {o.dtype}")
    us = tuple(zeros_like(o) for o in leaves)
    _, vjp_of_vjp, _ = _vjp(lambda *u: vjp_fn(list(u)), us, {}, tuple(range(len(us))), False, where)
    tangent_out = vjp_of_vjp(tree_flatten(tuple(tangents))[0])
    return out, build(list(tangent_out)), aux


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> tuple:
    """``(f(*primals), J v)`` with ``v`` = ``tangents``, by forward mode (one pass). Inside
    another forward-mode transform (``jacfwd(jacfwd(f))``) by the double-vjp trick."""
    where = "jvp(f, primals, tangents)"
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise RuntimeError(f"{where}: Expected primals and tangents to be tuples")
    if len(primals) != len(tangents):
        raise RuntimeError(f"{where}: Expected primals and tangents to have the same python structure: "
                           f"{len(primals)} primals and {len(tangents)} tangents")
    pairs = []
    for p, t in zip(primals, tangents):
        pl, build = tree_flatten(p)
        tl, _ = tree_flatten(t)
        if len(pl) != len(tl):
            raise RuntimeError(f"{where}: Expected primals and tangents to have the same python structure")
        for a, b in zip(pl, tl):
            if not isinstance(a, Tensor) or not isinstance(b, Tensor):
                raise RuntimeError(f"{where}: Expected primals and tangents to be Tensors")
            if tuple(a.shape) != tuple(b.shape):
                raise RuntimeError(f"{where}: Expected primals and tangents to have the same shape, "
                                   f"got {tuple(a.shape)} and {tuple(b.shape)}")
        pairs.append((pl, tl, build))
    if fw_state.level is not None:
        primal_out, tangent_out, aux = _jvp_by_double_vjp(func, tuple(primals), tuple(tangents), has_aux, where)
    else:
        with forward_ad.dual_level():
            args = [build([_dual(a, b) for a, b in zip(pl, tl)]) for pl, tl, build in pairs]
            out, aux = _unpack_aux(func(*args), has_aux, where)
            leaves, build = tree_flatten(out)
            primal_out = build([_primal(o) for o in leaves])
            tangent_out = build([_tangent(o) for o in leaves])
    if has_aux:
        return primal_out, tangent_out, aux
    return primal_out, tangent_out


def jacfwd(func: Callable, argnums: int | tuple = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """``f -> Jacobian of f at argnums`` by forward mode, as PyTorch computes it: ``vmap``
    of ``jvp`` over the rows of an identity matrix (one per input element), one forward
    pass whose tangents carry the whole basis. Shape ``out.shape + in.shape`` per pair."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        where = "jacfwd(f)(*args)"
        nums = _argnums(args, argnums, where)
        trees = [tree_flatten(args[n]) for n in nums]
        x_leaves = [x for leaves, _ in trees for x in leaves]
        for x in x_leaves:
            if not isinstance(x, Tensor) or not x.dtype.is_floating_point:
                raise RuntimeError(f"{where}: Expected the differentiated inputs to be floating point Tensors")
        sizes = [x.numel() for x in x_leaves]
        total = sum(sizes)
        kept: dict = {}  # aux leaves that are not tensors (they cannot leave the vmap)

        def call(*diff: Any) -> Any:
            full = list(args)
            for n, v in zip(nums, diff):
                full[n] = v
            return func(*full, **kwargs)

        def push(*flat_tangents: Any) -> tuple:
            tangents, start = [], 0
            for leaves, build in trees:
                tangents.append(build(list(flat_tangents[start:start + len(leaves)])))
                start += len(leaves)
            result = jvp(call, tuple(args[n] for n in nums), tuple(tangents), has_aux=has_aux)
            out, tangent_out = result[0], result[1]
            out_leaves, out_build = tree_flatten(out)
            kept["out"] = ([tuple(o.shape) for o in out_leaves], out_build)
            aux_leaves = []
            if has_aux:
                aux_leaves, kept["aux_build"] = tree_flatten(result[2])
                kept["aux_plain"] = {k: a for k, a in enumerate(aux_leaves) if not isinstance(a, Tensor)}
                aux_leaves = [a for a in aux_leaves if isinstance(a, Tensor)]
            return tree_flatten(tangent_out)[0], aux_leaves

        if total:
            blocks = [b.reshape((total,) + tuple(x.shape)) for b, x in zip(_basis(sizes, x_leaves), x_leaves)]
            columns, aux_tensors = vmap(push, randomness=randomness)(*blocks)
            aux_tensors = [a[0] for a in aux_tensors]  # (the same for every column)
        else:  # no input elements: the function once, for the shapes
            columns, aux_tensors = push(*[zeros_like(x) for x in x_leaves])
            columns = [zeros((0,) + tuple(c.shape), dtype=c.dtype, device=c.device) for c in columns]
        out_shapes, out_build = kept["out"]
        jacs = []
        for c, shape in zip(columns, out_shapes):
            per_input, start, k = [], 0, 0
            for leaves, build in trees:
                parts = []
                for x in leaves:
                    n = sizes[k]
                    part = c.narrow(0, start, n).movedim(0, -1) if len(shape) else c.narrow(0, start, n)
                    parts.append(part.reshape(shape + tuple(x.shape)))
                    start += n
                    k += 1
                per_input.append(build(parts))
            jacs.append(per_input[0] if isinstance(argnums, int) else tuple(per_input))
        jac = out_build(jacs)
        if not has_aux:
            return jac
        it = iter(aux_tensors)
        aux_all = [kept["aux_plain"][k] if k in kept["aux_plain"] else next(it)
                   for k in range(len(kept["aux_plain"]) + len(aux_tensors))]
        return jac, kept["aux_build"](aux_all)

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
