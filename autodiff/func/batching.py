"""Batching rules: how each op runs on a whole batch inside ``vmap`` (vmap.py).

A rule is ``rule(fn, level, args, kwargs)``: ``fn`` is the op (calling it on values
dispatches again for outer levels), ``level`` the vmap level whose batched arguments
(``batched_at(x, level)``: the value, batch dimension first) it carries through. It returns
the result wrapped at ``level``, or ``NOT_BATCHED`` to leave the call to the loop fallback.
``RULES`` maps op names (as ``checked`` names them: ``sum`` is ``torch.sum`` and
``Tensor.sum``) to rules, one table, grouped by family:

- elementwise ops (with broadcasting): the op on the values, each batched one given size-1
  dims after its batch dimension so that its sample dims line up with the others';
- ops with dim arguments (reductions, softmax, cumulative ops, shape ops): the dims shifted
  past the batch dimension, ``None`` (all dims) spelled out;
- shape ops with a shape argument (``reshape``, ``view``, ``expand``): the batch size
  prepended;
- products (``matmul`` and its 2-D/1-D forms, ``linear``, ``einsum``);
- indexing (basic indices, and index tensors that are not batched);
- losses: the unreduced loss through its family's rule, then reduced per sample;
- random ops, by vmap's ``randomness`` mode.
"""

from __future__ import annotations

import inspect
import string
from collections.abc import Callable
from typing import Any

from autodiff._vmap_state import NOT_BATCHED, state
from autodiff.func.vmap import BatchedTensor, batch_size, batched_at, innermost_level, loop, randomness, wrap
from autodiff.tensor import Tensor

_MISSING = object()


def _wrap_result(result: Any, level: int) -> Any:
    if isinstance(result, Tensor):
        return wrap(result, level)
    if isinstance(result, tuple):
        parts = [wrap(r, level) if isinstance(r, Tensor) else r for r in result]
        return result.__class__(*parts) if hasattr(result, "_fields") else tuple(parts)
    if isinstance(result, list):
        return [wrap(r, level) if isinstance(r, Tensor) else r for r in result]
    return result


def _lift(v: Tensor, ndim: int, target: int) -> Tensor:
    """A value (batch dim first, ``ndim`` sample dims) with size-1 dims after its batch
    dimension up to ``target`` sample dims."""
    if ndim >= target:
        return v
    return v.reshape((v.shape[0],) + (1,) * (target - ndim) + tuple(v.shape[1:]))


# ---- elementwise ---------------------------------------------------------------------------
def elementwise(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    tensors = [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
    target = max(t.ndim for t in tensors)

    def lift(a: Any) -> Any:
        v = batched_at(a, level)
        return a if v is None else _lift(v, a.ndim, target)

    return _wrap_result(fn(*[lift(a) for a in args], **{k: lift(a) for k, a in kwargs.items()}), level)


# ---- dims -------------------------------------------------------------------------------------
def _shift(d: Any, n: int) -> Any:
    """Sample dim(s) ``d`` of an ``n``-dim sample as dims of the value."""
    if isinstance(d, (tuple, list)):
        return tuple(_shift(x, n) for x in d)
    if not isinstance(d, int):
        return _MISSING  # (a named dim: not supported here)
    if not -max(n, 1) <= d < max(n, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(n, 1)}, {max(n, 1) - 1}], but got {d})")
    return (d % max(n, 1)) + 1


def dim_op(*positions: tuple[int, str], extra: int = 0, none: str = "keep", default: Any = None) -> Callable:
    """A rule for an op of one batched tensor (argument 0) with dim arguments at
    ``positions`` ((index, keyword) pairs). ``extra``: 1 for ops whose dim may be one past
    the last (``unsqueeze``); ``default``: the op's own default dim when it counts from the
    front (``split``'s 0, ``normalize``'s 1: left alone, it would name the batch dim);
    ``none``: what an absent or None dim means otherwise -- ``"keep"`` (the op's default,
    a negative dim, left alone), ``"all"`` (all sample dims), ``"flat"`` (the flattened sample)."""

    def rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
        x = args[0]
        v = batched_at(x, level)
        if v is None or _batched_elsewhere(args[1:], kwargs, level):
            return NOT_BATCHED
        n = x.ndim + extra
        if n == 0:
            return NOT_BATCHED  # (0-d samples: left to the loop)
        args, kwargs = list(args), dict(kwargs)
        args[0] = v
        for pos, kw in positions:
            in_args = pos < len(args)
            d = args[pos] if in_args else kwargs.get(kw, _MISSING)
            if d is _MISSING and default is not None:
                d = default
            if d is _MISSING or d is None:
                if none == "keep":
                    continue
                if none == "flat":
                    args[0] = v = v.reshape(v.shape[0], -1)
                    new = 1
                else:
                    new = tuple(range(1, x.ndim + 1))
            else:
                new = _shift(d, n)
                if new is _MISSING:
                    return NOT_BATCHED
            if in_args:
                args[pos] = new
            else:
                kwargs[kw] = new
        return _wrap_result(fn(*args, **kwargs), level)

    return rule


def _batched_elsewhere(args: Any, kwargs: dict, level: int) -> bool:
    for a in (*args, *kwargs.values()):
        if batched_at(a, level) is not None:
            return True
        if isinstance(a, (list, tuple)) and any(batched_at(b, level) is not None for b in a):
            return True
    return False


