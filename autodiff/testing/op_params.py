"""Shape and parameter strategies for the rows of the op-spec table (op_specs.py), grouped
like ``autodiff/ops/``.

A shape strategy draws the tuple of input shapes of one call (``matmul_shapes()``: the two
operands of ``matmul``); a parameter strategy is a function of those drawn shapes ``s`` that
draws the keyword arguments the row's ``fn`` takes (dims, sizes, indices) valid for them.
Index tensors, masks, class targets and weights are drawn as nested Python lists (the row
builds them with ``m.tensor``, so the same draw runs in autodiff and in torch).
"""

from __future__ import annotations

from typing import Any

from autodiff.testing import needs_hypothesis

try:
    from hypothesis import strategies as st
except ImportError as exc:  # hypothesis comes with the [test] extra
    raise ImportError(needs_hypothesis("op_params")) from exc

from autodiff.testing.strategies import Shape, _nest, _numel, broadcastable_shapes, shapes

# ---- common ---------------------------------------------------------------------------------
REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


def _dim(ndim: int, extra: int = 0) -> st.SearchStrategy[int]:
    n = max(ndim + extra, 1)
    return st.integers(-n, n - 1)


def _a_dim(draw: Any, ndim: int) -> int:
    """A dim of an ``ndim``-D tensor, as either its positive or its negative number."""
    d = draw(st.integers(0, max(ndim, 1) - 1))
    return d - max(ndim, 1) if draw(st.booleans()) else d


def _nested(draw: Any, shape: Shape, elements: st.SearchStrategy) -> Any:
    if not shape:
        return draw(elements)
    return [_nested(draw, shape[1:], elements) for _ in range(shape[0])]


