"""Reductions, cumulative ops, sorting and selection, with NumPy's signatures: `axis` (an int,
a tuple, None, negatives allowed), `keepdims`, `dtype`. `out=` is refused (autodx never writes
into an existing array) and so is `where=` (select with ad.numpy.where first).

Array methods take PyTorch's `dim=`/`keepdim=` spellings too (`reduce_method`), with NumPy's
semantics: `t.max(dim=0)` is the maximum only, not torch's (values, indices). NumPy's ufunc
methods on traced values (`np.add.reduce(t)`, `np.multiply.accumulate(t)`) dispatch here, with
their own defaults (axis 0).

Most are composites; the primitives are `sum`, `reduce_max`/`reduce_min` (ties), `cumsum`
(prims/reduce.py) and the integer-valued selections and `permute` (prims/sort.py).
"""

from __future__ import annotations

import math

import numpy as np

from .. import prims
from ..core import BatchingError, Tracer, concrete, dtype_of, no_out, shape_of
from ..prims import reduce as _reduce
from ..prims import sort as _sort
from ..prims.elementwise import imag, real
from ..registry import DEFAULT, export
from ._axes import axes, ndim, one_axis
from ._shapes import as_array, broadcast_to, concatenate, reshape, transpose

# ----------------------------------------------------------------------------- helpers


def reduce_method(fn, default_axis=None):
    """A method spelling of a reduction: NumPy's (axis, keepdims) or PyTorch's (dim, keepdim).

    NOTE: spelled the PyTorch way (dim=), var and std take PyTorch's default correction=1
    (and its `correction=`/`unbiased=`); spelled NumPy's way, NumPy's ddof=0."""
    def method(self, axis=default_axis, *args, dim=None, keepdim=None, **kwargs):
        if keepdim is not None:
            kwargs["keepdims"] = keepdim
        if fn.__name__ in ("var", "std") and (dim is not None or "correction" in kwargs
                                               or "unbiased" in kwargs):
            correction = kwargs.pop("correction", None)
            unbiased = kwargs.pop("unbiased", True)
            kwargs.setdefault("ddof", (1 if unbiased else 0) if correction is None
                              else correction)
        return fn(self, axis if dim is None else dim, *args, **kwargs)
    method.__name__ = fn.__name__
    return method


def reduction(fn=None, *, name: str | None = None, aliases: tuple = (), numpy=DEFAULT,
              methods: tuple | None = None, default_axis=None, kind: str | None = None):
    """Register a reduction as `ad.numpy.NAME`, NumPy's dispatch and the method `x.NAME(...)`
    (or the `methods` named); kind="nondiff" for integer and bool results."""
    if fn is None:
        return lambda f: reduction(f, name=name, aliases=aliases, numpy=numpy, methods=methods,
                                   default_axis=default_axis, kind=kind)
    name = name or fn.__name__
    method = reduce_method(fn, default_axis)
    return export(fn, name=name, aliases=aliases, numpy=numpy, kind=kind,
                  method={m: method for m in ((name,) if methods is None else methods)})


def _refuse(name: str, out=None, where=None) -> None:
    no_out(out, name)
    if where is not None and where is not True:
        raise NotImplementedError(
            f"{name}(..., where=...) is not supported. Select the elements first, e.g. "
            f"np.{name}(ad.numpy.where(mask, x, identity), ...) with the reduction's identity "
            f"(0 for sum, 1 for prod, -inf for max).")




def _accumulator(x, dtype) -> np.dtype:
    """The dtype NumPy's sum, prod, cumsum and cumprod compute in: `dtype` if given, else x's,
    with bools and integers narrower than the platform integer widened to it."""
    if dtype is not None:
        return np.dtype(dtype)
    dt = dtype_of(x)
    if dt.kind == "b" or dt.kind in "iu" and dt.itemsize < np.dtype(np.int_).itemsize:
        return np.dtype(np.uint if dt.kind == "u" else np.int_)
    return dt


def _floating(x, dtype):
    """x cast to `dtype`, or integers and bools to float64 (mean, var)."""
    if dtype is None:
        dtype = np.float64 if dtype_of(x).kind in "biu" else None
    return x if dtype is None else prims.convert(x, dtype)


def _count(name: str, shape: tuple, ax: tuple, axis) -> int:
    """The number of elements each reduced slice has; an empty one is an error, not NaN."""
    # NOTE: the mean of nothing is undefined. NumPy warns ("Mean of empty slice") and returns
    # nan, torch.mean and jax.numpy.mean return nan without a word; that nan then flows into
    # the loss and every gradient, far from its cause (typically a batch or mask that selected
    # nothing). autodx raises here, naming the function, the shape and the axis, instead.
    n = math.prod([shape[a] for a in ax])
    if n == 0:
        raise ValueError(f"{name} of an empty selection: an array of shape {shape} has no "
                         f"elements along axis={axis!r} (NumPy would warn and return nan). "
                         "Check the shape, or handle the empty case before the call.")
    return n


