"""`ad.scipy.special`: the special functions NumPy can compute stably (logsumexp, expit, ...),
registered in namespace "scipy.special", with SciPy's signatures (SciPy itself is not needed).

Stable at +-1000 and in float32, in value and derivative: logsumexp, softmax and log_softmax
shift by the maximum, taken as a constant (a constant shift leaves them unchanged, so the
derivatives of the composite are exact at every order); expit only ever exponentiates -|x|.
Everything is a composite of ad.numpy except `xlogy` and `xlog1py`, primitives because their
value and derivatives at x == 0 are a convention to pin down (see the NOTEs).
"""

from __future__ import annotations

import numpy as np

from .. import numpy as anp
from ..core import shape_of
from ..numpy._axes import axes
from ..prims import stop_gradient
from ..prims.elementwise import binary, sigmoid
from ..registry import export
from ..registry import namespace as _namespace

_INF = np.inf


def _special(fn):
    return export(fn, namespace="scipy.special")


def _max_shift(x, ax: tuple):
    """The maximum over `ax` (kept), as a constant, with infinities replaced by 0 (as SciPy),
    so that `x - shift` is never inf - inf."""
    x = stop_gradient(x)
    # complex x: shift by the largest real part, as SciPy (a complex shift would add its
    # imaginary part back unwrapped, on another branch of the log)
    m = anp.max(anp.real(x) if anp.iscomplexobj(x) else x, axis=ax, keepdims=True)
    return anp.where(anp.isfinite(m), m, 0)


def _drop(x, ax: tuple):
    """A keepdims=True result with the reduced axes `ax` removed."""
    return anp.reshape(x, tuple(n for i, n in enumerate(shape_of(x)) if i not in ax))


@_special
def logsumexp(a, axis=None, b=None, keepdims: bool = False, return_sign: bool = False):
    """log(sum(b * exp(a))) over `axis` (all axes by default), without overflow, as SciPy's.

    b: weights (broadcast against `a`); return_sign: return `(log|sum|, sign(sum))`, for
    weights that make the sum negative (without it, a negative sum gives NaN, as SciPy).
    >>> float(logsumexp(np.array([1000.0, 1000.0])))  # 1000 + log(2), no overflow
    1000.6931471805599
    """
    if b is not None:
        # NOTE: a zero weight drops its term whatever `a` is there (as SciPy and JAX), so the
        # derivative with respect to a zero weight is 0.
        a = anp.where(anp.equal(b, 0), -_INF, a)
    ax = axes(axis, len(shape_of(a)))
    shift = _max_shift(a, ax)
    e = anp.exp(anp.subtract(a, shift))
    s = anp.sum(e if b is None else anp.multiply(e, b), axis=ax, keepdims=True)
    # NOTE: an empty sum (every term -inf) gives -inf with derivative 0, not NaN (PyTorch and
    # JAX give NaN): the inner where keeps log's infinite derivative at 0 out of the rules.
    empty = anp.equal(s, 0)
    size = anp.abs(s) if return_sign else s
    out = anp.where(empty, -_INF, anp.add(anp.log(anp.where(empty, 1, size)), shift))
    if not keepdims:
        out, s = _drop(out, ax), _drop(s, ax)
    return (out, anp.sign(s)) if return_sign else out


@_special
def softmax(x, axis=None):
    """exp(x) / sum(exp(x)) over `axis` (all axes by default, as SciPy), without overflow."""
    ax = axes(axis, len(shape_of(x)))
    e = anp.exp(anp.subtract(x, _max_shift(x, ax)))
    return anp.divide(e, anp.sum(e, axis=ax, keepdims=True))


@_special
def log_softmax(x, axis=None):
    """x - logsumexp(x) over `axis` (all axes by default, as SciPy), without overflow."""
    ax = axes(axis, len(shape_of(x)))
    shifted = anp.subtract(x, _max_shift(x, ax))
    return anp.subtract(shifted, anp.log(anp.sum(anp.exp(shifted), axis=ax, keepdims=True)))


@_special
def expit(x):
    """The logistic sigmoid 1 / (1 + exp(-x)), accurate in both tails."""
    return sigmoid(x)


@_special
def logit(p):
    """log(p / (1 - p)), the inverse of expit; as log(p) - log1p(-p), so that its derivative
    at 0 and 1 is inf (as JAX and PyTorch), not NaN."""
    return anp.subtract(anp.log(p), anp.log1p(anp.negative(p)))


# ----------------------------------------------------------------------------- x * log(y)

def _x_log(log):
    """The impl of x * log(y): 0 where x == 0, whatever y is, unless y is NaN (SciPy's)."""
    def impl(x, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((x == 0) & ~np.isnan(y), 0, x * log(y))
    impl.__name__ = f"x{log.__name__}y"
    return impl


def _over(x, v):
    """x / v, and 0 where x == 0 even if v == 0: the derivative of x * log(v) in v."""
    return anp.divide(x, anp.where(anp.logical_and(anp.equal(x, 0), anp.equal(v, 0)), 1, v))


# NOTE: d/dx is log(y) everywhere, -inf at y == 0 even at x == 0 (the limit, as JAX; PyTorch
# gives 0 there), which makes entr's derivative +inf at 0 as both peers. d/dy is 0 at x == 0
# (xlogy(0, y) is 0 for every y; PyTorch and JAX give NaN at y == 0 too).
xlogy = binary("xlogy", _x_log(np.log), dx=lambda x, y, out: anp.log(y),
               dy=lambda x, y, out: _over(x, y), public=(),
               doc="x * log(y), and 0 where x == 0 (even where y == 0), as SciPy's.")
xlog1py = binary("xlog1py", _x_log(np.log1p), dx=lambda x, y, out: anp.log1p(y),
                 dy=lambda x, y, out: _over(x, anp.add(1, y)), public=(),
                 doc="x * log1p(y), and 0 where x == 0 (even where y == -1), as SciPy's.")
for _fn in (xlogy, xlog1py):
    _fn.__module__ = __name__
    _special(_fn)
del _fn


@_special
def entr(x):
    """-x log(x) for x > 0, 0 at 0 and -inf for x < 0, as SciPy's."""
    # NOTE: the derivative is +inf at 0 (the limit, as PyTorch and JAX) and 0 for x < 0, where
    # entr is the constant -inf (PyTorch and JAX give NaN).
    negative = anp.less(x, 0)
    safe = anp.where(negative, 1, x)
    return anp.where(negative, -_INF, anp.negative(xlogy(safe, safe)))


@_special
def rel_entr(x, y):
    """x log(x / y) for x, y > 0; 0 for x == 0 <= y; +inf otherwise, as SciPy's."""
    # NOTE: d/dx is -inf at x == 0 (the limit, as entr's; JAX gives 0), and both derivatives
    # are 0 where rel_entr is the constant +inf.
    infinite = anp.logical_or(anp.logical_or(anp.less(x, 0), anp.less(y, 0)),
                              anp.logical_and(anp.greater(x, 0), anp.equal(y, 0)))
    safe_x = anp.where(infinite, 1, x)
    safe_y = anp.where(infinite, 1, anp.where(anp.equal(y, 0), 1, y))
    return anp.where(infinite, _INF, xlogy(safe_x, anp.divide(safe_x, safe_y)))


@_special
def kl_div(x, y):
    """x log(x / y) - x + y for x, y > 0; y for x == 0 <= y; +inf otherwise, as SciPy's."""
    return anp.add(anp.subtract(rel_entr(x, y), x), y)


globals().update(_namespace("scipy.special"))  # the aliases too
__all__ = sorted(_namespace("scipy.special"))
