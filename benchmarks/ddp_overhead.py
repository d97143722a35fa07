"""What DistributedDataParallel costs on top of the communication it must do.

Run: ``python -m autodiff.distributed.run -n 2 benchmarks/ddp_overhead.py [--samples N]``.

1. ``big-mlp`` (the benchmark suite's net: 512x2048 -> 2048 -> 10, float32, forward, sum of
   squares loss, backward, SGD step, zero grads) on every rank: the step alone (each rank
   on its own batch, no communication), the raw mpi4py in-place ``Allreduce`` of as many
   float32 bytes as the gradients hold, and the step under DDP. The overhead ratio is
   DDP step / (step alone + raw Allreduce); the target is 1.10 or less. A second ratio
   divides by the step with its gradients all-reduced by hand (blocking mpi4py calls on
   the gradients' buffers, timed as one sample): on a loaded machine the ranks drift
   apart, and a step that communicates waits for the slower rank, which the step alone
   (no communication) never does.
2. Bucketing: a 16-layer MLP (256 wide, 32 parameters) under DDP with its default buckets
   against one all-reduce per parameter (``bucket_cap_mb=0``).

Samples are interleaved (A B C A B C ...), each starting after a barrier; rank 0 prints the
minimum and the median of each (on a machine shared with other work, the minimum is the
figure least made of preemption).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable

import numpy as np
from mpi4py import MPI

import autodiff as torch
import autodiff.distributed as dist
import autodiff.nn as nn
from autodiff.nn.parallel import DistributedDataParallel


class BigMLP(nn.Module):
    def __init__(self, d_in: int = 2048, h: int = 2048, d_out: int = 10) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.w1 = nn.Parameter(torch.tensor(rng.standard_normal((d_in, h), dtype=np.float32) / math.sqrt(d_in)))
        self.w2 = nn.Parameter(torch.tensor(rng.standard_normal((h, d_out), dtype=np.float32) / math.sqrt(h)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mm(self.w1).relu().mm(self.w2)


def deep_mlp() -> nn.Module:
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(16):
        layers += [nn.Linear(256, 256), nn.Tanh()]
    return nn.Sequential(*layers)


def stepper(model: nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float) -> Callable[[], None]:
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def step() -> None:
        loss = (model(x) - y).pow(2).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()

    return step


def by_hand(model: nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float) -> Callable[[], None]:
    """The step with its gradients averaged by hand after backward: one blocking mpi4py
    Allreduce on each gradient's NumPy buffer (no buckets, no overlap, no hooks)."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    world = MPI.COMM_WORLD.Get_size()

    def step() -> None:
        (model(x) - y).pow(2).sum().backward()
        for p in model.parameters():
            MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, p.grad.numpy(), op=MPI.SUM)
            p.grad /= world
        opt.step()
        opt.zero_grad()

    return step


def measure(fns: dict[str, Callable[[], None]], samples: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():  # warm-up
        fn()
    for _ in range(samples):
        for name, fn in fns.items():
            dist.barrier()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(1 + rank)

    # 1. big-mlp: overhead against the communication it needs
    x = torch.tensor(rng.standard_normal((512, 2048), dtype=np.float32))
    y = torch.tensor(rng.standard_normal((512, 10), dtype=np.float32))
    alone, wrapped = BigMLP(), DistributedDataParallel(BigMLP())
    grad_elems = sum(p.numel() for p in alone.parameters())
    raw = np.zeros(grad_elems, dtype=np.float32)
    comm = MPI.COMM_WORLD
    big = measure({"step alone": stepper(alone, x, y, 1e-5),
                   "raw Allreduce": lambda: comm.Allreduce(MPI.IN_PLACE, raw, op=MPI.SUM),
                   "step + Allreduce by hand": by_hand(BigMLP(), x, y, 1e-5),
                   "DDP step": stepper(wrapped, x, y, 1e-5)}, args.samples)

    # 2. bucketing against one all-reduce per parameter
    x = torch.tensor(rng.standard_normal((64, 256), dtype=np.float32))
    y = torch.tensor(rng.standard_normal((64, 256), dtype=np.float32))
    bucketed, per_param = DistributedDataParallel(deep_mlp()), DistributedDataParallel(deep_mlp(), bucket_cap_mb=0)
    deep = measure({"DDP, default buckets": stepper(bucketed, x, y, 1e-4),
                    "DDP, one all-reduce per parameter": stepper(per_param, x, y, 1e-4)}, args.samples)

    if rank == 0:
        print(f"{world} ranks, {args.samples} samples, load average {open('/proc/loadavg').read().split()[0]}")
        print(f"big-mlp: gradients {grad_elems * 4 / 2**20:.1f} MiB in {len(wrapped._buckets)} buckets")
        for name, ts in big.items():
            print(f"  {name:<36} min {1000 * min(ts):8.2f} ms   median {1000 * statistics.median(ts):8.2f} ms")
        for stat in (min, statistics.median):
            ratio = stat(big["DDP step"]) / (stat(big["step alone"]) + stat(big["raw Allreduce"]))
            print(f"  overhead ratio ({stat.__name__}): DDP step / (step alone + raw Allreduce) = {ratio:.3f}")
            ratio = stat(big["DDP step"]) / stat(big["step + Allreduce by hand"])
            print(f"  overhead ratio ({stat.__name__}): DDP step / (step + Allreduce by hand) = {ratio:.3f}")
        print(f"16-layer MLP (32 parameters; {len(bucketed._buckets)} bucket(s) against "
              f"{len(per_param._buckets)}):")
        for name, ts in deep.items():
            print(f"  {name:<36} min {1000 * min(ts):8.2f} ms   median {1000 * statistics.median(ts):8.2f} ms")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
