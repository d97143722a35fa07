"""``Tensor``: a backend array plus the autograd fields (``requires_grad``, ``grad``, ``grad_fn``).

The class holds state and the small attribute API. It is the bottom of the library: the
math lives in ``autodiff.ops`` and the graph in ``autodiff.autograd``, both above it, and
``autodiff/tensor_methods.py`` attaches what needs them (operators and op methods, the
``Tensor(data)`` constructor, ``backward``, hooks).
"""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any

from autodiff import dtypes
from autodiff._formatting import format_tensor, options
from autodiff.device import backend_for, device_of

_object_new = object.__new__

NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information."
)
LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."


class Size(tuple):
    """A tensor's shape: a tuple that prints as ``torch.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)


class Tensor:
    """An n-dimensional array on a device, recording operations for autograd.

    ``_data`` is the backend's array and ``_be`` the backend; ``_version`` is a
    one-element list shared with views and ``detach()``-ed aliases, bumped by every
    in-place op. ``_base`` is the tensor a view was taken from.
    """

    __slots__ = (
        "_data", "_be", "_requires_grad", "_grad", "grad_fn", "_output_nr",
        "_version", "_base", "_accumulator", "_retains_grad", "__weakref__",
        # Set only on views (with _base): how to replay the view from its base, and the
        # base's grad_fn the view's own grad_fn was derived from (see autograd/record.py and ops/inplace.py).
        "_view_fn",
        # Set only on a tensor with a forward-mode tangent, inside a dual level (see
        # autograd/forward_ad.py; read with getattr, so no other tensor pays for it).
        "_fw_grad",
    )
    # NumPy arrays and scalars defer to Tensor's reflected operators.
    __array_priority__ = 1000

    # ---- metadata -------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        shape = self._data.shape
        if dim is None:
            return Size(shape)
        return shape[wrap_dim(dim, len(shape))]

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.BY_NAME[self._be.dtype_name(self._data)]

    @property
    def device(self) -> Any:
        return device_of(self._be)

    @property
    def is_cuda(self) -> bool:
        return self._be.type == "cuda"

    @property
    def ndim(self) -> int:
        return len(self._data.shape)

    def dim(self) -> int:
        return len(self._data.shape)

    def numel(self) -> int:
        return math.prod(self._data.shape)

    nelement = numel

    def element_size(self) -> int:
        return self.dtype.itemsize

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def __len__(self) -> int:
        shape = self._data.shape
        if not shape:
            raise TypeError("len() of a 0-d tensor")
        return shape[0]

    # ---- autograd fields ------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if value and not self.dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def _is_view(self) -> bool:
        """Whether this tensor is a view of another (``_base``), as PyTorch's private method,
        which graph tools (torchviz) call."""
        return self._base is not None

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def _version_value(self) -> int:
        return self._version[0]

    @property
    def data(self) -> Tensor:
        """The same storage outside the graph; in-place changes through it are not tracked."""
        return _make(self._data, self._be)

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data
        self._be = value._be

    def detach(self) -> Tensor:
        """A tensor sharing storage (and the version counter) that is outside the graph."""
        t = _make(self._data, self._be)
        t._version = self._version
        return t

    def __deepcopy__(self, memo: dict) -> Tensor:
        """``copy.deepcopy``: a new leaf with a copy of the data, the same ``requires_grad``
        and a copy of ``.grad``. Within one deepcopy, tensors keep sharing what they shared:
        a view is rebuilt on the copy of its base, and aliases of one array get one copy."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                "because of a torch.nn.utils.weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001"
            )
        if self._base is not None and self._base.grad_fn is None:
            root = copy.deepcopy(self._base, memo)
            new = root.detach() if root._requires_grad else root
            for fn, args in self._view_fn[0]:
                new = fn(new, *args)
        else:
            data = memo.get(id(self._data))
            if data is None:
                data = memo[id(self._data)] = self._be.copy(self._data)
                memo.setdefault(id(memo), []).append(self._data)  # (its id stays taken until the end)
            new = _make(data, self._be, cls=type(self))
        new._requires_grad = self._requires_grad
        if self._grad is not None:
            new._grad = copy.deepcopy(self._grad, memo)
        memo[id(self)] = new  # (before the attributes, which may refer back to it)
        if hasattr(self, "__dict__"):  # a user's subclass
            for name, value in self.__dict__.items():
                setattr(new, name, copy.deepcopy(value, memo))
        return new

    def __reduce_ex__(self, protocol: Any) -> Any:
        """Pickling: the data (as a host array), device and ``requires_grad``; unpickled,
        it is a new leaf on the same device (PyTorch's rule)."""
        return (_rebuilt, (type(self), self._be.to_host(self._data), str(self.device), self._requires_grad))

    def detach_(self) -> Tensor:
        if self._base is not None:  # any view, as in PyTorch (its base stays as it is)
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view "
                "is set as True, gradients are views of DDP buckets, and hence detach_() "
                "cannot be called on these gradients. To fix this error, please refer to "
                "the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."
            )
        self.grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (leaves, and non-leaves after ``retain_grad()``)."""
        if self.grad_fn is not None and not self._retains_grad:
            warnings.warn(NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the "
                    "tensor are the same size"
                )
            if value._be is not self._be:
                raise RuntimeError(
                    f"attempting to assign a gradient with device type '{value.device.type}' to "
                    f"a tensor with device type '{self.device.type}'. Please ensure that the "
                    "gradient and the tensor are on the same device"
                )
            if value.dtype is not self.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor whose ``.grad`` is kept (``retain_grad()`` was called)."""
        return self._retains_grad and self.grad_fn is not None

    # ---- host conversion ------------------------------------------------------
    def numpy(self, *, force: bool = False) -> Any:
        if self._be.type != "cpu":
            if not force:
                raise TypeError(
                    f"can't convert {self.device} device type tensor to numpy. "
                    "Use Tensor.cpu() to copy the tensor to host memory first."
                )
            return self._be.to_host(self._data)
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        return self._be.to_host(self._data)

    # ---- interchange: NumPy's array protocol, DLPack, the CUDA array interface ----------
    # NumPy and the other libraries see the tensor's own memory (no copy); as in PyTorch,
    # a tensor that requires grad is not handed out (its data would escape the graph), and
    # writes made through the other library are not seen by autograd's version counter.
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> Any:
        """``np.asarray(t)``: the CPU tensor's memory as an ndarray (a copy if ``copy`` or
        another ``dtype`` is asked for)."""
        if self._be.type != "cpu":
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. "
                "Use Tensor.cpu() to copy the tensor to host memory first."
            )
        if self._requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        return self._be.host_array(self._data, dtype, copy)

    def __array_wrap__(self, array: Any, context: Any = None, return_scalar: bool = False) -> Any:
        """A NumPy ufunc's result on tensors comes back as a tensor (``np.sin(t)``), as in
        PyTorch; a dtype tensors cannot hold stays an ndarray."""
        data = self._be.wrap_host_result(array)
        return array if data is None else _make(data, self._be)

    def __dlpack__(self, *, stream: Any = None, max_version: tuple[int, int] | None = None,
                   dl_device: Any = None, copy: bool | None = None) -> Any:
        """A DLPack capsule of the tensor's memory (``np.from_dlpack(t)``,
        ``torch.from_dlpack(t)``, ``cupy.from_dlpack(t)`` share it without a copy)."""
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self._be.to_dlpack(self._data, stream, max_version, dl_device, copy)

    def __dlpack_device__(self) -> tuple[int, int]:
        """DLPack's ``(device_type, index)``: ``(1, 0)`` on the CPU, ``(2, i)`` on ``cuda:i``."""
        return self._be.dlpack_device(self._data)

    @property
    def __cuda_array_interface__(self) -> dict:
        """CuPy's and Numba's view of a CUDA tensor's memory (absent on CPU tensors)."""
        if self._be.type != "cuda":
            raise AttributeError(
                f"Can't get __cuda_array_interface__ on non-CUDA tensor type: {self.type()} "
                "If CUDA data is required use tensor.cuda() to copy tensor to device memory."
            )
        if self._requires_grad:
            raise RuntimeError(
                "Can't get __cuda_array_interface__ on Variable that requires grad. If gradients "
                "aren't required, use var.detach() to get Variable that doesn't require grad."
            )
        return self._be.cuda_array_interface(self._data)

    def item(self) -> Any:
        n = math.prod(self._data.shape)
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        return self._be.item(self._data)

    def tolist(self) -> Any:
        return self._be.tolist(self._data)

    def __float__(self) -> float:
        if self._requires_grad and not _warned_float_of_grad[0]:
            # PyTorch warns once per process (float() only: not item(), int() or bool()).
            _warned_float_of_grad[0] = True
            warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                          "behavior.\nConsider using tensor.detach() first.", UserWarning, stacklevel=2)
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind == "f":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __hash__(self) -> int:
        return id(self)

    def __iter__(self) -> Any:
        if not self._data.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __format__(self, spec: str) -> str:
        """As PyTorch: a 0-d tensor formats as its number (``f"{t:.2f}"``, and ``f"{t}"`` is
        ``0.5``); any other tensor takes only the empty spec, giving ``str(t)``."""
        if self.dim() == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    # ---- printing -------------------------------------------------------------
    def __repr__(self) -> str:
        be = self._be
        shape = tuple(self._data.shape)
        dt = self.dtype
        suffixes = []
        if be.type != "cpu":
            suffixes.append(f"device='{self.device}'")
        numel = math.prod(shape)
        if numel == 0:
            if dt is not dtypes.get_default_dtype():
                suffixes.append(f"dtype={dt!r}")
        elif dt not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool):
            suffixes.append(f"dtype={dt!r}")
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        data = self._data
        summarized = numel > options.threshold
        if summarized:
            data = _summary(be, data)
        return format_tensor(be.tolist(data), shape, dt.kind, suffixes, summarized)

    __str__ = __repr__


