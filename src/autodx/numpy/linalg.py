"""`ad.numpy.linalg`: NumPy's linear algebra, differentiable, on stacked matrices too.

Every function takes NumPy's arguments and stacks of matrices `(..., M, N)` where NumPy's does,
and returns what NumPy's returns (its named tuples too). The solvers and decompositions are
primitives (prims/linalg.py, prims/decomp.py: their derivative rules, conventions at singular
and degenerate points, and which accept complex input); the norms, powers, products and tensor
solvers here are composites of them. `matrix_rank` and `cond` carry no derivative.

Differences from NumPy, each deliberate: `eig`/`eigvals` always return complex arrays (as
JAX; NumPy's are real when every eigenvalue is, a dtype that would depend on the values);
`qr(mode='raw')` is not supported; `pinv`'s and `lstsq`'s `rcond` is one number, not one per
matrix; under vmap `lstsq` returns the residuals of every example whenever M > N (a shape
cannot depend on each example's rank).
"""

from __future__ import annotations

import math
import operator
import warnings
from typing import NamedTuple

import numpy as np

from .. import prims
from ..core import BatchingError, dtype_of, shape_of
from ..prims import decomp as _decomp
from ..prims import linalg as _linalg
from ..registry import export
from ..registry import namespace as _namespace
from ..registry import reexport as _reexport
from ..staging import transformed
from . import _products
from ._axes import one_axis
from ._reductions import amax, amin, no_out
from ._shapes import as_array, moveaxis, ravel, reshape, swapaxes, transpose

LinAlgError = np.linalg.LinAlgError
_reexport("numpy.linalg", np.linalg, "LinAlgError")
_NOVALUE = object()  # "not given" (NumPy's pinv tells rtol=None from no rtol)


class EigResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


class EighResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


class QRResult(NamedTuple):
    Q: object
    R: object


class SlogdetResult(NamedTuple):
    sign: object
    logabsdet: object


class SVDResult(NamedTuple):
    U: object
    S: object
    Vh: object


def _linalg_export(fn):
    return export(fn, namespace="numpy.linalg")


# ----------------------------------------------------------------------------- checks

def _matrices(a, name: str, square: bool = False, arg: str = "a"):
    """`a` as an array, checked to be a matrix or a stack of them (square ones if asked)."""
    a = as_array(a)
    shape = shape_of(a)
    if len(shape) < 2:
        raise LinAlgError(f"{name}: {len(shape)}-dimensional array given. Array must be at "
                          f"least two-dimensional (`{arg}` must be a matrix or a stack of "
                          "matrices, of shape (..., M, N))")
    if square and shape[-1] != shape[-2]:
        raise LinAlgError(f"{name}: Last 2 dimensions of the array must be square (`{arg}` has "
                          f"shape {shape}; {name} needs square matrices, shape (..., N, N))")
    return a


def _inexact(x):
    """Integers and bools as float64, as NumPy's linalg computes."""
    return x if np.dtype(dtype_of(x)).kind in "fc" else prims.convert(x, np.float64)


def _number(value, name: str, arg: str) -> float:
    if np.ndim(value) != 0:
        raise NotImplementedError(f"{name}: an array `{arg}` (one per matrix of a stack) is not "
                                  "supported by autodx; pass one number")
    return float(value)


def _uplo(uplo) -> str:
    upper = str(uplo).upper()
    if upper not in ("L", "U"):
        raise ValueError(f"UPLO argument must be 'L' or 'U' (got {uplo!r})")
    return upper


# ----------------------------------------------------------------------------- solvers

@_linalg_export
def inv(a):
    """The inverse of each matrix; a singular one raises NumPy's LinAlgError.

    >>> ad.numpy.linalg.inv(np.array([[2.0, 0.0], [0.0, 4.0]]))  # [[0.5, 0], [0, 0.25]]
    """
    return _linalg.inv(_matrices(a, "inv", square=True))


