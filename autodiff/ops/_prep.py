"""Argument preparation shared by the ops: scalars, devices, dtype promotion, dims."""

from __future__ import annotations

import inspect
import re
from typing import Any

from autodiff import dtypes
from autodiff._vmap_state import NOT_BATCHED
from autodiff._vmap_state import state as _vmap
from autodiff.autograd.grad_mode import state as _grad
from autodiff.float_warnings import quietly
from autodiff.ops.conversion import to_backend, to_dtype
from autodiff.ops.creation import tensor
from autodiff.tensor import Tensor, wrap_dim

SCALAR_TYPES = (int, float, bool)


def device_mismatch(a: Tensor, b: Tensor, op: str) -> RuntimeError:
    return RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{a.device} and {b.device}! (when checking arguments for {op})"
    )


def as_tensor(value: Any, like: Tensor) -> Tensor:
    """``value`` (a tensor, Python number or nested list) as a tensor on ``like``'s device."""
    if isinstance(value, Tensor):
        return value
    return tensor(value, device=like.device)


def number_as_tensor(value: Any, like: Tensor) -> Tensor:
    """A Python number (or tensor) as a tensor on ``like``'s device; a float beside a float
    tensor takes that tensor's dtype, so that ``0.1`` is not first rounded to float32 (the
    default dtype) when ``like`` is float64."""
    if isinstance(value, float) and like.dtype.kind == "f":
        return tensor(value, dtype=like.dtype, device=like.device)
    return as_tensor(value, like)


def check_same_device(tensors: Any, op: str) -> None:
    first = None
    for t in tensors:
        if first is None:
            first = t
        elif t._be is not first._be:
            raise device_mismatch(first, t, op)


def promote(a: Tensor, b: Any, op: str) -> tuple[Tensor, Any]:
    """Bring ``a`` and ``b`` (tensor or Python scalar) to a common dtype, PyTorch's way.

    A Python scalar stays a Python scalar (it is "weak": ``float32 * 2.0`` is float32);
    a cast of a tensor that requires grad is recorded, so its gradient is cast back.
    """
    if b.__class__ is Tensor or isinstance(b, Tensor):
        if a._be is not b._be:
            a, b = _one_device(a, b, op)
        if a._data.dtype == b._data.dtype:
            return a, b
        target = dtypes.result_type(a.dtype, a.ndim, b.dtype, b.ndim)
        return cast(a, target), cast(b, target)
    cls = b.__class__
    if cls is not float and cls is not int and cls is not bool:
        if isinstance(b, SCALAR_TYPES):  # int/float subclasses, e.g. numpy scalars
            return promote(a, float(b) if isinstance(b, float) else int(b), op)
        if isinstance(b, (list, tuple, str)) or not (hasattr(b, "__len__") or hasattr(b, "item")):
            raise TypeError(f"{op}(): argument 'other' must be Tensor or Number, not {type(b).__name__}")
        return promote(a, as_tensor(b, a), op)  # an array of another library
    kind = a._data.dtype.kind
    if cls is float:
        if kind != "f":
            a = cast(a, dtypes.get_default_dtype())
    elif cls is int:
        if not -(1 << 63) <= b < 1 << 64:
            raise OverflowError(f"{op}(): int too big to convert")
        if kind == "b":
            a = cast(a, dtypes.int64)
    return a, b


def _one_device(a: Tensor, b: Tensor, op: str) -> tuple[Tensor, Tensor]:
    """PyTorch lets a 0-d CPU tensor take part in an op on another device, as a number
    would: it is moved there (a recorded copy, so its gradient comes back to the CPU)."""
    if b._be.type == "cpu" and not b._data.shape:
        return a, to_backend(b, a._be)
    if a._be.type == "cpu" and not a._data.shape:
        return to_backend(a, b._be), b
    raise device_mismatch(a, b, op)


def cast(t: Tensor, dtype: dtypes.dtype) -> Tensor:
    """``t`` converted to ``dtype`` (recorded as ``ToCopyBackward0`` when it needs grad)."""
    if t.dtype is dtype:
        return t
    return to_dtype(t, dtype)


def float_result(t: Tensor) -> Tensor:
    """Integer and bool tensors become the default float dtype (for division, exp, mean...)."""
    if t.dtype.kind == "f":
        return t
    return cast(t, dtypes.get_default_dtype())


