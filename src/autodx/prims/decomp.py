"""Matrix decompositions: `cholesky`, `qr`, `eigh`, `eigvalsh`, `eig`, `svd`, `svdvals`, on
stacks of matrices `(..., m, n)` as NumPy's linalg.

A primitive has one output, so a decomposition with several returns them packed: the pieces
flattened per matrix and joined along one last axis (`_pack`), which the low-level wrapper
splits again (`_unpack`); the rules split the packed cotangent and pack the tangent the same
way. The functions of one or two outputs (`eigvalsh`, `svdvals`) are primitives of their own
(LAPACK computes them differently, and faster), whose rules call the full decomposition.

Rules follow Giles (2008), "An extended collection of matrix derivative results", and are
written with autodx ops so that they have derivatives too. Hermitian input (cholesky, eigh,
eigvalsh, svd/svdvals with hermitian=True) is differentiated as PyTorch and JAX do: as a
function of Hermitian matrices, so tangents and gradients are projected on them (`sym`),
although NumPy reads only one triangle. All differentiate complex input too. The engine
pairs a cotangent g with a tangent t as Re(sum(g * t)), without conjugation, so a VJP is the
conjugate of the adjoint (for the pairing Re tr(g^H t): the real formula with ^H for ^T)
taken at the conjugated cotangent (`cj`).

NOTE (degenerate spectra): the eigenvectors of eigh and eig, and the singular vectors of svd,
have no derivative where two eigenvalues (singular values) are equal, nor the singular vectors
of a non-square matrix where a singular value is 0. As PyTorch documents, derivatives through
the vectors are then NaN, while those of functions of the eigenvalues or singular values alone
stay exact: in the divisions by w_j - w_i and by s_i an entry whose cotangent (or tangent) is
exactly 0 gives 0, as nothing flows through the vectors there, and any other gives NaN
(`divide_or_nan`). JAX takes every such factor as 0 instead, which is finite but silently not
a derivative (of V diag(f(w)) V^T at a tie, say, whose derivative holds f'(w)).
"""

from __future__ import annotations

import math

import numpy as np

from ..core import Primitive, bind, dtype_of, is_complex, shape_of
from . import elementwise as _ew
from .elementwise import add, div, equal, mul, neg, sub, where
from .index import concatenate
from .linalg import (
    cj,
    cols,
    diag_embed,
    diag_part,
    divide_or_nan,
    eye_like,
    linalg_batch,
    matmul,
    mH,
    mT,
    rows,
    solve,
    sym,
)
from .reduce import sum
from .shape import convert, reshape, stop_gradient
from .sort import argmax

# ----------------------------------------------------------------------------- packing


def _pack_impl(stack_ndim: int, *parts) -> np.ndarray:
    """The NumPy side of packing, for the impls (the dtypes promote: complex if any is)."""
    return np.concatenate([p.reshape(p.shape[:stack_ndim] + (-1,)) for p in parts], -1)


def _pack(stack: tuple, parts: list):
    """The tangents of the pieces, packed as the primitive's output is."""
    flat = [reshape(p, stack + (math.prod(shape_of(p)[len(stack):]),)) for p in parts]
    return concatenate(flat, len(stack))


def _unpack(packed, cores: list) -> list:
    """The pieces of a packed output (or cotangent), with core shapes `cores`."""
    stack, start, parts = shape_of(packed)[:-1], 0, []
    for core in cores:
        size = math.prod(core)
        parts.append(reshape(cols(packed, start, start + size), stack + core))
        start += size
    return parts


def _stack_and_core(a) -> tuple[tuple, int, int]:
    shape = shape_of(a)
    return shape[:-2], shape[-2], shape[-1]


def _over_gaps(m, w):
    """F o m with F[i, j] = 1 / (w[j] - w[i]) off the diagonal and 0 on it (at a tie, see the
    NOTE above)."""
    stack, n = shape_of(w)[:-1], shape_of(w)[-1]
    gaps = sub(reshape(w, stack + (1, n)), reshape(w, stack + (n, 1)))
    return divide_or_nan(mul(m, 1.0 - eye_like(m)), gaps)


