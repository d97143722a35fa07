"""The digits CNN (examples/digits.py) trained data-parallel with DistributedDataParallel.

Run on 2 processes: ``python -m autodiff.distributed.run -n 2 examples/ddp_digits.py``
(``pip install "autodiff-tape[distributed,examples]"``). Each rank reads its share of every
batch through a ``DistributedSampler``; DDP averages the gradients, so every rank holds the
same model. The global batch is the same on any number of processes (64: 32 per rank on
2), so 1 and 2 processes train the same way, and the step time shows what 2 buys.

Run plainly, ``python examples/ddp_digits.py`` starts the training on 1 process and then
on 2 (through the launcher) and prints both results side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from digits import accuracy, load_data, make_model

import autodiff as torch
import autodiff.distributed as dist
import autodiff.nn.functional as F
from autodiff.nn.parallel import DistributedDataParallel
from autodiff.utils.data import DataLoader, DistributedSampler, TensorDataset


def train(epochs: int, global_batch: int, lr: float, seed: int) -> dict:
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(seed)
    x_train, x_test, y_train, y_test = load_data(seed)
    train_set = TensorDataset(torch.tensor(x_train), torch.tensor(y_train))
    sampler = DistributedSampler(train_set, shuffle=True, seed=seed)  # rank and world size from dist
    loader = DataLoader(train_set, batch_size=global_batch // world, sampler=sampler)
    model = DistributedDataParallel(make_model())  # rank 0's initial weights everywhere
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = 0
    dist.barrier()
    start = time.perf_counter()
    for epoch in range(epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()  # gradients averaged over the ranks before this returns
            opt.step()
            steps += 1
    seconds = time.perf_counter() - start
    test_acc = accuracy(model.module, torch.tensor(x_test), torch.tensor(y_test))
    return {"processes": world, "rank": rank, "test_accuracy": test_acc, "steps": steps,
            "ms_per_step": 1000 * seconds / steps, "seconds": seconds}


def compare(args: argparse.Namespace) -> None:
    """Run this script on 1 and on 2 processes through the launcher; print both."""
    results = []
    for n in (1, 2):
        cmd = [sys.executable, "-m", "autodiff.distributed.run", "-n", str(n), os.path.abspath(__file__), "--json",
               "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--seed", str(args.seed)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"the {n}-process run failed:\n{proc.stderr[-3000:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"digits CNN, {args.epochs} epochs, global batch {args.batch_size}")
    for r in results:
        print(f"{r['processes']} process(es): test accuracy {r['test_accuracy']:.4f}, {r['steps']} steps, "
              f"{r['ms_per_step']:.2f} ms/step ({r['seconds']:.1f} s)")
    print(f"speed-up per step on 2 processes: {results[0]['ms_per_step'] / results[1]['ms_per_step']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=64, help="global batch (split over the ranks)")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="rank 0 prints its result as one JSON line")
    args = parser.parse_args()
    if "RANK" not in os.environ:  # run plainly, not by the launcher: compare 1 and 2 processes
        if dist.is_mpi_available():
            compare(args)
            return
        print("mpi4py is missing (pip install 'autodiff-tape[distributed]'): training on 1 process only")
    dist.init_process_group("mpi")
    result = train(args.epochs, args.batch_size, args.lr, args.seed)
    if dist.get_rank() == 0:
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{result['processes']} process(es): test accuracy {result['test_accuracy']:.4f}, "
                  f"{result['ms_per_step']:.2f} ms/step")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
