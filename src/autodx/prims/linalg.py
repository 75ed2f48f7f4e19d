"""Linear algebra primitives: `matmul` (1-D, 2-D and batched, with NumPy's broadcasting), the
solvers `inv`, `solve`, `pinv`, `lstsq`, the determinants `det` (with `cofactor`, its
gradient) and `slogdet`, and the non-differentiable `matrix_rank` and `cond`.

All but matmul take stacks of matrices `(..., m, n)` as NumPy's linalg does, so their batching
rule moves the batch axis to the front (`linalg_batch`). The rules are the standard matrix
calculus ones (Giles 2008), written with these ops so that they have derivatives in turn.
Those of inv, solve, det and slogdet are holomorphic (transposes, never conjugates, as the
engine transposes without conjugation), so they hold for complex input too; those of pinv and
lstsq are not (they hold conjugate transposes, `mH`), and their VJPs are the conjugated
adjoints at the conjugated cotangent (`cj`). The public functions are in numpy/linalg.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core import Primitive, bind, dtype_of, shape_of
from ..registry import export
from . import elementwise as _ew
from .elementwise import add, div, equal, mul, neg, sub, where
from .index import SliceSpec, getitem, stack
from .reduce import sum
from .shape import moveaxis, reshape, stop_gradient, transpose

matmul_p = Primitive("matmul", np.matmul)


@export
def matmul(x, y):
    """Matrix product with NumPy's rules for 1-D operands and broadcast batch axes."""
    return bind(matmul_p, x, y)


matmul.prim = matmul_p


def _swap_last(x):
    nd = len(shape_of(x))
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _expand(x, axis: int):
    shape = shape_of(x)
    axis = axis % (len(shape) + 1)
    return reshape(x, shape[:axis] + (1,) + shape[axis:])


def _squeeze_last(x):
    return getitem(x, (Ellipsis, 0))


@matmul_p.def_jvp
def _matmul_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    out = matmul(x, y)
    terms = [matmul(tx, y)] if tx is not None else []
    terms += [matmul(x, ty)] if ty is not None else []
    return out, terms[0] if len(terms) == 1 else add(*terms)


@matmul_p.def_vjp
def _matmul_vjp(needs, g, out, x, y):
    # Promote 1-D operands to matrices as NumPy does, use gx = g y^T and gy = x^T g, and let the
    # engine sum any broadcast batch axes away.
    x_1d, y_1d = len(shape_of(x)) == 1, len(shape_of(y)) == 1
    if x_1d and y_1d:
        return (mul(g, y) if needs[0] else None, mul(g, x) if needs[1] else None)
    x2 = _expand(x, 0) if x_1d else x
    y2 = _expand(y, -1) if y_1d else y
    g2 = _expand(g, -2) if x_1d else g
    g2 = _expand(g2, -1) if y_1d else g2
    gx = gy = None
    if needs[0]:
        gx = matmul(g2, _swap_last(y2))
        gx = getitem(gx, (Ellipsis, 0, SliceSpec(None, None, None))) if x_1d else gx
    if needs[1]:
        gy = matmul(_swap_last(x2), g2)
        gy = _squeeze_last(gy) if y_1d else gy
    return gx, gy


@matmul_p.def_batch
def _matmul_batch(axis_size, args, dims):
    (x, y), (dx, dy) = args, dims
    # Batch as a leading broadcast axis; a 1-D operand is first made a matrix so the batch axis
    # cannot be mistaken for a matrix axis.
    x_1d = len(shape_of(x)) - (dx is not None) == 1  # per-example rank
    y_1d = len(shape_of(y)) - (dy is not None) == 1
    fast = _batch_against_matrix(axis_size, x, dx, y, dy, x_1d, y_1d)
    if fast is not None:
        return fast
    if dx is not None:
        x = moveaxis(x, dx, 0)
    if dy is not None:
        y = moveaxis(y, dy, 0)
    x = _expand(x, -2) if x_1d else x
    y = _expand(y, -1) if y_1d else y
    out = matmul(_lead(x, dx, y, dy), _lead(y, dy, x, dx))
    out = getitem(out, (Ellipsis, 0, SliceSpec(None, None, None))) if x_1d else out
    out = _squeeze_last(out) if y_1d else out
    return out, 0


