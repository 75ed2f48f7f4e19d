"""Op-table rows for the fft part of the NumPy surface (see op_spec.py)."""

from __future__ import annotations

from op_spec import OpSpec

OPS: list[OpSpec] = []
