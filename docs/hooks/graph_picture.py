"""MkDocs hook: the picture of the MyReLU network's graph in docs/graph_pictures.md.

At build time it runs one forward pass of examples/myrelu_two_layer.py's network (its
``MyReLU`` Function, its sizes), draws the graph with ``autodiff.viz.make_dot`` and adds
``images/myrelu_graph.dot`` to the site; when Graphviz's ``dot`` program is installed, also
``images/myrelu_graph.svg``. The marker ``<!-- graph: myrelu -->`` in the page becomes the
picture (and the DOT text in a collapsed block), or, without ``dot``, the DOT text and a
note saying so.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "myrelu_two_layer.py"
MARKER = "<!-- graph: myrelu -->"
DOT_PATH, SVG_PATH = "images/myrelu_graph.dot", "images/myrelu_graph.svg"

_built: dict[str, Any] = {}


def myrelu_graph(show_saved: bool = False) -> Any:
    """The ``Digraph`` of one forward pass of the example's two-layer network."""
    import autodiff as torch
    from autodiff.viz import make_dot

    spec = importlib.util.spec_from_file_location("myrelu_two_layer", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    torch.manual_seed(0)
    N, D_in, H, D_out = 64, 1000, 100, 10  # the example's sizes
    x, y = torch.randn(N, D_in), torch.randn(N, D_out)
    w1 = torch.randn(D_in, H, requires_grad=True)
    w2 = torch.randn(H, D_out, requires_grad=True)
    y_pred = example.MyReLU.apply(x.mm(w1)).mm(w2)  # the example's forward and loss
    loss = (y_pred - y).pow(2).sum()
    return make_dot(loss, params={"w1": w1, "w2": w2}, show_saved=show_saved)


def on_files(files: Any, config: Any) -> Any:
    """MkDocs event: add the graph's DOT text (and SVG, when ``dot`` exists) to the site."""
    from mkdocs.structure.files import File

    dot = myrelu_graph()
    _built["dot"] = dot.source
    files.append(File.generated(config, DOT_PATH, content=dot.source))
    _built["svg"] = shutil.which("dot") is not None
    if _built["svg"]:
        files.append(File.generated(config, SVG_PATH, content=dot.pipe("svg")))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """MkDocs event: put the picture where the page has the marker."""
    if MARKER not in markdown:
        return markdown
    source = "```dot\n" + _built["dot"] + "```\n"
    if _built["svg"]:
        block = (f"![The MyReLU network's autograd graph]({SVG_PATH})\n\n"
                 f"??? note \"The DOT text ({len(_built['dot'])} characters, [download]({DOT_PATH}))\"\n\n"
                 + "".join(f"    {line}\n" if line else "\n" for line in source.splitlines()))
    else:
        block = ("!!! note \"Graphviz's `dot` program was not installed when this site was built\"\n"
                 "    so here is the DOT text; paste it into any Graphviz viewer, or install "
                 "Graphviz and rebuild.\n\n" + source)
    return markdown.replace(MARKER, block)
