"""``autodiff.func`` (autodiff/func/): the transforms against PyTorch's ``torch.func``
(float64 values), their composition (per-sample gradients, Jacobians both ways, Hessians,
ensembles), vmap's options, and vmap of every row of the op table against stacking the
op's per-sample results.
"""

from __future__ import annotations

import importlib
import inspect
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodiff
from autodiff import func
from autodiff.func import batching
from autodiff.testing import COMPOSITE_SPECS, SPECS, op_inputs
from tests.spec_utils import assert_close, outputs

torch = pytest.importorskip("torch")
import torch.func as tfunc  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.standard_normal((5, 3))
W = RNG.standard_normal((3, 4))
B = RNG.standard_normal(4)
Y = RNG.integers(0, 4, 5)


def _both(build):
    """``build(m, f)`` with autodiff (and autodiff.func) and with torch (and torch.func)."""
    return build(autodiff, func), build(torch, tfunc)


def _flat(v):
    if isinstance(v, dict):
        return [z for k in sorted(v) for z in _flat(v[k])]
    if isinstance(v, (tuple, list)):
        return [z for e in v for z in _flat(e)]
    return [v]


def _same(mine, theirs, rtol=1e-9):
    a, b = _flat(mine), _flat(theirs)
    assert len(a) == len(b)
    for p, q in zip(a, b):
        assert tuple(p.shape) == tuple(q.shape)
        assert_close(p, q, rtol=rtol, atol=1e-10)


def _data(m):
    return (m.tensor(W), m.tensor(B), m.tensor(X), m.tensor(Y))


def _loss(m):
    def loss(w, b, x, y):
        h = m.nn.functional.linear(x, w.t(), b)
        return m.nn.functional.cross_entropy(h.tanh(), y) + (h ** 2).mean()

    return loss


def _f(v):
    return (v.sin() * v.sum()).exp()


# ---- the transforms ------------------------------------------------------------------------
def test_grad_with_argnums_matches_torch():
    _same(*_both(lambda m, f: f.grad(_loss(m), argnums=(0, 1))(*_data(m))))
    _same(*_both(lambda m, f: f.grad(_loss(m))(*_data(m))))


def test_grad_and_value_with_aux_matches_torch():
    def build(m, f):
        def loss(w, b, x, y):
            value = _loss(m)(w, b, x, y)
            return value, {"twice": value * 2}

        g, (value, aux) = f.grad_and_value(loss, argnums=1, has_aux=True)(*_data(m))
        return g, aux["twice"], value

    _same(*_both(build))


def test_grad_needs_a_scalar_output():
    with pytest.raises(RuntimeError, match="scalar Tensor"):
        func.grad(lambda x: x * 2)(autodiff.ones(3))


def test_vjp_and_jvp_match_torch():
    ones = np.ones(3)
    _same(*_both(lambda m, f: f.vjp(_f, m.tensor(X[0]))[1](m.tensor(ones))))
    _same(*_both(lambda m, f: f.jvp(_f, (m.tensor(X[0]),), (m.tensor(X[1]),))))


def test_jacobians_both_ways_and_hessian_match_torch():
    _same(*_both(lambda m, f: f.jacrev(_f)(m.tensor(X[0]))))
    _same(*_both(lambda m, f: f.jacfwd(_f)(m.tensor(X[0]))))
    _same(*_both(lambda m, f: f.hessian(lambda v: _f(v).sum())(m.tensor(X[0]))))
    _same(*_both(lambda m, f: f.jacfwd(f.jacrev(lambda v: _f(v).sum()))(m.tensor(X[0]))))
    _same(*_both(lambda m, f: f.jacrev(_loss(m), argnums=(0, 1))(*_data(m))))


def test_linearize_matches_jvp():
    out, jvp_fn = func.linearize(_f, autodiff.tensor(X[0]))
    _, expected = tfunc.jvp(_f, (torch.tensor(X[0]),), (torch.tensor(X[1]),))
    assert_close(jvp_fn(autodiff.tensor(X[1])), expected, rtol=1e-9)
    assert_close(out, _f(torch.tensor(X[0])), rtol=1e-12)


