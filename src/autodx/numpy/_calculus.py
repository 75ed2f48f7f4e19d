"""Calculus on sampled data (trapezoid, gradient, interp, unwrap), array editing (delete,
insert, resize, trim_zeros, choose, block, row_stack), asarray_chkfinite and real_if_close:
composites, so their derivatives of every order and their batching come from their ops.

It also holds the selections whose shape or index depends on the values (used here and by the
statistics and polynomial modules). Where a value can be read (it is not batched by vmap)
they are plain static indexing; under vmap they stay traced: `keep` (slices where a mask
holds) is a permutation of the kept slices to the front, whose length is static because
argwhere's batching rule asks every example to agree; `take_last` (a gather by an index that
differs per example) is a one-hot selection.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import prims
from ..core import BatchingError, Tracer, dtype_of, shape_of
from ..prims import elementwise as _el
from ..prims import sort as _sort
from ..registry import export
from ._axes import axes, ndim, one_axis, size
from ._creation import asarray
from ._dispatch import result_type
from ._reductions import all_, any_, cumsum, diff, no_out, searchsorted
from ._reductions import sum as _sum
from ._shapes import (
    as_array,
    broadcast_to,
    concatenate,
    expand_dims,
    flip,
    index_mode,
    moveaxis,
    ravel,
    reshape,
    stack,
    take,
    take_along_axis,
    vstack,
)


def array(x):
    """x itself if it is an array or a traced value, else x as an array (lists, also of
    traced values)."""
    return x if isinstance(x, (Tracer, np.ndarray, np.generic)) else asarray(x)


def inexact(x) -> bool:
    return dtype_of(x).kind in "fc"


def along(axis: int, index) -> tuple:
    """An index that applies `index` along `axis` only."""
    return (slice(None),) * axis + (index,)


# ----------------------------------------------------------------------------- selection

def _readable(x):
    """x's value if it can be read (it is not batched by vmap), else None."""
    if not isinstance(x, Tracer):
        return x
    try:
        return x.concrete()
    except BatchingError:
        return None


def flag(b, what: str) -> bool:
    """A boolean scalar as a Python bool (a decision on the values: a shape or dtype), also
    under vmap when every example agrees: argwhere's result has a static length."""
    value = _readable(b)
    if value is not None:
        return bool(value)
    return _static_count(prims.reshape(b, (1,)), what) == 1


def _static_count(mask, what: str) -> int:
    """How many entries of a 1-D boolean mask hold, as a Python int."""
    try:
        return shape_of(_sort.argwhere(mask))[0]
    except BatchingError:
        raise BatchingError(f"{what} depends on the values, and it differs between the "
                            "examples of this vmap batch; the result's shape or dtype would "
                            "differ from example to example. Call it on each example instead."
                            ) from None


def keep(x, mask, axis: int, what: str):
    """The slices of x along `axis` where the 1-D boolean `mask` holds, in order."""
    value = _readable(mask)
    if value is not None:
        return take(x, np.flatnonzero(value), axis)
    count = _static_count(mask, what)
    order = _sort.argsort(_el.logical_not(mask), 0, "stable")  # the kept ones first, in order
    shape = shape_of(x)
    order = broadcast_to(reshape(order, (1,) * axis + (-1,) + (1,) * (len(shape) - axis - 1)),
                         shape)
    return _sort.permute(x, order, axis)[along(axis, slice(0, count))]


def take_last(values, index):
    """values[..., index]: the last axis of `values` gathered at the integers `index`, whose
    shape broadcasts against values' other axes (the result has the broadcast shape)."""
    shape = shape_of(values)
    out_shape = np.broadcast_shapes(shape_of(index), shape[:-1])
    values = reshape(values, (1,) * (len(out_shape) + 1 - len(shape)) + shape)
    value = _readable(index)
    # PERF: batched by vmap, every example picks its own by a one-hot mask, which costs the
    # length of values' last axis times index's size (a static gather costs index's size)
    if value is None:
        hot = _el.equal(expand_dims(index, -1), np.arange(shape[-1]))
        picked = _el.where(hot, values, np.zeros((), dtype_of(values)))
        return prims.convert(_sum(picked, -1), dtype_of(values))
    value = np.broadcast_to(np.asarray(value).astype(np.intp), out_shape)[..., None]
    return take_along_axis(values, value, -1)[..., 0]


