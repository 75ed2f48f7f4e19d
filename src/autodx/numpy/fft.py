"""`ad.numpy.fft`: NumPy's discrete Fourier transforms, differentiable."""

from __future__ import annotations

from .. import prims as _prims  # noqa: F401 - declares the primitives
from ..registry import namespace as _namespace

globals().update(_namespace("numpy.fft"))
__all__ = sorted(_namespace("numpy.fft"))
