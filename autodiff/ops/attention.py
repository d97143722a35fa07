"""Attention: ``scaled_dot_product_attention`` (softmax(Q K^T * scale + mask) V) and the
mask conventions of ``nn.MultiheadAttention``, composed of matmul, softmax and where."""

from __future__ import annotations

import math

from autodiff import dtypes
from autodiff.ops.activation import softmax
from autodiff.ops.comparison import where
from autodiff.ops.creation import arange, ones
from autodiff.ops.linalg import linear
from autodiff.ops.shape import cat, pad
from autodiff.tensor import Tensor, _make


def _dropout(x: Tensor, p: float) -> Tensor:
    """Attention dropout: zero each weight with probability ``p``, scale the rest by 1/(1-p)
    (``nn.functional.dropout``'s rule; ops cannot import nn)."""
    be, dt = x._be, x.dtype.name
    if p >= 1.0:
        return x * _make(be.zeros(x._data.shape, dt), be)
    keep = be.ge(be.random_uniform(x._data.shape, dt), p)
    return x * _make(be.div(be.astype(keep, dt), 1.0 - p), be)


def _tril(n_queries: int, n_keys: int, like: Tensor) -> Tensor:
    rows = arange(n_queries, device=like.device).reshape(n_queries, 1)
    cols = arange(n_keys, device=like.device).reshape(1, n_keys)
    return cols <= rows


def additive_mask(mask: Tensor | None, like: Tensor, allowed_if_true: bool) -> Tensor | None:
    """A float mask to add to attention scores: a float ``mask`` as it is; a bool one as 0
    where attending is allowed and -inf elsewhere (``allowed_if_true`` says what True means:
    allowed for ``scaled_dot_product_attention``, masked out for ``MultiheadAttention``)."""
    if mask is None:
        return None
    if mask.dtype is dtypes.bool:
        allowed = mask if allowed_if_true else mask.logical_not()
        zero = ones((), dtype=like.dtype, device=like.device) * 0.0
        return where(allowed, zero, float("-inf"))
    if mask.dtype.kind != "f":
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {mask.dtype} and query.dtype: {like.dtype} instead.")
    return mask.to(like.dtype)


def attention_weights(query: Tensor, key: Tensor, mask: Tensor | None, scale: float) -> Tensor:
    """``softmax(query @ key^T * scale + mask)`` over the keys (``mask`` additive)."""
    scores = (query * scale).matmul(key.transpose(-2, -1))
    if mask is not None:
        scores = scores + mask
    return softmax(scores, -1)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(Q K^T * scale + mask) V`` over ``(..., L, E)`` queries and ``(..., S, E)``
    keys; a bool ``attn_mask`` is True where attending is allowed, a float one is added."""
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must be at least 2-D")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: shapes do not fit: query {list(query.shape)}, "
                           f"key {list(key.shape)}, value {list(value.shape)}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                           "is_causal=True")
    n_q, n_k = query.shape[-2], key.shape[-2]
    mask = _tril(n_q, n_k, query) if is_causal else attn_mask
    weights = attention_weights(query, key, additive_mask(mask, query, True),
                                1.0 / math.sqrt(query.shape[-1]) if scale is None else scale)
    if dropout_p > 0.0:
        weights = _dropout(weights, dropout_p)
    return weights.matmul(value)


def multi_head_attention(query: Tensor, key: Tensor, value: Tensor, num_heads: int, q_w: Tensor, k_w: Tensor,
                         v_w: Tensor, q_b: Tensor | None, k_b: Tensor | None, v_b: Tensor | None,
                         out_w: Tensor, out_b: Tensor | None, bias_k: Tensor | None = None,
                         bias_v: Tensor | None = None, add_zero_attn: bool = False, dropout_p: float = 0.0,
                         key_padding_mask: Tensor | None = None, need_weights: bool = True,
                         attn_mask: Tensor | None = None, average_attn_weights: bool = True) -> tuple:
    """The computation of ``nn.MultiheadAttention`` on ``(L, N, E)`` query and ``(S, N, *)``
    key/value (sequence first): project, split into heads, attend, merge, project out.
    Masks follow MultiheadAttention: a bool True marks a key that must NOT be attended."""

    n_q, batch, embed = query.shape
    head = embed // num_heads
    q, k, v = linear(query, q_w, q_b), linear(key, k_w, k_b), linear(value, v_w, v_b)
    amask = additive_mask(attn_mask, q, False)
    kmask = additive_mask(key_padding_mask, q, False)
    if amask is not None and amask.ndim == 2:
        amask = amask.unsqueeze(0)  # (1, L, S) for every batch * head
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.expand(1, batch, embed)], 0)
        v = cat([v, bias_v.expand(1, batch, embed)], 0)
        amask = pad(amask, (0, 1)) if amask is not None else None
        kmask = pad(kmask, (0, 1)) if kmask is not None else None
    # (L, N, E) -> (N * H, L, head)
    q = q.reshape(n_q, batch * num_heads, head).transpose(0, 1)
    k = k.reshape(k.shape[0], batch * num_heads, head).transpose(0, 1)
    v = v.reshape(v.shape[0], batch * num_heads, head).transpose(0, 1)
    if add_zero_attn:
        k = cat([k, k[:, :1] * 0.0], 1)
        v = cat([v, v[:, :1] * 0.0], 1)
        amask = pad(amask, (0, 1)) if amask is not None else None
        kmask = pad(kmask, (0, 1)) if kmask is not None else None
    n_k = k.shape[1]
    mask = amask
    if kmask is not None:
        # (N, S) -> (N * H, 1, S): the same keys are padding for every head of a sample
        kmask = kmask.reshape(batch, 1, 1, n_k).expand(batch, num_heads, 1, n_k).reshape(batch * num_heads, 1, n_k)
        mask = kmask if mask is None else mask + kmask
    weights = attention_weights(q, k, mask, 1.0 / math.sqrt(head))
    if dropout_p > 0.0:
        weights = _dropout(weights, dropout_p)
    out = weights.matmul(v)  # (N * H, L, head)
    out = out.transpose(0, 1).reshape(n_q * batch, embed)
    out = linear(out, out_w, out_b).reshape(n_q, batch, embed)
    if not need_weights:
        return out, None
    weights = weights.reshape(batch, num_heads, n_q, n_k)
    return out, (weights.mean(1) if average_attn_weights else weights)


# ---- the public API of this file (functions of autodiff.nn.functional only)
FUNCTIONS = ()
METHODS: dict = {}