def _real_part_if_complex(x):
    return _ew.real(x) if is_complex(x) else x


# ----------------------------------------------------------------------------- cholesky

cholesky_p = Primitive("cholesky", lambda a, *, upper: np.linalg.cholesky(a, upper=upper),
                       reads_inputs=False)  # the VJPs of these read only their outputs
cholesky_p.batch = linalg_batch(cholesky_p, (2,))


def cholesky(a, upper: bool = False):
    """L with A = L L^T (lower), or U = L^T (upper=True)."""
    return bind(cholesky_p, a, upper=upper)


def _phi(x):
    """The lower triangle of x with its diagonal halved."""
    n = shape_of(x)[-1]
    return mul(x, (np.tri(n, k=-1) + 0.5 * np.eye(n)).astype(dtype_of(x)))


@cholesky_p.def_jvp
def _cholesky_jvp(primals, tangents, *, upper):
    # dL = L phi(L^-1 dA L^-H) (Murray 2016)
    (a,), (t,) = primals, tangents
    out = cholesky(a, upper)
    low = mH(out) if upper else out
    x = solve(low, mH(solve(low, sym(t))))
    dl = matmul(low, _phi(x))
    return out, mH(dl) if upper else dl


@cholesky_p.def_vjp
def _cholesky_vjp(needs, g, out, a, *, upper):
    # The adjoint sym(L^-H phi(L^H gL) L^-1) of the conjugated cotangent, conjugated (see
    # the module docstring)
    low, gl = (mH(out), mH(g)) if upper else (out, g)
    z = solve(mH(low), _phi(matmul(mH(low), cj(gl))))
    return (cj(sym(mH(solve(mH(low), mH(z))))),)


# ----------------------------------------------------------------------------- qr

def _qr_impl(a, *, mode):
    return _pack_impl(a.ndim - 2, *np.linalg.qr(a, mode=mode))


qr_p = Primitive("qr", _qr_impl)
qr_p.batch = linalg_batch(qr_p, (2,))


def _qr_cores(m: int, n: int, mode: str) -> list:
    k = m if mode == "complete" else min(m, n)
    return [(m, k), (k, n)]


def qr(a, mode: str = "reduced"):
    """(Q, R) with A = Q R, mode "reduced" or "complete" as NumPy's."""
    _, m, n = _stack_and_core(a)
    return _unpack(bind(qr_p, a, mode=mode), _qr_cores(m, n, mode))


def _qr_differentiable(a, mode: str) -> None:
    _, m, n = _stack_and_core(a)
    if mode == "complete" and m > n:
        raise NotImplementedError(
            f"qr(mode='complete') of a {m}x{n} matrix (more rows than columns) is not "
            "differentiable: its last m - n columns of Q are any orthonormal basis of the "
            "complement (PyTorch refuses it too); use mode='reduced'")


def _qr_square_jvp(q, r, t):
    """(dQ, dR) for A = Q R with R square: with C = Q^H dA R^-1 and Omega the skew-Hermitian
    matrix with the strictly lower triangle of C and the diagonal i Im diag(C),
    dR = (C - Omega) R, dQ = dA R^-1 - Q dR R^-1. NOTE: the diagonal of Omega keeps that of
    R real, as LAPACK's (and so NumPy's and JAX's) R is; as JAX."""
    b = mT(solve(mT(r), mT(t)))  # dA R^-1
    c = matmul(mH(q), b)
    low = mul(c, np.tri(shape_of(c)[-1], k=-1, dtype=dtype_of(c)))
    omega = _plus_imag_diag(sub(low, mH(low)), c)
    return add(matmul(q, sub(omega, c)), b), matmul(sub(c, omega), r)


def _qr_square_vjp(q, r, gq, gr):
    """The adjoint of `_qr_square_jvp` (for the pairing Re tr(g^H t))."""
    m = sub(matmul(gr, mH(r)), matmul(mH(q), gq))
    d = sub(m, mH(m))
    gc = sub(m, _plus_imag_diag(mul(d, np.tri(shape_of(d)[-1], k=-1, dtype=dtype_of(d))), m))
    gb = add(gq, matmul(q, gc))
    return mH(solve(r, mH(gb)))  # gB R^-H


