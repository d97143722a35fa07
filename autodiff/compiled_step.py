"""``autodiff.compile(fn)``: record a step's backend calls once, replay them as a flat program.

The first call of a compiled function runs it eagerly while every backend instance is
instrumented (as the profiler does), logging each outermost array call: the function, its
arguments (an earlier result, an array the step found in its state, or a constant) and its
result. At the end the log becomes straight-line Python source (``v7 = f3(v2, c1)``), and
the step's state -- parameters, buffers, ``.grad``, optimizer state, the tensors found in
``fn``'s closure -- is described as *locations* whose arrays are the program's inputs and
outputs. Later calls whose guards hold run that program on the live arrays: no Tensor, no
Node, no dispatch, the same backend calls in the same order (so the same bits on the CPU).

An optimizer's ``step()`` inside ``fn`` is a *region* whose calls join the program. Its
Python arithmetic on step counters (Adam's bias corrections) goes through
``autodiff.optim.optimizer.host``, recorded as a *host op*: rerun at every replay on the live
counters, its floats flow into the calls that took them, and a bool it returns is a guard.
An optimizer that reads a tensor's value in Python otherwise (``.item()``) stays eager at
replay -- the program writes the gradients into ``.grad``, calls ``step()`` and reads the
state back. Temporaries live in one block of memory per compiled function and backend
(``_reusable_buffers``, ``_Arena``). Draws from a device's own random generator are calls of
the program: a replay draws from the live generator, as the eager step would.

What cannot be captured (a tensor's value read in Python, a draw from a user's generator,
hooks, shapes that depend on values, Python state the step changes) makes that call run
eagerly with a one-time warning naming the cause (PyTorch's graph break). See
docs/compile.md.
"""

from __future__ import annotations

import builtins
import dis
import functools
import operator
import threading
import types
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import backends
from autodiff.autograd import engine
from autodiff.autograd.grad_mode import state as _grad_state
from autodiff.ops import _prep, arithmetic
from autodiff.optim import optimizer as optimizer_module
from autodiff.tensor import Tensor, _make

__all__ = ["compile", "CompiledFunction", "CaptureBreak"]

RECOMPILE_LIMIT = 8  # programs kept per compiled function (PyTorch's recompile_limit)
REUSE_BUFFERS = True  # compiled programs write ufunc results into buffers of their own
_ALIGN = 64  # bytes: where each buffer starts in a program's block (a cache line, SIMD-aligned)
# Arrays smaller than this get no buffer: NumPy makes a small array faster than a call parses
# ``out=`` (a 4-element product: 440 ns new, 460 ns into a buffer; from ~4 KiB on, ``out=`` wins).
_MIN_BUFFER_BYTES = 2048

# Backend methods that answer questions about arrays rather than make them: not logged
# (their answers depend only on shapes, dtypes and memory layout, which the guards fix).
_LOOKUPS = frozenset({"writes_out", "out_writer", "name", "name_of_dtype", "dtype_name", "dtype_of", "is_view", "overlaps", "device_type",
                      "index", "kind", "broadcast_shapes", "strides", "is_contiguous", "type"})
# Calls that hand a tensor's values to Python, make or seed random generators, or make shapes that
# depend on values: a program cannot replay them.
_BREAKS = {
    "item": "a tensor's value read in Python (.item(), bool(), float(), int())",
    "tolist": "a tensor's values read in Python (.tolist())",
    "to_host": "a tensor's values copied to the host (.numpy(), printing, .cpu())",
    "data_ptr": "a tensor's address read in Python (.data_ptr())",
    "new_rng": "a random generator made inside the step",
    "seed": "a random generator seeded inside the step",
    "rng_state": "a random generator's state read inside the step",
    "rng_from_state": "a random generator's state set inside the step",
    "nonzero": "a shape that depends on values (nonzero, masked indexing)",
    "unique": "a shape that depends on values (unique)",
    "bincount": "a shape that depends on values (bincount)",
}
# Draws from a random generator, by the position of their ``rng`` argument. A draw from the
# device's own generator (``rng`` None) is a call of the program like any other: the backend
# method reads the live generator at each replay, so a replay draws the numbers the eager step
# would, and leaves the generator where the eager step would (never moved, never folded). A
# draw from a generator of the user's (``generator=g``) breaks capture: that generator object
# can be replaced (``g.set_state``) without the program seeing it.
_RANDOM = {"random_normal": 2, "random_uniform": 2, "random_integers": 4, "random_poisson": 2,
           "random_permutation": 1}
# Checks of values that ops make before going on (an index in range, no zero divisor): the
# program repeats them and runs the call eagerly when one answers otherwise.
_CHECKS = frozenset({"any", "all"})
# Calls that write into their first argument.
_MUTATING = frozenset({"setitem", "copyto", "fill", "iadd", "isub", "imul", "idiv", "index_add", "scatter_reduce"})
# Calls whose results never share memory with their array arguments: an array only these
# read can live in a buffer the program reuses at every replay (``out=``).
_NO_VIEW_CONSUMERS = frozenset({
    "add", "sub", "mul", "div", "matmul", "neg", "pow", "eq", "ne", "lt", "le", "gt", "ge", "iadd", "isub",
    "imul", "idiv", "copy", "sum", "mean", "clip", "maximum", "minimum", "where", "exp", "log", "sqrt", "abs",
    "sign", "any", "all", "setitem", "fill", "copyto", "astype", "amax", "amin", "tanh", "sigmoid", "sin",
    "cos", "expm1", "log1p", "index_add"})
# Runners of a program's replays by ``compile`` mode, ``run(compiled, program, arrays) -> outputs``
# (autodiff/compiled_cuda_graph.py registers CUDA graphs for "reduce-overhead" and "max-autotune").
REPLAY_RUNNERS: dict[str, Callable] = {}
# Calls whose result is a view of their first argument and nothing else: an array read only
# through such views (by calls in _NO_VIEW_CONSUMERS) can still live in a reused buffer.
_VIEWS = frozenset({"transpose", "reshape", "expand_dims", "squeeze", "swapaxes", "moveaxis", "broadcast_to"})
# Pure functions of their arguments: on constants, folded into constants (_fold_constants).
_FOLDABLE = frozenset({"ones", "zeros", "full", "broadcast_to", "reshape", "transpose", "astype"})
# Pure functions of constants whose results are never written to: folded into constants.
_CONSTANT_FOLDED = frozenset({"scalar_operand"})
# Calls that _Recorder.record looks at by name (the others are logged by the wrappers of _logging directly).
_LOGGED_BY_RECORD = frozenset(_BREAKS) | _CHECKS | _MUTATING | _CONSTANT_FOLDED | frozenset(_RANDOM) | {"getitem"}


class CaptureBreak(UserWarning):
    """Warned (once per cause and function) when a call of a compiled function runs eagerly."""


# ---- locations: where the step's state lives ------------------------------------------------
class _Loc:
    """A place holding a tensor (or None) that the step may read or replace."""

    guard_identity = False

    def read(self) -> Any:
        raise NotImplementedError

    def write(self, value: Any) -> None:
        raise NotImplementedError


class _DictLoc(_Loc):
    """A module's parameter or buffer (``module._parameters[name]``): identity is guarded."""

    guard_identity = True

    def __init__(self, table: dict, key: str, label: str) -> None:
        self.table, self.key, self.label = table, key, label
        self.ident = ("dict", id(table), key)

    def read(self) -> Any:
        return self.table.get(self.key)

    def write(self, value: Any) -> None:
        self.table[self.key] = value


class _GradLoc(_Loc):
    def __init__(self, tensor: Tensor, label: str) -> None:
        self.tensor, self.label = tensor, label
        self.ident = ("grad", id(tensor))

    def read(self) -> Any:
        return self.tensor._grad

    def write(self, value: Any) -> None:
        self.tensor._grad = value


class _StateLoc(_Loc):
    def __init__(self, opt: Any, p: Tensor, key: str, label: str) -> None:
        self.opt, self.p, self.key, self.label = opt, p, key, label
        self.ident = ("state", id(opt), id(p), key)

    def read(self) -> Any:
        state = self.opt.state.get(self.p)
        return None if state is None else state.get(self.key)

    def write(self, value: Any) -> None:
        if value is None:
            self.opt.state.get(self.p, {}).pop(self.key, None)
        else:
            self.opt.state[self.p][self.key] = value


class _FixedLoc(_Loc):
    """A tensor found in ``fn``'s closure or globals: its object is fixed, its data may change."""

    guard_identity = True

    def __init__(self, tensor: Tensor, label: str) -> None:
        self.tensor, self.label = tensor, label
        self.ident = ("fixed", id(tensor))

    def read(self) -> Any:
        return self.tensor

    def write(self, value: Any) -> None:
        if value is not self.tensor:
            raise _UnsupportedError("a tensor from the closure was replaced")


class _CheckFailedError(Exception):
    """Raised by a program when a value check answers otherwise than at the recording."""


class _HostChangedError(Exception):
    """Raised by a program when an optimizer's host guard (RAdam's rectification, ASGD's
    start of averaging) answers otherwise than at the recording: the step records again."""


class _UnsupportedError(Exception):
    """Raised while building a program from a recording it cannot express."""


