"""Op-table rows for the rest of NumPy: statistics, polynomials, calculus (see op_spec.py).

Order statistics draw distinct values (no ties); the NaN-ignoring ones have NaN at fixed
places. Rows whose result length depends on the values (trim_zeros, roots, the set
functions) draw inputs that give every example the same length, as vmap needs."""

from __future__ import annotations

import warnings

import numpy as np

import autodx as ad
from op_spec import OpSpec

anp = ad.numpy


def _distinct(rng, shape):
    return rng.permutation(np.linspace(-2.0, 2.0, int(np.prod(shape)))).reshape(shape)


def _distinct_with_nans(rng, shape):
    """Distinct values with NaN at every fifth element (no slice is NaN only)."""
    x = _distinct(rng, shape)
    x.flat[::5] = np.nan
    return x


def _increasing(rng, shape):
    """Coordinates 0.5 to 1.5 apart."""
    return np.cumsum(rng.uniform(0.5, 1.5, shape), axis=-1)


def _repeats(rng, shape):
    """Four distinct values, each three times, in random order (for the unique functions)."""
    return rng.permutation(np.repeat(rng.permutation([-1.5, 0.5, 2.0, 3.0]), 3)).reshape(shape)


def _nonzero(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)


def _one(name, fn, ref, shape, domain="real", **kw) -> OpSpec:
    return OpSpec(name, fn, ref, (shape,), (domain,), **kw)


def _both(name, fn, ref, shapes, domains=("real", "real"), **kw) -> OpSpec:
    return OpSpec(name, fn, ref, shapes, domains, **kw)


def _quietly(fn):
    """fn with its DeprecationWarning silenced (row_stack)."""
    def call(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return fn(*args)
    return call


# zeros that stay zeros when finite differences perturb x (trim_zeros' result length is fixed)
PADDED = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0])
BOX = np.zeros((4, 5))
BOX[1:3, 1:4] = 1.0
XP = np.array([-1.0, 0.0, 0.5, 2.0])
IDX = np.array([[0, 1, 2, 1], [2, 0, 1, 0], [1, 1, 0, 2]])
AWEIGHTS = np.array([0.5, 1.0, 2.0, 1.5, 1.0, 0.25])
FWEIGHTS = np.array([1, 2, 1, 3, 1, 1])
C = 0.6 - 0.8j  # a complex constant: real(f(x) * C) sees both parts of a complex f(x)

