"""``gradcheck`` and ``gradgradcheck``: analytic gradients against central differences.

As in PyTorch: the numerical Jacobian comes from central differences
``(f(x + eps) - f(x - eps)) / (2 eps)`` one input element at a time, the analytical one
from vector-Jacobian products (one backward per output element), and both are compared
with ``|analytical - numerical| <= atol + rtol * |numerical|``. Everything runs through
Tensor ops on the inputs' own device: inputs are perturbed in copies under ``no_grad``,
never through NumPy, so the check works on every backend.

Example::

    x = autodiff.randn(3, dtype=autodiff.float64, requires_grad=True)
    assert gradcheck(lambda t: (t * t).exp(), (x,))
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from autodiff import dtypes
from autodiff.autograd import grad_mode
from autodiff.autograd.api import grad as autograd_grad
from autodiff.ops.creation import rand, zeros, zeros_like
from autodiff.ops.shape import stack
from autodiff.tensor import Tensor

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck``/``gradgradcheck`` when the gradients do not match."""


def _as_tuple(x: Any) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _float_outputs(outputs: tuple) -> list[tuple[int, Tensor]]:
    """The outputs with a Jacobian: floating tensors (integer/bool outputs have none)."""
    return [(i, o) for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _unravel(k: int, shape: tuple) -> tuple:
    index = []
    for n in reversed(shape):
        index.append(k % n)
        k //= n
    return tuple(reversed(index))


def _one_hot(like: Tensor, k: int) -> Tensor:
    g = zeros_like(like)
    with grad_mode.no_grad():
        g[_unravel(k, tuple(like.shape))] = 1.0
    return g


def _jacobian(vectors: list[Tensor], n_in: int, n_out: int, dim: int, like: Tensor) -> Tensor:
    """An ``(n_in, n_out)`` Jacobian from flat vectors stacked along ``dim`` (zero-size safe)."""
    if n_in == 0 or n_out == 0:
        return zeros((n_in, n_out), dtype=like.dtype, device=like.device)
    return stack(vectors, dim)


def _numerical_jacobians(
    func: Callable, inputs: tuple, diff: list[int], out_meta: list, eps: float
) -> list[list[Tensor]]:
    """``jac[i][o]``: d output o / d input ``diff[i]`` as a (numel_in, numel_out) tensor."""
    jacobians = []
    for i in diff:
        x = inputs[i]
        # A copy that still requires grad (func may differentiate inside, as gradgradcheck's
        # does), perturbed in place under no_grad: the caller's tensor is never touched.
        xp = x.detach().clone().requires_grad_(x._requires_grad)
        args = list(inputs)
        args[i] = xp
        n_in = x.numel()
        columns: list[list[Tensor]] = [[] for _ in out_meta]
        for k in range(n_in):
            idx = _unravel(k, tuple(x.shape))
            with grad_mode.no_grad():
                orig = xp[idx].item()
                xp[idx] = orig + eps
            plus = _snapshot(func(*args), out_meta)
            with grad_mode.no_grad():
                xp[idx] = orig - eps
            minus = _snapshot(func(*args), out_meta)
            with grad_mode.no_grad():
                xp[idx] = orig
                for col, p, m in zip(columns, plus, minus):
                    d = (p - m).to(device=x.device, dtype=x.dtype)
                    col.append((d / (2 * eps)).reshape(-1))
        # One row per perturbed input element: (numel_in, numel_out).
        jacobians.append(
            [_jacobian(col, n_in, math.prod(shape), 0, x) for (_o, shape, _d), col in zip(out_meta, columns)]
        )
    return jacobians


def _snapshot(outputs: Any, out_meta: list) -> list[Tensor]:
    """Copies of the checked outputs: an output may be a view of the perturbed input."""
    outputs = _as_tuple(outputs)
    with grad_mode.no_grad():
        return [outputs[o].detach().clone() for o, _s, _d in out_meta]


def _analytical_jacobians(
    outputs: tuple, inputs: tuple, diff: list[int], out_meta: list
) -> list[list[Tensor]]:
    """``jac[i][o]`` from one vector-Jacobian product per output element."""
    diff_inputs = [inputs[i] for i in diff]
    columns: list[list[list[Tensor]]] = [[[] for _ in out_meta] for _ in diff]
    for j, (o, shape, _dt) in enumerate(out_meta):
        out = outputs[o]
        for k in range(math.prod(shape)):
            if out._requires_grad:
                grads = autograd_grad(out, diff_inputs, _one_hot(out, k), retain_graph=True,
                                      allow_unused=True)
            else:
                grads = (None,) * len(diff_inputs)
            for i, (x, g) in enumerate(zip(diff_inputs, grads)):
                if g is None:
                    g = zeros_like(x)
                _check_grad_meta(g, x, diff[i])
                columns[i][j].append(g.detach().reshape(-1))
    # One column per output element: (numel_in, numel_out).
    return [
        [_jacobian(col, inputs[i].numel(), math.prod(shape), 1, inputs[i])
         for (_o, shape, _d), col in zip(out_meta, per_out)]
        for i, per_out in zip(diff, columns)
    ]


def _check_grad_meta(g: Tensor, x: Tensor, i: int) -> None:
    if tuple(g.shape) != tuple(x.shape):
        raise GradcheckError(
            f"Analytical gradient has incorrect size: gradient of input {i} has shape "
            f"{list(g.shape)}, expected {list(x.shape)}"
        )
    if g.device != x.device:
        raise GradcheckError(
            f"Analytical gradient of input {i} is on device {g.device}, expected {x.device}"
        )


def _max_difference(a: Tensor, n: Tensor) -> tuple[float, tuple[int, int]]:
    """The largest ``|a - n|`` and where it is (input element, output element)."""
    diff = (a - n).abs()
    flat = diff.reshape(-1).tolist()
    if not flat:
        return 0.0, (0, 0)
    worst = 0
    for k, v in enumerate(flat):
        if v != v:  # NaN is the worst difference of all
            worst = k
            break
        if v > flat[worst]:
            worst = k
    cols = n.shape[1] if n.ndim == 2 and n.shape[1] else 1
    return flat[worst], (worst // cols, worst % cols)


def _allclose(a: Tensor, n: Tensor, rtol: float, atol: float) -> bool:
    if a.numel() == 0:
        return True
    ok = (a - n).abs() <= atol + rtol * n.abs()
    return ok._be.all(ok._data)


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def _prepare(inputs: Any, name: str) -> tuple[tuple, list[int]]:
    inputs = _as_tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]
    if not diff:
        raise ValueError(
            f"{name} expects at least one input tensor to require gradient, but none of the "
            "them have requires_grad=True."
        )
    for i in diff:
        if inputs[i].dtype is not dtypes.float64:
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point. "
                "This check will likely fail if all the inputs are not of double precision "
                "floating point.",
                UserWarning,
                stacklevel=3,
            )
    return inputs, diff