def _summary(be: Any, data: Any) -> Any:
    """Keep the first and last ``edgeitems`` entries of every long dimension (for printing)."""
    edge = options.edgeitems
    for axis, n in enumerate(data.shape):
        if n > 2 * edge:
            head = (slice(None),) * axis + (slice(0, edge),)
            tail = (slice(None),) * axis + (slice(n - edge, n),)
            data = be.concatenate([be.getitem(data, head), be.getitem(data, tail)], axis)
    return data


def _make(data: Any, be: Any, grad_fn: Any = None, cls: type = Tensor) -> Tensor:
    """The internal constructor, and the one place a tensor's fields are set: wrap a
    backend array (and the node that produced it) as a ``cls`` (a Tensor subclass)."""
    if data.__class__ is not be._array_type:
        # NumPy's operators return scalars for 0-d operands; one class check here is
        # cheaper than a wrapper frame around every backend op.
        data = be.as_array(data)
    t = _object_new(cls)
    t._data = data
    t._be = be
    t._requires_grad = grad_fn is not None
    t._grad = None
    t.grad_fn = grad_fn
    t._output_nr = 0
    t._version = [0]
    t._base = None
    t._accumulator = None
    t._retains_grad = False
    return t


_warned_float_of_grad = [False]  # Tensor.__float__'s one warning per process


def _rebuilt(cls: type, host: Any, device: str, requires_grad: bool) -> Tensor:
    """A pickled tensor, unpickled (``Tensor.__reduce_ex__``)."""
    be = backend_for(device)
    t = _make(be.from_host(host), be, cls=cls)
    t._requires_grad = requires_grad
    return t


def as_view(out: Tensor, base: Tensor, fn: Any, args: tuple) -> Tensor:
    """Make ``out`` a view of ``base``: share its version counter and remember how to
    replay it (``fn(base, *args)``) from the root base, for in-place ops on views."""
    out._version = base._version
    root = base._base
    if root is None:
        out._base = base
        out._view_fn = (((fn, args),), base.grad_fn)
    else:
        out._base = root
        out._view_fn = (base._view_fn[0] + ((fn, args),), root.grad_fn)
    return out


def wrap_dim(dim: int, ndim: int) -> int:
    """Normalize a possibly negative dim, with PyTorch's IndexError when out of range."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim + n if dim < 0 else dim
