"""NumPy's floating-point warnings kept from the user, as PyTorch returns inf/nan silently.

NumPy warns (``RuntimeWarning``) where an op overflows, divides by zero or meets
``inf - inf``; PyTorch says nothing. Turning NumPy's error state off around every forward op
costs ~30% on a chain of small ops, so autodiff installs one warnings filter instead: it
ignores NumPy's float-error warnings raised from autodiff's and the backends' own modules
(NumPy attributes a ufunc's warning to the Python frame that called the ufunc: an ops file
or a backend method). A filter costs nothing until a warning happens, and the user's own
NumPy calls still warn.

``warnings.catch_warnings`` replaces the list of filters while it is active (pytest does
so around every test and around importing conftest.py), dropping a filter installed inside
it: ``keep_filter`` puts it back when the list has changed; the tensor factories (where
every computation starts) test for that inline, one identity test.

Users who turn warnings into errors (``warnings.simplefilter("error")``, ``pytest -W
error``) put that filter first; an op stopped by it is run again by ``quietly`` (the rare
path: see ``checked`` in ops/_prep.py and the hot operators in ops/arithmetic.py).
"""

from __future__ import annotations

import warnings
from typing import Any

from backends import restore_float_errors, silence_float_errors

MESSAGES = r"(overflow|divide by zero|invalid value|underflow) encountered"
MODULES = r"(autodiff|backends)(\.|$)"
# The list of filters the filter was last put into (callers test ``warnings.filters is not
# INSTALLED_IN[0]`` inline before calling ``keep_filter``: no call when nothing changed).
INSTALLED_IN: list = [None]


def keep_filter() -> None:
    """Install the filter, unless it went into the current list of filters already."""
    if warnings.filters is not INSTALLED_IN[0]:
        warnings.filterwarnings("ignore", MESSAGES, RuntimeWarning, MODULES)  # (at the front, once)
        INSTALLED_IN[0] = warnings.filters


def quietly(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with NumPy's floating-point warnings off (in this thread).

    The second try of an op stopped by one of them made an error; only for ops that have
    written nothing when it is raised (an in-place write lets its own pass: see ``_write``
    in ops/inplace.py)."""
    token = silence_float_errors()
    try:
        return fn(*args, **kwargs)
    finally:
        restore_float_errors(token)


keep_filter()
