"""``autodiff.optim``: optimizers with PyTorch's names, defaults and update rules, and
``autodiff.optim.lr_scheduler``."""

from autodiff.optim import lr_scheduler
from autodiff.optim.adam import Adam, AdamW
from autodiff.optim.adam_variants import Adamax, NAdam, RAdam
from autodiff.optim.adaptive import Adadelta, Adagrad, RMSprop
from autodiff.optim.asgd import ASGD
from autodiff.optim.lbfgs import LBFGS
from autodiff.optim.optimizer import Optimizer
from autodiff.optim.rprop import Rprop
from autodiff.optim.sgd import SGD

__all__ = ["ASGD", "LBFGS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "Rprop", "lr_scheduler"]
