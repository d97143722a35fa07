"""Programs the distributed tests launch under ``mpiexec`` (not collected by pytest)."""
