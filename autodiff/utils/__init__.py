"""``autodiff.utils``: helpers that are not ops (as ``torch.utils``)."""
