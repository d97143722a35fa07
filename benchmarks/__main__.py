"""``python -m benchmarks [workloads] [--threads N] [--device cuda] [--write-docs]``."""

from benchmarks.run import main

main()
