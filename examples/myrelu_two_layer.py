"""The classic two-layer network trained with a hand-written ReLU Function.

This is PyTorch's "defining new autograd functions" example with one line changed
(``import autodiff as torch``). Run: ``python examples/myrelu_two_layer.py [--device cuda] [--compile]``;
``--compile`` records the training step once and replays it (``autodiff.compile``).
"""

from __future__ import annotations

import argparse
import time

import autodiff as torch


class MyReLU(torch.autograd.Function):
    """ReLU with a hand-written backward: zero gradient where the input was negative."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


def train(device: str = "cpu", steps: int = 500, seed: int = 0, log_every: int = 100,
          compile: bool = False) -> list[float]:
    """Fit random targets from random inputs; returns the loss of every step (``compile``:
    through ``torch.compile``, the same losses)."""
    torch.manual_seed(seed)
    dtype = torch.float
    dev = torch.device(device)
    N, D_in, H, D_out = 64, 1000, 100, 10

    x = torch.randn(N, D_in, device=dev, dtype=dtype)
    y = torch.randn(N, D_out, device=dev, dtype=dtype)
    w1 = torch.randn(D_in, H, device=dev, dtype=dtype, requires_grad=True)
    w2 = torch.randn(H, D_out, device=dev, dtype=dtype, requires_grad=True)

    learning_rate = 1e-6
    relu = MyReLU.apply

    def train_step():
        y_pred = relu(x.mm(w1)).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1.sub_(learning_rate * w1.grad)
            w2.sub_(learning_rate * w2.grad)
            w1.grad.zero_()
            w2.grad.zero_()
        return loss

    step = torch.compile(train_step) if compile else train_step
    losses = []
    for t in range(steps):
        loss = step()
        losses.append(loss.item())
        if log_every and (t % log_every == 0 or t == steps - 1):
            print(t, loss.item())
    return losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compile", action="store_true", help="record the step once, then replay it")
    args = parser.parse_args()
    try:  # a device that is not there: one clear line saying what is missing, no traceback
        torch.zeros(1, device=args.device)
    except RuntimeError as exc:
        parser.error(str(exc))
    start = time.perf_counter()
    losses = train(args.device, args.steps, args.seed, compile=args.compile)
    elapsed = time.perf_counter() - start
    print(f"final loss: {losses[-1]:.6g} after {args.steps} steps on {args.device} ({elapsed:.2f} s)")


if __name__ == "__main__":
    main()
