"""The differentiable ops. Each forward runs on the backend; each backward is written in
Tensor ops, so gradients of gradients come for free."""
