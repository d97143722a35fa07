"""``autodiff.viz``: pictures of the autograd graph, in the style of the torchviz package.

``make_dot(loss, params=dict(model.named_parameters()))`` walks the graph behind ``loss``
and returns a ``Digraph``: its ``source`` is Graphviz's DOT text (no dependency needed);
``pipe("svg")`` and ``render("graph", format="png")`` run Graphviz through the ``graphviz``
Python package, which needs Graphviz's ``dot`` program installed (``apt-get install
graphviz``, ``brew install graphviz``, ``conda install graphviz``).

The picture is torchviz's: gray boxes are the backward nodes, named as PyTorch names them
(``MmBackward0``, ``AccumulateGrad``, ``MyReLUBackward`` for a custom Function); blue boxes
are the leaves that will receive ``.grad``, labelled with their name in ``params`` and their
shape; green is the output (dark green: the base of an output that is a view); orange are
saved tensors (a custom Function's ``ctx.saved_tensors`` always, and with ``show_saved`` the
tensors every node keeps for its backward, named as in ``grad_fn._saved_<name>``). Edges
point the way the forward computation ran, so the path from each parameter to the output
reads from top to bottom. torchviz itself also works on autodiff graphs (see
docs/graph_pictures.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from autodiff.autograd.node import FREED, AccumulateGrad, Node
from autodiff.tensor import Tensor

__all__ = ["Digraph", "make_dot"]

# torchviz's styles, so that both draw the same picture.
NODE_ATTR = {"style": "filled", "shape": "box", "align": "left", "fontsize": "10", "ranksep": "0.1",
             "height": "0.2", "fontname": "monospace"}
LEAF, SAVED, OUTPUT, OUTPUT_BASE = "lightblue", "orange", "darkolivegreen1", "darkolivegreen3"

RENDER_NEEDS = ("rendering a graph needs the 'graphviz' Python package (pip install graphviz) and "
                "Graphviz's 'dot' program on PATH (apt-get install graphviz, brew install graphviz or "
                "conda install graphviz); the DOT text is in .source without either")


def _quote(text: str) -> str:
    """A DOT quoted string (newlines kept as DOT's ``\\n`` line breaks)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(attrs: dict[str, str]) -> str:
    return " ".join(f"{k}={_quote(str(v))}" for k, v in attrs.items())


@dataclass
class Digraph:
    """A directed graph with the parts of ``graphviz.Digraph`` that torchviz's users call:
    ``node``, ``edge``, ``source``, ``pipe`` and ``render``. ``nodes`` (id -> attributes,
    ``label`` included) and ``edges`` (tail id, head id, attributes) keep the structure."""

    node_attr: dict[str, str] = field(default_factory=dict)
    graph_attr: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def node(self, name: str, label: str | None = None, **attrs: str) -> None:
        """Add (or restyle) node ``name``."""
        entry = self.nodes.setdefault(name, {})
        if label is not None:
            entry["label"] = label
        entry.update(attrs)

    def edge(self, tail: str, head: str, **attrs: str) -> None:
        """Add an edge from ``tail`` to ``head``."""
        self.edges.append((tail, head, dict(attrs)))

    @property
    def source(self) -> str:
        """The graph as DOT text."""
        lines = ["digraph {"]
        if self.graph_attr:
            lines.append(f"\tgraph [{_attrs(self.graph_attr)}]")
        if self.node_attr:
            lines.append(f"\tnode [{_attrs(self.node_attr)}]")
        lines += [f"\t{_quote(n)} [{_attrs(a)}]" for n, a in self.nodes.items()]
        lines += [f"\t{_quote(t)} -> {_quote(h)}" + (f" [{_attrs(a)}]" if a else "")
                  for t, h, a in self.edges]
        return "\n".join(lines + ["}"]) + "\n"

    def __str__(self) -> str:
        return self.source

    def _graphviz_source(self) -> Any:
        try:
            import graphviz  # an optional dependency, needed only to render
        except ImportError:
            raise RuntimeError(RENDER_NEEDS + ": the graphviz package is not installed") from None
        return graphviz, graphviz.Source(self.source)

    def pipe(self, format: str = "svg") -> bytes:
        """The picture in ``format`` (``"svg"``, ``"png"``, ``"pdf"``...), as bytes."""
        graphviz, src = self._graphviz_source()
        try:
            return src.pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise RuntimeError(RENDER_NEEDS + ": the 'dot' program was not found") from None

    def render(self, filename: str | os.PathLike = "graph", format: str = "svg") -> str:
        """Write the DOT text to ``filename`` and the picture next to it
        (``filename.<format>``); returns the picture's path."""
        picture = f"{os.fspath(filename)}.{format}"
        data = self.pipe(format)
        with open(filename, "w", encoding="utf-8") as f:
            f.write(self.source)
        with open(picture, "wb") as f:
            f.write(data)
        return picture

    def _repr_svg_(self) -> str | None:
        # Notebooks show the picture when Graphviz is there, and the repr otherwise.
        try:
            return self.pipe("svg").decode("utf-8")
        except RuntimeError:
            return None


def _size(t: Tensor) -> str:
    return "(" + ", ".join(str(int(n)) for n in t.shape) + ")"


def _saved_attributes(fn: Node) -> list[tuple[str, Any]]:
    """``(name, value)`` of each ``grad_fn._saved_<name>`` the node has (tensors and others)."""
    if fn.saved is FREED:  # released by a backward: nothing left to show
        return []
    out = []
    for attr in dir(fn):
        if attr.startswith("_saved_"):
            out.append((attr[len("_saved_"):], getattr(fn, attr)))
    return out


def _fn_label(fn: Node, show_attrs: bool, max_attr_chars: int) -> str:
    name = fn.name().removeprefix("torch::autograd::")
    if not show_attrs:
        return name
    attrs = {}
    for key, value in _saved_attributes(fn):
        if isinstance(value, Tensor):
            attrs[key] = "[saved tensor]"
        elif isinstance(value, tuple) and any(isinstance(v, Tensor) for v in value):
            attrs[key] = "[saved tensors]"
        else:
            attrs[key] = str(value)
    if not attrs:
        return name
    width = max(max_attr_chars, 3)
    col1 = max(len(k) for k in attrs)
    col2 = min(max(len(v) for v in attrs.values()), width)
    rows = [f"{k:<{col1}}: {v if len(v) <= col2 else v[:col2 - 3] + '...':>{col2}}" for k, v in attrs.items()]
    return "\n".join([name, "-" * max(col1 + col2 + 2, len(name))] + rows)


def make_dot(var: Tensor | tuple[Tensor, ...], params: dict[str, Tensor] | None = None,
             show_attrs: bool = False, show_saved: bool = False, max_attr_chars: int = 50) -> Digraph:
    """The autograd graph behind ``var`` (a tensor or a tuple of them), as a ``Digraph``.

    ``params`` names leaves (``dict(model.named_parameters())``); ``show_attrs`` lists each
    node's saved non-tensor attributes (``dim``, ``exponent``...); ``show_saved`` draws the
    tensors each node saved for its backward. The arguments and the picture are those of
    torchviz's ``make_dot``.
    """
    if params is not None:
        bad = [k for k, v in params.items() if not isinstance(v, Tensor)]
        if bad:
            raise TypeError(f"make_dot(): params must map names to tensors; {bad[0]!r} is not a tensor")
    names = {id(v): k for k, v in (params or {}).items()}
    dot = Digraph(node_attr=dict(NODE_ATTR), graph_attr={"size": "12,12"})
    seen: set[int] = set()

    def tensor_node(t: Tensor, color: str, name: str | None = None) -> str:
        key = str(id(t))
        seen.add(id(t))
        dot.node(key, f"{name or names.get(id(t), '')}\n {_size(t)}", fillcolor=color)
        return key

    # Iterative, as backward is: a deep graph must not hit the recursion limit.
    def add_nodes(root: Node) -> None:
        stack = [root]
        while stack:
            fn = stack.pop()
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            key = str(id(fn))
            if show_saved:
                for attr, value in _saved_attributes(fn):
                    tensors = [(attr, value)] if isinstance(value, Tensor) else (
                        [(f"{attr}[{i}]", v) for i, v in enumerate(value) if isinstance(v, Tensor)]
                        if isinstance(value, tuple) else [])
                    for label, t in tensors:
                        dot.edge(key, tensor_node(t, SAVED, label), dir="none")
            if isinstance(fn, AccumulateGrad):
                leaf = fn.variable
                if leaf is not None:
                    dot.edge(tensor_node(leaf, LEAF), key)
            dot.node(key, _fn_label(fn, show_attrs, max_attr_chars))
            nexts = [u for u, _ in fn.next_functions if u is not None]
            for u in nexts:
                dot.edge(str(id(u)), key)
            # A custom Function's own saved tensors (torchviz shows these always).
            if hasattr(fn, "saved_tensors") and not isinstance(fn, AccumulateGrad):
                for t in fn.saved_tensors:
                    dot.edge(tensor_node(t, SAVED), key, dir="none")
            stack.extend(reversed(nexts))

    def add_output(t: Tensor, color: str = OUTPUT) -> None:
        while t is not None and id(t) not in seen:
            key = tensor_node(t, color)
            if t.grad_fn is not None:
                add_nodes(t.grad_fn)
                dot.edge(str(id(t.grad_fn)), key)
            base = t._base
            if base is not None:
                dot.edge(str(id(base)), key, style="dotted")
            t, color = base, OUTPUT_BASE

    for t in var if isinstance(var, tuple) else (var,):
        add_output(t)
    # torchviz's sizing: larger graphs get a larger canvas.
    size = max(12.0, (len(dot.nodes) + len(dot.edges)) * 0.15)
    dot.graph_attr["size"] = f"{size},{size}"
    return dot
