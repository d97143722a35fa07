"""``autograd.graph`` and the node-level API: node hooks and pre-hooks (their return values),
``next_functions`` with Python-number operands, post-accumulate-grad hooks, saved-tensor
hooks (``saved_tensors_hooks``, ``save_on_cpu``, ``_raw_saved_*``), ``_saved_*`` attributes,
``register_multi_grad_hook``, ``allow_mutation_on_saved_tensors``, ``increment_version``,
``inference_mode`` and the profiler."""

from __future__ import annotations

import pytest

import autodiff
from autodiff.autograd import grad
from autodiff.autograd import graph as G
from tests._autograd_helpers import T, close


def test_node_hook_return_value_replaces_grad_inputs(device: str) -> None:
    a = T([0.0, 0.0, 0.0], device, True)
    b = a.clone()
    handle = b.grad_fn.register_hook(lambda gi, go: (go[0] * 2,))
    b.sum().backward(retain_graph=True)
    assert close(a.grad, [2.0, 2.0, 2.0])
    handle.remove()
    a.grad = None
    b.sum().backward()
    assert close(a.grad, [1.0, 1.0, 1.0])


def test_node_prehook_replaces_grad_outputs_and_runs_after_tensor_hooks(device: str) -> None:
    a = T([1.0, 2.0], device, True)
    b = a * 3
    order = []
    b.register_hook(lambda g: order.append("tensor") or g + 1)
    b.grad_fn.register_prehook(lambda go: order.append("pre") or (go[0] * 10,))
    b.grad_fn.register_hook(lambda gi, go: order.append("post"))
    b.sum().backward()
    assert order == ["tensor", "pre", "post"]
    assert close(a.grad, [60.0, 60.0])  # (1 + 1) * 10 * 3


