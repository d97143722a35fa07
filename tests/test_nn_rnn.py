"""Recurrent layers and packed sequences against PyTorch's, with the same weights: outputs,
final states, input/state gradients and every parameter's gradient."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import autodiff.nn as nn
from tests.module_oracle import check_module, layer

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _x(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


CONFIGS = [
    dict(),
    dict(num_layers=2),
    dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(bias=False, num_layers=3),
]


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_recurrent_layers_match_torch(kind, config):
    x = _x(2, 5, 3) if config.get("batch_first") else _x(5, 2, 3)
    check_module(layer(kind, 3, 4, **config), [x])
    dirs = 2 if config.get("bidirectional") else 1
    h0 = _x(config.get("num_layers", 1) * dirs, 2, 4)
    if kind == "LSTM":
        c0 = _x(*h0.shape)
        check_module(layer(kind, 3, 4, **config), [x, h0, c0], call=lambda m, x, h, c: m(x, (h, c)))
    else:
        check_module(layer(kind, 3, 4, **config), [x, h0])


def test_rnn_relu_unbatched_and_lstm_projection_match_torch():
    check_module(layer("RNN", 3, 4, nonlinearity="relu", num_layers=2), [_x(5, 3)])
    check_module(layer("RNN", 3, 4, bidirectional=True), [_x(5, 3), _x(2, 4)])
    check_module(layer("LSTM", 3, 5, proj_size=2, num_layers=2, bidirectional=True), [_x(4, 2, 3)])
    check_module(layer("LSTM", 3, 5, proj_size=2), [_x(4, 3), _x(1, 2), _x(1, 5)],
                 call=lambda m, x, h, c: m(x, (h, c)))


def test_dropout_between_layers_only_in_training():
    model = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = autodiff.randn(5, 2, 3)
    model.eval()
    a, b = model(x)[0], model(x)[0]
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    model.train()
    autodiff.manual_seed(0)
    c = model(x)[0]
    autodiff.manual_seed(1)
    d = model(x)[0]
    assert not np.array_equal(c.detach().numpy(), d.detach().numpy())


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(kind):
    check_module(layer(kind, 3, 4), [_x(2, 3)])
    check_module(layer(kind, 3, 4, bias=False), [_x(3)])
    if kind == "LSTMCell":
        check_module(layer(kind, 3, 4), [_x(2, 3), _x(2, 4), _x(2, 4)], call=lambda m, x, h, c: m(x, (h, c)))
    else:
        check_module(layer(kind, 3, 4), [_x(2, 3), _x(2, 4)])


def test_state_dicts_and_reprs_match_torch():
    for kind, kwargs in [("RNN", dict(nonlinearity="relu", num_layers=2)), ("GRU", dict(bidirectional=True)),
                         ("LSTM", dict(proj_size=2, num_layers=2, bidirectional=True, batch_first=True,
                                       dropout=0.1)),
                         ("LSTMCell", {}), ("GRUCell", dict(bias=False)), ("RNNCell", {})]:
        mine, theirs = getattr(nn, kind)(3, 4, **kwargs), getattr(torch.nn, kind)(3, 4, **kwargs)
        assert repr(mine) == repr(theirs)
        assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]


def _pack_call(enforce_sorted, lengths):
    def call(m, x, h=None):
        lib = torch if isinstance(x, torch.Tensor) else autodiff
        packed = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
        out, state = m(packed, h) if h is not None else m(packed)
        padded, lens = lib.nn.utils.rnn.pad_packed_sequence(out, total_length=x.shape[0])
        return padded, lens, out.data, state
    return call


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_packed_sequences_match_torch(kind):
    sorted_call = _pack_call(True, [5, 3, 3, 1])
    check_module(layer(kind, 3, 4, bidirectional=True, num_layers=2), [_x(5, 4, 3)], call=sorted_call)
    unsorted = _pack_call(False, [2, 5, 1, 3])
    check_module(layer(kind, 3, 4, bidirectional=True), [_x(5, 4, 3)], call=unsorted)
    if kind != "LSTM":
        check_module(layer(kind, 3, 4), [_x(5, 4, 3), _x(1, 4, 4)], call=unsorted)


def test_packing_utilities_match_torch():
    seqs = [_x(4, 2), _x(2, 2), _x(3, 2)]
    for lib_fn in ("pad_sequence",):
        for kwargs in (dict(), dict(batch_first=True, padding_value=-1.0), dict(padding_side="left")):
            mine = getattr(nn.utils.rnn, lib_fn)([autodiff.tensor(s) for s in seqs], **kwargs)
            theirs = getattr(torch.nn.utils.rnn, lib_fn)([torch.tensor(s) for s in seqs], **kwargs)
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    mine = nn.utils.rnn.pack_sequence([autodiff.tensor(s) for s in seqs], enforce_sorted=False)
    theirs = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    back = nn.utils.rnn.unpack_sequence(mine)
    for a, s in zip(back, seqs):
        np.testing.assert_array_equal(a.numpy(), s)
    padded, lengths = nn.utils.rnn.pad_packed_sequence(mine, batch_first=True)
    tpadded, tlengths = torch.nn.utils.rnn.pad_packed_sequence(theirs, batch_first=True)
    np.testing.assert_array_equal(padded.numpy(), tpadded.numpy())
    np.testing.assert_array_equal(lengths.numpy(), tlengths.numpy())
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        nn.utils.rnn.pack_sequence([autodiff.tensor(s) for s in seqs])


def test_recurrent_layer_errors():
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size"):
        nn.GRU(3, 4)(autodiff.randn(5, 2, 2))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        nn.RNN(3, 4)(autodiff.randn(5, 2, 3), autodiff.randn(2, 2, 4))
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


def test_lstm_runs_on_every_device(device):
    model = nn.LSTM(3, 4, bidirectional=True).to(device)
    x = autodiff.randn(5, 2, 3, device=device)
    packed = nn.utils.rnn.pack_padded_sequence(x, [5, 2], enforce_sorted=True)
    out, (h, c) = model(packed)
    (out.data.sum() + h.sum() + c.sum()).backward()
    assert model.weight_ih_l0.grad.device == x.device


def test_char_rnn_example_matches_torch():
    """A few training steps of examples/char_rnn.py's model in both libraries, same weights."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
    try:
        import char_rnn
    finally:
        sys.path.pop(0)
    from tests.module_oracle import copy_weights

    text = char_rnn.zen_of_python()
    vocab = sorted(set(text))
    data = np.array([vocab.index(c) for c in text[:200]], dtype=np.int64)
    models = {lib: char_rnn.make_model(lib, len(vocab), embed=8, hidden=16).double() for lib in (autodiff, torch)}
    copy_weights(models[autodiff], models[torch])
    losses: dict = {autodiff: [], torch: []}
    for lib, model in models.items():
        opt = lib.optim.Adam(model.parameters(), lr=1e-2)
        rng = np.random.default_rng(0)
        for _ in range(3):
            chunk = np.stack([data[s:s + 9] for s in rng.integers(0, 190, size=4)])
            logits, _ = model(lib.tensor(chunk[:, :-1]))
            loss = lib.nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), lib.tensor(chunk[:, 1:]).reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses[lib].append(loss.item())
    np.testing.assert_allclose(losses[autodiff], losses[torch], rtol=1e-9)