def _batch_against_matrix(axis_size, x, dx, y, dy, x_1d, y_1d):
    """PERF: a batch of vectors or matrices times one unbatched matrix is a single matrix
    product (one GEMM), not a batch of small ones. None when the case does not apply."""
    if (dx is None) == (dy is None):
        return None
    if dy is None and len(shape_of(y)) == 2:
        x = moveaxis(x, dx, 0)
        if x_1d:  # (B, n) @ (n, k)
            return matmul(x, y), 0
        b, m, n = shape_of(x) if len(shape_of(x)) == 3 else (None,) * 3
        if b is not None:  # (B*m, n) @ (n, k)
            return reshape(matmul(reshape(x, (b * m, n)), y), (b, m, shape_of(y)[1])), 0
    if dx is None and len(shape_of(x)) == 2:
        y = moveaxis(y, dy, 0)
        if y_1d:  # (m, n) @ (n,) for each of B vectors: (B, n) @ (n, m)
            return matmul(y, _swap_last(x)), 0
        b, n, k = shape_of(y) if len(shape_of(y)) == 3 else (None,) * 3
        if b is not None:  # (m, n) @ (n, B*k), batch axis 1 of the result
            flat = reshape(transpose(y, (1, 0, 2)), (n, b * k))
            return reshape(matmul(x, flat), (shape_of(x)[0], b, k)), 1
    return None


def _lead(a, da, b, db):
    """Give the batched operand's leading batch axis room to broadcast against the other."""
    if da is None:
        return a
    rank_a, rank_b = len(shape_of(a)) - 1, len(shape_of(b)) - (db is not None)
    pad = max(rank_b - rank_a, 0)
    shape = shape_of(a)
    return reshape(a, shape[:1] + (1,) * pad + shape[1:]) if pad else a


# ----------------------------------------------------------------------------- helpers
# Shared with decomp.py: all take stacks of matrices and keep the dtype of their input.

def mT(x):
    """Swap the last two axes (the transpose of each matrix of a stack; no conjugation)."""
    return _swap_last(x)


def eye_like(x, n: int | None = None) -> np.ndarray:
    """The n x n identity (n: x's last axis) as a constant of x's dtype."""
    return np.eye(shape_of(x)[-1] if n is None else n, dtype=dtype_of(x))


def diag_part(x):
    """The diagonals of a stack of square matrices, (..., n, n) -> (..., n)."""
    return sum(mul(x, eye_like(x)), (len(shape_of(x)) - 1,))


def diag_embed(v):
    """Diagonal matrices from a stack of vectors, (..., n) -> (..., n, n)."""
    return mul(_expand(v, -2), eye_like(v))


def trace_of_product(x, y):
    """tr(x @ y) for each matrix pair of the stacks, without forming the product."""
    nd = len(shape_of(x))
    return sum(mul(mT(x), y), (nd - 2, nd - 1))


def expand2(x):
    """(...) -> (..., 1, 1): a per-matrix scalar that broadcasts against the matrices."""
    return reshape(x, (*shape_of(x), 1, 1))


def cj(x):
    """The complex conjugate of complex x; real x as it is (its graph gains no op)."""
    return _ew.conj(x) if np.dtype(dtype_of(x)).kind == "c" else x


def mH(x):
    """The conjugate transpose of each matrix of a stack (mT for real x)."""
    return cj(mT(x))


