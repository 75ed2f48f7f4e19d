"""Test-wide set-up. PyTorch and JAX are the reference oracles and are required: importing
them here makes the whole run fail, never skip, when either is missing. JAX runs in float64,
switched on before any test creates a JAX array."""

import jax
import torch  # noqa: F401 - required, see above

jax.config.update("jax_enable_x64", True)
