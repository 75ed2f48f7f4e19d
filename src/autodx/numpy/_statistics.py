"""Statistics beyond the reductions: the NaN-ignoring order statistics (nanmedian,
nanquantile, nanpercentile, with every one of NumPy's methods), cov and corrcoef; the set
functions (isin, union1d, intersect1d, setdiff1d, setxor1d, NumPy 2's unique_values/counts/
inverse/all) and array_equal/array_equiv.

The order statistics sort each slice (NaN last) and pick the elements at the positions the
count of non-NaN elements gives, so their derivative goes to the order statistics used (at
ties, to the element the stable sort puts there, as `sort`'s). The set functions carry no
derivative, their values included, as `unique` (torch.unique has none either); under vmap
their result lengths must agree between the examples.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np

from .. import prims
from ..core import Tracer, dtype_of, shape_of
from ..prims import elementwise as _el
from ..prims import sort as _sort
from ..registry import export
from ..staging import transformed
from ._axes import axes, ndim, size
from ._calculus import array, flag, inexact, keep, take_last
from ._products import diag, dot
from ._reductions import (
    all_,
    any_,
    average,
    median,
    no_out,
    searchsorted,
    sort,
    unique,
)
from ._reductions import sum as _sum
from ._shapes import atleast_2d, concatenate, ravel, reshape, squeeze, transpose

# ----------------------------------------------------------------------------- order statistics


def _sorted_slices(name: str, x, axis):
    """(s, count, out_shape): x with the axes `axis` moved last, flattened and sorted (NaN
    last), the number of non-NaN elements of each slice, and the reduced shape for keepdims
    False and True."""
    shape = shape_of(x)
    ax = axes(axis, len(shape))
    if math.prod([shape[a] for a in ax]) == 0:
        raise ValueError(f"{name} of an empty selection: an array of shape {shape} has no "
                         f"elements along axis={axis!r}. Check the shape first.")
    rest = tuple(i for i in range(len(shape)) if i not in ax)
    flat = reshape(transpose(x, rest + ax), tuple(shape[i] for i in rest) + (-1,))
    s = sort(flat, -1)
    if inexact(s):
        count = _sum(_el.logical_not(_el.isnan(s)), -1)
    else:
        count = np.full(shape_of(s)[:-1], shape_of(s)[-1], np.intp)
    kept = tuple(1 if i in ax else n for i, n in enumerate(shape))
    return s, count, (tuple(shape[i] for i in rest), kept)


def _finish(result, count, lead: tuple, out_shape: tuple, keepdims: bool):
    """NaN where a slice has no non-NaN element; q's axes first, then the reduced shape."""
    result = prims.where(prims.equal(count, 0), np.nan, result) if inexact(result) else result
    return reshape(result, lead + out_shape[bool(keepdims)])


@export
def nanmedian(a, axis=None, out=None, overwrite_input: bool = False, keepdims: bool = False):
    """The median over `axis` of the non-NaN elements (NaN for a slice of NaNs only); the
    derivative goes to the middle element(s)."""
    no_out(out, "nanmedian")
    x = array(a)
    if not inexact(x):
        return median(x, axis, keepdims=keepdims)
    s, count, out_shape = _sorted_slices("nanmedian", x, axis)
    low = _el.maximum(_el.floor_divide(prims.sub(count, 1), 2), 0)
    middle = prims.mul(prims.add(take_last(s, low), take_last(s, _el.floor_divide(count, 2))),
                       0.5)
    return _finish(middle, count, (), out_shape, keepdims)


def _virtual(alpha: float, beta: float):
    """Hyndman and Fan's continuous position, zero-based: n q + alpha + q (1 - alpha - beta)
    - 1."""
    return lambda n, q: prims.sub(prims.add(prims.mul(n, q), alpha + q * (1 - alpha - beta)), 1)


