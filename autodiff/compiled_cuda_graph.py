"""CUDA graphs for ``autodiff.compile``: a replay program captured once, launched at each step.

With ``autodiff.compile(fn, mode="reduce-overhead")`` (PyTorch's name for the mode that uses
CUDA graphs), a program whose calls all run on one CUDA device is, after ``WARMUP_REPLAYS``
plain replays (CuPy has compiled its kernels, cuBLAS has its handles, the memory pool has
settled), run once more under stream capture (``ArrayBackend.capture_graph``). Its kernels
become one CUDA graph; later calls launch that graph instead of calling the backend once per
array op:

- the arguments' arrays are copied into the graph's *static input buffers* (one device copy
  each), then the graph is launched on the device's current stream;
- the step's state -- parameters, ``.grad``, optimizer state, buffers -- is read and written
  by the graph in place, at the addresses it had at the capture; a location whose array was
  replaced between calls (``p.data = ...`` outside the step) makes that call a plain replay
  and the next call captures again;
- what the step returns is copied out of the graph's *static output buffers* (so a loss
  kept from an earlier step keeps its value); the arrays the step writes into the state
  (a new ``.grad`` each step) are the graph's buffers themselves, rewritten by every launch.

What cannot be in a graph keeps the plain replay, with a one-time ``CUDAGraphBreak`` warning
naming the cause: calls on the CPU or on a second device, an optimizer step that runs eagerly
(its step counter read on the host), a value check read on the host, and whatever the capture
itself refuses (a host read or synchronization, an allocation or a copy from the host, ...).
See docs/compile.md, "CUDA graphs".
"""

from __future__ import annotations

import warnings
from typing import Any

from autodiff.compiled_step import (
    _MUTATING,
    _RANDOM,
    REPLAY_RUNNERS,
    CaptureBreak,
    _interpreter,
    _ret_slots,
    _slots_in,
)
from backends.array_backend import GraphCaptureError

__all__ = ["CUDAGraphBreak", "MODES", "WARMUP_REPLAYS", "MAX_CAPTURES", "run"]

# ``autodiff.compile``'s modes that capture CUDA graphs (as PyTorch's: "reduce-overhead" and
# "max-autotune" use them; "default" and "max-autotune-no-cudagraphs" do not).
MODES = frozenset({"reduce-overhead", "max-autotune"})
# Plain replays of a program before it is captured (the first ones also compile its source).
WARMUP_REPLAYS = 3
# Captures of one program before it stays a plain replay (each recapture follows a location
# whose array was replaced between calls).
MAX_CAPTURES = 3


class CUDAGraphBreak(CaptureBreak):
    """Warned (once per cause and function) when a compiled step's program replays without a
    CUDA graph: the values are the same, only the launches are not saved."""


class _GraphState:
    """A program's CUDA graph, or why it has none (``off``)."""

    def __init__(self, program: Any) -> None:
        self.graph: Any = None
        self.be: Any = None
        self.static: list = []  # the arrays the graph reads, one per argument of the program
        self.outputs: tuple = ()  # the graph's static output buffers, one per returned slot
        self.copied: list = []  # per output: copied out at each launch (returned to the caller)
        self.captures = 0
        self.launches = 0
        self.off: str | None = None  # why the program is not a graph ("" when it has no CUDA call)
        self.body: Any = None  # what is captured: the program less its value checks (None: all of it)
        self.precheck: Any = None  # the value checks and the calls they read, run before each launch
        self.used: list = []  # indices of the arguments the graph reads
        self.copied_in: set = set()  # of those, the ones copied into a static buffer of the graph's own
        self._inspect(program)

    def _inspect(self, program: Any) -> None:
        calls = [op for op in program.ops if op[0] == "call"]
        backends = {id(op[6]): op[6] for op in calls if op[6] is not None}
        graphed = [be for be in backends.values() if be.supports_graphs]
        if not graphed:
            self.off = ""  # a CPU program: nothing to capture, nothing to say
            return
        if any(op[5] in _RANDOM for op in calls):
            self.off = "it draws random numbers (a graph would launch the draws of its capture again)"
            return
        if any(op[4] is not None and op[4][0] == "host" for op in calls):
            self.off = ("it computes host values at every step (an optimizer's step counter and bias "
                        "corrections), which a captured graph would freeze at their first values")
            return
        if len(backends) > 1:
            other = next(be for be in backends.values() if be is not graphed[0])
            self.off = (f"it calls the {other.name} device as well as {graphed[0].name} "
                        "(a graph holds one device's kernels)")
            return
        self.be = graphed[0]
        if any(op[0] == "region" for op in program.ops):
            self.off = ("an optimizer step inside it runs eagerly (it reads its step counter on the "
                        "host, which a graph cannot do)")
            return
        if not self._split_checks(program):
            return
        used = set(program.returned)
        for op in calls:
            used |= _slots_in(op[2]) | _slots_in(list(op[3].values()))
        self.used = [i for i, s in enumerate(program.in_slots) if s in used]
        rewritten = {loc.ident for loc, action, _slot, _x in program.out_plan if action in ("data", "new")}
        # Arguments copied into buffers of the graph: the step's inputs, and the state the step
        # replaces by a new array (the next step reads the array this one made). The other
        # state (parameters updated in place) the graph reads and writes where it lives.
        self.copied_in = {i for i in self.used if program.sources[i][0] == "input"
                          or program.sources[i][1].ident in rewritten}
        written_back = {slot for _loc, action, slot, _x in program.out_plan if action in ("data", "new")}
        if written_back & set(program.in_slots):
            self.off = "the step stores an argument's or a location's array in another location"
            return
        ret = _ret_slots(program.ret)
        self.copied = [s in ret for s in program.returned]

    def _split_checks(self, program: Any) -> bool:
        """Take the program's value checks (an index in range: ``any`` of a mask, read on the
        host) out of what is captured: they run before each launch, with the calls that make
        what they read, and a check that answers otherwise makes the call eager before the
        graph wrote anything. The recording puts every check before the step's first write,
        so those calls read the step's inputs as they are at its start. False (and ``off``
        set) when a check reads what a writing call made."""
        ops = program.ops
        checks = {k for k, op in enumerate(ops) if op[0] == "call" and op[4] is not None and op[4][0] == "check"}
        if not checks:
            return True
        made_by: dict = {}  # slot -> index of the op that makes it
        for k, op in enumerate(ops):
            out = op[4] if op[0] == "call" else None
            if out is not None and out[0] in ("new", "tuple"):
                made_by[out[1]] = k
                if out[0] == "tuple":
                    made_by.update((s, k) for s in out[2] if s is not None)
        needed: set = set()
        todo = list(checks)
        while todo:
            k = todo.pop()
            if k in needed:
                continue
            needed.add(k)
            op = ops[k]
            if op[0] != "call" or op[5] in _MUTATING or "out" in op[3] or (op[4] is not None and op[4][0] == "same"):
                self.off = f"a check of values ({ops[min(checks)][5]}) reads what a writing call made"
                return False
            todo.extend(made_by[s] for s in _slots_in(op[2]) | _slots_in(list(op[3].values())) if s in made_by)
        args = (program.in_slots, [], program.consts, program.n_slots)
        self.precheck = _interpreter([ops[k] for k in sorted(needed)], *args)
        self.body = _interpreter([op for k, op in enumerate(ops) if k not in checks], program.in_slots,
                                 program.returned, program.consts, program.n_slots)
        return True