@_linalg_export
def solve(a, b):
    """x with a @ x = b. As NumPy 2: a 1-D b is a vector, otherwise b is a stack of matrices
    (..., M, K), broadcast against a's stack.

    >>> ad.numpy.linalg.solve(np.eye(2) * 2.0, np.array([1.0, 2.0]))  # [0.5, 1.0]
    """
    a, b = _matrices(a, "solve", square=True), as_array(b)
    m, sb = shape_of(a)[-1], shape_of(b)
    if len(sb) == 1 and sb[0] == m:
        return prims.getitem(_linalg.solve(a, reshape(b, (m, 1))), (Ellipsis, 0))
    if len(sb) < 2 or sb[-2] != m:
        raise ValueError(f"solve: `b` of shape {sb} does not match `a` of shape {shape_of(a)}: "
                         f"b must have shape ({m},) or (..., {m}, K)")
    return _linalg.solve(a, b)


@_linalg_export
def pinv(a, rcond=None, hermitian: bool = False, *, rtol=_NOVALUE):
    """The Moore-Penrose pseudo-inverse. Its derivative is valid where the rank (the number
    of singular values above the cutoff) is constant; at a jump it has none.

    >>> ad.numpy.linalg.pinv(np.array([[1.0, 0.0], [0.0, 0.0]]))  # [[1, 0], [0, 0]]
    """
    a = _matrices(a, "pinv")
    if rcond is None:
        if rtol is _NOVALUE:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(shape_of(a)[-2:]) * np.finfo(_linalg.result_dtype(a)).eps
        else:
            rcond = rtol
    elif rtol is not _NOVALUE:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    return _linalg.pinv(a, _number(rcond, "pinv", "rcond"), bool(hermitian))


@_linalg_export
def lstsq(a, b, rcond=None):
    """(x, residuals, rank, s) as NumPy: the least-squares solution x of a @ x ~ b (minimum
    norm), the squared residual norms (empty unless rank == N < M), the rank and the singular
    values of a. x is differentiable where the rank is constant (full-rank a); residuals and s
    are too; rank is an integer.

    >>> x, res, rank, s = ad.numpy.linalg.lstsq(np.ones((3, 1)), np.array([1.0, 2.0, 3.0]))
    """
    a, b = as_array(a), as_array(b)
    sa, sb = shape_of(a), shape_of(b)
    for arg, shape in (("a", sa), ("b", sb)):
        if len(shape) != 2 and not (arg == "b" and len(shape) == 1):
            raise LinAlgError(f"lstsq: {len(shape)}-dimensional array given. Array must be "
                              f"two-dimensional (`{arg}` has shape {shape})")
    m, n = sa
    if sb[0] != m:
        raise LinAlgError(f"lstsq: Incompatible dimensions: `a` has {m} rows, `b` {sb[0]}")
    b2 = reshape(b, (m, 1)) if len(sb) == 1 else b
    eps = np.finfo(np.float64).eps  # NumPy computes in double precision
    rcond = eps * max(m, n) if rcond is None else _number(rcond, "lstsq", "rcond")
    rcond = eps if rcond < 0 else rcond  # LAPACK's "machine precision" for a negative rcond
    x = _linalg.lstsq(a, b2, rcond)
    s = svdvals(a)
    s_const = prims.stop_gradient(s)
    cutoff = prims.mul(prims.getitem(s_const, prims.canonical_index(slice(0, 1))), rcond)
    rank = prims.convert(prims.sum(prims.greater(s_const, cutoff), (0,)), np.int32)
    residuals = _residuals(a, b2, x, rank, n)
    return (prims.getitem(x, (Ellipsis, 0)) if len(sb) == 1 else x), residuals, rank, s


def _residuals(a, b, x, rank, n: int):
    m = shape_of(a)[0]
    real = np.finfo(_linalg.result_dtype(a, b)).dtype
    try:
        full = m > n and bool(rank == n)
    except BatchingError:  # NOTE: under vmap, every example's residuals (see the docstring)
        full = m > n
    if not full:
        return np.empty((0,), real)
    return prims.convert(prims.sum(_abs2(prims.sub(b, prims.matmul(a, x))), (0,)), real)


