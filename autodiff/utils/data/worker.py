"""What runs inside a ``DataLoader`` worker process: the fetch loop, the per-worker seeds,
``get_worker_info()``, and the wrapper that carries a worker's exception to the main
process."""

from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from typing import Any

import backends
from autodiff import random as autodiff_random

# How often a waiting worker checks that its DataLoader still wants it (seconds).
POLL_INTERVAL = 1.0


class WorkerInfo:
    """What ``get_worker_info()`` returns in a worker: ``id``, ``num_workers``, ``seed``
    (this worker's seed of autodiff, ``random`` and NumPy's global generator -- the last
    modulo 2**32) and ``dataset`` (this worker's copy)."""

    def __init__(self, **fields: Any) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({fields})"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """This worker's ``WorkerInfo`` inside a DataLoader worker process; None in the main
    process. An ``IterableDataset`` uses it to yield only its worker's share."""
    return _worker_info


class ExceptionWrapper:
    """An exception raised in a worker, as its type and formatted traceback (tracebacks do
    not pickle); ``reraise()`` raises it again in the main process."""

    def __init__(self, where: str) -> None:
        exc_type, exc, _ = sys.exc_info()
        self.exc_type = exc_type
        self.msg = "".join(traceback.format_exception(exc_type, exc, exc.__traceback__))
        self.where = where

    def reraise(self) -> None:
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.msg}"
        if self.exc_type is KeyError:  # KeyError would print the message as a repr
            msg = KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:  # an exception class that needs other arguments
            raise RuntimeError(msg) from None
        raise exc


class KeyErrorMessage(str):
    def __repr__(self) -> str:
        return str(self)


class WorkerDone:
    """A worker's answer once its copy of an iterable dataset is exhausted."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


def fetch_map(dataset: Any, index: Any, auto_collation: bool, collate_fn: Any) -> Any:
    """The batch (or sample) for ``index`` of a map-style dataset."""
    if not auto_collation:
        return collate_fn(dataset[index])
    getitems = getattr(dataset, "__getitems__", None)
    samples = getitems(index) if callable(getitems) else [dataset[i] for i in index]
    return collate_fn(samples)


def fetch_iterable(stream: Any, index: Any, auto_collation: bool, collate_fn: Any, drop_last: bool) -> Any:
    """The next batch (``len(index)`` samples) or sample from an iterable dataset's stream;
    ``StopIteration`` when there is none (or, with ``drop_last``, no full batch)."""
    if not auto_collation:
        return collate_fn(next(stream))
    samples = []
    for _ in index:
        try:
            samples.append(next(stream))
        except StopIteration:
            break
    if not samples or (drop_last and len(samples) < len(index)):
        raise StopIteration
    return collate_fn(samples)


def worker_loop(is_iterable: bool, dataset: Any, index_queue: Any, result_queue: Any, done_event: Any,
                auto_collation: bool, collate_fn: Any, drop_last: bool, base_seed: int,
                init_fn: Any, worker_id: int, num_workers: int) -> None:
    """Serve ``(task, index)`` requests from ``index_queue`` with ``(task, batch)`` on
    ``result_queue`` until told to stop (``None``), or until the parent process is gone."""
    global _worker_info
    parent = os.getppid()
    seed = base_seed + worker_id
    random.seed(seed)
    autodiff_random.manual_seed(seed % 2**64)
    # Forked workers would otherwise share the parent's NumPy global state (and so draw the
    # same "random" augmentations): PyTorch seeds it per worker too.
    backends.get("cpu").seed_numpy_global(seed)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    where = f"in DataLoader worker process {worker_id}"
    failure = None
    stream = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        if is_iterable:
            stream = iter(dataset)
    except Exception:
        failure = ExceptionWrapper(where)
    exhausted = False
    while True:
        try:
            task = index_queue.get(timeout=POLL_INTERVAL)
        except queue.Empty:
            if done_event.is_set() or os.getppid() != parent:
                break
            continue
        if task is None:
            break
        if done_event.is_set() or exhausted:
            continue  # the main process no longer waits for these
        task_id, index = task
        if failure is not None:
            data, failure = failure, None
        else:
            try:
                if is_iterable:
                    data = fetch_iterable(stream, index, auto_collation, collate_fn, drop_last)
                else:
                    data = fetch_map(dataset, index, auto_collation, collate_fn)
            except StopIteration:
                if not is_iterable:
                    data = ExceptionWrapper(where)
                else:
                    data, exhausted = WorkerDone(worker_id), True
            except Exception:
                data = ExceptionWrapper(where)
        result_queue.put((task_id, data))
        del data
    if done_event.is_set():
        # Nobody reads what is still queued: do not block exit on flushing it.
        result_queue.cancel_join_thread()