def not_none(op: str, arg: str, want: str = "int") -> TypeError:
    """PyTorch's TypeError for an explicit ``None`` where its overloads take no None."""
    return TypeError(f"{op}(): argument '{arg}' must be {want}, not NoneType")


def no_kernel(op: str, t: Tensor, dtype: dtypes.dtype | None = None) -> NotImplementedError:
    """PyTorch's error for a dtype (``t``'s, or the one asked for) that its kernel for ``op``
    does not take (``abs`` of bools)."""
    return NotImplementedError(f'"{op}_{t._be.type}" not implemented for \'{(dtype or t.dtype).word}\'')


def wrap_dims(dim: Any, ndim: int) -> tuple[int, ...]:
    """``dim`` (an int or a sequence of them) as a tuple of dims in ``[0, ndim)``, with
    PyTorch's IndexError when one is out of range. A 0-d tensor takes dims -1 and 0 (as in
    PyTorch) and has no axis to name: its tuple is ``()``."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    for d in dims:
        if d.__class__ is not int and (d.__class__ is bool or not hasattr(d, "__index__")):
            raise TypeError(f"dim must be a tuple of ints, but found element of type {type(d).__name__}")
    out = tuple(wrap_dim(d, ndim) for d in dims)
    if not ndim:
        return ()
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
    return out


def size_arg(size: tuple, op: str = "view", arg: str = "size") -> tuple:
    """``f(2, 3)`` or ``f((2, 3))``: the sizes as a tuple of ints, with PyTorch's TypeError
    for anything else (``1.5``, ``"2"``, ``None``)."""
    if len(size) == 1 and not isinstance(size[0], int):
        if not isinstance(size[0], (tuple, list)) and not hasattr(size[0], "__len__"):
            raise TypeError(f"{op}(): argument '{arg}' must be tuple of ints, not {type(size[0]).__name__}")
        size = tuple(size[0])
    for j, n in enumerate(size):
        if n.__class__ is not int and (n.__class__ is bool or not hasattr(n, "__index__")):
            raise TypeError(f"{op}(): argument '{arg}' must be tuple of ints, but found element of type "
                            f"{type(n).__name__} at pos {j}")
    return size if all(n.__class__ is int for n in size) else tuple(n.__index__() for n in size)


def wrap_dim_or_none(dim: int, ndim: int) -> int | None:
    """``wrap_dim`` where a 0-d tensor has no axis: ``None`` for it (once ``dim`` is checked)."""
    d = wrap_dim(dim, ndim)
    return d if ndim else None


# (value, dtype, backend) -> what the backend computes fastest with for a Python float
# operand (see ArrayBackend.scalar_operand). Looked up inline by the hot ops:
#     c = OPERANDS.get((b, a._data.dtype, be)); ... c if c is not None else float_operand(...)
OPERANDS: dict = {}


def float_operand(be: Any, data: Any, value: float) -> Any:
    """The operand the backend gets for Python float ``value`` against ``data`` (cached)."""
    if not value:
        return value  # never cached: 0.0 and -0.0 are equal as dict keys
    if len(OPERANDS) > 1024:  # bounded: learning rates, NaNs (never equal) and the like
        OPERANDS.clear()
    operand = OPERANDS[(value, data.dtype, be)] = be.scalar_operand(value, be.dtype_name(data))
    return operand


# ---- bad input: PyTorch's exception classes and messages ---------------------------------------
# The exported ops (``autodiff.<name>``, ``Tensor.<name>``, ``nn.functional.<name>``) are
# wrapped by ``checked``: a call that goes well pays one Python frame and nothing more (a
# ``try`` costs nothing until it catches); a call that fails with an exception no PyTorch user
# should see -- an AttributeError because an argument is not a tensor, NumPy's broadcasting
# or axis errors -- is re-raised as the exception PyTorch raises for that call. The hottest
# operators (``a + b``, ``a * b``, ...) are left unwrapped: see ``UNCHECKED``.

# Messages of NumPy (and of Python itself, for a bad shape or dim used as an index) that must
# not reach the user as they are; all become RuntimeError, as in PyTorch.
_FOREIGN_WORDS = (
    "could not be broadcast", "negative dimensions", "cannot reshape array", "broadcast shape",
    "axis", "zero-size array", "maximum supported dimension", "array is too big", "ndarray",
    "numpy", "ufunc", "object arrays", "tuple index out of range", "list index out of range",
    "not enough values to unpack", "too many values to unpack", "cannot convert float",
    "invalid literal",
)
_INTERNAL = (AttributeError, KeyError, ZeroDivisionError, UnboundLocalError, NameError)

# Operators on the hot path of every model, left unwrapped: they check their own arguments
# (``promote``) and turn NumPy's broadcasting error into PyTorch's (``broadcast_error``).
UNCHECKED = frozenset((
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__pow__", "__rpow__", "__neg__", "__getitem__", "__setitem__",
))


def broadcast_error(*shapes: tuple) -> RuntimeError:
    """PyTorch's error for shapes that do not broadcast: the first pair that clashes, at the
    last dim where they do (numbered in the broadcast result)."""
    ndim = max((len(s) for s in shapes), default=0)
    for d in range(ndim - 1, -1, -1):
        sizes = [s[d - ndim + len(s)] if d - ndim + len(s) >= 0 else 1 for s in shapes]
        first = next((k for k, n in enumerate(sizes) if n != 1), None)
        clash = next((k for k, n in enumerate(sizes) if n not in (1, sizes[first])), None) if first is not None else None
        if clash is not None:
            return RuntimeError(
                f"The size of tensor a ({sizes[first]}) must match the size of tensor b "
                f"({sizes[clash]}) at non-singleton dimension {d}"
            )
    return RuntimeError(f"shape mismatch: operands of shapes {', '.join(str(list(s)) for s in shapes)} do not fit")


def _shapes_in(message: str) -> list[tuple] | None:
    """The operand shapes in NumPy's broadcasting message (``shapes (2,3) (4,)``)."""
    pattern = r"\(([\d,\s]*)\)->" if "->" in message else r"\(([\d,\s]*)\)"
    found = re.findall(pattern, message)
    if len(found) < 2:
        return None
    return [tuple(int(n) for n in f.replace(" ", "").split(",") if n) for f in found]