@_linalg_export
def tensorsolve(a, b, axes=None):
    """x with tensordot(a, x, x.ndim) = b, as NumPy (a reshaped to a square matrix).

    >>> ad.numpy.linalg.tensorsolve(np.eye(6).reshape(2, 3, 6), np.ones((2, 3))).shape  # (6,)
    """
    a, b = as_array(a), as_array(b)
    an, bn = len(shape_of(a)), len(shape_of(b))
    if axes is not None:
        order = list(range(an))
        for k in axes:
            order.remove(k)
            order.insert(an, k)
        a = transpose(a, order)
    oldshape = shape_of(a)[-(an - bn):]
    size = math.prod(oldshape)
    if math.prod(shape_of(a)) != size ** 2:
        raise LinAlgError("tensorsolve: Input arrays must satisfy the requirement "
                          "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim]) (a has shape "
                          f"{shape_of(a)}, b {shape_of(b)})")
    return reshape(solve(reshape(a, (size, size)), ravel(b)), oldshape)


@_linalg_export
def tensorinv(a, ind: int = 2):
    """The inverse of `a` as a linear map from its first `ind` axes to the rest.

    >>> ad.numpy.linalg.tensorinv(np.eye(4).reshape(4, 2, 2), ind=1).shape  # (2, 2, 4)
    """
    a = as_array(a)
    shape = shape_of(a)
    if ind <= 0:
        raise ValueError(f"Invalid ind argument ({ind}): it must be positive")
    return reshape(inv(reshape(a, (math.prod(shape[ind:]), -1))), shape[ind:] + shape[:ind])


# ----------------------------------------------------------------------------- determinants

@_linalg_export
def det(a):
    """The determinant of each matrix. Its gradient is the matrix of cofactors, det(a) a^-T,
    exact at singular matrices too.

    >>> ad.numpy.linalg.det(np.array([[1.0, 2.0], [3.0, 4.0]]))  # -2.0
    """
    return _linalg.det(_matrices(a, "det", square=True))


@_linalg_export
def slogdet(a):
    """(sign, logabsdet) of each matrix, NumPy's SlogdetResult; only logabsdet carries a
    derivative (a^-T for real a).

    >>> ad.numpy.linalg.slogdet(np.array([[-2.0, 0.0], [0.0, 3.0]]))  # sign -1, log 6
    """
    return SlogdetResult(*_linalg.slogdet(_matrices(a, "slogdet", square=True)))


# ----------------------------------------------------------------------------- decompositions

@_linalg_export
def cholesky(a, /, *, upper: bool = False):
    """The Cholesky factor L (A = L L^T) of symmetric positive definite matrices, or L^T
    with upper=True; differentiated as a function of symmetric matrices (PyTorch's rule).

    >>> ad.numpy.linalg.cholesky(np.array([[4.0, 2.0], [2.0, 2.0]]))  # [[2, 0], [1, 1]]
    """
    return _decomp.cholesky(_matrices(a, "cholesky", square=True), bool(upper))


@_linalg_export
def qr(a, mode: str = "reduced"):
    """The QR factorization: QRResult(Q, R) for mode 'reduced' or 'complete', R for 'r'.
    Not differentiable with mode 'complete' and more rows than columns (Q is not unique).

    >>> q, r = ad.numpy.linalg.qr(np.array([[3.0, 1.0], [4.0, 2.0]]))
    """
    if mode in ("f", "full"):
        warnings.warn("The 'full' option is deprecated in favor of 'reduced'.\nFor backward "
                      "compatibility let mode default.", DeprecationWarning, stacklevel=2)
        mode = "reduced"
    if mode not in ("reduced", "complete", "r"):
        if mode in ("raw", "e", "economic"):
            raise NotImplementedError(f"qr(mode={mode!r}) returns LAPACK's Householder "
                                      "reflectors, which autodx does not support; use "
                                      "mode='reduced' or 'complete'")
        raise ValueError(f"Unrecognized mode '{mode}'")
    q, r = _decomp.qr(_matrices(a, "qr"), "complete" if mode == "complete" else "reduced")
    return r if mode == "r" else QRResult(q, r)


@_linalg_export
def eigh(a, UPLO: str = "L"):  # noqa: N803 - NumPy's name
    """EighResult(eigenvalues ascending, eigenvectors) of symmetric matrices (NumPy reads the
    `UPLO` triangle; derivatives treat the matrix as symmetric, as PyTorch and JAX).

    >>> w, v = ad.numpy.linalg.eigh(np.array([[2.0, 1.0], [1.0, 2.0]]))  # w = [1, 3]
    """
    return EighResult(*_decomp.eigh(_matrices(a, "eigh", square=True), _uplo(UPLO)))