# ---- what the step can reach ------------------------------------------------------------------
class _World:
    """The modules, optimizers and tensors reachable from ``fn`` (closure, globals, ``self``)."""

    def __init__(self, roots: list) -> None:
        from autodiff.nn.module import Module
        from autodiff.optim.optimizer import Optimizer

        self.modules: list = []
        self.optimizers: list = []
        self.tensors: list = []
        # The dicts (objects' and modules' attributes) the walk looked into: the signature
        # guards that each still holds the same objects. A replay reads the tensors
        # found there, and the step's Python reads of the numbers there are constants of its
        # program: ``settings.scale = ...`` or ``bn.momentum = 0.01`` between calls records again.
        self.containers: list = []
        self.lists: list = []  # (list, its length then): its items then are guarded (a list may grow)
        seen: set = set()
        todo: list = [(r, 2) for r in roots]
        while todo:
            obj, depth = todo.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, Module):
                for m in obj.modules():
                    if id(m) not in seen or m is obj:
                        seen.add(id(m))
                        self.modules.append(m)
                        attrs = vars(m)  # (a tensor kept as a plain attribute, not a buffer: reached too)
                        self.containers.append(attrs)
                        todo.extend((t, 0) for t in attrs.values() if isinstance(t, Tensor))
            elif isinstance(obj, Optimizer):
                self.optimizers.append(obj)
            elif isinstance(obj, Tensor):
                self.tensors.append(obj)
            elif isinstance(obj, tuple) and depth:
                todo.extend((o, depth - 1) for o in obj)
            elif isinstance(obj, list) and depth:
                self.lists.append((obj, len(obj)))
                todo.extend((o, depth - 1) for o in obj)
            elif isinstance(obj, dict) and depth:
                self.containers.append(obj)
                todo.extend((o, depth - 1) for o in obj.values())
            elif (depth and hasattr(obj, "__dict__") and not isinstance(obj, (type, types.ModuleType))
                  and not callable(obj)):
                attrs = vars(obj)
                self.containers.append(attrs)
                todo.extend((o, depth - 1) for o in attrs.values())
        self.params: list = []  # every parameter (modules' and optimizers'), once
        pids: set = set()
        for m in self.modules:
            for p in m._parameters.values():
                if p is not None and id(p) not in pids:
                    pids.add(id(p))
                    self.params.append(p)
        for opt in self.optimizers:
            for group in opt.param_groups:
                for p in group["params"]:
                    if id(p) not in pids:
                        pids.add(id(p))
                        self.params.append(p)
        self.tensors = [t for t in self.tensors if id(t) not in pids]
        self.watched: list = self.params + self.tensors  # the tensors whose metadata is guarded
        self.watched_ids = tuple(map(id, self.watched))

    def locations(self) -> list:
        locs: list = []
        for mi, m in enumerate(self.modules):
            for name in m._parameters:
                locs.append(_DictLoc(m._parameters, name, f"module {mi} parameter {name}"))
            for name in m._buffers:
                locs.append(_DictLoc(m._buffers, name, f"module {mi} buffer {name}"))
        in_modules = {id(p) for m in self.modules for p in m._parameters.values()}
        for i, p in enumerate(self.params):
            if id(p) not in in_modules:  # an optimizer's parameter of no module: its array may be replaced (.data)
                locs.append(_FixedLoc(p, f"parameter {i}"))
            locs.append(_GradLoc(p, f"parameter {i} .grad"))
        for oi, opt in enumerate(self.optimizers):
            for group in opt.param_groups:
                for p in group["params"]:
                    for key, value in opt.state.get(p, {}).items():
                        if isinstance(value, Tensor):
                            locs.append(_StateLoc(opt, p, key, f"optimizer {oi} state {key}"))
        for i, t in enumerate(self.tensors):
            locs.append(_FixedLoc(t, f"closure tensor {i}"))
            if t._requires_grad and t.grad_fn is None:
                locs.append(_GradLoc(t, f"closure tensor {i} .grad"))
        return locs

    def signature(self) -> tuple:
        """What a program's guards compare: modules' mode and parameter identities, every
        reachable tensor's metadata (and its ``.grad``'s) and identity, the optimizers'
        hyper-parameters and state layout, what the containers the walk looked into hold.
        ``_guard_source`` writes the same tuple as straight-line code."""
        parts: list = []
        add = parts.append
        for m in self.modules:
            add((m.training, tuple(map(id, m._parameters.values())), tuple(map(id, m._buffers.values())),
                 tuple(map(id, m._modules.values())), _has_hooks(m)))
        for t in self.watched:
            d = t._data
            g = t._grad
            if g is None:
                add((d.shape, _strides(d, t._be), d.dtype, t._be, t._requires_grad, t.grad_fn is None))
            else:
                e = g._data
                add((d.shape, _strides(d, t._be), d.dtype, t._be, t._requires_grad, t.grad_fn is None,
                     e.shape, _strides(e, g._be), e.dtype, g._be, g._requires_grad, g.grad_fn is None))
        add(self.watched_ids)
        for opt in self.optimizers:
            add(_optimizer_signature(opt))
        parts.extend(_python_state(self, whole_lists=False))
        return tuple(parts)


def _optimizer_signature(opt: Any) -> tuple:
    """An optimizer's part of a guard: each group's hyper-parameters and parameters, and
    each parameter's state layout (keys, the tensors' metadata, the other values)."""
    parts: list = []
    add = parts.append
    state_of = opt.state.get
    for group in opt.param_groups:
        hyper = tuple([item for item in group.items() if item[0] != "params"])
        try:
            hash(hyper)  # (the usual case: numbers, tuples of numbers; else each value on its own)
        except TypeError:
            hyper = tuple([(k, _hashable(v)) for k, v in hyper])
        add(hyper)
        params = group["params"]
        add(tuple(map(id, params)))
        for p in params:
            state = state_of(p)
            if state:
                add(tuple([(k, _meta(v) if isinstance(v, Tensor) else _hashable(v)) for k, v in state.items()]))
            else:
                add(None)
    return tuple(parts)


def _python_state(world: _World, whole_lists: bool = True) -> tuple:
    """What the step's Python code could change where the world looked: each dict's values and
    each list's items, by identity (compared before and after the recording call; without
    ``whole_lists``, the items the lists held when the world was built: the guards' part)."""
    return (tuple([tuple(map(id, c.values())) for c in world.containers]),
            tuple([tuple(map(id, c if whole_lists else c[:n])) for c, n in world.lists]))


def _has_hooks(m: Any) -> bool:
    d = m.__dict__
    return bool(d.get("_forward_pre_hooks") or d.get("_forward_hooks") or d.get("_backward_hooks")
                or d.get("_backward_pre_hooks"))


def _strides(a: Any, be: Any) -> tuple:
    """An array's memory layout, part of every guard on a tensor: a program recorded on one
    layout (a contiguous input) must not replay on another (its transpose, of the same shape),
    where eager code takes other paths (``view`` refuses, reductions add in another order)."""
    return getattr(a, "strides", None) or be.strides(a)


def _meta(t: Tensor) -> tuple:
    return (t._data.shape, _strides(t._data, t._be), t._data.dtype, t._be, t._requires_grad, t.grad_fn is None)


def _hashable(v: Any) -> Any:
    try:
        hash(v)
        return v
    except TypeError:
        return ("unhashable", id(v))


def _unwrap(fn: Callable) -> tuple[list, Any]:
    """``fn``'s bound objects and partial arguments, and the plain function under them."""
    roots: list = []
    target = fn
    while True:
        self_obj = getattr(target, "__self__", None)
        if self_obj is not None:
            roots.append(self_obj)
        if isinstance(target, functools.partial):
            roots.extend(target.args)
            roots.extend(target.keywords.values())
            target = target.func
            continue
        return roots, getattr(target, "__func__", target)


def _global_names(fn: Callable) -> list:
    """The global names ``fn`` (and the functions and comprehensions nested in it) read."""
    code = getattr(_unwrap(fn)[1], "__code__", None)
    names: set = set()
    todo = [code] if code is not None else []
    while todo:
        c = todo.pop()
        names.update(c.co_names)
        todo.extend(k for k in c.co_consts if hasattr(k, "co_names"))
    return sorted(names)


def _roots(fn: Callable, names: list, depth: int = 3) -> list:
    """What ``fn`` can reach directly: bound objects, closure cells, the globals it names,
    and (``depth`` calls down) what the user's own functions among those reach: a step that
    calls ``train_one(x)``, which names the model and the optimizer, reaches them too."""
    return _roots_and_plan(fn, names, depth)[0]


_MISSING = object()  # a global name not bound (distinct from one bound to None)


def _roots_and_plan(fn: Callable, names: list, depth: int = 3) -> tuple[list, tuple]:
    """``_roots`` and the plan that finds them again (``_plan_holds``): where each root came
    from (a closure cell, a global name, a bound object), the object found there, and the
    same for the user's functions followed."""
    static = fn.__class__ is types.FunctionType or (
        fn.__class__ is types.MethodType and fn.__func__.__class__ is types.FunctionType)
    roots, target = _unwrap(fn)
    # A plain function or a bound method cannot change what it unwraps to; a partial or a
    # callable object is unwrapped again at each check.
    prefix = None if static else list(roots)
    if getattr(target, "__code__", None) is None:  # a callable object (a Module): itself
        roots.append(target)
        return roots, (fn, prefix, target, (), (), None, (), frozenset(), ())
    cells, contents, empty = [], [], []
    for cell in target.__closure__ or ():
        try:
            obj = cell.cell_contents
        except ValueError:  # an empty cell
            empty.append(cell)
            continue
        cells.append(cell)
        contents.append(obj)
        roots.append(obj)
    g = target.__globals__
    present = [n for n in names if n in g]
    values = [g[n] for n in present]
    roots.extend(values)
    nested = []  # (function, its code, its plan): its names are its code's
    if depth:
        for obj in list(roots):
            if isinstance(obj, types.FunctionType) and obj is not target and _users_own(obj):
                more, plan = _roots_and_plan(obj, _global_names(obj), depth - 1)
                roots.extend(more)
                nested.append((obj, obj.__code__, plan))
    # A name not bound now matters only where the code reads it as a global: one read only as
    # an attribute (``loss.sum()``) that a module later binds cannot change what the step does.
    loaded = _global_loads(target.__code__)
    plan = (fn, prefix, target, tuple(zip(cells, contents)), tuple(empty), g, tuple(zip(present, values)),
            frozenset(n for n in names if n not in g and n in loaded), tuple(nested))
    return roots, plan


_GLOBAL_OPS = frozenset({"LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL", "LOAD_NAME", "STORE_NAME", "DELETE_NAME"})


@functools.lru_cache(maxsize=256)
def _global_loads(code: types.CodeType) -> frozenset:
    """The names ``code`` (and the code nested in it) reads or binds as globals, not as
    attributes (``co_names`` holds both)."""
    names: set = set()
    todo = [code]
    while todo:
        c = todo.pop()
        names.update(i.argval for i in dis.get_instructions(c) if i.opname in _GLOBAL_OPS)
        todo.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return frozenset(names)


def _plan_holds(plan: tuple) -> bool:
    """Whether ``_roots`` would find the same objects as when ``plan`` was made: each
    closure cell, global name and bound object still holds the object it held (by
    identity; the plan keeps them alive), no empty cell or unbound name got a value, and
    the same holds for the user's functions followed."""
    fn, prefix, target, cells, empty, g, present, missing, nested = plan
    if prefix is not None:
        now, now_target = _unwrap(fn)
        if now_target is not target or len(now) != len(prefix) or not all(map(operator.is_, now, prefix)):
            return False
    try:
        for cell, obj in cells:
            if cell.cell_contents is not obj:
                return False
    except ValueError:  # a cell emptied (``del`` of a closure variable)
        return False
    if empty:
        for cell in empty:
            try:
                _filled = cell.cell_contents
            except ValueError:
                continue
            return False
    if present:
        for name, obj in present:
            if g.get(name, _MISSING) is not obj:
                return False
    if missing and not g.keys().isdisjoint(missing):
        return False
    if nested:
        for inner, code, inner_plan in nested:
            if inner.__code__ is not code or not _plan_holds(inner_plan):
                return False
    return True


# Calls checked by ``_plan_holds`` and ``_World.signature`` (loops over the roots and the
# tensors) before ``_guard_source`` writes the same checks as one straight-line function: a
# world that changes at every call (a global the step rebinds each time) never pays for it.
GUARD_LOOP_CALLS = 2


