"""Train a small CNN on scikit-learn's handwritten digits (8x8 images, no download).

Run: ``python examples/digits.py [--device cpu|cuda] [--epochs N] [--compile]`` (``--compile``:
the training step is recorded once and replayed, ``autodiff.compile``). Needs the ``examples``
extra (``pip install "autodiff-tape[examples]"``: scikit-learn and tqdm). Prints the accuracy on a
held-out 20% split and the training time.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F


def make_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 4 x 4
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 2 x 2
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def load_data(seed: int = 0) -> tuple:
    """Images scaled to [0, 1] as float32 ``(N, 1, 8, 8)``; an 80/20 stratified split."""
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    return train_test_split(x, digits.target.astype(np.int64), test_size=0.2, random_state=seed,
                            stratify=digits.target)


def accuracy(model: nn.Module, x: Any, y: Any) -> float:
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(1)
    model.train()
    return (pred == y).float().mean().item()


def train(device: str = "cpu", epochs: int = 30, batch_size: int = 32, lr: float = 3e-3, seed: int = 0,
          progress: bool = True, compile: bool = False, max_batches: int | None = None) -> dict:
    torch.manual_seed(seed)
    x_train, x_test, y_train, y_test = load_data(seed)
    xtr, ytr = torch.tensor(x_train, device=device), torch.tensor(y_train, device=device)
    xte, yte = torch.tensor(x_test, device=device), torch.tensor(y_test, device=device)
    model = make_model().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    n = len(x_train)

    def train_step(idx):
        loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    step = torch.compile(train_step) if compile else train_step
    losses = []
    start = time.perf_counter()
    for epoch in range(epochs):
        order = torch.tensor(rng.permutation(n), device=device)
        batches = range(0, n, batch_size)[:max_batches]
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=False)
        for i in bar:
            loss = step(order[i : i + batch_size])
            losses.append(loss.item())
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
    seconds = time.perf_counter() - start
    return {"test_accuracy": accuracy(model, xte, yte), "train_accuracy": accuracy(model, xtr, ytr),
            "seconds": seconds, "epochs": epochs, "losses": losses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compile", action="store_true", help="record the step once, then replay it")
    args = parser.parse_args()
    try:  # a device that is not there: one clear line saying what is missing, no traceback
        torch.zeros(1, device=args.device)
    except RuntimeError as exc:
        parser.error(str(exc))
    r = train(args.device, args.epochs, seed=args.seed, compile=args.compile)
    print(f"test accuracy {r['test_accuracy']:.4f} (train {r['train_accuracy']:.4f}) "
          f"after {r['epochs']} epochs in {r['seconds']:.1f} s on {args.device}")


if __name__ == "__main__":
    main()