def run(compiled: Any, program: Any, arrays: list) -> tuple:
    """The outputs of ``program`` (a ``compiled_step._Program``) for ``arrays``: from its CUDA
    graph when it has one (captured here once its warm-up replays are done), else from a
    plain replay."""
    state = program.__dict__.get("cuda_graph")
    if state is None:
        state = program.cuda_graph = _GraphState(program)
        if state.off:
            _warn(compiled, state.off)
    if state.off is not None or program.replayed <= WARMUP_REPLAYS:
        return program.run(*arrays)
    if state.precheck is not None:
        state.precheck(*arrays)  # (raises compiled_step's _CheckFailedError: the call goes eager)
    if state.graph is None:
        return _capture(compiled, program, state, arrays)
    return _launch(compiled, program, state, arrays)


def _capture(compiled: Any, program: Any, state: _GraphState, arrays: list) -> tuple:
    be = state.be
    static = list(arrays)
    for i in state.used:
        if be.adopt(arrays[i]) is None:
            state.off = f"argument {i} of its program is not an array of {be.name}"
            _warn(compiled, state.off)
            return program.run(*arrays)
        if i in state.copied_in:
            static[i] = be.copy(arrays[i])  # a static input buffer
    state.captures += 1
    try:
        graph, outputs = be.capture_graph(state.body or program.run, static)
    except GraphCaptureError as exc:  # (nothing the capture ran happened: replay the step)
        state.off = f"capturing it failed: {exc}"
        _warn(compiled, state.off)
        return program.run(*arrays)
    state.graph, state.static, state.outputs = graph, static, tuple(outputs)
    return _launch(compiled, program, state, arrays)


def _launch(compiled: Any, program: Any, state: _GraphState, arrays: list) -> tuple:
    be, static = state.be, state.static
    for i in state.used:
        a = arrays[i]
        if a is static[i]:
            continue
        if i in state.copied_in:
            be.copyto(static[i], a)
            continue
        # A location's array was replaced since the capture (outside the step): the graph
        # would read and write the old one. Replay this call; the next one captures again.
        state.graph = None
        if state.captures >= MAX_CAPTURES:
            state.off = "the arrays of the step's state keep being replaced between calls"
            _warn(compiled, state.off)
        return program.run(*arrays)
    be.launch_graph(state.graph)
    state.launches += 1
    return tuple(be.copy(a) if copy else a for a, copy in zip(state.outputs, state.copied))


def _warn(compiled: Any, cause: str) -> None:
    key = ("cuda graph", cause)
    if key not in compiled.warned:
        compiled.warned.add(key)
        name = getattr(compiled.fn, "__qualname__", repr(compiled.fn))
        warnings.warn(f"autodiff.compile: {name} replays without a CUDA graph: {cause}", CUDAGraphBreak,
                      stacklevel=5)


REPLAY_RUNNERS.update(dict.fromkeys(MODES, run))
