"""Array creation inside differentiated code: asarray/array (which stack lists of traced
values), full and the *_like functions, arange, linspace/logspace/geomspace, copy.

Creation from shapes alone gives NumPy constants (np.zeros, np.eye, ... are re-exported as
they are); a traced fill value, start, stop or step makes the result traced, so it carries
the derivative. NOTE: np.asarray(t) and np.array(t) are not dispatchable in NumPy (they call
`__array__`), so on a traced value they stay an error; `ad.numpy.asarray` is the spelling that
works.
"""

from __future__ import annotations

import operator

import numpy as np

from .. import prims
from ..core import BatchingError, Tracer, concrete, dtype_of, shape_of
from ..prims import index as _index
from ..prims import shape as _shape
from ..registry import export, reexport
from ._shapes import broadcast_to, moveaxis, reshape

reexport("numpy", np, "zeros ones eye identity tri")


def _traced(obj) -> bool:
    """Whether obj is a traced value or a (nested) list or tuple holding one."""
    if isinstance(obj, Tracer):
        return True
    return isinstance(obj, (list, tuple)) and any(_traced(o) for o in obj)


def _stacked(obj):
    """A (nested) list or tuple of traced values and numbers as one array, as np.array."""
    if not isinstance(obj, (list, tuple)):
        return obj
    items = [_stacked(o) for o in obj]
    shapes = {shape_of(i) for i in items}
    if len(shapes) > 1:
        raise ValueError(f"setting an array element with a sequence: the elements have "
                         f"different shapes {sorted(shapes)} (an inhomogeneous list)")
    return prims.stack(items, 0)


def _traced_array(obj, dtype):
    x = _stacked(obj)
    return x if dtype is None else prims.convert(x, dtype)


@export
def asarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    """`a` as an array: Tensors and traced values pass through unchanged, lists holding them
    are stacked (so `ad.numpy.asarray([x, 2 * x])` is differentiable), the rest is NumPy's."""
    if _traced(a):
        return _traced_array(a, dtype)
    return np.asarray(a, dtype, order, device=device, copy=copy, like=like)


@export
def asanyarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    """As `asarray` (autodx has no array subclasses to keep)."""
    return asarray(a, dtype, order, device=device, copy=copy, like=like)


@export
def ascontiguousarray(a, dtype=None, *, like=None):
    """As `asarray` for traced values (their memory layout is NumPy's business)."""
    if _traced(a):
        return _traced_array(a, dtype)
    return np.ascontiguousarray(a, dtype, like=like)


@export
def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, ndmax=0,  # noqa: A002
          like=None):
    """As `asarray`, with NumPy's `ndmin` (leading length-1 axes); lists of traced values
    are stacked. `ndmax` limits how deep NumPy reads nested lists (NumPy's own values)."""
    if not _traced(object):
        extra = {"ndmax": ndmax} if ndmax else {}
        return np.array(object, dtype, copy=copy, order=order, subok=subok, ndmin=ndmin,
                        like=like, **extra)
    x = _traced_array(object, dtype)
    shape = shape_of(x)
    return reshape(x, (1,) * (ndmin - len(shape)) + shape) if ndmin > len(shape) else x


@export(method="copy")
def copy(a, order="K", subok=False):
    """A copy of `a`; on traced values a new value on the graph (differentiable)."""
    return _shape.copy(a) if isinstance(a, Tracer) else np.copy(a, order, subok)


# ----------------------------------------------------------------------------- filled arrays

def _filled(shape, fill_value, dtype):
    """`fill_value` (traced) broadcast to `shape`, cast to `dtype` (its own by default)."""
    fill = asarray(fill_value)
    fill = fill if dtype is None else prims.convert(fill, dtype)
    return broadcast_to(fill, shape)


@export
def full(shape, fill_value, dtype=None, order="C", *, device=None, like=None):
    """An array of `shape` filled with `fill_value`, which may be traced (then the result
    carries its derivative)."""
    if _traced(fill_value):
        return _filled(shape, fill_value, dtype)
    return np.full(shape, fill_value, dtype, order, device=device, like=like)


@export
def empty(shape, dtype=float, order="C", *, device=None, like=None):
    """NOTE: zeros, not uninitialized memory: garbage can hold NaN or inf, and 0 * NaN would
    poison results and gradients that should not depend on it; zeros keep runs reproducible."""
    return np.zeros(shape, dtype, order, device=device, like=like)


def _like_shape(a, shape) -> tuple:
    return shape_of(a) if shape is None else shape


@export
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """An array like `a` (shape, dtype) filled with `fill_value`, which may be traced."""
    dtype = dtype_of(a) if dtype is None else dtype
    if _traced(fill_value):
        return _filled(_like_shape(a, shape), fill_value, dtype)
    return np.full(_like_shape(a, shape), fill_value, dtype)


@export
def zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Zeros of a's shape and dtype: a constant, never traced."""
    return np.zeros(_like_shape(a, shape), dtype_of(a) if dtype is None else dtype)


@export
def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Ones of a's shape and dtype: a constant, never traced."""
    return np.ones(_like_shape(a, shape), dtype_of(a) if dtype is None else dtype)