def _along(axis: int, index) -> tuple:
    """An index that applies `index` (a slice) along `axis` only."""
    return (slice(None),) * axis + (index,)


def _is_nan(x):
    return prims.not_equal(x, x)


def _inexact(x) -> bool:
    return dtype_of(x).kind in "fc"


# ----------------------------------------------------------------------------- sum, prod

@reduction
def sum(x, axis=None, dtype=None, out=None, keepdims: bool = False,  # noqa: A001
        initial=None, where=None):
    """Sum over `axis` (all axes by default)."""
    _refuse("sum", out, where)
    x = as_array(x)
    x = prims.convert(x, _accumulator(x, dtype))
    ax = axes(axis, ndim(x))
    total = _reduce.sum(x, ax, bool(keepdims)) if ax else x
    return total if initial is None else prims.add(total, initial)


@reduction
def prod(x, axis=None, dtype=None, out=None, keepdims: bool = False, initial=None, where=None):
    """Product over `axis`. A pairwise tree of multiplications, so that every derivative is
    exact where elements are zero (one zero: the product of the others there; two: zero, but
    the mixed second derivative of the two zeros is the product of the rest)."""
    _refuse("prod", out, where)
    x = as_array(x)
    x = prims.convert(x, _accumulator(x, dtype))
    shape = shape_of(x)
    ax = axes(axis, len(shape))
    result = x
    if ax:
        result = _unflatten(_pairwise_product(_reduced_last(x, ax)), shape, ax, keepdims)
    return result if initial is None else prims.mul(result, initial)


def _reduced_last(x, ax: tuple):
    """x with the axes `ax` moved last and flattened into one."""
    shape = shape_of(x)
    rest = tuple(i for i in range(len(shape)) if i not in ax)
    return reshape(transpose(x, rest + ax),
                   (*(shape[i] for i in rest), math.prod([shape[a] for a in ax])))


def _reduced_shape(shape: tuple, ax: tuple, keepdims: bool) -> tuple:
    """NumPy's result shape of a reduction over `ax`."""
    if keepdims:
        return _reduce.kept_shape(shape, ax)
    return tuple(n for i, n in enumerate(shape) if i not in ax)


def _unflatten(reduced, shape: tuple, ax: tuple, keepdims: bool, lead: tuple = ()):
    """A reduction over `ax` of an array of `shape` (the other axes in order, after `lead`
    axes of its own), shaped as NumPy's."""
    return reshape(reduced, lead + _reduced_shape(shape, ax, keepdims))


def _pairwise_product(x):
    """The product over the last axis, halving it at each step."""
    shape = shape_of(x)
    n = shape[-1]
    if n == 0:
        return np.ones(shape[:-1], dtype_of(x))
    while n > 1:
        half = n // 2
        head = prims.mul(x[..., :half], x[..., half:2 * half])
        x = concatenate([head, x[..., 2 * half:]], axis=-1) if n % 2 else head
        n = half + n % 2
    return x[..., 0]


# ----------------------------------------------------------------------------- mean, var, std

@reduction
def mean(x, axis=None, dtype=None, out=None, keepdims: bool = False, *, where=None):
    """Arithmetic mean over `axis`; an empty selection is a ValueError."""
    _refuse("mean", out, where)
    x = _floating(as_array(x), dtype)
    shape = shape_of(x)
    ax = axes(axis, len(shape))
    count = _count("mean", shape, ax, axis)
    if dtype is None and dtype_of(x) == np.float16:  # NumPy averages float16 in float32
        wide = sum(prims.convert(x, np.float32), ax, keepdims=keepdims)
        return prims.convert(prims.div(wide, count), np.float16)
    return prims.div(sum(x, ax, keepdims=keepdims), count)


_mean = mean  # for var and std, whose `mean=` argument hides the function


def _ddof(ddof, correction):
    if correction is None:
        return ddof
    if ddof != 0:
        raise ValueError("ddof and correction can't be provided simultaneously.")
    return correction