def _guard_source(plan: tuple, world: _World) -> tuple[str, dict]:
    """One function doing what ``_plan_holds(plan)`` and then ``world.signature()`` do: it
    returns the signature, or None when a root is not the object it was. The loops are
    unrolled (``if r3.cell_contents is not r4: return None``, one tuple per tensor), which
    halves the Python cost of a replayed call's guards. -> (source, namespace)."""
    ns: dict = {"_MISSING": _MISSING, "_has_hooks": _has_hooks, "_plan_holds": _plan_holds,
                "_optimizer_signature": _optimizer_signature}
    lines: list = []

    def ref(obj: Any) -> str:
        name = f"r{len(ns)}"
        ns[name] = obj
        return name

    def roots(plan: tuple) -> None:
        fn, prefix, target, cells, empty, g, present, missing, nested = plan
        if prefix is not None or empty:  # (a partial, a callable object, an unbound cell: rare)
            lines.append(f"if not _plan_holds({ref(plan)}): return None")
            return
        if cells:
            lines.append("try:")
            lines.extend(f"    if {ref(cell)}.cell_contents is not {ref(obj)}: return None" for cell, obj in cells)
            lines.append("except ValueError: return None")  # (a cell emptied)
        if present or missing:
            gl = ref(g)
            lines.extend(f"if {gl}.get({name!r}, _MISSING) is not {ref(obj)}: return None" for name, obj in present)
            if missing:
                lines.append(f"if not {gl}.keys().isdisjoint({ref(missing)}): return None")
        for inner, code, inner_plan in nested:
            lines.append(f"if {ref(inner)}.__code__ is not {ref(code)}: return None")
            roots(inner_plan)

    roots(plan)
    parts = []
    for m in world.modules:
        m = ref(m)
        parts.append(f"({m}.training, tuple(map(id, {m}._parameters.values())), tuple(map(id, {m}._buffers.values())), "
                     f"tuple(map(id, {m}._modules.values())), _has_hooks({m}))")
    for i, t in enumerate(world.watched):
        t = ref(t)
        meta = (f"d.shape, getattr(d, 'strides', None) or {t}._be.strides(d), d.dtype, {t}._be, "
                f"{t}._requires_grad, {t}.grad_fn is None")
        lines.append(f"d = {t}._data; g = {t}._grad; t{i} = ({meta}) if g is None else "
                     f"({meta}, (e := g._data).shape, getattr(e, 'strides', None) or g._be.strides(e), e.dtype, g._be, "
                     f"g._requires_grad, g.grad_fn is None)")
        parts.append(f"t{i}")
    parts.append(ref(world.watched_ids))
    parts += [f"_optimizer_signature({ref(opt)})" for opt in world.optimizers]
    parts.append(f"({''.join(f'tuple(map(id, {ref(c)}.values())), ' for c in world.containers)})")
    parts.append(f"({''.join(f'tuple(map(id, {ref(c)}[:{n}])), ' for c, n in world.lists)})")
    lines.append(f"return ({''.join(part + ', ' for part in parts)})")
    return "def _guard():\n" + "".join(f"    {line}\n" for line in lines), ns


def _compile_guard(plan: tuple, world: _World) -> Callable:
    source, ns = _guard_source(plan, world)
    exec(builtins.compile(source, "<autodiff.compile guard>", "exec"), ns)  # noqa: S102
    return ns["_guard"]


def _users_own(fn: types.FunctionType) -> bool:
    """A function of the user's code (not autodiff's, NumPy's or the standard library's)."""
    module = fn.__module__ or ""
    return not module.startswith(("autodiff", "backends", "numpy", "functools", "typing", "builtins"))


# ---- recording -----------------------------------------------------------------------------
class _RecordingState(threading.local):
    active = False  # a compiled function's call is being recorded in this thread


_recording = _RecordingState()


class _Recorder:
    """The log of one eager call: calls, slots (array id -> index) and capture breaks."""

    def __init__(self) -> None:
        self.slot_of: dict = {}  # id(array) -> slot
        self.keep: list = []  # every object given a slot (so ids stay unique)
        # The calls, each as the program's op: ("call", fn, args, kwargs, result spec, name, backend).
        self.calls: list = []
        self.consts: list = []
        self.const_of: dict = {}
        # id -> the encoding of an object met already: ("v", slot) for one with a slot, ("c",
        # k) for a constant other than a tuple or list (whose parts may become slots later).
        # Every such object stays alive (``keep``, ``consts``), so an id is never reused.
        self.enc_of: dict = {}
        self.operands: dict = {}  # (id(float), dtype, backend) -> its operand (see operand)
        self.operand_floats: list = []  # the floats keyed by id in ``operands`` (kept alive)
        self.has_early = False  # a host op runs before the first call (see host)
        self.breaks: list = []
        self.depth = 0
        self.regions: list = []  # [opt, start call index, end index, entry snapshot, exit snapshot, broke]
        self.region = None
        self.n_slots = 0
        self.mutated = False  # a call wrote into an array (a failed check after it cannot go eager)
        self.n_inputs = 0  # slots below this are the program's arguments
        self.touched: set = set()  # slots some backend call has taken (read or written)
        self.scanned = 0  # calls already added to ``touched``
        self.at_start: set = set()  # host values computable before the program's first call
        self.array_types: frozenset = frozenset()  # the backends' array classes (set by _Instrumented)
        self.operand_ids: set = set()  # arrays made from Python numbers (scalar_operand) while recording

    def new_slot(self, obj: Any) -> int:
        k = self.n_slots
        self.n_slots += 1
        self.slot_of[id(obj)] = k
        self.enc_of[id(obj)] = ("v", k)
        self.keep.append(obj)
        return k

    def const(self, value: Any) -> tuple:
        k = self.const_of.get(id(value))
        if k is None or self.consts[k] is not value:
            k = self.const_of[id(value)] = len(self.consts)
            self.consts.append(value)
        enc = ("c", k)
        if value.__class__ not in (tuple, list):
            self.enc_of.setdefault(id(value), enc)  # (a slot's encoding stays: it comes first)
        return enc

    def operand(self, be: Any, data: Any, value: float) -> Any:
        """``_prep.float_operand`` while recording. Its cache of operands by value
        (``_prep.OPERANDS``) is not filled while recording: a host value equal to a literal
        cached then would come back as the literal's array, and the program would not see
        the call that made it from the host value (host also takes out the entries cached
        before). Operands are cached by the float *object* instead: a literal of the code
        (one object, met at every iteration of a loop) gets one array, one constant of the
        program; a host value (a fresh object with a slot, see host) is never cached."""
        if not value:
            return value  # (as float_operand: 0.0 and -0.0 are not cached)
        key = (id(value), data.dtype, be)
        operand = self.operands.get(key)
        if operand is None:
            operand = be.scalar_operand(value, be.dtype_name(data))
            if id(value) not in self.slot_of:
                self.operands[key] = operand
                self.operand_floats.append(value)  # (so that its id stays its own)
        return operand

    def encode(self, value: Any) -> tuple:
        enc = self.enc_of.get(id(value))
        if enc is not None:
            return enc
        if value.__class__ in (tuple, list):
            parts = [self.encode(v) for v in value]
            if any(p[0] != "c" for p in parts):
                return ("t" if value.__class__ is tuple else "l", parts)
        if value.__class__ in self.array_types:
            self.check_array_constant(value)
        return self.const(value)

    def check_array_constant(self, a: Any) -> None:
        """An array the step did not make and did not find where it looks (a tensor three
        attributes down) would be a constant of the program: a replay would not see that
        tensor rebound. Only the cached operands of Python numbers may be constants."""
        if id(a) in self.operand_ids or any(v is a for v in _prep.OPERANDS.values()):
            return
        self.note_break("the step reads a tensor that it does not name (see 'What the step can reach' "
                        "in docs/compile.md)")

    def note_break(self, cause: str) -> None:
        if self.region is not None:
            self.region[5] = True
        else:
            self.breaks.append(cause)

    def record(self, be: Any, name: str, fn: Callable, args: tuple, kwargs: dict, result: Any) -> None:
        if name in _BREAKS:
            self.note_break(_BREAKS[name])
            return
        if name == "getitem" and _has_mask(args[1:]):
            self.note_break(_BREAKS["nonzero"])
            return
        if name in _RANDOM and (args[_RANDOM[name]] if len(args) > _RANDOM[name] else kwargs.get("rng")) is not None:
            self.note_break("a random op with a generator of its own (generator=...: its state is not "
                            "threaded through the program)")
            return
        enc_args = [self.encode(a) for a in args]
        enc_kwargs = {k: self.encode(v) for k, v in kwargs.items()}
        if name in _CONSTANT_FOLDED and all(e[0] == "c" for e in enc_args):
            self.operand_ids.add(id(result))
            self.operand_floats.append(result)  # (kept alive, so that its id stays its own)
            return  # the result is met later as a constant
        if name in _MUTATING or "out" in kwargs:
            self.mutated = True
        if name in _CHECKS:  # (one after a write is moved before the writes by _hoist_checks, or breaks)
            self.calls.append(("call", fn, enc_args, enc_kwargs, ("check", self.const(result)[1], self.mutated),
                               name, be))
            return
        if result is None or id(result) in self.slot_of:
            out: Any = None if result is None else ("same", self.slot_of[id(result)])
        elif hasattr(result, "shape") or hasattr(result, "dtype"):
            out = ("new", self.new_slot(result))
        elif result.__class__ in (tuple, list) and all(hasattr(r, "shape") for r in result):
            k = self.new_slot(result)
            out = ("tuple", k, [self.new_slot(r) if id(r) not in self.slot_of else None for r in result])
        else:
            self.note_break(f"a backend call ({name}) returned a Python value")
            return
        self.calls.append(("call", fn, enc_args, enc_kwargs, out, name, be))


    def host(self, fn: Callable, values: tuple) -> Any:
        """``autodiff.optim.optimizer.host`` while recording: ``fn`` of ``values``, logged as a
        host op whose float results are slots (fresh objects, so a backend call given one is
        seen to take it) and whose other results (bools) are guards checked at replay."""
        op = _HostOp(fn, tuple(v._be if isinstance(v, Tensor) else None for v in values))
        enc = [self.encode(v._data if isinstance(v, Tensor) else v) for v in values]
        self.depth += 1  # (the reads below are the op's, not calls of the step)
        try:
            result = fn(*[v.item() if isinstance(v, Tensor) else v for v in values])
        finally:
            self.depth -= 1
        if any(e[0] == "c" and isinstance(v, Tensor) for e, v in zip(enc, values)):
            self.note_break("an optimizer read a tensor the recording did not see made")
            return result
        items = result if result.__class__ is tuple else (result,)
        for c in self.calls[self.scanned:]:
            self.touched |= _slots_in(c[2]) | _slots_in(list(c[3].values()))
        self.scanned = len(self.calls)
        # Pure, so it may run before every call when its arguments are known then: the
        # step's inputs that no call has taken yet, and results of such host ops.
        early = all(e[0] == "c" or (e[0] == "v" and ((e[1] < self.n_inputs and e[1] not in self.touched)
                                                     or e[1] in self.at_start)) for e in enc)
        out_items: list = []
        slots: list = []
        checks: list = []
        for j, x in enumerate(items):
            if x.__class__ is float:
                x = x.__neg__().__neg__()  # a new object with the same bits (even -0.0 and NaNs)
                slots.append((j, self.new_slot(x)))
                for key in [key for key in _prep.OPERANDS if key[0] == x]:
                    del _prep.OPERANDS[key]
            else:
                checks.append((j, self.const(x)[1]))
            out_items.append(x)
        if checks and self.mutated and not early:
            self.note_break("an optimizer's host value decides what runs after the step wrote into an array")
            return result
        if early:
            self.at_start.update(k for _j, k in slots)
            self.has_early = True
        k = self.new_slot(op)
        self.calls.append(("call", op, enc, {}, ("host", k, slots, checks, early), "host", None))
        return tuple(out_items) if result.__class__ is tuple else out_items[0]


class _HostOp:
    """An optimizer's host arithmetic in a program: ``fn`` of its arguments, the arrays among
    them read as Python numbers with their backend's ``item`` (as ``Tensor.item`` does)."""

    def __init__(self, fn: Callable, bes: tuple) -> None:
        self.fn, self.bes = fn, bes

    def __call__(self, *args: Any) -> tuple:
        out = self.fn(*[a if be is None else be.item(a) for be, a in zip(self.bes, args)])
        return out if out.__class__ is tuple else (out,)


