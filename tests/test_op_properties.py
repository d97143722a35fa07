"""Property tests over the op-spec table (autodiff/testing/op_specs.py): every op's
gradients against finite differences (first and second order, with broadcasting), their
dtype and device, float32 against float64, every device against NumPy, and graph
properties (fan-out, retain_graph, no_grad).
"""

from __future__ import annotations

import inspect
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
from autodiff.autograd import gradcheck, gradgradcheck
from autodiff.tensor_methods import METHODS
from autodiff.testing import COMPOSITE_SPECS, SPECS, SPECS_BY_ID, op_inputs
from tests.conftest import DEVICES
from tests.spec_utils import assert_close, flat, grads_of, host, loss, outputs, run, scale

# ---- every op has a spec -----------------------------------------------------------------
# Exported names that are not differentiable ops, each with the reason.
NOT_DIFFERENTIABLE = {
    # creation and random numbers: no tensor inputs to differentiate
    "arange", "as_tensor", "empty", "empty_like", "from_numpy", "from_dlpack", "full", "full_like", "ones",
    "ones_like", "rand", "rand_like", "randint", "randn", "randn_like", "tensor", "zeros",
    "zeros_like", "manual_seed",
    # comparisons and logic: bool results, never part of a graph
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not", "isnan",
    "greater", "greater_equal", "less", "less_equal", "not_equal", "logical_xor", "isfinite", "isinf",
    "isposinf", "isneginf", "isreal", "signbit", "isin",
    # integer and bit ops (bool and integer tensors only)
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
    "bitwise_right_shift", "gcd", "lcm",
    # no derivative in PyTorch either (backward through them raises)
    "floor_divide", "heaviside",
    # utilities: no tensor result
    "is_tensor", "numel", "is_grad_enabled", "is_inference_mode_enabled", "get_default_dtype",
    "set_default_dtype",
    "set_printoptions",  # (printing: tests/test_formatting_torch.py)
    "compile",  # (a step recorder, docs/compile.md: its own tests in tests/test_compile.py)
    "promote_types",
    # integer results (indices, one-hot encodings, counts, sort orders, bucket numbers)
    "argmax", "argmin", "one_hot", "argsort", "argwhere", "nonzero", "count_nonzero", "bincount",
    "histc", "searchsorted", "bucketize", "unique", "unique_consecutive",
    # bool results (logical reductions)
    "all", "any",
    # no tensor result (a shape)
    "broadcast_shapes",
    # serialization, no tensor computation
    "save", "load",
    # more creation, random numbers and generators, defaults (autodiff/ops/creation.py,
    # sampling.py, triangular.py, autodiff/random.py, device.py): no input to differentiate,
    # or a random draw whose gradient is zero
    "linspace", "logspace", "eye", "randperm", "randint_like", "tril_indices", "triu_indices",
    "normal", "bernoulli", "poisson", "multinomial", "seed", "initial_seed", "get_rng_state",
    "set_rng_state", "get_default_device", "set_default_device",
    # questions about tensors (autodiff/ops/queries.py, autodiff/legacy.py): no tensor result
    "equal", "allclose", "isclose", "is_floating_point", "is_signed", "is_complex", "is_nonzero",
    "is_same_size", "is_storage", "result_type", "get_device", "can_cast", "asarray", "scalar_tensor",
    "set_default_tensor_type",
    # a function transform (autodiff/func), not an op
    "vmap",
}
NOT_DIFFERENTIABLE_METHODS = {
    # comparisons and logic (bool results)
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "eq", "ne", "lt", "le", "gt",
    "ge", "__and__", "__or__", "__invert__", "logical_and", "logical_or", "logical_not", "isnan",
    "greater", "greater_equal", "less", "less_equal", "not_equal", "logical_xor", "isfinite", "isinf",
    "isposinf", "isneginf", "isreal", "signbit",
    # integer and bit ops, and those without a derivative in PyTorch
    "__xor__", "__rand__", "__ror__", "__rxor__", "__lshift__", "__rshift__", "__rlshift__", "__rrshift__",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
    "gcd", "lcm", "floor_divide", "__floordiv__", "__rfloordiv__", "heaviside", "__rmod__",
    "bitwise_and_", "bitwise_or_", "bitwise_xor_", "bitwise_not_", "bitwise_left_shift_",
    "bitwise_right_shift_", "gcd_", "lcm_", "heaviside_",
    "__ifloordiv__", "floor_divide_",
    # casts to integer/bool dtypes: no gradient flows through them
    "int", "long", "bool", "byte", "short", "char",
    # needs a GPU; its backward is ToCopyBackward0, checked through Tensor.to / Tensor.cpu
    "cuda",
    # device queries: an int, and the tensor itself
    "get_device", "pin_memory",
    # integer results (indices, counts, sort orders)
    "argmax", "argmin", "argsort", "argwhere", "nonzero", "count_nonzero", "bincount", "histc",
    "unique", "unique_consecutive",
    # bool results (logical reductions)
    "all", "any",
    # creation and random fills (autodiff/ops/creation.py, sampling.py): no gradient to the
    # old values or the arguments
    "new_tensor", "new_zeros", "new_ones", "new_empty", "new_full", "bernoulli", "multinomial",
    "uniform_", "normal_", "bernoulli_", "exponential_", "geometric_", "log_normal_", "cauchy_",
    "random_",
    # questions about tensors and metadata (autodiff/ops/queries.py, autodiff/legacy.py)
    "isclose", "allclose", "equal", "is_signed", "is_complex", "is_nonzero", "is_same_size", "stride",
    "data_ptr", "storage_offset", "dim_order", "is_contiguous", "ndimension", "itemsize", "nbytes",
    "is_cpu", "is_pinned", "is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_mkldnn", "is_nested",
}


