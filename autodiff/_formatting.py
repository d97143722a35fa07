"""PyTorch-compatible ``repr`` formatting for tensors, in pure Python.

This module reproduces the output of PyTorch's ``torch/_tensor_str.py`` for float,
integer and bool tensors, under the print options ``set_printoptions`` sets (PyTorch's
defaults: precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None). It works on plain nested
Python lists (what ``ndarray.tolist()`` returns), so it has no dependencies on
NumPy or the rest of the library.

The single entry point is :func:`format_tensor`; it returns the complete
``tensor(...)`` string, including suffixes such as ``dtype=...`` or
``grad_fn=<...>``.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["EDGEITEMS", "SUMMARIZE_THRESHOLD", "format_tensor", "options", "set_printoptions"]

# PyTorch's default print options.
SUMMARIZE_THRESHOLD = 1000  # more elements than this -> summarized output
EDGEITEMS = 3  # entries kept at each end of a summarized dimension
PRECISION = 4  # digits after the decimal point for floats
LINEWIDTH = 80  # maximum line width used for wrapping


class _PrintOptions:
    """The options in force (``set_printoptions``); ``sci_mode`` None lets each tensor choose."""

    def __init__(self) -> None:
        self.precision, self.threshold = PRECISION, SUMMARIZE_THRESHOLD
        self.edgeitems, self.linewidth = EDGEITEMS, LINEWIDTH
        self.sci_mode: bool | None = None

    def __repr__(self) -> str:
        return (f"PrintOptions(precision={self.precision}, threshold={self.threshold}, edgeitems={self.edgeitems}, "
                f"linewidth={self.linewidth}, sci_mode={self.sci_mode})")


options = _PrintOptions()

# profile name -> (precision, threshold, edgeitems, linewidth), as PyTorch's
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}


def set_printoptions(precision: int | None = None, threshold: float | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """``torch.set_printoptions``: a ``profile`` ("default", "short", "full") first, then each
    option given; ``sci_mode`` is set by every call (None: each tensor chooses), as in PyTorch."""
    if profile in _PROFILES:  # (PyTorch ignores a profile it does not know)
        options.precision, options.threshold, options.edgeitems, options.linewidth = _PROFILES[profile]
    if precision is not None:
        options.precision = precision
    if threshold is not None:
        options.threshold = threshold
    if edgeitems is not None:
        options.edgeitems = edgeitems
    if linewidth is not None:
        options.linewidth = linewidth
    options.sci_mode = sci_mode

_PREFIX = "tensor("

Scalar = bool | int | float


def _flatten(values: Any) -> list[Scalar]:
    """Return the scalars of a nested list (or a bare scalar) in row-major order."""
    if not isinstance(values, list):
        return [values]
    flat: list[Scalar] = []
    stack = [values]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            flat.append(item)
    return flat


def _summarize(values: Any, shape: tuple[int, ...]) -> Any:
    """Keep the first and last ``options.edgeitems`` entries of every dimension longer
    than twice that.

    Idempotent: data that the caller already trimmed is returned unchanged, so
    ``format_tensor`` accepts either trimmed or full data when summarizing.
    """
    if not shape:
        return values
    edge = options.edgeitems
    if shape[0] > 2 * edge and len(values) > 2 * edge:
        values = values[:edge] + values[-edge:]
    if len(shape) == 1:
        return list(values)
    return [_summarize(sub, shape[1:]) for sub in values]


class _Formatter:
    """Chooses a common style and width for all elements (``torch._tensor_str._Formatter``)."""

    def __init__(self, flat: list[Scalar], kind: str) -> None:
        self.floating = kind == "f"
        self.int_mode = True  # every finite float is integral -> print as "3."
        self.sci_mode = False
        self.width = 1

        if not self.floating:
            # Integers and bools are printed with str(); only the width matters.
            for value in flat:
                self.width = max(self.width, len(f"{value}"))
            return

        nonzero_finite = [v for v in flat if math.isfinite(v) and v != 0]
        if not nonzero_finite:
            return  # only zeros / nan / inf: keep the defaults

        abs_vals = [abs(v) for v in nonzero_finite]
        vmin, vmax = min(abs_vals), max(abs_vals)
        self.int_mode = all(v == math.ceil(v) for v in nonzero_finite)
        self.sci_mode = vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4
        if options.sci_mode is not None:
            self.sci_mode = options.sci_mode

        # Width is measured on the nonzero finite values only (as PyTorch does).
        if self.sci_mode:
            strs = [f"{v:.{options.precision}e}" for v in nonzero_finite]
        elif self.int_mode:
            strs = [f"{v:.0f}." for v in nonzero_finite]  # +1 for the trailing "."
        else:
            strs = [f"{v:.{options.precision}f}" for v in nonzero_finite]
        self.width = max(self.width, *(len(s) for s in strs))

    def format(self, value: Scalar) -> str:
        """Format one element, right-aligned to the common width."""
        if not self.floating:
            ret = f"{value}"
        elif self.sci_mode:
            ret = f"{value:{self.width}.{options.precision}e}"
        elif self.int_mode:
            ret = f"{value:.0f}"
            if math.isfinite(value):
                ret += "."
        else:
            ret = f"{value:.{options.precision}f}"
        return ret.rjust(self.width)


def _vector_str(
    values: list[Scalar], size: int, indent: int, summarize: bool, fmt: _Formatter
) -> str:
    """Format a 1-d row, wrapping it to the line width (``_vector_str``)."""
    element_length = fmt.width + 2  # element plus ", "
    per_line = max(1, (options.linewidth - indent) // element_length)

    data = [fmt.format(v) for v in values]
    edge = options.edgeitems
    if summarize and size > 2 * edge:
        data = data[:edge] + [" ..."] + data[-edge:]

    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(
    values: Any, shape: tuple[int, ...], indent: int, summarize: bool, fmt: _Formatter
) -> str:
    """Format an n-d block recursively (``_tensor_str_with_formatter``)."""
    if not shape:
        return fmt.format(values)
    if len(shape) == 1:
        return _vector_str(values, shape[0], indent, summarize, fmt)

    slices = [_nested_str(sub, shape[1:], indent + 1, summarize, fmt) for sub in values]
    edge = options.edgeitems
    if summarize and shape[0] > 2 * edge:
        slices = slices[:edge] + ["..."] + slices[-edge:]

    # Blocks of higher dimensions are separated by (ndim - 1) newlines.
    separator = "," + "\n" * (len(shape) - 1) + " " * (indent + 1)
    return "[" + separator.join(slices) + "]"


def _add_suffixes(tensor_str: str, suffixes: list[str], indent: int) -> str:
    """Append ``, suffix`` items and the closing paren (``_add_suffixes``).

    A suffix moves to its own line when it would overflow the line width.
    """
    parts = [tensor_str]
    # Mirrors PyTorch exactly, including its off-by-two when there is no newline.
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > options.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def format_tensor(
    values: Any,
    shape: tuple[int, ...],
    kind: str,
    suffixes: list[str],
    summarized: bool = False,
) -> str:
    """Return the PyTorch-style ``repr`` of a tensor.

    Args:
        values: the data as nested Python lists (``ndarray.tolist()``), or a bare
            scalar for a 0-d tensor. Elements are float, int or bool.
        shape: the tensor's original (untrimmed) shape.
        kind: ``'f'`` (floating point), ``'i'`` (integer) or ``'b'`` (bool).
        suffixes: pre-formatted suffixes such as ``"dtype=torch.float64"`` or
            ``"grad_fn=<AddBackward0>"``, appended in order. PyTorch prints the
            dtype of *empty* tensors whenever it is not float32 (even int64/bool);
            deciding that is up to the caller.
        summarized: True when the tensor has more than ``options.threshold``
            elements. Every dimension longer than twice ``options.edgeitems`` is then
            shown as its first and last ``options.edgeitems`` entries with ``...`` between.
            ``values`` may be trimmed to those entries already, or be complete.

    Returns:
        The full string, e.g. ``"tensor([1., 2.], requires_grad=True)"``.
    """
    if kind not in ("f", "i", "b"):
        raise ValueError(f"kind must be 'f', 'i' or 'b', got {kind!r}")
    shape = tuple(shape)
    suffixes = list(suffixes)

    if any(d == 0 for d in shape):
        # Empty tensor: no data, and the shape is spelled out unless it is 1-d.
        data = "[]"
        if len(shape) != 1:
            suffixes.insert(0, f"size={shape}")
    else:
        if summarized:
            values = _summarize(values, shape)
        fmt = _Formatter(_flatten(values), kind)
        data = _nested_str(values, shape, len(_PREFIX), summarized, fmt)

    return _add_suffixes(_PREFIX + data, suffixes, len(_PREFIX))
