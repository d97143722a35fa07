"""``autodiff.nn.utils``: helpers around modules, as ``torch.nn.utils`` (``rnn``: packed sequences)."""

from autodiff.nn.utils import rnn

__all__ = ["rnn"]