def _plus_imag_diag(x, c):
    """x + i Im(diag(c)) on the diagonal: x itself for real c."""
    return add(x, diag_embed(mul(_ew.imag(diag_part(c)), 1j))) if is_complex(c) else x


@qr_p.def_jvp
def _qr_jvp(primals, tangents, *, mode):
    # A wide A = [X | Y] (m < n): Q, R_X = qr(X), R_Y = Q^H Y, so dR_Y = dQ^H Y + Q^H dY.
    (a,), (t,) = primals, tangents
    _qr_differentiable(a, mode)
    stack, m, n = _stack_and_core(a)
    out = bind(qr_p, a, mode=mode)
    q, r = _unpack(out, _qr_cores(m, n, mode))
    if m >= n:
        return out, _pack(stack, list(_qr_square_jvp(q, r, t)))
    dq, drx = _qr_square_jvp(q, cols(r, None, m), cols(t, None, m))
    dry = add(matmul(mH(dq), cols(a, m, None)), matmul(mH(q), cols(t, m, None)))
    return out, _pack(stack, [dq, concatenate([drx, dry], len(stack) + 1)])


@qr_p.def_vjp
def _qr_vjp(needs, g, out, a, *, mode):
    # The adjoint of the JVP at the conjugated cotangent, conjugated (see the docstring)
    _qr_differentiable(a, mode)
    stack, m, n = _stack_and_core(a)
    cores = _qr_cores(m, n, mode)
    (q, r), (gq, gr) = _unpack(out, cores), _unpack(cj(g), cores)
    if m >= n:
        return (cj(_qr_square_vjp(q, r, gq, gr)),)
    gry = cols(gr, m, None)
    gq = add(gq, matmul(cols(a, m, None), mH(gry)))
    gx = _qr_square_vjp(q, cols(r, None, m), gq, cols(gr, None, m))
    return (cj(concatenate([gx, matmul(q, gry)], len(stack) + 1)),)


# ----------------------------------------------------------------------------- eigh

def _eigh_impl(a, *, uplo):
    return _pack_impl(a.ndim - 2, *np.linalg.eigh(a, UPLO=uplo))


eigh_p = Primitive("eigh", _eigh_impl, reads_inputs=False)
eigh_p.batch = linalg_batch(eigh_p, (2,))


def eigh(a, uplo: str = "L"):
    """(w, V): the eigenvalues (ascending) and eigenvectors of symmetric/Hermitian matrices."""
    n = shape_of(a)[-1]
    w, v = _unpack(bind(eigh_p, a, uplo=uplo), [(n,), (n, n)])
    return _real_part_if_complex(w), v


@eigh_p.def_jvp
def _eigh_jvp(primals, tangents, *, uplo):
    # P = V^H dA V: dw = Re diag(P), dV = V (F o P) with F[i, j] = 1 / (w_j - w_i) (NOTE: so
    # V^H dV has a zero diagonal, fixing the free phases of complex eigenvectors, as JAX)
    (a,), (t,) = primals, tangents
    n = shape_of(a)[-1]
    out = bind(eigh_p, a, uplo=uplo)
    w, v = _unpack(out, [(n,), (n, n)])
    p = matmul(matmul(mH(v), sym(t)), v)
    dw = _real_part_if_complex(diag_part(p))
    dv = matmul(v, _over_gaps(p, _real_part_if_complex(w)))
    return out, _pack(shape_of(a)[:-2], [convert(dw, dtype_of(dv)), dv])


@eigh_p.def_vjp
def _eigh_vjp(needs, g, out, a, *, uplo):
    # The adjoint of the JVP at the conjugated cotangent, conjugated (see the docstring)
    n = shape_of(a)[-1]
    (w, v), (gw, gv) = _unpack(out, [(n,), (n, n)]), _unpack(g, [(n,), (n, n)])
    w, gw = _real_part_if_complex(w), _real_part_if_complex(gw)
    inner = add(diag_embed(gw), _over_gaps(matmul(mH(v), cj(gv)), w))
    return (cj(sym(matmul(matmul(v, inner), mH(v)))),)