@export
def empty_like(prototype, /, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """NOTE: zeros, as `empty` (and for the same reason)."""
    return zeros_like(prototype, dtype, shape=shape)


# ----------------------------------------------------------------------------- ranges

def _dtype_or_weak(x):
    """What np.result_type should see: the dtype of arrays, Python numbers as they are."""
    return dtype_of(x) if isinstance(x, (Tracer, np.ndarray, np.generic)) else x


@export
def arange(start_or_stop, /, stop=None, step=1, *, dtype=None, device=None, like=None):
    """Evenly spaced values in [start, stop); a traced start or step carries a derivative
    (the length is read from the values)."""
    args = (start_or_stop, stop, step)
    if not any(isinstance(v, Tracer) for v in args):
        return np.arange(start_or_stop, stop, step, dtype=dtype, device=device, like=like)
    start, stop = (0, start_or_stop) if stop is None else (start_or_stop, stop)
    n = len(np.arange(concrete(start), concrete(stop), concrete(step)))
    kind = np.result_type(*[_dtype_or_weak(v) for v in (start, stop, step)])
    if dtype is not None and np.dtype(dtype).kind not in "fc" or kind.kind not in "fc":
        return np.arange(concrete(start), concrete(stop), concrete(step), dtype=dtype)
    out = prims.add(start, prims.mul(np.arange(n, dtype=kind), step))
    return out if dtype is None else prims.convert(out, dtype)


@export
def linspace(start, stop, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype=None, axis: int = 0, *, device=None):
    """`num` evenly spaced samples from `start` to `stop` (arrays broadcast; the samples
    along a new axis `axis`), differentiable in start and stop."""
    if not _traced((start, stop)):
        return np.linspace(start, stop, num, endpoint, retstep, dtype, axis, device=device)
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    if dtype is not None and np.issubdtype(dtype, np.integer):
        # NOTE: integer samples carry no derivative, so they are NumPy's, from the values
        return np.linspace(concrete(start), concrete(stop), num, endpoint, retstep, dtype, axis)
    div = num - 1 if endpoint else num
    dt = np.result_type(_dtype_or_weak(start), _dtype_or_weak(stop), 1.0)
    start, stop = prims.convert(asarray(start), dt), prims.convert(asarray(stop), dt)
    delta = prims.sub(stop, start)
    y = np.arange(num, dtype=dt).reshape((-1,) + (1,) * len(shape_of(delta)))
    step = prims.div(delta, div) if div > 0 else np.nan
    y = prims.add(prims.mul(y, step if div > 0 else delta), start)
    if endpoint and num > 1:
        y = _index.scatter_set(y, stop, -1)
    y = moveaxis(y, 0, axis)
    y = y if dtype is None else prims.convert(y, dtype)
    return (y, step) if retstep else y


@export
def logspace(start, stop, num: int = 50, endpoint: bool = True, base=10.0, dtype=None,
             axis: int = 0):
    """`base ** linspace(start, stop)`, differentiable in start, stop and base."""
    if not _traced((start, stop, base)):
        return np.logspace(start, stop, num, endpoint, base, dtype, axis)
    if np.ndim(base):  # an array base broadcasts with the others, as NumPy
        nd = len(np.broadcast_shapes(shape_of(start), shape_of(stop), shape_of(base)))
        start, stop, base = (array(v, ndmin=nd) for v in (start, stop, base))
        base = reshape(base, _with_axis(shape_of(base), axis))
    y = prims.pow(base, linspace(start, stop, num, endpoint, axis=axis))
    return y if dtype is None else prims.convert(y, dtype)


def _with_axis(shape: tuple, axis: int) -> tuple:
    axis = axis + len(shape) + 1 if axis < 0 else axis
    return shape[:axis] + (1,) + shape[axis:]


@export
def geomspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None, axis: int = 0):
    """`num` samples from `start` to `stop` spaced evenly on a log scale (a geometric
    progression), differentiable in start and stop; both must be nonzero, of one sign."""
    if not _traced((start, stop)):
        return np.geomspace(start, stop, num, endpoint, dtype, axis)
    try:
        zero = np.any(concrete(start) == 0) or np.any(concrete(stop) == 0)
    except BatchingError:  # values that differ from example to example go unchecked
        zero = False
    if zero:
        raise ValueError("Geometric sequence cannot include zero")
    dt = np.result_type(_dtype_or_weak(start), _dtype_or_weak(stop), float(num))
    start, stop = prims.convert(asarray(start), dt), prims.convert(asarray(stop), dt)
    sign = prims.sign(start)
    start, stop = prims.div(start, sign), prims.div(stop, sign)
    ln10 = np.log(10.0)
    y = logspace(prims.div(prims.log(start), ln10), prims.div(prims.log(stop), ln10), num,
                 endpoint, dtype=dt)
    if num > 0:  # the endpoints exactly, as NumPy
        y = _index.scatter_set(y, start, 0)
        if num > 1 and endpoint:
            y = _index.scatter_set(y, stop, -1)
    y = moveaxis(prims.mul(y, sign), 0, axis)
    return y if dtype is None else prims.convert(y, dtype)
