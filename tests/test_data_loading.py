"""``autodiff.utils.data`` against ``torch.utils.data``: the batches a DataLoader gives
(values, shapes, dtypes, nested structures), with shuffling, samplers, batch samplers and
worker processes; the samplers, ``random_split``, the datasets, and ``DistributedSampler``'s
index lists."""

from __future__ import annotations

import collections
import pickle
import warnings
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.utils import data

torch = pytest.importorskip("torch")
tdata = torch.utils.data

Point = collections.namedtuple("Point", "x y")


def _same(ours: Any, theirs: Any) -> None:
    """``ours`` (autodiff) holds what ``theirs`` (PyTorch) does: same structure, and tensors
    with the same shape, dtype and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, autodiff.Tensor), type(ours)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype)
        assert ours.tolist() == theirs.tolist()
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for key in theirs:
            _same(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        assert ours == theirs


def _batches(loader: Any) -> list:
    return list(loader)


class Nested:
    """A map-style dataset of nested samples, built on either library."""

    def __init__(self, lib: Any, n: int = 10) -> None:
        self.lib, self.n = lib, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        lib = self.lib
        return {
            "x": lib.arange(3, dtype=lib.float32) + i,
            "label": i,
            "weight": 0.5 * i,
            "name": f"s{i}",
            "pair": (np.full(2, i, dtype=np.int16), i % 2 == 0),
            "point": Point(np.float32(i), [i, -i]),
        }


def _pair(cls: str, *args: Any, **kwargs: Any) -> tuple:
    """The same dataset class built on autodiff and on torch."""
    return getattr(data, cls)(*args, **kwargs), getattr(tdata, cls)(*args, **kwargs)


@pytest.mark.parametrize("drop_last", [False, True])
def test_batches_of_nested_samples_are_torchs(drop_last: bool) -> None:
    ours = data.DataLoader(Nested(autodiff), batch_size=4, drop_last=drop_last)
    theirs = tdata.DataLoader(Nested(torch), batch_size=4, drop_last=drop_last)
    assert len(ours) == len(theirs)
    _same(_batches(ours), _batches(theirs))


def test_tensor_dataset_batches_are_torchs() -> None:
    x = np.arange(24, dtype=np.float32).reshape(8, 3)
    y = np.arange(8)
    ours = data.DataLoader(data.TensorDataset(autodiff.tensor(x), autodiff.tensor(y)), batch_size=3)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=3)
    _same(_batches(ours), _batches(theirs))


@pytest.mark.parametrize("seed", [0, 7, 2024])
def test_shuffle_with_a_seeded_generator_is_torchs(seed: int) -> None:
    ours = data.DataLoader(list(range(23)), batch_size=5, shuffle=True,
                           generator=autodiff.Generator().manual_seed(seed))
    theirs = tdata.DataLoader(list(range(23)), batch_size=5, shuffle=True,
                              generator=torch.Generator().manual_seed(seed))
    for _ in range(2):  # the second epoch continues the same generator
        _same(_batches(ours), _batches(theirs))


def test_shuffle_without_a_generator_follows_manual_seed_as_torchs() -> None:
    autodiff.manual_seed(5)
    torch.manual_seed(5)
    ours = data.DataLoader(list(range(17)), batch_size=4, shuffle=True)
    theirs = tdata.DataLoader(list(range(17)), batch_size=4, shuffle=True)
    _same(_batches(ours), _batches(theirs))


def test_sampler_and_batch_sampler_arguments_are_torchs() -> None:
    order = [5, 3, 9, 0, 1]
    _same(_batches(data.DataLoader(list(range(10)), batch_size=2, sampler=order)),
          _batches(tdata.DataLoader(list(range(10)), batch_size=2, sampler=order)))
    groups = [[0, 1, 2], [9], [4, 4]]
    ours = data.DataLoader(Nested(autodiff), batch_sampler=groups)
    theirs = tdata.DataLoader(Nested(torch), batch_sampler=groups)
    assert len(ours) == len(theirs) == 3
    _same(_batches(ours), _batches(theirs))


def test_without_batching_samples_are_converted_as_torchs() -> None:
    samples = [(np.ones(2), 3), {"a": np.float64(1.5)}, [np.arange(3)], "text"]
    ours = data.DataLoader(samples, batch_size=None)
    theirs = tdata.DataLoader(samples, batch_size=None)
    assert len(ours) == len(theirs) == 4
    _same(_batches(ours), _batches(theirs))


def test_custom_collate_fn_gets_the_list_of_samples() -> None:
    loader = data.DataLoader(list(range(5)), batch_size=2, collate_fn=lambda b: b)
    assert _batches(loader) == [[0, 1], [2, 3], [4]]


def test_default_collate_errors_are_torchs() -> None:
    for bad in ([object(), object()], [[1, 2], [3]]):
        with pytest.raises(Exception) as theirs:
            tdata.default_collate(bad)
        with pytest.raises(theirs.type, match=str(theirs.value)[:40]):
            data.default_collate(bad)


@pytest.mark.parametrize("kwargs", [
    {"sampler": [0, 1], "shuffle": True},
    {"batch_sampler": [[0]], "batch_size": 2},
    {"batch_sampler": [[0]], "drop_last": True},
    {"batch_size": None, "drop_last": True},
    {"num_workers": -1},
    {"prefetch_factor": 2},
])
def test_conflicting_arguments_raise_torchs_errors(kwargs: dict) -> None:
    with pytest.raises(ValueError) as theirs:
        tdata.DataLoader(list(range(4)), **kwargs)
    with pytest.raises(ValueError, match=str(theirs.value)[:30]):
        data.DataLoader(list(range(4)), **kwargs)


class Stream(data.IterableDataset):
    """0..n-1, each worker yielding its own interleaved share (via get_worker_info)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self) -> Any:
        info = data.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self) -> int:
        return self.n