STATISTICS = [
    _one("nanmedian", anp.nanmedian, np.nanmedian, (3, 5), _distinct_with_nans),
    _one("nanmedian axis=1 keepdims", lambda x: anp.nanmedian(x, 1, keepdims=True),
         lambda x: np.nanmedian(x, 1, keepdims=True), (3, 5), _distinct_with_nans),
    _one("nanmedian of integers", lambda x: x * anp.nanmedian(np.arange(6)),
         lambda x: x * np.nanmedian(np.arange(6)), (2,)),
    _one("nanquantile q=0.3 axis=1", lambda x: anp.nanquantile(x, 0.3, axis=1),
         lambda x: np.nanquantile(x, 0.3, axis=1), (3, 5), _distinct_with_nans),
    *[_one(f"nanquantile q=[0.2, 0.9] axis=0 method={m}",
           lambda x, m=m: anp.nanquantile(x, np.array([0.2, 0.9]), 0, method=m),
           lambda x, m=m: np.nanquantile(x, np.array([0.2, 0.9]), 0, method=m), (5, 3),
           _distinct_with_nans)
      for m in ("hazen", "nearest", "midpoint", "averaged_inverted_cdf")],
    _one("nanpercentile q=40", lambda x: anp.nanpercentile(x, 40),
         lambda x: np.nanpercentile(x, 40), (3, 5), _distinct_with_nans),
    _one("cov", anp.cov, np.cov, (3, 6)),
    _both("cov x, y rowvar=False bias", lambda x, y: anp.cov(x, y, rowvar=False, bias=True),
          lambda x, y: np.cov(x, y, rowvar=False, bias=True), ((6, 2), (6,))),
    _both("cov aweights (differentiable) fweights", lambda x, w: anp.cov(
        x, fweights=FWEIGHTS, aweights=w), lambda x, w: np.cov(x, fweights=FWEIGHTS, aweights=w),
          ((3, 6), (6,)), ("real", "positive")),
    _one("cov ddof=0 aweights", lambda x: anp.cov(x, ddof=0, aweights=AWEIGHTS),
         lambda x: np.cov(x, ddof=0, aweights=AWEIGHTS), (2, 6)),
    _one("corrcoef", anp.corrcoef, np.corrcoef, (3, 6)),
    _both("corrcoef x, y", anp.corrcoef, np.corrcoef, ((6,), (6,))),
    # ---- sets and equality (no derivative)
    _one("isin", lambda x: anp.isin(x, x[:, 1]), lambda x: np.isin(x, x[:, 1]), (3, 4),
         _distinct, nondiff=True),
    _one("isin invert", lambda x: anp.isin(x, [x[0, 0], 9.0], invert=True),
         lambda x: np.isin(x, [x[0, 0], 9.0], invert=True), (3, 4), _distinct, nondiff=True),
    _both("union1d", anp.union1d, np.union1d, ((3, 2), (4,)), (_distinct, _distinct),
          nondiff=True),
    _one("intersect1d", lambda x: anp.intersect1d(x, x[1:3] * 1.0),
         lambda x: np.intersect1d(x, x[1:3] * 1.0), (5,), _distinct, nondiff=True),
    _one("intersect1d return_indices", lambda x: anp.stack(anp.intersect1d(
        x, x[::2][::-1], return_indices=True)[1:]), lambda x: np.stack(np.intersect1d(
            x, x[::2][::-1], return_indices=True)[1:]), (5,), _distinct, nondiff=True),
    _one("setdiff1d", lambda x: anp.setdiff1d(x, x[:2]), lambda x: np.setdiff1d(x, x[:2]),
         (5,), _distinct, nondiff=True),
    _one("setxor1d", lambda x: anp.setxor1d(x[:3], x[1:]), lambda x: np.setxor1d(x[:3], x[1:]),
         (5,), _distinct, nondiff=True),
    _one("unique_values", lambda x: anp.sort(anp.unique_values(x)),
         lambda x: np.sort(np.unique_values(x)), (12,), _repeats, nondiff=True),
    _one("unique_counts", lambda x: anp.unique_counts(x).counts,
         lambda x: np.unique_counts(x).counts, (12,), _repeats, nondiff=True),
    _one("unique_inverse", lambda x: anp.unique_inverse(x).inverse_indices,
         lambda x: np.unique_inverse(x).inverse_indices, (3, 4), _repeats, nondiff=True),
    _one("unique_all", lambda x: anp.stack(anp.unique_all(x)[1::3]),
         lambda x: np.stack(np.unique_all(x)[1::3]), (12,), _repeats, nondiff=True),
    # (NumPy's answer is a Python bool; np.bool_ has the .astype the checks use)
    _both("array_equal", anp.array_equal, lambda x, y: np.bool_(np.array_equal(x, y)),
          ((3, 4), (3, 4)), nondiff=True),
    _one("array_equal equal_nan", lambda x: anp.array_equal(x, x * 1.0, equal_nan=True),
         lambda x: np.bool_(np.array_equal(x, x * 1.0, equal_nan=True)), (3, 5),
         _distinct_with_nans, nondiff=True),
    _one("array_equiv", lambda x: anp.array_equiv(x, x[:1]),
         lambda x: np.bool_(np.array_equiv(x, x[:1])), (3, 4), nondiff=True),
]