def _resolve(name: str) -> object:
    """The object a spec's ``op`` names: ``add``, ``Tensor.__radd__``, ``nn.functional.relu``."""
    if name.startswith("Tensor."):
        return inspect.getattr_static(autodiff.Tensor, name[len("Tensor."):])
    obj: object = autodiff
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _public_functions() -> dict[str, object]:
    """Functions of ``autodiff`` and ``autodiff.nn.functional`` (when it exists)."""
    found = {n: o for n, o in vars(autodiff).items() if not n.startswith("_") and inspect.isfunction(o)}
    functional = getattr(getattr(autodiff, "nn", None), "functional", None)
    if functional is not None:
        found.update({f"nn.functional.{n}": o for n, o in vars(functional).items()
                      if not n.startswith("_") and inspect.isfunction(o)})
    return found


# Composite rows (op_specs.COMPOSITE_SPECS) count: tests/test_torch_oracle.py runs them.
# (unwrapped: the exported ops are wrapped to raise PyTorch's errors, see ops/_prep.py ``checked``)
COVERED = [inspect.unwrap(_resolve(s.op)) for s in SPECS + COMPOSITE_SPECS]


def _covered(obj: object) -> bool:
    obj = inspect.unwrap(obj)
    return any(obj is c for c in COVERED)


def test_every_exported_function_has_a_spec() -> None:
    missing = sorted(n for n, o in _public_functions().items()
                     if n.split(".")[-1] not in NOT_DIFFERENTIABLE and not _covered(o))
    assert not missing, f"ops without a row in autodiff/testing/op_specs.py: {missing}"


def test_every_tensor_method_has_a_spec() -> None:
    missing = sorted(n for n in METHODS if n not in NOT_DIFFERENTIABLE_METHODS
                     and not _covered(inspect.getattr_static(autodiff.Tensor, n)))
    assert not missing, f"Tensor methods without a row in autodiff/testing/op_specs.py: {missing}"


def test_spec_table_is_consistent() -> None:
    assert len(SPECS_BY_ID) == len(SPECS), "two specs share an id (give one a variant)"
    short_names = {n.split(".")[-1] for n in _public_functions()}  # one_hot: nn.functional.one_hot
    for name in NOT_DIFFERENTIABLE:
        assert name in short_names, f"stale exclusion {name}"
    for name in NOT_DIFFERENTIABLE_METHODS:
        assert name in METHODS, f"stale exclusion Tensor.{name}"


IDS = [s.id for s in SPECS]
spec_param = pytest.mark.parametrize("spec", SPECS, ids=IDS)


# ---- gradients against finite differences --------------------------------------------------
@spec_param
@settings(max_examples=10)
@given(data=st.data())
def test_gradcheck_and_gradgradcheck(spec, data) -> None:
    case = data.draw(op_inputs(spec), label="case")
    xs = case.tensors(autodiff)

    def f(*t):
        return spec.fn(autodiff, *t, **case.params)

    with warnings.catch_warnings():
        # Ops that round to float32/16 make float32/16 grad_outputs in gradgradcheck.
        warnings.simplefilter("ignore", UserWarning)
        assert gradcheck(f, xs, **spec.gradcheck)
        assert gradgradcheck(f, xs, **spec.gradcheck)


@spec_param
@pytest.mark.parametrize("device", [d for d in DEVICES if d != "cpu"])
@settings(max_examples=2)
@given(data=st.data())
def test_gradcheck_on_device(spec, device, data) -> None:
    """gradcheck and gradgradcheck (float64) compute the numerical Jacobians on the inputs'
    own device."""
    case = data.draw(op_inputs(spec), label="case")
    xs = case.tensors(autodiff, device=device)

    def f(*t):
        return spec.fn(autodiff, *t, **case.params)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert gradcheck(f, xs, **spec.gradcheck)
        assert gradgradcheck(f, xs, **spec.gradcheck)


# ---- dtype, device and precision -----------------------------------------------------------
# Every dtype and device in one item: hypothesis's pytest plugin nests each item's settings
# in the previous one's, and a test function with more than about 900 items then overflows
# the stack (RecursionError) -- which spec x device reached once the op table grew.
@spec_param
@settings(max_examples=3)
@given(data=st.data())
def test_grad_has_input_dtype_and_device(spec, data) -> None:
    case = data.draw(op_inputs(spec), label="case")
    for device in DEVICES:
        for dtype in ("float32", "float64"):
            xs, _outs, grads = run(spec, autodiff, case, dtype, device)
            for x, g in zip(xs, grads):
                assert g.dtype is x.dtype and g.device == x.device and g.shape == x.shape, device


