"""Attention and transformer layers against PyTorch's, with the same weights (eval mode, so
dropout is off): outputs, attention weights, input and parameter gradients, masks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff
import autodiff.nn as nn
from tests.module_oracle import check_module, layer

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _x(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


KEY_PADDING = np.array([[False, False, True, True], [False, False, False, False], [False, True, False, True]])
CAUSAL = np.triu(np.ones((5, 4), bool), 1)


def _masked(m, q, k, v, kp, am):
    with warnings.catch_warnings():  # PyTorch warns when the two masks' dtypes differ
        warnings.simplefilter("ignore")
        return m(q, k, v, key_padding_mask=kp, attn_mask=am)


@pytest.mark.parametrize("args", [dict(), dict(batch_first=True), dict(kdim=3, vdim=5, bias=False),
                                  dict(add_bias_kv=True, add_zero_attn=True)], ids=str)
def test_multihead_attention_matches_torch(args):
    kd, vd = args.get("kdim", 8), args.get("vdim", 8)
    q, k, v = _x(5, 3, 8), _x(4, 3, kd), _x(4, 3, vd)
    if args.get("batch_first"):
        q, k, v = (a.transpose(1, 0, 2).copy() for a in (q, k, v))
    check_module(layer("MultiheadAttention", 8, 2, **args), [q, k, v])
    check_module(layer("MultiheadAttention", 8, 4, **args), [q, k, v],
                 call=lambda m, q, k, v: m(q, k, v, average_attn_weights=False))


def test_multihead_attention_masks_match_torch():
    qkv = [_x(5, 3, 8), _x(4, 3, 8), _x(4, 3, 8)]
    check_module(layer("MultiheadAttention", 8, 2), qkv + [KEY_PADDING, CAUSAL], call=_masked)
    check_module(layer("MultiheadAttention", 8, 2), qkv + [_x(3, 4), _x(6, 5, 4)], call=_masked)
    check_module(layer("MultiheadAttention", 8, 2, add_bias_kv=True), qkv + [KEY_PADDING, _x(5, 4)],
                 call=lambda m, q, k, v, kp, am: m(q, k, v, key_padding_mask=kp, attn_mask=am, need_weights=False))
    check_module(layer("MultiheadAttention", 8, 2), [_x(5, 8), _x(4, 8), _x(4, 8), KEY_PADDING[0], CAUSAL],
                 call=_masked)


def test_multihead_attention_state_dict_matches_torch():
    for args in (dict(), dict(kdim=3, vdim=5, add_bias_kv=True, bias=False)):
        mine, theirs = nn.MultiheadAttention(8, 2, **args), torch.nn.MultiheadAttention(8, 2, **args)
        assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(8, 3)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        nn.MultiheadAttention(8, 2)(autodiff.randn(2, 8), autodiff.randn(2, 8), autodiff.randn(2, 8), is_causal=True)


@pytest.mark.parametrize("kwargs", [dict(), dict(is_causal=True), dict(scale=0.3), dict(mask="bool"),
                                    dict(mask="float")], ids=str)
def test_scaled_dot_product_attention_matches_torch(kwargs):
    kwargs = dict(kwargs)
    inputs = [_x(2, 3, 5, 4), _x(2, 3, 6, 4), _x(2, 3, 6, 7)]
    mask = kwargs.pop("mask", None)
    if mask == "bool":
        inputs.append(~np.triu(np.ones((5, 6), bool), 2))
    elif mask == "float":
        inputs.append(_x(3, 5, 6))

    def call(m, q, k, v, am=None):
        lib = torch if isinstance(q, torch.Tensor) else autodiff
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=am, **kwargs)
    check_module(lambda lib: lib.nn.Identity(), inputs, call=call)


def test_scaled_dot_product_attention_dropout_and_errors():
    q = autodiff.randn(2, 5, 4)
    out = nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=1.0)
    assert not out.abs().sum().item()
    with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal=True"):
        nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=autodiff.ones(5, 5), is_causal=True)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_layers_match_torch(norm_first, activation):
    args = dict(activation=activation, norm_first=norm_first)
    check_module(layer("TransformerEncoderLayer", 8, 2, 16, **args), [_x(5, 3, 8)])
    check_module(layer("TransformerDecoderLayer", 8, 2, 16, batch_first=True, **args), [_x(3, 5, 8), _x(3, 4, 8)])


def test_transformer_stacks_and_masks_match_torch():
    mask = np.asarray(torch.nn.Transformer.generate_square_subsequent_mask(5))
    with warnings.catch_warnings():  # PyTorch's note on nested tensors
        warnings.simplefilter("ignore")
        check_module(lambda lib: lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16), 2),
                     [_x(5, 3, 8), mask, np.array([[False] * 5, [False] * 3 + [True] * 2, [False] * 4 + [True]])],
                     call=lambda mod, s, mk, kp: mod(s, mask=mk, src_key_padding_mask=kp))
        check_module(lambda lib: lib.nn.Transformer(8, 2, 2, 2, 16, batch_first=True),
                     [_x(3, 5, 8), _x(3, 4, 8), mask[:4, :4]], call=lambda mod, s, t, mk: mod(s, t, tgt_mask=mk))
    mine = np.asarray(nn.Transformer.generate_square_subsequent_mask(5).numpy())
    np.testing.assert_array_equal(mine, mask)


def test_transformer_state_dict_matches_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine, theirs = nn.Transformer(8, 2, 1, 2, 16), torch.nn.Transformer(8, 2, 1, 2, 16)
    assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_multi_head_attention_forward_matches_torch():
    def call(m, q, k, v, kp, am):
        lib = torch if isinstance(q, torch.Tensor) else autodiff
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.nn.functional.multi_head_attention_forward(
                q, k, v, 8, 2, m.in_proj_weight, m.in_proj_bias, m.bias_k, m.bias_v, False, 0.0,
                m.out_proj.weight, m.out_proj.bias, training=False, key_padding_mask=kp, attn_mask=am)
    check_module(layer("MultiheadAttention", 8, 2, add_bias_kv=True),
                 [_x(5, 3, 8), _x(4, 3, 8), _x(4, 3, 8), KEY_PADDING, CAUSAL], call=call)
