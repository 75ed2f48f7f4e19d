"""Op-table rows for the linalg part of the NumPy surface (see op_spec.py).

Decompositions with a gauge freedom (the signs or phases of eigenvectors and singular vectors,
the signs of QR's factors) get rows that are invariant to it: eigenvalues, projectors such as
`(v * c) @ v.T`, `|v|**2`, the sign-normalized QR. Functions of symmetric matrices get their
input symmetrized (`_sym`): they read one triangle and are differentiated as functions of
symmetric matrices. Complex results are checked through real projections; complex input
(`COMPLEX_INPUT_OPS`) is built inside the row from real pairs (x, y) as x + 1j * y."""

from __future__ import annotations

import numpy as np

import autodx as ad
from op_spec import OpSpec

anp = ad.numpy
L = anp.linalg


# ----------------------------------------------------------------------------- domains

def _sym_distinct(rng, shape):
    """Symmetric matrices Q diag(1, 2, ...) Q^T (+ noise): eigenvalues about 1 apart."""
    n = shape[-1]
    q = np.linalg.qr(rng.standard_normal(shape))[0]
    w = np.arange(1.0, n + 1.0) + rng.uniform(-0.2, 0.2, shape[:-1])
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


def _distinct_real_eigs(rng, shape):
    """Nonsymmetric, with real eigenvalues near 1, 2, ... (disjoint Gershgorin discs)."""
    n = shape[-1]
    return rng.uniform(-0.4 / n, 0.4 / n, shape) + np.diag(np.arange(1.0, n + 1.0))


def _rotation_like(rng, shape):
    """A scaled rotation block (eigenvalues 0.8 +- 1.5i) and 3.0 on the diagonal, + noise."""
    block = np.array([[0.8, -1.5, 0.0], [1.5, 0.8, 0.0], [0.0, 0.0, 3.0]])
    return block + rng.uniform(-0.1, 0.1, shape)


def _negative_det(rng, shape):
    """Well conditioned with a negative determinant (slogdet's sign is -1)."""
    a = rng.uniform(-1.0, 1.0, shape) + 3 * np.eye(shape[-1])
    a[..., 0, :] *= -1
    return a


SPD, WELL, POS = "spd", "well_conditioned", "positive"


# ----------------------------------------------------------------------------- helpers

def _sym(a):
    return (a + anp.swapaxes(a, -1, -2)) / 2


def _np_sym(a):
    return (a + np.swapaxes(a, -1, -2)) / 2


def _row(name, fn, ref, shapes, domains=None, **kw) -> OpSpec:
    return OpSpec(f"linalg.{name}", fn, ref, shapes, domains or ("real",) * len(shapes), **kw)


C3 = np.array([0.7, -1.3, 2.1])
C4 = np.array([0.7, -1.3, 2.1, 0.4])
CZ = np.array([1.0 - 0.5j, 0.3 + 2.0j, -1.2 + 0.7j])  # complex weights: real(w * CZ)


def _qr_normalized(q, r, np_=anp):
    """(Q D, D R) with D = sign(diag R): the unique QR with a positive diagonal."""
    d = np_.sign(np_.linalg.diagonal(r))
    return q * d[..., None, :], r * d[..., :, None]


def _r_normalized(r, np_=anp):
    return r * np_.sign(np_.linalg.diagonal(r))[..., :, None]


def _np_qr_normalized(q, r):
    return _qr_normalized(q, r, np)


def _svd_product(u, s, vt):
    """U diag(s^2) Vt: gauge-invariant and, unlike U diag(s) Vt, not the input itself."""
    return (u * s[..., None, :] ** 2) @ vt


def _eig_abs2(w, v, np_=anp):
    return np_.real(v * np_.conj(v))


def _mh(z, np_=anp):
    """The conjugate transpose of each matrix of a stack."""
    return np_.conj(np_.swapaxes(z, -1, -2))


def _herm(z, np_=anp):
    """z + z^H: Hermitian (its real part symmetric, its imaginary part antisymmetric)."""
    return z + _mh(z, np_)