@_linalg_export
def eigvalsh(a, UPLO: str = "L"):  # noqa: N803 - NumPy's name
    """The eigenvalues (ascending) of symmetric matrices.

    >>> ad.numpy.linalg.eigvalsh(np.array([[2.0, 1.0], [1.0, 2.0]]))  # [1, 3]
    """
    return _decomp.eigvalsh(_matrices(a, "eigvalsh", square=True), _uplo(UPLO))


@_linalg_export
def eig(a):
    """EigResult(eigenvalues, eigenvectors) of square matrices, always complex; each
    eigenvector has unit norm and its largest entry real (LAPACK's normalization, which the
    derivative follows, as JAX's). Derivatives exist where the eigenvalues are distinct.

    >>> w, v = ad.numpy.linalg.eig(np.array([[0.0, -1.0], [1.0, 0.0]]))  # w = [1j, -1j]
    """
    return EigResult(*_decomp.eig(_matrices(a, "eig", square=True)))


@_linalg_export
def eigvals(a):
    """The eigenvalues of square matrices, always complex (see `eig`).

    >>> ad.numpy.linalg.eigvals(np.diag([1.0, 2.0]))  # [1+0j, 2+0j]
    """
    return _decomp.eig(_matrices(a, "eigvals", square=True))[0]


@_linalg_export
def svd(a, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False):
    """SVDResult(U, S, Vh) with a = U @ diag(S) @ Vh, S descending; S alone if not
    compute_uv. S is differentiable everywhere (0 has gradient 0), U and Vh where the
    singular values are distinct and nonzero; with full_matrices the extra columns of U
    (rows of Vh) carry no derivative, as PyTorch.

    >>> ad.numpy.linalg.svd(np.diag([3.0, -2.0]), compute_uv=False)  # [3, 2]
    """
    a = _matrices(a, "svd")
    if not compute_uv:
        return _decomp.svdvals(a, bool(hermitian))
    return SVDResult(*_decomp.svd(a, bool(full_matrices), bool(hermitian)))


@_linalg_export
def svdvals(x, /):
    """The singular values, descending (NumPy 2's svd(x, compute_uv=False)).

    >>> ad.numpy.linalg.svdvals(np.diag([3.0, -2.0]))  # [3, 2]
    """
    return svd(x, compute_uv=False)


# ----------------------------------------------------------------------------- rank, cond

@_linalg_export
def matrix_rank(A, tol=None, hermitian: bool = False, *, rtol=None):  # noqa: N803
    """The number of singular values above the tolerance (an integer: no derivative).

    >>> ad.numpy.linalg.matrix_rank(np.ones((3, 3)))  # 1
    """
    A = as_array(A)  # noqa: N806
    if len(shape_of(A)) < 2:  # NumPy's rank of a vector or scalar: 1 unless all zero
        nonzero = prims.greater(prims.sum(prims.not_equal(ravel(A), 0), (0,)), 0)
        return prims.convert(nonzero, np.intp) if transformed(nonzero) else int(nonzero)
    if tol is not None and rtol is not None:
        raise ValueError("`tol` and `rtol` can't be both set.")
    which = "tol" if tol is not None else "rtol" if rtol is not None else None
    return _linalg.matrix_rank(A, tol if tol is not None else rtol, bool(hermitian), which)


@_linalg_export
def cond(x, p=None):
    """The condition number in norm `p` (no derivative; inf for singular matrices).

    >>> ad.numpy.linalg.cond(np.diag([1.0, 4.0]))  # 4.0
    """
    return _linalg.cond(_matrices(x, "cond", arg="x"), p)


# ----------------------------------------------------------------------------- norms

def _abs2(x):
    """|x|^2, elementwise."""
    if np.dtype(dtype_of(x)).kind == "c":
        return prims.elementwise.real(prims.mul(prims.elementwise.conj(x), x))
    return prims.mul(x, x)