CALCULUS = [
    _one("trapezoid", anp.trapezoid, np.trapezoid, (3, 5)),
    _both("trapezoid x 1-D axis=0", lambda y, x: anp.trapezoid(y, x, axis=0),
          lambda y, x: np.trapezoid(y, x, axis=0), ((4, 3), (4,)), ("real", _increasing)),
    _one("trapezoid dx", lambda y: anp.trapezoid(y, dx=0.3), lambda y: np.trapezoid(y, dx=0.3),
         (5,)),
    _one("gradient", lambda f: anp.stack(anp.gradient(f)), lambda f: np.stack(np.gradient(f)),
         (3, 5)),
    _one("gradient spacing edge_order=2", lambda f: anp.stack(anp.gradient(f, 0.5, 2.0,
                                                                           edge_order=2)),
         lambda f: np.stack(np.gradient(f, 0.5, 2.0, edge_order=2)), (3, 5)),
    *[_both(f"gradient coordinates edge_order={k}",
            lambda f, x, k=k: anp.gradient(f, x, axis=1, edge_order=k),
            lambda f, x, k=k: np.gradient(f, x, axis=1, edge_order=k), ((3, 5), (5,)),
            ("real", _increasing)) for k in (1, 2)],
    _both("interp", lambda x, fp: anp.interp(x, XP, fp), lambda x, fp: np.interp(x, XP, fp),
          ((3, 4), (4,)), (lambda rng, s: rng.uniform(-1.5, 2.5, s), "real")),
    OpSpec("interp in xp too, left, right", lambda x, xp, fp: anp.interp(x, xp, fp, -3.0, 4.0),
           lambda x, xp, fp: np.interp(x, xp, fp, -3.0, 4.0), ((6,), (4,), (4,)),
           (lambda rng, s: rng.uniform(0.0, 6.0, s), _increasing, "real")),
    _both("interp period", lambda x, fp: anp.interp(x, XP, fp, period=3.0),
          lambda x, fp: np.interp(x, XP, fp, period=3.0), ((5,), (4,)),
          (lambda rng, s: rng.uniform(-4.0, 4.0, s), "real")),
    _one("unwrap", anp.unwrap, np.unwrap, (2, 6), lambda rng, s: rng.uniform(-4.0, 4.0, s)),
    _one("unwrap axis=0 period", lambda p: anp.unwrap(p, axis=0, period=3.0),
         lambda p: np.unwrap(p, axis=0, period=3.0), (6, 2)),
    # ---- editing
    _one("delete", lambda x: anp.delete(x, [0, 2], axis=1),
         lambda x: np.delete(x, [0, 2], axis=1), (3, 4)),
    _one("delete slice, flattened", lambda x: anp.delete(x, slice(1, None, 3)),
         lambda x: np.delete(x, slice(1, None, 3)), (3, 4)),
    _both("insert", lambda x, v: anp.insert(x, 1, v, axis=1),
          lambda x, v: np.insert(x, 1, v, axis=1), ((3, 4), (3,))),
    _both("insert indices, flattened", lambda x, v: anp.insert(x, [1, 4, 4], v),
          lambda x, v: np.insert(x, [1, 4, 4], v), ((2, 3), (3,))),
    _one("resize", lambda x: anp.resize(x, (4, 5)), lambda x: np.resize(x, (4, 5)), (3, 2)),
    _one("trim_zeros", lambda x: anp.trim_zeros(x * PADDED), lambda x: np.trim_zeros(
        x * PADDED), (7,), _nonzero),
    _one("trim_zeros 'b' 2-D", lambda x: anp.trim_zeros(x * BOX, "b"),
         lambda x: np.trim_zeros(x * BOX, "b"), (4, 5), _nonzero),
    _both("choose", lambda x, y: anp.choose(IDX, [x, y, 2.0]),
          lambda x, y: np.choose(IDX, [x, y, 2.0]), ((3, 4), (4,))),
    OpSpec("block", lambda a, b, c: anp.block([[a, b], [c, 1.0]]),
           lambda a, b, c: np.block([[a, b], [c, 1.0]]), ((2, 2), (2, 1), (1, 2))),
    _both("row_stack", _quietly(lambda x, y: anp.row_stack([x, y])),
          _quietly(lambda x, y: np.vstack([x, y])), ((3,), (2, 3))),
    _one("asarray_chkfinite", anp.asarray_chkfinite, np.asarray_chkfinite, (3, 4)),
    _one("real_if_close", lambda x: anp.real_if_close(x * (1 + 0j)),
         lambda x: np.real_if_close(x * (1 + 0j)), (3, 4)),
]

