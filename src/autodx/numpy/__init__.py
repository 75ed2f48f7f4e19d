"""`ad.numpy`: NumPy-compatible functions that work on arrays, Tensors and tracers.

The functions are declared where they are implemented (primitives in `prims/`, composites in
this package's modules) and registered in `registry.py`; this namespace is read off that
table, so every declared op is here, dispatched from plain NumPy, and documented in the
generated support table. Constants and dtypes are NumPy's own.
"""

from __future__ import annotations

import numpy as _np

from .. import prims as _prims  # noqa: F401 - declares the primitives' public wrappers
from ..registry import DISPATCH as _DISPATCH
from ..registry import export as _export
from ..registry import namespace as _namespace
from ..registry import reexport as _reexport
from . import (  # noqa: F401 - they register their ops
    _calculus,
    _creation,
    _dispatch,
    _polynomials,
    _products,
    _reductions,
    _shapes,
    _statistics,
)
from ._unsupported import UNSUPPORTED as _UNSUPPORTED

_reexport("numpy", _np, """
    pi e inf nan newaxis euler_gamma
    float16 float32 float64 complex64 complex128 int8 int16 int32 int64 uint8 bool_ intp
    dtype ndarray generic number integer floating complexfloating finfo iinfo
    bartlett blackman hamming hanning kaiser diag_indices tril_indices triu_indices
""")


def _numpy_spellings() -> None:
    """NumPy's other names for a supported function (np.acos is np.arccos, np.pow is
    np.power) become names of ad.numpy too, so `import autodx.numpy as np` takes them."""
    space = _namespace("numpy")
    for name, obj in list(vars(_np).items()):  # not dir(): that would import np.f2py & co.
        try:
            fn = _DISPATCH.get(obj)
        except TypeError:  # unhashable
            continue
        if fn is not None and not name.startswith("_") and name not in space:
            _export(fn, name=name, numpy=None)


_numpy_spellings()
globals().update(_namespace("numpy"))
__all__ = sorted(_namespace("numpy")) + ["fft", "linalg"]


def __getattr__(name: str):
    status = _UNSUPPORTED.get(f"np.{name}")
    if status is None:
        raise AttributeError(f"module 'autodx.numpy' has no attribute {name!r}")
    raise AttributeError(f"ad.numpy.{name} is not available: {status[0]} ({status[1]})")


from . import fft, linalg  # noqa: E402 - after the namespace: they read it
