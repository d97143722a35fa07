"""autodiff.viz.make_dot against torchviz, and torchviz itself on autodiff graphs.

The pictures are compared by structure: node ids are ``id()``s, different in every run, so
each graph becomes the multiset of its edges, each edge named by the labels and colours of
its two ends.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from collections import Counter

import pytest

import autodiff
from autodiff.viz import Digraph, make_dot

# torchviz compares versions with distutils' LooseVersion, which warns on Python 3.11.
pytestmark = pytest.mark.filterwarnings("ignore:distutils Version classes:DeprecationWarning")


def structure(nodes: dict[str, dict], edges: list[tuple[str, str, dict]]) -> tuple[Counter, Counter]:
    """(multiset of node (label, colour), multiset of edges between them)."""
    def name(key: str) -> tuple:
        attrs = nodes[key]
        return attrs.get("label", ""), attrs.get("fillcolor", "gray")

    return (Counter(name(k) for k in nodes),
            Counter((name(t), name(h), a.get("dir", ""), a.get("style", "")) for t, h, a in edges))


ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)', re.S)


def parse_graphviz(dot) -> tuple[dict, list]:
    """Nodes and edges of a graphviz.Digraph (what torchviz returns), from its body."""
    nodes: dict[str, dict] = {}
    edges = []
    for stmt in dot.body:
        stmt = stmt.strip()
        m = re.match(r"^(\S+) -> (\S+)(?: \[(.*)\])?$", stmt, re.S)
        if m:
            edges.append((m[1], m[2], _attrs(m[3] or "")))
            continue
        m = re.match(r"^(\S+) \[(.*)\]$", stmt, re.S)
        if m:
            nodes.setdefault(m[1], {}).update(_attrs(m[2]))
    return nodes, edges


def _attrs(text: str) -> dict:
    out = {}
    for k, v in ATTR.findall(text):
        out[k] = v[1:-1].replace('\\"', '"') if v.startswith('"') else v
    return out


def mine(dot: Digraph) -> tuple[Counter, Counter]:
    return structure(dot.nodes, dot.edges)


def theirs(dot) -> tuple[Counter, Counter]:
    return structure(*parse_graphviz(dot))


def myrelu_class(lib):
    """The MyReLU Function of examples/myrelu_two_layer.py, written against ``lib``."""

    class MyReLU(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    return MyReLU


def small_net(lib):
    """A two-layer net with a custom Function, a broadcast bias, a view and a number operand."""
    lib.manual_seed(0)
    x = lib.randn(5, 3)
    w1 = lib.randn(3, 4, requires_grad=True)
    b1 = lib.randn(4, requires_grad=True)
    w2 = lib.randn(4, 2, requires_grad=True)
    h = myrelu_class(lib).apply(x.mm(w1) + b1)
    loss = (h.mm(w2).tanh() * 2.0).view(-1).pow(2).mean()
    return loss, {"w1": w1, "b1": b1, "w2": w2}


def torchviz_on_autodiff():
    """torchviz's ``make_dot`` with its ``import torch`` resolving to autodiff, as
    ``import autodiff as torch`` would give a library (loaded as a separate copy; the real
    ``torch`` modules are put back at once)."""
    spec = importlib.util.spec_from_file_location("torchviz_on_autodiff", importlib.util.find_spec("torchviz.dot").origin)
    module = importlib.util.module_from_spec(spec)
    saved = {k: sys.modules.get(k) for k in ("torch", "torch.autograd")}
    sys.modules["torch"], sys.modules["torch.autograd"] = autodiff, autodiff.autograd
    try:
        spec.loader.exec_module(module)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    return module.make_dot


def test_make_dot_draws_pytorch_names_params_and_the_output():
    loss, params = small_net(autodiff)
    dot = make_dot(loss, params=params)
    labels = {a["label"] for a in dot.nodes.values()}
    for name in ["MmBackward0", "AddBackward0", "MyReLUBackward", "TanhBackward0", "MulBackward0",
                 "ViewBackward0", "PowBackward0", "MeanBackward0", "AccumulateGrad",
                 "w1\n (3, 4)", "b1\n (4)", "w2\n (4, 2)", "\n ()"]:
        assert name in labels, f"{name!r} not among {sorted(labels)}"
    colours = Counter(a.get("fillcolor") for a in dot.nodes.values())
    assert colours["lightblue"] == 3 and colours["darkolivegreen1"] == 1
    assert colours["orange"] == 1  # MyReLU's ctx.saved_tensors, drawn always
    # Each parameter's path reaches the output: follow edges from w1 to the loss.
    succ: dict[str, list[str]] = {}
    for t, h, a in dot.edges:
        if a.get("dir") != "none":
            succ.setdefault(t, []).append(h)
    out = next(k for k, a in dot.nodes.items() if a.get("fillcolor") == "darkolivegreen1")
    for key, a in dot.nodes.items():
        if a.get("fillcolor") == "lightblue":
            seen, todo = set(), [key]
            while todo:
                k = todo.pop()
                seen.add(k)
                todo += [h for h in succ.get(k, []) if h not in seen]
            assert out in seen, f"no path from {a['label']!r} to the output"
    assert dot.source.startswith("digraph {") and dot.source.count("->") == len(dot.edges)


def test_make_dot_matches_torchviz_on_the_same_pytorch_graph():
    torch = pytest.importorskip("torch")
    torchviz = pytest.importorskip("torchviz")
    loss, params = small_net(autodiff)
    tloss, tparams = small_net(torch)
    assert mine(make_dot(loss, params=params)) == theirs(torchviz.make_dot(tloss, params=tparams))


def test_make_dot_matches_torchviz_for_a_view_output_and_several_outputs():
    torch = pytest.importorskip("torch")
    torchviz = pytest.importorskip("torchviz")

    def outputs(lib):
        w = lib.ones(2, 3, requires_grad=True)
        y = (w * 3).t()  # a view: its base drawn in dark green, with a dotted edge
        return (y, (w + 1).sum()), {"w": w}

    (ours, p), (ref, tp) = outputs(autodiff), outputs(torch)
    assert mine(make_dot(ours, params=p)) == theirs(torchviz.make_dot(ref, params=tp))


def test_show_saved_draws_saved_tensors_with_their_names_and_shapes():
    x = autodiff.randn(3, 4, requires_grad=True)
    w = autodiff.randn(4, 2, requires_grad=True)
    loss = x.mm(w).exp().sum()
    dot = make_dot(loss, params={"x": x, "w": w}, show_saved=True)
    saved = {a["label"] for a in dot.nodes.values() if a.get("fillcolor") == "orange"}
    assert "result\n (3, 2)" in saved  # ExpBackward0 saves its output
    # MmBackward0's saved operands are the leaves themselves: drawn once, as leaves.
    assert {"x\n (3, 4)", "w\n (4, 2)"} <= {a["label"] for a in dot.nodes.values()}
    undirected = [e for e in dot.edges if e[2].get("dir") == "none"]
    assert len(undirected) == 3  # exp's result, mm's self and other


def test_show_attrs_lists_saved_values():
    x = autodiff.randn(3, 4, requires_grad=True)
    dot = make_dot(x.pow(3).sum(1), show_attrs=True)
    pow_label = next(a["label"] for a in dot.nodes.values() if a.get("label", "").startswith("PowBackward0"))
    assert re.search(r"exponent\s*:\s*3", pow_label) and re.search(r"self\s*:\s*\[saved tensor\]", pow_label)


def test_saved_values_are_listed_by_dir_as_in_pytorch():
    x = autodiff.randn(3, requires_grad=True)
    fn = (x * x).grad_fn
    assert {"_saved_self", "_saved_other"} <= set(dir(fn))
    assert fn._saved_self is x
    y = x.exp()
    assert "_saved_result" in dir(y.grad_fn)
    y.sum().backward()  # frees the saved tensors: dir() still works, listing none
    assert not [n for n in dir(y.grad_fn) if n.startswith("_saved_result")]
    assert not [n for n in dir(x.grad_fn or y.grad_fn.next_functions[0][0]) if n.startswith("_saved_")]


def test_is_view_and_variable_instances_as_in_pytorch():
    x = autodiff.ones(2, 3)
    assert not x._is_view() and x.t()._is_view() and x[0]._is_view()
    assert x.t()._base is x
    assert isinstance(x, autodiff.autograd.Variable) and not isinstance(3.0, autodiff.autograd.Variable)
    v = autodiff.autograd.Variable(x, requires_grad=True)
    assert v.requires_grad and v.is_leaf and type(v) is autodiff.Tensor


def test_a_deep_graph_does_not_recurse():
    x = autodiff.ones(1, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1.0
    dot = make_dot(y)
    assert len(dot.nodes) == 5003  # output, 5000 AddBackward0, AccumulateGrad, the leaf


def test_params_must_be_tensors():
    x = autodiff.ones(1, requires_grad=True)
    with pytest.raises(TypeError, match="params must map names to tensors; 'x'"):
        make_dot(x * 2, params={"x": [1.0]})


def test_rendering_without_the_graphviz_package_says_what_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz -> ImportError
    dot = make_dot(autodiff.ones(1, requires_grad=True) * 2)
    with pytest.raises(RuntimeError, match="needs the 'graphviz' Python package.*not installed"):
        dot.pipe("svg")
    assert dot._repr_svg_() is None


def test_rendering_without_the_dot_program_says_what_is_missing(monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.setenv("PATH", "")
    dot = make_dot(autodiff.ones(1, requires_grad=True) * 2)
    with pytest.raises(RuntimeError, match="'dot' program was not found"):
        dot.pipe("svg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_render_writes_the_dot_text_and_the_picture(tmp_path):
    pytest.importorskip("graphviz")
    w = autodiff.ones(2, 2, requires_grad=True)
    dot = make_dot((w * 2).sum(), params={"w": w})
    picture = dot.render(tmp_path / "g", format="svg")
    assert picture == str(tmp_path / "g.svg")
    assert (tmp_path / "g").read_text() == dot.source
    svg = (tmp_path / "g.svg").read_text()
    assert "<svg" in svg and "SumBackward0" in svg and "AccumulateGrad" in svg
    assert dot.pipe("png").startswith(b"\x89PNG")


def test_torchviz_draws_autodiff_graphs():
    """torchviz as installed (importing PyTorch) on an autodiff graph: the same picture."""
    pytest.importorskip("torch")
    torchviz = pytest.importorskip("torchviz")
    loss, _ = small_net(autodiff)
    assert theirs(torchviz.make_dot(loss)) == mine(make_dot(loss))


def test_torchviz_with_autodiff_as_its_torch_takes_params_and_shows_saved_tensors():
    pytest.importorskip("torch")
    pytest.importorskip("torchviz")
    tv_make_dot = torchviz_on_autodiff()
    loss, params = small_net(autodiff)
    with pytest.warns(UserWarning, match="PyTorch version >= 1.9"):  # it reads autodiff's __version__
        ref = tv_make_dot(loss, params=params, show_saved=True, show_attrs=True)
    ours = make_dot(loss, params=params, show_saved=True, show_attrs=True)
    assert theirs(ref) == mine(ours)
    assert {("w1\n (3, 4)", "lightblue"), ("b1\n (4)", "lightblue")} <= set(theirs(ref)[0])
