"""Op-table rows for the rest of NumPy: statistics, polynomials, calculus (see op_spec.py)."""

from __future__ import annotations

from op_spec import OpSpec

OPS: list[OpSpec] = []