@reduction
def var(x, axis=None, dtype=None, out=None, ddof=0, keepdims: bool = False, *, where=None,
        mean=None, correction=None):
    """Variance over `axis`: mean squared deviation, divided by (n - ddof) instead of n.
    `mean=` is a precomputed mean (with keepdims=True); `correction=` is ddof's other name."""
    _refuse("var", out, where)
    ddof = _ddof(ddof, correction)
    x = _floating(as_array(x), dtype)
    shape = shape_of(x)
    ax = axes(axis, len(shape))
    count = _count("var", shape, ax, axis)
    squares = _squared(prims.sub(x, _mean(x, ax, keepdims=True) if mean is None else mean))
    return prims.div(sum(squares, ax, keepdims=keepdims), max(count - ddof, 0))


def _squared(d):
    """|d|**2 (real, also for complex d)."""
    if dtype_of(d).kind != "c":
        return prims.mul(d, d)
    re, im = real(d), imag(d)
    return prims.add(prims.mul(re, re), prims.mul(im, im))


@reduction
def std(x, axis=None, dtype=None, out=None, ddof=0, keepdims: bool = False, *, where=None,
        mean=None, correction=None):
    """Standard deviation over `axis`: sqrt(var(x, ...))."""
    return _root(var(x, axis, dtype, out, ddof, keepdims, where=where, mean=mean,
                     correction=correction))


def _root(v):
    """sqrt(v) for a variance v, with derivative 0 where v == 0."""
    # NOTE: at a constant slice (v == 0) std has a kink; its derivative there is taken as 0,
    # the sub-gradient of smallest norm, as PyTorch's std (JAX gives NaN: 0 * inf). The inner
    # `where` keeps sqrt's infinite derivative at 0 out of every order.
    constant = prims.equal(v, 0)
    return prims.where(constant, 0.0, prims.sqrt(prims.where(constant, 1.0, v)))


@export
def average(a, axis=None, weights=None, returned: bool = False, *, keepdims: bool = False):
    """Weighted mean over `axis`; `returned=True` also gives the sum of the weights."""
    x = as_array(a)
    shape = shape_of(x)
    if weights is None:
        avg = mean(x, axis, keepdims=keepdims)
        scale = np.asarray(math.prod([shape[i] for i in axes(axis, len(shape))]),
                           dtype_of(avg))
    else:
        x = _floating(x, None)
        w = _weights_like(as_array(weights), shape, axis)
        scale = sum(w, axis, keepdims=keepdims)
        if not isinstance(scale, Tracer) and np.any(scale == 0):
            raise ZeroDivisionError("average: the weights sum to zero, so they cannot be "
                                    "normalized")
        avg = prims.div(sum(prims.mul(x, w), axis, keepdims=keepdims), scale)
    return (avg, broadcast_to(scale, shape_of(avg))) if returned else avg


def _weights_like(w, shape: tuple, axis):
    """average's weights, shaped to broadcast against `a` (NumPy's rule)."""
    if shape_of(w) == shape:
        return w
    if axis is None:
        raise TypeError(f"average: axis must be specified when the shapes of a {shape} and "
                        f"weights {shape_of(w)} differ")
    order = tuple(one_axis(a, len(shape)) for a in (
        axis if isinstance(axis, (tuple, list)) else (axis,)))
    if shape_of(w) != tuple(shape[a] for a in order):
        raise ValueError(f"average: weights of shape {shape_of(w)} must have a's shape along "
                         f"axis={axis!r}, {tuple(shape[a] for a in order)}")
    w = transpose(w, tuple(np.argsort(order).tolist()))
    return reshape(w, tuple(n if i in order else 1 for i, n in enumerate(shape)))


# ----------------------------------------------------------------------------- max, min, ptp

def _extreme(name: str, reduce, combine, x, axis, out, keepdims, initial, where):
    _refuse(name, out, where)
    x = as_array(x)
    shape = shape_of(x)
    ax = axes(axis, len(shape))
    if any(shape[a] == 0 for a in ax):
        if initial is None:
            raise ValueError(f"{name} of an empty array (shape {shape}, axis={axis!r}) has no "
                             f"value: zero-size array to reduction operation which has no "
                             f"identity. Pass initial=... to give one.")
        return np.full(_reduced_shape(shape, ax, keepdims), initial, dtype_of(x))
    result = reduce(x, ax, bool(keepdims)) if ax else x
    return result if initial is None else combine(result, initial)


@reduction(name="max", aliases=("amax",), numpy=(np.max, np.amax), methods=("max", "amax"))
def amax(x, axis=None, out=None, keepdims: bool = False, initial=None, where=None):
    """The largest element over `axis`. Its derivative splits evenly among tied elements."""
    return _extreme("max", _reduce.reduce_max, prims.maximum, x, axis, out, keepdims, initial,
                    where)


