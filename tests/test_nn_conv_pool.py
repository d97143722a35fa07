"""Convolution, pooling, resizing and embedding layers against PyTorch's, with the same
weights: outputs, input gradients and parameter gradients across constructor arguments."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import autodiff
import autodiff.nn as nn
from tests.module_oracle import check_module, layer

pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _x(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


CONV2D_ARGS = [
    dict(stride=1, padding=0),
    dict(stride=2, padding=1),
    dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
    dict(stride=3, padding=2, dilation=2, groups=2),
    dict(padding="same", dilation=2),
    dict(padding="same", bias=False),
    dict(padding="valid", groups=2),
    dict(padding=1, padding_mode="reflect"),
    dict(padding=(2, 1), padding_mode="replicate", stride=2),
    dict(padding=2, padding_mode="circular", groups=2),
    dict(padding="same", padding_mode="reflect"),
]


@pytest.mark.parametrize("args", CONV2D_ARGS, ids=str)
def test_conv2d_module_matches_torch(args):
    check_module(lambda m: m.nn.Conv2d(4, 6, 3, **args), [_x(2, 4, 7, 8)])


@pytest.mark.parametrize("args", CONV2D_ARGS, ids=str)
def test_conv1d_module_matches_torch(args):
    args = {k: (v[0] if isinstance(v, tuple) else v) for k, v in args.items()}
    check_module(lambda m: m.nn.Conv1d(4, 6, 3, **args), [_x(2, 4, 9)])


@pytest.mark.parametrize("args", CONV2D_ARGS, ids=str)
def test_conv3d_module_matches_torch(args):
    args = {k: (v + (1,) if isinstance(v, tuple) else v) for k, v in args.items()}
    check_module(layer("Conv3d", 4, 6, (3, 2, 3), **args), [_x(2, 4, 6, 5, 6)])


def test_conv_modules_take_unbatched_input_and_even_same_kernels():
    check_module(lambda m: m.nn.Conv2d(2, 3, (2, 4), padding="same"), [_x(2, 5, 6)])
    check_module(lambda m: m.nn.Conv1d(2, 3, 4, padding="same", dilation=3), [_x(2, 12)])


TRANSPOSE_ARGS = [
    dict(),
    dict(stride=2),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=3, padding=2, dilation=2, groups=2, output_padding=2),
    dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 2), bias=False),
]


@pytest.mark.parametrize("args", TRANSPOSE_ARGS, ids=str)
def test_conv_transpose_modules_match_torch(args):
    check_module(lambda m: m.nn.ConvTranspose2d(4, 6, 3, **args), [_x(2, 4, 4, 5)])
    args1 = {k: (v[0] if isinstance(v, tuple) else v) for k, v in args.items()}
    check_module(lambda m: m.nn.ConvTranspose1d(4, 6, 3, **args1), [_x(2, 4, 5)])


def test_conv_transpose_output_size():
    check_module(lambda m: m.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), [_x(1, 2, 4, 4)],
                 call=lambda mod, x: mod(x, output_size=[8, 8]))
    with pytest.raises(ValueError, match="output size"):
        nn.ConvTranspose2d(2, 3, 3, stride=2)(autodiff.randn(1, 2, 4, 4), output_size=[20, 20])


def test_conv_constructor_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv1d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")


def test_conv_state_dict_and_repr_match_torch():
    import torch
    for name, args in [("Conv1d", (3, 4, 2)), ("Conv2d", (3, 4, 2)), ("ConvTranspose1d", (3, 4, 2)),
                       ("ConvTranspose2d", (3, 4, 2))]:
        kwargs = dict(stride=2, padding=1, groups=1, bias=False)
        mine, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
        assert repr(mine) == repr(theirs)
        assert {k: tuple(v.shape) for k, v in mine.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


def test_lazy_layers_materialize_at_the_first_forward():
    import torch
    for name, x in [("LazyLinear", (2, 5)), ("LazyConv1d", (2, 3, 6)), ("LazyConv2d", (2, 3, 6, 6))]:
        args = (4,) if name == "LazyLinear" else (4, 3)
        mine, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        w = mine.weight
        assert isinstance(w, nn.UninitializedParameter)
        out = mine(autodiff.randn(*x))
        theirs(torch.randn(*x))
        assert type(mine).__name__ == type(theirs).__name__
        assert mine.weight is w and type(w) is nn.Parameter
        assert tuple(out.shape) == tuple(theirs(torch.randn(*x)).shape)
        assert repr(mine) == repr(theirs)


def test_bilinear_matches_torch():
    check_module(lambda m: m.nn.Bilinear(3, 4, 5), [_x(2, 6, 3), _x(2, 6, 4)])
    check_module(lambda m: m.nn.Bilinear(3, 4, 5, bias=False), [_x(6, 3), _x(6, 4)])


POOL2D_ARGS = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=2, stride=3, ceil_mode=True),
]


@pytest.mark.parametrize("args", POOL2D_ARGS, ids=str)
def test_pool2d_modules_match_torch(args):
    for dilation in (1, 2):
        check_module(layer("MaxPool2d", dilation=dilation, **args), [_x(2, 3, 8, 7)])
    check_module(lambda m: m.nn.MaxPool2d(return_indices=True, **args), [_x(2, 3, 8, 7)])
    for count_include_pad in (True, False):
        check_module(layer("AvgPool2d", count_include_pad=count_include_pad, **args), [_x(2, 3, 8, 7)])
    check_module(lambda m: m.nn.AvgPool2d(divisor_override=5, **args), [_x(3, 8, 7)])


@pytest.mark.parametrize("args", POOL2D_ARGS, ids=str)
def test_pool1d_modules_match_torch(args):
    args = {k: (v[0] if isinstance(v, tuple) else v) for k, v in args.items()}
    check_module(lambda m: m.nn.MaxPool1d(dilation=2, **args), [_x(2, 3, 9)])
    check_module(lambda m: m.nn.MaxPool1d(return_indices=True, **args), [_x(3, 9)])
    for count_include_pad in (True, False):
        check_module(layer("AvgPool1d", count_include_pad=count_include_pad, **args), [_x(2, 3, 9)])


@pytest.mark.parametrize("args", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                  dict(kernel_size=(3, 2, 2), stride=(1, 2, 1), padding=(1, 0, 1))], ids=str)
def test_pool3d_modules_match_torch(args):
    check_module(layer("MaxPool3d", **args), [_x(2, 3, 5, 6, 4)])
    check_module(layer("MaxPool3d", dilation=(1, 2, 1), **args), [_x(3, 5, 6, 5)])
    check_module(layer("AvgPool3d", **args), [_x(2, 3, 5, 6, 4)])
    check_module(layer("AvgPool3d", divisor_override=3, **args), [_x(3, 5, 6, 4)])


@pytest.mark.parametrize("size", [1, 2, 3, 5, (2, 4), (None, 3)], ids=str)
def test_adaptive_pools_match_torch(size):
    check_module(lambda m: m.nn.AdaptiveAvgPool2d(size), [_x(2, 3, 7, 5)])
    check_module(lambda m: m.nn.AdaptiveMaxPool2d(size, return_indices=True), [_x(2, 3, 7, 5)])
    check_module(lambda m: m.nn.AdaptiveMaxPool2d(size), [_x(3, 4, 6)])
    if isinstance(size, int):
        check_module(lambda m: m.nn.AdaptiveAvgPool1d(size), [_x(2, 3, 7)])
        check_module(lambda m: m.nn.AdaptiveMaxPool1d(size, return_indices=True), [_x(2, 3, 7)])


def test_lp_pools_match_torch():
    positive = np.abs(_x(2, 3, 7, 6)) + 0.1
    for p, k, s, ceil in itertools.product((1, 2, 3.5), (2, 3), (None, 1), (False, True)):
        check_module(layer("LPPool2d", p, k, s, ceil), [positive])
        check_module(layer("LPPool1d", p, k, s, ceil), [positive[0]])


@pytest.mark.parametrize("args", [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=2, padding=1, stride=2)],
                         ids=str)
def test_fold_unfold_match_torch(args):
    import torch
    check_module(lambda m: m.nn.Unfold(**args), [_x(2, 3, 7, 8)])
    cols = torch.nn.Unfold(**args)(torch.zeros(2, 3, 7, 8)).shape
    check_module(lambda m: m.nn.Fold((7, 8), **args), [_x(*cols)])


def test_resizing_layers_match_torch():
    check_module(lambda m: m.nn.PixelShuffle(2), [_x(2, 12, 3, 4)])
    check_module(lambda m: m.nn.PixelUnshuffle(2), [_x(2, 3, 4, 6)])
    for mode, align in [("nearest", None), ("bilinear", False), ("bilinear", True), ("nearest-exact", None)]:
        check_module(layer("Upsample", scale_factor=2, mode=mode, align_corners=align), [_x(2, 3, 4, 5)])
        check_module(layer("Upsample", size=(7, 3), mode=mode, align_corners=align), [_x(2, 3, 4, 5)])
    check_module(lambda m: m.nn.Upsample(scale_factor=1.7, mode="linear"), [_x(2, 3, 5)])
    check_module(lambda m: m.nn.UpsamplingNearest2d(scale_factor=3), [_x(1, 2, 3, 3)])
    check_module(lambda m: m.nn.UpsamplingBilinear2d(size=(5, 7)), [_x(1, 2, 3, 3)])


@pytest.mark.parametrize("padding_idx", [None, 0, -2])
def test_embedding_matches_torch(padding_idx):
    idx = np.array([[1, 0, 4], [4, 4, 3]])
    check_module(lambda m: m.nn.Embedding(5, 3, padding_idx=padding_idx), [idx])
    check_module(lambda m: m.nn.Embedding(5, 3, max_norm=0.5), [idx])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_torch(mode):
    idx = np.array([1, 0, 4, 4, 2, 3, 1])
    offsets = np.array([0, 2, 2, 5])
    check_module(lambda m: m.nn.EmbeddingBag(5, 3, mode=mode), [idx, offsets])
    check_module(lambda m: m.nn.EmbeddingBag(5, 3, mode=mode, padding_idx=4), [idx.reshape(1, 7)])
    check_module(lambda m: m.nn.EmbeddingBag(5, 3, mode=mode, include_last_offset=True),
                 [idx, np.array([0, 2, 2, 7])])
    if mode == "sum":
        check_module(lambda m: m.nn.EmbeddingBag(5, 3, mode=mode), [idx, offsets, _x(7)])


def test_embedding_from_pretrained_and_errors():
    import torch
    w = autodiff.randn(4, 2)
    frozen = nn.Embedding.from_pretrained(w)
    assert not frozen.weight.requires_grad
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    assert repr(nn.Embedding(5, 3, padding_idx=1)) == repr(torch.nn.Embedding(5, 3, padding_idx=1))
    assert not nn.Embedding(5, 3, padding_idx=1).weight[1].abs().sum().item()
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 3, padding_idx=5)
    with pytest.raises(RuntimeError, match="indices"):
        nn.Embedding(5, 3)(autodiff.randn(2))
    with pytest.raises(IndexError):
        nn.Embedding(5, 3)(autodiff.tensor([5]))


def test_layers_run_on_every_device(device):
    x = autodiff.randn(2, 4, 6, 6, device=device, requires_grad=True)
    layers = [nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect"), nn.ConvTranspose2d(4, 2, 2, stride=2),
              nn.MaxPool2d(2, return_indices=False, ceil_mode=True), nn.AdaptiveAvgPool2d(3),
              nn.AdaptiveMaxPool2d(2), nn.Upsample(scale_factor=2, mode="bilinear")]
    for module in layers:
        y = module.to(device)(x)
        y.sum().backward()
        assert y.device == x.device and x.grad.device == x.device
    e = nn.EmbeddingBag(5, 3, mode="max").to(device)
    out = e(autodiff.tensor([[1, 2], [3, 3]], device=device))
    out.sum().backward()
    assert e.weight.grad.device == out.device


def test_max_unpool_inverts_max_pool_like_torch():
    def call(m, x):
        lib = torch_module() if not isinstance(x, autodiff.Tensor) else autodiff
        values, idx = lib.nn.functional.max_pool2d(x, 2, 2, return_indices=True)
        return m(values, idx, output_size=x.shape[-2:])
    check_module(layer("MaxUnpool2d", 2, 2), [_x(2, 3, 5, 4)], call=call)

    def call1(m, x):
        lib = torch_module() if not isinstance(x, autodiff.Tensor) else autodiff
        values, idx = lib.nn.functional.max_pool1d(x, 3, 2, 1, return_indices=True)
        return m(values, idx)
    check_module(layer("MaxUnpool1d", 3, 2, 1), [_x(2, 3, 7)], call=call1)
    with pytest.raises(RuntimeError, match="invalid max index"):
        nn.functional.max_unpool2d(autodiff.ones(1, 1, 1, 1), autodiff.tensor([[[[9]]]]), 2)


def torch_module():
    import torch
    return torch


@pytest.mark.parametrize("padding_mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_negative_padding_with_a_padding_mode_names_the_module(nd: int, padding_mode: str) -> None:
    """The padding modes pad in forward: a negative padding is refused there, naming the module."""
    cls = getattr(nn, f"Conv{nd}d")
    conv = cls(1, 1, 3, padding=-1, padding_mode=padding_mode)
    with pytest.raises(RuntimeError, match=rf"^Conv{nd}d: negative padding is not supported$"):
        conv(autodiff.zeros((1, 1) + (5,) * nd))