def _dim_error(exc: BaseException) -> IndexError | None:
    """NumPy's AxisError as PyTorch's dim error (0-d counts as having one dim)."""
    axis, ndim = getattr(exc, "axis", None), getattr(exc, "ndim", None)
    if not isinstance(axis, int) or not isinstance(ndim, int):
        return None
    n = max(ndim, 1)
    return IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {axis})")


_SIGNATURES: dict = {}


def _tensor_params(fn: Any) -> list[tuple[int, str, bool, bool]]:
    """(position, name, may be None, is keyword-only) of each parameter annotated as a Tensor."""
    params = _SIGNATURES.get(fn)
    if params is None:
        params = []
        for i, p in enumerate(inspect.signature(fn).parameters.values()):
            ann = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", "")
            if ann in ("Tensor", "Tensor | None"):
                params.append((i, p.name, ann != "Tensor", p.kind is p.KEYWORD_ONLY))
        _SIGNATURES[fn] = params
    return params


def _reworded(text: str) -> str:
    """An array library's message in PyTorch's words (dims and tensors, not axes and arrays)."""
    for old, new in (("axes", "dims"), ("axis", "dim"), ("ndarray", "tensor"), ("arrays", "tensors"),
                     ("array", "tensor"), ("ufunc", "op"), ("numpy.", ""), ("numpy", "")):
        text = text.replace(old, new)
    return text


def _non_tensor_named(fn: Any, method: bool, name: str, args: tuple, text: str) -> TypeError | None:
    """A TypeError naming the argument (or list element) whose type an internal
    ``'int' object has no attribute ...`` error is about."""
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []
    for i, v in enumerate(args):
        if method and i == 0:
            continue
        if isinstance(v, (list, tuple)) and v and any(isinstance(e, Tensor) for e in v):
            for j, e in enumerate(v):
                if not isinstance(e, Tensor) and f"'{_type_name(e)}' object" in text:
                    return TypeError(f"expected Tensor as element {j} in argument {i}, but got {_type_name(e)}")
        elif not isinstance(v, Tensor) and f"'{_type_name(v)}' object has no attribute" in text:
            pname = names[i] if i < len(names) and not names[i].startswith("*") else "other"
            return TypeError(f"{name}(): argument '{pname}' (position {i if method else i + 1}) must be "
                             f"Tensor, not {_type_name(v)}")
    return None