def sym(x):
    """The Hermitian (for real x, symmetric) part (x + x^H) / 2. NOTE: NumPy's functions of
    Hermitian matrices read one triangle; they are differentiated, as in PyTorch and JAX, as
    functions of Hermitian matrices (tangents and gradients are projected on them)."""
    return mul(add(x, mH(x)), 0.5)


def divide_or_nan(x, d):
    """x / d, and where d == 0: 0 where x == 0 too, NaN elsewhere (no finite value exists).
    The inner `where` keeps the derivatives of the other entries finite."""
    zero, nan = equal(d, 0), np.array(np.nan, dtype_of(x))
    return where(zero, where(equal(x, 0), 0.0, nan), div(x, where(zero, 1.0, d)))


def cols(x, start: int | None, stop: int | None):
    """x[..., :, start:stop]."""
    return getitem(x, (Ellipsis, SliceSpec(start, stop, None)))


def rows(x, start: int | None, stop: int | None):
    """x[..., start:stop, :]."""
    return getitem(x, (Ellipsis, SliceSpec(start, stop, None), SliceSpec(None, None, None)))


def result_dtype(*arrays) -> np.dtype:
    """The dtype of NumPy's linalg results: the inputs' promoted, integers as float64."""
    dtypes = [np.dtype(dtype_of(x)) for x in arrays]
    if any(d.kind not in "fc" for d in dtypes):
        dtypes.append(np.dtype(np.float64))
    return np.result_type(*[d for d in dtypes if d.kind in "fc"])


def linalg_batch(prim: Primitive, cores: tuple) -> Callable:
    """The batching rule of a linalg op: batch axes to the front, and batched operands padded
    with length-1 stack axes so NumPy's broadcasting of stacks lines them up per example.
    `cores`: how many trailing (core) axes each input has (2 for a matrix, 0 for a scalar)."""

    def rule(axis_size, args, dims, **params):
        ranks = [len(shape_of(x)) - (d is not None) - c for x, d, c in zip(args, dims, cores)]
        stack_rank, moved = max(ranks), []
        for x, d, r in zip(args, dims, ranks):
            if d is not None:
                x = moveaxis(x, d, 0)
                shape = shape_of(x)
                if r < stack_rank:
                    x = reshape(x, shape[:1] + (1,) * (stack_rank - r) + shape[1:])
            moved.append(x)
        return bind(prim, *moved, **params), 0

    rule.__name__ = rule.__qualname__ = f"_{prim.name}_batch"
    return rule


# ----------------------------------------------------------------------------- inv

def _inv_impl(a, *, singular: str):
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        if singular == "raise":
            raise
    out = np.full_like(a, np.nan, dtype=result_dtype(a))  # NaN for the singular ones only
    for i in np.ndindex(a.shape[:-2]):
        try:
            out[i] = np.linalg.inv(a[i])
        except np.linalg.LinAlgError:
            pass
    return out


inv_p = Primitive("inv", _inv_impl, reads_inputs=False)  # its VJP reads only the inverse
inv_p.batch = linalg_batch(inv_p, (2,))


def inv(a, singular: str = "raise"):
    """The inverse of each matrix. singular="raise": NumPy's LinAlgError for a singular one;
    "nan": NaN instead (for rules whose derivative does not exist there)."""
    return bind(inv_p, a, singular=singular)


@inv_p.def_jvp
def _inv_jvp(primals, tangents, *, singular):
    (a,), (t,) = primals, tangents
    x = inv(a, singular)
    return x, neg(matmul(matmul(x, t), x))  # d(A^-1) = -A^-1 dA A^-1


@inv_p.def_vjp
def _inv_vjp(needs, g, out, a, *, singular):
    xt = mT(out)
    return (neg(matmul(matmul(xt, g), xt)),)


# ----------------------------------------------------------------------------- solve

solve_p = Primitive("solve", np.linalg.solve)


def solve(a, b):
    """x with a @ x = b, for a stack of square a and a stack of matrices b (..., m, k)."""
    return bind(solve_p, a, b)


