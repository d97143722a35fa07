"""Every collective of ``autodiff.distributed`` against NumPy, on each rank of an MPI job.

Run by tests/test_distributed.py as ``mpiexec -n N python -m mpi4py collectives.py``; each
rank prints ``collectives ok rank R of N`` at the end (an assertion aborts the job).
"""

from __future__ import annotations

import numpy as np

import autodiff as torch
import autodiff.distributed as dist
from autodiff.distributed.mpi import MpiGroup
from autodiff.testing import simulate_cuda

dist.init_process_group("mpi")
rank, size = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == "mpi"
Op = dist.ReduceOp


def data(r: int, dtype: str = "float64") -> np.ndarray:
    """Rank ``r``'s input: distinct per rank, exact in every dtype used."""
    return (np.arange(6).reshape(2, 3) * (r + 1) + r).astype(dtype)


def every(dtype: str = "float64") -> np.ndarray:
    return np.stack([data(r, dtype) for r in range(size)])


EXPECT = {Op.SUM: lambda a: a.sum(0), Op.PRODUCT: lambda a: a.prod(0), Op.MIN: lambda a: a.min(0),
          Op.MAX: lambda a: a.max(0), Op.AVG: lambda a: a.mean(0), Op.BAND: lambda a: np.bitwise_and.reduce(a, 0),
          Op.BOR: lambda a: np.bitwise_or.reduce(a, 0), Op.BXOR: lambda a: np.bitwise_xor.reduce(a, 0)}

# all_reduce, each op, in place and without a copy: a view taken before sees the result.
for op in Op:
    dtype = "int64" if op in (Op.BAND, Op.BOR, Op.BXOR) else "float32"
    t = torch.tensor(data(rank, dtype))
    ptr, view, version = t.data_ptr(), t.view(-1), t._version[0]
    dist.all_reduce(t, op=op)
    np.testing.assert_allclose(t.numpy(), EXPECT[op](every(dtype)), rtol=1e-6, err_msg=str(op))
    assert t.data_ptr() == ptr and np.array_equal(view.numpy(), t.numpy().reshape(-1)), "not in place"
    assert t._version[0] > version
flags = torch.tensor([rank == 0, True, False])
dist.all_reduce(flags)  # bool SUM: logical or
assert flags.tolist() == [True, True, False]

# broadcast from each rank
for src in range(size):
    t = torch.tensor(data(rank))
    dist.broadcast(t, src=src)
    np.testing.assert_array_equal(t.numpy(), data(src))

# all_gather, all_gather_into_tensor
outs = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(size)]
dist.all_gather(outs, torch.tensor(data(rank)))
np.testing.assert_array_equal(np.stack([o.numpy() for o in outs]), every())
big = torch.zeros(size * 2, 3, dtype=torch.float64)
dist.all_gather_into_tensor(big, torch.tensor(data(rank)))
np.testing.assert_array_equal(big.numpy(), every().reshape(-1, 3))

# reduce_scatter: rank r gets the sum over ranks of their input_list[r]
ins = [torch.tensor(data(rank) + 10 * j) for j in range(size)]
out = torch.zeros(2, 3, dtype=torch.float64)
dist.reduce_scatter(out, ins, op=Op.SUM)
np.testing.assert_array_equal(out.numpy(), every().sum(0) + 10 * rank * size)
out = torch.zeros(2, 3, dtype=torch.float64)
dist.reduce_scatter_tensor(out, torch.cat(ins), op=Op.MAX)
np.testing.assert_array_equal(out.numpy(), every().max(0) + 10 * rank)

# async handles: several in flight, waited in turn
ts = [torch.tensor(data(rank)) * (k + 1) for k in range(4)]
works = [dist.all_reduce(t, async_op=True) for t in ts]
assert all(isinstance(w, dist.Work) for w in works)
for k, (t, w) in enumerate(zip(ts, works)):
    assert w.wait() is True and w.is_completed()
    np.testing.assert_array_equal(t.numpy(), every().sum(0) * (k + 1))
    assert w.result() == [t]
t = torch.tensor(data(rank))
w = dist.broadcast(t, src=size - 1, async_op=True)
while not w.is_completed():
    pass
np.testing.assert_array_equal(t.numpy(), data(size - 1))
outs = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(size)]
dist.all_gather(outs, torch.tensor(data(rank)), async_op=True).wait()
np.testing.assert_array_equal(np.stack([o.numpy() for o in outs]), every())
dist.barrier(async_op=True).wait()
dist.barrier()

# objects
objs = [None] * size
dist.all_gather_object(objs, {"rank": rank, "name": f"r{rank}"})
assert objs == [{"rank": r, "name": f"r{r}"} for r in range(size)]
lst = [rank, "x", None] if rank == 1 else [None, None, None]
dist.broadcast_object_list(lst, src=1)
assert lst == [1, "x", None]

# bad arguments: PyTorch's error classes
for call, exc in [(lambda: dist.all_reduce(torch.zeros(3, 4).t()), ValueError),
                  (lambda: dist.all_gather([torch.zeros(2)], torch.zeros(2)) if size > 1 else 1 / 0,
                   (ValueError, ZeroDivisionError)),
                  (lambda: dist.all_reduce(torch.zeros(2), op=Op.BAND), TypeError),
                  (lambda: dist.broadcast(torch.zeros(2), src=size), ValueError)]:
    try:
        call()
    except exc:
        pass
    else:
        raise AssertionError("no error")

# CUDA tensors on "mpi": staged through the host (simulated devices here)
with simulate_cuda(1):
    t = torch.tensor(data(rank), device="cuda")
    dist.all_reduce(t, op=Op.SUM)
    assert t.device.type == "cuda"
    np.testing.assert_array_equal(t.cpu().numpy(), every().sum(0))
    w = dist.all_reduce(t, op=Op.AVG, async_op=True)
    w.wait()
    np.testing.assert_allclose(t.cpu().numpy(), every().sum(0))
    t = torch.tensor(data(rank), device="cuda")
    dist.broadcast(t, src=0)
    np.testing.assert_array_equal(t.cpu().numpy(), data(0))
    outs = [torch.zeros(2, 3, dtype=torch.float64, device="cuda") for _ in range(size)]
    dist.all_gather(outs, t)
    np.testing.assert_array_equal(np.stack([o.cpu().numpy() for o in outs]), np.stack([data(0)] * size))

# Without the communication thread (an MPI library that refuses calls from a second
# thread): MPI's nonblocking calls. The default group's thread is idle here (all waited).
plain = MpiGroup()
plain.shutdown()
t = torch.tensor(data(rank))
w = dist.all_reduce(t, op=Op.MAX, group=plain, async_op=True)
assert w.wait() and w.is_completed()
np.testing.assert_array_equal(t.numpy(), every().max(0))
dist.broadcast(t, src=0, group=plain)
outs = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(size)]
dist.all_gather(outs, torch.tensor(data(rank)), group=plain, async_op=True).wait()
np.testing.assert_array_equal(np.stack([o.numpy() for o in outs]), every())
dist.barrier(group=plain)
assert dist.get_world_size(plain) == size

dist.destroy_process_group()
print(f"collectives ok rank {rank} of {size}", flush=True)