def _has_mask(index: tuple) -> bool:
    for ix in index:
        items = ix if isinstance(ix, tuple) else (ix,)
        for i in items:
            dt = getattr(i, "dtype", None)
            if dt is not None and getattr(dt, "kind", "") == "b":
                return True
    return False


class _Idle:
    """The recorder of the wrappers between recordings: a call runs unlogged (as a nested one)."""

    depth = 1


def _logging() -> tuple[Callable, Callable]:
    """``(bind, logged)``: ``logged(be, name, fn)`` is backend method ``fn`` logging its calls
    into the recorder last given to ``bind`` (``bind(None)`` when the recording ends). A
    recording installs ~200 wrappers: they are made once and kept (``_WRAPPERS``), and what
    they read of the recorder is bound once per recording, here, not once per wrapper."""
    rec: Any = _Idle
    enc_of = slot_of = keep = calls = encoded = record = None

    def bind(r: _Recorder | None) -> None:
        nonlocal rec, enc_of, slot_of, keep, calls, encoded, record
        rec = _Idle if r is None else r
        enc_of, slot_of, keep, calls = (None,) * 4 if r is None else (r.enc_of, r.slot_of, r.keep, r.calls)
        encoded, record = (None, None) if r is None else (r.enc_of.get, r.record)

    def logged(be: Any, name: str, fn: Callable) -> Callable:
        if name in _LOGGED_BY_RECORD:
            def call(*args: Any, **kwargs: Any) -> Any:
                if rec.depth:  # a backend method calling another: only the outermost call is logged
                    return fn(*args, **kwargs)
                rec.depth += 1
                try:
                    result = fn(*args, **kwargs)
                finally:
                    rec.depth -= 1
                record(be, name, fn, args, kwargs, result)
                return result

            return call
        array_type = be._array_type

        # The other calls are mostly an op of arrays and constants met before, making a new
        # array: logged here, at a third of ``record``'s cost (a step makes thousands of them).
        def plain_call(*args: Any, **kwargs: Any) -> Any:
            if rec.depth:  # a backend method calling another: only the outermost call is logged
                return fn(*args, **kwargs)
            rec.depth += 1
            try:
                result = fn(*args, **kwargs)
            finally:
                rec.depth -= 1
            if result.__class__ is array_type and not kwargs and id(result) not in slot_of:
                enc = [encoded(id(a)) for a in args]  # (None for an object not met before)
                if None not in enc:
                    k = rec.n_slots  # (rec.new_slot, inlined)
                    rec.n_slots = k + 1
                    slot_of[id(result)] = k
                    enc_of[id(result)] = ("v", k)
                    keep.append(result)
                    calls.append(("call", fn, enc, kwargs, ("new", k), name, be))
                    return result
            record(be, name, fn, args, kwargs, result)
            return result

        return plain_call

    return bind, logged


_bind_recorder, _logged = _logging()
# id(backend) -> (backend, {method name: (the attribute wrapped, its wrapper)}): the wrappers
# of earlier recordings, used again while the backend has the same attribute under that name.
_WRAPPERS: dict = {}


class _Instrumented:
    """While active: every backend logs into ``rec``, the engine's hook runners note a
    break, and the optimizers' ``step`` mark their regions."""

    def __init__(self, rec: _Recorder, world: _World) -> None:
        self.rec, self.world = rec, world
        self.undo: list = []

    def __enter__(self) -> _Instrumented:
        rec = self.rec
        backends.get("cpu")
        rec.array_types = frozenset(be._array_type for be in backends.loaded())
        undo = self.undo
        _bind_recorder(rec)
        undo.append((None, None, None, None))  # (unbinds the recorder on exit)
        live = backends.loaded()
        if len(_WRAPPERS) > len(live):  # (a backend dropped from the registry: its wrappers too)
            for key in [key for key, (be, _w) in _WRAPPERS.items() if not any(be is b for b in live)]:
                del _WRAPPERS[key]
        for be in live:
            own, cls = vars(be), be.__class__
            kept = _WRAPPERS.get(id(be))
            if kept is None or kept[0] is not be:
                kept = _WRAPPERS[id(be)] = (be, {})
            wrappers = kept[1]
            for name in _method_names(be):
                in_own = name in own
                found = own[name] if in_own else getattr(cls, name, None)
                cached = wrappers.get(name)
                if cached is not None and cached[0] is found:
                    wrapper = cached[1]
                else:
                    attr = getattr(be, name)
                    if not callable(attr) or isinstance(attr, type):
                        continue
                    wrapper = _logged(be, name, attr)
                    if in_own or found.__class__ is types.FunctionType:  # (not a property's value)
                        wrappers[name] = (found, wrapper)
                undo.append((be, name, found if in_own else None, in_own))
                setattr(be, name, wrapper)
        for hook_fn in ("run_tensor_hooks", "_run_pre_hooks", "_after_accumulate"):
            original = getattr(engine, hook_fn)
            self.undo.append((engine, hook_fn, original, True))
            setattr(engine, hook_fn, _breaking(original, rec, "a tensor or node hook ran in backward"))
        original_after = engine._after_node

        def after_node(node: Any, *a: Any) -> Any:
            if node.hooks:
                rec.note_break("a node hook ran in backward")
            return original_after(node, *a)

        self.undo.append((engine, "_after_node", original_after, True))
        engine._after_node = after_node
        for opt in self.world.optimizers:
            own = vars(opt)
            self.undo.append((opt, "step", own.get("step"), "step" in own))
            opt.step = _region(opt, opt.step, rec, self.world)
        # State the step reaches only further away than the world looks would not be written
        # back by a replay: a silently wrong result. Such a step runs eagerly instead. The
        # world's optimizers have their own ``step`` (above), so the classes' ``step`` runs
        # only for the others; a leaf outside the world getting a gradient is the other sign.
        far = "the step reaches {} that it does not name (see 'What the step can reach' in docs/compile.md)"
        for cls in _optimizer_classes():
            self.undo.append((cls, "step", cls.__dict__["step"], True))
            cls.step = _breaking(cls.__dict__["step"], rec, far.format("an optimizer"))
        known = {id(t) for t in self.world.params} | {id(t) for t in self.world.tensors}
        original_accumulate = engine._accumulate

        def accumulate(leaf: Any, *a: Any) -> Any:
            if id(leaf) not in known:
                rec.note_break(far.format("a leaf tensor (a parameter?)"))
            return original_accumulate(leaf, *a)

        self.undo.append((engine, "_accumulate", original_accumulate, True))
        engine._accumulate = accumulate
        self.undo.append((optimizer_module, "host_recorder", optimizer_module.host_recorder, True))
        optimizer_module.host_recorder = rec.host
        # Python float operands: cached by object, not by value, while recording (_Recorder.operand).
        self.undo.append((arithmetic, "float_operand", arithmetic.float_operand, True))
        arithmetic.float_operand = rec.operand
        return self

    def __exit__(self, *exc: Any) -> None:
        for obj, name, value, own in reversed(self.undo):
            if obj is None:
                _bind_recorder(None)  # (the last recording's arrays are not kept alive)
            elif own:
                setattr(obj, name, value)
            else:
                delattr(obj, name)


_CLASS_NAMES: dict = {}  # backend class -> (names, set of them): its public attributes but _LOOKUPS


def _method_names(be: Any) -> list:
    """The names of ``be``'s attributes that may be array calls (what ``dir(be)`` lists,
    less private names and ``_LOOKUPS``); the class's part is found once."""
    cls = be.__class__
    found = _CLASS_NAMES.get(cls)
    if found is None:
        names = [n for n in dir(cls) if not n.startswith("_") and n not in _LOOKUPS]
        found = _CLASS_NAMES[cls] = (names, frozenset(names))
    names, known = found
    extra = [n for n in vars(be) if n not in known and not n.startswith("_") and n not in _LOOKUPS]
    return names + extra if extra else names


def _optimizer_classes() -> list:
    """Optimizer and every subclass of it that defines its own ``step``."""
    from autodiff.optim.optimizer import Optimizer

    found, todo = [], [Optimizer]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if "step" in cls.__dict__:
            found.append(cls)
    return found


def _breaking(fn: Callable, rec: _Recorder, cause: str) -> Callable:
    def call(*args: Any, **kwargs: Any) -> Any:
        rec.note_break(cause)
        return fn(*args, **kwargs)

    return call


def _region(opt: Any, step: Callable, rec: _Recorder, world: _World) -> Callable:
    def call(*args: Any, **kwargs: Any) -> Any:
        if rec.region is not None or args or kwargs:  # nested, or a closure: not a region
            if args or kwargs:
                rec.note_break("optimizer.step(closure) inside the step")
            return step(*args, **kwargs)
        region = [opt, len(rec.calls), None, _snapshot(rec, world), None, False, step]
        rec.region = region
        try:
            return step()
        finally:
            rec.region = None
            region[2] = len(rec.calls)
            region[4] = _snapshot(rec, world)
            rec.regions.append(region)

    return call


def _snapshot(rec: _Recorder, world: _World) -> list:
    """Each location's tensor now, with the slot of its array (None for an array not logged)."""
    out = []
    for loc in world.locations():
        t = loc.read()
        out.append((loc, t, None if t is None else rec.slot_of.get(id(t._data)), None if t is None else t._version[0]))
    return out


# ---- the program ----------------------------------------------------------------------------
class _Program:
    """A recorded step: the generated function (``source``), where its arguments come from
    (``sources``: an input or a location), and what it writes back and returns."""

    # Replays run by the interpreter before the source is compiled: a program used once or
    # twice (a shape seen once) never pays for compiling a function of thousands of lines.
    INTERPRETED_REPLAYS = 2

    def __init__(self, run: Callable, out_plan: list, ret: Any, returned: list) -> None:
        self.run, self.out_plan, self.ret, self.returned = run, out_plan, ret, returned
        self.replayed = 0
        self.generate: Callable = lambda: ("", {})  # -> (source, namespace); set by _build
        self._source: str | None = None
        self.sources: list = []  # ("input", i) or ("loc", location), one per argument of run
        self.aliases: list = []  # (location, argument index): a location sharing an earlier one's array
        self.eager_steps = 0  # optimizer steps the program calls eagerly (regions it could not capture)
        self.released: set = set()  # argument slots of state it drops unread (see _released)
        self.arenas: dict = {}  # backend -> the _Arena its buffers are carved from
        self.namespace: dict = {}  # the globals of its generated function

    @property
    def source(self) -> str:
        """The program as Python source (``f3`` a backend function, ``c1`` a constant,
        ``v7`` an array, ``b7`` its reused buffer, ``R5`` an eager optimizer step)."""
        if self._source is None:
            self._source = self.generate()[0]
        return self._source

    def compile_source(self) -> None:
        """Replace the interpreter by the generated straight-line function, its buffers
        carved from the blocks of ``arenas`` (backend -> _Arena, made here when missing)."""
        self._source, self.namespace, buffers = self.generate()
        for be, names in buffers.items():
            arena = self.arenas.get(be)
            if arena is None:
                arena = self.arenas[be] = _Arena(be)
            arena.bind(self, names)
        exec(builtins.compile(self._source, "<autodiff.compile program>", "exec"), self.namespace)  # noqa: S102
        self.run = self.namespace["_program"]
        self.generate = None  # (the ops and the recording's shapes are not needed any more)


