"""``autodiff.nn.parallel``: data-parallel training over processes (``torch.nn.parallel``)."""

from autodiff.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
