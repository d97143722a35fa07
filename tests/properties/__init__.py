"""Property tests over whole families of ops, modules and modes: gradients, version counters,
optimizer steps and round trips that a single example would not pin down."""
