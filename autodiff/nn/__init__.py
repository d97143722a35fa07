"""``autodiff.nn``: modules, parameters, losses and the functional API, as in ``torch.nn``."""

from autodiff.nn import functional, init
from autodiff.nn.activation import (
    GELU,
    AvgPool2d,
    Dropout,
    Flatten,
    LeakyReLU,
    LogSoftmax,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from autodiff.nn.container import ModuleList, Sequential
from autodiff.nn.conv import Conv2d
from autodiff.nn.linear import Identity, Linear
from autodiff.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from autodiff.nn.module import Module
from autodiff.nn.parameter import Parameter
