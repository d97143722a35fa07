"""DistributedDataParallel against one process, on each rank of an MPI job.

Run by tests/test_distributed.py as ``mpiexec -n 2 python -m mpi4py ddp.py``. Checks:
N ranks with batch 64/N each give the parameters of 1 process with batch 64 after 20 SGD
steps (to 1e-6), every rank ends with the same parameters, ``no_sync`` accumulation,
``find_unused_parameters``, buckets launched while backward runs, and PyTorch's error
for a parameter without gradient. Rank 0 prints ``ddp max diff D``; every rank prints
``ddp ok rank R``.
"""

from __future__ import annotations

import numpy as np

import autodiff as torch
import autodiff.distributed as dist
import autodiff.nn as nn
import autodiff.nn.functional as F
from autodiff.nn.parallel import DistributedDataParallel

DDP = DistributedDataParallel

dist.init_process_group("mpi")
rank, size = dist.get_rank(), dist.get_world_size()
BATCH, STEPS = 64, 20
assert BATCH % size == 0
local = slice(rank * BATCH // size, (rank + 1) * BATCH // size)


def make_model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(10, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 3))


def batches(seed: int = 1) -> list:
    rng = np.random.default_rng(seed)
    return [(torch.tensor(rng.standard_normal((BATCH, 10), dtype=np.float32)),
             torch.tensor(rng.integers(0, 3, BATCH))) for _ in range(STEPS)]


def params(model: nn.Module) -> list:
    return [p.detach().numpy().copy() for p in model.parameters()]


def max_diff(a: list, b: list) -> float:
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


# 1. equivalence: ranks start from different weights; DDP broadcasts rank 0's (seed 0).
data = batches()
ref = make_model(0)
ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
model = DDP(make_model(rank), bucket_cap_mb=0.002)  # small buckets: several of them
assert len(model._buckets) > 1
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for x, y in data:
    ref_opt.zero_grad()
    F.cross_entropy(ref(x), y).backward()
    ref_opt.step()
    opt.zero_grad()
    F.cross_entropy(model(x[local]), y[local]).backward()
    opt.step()
diff = max_diff(params(ref), params(model.module))
assert diff <= 1e-6, diff
everyone = [None] * size
dist.all_gather_object(everyone, params(model.module))
assert all(max_diff(everyone[0], other) == 0 for other in everyone), "ranks differ"
if rank == 0:
    print(f"ddp max diff {diff:.3g}", flush=True)

# 2. no_sync: gradients of two micro-batches accumulate, the second backward averages both.
ref, model = make_model(3), DDP(make_model(3))
x, y = data[0]
half = BATCH // 2
(F.cross_entropy(ref(x[:half]), y[:half]) + F.cross_entropy(ref(x[half:]), y[half:])).backward()
first = slice(rank * half // size, (rank + 1) * half // size)
second = slice(half + first.start, half + first.stop)
with model.no_sync():
    F.cross_entropy(model(x[first]), y[first]).backward()
    local_grads = [p.grad.numpy().copy() for p in model.parameters()]
F.cross_entropy(model(x[second]), y[second]).backward()
for p, q in zip(ref.parameters(), model.parameters()):
    np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-6)
if size > 1:  # inside no_sync the gradients were this rank's own
    assert max_diff(local_grads, [p.grad.numpy() for p in model.parameters()]) > 1e-4


# 3. find_unused_parameters: rank 0 alone uses `extra`; nobody uses `never`.
class TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body, self.extra, self.never = nn.Linear(4, 4), nn.Linear(4, 1), nn.Linear(4, 1)

    def forward(self, x: torch.Tensor, use_extra: bool) -> torch.Tensor:
        h = self.body(x)
        return h.sum() + (self.extra(h).sum() if use_extra else 0)


torch.manual_seed(0)
net = TwoHeads()
model = DDP(net, find_unused_parameters=True)
xs = torch.ones(2, 4)
for _ in range(2):  # twice: the second iteration must not see the first one's state
    net.zero_grad()
    model(xs * (rank + 1), rank == 0).backward()
    assert net.never.weight.grad is None
    # extra's gradient: rank 0's, averaged with the other ranks' zeros
    h0 = net.body(xs).detach()
    np.testing.assert_allclose(net.extra.weight.grad.numpy(), h0.sum(0, keepdim=True).numpy() / size, rtol=1e-6)

# 4. buckets are all-reduced while backward runs: all but the last bucket are launched
# before the first parameter's gradient (the last one backward makes) is accumulated.
events = []
net = make_model(0)
first_param = next(net.parameters())
first_param.register_post_accumulate_grad_hook(lambda p: events.append("first param ready"))
model = DDP(net, bucket_cap_mb=0.002)
real_all_reduce = dist.all_reduce
dist.all_reduce = lambda t, *a, **k: (events.append("launch"), real_all_reduce(t, *a, **k))[1]
try:
    F.cross_entropy(model(data[0][0][local]), data[0][1][local]).backward()
finally:
    dist.all_reduce = real_all_reduce
assert events.index("first param ready") >= len(model._buckets) - 1, events

# 5. a parameter without gradient (find_unused_parameters=False): PyTorch's error next forward
net = TwoHeads()
model = DDP(net)
model(xs, False).backward()
try:
    model(xs, False)
except RuntimeError as exc:
    assert "Expected to have finished reduction" in str(exc)
else:
    raise AssertionError("no error for the unfinished reduction")

dist.barrier()
print(f"ddp ok rank {rank}", flush=True)
