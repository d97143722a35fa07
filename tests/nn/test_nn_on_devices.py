"""The new layers on every device (cpu, the strict test device, cuda when present): running
statistics, random masks, hooks and gradient clipping stay on the input's device."""

from __future__ import annotations

import autodiff
import autodiff.nn as nn


def test_layers_run_on_device(device):
    autodiff.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.SiLU(), nn.Dropout2d(0.3), nn.ReflectionPad2d(1),
        nn.GroupNorm(2, 4), nn.InstanceNorm2d(4, affine=True, track_running_stats=True), nn.Mish(),
        nn.AlphaDropout(0.2), nn.Flatten(), nn.LayerNorm(144), nn.PReLU(), nn.Linear(144, 3), nn.RMSNorm(3),
    ).to(device)
    seen = []
    model[0].register_full_backward_hook(lambda m, gi, go: seen.append(go[0].device))
    x = autodiff.randn(5, 2, 4, 4, device=device, requires_grad=True)
    target = autodiff.tensor([0, 2, 1, 1, 0], device=device)
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)(model(x), target) + nn.HuberLoss()(x, x * 0.5)
    loss.backward()
    where = x.device
    assert seen == [where] and x.grad.device == where
    assert model[1].running_mean.device == where and model[1].num_batches_tracked.item() == 1
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.1)
    assert total.device == where
    model.eval()
    assert model(x).device == where


def test_losses_run_on_device(device):
    x = autodiff.randn(3, 4, device=device, requires_grad=True)
    y = autodiff.randn(3, 4, device=device)
    idx = autodiff.tensor([1, 0, 3], device=device)
    labels = autodiff.tensor([[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 1, 2]], device=device)
    losses = [nn.functional.kl_div(x, y.softmax(-1), reduction="batchmean"), nn.MultiMarginLoss()(x, idx),
              nn.MultiLabelMarginLoss()(x, labels), nn.TripletMarginLoss()(x, y, y * 2),
              nn.CosineEmbeddingLoss()(x, y, autodiff.tensor([1.0, -1.0, 1.0], device=device)),
              nn.GaussianNLLLoss()(x, y, y.abs() + 0.1), nn.PoissonNLLLoss(full=True)(x, y.abs() * 2),
              nn.MultiLabelSoftMarginLoss()(x, (y > 0).float()), nn.SmoothL1Loss(beta=0.5)(x, y)]
    sum(losses).backward()
    assert x.grad.device == x.device