def test_functional_call_swaps_and_restores_parameters():
    model = autodiff.nn.Linear(3, 2)
    weight = model.weight
    params = {"weight": autodiff.ones(2, 3), "bias": autodiff.zeros(2)}
    out = func.functional_call(model, params, (autodiff.ones(1, 3),))
    assert out.tolist() == [[3.0, 3.0]]
    assert model.weight is weight


# ---- jacobians as PyTorch computes them: vmap of vjp / jvp over an identity basis -------------
XB = RNG.standard_normal((3, 1))
YB = RNG.standard_normal(4)


def _two_inputs(m):
    """Broadcasting (3, 1) with (4,), two outputs (a pytree), several ops' backwards."""
    def f(x, y):
        z = (x * y.sin()).tanh()
        return {"z": z @ y, "w": (z.exp() / (1 + y ** 2))[:, 1:3].sum(0)}

    return f


def test_vmap_of_vjp_fn_runs_one_backward_for_the_batch_and_matches_torch(monkeypatch):
    calls = []
    sin_backward = autodiff.ops.unary.SinBackward0.backward

    def counted(self, g):
        calls.append(g)
        return sin_backward(self, g)

    monkeypatch.setattr(autodiff.ops.unary.SinBackward0, "backward", counted)
    cts = {"z": RNG.standard_normal((5, 3)), "w": RNG.standard_normal((5, 2))}

    def build(m, f):
        _, vjp_fn = f.vjp(_two_inputs(m), m.tensor(XB), m.tensor(YB))
        return f.vmap(vjp_fn)({k: m.tensor(v) for k, v in cts.items()})

    _same(*_both(build))
    assert len(calls) == 1  # one backward for the 5 cotangents, not a loop


def test_vmap_of_vjp_fn_inside_an_outer_vmap_matches_torch():
    def build(m, f):
        def per_sample(x):
            _, vjp_fn = f.vjp(_f, x)
            return f.vmap(vjp_fn)(m.eye(3, dtype=m.float64) * 2)

        return f.vmap(per_sample)(m.tensor(X))

    _same(*_both(build))


@pytest.mark.parametrize("chunk_size", [None, 1, 5])
def test_jacrev_with_argnums_has_aux_and_chunk_size_matches_torch(chunk_size):
    def build(m, f):
        def g(x, y):
            out = _two_inputs(m)(x, y)
            return out, {"aux": out["z"].sum() * 2}

        return f.jacrev(g, argnums=(0, 1), has_aux=True, chunk_size=chunk_size)(m.tensor(XB), m.tensor(YB))

    _same(*_both(build))


def test_jacfwd_with_argnums_and_has_aux_matches_torch():
    def build(m, f):
        def g(x, y):
            out = _two_inputs(m)(x, y)
            return out, out["w"] * 3

        return (f.jacfwd(g, argnums=(0, 1), has_aux=True)(m.tensor(XB), m.tensor(YB)),
                f.jacfwd(g, argnums=1, has_aux=True)(m.tensor(XB), m.tensor(YB)))

    _same(*_both(build))


def test_jacrev_and_jacfwd_with_0d_inputs_and_outputs_match_torch():
    _same(*_both(lambda m, f: f.jacrev(lambda v: (v ** 2).sum())(m.tensor(X[0]))))
    _same(*_both(lambda m, f: f.jacfwd(lambda v: (v ** 2).sum())(m.tensor(X[0]))))
    _same(*_both(lambda m, f: f.jacrev(lambda v: v.sin())(m.tensor(1.5))))
    _same(*_both(lambda m, f: f.jacfwd(lambda v: v.sin())(m.tensor(1.5))))


# ---- nested forward mode ---------------------------------------------------------------------
def _g(m):
    return lambda x, y: ((x.sin() * y).sum() * x).exp().sum() + (x ** 3 * y).sum()


@pytest.mark.parametrize("nest", ["jacfwd(jacfwd)", "jacfwd(jacrev)", "jacrev(jacfwd)", "jacrev(jacrev)",
                                  "hessian", "jacfwd(jacfwd(jacfwd))", "jacrev(hessian)"])