eigvalsh_p = Primitive("eigvalsh", lambda a, *, uplo: np.linalg.eigvalsh(a, UPLO=uplo))
eigvalsh_p.batch = linalg_batch(eigvalsh_p, (2,))


def eigvalsh(a, uplo: str = "L"):
    return bind(eigvalsh_p, a, uplo=uplo)


@eigvalsh_p.def_jvp
def _eigvalsh_jvp(primals, tangents, *, uplo):
    (a,), (t,) = primals, tangents
    _, v = eigh(a, uplo)
    dw = sum(mul(cj(v), matmul(sym(t), v)), (len(shape_of(a)) - 2,))
    return eigvalsh(a, uplo), _real_part_if_complex(dw)


@eigvalsh_p.def_vjp
def _eigvalsh_vjp(needs, g, out, a, *, uplo):
    _, v = eigh(a, uplo)
    return (cj(matmul(mul(v, _row(g)), mH(v))),)


# ----------------------------------------------------------------------------- eig

def _eig_impl(a):
    """NOTE: always complex, as JAX (NumPy returns real arrays when every eigenvalue of the
    stack happens to be real: a dtype that depends on the values, and so differs between
    examples under vmap)."""
    w, v = np.linalg.eig(a)
    dtype = np.result_type(w.dtype, np.complex64)
    return _pack_impl(a.ndim - 2, w.astype(dtype), v.astype(dtype))


eig_p = Primitive("eig", _eig_impl, reads_inputs=False)
eig_p.batch = linalg_batch(eig_p, (2,))


def eig(a):
    """(w, V) with A V = V diag(w); each column of V has unit norm and its entry of largest
    modulus real (LAPACK's, and so NumPy's and JAX's, normalization)."""
    n = shape_of(a)[-1]
    return _unpack(bind(eig_p, a), [(n,), (n, n)])


def _largest_entry(v):
    """1.0 at the entry of largest modulus of each column (the one LAPACK makes real)."""
    n = shape_of(v)[-1]
    k = argmax(_ew.abs(stop_gradient(v)), len(shape_of(v)) - 2, keepdims=True)
    return convert(equal(np.arange(n).reshape(n, 1), k), dtype_of(v))


@eig_p.def_jvp
def _eig_jvp(primals, tangents):
    # P = V^-1 dA V: dw = diag(P), and dV = V (F o P) + V diag(c), where c fixes the freedom
    # v_j -> (1 + c_j) v_j by LAPACK's normalization: Re(v_j^H dv_j) = 0 (unit norm) and
    # Im(dv_kj) = 0 at the entry k of largest modulus (which stays real). As JAX.
    (a,), (t,) = primals, tangents
    n = shape_of(a)[-1]
    out = bind(eig_p, a)
    w, v = _unpack(out, [(n,), (n, n)])
    p = solve(v, matmul(t, v))
    u = matmul(v, _over_gaps(p, w))
    mask, axis = _largest_entry(v), (len(shape_of(v)) - 2,)
    along = _ew.real(sum(mul(_ew.conj(v), u), axis))
    across = _ew.imag(sum(mul(mask, u), axis))
    scale = _ew.real(sum(mul(mask, v), axis))
    c = neg(add(along, mul(div(across, scale), 1j)))
    dv = add(u, mul(v, reshape(c, shape_of(c)[:-1] + (1, n))))
    return out, _pack(shape_of(a)[:-2], [diag_part(p), dv])


