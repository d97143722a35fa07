"""``autodiff.autograd``: the engine, grad modes, custom Functions and gradient APIs."""

from autodiff.autograd import forward_ad, functional, graph, profiler
from autodiff.autograd.anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from autodiff.autograd.api import backward, grad
from autodiff.autograd.function import Function, FunctionCtx, once_differentiable
from autodiff.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from autodiff.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from autodiff.autograd.node import Node
from autodiff.autograd.variable import Variable

__all__ = [
    "backward", "grad", "Function", "FunctionCtx", "once_differentiable", "Node",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "inference_mode", "is_inference_mode_enabled", "functional", "forward_ad", "graph", "profiler",
    "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
    "gradcheck", "gradgradcheck", "GradcheckError", "Variable",
]
