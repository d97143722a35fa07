"""``autodiff.optim``: optimizers with PyTorch's names, defaults and update rules."""

from autodiff.optim.adam import Adam, AdamW
from autodiff.optim.optimizer import Optimizer
from autodiff.optim.sgd import SGD