@reduction(name="min", aliases=("amin",), numpy=(np.min, np.amin), methods=("min", "amin"))
def amin(x, axis=None, out=None, keepdims: bool = False, initial=None, where=None):
    """The smallest element over `axis`. Its derivative splits evenly among tied elements."""
    return _extreme("min", _reduce.reduce_min, prims.minimum, x, axis, out, keepdims, initial,
                    where)


@export
def ptp(x, axis=None, out=None, keepdims: bool = False):
    """Range (max - min) over `axis`."""
    no_out(out, "ptp")
    return prims.sub(amax(x, axis, keepdims=keepdims), amin(x, axis, keepdims=keepdims))


# ----------------------------------------------------------------------------- NaN-ignoring

def _nan_to(x, value):
    return prims.where(_is_nan(x), value, x) if _inexact(x) else x


@reduction(methods=())
def nansum(x, axis=None, dtype=None, out=None, keepdims: bool = False, initial=None,
           where=None):
    """Sum treating NaN as zero (NaN elements get derivative 0)."""
    return sum(_nan_to(as_array(x), 0.0), axis, dtype, out, keepdims, initial, where)


@reduction(methods=())
def nanmean(x, axis=None, dtype=None, out=None, keepdims: bool = False, *, where=None):
    """Mean of the non-NaN elements (NaN for a slice of NaNs only)."""
    _refuse("nanmean", out, where)
    x = _floating(as_array(x), dtype)
    shape = shape_of(x)
    ax = axes(axis, len(shape))
    _count("nanmean", shape, ax, axis)
    count = prims.convert(_count_true(prims.equal(x, x), ax, keepdims), dtype_of(x))
    return prims.div(sum(_nan_to(x, 0.0), ax, keepdims=keepdims), count)


def _nan_extreme(extreme, fill: float, x, axis, out, keepdims, initial, where):
    x = as_array(x)
    if not _inexact(x):
        return extreme(x, axis, out, keepdims, initial, where)
    nan = _is_nan(x)
    result = extreme(prims.where(nan, fill, x), axis, out, keepdims, initial, where)
    return prims.where(all_(nan, axis, keepdims=keepdims), np.nan, result)


@reduction(methods=())
def nanmax(x, axis=None, out=None, keepdims: bool = False, initial=None, where=None):
    """The largest non-NaN element (NaN for a slice of NaNs only)."""
    return _nan_extreme(amax, -np.inf, x, axis, out, keepdims, initial, where)


@reduction(methods=())
def nanmin(x, axis=None, out=None, keepdims: bool = False, initial=None, where=None):
    """The smallest non-NaN element (NaN for a slice of NaNs only)."""
    return _nan_extreme(amin, np.inf, x, axis, out, keepdims, initial, where)


@reduction(methods=())
def nanprod(x, axis=None, dtype=None, out=None, keepdims: bool = False, initial=None,
            where=None):
    """Product treating NaN as one (NaN elements get derivative 0)."""
    return prod(_nan_to(as_array(x), 1.0), axis, dtype, out, keepdims, initial, where)


@reduction(methods=())
def nanvar(x, axis=None, dtype=None, out=None, ddof=0, keepdims: bool = False, *, where=None,
           mean=None, correction=None):
    """Variance of the non-NaN elements (NaN elements get derivative 0)."""
    _refuse("nanvar", out, where)
    ddof = _ddof(ddof, correction)
    x = _floating(as_array(x), dtype)
    shape = shape_of(x)
    ax = axes(axis, len(shape))
    _count("nanvar", shape, ax, axis)
    valid = prims.equal(x, x)
    count = prims.convert(_count_true(valid, ax, True), np.finfo(dtype_of(x)).dtype)
    x = _nan_to(x, 0.0)  # first, so that no NaN meets a derivative (0 * NaN)
    if mean is None:
        mean = prims.div(sum(x, ax, keepdims=True), count)
    squares = prims.where(valid, _squared(prims.sub(x, mean)), 0.0)
    dof = prims.maximum(prims.sub(count, ddof), 0.0)
    return _unflatten(prims.div(sum(squares, ax, keepdims=True), dof), shape, ax, keepdims)


@reduction(methods=())
def nanstd(x, axis=None, dtype=None, out=None, ddof=0, keepdims: bool = False, *, where=None,
           mean=None, correction=None):
    """Standard deviation of the non-NaN elements."""
    return _root(nanvar(x, axis, dtype, out, ddof, keepdims, where=where, mean=mean,
                        correction=correction))


# ----------------------------------------------------------------------------- cumulative

def _cumulative_input(x, axis, dtype):
    """(x, axis): flattened with axis 0 for axis=None, cast to the accumulator dtype."""
    x = as_array(x)
    x = prims.convert(x, _accumulator(x, dtype))
    if axis is None:
        return reshape(x, (-1,)), 0
    return x, one_axis(axis, ndim(x))