def _small(rng, shape):
    """Small imaginary parts: they keep `_herm` of an SPD (distinct) real part SPD (distinct)."""
    return rng.uniform(-0.2, 0.2, shape)


def _re_im(z, np_=anp):
    return np_.stack([np_.real(z), np_.imag(z)])


def _complex_row(name, f, shapes, domains=None, **kw) -> OpSpec:
    """A row of f(np_, *zs) on complex matrices zs = x + 1j * y built from real pairs (x, y):
    `shapes` and `domains` give one (x, y) pair per complex argument."""
    def build(np_):
        return lambda *xs: f(np_, *[x + 1j * y for x, y in zip(xs[::2], xs[1::2])])
    domains = domains or ("real",) * (2 * len(shapes))
    return _row(f"complex {name}", build(anp), build(np), tuple(s for s in shapes for _ in "xy"),
                domains, f32_rtol=1e-4, **kw)


# Complex input through real, gauge-invariant projections (phases of eigen- and singular
# vectors: projectors such as V diag(c) V^H, |V|**2; QR: Q diag(c) Q^H, R^H diag(c) R).
_HERM_DISTINCT, _HERM_PD = (_sym_distinct, _small), (SPD, _small)
COMPLEX_INPUT_OPS: list[OpSpec] = [
    _complex_row("eigvalsh", lambda m, z: m.linalg.eigvalsh(_herm(z, m)), ((3, 3),),
                 _HERM_DISTINCT),
    _complex_row("eigvalsh stacked UPLO='U'", lambda m, z: m.linalg.eigvalsh(_herm(z, m), "U"),
                 ((2, 3, 3),), _HERM_DISTINCT),
    _complex_row("eigh eigenvalues", lambda m, z: m.linalg.eigh(_herm(z, m)).eigenvalues,
                 ((3, 3),), _HERM_DISTINCT),
    _complex_row("eigh real(V diag(c) V^H * cz) stacked", lambda m, z: (
        lambda w, v: m.real((v * C3) @ _mh(v, m) * CZ))(*m.linalg.eigh(_herm(z, m))),
        ((2, 3, 3),), _HERM_DISTINCT),
    _complex_row("eigh |V|**2 UPLO='U'", lambda m, z: (lambda w, v: m.real(v * m.conj(v)))(
        *m.linalg.eigh(_herm(z, m), UPLO="U")), ((3, 3),), _HERM_DISTINCT),
    _complex_row("cholesky real and imag", lambda m, z: _re_im(m.linalg.cholesky(_herm(z, m)),
                                                               m), ((3, 3),), _HERM_PD),
    _complex_row("cholesky upper stacked", lambda m, z: _re_im(m.linalg.cholesky(
        _herm(z, m), upper=True), m), ((2, 3, 3),), _HERM_PD),
    _complex_row("svdvals stacked", lambda m, z: m.linalg.svdvals(z), ((2, 3, 4),)),
    _complex_row("svd singular values tall", lambda m, z: m.linalg.svd(z, compute_uv=False),
                 ((4, 3),)),
    _complex_row("svd real(U diag(s^2) Vh * cz) tall", lambda m, z: m.real(_svd_product(
        *m.linalg.svd(z, full_matrices=False)) * CZ), ((4, 3),)),
    _complex_row("svd |U|**2 + |Vh|**2 wide stacked", lambda m, z: (
        lambda u, s, vh: m.real(u * m.conj(u)) @ m.real(vh * m.conj(vh)))(
            *m.linalg.svd(z, False)), ((2, 3, 4),)),
    _complex_row("svd real(U diag(c) U^H * cz), full_matrices", lambda m, z: (
        lambda u, s, vh: m.real((u[:, :3] * C3) @ _mh(u[:, :3], m) * C4))(*m.linalg.svd(z)),
        ((4, 3),)),
    _complex_row("svd hermitian", lambda m, z: m.real(_svd_product(
        *m.linalg.svd(_herm(z, m), hermitian=True)) * CZ), ((3, 3),), _HERM_DISTINCT),
    _complex_row("svd hermitian values", lambda m, z: m.linalg.svd(
        _herm(z, m), compute_uv=False, hermitian=True), ((3, 3),), _HERM_DISTINCT),
    _complex_row("norm nuc and 2", lambda m, z: m.stack(
        [m.linalg.norm(z, "nuc"), m.linalg.norm(z, 2)]), ((3, 4),)),
    _complex_row("qr real(Q diag(c) Q^H * cz) tall", lambda m, z: (
        lambda q, r: m.real((q * C3) @ _mh(q, m) * C4))(*m.linalg.qr(z)), ((4, 3),)),
    _complex_row("qr real(R^H diag(c) R * cz) wide stacked", lambda m, z: (
        lambda q, r: m.real(_mh(r, m) @ (r * C3[:, None]) * C4))(*m.linalg.qr(z)),
        ((2, 3, 4),)),
    _complex_row("qr |Q|**2 + |R|**2 complete square", lambda m, z: (
        lambda q, r: m.real(q * m.conj(q)) + m.real(r * m.conj(r)))(
            *m.linalg.qr(z, "complete")), ((3, 3),)),
    _complex_row("pinv real and imag tall", lambda m, z: _re_im(m.linalg.pinv(z), m),
                 ((4, 3),)),
    _complex_row("pinv hermitian", lambda m, z: _re_im(m.linalg.pinv(
        _herm(z, m), hermitian=True), m), ((3, 3),), _HERM_DISTINCT),
    _complex_row("lstsq x real and imag", lambda m, a, b: _re_im(m.linalg.lstsq(
        a, b, rcond=None)[0], m), ((4, 3), (4, 2))),
    _complex_row("lstsq x wide (minimum norm)", lambda m, a, b: _re_im(m.linalg.lstsq(
        a, b, rcond=None)[0], m), ((2, 4), (2,))),
]