def test_nested_jacobians_match_torch(nest):
    def build(m, f):
        g = _g(m)
        fn = {"jacfwd(jacfwd)": lambda: f.jacfwd(f.jacfwd(g)),
              "jacfwd(jacrev)": lambda: f.jacfwd(f.jacrev(g)),
              "jacrev(jacfwd)": lambda: f.jacrev(f.jacfwd(g)),
              "jacrev(jacrev)": lambda: f.jacrev(f.jacrev(g)),
              "hessian": lambda: f.hessian(g),
              "jacfwd(jacfwd(jacfwd))": lambda: f.jacfwd(f.jacfwd(f.jacfwd(g))),
              "jacrev(hessian)": lambda: f.jacrev(f.hessian(g))}[nest]()
        return fn(m.tensor(X[0]), m.tensor(X[1]))

    _same(*_both(build))


def test_hessian_with_argnums_tuple_matches_torch():
    _same(*_both(lambda m, f: f.hessian(_g(m), argnums=(0, 1))(m.tensor(X[0]), m.tensor(X[1]))))


def test_jvp_of_jvp_matches_torch():
    def build(m, f):
        v, t = m.tensor(X[2]), m.tensor(X[3])

        def inner(x):
            return f.jvp(lambda u: _f(u), (x,), (v,))[1]

        return f.jvp(inner, (m.tensor(X[0]),), (t,))

    _same(*_both(build))


def test_jvp_with_has_aux_inside_jacfwd_matches_torch():
    def build(m, f):
        def inner(x):
            _, tangent, aux = f.jvp(lambda u: (_f(u), u.sum()), (x,), (x.cos(),), has_aux=True)
            return tangent * aux

        return f.jacfwd(inner)(m.tensor(X[0]))

    _same(*_both(build))


def test_vmap_of_nested_jacobians_matches_torch():
    _same(*_both(lambda m, f: f.vmap(f.jacfwd(f.jacfwd(_f)))(m.tensor(X[:2]))))
    _same(*_both(lambda m, f: f.vmap(f.hessian(lambda v: _f(v).sum()))(m.tensor(X[:2]))))


def test_dual_level_refuses_nesting_as_torch_does():
    import torch.autograd.forward_ad as tfw

    import autodiff.autograd.forward_ad as fw

    messages = []
    for mod in (fw, tfw):
        with mod.dual_level(), pytest.raises(RuntimeError) as err, mod.dual_level():
            pass
        messages.append(str(err.value))
    assert messages[0] == messages[1]


def test_top_level_jacobians_do_not_require_grad():
    x = autodiff.tensor(X[0])
    for transform in (func.jacrev(_f), func.jacfwd(_f), func.hessian(lambda v: _f(v).sum()),
                      func.jacfwd(func.jacfwd(_f))):
        assert not transform(x).requires_grad


# ---- autograd: batched grad_outputs ------------------------------------------------------------
def test_autograd_grad_is_grads_batched_matches_torch():
    def build(m, f):
        x, y = m.tensor(XB, requires_grad=True), m.tensor(YB, requires_grad=True)
        unused = m.tensor(YB, requires_grad=True)
        out = _two_inputs(m)(x, y)["z"]
        gos = m.tensor(np.arange(18.0).reshape(6, 3))
        return m.autograd.grad(out, (x, y, unused), gos, is_grads_batched=True, allow_unused=True,
                               materialize_grads=True)

    _same(*_both(build))
    x = autodiff.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="is_grads_batched"):
        autodiff.autograd.grad(x * 2, x, autodiff.ones(4, 2), is_grads_batched=True)


@pytest.mark.parametrize("create_graph", [False, True])
def test_functional_jacobian_and_hessian_vectorized_match_torch(create_graph):
    def build(m, f):
        fn = _two_inputs(m)
        inputs = (m.tensor(XB), m.tensor(YB))
        jac = m.autograd.functional.jacobian(lambda x, y: tuple(fn(x, y).values()), inputs,
                                             vectorize=True, create_graph=create_graph)
        hess = m.autograd.functional.hessian(lambda x, y: _g(m)(x, y[:3]), inputs, vectorize=True,
                                             create_graph=create_graph)
        return jac, hess

    _same(*_both(build))
    with pytest.raises(RuntimeError, match="strict=True"):
        autodiff.autograd.functional.jacobian(_f, autodiff.tensor(X[0]), strict=True, vectorize=True)