def _unsupported(name: str, **flags: Any) -> None:
    """PyTorch's checks that need forward-mode AD or vmap, which autodiff lacks: asking for
    one is refused rather than silently skipped."""
    for flag, value in flags.items():
        if value:
            raise NotImplementedError(f"{name}({flag}=True): autodiff has no forward-mode AD "
                                      "or vmap yet, so this check cannot run")


def _random_like(t: Tensor) -> Tensor:
    return rand(tuple(t.shape), dtype=t.dtype, device=t.device) * 2 - 1


def _fast_check(func: Callable, inputs: tuple, outputs: tuple, diff: list[int], out_meta: list,
                eps: float, rtol: float, atol: float, raise_exception: bool) -> bool:
    """PyTorch's ``fast_mode``: compare ``v' J u`` for random ``u`` (per input) and ``v``
    (per output), one backward and two evaluations of ``func`` per input, instead of
    whole Jacobians."""
    vs = [_random_like(outputs[o]) for o, _s, _d in out_meta]
    for i in diff:
        x = inputs[i]
        u = _random_like(x)
        args = list(inputs)
        with grad_mode.no_grad():
            up, down = x.detach() + eps * u, x.detach() - eps * u
        args[i] = up.requires_grad_(x._requires_grad)
        plus = _snapshot(func(*args), out_meta)
        args[i] = down.requires_grad_(x._requires_grad)
        minus = _snapshot(func(*args), out_meta)
        for (o, _s, _d), v, p, m in zip(out_meta, vs, plus, minus):
            out = outputs[o]
            with grad_mode.no_grad():
                numerical = (((p - m) / (2 * eps)).to(v.dtype) * v).sum()
            g = None
            if out._requires_grad:
                g = autograd_grad(out, x, v, retain_graph=True, allow_unused=True)[0]
            analytical = zeros_like(numerical) if g is None else (g.detach() * u).sum().to(v.dtype)
            if not _allclose(analytical.reshape(1), numerical.reshape(1), rtol, atol):
                return _fail(
                    f"Jacobian mismatch for output {o} with respect to input {i} (fast mode: "
                    f"v^T J u for random u and v),\nnumerical:{numerical.item()}\n"
                    f"analytical:{analytical.item()}\n", raise_exception)
    return True


