"""``autodiff.nn.functional``: PyTorch's functional neural-net API on autodiff ops."""

from __future__ import annotations

import warnings
from typing import Any

from autodiff import dtypes
from autodiff.ops import activation as _act
from autodiff.ops import padding as _padding
from autodiff.ops._prep import checked as _checked
from autodiff.ops.activation import (
    celu,
    elu,
    gelu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    prelu,
    relu6,
    rrelu,
    selu,
    silu,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)
from autodiff.ops.activation import log_softmax_any_dim as log_softmax
from autodiff.ops.activation import softmax_any_dim as softmax
from autodiff.ops.attention import multi_head_attention as _multi_head_attention
from autodiff.ops.attention import scaled_dot_product_attention
from autodiff.ops.composite_loss import (
    cosine_embedding_loss,
    cosine_similarity,
    gaussian_nll_loss,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    pairwise_distance,
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
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
    _check_batch,
    _check_reduction,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    mse_loss,
    nll_loss,
)
from autodiff.ops.normalization import (
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    local_response_norm,
    normalize,
    rms_norm,
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
from autodiff.ops.shape import pad as _constant_pad
from autodiff.ops.unary import sigmoid, tanh
from autodiff.ops.upsampling import interpolate, pixel_shuffle, pixel_unshuffle
from autodiff.tensor import Tensor, _make

__all__ = [
    "linear", "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout",
    "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv2d", "max_pool2d", "avg_pool2d", "pad", "one_hot",
    "elu", "selu", "celu", "silu", "mish", "softplus", "hardtanh", "relu6", "hardsigmoid",
    "hardswish", "logsigmoid", "prelu", "rrelu", "softmin", "softsign", "tanhshrink", "threshold",
    "glu", "hardshrink", "softshrink", "gumbel_softmax", "dropout1d", "dropout2d", "dropout3d",
    "alpha_dropout", "feature_alpha_dropout", "batch_norm", "instance_norm", "layer_norm",
    "group_norm", "rms_norm", "local_response_norm", "normalize", "smooth_l1_loss", "huber_loss",
    "kl_div", "poisson_nll_loss", "gaussian_nll_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
    "multi_margin_loss", "multilabel_margin_loss", "hinge_embedding_loss", "margin_ranking_loss",
    "cosine_similarity", "pairwise_distance", "cosine_embedding_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    # convolution, pooling, sampling, embeddings and attention (nn layers for sequences and images)
    "conv1d", "conv3d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold",
    "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "lp_pool1d", "lp_pool2d", "max_pool3d", "avg_pool3d", "max_unpool1d", "max_unpool2d", "interpolate", "pixel_shuffle", "pixel_unshuffle",
    "embedding", "embedding_bag", "bilinear", "scaled_dot_product_attention",
    "multi_head_attention_forward",
]


# ---- activations with ``inplace=`` (the ops themselves are in autodiff/ops/activation.py) ------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``."""
    return _act._inplace(input, _act.relu) if inplace else _act.relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    if inplace:
        return _act._inplace(input, _act.leaky_relu, negative_slope)
    return _act.leaky_relu(input, negative_slope)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """``softmax((logits + g) / tau)`` with Gumbel(0, 1) noise ``g``; with ``hard`` the result
    is one-hot in value but has the soft sample's gradient (straight-through)."""
    be = logits._be
    u = be.random_uniform(logits._data.shape, logits.dtype.name)
    gumbels = -(-_make(u, be).clamp(min=eps).log()).log()
    y = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y
    d = dim % y.ndim
    hot = one_hot(y.argmax(d), y.shape[d]).to(y.dtype)
    if d != y.ndim - 1:
        hot = hot.permute(*range(d), y.ndim - 1, *range(d, y.ndim - 1))
    return hot - y.detach() + y


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p != p:  # NaN: PyTorch's kernel (not its Python check) refuses it
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    be = input._be
    dt = input.dtype.name
    if p == 1.0:
        scale = be.zeros(input._data.shape, dt)
    else:
        scale = be.div(be.astype(be.ge(be.random_uniform(input._data.shape, dt), p), dt), 1.0 - p)
    return input.mul_(_make(scale, be)) if inplace else input * _make(scale, be)


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, spatial: int | None,
                     op: str, alpha: bool = False) -> Tensor:
    """Dropout of whole channels (``spatial`` = the number of dims after the channel one;
    None: every element) -- with ``alpha``, the SELU-preserving variant of AlphaDropout."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if spatial is not None and input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(
            f"{op}: Expected {spatial + 1}D or {spatial + 2}D input, but received a {input.ndim}D input. "
        )
    if not training or p == 0.0:
        return input
    be = input._be
    dt = input.dtype.name
    shape = input._data.shape
    if spatial is not None:
        shape = shape[:input.ndim - spatial] + (1,) * spatial
    keep = _make(be.astype(be.ge(be.random_uniform(shape, dt), p), dt), be)
    x = input.clone() if inplace else input  # (the ops below save x; the write must not touch it)
    if alpha:
        if p == 1.0:
            out = x * 0
            return input.copy_(out) if inplace else out
        # a * (x * keep + alpha' * (1 - keep)) + b, alpha' = -SELU's scale * alpha (PyTorch's
        # a and b keep the mean and variance of SELU activations)
        neg = 1.7580993408473766
        a = ((neg * neg * p + 1) * (1 - p)) ** -0.5
        out = x * (keep * a) + (keep - 1) * (neg * a) + neg * a * p
    elif p == 1.0:
        out = x * (keep * 0)
    else:
        out = x * (keep / (1 - p))
    return input.copy_(out) if inplace else out


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` input with probability ``p``."""
    return _feature_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` input with probability ``p``; a 3-D input is
    taken as ``(N, C, L)`` (with PyTorch's warning), as PyTorch does for now."""
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d "
            "instead.", UserWarning, stacklevel=2)
        return _feature_dropout(input, p, training, inplace, 1, "dropout2d")
    return _feature_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input with probability ``p``."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout3d")


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps the mean and variance of SELU activations (dropped values become
    SELU's negative saturation, then everything is scaled and shifted back)."""
    return _feature_dropout(input, p, training, inplace, None, "alpha_dropout", alpha=True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """``alpha_dropout`` of whole channels (dim 1 of batched input)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if input.ndim < 2:
        raise RuntimeError("feature_alpha_dropout: Feature dropout requires at least 2 dimensions in the input")
    return _feature_dropout(input, p, training, inplace, input.ndim - 2, "feature_alpha_dropout", alpha=True)


# ---- padding -----------------------------------------------------------------------------------
def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims (``pad = (left, right, top, bottom, ...)``), with
    ``value`` (mode 'constant') or by reflecting, replicating or wrapping the edges."""
    if mode == "constant":
        return _constant_pad(input, pad, mode, value)
    if mode not in _padding.MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pad = tuple(pad)
    k = len(pad) // 2
    if len(pad) % 2 or k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now; "
            f"got a {input.ndim}D input and a padding of length {len(pad)} (mode '{mode}')"
        )
    if value is not None and value != 0:
        raise ValueError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    return _padding.mode_pad(input, pad, mode)


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
    # PyTorch's order: a target of the input's shape holds class probabilities (and must be
    # float); otherwise log_softmax runs first (its dim and dtype errors), then nll_loss's checks.
    probabilities = target._data.shape == input._data.shape
    if probabilities and target.dtype.kind != "f":
        raise RuntimeError(f"Expected floating point type for target with class probabilities, got {target.dtype.word}")
    if input.ndim == 0:
        raise IndexError("Dimension specified as 1 but tensor has no dimensions" if probabilities else
                         "Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    cdim = 1 if input.ndim >= 2 else 0
    n_classes = input.shape[cdim]
    logp = log_softmax(input, cdim)
    _check_batch(input, target)
    wshape = [1] * input.ndim
    wshape[cdim] = n_classes
    if target.dtype.kind == "f":
        if not probabilities:
            raise RuntimeError(
                f"cross_entropy(): class-probability target of shape {list(target.shape)} must have "
                f"the input's shape {list(input.shape)} (class indices must be int64)"
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
    valid = (target != ignore_index).to(input.dtype)
    if weight is None:
        smooth = -logp.sum(cdim) * valid
        total = valid.sum()
    else:  # each class's log-probability weighted; the mean divides by the targets' weights
        smooth = -(logp * weight.reshape(wshape)).sum(cdim) * valid
        total = (weight.index_select(0, (target * (target != ignore_index)).reshape(-1)) * valid.reshape(-1)).sum()
    if reduction == "mean":
        smooth = smooth.sum() / total
    elif reduction == "sum":
        smooth = smooth.sum()
    return loss * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """``(..., num_classes)`` int64 tensor with a 1 at each index."""
    if num_classes.__class__ is not int and (num_classes.__class__ is bool or not hasattr(num_classes, "__index__")):
        raise TypeError(f"one_hot(): argument 'num_classes' (position 2) must be int, not {type(num_classes).__name__}")
    if tensor.dtype.kind != "i":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    be = tensor._be
    num_classes = int(num_classes)
    if tensor.numel():
        if be.any(be.lt(tensor._data, 0)):
            raise RuntimeError("one_hot: Class values must be non-negative.")
        top = int(be.item(be.amax(tensor._data)))
        if num_classes == -1:  # (only -1 means "infer"; any other negative count is too small)
            num_classes = top + 1
        elif top >= num_classes:
            raise RuntimeError(f"one_hot: Class values must be smaller than num_classes ({top} >= {num_classes}).")
    elif num_classes <= 0:
        raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor.")
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


# Bad arguments raise PyTorch's exception classes (autodiff/ops/_prep.py, ``checked``).
for _name in __all__:
    globals()[_name] = _checked(_name, globals()[_name])
del _name