# ---- composition -------------------------------------------------------------------------
def test_per_sample_gradients_of_a_model_match_torch():
    def build(m, f):
        m.manual_seed(0)
        model = m.nn.Sequential(m.nn.Linear(3, 8), m.nn.ReLU(), m.nn.Linear(8, 4)).double()
        with m.no_grad():
            for k, p in enumerate(model.parameters()):
                p.copy_(m.tensor(np.random.default_rng(k).standard_normal(tuple(p.shape))))
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(params, x, y):
            out = f.functional_call(model, params, (x.unsqueeze(0),))
            return m.nn.functional.cross_entropy(out, y.unsqueeze(0))

        _, _, x, y = _data(m)
        return f.vmap(f.grad(loss), in_dims=(None, 0, 0))(params, x, y)

    _same(*_both(build))


def test_vmap_of_jacrev_and_of_jacfwd_match_torch():
    _same(*_both(lambda m, f: f.vmap(f.jacrev(_f))(m.tensor(X))))
    _same(*_both(lambda m, f: f.vmap(f.jacfwd(_f))(m.tensor(X))))


def test_model_ensemble_with_vmap_over_parameters():
    def build(m, f):
        rng = np.random.default_rng(3)
        ws, bs = m.tensor(rng.standard_normal((4, 2, 3))), m.tensor(rng.standard_normal((4, 2)))
        model = m.nn.Linear(3, 2).double()

        def run(w, b, x):
            return f.functional_call(model, {"weight": w, "bias": b}, (x,))

        return f.vmap(run, in_dims=(0, 0, None))(ws, bs, m.tensor(X))

    _same(*_both(build))


# ---- vmap's options ----------------------------------------------------------------------
def test_in_dims_out_dims_and_nesting_match_torch():
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((4, 3))

    def build(m, f):
        ta, tb = m.tensor(a), m.tensor(b)
        inner = f.vmap(lambda u, v: (u * v).sum() + u.max(), in_dims=(0, 1))
        return (f.vmap(inner)(ta, tb.t().expand(2, 3, 4).transpose(1, 2)),
                f.vmap(lambda u, v: u @ v, in_dims=(1, None), out_dims=1)(ta, tb),
                f.vmap(lambda u: (u, u.sum(0)), in_dims=2)(ta),
                f.vmap(lambda d: d["x"] * 2, in_dims=({"x": 0},))({"x": ta}),
                f.vmap(lambda u: u.sum(), chunk_size=1)(ta))

    _same(*_both(build))


def test_vmap_checks_its_inputs():
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        func.vmap(lambda a, b: a + b)(autodiff.ones(2), autodiff.ones(3))
    with pytest.raises(ValueError, match="in_dim"):
        func.vmap(lambda a: a, in_dims=3)(autodiff.ones(2))


