"""Figures for the autograd-semantics work: a third derivative, a Hessian checked against
its closed form, a 100,000-op chain timed, and proof that a training step's graph is
freed by reference counting alone. Run: ``python examples/autograd_semantics_demo.py``."""

from __future__ import annotations

import gc
import time
import weakref

import numpy as np

import autodiff as torch

# Third derivative: d^3/dx^3 x**4 = 24 x.
x = torch.tensor(1.5, requires_grad=True)
(g1,) = torch.autograd.grad(x ** 4, x, create_graph=True)
(g2,) = torch.autograd.grad(g1, x, create_graph=True)
(g3,) = torch.autograd.grad(g2, x)
print(f"x**4 at x=1.5: first {g1.item()} (4x^3 = 13.5), second {g2.item()} (12x^2 = 27), "
      f"third {g3.item()} (24x = 36)")


# Hessian of the Rosenbrock function against its closed form.
def rosenbrock(v):
    return ((1 - v[:-1]) ** 2 + 100 * (v[1:] - v[:-1] ** 2) ** 2).sum()


p = torch.tensor([1.2, 0.8, -0.5], dtype=torch.float64)
h = torch.autograd.functional.hessian(rosenbrock, p)
a, b, c = p.tolist()
closed = np.array([
    [2 - 400 * (b - a * a) + 800 * a * a, -400 * a, 0],
    [-400 * a, 200 + 2 - 400 * (c - b * b) + 800 * b * b, -400 * b],
    [0, -400 * b, 200],
])
print("Hessian of Rosenbrock at", [a, b, c])
print(h)
print("max |autodiff - closed form| =", float(np.abs(np.array(h.tolist()) - closed).max()))

# A 100,000-op chain: forward, backward, deletion.
x = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
t0 = time.perf_counter()
y = x
for _ in range(100_000):
    y = y * 1.0001
t1 = time.perf_counter()
y.sum().backward()
t2 = time.perf_counter()
del y
t3 = time.perf_counter()
print(f"100,000-op chain: forward {t1 - t0:.3f} s, backward {t2 - t1:.3f} s, "
      f"delete {t3 - t2:.3f} s, x.grad = {x.grad.item():.6g} (1.0001**100000 = {1.0001 ** 100000:.6g})")

# A training step's graph is freed by reference counting alone.
gc.disable()
w = torch.randn(3, 2, requires_grad=True)
inp = torch.randn(4, 3)
hid = (inp @ w).exp()
loss = (hid * hid).mean()
refs = {"hidden tensor": weakref.ref(hid), "its array": weakref.ref(hid._data),
        "ExpBackward0": weakref.ref(hid.grad_fn), "MeanBackward0": weakref.ref(loss.grad_fn)}
loss.backward()
with torch.no_grad():
    w -= 0.1 * w.grad
del hid, loss
print("with gc disabled, after the step:", {k: r() is None and "freed" for k, r in refs.items()})
gc.enable()
