"""Handing tensors to NumPy, PyTorch and CuPy and back, without copies where memory allows.

Each sharing test writes through one side and reads through the other, both ways. Zero-copy:

| from -> to | how |
| --- | --- |
| CPU tensor -> NumPy | ``np.asarray(t)``, ``t.numpy()``, ``np.from_dlpack(t)`` |
| NumPy -> CPU tensor | ``from_numpy``, ``as_tensor``, ``asarray``, ``autodiff.from_dlpack`` |
| CPU tensor <-> PyTorch | ``torch.from_dlpack(t)``, ``autodiff.from_dlpack(torch_t)``, the capsules of ``utils.dlpack`` |
| CUDA tensor <-> CuPy | ``cupy.from_dlpack(t)``, ``autodiff.from_dlpack(cupy_a)``, ``as_tensor(cupy_a, device="cuda")``, ``__cuda_array_interface__`` |

Copies: ``np.asarray(t, dtype=other)``, ``copy=True``, ``as_tensor(a, dtype=other)``. Refused,
as in PyTorch: a tensor that requires grad (``np.asarray``, ``__dlpack__``), a CUDA tensor
to NumPy (TypeError pointing to ``.cpu()``).
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import autodiff.utils.dlpack
from autodiff.testing.simulated_cuda import simulate_cuda


def _sample(dtype: autodiff.dtype = autodiff.float32) -> autodiff.Tensor:
    return autodiff.arange(6).reshape(2, 3).to(dtype)


# ---- NumPy ---------------------------------------------------------------------------------
def test_np_asarray_shares_memory_both_ways() -> None:
    t = _sample()
    a = np.asarray(t)
    assert isinstance(a, np.ndarray) and a.dtype == np.float32 and a.shape == (2, 3)
    a[0, 0] = 42.0
    assert t[0, 0].item() == 42.0
    t.add_(1)
    assert a[1, 2] == 6.0


def test_np_asarray_with_dtype_or_copy_copies() -> None:
    t = _sample()
    wide = np.asarray(t, dtype=np.float64)
    copied = np.array(t, copy=True)
    assert wide.dtype == np.float64
    wide[0, 0] = copied[0, 1] = 9.0
    assert t.tolist() == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError):
        np.asarray(t, dtype=np.float64, copy=False)
    assert np.shares_memory(np.asarray(t, copy=False), t.numpy())


def test_np_asarray_refuses_what_pytorch_refuses() -> None:
    with pytest.raises(RuntimeError, match="requires grad. Use tensor.detach"):
        np.asarray(autodiff.ones(2, requires_grad=True))
    assert np.asarray(autodiff.ones(2, requires_grad=True).detach()).tolist() == [1, 1]


def test_numpy_operands_give_tensors() -> None:
    t = _sample()
    for out in (np.ones(3, dtype=np.float32) + t, np.float32(2) * t, t - np.ones(3), np.sin(t),
                np.add(np.ones((2, 3)), t)):
        assert isinstance(out, autodiff.Tensor)
    assert (np.ones(3) + t).dtype is autodiff.float64  # as PyTorch: the ndarray's dtype takes part
    assert np.sin(t).flatten().tolist() == pytest.approx(np.sin(np.arange(6.0)).tolist())
    assert (np.float32(2) * t).tolist() == [[0, 2, 4], [6, 8, 10]]


@pytest.mark.parametrize("make", ["from_numpy", "as_tensor", "asarray", "from_dlpack"])
def test_numpy_array_to_tensor_shares_memory(make: str) -> None:
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = getattr(autodiff, make)(a)
    assert t.dtype is autodiff.float32 and t.shape == (2, 3)
    a[1, 1] = -1.0
    assert t[1, 1].item() == -1.0
    t[0, 2] = 7.0
    assert a[0, 2] == 7.0


def test_tensor_numpy_and_np_from_dlpack_share_memory() -> None:
    t = _sample(autodiff.int64)
    n, d = t.numpy(), np.from_dlpack(t)
    n[0, 0] = 5
    assert d[0, 0] == 5 and t[0, 0].item() == 5
    t.mul_(2)
    assert d[1, 2] == 10 and n[1, 2] == 10


def test_as_tensor_copies_for_another_dtype_and_asarray_copy_false_refuses() -> None:
    a = np.zeros(3, dtype=np.float32)
    t = autodiff.as_tensor(a, dtype=autodiff.float64)
    a[0] = 1.0
    assert t.tolist() == [0, 0, 0] and t.dtype is autodiff.float64
    assert autodiff.asarray(a, copy=True).tolist() == [1, 0, 0]
    with pytest.raises(ValueError, match="copy=False"):
        autodiff.asarray(a, dtype=autodiff.float64, copy=False)
    assert autodiff.asarray(a, copy=False).data_ptr() == a.__array_interface__["data"][0]

    class Subclass(np.ndarray):
        pass

    sub = np.ones(2, dtype=np.float32).view(Subclass)  # a subclass keeps its own behaviour: copied
    held = autodiff.as_tensor(sub)
    sub[0] = 3.0
    assert held.tolist() == [1, 1] and type(np.asarray(held)) is np.ndarray


def test_dlpack_of_a_strided_view_and_every_dtype() -> None:
    t = _sample()
    view = np.from_dlpack(t.t())
    assert view.shape == (3, 2) and view[2, 1] == 5.0
    view[0, 1] = 100.0
    assert t[1, 0].item() == 100.0
    for dtype in autodiff.dtypes.BY_NAME.values():
        x = autodiff.ones(2, dtype=dtype)
        back = autodiff.from_dlpack(np.from_dlpack(x))
        assert back.dtype is dtype and back.tolist() == x.tolist()


def test_dlpack_refuses_tensors_that_require_grad() -> None:
    x = autodiff.ones(2, requires_grad=True)
    with pytest.raises(BufferError, match="require gradient, use tensor.detach"):
        x.__dlpack__()
    with pytest.raises(BufferError, match="require gradient"):
        np.from_dlpack(x)
    assert autodiff.from_dlpack(x.detach()).tolist() == [1, 1]


def test_cpu_tensor_has_no_cuda_array_interface() -> None:
    t = _sample()
    assert not hasattr(t, "__cuda_array_interface__")
    with pytest.raises(AttributeError, match="non-CUDA tensor type: torch.FloatTensor"):
        t.__cuda_array_interface__  # noqa: B018
    assert t.__dlpack_device__() == (1, 0)


def test_utils_dlpack_capsules_round_trip() -> None:
    t = _sample()
    back = autodiff.utils.dlpack.from_dlpack(autodiff.utils.dlpack.to_dlpack(t))
    t[0, 0] = 11.0
    assert back[0, 0].item() == 11.0  # NumPy keeps a legacy capsule's memory read-only on its side
    capsule = autodiff.utils.dlpack.to_dlpack(t)
    autodiff.utils.dlpack.from_dlpack(capsule)
    with pytest.raises(BufferError, match="only once"):
        autodiff.utils.dlpack.from_dlpack(capsule)
    with pytest.raises(TypeError, match="__dlpack__"):
        autodiff.from_dlpack([1, 2])


# ---- PyTorch -------------------------------------------------------------------------------
def test_pytorch_from_dlpack_shares_memory_both_ways() -> None:
    torch = pytest.importorskip("torch")
    t = _sample()
    theirs = torch.from_dlpack(t)
    assert theirs.dtype == torch.float32 and theirs.shape == (2, 3)
    theirs[1, 0] = 30.0
    assert t[1, 0].item() == 30.0
    t.sub_(1)
    assert theirs[0, 0].item() == -1.0

    src = torch.arange(4, dtype=torch.int32)
    ours = autodiff.from_dlpack(src)
    assert ours.dtype is autodiff.int32
    ours[3] = 40
    assert src[3].item() == 40
    src[0] = -4
    assert ours[0].item() == -4


def test_pytorch_capsules_both_ways_and_grad_refusals() -> None:
    torch = pytest.importorskip("torch")
    src = torch.zeros(3, dtype=torch.float64)
    ours = autodiff.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(src))
    src[1] = 2.0
    assert ours.tolist() == [0, 2, 0] and ours.dtype is autodiff.float64
    t = autodiff.ones(2, dtype=autodiff.float16)
    theirs = torch.utils.dlpack.from_dlpack(autodiff.utils.dlpack.to_dlpack(t))
    theirs[0] = 3.0
    assert t.tolist() == [3, 1] and theirs.dtype == torch.float16
    with pytest.raises(BufferError, match="require gradient"):
        torch.from_dlpack(autodiff.ones(2, requires_grad=True))
    with pytest.raises(BufferError, match="require gradient"):
        autodiff.from_dlpack(torch.ones(2, requires_grad=True))


# ---- CuPy (a GPU, else the simulated devices) --------------------------------------------------
@pytest.fixture
def cupy():
    """CuPy on a GPU when there is one, else the NumPy-backed stand-in on two devices."""
    if autodiff.cuda.device_count() >= 1:
        import cupy

        yield cupy
        return
    with simulate_cuda(2):
        import cupy

        yield cupy


def _second_gpu(cupy) -> int:
    return 1 if cupy.cuda.runtime.getDeviceCount() >= 2 else 0


def test_cupy_from_dlpack_shares_memory_both_ways(cupy) -> None:
    dev = _second_gpu(cupy)
    t = autodiff.zeros(4, device=f"cuda:{dev}")
    assert t.__dlpack_device__() == (2, dev)
    with cupy.cuda.Device(dev):
        theirs = cupy.from_dlpack(t)
        assert theirs.device.id == dev and theirs.dtype.name == "float32"
        theirs[1] = 5.0
    assert t.tolist() == [0, 5, 0, 0]
    t.add_(1)
    assert cupy.asnumpy(theirs).tolist() == [1, 6, 1, 1]

    with cupy.cuda.Device(dev):
        src = cupy.arange(3, dtype="int64")
    ours = autodiff.from_dlpack(src)
    assert ours.device == autodiff.device("cuda", dev) and ours.dtype is autodiff.int64
    ours[2] = 20
    assert cupy.asnumpy(src).tolist() == [0, 1, 20]


def test_cupy_arrays_become_cuda_tensors_without_a_copy(cupy) -> None:
    src = cupy.ones(3, dtype="float32")
    for t in (autodiff.as_tensor(src, device="cuda"), autodiff.as_tensor(src), autodiff.asarray(src)):
        assert t.device == autodiff.device("cuda", 0)
        assert t.data_ptr() == src.data.ptr
    t = autodiff.as_tensor(src, device="cuda")
    src[0] = 7.0
    assert t[0].item() == 7.0
    t.mul_(2)
    assert cupy.asnumpy(src).tolist() == [14, 2, 2]
    moved = autodiff.as_tensor(src, device="cpu")  # another device: a copy
    copied = autodiff.tensor(src)  # torch.tensor copies, on the array's GPU
    src[1] = 0.0
    assert moved.tolist() == [14, 2, 2] and moved.device.type == "cpu"
    assert copied.tolist() == [14, 2, 2] and copied.device == autodiff.device("cuda", 0)


def test_cuda_array_interface_describes_the_tensor_memory(cupy) -> None:
    t = autodiff.arange(6, device="cuda").reshape(2, 3).float()
    cai = t.__cuda_array_interface__
    assert cai["shape"] == (2, 3) and cai["typestr"] == "<f4" and cai["version"] == 3
    assert cai["data"] == (t.data_ptr(), False)
    with pytest.raises(RuntimeError, match="requires grad"):
        autodiff.ones(2, device="cuda", requires_grad=True).__cuda_array_interface__  # noqa: B018


def test_cuda_tensors_are_refused_by_numpy(cupy) -> None:
    t = autodiff.ones(2, device="cuda")
    with pytest.raises(TypeError, match=r"Use Tensor.cpu\(\) to copy the tensor to host memory first"):
        np.asarray(t)
    with pytest.raises((BufferError, RuntimeError, ValueError)):
        np.from_dlpack(t)
    assert np.asarray(t.cpu()).tolist() == [1, 1]