def _boundary(offset: float, odd: bool):
    """The discrete methods' index: the floor of n q - 1 - offset where that is exact (and,
    for `odd`, odd), else the next one; never below 0."""
    def index(n, q):
        v = prims.sub(prims.mul(n, q), 1)
        v = prims.sub(v, offset) if offset else v
        below = _el.floor(v)
        on = prims.equal(v, below)
        if odd:
            on = _el.logical_and(on, prims.equal(_el.remainder(below, 2), 1))
        return _el.maximum(prims.where(on, below, prims.add(below, 1)), 0)
    return index


def _linear(n, q):
    return prims.mul(prims.sub(n, 1), q)


# method: (position of the order statistic, how gamma is fixed: None for discrete methods)
_METHODS = {
    "inverted_cdf": (_boundary(0.0, False), None),
    "averaged_inverted_cdf": (lambda n, q: prims.sub(prims.mul(n, q), 1),
                              lambda g, v: prims.where(prims.equal(g, 0), 0.5, 1.0)),
    "closest_observation": (_boundary(0.5, True), None),
    "interpolated_inverted_cdf": (_virtual(0.0, 1.0), lambda g, v: g),
    "hazen": (_virtual(0.5, 0.5), lambda g, v: g),
    "weibull": (_virtual(0.0, 0.0), lambda g, v: g),
    "linear": (_linear, lambda g, v: g),
    "median_unbiased": (_virtual(1 / 3, 1 / 3), lambda g, v: g),
    "normal_unbiased": (_virtual(3 / 8, 3 / 8), lambda g, v: g),
    "lower": (lambda n, q: _el.floor(_linear(n, q)), None),
    "higher": (lambda n, q: _el.ceil(_linear(n, q)), None),
    "midpoint": (lambda n, q: prims.mul(0.5, prims.add(_el.floor(_linear(n, q)),
                                                        _el.ceil(_linear(n, q)))),
                 lambda g, v: prims.where(prims.equal(_el.remainder(v, 1), 0), 0.0, 0.5)),
    "nearest": (lambda n, q: _el.rint(_linear(n, q)), None),
}


def _lerp(a, b, t, dtype):
    """a + (b - a) t, from the nearer end (NumPy's _lerp, for accuracy); t and 1 - t in
    float64, then in `dtype` (a Python float q is weak: float32 data stays float32)."""
    d = prims.sub(b, a)
    rest = prims.convert(prims.sub(1, t), dtype)
    return prims.where(prims.greater_equal(t, 0.5), prims.sub(b, prims.mul(d, rest)),
                       prims.add(a, prims.mul(d, prims.convert(t, dtype))))


def _order_statistic(s, count, q, method: str, weak: bool):
    """The q-quantiles (q's axes first) of each sorted slice of s with `count` valid
    elements."""
    position, fix_gamma = _METHODS[method]
    last = prims.sub(count, 1)
    v = position(prims.convert(count, np.float64), reshape(q, q.shape + (1,) * ndim(count)))
    if fix_gamma is None:
        return take_last(s, _el.clip(v, 0, last))
    below = _el.floor(v)
    gamma = fix_gamma(prims.sub(v, below), v)
    past = prims.greater_equal(v, last)  # at or past the last element: that one
    before = prims.where(past, last, _el.maximum(below, 0))  # before the first: the first
    after = prims.where(past, last, _el.maximum(prims.add(below, 1), 0))
    return _lerp(take_last(s, before), take_last(s, after), gamma,
                 dtype_of(s) if weak else dtype_of(gamma))


def _nan_quantile(name: str, a, q, weak: bool, axis, out, method, keepdims, weights):
    no_out(out, name)
    if weights is not None:
        raise NotImplementedError(f"{name}(..., weights=...) is not supported")
    if method not in _METHODS:
        raise ValueError(f"{method!r} is not a valid method. Use one of: {tuple(_METHODS)}")
    if q.ndim > 2:
        raise ValueError("q must be a scalar or 1d")
    x = array(a)
    if dtype_of(x).kind == "c":
        raise TypeError("a must be an array of real numbers")
    if _METHODS[method][1] is not None and not inexact(x):
        x = prims.convert(x, np.float64)
    s, count, out_shape = _sorted_slices(name, x, axis)
    result = _order_statistic(s, count, q, method, weak)
    return _finish(result, count, q.shape, out_shape, keepdims)


