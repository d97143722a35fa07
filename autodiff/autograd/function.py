"""Custom autograd Functions: subclass ``Function`` with static ``forward(ctx, ...)`` and
``backward(ctx, *grad_outputs)``, then call ``MyFn.apply(...)``.

As in PyTorch, ``ctx`` *is* the graph node: an instance of ``<Name>Backward``, a node class
made once per Function subclass, so ``y.grad_fn`` prints ``<MyReLUBackward object ...>``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from autodiff import dtypes
from autodiff.autograd import grad_mode
from autodiff.autograd.forward_state import set_tangent, tangent_of
from autodiff.autograd.forward_state import state as _fw
from autodiff.autograd.node import Node, edges_of, output_alias
from autodiff.autograd.record import edge_of
from autodiff.ops.broadcasting import sum_to
from autodiff.ops.creation import zeros_like
from autodiff.tensor import Tensor, _make


class FunctionCtx:
    """What ``forward`` and ``backward`` may call on ``ctx``."""

    def save_for_backward(self, *tensors: Any) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument 0 is of type " + type(t).__name__)
        self.to_save = tensors

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Declare inputs that ``forward`` modified in place."""
        self.dirty_tensors = tensors

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Declare outputs that have no gradient (indices, masks...)."""
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward receives None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = value


class BackwardFunction(Node, FunctionCtx):
    """The node (and ctx) of one call of a custom Function."""

    fresh_grads = False
    _forward_cls: Any = None
    # Per-call state starts as these class-level defaults (instances have a __dict__):
    # a call sets only what it changes, saving an attribute write each per call.
    to_save: tuple = ()
    dirty_tensors: tuple = ()
    non_differentiable: tuple = ()
    materialize_grads = True
    needs_input_grad: tuple = ()
    output_meta: tuple = ()

    @property
    def saved_tensors(self) -> tuple:
        if self.saved is None:
            return tuple(self.to_save)
        return self.unpack()

    def name(self) -> str:
        return type(self).__name__

    def materialize(self, grads: list) -> list:
        if not self.materialize_grads:
            return grads
        out = []
        for g, (shape, array_dtype, be) in zip(grads, self.output_meta):
            out.append(_make(be.zeros(shape, be.name_of_dtype(array_dtype)), be) if g is None else g)
        return out

    def backward(self, *grad_outputs: Any) -> tuple:
        cls = self._forward_cls
        grads = cls.backward(self, *grad_outputs)
        if not isinstance(grads, tuple):
            grads = (grads,)
        edges = edges_of(self)
        n = len(edges)
        if len(grads) != n:
            if len(grads) > n and all(g is None for g in grads[n:]):
                grads = grads[:n]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients "
                    f"(expected {n}, got {len(grads)})"
                )
        checked = []
        for i, (g, edge, meta) in enumerate(zip(grads, edges, self.input_meta)):
            if g is None or edge is None:
                checked.append(None)
                continue
            if not isinstance(g, Tensor):
                raise TypeError(
                    f"function {self.name()} returned a gradient different than None at position "
                    f"{i + 1}, but the corresponding forward input was not a Variable"
                )
            shape, array_dtype, be = meta
            if g._data.shape == shape and g._be is be and g._data.dtype is array_dtype:
                checked.append(g)  # the common case: nothing to check further
                continue
            if g._data.shape != shape:
                try:
                    g = sum_to(g, shape)
                except Exception:
                    g = None
                if g is None or g._data.shape != shape:
                    raise RuntimeError(
                        f"Function {self.name()} returned an invalid gradient at index {i} - got "
                        f"{list(grads[i].shape)} but expected shape compatible with {list(shape)}"
                    )
            dtype = dtypes.BY_NAME[be.name_of_dtype(array_dtype)]
            if g._be is not be or g.dtype is not dtype:
                g = g.to(device=be.name, dtype=dtype)
            checked.append(g)
        return tuple(checked)


class _FunctionMeta(type):
    """Gives every Function subclass its own node class, ``<Name>Backward``."""

    def __init__(cls, name: str, bases: tuple, attrs: dict) -> None:
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (BackwardFunction,), {"_forward_cls": cls})


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable operations."""

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        ctx = cls._backward_cls()
        # (Loops and list displays rather than generator expressions and ``with no_grad()``:
        # this runs once per call, and those cost a frame or an object each.)
        needs = tuple([isinstance(a, Tensor) and a._requires_grad for a in args])
        ctx.needs_input_grad = needs
        state = grad_mode.state
        record = state.enabled and True in needs
        prev = state.enabled
        state.enabled = False
        try:
            outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            state.enabled = prev
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        if _fw.active and any(tangent_of(a) is not None for a in args):
            result = _record(ctx, args, outs, is_tuple) if record else outputs
            _forward(cls, ctx, args, result)
            return result
        if not record:
            ctx.saved = None
            return outputs
        return _record(ctx, args, outs, is_tuple)