def _writeback_plan(before: list, after: list) -> list:
    """What turns the locations of ``before`` into those of ``after``: (loc, action, slot, extra)."""
    prev = {loc.ident: (t, slot, ver) for loc, t, slot, ver in before}
    plan = []
    seen = set()
    for loc, t, slot, ver in after:
        seen.add(loc.ident)
        old_t, old_slot, old_ver = prev.get(loc.ident, (None, None, None))
        if t is None:
            if old_t is not None:
                plan.append((loc, "none", None, None))
            continue
        if t.grad_fn is not None:
            raise _UnsupportedError(f"{loc.label} holds a tensor with autograd history")
        if slot is None:
            raise _UnsupportedError(f"{loc.label} holds an array the recording did not see made")
        if t is old_t:
            if slot != old_slot:
                plan.append((loc, "data", slot, None))
            if ver != old_ver:
                plan.append((loc, "version", None, ver - old_ver))
        else:
            plan.append((loc, "new", slot, (t._requires_grad, t._be)))
    for loc, t, _slot, _ver in before:
        if loc.ident not in seen and t is not None:
            raise _UnsupportedError(f"{loc.label} disappeared during the step")
    return plan


def _render(enc: tuple) -> str:
    kind = enc[0]
    if kind == "v":
        return f"v{enc[1]}"
    if kind == "c":
        return f"c{enc[1]}"
    inner = ", ".join(_render(e) for e in enc[1])
    return f"({inner},)" if kind == "t" else f"[{inner}]"


def _build(rec: _Recorder, start: list, end: list, in_slots: list, ret_enc: Any, world: _World) -> _Program:
    """Turn a recording into a program (raises _UnsupportedError when it cannot be expressed).

    The program is a list of ops -- ``("call", fn, args, kwargs, out, name, backend)`` or
    ``("region", eager function, slots in, slots out)`` -- run by ``_interpreter`` at first;
    ``_generate`` writes the same ops as Python source when the program has proven reused."""
    if rec.breaks:
        raise _UnsupportedError(rec.breaks[0])
    eager_regions = [r for r in rec.regions if r[5]]
    snapshots_before = start
    if not eager_regions:  # (the usual case: the recorded calls are the program's ops)
        ops: list = list(rec.calls)
    else:
        ops = []
        region_at = {r[1]: r for r in eager_regions}
        skip: set = set()
        for r in eager_regions:
            skip.update(range(r[1], r[2]))
        for i, call_entry in enumerate(rec.calls + [None]):
            r = region_at.get(i)
            if r is not None:
                entry, exit_ = r[3], r[4]
                plan_in = _writeback_plan(snapshots_before, entry)
                need_in = sorted({s for _l, a, s, _e in plan_in if a in ("data", "new")})
                exit_slots = []
                for loc, t, slot, _ver in exit_:
                    if t is not None:
                        exit_slots.append((loc, rec.new_slot(t._data) if slot is None else slot))
                ops.append(("region", _eager_region(r[6], plan_in, need_in, exit_slots), need_in,
                            [s for _loc, s in exit_slots]))
                # Fix the region-exit snapshot to the slots just bound.
                bound = {loc.ident: s for loc, s in exit_slots}
                snapshots_before = [(loc, t, bound.get(loc.ident, slot), ver) for loc, t, slot, ver in exit_]
            if call_entry is None or i in skip:
                continue
            ops.append(call_entry)
    # Slots used after an eager region must come from its exit snapshot.
    for r in eager_regions:
        made_inside = set()
        for c in rec.calls[r[1]:r[2]]:
            out = c[4]
            if out is not None and out[0] == "host":
                made_inside.update(k for _j, k in out[2])
            elif out is not None and out[0] in ("new", "tuple"):
                made_inside.add(out[1])
                if out[0] == "tuple":
                    made_inside.update(s for s in out[2] if s is not None)
        exit_bound = {s for _l, _t, s, _v in r[4] if s is not None}
        for c in rec.calls[r[2]:]:
            used = _slots_in(c[2]) | _slots_in(list(c[3].values()))
            if used & (made_inside - exit_bound):
                raise _UnsupportedError("a value made inside optimizer.step() is used after it")
    plan_out = _writeback_plan(snapshots_before, end)
    out_slots = sorted({s for _l, a, s, _e in plan_out if a in ("data", "new")})
    ret_slots = sorted(_ret_slots(ret_enc))
    returned = out_slots + [s for s in ret_slots if s not in out_slots]
    # Host ops whose arguments are known before the first call run first: a guard among
    # their results then fails before the program has written into any array.
    if rec.has_early:
        early = [op for op in ops if op[0] == "call" and op[4] is not None and op[4][0] == "host" and op[4][4]]
        ops = early + [op for op in ops if not (op[0] == "call" and op[4] is not None and op[4][0] == "host"
                                                and op[4][4])]
    ops = _hoist_checks(ops, rec)
    ops = _fold_constants(ops, rec, set(returned))
    released = _released(ops, start, plan_out, returned) if not eager_regions else []
    if released:
        last_check = max((i for i, op in enumerate(ops) if op[0] == "call" and op[4] is not None
                          and (op[4][0] == "check" or (op[4][0] == "host" and op[4][3]))), default=-1)
        ops.insert(last_check + 1, ("release", [loc for loc, _slot in released]))
    program = _Program(_interpreter(ops, list(in_slots), returned, rec.consts, rec.n_slots),
                       plan_out, ret_enc, returned)
    program.released = {slot for _loc, slot in released}
    # What the generated source needs of the recorded arrays: their class, shape and dtype
    # (the arrays themselves, a whole step's activations, are not kept alive).
    specs = _specs(ops, rec.keep)
    program.generate = functools.partial(_generate, ops, list(in_slots), returned, rec.consts, specs)
    program.eager_steps = len(eager_regions)
    # (read by autodiff/compiled_cuda_graph.py)
    program.ops, program.in_slots, program.consts, program.n_slots = ops, list(in_slots), rec.consts, rec.n_slots
    return program


def _hoist_checks(ops: list, rec: _Recorder) -> list:
    """The ops with each value check made after the step's first write (cross_entropy's check
    of its targets after BatchNorm updated its running statistics) moved before every write,
    with the calls that make what it reads: a check that answers otherwise must find nothing
    written yet, so that the call can run eagerly instead. Possible when those calls are pure
    and read only arrays nothing has written until the check (tracked through the views
    calls may make); then the check reads at the start what it read where it was, and moving
    pure calls earlier changes no value. A runtime check that the step's arrays it reads
    share no memory with those the step wrote goes first (two arguments might be views of
    one array at a replay). Raises _UnsupportedError for a check that cannot move."""
    late = [i for i, op in enumerate(ops) if op[0] == "call" and op[4] is not None and op[4][0] == "check"
            and len(op[4]) > 2 and op[4][2]]
    if not late:
        return ops
    made_by: dict = {}  # slot -> index of the op that makes it
    may_alias: dict = {}  # slot -> the slots whose memory it may share (itself, or what it views)
    dirty_at: dict = {}  # index of a late check -> the slots written before it
    dirty: set = set()
    for i, op in enumerate(ops):
        if op[0] != "call":
            if op[0] == "region":  # (an optimizer step run eagerly writes what it likes)
                dirty.add(None)
            continue
        _kind, _fn, args, kwargs, out, name, _be = op
        read = _slots_in(args) | _slots_in(list(kwargs.values()))
        if i in late:
            dirty_at[i] = set(dirty)
        if name in _MUTATING or "out" in kwargs:
            written = _slots_in(args[:1]) if name in _MUTATING else _slots_in([kwargs["out"]])
            for w in written:
                dirty |= may_alias.get(w, {w})
        if out is not None and out[0] in ("new", "tuple"):
            made = [out[1]] + ([k for k in out[2] if k is not None] if out[0] == "tuple" else [])
            shared = set() if name in _NO_VIEW_CONSUMERS else set().union(*(may_alias.get(r, {r}) for r in read))
            for k in made:
                made_by[k] = i
                may_alias[k] = shared | {k}
    moved: set = set()
    reads: set = set()  # step arrays (arguments, state) the moved calls read
    for i in late:
        dirty = dirty_at[i]
        cone, todo = {i}, list(_slots_in(ops[i][2]) | _slots_in(list(ops[i][3].values())))
        while todo:
            k = todo.pop()
            if None in dirty or may_alias.get(k, {k}) & dirty:
                raise _UnsupportedError(f"a check of values ({ops[i][5]}) after the step wrote into what it reads")
            j = made_by.get(k)
            if j is None:
                if k >= rec.n_inputs:  # (a host value, or an array the recording did not see made)
                    raise _UnsupportedError(f"a check of values ({ops[i][5]}) after the step wrote into an array")
                reads.add(k)
                continue
            op = ops[j]
            if op[5] in _MUTATING or op[5] in _RANDOM or "out" in op[3] or op[4][0] not in ("new", "tuple"):
                raise _UnsupportedError(f"a check of values ({ops[i][5]}) after the step wrote into an array")
            if j not in cone:
                cone.add(j)
                todo.extend(_slots_in(op[2]) | _slots_in(list(op[3].values())))
        moved |= cone
    written = {k for i in late for k in dirty_at[i] if k is not None and k < rec.n_inputs}
    front = []
    if written and reads:
        be_of = {be._array_type: be for be in backends.loaded()}
        reads_, written_ = sorted(reads), sorted(written)
        check = functools.partial(_disjoint, [be_of.get(rec.keep[k].__class__) for k in reads_],
                                  [be_of.get(rec.keep[k].__class__) for k in written_])
        be = next(op[6] for op in ops if op[0] == "call" and op[6] is not None)
        front.append(("call", check, [("t", [("v", k) for k in reads_]), ("t", [("v", k) for k in written_])], {},
                      ("check", rec.const(True)[1]), "disjoint", be))
    first = next((j for j, op in enumerate(ops) if not (op[0] == "call" and op[4] is not None and op[4][0] == "host"
                                                         and op[4][4])), len(ops))  # (after the early host ops)
    return (ops[:first] + front + [ops[j] for j in sorted(moved)]
            + [op for j, op in enumerate(ops) if j >= first and j not in moved])


def _disjoint(read_bes: list, written_bes: list, reads: tuple, written: tuple) -> bool:
    """True when no array of ``reads`` may share memory with one of ``written`` (arrays of
    one backend asked to it; of two backends, apart)."""
    for be, a in zip(read_bes, reads):
        for other, b in zip(written_bes, written):
            if be is other and be is not None and be.may_share_memory(a, b):
                return False
    return True


