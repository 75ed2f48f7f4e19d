"""`ad.numpy.linalg`: NumPy's linear algebra, differentiable, on stacked matrices too."""

from __future__ import annotations

from .. import prims as _prims  # noqa: F401 - declares the primitives
from ..registry import namespace as _namespace

globals().update(_namespace("numpy.linalg"))
__all__ = sorted(_namespace("numpy.linalg"))
