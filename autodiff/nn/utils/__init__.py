"""``autodiff.nn.utils``: gradient clipping, parameter/vector conversion and (``rnn``)
packed sequences, as in ``torch.nn.utils``."""

from autodiff.nn.utils import rnn
from autodiff.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from autodiff.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters", "rnn"]
