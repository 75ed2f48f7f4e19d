"""NumPy's polynomial functions on coefficient arrays (highest power first), convolve and
correlate, and vander: composites, so every derivative and the batching come for free.

convolve and correlate are one matrix product of the shorter operand with a Toeplitz gather
of the zero-padded longer one (an integer index array, no loop over the outputs). polyfit
is a least-squares solve (linalg.lstsq), roots the eigenvalues of the companion matrix
(linalg.eigvals). NOTE: roots are always complex, as eigvals' (NumPy's are real when every
root is: a dtype that would depend on the values). poly1d inputs are not supported: pass the
coefficients (`p.coeffs`).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import prims
from ..core import dtype_of, shape_of
from ..prims import elementwise as _el
from ..registry import export
from . import linalg
from ._calculus import array, between_nonzeros, flag, keep
from ._creation import zeros_like
from ._products import dot, outer
from ._reductions import all_, sort
from ._reductions import sum as _sum
from ._shapes import atleast_1d, concatenate, flip, reshape, stack, take, transpose

# ----------------------------------------------------------------------------- convolution

_MODES = {"valid": 0, "same": 1, "full": 2}


def _mode(mode) -> int:
    if isinstance(mode, str):
        if mode not in _MODES:
            raise ValueError(f"mode must be one of 'valid', 'same', or 'full' (got {mode!r})")
        return _MODES[mode]
    if mode not in (0, 1, 2):
        raise ValueError("integer convolve/correlate mode must be 0, 1, or 2")
    return int(mode)


def _operands(name: str, a, v) -> tuple:
    a, v = atleast_1d(array(a)), atleast_1d(array(v))
    for arg, x in (("a", a), ("v", v)):
        if len(shape_of(x)) != 1:
            raise ValueError(f"{name}: {arg} must be 1-D, got shape {shape_of(x)}")
        if shape_of(x)[0] == 0:
            raise ValueError(f"{arg} cannot be empty")
    dtype = np.result_type(dtype_of(a), dtype_of(v))
    return prims.convert(a, dtype), prims.convert(v, dtype)


def _full(a, v):
    """The full convolution sum_j a[k - j] v[j] (len(v) <= len(a)): a Toeplitz gather of the
    zero-padded a times v."""
    n, m = shape_of(a)[0], shape_of(v)[0]
    pad = np.zeros(m - 1, dtype_of(a))
    padded = concatenate([pad, a, pad]) if m > 1 else a
    rows = np.arange(n + m - 1)[:, None] + (m - 1) - np.arange(m)[None, :]
    return prims.matmul(take(padded, rows), v)


def _window(full, n: int, m: int, mode: int, offset_same: int):
    """The part of the full result that `mode` keeps (n >= m)."""
    if mode == 2:
        return full
    start, length = (m - 1, n - m + 1) if mode == 0 else (offset_same, n)
    return full[start:start + length]


@export
def convolve(a, v, mode="full"):
    """The discrete linear convolution of two 1-D sequences: mode 'full' (every overlap),
    'same' (the longer one's length, centered) or 'valid' (complete overlaps only)."""
    mode = _mode(mode)
    a, v = _operands("convolve", a, v)
    if shape_of(v)[0] > shape_of(a)[0]:
        a, v = v, a
    n, m = shape_of(a)[0], shape_of(v)[0]
    return _window(_full(a, v), n, m, mode, (m - 1) // 2)


@export
def correlate(a, v, mode="valid"):
    """The cross-correlation c[k] = sum_n a[n + k] conj(v[n]) of two 1-D sequences, in the
    modes of convolve ('valid' by default)."""
    mode = _mode(mode)
    a, v = _operands("correlate", a, v)
    if dtype_of(v).kind == "c":
        v = _el.conj(v)
    n, m = shape_of(a)[0], shape_of(v)[0]
    v = flip(v)
    if m > n:  # convolution commutes; the window follows NumPy's for the shorter a
        return _window(_full(v, a), m, n, mode, n // 2)
    return _window(_full(a, v), n, m, mode, (m - 1) // 2)


# ----------------------------------------------------------------------------- arithmetic

def _coefficients(p):
    """A polynomial's coefficients, at least 1-D."""
    return atleast_1d(array(p))


def _pad_front(p, length: int):
    extra = length - shape_of(p)[0]
    return concatenate([np.zeros(extra, dtype_of(p)), p]) if extra > 0 else p


@export
def polyval(p, x):
    """p evaluated at x by Horner's scheme (p[0] x**(N-1) + ... + p[N-1])."""
    p, x = array(p), array(x)
    y = zeros_like(x)
    for i in range(shape_of(p)[0]):
        y = prims.add(prims.mul(y, x), p[i])
    return y


@export
def polyadd(a1, a2):
    """The sum of two polynomials (the shorter padded with leading zeros)."""
    a1, a2 = _coefficients(a1), _coefficients(a2)
    n = max(shape_of(a1)[0], shape_of(a2)[0])
    return prims.add(_pad_front(a1, n), _pad_front(a2, n))


@export
def polysub(a1, a2):
    """The difference of two polynomials."""
    a1, a2 = _coefficients(a1), _coefficients(a2)
    n = max(shape_of(a1)[0], shape_of(a2)[0])
    return prims.sub(_pad_front(a1, n), _pad_front(a2, n))


def _strip_leading_zeros(p):
    """p without its leading zeros ([0] for the zero polynomial), as np.poly1d reads it."""
    if len(shape_of(p)) != 1:
        raise ValueError(f"Polynomial must be 1d only (got shape {shape_of(p)}).")
    p = keep(p, between_nonzeros(_el.not_equal(p, 0), "f"), 0,
             "the number of leading zero coefficients")
    return p if shape_of(p)[0] else np.zeros(1, dtype_of(p))


@export
def polymul(a1, a2):
    """The product of two polynomials (leading zeros dropped first, as NumPy's)."""
    return convolve(_strip_leading_zeros(_coefficients(a1)),
                    _strip_leading_zeros(_coefficients(a2)))


@export
def polydiv(u, v):
    """(quotient, remainder) of polynomial division; the remainder's leading coefficients
    within 1e-8 of zero are dropped, as NumPy's."""
    u, v = prims.add(_coefficients(u), 0.0), prims.add(_coefficients(v), 0.0)
    dtype = np.result_type(dtype_of(u), dtype_of(v))
    m, n = shape_of(u)[0] - 1, shape_of(v)[0] - 1
    scale = prims.div(1.0, v[0])
    r, q = prims.convert(u, dtype), []
    for k in range(m - n + 1):
        d = prims.mul(scale, r[k])
        q.append(d)
        r = concatenate([r[:k], prims.sub(r[k:k + n + 1], prims.mul(d, v)), r[k + n + 1:]])
    quotient = stack(q) if q else np.zeros(1, dtype)
    significant = _el.logical_not(_el.less_equal(prims.abs(r), 1e-8))  # NaN is significant
    significant = _el.logical_or(significant, np.arange(shape_of(r)[0]) == shape_of(r)[0] - 1)
    remainder = keep(r, between_nonzeros(significant, "f"), 0,
                     "the number of leading zeros of polydiv's remainder")
    return quotient, remainder


@export
def polyder(p, m: int = 1):
    """The m-th derivative of a polynomial."""
    m = int(m)
    if m < 0:
        raise ValueError("Order of derivative must be positive (see polyint)")
    p = array(p)
    for _ in range(m):
        n = shape_of(p)[0] - 1
        p = prims.mul(p[:-1], np.arange(n, 0, -1))
    return p


@export
def polyint(p, m: int = 1, k=None):
    """The m-th antiderivative of a polynomial, with integration constants k (zeros by
    default; one scalar for all)."""
    m = int(m)
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    k = atleast_1d(np.zeros(m, float) if k is None else array(k))
    if shape_of(k)[0] == 1 and m > 1:
        k = prims.mul(k[0], np.ones(m, float))
    if shape_of(k)[0] < m:
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
    p = array(p)
    for i in range(m):
        p = concatenate([prims.div(p, np.arange(shape_of(p)[0], 0, -1)), k[i:i + 1]])
    return p


# ----------------------------------------------------------------------------- vander, fit

@export
def vander(x, N=None, increasing: bool = False):
    """The Vandermonde matrix: columns the powers of x, decreasing (x**(N-1) first) unless
    `increasing`."""
    x = array(x)
    if len(shape_of(x)) != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    n = shape_of(x)[0]
    N = n if N is None else int(N)
    x = prims.convert(x, np.promote_types(dtype_of(x), int))
    if N == 0:
        return np.zeros((n, 0), dtype_of(x))
    columns = [np.ones(n, dtype_of(x))]
    for _ in range(N - 1):  # successive products, as NumPy's multiply.accumulate
        columns.append(x if len(columns) == 1 else prims.mul(columns[-1], x))
    v = stack(columns, 1)
    return v if increasing else flip(v, 1)


def _fit_checks(x, y, deg) -> None:
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if len(shape_of(x)) != 1:
        raise TypeError("polyfit: expected 1D vector for x")
    if shape_of(x)[0] == 0:
        raise TypeError("polyfit: expected non-empty vector for x")
    if not 1 <= len(shape_of(y)) <= 2:
        raise TypeError("polyfit: expected 1D or 2D array for y")
    if shape_of(x)[0] != shape_of(y)[0]:
        raise TypeError("polyfit: expected x and y to have same length")


def _weighted(lhs, rhs, w):
    w = prims.add(array(w), 0.0)
    if len(shape_of(w)) != 1:
        raise TypeError("polyfit: expected a 1-d array for weights")
    if shape_of(w)[0] != shape_of(rhs)[0]:
        raise TypeError("polyfit: expected w and y to have the same length")
    column = reshape(w, (-1, 1))
    return prims.mul(lhs, column), prims.mul(rhs, column if len(shape_of(rhs)) == 2 else w)


@export
def polyfit(x, y, deg, rcond=None, full: bool = False, w=None, cov=False):
    """The least-squares polynomial of degree deg through (x, y) (each column of a 2-D y),
    weighted by w; with `full` also (residuals, rank, singular values, rcond), with `cov` the
    coefficients' covariance. Differentiable in x, y and w."""
    order = int(deg) + 1
    x, y = prims.add(array(x), 0.0), prims.add(array(y), 0.0)
    _fit_checks(x, y, deg)
    if rcond is None:
        rcond = shape_of(x)[0] * np.finfo(dtype_of(x)).eps
    lhs, rhs = vander(x, order), y
    if w is not None:
        lhs, rhs = _weighted(lhs, rhs, w)
    scale = prims.sqrt(_sum(prims.mul(lhs, lhs), 0))
    lhs = prims.div(lhs, scale)
    c, resids, rank, s = linalg.lstsq(lhs, rhs, rcond)
    c = transpose(prims.div(transpose(c), scale))
    if not full and flag(prims.not_equal(rank, order), "polyfit's rank"):
        warnings.warn("Polyfit may be poorly conditioned", np.exceptions.RankWarning,
                      stacklevel=2)
    if full:
        return c, resids, rank, s, rcond
    if cov:
        return c, _fit_covariance(lhs, scale, resids, shape_of(x)[0], order, y, cov)
    return c


def _fit_covariance(lhs, scale, resids, n: int, order: int, y, cov):
    """polyfit's covariance of the coefficients (scaled by the residuals unless 'unscaled')."""
    base = prims.div(linalg.inv(dot(transpose(lhs), lhs)), outer(scale, scale))
    if cov == "unscaled":
        factor = 1
    else:
        if n <= order:
            raise ValueError("the number of data points must exceed order to scale the "
                             "covariance matrix")
        factor = prims.div(resids, n - order)
    if len(shape_of(y)) == 1:
        return prims.mul(base, factor)
    return prims.mul(reshape(base, shape_of(base) + (1,)), factor)


# ----------------------------------------------------------------------------- roots, poly

@export
def roots(p):
    """The roots of a polynomial: the eigenvalues of its companion matrix (complex), then a
    zero for each trailing zero coefficient."""
    p = atleast_1d(array(p))
    if len(shape_of(p)) != 1:
        raise ValueError("Input must be a rank-1 array.")
    nonzero = _el.not_equal(p, 0)
    what = "the number of leading and trailing zero coefficients"
    core = keep(p, between_nonzeros(nonzero), 0, what)
    n = shape_of(core)[0]
    if n == 0:
        return np.array([])
    trailing = shape_of(p)[0] - shape_of(keep(p, between_nonzeros(nonzero, "b"), 0, what))[0]
    if dtype_of(core).kind not in "fc":
        core = prims.convert(core, np.float64)
    if n > 1:
        first = reshape(prims.div(prims.neg(core[1:]), core[0]), (1, n - 1))
        companion = concatenate([first, np.eye(n - 2, n - 1, dtype=dtype_of(core))])
        found = linalg.eigvals(companion)
    else:
        found = np.array([])
    return concatenate([found, np.zeros(trailing, dtype_of(found))])


@export
def poly(seq_of_zeros):
    """The coefficients of the monic polynomial with the given roots (or the characteristic
    polynomial of a square matrix); real when the roots come in conjugate pairs."""
    zeros = atleast_1d(array(seq_of_zeros))
    shape = shape_of(zeros)
    if len(shape) == 2 and shape[0] == shape[1] and shape[0] != 0:
        zeros = linalg.eigvals(zeros)
    elif len(shape) == 1:
        if dtype_of(zeros).char not in "GDFgdf":
            zeros = prims.convert(zeros, np.float64)
    else:
        raise ValueError("input must be 1d or non-empty square 2d array.")
    if shape_of(zeros)[0] == 0:
        return 1.0
    a = np.ones(1, dtype_of(zeros))
    for i in range(shape_of(zeros)[0]):  # a * (x - zero): a shifted, less zero times a
        zero = np.zeros(1, dtype_of(zeros))
        a = prims.sub(concatenate([a, zero]), prims.mul(zeros[i], concatenate([zero, a])))
    if dtype_of(a).kind == "c":
        pairs = sort(prims.convert(zeros, np.complex128))
        if flag(all_(prims.equal(pairs, sort(_el.conj(pairs)))), "poly's result dtype"):
            a = _el.real(a)
    return a