def _fold_constants(ops: list, rec: _Recorder, escaping: set) -> list:
    """The ops without the calls on constants whose results never change between replays
    (backward's implicit gradient: ``ones(())`` broadcast to the loss's shape): their
    recorded results become constants, when nothing writes into them, they do not leave
    the program, and they are read only by calls that make no views of them (or by other
    such folded calls)."""
    folded: set = set()
    makers: dict = {}  # candidate slot -> index of the op that makes it
    for i, op in enumerate(ops):
        if (op[0] == "call" and op[5] in _FOLDABLE and op[4] is not None and op[4][0] == "new"
                and all(e[0] == "c" or (e[0] == "v" and e[1] in folded) for e in op[2])
                and all(e[0] == "c" for e in op[3].values())):
            folded.add(op[4][1])
            makers[op[4][1]] = i
    if not folded:
        return ops
    # What each op does with the candidates, found once (a program has thousands of ops and
    # a handful of candidates): the candidates it reads, and whether it keeps them out.
    candidates = set(folded)
    always_out: set = set(escaping) & candidates
    readers = _readers(ops, candidates, min(makers.values()))  # (none reads a slot before it is made)
    reads: list = []  # (candidates read, slot made, whether it makes views of what it reads)
    for i, used in readers:
        op = ops[i]
        if op[0] != "call":
            always_out |= used
            continue
        if op[5] in _MUTATING and op[2] and op[2][0][0] == "v":
            always_out |= {op[2][0][1]} & candidates
        if "out" in op[3]:
            always_out |= _slots_in([op[3]["out"]]) & candidates
        made = op[4][1] if op[4] is not None and op[4][0] == "new" else None
        reads.append((used, made, op[5] not in _NO_VIEW_CONSUMERS))
    changed = True
    while changed:
        changed = False
        keep_out = set(always_out)
        for used, made, makes_views in reads:
            if made not in folded and makes_views:
                keep_out |= used
        for k in list(folded):
            if k in keep_out or any(e[0] == "v" and e[1] not in folded for e in ops[makers[k]][2]):
                folded.discard(k)
                changed = True
    if not folded:
        return ops
    const_of = {k: rec.const(rec.keep[k]) for k in folded}
    out = list(ops)
    for i, used in readers:  # (only these can read a folded slot)
        op = ops[i]
        if used & folded:
            out[i] = (op[0], op[1], [_substitute(e, const_of) for e in op[2]],
                      {n: _substitute(e, const_of) for n, e in op[3].items()}, *op[4:])
    for i in sorted((makers[k] for k in folded), reverse=True):
        del out[i]
    return out


def _substitute(enc: tuple, const_of: dict) -> tuple:
    if enc[0] == "v":
        return const_of.get(enc[1], enc)
    if enc[0] in ("t", "l"):
        return (enc[0], [_substitute(e, const_of) for e in enc[1]])
    return enc


def _readers(ops: list, slots: set, first: int = 0) -> list:
    """(index, the slots among ``slots`` it reads) for each op from ``first`` on that reads
    one of them: a program has thousands of ops and ``slots`` a handful, so each call's
    arguments are tested against them in one set operation, without making the set of
    slots each call reads."""
    wanted = {("v", k) for k in slots}
    found = []
    for i in range(first, len(ops)):
        op = ops[i]
        kind = op[0]
        if kind == "call":
            kwargs = op[3]
            try:
                if wanted.isdisjoint(op[2]) and (not kwargs or wanted.isdisjoint(kwargs.values())):
                    continue
            except TypeError:  # (a tuple or list of arrays: its encoding holds a list)
                pass
            used = (_slots_in(op[2]) | _slots_in(list(kwargs.values()))) & slots
        elif kind == "region":
            used = set(op[2]) & slots
        else:
            continue
        if used:
            found.append((i, used))
    return found


def _released(ops: list, start: list, plan_out: list, returned: list) -> list:
    """The gradients and optimizer state the step replaces without reading them (zero_grad's
    None, a new momentum buffer): (location, slot). A replay drops them once its last check
    has passed, as the eager step drops them, so that the old and the new array are not
    both alive during the replay."""
    replaced = {loc.ident for loc, action, _s, _e in plan_out if action in ("new", "none")}
    holders: dict = {}
    for _loc, t, slot, _v in start:
        if t is not None:
            holders[slot] = holders.get(slot, 0) + 1
    out = set(returned)
    maybe = [(loc, slot) for loc, t, slot, _v in start
             if t is not None and loc.ident in replaced and isinstance(loc, (_GradLoc, _StateLoc))
             and slot not in out and holders[slot] == 1]
    if not maybe:
        return []
    read: set = set()
    for _i, used in _readers(ops, {slot for _loc, slot in maybe}):
        read |= used
    return [(loc, slot) for loc, slot in maybe if slot not in read]


def _generate(ops: list, in_slots: list, returned: list, consts: list, specs: dict) -> tuple[str, dict]:
    """The ops as the source of one straight-line function, and the names it uses."""
    ns: dict = {f"c{k}": v for k, v in enumerate(consts)}
    fn_names: dict = {}  # a function -> its name in ns (one name however many calls it has)
    ns["CheckFailed"] = _CheckFailedError
    ns["HostChanged"] = _HostChangedError
    lines: list = []
    line_of: dict = {}  # slot -> (its line, its op) for the calls that make one new array
    for i, op in enumerate(ops):
        if op[0] == "release":
            ns[f"Z{i}"] = functools.partial(_release, op[1])
            lines.append(f"    Z{i}()")
            continue
        if op[0] == "region":
            _kind, region, need_in, exit_slots = op
            ns[f"R{i}"] = region
            call = f"R{i}({', '.join(f'v{s}' for s in need_in)}{',' if need_in else ''})"
            targets = ", ".join(f"v{s}" for s in exit_slots)
            lines.append(f"    {targets}, = {call}" if exit_slots else f"    {call}")
            continue
        _kind, fn, args, kwargs, out, _name, _be = op
        try:
            f = fn_names.setdefault(fn, f"f{len(fn_names)}")
        except TypeError:  # (an unhashable callable: a name of its own)
            f = fn_names[("unhashable", i)] = f"f{len(fn_names)}"
        ns[f] = fn
        src_args = [_render(a) for a in args] + [f"{k}={_render(v)}" for k, v in kwargs.items()]
        call = f"{f}({', '.join(src_args)})"
        if out is None or out[0] == "same":
            lines.append(f"    {call}")
        elif out[0] == "check":
            lines.append(f"    if {call} is not c{out[1]}:\n        raise CheckFailed")
        elif out[0] == "new":
            line_of[out[1]] = (len(lines), i)
            lines.append(f"    v{out[1]} = {call}")
        elif out[0] == "host":
            names = {j: f"v{k}" for j, k in out[2]} | {j: f"h{i}_{j}" for j, _c in out[3]}
            lines.append(f"    {', '.join(names[j] for j in range(len(names)))}, = {call}")
            for j, c in out[3]:
                lines.append(f"    if h{i}_{j} != c{c}:\n        raise HostChanged")
        else:
            lines.append(f"    v{out[1]} = {call}")
            for j, s in enumerate(out[2]):
                if s is not None:
                    lines.append(f"    v{s} = v{out[1]}[{j}]")
    escaping = set(returned)
    for op in ops:
        if op[0] == "region":
            escaping.update(op[2])
    place, aliases = _reusable_buffers(ops, specs, line_of, escaping, consts)
    buffers: dict = {}  # backend -> {name: (offset, shape, dtype)}
    for s, (be, offset, writer) in place.items():
        k, i = line_of[s]
        f = _name_of(lines[k])
        if writer is not None:
            w = fn_names.setdefault(("out writer", writer), f"w{len(fn_names)}")
            ns[w] = writer
            lines[k] = lines[k].replace(f" = {f}(", f" = {w}(", 1)
        lines[k] = f"{lines[k][:-1]}, out=b{s})"
        buffers.setdefault(be, {})[f"b{s}"] = (offset, specs[s][1], specs[s][2], _buffer_bytes(specs[s]))
    for s, source in aliases.items():
        k, _i = line_of[s]
        lines[k] = f"    v{s} = v{source}"  # (the copy elided: see _aliases)
    params = ", ".join(f"v{s}" for s in in_slots)
    body = "\n".join(lines) or "    pass"
    src = f"def _program({params}):\n{body}\n    return ({', '.join(f'v{s}' for s in returned)}{',' if returned else ''})\n"
    return src, ns, buffers


def _name_of(line: str) -> str:
    """The function a generated line ``    vK = NAME(...)`` calls."""
    return line.split(" = ", 1)[1].split("(", 1)[0]


class _Arena:
    """The block of memory of one backend that the programs of one compiled function carve
    their buffers from. Their replays never overlap, so the block need only be as large as
    the largest program's set of temporaries (a function's first program, recorded while
    ``.grad`` was None, and its steady one share it). When a new program needs more, a new
    block replaces the old one and every program's buffers are carved again from it: they
    are globals of its generated function, read at its next replay. (A program captured in
    a CUDA graph keeps a block of its own: the graph holds its addresses.)"""

    def __init__(self, be: Any) -> None:
        self.be, self.block, self.size = be, None, 0
        self.users: list = []  # (weak reference to a program's namespace holder, its buffers)

    def bind(self, holder: Any, buffers: dict) -> None:
        """Carve ``buffers`` ({name: (offset, shape, dtype, bytes)}) into ``holder.namespace``."""
        self.users = [(ref, b) for ref, b in self.users if ref() is not None]
        self.users.append((weakref.ref(holder), buffers))
        size = max((offset + n for offset, _shape, _dtype, n in buffers.values()), default=0)
        if size > self.size:
            self.size, self.block = size, None  # (the old block goes with the last view of it)
            self.block = self.be.empty((size,), "uint8")
            users = self.users
        else:
            users = self.users[-1:]
        for ref, user_buffers in users:
            ns = ref().namespace
            for name, (offset, shape, dtype, _n) in user_buffers.items():
                ns[name] = self.be.carve(self.block, offset, shape, dtype)


def _specs(ops: list, keep: list) -> dict:
    """slot -> (class, shape, dtype name, bytes) of each array a call made, of its backend's
    array class (what ``_generate`` needs to give it a buffer of its own)."""
    specs: dict = {}
    last = (None, None, None)  # (backend, dtype, its name): a step's arrays share a dtype or two
    for op in ops:
        out = op[4] if op[0] == "call" else None
        if out is not None and out[0] == "new":
            be, a = op[6], keep[out[1]]
            if be is not None and a.__class__ is be._array_type:
                dt = a.dtype
                if dt is not last[1] or be is not last[0]:
                    last = (be, dt, be.name_of_dtype(dt))
                specs[out[1]] = (a.__class__, a.shape, last[2], getattr(a, "nbytes", 0))
    return specs


