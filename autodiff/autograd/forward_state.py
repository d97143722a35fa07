"""The state of forward-mode AD (autograd/forward_ad.py), in a module of its own so that
the lowest layers (``Node``, ``record``) can read it without importing the rest.

``state.active`` is True while a dual level is open: the one flag every op reads.
"""

from __future__ import annotations

import weakref
from typing import Any


class _State:
    """Whether a dual level is open (``active``), its index, and weak references to the
    tensors given a tangent at it (their tangents are dropped when it closes)."""

    active = False
    level: int | None = None
    duals: list = []


state = _State()


def tangent_of(t: Any) -> Any:
    """``t``'s tangent at the open level, or None."""
    return getattr(t, "_fw_grad", None)


def set_tangent(t: Any, tangent: Any) -> None:
    """Give ``t`` its tangent (None: none), of its shape and dtype; dropped when the
    level closes."""
    if tangent is None:
        return
    if tangent._data.shape != t._data.shape:
        tangent = tangent.expand(t._data.shape)
    if tangent._data.dtype != t._data.dtype:
        tangent = tangent.to(t.dtype)
    t._fw_grad = tangent
    state.duals.append(weakref.ref(t))