class TorchStream(tdata.IterableDataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self) -> Any:
        info = tdata.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


def test_iterable_dataset_batches_are_torchs() -> None:
    _same(_batches(data.DataLoader(Stream(11), batch_size=4, drop_last=True)),
          _batches(tdata.DataLoader(TorchStream(11), batch_size=4, drop_last=True)))
    assert len(data.DataLoader(Stream(11), batch_size=4)) == 3
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        data.DataLoader(Stream(3), shuffle=True)


def _record_worker(worker_id: int) -> None:
    info = data.get_worker_info()
    assert info is not None and info.id == worker_id and info.num_workers == 2


def test_two_workers_give_the_batches_of_zero_workers_and_torchs() -> None:
    def loader(lib: Any, mod: Any, **kw: Any) -> Any:
        return mod.DataLoader(Nested(lib, 11), batch_size=3, shuffle=True,
                              generator=lib.Generator().manual_seed(1), **kw)

    expected = _batches(loader(torch, tdata))
    _same(_batches(loader(autodiff, data)), expected)
    _same(_batches(loader(autodiff, data, num_workers=2, worker_init_fn=_record_worker)), expected)


def test_iterable_dataset_workers_yield_their_shards_as_torchs() -> None:
    ours = _batches(data.DataLoader(Stream(13), batch_size=3, num_workers=2))
    theirs = _batches(tdata.DataLoader(TorchStream(13), batch_size=3, num_workers=2))
    _same(ours, theirs)
    assert sorted(sum((b.tolist() for b in ours), [])) == list(range(13))
    assert data.get_worker_info() is None