def _quantiles(q, scale: float, name: str):
    """(q as an array in [0, 1], whether it is weak); q is a constant."""
    weak = type(q) in (int, float)
    q = np.true_divide(q, scale) if scale != 1 else np.asarray(q)
    if not np.all((q >= 0) & (q <= 1)):
        raise ValueError(f"{name} must be in the range [0, {scale:g}]")
    return np.asarray(q, np.float64 if weak else None), weak


@export
def nanquantile(a, q, axis=None, out=None, overwrite_input: bool = False, method="linear",
                keepdims: bool = False, *, weights=None):
    """The q-th quantile(s) of the non-NaN elements over `axis` (q in [0, 1], a constant;
    any of NumPy's methods). The output has q's axes first."""
    q, weak = _quantiles(q, 1, "Quantiles")
    return _nan_quantile("nanquantile", a, q, weak, axis, out, method, keepdims, weights)


@export
def nanpercentile(a, q, axis=None, out=None, overwrite_input: bool = False, method="linear",
                  keepdims: bool = False, *, weights=None):
    """The q-th percentile(s) of the non-NaN elements (q in [0, 100]); see nanquantile."""
    q, weak = _quantiles(q, 100, "Percentiles")
    return _nan_quantile("nanpercentile", a, q, weak, axis, out, method, keepdims, weights)


# ----------------------------------------------------------------------------- cov, corrcoef

def _variables(m, y, rowvar: bool, dtype):
    """cov's observations: one variable per row (m's, then y's)."""
    m = array(m)
    if ndim(m) > 2:
        raise ValueError(f"cov: m has more than 2 dimensions (shape {shape_of(m)})")
    if y is not None:
        y = array(y)
        if ndim(y) > 2:
            raise ValueError(f"cov: y has more than 2 dimensions (shape {shape_of(y)})")
    if dtype is None:
        dtype = np.result_type(*[dtype_of(v) for v in (m, y) if v is not None], np.float64)
    x = atleast_2d(prims.convert(m, dtype))
    if not rowvar and ndim(m) != 1:
        x = transpose(x)
    if y is not None and shape_of(x)[0]:
        y = atleast_2d(prims.convert(y, dtype))
        x = concatenate([x, transpose(y) if not rowvar and shape_of(y)[0] != 1 else y], 0)
    return x


def _weights(fweights, aweights, n: int):
    """(w, aweights): the product of the frequency and the analytic weights (None if none).
    NOTE: fweights are counts, read concretely (no derivative); aweights are differentiable."""
    w = None
    if fweights is not None:
        fw = np.asarray(fweights.concrete() if isinstance(fweights, Tracer) else fweights,
                        float)
        if not np.all(fw == np.around(fw)):
            raise TypeError("cov: fweights must be integer")
        _check_weights("fweights", fw, n)
        if np.any(fw < 0):
            raise ValueError("cov: fweights cannot be negative")
        w = fw
    if aweights is not None:
        aweights = prims.convert(array(aweights), np.float64)
        _check_weights("aweights", aweights, n)
        if flag(any_(prims.less(aweights, 0)), "cov's aweights check"):
            raise ValueError("cov: aweights cannot be negative")
        w = aweights if w is None else prims.mul(w, aweights)
    return w, aweights


def _check_weights(name: str, w, n: int) -> None:
    if ndim(w) > 1:
        raise RuntimeError(f"cov: cannot handle multidimensional {name}")
    if shape_of(w)[0] != n:
        raise RuntimeError(f"cov: incompatible numbers of samples ({n}) and {name} "
                           f"({shape_of(w)[0]})")


def _normalization(x, w, aweights, w_sum, ddof: int):
    """1 / cov's normalization, the effective number of observations less ddof (0, with
    NumPy's warning, where that is not positive)."""
    if w is None:
        fact = shape_of(x)[1] - ddof
    elif ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = prims.sub(w_sum, ddof)
    else:
        fact = prims.sub(w_sum, prims.div(prims.mul(ddof, _sum(prims.mul(w, aweights))), w_sum))
    if flag(prims.less_equal(fact, 0), "cov's degrees of freedom"):
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3)
        fact = 0.0
    return np.true_divide(1, fact) if not isinstance(fact, Tracer) else prims.div(1, fact)