def _root(s, power: float):
    """s ** power with derivative 0 at s == 0 (for the norms at 0). NOTE: a norm is not
    differentiable at 0; its gradient there is 0, the sub-gradient of smallest norm (as
    PyTorch)."""
    if not transformed(s):  # PERF: nothing will be differentiated
        return np.sqrt(s) if power == 0.5 else s ** power
    zero = prims.equal(s, 0)
    safe = prims.where(zero, 1.0, s)
    return prims.where(zero, 0.0, prims.sqrt(safe) if power == 0.5 else prims.pow(safe, power))


def _sum(x, axes: tuple, keepdims: bool = False):
    return prims.sum(x, tuple(sorted(axes)), bool(keepdims))


def _vector_norm(x, ord, axis: int, keepdims: bool):  # noqa: A002 - NumPy's name
    """NumPy's vector norms along one axis."""
    if ord == np.inf:
        return amax(prims.abs(x), axis, keepdims=keepdims)
    if ord == -np.inf:
        return amin(prims.abs(x), axis, keepdims=keepdims)
    if ord == 0:
        real = np.finfo(dtype_of(x)).dtype
        return _sum(prims.convert(prims.not_equal(x, 0), real), (axis,), keepdims)
    if ord == 1:
        return _sum(prims.abs(x), (axis,), keepdims)
    if ord is None or ord == 2:
        return _root(_sum(_abs2(x), (axis,), keepdims), 0.5)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    magnitude = prims.abs(x)
    if 0 < ord < 1:  # |x|**p has an infinite slope at 0: see _root
        powered = _root(magnitude, ord)
    else:
        powered = prims.pow(magnitude, ord)
    return _root(_sum(powered, (axis,), keepdims), 1.0 / ord)


def _matrix_norm(x, ord, row: int, col: int):  # noqa: A002 - NumPy's name
    """NumPy's matrix norms over the (row, col) axes (removed)."""
    if ord in (2, -2):
        s = _decomp.svdvals(moveaxis(x, (row, col), (-2, -1)))
        return (amax if ord == 2 else amin)(s, -1)
    if ord in (1, -1):
        sums = _sum(prims.abs(x), (row,))
        return (amax if ord == 1 else amin)(sums, col - (col > row))
    if ord in (np.inf, -np.inf):
        sums = _sum(prims.abs(x), (col,))
        return (amax if ord == np.inf else amin)(sums, row - (row > col))
    if ord in (None, "fro", "f"):
        return _root(_sum(_abs2(x), (row, col)), 0.5)
    if ord == "nuc":
        s = _decomp.svdvals(moveaxis(x, (row, col), (-2, -1)))
        return _sum(s, (len(shape_of(s)) - 1,))
    raise ValueError(f"Invalid norm order {ord!r} for matrices.")


@_linalg_export
def norm(x, ord=None, axis=None, keepdims: bool = False):  # noqa: A002 - NumPy's name
    """NumPy's vector norm (one axis: ord None/2, 1, inf, -inf, 0, any p) or matrix norm
    (two axes: 'fro', 'nuc', 2, -2, 1, -1, inf, -inf). Kinks: 0 has gradient 0 (smallest
    sub-gradient); ties of max/min split the gradient evenly.

    >>> ad.numpy.linalg.norm(np.array([3.0, 4.0]))  # 5.0
    """
    x = _inexact(as_array(x))
    nd = len(shape_of(x))
    if axis is None:
        if ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1):
            out = _root(_sum(_abs2(ravel(x)), (0,)), 0.5)
            return reshape(out, (1,) * nd) if keepdims else out
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        try:
            axis = (operator.index(axis),)
        except TypeError as e:
            raise TypeError("'axis' must be None, an integer or a tuple of integers") from e
    if len(axis) == 1:
        return _vector_norm(x, ord, one_axis(axis[0], nd), keepdims)
    if len(axis) != 2:
        raise ValueError(f"Improper number of dimensions to norm (axis={axis!r}: one axis for "
                         "a vector norm, two for a matrix norm).")
    row, col = one_axis(axis[0], nd), one_axis(axis[1], nd)
    if row == col:
        raise ValueError("Duplicate axes given.")
    out = _matrix_norm(x, ord, row, col)
    if keepdims:
        out = reshape(out, tuple(1 if i in (row, col) else s for i, s in enumerate(shape_of(x))))
    return out