class Draws(data.Dataset):
    """Sample i: which worker made it, its seed, and a draw of NumPy's global generator."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> tuple:
        info = data.get_worker_info()
        return info.id, info.seed, int(np.random.randint(2**31))


def test_workers_are_seeded_apart_from_the_loaders_generator() -> None:
    def run() -> list:
        loader = data.DataLoader(Draws(), batch_size=None, num_workers=2,
                                 generator=autodiff.Generator().manual_seed(8))
        return list(loader)

    first = run()
    assert [w for w, _, _ in first] == [0, 1, 0, 1]
    base = data.sampler.draw_seed(autodiff.Generator().manual_seed(8))
    assert {(w, seed) for w, seed, _ in first} == {(0, base), (1, base + 1)}
    assert first[0][2] != first[1][2]  # NumPy's global generator differs per worker
    assert run() == first  # and is the same for the same generator


class Failing(data.Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> int:
        if i == 2:
            raise KeyError("no sample 2")
        return i


def test_a_workers_exception_is_raised_in_the_main_process() -> None:
    loader = data.DataLoader(Failing(), batch_size=1, num_workers=2)
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0"):
        _batches(loader)


def test_tensors_cross_processes_as_copies() -> None:
    x = autodiff.arange(6.0).reshape(2, 3)[:, 1]
    leaf = autodiff.ones(2, requires_grad=True)
    y, z = pickle.loads(ForkingPickler.dumps((x, leaf)))
    assert y.tolist() == [1.0, 4.0] and z.requires_grad and z.is_leaf
    p = pickle.loads(ForkingPickler.dumps(autodiff.nn.Parameter(autodiff.zeros(2))))
    assert isinstance(p, autodiff.nn.Parameter)
    with pytest.raises(RuntimeError, match="non-leaf tensor which requires_grad"):
        ForkingPickler.dumps(leaf * 2)


# ---- samplers ---------------------------------------------------------------------------------
def test_sequential_and_batch_samplers_are_torchs() -> None:
    ours, theirs = _pair("SequentialSampler", range(7))
    assert list(ours) == list(theirs) and len(ours) == 7
    for drop_last in (False, True):
        a = data.BatchSampler(ours, 3, drop_last)
        b = tdata.BatchSampler(theirs, 3, drop_last)
        assert list(a) == list(b) and len(a) == len(b)
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        data.BatchSampler(ours, 0, False)


@pytest.mark.parametrize("replacement, num_samples", [(False, None), (False, 25), (True, None), (True, 70)])
def test_random_sampler_is_torchs(replacement: bool, num_samples: int | None) -> None:
    ours = data.RandomSampler(range(10), replacement, num_samples, autodiff.Generator().manual_seed(3))
    theirs = tdata.RandomSampler(range(10), replacement, num_samples, torch.Generator().manual_seed(3))
    assert len(ours) == len(theirs)
    assert list(ours) == list(theirs)
    assert list(ours) == list(theirs)


def test_subset_random_sampler_is_torchs() -> None:
    idx = [4, 8, 15, 16, 23, 42]
    ours = data.SubsetRandomSampler(idx, autodiff.Generator().manual_seed(9))
    theirs = tdata.SubsetRandomSampler(idx, torch.Generator().manual_seed(9))
    assert list(ours) == list(theirs) and len(ours) == 6


def test_weighted_random_sampler_draws_only_weighted_indices() -> None:
    s = data.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 50, generator=autodiff.Generator().manual_seed(0))
    drawn = list(s)
    assert len(drawn) == len(s) == 50 and set(drawn) <= {1, 3}
    assert sorted(data.WeightedRandomSampler([1, 1, 1], 3, replacement=False)) == [0, 1, 2]


# ---- datasets and random_split ------------------------------------------------------------
@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.34, 0.33, 0.33], [5, 0, 5]])
def test_random_split_is_torchs(lengths: list) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the zero-length split warns, in both
        ours = data.random_split(range(10), lengths, generator=autodiff.Generator().manual_seed(2))
        theirs = tdata.random_split(range(10), lengths, generator=torch.Generator().manual_seed(2))
    assert [list(s) for s in ours] == [list(s) for s in theirs]
    assert sorted(sum((list(s) for s in ours), [])) == list(range(10))


def test_random_split_errors_and_warnings_are_torchs() -> None:
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        data.random_split(range(10), [3, 3])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        data.random_split(range(2), [1.0, 0.0])


def test_subset_concat_and_tensor_datasets() -> None:
    t = data.TensorDataset(autodiff.arange(5), autodiff.arange(5) * 10)
    assert [x.item() for x in t[3]] == [3, 30] and len(t) == 5
    with pytest.raises(AssertionError, match="Size mismatch"):
        data.TensorDataset(autodiff.ones(2), autodiff.ones(3))
    s = data.Subset(list("abcdef"), [5, 0, 2])
    assert [s[i] for i in range(3)] == ["f", "a", "c"]
    assert s.__getitems__([2, 1]) == ["c", "a"]
    c = data.ConcatDataset([list("ab"), list("cde")]) + data.Subset(list("xyz"), [1])
    assert [c[i] for i in range(len(c))] == list("abcdey") and c[-2] == "e"
    chained = data.IterableDataset.__add__(Stream(2), Stream(3))
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5


# ---- DistributedSampler -------------------------------------------------------------------
@pytest.mark.parametrize("size, replicas", [(10, 3), (12, 4), (5, 2), (2, 5), (100, 7)])
@pytest.mark.parametrize("shuffle, seed, drop_last, epoch", [
    (True, 0, False, 0), (True, 3, True, 0), (True, 42, False, 5), (False, 0, True, 1), (False, 0, False, 0),
])
def test_distributed_sampler_index_lists_are_torchs(size: int, replicas: int, shuffle: bool, seed: int,
                                                   drop_last: bool, epoch: int) -> None:
    for rank in range(replicas):
        kw = {"num_replicas": replicas, "rank": rank, "shuffle": shuffle, "seed": seed, "drop_last": drop_last}
        ours = data.DistributedSampler(range(size), **kw)
        theirs = tdata.distributed.DistributedSampler(range(size), **kw)
        ours.set_epoch(epoch)
        theirs.set_epoch(epoch)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_distributed_sampler_replicas_partition_the_dataset() -> None:
    shares = [list(data.DistributedSampler(range(12), 4, r, seed=1)) for r in range(4)]
    assert sorted(sum(shares, [])) == list(range(12))
    epochs = []
    for epoch in range(2):
        s = data.DistributedSampler(range(12), 4, 0, seed=1)
        s.set_epoch(epoch)
        epochs.append(list(s))
    assert epochs[0] != epochs[1]


def test_distributed_sampler_needs_a_rank_it_can_use() -> None:
    from autodiff.utils.data.distributed import DistributedSampler

    assert DistributedSampler is data.DistributedSampler
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        data.DistributedSampler(range(4), num_replicas=3, rank=3)
    try:
        import autodiff.distributed as dist
    except ImportError:
        dist = None
    if dist is None or not getattr(dist, "is_initialized", lambda: False)():
        with pytest.raises((RuntimeError, ValueError)):
            data.DistributedSampler(range(4))
