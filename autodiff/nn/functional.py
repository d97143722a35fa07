"""``autodiff.nn.functional``: PyTorch's functional neural-net API on autodiff ops."""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.ops.activation import gelu, leaky_relu, log_softmax, relu, softmax
from autodiff.ops.attention import multi_head_attention as _multi_head_attention
from autodiff.ops.attention import scaled_dot_product_attention
from autodiff.ops.conv import (
    avg_pool2d,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    fold,
    max_pool2d,
    unfold,
)
from autodiff.ops.embedding import embedding, embedding_bag
from autodiff.ops.linalg import linear
from autodiff.ops.loss import (
    _check_reduction,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    mse_loss,
    nll_loss,
)
from autodiff.ops.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool3d,
    lp_pool1d,
    lp_pool2d,
    max_pool1d,
    max_pool3d,
    max_unpool1d,
    max_unpool2d,
)
from autodiff.ops.shape import pad
from autodiff.ops.unary import sigmoid, tanh
from autodiff.ops.upsampling import interpolate, pixel_shuffle, pixel_unshuffle
from autodiff.tensor import Tensor, _make

__all__ = [
    "linear", "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout",
    "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv2d", "max_pool2d", "avg_pool2d", "pad", "one_hot",
    # convolution, pooling, sampling, embeddings and attention (nn layers for sequences and images)
    "conv1d", "conv3d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold",
    "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "lp_pool1d", "lp_pool2d", "max_pool3d", "avg_pool3d", "max_unpool1d", "max_unpool2d", "interpolate", "pixel_shuffle", "pixel_unshuffle",
    "embedding", "embedding_bag", "bilinear", "scaled_dot_product_attention",
    "multi_head_attention_forward",
]


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    be = input._be
    dt = input.dtype.name
    if p == 1.0:
        return input * _make(be.zeros(input._data.shape, dt), be)
    keep = be.ge(be.random_uniform(input._data.shape, dt), p)
    scale = be.div(be.astype(keep, dt), 1.0 - p)
    return input * _make(scale, be)


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean") -> Tensor:
    _check_reduction(reduction)
    el = (input - target).abs()
    return el if reduction == "none" else (el.mean() if reduction == "mean" else el.sum())


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """``log_softmax`` over the class dim (1, or 0 for unbatched input) then ``nll_loss``;
    ``target`` holds class indices (integer) or class probabilities (float, same shape)."""
    _check_reduction(reduction)
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError("cross_entropy(): input and target must be Tensors")
    if input.ndim == 0:
        raise RuntimeError("cross_entropy(): input must have at least 1 dimension (the classes)")
    cdim = 1 if input.ndim >= 2 else 0
    n_classes = input.shape[cdim]
    logp = log_softmax(input, cdim)
    wshape = [1] * input.ndim
    wshape[cdim] = n_classes
    if target.dtype.kind == "f":
        if target.shape != input.shape:
            raise RuntimeError(
                f"cross_entropy(): class-probability target of shape {list(target.shape)} must have "
                f"the input's shape {list(input.shape)}"
            )
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        prod = logp * target
        if weight is not None:
            prod = prod * weight.reshape(wshape)
        el = -prod.sum(cdim)
        if reduction == "none":
            return el
        return el.sum() / (input.shape[0] if input.ndim >= 2 else 1) if reduction == "mean" else el.sum()
    loss = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0:
        return loss
    if weight is not None:
        raise NotImplementedError("cross_entropy: label_smoothing together with weight is not supported")
    valid = (target != ignore_index).to(input.dtype)
    smooth = -logp.sum(cdim) * valid
    if reduction == "mean":
        smooth = smooth.sum() / valid.sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    return loss * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """``(..., num_classes)`` int64 tensor with a 1 at each index."""
    if tensor.dtype.kind != "i":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    be = tensor._be
    if num_classes < 0:
        num_classes = int(be.item(be.amax(tensor._data))) + 1 if tensor.numel() else 0
    classes = be.arange(0, num_classes, 1, "int64")
    data = be.astype(be.eq(be.reshape(tensor._data, tensor._data.shape + (1,)), classes), dtypes.int64.name)
    return _make(data, be)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]``."""
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D (out, in1, in2), but got {list(weight.shape)}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} "
                           f"and {list(input2.shape[:-1])}")
    if input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input sizes {input1.shape[-1]} and {input2.shape[-1]} do not match "
                           f"the weight's {list(weight.shape)}")
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    # (B, I) @ (O, I, J) -> (O, B, J); times x2 summed over J -> (O, B)
    out = (x1.matmul(weight) * x2).sum(-1).t()
    if bias is not None:
        out = out + bias
    return out.reshape(*lead, weight.shape[0])


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int,
                                 num_heads: int, in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
                                 bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool,
                                 dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
                                 training: bool = True, key_padding_mask: Tensor | None = None,
                                 need_weights: bool = True, attn_mask: Tensor | None = None,
                                 use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
                                 k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
                                 static_k: Tensor | None = None, static_v: Tensor | None = None,
                                 average_attn_weights: bool = True, is_causal: bool = False) -> tuple:
    """``nn.MultiheadAttention``'s computation on ``(L, N, E)`` (or unbatched ``(L, E)``) inputs."""
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k/static_v are not supported")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint.")
    if query.shape[-1] != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got "
                             f"{query.shape[-1]}")
    if embed_dim_to_check % num_heads:
        raise AssertionError(f"embed_dim {embed_dim_to_check} not divisible by num_heads {num_heads}")
    unbatched = query.ndim == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    if use_separate_proj_weight:
        q_w, k_w, v_w = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        q_w, k_w, v_w = in_proj_weight.chunk(3, 0)
    biases = in_proj_bias.chunk(3, 0) if in_proj_bias is not None else (None, None, None)
    out, weights = _multi_head_attention(
        query, key, value, num_heads, q_w, k_w, v_w, *biases, out_proj_weight, out_proj_bias, bias_k, bias_v,
        add_zero_attn, dropout_p if training else 0.0, key_padding_mask, need_weights, attn_mask,
        average_attn_weights)
    if unbatched:
        out = out.squeeze(1)
        weights = weights.squeeze(0) if weights is not None else None
    return out, weights