def _check_undefined_grad(outputs: tuple, inputs: tuple, diff: list[int], raise_exception: bool) -> bool:
    """Backward with all-zero output gradients (what an undefined gradient stands for) must
    give zero or no input gradients."""
    outs = [t for _o, t in _float_outputs(outputs) if t._requires_grad]
    if not outs:
        return True
    grads = autograd_grad(outs, [inputs[i] for i in diff], [zeros_like(t) for t in outs],
                          retain_graph=True, allow_unused=True)
    for i, g in zip(diff, grads):
        if g is not None and not _allclose(g, zeros_like(g), 0.0, 0.0):
            return _fail(f"Expected backward function to handle undefined output grads: zero "
                         f"output gradients gave a nonzero gradient for input {i}", raise_exception)
    return True


def gradcheck(
    func: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Check the gradients of ``func(*inputs)`` against finite differences.

    ``inputs`` is a tensor or a tuple (non-tensors are passed through); the tensors that
    require grad are differentiated. Returns True, or raises ``GradcheckError`` (returns
    False with ``raise_exception=False``) naming the input, the output, the largest
    difference and both Jacobians. ``fast_mode`` compares random projections ``v' J u``
    instead of whole Jacobians; ``check_undefined_grad`` checks that zero output gradients
    give zero input gradients. The checks that need forward-mode AD or vmap
    (``check_forward_ad``, ``check_batched_grad``, ``check_batched_forward_grad``) and
    ``masked=True`` (sparse) raise ``NotImplementedError``.
    """
    _unsupported("gradcheck", check_forward_ad=check_forward_ad, check_batched_grad=check_batched_grad,
                 check_batched_forward_grad=check_batched_forward_grad, masked=masked)
    inputs, diff = _prepare(inputs, "gradcheck")
    if not check_backward_ad:
        return True  # (the only other check, forward AD, was refused above)
    outputs = _as_tuple(func(*inputs))
    float_outs = _float_outputs(outputs)
    out_meta = [(o, tuple(t.shape), t.dtype) for o, t in float_outs]
    if fast_mode:
        ok = _fast_check(func, inputs, outputs, diff, out_meta, eps, rtol, atol, raise_exception)
    else:
        ok = _full_check(func, inputs, outputs, diff, out_meta, eps, rtol, atol, raise_exception,
                         nondet_tol, check_grad_dtypes)
    # Last, as PyTorch orders its checks: a wrong Jacobian is the clearer report.
    return ok and (not check_undefined_grad
                   or _check_undefined_grad(outputs, inputs, diff, raise_exception))


def _full_check(func: Callable, inputs: tuple, outputs: tuple, diff: list[int], out_meta: list,
                eps: float, rtol: float, atol: float, raise_exception: bool, nondet_tol: float,
                check_grad_dtypes: bool) -> bool:
    """Whole Jacobians, analytical (twice: backward must be reentrant) and numerical."""
    analytical = _analytical_jacobians(outputs, inputs, diff, out_meta)
    if check_grad_dtypes:
        for i in diff:
            g = autograd_grad(_sum_outputs(outputs), inputs[i], retain_graph=True, allow_unused=True)[0]
            if g is not None and g.dtype is not inputs[i].dtype:
                return _fail(f"Gradient has dtype mismatch: input {i} is {inputs[i].dtype}, "
                             f"its gradient {g.dtype}", raise_exception)
    # Backward must be deterministic (reentrant): a second pass has to give the same result.
    again = _analytical_jacobians(outputs, inputs, diff, out_meta)
    for i, a1, a2 in zip(diff, analytical, again):
        for (o, _s, _d), j1, j2 in zip(out_meta, a1, a2):
            if not _allclose(j1, j2, 0.0, nondet_tol):
                return _fail(
                    f"Backward is not reentrant, i.e., running backward with same input and "
                    f"grad_output multiple times gives different values, although analytical "
                    f"gradient matches numerical gradient. The tolerance for nondeterminism was "
                    f"{nondet_tol}. (input {i}, output {o})", raise_exception)

    numerical = _numerical_jacobians(func, inputs, diff, out_meta, eps)
    for i, a_row, n_row in zip(diff, analytical, numerical):
        for (o, _s, _d), a, n in zip(out_meta, a_row, n_row):
            if not _allclose(a, n, rtol, atol):
                worst, (r, c) = _max_difference(a, n)
                return _fail(
                    f"Jacobian mismatch for output {o} with respect to input {i},\n"
                    f"largest difference: {worst} at input element {r}, output element {c} "
                    f"(atol={atol}, rtol={rtol})\n"
                    f"numerical:{n!r}\nanalytical:{a!r}\n",
                    raise_exception,
                )
    return True


def _sum_outputs(outputs: tuple) -> Tensor:
    total = None
    for _o, t in _float_outputs(outputs):
        if t._requires_grad:
            s = t.sum()
            total = s if total is None else total + s.to(total.dtype)
    return total


def gradgradcheck(
    func: Callable[..., Any],
    inputs: Any,
    grad_outputs: Sequence[Tensor] | Tensor | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """Check second derivatives: gradcheck of ``(inputs, v) -> vjp(func, inputs, v)``.

    ``grad_outputs`` (one per differentiable output) default to random values in
    [-1, 1) on each output's device, in its dtype, requiring grad (non-contiguous views
    with ``gen_non_contig_grad_outputs``). ``check_fwd_over_rev`` and
    ``check_batched_grad`` need forward-mode AD or vmap and raise ``NotImplementedError``.
    """
    _unsupported("gradgradcheck", check_fwd_over_rev=check_fwd_over_rev,
                 check_batched_grad=check_batched_grad, masked=masked)
    inputs, diff = _prepare(inputs, "gradgradcheck")
    if not check_rev_over_rev:
        return True
    outputs = _as_tuple(func(*inputs))
    diff_outs = [(i, o) for i, o in _float_outputs(outputs) if o._requires_grad]
    if grad_outputs is None:
        grad_outputs = tuple(_grad_output(o, gen_non_contig_grad_outputs) for _i, o in diff_outs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def new_func(*args: Any) -> tuple:
        ins, gos = args[:n_in], args[n_in:]
        outs = _as_tuple(func(*ins))
        picked = [outs[i] for i, _o in diff_outs]
        diff_ins = [ins[i] for i in diff]
        grads = autograd_grad(picked, diff_ins, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(new_func, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, fast_mode=fast_mode)


def _grad_output(o: Tensor, non_contiguous: bool) -> Tensor:
    """A random output gradient in [-1, 1), requiring grad; as a strided view if asked."""
    if not non_contiguous or o.ndim == 0:
        return _random_like(o).requires_grad_()
    wide = rand((*o.shape[:-1], 2 * o.shape[-1]), dtype=o.dtype, device=o.device) * 2 - 1
    return wide[..., ::2].detach().requires_grad_()
