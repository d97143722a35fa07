"""A small profiler: which array ops ran, how often and for how long.

``with autodiff.autograd.profiler.profile() as prof: ...`` times every primitive array
call the backends make (the forward and the backward of every op come down to them),
named ``backend::<op>`` (PyTorch names its kernels ``aten::<op>``), and every range the
user marks with ``record_function("name")``. ``prof.key_averages().table(sort_by=...,
row_limit=...)`` prints PyTorch's table: self and total time, their share, average, calls.

How: while a profile is active, the methods of every backend already made are shadowed
by timing wrappers on the instances (removed on exit; the cpu backend is made first if
needed, a device first used inside the profile is not timed), so a program pays nothing when it
is not profiled. Times are host wall-clock times; on a GPU an array call returns when its
kernel is queued, so CUDA times are launch times unless the program synchronises.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import backends

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]

# What is not an array op: lookups and conversions that every op calls many times.
_NOT_OPS = {"name", "name_of_dtype", "dtype_name", "dtype_of", "is_view", "overlaps", "as_array", "device_type",
            "index", "kind"}

_active: list[profile] = []  # profiles running now (nested ones record into each)
_lock = threading.Lock()


@dataclass
class FunctionEvent:
    """One timed call or range: its name, start and end (microseconds), and its children."""

    name: str
    start_us: float
    end_us: float = 0.0
    input_shapes: list = field(default_factory=list)
    children: list = field(default_factory=list)

    @property
    def cpu_time_total(self) -> float:
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.children)

    key = property(lambda self: self.name)


@dataclass
class FunctionEventAvg:
    """The events of one name (and, with ``group_by_input_shape``, one set of shapes)."""

    key: str
    count: int = 0
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0
    input_shapes: list = field(default_factory=list)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / max(self.count, 1)

    def add(self, event: FunctionEvent) -> None:
        self.count += 1
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total


class EventList(list):
    """A list of events (or of their averages) that prints as PyTorch's table."""

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        groups: dict = {}
        for e in self:
            key = (e.name, str(e.input_shapes)) if group_by_input_shape else e.name
            avg = groups.get(key)
            if avg is None:
                avg = groups[key] = FunctionEventAvg(e.name, input_shapes=e.input_shapes)
            avg.add(e)
        return EventList(groups.values())

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for e in self:
            total.count += getattr(e, "count", 1)
            total.cpu_time_total += e.cpu_time_total
            total.self_cpu_time_total += e.self_cpu_time_total
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100, **_: Any) -> str:
        rows = list(self)
        if sort_by is not None:
            key = {"cpu_time_total": "cpu_time_total", "self_cpu_time_total": "self_cpu_time_total",
                   "cpu_time": "cpu_time", "count": "count"}.get(sort_by.replace("cuda", "cpu"), "cpu_time_total")
            rows.sort(key=lambda e: getattr(e, key), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        self_total = sum(e.self_cpu_time_total for e in self) or 1.0
        headers = ("Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                   "# of Calls")
        width = max([len(headers[0])] + [len(e.key) for e in rows]) + 2
        line = "-" * width + "  " + "  ".join(["-" * 12] * 6)
        fmt = f"{{:>{width}}}  " + "  ".join(["{:>12}"] * 6)
        out = [line, fmt.format(*headers), line]
        for e in rows:
            out.append(fmt.format(
                e.key, f"{100 * e.self_cpu_time_total / self_total:.2f}%", _us(e.self_cpu_time_total),
                f"{100 * e.cpu_time_total / self_total:.2f}%", _us(e.cpu_time_total),
                _us(e.cpu_time_total / max(getattr(e, "count", 1), 1)), getattr(e, "count", 1)))
        out += [line, f"Self CPU time total: {_us(sum(e.self_cpu_time_total for e in self))}"]
        return "\n".join(out) + "\n"

    def __str__(self) -> str:
        return self.table()


def _us(t: float) -> str:
    return f"{t / 1000:.3f}ms" if t >= 1000 else f"{t:.3f}us"


class profile:  # noqa: N801 - PyTorch's name
    """Context manager recording the array calls and ``record_function`` ranges inside it
    (in every thread). PyTorch's other arguments are accepted; ``record_shapes`` records
    the shapes of array arguments."""

    def __init__(self, enabled: bool = True, *, record_shapes: bool = False, **_: Any) -> None:
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.function_events = EventList()
        self._open = threading.local()

    # -- recording ------------------------------------------------------------------------
    def _begin(self, name: str, args: tuple = ()) -> FunctionEvent:
        shapes = [list(getattr(a, "shape", ())) for a in args] if self.record_shapes else []
        event = FunctionEvent(name, time.perf_counter() * 1e6, input_shapes=shapes)
        stack = self._stack()
        (stack[-1].children if stack else self.function_events).append(event)
        stack.append(event)
        return event

    def _end(self, event: FunctionEvent) -> None:
        event.end_us = time.perf_counter() * 1e6
        self._stack().pop()

    def _stack(self) -> list:
        stack = getattr(self._open, "stack", None)
        if stack is None:
            stack = self._open.stack = []
        return stack

    # -- results --------------------------------------------------------------------------
    def events(self) -> EventList:
        """Every event, ranges and the calls inside them, in the order they started."""
        out = EventList()
        todo = list(reversed(self.function_events))
        while todo:
            e = todo.pop()
            out.append(e)
            todo.extend(reversed(e.children))
        return out

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        return self.events().key_averages(group_by_input_shape)

    def table(self, **kwargs: Any) -> str:
        return self.key_averages().table(**kwargs)

    def __enter__(self) -> profile:
        if self.enabled:
            with _lock:
                if not _active:
                    _instrument()
                _active.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            with _lock:
                _active.remove(self)
                if not _active:
                    _uninstrument()


class record_function:  # noqa: N801 - PyTorch's name
    """A named range in the profile (context manager or decorator); free when nothing is
    being profiled."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name

    def __enter__(self) -> record_function:
        self.events = [(p, p._begin(self.name)) for p in list(_active)]
        return self

    def __exit__(self, *exc: Any) -> None:
        for p, event in self.events:
            p._end(event)

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name):
                return fn(*args, **kwargs)

        return wrapper


def _timed(name: str, fn: Callable) -> Callable:
    label = f"backend::{name}"

    def call(*args: Any, **kwargs: Any) -> Any:
        events = [(p, p._begin(label, args)) for p in list(_active)]
        try:
            return fn(*args, **kwargs)
        finally:
            for p, event in events:
                p._end(event)

    return call


# (backend, name, its own attribute before, whether it had one): what _instrument replaced.
_originals: list[tuple[Any, str, Any, bool]] = []


def _instrument() -> None:
    backends.get("cpu")  # (made on first use: make sure the default device is covered)
    for be in backends.loaded():
        own_attrs = vars(be)
        for name in dir(be):
            if name.startswith("_") or name in _NOT_OPS:
                continue
            attr = getattr(be, name)
            if callable(attr) and not isinstance(attr, type):
                own = name in own_attrs
                _originals.append((be, name, own_attrs.get(name), own))
                setattr(be, name, _timed(name, attr))


def _uninstrument() -> None:
    for be, name, value, own in reversed(_originals):
        if own:
            setattr(be, name, value)
        else:
            delattr(be, name)
    _originals.clear()