@solve_p.def_jvp
def _solve_jvp(primals, tangents):
    (a, b), (ta, tb) = primals, tangents
    x = solve(a, b)
    rhs = tb if ta is None else neg(matmul(ta, x)) if tb is None else sub(tb, matmul(ta, x))
    return x, solve(a, rhs)  # dx = A^-1 (db - dA x)


@solve_p.def_vjp
def _solve_vjp(needs, g, out, a, b):
    gb = solve(mT(a), g)
    return (neg(matmul(gb, mT(out))) if needs[0] else None, gb)


_solve_batch_generic = linalg_batch(solve_p, (2, 2))


@solve_p.def_batch
def _solve_batch(axis_size, args, dims):
    (a, b), (da, db) = args, dims
    if da is None and db is not None and len(shape_of(a)) == 2 and len(shape_of(b)) == 3:
        # PERF: one matrix, a batch of right-hand sides: one solve with all their columns
        b = moveaxis(b, db, 1)  # (m, B, k)
        m, size, k = shape_of(b)
        return reshape(solve(a, reshape(b, (m, size * k))), (m, size, k)), 1
    return _solve_batch_generic(axis_size, args, dims)


# ----------------------------------------------------------------------------- det

det_p = Primitive("det", np.linalg.det)
det_p.batch = linalg_batch(det_p, (2,))


def det(a):
    return bind(det_p, a)


@det_p.def_jvp
def _det_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    return det(a), sum(mul(cofactor(a), t), _last_two(a))


@det_p.def_vjp
def _det_vjp(needs, g, out, a):
    return (mul(expand2(g), cofactor(a)),)


def _last_two(x) -> tuple:
    nd = len(shape_of(x))
    return (nd - 2, nd - 1)


def _cofactor_impl(a):
    """det(A) A^-T, and for a singular A the same polynomial through the SVD A = U S V^T:
    cof(A) = det(U) det(V^T) conj(U) diag(prod_{j != i} s_j) conj(V^T)."""
    try:
        return np.linalg.det(a)[..., None, None] * np.swapaxes(np.linalg.inv(a), -1, -2)
    except np.linalg.LinAlgError:
        pass
    u, s, vt = np.linalg.svd(a)
    ones = np.ones_like(s[..., :1])
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], -1), -1)
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], -1), -1)[..., ::-1]
    phase = np.linalg.det(u) * np.linalg.det(vt)
    return phase[..., None, None] * ((u.conj() * (before * after)[..., None, :]) @ vt.conj())


cofactor_p = Primitive("cofactor", _cofactor_impl)
cofactor_p.batch = linalg_batch(cofactor_p, (2,))


def cofactor(a):
    """The matrix of cofactors, d det(A) / dA; finite (and exact) for singular A too."""
    return bind(cofactor_p, a)


@cofactor_p.def_jvp
def _cofactor_jvp(primals, tangents):
    # d cof = cof tr(A^-1 dA) - cof dA^T A^-T. NOTE: this second derivative of det needs A^-1,
    # so it is NaN at a singular A (the first derivative, the cofactors, is exact there).
    (a,), (t,) = primals, tangents
    c, x = cofactor(a), inv(a, "nan")
    return c, sub(mul(c, expand2(trace_of_product(x, t))), matmul(matmul(c, mT(t)), mT(x)))


@cofactor_p.def_vjp
def _cofactor_vjp(needs, g, out, a):
    xt = mT(inv(a, "nan"))
    inner = sum(mul(g, out), _last_two(a))
    return (sub(mul(expand2(inner), xt), matmul(matmul(xt, mT(g)), out)),)


# ----------------------------------------------------------------------------- slogdet