def test_node_hook_returning_the_wrong_number_of_grads_is_refused() -> None:
    a = autodiff.ones(2, requires_grad=True)
    b = a * a
    b.grad_fn.register_hook(lambda gi, go: (gi[0], gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="MulBackward0: a hook returned 3 gradients, expected 2"):
        b.sum().backward()


NUMBER_OPERANDS = {
    "x * 2": lambda m, x: x * 2, "2 * x": lambda m, x: 2 * x, "x + 2": lambda m, x: x + 2,
    "x - 2": lambda m, x: x - 2, "x / 2": lambda m, x: x / 2, "2 - x": lambda m, x: 2 - x,
    "x ** 2": lambda m, x: x ** 2, "add alpha": lambda m, x: m.add(x, 2, alpha=3),
    "where": lambda m, x: m.where(x > 0, x, 0.0), "x * x": lambda m, x: x * x,
}


@pytest.mark.parametrize("name", sorted(NUMBER_OPERANDS))
def test_next_functions_match_torch(name: str) -> None:
    torch = pytest.importorskip("torch")

    def shape(lib: object) -> list:
        x = lib.ones(2, requires_grad=True)
        fn = NUMBER_OPERANDS[name](lib, x).grad_fn
        return [fn.name(), [(None if n is None else n.name(), nr) for n, nr in fn.next_functions]]

    assert shape(autodiff) == shape(torch)


def test_post_accumulate_grad_hook_runs_after_grad_is_stored(device: str) -> None:
    w = T([1.0, 2.0], device, True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    acc = (w * 1).grad_fn.next_functions[0][0]
    acc.register_hook(lambda gi, go: seen.append(("acc", gi, go[0].tolist())))
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    assert seen == [[3.0, 3.0], ("acc", (), [3.0, 3.0]), [6.0, 6.0], ("acc", (), [3.0, 3.0])]
    handle.remove()
    (w * 3).sum().backward()
    assert len(seen) == 5  # only the AccumulateGrad hook ran
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        autodiff.ones(2).register_post_accumulate_grad_hook(print)


def test_saved_tensors_hooks_pack_and_unpack_every_saved_tensor(device: str) -> None:
    x = T([0.5, 1.0, 2.0], device, True)
    packed = []

    def pack(t: autodiff.Tensor) -> tuple:
        packed.append(t.shape)
        return ("packed", t.detach().clone())

    with G.saved_tensors_hooks(pack, lambda p: p[1]):
        y = (x * x).sin()
    assert len(packed) == 3  # mul saves both operands, sin its input
    (g,) = grad(y.sum(), x, create_graph=True)
    assert close(g, (2 * x * (x * x).cos()).detach())
    # The unpacked tensors are joined to the graph again: double backward is right.
    (gg,) = grad(g.sum(), x)
    expected = 2 * (x * x).cos() - 4 * x * x * (x * x).sin()
    assert close(gg, expected.detach())


def test_saved_output_through_hooks_keeps_double_backward() -> None:
    x = autodiff.tensor([0.1, 0.7], dtype=autodiff.float64, requires_grad=True)
    with G.saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
        y = x.exp()
    (g,) = grad(y.sum(), x, create_graph=True)
    (gg,) = grad(g.sum(), x)
    assert close(gg, x.detach().exp())


def test_save_on_cpu_gives_the_same_gradients(device: str) -> None:
    x = T([0.5, 1.0, 2.0], device, True)
    with G.save_on_cpu():
        y = (x * 3).tanh().sum()
    y.backward()
    assert x.grad.device == x.device
    assert close(x.grad, (3 * (1 - (3 * x).tanh() ** 2)).detach())


def test_disable_saved_tensors_hooks_refuses_them() -> None:
    with G.disable_saved_tensors_hooks("not here"), pytest.raises(RuntimeError, match="not here"):
        with G.saved_tensors_hooks(lambda t: t, lambda t: t):
            pass
    with G.saved_tensors_hooks(lambda t: t, lambda t: t):  # allowed again afterwards
        pass


def test_unpack_hook_must_return_a_tensor() -> None:
    x = autodiff.ones(2, requires_grad=True)
    with G.saved_tensors_hooks(lambda t: t, lambda t: 3):
        y = (x * x).sum()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor"):
        y.backward()


def test_raw_saved_register_hooks() -> None:
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    y = autodiff.tensor([3.0, 4.0], requires_grad=True)
    z = x * y
    z.grad_fn._raw_saved_self.register_hooks(lambda t: t.detach(), lambda t: t * 10)
    z.sum().backward()
    assert close(y.grad, [10.0, 20.0]) and close(x.grad, [3.0, 4.0])


SAVED = {
    "mul": (lambda x, y: x * y, ["_saved_self", "_saved_other"]),
    "exp": (lambda x, y: x.exp(), ["_saved_result"]),
    "sin": (lambda x, y: x.sin(), ["_saved_self"]),
    "pow": (lambda x, y: x.pow(3), ["_saved_self", "_saved_exponent"]),
    "sigmoid": (lambda x, y: x.sigmoid(), ["_saved_result"]),
}


@pytest.mark.parametrize("name", sorted(SAVED))
def test_saved_attributes_match_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    fn, attrs = SAVED[name]

    def values(lib: object) -> list:
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([1.0, 2.0, 4.0], dtype=lib.float64, requires_grad=True)
        node = fn(x, y).grad_fn
        out = [getattr(node, a) for a in attrs]
        return [v.tolist() if hasattr(v, "tolist") else v for v in out]

    ours, theirs = values(autodiff), values(torch)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a == pytest.approx(b, rel=1e-12)


def test_saved_attribute_after_backward_raises_like_torch() -> None:
    x = autodiff.ones(2, requires_grad=True)
    y = x.exp()
    y.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        _ = y.grad_fn._saved_result
    with pytest.raises(AttributeError):
        _ = x.exp().grad_fn._saved_nothing


def test_multi_grad_hook_all_and_any() -> None:
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    y = autodiff.tensor([3.0, 4.0], requires_grad=True)
    seen = []
    handle = G.register_multi_grad_hook((x, y), lambda gs: seen.append(
        [None if g is None else g.tolist() for g in gs]))
    (x * 2).sum().backward()
    (x * y).sum().backward()
    assert seen == [[[2.0, 2.0], None], [[3.0, 4.0], [1.0, 2.0]]]
    handle.remove()
    (x * y).sum().backward()
    assert len(seen) == 2
    firsts = []
    G.register_multi_grad_hook((x, y), lambda g: firsts.append(g.tolist()), mode="any")
    (x * y).sum().backward()
    (x * y).sum().backward()
    assert len(firsts) == 2 and firsts[0] in ([3.0, 4.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="mode"):
        G.register_multi_grad_hook((x,), print, mode="some")


def test_allow_mutation_on_saved_tensors(device: str) -> None:
    x = T([1.0, 2.0, 3.0], device, True)
    a = x * 1
    with G.allow_mutation_on_saved_tensors():
        b = a * a
        a.add_(1)  # outside the context this makes backward raise
        b.sum().backward()
    assert close(x.grad, [2.0, 4.0, 6.0])


def test_increment_version_makes_saved_tensors_stale() -> None:
    a = autodiff.ones(2, requires_grad=True) * 1
    b = a * a
    G.increment_version(a)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()


def test_gradient_edge() -> None:
    x = autodiff.ones(2, requires_grad=True)
    y = x * 2
    assert G.get_gradient_edge(y) == (y.grad_fn, 0)
    assert G.get_gradient_edge(x).node.name() == "torch::autograd::AccumulateGrad"
    assert isinstance(y.grad_fn, G.Node)


def test_inference_mode_context_and_decorator() -> None:
    x = autodiff.ones(2, requires_grad=True)
    with autodiff.inference_mode():
        assert autodiff.is_inference_mode_enabled() and not autodiff.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert autodiff.is_grad_enabled() and not autodiff.is_inference_mode_enabled()
    with autodiff.inference_mode(False):
        assert (x * 2).requires_grad

    @autodiff.inference_mode()
    def f(t: autodiff.Tensor) -> autodiff.Tensor:
        return t * 2

    assert not f(x).requires_grad
    with pytest.raises(ZeroDivisionError), autodiff.inference_mode():
        raise ZeroDivisionError
    assert autodiff.is_grad_enabled() and not autodiff.is_inference_mode_enabled()


def test_profiler_counts_array_calls_and_ranges() -> None:
    from autodiff.autograd.profiler import profile, record_function

    x = autodiff.randn(8, 8, requires_grad=True)
    with profile() as prof:
        with record_function("my_forward"):
            y = (x @ x).sum()
        y.backward()
    rows = {e.key: e for e in prof.key_averages()}
    assert rows["my_forward"].count == 1
    assert rows["backend::matmul"].count == 3  # forward, and one per input in backward
    assert rows["my_forward"].cpu_time_total >= rows["my_forward"].self_cpu_time_total >= 0
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=5)
    assert "backend::matmul" in table and "# of Calls" in table
    # Nothing stays instrumented after the profile.
    import backends

    assert "matmul" not in vars(type(backends.get("cpu"))) or not hasattr(
        backends.get("cpu").matmul, "__wrapped__")
    with profile() as again:
        pass
    assert list(again.key_averages()) == []
