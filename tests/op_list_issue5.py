"""Every op exported by issue 5 (for the verification issue's op-spec table)."""

AUTODIFF_OPS = [
    "rsqrt", "expm1", "log1p", "log2", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "erf",
    "floor", "ceil", "round", "maximum", "minimum", "lerp",
    "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std", "logsumexp", "norm",
    "cumsum",
    "flip", "split", "chunk",
    "gather", "scatter_add", "index_select", "masked_fill",
    "bmm", "outer", "ger", "einsum",
    "softmax", "log_softmax",
]

TENSOR_METHODS = AUTODIFF_OPS[:] + ["repeat"]
TENSOR_METHODS.remove("einsum")

FUNCTIONAL_OPS = [
    "linear", "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout",
    "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv2d", "max_pool2d", "avg_pool2d", "pad", "one_hot",
]