def _slogdet_impl(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return np.stack([sign, logabsdet.astype(sign.dtype)], -1)


slogdet_p = Primitive("slogdet", _slogdet_impl)
slogdet_p.batch = linalg_batch(slogdet_p, (2,))


def slogdet(a):
    """(sign, log|det|) of each matrix. For real input the sign is piecewise constant and
    carries no derivative; for complex input it is det/|det|, smooth, and differentiated so
    (its value stays slogdet's, which cannot overflow)."""
    out = bind(slogdet_p, a)
    sign, logabsdet = getitem(out, (Ellipsis, 0)), getitem(out, (Ellipsis, 1))
    if np.dtype(dtype_of(out)).kind != "c":
        return stop_gradient(sign), logabsdet
    d = det(a)
    unit = div(d, _ew.abs(d))
    return add(stop_gradient(sign), sub(unit, stop_gradient(unit))), _ew.real(logabsdet)


@slogdet_p.def_jvp
def _slogdet_jvp(primals, tangents):
    # d log|det A| = Re tr(A^-1 dA). NOTE: at a singular A it is NaN (log|det| is -inf there).
    (a,), (t,) = primals, tangents
    out = bind(slogdet_p, a)
    d = trace_of_product(inv(a, "nan"), t)
    if np.dtype(dtype_of(d)).kind == "c":
        d = _ew.real(d)
    return out, stack([np.zeros(shape_of(d), dtype_of(d)), d], len(shape_of(d)))


@slogdet_p.def_vjp
def _slogdet_vjp(needs, g, out, a):
    g = getitem(g, (Ellipsis, 1))
    if np.dtype(dtype_of(g)).kind == "c":
        g = _ew.real(g)  # the transpose of taking the real part of tr(A^-1 dA)
    return (mul(expand2(g), mT(inv(a, "nan"))),)


# ----------------------------------------------------------------------------- pinv

def _pinv_impl(a, *, rcond: float, hermitian: bool):
    return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian)


pinv_p = Primitive("pinv", _pinv_impl)
pinv_p.batch = linalg_batch(pinv_p, (2,))


def pinv(a, rcond: float, hermitian: bool = False):
    """The Moore-Penrose pseudo-inverse (singular values <= rcond * largest are dropped)."""
    return bind(pinv_p, a, rcond=rcond, hermitian=hermitian)


@pinv_p.def_jvp
def _pinv_jvp(primals, tangents, *, rcond, hermitian):
    # Golub & Pereyra (1973), valid where the rank is constant (NOTE: at a point where a
    # singular value crosses the cutoff the pseudo-inverse jumps and has no derivative):
    # dX = -X dA X + X X^H dA^H (I - A X) + (I - X A) dA^H X^H X
    (a,), (t,) = primals, tangents
    x = pinv(a, rcond, hermitian)
    t = sym(t) if hermitian else t
    tt = mH(t)
    term1 = neg(matmul(matmul(x, t), x))
    term2 = matmul(matmul(x, mH(x)), sub(tt, matmul(matmul(tt, a), x)))
    term3 = matmul(sub(tt, matmul(x, matmul(a, tt))), matmul(mH(x), x))
    return x, add(add(term1, term2), term3)


@pinv_p.def_vjp
def _pinv_vjp(needs, g, out, a, *, rcond, hermitian):
    # the transpose: the conjugate of the adjoint at the conjugated cotangent G (the engine
    # pairs without conjugation), -X^H G X^H + (I - A X) G^H X X^H + X^H X G^H (I - X A)
    x, xh, g = out, mH(out), cj(g)
    gh = mH(g)
    xxh, xhx = matmul(x, xh), matmul(xh, x)
    term1 = neg(matmul(matmul(xh, g), xh))
    term2 = sub(matmul(gh, xxh), matmul(a, matmul(x, matmul(gh, xxh))))
    term3 = sub(matmul(xhx, gh), matmul(matmul(matmul(xhx, gh), x), a))
    ga = cj(add(add(term1, term2), term3))
    return (sym(ga) if hermitian else ga,)


# ----------------------------------------------------------------------------- lstsq

