"""``autodiff.utils.data``: datasets, samplers and ``DataLoader``, as ``torch.utils.data``
(``from autodiff.utils.data import DataLoader, TensorDataset``)."""

from autodiff.utils.data.collate import default_collate, default_convert
from autodiff.utils.data.dataloader import DataLoader
from autodiff.utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from autodiff.utils.data.distributed import DistributedSampler
from autodiff.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from autodiff.utils.data.worker import WorkerInfo, get_worker_info

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "WorkerInfo", "default_collate", "default_convert",
           "get_worker_info", "random_split"]
