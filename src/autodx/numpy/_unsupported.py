"""The one documented list of NumPy callables autodx deliberately does not differentiate,
each with a one-line reason (the completeness test and the support table read it)."""

from __future__ import annotations

UNSUPPORTED: dict[str, str] = {
}