# ----------------------------------------------------------------------------- rows

OPS: list[OpSpec] = [
    # ---- inv, solve
    _row("inv", L.inv, np.linalg.inv, ((3, 3),), (WELL,), complex=True),
    _row("inv stacked", L.inv, np.linalg.inv, ((2, 3, 3),), (WELL,)),
    _row("solve (3,3) (3,2)", L.solve, np.linalg.solve, ((3, 3), (3, 2)), (WELL, "real"),
         complex=True),
    _row("solve b vector", L.solve, np.linalg.solve, ((3, 3), (3,)), (WELL, "real")),
    _row("solve stacked a, broadcast b", L.solve, np.linalg.solve, ((2, 3, 3), (3, 2)),
         (WELL, "real")),
    _row("solve stacked a, stacked b", L.solve, np.linalg.solve, ((2, 3, 3), (2, 3, 1)),
         (WELL, "real")),
    _row("tensorsolve", lambda a, b: L.tensorsolve(a, b),
         lambda a, b: np.linalg.tensorsolve(a, b), ((2, 3, 6), (2, 3)),
         (lambda rng, s: np.reshape(3 * np.eye(6) + rng.uniform(-1, 1, (6, 6)), s), "real"),
         complex=True),
    _row("tensorinv", lambda a: L.tensorinv(a, ind=1), lambda a: np.linalg.tensorinv(a, ind=1),
         ((4, 2, 2),), (lambda rng, s: np.reshape(3 * np.eye(4) + rng.uniform(-1, 1, (4, 4)),
                                                  s),), complex=True),
    # ---- det, slogdet
    _row("det", L.det, np.linalg.det, ((3, 3),), (WELL,), complex=True),
    _row("det stacked", L.det, np.linalg.det, ((2, 3, 3),), ("real",)),
    _row("det 2x2", L.det, np.linalg.det, ((2, 2),), ("real",)),
    _row("slogdet logabsdet", lambda a: L.slogdet(a).logabsdet,
         lambda a: np.linalg.slogdet(a).logabsdet, ((3, 3),), (_negative_det,)),
    _row("slogdet logabsdet stacked", lambda a: L.slogdet(a)[1],
         lambda a: np.linalg.slogdet(a)[1], ((2, 3, 3),), (WELL,)),
    _row("slogdet sign", lambda a: L.slogdet(a).sign, lambda a: np.linalg.slogdet(a).sign,
         ((2, 3, 3),), ("real",), nondiff=True),
    # ---- pinv, lstsq
    _row("pinv tall", L.pinv, np.linalg.pinv, ((4, 3),)),
    _row("pinv wide stacked", L.pinv, np.linalg.pinv, ((2, 2, 4),)),
    _row("pinv of rank 2 (4x3), rcond", lambda b, c: L.pinv(b @ c, rcond=1e-10),
         lambda b, c: np.linalg.pinv(b @ c, rcond=1e-10), ((4, 2), (2, 3))),
    _row("pinv hermitian", lambda a: L.pinv(_sym(a), hermitian=True),
         lambda a: np.linalg.pinv(_np_sym(a), hermitian=True), ((3, 3),), (_sym_distinct,)),
    _row("pinv rtol=None", lambda a: L.pinv(a, rtol=None), lambda a: np.linalg.pinv(a, rtol=None),
         ((3, 3),), (WELL,)),
    _row("lstsq x", lambda a, b: L.lstsq(a, b)[0], lambda a, b: np.linalg.lstsq(a, b)[0],
         ((4, 3), (4, 2))),
    _row("lstsq x, b vector", lambda a, b: L.lstsq(a, b)[0],
         lambda a, b: np.linalg.lstsq(a, b)[0], ((4, 3), (4,))),
    _row("lstsq x wide (minimum norm)", lambda a, b: L.lstsq(a, b, rcond=None)[0],
         lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], ((2, 4), (2,))),
    _row("lstsq residuals", lambda a, b: L.lstsq(a, b)[1], lambda a, b: np.linalg.lstsq(a, b)[1],
         ((4, 2), (4, 3))),
    _row("lstsq rank", lambda a, b: L.lstsq(a, b)[2], lambda a, b: np.linalg.lstsq(a, b)[2],
         ((4, 3), (4,)), nondiff=True),
    # ---- cholesky
    _row("cholesky", lambda a: L.cholesky(_sym(a)), lambda a: np.linalg.cholesky(_np_sym(a)),
         ((3, 3),), (SPD,)),
    _row("cholesky stacked", lambda a: L.cholesky(_sym(a)),
         lambda a: np.linalg.cholesky(_np_sym(a)), ((2, 3, 3),), (SPD,)),
    _row("cholesky upper", lambda a: L.cholesky(_sym(a), upper=True),
         lambda a: np.linalg.cholesky(_np_sym(a), upper=True), ((4, 4),), (SPD,)),
    # ---- qr (sign-normalized: Q D and D R with D = sign(diag R))
    _row("qr Q tall", lambda a: _qr_normalized(*L.qr(a))[0],
         lambda a: _np_qr_normalized(*np.linalg.qr(a))[0], ((4, 3),)),
    _row("qr R tall stacked", lambda a: _qr_normalized(*L.qr(a))[1],
         lambda a: _np_qr_normalized(*np.linalg.qr(a))[1], ((2, 4, 3),)),
    _row("qr Q wide", lambda a: _qr_normalized(*L.qr(a))[0],
         lambda a: _np_qr_normalized(*np.linalg.qr(a))[0], ((3, 4),)),
    _row("qr R wide", lambda a: _qr_normalized(*L.qr(a))[1],
         lambda a: _np_qr_normalized(*np.linalg.qr(a))[1], ((3, 4),)),
    _row("qr complete square Q", lambda a: _qr_normalized(*L.qr(a, "complete"))[0],
         lambda a: _np_qr_normalized(*np.linalg.qr(a, "complete"))[0], ((3, 3),)),
    _row("qr complete wide R", lambda a: _qr_normalized(*L.qr(a, mode="complete"))[1],
         lambda a: _np_qr_normalized(*np.linalg.qr(a, mode="complete"))[1], ((2, 4),)),
    _row("qr mode r", lambda a: _r_normalized(L.qr(a, mode="r")),
         lambda a: _r_normalized(np.linalg.qr(a, mode="r"), np), ((4, 3),)),
    # ---- eigh, eigvalsh
    _row("eigh eigenvalues", lambda a: L.eigh(_sym(a)).eigenvalues,
         lambda a: np.linalg.eigh(_np_sym(a)).eigenvalues, ((3, 3),), (_sym_distinct,)),
    _row("eigh V diag(c) V^T stacked", lambda a: (lambda w, v: (v * C3) @ anp.swapaxes(v, -1, -2))(
        *L.eigh(_sym(a))), lambda a: (lambda w, v: (v * C3) @ np.swapaxes(v, -1, -2))(
        *np.linalg.eigh(_np_sym(a))), ((2, 3, 3),), (_sym_distinct,)),
    _row("eigh sum(V[:, 0]**2 * c), UPLO='U'", lambda a: anp.sum(
        L.eigh(_sym(a), UPLO="U")[1][..., :, 0] ** 2 * C4), lambda a: np.sum(
        np.linalg.eigh(_np_sym(a), UPLO="U")[1][..., :, 0] ** 2 * C4), ((4, 4),),
        (_sym_distinct,)),
    _row("eigvalsh", lambda a: L.eigvalsh(_sym(a)), lambda a: np.linalg.eigvalsh(_np_sym(a)),
         ((3, 3),), (_sym_distinct,)),
    _row("eigvalsh stacked UPLO='U'", lambda a: L.eigvalsh(_sym(a), "U"),
         lambda a: np.linalg.eigvalsh(_np_sym(a), "U"), ((2, 3, 3),), (SPD,)),
    # ---- eig, eigvals (always complex: real projections)
    _row("eigvals real(w * c), real eigenvalues", lambda a: anp.real(L.eigvals(a) * CZ),
         lambda a: np.real(np.linalg.eigvals(a) * CZ), ((3, 3),), (_distinct_real_eigs,)),
    _row("eigvals real and imag, complex pair", lambda a: (lambda w: anp.stack(
        [anp.real(w), anp.imag(w)]))(L.eigvals(a)), lambda a: (lambda w: np.stack(
            [np.real(w), np.imag(w)]))(np.linalg.eigvals(a)), ((3, 3),), (_rotation_like,)),
    _row("eig eigenvalues stacked", lambda a: anp.real(L.eig(a).eigenvalues * CZ),
         lambda a: np.real(np.linalg.eig(a).eigenvalues * CZ), ((2, 3, 3),),
         (_distinct_real_eigs,)),
    _row("eig |V|**2, real eigenvalues", lambda a: _eig_abs2(*L.eig(a)),
         lambda a: _eig_abs2(*np.linalg.eig(a), np), ((3, 3),), (_distinct_real_eigs,)),
    _row("eig |V|**2, complex pair", lambda a: _eig_abs2(*L.eig(a)),
         lambda a: _eig_abs2(*np.linalg.eig(a), np), ((3, 3),), (_rotation_like,)),
    # ---- svd, svdvals
    _row("svd singular values tall", lambda a: L.svd(a, compute_uv=False),
         lambda a: np.linalg.svd(a, compute_uv=False), ((4, 3),)),
    _row("svd U diag(s^2) Vt tall", lambda a: _svd_product(*L.svd(a, full_matrices=False)),
         lambda a: _svd_product(*np.linalg.svd(a, full_matrices=False)), ((4, 3),)),
    _row("svd U diag(s^2) Vt wide stacked", lambda a: _svd_product(*L.svd(a, False)),
         lambda a: _svd_product(*np.linalg.svd(a, False)), ((2, 3, 4),)),
    _row("svd U diag(c) U^T, full_matrices", lambda a: (lambda u, s, vt: (
        u[:, :3] * C3) @ u[:, :3].T)(*L.svd(a)), lambda a: (lambda u, s, vt: (
            u[:, :3] * C3) @ u[:, :3].T)(*np.linalg.svd(a)), ((4, 3),)),
    _row("svd V diag(c) Vt, full_matrices wide", lambda a: (lambda u, s, vt: (
        vt[:3].T * C3) @ vt[:3])(*L.svd(a)), lambda a: (lambda u, s, vt: (
            vt[:3].T * C3) @ vt[:3])(*np.linalg.svd(a)), ((3, 4),)),
    _row("svd hermitian", lambda a: _svd_product(*L.svd(_sym(a), hermitian=True)),
         lambda a: _svd_product(*np.linalg.svd(_np_sym(a), hermitian=True)), ((3, 3),),
         (_sym_distinct,)),
    _row("svd hermitian values", lambda a: L.svd(_sym(a), compute_uv=False, hermitian=True),
         lambda a: np.linalg.svd(_np_sym(a), compute_uv=False, hermitian=True), ((3, 3),),
         (_sym_distinct,)),
    _row("svdvals stacked", L.svdvals, np.linalg.svdvals, ((2, 3, 4),)),
    # ---- norm: vectors
    _row("norm default (flattened)", L.norm, np.linalg.norm, ((3, 4),)),
    _row("norm 1-D keepdims", lambda x: L.norm(x, keepdims=True),
         lambda x: np.linalg.norm(x, keepdims=True), ((4,),)),
    *[_row(f"norm vector ord={o} axis={ax}", lambda x, o=o, ax=ax: L.norm(x, o, axis=ax),
           lambda x, o=o, ax=ax: np.linalg.norm(x, o, axis=ax), ((3, 4),), ("nonzero",))
      for o, ax in [(None, 0), (2, 1), (1, -1), (np.inf, 1), (-np.inf, 0), (3, 0), (0.5, 1),
                    (-1.5, 0)]],
    _row("norm vector ord=0", lambda x: L.norm(x, 0, axis=1),
         lambda x: np.linalg.norm(x, 0, axis=1), ((3, 4),), nondiff=True),
    _row("norm vector keepdims", lambda x: L.norm(x, 3, axis=-1, keepdims=True),
         lambda x: np.linalg.norm(x, 3, axis=-1, keepdims=True), ((2, 3, 4),)),
    # ---- norm: matrices
    *[_row(f"norm matrix ord={o!r}", lambda x, o=o: L.norm(x, o), lambda x, o=o: np.linalg.norm(
        x, o), ((3, 4),), ("nonzero",)) for o in ["fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf]],
    _row("norm matrix axis (2, 0) keepdims", lambda x: L.norm(x, "nuc", (2, 0), True),
         lambda x: np.linalg.norm(x, "nuc", (2, 0), True), ((3, 2, 4),)),
    _row("norm matrix ord=1 axis (1, 0)", lambda x: L.norm(x, 1, axis=(1, 0)),
         lambda x: np.linalg.norm(x, 1, axis=(1, 0)), ((3, 4, 2),), ("nonzero",)),
    _row("vector_norm default", L.vector_norm, np.linalg.vector_norm, ((2, 3),)),
    _row("vector_norm axis pair, keepdims, ord=inf",
         lambda x: L.vector_norm(x, axis=(0, 2), keepdims=True, ord=np.inf),
         lambda x: np.linalg.vector_norm(x, axis=(0, 2), keepdims=True, ord=np.inf),
         ((2, 3, 4),), ("distinct",)),
    _row("vector_norm ord=1 axis=-1", lambda x: L.vector_norm(x, axis=-1, ord=1),
         lambda x: np.linalg.vector_norm(x, axis=-1, ord=1), ((2, 3),), ("nonzero",)),
    _row("matrix_norm stacked", L.matrix_norm, np.linalg.matrix_norm, ((2, 3, 4),)),
    _row("matrix_norm nuc keepdims", lambda x: L.matrix_norm(x, ord="nuc", keepdims=True),
         lambda x: np.linalg.matrix_norm(x, ord="nuc", keepdims=True), ((2, 3, 3),)),
    # ---- matrix_power, multi_dot
    *[_row(f"matrix_power {n}", lambda a, n=n: L.matrix_power(a, n),
           lambda a, n=n: np.linalg.matrix_power(a, n), ((3, 3),), (WELL,))
      for n in (0, 1, 2, 3, 5, -1, -2)],
    _row("matrix_power stacked 4", lambda a: L.matrix_power(a, 4),
         lambda a: np.linalg.matrix_power(a, 4), ((2, 3, 3),), (WELL,), complex=True),
    _row("multi_dot three", lambda a, b, c: L.multi_dot([a, b, c]),
         lambda a, b, c: np.linalg.multi_dot([a, b, c]), ((2, 3), (3, 4), (4, 2)),
         (POS, POS, POS), complex=True),
    _row("multi_dot four, vectors at the ends", lambda a, b, c, d: L.multi_dot([a, b, c, d]),
         lambda a, b, c, d: np.linalg.multi_dot([a, b, c, d]), ((3,), (3, 4), (4, 2), (2,)),
         (POS,) * 4),
    _row("multi_dot two", lambda a, b: L.multi_dot([a, b]),
         lambda a, b: np.linalg.multi_dot([a, b]), ((2, 3), (3,)), (POS, POS)),
    # ---- matrix_rank, cond (no derivative)
    _row("matrix_rank", L.matrix_rank, np.linalg.matrix_rank, ((3, 3),), nondiff=True),
    _row("matrix_rank of a rank-2 product, stacked", lambda b, c: L.matrix_rank(b @ c),
         lambda b, c: np.linalg.matrix_rank(b @ c), ((2, 4, 2), (2, 3)), nondiff=True),
    _row("matrix_rank tol, hermitian", lambda a: L.matrix_rank(_sym(a), 0.5, True),
         lambda a: np.linalg.matrix_rank(_np_sym(a), 0.5, True), ((3, 3),), nondiff=True),
    _row("matrix_rank rtol", lambda a: L.matrix_rank(a, rtol=0.3),
         lambda a: np.linalg.matrix_rank(a, rtol=0.3), ((3, 4),), nondiff=True),
    _row("matrix_rank vector", L.matrix_rank, lambda x: np.asarray(np.linalg.matrix_rank(x)),
         ((3,),), nondiff=True),
    _row("cond", L.cond, np.linalg.cond, ((3, 3),), nondiff=True),
    *[_row(f"cond p={p!r} stacked", lambda a, p=p: L.cond(a, p),
           lambda a, p=p: np.linalg.cond(a, p), ((2, 3, 3),), nondiff=True)
      for p in ("fro", 1, -2, np.inf)],
    # ---- NumPy 2's Array API spellings
    _row("matmul (Array API)", L.matmul, np.linalg.matmul, ((2, 3, 4), (4, 2)), (POS, POS),
         complex=True),
    _row("outer (Array API)", L.outer, np.linalg.outer, ((3,), (4,)), complex=True),
    _row("vecdot broadcast", L.vecdot, np.linalg.vecdot, ((2, 3), (3,)), (POS, POS)),
    _row("vecdot axis=0", lambda x, y: L.vecdot(x, y, axis=0),
         lambda x, y: np.linalg.vecdot(x, y, axis=0), ((3, 2), (3, 2)), (POS, POS)),
    _row("matrix_transpose", L.matrix_transpose, np.linalg.matrix_transpose, ((2, 3, 4),),
         complex=True),
    _row("trace stacked, offset", lambda x: L.trace(x, offset=1),
         lambda x: np.linalg.trace(x, offset=1), ((2, 3, 4),), (POS,), complex=True),
    _row("diagonal stacked, offset", lambda x: L.diagonal(x, offset=-1),
         lambda x: np.linalg.diagonal(x, offset=-1), ((2, 3, 4),), complex=True),
    _row("cross axis=0", lambda x, y: L.cross(x, y, axis=0),
         lambda x, y: np.linalg.cross(x, y, axis=0), ((3, 2), (3, 1)), complex=True),
    _row("tensordot axes=1", lambda x, y: L.tensordot(x, y, axes=1),
         lambda x, y: np.linalg.tensordot(x, y, axes=1), ((2, 3), (3, 4)), (POS, POS),
         complex=True),
] + COMPLEX_INPUT_OPS