@reduction
def cumsum(x, axis=None, dtype=None, out=None):
    """Running sum along `axis` (of the flattened array by default)."""
    no_out(out, "cumsum")
    x, axis = _cumulative_input(x, axis, dtype)
    return _reduce.cumsum(x, axis)


@reduction
def cumprod(x, axis=None, dtype=None, out=None):
    """Running product along `axis`: a parallel prefix scan of multiplications (log2(n)
    steps), so that every derivative is exact where elements are zero."""
    no_out(out, "cumprod")
    x, axis = _cumulative_input(x, axis, dtype)
    shape = shape_of(x)
    n, step = shape[axis], 1
    while step < n:  # after this step, element i is the product of x[i - 2 * step + 1 : i + 1]
        ones = np.ones(shape[:axis] + (step,) + shape[axis + 1:], dtype_of(x))
        x = prims.mul(x, concatenate([ones, x[_along(axis, slice(0, n - step))]], axis))
        step *= 2
    return x


@export
def nancumsum(a, axis=None, dtype=None, out=None):
    """Running sum treating NaN as zero."""
    return cumsum(_nan_to(as_array(a), 0.0), axis, dtype, out)


@export
def nancumprod(a, axis=None, dtype=None, out=None):
    """Running product treating NaN as one."""
    return cumprod(_nan_to(as_array(a), 1.0), axis, dtype, out)


def _cumulative(name: str, scan, identity: int, x, axis, dtype, out, include_initial: bool):
    """The array API's cumulative_sum/prod: axis required beyond 1-D; optionally starting
    from the identity."""
    no_out(out, name)
    x = as_array(x)
    if axis is None:
        if ndim(x) != 1:
            raise ValueError(f"{name}: axis must be given for an array of shape {shape_of(x)}")
        axis = 0
    axis = one_axis(axis, ndim(x))
    y = scan(x, axis, dtype)
    if not include_initial:
        return y
    shape = shape_of(y)
    start = np.full(shape[:axis] + (1,) + shape[axis + 1:], identity, dtype_of(y))
    return concatenate([start, y], axis)


@export
def cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial: bool = False):
    """Running sum along `axis` (the array API's cumsum; include_initial starts from 0)."""
    return _cumulative("cumulative_sum", cumsum, 0, x, axis, dtype, out, include_initial)


@export
def cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial: bool = False):
    """Running product along `axis` (include_initial starts from 1)."""
    return _cumulative("cumulative_prod", cumprod, 1, x, axis, dtype, out, include_initial)


@export
def diff(a, n: int = 1, axis: int = -1, prepend=None, append=None):
    """The n-th forward difference along `axis`, after joining `prepend` and `append`."""
    x = as_array(a)
    if n < 0:
        raise ValueError(f"diff: order must be non-negative but got n={n}")
    if n == 0:
        return x
    if ndim(x) == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = one_axis(axis, ndim(x))
    parts = [_diff_edge(prepend, x, axis), x, _diff_edge(append, x, axis)]
    parts = [p for p in parts if p is not None]
    x = concatenate(parts, axis) if len(parts) > 1 else x
    step = prims.not_equal if dtype_of(x) == np.bool_ else prims.sub
    for _ in range(n):
        x = step(x[_along(axis, slice(1, None))], x[_along(axis, slice(None, -1))])
    return x


def _diff_edge(value, x, axis: int):
    """diff's prepend/append: a scalar becomes one slice of x's shape along `axis`."""
    if value is None:
        return None
    value = as_array(value)
    if ndim(value) == 0:
        shape = shape_of(x)
        value = broadcast_to(value, shape[:axis] + (1,) + shape[axis + 1:])
    return value


@export
def ediff1d(ary, to_end=None, to_begin=None):
    """Differences of the flattened array, with `to_begin` and `to_end` around them."""
    x = as_array(ary)
    parts = [to_begin, diff(reshape(x, (-1,))), to_end]
    parts = [prims.convert(reshape(as_array(p), (-1,)), dtype_of(x)) for p in parts
             if p is not None]  # in ary's dtype, as NumPy
    return concatenate(parts) if len(parts) > 1 else parts[0]


# ----------------------------------------------------------------------------- logical, counts

def _count_true(mask, axis, keepdims: bool):
    ax = axes(axis, ndim(mask))
    return _reduce.sum(mask, ax, bool(keepdims)) if ax else prims.convert(mask, np.intp)


