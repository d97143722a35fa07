"""The CuPy stand-in behaves as CuPy does where CuPy differs from NumPy (what the CUDA tests
rely on to mean something without a GPU)."""

from __future__ import annotations

import numpy as np
import pytest

from autodiff.testing.simulated_cuda import simulate_cuda


@pytest.fixture
def cp():
    with simulate_cuda(2):
        import cupy

        yield cupy


def test_no_implicit_conversion_to_numpy(cp):
    a = cp.arange(3.0)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(a)
    with pytest.raises(TypeError):
        memoryview(a)
    with pytest.raises(TypeError, match="iteration over a 0-d array"):
        iter(cp.sum(a))
    assert isinstance(a.get(), np.ndarray) and cp.asnumpy(a).tolist() == [0.0, 1.0, 2.0]
    assert float(cp.sum(a)) == 3.0  # one element: synchronized and copied, as CuPy does


def test_zero_dim_results_stay_arrays(cp):
    a = cp.ones((2, 2))
    assert isinstance(cp.sum(a), cp.ndarray) and cp.sum(a).shape == ()
    assert isinstance(a[0, 0], cp.ndarray)


def test_arrays_belong_to_a_device(cp):
    a = cp.ones(2)
    with cp.cuda.Device(1):
        b = cp.ones(2)
        assert b.device.id == 1 and cp.cuda.runtime.getDevice() == 1
        with pytest.raises(ValueError, match=r"resides \(0\) is different from the current device \(1\)"):
            a + 1
        assert (b + b).device.id == 1
        assert a.reshape(2, 1).device.id == 0  # a view launches no kernel
    assert cp.cuda.runtime.getDevice() == 0
    cp.cuda.Device(1).use()
    assert cp.cuda.runtime.getDevice() == 1
    cp.cuda.Device(0).use()


def test_generator_belongs_to_its_device(cp):
    rng = cp.random.default_rng(0)
    rng.standard_normal(2)
    with cp.cuda.Device(1), pytest.raises(ValueError, match="allocated in a different device"):
        rng.standard_normal(2)


def test_cupy_specific_kernels(cp):
    import cupyx
    import cupyx.scipy.special

    a = cp.zeros(3, dtype="int8")
    with pytest.raises(TypeError, match="does not support int8"):
        cupyx.scatter_add(a, cp.asarray([0, 0]), cp.ones(2, dtype="int8"))
    f = cp.zeros(3, dtype="float32")
    cupyx.scatter_add(f, cp.asarray([0, 0, 2]), cp.ones(3, dtype="float32"))
    assert f.tolist() == [2.0, 0.0, 1.0]
    assert cupyx.scipy.special.erf(cp.ones(2, dtype="float16")).dtype == np.float32
    assert cp.arange(3.0)[cp.asarray([3])].tolist() == [0.0]  # integer indices wrap around
    d = cp.zeros(3)
    d[cp.asarray([0, 2, 0])] = cp.asarray([1.0, 2.0, 3.0])
    assert d.tolist() == [1.0, 0.0, 2.0]  # duplicates: not NumPy's last write (here the first)
    assert cp.var(cp.ones(2), ddof=2).tolist() != cp.var(cp.ones(2), ddof=2).tolist()  # nan


def test_without_devices_cupy_reports_no_gpu():
    from backends import simulated_cuda

    if simulated_cuda.is_installed():
        pytest.skip("the stand-in is on for the whole run (AUTODIFF_SIMULATE_CUDA)")
    with pytest.raises(simulated_cuda.CUDARuntimeError):
        simulated_cuda.getDeviceCount()


def test_nested_simulation_gives_back_the_outer_devices():
    """A ``simulate_cuda(1)`` inside ``simulate_cuda(2)`` (a test inside a two-device run)
    leaves two devices behind it, not one."""
    import autodiff

    with simulate_cuda(2):
        with simulate_cuda(1):
            assert autodiff.cuda.device_count() == 1
        assert autodiff.cuda.device_count() == 2
        assert autodiff.ones(2, device="cuda:1").device.index == 1