@eig_p.def_vjp
def _eig_vjp(needs, g, out, a):
    # The transpose of the JVP above (the pairing is Re(ct * x), as JAX's); the real part
    # of the result for a real A.
    n = shape_of(a)[-1]
    (w, v), (gw, gv) = _unpack(out, [(n,), (n, n)]), _unpack(g, [(n,), (n, n)])
    mask, axis = _largest_entry(v), (len(shape_of(v)) - 2,)
    gc = sum(mul(v, gv), axis)
    scale = _ew.real(sum(mul(mask, v), axis))
    g_along = neg(_ew.real(gc))
    g_across = mul(div(_ew.imag(gc), scale), -1j)
    row = shape_of(gc)[:-1] + (1, n)
    gu = add(gv, add(mul(_ew.conj(v), reshape(g_along, row)),
                     mul(mask, reshape(g_across, row))))
    gp = add(diag_embed(gw), _over_gaps(matmul(mT(v), gu), w))
    ga = solve(mT(v), matmul(gp, mT(v)))
    return (ga if np.dtype(dtype_of(a)).kind == "c" else _ew.real(ga),)


# ----------------------------------------------------------------------------- svd

def _svd_impl(a, *, full_matrices, hermitian):
    return _pack_impl(a.ndim - 2, *np.linalg.svd(a, full_matrices, True, hermitian))


svd_p = Primitive("svd", _svd_impl, reads_inputs=False)
svd_p.batch = linalg_batch(svd_p, (2,))


def _svd_cores(m: int, n: int, full_matrices: bool) -> list:
    k = min(m, n)
    return [(m, m), (k,), (n, n)] if full_matrices else [(m, k), (k,), (k, n)]


def svd(a, full_matrices: bool = False, hermitian: bool = False):
    """(U, s, Vt) with A = U diag(s) Vt, s descending."""
    _, m, n = _stack_and_core(a)
    u, s, vt = _unpack(bind(svd_p, a, full_matrices=full_matrices, hermitian=hermitian),
                       _svd_cores(m, n, full_matrices))
    return u, _real_part_if_complex(s), vt


def _nonzero(s, ds):
    """NOTE: a singular value is |sigma|, so at s == 0 its derivative is taken as 0, the
    smallest-norm sub-gradient (as abs at 0)."""
    return where(equal(s, 0), 0.0, ds)


def _svd_tangents(u, s, vh, t):
    """(dU, ds, dVh) of the thin SVD (Giles 2008; Townsend 2016): dS = U^H dA V,
    dU = U (F o (dS S + S dS^H)) + (I - U U^H) dA V S^-1, and dV likewise, with
    F[i, j] = 1 / (s_j^2 - s_i^2). NOTE: complex singular vectors have free phases (U D, V D
    for a unitary diagonal D); as JAX, the tangent Im diag(dS) / s of that phase goes to U."""
    v, row, col, s2 = mH(vh), _row(s), _col(s), mul(s, s)
    ds = matmul(matmul(mH(u), t), v)
    ds_s, s_ds = mul(ds, row), mul(col, ds)
    du = matmul(u, _over_gaps(add(ds_s, mH(ds_s)), s2))
    dv = matmul(v, _over_gaps(add(s_ds, mH(s_ds)), s2))
    if is_complex(ds):
        du = add(du, mul(u, _row(_phase_over_s(diag_part(ds), s))))
    m, n = shape_of(u)[-2], shape_of(vh)[-1]
    if m > n:
        du = add(du, divide_or_nan(sub(matmul(t, v), matmul(u, ds)), row))
    if n > m:
        dv = add(dv, divide_or_nan(sub(matmul(mH(t), u), matmul(v, mH(ds))), row))
    return du, _nonzero(s, _real_part_if_complex(diag_part(ds))), mH(dv)