@reduction(name="all", kind="nondiff")
def all_(x, axis=None, out=None, keepdims: bool = False, *, where=None):
    """Whether every element along `axis` is nonzero (a bool: no derivative)."""
    _refuse("all", out, where)
    x = as_array(x)
    return prims.equal(_count_true(prims.equal(x, 0), axis, keepdims), 0)


@reduction(name="any", kind="nondiff")
def any_(x, axis=None, out=None, keepdims: bool = False, *, where=None):
    """Whether some element along `axis` is nonzero (a bool: no derivative)."""
    _refuse("any", out, where)
    x = as_array(x)
    return prims.not_equal(_count_true(prims.not_equal(x, 0), axis, keepdims), 0)


@export(kind="nondiff")
def count_nonzero(a, axis=None, *, keepdims: bool = False):
    """The number of nonzero elements along `axis` (an integer: no derivative)."""
    x = as_array(a)
    return _count_true(prims.not_equal(x, 0), axis, keepdims)


# ----------------------------------------------------------------------------- argmax, argmin

def _arg_extreme(name: str, fn, x, axis, keepdims):
    x = as_array(x)
    shape = shape_of(x)
    if axis is None:
        if math.prod(shape) == 0:
            raise ValueError(f"attempt to get {name} of an empty sequence (shape {shape})")
        index = fn(reshape(x, (-1,)), 0)
        return reshape(index, (1,) * len(shape)) if keepdims else index
    axis = one_axis(axis, len(shape))
    if shape[axis] == 0:
        raise ValueError(f"attempt to get {name} of an empty sequence (shape {shape}, "
                         f"axis={axis})")
    return fn(x, axis, bool(keepdims))


@reduction(kind="nondiff")
def argmax(x, axis=None, out=None, *, keepdims: bool = False):
    """The index of the largest element along `axis` (of the flattened array by default);
    the first one at ties. An integer: no derivative."""
    no_out(out, "argmax")
    return _arg_extreme("argmax", _sort.argmax, x, axis, keepdims)


@reduction(kind="nondiff")
def argmin(x, axis=None, out=None, *, keepdims: bool = False):
    """The index of the smallest element along `axis`; the first one at ties."""
    no_out(out, "argmin")
    return _arg_extreme("argmin", _sort.argmin, x, axis, keepdims)


def _nan_arg_extreme(name: str, fn, fill: float, x, axis, out, keepdims):
    no_out(out, name)
    x = as_array(x)
    if not _inexact(x):
        return fn(x, axis, keepdims=keepdims)
    nan = _is_nan(x)
    try:
        if np.any(concrete(all_(nan, axis))):
            raise ValueError(f"{name}: All-NaN slice encountered (shape {shape_of(x)}, "
                             f"axis={axis!r})")
    except BatchingError:  # NOTE: under vmap the values are unknown, so there is no check
        pass
    return fn(prims.where(nan, fill, x), axis, keepdims=keepdims)


@export(kind="nondiff")
def nanargmax(a, axis=None, out=None, *, keepdims: bool = False):
    """The index of the largest non-NaN element along `axis` (an integer: no derivative)."""
    return _nan_arg_extreme("nanargmax", argmax, -np.inf, a, axis, out, keepdims)


@export(kind="nondiff")
def nanargmin(a, axis=None, out=None, *, keepdims: bool = False):
    """The index of the smallest non-NaN element along `axis`."""
    return _nan_arg_extreme("nanargmin", argmin, np.inf, a, axis, out, keepdims)


# ----------------------------------------------------------------------------- sorting

def _sort_args(name: str, x, axis, kind, stable, order):
    """(x, axis, kind): flattened with axis 0 for axis=None; `stable=True` is kind='stable'."""
    if order is not None:
        raise NotImplementedError(f"{name}(order=...) sorts structured arrays, which autodx "
                                  "does not support")
    if stable is not None and kind is not None:
        raise ValueError(f"{name}: `kind` and `stable` parameters can't be provided at the "
                         "same time. Use only one of them.")
    x = as_array(x)
    if axis is None:
        return reshape(x, (-1,)), 0, kind
    return x, one_axis(axis, ndim(x)), "stable" if stable else kind


@reduction(default_axis=-1, kind="nondiff")
def argsort(x, axis=-1, kind=None, order=None, *, stable=None):
    """The indices that sort x along `axis` (an integer: no derivative)."""
    x, axis, kind = _sort_args("argsort", x, axis, kind, stable, order)
    return _sort.argsort(x, axis, kind)


@export
def sort(x, axis=-1, kind=None, order=None, *, stable=None):
    """A sorted copy of x along `axis`."""
    # NOTE: at ties the derivative follows the stable sort's order (as PyTorch): the k-th
    # output's derivative goes to the input that a stable sort puts k-th.
    x, axis, _ = _sort_args("sort", x, axis, kind, stable, order)
    return _sort.permute(x, _sort.argsort(x, axis, "stable"), axis)


