"""``OMITTED``: the default of a parameter where PyTorch refuses an explicit ``None``.

PyTorch's overloads distinguish an argument left out from one given as ``None``:
``prod(x)`` reduces every dim, ``prod(x, None)`` is a TypeError. A parameter whose default
is ``OMITTED`` tells the two apart with one identity test.
"""

from __future__ import annotations

from typing import Any


class _Omitted:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<omitted>"


OMITTED: Any = _Omitted()