def _forward(cls: type, ctx: BackwardFunction, args: tuple, result: Any) -> None:
    """Inside a forward AD level: the outputs' tangents from the Function's ``jvp``, given
    one tangent per input (zeros for a tensor without one, None for a non-tensor)."""
    tangents = [None if not isinstance(a, Tensor) else tangent_of(a) if tangent_of(a) is not None
                else zeros_like(a) for a in args]
    state = grad_mode.state
    prev = state.enabled
    state.enabled = False
    _fw.active = False
    try:
        out_tangents = cls.jvp(ctx, *tangents)
    finally:
        _fw.active = True
        state.enabled = prev
    outs = result if isinstance(result, tuple) else (result,)
    if not isinstance(out_tangents, tuple):
        out_tangents = (out_tangents,)
    for o, t in zip(outs, out_tangents):
        if isinstance(o, Tensor) and isinstance(t, Tensor) and o._data.dtype.kind == "f":
            set_tangent(o, t)


def _record(ctx: BackwardFunction, args: tuple, outs: tuple, is_tuple: bool) -> Any:
    """Wire the outputs of ``forward`` into the graph with ``ctx`` as their node."""
    edges, input_meta, input_ids = [], [], []
    for a in args:
        if isinstance(a, Tensor):
            edges.append(edge_of(a))
            input_meta.append((a._data.shape, a._data.dtype, a._be))
            input_ids.append(id(a))
        else:
            edges.append(None)
            input_meta.append(None)
    ctx.set_edges(tuple(edges))  # after edge_of, which may have just made an AccumulateGrad
    ctx.input_meta = input_meta
    dirty = [id(t) for t in ctx.dirty_tensors] if ctx.dirty_tensors else ()
    nondiff = [id(t) for t in ctx.non_differentiable] if ctx.non_differentiable else ()
    wrapped, output_meta, own = [], [], []  # own: ids of the outputs that get ctx as grad_fn
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            wrapped.append(o)
            output_meta.append(((), None, None))
            continue
        oid = id(o)
        if oid in dirty:
            if o._requires_grad and o.grad_fn is None:
                raise RuntimeError(
                    "a leaf Variable that requires grad has been used in an in-place operation."
                )
            o._version[0] += 1
            t = o
        elif oid in input_ids:
            t = _make(o._data, o._be)  # an input returned as is: a fresh alias
            t._version = o._version
        else:
            t = o
        if oid in nondiff or o._data.dtype.kind != "f":
            t._requires_grad = False
        else:
            t.grad_fn = ctx
            t._output_nr = i
            t._requires_grad = True
            own.append(id(t))
        wrapped.append(t)
        output_meta.append((o._data.shape, o._data.dtype, o._be))
    ctx.num_outputs = len(outs)
    ctx.output_meta = output_meta
    # Saved outputs are kept as aliases without grad_fn (see Node.saved_outputs).
    to_save = ctx.to_save
    if to_save:
        to_save = list(to_save)
        saved_outputs = []
        for j, t in enumerate(to_save):
            if t is not None and id(t) in own:
                saved_outputs.append(j)
                to_save[j] = output_alias(t)
        if saved_outputs:
            ctx.saved_outputs = tuple(saved_outputs)
        ctx.to_save = ()
    ctx.save(*to_save)
    return tuple(wrapped) if is_tuple else wrapped[0]


class DelayedError(Node):
    """Stands for a backward that must not be differentiated: raises when it is run."""

    def backward(self, *grads: Any) -> Any:
        raise RuntimeError(self.msg)


def once_differentiable(fn: Callable) -> Callable:
    """Mark a backward as not differentiable itself (PyTorch's decorator).

    It runs without recording; under ``create_graph`` its results still require grad, but
    differentiating through them raises instead of silently giving a wrong answer.
    """

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        with grad_mode.no_grad():
            outputs = fn(ctx, *args)
        if not grad_mode.state.enabled:
            return outputs
        if not any(isinstance(a, Tensor) and a._requires_grad for a in args):
            return outputs
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        node = DelayedError((None,) * len(outs))
        node.msg = "trying to differentiate twice a function that was marked with @once_differentiable"
        node.num_outputs = len(outs)
        wrapped = []
        for i, o in enumerate(outs):
            if isinstance(o, Tensor):
                o = _make(o._data, o._be, node)
                o._output_nr = i
            wrapped.append(o)
        return tuple(wrapped) if is_tuple else wrapped[0]

    return wrapper
