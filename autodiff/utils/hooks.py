"""``RemovableHandle``: what every ``register_*hook`` returns (``torch.utils.hooks``'s name)."""

from __future__ import annotations

import itertools
from typing import Any

_ids = itertools.count()


class RemovableHandle:
    """Owns one entry of a hooks dict; ``remove()`` deletes it."""

    def __init__(self, hooks: dict, fn: Any) -> None:
        self.id = next(_ids)
        self.hooks = hooks
        hooks[self.id] = fn

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()