def fixed(*shape: Shape) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Always the given input shapes (a row pinned to one case, e.g. a broadcasting one)."""
    return st.just(tuple(shape))


# ---- broadcasting (expand, broadcast_to, sum_to_size; in-place ops' operands) ---------------
@st.composite
def expanded(draw: Any, s: tuple) -> dict:
    """A shape ``s[0]`` expands to: leading dims added, size-1 dims grown."""
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    grown = tuple(draw(st.integers(1, 3)) if d == 1 else d for d in s[0])
    return {"shape": lead + grown}


@st.composite
def reduced(draw: Any, s: tuple) -> dict:
    """A shape that expands to ``s[0]`` (what ``sum_to_size`` sums down to)."""
    shape = s[0]
    drop = draw(st.integers(0, len(shape)))
    return {"shape": tuple(1 if draw(st.booleans()) else d for d in shape[drop:])}


@st.composite
def onto_shapes(draw: Any, n: int = 2) -> tuple[Shape, ...]:
    """``(S, T, ...)``: the others broadcast to S (in-place ops: the result keeps S)."""
    full = draw(shapes())
    out = [full]
    for _ in range(n - 1):
        drop = draw(st.integers(0, len(full)))
        out.append(tuple(1 if draw(st.booleans()) else d for d in full[drop:]))
    return tuple(out)


# ---- reduction ------------------------------------------------------------------------------
def dim_keepdim(s: tuple) -> st.SearchStrategy[dict]:
    nd = len(s[0])
    dims = st.lists(st.integers(0, max(nd - 1, 0)), min_size=1, max_size=max(nd, 1), unique=True)
    dim = st.one_of(_dim(nd), dims.map(tuple)) if nd else _dim(nd)
    return st.fixed_dictionaries({"dim": dim, "keepdim": st.booleans()})


def dim_keepdim_one(s: tuple) -> st.SearchStrategy[dict]:
    """One int ``dim`` and ``keepdim`` (ops that reduce a single dim: prod, max(dim))."""
    nd = max(len(s[0]), 1)
    return st.fixed_dictionaries({"dim": st.integers(-nd, nd - 1), "keepdim": st.booleans()})


@st.composite
def prod_zeros(draw: Any, s: tuple) -> dict:
    """Where the zeros go (``mask``), and all elements (``dim=None``) or one dim."""
    nd = len(s[0])
    dim = draw(st.none() | st.integers(-max(nd, 1), max(nd, 1) - 1))
    return {"mask": _nested(draw, s[0], st.booleans()), "dim": dim, "keepdim": draw(st.booleans())}


# ---- shape ----------------------------------------------------------------------------------
def one_dim(s: tuple, extra: int = 0) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"dim": _dim(len(s[0]), extra)})


def two_dims(s: tuple) -> st.SearchStrategy[dict]:
    nd = len(s[0])
    return st.fixed_dictionaries({"dim0": _dim(nd), "dim1": _dim(nd)})


def permutation(s: tuple) -> st.SearchStrategy[dict]:
    return st.permutations(range(len(s[0]))).map(lambda p: {"dims": tuple(p)})


def flatten_dims(s: tuple) -> st.SearchStrategy[dict]:
    nd = max(len(s[0]), 1)
    return st.tuples(st.integers(0, nd - 1), st.integers(0, nd - 1)).map(
        lambda d: {"start_dim": min(d), "end_dim": max(d) - nd})


def new_shape(s: tuple) -> st.SearchStrategy[dict]:
    """A shape with the same number of elements (possibly with a -1)."""
    shape = s[0]
    n = _numel(shape)
    options = [tuple(reversed(shape)), (n,), (-1,), (1, n), (n, 1, -1), shape + (1,), ()]
    return st.sampled_from([o for o in options if o != () or n == 1]).map(lambda o: {"shape": o})


@st.composite
def cat_shapes(draw: Any, n_max: int = 3) -> tuple[Shape, ...]:
    """Shapes equal except along one dimension."""
    base = draw(shapes(1, 3))
    d = draw(st.integers(0, len(base) - 1))
    n = draw(st.integers(1, n_max))
    return tuple(base[:d] + (draw(st.integers(1, 3)),) + base[d + 1:] for _ in range(n))


def cat_dim(s: tuple) -> st.SearchStrategy[dict]:
    nd = len(s[0])
    ok = [d for d in range(nd) if all(x[:d] + x[d + 1:] == s[0][:d] + s[0][d + 1:] for x in s)]
    return st.sampled_from(ok).map(lambda d: {"dim": d})


def stack_dim(s: tuple) -> st.SearchStrategy[dict]:
    return one_dim(s, extra=1)


@st.composite
def flip_dims(draw: Any, s: tuple) -> dict:
    nd = len(s[0])
    dims = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
    return {"dims": tuple(d - nd if draw(st.booleans()) else d for d in dims)}


@st.composite
def repeats(draw: Any, s: tuple) -> dict:
    """At least one size per dim (and at least one size), possibly a leading new dim."""
    nd = len(s[0])
    n = nd + draw(st.integers(0 if nd else 1, 1))
    return {"reps": tuple(draw(st.integers(1, 2)) for _ in range(n))}


@st.composite
def split_sizes(draw: Any, s: tuple) -> dict:
    """An int piece size (the last piece may be smaller) or explicit sizes summing to the dim."""
    shape = s[0]
    dim = _a_dim(draw, len(shape))
    n = shape[dim]
    if draw(st.booleans()):
        return {"split": draw(st.integers(1, n + 1)), "dim": dim}
    cuts = sorted(draw(st.sets(st.integers(1, n - 1))) if n > 1 else [])
    bounds = [0] + cuts + [n]
    return {"split": [b - a for a, b in zip(bounds, bounds[1:])], "dim": dim}


def chunks(s: tuple) -> st.SearchStrategy[dict]:
    nd = len(s[0])
    return st.fixed_dictionaries({"chunks": st.integers(1, 4), "dim": st.integers(-nd, nd - 1)})


@st.composite
def pad_widths(draw: Any, s: tuple) -> dict:
    """``(left, right, top, bottom, ...)`` for the last 1..ndim dims, and the fill value."""
    k = draw(st.integers(1, len(s[0])))
    return {"pad": tuple(draw(st.integers(0, 2)) for _ in range(2 * k)),
            "value": draw(st.sampled_from([0.0, 0.5]))}


# ---- indexing (index tensors and masks: nested lists) ---------------------------------------
@st.composite
def basic_index(draw: Any, s: tuple) -> dict:
    """Ints, slices (positive steps), None and Ellipsis, as ``t[...]`` takes them."""
    index: list = []
    for d in s[0][: draw(st.integers(0, len(s[0])))]:
        kind = draw(st.sampled_from(["int", "slice", "none"]))
        if kind == "none":
            index.append(None)  # a new axis takes no dim of the input: dim d is indexed next
            kind = draw(st.sampled_from(["int", "slice"]))
        if kind == "int":
            index.append(draw(st.integers(-d, d - 1)))
        else:
            start = draw(st.none() | st.integers(-d, d))
            stop = draw(st.none() | st.integers(-d, d))
            index.append(slice(start, stop, draw(st.none() | st.integers(1, 2))))
    if draw(st.booleans()):
        index.append(None)
    if draw(st.booleans()):
        index.append(Ellipsis)
    return {"index": tuple(index)}


@st.composite
def advanced_index(draw: Any, s: tuple) -> dict:
    """A list of (possibly repeated) ints along one dimension."""
    shape = s[0]
    d = draw(st.integers(0, len(shape) - 1))
    picks = draw(st.lists(st.integers(-shape[d], shape[d] - 1), min_size=1, max_size=4))
    return {"index": (slice(None),) * d + (picks,)}


@st.composite
def mask(draw: Any, s: tuple) -> dict:
    def nest(shape: Shape) -> Any:
        if not shape:
            return draw(st.booleans())
        return [nest(shape[1:]) for _ in range(shape[0])]

    return {"mask": nest(s[0])}


@st.composite
def setitem_shapes(draw: Any) -> tuple[Shape, Shape]:
    """``(S, T)``: T broadcasts to ``S[1:]``, what ``t[i] = v`` writes."""
    full = draw(shapes(1))
    rest = full[1:]
    drop = draw(st.integers(0, len(rest)))
    return full, tuple(1 if draw(st.booleans()) else d for d in rest[drop:])


def row_index(s: tuple) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"i": st.integers(-s[0][0], s[0][0] - 1)})


@st.composite
def gather_index(draw: Any, s: tuple) -> dict:
    """``dim`` and an index no larger than the input off ``dim`` (any length along it)."""
    shape = s[0]
    dim = _a_dim(draw, len(shape))
    d = dim % len(shape)
    ishape = tuple(draw(st.integers(1, 3)) if k == d else draw(st.integers(1, n))
                   for k, n in enumerate(shape))
    return {"dim": dim, "index": _nested(draw, ishape, st.integers(0, shape[d] - 1))}


@st.composite
def scatter_shapes(draw: Any) -> tuple[Shape, Shape]:
    """``(input, src)``: ``src`` no larger than ``input`` in any dim (the index has its shape)."""
    full = draw(shapes(1))
    return full, tuple(draw(st.integers(1, n)) for n in full)


@st.composite
def scatter_index(draw: Any, s: tuple) -> dict:
    shape, src = s[0], s[1]
    dim = _a_dim(draw, len(shape))
    return {"dim": dim, "index": _nested(draw, src, st.integers(0, shape[dim] - 1))}


@st.composite
def select_index(draw: Any, s: tuple) -> dict:
    """``dim`` and a 1-D index (repeats allowed) for ``index_select``."""
    shape = s[0]
    dim = _a_dim(draw, len(shape))
    picks = draw(st.lists(st.integers(0, shape[dim] - 1), min_size=1, max_size=4))
    return {"dim": dim, "index": picks}


@st.composite
def broadcast_mask(draw: Any, s: tuple) -> dict:
    """A bool mask (nested lists) whose shape broadcasts to ``s[0]``."""
    shape = s[0]
    drop = draw(st.integers(0, len(shape)))
    mshape = tuple(1 if draw(st.booleans()) else d for d in shape[drop:])
    return {"mask": _nested(draw, mshape, st.booleans())}


# ---- linalg ---------------------------------------------------------------------------------
@st.composite
def matmul_shapes(draw: Any) -> tuple[Shape, Shape]:
    """Operand shapes for ``matmul``: 1-D and 2-D cases and broadcast batch dims."""
    n, k, p = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    a_vec, b_vec = draw(st.booleans()), draw(st.booleans())
    batch_a, batch_b = draw(broadcastable_shapes(2, 0, 2))
    a = (k,) if a_vec else batch_a + (n, k)
    b = (k,) if b_vec else batch_b + (k, p)
    return a, b


@st.composite
def mm_shapes(draw: Any, batch: bool = False) -> tuple[Shape, Shape]:
    """``(n, k), (k, p)``; with ``batch``, 0-2 leading dims on the first operand."""
    n, k, p = (draw(st.integers(1, 3)) for _ in range(3))
    lead = draw(shapes(0, 2)) if batch else ()
    return lead + (n, k), (k, p)


@st.composite
def bmm_shapes(draw: Any) -> tuple[Shape, Shape]:
    b, n, k, p = (draw(st.integers(1, 3)) for _ in range(4))
    return (b, n, k), (b, k, p)


def vector_pair(s: Any = None) -> st.SearchStrategy[tuple[Shape, Shape]]:
    return st.tuples(st.integers(1, 3), st.integers(1, 3)).map(lambda n: ((n[0],), (n[1],)))


def bilinear_shapes() -> st.SearchStrategy[tuple[Shape, Shape, Shape]]:
    """``(i,), (i, j), (j,)``: ``x @ A @ y``."""
    return st.tuples(st.integers(1, 3), st.integers(1, 3)).map(lambda n: ((n[0],), n, (n[1],)))


@st.composite
def linear_shapes(draw: Any, bias: bool = True, vector_weight: bool = False) -> tuple[Shape, ...]:
    """``(input, weight[, bias])``: input ``(*batch, k)`` with 0-2 batch dims."""
    batch = draw(shapes(0, 2))
    k, o = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if vector_weight:
        return (batch + (k,), (k,))
    return (batch + (k,), (o, k), (o,)) if bias else (batch + (k,), (o, k))


# ---- loss (class indices and weights: nested lists, never differentiated) -------------------
@st.composite
def class_scores(draw: Any) -> tuple[Shape]:
    """``(C,)`` unbatched, ``(N, C)`` or ``(N, C, d)`` scores for ``nll_loss``/``cross_entropy``."""
    c = draw(st.integers(1, 3))
    n = draw(st.integers(1, 3))
    return (draw(st.sampled_from([(c,), (n, c), (n, c, draw(st.integers(1, 2)))])),)


def _target_shape(shape: Shape) -> Shape:
    return () if len(shape) == 1 else (shape[0],) + shape[2:]


def _classes(shape: Shape) -> int:
    return shape[0] if len(shape) == 1 else shape[1]


@st.composite
def class_targets(draw: Any, s: tuple, weighted: bool = False) -> dict:
    """Class indices in ``[0, C)`` (and, with ``weighted``, class weights and some targets
    set to ``ignore_index=-1``; never the first, so a mean never divides by zero)."""
    shape = s[0]
    c = _classes(shape)
    tshape = _target_shape(shape)
    flat = [draw(st.integers(0, c - 1)) for _ in range(_numel(tshape))]
    out: dict = {"reduction": draw(REDUCTIONS)}
    if weighted:
        flat = flat[:1] + [-1 if draw(st.booleans()) else t for t in flat[1:]]
        out["weight"] = draw(st.lists(st.floats(0.25, 2.0), min_size=c, max_size=c))
    out["target"] = _nest(flat, tshape)
    return out


def reduction(s: tuple) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"reduction": REDUCTIONS})


@st.composite
def elementwise_weight(draw: Any, s: tuple) -> dict:
    """A reduction and positive per-element weights shaped like the input."""
    return {"reduction": draw(REDUCTIONS), "weight": _nested(draw, s[0], st.floats(0.25, 2.0))}


@st.composite
def logit_weights(draw: Any, s: tuple) -> dict:
    """Per-element weights and per-class (last dim) ``pos_weight``."""
    shape = s[0]
    pshape = shape[-1:]
    return {"reduction": draw(REDUCTIONS), "weight": _nested(draw, shape, st.floats(0.25, 2.0)),
            "pos_weight": _nested(draw, pshape, st.floats(0.25, 3.0))}


# ---- conv (small valid conv2d and pooling configurations) -----------------------------------
@st.composite
def conv_shapes(draw: Any, batched: bool = True) -> tuple[Shape, Shape, Shape]:
    """``(input, weight, bias)`` with 1-2 groups; kernels fit the unpadded input."""
    g, cg, og = (draw(st.integers(1, 2)) for _ in range(3))
    h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, h)), draw(st.integers(1, w))
    x = (g * cg, h, w)
    if batched:
        x = (draw(st.integers(1, 2)),) + x
    return x, (g * og, cg, kh, kw), (g * og,)


def _dilations(draw: Any, size: tuple, kernel: tuple, padding: tuple) -> tuple:
    ok = [d for d in (1, 2) if all(d * (k - 1) + 1 <= n + 2 * p for n, k, p in zip(size, kernel, padding))]
    return (draw(st.sampled_from(ok)), draw(st.sampled_from(ok)))


@st.composite
def conv_params(draw: Any, s: tuple) -> dict:
    """stride, padding (ints, pairs or "same"), dilation and groups valid for the shapes."""
    x, w = s[0], s[1]
    kernel = w[2:]
    stride = draw(st.sampled_from([1, 2, (1, 2)]))
    padding: Any = draw(st.sampled_from([0, 1, (0, 1)]))
    pad2 = padding if isinstance(padding, tuple) else (padding, padding)
    dilation = _dilations(draw, x[-2:], kernel, pad2)
    if stride == 1 and all(d * (k - 1) % 2 == 0 for d, k in zip(dilation, kernel)) and draw(st.booleans()):
        padding = "same"
    return {"stride": stride, "padding": padding, "dilation": dilation, "groups": x[-3] // w[1]}


@st.composite
def pool_shapes(draw: Any) -> tuple[Shape]:
    c, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return ((draw(st.integers(1, 2)), c, h, w) if draw(st.booleans()) else (c, h, w),)


@st.composite
def pool_params(draw: Any, s: tuple, dilate: bool = False) -> dict:
    """kernel (<= the input), stride (default: the kernel), padding <= kernel // 2; with
    ``dilate``, dilation 2 where it fits unpadded (so no window is all padding)."""
    h, w = s[0][-2:]
    kernel = (draw(st.integers(1, min(h, 3))), draw(st.integers(1, min(w, 3))))
    out: dict = {"kernel_size": kernel if draw(st.booleans()) or kernel[0] != kernel[1] else kernel[0],
                 "stride": draw(st.sampled_from([None, 1, 2, (2, 1)])),
                 "padding": (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))}
    if dilate:
        fits = out["padding"] == (0, 0) and all(2 * (k - 1) + 1 <= n for k, n in zip(kernel, (h, w)))
        out["dilation"] = 2 if fits and draw(st.booleans()) else 1
    return out