@export
def cov(m, y=None, rowvar: bool = True, bias: bool = False, ddof=None, fweights=None,
        aweights=None, *, dtype=None):
    """The covariance matrix of the variables in m's rows (columns for rowvar=False) and y's,
    normalized by N - 1 (N for bias, N - ddof), with frequency and analytic weights."""
    if ddof is not None and ddof != int(ddof):
        raise ValueError("cov: ddof must be integer")
    x = _variables(m, y, rowvar, dtype)
    if shape_of(x)[0] == 0:
        return np.array([]).reshape(0, 0)
    ddof = (0 if bias else 1) if ddof is None else int(ddof)
    w, aweights = _weights(fweights, aweights, shape_of(x)[1])
    avg, w_sum = average(x, axis=1, weights=w, returned=True)
    scale = _normalization(x, w, aweights, w_sum[0], ddof)
    x = prims.sub(x, reshape(avg, (-1, 1)))
    x_t = transpose(x if w is None else prims.mul(x, w))
    if dtype_of(x_t).kind == "c":
        x_t = _el.conj(x_t)
    c = dot(x, x_t)  # times the scale as NumPy's c *= scale: in float64, then in c's dtype
    return squeeze(prims.convert(prims.mul(c, scale), dtype_of(c)))


def _clip_unit(c):
    return _el.clip(c, -1, 1)


@export
def corrcoef(x, y=None, rowvar: bool = True, *, dtype=None):
    """Pearson correlation coefficients: cov normalized by the standard deviations, with the
    real (and imaginary) parts clipped to [-1, 1]."""
    c = cov(x, y, rowvar, dtype=dtype)
    if ndim(c) == 0:  # one variable: 1, or NaN for a NaN, infinite or zero variance
        return prims.div(c, c)
    stddev = prims.sqrt(_el.real(diag(c)))
    c = prims.div(prims.div(c, reshape(stddev, (-1, 1))), reshape(stddev, (1, -1)))
    if dtype_of(c).kind != "c":
        return _clip_unit(c)
    return prims.add(_clip_unit(_el.real(c)), prims.mul(1j, _clip_unit(_el.imag(c))))


# ----------------------------------------------------------------------------- sets

def _constant(x):
    """A set function's input: flattened, without derivative (the results carry none)."""
    return prims.stop_gradient(ravel(array(x)))


@export(kind="nondiff")
def isin(element, test_elements, assume_unique: bool = False, invert: bool = False, *,
         kind=None):
    """Whether each element of `element` is in `test_elements` (NaN never is)."""
    if kind not in (None, "sort", "table"):
        raise ValueError(f"isin: invalid kind: {kind!r}. Please use None, 'sort' or 'table'.")
    e, tests = array(element), _constant(test_elements)
    if kind == "table" and not all(dtype_of(v).kind in "biu" for v in (e, tests)):
        raise ValueError("isin: the 'table' method is only supported for boolean or integer "
                         "arrays. Please select 'sort' or None for kind.")
    if size(tests) == 0:
        found = np.zeros(shape_of(e), bool)
    else:
        tests = sort(tests)
        at = _el.minimum(searchsorted(tests, e), size(tests) - 1)
        found = prims.equal(take_last(tests, at), e)
    return _el.logical_not(found) if invert else found


@export(kind="nondiff")
def union1d(ar1, ar2):
    """The sorted unique values of either array."""
    return unique(concatenate([_constant(ar1), _constant(ar2)]))


def _sorted_positions(x):
    """(x sorted, the positions that sort it)."""
    order = _sort.argsort(x, 0, "stable")
    return _sort.permute(x, order, 0), order