def _bool_params(fn: Any) -> tuple[tuple[int | None, str], ...]:
    """(position, or None when keyword-only; name) of each parameter annotated ``bool``
    (PyTorch takes no 0 or 1 there)."""
    out = []
    for i, p in enumerate(inspect.signature(fn).parameters.values()):
        if p.annotation in ("bool", bool):
            out.append((i if p.kind is p.POSITIONAL_OR_KEYWORD else None, p.name))
    return tuple(out)


def _first_param(fn: Any) -> str:
    return next(iter(inspect.signature(fn).parameters), "")


def _type_name(v: Any) -> str:
    return type(v).__name__


def translate(name: str, fn: Any, method: bool, args: tuple, kwargs: dict, exc: BaseException) -> BaseException | None:
    """The exception PyTorch raises where ``fn(*args, **kwargs)`` raised ``exc``; None when
    ``exc`` is already right."""
    for i, pname, optional, kwonly in _tensor_params(fn):
        if not kwonly and i < len(args):
            v = args[i]
        elif pname in kwargs:
            v = kwargs[pname]
        else:
            continue
        if not isinstance(v, Tensor) and not (v is None and optional):
            return TypeError(
                f"{name}(): argument '{pname}' (position {i if method else i + 1}) must be Tensor, "
                f"not {_type_name(v)}"
            )
    if (args and _first_param(fn) == "input" and isinstance(exc, _INTERNAL)
            and not any(isinstance(a, Tensor) for a in (*args, *kwargs.values()))):
        # No tensor at all (``add(2, 3)``): PyTorch names the first argument.
        return TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {_type_name(args[0])}")
    if isinstance(exc, (AttributeError, TypeError)):
        named = _non_tensor_named(fn, method, name, args, str(exc))
        if named is not None:
            return named
    dtype = kwargs.get("dtype")
    if dtype is not None and not isinstance(dtype, dtypes.dtype):
        return TypeError(f"{name}(): argument 'dtype' must be torch.dtype, not {_type_name(dtype)}")
    text = str(exc)
    if isinstance(exc, ValueError) and ("could not convert" in text or "with a sequence" in text):
        return TypeError(f"{name}(): expected a number, got something else ({_reworded(text)})")
    if isinstance(exc, ValueError) and "could not be broadcast" in text:
        shapes = _shapes_in(text)
        if shapes:
            return broadcast_error(*shapes)
    if type(exc).__name__ == "AxisError":
        err = _dim_error(exc)
        if err is not None:
            return err
    if type(exc).__module__.startswith(("numpy", "cupy")) and isinstance(exc, TypeError):
        return TypeError(f"{name}(): invalid argument types: {_reworded(text)}")
    if isinstance(exc, _INTERNAL) or (
        isinstance(exc, (ValueError, IndexError)) and any(w in text for w in _FOREIGN_WORDS)
        and "Dimension out of range" not in text
    ):
        return RuntimeError(f"{name}(): invalid arguments: {_reworded(text)}")
    return None  # (an OverflowError stays one: PyTorch's class for a number out of range)


_TRANSLATED = (*_INTERNAL, ValueError, IndexError, TypeError)


def _call_with_out(name: str, fn: Any, args: tuple, kwargs: dict) -> Any:
    """``fn(*args, **kwargs)`` for a call that passed PyTorch's ``out=`` (a tensor, or a tuple
    for several results): the result is written into ``out``, which is returned."""
    out = kwargs.pop("out")
    if out is None:
        return fn(*args, **kwargs)
    if _grad.enabled and any(isinstance(a, Tensor) and a._requires_grad for a in (*args, *kwargs.values())):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    write_out(name, fn(*args, **kwargs), out)
    return out


