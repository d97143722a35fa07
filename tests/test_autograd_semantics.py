"""Autograd semantics: higher-order gradients, ``autograd.grad`` options, the Function ctx,
saved-tensor version checks, in-place ops on views and anomaly mode."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff
from autodiff.autograd import Function, grad
from autodiff.autograd.function import once_differentiable
from tests._autograd_helpers import T, close, error_of, host


# ---- higher order ------------------------------------------------------------------
def test_third_derivative_of_x4(device: str) -> None:
    x = T([2.0, -1.0], device, True)
    (g1,) = grad((x ** 4).sum(), x, create_graph=True)
    (g2,) = grad(g1.sum(), x, create_graph=True)
    (g3,) = grad(g2.sum(), x)
    xs = np.array([2.0, -1.0])
    assert close(g1, 4 * xs ** 3) and close(g2, 12 * xs ** 2) and close(g3, 24 * xs)


def test_higher_order_through_broadcasting_and_indexing(device: str) -> None:
    x = T([[1.0, 2.0, 3.0]], device, True)  # (1, 3) broadcasts against (2, 1)
    c = T([[1.0], [2.0]], device, True)
    y = ((x * c) ** 3)[1, 1:].sum() + (x ** 2)[0, [0, 0]].sum()
    (gx,) = grad(y, x, create_graph=True)
    (gxx,) = grad(gx.sum(), x)
    # y = sum_{j>=1} (2 x_j)^3 + 2 x_0^2 -> dy/dx = [4 x0, 24 x_j^2]; d2 = [4, 48 x_j]
    assert close(gx, [[4.0, 96.0, 216.0]]) and close(gxx, [[4.0, 96.0, 144.0]])


def test_retain_graph_defaults_to_create_graph(device: str) -> None:
    x = T([1.0, 2.0], device, True)
    y = (x ** 3).sum()
    grad(y, x, create_graph=True)
    grad(y, x)  # graph kept by create_graph=True
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        grad(y, x)


def test_custom_function_double_backward(device: str) -> None:
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    x = T([1.0, -2.0], device, True)
    (g1,) = grad(Cube.apply(x).sum(), x, create_graph=True)
    (g2,) = grad(g1.sum(), x)
    assert close(g1, [3.0, 12.0]) and close(g2, [6.0, -12.0])


# ---- autograd.grad options ---------------------------------------------------------
def test_grad_outputs_several_outputs_and_inputs(device: str) -> None:
    x = T([1.0, 2.0], device, True)
    w = T([3.0, 4.0], device, True)
    a, b = x * w, (x ** 2).sum()
    gx, gw = grad([a, b], [x, w], grad_outputs=[T([1.0, 10.0], device), T(2.0, device)])
    assert close(gx, [3.0 + 4.0, 40.0 + 8.0]) and close(gw, [1.0, 20.0])


def test_unused_input_error_allow_unused_and_materialize(device: str) -> None:
    x, u = T([1.0], device, True), T([5.0], device, True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        grad(y, [x, u], retain_graph=True)
    gx, gu = grad(y, [x, u], allow_unused=True, retain_graph=True)
    assert gu is None and close(gx, [2.0])
    gx, gu = grad(y, [x, u], materialize_grads=True)
    assert close(gu, [0.0])
    with pytest.raises(ValueError, match="allow_unused"):
        grad((x * 2).sum(), x, allow_unused=False, materialize_grads=True)


def test_constant_gradient_second_differentiation(device: str) -> None:
    x, y = T([1.0, 2.0], device, True), T([3.0, 4.0], device, True)
    (gx,) = grad((x * y).sum(), x, create_graph=True)  # = y: constant in x
    assert close(gx, [3.0, 4.0])
    assert grad(gx.sum(), x, allow_unused=True, retain_graph=True) == (None,)
    (z,) = grad(gx.sum(), x, materialize_grads=True)
    assert close(z, [0.0, 0.0])


def test_backward_inputs_limits_accumulation(device: str) -> None:
    x, w = T([1.0, 2.0], device, True), T([3.0, 4.0], device, True)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None and close(w.grad, [1.0, 2.0])
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * w).sum().backward(inputs=[])


def test_backward_inputs_non_leaf_gets_grad(device: str) -> None:
    x = T([1.0, 2.0], device, True)
    a = x * 3
    (a ** 2).sum().backward(inputs=[a])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns here too (a is not a leaf)
        assert close(a.grad, [6.0, 12.0])
    assert x.grad is None


def test_grad_runs_only_the_needed_part_of_the_graph(device: str) -> None:
    class Boom(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("a node that cannot reach the inputs was run")

    x, w = T([1.0], device, True), T([2.0], device, True)
    y = (Boom.apply(w) * x).sum()
    (gx,) = grad(y, x)
    assert close(gx, [2.0])


# ---- Function ctx ------------------------------------------------------------------
def test_mark_dirty_inplace_custom_op(device: str) -> None:
    class AddOne(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    x = T([1.0, 2.0], device, True)
    y = x * 2
    v = y._version_value
    z = AddOne.apply(y)
    assert z is y and y._version_value > v and y.grad_fn.name() == "AddOneBackward"
    (z * z).sum().backward()
    assert close(x.grad, [12.0, 20.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in an in-place"):
        AddOne.apply(T([1.0], device, True))


def test_mark_non_differentiable_and_needs_input_grad(device: str) -> None:
    seen = {}

    class MaxAndMask(Function):
        @staticmethod
        def forward(ctx, x, y, k):
            seen["needs"] = ctx.needs_input_grad
            mask = (x > 1).double()
            ctx.mark_non_differentiable(mask)
            return x * y * k, mask

        @staticmethod
        def backward(ctx, g, g_mask):
            return g * 2, None, None

    x = T([1.0, 2.0], device, True)
    out, mask = MaxAndMask.apply(x, T([1.0, 1.0], device), 2.0)
    assert seen["needs"] == (True, False, False)
    assert out.requires_grad and not mask.requires_grad
    out.sum().backward()
    assert close(x.grad, [2.0, 2.0])


def test_set_materialize_grads_false(device: str) -> None:
    got = {}

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            got["g2"] = g2
            return g1

    x = T([1.0], device, True)
    a, _ = Two.apply(x)
    a.sum().backward()
    assert got["g2"] is None

    class TwoMat(Two):
        @staticmethod
        def forward(ctx, x):
            return x * 1, x * 2

    a, _ = TwoMat.apply(x)
    a.sum().backward()
    assert close(got["g2"], [0.0])


def test_wrong_number_and_shape_of_gradients(device: str) -> None:
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return autodiff.ones(3, dtype=autodiff.float64, device=device)

    x = T([1.0, 2.0], device, True)
    with pytest.raises(RuntimeError, match=r"returned an incorrect number of gradients \(expected 2, got 1\)"):
        Wrong.apply(x, x).sum().backward()
    with pytest.raises(RuntimeError, match=r"returned an invalid gradient at index 0 - got \[3\]"):
        WrongShape.apply(x).backward()


def test_once_differentiable(device: str) -> None:
    class Sq(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = T([1.0, 2.0], device, True)
    (g,) = grad(Sq.apply(x).sum(), x)
    assert close(g, [2.0, 4.0])
    # A differentiable grad_output makes the result differentiable-looking; using it raises.
    v = T([1.0, 1.0], device, True)
    (g,) = grad(Sq.apply(x), x, grad_outputs=v, create_graph=True)
    assert g.requires_grad
    with pytest.raises(RuntimeError, match="marked with @once_differentiable"):
        g.sum().backward()


def test_function_ctx_errors_match_torch() -> None:
    torch = pytest.importorskip("torch")

    def run(lib):
        class Wrong(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x + y

            @staticmethod
            def backward(ctx, g):
                return g

        class WrongShape(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.sum()

            @staticmethod
            def backward(ctx, g):
                return lib.ones(3)

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        return [error_of(lambda: Wrong.apply(x, x).sum().backward()),
                error_of(lambda: WrongShape.apply(x).backward())]

    assert run(autodiff) == run(torch)


# ---- saved tensors and version counters --------------------------------------------
def test_version_counter_shared_by_views_and_detach_not_data() -> None:
    x = autodiff.ones(4)
    v, d, dt = x.view(2, 2), x.detach(), x.data
    x.add_(1)
    assert v._version_value == d._version_value == 1
    assert dt._version_value == 0  # .data gets a fresh counter, as in PyTorch
    v.mul_(2)
    assert x._version_value == 2


def _modified_errors(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    out = []
    h = w * 1
    p = h ** 2
    h.mul_(3)
    out.append(error_of(lambda: p.sum().backward()))
    q = w ** 2
    with lib.no_grad():
        w.add_(1)
    out.append(error_of(lambda: q.sum().backward()))
    h = w.exp()
    e = h * 2  # mul saves h
    h.add_(1)
    out.append(error_of(lambda: e.sum().backward()))
    h = w * 1
    e = h.exp()  # exp saves only its output: changing h afterwards is fine
    h.add_(1)
    out.append(error_of(lambda: e.sum().backward()))
    return out


def test_modified_saved_tensor_errors_match_torch() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _modified_errors(autodiff), _modified_errors(torch)
    assert ours == theirs
    assert ours[0][1].endswith("is at version 1; expected version 0 instead. Hint: enable anomaly "
                               "detection to find the operation that failed to compute its "
                               "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")


def test_modified_output_saved_by_exp_is_caught(device: str) -> None:
    x = T([1.0], device, True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_exp_double_backward_uses_saved_output(device: str) -> None:
    x = T([0.5, -1.0], device, True)
    (g,) = grad(x.exp().sum(), x, create_graph=True)
    (gg,) = grad(g.sum(), x)
    assert close(gg, np.exp([0.5, -1.0]))


def test_inplace_on_non_leaf_is_rebased(device: str) -> None:
    x = T([1.0, 2.0], device, True)
    y = x * 2
    y.mul_(3)
    y.add_(1)
    assert y.grad_fn.name() == "AddBackward0"
    y.sum().backward()
    assert close(x.grad, [6.0, 6.0])
    z = x * 2
    z.mul_(z)  # z saved by its own mul_, then modified: PyTorch raises too
    with pytest.raises(RuntimeError, match="which is output 0 of Mul, is at version 1"):
        z.sum().backward()


# ---- in-place on views (CopySlices) ------------------------------------------------
def _view_program(lib, device=None):
    kw = {} if device is None else {"device": device}
    xd = (np.arange(12.0).reshape(3, 4) / 7).tolist()
    x = lib.tensor(xd, dtype=lib.float64, requires_grad=True, **kw)
    w = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True, **kw)
    y = x * 1
    v = y[0]
    v.mul_(2)
    names = [type(v.grad_fn).__name__, type(y.grad_fn).__name__]
    v2 = y.view(-1)
    y.mul_(3)  # v2 is now stale: regenerated from y when used
    y[:, 1] += w
    v3 = y.t()
    v3.add_(1)
    loss = (v2 * v2).sum() + (y ** 3).sum()
    loss.backward()
    z = x * 2
    zz = z[1:]
    zz[0, :2] = w[:2]
    zz.unsqueeze(0)[0, 1, 3] = 0.0
    gx, gw = lib.autograd.grad((z.sum()) ** 2, [x, w])
    b = lib.zeros(3, 4, dtype=lib.float64, **kw)
    b[1].copy_(x[0] ** 2)  # a base that does not require grad picks up the graph
    gb = lib.autograd.grad(b.sum(), x)[0]
    return names, [x.grad, w.grad, gx, gw, gb]


def test_inplace_on_views_matches_torch(device: str) -> None:
    torch = pytest.importorskip("torch")
    names, ours = _view_program(autodiff, device)
    tnames, theirs = _view_program(torch)
    assert names == ["AsStridedBackward0", "CopySlices"] == tnames
    for a, b in zip(ours, theirs):
        assert close(a, b)


def test_inplace_on_view_higher_order(device: str) -> None:
    x = T([1.0, 2.0, 3.0], device, True)
    y = x * 1
    y[1:].mul_(y[1:].detach() * 0 + 2)  # y = [x0, 2 x1, 2 x2]
    y[:2].pow_(2)                        # y = [x0^2, 4 x1^2, 2 x2]
    (g,) = grad((y ** 2).sum(), x, create_graph=True)  # [4 x0^3, 64 x1^3, 8 x2]
    (gg,) = grad(g.sum(), x)
    assert close(g, [4.0, 512.0, 24.0]) and close(gg, [12.0, 768.0, 8.0])


def test_inplace_on_view_of_leaf_errors(device: str) -> None:
    x = T([[1.0, 2.0], [3.0, 4.0]], device, True)
    msg = "a view of a leaf Variable that requires grad is being used in an in-place operation."
    for fn in (lambda: x[0].mul_(2), lambda: x.view(-1).add_(1), lambda: x[:, 1].zero_()):
        with pytest.raises(RuntimeError, match=msg):
            fn()
    assert close(x, [[1.0, 2.0], [3.0, 4.0]])
    with autodiff.no_grad():
        x[0].mul_(2)
    assert close(x, [[2.0, 4.0], [3.0, 4.0]])


def test_inplace_on_a_leaf_that_is_a_view_errors(device: str) -> None:
    """A leaf made from a view (its base needs no grad) is still a view of a leaf for in-place
    ops; ``detach_`` refuses every view (PyTorch)."""
    w = autodiff.arange(6.0, device=device).reshape(2, 3).requires_grad_()
    assert w._base is not None and w.is_leaf
    msg = "a view of a leaf Variable that requires grad is being used in an in-place operation."
    ones = autodiff.ones(2, 3, device=device)
    for fn in (lambda: w.add_(1), lambda: w.mul_(2.0), lambda: w.zero_(), lambda: w.fill_(1.0),
               lambda: w.copy_(ones), lambda: w.__setitem__(0, 1.0), lambda: w.clamp_(0, 1)):
        with pytest.raises(RuntimeError, match=msg):
            fn()
    assert close(w, [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    with autodiff.no_grad():
        w.add_(1)
    assert close(w, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    detach_msg = "Can't detach views in-place"
    for view in (w, w[0], autodiff.ones(3, device=device)[0], autodiff.ones(4, device=device).view(2, 2)):
        with pytest.raises(RuntimeError, match=detach_msg):
            view.detach_()
    assert w.requires_grad


def test_fill_and_zero_on_view(device: str) -> None:
    x = T([1.0, 2.0, 3.0], device, True)
    y = x * 3
    y[0].zero_()
    y[2:].fill_(5.0)
    assert close(y, [0.0, 6.0, 5.0])
    y.sum().backward()
    assert close(x.grad, [0.0, 3.0, 0.0])


# ---- anomaly mode ------------------------------------------------------------------
nan_sqrt = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")


@nan_sqrt
def test_detect_anomaly_names_node_and_forward_line(device: str) -> None:
    x = T([-1.0, 4.0], device, True)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with autodiff.autograd.detect_anomaly():
            y = x ** 0.5  # the forward line the error must show
            with pytest.raises(RuntimeError) as info, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                y.sum().backward()
    msg = str(info.value)
    assert "Function 'PowBackward0' returned nan values in its 0th output." in msg
    assert "y = x ** 0.5  # the forward line the error must show" in msg
    assert not autodiff.autograd.is_anomaly_enabled()


@nan_sqrt
def test_set_detect_anomaly_and_off_by_default(device: str) -> None:
    x = T([-1.0], device, True)
    assert (x ** 0.5).grad_fn.trace is None
    autodiff.autograd.set_detect_anomaly(True)
    try:
        y = x.sqrt()
        assert "y = x.sqrt()" in y.grad_fn.trace
    finally:
        autodiff.autograd.set_detect_anomaly(False)
    with autodiff.autograd.set_detect_anomaly(True), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="SqrtBackward0"):
            y.backward()
    # Off: NaN gradients pass silently, as in PyTorch.
    (g,) = grad(x.sqrt().sum(), x)
    assert np.isnan(host(g)).all()


# ---- the docs' examples run ------------------------------------------------------------
@nan_sqrt
def test_docs_autograd_advanced_examples_run() -> None:
    import pathlib
    import re

    doc = pathlib.Path(__file__).resolve().parent.parent / "docs" / "autograd_advanced.md"
    ns: dict = {}
    for block in re.findall(r"```python\n(.*?)```", doc.read_text(), re.S):
        if "detect_anomaly()" in block:
            with pytest.raises(RuntimeError, match="PowBackward0"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(block, ns)
            continue
        exec(block, ns)
        if "CopySlices" in block:
            assert close(ns["x"].grad, [[6.0, 6.0, 6.0], [2.0, 2.0, 2.0]])
            assert close(ns["w"].grad, [3.0, 1.0])


def test_mask_like_first_derivatives_are_in_the_graph_as_in_torch(device: str) -> None:
    """relu's derivative under create_graph is recorded (ThresholdBackwardBackward0) even
    though the incoming gradient is a constant; its own derivative is zero."""
    x = T([-1.0, 2.0, 3.0], device, True)
    (g,) = grad(autodiff.relu(x).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn.name() == "ThresholdBackwardBackward0"
    assert close(g, [0.0, 1.0, 1.0])
    (gg,) = grad(g.sum(), x)
    assert close(gg, [0.0, 0.0, 0.0])
    pooled = autodiff.nn.functional.max_pool2d(x.reshape(1, 1, 1, 3), (1, 2))
    assert pooled.grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    (g,) = grad(pooled.sum(), x, create_graph=True)
    assert g.requires_grad and close(g, [0.0, 1.0, 0.0])


# ---- grad mode after exceptions, and the modified-saved-tensor check of every in-place op ----
def _grad_mode_switches():
    """(name, make) for every grad-mode context manager: make() gives a fresh one."""
    switches = [
        ("no_grad", autodiff.no_grad), ("enable_grad", autodiff.enable_grad),
        ("set_grad_enabled(True)", lambda: autodiff.set_grad_enabled(True)),
        ("set_grad_enabled(False)", lambda: autodiff.set_grad_enabled(False)),
    ]
    if hasattr(autodiff, "inference_mode"):
        switches += [("inference_mode", autodiff.inference_mode),
                     ("inference_mode(False)", lambda: autodiff.inference_mode(False))]
    return switches


@pytest.mark.parametrize("outer", [True, False])
def test_grad_mode_switches_restore_the_mode_after_an_exception(outer: bool) -> None:
    class BoomError(Exception):
        pass

    prev = autodiff.is_grad_enabled()
    try:
        autodiff.set_grad_enabled(outer)
        for name, make in _grad_mode_switches():
            with pytest.raises(BoomError):  # as a context manager
                with make():
                    raise BoomError
            assert autodiff.is_grad_enabled() is outer, f"{name} as a context"

            @make()
            def failing():
                raise BoomError

            with pytest.raises(BoomError):  # as a decorator
                failing()
            assert autodiff.is_grad_enabled() is outer, f"{name} as a decorator"
            for _, inner in _grad_mode_switches():  # nested, the exception from the inside
                with pytest.raises(BoomError):
                    with make():
                        with inner():
                            raise BoomError
                assert autodiff.is_grad_enabled() is outer, f"{name} nested"
    finally:
        autodiff.set_grad_enabled(prev)


MODIFIED = "one of the variables needed for gradient computation has been modified by an inplace operation"


def test_failed_backward_leaves_grad_mode_as_it_was() -> None:
    x = autodiff.ones(3, requires_grad=True)
    y = x * 1
    loss = (y * y).sum()
    y.add_(1)  # y was saved by the product
    for mode in (True, False):
        with autodiff.set_grad_enabled(mode):
            for create_graph in (False, True):
                with pytest.raises(RuntimeError, match=MODIFIED):
                    loss.backward(create_graph=create_graph, retain_graph=True)
                assert autodiff.is_grad_enabled() is mode
                with pytest.raises(RuntimeError, match=MODIFIED):
                    grad(loss, x, create_graph=create_graph, retain_graph=True)
                assert autodiff.is_grad_enabled() is mode


# The arguments of each in-place op of autodiff/ops/inplace.py's METHODS.
INPLACE_CALLS = {
    "__setitem__": lambda y: y.__setitem__(0, 5.0),
    "__iadd__": lambda y: y.__iadd__(1.0), "__isub__": lambda y: y.__isub__(1.0),
    "__imul__": lambda y: y.__imul__(2.0), "__itruediv__": lambda y: y.__itruediv__(2.0),
    "__ipow__": lambda y: y.__ipow__(2.0),
    "add_": lambda y: y.add_(1.0), "sub_": lambda y: y.sub_(1.0), "mul_": lambda y: y.mul_(2.0),
    "div_": lambda y: y.div_(2.0), "pow_": lambda y: y.pow_(2.0),
    "floor_divide_": lambda y: y.floor_divide_(2.0), "remainder_": lambda y: y.remainder_(2.0),
    "__ifloordiv__": lambda y: y.__ifloordiv__(2.0), "__imod__": lambda y: y.__imod__(2.0),
    "clamp_": lambda y: y.clamp_(0.0, 0.5), "clip_": lambda y: y.clip_(0.0, 0.5),
    "zero_": lambda y: y.zero_(), "fill_": lambda y: y.fill_(3.0),
    "copy_": lambda y: y.copy_(autodiff.zeros(3)),
}


def test_every_inplace_op_trips_the_modified_saved_tensor_check() -> None:
    from autodiff.ops import inplace

    missing = set(inplace.METHODS) - set(INPLACE_CALLS)
    assert not missing, f"add the in-place ops {sorted(missing)} to INPLACE_CALLS"
    for name, call in INPLACE_CALLS.items():
        for tensor_arg in (False, True):
            x = autodiff.tensor([1.0, 2.0, 3.0], requires_grad=True)
            y = x * 1
            z = y * y
            if tensor_arg and name in ("add_", "sub_", "mul_", "div_", "__iadd__", "__imul__"):
                getattr(y, name)(autodiff.full((3,), 2.0))
            else:
                call(y)
            with pytest.raises(RuntimeError, match=MODIFIED):
                z.sum().backward()
            # the same op on a view of the saved tensor
            y = x * 1
            z = y * y
            call(y[1:]) if name != "copy_" else y[1:].copy_(autodiff.zeros(2))
            with pytest.raises(RuntimeError, match=MODIFIED):
                z.sum().backward()
