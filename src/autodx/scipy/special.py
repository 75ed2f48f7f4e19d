"""`ad.scipy.special`: the special functions NumPy can compute stably (logsumexp, expit, ...),
registered in namespace "scipy.special"."""

from __future__ import annotations

from ..registry import namespace as _namespace

__all__ = sorted(_namespace("scipy.special"))