def _reusable_buffers(ops: list, specs: dict, line_of: dict, escaping: set, consts: list) -> tuple[dict, dict]:
    """Buffers for the arrays a replay can write into memory of its own (``out=``): made by a
    function that writes ``out`` (a NumPy ufunc), read only by calls that make no views of
    them, and never leaving the program (returned, written back, handed to eager code).

    Returns ``(place, aliases)``: ``place`` maps such a slot to ``(backend, offset, writer)``
    in its backend's block (``writer`` the function that writes it into its buffer when not
    the op's own); ``aliases`` maps a slot to an earlier buffered slot whose array it can
    simply be (``_aliases``: a copy, or a product with ones, of an array read no more).

    The buffers are laid out as registers are allocated: two arrays whose lives do not
    overlap (the second made after the last read of the first) may take the same bytes, so
    the block holds about the largest set of temporaries alive at one time, not one buffer
    per temporary."""
    if not REUSE_BUFFERS:
        return {}, {}
    root: dict = {}  # a view's slot (transpose, reshape, ...) -> the slot of the array it views
    bad = set()
    last_read: dict = {}  # slot -> index of the last op that reads it (or a view of it)
    for i, op in enumerate(ops):
        if op[0] == "release":
            continue
        if op[0] == "region":
            for k in op[2]:
                last_read[root.get(k, k)] = i
                bad.add(root.get(k, k))
            continue
        used = {root.get(k, k) for k in _slots_in(op[2]) | _slots_in(list(op[3].values()))}
        for k in used:
            last_read[k] = i
        if op[5] in _VIEWS and op[4] is not None and op[4][0] == "new" and op[2] and op[2][0][0] == "v":
            root[op[4][1]] = root.get(op[2][0][1], op[2][0][1])
        elif op[5] not in _NO_VIEW_CONSUMERS:
            bad |= used
    bad |= {root.get(k, k) for k in escaping}
    made: dict = {}  # op index -> slot it makes into a buffer
    writers: dict = {}  # slot -> the function that writes it into its buffer, when not the op's own
    for k, (_line, i) in line_of.items():
        _kind, fn, _args, kwargs, _o, name, be = ops[i]
        spec = specs.get(k)
        if k in bad or "out" in kwargs or spec is None or spec[0] is not be._array_type or spec[3] < _MIN_BUFFER_BYTES:
            continue
        if not be.writes_out(fn):
            writers[k] = be.out_writer(name)
            if writers[k] is None:
                continue
        made[i] = k
    aliases = _aliases(ops, made, last_read, consts, specs)
    for i, k in list(made.items()):
        if k in aliases:  # (no buffer of its own: it is the array of the slot it aliases)
            del made[i]
            last_read[aliases[k]] = max(last_read[aliases[k]], last_read.get(k, i))
    # Offsets in one block per backend, greedy by size (largest first): a buffer takes the
    # lowest gap that fits it among the buffers placed already whose lives overlap its own.
    place: dict = {}  # slot -> (backend, offset, writer)
    placed: dict = {}  # backend -> [(offset, end offset, first op, last op)]
    order = sorted(made.items(), key=lambda item: (-specs[item[1]][3], item[0]))
    for i, k in order:
        be, nbytes = ops[i][6], _buffer_bytes(specs[k])
        end = last_read.get(k, i)
        offset = 0
        for lo, hi, first, last in sorted(placed.get(be, [])):
            if first <= end and i <= last:  # alive together
                if lo - offset >= nbytes:
                    break
                offset = max(offset, hi)
        placed.setdefault(be, []).append((offset, offset + nbytes, i, end))
        place[k] = (be, offset, writers.get(k))
    return place, aliases