@export(kind="nondiff")
def intersect1d(ar1, ar2, assume_unique: bool = False, return_indices: bool = False):
    """The sorted values in both arrays (and, as asked, their first indices in each)."""
    a, b = _constant(ar1), _constant(ar2)
    if not assume_unique:
        (a, first_a), (b, first_b) = (unique(v, return_index=True) for v in (a, b))
    joined = concatenate([a, b])
    aux, order = _sorted_positions(joined)
    same = prims.equal(aux[1:], aux[:-1])
    what = "intersect1d's result length"
    common = keep(aux[:-1], same, 0, what)
    if not return_indices:
        return common
    in_a = keep(order[:-1], same, 0, what)
    in_b = prims.sub(keep(order[1:], same, 0, what), size(a))
    if not assume_unique:
        in_a, in_b = take_last(first_a, in_a), take_last(first_b, in_b)
    return common, in_a, in_b


@export(kind="nondiff")
def setdiff1d(ar1, ar2, assume_unique: bool = False):
    """The unique values of ar1 not in ar2 (ar1's values in order, for assume_unique)."""
    a = _constant(ar1) if assume_unique else unique(_constant(ar1))
    return keep(a, isin(a, ar2, invert=True), 0, "setdiff1d's result length")


@export(kind="nondiff")
def setxor1d(ar1, ar2, assume_unique: bool = False):
    """The sorted values in exactly one of the arrays."""
    a, b = _constant(ar1), _constant(ar2)
    if not assume_unique:
        a, b = unique(a), unique(b)
    aux = concatenate([a, b])
    if size(aux) == 0:
        return aux
    aux = sort(aux)
    edge = np.ones(1, bool)
    new = concatenate([edge, prims.not_equal(aux[1:], aux[:-1]), edge])
    return keep(aux, _el.logical_and(new[1:], new[:-1]), 0, "setxor1d's result length")


class UniqueAllResult(NamedTuple):
    values: object
    indices: object
    inverse_indices: object
    counts: object


class UniqueCountsResult(NamedTuple):
    values: object
    counts: object


class UniqueInverseResult(NamedTuple):
    values: object
    inverse_indices: object


@export(kind="nondiff")
def unique_values(x, /):
    """The unique values, in no particular order (NaNs each their own)."""
    return unique(x, equal_nan=False, sorted=False)


@export(kind="nondiff")
def unique_counts(x, /) -> UniqueCountsResult:
    """(values, counts) of the sorted unique values."""
    return UniqueCountsResult(*unique(x, return_counts=True, equal_nan=False))


@export(kind="nondiff")
def unique_inverse(x, /) -> UniqueInverseResult:
    """(values, inverse_indices): values[inverse_indices] rebuilds x."""
    return UniqueInverseResult(*unique(x, return_inverse=True, equal_nan=False))


@export(kind="nondiff")
def unique_all(x, /) -> UniqueAllResult:
    """(values, indices, inverse_indices, counts)."""
    return UniqueAllResult(*unique(x, return_index=True, return_inverse=True,
                                   return_counts=True, equal_nan=False))


# ----------------------------------------------------------------------------- equality

def _as_bool(result):
    """A Python bool where the answer can be read, as NumPy's (under jit: a guard); traced
    otherwise (vmap)."""
    return result if transformed(result) else bool(result)


@export(kind="nondiff")
def array_equal(a1, a2, equal_nan: bool = False):
    """Whether the arrays have the same shape and elements (NaNs equal for equal_nan)."""
    a, b = array(a1), array(a2)
    if shape_of(a) != shape_of(b):
        return False
    same = prims.equal(a, b)
    if equal_nan and (inexact(a) or inexact(b)):
        same = _el.logical_or(same, _el.logical_and(_el.isnan(a), _el.isnan(b)))
    return _as_bool(all_(same))


@export(kind="nondiff")
def array_equiv(a1, a2):
    """Whether the arrays are equal after broadcasting (False if they do not broadcast)."""
    a, b = array(a1), array(a2)
    try:
        np.broadcast_shapes(shape_of(a), shape_of(b))
    except ValueError:
        return False
    return _as_bool(all_(prims.equal(a, b)))
