"""``vmap``: a function of one sample, run on a whole batch at once.

Inside ``vmap(f)(x)``, ``f`` sees a ``BatchedTensor``: a tensor whose *logical* shape is one
sample's, wrapping a *value* that holds the whole batch with the batch dimension first. Every
op (the ``checked`` wrapper of ops/_prep.py, and the operators below) hands batched
arguments to ``dispatch`` (batching.py, as ``_vmap_state.state.dispatch``), which runs the op's batching rule (batching.py): the op itself,
once, on the values with the batch dimension carried through (``x.sum(0)`` becomes
``value.sum(1)``), the result wrapped again. An op without a rule runs in a Python loop over
the samples, with a one-time warning naming it.

Nested vmaps nest the wrappers: each vmap is a *level*, and the value of a level's wrapper
may itself be a wrapper of an outer level; a rule calls the op on values, which dispatches
again for the outer level. Autograd sees only the innermost, physical tensors: gradients
(``func.grad`` inside vmap) are taken there, where samples are independent, so one backward
gives every sample's gradient.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from autodiff._vmap_state import state
from autodiff.tensor import Size, Tensor

__all__ = ["vmap", "BatchedTensor"]


class BatchedTensor(Tensor):
    """One sample's view of a batch inside ``vmap``: ``value`` holds the batch (its dim 0 is
    the batch dimension of vmap level ``level``); shape, size and ndim are one sample's."""

    __slots__ = ("value", "level")

    # ---- metadata: one sample's ------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self.value.shape[1:])

    def size(self, dim: int | None = None) -> Any:
        shape = self.shape
        if dim is None:
            return shape
        return shape[dim if dim >= 0 else dim + len(shape)]

    @property
    def ndim(self) -> int:
        return self.value.ndim - 1

    def dim(self) -> int:
        return self.value.ndim - 1

    def numel(self) -> int:
        return self.shape.numel()

    def __len__(self) -> int:
        if not self.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    @property
    def dtype(self) -> Any:
        return self.value.dtype

    @property
    def device(self) -> Any:
        return self.value.device

    @property
    def requires_grad(self) -> bool:
        return self.value.requires_grad

    def __repr__(self) -> str:
        return f"BatchedTensor(lvl={self.level}, bdim=0, value=\n{self.value!r}\n)"

    # ---- what has no meaning per sample ---------------------------------------------
    def item(self) -> Any:
        raise RuntimeError(
            "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over "
            "calling .item() on a Tensor, please try to rewrite what you're doing with other "
            "operations.")

    def tolist(self) -> Any:
        raise RuntimeError("vmap: It looks like you're calling .tolist() on a Tensor: not supported inside vmap.")

    def __bool__(self) -> bool:
        raise RuntimeError(
            "vmap: It looks like you're attempting to use a Tensor in some data-dependent control "
            "flow. We don't support that yet, please shout over at "
            "https://github.com/pytorch/functorch/issues/257 .")

    def detach(self) -> BatchedTensor:
        return wrap(self.value.detach(), self.level)

    def requires_grad_(self, requires_grad: bool = True) -> BatchedTensor:
        self.value.requires_grad_(requires_grad)
        self._requires_grad = requires_grad
        return self

    def backward(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("vmap: backward() inside vmap is not supported: use autodiff.func.grad")

    def __iter__(self) -> Any:
        return iter([self[i] for i in range(len(self))])

    # ---- the operators Tensor leaves unwrapped (ops/_prep.py UNCHECKED) -----------------
    def __getitem__(self, index: Any) -> Any:
        return _apply_operator("__getitem__", self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        _apply_operator("__setitem__", self, index, value)

    @property
    def T(self) -> Any:  # noqa: N802 - PyTorch's name
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Any:  # noqa: N802 - PyTorch's name
        return self.transpose(-2, -1)


def _apply_operator(name: str, *args: Any) -> Any:
    """Tensor's operator ``name`` (unwrapped by ``checked``): through ``dispatch`` while an
    operand is batched (the rule calls this again on the values, for outer levels)."""
    if any(a.__class__ is BatchedTensor for a in args):
        return state.dispatch(name, functools.partial(_apply_operator, name), args, {})
    return getattr(Tensor, name)(*args)


def _operator(name: str) -> Callable:
    def method(self: Any, *args: Any) -> Any:
        return _apply_operator(name, self, *args)

    method.__name__ = name
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__pow__", "__rpow__", "__neg__", "__matmul__", "__rmatmul__"):
    setattr(BatchedTensor, _name, _operator(_name))
del _name



class _NoData:
    """A BatchedTensor's ``_data``: reading it raises (an op reached the array of a batched
    tensor without its batching rule, which would compute on the whole batch silently)."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(
            "vmap: an operation read the data of a batched tensor without going through a batching "
            "rule (it is not one of autodiff's exported ops, or it is not supported inside vmap)")


_NO_DATA = _NoData()


def wrap(value: Tensor, level: int) -> BatchedTensor:
    """``value`` (batch dimension first) as a BatchedTensor of ``level``."""
    t = object.__new__(BatchedTensor)
    t.value = value
    t.level = level
    # Code that reads the array without going through an op (an internal function that is
    # not exported through ``checked``) must not see the whole batch as one sample: it
    # gets an error instead (see _NoData).
    t._data = _NO_DATA
    t._be = value._be
    t._requires_grad = value._requires_grad
    t._grad = None
    t.grad_fn = value.grad_fn
    t._output_nr = 0
    t._version = value._version
    t._base = None
    t._accumulator = None
    t._retains_grad = False
    return t


def batched_at(x: Any, level: int) -> Tensor | None:
    """The value of ``x`` if it is batched at ``level`` (batch dim first), else None."""
    if x.__class__ is BatchedTensor and x.level == level:
        return x.value
    return None


def batch_size(level: int) -> int:
    for lvl, size, _ in state.levels:
        if lvl == level:
            return size
    raise RuntimeError("vmap: a batched tensor escaped the vmap that made it")


def randomness(level: int) -> str:
    for lvl, _, mode in state.levels:
        if lvl == level:
            return mode
    return "error"


# ---- dispatch -------------------------------------------------------------------------------
def innermost_level(args: tuple, kwargs: dict) -> int | None:
    level = None
    for a in (*args, *kwargs.values()):
        if a.__class__ is BatchedTensor:
            if level is None or a.level > level:
                level = a.level
        elif a.__class__ in (list, tuple):
            for b in a:
                if b.__class__ is BatchedTensor and (level is None or b.level > level):
                    level = b.level
    return level


_WARNED: set = set()


def loop(name: str, fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """The fallback: ``fn`` on each sample in turn, the results stacked."""
    from autodiff.ops.shape import stack

    if name not in _WARNED:
        _WARNED.add(name)
        warnings.warn(f"vmap: there is no batching rule for {name}: it runs in a Python loop over "
                      "the batch (slow)", UserWarning, stacklevel=3)

    def pick(a: Any, i: int) -> Any:
        v = batched_at(a, level)
        if v is not None:
            return v[i]
        if a.__class__ in (list, tuple):
            return a.__class__(pick(b, i) for b in a)
        return a

    results = [fn(*[pick(a, i) for a in args], **{k: pick(a, i) for k, a in kwargs.items()})
               for i in range(batch_size(level))]
    if name.endswith("_") and not name.startswith("__"):
        return args[0]  # an in-place op: the samples were written through their views
    first = results[0]
    if isinstance(first, Tensor):
        return wrap(stack(results, 0), level)
    if isinstance(first, tuple):
        parts = [wrap(stack([r[k] for r in results], 0), level) if isinstance(first[k], Tensor)
                 else first[k] for k in range(len(first))]
        return first.__class__(*parts) if hasattr(first, "_fields") else tuple(parts)
    if first is None or all(r == first for r in results):
        return first
    raise RuntimeError(f"vmap: {name} returned a Python value that differs between samples")


# ---- pytrees (nested tuples, lists and dicts of tensors) ----------------------------------
def tree_flatten(tree: Any) -> tuple[list, Callable[[list], Any]]:
    """The leaves of ``tree`` and a function that rebuilds the same structure from new leaves."""
    if isinstance(tree, (tuple, list)):
        parts = [tree_flatten(t) for t in tree]
        counts = [len(leaves) for leaves, _ in parts]
        leaves = [leaf for ls, _ in parts for leaf in ls]

        def build(new: list) -> Any:
            out, start = [], 0
            for (_, b), n in zip(parts, counts):
                out.append(b(new[start:start + n]))
                start += n
            if hasattr(tree, "_fields"):
                return tree.__class__(*out)
            return tree.__class__(out)

        return leaves, build
    if isinstance(tree, dict):
        keys = list(tree)
        leaves, build_values = tree_flatten([tree[k] for k in keys])
        return leaves, lambda new: tree.__class__(zip(keys, build_values(new)))
    return [tree], lambda new: new[0]


def _broadcast_dims(dims: Any, tree: Any, what: str) -> list:
    """``in_dims``/``out_dims`` as one entry per leaf of ``tree``."""
    if dims is None or isinstance(dims, int):
        return [dims] * len(tree_flatten(tree)[0])
    if isinstance(dims, (tuple, list)) and isinstance(tree, (tuple, list)):
        if len(dims) != len(tree):
            raise ValueError(f"vmap: {what} is not compatible with the structure of the inputs: "
                             f"{len(dims)} entries for {len(tree)} values")
        return [d for sub, t in zip(dims, tree) for d in _broadcast_dims(sub, t, what)]
    if isinstance(dims, dict) and isinstance(tree, dict):
        return [d for k in tree for d in _broadcast_dims(dims[k], tree[k], what)]
    raise ValueError(f"vmap: {what} must be an int, None or a (nested) tuple matching the inputs, got {dims!r}")


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """``func`` mapped over a dimension of its inputs (``in_dims``: one per argument, an int,
    None for an argument that is not mapped, or nested like the argument), its outputs
    stacked along ``out_dims``. ``randomness``: ``"error"`` (random ops raise), ``"different"``
    (each sample draws its own) or ``"same"`` (one draw shared by the batch)."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")

    @functools.wraps(func)
    def mapped(*args: Any, **kwargs: Any) -> Any:
        if isinstance(in_dims, tuple) and len(in_dims) != len(args):
            raise ValueError(f"vmap(func, in_dims={in_dims})(<inputs>): in_dims is not compatible with "
                             f"the structure of `inputs`: expected {len(args)} entries, got {len(in_dims)}")
        dims = _broadcast_dims(in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args), list(args), "in_dims")
        leaves, build = tree_flatten(list(args))
        sizes = []
        for leaf, d in zip(leaves, dims):
            if d is None:
                continue
            if not isinstance(leaf, Tensor):
                raise ValueError(f"vmap: Got in_dim={d} for an input but the input is of type "
                                 f"{type(leaf)}. We cannot vmap over non-Tensor arguments")
            if not -leaf.ndim <= d < max(leaf.ndim, 1) or leaf.ndim == 0:
                raise ValueError(f"vmap: Got in_dim={d} for some input, but that input is a Tensor of "
                                 f"dimensionality {leaf.ndim} so expected in_dim to satisfy "
                                 f"-{leaf.ndim} <= in_dim < {leaf.ndim}.")
            sizes.append(leaf.shape[d])
        if not sizes:
            raise ValueError("vmap: at least one input must be mapped over (got in_dims=None for all inputs)")
        if any(s != sizes[0] for s in sizes):
            raise ValueError("vmap: Expected all tensors to have the same size in the mapped dimension, "
                             f"got sizes {sizes} for the mapped dimension")
        size = sizes[0]
        if chunk_size is not None and chunk_size < size:
            return _chunked(func, in_dims, out_dims, randomness, chunk_size, size, args, kwargs)
        level = (state.levels[-1][0] + 1) if state.levels else 1
        state.levels = state.levels + [(level, size, randomness)]
        state.active = True
        try:
            batched = [leaf if d is None else wrap(leaf if d % leaf.ndim == 0 else leaf.movedim(d, 0), level)
                       for leaf, d in zip(leaves, dims)]
            out = func(*build(batched), **kwargs)
            out_leaves, out_build = tree_flatten(out)
            odims = _broadcast_dims(out_dims, out, "out_dims")
            result = [_unbatch(o, d, level, size) for o, d in zip(out_leaves, odims)]
        finally:
            state.levels = state.levels[:-1]
            state.active = bool(state.levels)
        return out_build(result)

    return mapped


