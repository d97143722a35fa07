"""Tensor dtypes (``autodiff.float32`` ...) and PyTorch's type-promotion rules."""

from __future__ import annotations


class dtype:  # noqa: N801 - named as in PyTorch
    """A tensor element type; ``repr`` is ``torch.float32`` as PyTorch prints it."""

    __slots__ = ("name", "kind", "itemsize", "is_floating_point", "is_signed", "word", "c_name")

    def __init__(self, name: str, kind: str, itemsize: int, word: str, c_name: str | None = None) -> None:
        self.name = name
        self.kind = kind  # 'b' bool, 'i' integer, 'f' floating
        self.itemsize = itemsize
        # How PyTorch's messages name it: "Float" (``FloatTensor``, "result type Float"),
        # and the C++ type some errors print ("float", "long int").
        self.word = word
        self.c_name = c_name or name
        self.is_floating_point = kind == "f"
        self.is_signed = name != "bool" and not name.startswith("uint")

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name


float16 = half = dtype("float16", "f", 2, "Half", "c10::Half")
float32 = float = dtype("float32", "f", 4, "Float", "float")  # noqa: A001 - PyTorch's alias
float64 = double = dtype("float64", "f", 8, "Double", "double")
int8 = dtype("int8", "i", 1, "Char")
uint8 = dtype("uint8", "i", 1, "Byte")
int16 = short = dtype("int16", "i", 2, "Short")
int32 = int = dtype("int32", "i", 4, "Int", "int")  # noqa: A001 - PyTorch's alias
int64 = long = dtype("int64", "i", 8, "Long", "long int")
bool = dtype("bool", "b", 1, "Bool", "bool")  # noqa: A001 - PyTorch's name

BY_NAME: dict[str, dtype] = {
    d.name: d for d in (float16, float32, float64, int8, uint8, int16, int32, int64, bool)
}

_default_float = float32


def get_default_dtype() -> dtype:
    """The dtype of floating tensors made from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (float32 or float64)."""
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


_KIND_RANK = {"b": 0, "i": 1, "f": 2}


def promote_types(a: dtype, b: dtype) -> dtype:
    """The dtype of ``a op b`` for two tensors of these dtypes (PyTorch's table)."""
    if a is b:
        return a
    ka, kb = _KIND_RANK[a.kind], _KIND_RANK[b.kind]
    if ka != kb:
        return a if ka > kb else b
    if a.kind == "i" and a.is_signed != b.is_signed:
        # int8/uint8 mix goes to int16; a signed wider type wins otherwise.
        signed, unsigned = (a, b) if a.is_signed else (b, a)
        return signed if signed.itemsize > unsigned.itemsize else int16
    return a if a.itemsize >= b.itemsize else b


def result_type(a: dtype, a_dim: int, b: dtype, b_dim: int) -> dtype:
    """Promotion where a 0-d tensor only decides the kind, never the width (PyTorch's rule)."""
    if a is b:
        return a
    ka, kb = _KIND_RANK[a.kind], _KIND_RANK[b.kind]
    if (a_dim == 0) != (b_dim == 0):
        dim_t, zero_t = (a, b) if a_dim else (b, a)
        if _KIND_RANK[zero_t.kind] <= _KIND_RANK[dim_t.kind]:
            return dim_t
        return _default_float if zero_t.kind == "f" else zero_t
    if ka != kb:
        return a if ka > kb else b
    return promote_types(a, b)


def scalar_result(t: dtype, value: object) -> dtype:
    """The dtype of ``tensor op python_scalar``: a scalar only decides the kind."""
    if value.__class__ is _pyfloat:
        return t if t.kind == "f" else _default_float
    if value.__class__ is _pybool or t.kind != "b":
        return t
    return int64


_pyfloat = type(0.5)  # noqa: UP003 - "float" names the dtype in this module
_pybool = type(True)  # noqa: UP003


# ---- numeric limits (``torch.finfo``, ``torch.iinfo``) and casting rules ----------------------
# (bits, eps, max, smallest normal, resolution) of each floating dtype, IEEE 754's values.
_FLOAT_LIMITS = {
    "float16": (16, 2.0**-10, 65504.0, 2.0**-14, 1e-3),
    "float32": (32, 2.0**-23, (2 - 2.0**-23) * 2.0**127, 2.0**-126, 1e-6),
    "float64": (64, 2.0**-52, (2 - 2.0**-52) * 2.0**1023, 2.0**-1022, 1e-15),
}


class finfo:  # noqa: N801 - named as in PyTorch
    """Limits of a floating dtype: ``finfo(float32).eps``, ``.max``, ``.min``, ``.tiny``."""

    def __init__(self, type: dtype | None = None) -> None:  # noqa: A002 - PyTorch's name
        type = type or _default_float
        if type.name not in _FLOAT_LIMITS:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to "
                            "handle 'torch.finfo'")
        self.bits, self.eps, self.max, self.smallest_normal, self.resolution = _FLOAT_LIMITS[type.name]
        self.min = -self.max
        self.tiny = self.smallest_normal
        self.dtype = type.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801
    """Limits of an integer dtype: ``iinfo(int8).min``, ``.max``, ``.bits``."""

    def __init__(self, type: dtype) -> None:  # noqa: A002
        if type.kind != "i":
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            "'torch.iinfo'")
        self.bits = 8 * type.itemsize
        self.min = -(2 ** (self.bits - 1)) if type.is_signed else 0
        self.max = 2 ** (self.bits - 1) - 1 if type.is_signed else 2**self.bits - 1
        self.dtype = type.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


def can_cast(from_: dtype, to: dtype) -> bool:
    """Whether PyTorch's type promotion lets ``from_`` be cast to ``to`` (never to a lower
    kind: float to int, int to bool)."""
    return _KIND_RANK[from_.kind] <= _KIND_RANK[to.kind]
