"""``DataLoader``, as ``torch.utils.data``'s: batches from a dataset, in the order a sampler
gives, collated by ``collate_fn``, fetched in the main process (``num_workers=0``) or by
worker processes (``num_workers > 0``).

Each iteration first draws a base seed from ``generator`` (the default generator if None),
as PyTorch does; worker ``i`` seeds autodiff's default generator and Python's ``random``
with ``base_seed + i``. So with ``shuffle=True`` and a CPU generator seeded alike, the
batches are PyTorch's. Workers are started afresh for every pass (``persistent_workers``
is accepted and changes nothing); batches cross processes as copies
(``autodiff.multiprocessing``), and ``pin_memory`` does nothing (there is no pinned memory).
"""

from __future__ import annotations

import itertools
import multiprocessing
import queue
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import autodiff.multiprocessing  # noqa: F401 - lets tensors cross between processes
from autodiff.random import Generator
from autodiff.utils.data import worker
from autodiff.utils.data.collate import default_collate, default_convert
from autodiff.utils.data.dataset import Dataset, IterableDataset
from autodiff.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, draw_seed

# How long the main process waits on its workers before checking that they are alive.
_POLL_INTERVAL = 1.0


class _InfiniteConstantSampler(Sampler):
    """An iterable dataset's "indices": None forever (the dataset decides when to stop)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` (``None``: single samples,
    converted by ``default_convert``), in order or shuffled (``shuffle``, ``generator``), or
    in the order of ``sampler``/``batch_sampler``; ``num_workers`` worker processes fetch
    batches in parallel, handed out in order."""

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Sampler | Iterable | None = None,
                 num_workers: int = 0, collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.in_order = in_order

        self._is_iterable = isinstance(dataset, IterableDataset)
        if self._is_iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                                 f"but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, "
                                 f"but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")
        if sampler is None:
            if self._is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Iterable:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> Iterator:
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        return _MultiProcessIter(self)

    def __len__(self) -> int:
        if self._is_iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)


class _SingleProcessIter:
    """Batches fetched in the main process."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        self._base_seed = draw_seed(loader.generator)  # drawn as PyTorch does: keeps the streams in step
        self._indices = iter(loader._index_sampler)
        self._stream = iter(loader.dataset) if loader._is_iterable else None

    def __iter__(self) -> _SingleProcessIter:
        return self

    def __next__(self) -> Any:
        loader = self._loader
        index = next(self._indices)
        if self._stream is not None:
            return worker.fetch_iterable(self._stream, index, loader._auto_collation, loader.collate_fn,
                                         loader.drop_last)
        return worker.fetch_map(loader.dataset, index, loader._auto_collation, loader.collate_fn)

    def __len__(self) -> int:
        return len(self._loader)


class _MultiProcessIter:
    """Batches fetched by worker processes. Task ``k`` (the sampler's ``k``-th index or
    batch of indices) goes to the next worker in turn that still has data; results are
    handed out in task order, whatever order they arrive in."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = multiprocessing.get_context()
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self._base_seed = draw_seed(loader.generator)
        self._indices = iter(loader._index_sampler)
        n = loader.num_workers
        self._result_queue = ctx.Queue()
        self._done_event = ctx.Event()
        self._index_queues = []
        self._workers = []
        for i in range(n):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()  # never block our exit on tasks nobody will read
            w = ctx.Process(target=worker.worker_loop, daemon=True, args=(
                loader._is_iterable, loader.dataset, index_queue, self._result_queue, self._done_event,
                loader._auto_collation, loader.collate_fn, loader.drop_last, self._base_seed,
                loader.worker_init_fn, i, n))
            w.start()
            self._index_queues.append(index_queue)
            self._workers.append(w)
        self._active = [True] * n
        self._turn = itertools.cycle(range(n))
        self._tasks: dict[int, tuple] = {}  # task -> (worker,) while pending, (worker, data) once in
        self._sent = 0
        self._next = 0
        self._shut = False
        for _ in range(loader.prefetch_factor * n):
            self._send_task()

    def __iter__(self) -> _MultiProcessIter:
        return self

    def __len__(self) -> int:
        return len(self._loader)

    def _send_task(self) -> None:
        try:
            index = next(self._indices)
        except StopIteration:
            return
        for _ in range(len(self._workers)):
            w = next(self._turn)
            if self._active[w]:
                break
        else:
            return
        self._index_queues[w].put((self._sent, index))
        self._tasks[self._sent] = (w,)
        self._sent += 1

    def _receive(self) -> tuple[int, Any]:
        start = time.monotonic()
        timeout = self._loader.timeout
        while True:
            wait = _POLL_INTERVAL if timeout <= 0 else min(_POLL_INTERVAL, timeout)
            try:
                return self._result_queue.get(timeout=wait)
            except queue.Empty:
                if timeout > 0 and time.monotonic() - start >= timeout:
                    self._shutdown()
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds") from None
                dead = [str(w.pid) for w in self._workers if not w.is_alive()]
                if dead:
                    self._shutdown()
                    raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(dead)}) exited unexpectedly") from None

    def __next__(self) -> Any:
        while True:
            # Skip the tasks of workers whose stream has ended: they will never answer.
            while self._next < self._sent:
                info = self._tasks[self._next]
                if len(info) == 2 or self._active[info[0]]:
                    break
                del self._tasks[self._next]
                self._next += 1
            else:
                self._shutdown()
                raise StopIteration
            info = self._tasks[self._next]
            if len(info) == 2:
                del self._tasks[self._next]
                self._next += 1
                self._send_task()
                return self._unwrap(info[1])
            task, data = self._receive()
            if isinstance(data, worker.WorkerDone):
                self._active[data.worker_id] = False
                self._send_task()
                continue
            if task != self._next:
                self._tasks[task] += (data,)
                continue
            del self._tasks[task]
            self._next += 1
            self._send_task()
            return self._unwrap(data)

    def _unwrap(self, data: Any) -> Any:
        if isinstance(data, worker.ExceptionWrapper):
            self._shutdown()
            data.reraise()
        return data

    def _shutdown(self) -> None:
        if self._shut:
            return
        self._shut = True
        self._done_event.set()
        for q in self._index_queues:
            q.put(None)
        for w in self._workers:
            w.join(timeout=5)
            if w.is_alive():
                w.terminate()
        for q in (*self._index_queues, self._result_queue):
            q.cancel_join_thread()
            q.close()

    def __del__(self) -> None:
        if getattr(self, "_workers", None) is not None:
            self._shutdown()