@export
def sort_complex(a):
    """a sorted along its last axis (real part first, then imaginary), as complex numbers."""
    s = sort(a)
    if dtype_of(s).kind == "c":
        return s
    return prims.convert(s, np.complex64 if dtype_of(s).char in "bhBH" else np.complex128)


def _kth(kth, n: int) -> int | tuple:
    many = not isinstance(kth, (int, np.integer))
    ks = tuple(int(k) for k in np.ravel(kth))
    for k in ks:
        if not -n <= k < n:
            raise ValueError(f"partition: kth(={k}) out of bounds for an axis of length {n}")
    ks = tuple(sorted(k % n for k in ks))
    return ks if many else ks[0]


def _argpartition(name: str, x, kth, axis, kind, order):
    if kind != "introselect":
        raise ValueError(f"{name}: kind must be 'introselect' (got {kind!r})")
    x, axis, _ = _sort_args(name, x, axis, None, None, order)
    return x, axis, _sort.argpartition(x, _kth(kth, shape_of(x)[axis]), axis)


@export(method="argpartition", kind="nondiff")
def argpartition(x, kth, axis=-1, kind="introselect", order=None):
    """Indices that put the kth element(s) where a sort would, smaller ones before and larger
    after (an integer: no derivative)."""
    return _argpartition("argpartition", x, kth, axis, kind, order)[2]


@export
def partition(x, kth, axis=-1, kind="introselect", order=None):
    """x rearranged so the kth element(s) are where a sort would put them; the derivative
    follows the elements."""
    x, axis, perm = _argpartition("partition", x, kth, axis, kind, order)
    return _sort.permute(x, perm, axis)


@export(method="searchsorted", kind="nondiff")
def searchsorted(a, v, side: str = "left", sorter=None):
    """Where to insert v into the sorted 1-D a to keep it sorted (an integer: no derivative)."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    a = as_array(a)
    if ndim(a) != 1:
        raise ValueError(f"searchsorted: a must be 1-D, got shape {shape_of(a)}")
    if sorter is not None:
        a = a[as_array(sorter)]
    return _sort.searchsorted(a, as_array(v), side)


# ----------------------------------------------------------------------------- median, quantile

def _sorted_along_last(name: str, a, axis):
    """(s, has_nan, shape, ax): a (floating) with the axes `axis` flattened into its last and
    sorted, and whether each slice holds a NaN (None for integers), which sorts last."""
    x = _floating(as_array(a), None)
    shape = shape_of(x)
    ax = axes(axis, len(shape))
    _count(name, shape, ax, axis)
    s = sort(_reduced_last(x, ax), -1)
    return s, _is_nan(s[..., -1]) if _inexact(s) else None, shape, ax


def _nan_where(has_nan, value):
    return value if has_nan is None else prims.where(has_nan, np.nan, value)


@export
def median(a, axis=None, out=None, overwrite_input: bool = False, keepdims: bool = False):
    """The median over `axis` (the mean of the two middle elements for an even count; NaN for
    a slice with a NaN). The derivative goes to the middle element(s)."""
    no_out(out, "median")
    s, has_nan, shape, ax = _sorted_along_last("median", a, axis)
    n = shape_of(s)[-1]
    middle = prims.mul(prims.add(s[..., (n - 1) // 2], s[..., n // 2]), 0.5)
    return _unflatten(_nan_where(has_nan, middle), shape, ax, keepdims)


def _quantile(name: str, a, q, weak: bool, axis, out, method, keepdims, weights):
    """NumPy's linear-interpolation quantile (Hyndman and Fan's 7th); q in [0, 1], constant."""
    no_out(out, name)
    if method != "linear" or weights is not None:
        raise NotImplementedError(f"{name}: only method='linear' without weights is supported "
                                  f"(got method={method!r})")
    if np.any((q < 0) | (q > 1)):
        raise ValueError(f"{name}: the quantiles must be in [0, 1] (percentiles in [0, 100])")
    s, has_nan, shape, ax = _sorted_along_last(name, a, axis)
    k, n = len(shape_of(s)) - 1, shape_of(s)[-1]
    position = (n - 1) * q
    below = np.floor(position).astype(np.intp)
    gamma = position - below
    before, after = s[..., below], s[..., np.minimum(below + 1, n - 1)]
    step = prims.sub(after, before)
    t = float(gamma) if weak else gamma  # a Python float is weak: float32 stays float32
    # as NumPy's _lerp: from the nearer end, for accuracy
    result = prims.where(gamma >= 0.5, prims.sub(after, prims.mul(step, 1 - t)),
                         prims.add(before, prims.mul(step, t)))
    if has_nan is not None:
        has_nan = reshape(has_nan, shape_of(has_nan) + (1,) * q.ndim)
    result = transpose(_nan_where(has_nan, result), tuple(range(k, k + q.ndim)) + tuple(range(k)))
    return _unflatten(result, shape, ax, keepdims, lead=q.shape)


@export
def quantile(a, q, axis=None, out=None, overwrite_input: bool = False, method="linear",
             keepdims: bool = False, *, weights=None):
    """The q-th quantile(s) over `axis`, by linear interpolation; q (in [0, 1]) a constant.
    The output has q's axes first."""
    weak = type(q) in (int, float)
    return _quantile("quantile", a, np.asarray(q, np.float64 if weak else None), weak, axis,
                     out, method, keepdims, weights)


