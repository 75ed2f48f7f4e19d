"""`ad.nn`: activations and friends, with JAX's `jax.nn` and PyTorch's `torch.nn.functional`
names; composites of ad.numpy (stable at +-1000 and in float32), registered in namespace "nn".
"""

from __future__ import annotations

from .registry import namespace as _namespace

__all__ = sorted(_namespace("nn"))