POLYNOMIALS = [
    _both("polyval", anp.polyval, np.polyval, ((4,), (2, 3))),
    _both("polyadd", anp.polyadd, np.polyadd, ((3,), (5,)), complex=True),
    _both("polysub", anp.polysub, np.polysub, ((5,), (2,))),
    _both("polymul", anp.polymul, np.polymul, ((3,), (4,)), (_nonzero, _nonzero)),
    _both("polydiv", lambda u, v: anp.concatenate(anp.polydiv(u, v)),
          lambda u, v: np.concatenate(np.polydiv(u, v)), ((5,), (3,)), ("real", _nonzero)),
    _one("polyder m=2", lambda p: anp.polyder(p, 2), lambda p: np.polyder(p, 2), (5,)),
    _both("polyint m=2 k", lambda p, k: anp.polyint(p, 2, k), lambda p, k: np.polyint(p, 2, k),
          ((4,), (2,))),
    _one("vander", anp.vander, np.vander, (4,)),
    _one("vander N increasing", lambda x: anp.vander(x, 3, increasing=True),
         lambda x: np.vander(x, 3, increasing=True), (5,)),
    _both("polyfit", lambda x, y: anp.polyfit(x, y, 2), lambda x, y: np.polyfit(x, y, 2),
          ((6,), (6,)), (_distinct, "real"), rtol=1e-4),
    OpSpec("polyfit 2-D y, w", lambda x, y, w: anp.polyfit(x, y, 1, w=w),
           lambda x, y, w: np.polyfit(x, y, 1, w=w), ((5,), (5, 2), (5,)),
           (_distinct, "real", "positive"), rtol=1e-4),
    _one("roots", lambda p: anp.real(anp.roots(p) * C),
         lambda p: np.real(np.roots(p) * C), (4,), _nonzero),
    _one("roots with zero coefficients", lambda p: anp.imag(anp.roots(
        anp.concatenate([np.zeros(1), p, np.zeros(2)]))), lambda p: np.imag(np.roots(
            np.concatenate([np.zeros(1), p, np.zeros(2)])).astype(complex)), (3,), _nonzero),
    _one("poly", anp.poly, np.poly, (3,)),
    _one("poly of a matrix", anp.poly, np.poly, (3, 3), "spd"),
    *[_both(f"convolve mode={m}", lambda a, v, m=m: anp.convolve(a, v, m),
            lambda a, v, m=m: np.convolve(a, v, m), ((5,), (3,)), ("positive", "positive"),
            complex=True) for m in ("full", "same", "valid")],
    _both("convolve longer v", anp.convolve, np.convolve, ((2,), (4,)), ("positive", "positive")),
    *[_both(f"correlate mode={m}", lambda a, v, m=m: anp.correlate(a, v, m),
            lambda a, v, m=m: np.correlate(a, v, m), shapes, ("positive", "positive"),
            complex=True) for m, shapes in (("valid", ((5,), (3,))), ("same", ((2,), (5,))),
                                            ("full", ((4,), (3,))))],
]

PRODUCTS = [
    _both("vecdot", anp.vecdot, np.vecdot, ((2, 3, 4), (3, 4)), ("positive", "positive"),
          complex=True),
    _both("vecdot axis=0 keepdims", lambda x, y: anp.vecdot(x, y, axis=0, keepdims=True),
          lambda x, y: np.vecdot(x, y, axis=0, keepdims=True), ((3, 4), (3, 1)),
          ("positive", "positive")),
    _both("matvec", anp.matvec, np.matvec, ((2, 3, 4), (4,)), ("positive", "positive"),
          complex=True),
    _both("matvec axes", lambda a, v: anp.matvec(a, v, axes=[(0, 1), (0,), (0,)]),
          lambda a, v: np.matvec(a, v, axes=[(0, 1), (0,), (0,)]), ((3, 4, 2), (4, 2)),
          ("positive", "positive")),
    _both("vecmat", anp.vecmat, np.vecmat, ((3,), (2, 3, 4)), ("positive", "positive"),
          complex=True),
    _one("matrix_transpose", anp.matrix_transpose, np.matrix_transpose, (2, 3, 4), complex=True),
]

OPS: list[OpSpec] = STATISTICS + CALCULUS + POLYNOMIALS + PRODUCTS