def between_nonzeros(mask, trim: str = "fb"):
    """Where a 1-D mask is at or after its first True ('f' in trim) and at or before its last
    ('b'): the span trim_zeros keeps."""
    span = np.ones(shape_of(mask), bool)
    if "f" in trim:
        span = _el.logical_and(span, _el.greater(cumsum(mask), 0))
    if "b" in trim:
        span = _el.logical_and(span, _el.greater(flip(cumsum(flip(mask))), 0))
    return span


# ----------------------------------------------------------------------------- calculus

@export
def trapezoid(y, x=None, dx=1.0, axis: int = -1):
    """The integral of y along `axis` by the trapezoidal rule, at sample points x (1-D, or
    y's shape) or spaced by dx. d/dy is the trapezoid weights (dx/2 at the ends, dx inside)."""
    y = array(y)
    nd = ndim(y)
    axis = one_axis(axis, nd)
    if x is None:
        d = dx
    else:
        x = array(x)
        d = diff(x, axis=-1 if ndim(x) == 1 else axis)
        if ndim(x) == 1:
            d = reshape(d, tuple(-1 if i == axis else 1 for i in range(nd)))
    upper, lower = y[along(axis, slice(1, None))], y[along(axis, slice(None, -1))]
    return _sum(prims.div(prims.mul(d, prims.add(upper, lower)), 2.0), axis)