def _lstsq_impl(a, b, *, rcond):
    """NumPy's lstsq solution for each pair of the broadcast stacks (NumPy's takes one)."""
    if a.ndim == 2 and b.ndim == 2:
        return np.linalg.lstsq(a, b, rcond=rcond)[0]
    stack_shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, stack_shape + a.shape[-2:])
    b = np.broadcast_to(b, stack_shape + b.shape[-2:])
    out = np.empty_like(b, shape=stack_shape + a.shape[-1:] + b.shape[-1:],
                        dtype=result_dtype(a, b))
    for i in np.ndindex(stack_shape):
        out[i] = np.linalg.lstsq(a[i], b[i], rcond=rcond)[0]
    return out


lstsq_p = Primitive("lstsq", _lstsq_impl)
lstsq_p.batch = linalg_batch(lstsq_p, (2, 2))


def lstsq(a, b, rcond: float):
    """The least-squares solution x of a @ x ~ b (minimum norm; cutoff as `pinv`'s)."""
    return bind(lstsq_p, a, b, rcond=rcond)


@lstsq_p.def_jvp
def _lstsq_jvp(primals, tangents, *, rcond):
    # x = A^+ b, so dx = A^+ (db - dA x) + A^+ A^+H dA^H r + (I - A^+ A) dA^H A^+H x with
    # r = b - A x; NOTE: valid where the rank is constant, as pinv's.
    (a, b), (ta, tb) = primals, tangents
    x, p = lstsq(a, b, rcond), pinv(a, rcond)
    if ta is None:
        return x, matmul(p, tb)
    r, tah = sub(b, matmul(a, x)), mH(ta)
    rhs = neg(matmul(ta, x)) if tb is None else sub(tb, matmul(ta, x))
    term2 = matmul(matmul(p, mH(p)), matmul(tah, r))
    u = matmul(tah, matmul(mH(p), x))
    term3 = sub(u, matmul(p, matmul(a, u)))
    return x, add(add(matmul(p, rhs), term2), term3)


@lstsq_p.def_vjp
def _lstsq_vjp(needs, g, out, a, b, *, rcond):
    # the transpose: the conjugate of the adjoint at the conjugated cotangent g (as pinv's),
    # gb = A^+H g, gA = -gb x^H + r g^H A^+ A^+H + A^+H x g^H (I - A^+ A)
    p, g = pinv(a, rcond), cj(g)
    gb = matmul(mH(p), g)
    if not needs[0]:
        return None, cj(gb)
    r, gh = sub(b, matmul(a, out)), mH(g)
    term2 = matmul(matmul(r, matmul(gh, p)), mH(p))
    v = matmul(matmul(mH(p), out), gh)
    term3 = sub(v, matmul(matmul(v, p), a))
    return cj(add(add(neg(matmul(gb, mH(out))), term2), term3)), cj(gb)


# ----------------------------------------------------------------------------- rank, cond

def _matrix_rank_impl(a, *tol, hermitian: bool, which: str | None):
    return np.linalg.matrix_rank(a, hermitian=hermitian, **({which: tol[0]} if which else {}))


matrix_rank_p = Primitive("matrix_rank", _matrix_rank_impl, nondiff=True)
matrix_rank_p.batch = linalg_batch(matrix_rank_p, (2, 0))


def matrix_rank(a, tol=None, hermitian: bool = False, which: str | None = None):
    """The number of singular values above the tolerance `tol` (an absolute tolerance if
    which == "tol", a relative one if "rtol"; NumPy's default if which is None)."""
    args = (a,) if which is None else (a, tol)
    return bind(matrix_rank_p, *args, hermitian=hermitian, which=which)


cond_p = Primitive("cond", lambda x, *, p: np.linalg.cond(x, p), nondiff=True)
cond_p.batch = linalg_batch(cond_p, (2,))


def cond(x, p):
    return bind(cond_p, x, p=p)

