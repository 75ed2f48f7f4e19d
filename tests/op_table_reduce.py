"""Op-table rows for the reduce part of the NumPy surface (see op_spec.py): reductions,
cumulative ops, sorting and selection, and NumPy's ufunc methods on traced values.

Rows stay away from ties (the "distinct" domain) and zeros of `prod`/`cumprod`, where finite
differences break; tests/test_reductions.py checks those points with analytic values."""

from __future__ import annotations

import numpy as np

import autodx as ad
from op_spec import OpSpec
from op_spec import unary_op as _unary

anp = ad.numpy

SHAPE = (2, 3, 4)
# axis variants: None, an int, a negative int, a tuple; keepdims on some
AXES = [(None, False), (1, False), (-1, True), ((0, 2), False), ((0, -1), True)]


def _near_one(rng, shape):
    """Signs mixed, magnitudes near 1: products of many stay O(1), with no zero."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.7, 1.3, shape)


def _with_nans(base):
    """`base` with NaN at every fifth element (no slice of SHAPE along an axis is all NaN)."""
    def domain(rng, shape):
        x = base(rng, shape).astype(np.float64)
        x.flat[::5] = np.nan
        return x
    return domain


def _real(rng, shape):
    return rng.uniform(-2.0, 2.0, shape)


def _distinct(rng, shape):
    return rng.permutation(np.linspace(-2.0, 2.0, int(np.prod(shape)))).reshape(shape)


def _some_zeros(rng, shape):
    return rng.choice([0.0, 0.0, 1.0, -2.0], shape)


def _fixed_zeros(rng, shape):
    """Zeros at the same places in every draw (vmap of nonzero needs equal counts)."""
    return np.where(np.arange(np.prod(shape)).reshape(shape) % 3 == 0, 0.0,
                    rng.uniform(0.5, 2.0, shape))


def _repeats(rng, shape):
    """Four distinct values, each three times, in random order (for unique)."""
    return rng.permutation(np.repeat(rng.permutation([-1.5, 0.5, 2.0, 3.0]), 3)).reshape(shape)


def _repeated_rows(rng, shape):
    a, b = rng.uniform(-2.0, 2.0, (2, shape[1]))
    return np.stack([a, b, a, b][: shape[0]])


def _sorted(rng, shape):
    return np.sort(rng.uniform(-2.0, 2.0, shape))


def _axis_rows(name, fn, ref, domain, **kw):
    """One row per axis variant in AXES; fn(x, axis, keepdims). `complex=True` (holomorphic
    functions) also checks each with complex inputs."""
    return [_unary(f"{name} axis={axis} keepdims={keep}",
                   lambda x, a=axis, k=keep: fn(x, a, k),
                   lambda x, a=axis, k=keep: ref(x, a, k), domain, SHAPE, **kw)
            for axis, keep in AXES]


def _std_ddof1(x, axis, keepdims, m):
    return m.std(x, axis, ddof=1, keepdims=keepdims)


W1 = np.array([0.5, 1.5, 2.0])  # average's weights along axis 1 of SHAPE

OPS: list[OpSpec] = [
    # ---- sums, products, means
    *_axis_rows("sum", lambda x, a, k: anp.sum(x, a, keepdims=k),
                lambda x, a, k: np.sum(x, a, keepdims=k), _real, complex=True),
    *_axis_rows("prod", lambda x, a, k: anp.prod(x, a, keepdims=k),
                lambda x, a, k: np.prod(x, a, keepdims=k), _near_one, complex=True),
    *_axis_rows("mean", lambda x, a, k: anp.mean(x, a, keepdims=k),
                lambda x, a, k: np.mean(x, a, keepdims=k), _real, complex=True),
    *_axis_rows("var", lambda x, a, k: anp.var(x, a, keepdims=k),
                lambda x, a, k: np.var(x, a, keepdims=k), _real),
    *_axis_rows("std ddof=1", lambda x, a, k: _std_ddof1(x, a, k, anp),
                lambda x, a, k: _std_ddof1(x, a, k, np), _real),
    _unary("var ddof=1", lambda x: anp.var(x, 0, ddof=1), lambda x: np.var(x, 0, ddof=1)),
    _unary("std", lambda x: anp.std(x, -1), lambda x: np.std(x, -1)),
    _unary("sum initial", lambda x: anp.sum(x, 0, initial=2.0),
           lambda x: np.sum(x, 0, initial=2.0)),
    _unary("prod dtype float64", lambda x: anp.prod(x, 1, dtype=np.float64),
           lambda x: np.prod(x, 1, dtype=np.float64), _near_one),
    _unary("prod odd length 5 and 7", lambda x: anp.prod(x, 1) + anp.prod(x[:, :5], 1),
           lambda x: np.prod(x, 1) + np.prod(x[:, :5], 1), _near_one, (2, 7)),
    OpSpec("average axis=1 with weights (both differentiable)",
           lambda x, w: anp.average(x, 1, w), lambda x, w: np.average(x, 1, w),
           (SHAPE, (3,)), (_real, "positive"), complex=True),
    OpSpec("average axis=None, weights of a's shape, returned, keepdims",
           lambda x, w: anp.multiply(*anp.average(x, None, w, True, keepdims=True)),
           lambda x, w: np.multiply(*np.average(x, None, w, True, keepdims=True)),
           ((3, 4), (3, 4)), (_real, "positive")),
    _unary("average axis=(0, 2), no weights", lambda x: anp.average(x, (0, 2)),
           lambda x: np.average(x, (0, 2)), shape=SHAPE),
    _unary("average constant weights", lambda x: anp.average(x, -2, W1),
           lambda x: np.average(x, -2, W1), shape=SHAPE),
    # ---- max, min, ptp (distinct values: no ties)
    *_axis_rows("max", lambda x, a, k: anp.max(x, a, keepdims=k),
                lambda x, a, k: np.max(x, a, keepdims=k), _distinct, complex=True),
    *_axis_rows("min", lambda x, a, k: anp.min(x, a, keepdims=k),
                lambda x, a, k: np.min(x, a, keepdims=k), _distinct, complex=True),
    *_axis_rows("ptp", lambda x, a, k: anp.ptp(x, a, keepdims=k),
                lambda x, a, k: np.ptp(x, a, keepdims=k), _distinct, complex=True),
    _unary("amax", lambda x: anp.amax(x, 0), lambda x: np.amax(x, 0), _distinct),
    _unary("amin", lambda x: anp.amin(x, (0, 1)), lambda x: np.amin(x, (0, 1)), _distinct),
    _unary("max initial", lambda x: anp.max(x, 1, initial=0.3),
           lambda x: np.max(x, 1, initial=0.3), _distinct),
    # ---- NaN-ignoring
    *_axis_rows("nansum", lambda x, a, k: anp.nansum(x, a, keepdims=k),
                lambda x, a, k: np.nansum(x, a, keepdims=k), _with_nans(_real), complex=True),
    *_axis_rows("nanmean", lambda x, a, k: anp.nanmean(x, a, keepdims=k),
                lambda x, a, k: np.nanmean(x, a, keepdims=k), _with_nans(_real), complex=True),
    *_axis_rows("nanmax", lambda x, a, k: anp.nanmax(x, a, keepdims=k),
                lambda x, a, k: np.nanmax(x, a, keepdims=k), _with_nans(_distinct)),
    *_axis_rows("nanmin", lambda x, a, k: anp.nanmin(x, a, keepdims=k),
                lambda x, a, k: np.nanmin(x, a, keepdims=k), _with_nans(_distinct)),
    *_axis_rows("nanprod", lambda x, a, k: anp.nanprod(x, a, keepdims=k),
                lambda x, a, k: np.nanprod(x, a, keepdims=k), _with_nans(_near_one)),
    *_axis_rows("nanvar", lambda x, a, k: anp.nanvar(x, a, keepdims=k),
                lambda x, a, k: np.nanvar(x, a, keepdims=k), _with_nans(_real)),
    _unary("nanstd ddof=1", lambda x: anp.nanstd(x, (0, 2), ddof=1),
           lambda x: np.nanstd(x, (0, 2), ddof=1), _with_nans(_real), SHAPE),
    _unary("nancumsum", lambda x: anp.nancumsum(x, 1), lambda x: np.nancumsum(x, 1),
           _with_nans(_real), SHAPE),
    _unary("nancumprod", anp.nancumprod, np.nancumprod, _with_nans(_near_one), SHAPE),
    # ---- median, quantile (distinct values: no ties)
    *_axis_rows("median", lambda x, a, k: anp.median(x, a, keepdims=k),
                lambda x, a, k: np.median(x, a, keepdims=k), _distinct),
    *[_unary(f"quantile q={q} axis={axis} keepdims={keep}", lambda x, q=q, a=axis, k=keep:
             anp.quantile(x, q, a, keepdims=k), lambda x, q=q, a=axis, k=keep: np.quantile(
                 x, q, a, keepdims=k), _distinct, SHAPE)
      for q, axis, keep in [(0.3, None, False), ([0.0, 0.25, 0.9, 1.0], -1, False),
                            (np.array([[0.1], [0.5]]), (0, 2), True)]],
    _unary("percentile", lambda x: anp.percentile(x, 40, 1), lambda x: np.percentile(x, 40, 1),
           _distinct, SHAPE),
    # ---- cumulative
    *[_unary(f"{name} axis={axis}", lambda x, f=f, a=axis: f(x, a),
             lambda x, r=r, a=axis: r(x, a), domain, SHAPE, complex=True)
      for name, f, r, domain in [("cumsum", anp.cumsum, np.cumsum, _real),
                                 ("cumprod", anp.cumprod, np.cumprod, _near_one)]
      for axis in (None, 1, -1)],
    _unary("cumprod length 5", lambda x: anp.cumprod(x, 1), lambda x: np.cumprod(x, 1),
           _near_one, (2, 5)),
    _unary("cumulative_sum include_initial", lambda x: anp.cumulative_sum(
        x, axis=-1, include_initial=True), lambda x: np.cumulative_sum(
        x, axis=-1, include_initial=True), shape=SHAPE, complex=True),
    _unary("cumulative_prod 1-D", anp.cumulative_prod, np.cumulative_prod, _near_one, (5,),
           complex=True),
    _unary("diff", anp.diff, np.diff, shape=SHAPE, complex=True),
    _unary("ediff1d to_begin, to_end", lambda x: anp.ediff1d(x, 2.0, [0.5, 1.0]),
           lambda x: np.ediff1d(x, 2.0, [0.5, 1.0]), shape=(3, 2)),
    _unary("diff n=2 axis=0", lambda x: anp.diff(x, 2, axis=0),
           lambda x: np.diff(x, 2, axis=0), shape=(4, 3)),
    _unary("diff prepend scalar, append array", lambda x: anp.diff(
        x, axis=1, prepend=0.5, append=np.ones((2, 2, 4))), lambda x: np.diff(
        x, axis=1, prepend=0.5, append=np.ones((2, 2, 4))), shape=SHAPE),
    OpSpec("diff append differentiable", lambda x, y: anp.diff(x, append=y),
           lambda x, y: np.diff(x, append=y), ((3, 4), (3, 1))),
    # ---- logical and counts (no derivative)
    *[_unary(f"{name} axis={axis} keepdims={keep}", lambda x, f=f, a=axis, k=keep: f(
        x, a, keepdims=k), lambda x, r=r, a=axis, k=keep: r(x, a, keepdims=k), _some_zeros,
        SHAPE, nondiff=True)
      for name, f, r in [("all", anp.all, np.all), ("any", anp.any, np.any),
                         ("count_nonzero", anp.count_nonzero, np.count_nonzero)]
      for axis, keep in [(None, False), (-1, True), ((0, 1), False)]],
    # ---- argmax, argmin (no derivative)
    *[_unary(f"{name} axis={axis} keepdims={keep}", lambda x, f=f, a=axis, k=keep: f(
        x, a, keepdims=k), lambda x, r=r, a=axis, k=keep: r(x, a, keepdims=k), _distinct,
        SHAPE, nondiff=True)
      for name, f, r in [("argmax", anp.argmax, np.argmax), ("argmin", anp.argmin, np.argmin)]
      for axis, keep in [(None, False), (None, True), (1, False), (-1, True)]],
    *[_unary(f"{name} axis={axis} keepdims={keep}", lambda x, f=f, a=axis, k=keep: f(
        x, a, keepdims=k), lambda x, r=r, a=axis, k=keep: r(x, a, keepdims=k),
        _with_nans(_distinct), SHAPE, nondiff=True)
      for name, f, r in [("nanargmax", anp.nanargmax, np.nanargmax),
                         ("nanargmin", anp.nanargmin, np.nanargmin)]
      for axis, keep in [(None, False), (1, True)]],
    # ---- sorting
    *[_unary(f"sort axis={axis}", lambda x, a=axis: anp.sort(x, a),
             lambda x, a=axis: np.sort(x, a), _distinct, SHAPE, complex=True)
      for axis in (-1, 0, None)],
    *[_unary(f"argsort axis={axis}", lambda x, a=axis: anp.argsort(x, a),
             lambda x, a=axis: np.argsort(x, a), _distinct, SHAPE, nondiff=True)
      for axis in (-1, 1, None)],
    _unary("sort_complex (real part)", lambda x: anp.real(anp.sort_complex(x)),
           lambda x: np.real(np.sort_complex(x)), _distinct, SHAPE, complex=True),
    _unary("argsort stable with ties", lambda x: anp.argsort(x, stable=True),
           lambda x: np.argsort(x, stable=True), _repeats, (3, 4), nondiff=True),
    *[_unary(f"partition kth={kth} axis={axis}", lambda x, k=kth, a=axis: anp.partition(
        x, k, a), lambda x, k=kth, a=axis: np.partition(x, k, a), _distinct, SHAPE,
        complex=True)
      for kth, axis in [(1, -1), ((0, 2), 1), (-1, 0)]],
    _unary("argpartition", lambda x: anp.argpartition(x, 2), lambda x: np.argpartition(x, 2),
           _distinct, SHAPE, nondiff=True),
    *[OpSpec(f"searchsorted side={side}", lambda a, v, s=side: anp.searchsorted(a, v, s),
             lambda a, v, s=side: np.searchsorted(a, v, s), ((6,), (3, 2)), (_sorted, _real),
             nondiff=True) for side in ("left", "right")],
    OpSpec("searchsorted sorter", lambda a, v: anp.searchsorted(a, v, sorter=np.arange(6)[::-1]),
           lambda a, v: np.searchsorted(a, v, sorter=np.arange(6)[::-1]),
           ((6,), (4,)), (lambda rng, shape: _sorted(rng, shape)[::-1], _real), nondiff=True),
    # ---- nonzero, unique (no derivative)
    _unary("nonzero", lambda x: anp.stack(anp.nonzero(x)), lambda x: np.stack(np.nonzero(x)),
           _fixed_zeros, SHAPE, nondiff=True),
    _unary("argwhere", anp.argwhere, np.argwhere, _fixed_zeros, SHAPE, nondiff=True),
    _unary("flatnonzero", anp.flatnonzero, np.flatnonzero, _fixed_zeros, nondiff=True),
    _unary("unique", anp.unique, np.unique, _repeats, nondiff=True),
    *[_unary(f"unique return_{part}", lambda x, p=part: anp.unique(x, **{f"return_{p}": True})[1],
             lambda x, p=part: np.unique(x, **{f"return_{p}": True})[1], _repeats,
             nondiff=True) for part in ("index", "inverse", "counts")],
    _unary("unique axis=0", lambda x: anp.unique(x, axis=0), lambda x: np.unique(x, axis=0),
           _repeated_rows, nondiff=True),
    # ---- NumPy's ufunc methods on traced values (axis 0 by default)
    _unary("np.add.reduce", np.add.reduce, np.add.reduce, shape=SHAPE, complex=True),
    _unary("np.add.reduce axis=(0, 2) keepdims", lambda x: np.add.reduce(
        x, axis=(0, 2), keepdims=True), lambda x: np.add.reduce(x, axis=(0, 2), keepdims=True),
        shape=SHAPE),
    _unary("np.multiply.reduce axis=-1", lambda x: np.multiply.reduce(x, axis=-1),
           lambda x: np.multiply.reduce(x, axis=-1), _near_one, SHAPE),
    _unary("np.maximum.reduce", np.maximum.reduce, np.maximum.reduce, _distinct, SHAPE),
    _unary("np.minimum.reduce axis=None", lambda x: np.minimum.reduce(x, axis=None),
           lambda x: np.minimum.reduce(x, axis=None), _distinct, SHAPE),
    _unary("np.add.accumulate", np.add.accumulate, np.add.accumulate, shape=SHAPE),
    _unary("np.multiply.accumulate axis=2", lambda x: np.multiply.accumulate(x, axis=2),
           lambda x: np.multiply.accumulate(x, axis=2), _near_one, SHAPE, complex=True),
]