@export
def percentile(a, q, axis=None, out=None, overwrite_input: bool = False, method="linear",
               keepdims: bool = False, *, weights=None):
    """The q-th percentile(s) over `axis` (q in [0, 100]); see quantile."""
    weak = type(q) in (int, float)
    return _quantile("percentile", a, np.asarray(np.true_divide(q, 100)), weak, axis, out,
                     method, keepdims, weights)


# ----------------------------------------------------------------------------- nonzero, unique

@export(kind="nondiff")
def argwhere(a):
    """The indices of the nonzero elements, one row per element (an integer: no derivative)."""
    return _sort.argwhere(as_array(a))


@export(method="nonzero", kind="nondiff")
def nonzero(a):
    """The indices of the nonzero elements, one integer array per axis."""
    x = as_array(a)
    if ndim(x) == 0:
        raise ValueError("nonzero of a 0-d value is not allowed; use "
                         "nonzero(atleast_1d(x)) instead")
    found = _sort.argwhere(x)
    return tuple(found[:, i] for i in range(ndim(x)))


@export(kind="nondiff")
def flatnonzero(a):
    """The indices of the nonzero elements of the flattened array."""
    return nonzero(reshape(as_array(a), (-1,)))[0]


@export(kind="nondiff")
def unique(ar, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis=None, *, equal_nan: bool = True,
           sorted: bool = True):  # noqa: A002 - NumPy's name
    """The sorted unique elements (and, as asked, the first indices, the inverse and the
    counts). No derivative, the values included (see prims/sort.py)."""
    x = as_array(ar)
    axis = None if axis is None else one_axis(axis, ndim(x))
    parts = ["values"] + [p for p, wanted in (("index", return_index),
                                              ("inverse", return_inverse),
                                              ("counts", return_counts)) if wanted]
    found = tuple(_sort.unique(x, p, axis, bool(equal_nan), bool(sorted)) for p in parts)
    return found if len(found) > 1 else found[0]


# ----------------------------------------------------------------------------- ufunc methods
# np.add.reduce(t) & co.: NumPy's defaults (axis 0), registered under their dotted names.

def _ufunc_method(ufunc, method: str):
    return lambda fn: export(fn, name=f"{ufunc.__name__}.{method}", namespace="numpy.ufunc",
                             numpy=((ufunc, method),))


@_ufunc_method(np.add, "reduce")
def _add_reduce(array, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=True):
    return sum(array, axis, dtype, out, keepdims, initial, where)


@_ufunc_method(np.multiply, "reduce")
def _multiply_reduce(array, axis=0, dtype=None, out=None, keepdims=False, initial=None,
                     where=True):
    return prod(array, axis, dtype, out, keepdims, initial, where)


@_ufunc_method(np.maximum, "reduce")
def _maximum_reduce(array, axis=0, dtype=None, out=None, keepdims=False, initial=None,
                    where=True):
    x = as_array(array)
    return amax(x if dtype is None else prims.convert(x, dtype), axis, out, keepdims, initial,
                where)


@_ufunc_method(np.minimum, "reduce")
def _minimum_reduce(array, axis=0, dtype=None, out=None, keepdims=False, initial=None,
                    where=True):
    x = as_array(array)
    return amin(x if dtype is None else prims.convert(x, dtype), axis, out, keepdims, initial,
                where)


@_ufunc_method(np.add, "accumulate")
def _add_accumulate(array, axis=0, dtype=None, out=None):
    return cumsum(array, axis, dtype, out)


@_ufunc_method(np.multiply, "accumulate")
def _multiply_accumulate(array, axis=0, dtype=None, out=None):
    return cumprod(array, axis, dtype, out)
