"""Benchmarks: autodiff against a hand-written NumPy floor and PyTorch (``python -m benchmarks``).

Kept import-free so that ``benchmarks.run`` can pin BLAS threads before NumPy loads.
"""
