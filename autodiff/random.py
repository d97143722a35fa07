"""Random number generators: ``autodiff.Generator`` and ``torch.random``'s functions
(``manual_seed``, ``seed``, ``initial_seed``, ``get_rng_state``, ``set_rng_state``, ``fork_rng``).

A ``Generator`` owns one generator of its device's backend; the random factories and fills
take it as ``generator=``. Without one they draw from the device's default generator
(``autodiff.default_generator`` on the CPU), which ``manual_seed`` reseeds on every device.
The same seed gives the same numbers on the same device and library version.

On the CPU the generator is PyTorch's: a Mersenne Twister (mt19937) seeded with the seed's
low 32 bits, as PyTorch's CPU generator is, and ``randperm``, ``randint`` and ``random_``
draw from its 32-bit words as PyTorch does, so ``manual_seed(0); randperm(10)`` (or a
seeded ``Generator``) gives PyTorch's permutation -- and shuffling ``DataLoader``s and
``DistributedSampler`` give PyTorch's orders. The other distributions (``randn``, ``rand``,
``bernoulli``, ...) are NumPy's algorithms on that stream: repeatable, not PyTorch's values,
and they advance the stream differently, so after one of them the streams part. On CUDA the
generators are CuPy's and nothing matches PyTorch.

States (``get_state``) are opaque uint8 tensors on the CPU; only CPU generators can save
and restore them (CuPy's generators keep their state on the GPU and cannot export it).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import backends
from autodiff import dtypes
from autodiff.device import backend_for, device, device_of
from autodiff.tensor import Tensor, _make

# PyTorch's default seed of a fresh process (``torch.initial_seed()`` before any seeding).
DEFAULT_SEED = 67280421310721


class Generator:
    """A random generator for one device: ``g = Generator().manual_seed(0)``,
    then ``autodiff.randn(3, generator=g)``."""

    def __init__(self, device: Any = "cpu") -> None:  # noqa: A002 - PyTorch's name
        self._be = backend_for(device)
        self._seed = DEFAULT_SEED
        self._own = self._be.new_rng(DEFAULT_SEED)

    @property
    def device(self) -> device:
        return device_of(self._be)

    @property
    def rng(self) -> Any:
        """The backend generator draws come from."""
        return self._own

    def manual_seed(self, seed: int) -> Generator:
        seed = _check_seed(seed)
        self._seed = seed
        self._own = self._be.reseed_rng(self._own, seed)
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; returns the seed."""
        seed = int.from_bytes(os.urandom(8), "little") >> 1
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """The generator's state as a uint8 CPU tensor (for ``set_state``)."""
        try:
            state = self._be.rng_state(self.rng)
        except NotImplementedError as exc:
            raise RuntimeError(f"Generator.get_state(): {exc}") from None
        cpu = backends.get("cpu")
        return _make(cpu.asarray(list(state), "uint8"), cpu)

    def set_state(self, new_state: Tensor) -> Generator:
        if not isinstance(new_state, Tensor) or new_state.dtype is not dtypes.uint8:
            raise TypeError("expected a torch.ByteTensor, but got "
                            f"{new_state.type() if isinstance(new_state, Tensor) else type(new_state).__name__}")
        try:
            rng = self._be.rng_from_state(bytes(new_state.tolist()))
        except NotImplementedError as exc:
            raise RuntimeError(f"Generator.set_state(): {exc}") from None
        except ValueError as exc:
            raise RuntimeError(f"Generator.set_state(): {exc}") from None
        self._set_rng(rng)
        return self

    def _set_rng(self, rng: Any) -> None:
        self._own = rng

    def __repr__(self) -> str:
        return f"<autodiff.Generator object on {self.device}>"


class _DefaultGenerator(Generator):
    """A device's default generator: the backend's own ``rng``, which ``manual_seed`` reseeds."""

    def __init__(self, device: Any = "cpu") -> None:  # noqa: A002
        self._be = backend_for(device)
        self._seed = 0

    @property
    def rng(self) -> Any:
        return self._be.rng

    def manual_seed(self, seed: int) -> Generator:
        seed = _check_seed(seed)
        self._seed = seed
        self._be.seed(seed)
        return self

    def _set_rng(self, rng: Any) -> None:
        self._be.rng = rng


def _check_seed(seed: Any) -> int:
    seed = int(seed)
    if not -(2**63) <= seed < 2**64:
        raise RuntimeError(f"Overflow when unpacking long long: seed {seed}")
    return seed % 2**64


default_generator = _DefaultGenerator("cpu")


def rng_of(generator: Generator | None, be: Any) -> Any:
    """The backend generator a draw on backend ``be`` uses (``None``: the device's own)."""
    if generator is None:
        return None
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a torch.Generator, not {type(generator).__name__}")
    if generator._be.type != be.type:
        raise RuntimeError(
            f"Expected a '{be.type}' device type for generator but found '{generator._be.type}'"
        )
    return generator.rng


def manual_seed(seed: int) -> Generator:
    """Seed the default generator of every device (the CPU's as PyTorch seeds its own);
    returns ``default_generator``."""
    seed = _check_seed(seed)
    backends.seed_all(seed)
    default_generator._seed = seed
    return default_generator


def seed() -> int:
    """Seed every device from the operating system's entropy; returns the seed."""
    s = int.from_bytes(os.urandom(8), "little") >> 1
    manual_seed(s)
    return s


def initial_seed() -> int:
    """The seed of the CPU's default generator."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The CPU default generator's state (a uint8 tensor)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, **_: Any) -> Iterator[None]:
    """Restore the CPU default generator's state on exit (draws inside do not change
    what follows). CUDA generators cannot save their state and are left as they are."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "fork_rng"]