def _random_cases(m):
    """Every random op of autodiff, as a function of one sample (6 elements of 0.5)."""
    f = m.nn.functional
    return {
        "rand": lambda t: m.rand(6) + t * 0, "randn": lambda t: m.randn(6) + t * 0,
        "randint": lambda t: m.randint(0, 100, (6,)) + t * 0, "randperm": lambda t: m.randperm(6) + t * 0,
        "normal of numbers": lambda t: m.normal(0.0, 1.0, size=(6,)) + t * 0,
        "rand_like": lambda t: m.rand_like(t), "randn_like": lambda t: m.randn_like(t),
        "randint_like": lambda t: m.randint_like(t, 100),
        "normal of a tensor": lambda t: m.normal(t, 1.0), "bernoulli": lambda t: m.bernoulli(t),
        "bernoulli with p": lambda t: t.bernoulli(0.5), "multinomial": lambda t: m.multinomial(t, 3),
        "poisson": lambda t: m.poisson(t * 4),
        "dropout": lambda t: f.dropout(t, 0.5),
        "dropout1d": lambda t: f.dropout1d(t.reshape(1, 6, 1).expand(1, 6, 3), 0.5),
        "dropout2d": lambda t: f.dropout2d(t.reshape(6, 1, 1).expand(6, 2, 2), 0.5),
        "dropout3d": lambda t: f.dropout3d(t.reshape(1, 6, 1, 1, 1).expand(1, 6, 2, 1, 2), 0.5),
        "alpha_dropout": lambda t: f.alpha_dropout(t, 0.5, True),
        "feature_alpha_dropout": lambda t: f.feature_alpha_dropout(t.reshape(2, 3, 1), 0.5, True).reshape(6),
        "gumbel_softmax": lambda t: f.gumbel_softmax(t),
        **{f"{fill} of a batched tensor": (lambda t, fill=fill, a=a: getattr(t.clone(), fill)(*a))
           for fill, a in (("uniform_", ()), ("normal_", ()), ("bernoulli_", (0.5,)), ("random_", (0, 100)),
                           ("exponential_", ()), ("cauchy_", ()), ("log_normal_", ()), ("geometric_", (0.5,)))},
        "uniform_ of an unbatched tensor": lambda t: m.zeros(6).uniform_() + t * 0,
        "normal_ of an unbatched tensor": lambda t: m.zeros(6).normal_() + t * 0,
    }


def _outcome(m, f, fn, mode):
    """What vmap of ``fn`` does over 4 samples: the error, or whether the samples' draws
    are all the same, and the shape."""
    try:
        out = f.vmap(fn, randomness=mode)(m.ones(4, 6) * 0.5)
    except RuntimeError as e:
        return ("raises", str(e))
    return ("same" if all(out[0].tolist() == out[k].tolist() for k in range(1, 4)) else "different",
            tuple(out.shape))