@_linalg_export
def vector_norm(x, /, *, axis=None, keepdims: bool = False, ord=2):  # noqa: A002
    """The vector norm over `axis` (None: all elements; a tuple: those axes together).

    >>> ad.numpy.linalg.vector_norm(np.ones((2, 2)), ord=1)  # 4.0
    """
    x = as_array(x)
    shape = shape_of(x)
    if axis is None:
        y, along = ravel(x), 0
    elif isinstance(axis, tuple):
        axes = tuple(one_axis(a, len(shape)) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"repeated axis in `axis` argument {axis!r}")
        rest = tuple(i for i in range(len(shape)) if i not in axes)
        y = reshape(transpose(x, axes + rest),
                    (math.prod(shape[i] for i in axes), *[shape[i] for i in rest]))
        along = 0
    else:
        y, along = x, axis
    out = norm(y, axis=along, ord=ord)
    if keepdims:
        kept = range(len(shape)) if axis is None else (
            axis if isinstance(axis, tuple) else (axis,))
        kept = {one_axis(a, len(shape)) for a in kept}
        out = reshape(out, tuple(1 if i in kept else s for i, s in enumerate(shape)))
    return out


@_linalg_export
def matrix_norm(x, /, *, keepdims: bool = False, ord="fro"):  # noqa: A002 - NumPy's name
    """The matrix norm of each matrix of a stack (the last two axes).

    >>> ad.numpy.linalg.matrix_norm(np.eye(2), ord="nuc")  # 2.0
    """
    return norm(x, axis=(-2, -1), keepdims=keepdims, ord=ord)


# ----------------------------------------------------------------------------- products

@_linalg_export
def matrix_power(a, n: int):
    """a @ a @ ... (n times; n < 0: of inv(a); n == 0: the identity), in NumPy's order of
    products (binary decomposition of n).

    >>> ad.numpy.linalg.matrix_power(np.array([[1.0, 1.0], [0.0, 1.0]]), 3)  # [[1, 3], [0, 1]]
    """
    a = _matrices(a, "matrix_power", square=True)
    try:
        n = operator.index(n)
    except TypeError as e:
        raise TypeError(f"exponent must be an integer (got {n!r})") from e
    if n == 0:  # the identity: a constant
        return prims.where(True, np.eye(shape_of(a)[-1], dtype=dtype_of(a)), a)
    if n < 0:
        a, n = inv(a), -n
    if n <= 3:
        return a if n == 1 else prims.matmul(a, a) if n == 2 else prims.matmul(
            prims.matmul(a, a), a)
    z = result = None
    while n > 0:
        z = a if z is None else prims.matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else prims.matmul(result, z)
    return result


@_linalg_export
def multi_dot(arrays, *, out=None):
    """The product of two or more arrays in the cheapest order (NumPy's): the first may be
    a 1-D row vector, the last a 1-D column vector, the others 2-D.

    >>> ad.numpy.linalg.multi_dot([np.ones(2), np.eye(2), np.ones(2)])  # 2.0
    """
    no_out(out, "linalg.multi_dot")
    arrays = [as_array(a) for a in arrays]
    if len(arrays) < 2:
        raise ValueError(f"multi_dot: Expecting at least two arrays (got {len(arrays)}).")
    if len(arrays) == 2:
        return _products.dot(arrays[0], arrays[1])
    first, last = len(shape_of(arrays[0])) == 1, len(shape_of(arrays[-1])) == 1
    arrays[0] = reshape(arrays[0], (1, -1)) if first else arrays[0]
    arrays[-1] = reshape(arrays[-1], (-1, 1)) if last else arrays[-1]
    for i, x in enumerate(arrays):
        if len(shape_of(x)) != 2:
            raise LinAlgError(f"multi_dot: {len(shape_of(x))}-dimensional array given. Array "
                              f"must be two-dimensional (array {i} has shape {shape_of(x)})")
    result = _chain(arrays)
    if first and last:
        return prims.getitem(result, (0, 0))
    return ravel(result) if first or last else result


