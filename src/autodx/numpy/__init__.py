"""`ad.numpy`: NumPy-compatible functions that work on arrays, Tensors and tracers.

The functions are declared where they are implemented (primitives in `prims/`, composites in
this package's modules) and registered in `registry.py`; this namespace is read off that
table, so every declared op is here, dispatched from plain NumPy, and documented in the
generated support table. Constants and dtypes are NumPy's own.
"""

from __future__ import annotations

import numpy as _np

from .. import prims as _prims  # noqa: F401 - declares the primitives' public wrappers
from ..registry import namespace as _namespace
from ..registry import reexport as _reexport
from . import _dispatch, _products, _reductions, _shapes  # noqa: F401 - they register ops

_reexport("numpy", _np, """
    pi e inf nan newaxis euler_gamma
    float16 float32 float64 complex64 complex128 int8 int16 int32 int64 uint8 bool_ intp
    dtype ndarray generic number integer floating complexfloating finfo iinfo
""")

globals().update(_namespace("numpy"))
__all__ = sorted(_namespace("numpy")) + ["fft", "linalg"]

from . import fft, linalg  # noqa: E402 - after the namespace: they read it