def softmax_like(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """softmax/log_softmax/softmin: an absent dim is PyTorch's implicit choice for the sample."""
    x = args[0]
    if (args[1] if len(args) > 1 else kwargs.get("dim")) is None:
        implicit = 0 if x.ndim in (0, 1, 3) else 1
        args = (x, implicit) + tuple(args[2:])
        kwargs = {k: a for k, a in kwargs.items() if k != "dim"}
    return dim_op((1, "dim"))(fn, level, args, kwargs)


def std_var(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """std/var: ``x.std(True)`` is the old ``unbiased`` form, without a dim."""
    if len(args) > 1 and isinstance(args[1], bool):
        kwargs = dict(kwargs, unbiased=args[1])
        args = args[:1]
    return dim_op((1, "dim"), none="all")(fn, level, args, kwargs)


def max_min(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """max/min: of a tensor (all dims), along a dim, or of two tensors (elementwise)."""
    if (len(args) > 1 and isinstance(args[1], Tensor)) or isinstance(kwargs.get("other"), Tensor):
        return elementwise(fn, level, args, kwargs)
    d = args[1] if len(args) > 1 else kwargs.get("dim", _MISSING)
    if d is _MISSING or d is None:
        v = batched_at(args[0], level)
        if v is None or args[0].ndim == 0:
            return NOT_BATCHED
        return _wrap_result(fn(v.reshape(v.shape[0], -1), 1).values, level)
    return dim_op((1, "dim"))(fn, level, args, kwargs)


def two_dims(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    return dim_op((1, "dim0"), (2, "dim1"))(fn, level, args, kwargs)


def diagonal_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    args = tuple(args) + (0, 0, 1)[len(args) - 1:] if len(args) < 4 else args
    return dim_op((2, "dim1"), (3, "dim2"))(fn, level, args, kwargs)


def permute_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x, v = args[0], batched_at(args[0], level)
    dims = kwargs.get("dims", args[1:])
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    return wrap(v.permute((0,) + tuple(_shift(d, x.ndim) for d in dims)), level)


def t_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x, v = args[0], batched_at(args[0], level)
    return wrap(v if x.ndim < 2 else v.transpose(1, 2), level)


def squeeze_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x, v = args[0], batched_at(args[0], level)
    d = args[1] if len(args) > 1 else kwargs.get("dim")
    if d is None:
        return wrap(v.reshape((v.shape[0],) + tuple(s for s in x.shape if s != 1)), level)
    dims = d if isinstance(d, (tuple, list)) else (d,)
    if x.ndim == 0:
        return wrap(v, level)
    gone = {_shift(k, x.ndim) - 1 for k in dims}
    keep = tuple(s for i, s in enumerate(x.shape) if not (i in gone and s == 1))
    return wrap(v.reshape((v.shape[0],) + keep), level)


def flatten_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x, v = args[0], batched_at(args[0], level)
    if x.ndim == 0:
        return wrap(v.reshape(v.shape[0], 1), level)
    start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
    end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
    return wrap(v.flatten(_shift(start, x.ndim), _shift(end, x.ndim)), level)


# ---- shapes ---------------------------------------------------------------------------------
def _shape_args(args: tuple, kwargs: dict, *names: str) -> tuple:
    for name in names:
        if name in kwargs:
            return tuple(kwargs[name])
    rest = args[1:]
    if len(rest) == 1 and isinstance(rest[0], (tuple, list)):
        return tuple(rest[0])
    return tuple(rest)


def reshape_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    v = batched_at(args[0], level)
    if v is None or _batched_elsewhere(args[1:], kwargs, level):
        return NOT_BATCHED
    shape = _shape_args(args, kwargs, "shape", "size")
    return wrap(v.reshape((v.shape[0],) + shape), level)


def expand_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x, v = args[0], batched_at(args[0], level)
    sizes = _shape_args(args, kwargs, "size")
    v = _lift(v, x.ndim, len(sizes))
    return wrap(v.expand((v.shape[0],) + sizes), level)


def expand_as_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x, other = args[0], args[1]
    if batched_at(x, level) is None:
        return NOT_BATCHED
    return x.expand(tuple(other.shape))


def repeat_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x, v = args[0], batched_at(args[0], level)
    reps = _shape_args(args, kwargs, "repeats")
    v = _lift(v, x.ndim, len(reps))
    return wrap(v.repeat((1,) + reps), level)


def _same_batch(tensors: Any, level: int) -> list:
    """Each tensor as a value batched at ``level`` (unbatched ones expanded)."""
    size = batch_size(level)
    out = []
    for t in tensors:
        v = batched_at(t, level)
        out.append(v if v is not None else t.unsqueeze(0).expand((size,) + tuple(t.shape)))
    return out


def cat_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    tensors = args[0] if args else kwargs["tensors"]
    d = args[1] if len(args) > 1 else kwargs.get("dim", 0)
    n = max(t.ndim for t in tensors)
    return wrap(fn(_same_batch(tensors, level), _shift(d, n)), level)


def stack_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    tensors = args[0] if args else kwargs["tensors"]
    d = args[1] if len(args) > 1 else kwargs.get("dim", 0)
    return wrap(fn(_same_batch(tensors, level), _shift(d, tensors[0].ndim + 1)), level)


# ---- products ---------------------------------------------------------------------------------
def matmul_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """matmul and its forms (mm, bmm, mv, dot, @): 1-D operands made matrices, the matrix
    dims' batch parts lined up, and the added dims dropped again."""
    from autodiff.ops.linalg import matmul

    a, b = args[0], args[1] if len(args) > 1 else kwargs.get("other", kwargs.get("mat2", kwargs.get("vec")))
    va, vb = batched_at(a, level), batched_at(b, level)
    na, nb = a.ndim, b.ndim
    if va is None and vb is None:
        return NOT_BATCHED
    xa = va if va is not None else a
    xb = vb if vb is not None else b
    if na == 1:
        xa = xa.unsqueeze(-2)
    if nb == 1:
        xb = xb.unsqueeze(-1)
    ma, mb = max(na, 2), max(nb, 2)
    target = max(ma, mb)
    if va is not None:
        xa = _lift(xa, ma, target)
    if vb is not None:
        xb = _lift(xb, mb, target)
    if va is None:  # only b batched: a's dims must sit right of b's batch dim
        xa = xa.reshape((1,) * (target - ma + 1) + tuple(xa.shape))
    out = matmul(xa, xb) if not isinstance(xa, BatchedTensor) and not isinstance(xb, BatchedTensor) else xa @ xb
    if na == 1 and nb == 1:
        out = out.reshape(tuple(out.shape[:-2]))
    elif nb == 1:
        out = out.squeeze(-1)
    elif na == 1:
        out = out.squeeze(-2)
    return wrap(out, level)


def linear_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x = args[0]
    w = args[1] if len(args) > 1 else kwargs["weight"]
    b = args[2] if len(args) > 2 else kwargs.get("bias")
    vx = batched_at(x, level)
    if vx is not None and batched_at(w, level) is None and (b is None or batched_at(b, level) is None) \
            and x.ndim >= 1 and w.ndim == 2:
        return wrap(fn(vx, w, b), level)  # the common case: linear takes any leading dims
    out = x @ (w.t() if w.ndim == 2 else w)
    return out if b is None else out + b


def addmm_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    bias, m1, m2 = args[:3]
    beta, alpha = kwargs.get("beta", 1), kwargs.get("alpha", 1)
    prod = m1 @ m2
    return (bias if beta == 1 else bias * beta) + (prod if alpha == 1 else prod * alpha)


def einsum_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    ins = lhs.split(",")
    if not arrow:
        letters = "".join(ins)
        rhs = ("..." if "..." in letters else "") + "".join(
            sorted(c for c in set(letters) if c != "." and letters.count(c) == 1))
    free = next(c for c in string.ascii_letters if c not in equation)
    values = []
    for i, op in enumerate(operands):
        v = batched_at(op, level)
        if v is not None:
            ins[i] = free + ins[i]
            values.append(v)
        else:
            values.append(op)
    return wrap(fn(",".join(ins) + "->" + free + rhs, *values), level)


# ---- indexing ---------------------------------------------------------------------------------
def _index_past_batch(index: Any, level: int) -> tuple | None:
    """``index`` as a tuple, when it can be applied past the batch dim of a value: None when
    an index tensor is batched, or index tensors are separated (they would move their dims
    first: left to the loop)."""
    idx = index if isinstance(index, tuple) else (index,)
    if any(batched_at(i, level) is not None for i in idx):
        return None
    advanced = [k for k, i in enumerate(idx) if isinstance(i, (Tensor, list))]
    if advanced and advanced != list(range(advanced[0], advanced[-1] + 1)):
        return None
    return idx


def getitem_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x, index = args
    v = batched_at(x, level)
    idx = _index_past_batch(index, level)
    if v is None or idx is None:
        return NOT_BATCHED
    return wrap(v[(slice(None),) + idx], level)


def setitem_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """``x[index] = value`` on a batched x: the same index past the batch dim of x's value, with
    a batched value's sample dims lined up with the indexed region's (index tensors that are
    batched, or separated, are left to the loop)."""
    x, index, value = args
    vx = batched_at(x, level)
    idx = _index_past_batch(index, level)
    if vx is None or idx is None:
        return NOT_BATCHED
    vv = batched_at(value, level)
    if vv is not None:
        vv = _lift(vv, value.ndim, x[index].ndim)
    fn(vx, (slice(None),) + idx, value if vv is None else vv)
    return None


def index_select_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    return dim_op((1, "dim"))(fn, level, args, kwargs)


def gather_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x = args[0]
    d = args[1] if len(args) > 1 else kwargs["dim"]
    index = args[2] if len(args) > 2 else kwargs["index"]
    vx, vi = _same_batch((x, index), level)
    return wrap(fn(vx, _shift(d, x.ndim), vi), level)


# ---- losses ---------------------------------------------------------------------------------
def _reduction(args: tuple, kwargs: dict, pos: int) -> str:
    return args[pos] if len(args) > pos and isinstance(args[pos], str) else kwargs.get("reduction", "mean")


def elementwise_loss(pos: int) -> Callable:
    """Losses that are elementwise before their reduction (``reduction`` at ``pos`` when
    positional): unreduced through the elementwise rule, then reduced per sample."""

    def rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
        how = _reduction(args, kwargs, pos)
        args = tuple(a for i, a in enumerate(args) if not (i == pos and isinstance(a, str)))
        kwargs = dict(kwargs, reduction="none")
        if fn.__name__ == "kl_div" and how == "batchmean":
            loss = elementwise(fn, level, args, kwargs)
            return loss.sum() / args[0].shape[0]
        loss = elementwise(fn, level, args, kwargs)
        return loss if how == "none" else loss.sum() if how == "sum" else loss.mean()

    return rule


def row_loss(rows: int, pos: int) -> Callable:
    """Losses of ``rows`` tensors of N rows each (input (N, C), target (N,) ...; one row when
    the input is 1-d) with one loss per row before their reduction (``reduction`` at ``pos``
    when positional): the batch merged into the rows, the unreduced loss reduced per sample."""

    def rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
        how = _reduction(args, kwargs, pos)
        args = tuple(a for i, a in enumerate(args) if not (i == pos and isinstance(a, str)))
        tensors, rest = args[:rows], args[rows:]
        if _batched_elsewhere(rest, kwargs, level):
            return NOT_BATCHED  # (a batched weight or margin: the loop)
        values = _same_batch(tensors, level)
        size = values[0].shape[0]
        has_rows = tensors[0].ndim >= 2
        if has_rows:
            values = [v.reshape((-1,) + tuple(v.shape[2:])) for v in values]
        loss = fn(*values, *rest, **dict(kwargs, reduction="none"))
        if has_rows:
            loss = loss.reshape(size, -1)
            loss = loss if how == "none" else loss.sum(1) if how == "sum" else loss.mean(1)
        return wrap(loss, level)

    return rule


def class_loss(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """cross_entropy and nll_loss with class-index targets: the batch merged into the loss's
    own batch dimension, the unreduced loss reduced per sample."""
    x, target = args[0], args[1] if len(args) > 1 else kwargs["target"]
    weight = args[2] if len(args) > 2 else kwargs.get("weight")
    if target.dtype.is_floating_point or _batched_elsewhere((weight,), {}, level):
        return NOT_BATCHED
    ignore = kwargs.get("ignore_index", -100)
    how = kwargs.get("reduction", "mean")
    rest = {k: a for k, a in kwargs.items() if k not in ("target", "weight", "reduction")}
    vx, vt = _same_batch((x, target), level)
    size = vx.shape[0]
    if x.ndim == 1:  # one sample of C scores: the batch is the loss's batch
        loss = fn(vx, vt, weight, reduction="none", **rest)
    else:
        flat_x = vx.reshape((-1,) + tuple(vx.shape[2:]))
        flat_t = vt.reshape((-1,) + tuple(vt.shape[2:]))
        loss = fn(flat_x, flat_t, weight, reduction="none", **rest).reshape((size,) + tuple(vt.shape[1:]))
    if how == "none":
        return wrap(loss, level)
    per_sample = loss.reshape(size, -1).sum(1)
    if how == "sum":
        return wrap(per_sample, level)
    kept = (vt != ignore).to(loss.dtype)
    if weight is not None:
        kept = kept * weight[vt.clamp(min=0)]
    return wrap(per_sample / kept.reshape(size, -1).sum(1), level)


# ---- random ops ----------------------------------------------------------------------------
# PyTorch's semantics (torch.func.vmap's ``randomness``): "error" raises for any random op
# inside the vmap; "different" gives each sample its own draws; "same" one draw shared by
# the batch -- except for an op whose distribution is given by a batched tensor (bernoulli
# of batched probabilities...), which raises, as PyTorch; an in-place fill of an unbatched
# tensor raises under "different" (it cannot hold a draw per sample).
RANDOM_ERROR = (
    "vmap: called random operation while in randomness error mode. Please either use the "
    "'same' or 'different' randomness flags on vmap or perform the randomness operation out of vmap")
SAME_OF_BATCHED = ("Vmap does not currently support same randomness with a batched tensor input. "
                   "Please file an issue with functorch")
INPLACE_DIFFERENT = (
    "vmap: Cannot ask for different inplace randomness on an unbatched tensor. This will appear like "
    "same randomness. If this is necessary for your usage, please file an issue with functorch.")

# Factories (no tensor input): their draws have the shape their arguments give.
RANDOM_FACTORIES = frozenset(("rand", "randn", "randint", "randperm"))
# Ops whose distribution comes from their tensor input ("same" of a batched one raises).
RANDOM_OF_INPUT = frozenset(("normal", "bernoulli", "multinomial", "poisson"))
# Ops whose noise has the input's shape (dropout...) and the ``*_like`` factories.
RANDOM_LIKE = frozenset(("rand_like", "randn_like", "randint_like", "dropout", "dropout1d", "dropout2d",
                         "dropout3d", "alpha_dropout", "feature_alpha_dropout", "rrelu", "gumbel_softmax"))
# In-place fills: the tensor's values are replaced by draws.
RANDOM_FILLS = frozenset(("uniform_", "normal_", "bernoulli_", "random_", "exponential_", "cauchy_",
                          "log_normal_", "geometric_"))
RANDOM_OPS = RANDOM_FACTORIES | RANDOM_OF_INPUT | RANDOM_LIKE | RANDOM_FILLS
# (position, keyword, default) of the ``training`` flag of ops random only in training.
_TRAINING = {"dropout": (2, True), "dropout1d": (2, True), "dropout2d": (2, True), "dropout3d": (2, True),
             "alpha_dropout": (2, False), "feature_alpha_dropout": (2, False), "rrelu": (3, False)}


def _is_random(name: str, args: tuple, kwargs: dict) -> bool:
    if name not in _TRAINING:
        return True
    pos, default = _TRAINING[name]
    training = args[pos] if len(args) > pos else kwargs.get("training", default)
    p = args[1] if len(args) > 1 and name != "rrelu" else kwargs.get("p", 0.5)
    return bool(training) and (name == "rrelu" or p != 0)


def random_dispatch(name: str, fn: Callable, level: int | None, args: tuple, kwargs: dict) -> Any:
    """A random op inside vmap, per the innermost vmap's ``randomness`` (``level``: the
    innermost level an argument is batched at, None for none)."""
    inner, size, mode = state.levels[-1]
    if mode == "error":
        raise RuntimeError(RANDOM_ERROR)
    fn = _seen_from_outside(fn, inner)
    if level is None or level < inner:  # nothing batched at the innermost level
        if mode == "same":  # one draw for this level's batch: the op as the outer vmaps see it
            return fn(*args, **kwargs)
        if name in RANDOM_FILLS:
            raise RuntimeError(INPLACE_DIFFERENT)
        if level is None and name in ("rand", "randn"):
            shape = _shape_args((None,) + tuple(args), kwargs, "size")
            return wrap(fn((size,) + shape, **kwargs), inner)
        if level is None and not any(isinstance(a, Tensor) for a in (*args, *kwargs.values())):
            # the other factories (and normal of numbers): one draw per sample, stacked
            from autodiff.ops.shape import stack

            return wrap(stack([fn(*args, **kwargs) for _ in range(size)]), inner)
        # a tensor input batched at an outer level only: one copy per sample of this level
        args = tuple(_broadcast_at(a, inner, size) if isinstance(a, Tensor) else a for a in args)
        level = inner
    result = _batched_random(name, fn, level, args, kwargs)
    if result is NOT_BATCHED:  # (a form without a vectorized rule: a draw per sample, in a loop)
        return loop(name, fn, level, args, kwargs)
    return result


def _seen_from_outside(fn: Callable, level: int) -> Callable:
    """``fn`` run with only the vmaps outside ``level`` running: a random op calls its
    op on values, and the levels that handled the call must not see it again (the outer
    ones apply their own randomness)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        saved = state.levels
        state.levels = [entry for entry in saved if entry[0] < level]
        state.active = bool(state.levels)
        try:
            return fn(*args, **kwargs)
        finally:
            state.levels = saved
            state.active = True

    call.__name__ = getattr(fn, "__name__", "op")
    return call


def _broadcast_at(x: Tensor, level: int, size: int) -> Tensor:
    from autodiff.ops.creation import zeros

    return x + wrap(zeros(size, dtype=x.dtype, device=x.device), level) if x.dtype.is_floating_point \
        else wrap(x.unsqueeze(0).expand((size,) + tuple(x.shape)), level)


def _batched_random(name: str, fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """A random op with an argument batched at ``level``, per that level's randomness."""
    mode = randomness(level)
    if mode == "error":
        raise RuntimeError(RANDOM_ERROR)
    x = args[0]
    v = batched_at(x, level)
    if name in RANDOM_OF_INPUT:
        if mode == "same":
            raise RuntimeError(SAME_OF_BATCHED)
        if name == "multinomial":
            if v is None:
                return NOT_BATCHED
            flat = v.reshape((-1, v.shape[-1]))
            out = fn(flat, *args[1:], **kwargs)
            return wrap(out.reshape(tuple(v.shape[:-1]) + (out.shape[-1],)), level)
        return elementwise(fn, level, args, kwargs)
    if name in RANDOM_FILLS:
        if v is None:
            raise RuntimeError(INPLACE_DIFFERENT) if mode == "different" else RuntimeError(RANDOM_ERROR)
        if _batched_elsewhere(args[1:], kwargs, level):
            if mode == "same":
                raise RuntimeError(SAME_OF_BATCHED)
            return inplace_elementwise(fn, level, args, kwargs)
        if mode == "different":
            fn(v, *args[1:], **kwargs)
        else:  # one sample's draw, written into every sample
            one = v[0].clone()
            fn(one, *args[1:], **kwargs)
            v.copy_(one.expand(tuple(v.shape)))
        return x
    # RANDOM_LIKE: the noise has the sample's shape
    if v is None or _batched_elsewhere(args[1:], kwargs, level):
        return NOT_BATCHED
    if name in ("rand_like", "randn_like", "randint_like"):
        if mode == "same":
            return fn(v[0], *args[1:], **kwargs)  # one draw, the same for every sample
        return wrap(fn(v, *args[1:], **kwargs), level)
    if name in ("dropout", "dropout1d", "dropout2d", "dropout3d") and mode == "same":
        from autodiff.ops.creation import ones

        p = args[1] if len(args) > 1 else kwargs.get("p", 0.5)
        mask = fn(ones(tuple(x.shape), dtype=x.dtype, device=x.device), p, True)
        return x * mask
    if mode == "same":
        return _same_draw_per_sample(name, fn, level, args, kwargs)
    if name == "gumbel_softmax":
        return dim_op((4, "dim"))(fn, level, args, kwargs)
    full = {"dropout1d": 3, "dropout2d": 4, "dropout3d": 5}.get(name)
    if full is not None and x.ndim == full or name == "feature_alpha_dropout" and x.ndim >= 2:
        # samples with their own batch dim: the vmap batch folded into it (channels stay dim 1)
        out = fn(v.reshape((-1,) + tuple(v.shape[2:])), *args[1:], **kwargs)
        return wrap(out.reshape(tuple(v.shape)), level)
    return wrap(fn(v, *args[1:], **kwargs), level)


def _same_draw_per_sample(name: str, fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """randomness="same" for an op whose noise cannot be drawn apart from its input
    (alpha_dropout, rrelu, gumbel_softmax...): each sample in turn from the same generator
    state (the CPU generator's: CuPy's cannot save theirs)."""
    from autodiff.ops.shape import stack
    from autodiff.random import default_generator

    x = args[0]
    if x.device.type != "cpu":
        raise NotImplementedError(f"vmap: randomness='same' for {name} needs the CPU generator, whose "
                                  "state can be saved (CUDA generators cannot save theirs)")
    v = batched_at(x, level)
    start = default_generator.get_state()
    results = []
    for i in range(v.shape[0]):
        default_generator.set_state(start)
        results.append(fn(v[i], *args[1:], **kwargs))
    return wrap(stack(results), level)


# ---- the table ------------------------------------------------------------------------------
_ELEMENTWISE = (
    # arithmetic and comparisons (both operands broadcast)
    "add", "sub", "mul", "div", "true_divide", "pow", "rsub", "remainder", "fmod", "atan2",
    "arctan2", "maximum", "minimum", "fmax", "fmin", "hypot", "copysign", "logaddexp",
    "logaddexp2", "xlogy", "lerp", "addcmul", "addcdiv", "where", "clamp", "clip", "clamp_min",
    "clamp_max", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
    "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
    "masked_fill", "isclose", "float_power", "nextafter", "ldexp", "heaviside", "floor_divide",
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__pow__", "__rpow__", "__neg__", "and", "or", "xor", "invert",
    "floordiv", "rfloordiv", "mod", "rmod", "abs", "neg",
    # one tensor
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "square",
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
    "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "sigmoid", "erf",
    "erfc", "erfinv", "lgamma", "digamma", "polygamma", "i0", "sinc", "sign", "sgn", "floor",
    "ceil", "round", "trunc", "frac", "fix", "reciprocal", "negative", "positive", "absolute",
    "deg2rad", "rad2deg", "logit", "nan_to_num", "isnan", "isinf", "isfinite", "isposinf",
    "isneginf", "signbit", "clone", "contiguous", "detach", "to", "float", "double", "half",
    "type_as", "relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus",
    "softsign", "hardtanh", "hardsigmoid", "hardswish", "logsigmoid", "leaky_relu", "threshold",
    "hardshrink", "softshrink", "tanhshrink", "tril", "triu", "zeros_like", "ones_like",
    "full_like", "empty_like", "requires_grad_", "mvlgamma", "bitwise_not",
)
_REDUCE_ALL = ("sum", "mean", "prod", "amax", "amin", "logsumexp", "nansum", "nanmean",
               "count_nonzero", "all", "any", "norm")

RULES: dict[str, Callable] = {name: elementwise for name in _ELEMENTWISE}
RULES.update({name: dim_op((1, "dim"), none="all") for name in _REDUCE_ALL})
RULES.update({
    "norm": dim_op((2, "dim"), none="all"),
    "prod": dim_op((1, "dim"), none="flat"),
    "argmax": dim_op((1, "dim"), none="flat"), "argmin": dim_op((1, "dim"), none="flat"),
    "max": max_min, "min": max_min,
    "std": std_var, "var": std_var,
    "cumsum": dim_op((1, "dim")), "cumprod": dim_op((1, "dim")), "logcumsumexp": dim_op((1, "dim")),
    "softmax": softmax_like, "log_softmax": softmax_like, "softmin": softmax_like,
    "sort": dim_op((1, "dim")), "argsort": dim_op((1, "dim")), "topk": dim_op((2, "dim")),
    "kthvalue": dim_op((2, "dim")), "cummax": dim_op((1, "dim")), "cummin": dim_op((1, "dim")),
    "median": max_min,
    "unsqueeze": dim_op((1, "dim"), extra=1), "squeeze": squeeze_rule, "flatten": flatten_rule,
    "unflatten": dim_op((1, "dim")), "transpose": two_dims, "swapaxes": two_dims,
    "swapdims": two_dims, "movedim": dim_op((1, "source"), (2, "destination")),
    "moveaxis": dim_op((1, "source"), (2, "destination")), "permute": permute_rule, "t": t_rule,
    "flip": dim_op((1, "dims")), "narrow": dim_op((1, "dim")),
    "select": dim_op((1, "dim")), "split": dim_op((2, "dim"), default=0),
    "chunk": dim_op((2, "dim"), default=0), "unbind": dim_op((1, "dim"), default=0),
    "diagonal": diagonal_rule, "glu": dim_op((1, "dim")),
    "normalize": dim_op((2, "dim"), default=1), "cosine_similarity": dim_op((2, "dim"), default=1),
    "reshape": reshape_rule, "view": reshape_rule, "expand": expand_rule, "broadcast_to": expand_rule,
    "expand_as": expand_as_rule, "reshape_as": lambda fn, lv, a, k: a[0].reshape(tuple(a[1].shape)),
    "view_as": lambda fn, lv, a, k: a[0].reshape(tuple(a[1].shape)), "repeat": repeat_rule,
    "cat": cat_rule, "concat": cat_rule, "concatenate": cat_rule, "stack": stack_rule,
    "matmul": matmul_rule, "mm": matmul_rule, "bmm": matmul_rule, "mv": matmul_rule,
    "dot": matmul_rule, "__matmul__": matmul_rule, "__rmatmul__": matmul_rule,
    "linear": linear_rule, "addmm": addmm_rule, "einsum": einsum_rule,
    "__getitem__": getitem_rule, "index_select": index_select_rule, "gather": gather_rule,
    "mse_loss": elementwise_loss(4), "l1_loss": elementwise_loss(4),
    "smooth_l1_loss": elementwise_loss(4), "huber_loss": elementwise_loss(2),
    "binary_cross_entropy": elementwise_loss(5), "binary_cross_entropy_with_logits": elementwise_loss(5),
    "kl_div": elementwise_loss(4), "soft_margin_loss": elementwise_loss(4),
    "cross_entropy": class_loss, "nll_loss": class_loss,
})


def inplace_elementwise(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """``x.add_(y)`` and the like: the op on x's value, in place (x must be batched; the
    others are lined up with x, never x with them)."""
    x = args[0]
    if batched_at(x, level) is None:
        raise RuntimeError(
            "vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a Tensor "
            "`other` in extra_args that has more elements than `self`. This happened due to `other` "
            "being vmapped over but `self` not being vmapped over in a vmap.")

    def lift(a: Any) -> Any:
        v = batched_at(a, level)
        return a if v is None or a is x else _lift(v, a.ndim, x.ndim)

    fn(x.value, *[lift(a) for a in args[1:]], **{k: lift(a) for k, a in kwargs.items()})
    return x


def inplace_view(base: str) -> Callable:
    """``x.t_()``, ``x.unsqueeze_(0)``...: x becomes the view op's result (its wrapper
    takes the new value; the batch itself is not reshaped in place)."""

    def rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
        x = args[0]
        if batched_at(x, level) is None:
            return NOT_BATCHED
        result = getattr(x, base)(*args[1:], **kwargs)
        x.value = result.value
        return x

    return rule


def roll_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x, v = args[0], batched_at(args[0], level)
    shifts = args[1] if len(args) > 1 else kwargs["shifts"]
    dims = args[2] if len(args) > 2 else kwargs.get("dims")
    if v is None or x.ndim == 0:
        return NOT_BATCHED
    if dims is None:  # the flattened sample, rolled
        return wrap(fn(v.reshape(v.shape[0], -1), shifts, 1).reshape(tuple(v.shape)), level)
    return wrap(fn(v, shifts, _shift(dims, x.ndim)), level)


def masked_fill_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x, mask = args[0], args[1]
    value = args[2] if len(args) > 2 else kwargs["value"]
    if isinstance(value, Tensor) and batched_at(value, level) is not None:
        return value.to(x.dtype).where(mask, x)  # a value per sample: where(mask, value, x)
    return elementwise(fn, level, args, kwargs)


def take_along_dim_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x, index = args[0], args[1]
    d = args[2] if len(args) > 2 else kwargs.get("dim")
    if d is None:
        return NOT_BATCHED
    vx, vi = _same_batch((x, index), level)
    return wrap(fn(vx, vi, _shift(d, x.ndim)), level)


def last_dims(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """Ops of one tensor that work on its last dims and take any leading (batch) dims
    (``det``, ``inverse``, ``embedding`` of batched indices...): the op on the value."""
    v = batched_at(args[0], level)
    if v is None or _batched_elsewhere(args[1:], kwargs, level):
        return NOT_BATCHED
    return _wrap_result(fn(v, *args[1:], **kwargs), level)


def pad_rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    mode = args[2] if len(args) > 2 else kwargs.get("mode", "constant")
    return last_dims(fn, level, args, kwargs) if mode == "constant" else NOT_BATCHED


# ---- convolution, pooling, normalization of (N, C, ...) input ---------------------------------
def fold_into_n(full: int | None) -> Callable:
    """Ops of ``(N, C, *spatial)`` input (``full`` dims; None: any) that also take an
    unbatched ``(C, *spatial)`` sample: a batched input with unbatched parameters runs
    once, the vmap batch being N (an unbatched sample) or folded into N (a batched one)."""

    def rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
        x = args[0]
        v = batched_at(x, level)
        if v is None or _batched_elsewhere(args[1:], kwargs, level):
            return NOT_BATCHED
        if full is not None and x.ndim == full - 1:
            return _wrap_result(fn(v, *args[1:], **kwargs), level)
        if (full is not None and x.ndim != full) or x.ndim < 2:
            return NOT_BATCHED
        size = v.shape[0]
        out = fn(v.reshape((-1,) + tuple(v.shape[2:])), *args[1:], **kwargs)

        def unfold(r: Any) -> Any:
            return wrap(r.reshape((size, -1) + tuple(r.shape[1:])), level) if isinstance(r, Tensor) else r

        if isinstance(out, tuple):
            parts = [unfold(r) for r in out]
            return out.__class__(*parts) if hasattr(out, "_fields") else tuple(parts)
        return unfold(out)

    return rule


def conv_rule(full: int) -> Callable:
    """conv{1,2,3}d and conv_transpose{1,2}d: a batched input with unbatched weights folds
    the vmap batch into N; batched weights (an ensemble) fold it into the channels instead,
    as ``groups`` times the batch size: one convolution either way."""
    fold = fold_into_n(full)

    def rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
        try:
            bound = inspect.signature(fn).bind(*args, **kwargs)
        except TypeError:
            return NOT_BATCHED  # (the op's own error, from the loop)
        given = bound.arguments
        x, weight, bias = given["input"], given["weight"], given.get("bias")
        if batched_at(weight, level) is None and (bias is None or batched_at(bias, level) is None):
            return fold(fn, level, args, kwargs)
        if x.ndim not in (full - 1, full):
            return NOT_BATCHED
        size = batch_size(level)
        vx, vw = _same_batch((x, weight), level)
        if x.ndim == full - 1:
            vx = vx.unsqueeze(1)  # one sample without its N: N = 1
        n = vx.shape[1]
        given["input"] = vx.movedim(0, 1).reshape((n, -1) + tuple(vx.shape[3:]))
        given["weight"] = vw.reshape((-1,) + tuple(vw.shape[2:]))
        if bias is not None:
            given["bias"] = _same_batch((bias,), level)[0].reshape(-1)
        given["groups"] = given.get("groups", 1) * size
        out = fn(*bound.args, **bound.kwargs)
        out = out.reshape((n, size, -1) + tuple(out.shape[2:])).movedim(1, 0)
        return wrap(out.squeeze(1) if x.ndim == full - 1 else out, level)

    return rule


# ---- index families: (input, dim, index, source) -------------------------------------------
def index_family(index_pos: int, *tensor_pos: int, shared_index: bool = False) -> Callable:
    """``scatter``/``index_add``-like ops: ``dim`` (argument 1) shifted past the batch dim;
    the tensors at ``tensor_pos`` (and the index, unless ``shared_index``: one index for
    every sample, as index_add's 1-D one) given the batch, expanded where unbatched."""

    def rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
        x = args[0]
        if len(args) < max(index_pos, *tensor_pos, 1) + 1:
            return NOT_BATCHED  # (keyword forms: left to the loop)
        args = list(args)
        if shared_index:
            if batched_at(args[index_pos], level) is not None:
                return NOT_BATCHED
            positions = (0,) + tuple(tensor_pos)
        else:
            positions = (0, index_pos) + tuple(tensor_pos)
        present = [k for k in positions if isinstance(args[k], Tensor)]
        for k, value in zip(present, _same_batch([args[k] for k in present], level)):
            args[k] = value
        if _batched_elsewhere([a for k, a in enumerate(args) if k not in present], kwargs, level):
            return NOT_BATCHED
        args[1] = _shift(args[1], x.ndim)
        return wrap(fn(*args, **kwargs), level)

    return rule


# ---- autodiff.linalg (checked as ``linalg_<name>``) -------------------------------------------
def _lifted_pair(a: Any, b: Any, level: int) -> tuple:
    """Two operands of a broadcasting op as values: batched ones with size-1 dims after the
    batch dim up to the larger sample, so that sample dims line up from the right."""
    n = max(a.ndim, b.ndim)
    va, vb = batched_at(a, level), batched_at(b, level)
    return (a if va is None else _lift(va, a.ndim, n)), (b if vb is None else _lift(vb, b.ndim, n)), n


def linalg_along_dim(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """``linalg.cross``/``linalg.vecdot`` (x, y, *, dim=-1): broadcasting operands, ``dim``
    counted from the right of the broadcast sample."""
    a, b = args[0], args[1] if len(args) > 1 else kwargs["y" if "y" in kwargs else "other"]
    d = kwargs.get("dim", -1)
    xa, xb, n = _lifted_pair(a, b, level)
    if not -max(n, 1) <= d < max(n, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(n, 1)}, {max(n, 1) - 1}], but got {d})")
    return wrap(fn(xa, xb, dim=d - n if d >= 0 else d), level)


def linalg_solve(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """``linalg.solve(A, B)``: B is a vector (one sample's B 1-D, or A's shape without its
    last dim) or a matrix; batch dims lined up from the right, a vector made a column."""
    a, b = args[0], args[1] if len(args) > 1 else kwargs["B"]
    if kwargs.get("left", True) is not True or len(args) > 2:
        return NOT_BATCHED
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and tuple(b.shape) == tuple(a.shape[:-1]))
    va, vb = batched_at(a, level), batched_at(b, level)
    nb = b.ndim + 1 if vector else b.ndim
    n = max(a.ndim, nb)
    xa = a if va is None else _lift(va, a.ndim, n)
    if vb is None:
        xb = b.unsqueeze(-1) if vector else b
    else:
        xb = _lift(vb.unsqueeze(-1) if vector else vb, nb, n)
    if va is None:  # A unbatched: its dims must sit right of B's batch dim
        xa = xa.reshape((1,) * (n - a.ndim + 1) + tuple(xa.shape))
    out = fn(xa, xb)
    return wrap(out.squeeze(-1) if vector else out, level)


def linalg_norm(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """``linalg.norm(A, ord, dim, keepdim)``: without ``dim``, the sample's rule (all elements;
    with ``ord``, a vector or matrix norm by the sample's dims) spelled out as dims."""
    x = args[0]
    ord_ = args[1] if len(args) > 1 else kwargs.get("ord")
    d = args[2] if len(args) > 2 else kwargs.get("dim")
    if d is None:
        if ord_ is None:
            if x.ndim == 0:
                return NOT_BATCHED
            d = tuple(range(x.ndim))
        elif x.ndim in (1, 2):
            d = tuple(range(x.ndim))
        else:
            return NOT_BATCHED  # (the op's own error, from the loop)
        args = (x, ord_, d) + tuple(args[3:])
        kwargs = {k: v for k, v in kwargs.items() if k not in ("ord", "dim")}
    return dim_op((2, "dim"))(fn, level, args, kwargs)


def linalg_multi_dot(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """``linalg.multi_dot``: the chain of products, each through matmul's rule (the first
    and last operands may be vectors, as in matmul)."""
    tensors = list(args[0] if args else kwargs["tensors"])
    if len(tensors) < 2:
        return NOT_BATCHED
    out = tensors[0]
    for t in tensors[1:]:
        out = out @ t
    return out


def _swapped_matmul(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    return matmul_rule(fn, level, (args[1], args[0]), kwargs)


def _layer_norm(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """layer_norm/rms_norm normalize the last dims: the same on the value, when the affine
    parameters are not batched."""
    v = batched_at(args[0], level)
    if v is None or _batched_elsewhere(args[1:], kwargs, level):
        return NOT_BATCHED
    return wrap(fn(v, *args[1:], **kwargs), level)


RULES["layer_norm"] = _layer_norm
RULES["rms_norm"] = _layer_norm
RULES.update({
    # the operators' other names (``checked`` names Tensor.__radd__ "radd")
    "radd": elementwise, "rmul": elementwise, "truediv": elementwise, "rtruediv": elementwise,
    "rpow": elementwise, "pos": elementwise, "multiply": elementwise, "divide": elementwise,
    "subtract": elementwise, "int": elementwise, "long": elementwise, "bool": elementwise,
    "byte": elementwise, "short": elementwise, "char": elementwise, "cpu": elementwise,
    "cuda": elementwise, "float_power": elementwise,
    "rmatmul": _swapped_matmul, "__rmatmul__": _swapped_matmul, "getitem": getitem_rule,
    "setitem": setitem_rule, "__setitem__": setitem_rule,
    "addmv": addmm_rule, "baddbmm": addmm_rule,
    "outer": lambda fn, lv, a, k: a[0].unsqueeze(-1) * a[1].unsqueeze(-2),
    "ger": lambda fn, lv, a, k: a[0].unsqueeze(-1) * a[1].unsqueeze(-2),
    "ravel": lambda fn, lv, a, k: a[0].reshape(-1),
    "trace": lambda fn, lv, a, k: a[0].diagonal(0, 0, 1).sum(),
    "det": last_dims, "inverse": last_dims, "logdet": last_dims, "slogdet": last_dims,
    "cholesky": last_dims, "matrix_power": last_dims, "embedding": last_dims, "one_hot": last_dims,
    "pad": pad_rule, "take_along_dim": take_along_dim_rule, "roll": roll_rule,
    "masked_fill": masked_fill_rule,
})
RULES.update({name: conv_rule(full) for name, full in (
    ("conv1d", 3), ("conv2d", 4), ("conv3d", 5), ("conv_transpose1d", 3), ("conv_transpose2d", 4))})
RULES.update({name: fold_into_n(full) for name, full in (
    ("max_pool1d", 3), ("max_pool2d", 4), ("max_pool3d", 5), ("avg_pool1d", 3), ("avg_pool2d", 4),
    ("avg_pool3d", 5), ("adaptive_avg_pool1d", 3), ("adaptive_avg_pool2d", 4),
    ("adaptive_max_pool1d", 3), ("adaptive_max_pool2d", 4), ("lp_pool1d", 3), ("lp_pool2d", 4),
    ("interpolate", None), ("group_norm", None))})
RULES.update({
    "scatter": index_family(2, 3), "scatter_add": index_family(2, 3), "scatter_reduce": index_family(2, 3),
    "index_add": index_family(2, 3, shared_index=True), "index_copy": index_family(2, 3, shared_index=True),
    "index_fill": index_family(2, shared_index=True),
    "pixel_shuffle": last_dims, "pixel_unshuffle": last_dims,
})
RULES.update({
    "pinverse": last_dims, "linalg_inv": last_dims, "linalg_cholesky": last_dims, "linalg_det": last_dims,
    "linalg_slogdet": last_dims, "linalg_matrix_power": last_dims, "linalg_pinv": last_dims,
    "linalg_solve": linalg_solve, "linalg_matmul": matmul_rule, "linalg_multi_dot": linalg_multi_dot,
    "linalg_diagonal": dim_op((9, "dim1"), (9, "dim2")), "linalg_cross": linalg_along_dim,
    "linalg_vecdot": linalg_along_dim, "linalg_vector_norm": dim_op((2, "dim"), none="all"),
    "linalg_matrix_norm": dim_op((2, "dim")), "linalg_norm": linalg_norm,
})
# In-place elementwise ops (``x.add_(y)``, ``x.exp_()``): their out-of-place op's rule, in place.
RULES.update({name + "_": inplace_elementwise for name in _ELEMENTWISE
              if name.isidentifier() and not name.startswith("_")})

RULES.update({name + "_": inplace_view(name) for name in ("t", "transpose", "swapaxes", "swapdims",
                                                           "unsqueeze", "squeeze")})

# Random ops: dispatch() sends them to random_dispatch first (per the vmap's randomness);
# these rules serve calls that draw nothing (dropout with training=False or p=0).
RULES.update({name: elementwise for name in RANDOM_LIKE})
RULES.update({name: (lambda fn, level, args, kwargs, name=name: _batched_random(name, fn, level, args, kwargs))
              for name in RANDOM_OF_INPUT | RANDOM_FILLS})
RULES["gumbel_softmax"] = dim_op((4, "dim"))

# Names ``checked`` wraps that are not ops on tensor values (creation, queries, metadata):
# vmap never sees a batched tensor go into them (or their result does not depend on one).
NOT_OPS = frozenset((
    "arange", "as_tensor", "asarray", "empty", "eye", "from_numpy", "full", "linspace", "logspace",
    "ones", "zeros", "tensor", "scalar_tensor", "tril_indices", "triu_indices",
    "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
    "broadcast_shapes", "result_type", "is_complex", "is_floating_point", "is_nonzero",
    "is_same_size", "is_signed", "is_contiguous", "is_cpu", "is_meta", "is_mkldnn", "is_nested",
    "is_pinned", "is_quantized", "is_sparse", "is_sparse_csr", "data_ptr", "dim_order", "itemsize",
    "nbytes", "ndimension", "storage_offset", "stride", "get_device", "pin_memory", "allclose",
    "equal", "new_empty", "new_full", "new_ones", "new_tensor", "new_zeros",
))

# Ops that run under vmap through the loop fallback (one call per sample, a one-time
# warning naming the op): the documented list of ops without a batching rule yet.
LOOPS = frozenset((
    "argwhere", "batch_norm", "bincount", "block_diag", "bucketize", "cartesian_prod",
    "chain_matmul", "combinations", "corrcoef", "cov", "diagflat", "embedding_bag", "fold",
    "gaussian_nll_loss", "histc", "index_put", "index_reduce", "instance_norm", "kron",
    "local_response_norm", "masked_scatter", "masked_select", "max_unpool1d", "max_unpool2d",
    "meshgrid", "multi_head_attention_forward", "nonzero", "prelu", "put",
    "scaled_dot_product_attention", "searchsorted", "sum_to_size", "take", "tensordot", "unfold",
    "unique", "unique_consecutive",
    # in-place ops without an elementwise twin (loop: each sample in place)
    "addbmm_", "addmm_", "addmv_", "addr_", "baddbmm_", "copy_", "cumprod_", "cumsum_", "fill_",
    "index_add_", "index_copy_", "index_fill_", "index_put_", "index_reduce_", "masked_scatter_",
    "put_", "scatter_", "scatter_add_", "scatter_reduce_",
))


def decomposed(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """A composite op (written with other exported ops): its own body on the batched
    arguments, so each op inside runs through its own rule. ``fn`` is the exported op, whose
    ``__wrapped__`` is that body."""
    return fn.__wrapped__(*args, **kwargs)


# Composite ops whose bodies use exported ops only, so they batch through them
# (``decomposed``); each is checked by the vmap-against-stacking test of its op-table rows.
DECOMPOSED = ("bilinear", "margin_ranking_loss", "pairwise_distance", "poisson_nll_loss")
RULES.update({name: decomposed for name in DECOMPOSED})


def _stacker(dim: int, least: str) -> Callable:
    """hstack/vstack/dstack/column_stack/row_stack: ``cat`` of the tensors made at least
    ``least``-d (hstack of 1-d tensors concatenates along 0)."""

    def rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
        import autodiff

        tensors = list(args[0] if args else kwargs["tensors"])
        if least == "column":
            tensors = [t.reshape(-1, 1) if t.ndim < 2 else t for t in tensors]
        else:
            tensors = [getattr(autodiff, least)(t) for t in tensors]
        return autodiff.cat(tensors, 0 if dim == 1 and tensors[0].ndim == 1 else dim)

    return rule


def _flip_lr_ud(dim: int) -> Callable:
    def rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
        if args[0].ndim < dim + 1:
            return NOT_BATCHED  # (the loop raises the op's own error)
        return args[0].flip(dim)

    return rule


def _at_least(n: int) -> Callable:
    """atleast_1d/2d/3d: each tensor reshaped as PyTorch does (a 1-d (N) becomes (1, N) and
    (1, N, 1); a 2-d (M, N) becomes (M, N, 1)); one tensor in, one out."""

    def grow(t: Tensor) -> Tensor:
        if t.ndim >= n:
            return t
        if t.ndim == 0:
            return t.reshape((1,) * n)
        if t.ndim == 1:
            return t.reshape((1, -1) if n == 2 else (1, -1, 1))
        return t.unsqueeze(-1)

    def rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
        if len(args) == 1 and isinstance(args[0], Tensor):
            return grow(args[0])
        tensors = args[0] if len(args) == 1 else args
        return tuple(grow(t) for t in tensors)

    return rule


def _scatter_like(*positions: tuple[int, str, Any]) -> Callable:
    """select/slice/diagonal_scatter(input, src, dims...): both batched (an unbatched one
    expanded), the dims (at ``positions``, with their defaults) shifted past the batch dim."""

    def rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
        x, src = args[0], args[1]
        args, kwargs = list(args), dict(kwargs)
        for pos, kw, default in positions:
            d = args[pos] if pos < len(args) else kwargs.get(kw, default)
            d = _shift(d, x.ndim)
            if pos < len(args):
                args[pos] = d
            else:
                kwargs[kw] = d
        args[0], args[1] = _same_batch((x, src), level)
        return wrap(fn(*args, **kwargs), level)

    return rule


def _quantile(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """quantile/nanquantile: a tensor of q puts its dim first, before the batch dim."""
    q = args[1] if len(args) > 1 else kwargs.get("q")
    keepdim = args[3] if len(args) > 3 else kwargs.get("keepdim", False)
    dim = args[2] if len(args) > 2 else kwargs.get("dim")
    if batched_at(q, level) is not None or (keepdim and dim is None):
        return NOT_BATCHED
    out = dim_op((2, "dim"), none="flat")(fn, level, args, kwargs)
    if out is NOT_BATCHED or not (isinstance(q, Tensor) and q.ndim == 1):
        return out
    return wrap(out.value.movedim(1, 0), level)


def _cross(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """cross: without a dim, the sample's first dim of size 3 (never the batch dim)."""
    x = args[0]
    d = args[2] if len(args) > 2 else kwargs.get("dim")
    if d is None:
        d = next((i for i, n in enumerate(x.shape) if n == 3), None)
        if d is None:
            return NOT_BATCHED  # (the loop raises the op's own error)
    va, vb = _same_batch((x, args[1]), level)
    target = max(x.ndim, args[1].ndim)
    va, vb = _lift(va, x.ndim, target), _lift(vb, args[1].ndim, target)
    return wrap(fn(va, vb, _shift(d - x.ndim if d >= 0 else d, target)), level)


def _diag(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x = args[0]
    offset = args[1] if len(args) > 1 else kwargs.get("diagonal", 0)
    if x.ndim == 1:
        return x.diag_embed(offset)
    return x.diagonal(offset, 0, 1) if x.ndim == 2 else NOT_BATCHED


def _diag_embed(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """diag_embed: its new dims at negative positions (the default) keep the batch dim first."""
    dims = [args[i] if len(args) > i else kwargs.get(k, d) for i, k, d in ((2, "dim1", -2), (3, "dim2", -1))]
    if any(d >= 0 for d in dims):
        return NOT_BATCHED
    return last_dims(fn, level, args, kwargs)


def _broadcast_tensors(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    import autodiff

    tensors = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
    shape = autodiff.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


def _split_along(dim_of: Callable[[int], int | None]) -> Callable:
    """hsplit/vsplit/dsplit: ``tensor_split`` along the dim the sample's ndim picks (None: the
    op's own error, from the loop)."""

    def rule(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
        x = args[0]
        d = dim_of(x.ndim)
        sections = args[1] if len(args) > 1 else kwargs.get("indices_or_sections", kwargs.get("sections"))
        if d is None or isinstance(sections, Tensor) or (isinstance(sections, int) and x.shape[d] % sections):
            return NOT_BATCHED
        return x.tensor_split(sections, d)

    return rule


def _inner(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """inner(a, b): the sum over both last dims, as an einsum (whose rule batches)."""
    import autodiff

    a, b = args[0], args[1]
    if a.ndim == 0 or b.ndim == 0:
        return NOT_BATCHED
    letters = string.ascii_letters
    la, lb = letters[:a.ndim - 1], letters[a.ndim - 1:a.ndim + b.ndim - 2]
    return autodiff.einsum(f"{la}Z,{lb}Z->{la}{lb}", a, b)


def _cdist(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """cdist of 2-d samples: the batch is cdist's own batch dim."""
    if args[0].ndim != 2 or args[1].ndim != 2:
        return NOT_BATCHED
    v1, v2 = _same_batch(args[:2], level)
    return wrap(fn(v1, v2, *args[2:], **kwargs), level)


def _tile(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    x, reps = args[0], _shape_args(args, kwargs, "dims")
    return x.repeat((1,) * (x.ndim - len(reps)) + tuple(reps))


def _isin(fn: Callable, level: int, args: tuple, kwargs: dict) -> Any:
    """isin(elements, test_elements): elementwise in ``elements``, when the tested set is
    the same for every sample."""
    if _batched_elsewhere(args[1:], kwargs, level) or batched_at(args[0], level) is None:
        return NOT_BATCHED
    return wrap(fn(batched_at(args[0], level), *args[1:], **kwargs), level)


# Integer elementwise ops and the shift/bitwise operators: the elementwise rule (and its
# in-place form for the ``_`` twins).
_INTEGER_ELEMENTWISE = ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                        "bitwise_right_shift", "gcd", "lcm", "isreal", "lshift", "rshift", "rlshift",
                        "rrshift", "ror", "rxor")
RULES.update({name: elementwise for name in _INTEGER_ELEMENTWISE})
RULES.update({name: inplace_elementwise for name in (
    "bitwise_and_", "bitwise_or_", "bitwise_xor_", "bitwise_left_shift_", "bitwise_right_shift_", "gcd_",
    "lcm_", "divide_", "multiply_", "subtract_", "zero_", "iadd", "isub", "imul", "itruediv", "ifloordiv",
    "imod", "ipow")})
RULES["isin"] = _isin

RULES.update({
    "select_scatter": _scatter_like((2, "dim", 0)),
    "slice_scatter": _scatter_like((2, "dim", 0)),
    "diagonal_scatter": _scatter_like((3, "dim1", 0), (4, "dim2", 1)),
    "quantile": _quantile, "nanquantile": _quantile, "cross": _cross, "diag": _diag,
    "diag_embed": _diag_embed, "adjoint": lambda fn, lv, a, k: a[0].transpose(-2, -1),
    "vdot": lambda fn, lv, a, k: (a[0] * a[1]).sum(),
    "dist": lambda fn, lv, a, k: (a[0] - a[1]).norm(a[2] if len(a) > 2 else k.get("p", 2)),
    "addr": lambda fn, lv, a, k: k.get("beta", 1) * a[0] + k.get("alpha", 1) * (a[1].unsqueeze(-1) * a[2]),
    "addbmm": lambda fn, lv, a, k: k.get("beta", 1) * a[0] + k.get("alpha", 1) * (a[1] @ a[2]).sum(0),
    "repeat_interleave": dim_op((2, "dim"), none="flat"),
    "rot90": dim_op((2, "dims"), default=(0, 1)),
    "diff": lambda fn, lv, a, k: NOT_BATCHED if len(a) > 3 or k.get("prepend") is not None
    or k.get("append") is not None else dim_op((2, "dim"))(fn, lv, a, k),
    "hinge_embedding_loss": elementwise_loss(5),
    "broadcast_tensors": _broadcast_tensors, "inner": _inner, "cdist": _cdist,
    "hsplit": _split_along(lambda n: 1 if n >= 2 else 0 if n == 1 else None),
    "vsplit": _split_along(lambda n: 0 if n >= 2 else None),
    "dsplit": _split_along(lambda n: 2 if n >= 3 else None),
    "cosine_embedding_loss": row_loss(3, 6), "multi_margin_loss": row_loss(2, 7),
    "multilabel_margin_loss": row_loss(2, 4), "multilabel_soft_margin_loss": row_loss(2, 5),
    "triplet_margin_loss": row_loss(3, 9), "triplet_margin_with_distance_loss": row_loss(3, 99),
    "std_mean": std_var, "var_mean": std_var, "nanmedian": max_min,
    "aminmax": dim_op((1, "dim"), none="flat"), "mode": dim_op((1, "dim")),
    "msort": lambda fn, lv, a, k: a[0].sort(0).values,
    "split_with_sizes": dim_op((2, "dim"), default=0), "tensor_split": dim_op((2, "dim"), default=0),
    "fliplr": _flip_lr_ud(1), "flipud": _flip_lr_ud(0), "tile": _tile,
    "atleast_1d": _at_least(1), "atleast_2d": _at_least(2), "atleast_3d": _at_least(3),
    "hstack": _stacker(1, "atleast_1d"), "vstack": _stacker(0, "atleast_2d"),
    "row_stack": _stacker(0, "atleast_2d"), "dstack": _stacker(2, "atleast_3d"),
    "column_stack": _stacker(1, "column"),
})


def dispatch(name: str, fn: Callable, args: tuple, kwargs: dict) -> Any:
    """Run op ``name`` (``fn``, which dispatches again for outer levels) on its arguments:
    through its batching rule when one is batched at the innermost level, else as usual."""
    level = innermost_level(args, kwargs)
    if name in RANDOM_OPS and state.levels and _is_random(name, args, kwargs):
        return random_dispatch(name, fn, level, args, kwargs)
    if level is None:
        return NOT_BATCHED
    rule = RULES.get(name)
    if rule is not None:
        result = rule(fn, level, args, kwargs)
        if result is not NOT_BATCHED:
            return result
    return loop(name, fn, level, args, kwargs)


state.dispatch = dispatch
