"""``autodiff.nn``: modules, parameters, losses and the functional API, as in ``torch.nn``."""

from autodiff.nn import functional, init, utils
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
from autodiff.nn.attention import MultiheadAttention
from autodiff.nn.container import ModuleList, Sequential
from autodiff.nn.conv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    LazyConv1d,
    LazyConv2d,
)
from autodiff.nn.linear import Bilinear, Identity, LazyLinear, Linear
from autodiff.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from autodiff.nn.module import Module
from autodiff.nn.parameter import Parameter, UninitializedParameter
from autodiff.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool3d,
    Fold,
    LPPool1d,
    LPPool2d,
    MaxPool1d,
    MaxPool3d,
    MaxUnpool1d,
    MaxUnpool2d,
    Unfold,
)
from autodiff.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from autodiff.nn.sparse import Embedding, EmbeddingBag
from autodiff.nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from autodiff.nn.upsampling import (
    PixelShuffle,
    PixelUnshuffle,
    Upsample,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)