def _buffer_bytes(spec: tuple) -> int:
    return -(-max(spec[3], 1) // _ALIGN) * _ALIGN


# Calls that leave their array argument's values as they are, into a new array: ``copy(a)``
# (a ``.clone()``), and a product with an array of ones (the gradient of a ``sum()`` met by
# a chain rule), whose bits are ``a``'s own (x * 1 is x in IEEE arithmetic, and for integers).
_IDENTITIES = frozenset({"copy", "mul"})


def _aliases(ops: list, made: dict, last_read: dict, consts: list, specs: dict) -> dict:
    """The buffered results that can be an earlier buffered array itself, with no call: a
    copy of (or a product with ones of) an array that nothing reads afterwards. The copy is
    elided, not its values: the earlier array holds exactly what the copy would (both are
    C-contiguous buffers of the program, of one dtype and shape), and no one sees it again."""
    out: dict = {}
    made_at = {k: i for i, k in made.items()}
    for i, k in sorted(made.items()):
        op = ops[i]
        if op[5] not in _IDENTITIES or op[3]:
            continue
        args = op[2]
        if op[5] == "copy":
            source = args[0] if len(args) == 1 else None
        elif len(args) == 2 and args[0][0] == "c" and _is_ones(consts[args[0][1]], op[6]):
            source = args[1]
        elif len(args) == 2 and args[1][0] == "c" and _is_ones(consts[args[1][1]], op[6]):
            source = args[0]
        else:
            continue
        if source is None or source[0] != "v" or source[1] in out:
            continue
        s = source[1]
        if made_at.get(s, i) >= i or last_read.get(s) != i or specs[s][1:3] != specs[k][1:3]:
            continue  # not a buffer of the program's own, read again after the copy, or another shape
        out[k] = s
    return out


def _is_ones(value: Any, be: Any) -> bool:
    """An array of real numbers, all 1 (a ones constant, broadcast or not)."""
    if value.__class__ is not be._array_type or not value.size:
        return False
    if not be.dtype_name(value).startswith(("float", "int", "uint")):  # (not complex: x * (1+0j) can make NaNs)
        return False
    return be.all(be.eq(value, 1))


def _interpreter(ops: list, in_slots: list, returned: list, consts: list, n_slots: int) -> Callable:
    """The program run op by op: what runs until the generated source pays for its
    compilation (see ``_Program.replayed``); the same calls in the same order."""

    def value(enc: tuple, vals: list) -> Any:
        kind = enc[0]
        if kind == "v":
            return vals[enc[1]]
        if kind == "c":
            return consts[enc[1]]
        items = [value(e, vals) for e in enc[1]]
        return tuple(items) if kind == "t" else items

    def run(*arrays: Any) -> tuple:
        vals: list = [None] * n_slots
        for s, a in zip(in_slots, arrays):
            vals[s] = a
        for op in ops:
            if op[0] == "release":
                _release(op[1])
                continue
            if op[0] == "region":
                for s, a in zip(op[3], op[1](*[vals[s] for s in op[2]])):
                    vals[s] = a
                continue
            _kind, fn, args, kwargs, out, _name, _be = op
            result = fn(*[value(a, vals) for a in args], **{k: value(v, vals) for k, v in kwargs.items()})
            if out is None or out[0] == "same":
                continue
            if out[0] == "check":
                if result is not consts[out[1]]:
                    raise _CheckFailedError
                continue
            if out[0] == "host":
                for j, c in out[3]:
                    if result[j] != consts[c]:
                        raise _HostChangedError
                for j, k in out[2]:
                    vals[k] = result[j]
                continue
            vals[out[1]] = result
            if out[0] == "tuple":
                for j, s in enumerate(out[2]):
                    if s is not None:
                        vals[s] = result[j]
        return tuple(vals[s] for s in returned)

    return run


def _release(locs: list) -> None:
    for loc in locs:
        loc.write(None)


def _slots_in(encs: list) -> set:
    out: set = set()
    for e in encs:
        if e[0] == "v":
            out.add(e[1])
        elif e[0] in ("t", "l"):
            out |= _slots_in(e[1])
    return out


def _eager_region(step: Callable, plan_in: list, need_in: list, exit_slots: list) -> Callable:
    def region(*arrays: Any) -> Any:
        values = dict(zip(need_in, arrays))
        _apply_plan_with(plan_in, values)
        step()
        out = []
        for loc, _slot in exit_slots:
            out.append(loc.read()._data)
        return tuple(out)

    return region


def _apply_plan_with(plan: list, values: dict) -> None:
    for loc, action, slot, extra in plan:
        if action == "data":
            loc.read()._data = values[slot]
        elif action == "new":
            t = _make(values[slot], extra[1])
            t._requires_grad = extra[0]
            loc.write(t)
        elif action == "version":
            loc.read()._version[0] += extra
        else:
            loc.write(None)


# ---- returns -----------------------------------------------------------------------------
def _encode_return(value: Any, rec: _Recorder, loc_objs: dict) -> Any:
    if isinstance(value, Tensor):
        if id(value) in loc_objs:
            return ("loc", loc_objs[id(value)])
        slot = rec.slot_of.get(id(value._data))
        if slot is None:
            raise _UnsupportedError("the step returns a tensor whose array the recording did not see made")
        return ("tensor", slot, value._be)
    if value is None or value.__class__ in (int, bool, str):
        return ("const", value)
    if value.__class__ in (tuple, list):
        return (value.__class__, [_encode_return(v, rec, loc_objs) for v in value])
    if value.__class__ is dict:
        return (dict, {k: _encode_return(v, rec, loc_objs) for k, v in value.items()})
    raise _UnsupportedError(f"the step returns a {type(value).__name__}")


def _ret_slots(enc: Any) -> set:
    kind = enc[0]
    if kind == "tensor":
        return {enc[1]}
    if kind in (tuple, list):
        return set().union(*(_ret_slots(e) for e in enc[1])) if enc[1] else set()
    if kind is dict:
        return set().union(*(_ret_slots(e) for e in enc[1].values())) if enc[1] else set()
    return set()


# ---- a replay's reads and writes, written once per program ------------------------------------
class _ReplayPlan:
    """What a replay of a program does around ``program.run``, as two straight-line functions
    written from its ``sources``, ``out_plan`` and ``ret`` at its first replay (a replay pays
    no loop and no test per argument): ``fetch(inputs)``, the arrays ``run`` takes (a closure
    tensor is a fixed object, a ``.grad`` hangs off one, a parameter is an entry of a fixed
    dict), and ``finish(out)``, the writes of ``out_plan`` in order (``_apply_plan_with``'s)
    and then the return value (``ret`` decoded), from ``out``, what ``run`` returned.
    ``source`` shows both."""

    __slots__ = ("fetch", "finish", "source")

    def __init__(self, program: _Program) -> None:
        ns: dict = {"_make": _make}
        refs: dict = {}  # id(object) -> its name in ns

        def ref(obj: Any) -> str:
            name = refs.get(id(obj))
            if name is None:
                name = refs[id(obj)] = f"r{len(refs)}"
                ns[name] = obj
            return name

        args = []
        for kind, x in program.sources:
            if kind == "input":
                args.append(f"inputs[{x}]._data")
            elif kind == "none":
                args.append("None")
            elif x.__class__ is _FixedLoc:
                args.append(f"{ref(x.tensor)}._data")
            elif x.__class__ is _GradLoc:
                args.append(f"{ref(x.tensor)}._grad._data")
            elif x.__class__ is _DictLoc:
                args.append(f"{ref(x.table)}.get({ref(x.key)})._data")
            else:
                args.append(f"{ref(x)}.read()._data")
        at = {slot: i for i, slot in enumerate(program.returned)}  # slot -> its place in ``out``
        lines = []
        for loc, action, slot, extra in program.out_plan:
            if action == "new":
                lines.append(f"t = _make(out[{at[slot]}], {ref(extra[1])})")
                if extra[0]:  # (``_make`` leaves it False)
                    lines.append("t._requires_grad = True")
                lines.append(f"{ref(loc.tensor)}._grad = t" if loc.__class__ is _GradLoc else
                             f"{ref(loc.table)}[{ref(loc.key)}] = t" if loc.__class__ is _DictLoc else
                             f"{ref(loc)}.write(t)")
            elif action not in ("data", "version"):
                lines.append(f"{ref(loc)}.write(None)")
            else:
                target = (f"{ref(loc.tensor)}" if loc.__class__ is _FixedLoc else
                          f"{ref(loc.tensor)}._grad" if loc.__class__ is _GradLoc else
                          f"{ref(loc.table)}.get({ref(loc.key)})" if loc.__class__ is _DictLoc else f"{ref(loc)}.read()")
                lines.append(f"{target}._data = out[{at[slot]}]" if action == "data"
                             else f"{target}._version[0] += {int(extra)}")
        lines.append(f"return {_return_source(program.ret, at, ref)}")
        self.source = ("def fetch(inputs):\n"
                       f"    return [{', '.join(args)}]\n"
                       "def finish(out):\n" + "".join(f"    {line}\n" for line in lines))
        exec(builtins.compile(self.source, "<autodiff.compile replay>", "exec"), ns)  # noqa: S102
        self.fetch: Callable = ns["fetch"]
        self.finish: Callable = ns["finish"]


def _return_source(enc: Any, at: dict, ref: Callable) -> str:
    """The value a return encoding (``_encode_return``) stands for, as an expression over
    ``out`` (``at``: slot -> its index there)."""
    kind = enc[0]
    if kind == "tensor":
        return f"_make(out[{at[enc[1]]}], {ref(enc[2])})"
    if kind == "loc":
        return f"{ref(enc[1])}.read()"
    if kind == "const":
        return ref(enc[1])
    if kind is dict:
        return "{" + "".join(f"{ref(k)}: {_return_source(e, at, ref)}, " for k, e in enc[1].items()) + "}"
    items = "".join(f"{_return_source(e, at, ref)}, " for e in enc[1])
    return f"({items})" if kind is tuple else f"[{items}]"


# ---- the compiled function --------------------------------------------------------------------
class CompiledFunction:
    """``fn`` with its recorded programs; call it as ``fn``."""

    def __init__(self, fn: Callable, mode: str | None = None) -> None:
        self.fn = fn
        # The runner of a program's replays that this mode asks for (CUDA graphs), or None.
        self._graph_run: Callable | None = REPLAY_RUNNERS.get(mode)
        self.programs: dict = {}  # guard key -> _Program, or the cause that keeps it eager
        self.kept: dict = {}  # guard key -> the objects it identifies (see _record)
        self.worlds: dict = {}
        self.warned: set = set()
        self.stats = {"recorded": 0, "replayed": 0, "eager": 0}
        self.host_changes = 0  # programs dropped because an optimizer's host guard changed
        self.names = _global_names(fn)
        self.arenas: dict = {}  # backend -> _Arena: one block of temporaries for all the programs
        self._last: tuple | None = None  # (roots plan, world) of the last call: see _world
        self._holds = 0  # calls since then whose roots held (see GUARD_LOOP_CALLS)
        self._guard: tuple | None = None  # (generated guard of that plan and world, world)
        # (key, program) of the last replay: a call with an equal key (the usual loop) skips
        # hashing it; a key equal to a program's key is that program's whether or not it is
        # still in ``programs`` (an entry replaced by an eager cause drops it, see _replay).
        self._hit: tuple | None = None
        functools.update_wrapper(self, fn)

    def _world(self, rebuild: bool = False) -> _World:
        last = self._last
        if not rebuild and last is not None and _plan_holds(last[0]):
            return last[1]  # (every root is the object it was: the same world)
        roots, plan = _roots_and_plan(self.fn, self.names)
        key = tuple(map(id, roots))
        world = None if rebuild else self.worlds.get(key)
        if world is None:
            if len(self.worlds) > RECOMPILE_LIMIT:
                self.worlds.clear()
            world = self.worlds[key] = _World(roots)
            world.roots = roots  # (kept alive, so the ids in the key stay theirs)
            # What a program's key holds of its world: a world built again for the same roots
            # (after a miss) finds the programs of the one it replaces when its signature is theirs.
            world.key = key
        self._last = (plan, world)
        self._holds, self._guard = 0, None
        return world

    def _world_and_signature(self) -> tuple[_World, tuple]:
        """The world and its signature by the loops (``_plan_holds``, ``signature()``);
        after ``GUARD_LOOP_CALLS`` calls whose roots held, a generated guard takes over."""
        last = self._last
        if last is not None and _plan_holds(last[0]):
            world = last[1]
            self._holds += 1
            if self._holds >= GUARD_LOOP_CALLS:
                self._guard = (_compile_guard(last[0], world), world)
        else:
            world = self._world()
        return world, world.signature()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _recording.active:  # a compiled function called by one being recorded
            return self.fn(*args, **kwargs)
        if not args and not kwargs:
            inputs: list = []
            key_in: Any = ()
        elif not kwargs and all(a.__class__ is Tensor for a in args):  # (the usual call: tensors only)
            inputs = list(args)
            key_in = tuple([(a._data.shape, _strides(a._data, a._be), a._data.dtype, a._be, a._requires_grad)
                            for a in args])
            if any(t._requires_grad for t in inputs):
                # A backward would reach its .grad (or the graph behind it), which no location holds.
                return self._eager(args, kwargs, "an argument that requires grad")
        else:
            inputs = []
            key_in = _input_key((args, kwargs), inputs)
            if key_in is None:
                return self._eager(args, kwargs,
                                   "an argument that is not a tensor, number, string or sequence of them")
            if any(t._requires_grad for t in inputs):
                return self._eager(args, kwargs, "an argument that requires grad")
        grad_on = _grad_state.enabled  # (grad_mode.is_grad_enabled(), without its call)
        guard = self._guard
        signature = guard[0]() if guard is not None else None  # (None: a root changed)
        if signature is None:
            world, signature = self._world_and_signature()
        else:
            world = guard[1]
        key = (key_in, grad_on, world.key, signature)
        hit = self._hit
        program = hit[1] if hit is not None and hit[0] == key else self.programs.get(key)
        if program is None:
            # What the step reaches may have changed (a replaced parameter, a new optimizer
            # state): look again before recording.
            world = self._world(rebuild=True)
            key = (key_in, grad_on, world.key, world.signature())
            program = self.programs.get(key)
        if program.__class__ is _Program:
            self._hit = (key, program)
            return self._replay(key, program, world, inputs, args, kwargs)
        if program is not None:
            return self._eager(args, kwargs, program)
        if len(self.programs) >= RECOMPILE_LIMIT:
            return self._eager(args, kwargs, f"the recompile limit ({RECOMPILE_LIMIT} programs) was reached")
        return self._record(key, world, args, kwargs, inputs)

    def _eager(self, args: tuple, kwargs: dict, cause: str) -> Any:
        self.stats["eager"] += 1
        self._warn(cause)
        return self.fn(*args, **kwargs)

    def _warn(self, cause: str) -> None:
        if cause not in self.warned:
            self.warned.add(cause)
            name = getattr(self.fn, "__qualname__", repr(self.fn))
            warnings.warn(f"autodiff.compile: {name} runs eagerly: {cause}", CaptureBreak, stacklevel=4)

    def _record(self, key: tuple, world: _World, args: tuple, kwargs: dict, inputs: list) -> Any:
        self.stats["recorded"] += 1
        # The objects whose identities the key holds stay alive with it: a later object given
        # the address of a freed one would otherwise pass for it (a number rebound twice).
        self.kept[key] = (world.roots, [v for c in world.containers for v in c.values()],
                          [v for c, _n in world.lists for v in c])
        rec = _Recorder()
        hooked = next((f"module {type(m).__name__} has forward/backward hooks" for m in world.modules
                       if _has_hooks(m)), None)
        if hooked:
            self.programs[key] = hooked
            return self._eager(args, kwargs, hooked)
        sources: list = []
        aliases: list = []
        for i, t in enumerate(inputs):
            if id(t._data) not in rec.slot_of:
                rec.new_slot(t._data)
                sources.append(("input", i))
        start = _snapshot(rec, world)
        for loc, t, _slot, _ver in start:
            if t is None:
                continue
            k = rec.slot_of.get(id(t._data))
            if k is None:
                rec.new_slot(t._data)
                sources.append(("loc", loc))
            else:
                aliases.append((loc, k))
        start = _snapshot(rec, world)
        in_slots = list(range(rec.n_slots))
        rec.n_inputs = rec.n_slots
        python_state = _python_state(world)
        _recording.active = True
        try:
            with _Instrumented(rec, world):
                result = self.fn(*args, **kwargs)
        finally:
            _recording.active = False
        end = _snapshot(rec, world)
        if _python_state(world) != python_state:
            rec.note_break("the step changes Python state it reaches (an attribute, a dict, a list), "
                           "which a replay would not")
        try:
            loc_objs = {id(t): loc for loc, t, _s, _v in end if t is not None}
            ret_enc = _encode_return(result, rec, loc_objs)
            program = _build(rec, start, end, in_slots, ret_enc, world)
        except _UnsupportedError as exc:
            self.programs[key] = str(exc)
            self._warn(str(exc))
            return result
        program.sources = [("none", None) if j in program.released else src for j, src in enumerate(sources)]
        program.aliases = aliases
        if self._graph_run is None:  # (a CUDA graph holds its program's addresses: a block of its own)
            program.arenas = self.arenas
        program.replay_plan = None  # (written at its first replay: see _ReplayPlan)
        self.programs[key] = program
        return result

    def _replay(self, key: tuple, program: _Program, world: _World, inputs: list, args: tuple, kwargs: dict) -> Any:
        plan = program.replay_plan
        if plan is None:
            plan = program.replay_plan = _ReplayPlan(program)
        arrays = plan.fetch(inputs)
        for loc, k in program.aliases:
            if loc.read()._data is not arrays[k]:
                # Two places that shared one array at the recording no longer do.
                return self._eager(args, kwargs, f"{loc.label} no longer shares its array as when recorded")
        program.replayed += 1
        if program.replayed == program.INTERPRETED_REPLAYS + 1:
            program.compile_source()
        try:
            out = program.run(*arrays) if self._graph_run is None else self._graph_run(self, program, arrays)
        except _CheckFailedError:  # (raised before the program wrote into any array)
            return self._eager(args, kwargs, "a check of values answered otherwise than when recorded")
        except _HostChangedError:  # (also raised before any write): a new program from now on
            self.host_changes += 1
            self._hit = None
            if self.host_changes > RECOMPILE_LIMIT:
                self.programs[key] = "an optimizer's host values keep changing what the step runs"
                return self._eager(args, kwargs, self.programs[key])
            del self.programs[key]
            return self._record(key, world, args, kwargs, inputs)
        self.stats["replayed"] += 1
        return plan.finish(out)


def _input_key(value: Any, tensors: list) -> Any:
    """The guard on the arguments: each tensor's shape, dtype, device and requires_grad,
    other values themselves; None for an argument that cannot be guarded."""
    if isinstance(value, Tensor):
        tensors.append(value)
        return (Tensor, value._data.shape, _strides(value._data, value._be), value._data.dtype, value._be,
                value._requires_grad)
    if value is None or value.__class__ in (int, float, bool, str):
        return (value.__class__, value)
    if value.__class__ in (tuple, list):
        parts = tuple(_input_key(v, tensors) for v in value)
        return None if None in parts else (value.__class__, parts)
    if value.__class__ is dict:
        parts = tuple((k, _input_key(v, tensors)) for k, v in value.items())
        return None if any(p is None for _k, p in parts) else (dict, parts)
    return None


def compile(fn: Callable | None = None, **options: Any) -> Any:  # noqa: A001 - PyTorch's name
    """Compile ``fn`` (a training step: forward, ``backward()``, ``optimizer.step()``) into a
    replayed program; usable as ``@autodiff.compile`` or ``@autodiff.compile(...)``.
    ``mode="reduce-overhead"`` (or ``"max-autotune"``) also captures the replays of CUDA
    programs into CUDA graphs (autodiff/compiled_cuda_graph.py); PyTorch's other options
    (``fullgraph``, ``dynamic``, ``backend``) are accepted and ignored."""
    mode = options.get("mode")
    if fn is None:
        return lambda f: CompiledFunction(f, mode)
    return CompiledFunction(fn, mode)
