"""Reductions: sum, mean, ... with NumPy's `axis` (int, tuple, None, negative) and `keepdims`.

Their array methods take PyTorch's `dim=`/`keepdim=` spellings too (`reduce_method`)."""

from __future__ import annotations

import math

from .. import prims
from ..core import shape_of
from ..registry import export
from ._axes import axes


def reduce_method(fn):
    """A method spelling of a reduction: NumPy's (axis, keepdims) or PyTorch's (dim, keepdim)."""
    def method(self, axis=None, *args, dim=None, keepdim=None, **kwargs):
        if keepdim is not None:
            kwargs["keepdims"] = keepdim
        return fn(self, axis if dim is None else dim, *args, **kwargs)
    method.__name__ = fn.__name__
    return method


def reduction(fn):
    """Register a reduction as `ad.numpy.NAME`, NumPy's dispatch and the method `x.NAME(...)`."""
    return export(fn, method={fn.__name__: reduce_method(fn)})


def no_out(out, name: str) -> None:
    if out is not None:
        raise TypeError(f"{name}(..., out=...) is not supported: autodx never writes into an "
                        f"existing array. Use the returned value: y = np.{name}(x, ...).")


def _cast(x, dtype):
    return x if dtype is None else prims.convert(x, dtype)


@reduction
def sum(x, axis=None, dtype=None, out=None, keepdims: bool = False):  # noqa: A001
    """Sum over `axis` (all axes by default)."""
    no_out(out, "sum")
    ax = axes(axis, len(shape_of(x)))
    return _cast(prims.sum(x, ax, bool(keepdims)) if ax else x, dtype)


@reduction
def mean(x, axis=None, dtype=None, out=None, keepdims: bool = False):
    """Arithmetic mean over `axis`."""
    no_out(out, "mean")
    shape = shape_of(x)
    count = math.prod([shape[a] for a in axes(axis, len(shape))])
    return _cast(prims.div(sum(x, axis, keepdims=keepdims), count), dtype)
