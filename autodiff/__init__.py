"""autodiff: PyTorch's autograd API on NumPy (CPU) and CuPy (CUDA).

``import autodiff as torch`` and the classic autograd tutorials run unchanged.
"""

from autodiff import autograd, cuda
from autodiff._formatting import set_printoptions
from autodiff.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from autodiff.device import device, get_default_device, set_default_device
from autodiff.dtypes import (
    bool,
    can_cast,
    double,
    dtype,
    finfo,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
)
from autodiff.ops import OP_MODULES as _OP_MODULES
from autodiff.ops._prep import checked as _checked
from autodiff.ops._prep import placed as _placed
from autodiff.tensor import Size, Tensor
from autodiff.tensor_methods import attach as _attach

_attach()

# The ops: every name in an ops file's FUNCTIONS table (autodiff/ops/*.py, at the end),
# raising PyTorch's exception classes for bad arguments (ops/_prep.py, ``checked``).
for _module in _OP_MODULES:
    for _name in _module.FUNCTIONS:
        globals()[_name] = _placed(_checked(_name, getattr(_module, _name)), __name__, _name)
del _module, _name

divide, multiply, subtract, true_divide = div, mul, sub, div  # noqa: F821 (set just above)
__version__ = "0.1.0"


def is_tensor(obj: object) -> "builtins.bool":  # noqa: F821
    """True when ``obj`` is an autodiff Tensor."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> "builtins.int":  # noqa: F821
    return input.numel()


from autodiff import accelerator, distributed, func, linalg, nn, optim, profiler, viz  # noqa: E402,I001
from autodiff.compiled_step import compile  # noqa: E402
from autodiff import compiled_cuda_graph  # noqa: E402,F401 - registers compile's CUDA-graph mode
from autodiff.func import vmap  # noqa: E402 (torch.vmap is torch.func.vmap)
from autodiff.serialization import load, save
from autodiff.utils import dlpack as _dlpack  # noqa: E402 - autodiff.utils.dlpack, as torch.utils.dlpack
from autodiff.utils.dlpack import from_dlpack  # noqa: E402
# ``torch.multiprocessing`` and ``torch.utils.data``: tensors that cross processes, DataLoader.
from autodiff import multiprocessing  # noqa: E402
import autodiff.utils.data  # noqa: E402

# Random generators and the legacy tensor types (autodiff/random.py, autodiff/legacy.py).
from autodiff import random  # noqa: E402
from autodiff.random import Generator, default_generator  # noqa: E402
from autodiff.legacy import (  # noqa: E402
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    is_storage,
    set_default_tensor_type,
)