def write_out(name: str, result: Any, out: Any) -> None:
    """Write ``result`` into ``out`` as PyTorch's ``out=`` does: each output keeps its dtype
    (the result must cast to it) and device, and is resized when its shape differs."""
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    results = result if isinstance(result, tuple) else (result,)
    if len(outs) != len(results) or not all(isinstance(o, Tensor) for o in outs):
        raise TypeError(f"{name}(): argument 'out' must be {'a tuple of ' if len(results) > 1 else ''}"
                        f"Tensor{'s' if len(results) > 1 else ''}, not {type(out).__name__}")
    for o, r in zip(outs, results):
        if not dtypes.can_cast(r.dtype, o.dtype):
            raise RuntimeError(f"result type {r.dtype.word} can't be cast to the desired output type "
                               f"{o.dtype.word}")
        if o._be is not r._be:
            raise RuntimeError(f"{name}(): Expected out tensor to be on {r.device}, but got {o.device}")
        if o._data.shape != r._data.shape:
            if o._base is not None:
                raise RuntimeError(f"{name}(): cannot resize out, a view of another tensor, from "
                                   f"{list(o.shape)} to {list(r.shape)}")
            o._data = o._be.astype(r._data, o.dtype.name)  # resized: a new array of the result
        else:
            o._be.copyto(o._data, r._data)
        o._version[0] += 1


def placed(fn: Any, module: str, qualname: str) -> Any:
    """``fn`` (a wrapper made by ``checked``) named after where it is reached, when the
    function it wraps was made by a factory (a closure, a lambda): ``inspect`` and the API
    reference (docs/hooks/api_reference.py) then find it at ``module.qualname`` instead of
    at ``<locals>``.

    The wrapped function is named too (tools that follow ``__wrapped__`` read its names),
    by the first place that reaches it: ``Tensor.abs_`` before ``autodiff.abs_``."""
    for f in (fn, getattr(fn, "__wrapped__", fn)):
        if "<" in f.__qualname__:
            f.__module__, f.__qualname__, f.__name__ = module, qualname, qualname.rpartition(".")[2]
    return fn


def checked(name: str, fn: Any, method: bool = False) -> Any:
    """``fn`` raising PyTorch's exception classes for bad input (see ``translate``).

    Parameters annotated ``Tensor`` (not ``Tensor | None``) are checked before the call, as
    PyTorch's argument parser does (an op may otherwise take a number there and return a
    value); a method's ``self`` is a tensor already."""
    required = tuple(i for i, _, optional, kwonly in _tensor_params(fn)
                     if not optional and not kwonly and (i > 0 or not method))
    flags = _bool_params(fn)

    takes_out = not method  # (``torch.add(a, b, out=c)``; checked here: no frame of its own)

    def call(*args: Any, **kwargs: Any) -> Any:
        if _vmap.active:  # inside autodiff.func.vmap: batched inputs go to the op's batching rule
            result = _vmap.dispatch(name, call, args, kwargs)
            if result is not NOT_BATCHED:
                return result
        if kwargs and takes_out and "out" in kwargs:
            return _call_with_out(name, call, args, kwargs)
        try:
            return fn(*args, **kwargs)
        except _TRANSLATED as exc:
            better = translate(name, fn, method, args, kwargs, exc)
            if better is None:
                raise
            raise better from exc
        except RuntimeWarning:  # a float warning made an error by the user (autodiff/float_warnings.py)
            return quietly(fn, *args, **kwargs)

    def call_checked(*args: Any, **kwargs: Any) -> Any:
        if _vmap.active:
            result = _vmap.dispatch(name, call_checked, args, kwargs)
            if result is not NOT_BATCHED:
                return result
        if kwargs and takes_out and "out" in kwargs:
            return _call_with_out(name, call_checked, args, kwargs)
        for i in required:
            if i < len(args) and not isinstance(args[i], Tensor):
                raise translate(name, fn, method, args, kwargs, TypeError())
        for i, pname in flags:
            v = args[i] if i is not None and i < len(args) else kwargs.get(pname, False)
            if v.__class__ is not bool:
                where = "" if i is None else f" (position {i if method else i + 1})"
                raise TypeError(f"{name}(): argument '{pname}'{where} must be bool, not {_type_name(v)}")
        try:
            return fn(*args, **kwargs)
        except _TRANSLATED as exc:
            better = translate(name, fn, method, args, kwargs, exc)
            if better is None:
                raise
            raise better from exc
        except RuntimeWarning:  # a float warning made an error by the user (autodiff/float_warnings.py)
            return quietly(fn, *args, **kwargs)

    if required or flags:
        call = call_checked

    call.__name__, call.__qualname__, call.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    call.__module__, call.__wrapped__ = fn.__module__, fn
    return call
