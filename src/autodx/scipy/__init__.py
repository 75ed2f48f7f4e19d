"""`ad.scipy`: the parts of SciPy's API autodx differentiates (SciPy itself is not needed)."""

from . import special

__all__ = ["special"]
