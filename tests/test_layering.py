"""The layering docs/architecture.md describes, checked from the source text.

No import cycle among the library's modules (function-local imports counted, except the
commented lazy loads of CuPy), ``backends`` never imports ``autodiff``, ``Tensor`` sits
below ops and autograd, only node.py and the engine read a node's edge storage, and no
two node classes share a Python name.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import autodiff
from autodiff.autograd.function import BackwardFunction
from autodiff.autograd.node import Node

ROOT = Path(__file__).resolve().parents[1]
LAZY = {"backends.cupy_backend"}  # imported on the first CUDA call only (commented there)


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in ("autodiff", "backends"):
        for f in (ROOT / pkg).rglob("*.py"):
            name = ".".join(f.relative_to(ROOT).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = f
    return mods


def _imports(name: str, path: Path, mods: dict) -> set[str]:
    """The library modules ``name`` imports (anywhere in the file)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".")[: len(name.split(".")) - node.level + (path.name == "__init__.py")]
                base = ".".join(parts + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in mods:
                t = t.rpartition(".")[0]
            # (a package importing its own submodules is how it exports them, not a cycle)
            if t and t != name and t not in LAZY and not t.startswith(name + "."):
                out.add(t)
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {m: _imports(m, p, mods) for m, p in mods.items()}


def test_no_import_cycle() -> None:
    graph = _graph()
    # Depth-first search for a back edge.
    state: dict[str, int] = {}
    for start in graph:
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = state.get(start, 0) or 1
        if state[start] == 2:
            continue
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            if not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(sorted(graph[nxt]))))
                path.append(nxt)


def test_backends_never_import_autodiff_and_tensor_is_at_the_bottom() -> None:
    graph = _graph()
    for mod, deps in graph.items():
        if mod.startswith("backends"):
            assert not any(d.startswith("autodiff") for d in deps), mod
    below_tensor = {"autodiff", "autodiff.dtypes", "autodiff.device", "autodiff._formatting"}
    assert graph["autodiff.tensor"] <= below_tensor | {d for d in graph if d.startswith("backends")}


def test_only_node_and_engine_read_the_edge_storage() -> None:
    allowed = {ROOT / "autodiff/autograd/node.py", ROOT / "autodiff/autograd/engine.py"}
    readers = [str(f.relative_to(ROOT)) for f in (ROOT / "autodiff").rglob("*.py")
               if f not in allowed and ".next_edges" in f.read_text()]
    assert not readers, f"read edges through edges_of(node), not node.next_edges: {readers}"


def _node_classes() -> list[type]:
    seen, todo = [], [Node]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen and sub.__module__.startswith("autodiff"):
                seen.append(sub)
                todo.append(sub)
    return seen


def test_node_classes_have_distinct_python_names() -> None:
    assert autodiff.Tensor  # the library (and all its node classes) is imported
    by_name: dict[str, list[str]] = {}
    for cls in _node_classes():
        if issubclass(cls, BackwardFunction) and cls is not BackwardFunction:
            continue  # the node class of a user's Function is named after the Function
        by_name.setdefault(cls.__name__, []).append(inspect.getmodule(cls).__name__)
    shared = {n: m for n, m in by_name.items() if len(m) > 1}
    assert not shared, f"node classes that share a name: {shared}"