@spec_param
@settings(max_examples=4)
@given(data=st.data())
def test_float32_agrees_with_float64(spec, data) -> None:
    case = data.draw(op_inputs(spec), label="case")
    _, outs64, grads64 = run(spec, autodiff, case, "float64")
    _, outs32, grads32 = run(spec, autodiff, case, "float32")
    for a, e in zip(outs32 + grads32, outs64 + grads64):
        assert_close(a, e, rtol=spec.tol32, atol=spec.tol32 * scale(e), what=spec.id)


@spec_param
@pytest.mark.parametrize("device", [d for d in DEVICES if d != "cpu"])
@settings(max_examples=4)
@given(data=st.data())
def test_device_matches_numpy(spec, device, data) -> None:
    """The strict device runs NumPy underneath: results must be identical; CUDA close."""
    case = data.draw(op_inputs(spec), label="case")
    _, outs_cpu, grads_cpu = run(spec, autodiff, case, "float64", "cpu")
    _, outs_dev, grads_dev = run(spec, autodiff, case, "float64", device)
    for a, e in zip(outs_dev + grads_dev, outs_cpu + grads_cpu):
        if device == "strict":
            assert host(a) == host(e), spec.id
        else:
            assert_close(a, e, rtol=1e-10, atol=1e-12 * scale(e), what=spec.id)


# ---- graph properties -------------------------------------------------------------------------
@spec_param
@settings(max_examples=3)
@given(data=st.data())
def test_fan_out_sums_the_paths(spec, data) -> None:
    """Two uses of the same inputs: the gradient is the sum of the two paths' gradients,
    both through one backward and accumulated over two backward calls into ``.grad``."""
    case = data.draw(op_inputs(spec), label="case")
    xs = case.tensors(autodiff)
    path1 = loss(autodiff, outputs(spec.fn(autodiff, *xs, **case.params)))
    path2 = 2.5 * loss(autodiff, outputs(spec.fn(autodiff, *xs, **case.params)))
    g1 = grads_of(autodiff, path1, xs, retain_graph=True)
    g2 = grads_of(autodiff, path2, xs, retain_graph=True)
    both = loss(autodiff, outputs(spec.fn(autodiff, *xs, **case.params)))
    both = both + 2.5 * loss(autodiff, outputs(spec.fn(autodiff, *xs, **case.params)))
    g12 = grads_of(autodiff, both, xs)
    for a, b, c in zip(g1, g2, g12):
        assert_close(c, a + b, rtol=1e-12, atol=1e-12 * scale(c), what=spec.id)
    if path1.requires_grad:
        path1.backward()
        path2.backward()
        for x, a, b in zip(xs, g1, g2):
            if x.grad is not None:
                assert host(x.grad) == host(a + b)


@spec_param
@settings(max_examples=3)
@given(data=st.data())
def test_backward_twice_with_retain_graph_doubles(spec, data) -> None:
    case = data.draw(op_inputs(spec), label="case")
    xs = case.tensors(autodiff)
    y = loss(autodiff, outputs(spec.fn(autodiff, *xs, **case.params)))
    if not y.requires_grad:
        return
    y.backward(retain_graph=True)
    once = [None if x.grad is None else x.grad.clone() for x in xs]
    y.backward()
    for x, g in zip(xs, once):
        if g is not None:
            assert host(x.grad) == host(g * 2)


@spec_param
@settings(max_examples=2)
@given(data=st.data())
def test_no_grad_output_never_requires_grad(spec, data) -> None:
    case = data.draw(op_inputs(spec), label="case")
    xs = case.tensors(autodiff)
    with autodiff.no_grad():
        result = spec.fn(autodiff, *xs, **case.params)
    for o in result if isinstance(result, (tuple, list)) else (result,):
        if any(o is x for x in xs):
            continue  # a no-op handing back its input (PyTorch's sum_to_size does so too)
        assert not o.requires_grad and o.grad_fn is None


# ---- dropout's random mask (the table has p in {0, 1} and eval mode only) ----------------------
def test_seeded_dropout_gradient_is_the_mask(device) -> None:
    """Seeded inside the function, dropout draws the same mask on every call, so gradcheck
    sees one function: its gradient is the kept mask times ``1 / (1 - p)``."""
    values = [0.25 * k - 2.3 for k in range(20)]
    x = autodiff.tensor(values, dtype=autodiff.float64, device=device).reshape(4, 5).requires_grad_()

    def f(t):
        autodiff.manual_seed(0)
        return autodiff.nn.functional.dropout(t, 0.5)

    y = f(x)
    assert 0 < sum(v != 0 for v in flat(host(y))) < 20
    assert host(y) == host(x.detach() * (y != 0).double() * 2)
    (g,) = autodiff.autograd.grad(y.sum(), x)
    assert host(g) == host((y != 0).double() * 2)
    assert gradcheck(f, (x,)) and gradgradcheck(f, (x,))