def _svd_cotangent(u, s, vh, gu, gs, gvh):
    """The transpose of `_svd_tangents`: its adjoint (Re tr(g^H t) pairing) at the conjugated
    cotangents, conjugated (see the module docstring)."""
    gu, gv = cj(gu), cj(mH(gvh))
    v, row, col, s2 = mH(vh), _row(s), _col(s), mul(s, s)
    uh_gu, vh_gv = matmul(mH(u), gu), matmul(vh, gv)
    j, k = _over_gaps(uh_gu, s2), _over_gaps(vh_gv, s2)
    inner = add(add(mul(add(j, mH(j)), row), mul(col, add(k, mH(k)))),
                diag_embed(_nonzero(s, gs)))
    if is_complex(uh_gu):
        inner = add(inner, diag_embed(_phase_over_s(diag_part(uh_gu), s)))
    ga = matmul(matmul(u, inner), vh)
    m, n = shape_of(u)[-2], shape_of(vh)[-1]
    if m > n:
        ga = add(ga, matmul(divide_or_nan(sub(gu, matmul(u, uh_gu)), row), vh))
    if n > m:
        ga = add(ga, matmul(u, mH(divide_or_nan(sub(gv, matmul(v, vh_gv)), row))))
    return cj(ga)


def _phase_over_s(d, s):
    """i Im(d) / s: the phase part of U's tangent (a self-adjoint map of d)."""
    return divide_or_nan(mul(_ew.imag(d), 1j), s)


def _row(s):
    return reshape(s, shape_of(s)[:-1] + (1, shape_of(s)[-1]))


def _col(s):
    return reshape(s, shape_of(s) + (1,))


def _thin(u, vt, k: int):
    return cols(u, None, k), rows(vt, None, k)


@svd_p.def_jvp
def _svd_jvp(primals, tangents, *, full_matrices, hermitian):
    # NOTE: with full_matrices, the columns of U and rows of Vt past min(m, n) are any
    # orthonormal basis of a complement; as PyTorch, their derivative is taken as zero
    # (and their cotangent is ignored).
    (a,), (t,) = primals, tangents
    stack, m, n = _stack_and_core(a)
    out = bind(svd_p, a, full_matrices=full_matrices, hermitian=hermitian)
    u, s, vt = _unpack(out, _svd_cores(m, n, full_matrices))
    s = _real_part_if_complex(s)
    k = min(m, n)
    u, vt = _thin(u, vt, k)
    du, ds, dvt = _svd_tangents(u, s, vt, sym(t) if hermitian else t)
    if full_matrices and m > k:
        du = concatenate([du, np.zeros(stack + (m, m - k), dtype_of(du))], len(stack) + 1)
    if full_matrices and n > k:
        dvt = concatenate([dvt, np.zeros(stack + (n - k, n), dtype_of(dvt))], len(stack))
    return out, _pack(stack, [du, convert(ds, dtype_of(du)), dvt])


@svd_p.def_vjp
def _svd_vjp(needs, g, out, a, *, full_matrices, hermitian):
    _, m, n = _stack_and_core(a)
    cores = _svd_cores(m, n, full_matrices)
    (u, s, vt), (gu, gs, gvt) = _unpack(out, cores), _unpack(g, cores)
    s, gs = _real_part_if_complex(s), _real_part_if_complex(gs)
    k = min(m, n)
    (u, vt), (gu, gvt) = _thin(u, vt, k), _thin(gu, gvt, k)
    ga = _svd_cotangent(u, s, vt, gu, gs, gvt)
    return (sym(ga) if hermitian else ga,)


svdvals_p = Primitive("svdvals", lambda a, *, hermitian: np.linalg.svd(
    a, compute_uv=False, hermitian=hermitian))
svdvals_p.batch = linalg_batch(svdvals_p, (2,))


def svdvals(a, hermitian: bool = False):
    return bind(svdvals_p, a, hermitian=hermitian)


@svdvals_p.def_jvp
def _svdvals_jvp(primals, tangents, *, hermitian):
    (a,), (t,) = primals, tangents
    s = svdvals(a, hermitian)
    u, _, vh = svd(a, False, hermitian)
    t = sym(t) if hermitian else t
    ds = sum(mul(cj(u), matmul(t, mH(vh))), (len(shape_of(a)) - 2,))
    return s, _nonzero(s, _real_part_if_complex(ds))


@svdvals_p.def_vjp
def _svdvals_vjp(needs, g, out, a, *, hermitian):
    u, _, vh = svd(a, False, hermitian)
    ga = cj(matmul(mul(u, _row(_nonzero(out, g))), vh))
    return (sym(ga) if hermitian else ga,)
