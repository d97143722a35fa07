"""Hand-written op tests, one file per op group of ``autodiff/ops/`` (the gradients of
every op are checked from its row in autodiff/testing/op_specs.py)."""