def _axis_tuple(axis, nd: int) -> tuple:
    """NumPy's normalize_axis_tuple: the axes in the order given."""
    out = tuple(one_axis(a, nd) for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return out


def _spacings(varargs: tuple, f, ax: tuple) -> list:
    """gradient's spacings, one per axis: a scalar, or the differences of 1-D coordinates.
    NOTE: concrete coordinates that are evenly spaced become their one spacing, as NumPy does
    (the same values); traced ones keep the non-uniform formulas, so that the derivative
    with respect to every coordinate is right."""
    if not varargs:
        return [1.0] * len(ax)
    if len(varargs) == 1 and ndim(varargs[0]) == 0:
        return [varargs[0]] * len(ax)
    if len(varargs) != len(ax):
        raise TypeError(f"gradient: invalid number of arguments: {len(varargs)} spacings for "
                        f"{len(ax)} axes (give none, one scalar, or one per axis)")
    out = []
    for a, h in zip(ax, varargs):
        h = array(h)
        if ndim(h) == 0:
            out.append(h)
            continue
        if ndim(h) != 1:
            raise ValueError("gradient: distances must be either scalars or 1d")
        if shape_of(h)[0] != shape_of(f)[a]:
            raise ValueError("gradient: when 1d, distances must match the length of the "
                             f"corresponding dimension ({shape_of(h)[0]} != {shape_of(f)[a]})")
        d = diff(prims.convert(h, np.float64) if dtype_of(h).kind in "iu" else h)
        if not isinstance(d, Tracer) and d.size and np.all(d == d[0]):
            d = d[0]
        out.append(d)
    return out


def _three_point(f, axis: int, starts: tuple, coefficients: tuple):
    """a * f[s0] + b * f[s1] + c * f[s2] with the slices s_i of f along `axis`."""
    terms = [prims.mul(c, f[along(axis, s)]) for c, s in zip(coefficients, starts)]
    return prims.add(prims.add(terms[0], terms[1]), terms[2])


def _interior(f, axis: int, h):
    """Second-order central differences on the interior points."""
    if ndim(h) == 0:
        return prims.div(prims.sub(f[along(axis, slice(2, None))],
                                   f[along(axis, slice(None, -2))]), prims.mul(2.0, h))
    dx1, dx2 = h[:-1], h[1:]
    a = prims.div(prims.neg(dx2), prims.mul(dx1, prims.add(dx1, dx2)))
    b = prims.div(prims.sub(dx2, dx1), prims.mul(dx1, dx2))
    c = prims.div(dx1, prims.mul(dx2, prims.add(dx1, dx2)))
    shape = tuple(-1 if i == axis else 1 for i in range(ndim(f)))
    return _three_point(f, axis, (slice(None, -2), slice(1, -1), slice(2, None)),
                        tuple(reshape(k, shape) for k in (a, b, c)))


def _second_order_edges(f, axis: int, h) -> tuple:
    """One-sided second-order differences at both ends."""
    if ndim(h) == 0:
        first = (prims.div(-1.5, h), prims.div(2.0, h), prims.div(-0.5, h))
        last = (prims.div(0.5, h), prims.div(-2.0, h), prims.div(1.5, h))
    else:
        dx1, dx2 = h[0], h[1]
        first = (prims.div(prims.neg(prims.add(prims.mul(2.0, dx1), dx2)),
                           prims.mul(dx1, prims.add(dx1, dx2))),
                 prims.div(prims.add(dx1, dx2), prims.mul(dx1, dx2)),
                 prims.div(prims.neg(dx1), prims.mul(dx2, prims.add(dx1, dx2))))
        dx1, dx2 = h[-2], h[-1]
        last = (prims.div(dx2, prims.mul(dx1, prims.add(dx1, dx2))),
                prims.div(prims.neg(prims.add(dx2, dx1)), prims.mul(dx1, dx2)),
                prims.div(prims.add(prims.mul(2.0, dx2), dx1),
                          prims.mul(dx2, prims.add(dx1, dx2))))
    return (_three_point(f, axis, (slice(0, 1), slice(1, 2), slice(2, 3)), first),
            _three_point(f, axis, (slice(-3, -2), slice(-2, -1), slice(-1, None)), last))


def _gradient_along(f, axis: int, h, edge_order: int):
    if shape_of(f)[axis] < edge_order + 1:
        raise ValueError("Shape of array too small to calculate a numerical gradient, at "
                         "least (edge_order + 1) elements are required.")
    if edge_order == 1:
        h0, hn = (h, h) if ndim(h) == 0 else (h[0], h[-1])
        first = prims.div(prims.sub(f[along(axis, slice(1, 2))], f[along(axis, slice(0, 1))]),
                          h0)
        last = prims.div(prims.sub(f[along(axis, slice(-1, None))],
                                   f[along(axis, slice(-2, -1))]), hn)
    else:
        first, last = _second_order_edges(f, axis, h)
    return concatenate([first, _interior(f, axis, h), last], axis)


@export
def gradient(f, *varargs, axis=None, edge_order: int = 1):
    """The gradient of sampled f: second-order central differences inside, first- or
    second-order one-sided ones (edge_order) at the ends; spacings a scalar or 1-D
    coordinates per axis. One array for one axis, else a tuple."""
    f = array(f)
    nd = ndim(f)
    ax = tuple(range(nd)) if axis is None else _axis_tuple(axis, nd)
    spacings = _spacings(varargs, f, ax)
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    otype = dtype_of(f) if inexact(f) else np.dtype(np.float64)
    f = prims.convert(f, otype)
    out = tuple(prims.convert(_gradient_along(f, a, h, edge_order), otype)
                for a, h in zip(ax, spacings))
    return out[0] if len(out) == 1 else out


def _periodic(x, xp, fp, period):
    """interp's periodic case: everything modulo the period, xp sorted and padded by one
    point on each side."""
    if period == 0:
        raise ValueError("interp: period must be a non-zero value")
    period = prims.abs(period)
    x, xp = _el.remainder(x, period), _el.remainder(xp, period)
    order = _sort.argsort(prims.stop_gradient(xp), 0, "stable")
    xp, fp = _sort.permute(xp, order, 0), _sort.permute(fp, order, 0)
    xp = concatenate([prims.sub(xp[-1:], period), xp, prims.add(xp[0:1], period)])
    return x, xp, concatenate([fp[-1:], fp, fp[0:1]])


def _least_slope(a, b):
    """The element of smallest magnitude between two slopes (0 if they differ in sign); for
    complex slopes, of the real and imaginary parts apart."""
    if dtype_of(a).kind == "c" or dtype_of(b).kind == "c":
        return prims.add(_least_slope(_el.real(a), _el.real(b)),
                         prims.mul(1j, _least_slope(_el.imag(a), _el.imag(b))))
    return _el.clip(0.0, prims.minimum(a, b), prims.maximum(a, b))


def _interp_inside(x, xp, fp):
    """The piecewise-linear interpolant at x for x in [xp[0], xp[-1]] (and the knot values).
    NOTE: at a knot the value is fp there, and the derivative in x is the smallest-magnitude
    element between the slopes on either side (0 if they differ in sign, and 0 at the ends,
    where the outside is constant): the sub-gradient of smallest norm, as PyTorch's rule."""
    n = shape_of(xp)[0]
    width = diff(xp)
    empty = prims.equal(width, 0)  # repeated knots (periodic xp): no x falls inside
    slopes = prims.where(empty, 0.0, prims.div(diff(fp), prims.where(empty, 1.0, width)))
    zero = np.zeros(1, dtype_of(slopes))
    slopes = concatenate([zero, slopes, zero])  # slopes[i]: of the interval ending at xp[i]
    j = prims.sub(searchsorted(xp, x, "right"), 1)
    j = _el.clip(j, 0, n - 1)
    x0, y0 = take_last(xp, j), take_last(fp, j)
    slope = take_last(slopes, prims.add(j, 1))
    at_knot = prims.equal(x, x0)
    slope = prims.where(at_knot, _least_slope(take_last(slopes, j), slope), slope)
    return prims.add(prims.mul(slope, prims.sub(x, x0)), y0)


@export
def interp(x, xp, fp, left=None, right=None, period=None):
    """The piecewise-linear interpolant through (xp, fp) at x (xp increasing); `left`/`right`
    outside (fp[0]/fp[-1] by default); periodic with `period`. Differentiable in x, fp, xp
    (inside each interval), left and right. float64 (complex128 for complex fp), as NumPy."""
    fp = array(fp)
    dtype = np.dtype(np.complex128 if dtype_of(fp).kind == "c" else np.float64)
    x, xp, fp = (prims.convert(array(x), np.float64), prims.convert(array(xp), np.float64),
                 prims.convert(fp, dtype))
    if ndim(xp) != 1 or ndim(fp) != 1:
        raise ValueError("interp: Data points must be 1-D sequences (xp and fp)")
    if shape_of(xp)[0] != shape_of(fp)[0]:
        raise ValueError(f"interp: fp and xp are not of the same length ({shape_of(fp)[0]} "
                         f"!= {shape_of(xp)[0]})")
    if shape_of(xp)[0] == 0:
        raise ValueError("interp: array of sample points is empty")
    if period is not None:
        x, xp, fp = _periodic(x, xp, fp, period)
        left = right = None
    left = fp[0] if left is None else prims.convert(array(left), dtype)
    right = fp[-1] if right is None else prims.convert(array(right), dtype)
    if shape_of(xp)[0] == 1:  # NumPy's one-point case: no NaN check
        return prims.where(prims.less(x, xp[0]), left,
                           prims.where(prims.greater(x, xp[0]), right, fp[0]))
    out = prims.where(prims.less(x, xp[0]), left,
                      prims.where(prims.greater(x, xp[-1]), right, _interp_inside(x, xp, fp)))
    return prims.where(_el.isnan(x), prims.convert(x, dtype), out)


@export
def unwrap(p, discont=None, axis: int = -1, *, period=2 * np.pi):
    """p with each jump along `axis` larger than `discont` (period/2 by default) replaced by
    its complement modulo `period`. NOTE: the corrections are whole periods, constant in p,
    so d unwrap / dp is the identity."""
    p = array(p)
    axis = one_axis(axis, ndim(p))
    dd = prims.stop_gradient(diff(p, axis=axis))
    if discont is None:
        discont = period / 2
    dtype = np.result_type(dtype_of(dd), dtype_of(period) if isinstance(period, Tracer)
                           else period)
    if dtype.kind in "iu":
        high, rem = divmod(period, 2)
        ambiguous = rem == 0
    else:
        high, ambiguous = period / 2, True
    low = -high
    ddmod = prims.add(_el.remainder(prims.sub(dd, low), period), low)
    if ambiguous:  # a jump of exactly half a period goes the way the jump went
        ddmod = prims.where(_el.logical_and(prims.equal(ddmod, low), prims.greater(dd, 0)),
                            high, ddmod)
    correction = prims.where(prims.less(prims.abs(dd), discont), 0, prims.sub(ddmod, dd))
    up = prims.convert(p, dtype)
    rest = prims.add(p[along(axis, slice(1, None))], cumsum(correction, axis))
    return concatenate([up[along(axis, slice(0, 1))], prims.convert(rest, dtype)], axis)


# ----------------------------------------------------------------------------- editing

def _index_obj(obj):
    """delete's and insert's obj: a slice as it is, integers read concretely (an index
    carries no derivative)."""
    if isinstance(obj, slice):
        return obj
    return obj.concrete() if isinstance(obj, Tracer) else obj


def _edit_axis(arr, axis):
    """(arr, axis) with NumPy's default: the flattened array."""
    x = array(arr)
    if axis is None:
        return ravel(x), 0
    return x, one_axis(axis, ndim(x))


@export
def delete(arr, obj, axis=None):
    """arr without the entries (slices along `axis`) at obj: an int, a slice, integers or a
    boolean mask; of the flattened array when axis is None."""
    x, axis = _edit_axis(arr, axis)
    n = shape_of(x)[axis]
    positions = np.arange(n).reshape((1,) * axis + (n,))
    kept = np.delete(positions, _index_obj(obj), axis).ravel()  # NumPy's reading and errors
    return take(x, kept, axis)


def _insert_indices(obj, n: int):
    """insert's obj as NumPy reads it: an integer array (or 0-d integer)."""
    if isinstance(obj, slice):
        return np.arange(*obj.indices(n), dtype=np.intp)
    indices = np.array(obj)
    if indices.dtype == bool:
        if indices.ndim != 1:
            raise ValueError("boolean array argument obj to insert must be one dimensional")
        return np.flatnonzero(indices)
    if indices.ndim > 1:
        raise ValueError("index array argument obj to insert must be one dimensional or "
                         "scalar")
    if indices.size == 0 and not isinstance(obj, np.ndarray):
        indices = indices.astype(np.intp)
    if indices.dtype.kind not in "iu":
        raise IndexError(f"insert: obj must be integers, a boolean mask or a slice, got "
                         f"dtype {indices.dtype}")
    return indices


@export
def insert(arr, obj, values, axis=None):
    """arr with `values` inserted before the index (or indices) obj along `axis` (of the
    flattened array by default); values are cast to arr's dtype and broadcast as NumPy's."""
    x, axis = _edit_axis(arr, axis)
    shape, n = shape_of(x), shape_of(x)[axis]
    indices = _insert_indices(_index_obj(obj), n)
    if np.any((indices < -n) | (indices > n)):
        raise IndexError(f"index {obj} is out of bounds for axis {axis} with size {n}")
    values = prims.convert(array(values), dtype_of(x))
    values = reshape(values, (1,) * (len(shape) - ndim(values)) + shape_of(values))
    if indices.size == 1:
        index = int(indices.item())
        index = index + n if index < 0 else index
        if indices.ndim == 0:  # x[:, i] = v reads as x[:, i:i+1] = v, as NumPy's
            values = moveaxis(values, 0, axis)
        block = broadcast_to(values, shape[:axis] + (shape_of(values)[axis],) + shape[axis + 1:])
        return concatenate([x[along(axis, slice(None, index))], block,
                            x[along(axis, slice(index, None))]], axis)
    indices = np.where(indices < 0, indices + n, indices)
    new = len(indices)
    indices[np.argsort(indices, kind="stable")] += np.arange(new)
    source = np.empty(n + new, np.intp)
    source[indices] = n + np.arange(new)
    source[np.isin(np.arange(n + new), indices, invert=True)] = np.arange(n)
    block = broadcast_to(values, shape[:axis] + (new,) + shape[axis + 1:])
    return take(concatenate([x, block], axis), source, axis)


@export
def resize(a, new_shape):
    """The flattened a repeated (or cut) to fill new_shape (zeros for an empty a)."""
    new_shape = (new_shape,) if isinstance(new_shape, (int, np.integer)) else tuple(new_shape)
    if any(n < 0 for n in new_shape):
        raise ValueError("all elements of `new_shape` must be non-negative")
    x = ravel(array(a))
    count = int(np.prod(new_shape))
    if size(x) == 0 or count == 0:
        return np.zeros(new_shape, dtype_of(x))
    return reshape(take(x, np.arange(count) % size(x)), new_shape)


@export
def trim_zeros(filt, trim: str = "fb", axis=None):
    """filt without its leading ('f') and trailing ('b') zeros along `axis` (every axis by
    default: the box around the nonzero entries). An array, also for a list input."""
    x = array(filt)
    trim = trim.lower()
    if trim not in ("fb", "bf", "f", "b"):
        raise ValueError(f"unexpected character(s) in `trim`: {trim!r}")
    nd = ndim(x)
    nonzero = _el.not_equal(x, 0)
    for a in axes(axis, nd):
        others = tuple(i for i in range(nd) if i != a)
        along_a = any_(nonzero, others) if others else nonzero
        x = keep(x, between_nonzeros(along_a, trim), a, "trim_zeros's result length")
    return x


def _choices(choices) -> list:
    """The choices, Python numbers kept as they are (weak in the result dtype)."""
    if isinstance(choices, (list, tuple)):  # nested lists are array_like, as in NumPy
        return [as_array(c) if isinstance(c, (list, tuple)) else c for c in choices]
    choices = array(choices)
    return [choices[i] for i in range(shape_of(choices)[0])]


@export(method={"choose": lambda self, choices, out=None, mode="raise": choose(
    self, choices, out, mode)})
def choose(a, choices, out=None, mode: str = "raise"):
    """choices[a[i]][i] for every i (a: integers, broadcast against the choices); mode
    'raise' checks a, 'wrap' and 'clip' bring it into range. Differentiable in the choices."""
    no_out(out, "choose")
    index = np.asarray(a.concrete() if isinstance(a, Tracer) else a)
    if index.dtype.kind not in "iub":
        raise TypeError(f"choose: a must be integers, got dtype {index.dtype}")
    arrays = _choices(choices)
    n = len(arrays)
    index = index_mode(index, n, mode)
    if mode == "raise" and np.any((index < 0) | (index >= n)):
        raise ValueError(f"invalid entry in choice array: a must be in [0, {n})")
    shape = np.broadcast_shapes(index.shape, *[shape_of(c) for c in arrays])
    dtype = result_type(*arrays)
    stacked = stack([broadcast_to(prims.convert(array(c), dtype), shape) for c in arrays])
    return take_along_axis(stacked, np.broadcast_to(index, shape)[None], 0)[0]


def _block_depth(arrays, where: str = "arrays") -> tuple[int, int]:
    """(list depth, largest ndim of the leaves), checking NumPy's rules on the nesting."""
    if isinstance(arrays, tuple):
        raise TypeError(f"{where} is a tuple. Only lists can be used to arrange blocks, and "
                        "np.block does not allow implicit conversion from tuple to ndarray.")
    if not isinstance(arrays, list):
        return 0, ndim(arrays)
    if not arrays:
        raise ValueError(f"List at {where} cannot be empty")
    found = [_block_depth(a, f"{where}[{i}]") for i, a in enumerate(arrays)]
    if len({d for d, _ in found}) > 1:
        raise ValueError(f"List depths are mismatched in {where}: its elements are nested "
                         f"{sorted({d for d, _ in found})} deep")
    return found[0][0] + 1, max(nd for _, nd in found)


def _assemble(arrays, depth: int, nd: int):
    if not isinstance(arrays, list):
        x = array(arrays)
        return reshape(x, (1,) * (nd - ndim(x)) + shape_of(x))
    return concatenate([_assemble(a, depth - 1, nd) for a in arrays], -depth)


@export
def block(arrays):
    """One array from nested lists of blocks: the innermost lists joined along the last
    axis, the next along the second-to-last, and so on."""
    depth, nd = _block_depth(arrays)
    return _assemble(arrays, depth, max(depth, nd))


@export
def row_stack(tup, *, dtype=None, casting: str = "same_kind"):
    """NumPy's deprecated name of vstack."""
    warnings.warn("`row_stack` alias is deprecated. Use `np.vstack` directly.",
                  DeprecationWarning, stacklevel=2)
    return vstack(tup, dtype=dtype, casting=casting)


# ----------------------------------------------------------------------------- checks

@export
def asarray_chkfinite(a, dtype=None, order=None):
    """asarray(a, dtype), refusing NaN and infinities (a ValueError)."""
    x = asarray(a, dtype, order)
    if inexact(x) and not flag(all_(_el.isfinite(x)), "asarray_chkfinite's check"):
        raise ValueError("array must not contain infs or NaNs")
    return x


@export
def real_if_close(a, tol=100):
    """The real part of a complex a whose imaginary parts are all within tol (in machine
    epsilons when tol > 1) of zero; a itself otherwise."""
    x = array(a)
    if dtype_of(x).kind != "c":
        return x
    if tol > 1:
        tol = np.finfo(dtype_of(x)).eps * tol
    close = all_(prims.less(prims.abs(_el.imag(x)), tol))
    return _el.real(x) if flag(close, "real_if_close's result dtype") else x