def _unbatch(out: Any, out_dim: int | None, level: int, size: int) -> Any:
    if not isinstance(out, Tensor):
        raise ValueError(f"vmap: `func` must only return Tensors, got type {type(out)}. Did you "
                         "mean to set out_dims= to None for output?" if out_dim is not None else out)
    v = batched_at(out, level)
    if out_dim is None:
        if v is not None:
            raise ValueError("vmap: can not return a BatchedTensor when out_dim is None")
        return out
    if v is None:  # the same for every sample: broadcast
        v = out.unsqueeze(0).expand((size,) + tuple(out.shape))
    return v.movedim(0, out_dim) if out_dim != 0 else v


def _chunked(func: Callable, in_dims: Any, out_dims: Any, randomness: str, chunk: int, size: int,
             args: tuple, kwargs: dict) -> Any:
    """``chunk_size``: the batch in chunks of ``chunk`` samples, results concatenated."""
    from autodiff.ops._prep import checked
    from autodiff.ops.shape import cat

    cat = checked("cat", cat)  # (the exported op: outputs may be batched at an outer level)
    dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
    pieces = []
    for start in range(0, size, chunk):
        part = [a if d is None else a.narrow(d, start, min(chunk, size - start)) for a, d in zip(args, dims)]
        pieces.append(vmap(func, in_dims, out_dims, randomness)(*part, **kwargs))
    if isinstance(pieces[0], Tensor):
        return cat(pieces, out_dims)
    leaves0, build = tree_flatten(pieces[0])
    odims = _broadcast_dims(out_dims, pieces[0], "out_dims")
    flat = [tree_flatten(p)[0] for p in pieces]
    return build([cat([f[k] for f in flat], odims[k]) for k in range(len(leaves0))])