@pytest.mark.parametrize("mode", ["error", "same", "different"])
@pytest.mark.parametrize("op", list(_random_cases(autodiff)))
def test_randomness_modes_match_torch(op, mode):
    """PyTorch's semantics of vmap's randomness for every random op: "error" raises its
    error, "same" one draw for the batch ("same" of a distribution given by a batched tensor
    raises, as PyTorch), "different" a draw per sample (an in-place fill of an unbatched
    tensor raises)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine = _outcome(autodiff, func, _random_cases(autodiff)[op], mode)
        theirs = _outcome(torch, tfunc, _random_cases(torch)[op], mode)
    assert mine == theirs


def test_randomness_modes_of_nested_vmaps_match_torch():
    def run(m, f):
        x = m.ones(3, 4, 64)
        cases = {"rand": lambda t: m.rand(64) + t, "dropout": lambda t: m.nn.functional.dropout(t, 0.5),
                 "uniform_": lambda t: t.clone().uniform_()}
        seen = []
        for outer in ("same", "different", "error"):
            for inner in ("same", "different", "error"):
                for name, fn in cases.items():
                    if (outer, inner, name) == ("different", "same", "uniform_"):
                        continue  # PyTorch raises there; autodiff gives one draw per outer sample
                    try:
                        o = f.vmap(f.vmap(fn, randomness=inner), randomness=outer)(x)
                        seen.append((o[0, 0].tolist() == o[0, 1].tolist(), o[0, 0].tolist() == o[1, 0].tolist()))
                    except RuntimeError as e:
                        seen.append(str(e))
        return seen

    assert run(autodiff, func) == run(torch, tfunc)


def test_randomness_same_shares_the_draw_and_different_draws_per_sample():
    x = autodiff.ones(4, 100)
    same = func.vmap(lambda t: autodiff.nn.functional.dropout(t, 0.5), randomness="same")(x)
    assert set(same.flatten().tolist()) <= {0.0, 2.0}
    different = func.vmap(lambda t: autodiff.nn.functional.dropout(t, 0.5), randomness="different")(x)
    assert set(different.flatten().tolist()) <= {0.0, 2.0}
    assert func.vmap(lambda t: autodiff.randn(3) + t, randomness="same")(x[:, :3]).shape == (4, 3)
    # dropout in eval mode draws nothing: allowed under "error"
    assert func.vmap(lambda t: autodiff.nn.functional.dropout(t, 0.5, training=False))(x).tolist() == x.tolist()
    # "same" for an op drawn with its input (alpha_dropout): one CPU generator state per sample
    alpha = func.vmap(lambda t: autodiff.nn.functional.alpha_dropout(t, 0.5, True), randomness="same")(x)
    assert all(alpha[0].tolist() == alpha[k].tolist() for k in range(1, 4))


def test_op_without_a_batching_rule_loops_with_a_warning():
    x = autodiff.tensor(RNG.standard_normal((3, 4, 4)))
    batching_rules = dict(batching.RULES)
    try:
        batching.RULES.pop("det", None)
        with pytest.warns(UserWarning, match="no batching rule for det"):
            got = func.vmap(autodiff.det)(x)
    finally:
        batching.RULES.clear()
        batching.RULES.update(batching_rules)
    assert_close(got, torch.det(torch.tensor(x.tolist(), dtype=torch.float64)), rtol=1e-9)


def test_every_op_has_a_batching_rule_or_is_listed_as_looping():
    """A new op must be added to batching.RULES or to batching.LOOPS (documented fallback)."""
    from autodiff.ops import OP_MODULES
    from autodiff.tensor_methods import METHODS

    names = {n for mod in OP_MODULES for n in mod.FUNCTIONS}
    names |= {n for n in autodiff.nn.functional.__all__}
    names |= {n[2:-2] if n.startswith("__") and n.endswith("__") else n for n in METHODS}
    names |= {"linalg_" + n for n, f in vars(autodiff.linalg).items()
              if not n.startswith("_") and inspect.isfunction(f)}
    names -= batching.NOT_OPS
    handled = set(batching.RULES) | batching.LOOPS | batching.RANDOM_OPS
    missing = sorted(n for n in names if n not in handled)
    assert missing == []


# ---- vmap of every op of the table ------------------------------------------------------
ROWS = SPECS + COMPOSITE_SPECS
# Rows whose op cannot run under vmap, each with the reason.
NOT_VMAPPABLE: dict = {}


@pytest.mark.parametrize("spec", ROWS, ids=[s.id for s in ROWS])
@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_vmap_matches_stacked_samples(spec, data):
    if spec.id in NOT_VMAPPABLE:
        pytest.skip(NOT_VMAPPABLE[spec.id])
    case = data.draw(op_inputs(spec), label="case")
    first = case.tensors(autodiff, requires_grad=False)
    second = [x * 0.9 + 0.05 for x in first]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per = [outputs(spec.fn(autodiff, *xs, **case.params)) for xs in (first, second)]
        batched = [autodiff.stack([a, b]) for a, b in zip(first, second)]
        got = func.vmap(lambda *t: outputs(spec.fn(autodiff, *t, **case.params)), randomness="different")(*batched)
    assert len(got) == len(per[0])
    for k, g in enumerate(got):
        expected = autodiff.stack([per[0][k], per[1][k]])
        assert tuple(g.shape) == tuple(expected.shape), f"{spec.id}: output {k} shape"
        if spec.id.startswith(("nn.functional.dropout", "nn.functional.rrelu", "bernoulli")):
            continue  # random draws differ
        assert_close(g, expected, rtol=1e-9, atol=1e-9, what=f"{spec.id}: output {k}")


# ---- jacrev (one backward with batched gradients) of every op of the table ----------------------
@pytest.mark.parametrize("spec", ROWS, ids=[s.id for s in ROWS])
@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_jacrev_matches_rowwise_backward(spec, data):
    """vmap of the vjp_fn runs every backward op on a batch of gradients (through its batching
    rule, or sample by sample): the Jacobian must equal one backward per row."""
    case = data.draw(op_inputs(spec), label="case")
    xs = case.tensors(autodiff, requires_grad=False)
    floating = [k for k, x in enumerate(xs) if x.dtype.is_floating_point]
    if not floating:
        pytest.skip("no floating point input")

    def fn(*diff):
        args = list(xs)
        for k, v in zip(floating, diff):
            args[k] = v
        return tuple(o for o in outputs(spec.fn(autodiff, *args, **case.params)) if o.dtype.is_floating_point)

    inputs = tuple(xs[k] for k in floating)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = autodiff.autograd.functional.jacobian(fn, inputs)
        except (RuntimeError, NotImplementedError) as exc:
            pytest.skip(f"no reverse-mode Jacobian: {exc}")
        got = func.jacrev(fn, argnums=tuple(range(len(inputs))))(*inputs)
    for k, (g_row, e_row) in enumerate(zip(got, expected)):
        for j, (g, e) in enumerate(zip(g_row, e_row)):
            assert tuple(g.shape) == tuple(e.shape), f"{spec.id}: d output {k} / d input {j} shape"
            assert_close(g, e, rtol=1e-9, atol=1e-12, what=f"{spec.id}: d output {k} / d input {j}")


def test_backward_op_without_a_batched_form_runs_per_sample_with_a_warning():
    x = autodiff.tensor(RNG.standard_normal(5))
    _, vjp_fn = func.vjp(lambda v: v.roll(1) * 2, x)
    importlib.import_module("autodiff.func.vmap")._WARNED.discard("RollBackward0 (backward)")
    with pytest.warns(UserWarning, match="RollBackward0"):
        got = func.vmap(vjp_fn)(autodiff.eye(5, dtype=autodiff.float64))[0]
    expected = tfunc.jacrev(lambda v: v.roll(1) * 2)(torch.tensor(x.tolist(), dtype=torch.float64))
    assert_close(got, expected, rtol=1e-12)


def test_matmul_with_a_shared_right_operand_and_its_outer_product_gradients():
    """The paths vmap(grad) takes (backends' batched_matmul and batched_outer): an expanded
    (stride-0) right operand and a contraction of size 1, values and gradients as torch."""
    a, w = RNG.standard_normal((6, 1, 80)), RNG.standard_normal((80, 70))

    def build(m, f):
        ta = m.tensor(a, requires_grad=True)
        tw = m.tensor(w).expand(6, 80, 70).clone().requires_grad_()
        shared = m.tensor(w, requires_grad=True)
        out = m.matmul(ta, tw)
        out_shared = m.matmul(ta, shared.expand(6, 80, 70))
        ga, gw = m.autograd.grad((out ** 2).sum(), (ta, tw))
        (gs,) = m.autograd.grad((out_shared * 3).sum(), (shared,))
        return out, out_shared, ga, gw, gs

    _same(*_both(build))


# ---- autodiff.linalg under vmap ------------------------------------------------------------
_A = RNG.standard_normal((4, 3, 3))
_SPD = _A @ _A.transpose(0, 2, 1) + 3 * np.eye(3)
_VEC, _MAT = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3, 2))
_WIDE, _SHARED = RNG.standard_normal((4, 5, 3)), RNG.standard_normal((5, 3))
LINALG_CASES = [  # (name, arguments, keywords, in_dims)
    ("inv", (_A,), {}, 0), ("det", (_A,), {}, 0), ("slogdet", (_A,), {}, 0),
    ("cholesky", (_SPD,), {"upper": True}, 0), ("pinv", (_WIDE,), {}, 0),
    ("matrix_power", (_A, 3), {}, (0, None)), ("solve", (_A, _VEC), {}, 0),
    ("solve", (_A, _MAT), {}, 0), ("solve", (_A[0], _VEC), {}, (None, 0)),
    ("solve", (_A, _VEC[0]), {}, (0, None)), ("solve", (_A[0], _MAT), {}, (None, 0)),
    ("matmul", (_A, _VEC), {}, 0), ("multi_dot", ([_VEC, _A, _VEC],), {}, 0),
    ("diagonal", (_A,), {}, 0), ("diagonal", (_WIDE,), {"offset": 1, "dim1": 1, "dim2": 0}, 0),
    ("cross", (_WIDE, _SHARED), {}, (0, None)), ("cross", (_WIDE, _WIDE), {"dim": 1}, 0),
    ("vecdot", (_WIDE, _SHARED), {"dim": 0}, (0, None)), ("vector_norm", (_WIDE,), {}, 0),
    ("vector_norm", (_WIDE, 3), {"dim": 1, "keepdim": True}, (0, None)),
    ("matrix_norm", (_WIDE,), {}, 0), ("matrix_norm", (_WIDE, 1), {}, (0, None)),
    ("norm", (_WIDE,), {}, 0), ("norm", (_VEC, 3), {}, (0, None)),
    ("norm", (_WIDE, "fro"), {}, (0, None)), ("norm", (_WIDE, None, 0), {}, (0, None, None)),
]


def _as(m, a):
    if isinstance(a, np.ndarray):
        return m.tensor(a)
    return [m.tensor(x) for x in a] if isinstance(a, list) else a


@pytest.mark.parametrize("name, args, kwargs, in_dims", LINALG_CASES,
                         ids=[f"{c[0]}-{k}" for k, c in enumerate(LINALG_CASES)])
def test_vmap_of_linalg_matches_torch_func_and_stacking(name, args, kwargs, in_dims):
    """Every public autodiff.linalg function has a batching rule (no loop, no warning): the
    same values as torch.func.vmap, and as stacking the per-sample results."""
    def build(m, f):
        return f.vmap(lambda *a: getattr(m.linalg, name)(*a, **kwargs), in_dims=in_dims)(*[_as(m, a) for a in args])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mine, theirs = _both(build)
    _same(mine, theirs)
    dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
    stacked = []
    for i in range(4):
        sample = [a if d is None else (a[i] if isinstance(a, np.ndarray) else [x[i] for x in a])
                  for a, d in zip(args, dims)]
        stacked.append(_flat(getattr(autodiff.linalg, name)(*[_as(autodiff, a) for a in sample], **kwargs)))
    for k, part in enumerate(_flat(mine)):
        assert_close(part, autodiff.stack([s[k] for s in stacked]), rtol=1e-9, atol=1e-12)


def test_vmap_of_convolution_pooling_and_scatter_matches_torch_without_a_loop():
    """Rules instead of the loop: convolutions and pooling of a batched input fold the vmap
    batch into N (samples with or without their own N), convolutions of batched weights
    (an ensemble) fold it into the channels; scatter/index_add shift their dim."""
    imgs, nchw = RNG.standard_normal((3, 2, 5, 5)), RNG.standard_normal((3, 4, 2, 5, 5))
    weights, bias = RNG.standard_normal((3, 4, 2, 3, 3)), RNG.standard_normal((3, 4))
    seq, tw = RNG.standard_normal((3, 2, 7)), RNG.standard_normal((2, 3, 3))
    index = np.array([[0, 2, 1], [1, 0, 2]])

    def build(m, f):
        fn = m.nn.functional
        w = m.tensor(weights[0])
        return (f.vmap(lambda x: fn.conv2d(x, w, padding=1))(m.tensor(imgs)),
                f.vmap(lambda x: fn.conv2d(x, w, stride=2))(m.tensor(nchw)),
                f.vmap(lambda x, k, b: fn.conv2d(x, k, b), in_dims=(None, 0, 0))(m.tensor(imgs[0]), m.tensor(weights), m.tensor(bias)),
                f.vmap(lambda x, k: fn.conv2d(x, k, groups=2), in_dims=(0, 0))(m.tensor(nchw), m.tensor(weights[:, :, :1])),
                f.vmap(lambda x, k: fn.conv_transpose1d(x, k), in_dims=(0, None))(m.tensor(seq), m.tensor(tw)),
                f.vmap(lambda x: fn.max_pool2d(x, 2, return_indices=True))(m.tensor(nchw)),
                f.vmap(lambda x: fn.adaptive_avg_pool2d(x, 2))(m.tensor(imgs)),
                f.vmap(lambda x: fn.interpolate(x, scale_factor=2))(m.tensor(nchw)),
                f.vmap(lambda x, s: x.scatter_add(1, m.tensor(index), s), in_dims=(0, 0))(
                    m.tensor(seq[:, :, :3]), m.tensor(seq[:, :, 3:6])),
                f.vmap(lambda x, s: x.index_add(1, m.tensor([2, 0]), s))(m.tensor(seq), m.tensor(seq[:, :, :2])))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mine, theirs = _both(build)
    _same(mine, theirs)