def _chain(arrays: list):
    """The product of the matrices in the order of fewest scalar multiplications."""
    if len(arrays) == 3:
        (a0, a1), (c0, c1) = shape_of(arrays[0]), shape_of(arrays[2])
        a, b, c = arrays
        if a0 * c0 * (a1 + c1) < a1 * c1 * (a0 + c0):  # cost((AB)C) < cost(A(BC))
            return prims.matmul(prims.matmul(a, b), c)
        return prims.matmul(a, prims.matmul(b, c))
    n = len(arrays)
    dims = [shape_of(a)[0] for a in arrays] + [shape_of(arrays[-1])[1]]
    cost, split = np.zeros((n, n)), np.zeros((n, n), dtype=np.intp)
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i, j] = np.inf
            for k in range(i, j):
                q = cost[i, k] + cost[k + 1, j] + dims[i] * dims[k + 1] * dims[j + 1]
                if q < cost[i, j]:
                    cost[i, j], split[i, j] = q, k
    return _product(arrays, split, 0, n - 1)


def _product(arrays, split, i: int, j: int):
    if i == j:
        return arrays[i]
    k = int(split[i, j])
    return prims.matmul(_product(arrays, split, i, k), _product(arrays, split, k + 1, j))


@_linalg_export
def matmul(x1, x2, /):
    """The matrix product (the Array API's spelling of np.matmul)."""
    return prims.matmul(x1, x2)


@_linalg_export
def outer(x1, x2, /):
    """The outer product of two 1-D arrays."""
    x1, x2 = as_array(x1), as_array(x2)
    n1, n2 = len(shape_of(x1)), len(shape_of(x2))
    if n1 != 1 or n2 != 1:
        raise ValueError(f"Input arrays must be one-dimensional, but they are x1.ndim={n1} "
                         f"and x2.ndim={n2}.")
    return prims.mul(reshape(x1, (-1, 1)), reshape(x2, (1, -1)))


@_linalg_export
def vecdot(x1, x2, /, *, axis: int = -1):
    """The dot product of the vectors along `axis` (conjugating x1), broadcast."""
    x1, x2 = as_array(x1), as_array(x2)
    x1 = moveaxis(x1, one_axis(axis, len(shape_of(x1))), -1)
    x2 = moveaxis(x2, one_axis(axis, len(shape_of(x2))), -1)
    if shape_of(x1)[-1] != shape_of(x2)[-1]:
        raise ValueError(f"vecdot: the vectors along axis {axis} have {shape_of(x1)[-1]} and "
                         f"{shape_of(x2)[-1]} elements; they must have the same number")
    if np.dtype(dtype_of(x1)).kind == "c":
        x1 = prims.elementwise.conj(x1)
    product = prims.mul(x1, x2)
    return _sum(product, (len(shape_of(product)) - 1,))


@_linalg_export
def matrix_transpose(x, /):
    """Each matrix of a stack transposed (the last two axes swapped)."""
    x = as_array(x)
    if len(shape_of(x)) < 2:
        raise ValueError(f"Input array must be at least 2-dimensional (got shape "
                         f"{shape_of(x)})")
    return swapaxes(x, -1, -2)


@_linalg_export
def trace(x, /, *, offset: int = 0, dtype=None):
    """The sum along the `offset` diagonal of each matrix of a stack."""
    return _products.trace(_matrices(x, "trace", arg="x"), offset, -2, -1, dtype)


@_linalg_export
def diagonal(x, /, *, offset: int = 0):
    """The `offset` diagonal of each matrix of a stack."""
    return _products.diagonal(_matrices(x, "diagonal", arg="x"), offset, -2, -1)


@_linalg_export
def cross(x1, x2, /, *, axis: int = -1):
    """The cross product of 3-vectors along `axis`, broadcast."""
    x1, x2 = as_array(x1), as_array(x2)
    n1, n2 = shape_of(x1)[axis], shape_of(x2)[axis]
    if n1 != 3 or n2 != 3:
        raise ValueError(f"Both input arrays must be (arrays of) 3-dimensional vectors, but "
                         f"they are {n1} and {n2} dimensional instead.")
    return _products.cross(x1, x2, axis=axis)


@_linalg_export
def tensordot(x1, x2, /, *, axes=2):
    """Sum of products over the given axes (np.tensordot with keyword-only `axes`)."""
    return _products.tensordot(x1, x2, axes)


globals().update(_namespace("numpy.linalg"))
__all__ = sorted(_namespace("numpy.linalg"))
