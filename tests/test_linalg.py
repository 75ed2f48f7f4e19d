"""ad.numpy.linalg beyond the op table: analytic derivatives (including the conventions at
singular and degenerate points), second order, errors, stacks against loops, and values and
gradients against torch.linalg and jax.numpy.linalg (gauge-invariant functions of the
eigen- and singular vectors and of QR)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import autodx as ad
from autodx.testing import check_grads

jax.config.update("jax_enable_x64", True)

anp = ad.numpy
L = anp.linalg
RTOL, ATOL = 1e-9, 1e-11
# autodx's second derivatives through eig transpose real-to-complex casts (harmless warning)
pytestmark = pytest.mark.filterwarnings("ignore:Casting complex values to real")


def _rng():
    return np.random.default_rng(7)


def well(*shape, rng=None):
    rng = rng or _rng()
    return rng.uniform(-1.0, 1.0, shape) + 3 * np.eye(shape[-1])


def spd(*shape, rng=None):
    rng = rng or _rng()
    q = np.linalg.qr(rng.standard_normal(shape))[0]
    w = np.arange(1.0, shape[-1] + 1.0) + rng.uniform(-0.2, 0.2, shape[:-1])
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


def real(*shape, rng=None):
    return (rng or _rng()).uniform(-2.0, 2.0, shape)


def _grad(f, *args):
    return ad.grad(f, argnums=tuple(range(len(args))))(*args)


# ----------------------------------------------------------------------------- analytic values

def test_det_gradient_is_det_times_inverse_transpose():
    a = well(3, 3)
    np.testing.assert_allclose(ad.grad(L.det)(a), np.linalg.det(a) * np.linalg.inv(a).T,
                               rtol=1e-12)


@pytest.mark.parametrize("a, cof", [
    ([[1.0, 2.0], [2.0, 4.0]], [[4.0, -2.0], [-2.0, 1.0]]),  # rank 1 of 2: the cofactors
    ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
     [[-3.0, 6.0, -3.0], [6.0, -12.0, 6.0], [-3.0, 6.0, -3.0]]),
    (np.zeros((3, 3)), np.zeros((3, 3))),
])
def test_det_gradient_at_singular_matrices_is_the_cofactor_matrix(a, cof):
    a = np.asarray(a)
    np.testing.assert_allclose(ad.grad(L.det)(a), cof, atol=1e-12)
    np.testing.assert_allclose(ad.jvp(L.det, (a,), (np.ones_like(a),))[1], np.sum(cof),
                               atol=1e-12)
    np.testing.assert_allclose(ad.grad(L.det)(a), jax.grad(jnp.linalg.det)(a), atol=1e-12)


def test_det_gradient_of_a_stack_with_one_singular_matrix():
    a = np.stack([well(2, 2), np.array([[1.0, 2.0], [2.0, 4.0]])])
    g = ad.grad(lambda a: anp.sum(L.det(a)))(a)
    np.testing.assert_allclose(g[0], np.linalg.det(a[0]) * np.linalg.inv(a[0]).T, rtol=1e-12)
    np.testing.assert_allclose(g[1], [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)


def test_logdet_gradient_is_inverse_transpose_and_nan_when_singular():
    a = well(3, 3)
    np.testing.assert_allclose(ad.grad(lambda a: L.slogdet(a)[1])(a), np.linalg.inv(a).T,
                               rtol=1e-12)
    sign, logabsdet = L.slogdet(np.array([[1.0, 2.0], [2.0, 4.0]]))
    assert sign == 0 and logabsdet == -np.inf
    g = ad.grad(lambda a: L.slogdet(a)[1])(np.array([[1.0, 2.0], [2.0, 4.0]]))
    assert np.all(np.isnan(g))  # no derivative exists there (log|det| -> -inf)


def test_slogdet_returns_numpys_named_tuple_and_sign_has_no_derivative():
    a = -well(3, 3)
    res = L.slogdet(a)
    assert type(res).__name__ == "SlogdetResult" and res._fields == ("sign", "logabsdet")
    np.testing.assert_allclose(res.sign, np.linalg.slogdet(a).sign)
    t = ad.tensor(a, requires_grad=True)
    assert not L.slogdet(t).sign.requires_grad and L.slogdet(t).logabsdet.requires_grad


def test_inverse_jvp_is_minus_x_da_x():
    a, t = well(3, 3), real(3, 3)
    x = np.linalg.inv(a)
    np.testing.assert_allclose(ad.jvp(L.inv, (a,), (t,))[1], -x @ t @ x, rtol=1e-12)


@pytest.mark.parametrize("f", [
    L.norm, lambda x: L.norm(x, "fro"), lambda x: L.norm(x, axis=1),
    lambda x: L.norm(x, 3, axis=0), lambda x: L.norm(x, 1, axis=0),
    lambda x: L.norm(x, 0.5, axis=0), lambda x: L.vector_norm(x),
    lambda x: L.norm(x, "nuc"), lambda x: L.norm(x, 2), lambda x: L.matrix_norm(x),
], ids=["default", "fro", "2 axis", "3", "1", "0.5", "vector_norm", "nuc", "spectral",
        "matrix_norm"])
def test_norm_gradient_at_zero_is_zero(f):
    # NOTE: the smallest-norm sub-gradient, as PyTorch (JAX gives NaN for the 2-norm)
    x = np.zeros((3, 3))
    g = ad.grad(lambda x: anp.sum(f(x)))(x)
    np.testing.assert_array_equal(g, np.zeros((3, 3)))
    x_t = torch.zeros(3, 3, dtype=torch.float64, requires_grad=True)
    torch.linalg.norm(x_t).backward()
    np.testing.assert_array_equal(x_t.grad.numpy(), np.zeros((3, 3)))


def test_vector_norm_gradient_is_unit_vector_and_one_norm_is_sign():
    x = np.array([3.0, -4.0, 0.0])
    np.testing.assert_allclose(ad.grad(L.norm)(x), x / 5.0, rtol=1e-14)
    np.testing.assert_array_equal(ad.grad(lambda x: L.norm(x, 1))(x), [1.0, -1.0, 0.0])
    np.testing.assert_allclose(ad.grad(lambda x: L.norm(x, np.inf))(x), [0.0, -1.0, 0.0])


def test_singular_value_gradients_are_outer_products_of_singular_vectors():
    a = real(4, 3)
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    for i in range(3):
        g = ad.grad(lambda a, i=i: L.svdvals(a)[i])(a)
        np.testing.assert_allclose(g, np.outer(u[:, i], vt[i]), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ad.grad(lambda a: L.norm(a, "nuc"))(a), u @ vt, rtol=1e-10)


def test_zero_singular_value_has_gradient_zero():
    # NOTE: s = |sigma|, so at s == 0 the derivative is the smallest sub-gradient, 0
    a = np.diag([2.0, 1.0, 0.0])
    g = ad.grad(lambda a: L.svdvals(a)[2])(a)
    np.testing.assert_array_equal(g, np.zeros((3, 3)))
    g = ad.grad(lambda a: L.svd(a)[1][2])(a)
    np.testing.assert_array_equal(g, np.zeros((3, 3)))


def test_eigenvalue_gradients_are_projectors_even_when_degenerate():
    a = spd(3, 3)
    w, v = np.linalg.eigh(a)
    for i in range(3):
        g = ad.grad(lambda a, i=i: L.eigvalsh(a)[i])(a)
        np.testing.assert_allclose(g, np.outer(v[:, i], v[:, i]), rtol=1e-10, atol=1e-12)
    # at the identity (all eigenvalues equal) the sum of the eigenvalues is the trace
    for f in (lambda a: anp.sum(L.eigvalsh(a)), lambda a: anp.sum(L.eigh(a)[0]),
              lambda a: anp.sum(L.svdvals(a)), lambda a: anp.sum(L.eig(a)[0]).real):
        np.testing.assert_allclose(ad.grad(f)(np.eye(3)), np.eye(3), atol=1e-12)


def test_full_matrices_extra_columns_carry_no_derivative_as_pytorch():
    a, c = real(4, 3), real(4)
    g = ad.grad(lambda a: anp.sum(L.svd(a)[0][:, 3] ** 2 * c))(a)
    np.testing.assert_array_equal(g, np.zeros((4, 3)))
    t = torch.tensor(a, requires_grad=True)
    (torch.linalg.svd(t)[0][:, 3] ** 2 * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), g, atol=1e-14)


def test_vector_derivatives_at_ties_are_nan_as_pytorch():
    # NOTE: no derivative exists; PyTorch documents non-finite gradients (JAX returns a
    # finite value that is not one: for V diag(w) V^T = A at the identity it drops the
    # off-diagonal part of the identity map)
    c = np.arange(9.0).reshape(3, 3)
    for f in (lambda a: anp.sum(L.eigh(a)[1] * c),
              lambda a: anp.sum((lambda w, v: (v * w) @ v.T)(*L.eigh(a)) * c),
              lambda a: anp.sum(L.svd(a)[0] * c)):
        assert np.all(np.isnan(ad.grad(f)(np.eye(3))))
    t = torch.eye(3, dtype=torch.float64, requires_grad=True)
    w, v = torch.linalg.eigh(t)
    ((v * w) @ v.T * torch.tensor(c)).sum().backward()
    assert torch.all(torch.isnan(t.grad))


def test_symmetric_input_conventions():
    """cholesky and eigh read one triangle; their gradients are symmetric (PyTorch's)."""
    a = spd(3, 3)
    c = real(3, 3)
    for f in (lambda a: anp.sum(L.cholesky(a) * c), lambda a: anp.sum(L.eigh(a)[1] ** 2 * c),
              lambda a: anp.sum(L.eigvalsh(a, "U") * c[0])):
        g = ad.grad(f)(a)
        np.testing.assert_allclose(g, g.T, rtol=1e-12, atol=1e-14)


def test_pinv_equals_inv_for_invertible_and_lstsq_equals_solve_for_square():
    a, b = well(3, 3), real(3, 2)
    for f, g in ((L.pinv, L.inv), (lambda a: L.lstsq(a, b)[0], lambda a: L.solve(a, b))):
        np.testing.assert_allclose(f(a), g(a), rtol=1e-10)
        np.testing.assert_allclose(ad.grad(lambda a, f=f: anp.sum(f(a) ** 2))(a),
                                   ad.grad(lambda a, g=g: anp.sum(g(a) ** 2))(a), rtol=1e-8)


def test_lstsq_gradient_matches_normal_equations():
    a, b = real(5, 3), real(5)

    def normal(a, b):
        return L.solve(a.T @ a, a.T @ b)

    for argnum in (0, 1):
        np.testing.assert_allclose(
            ad.grad(lambda a, b: anp.sum(L.lstsq(a, b)[0] ** 3), argnums=argnum)(a, b),
            ad.grad(lambda a, b: anp.sum(normal(a, b) ** 3), argnums=argnum)(a, b),
            rtol=1e-9)


def test_lstsq_returns_numpys_four_results():
    a, b = real(5, 3), real(5, 2)
    got, want = L.lstsq(a, b), np.linalg.lstsq(a, b)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
        assert np.asarray(g).dtype == np.asarray(w).dtype and np.shape(g) == np.shape(w)
    # rank deficient or square: empty residuals, as NumPy
    deficient = np.ones((4, 2))
    for a in (deficient, well(3, 3)):
        got, want = L.lstsq(a, np.ones(len(a))), np.linalg.lstsq(a, np.ones(len(a)))
        assert got[1].shape == want[1].shape == (0,) and got[2] == want[2]


def test_matrix_power_special_exponents():
    a = well(3, 3)
    np.testing.assert_array_equal(ad.grad(lambda a: anp.sum(L.matrix_power(a, 0)))(a),
                                  np.zeros((3, 3)))
    np.testing.assert_allclose(L.matrix_power(a, -1), np.linalg.inv(a), rtol=1e-14)
    x = np.linalg.inv(a)
    np.testing.assert_allclose(ad.jvp(lambda a: L.matrix_power(a, -2), (a,), (np.eye(3),))[1],
                               -(x @ x @ x + x @ x @ x), rtol=1e-10)
    ints = np.array([[1, 1], [0, 1]])
    assert L.matrix_power(ints, 5).dtype == np.linalg.matrix_power(ints, 5).dtype


# ----------------------------------------------------------------------------- second order

SECOND_ORDER = {
    "det": (L.det, (well(3, 3),)),
    "slogdet": (lambda a: L.slogdet(a)[1], (well(2, 3, 3),)),
    "solve": (L.solve, (well(3, 3), real(3, 2))),
    "pinv (rank 2)": (lambda b, c: L.pinv(b @ c, rcond=1e-10), (real(4, 2), real(2, 3))),
    "lstsq": (lambda a, b: L.lstsq(a, b)[0], (real(4, 2), real(4))),
    "cholesky": (lambda a: L.cholesky(a + a.T), (spd(3, 3),)),
    "qr": (lambda a: L.qr(a)[0] * anp.sign(L.diagonal(L.qr(a)[1]))[None, :], (real(4, 3),)),
    "eigh": (lambda a: (lambda w, v: (v * w**2) @ v.T)(*L.eigh(a + a.T)), (spd(3, 3),)),
    "eig": (lambda a: anp.real(L.eigvals(a) * np.array([1.0, 2j, -1.0])),
            (np.diag([1.0, 2.0, 3.0]) + 0.1 * real(3, 3),)),
    "svd": (lambda a: (lambda u, s, vt: (u * s**3) @ vt)(*L.svd(a, False)), (real(3, 4),)),
    "norm nuc": (lambda a: L.norm(a, "nuc"), (real(3, 3),)),
}


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_order_check_grads(name):
    f, args = SECOND_ORDER[name]
    check_grads(f, args, order=2, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["det", "slogdet", "eigvalsh", "svdvals", "cholesky", "inv"])
def test_hessian_vector_products_match_jax(name):
    fns = {
        "det": lambda m, a: m.linalg.det(a),
        "slogdet": lambda m, a: m.linalg.slogdet(a)[1],
        "eigvalsh": lambda m, a: m.sum(m.linalg.eigvalsh(a) ** 3),
        "svdvals": lambda m, a: m.sum(m.linalg.svdvals(a) ** 3),
        "cholesky": lambda m, a: m.sum(m.linalg.cholesky(a) ** 3),
        "inv": lambda m, a: m.sum(m.linalg.inv(a) ** 3),
    }
    a = spd(3, 3)
    t = real(3, 3)
    t = t + t.T  # symmetric directions: the functions of symmetric matrices agree on them
    f = fns[name]
    got = ad.jvp(ad.grad(lambda a: f(anp, a)), (a,), (t,))[1]
    want = jax.jvp(jax.grad(lambda a: f(jnp, a)), (a,), (t,))[1]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


# ----------------------------------------------------------------------------- errors

def test_singular_matrix_raises_numpys_linalg_error():
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
        L.inv(singular)
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
        ad.grad(lambda a: anp.sum(L.inv(a)))(singular)
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
        np.linalg.solve(ad.tensor(singular, requires_grad=True), np.ones(2))
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        L.cholesky(-np.eye(2))


@pytest.mark.parametrize("f", [L.inv, L.det, L.slogdet, L.eigh, L.eigvalsh, L.eig, L.eigvals,
                               L.cholesky, lambda a: L.matrix_power(a, 2),
                               lambda a: L.solve(a, np.ones(2))])
def test_non_square_matrices_are_refused_clearly(f):
    with pytest.raises(np.linalg.LinAlgError, match=r"must be square.*\(2, 3\)"):
        f(np.ones((2, 3)))
    with pytest.raises(np.linalg.LinAlgError, match="1-dimensional array given"):
        f(np.ones(3))


def test_bad_arguments_raise_numpys_exception_types():
    a = well(3, 3)
    with pytest.raises(ValueError, match="Invalid norm order 'fro' for vectors"):
        L.norm(np.ones(3), "fro")
    with pytest.raises(ValueError, match="Invalid norm order 3 for matrices"):
        L.norm(a, 3)
    with pytest.raises(ValueError, match="Improper number of dimensions"):
        L.norm(np.ones((2, 2, 2)), axis=(0, 1, 2))
    with pytest.raises(ValueError, match="Duplicate axes"):
        L.norm(a, axis=(1, -1))
    with pytest.raises(TypeError, match="'axis' must be None"):
        L.norm(a, axis=1.5)
    with pytest.raises(ValueError, match="UPLO"):
        L.eigh(a, UPLO="X")
    with pytest.raises(ValueError, match="Unrecognized mode"):
        L.qr(a, mode="bogus")
    with pytest.raises(NotImplementedError, match="Householder"):
        L.qr(a, mode="raw")
    with pytest.raises(ValueError, match="`b` of shape"):
        L.solve(a, np.ones(4))
    with pytest.raises(np.linalg.LinAlgError, match="two-dimensional"):
        L.lstsq(np.ones((2, 3, 3)), np.ones(3))
    with pytest.raises(np.linalg.LinAlgError, match="Incompatible dimensions"):
        L.lstsq(a, np.ones(4))
    with pytest.raises(ValueError, match="can't be both set"):
        L.pinv(a, rcond=1e-3, rtol=1e-3)
    with pytest.raises(NotImplementedError, match="one number"):
        L.pinv(np.stack([a, a]), rcond=np.array([1e-3, 1e-2]))
    with pytest.raises(TypeError, match="exponent must be an integer"):
        L.matrix_power(a, 1.5)
    with pytest.raises(ValueError, match="at least two arrays"):
        L.multi_dot([a])
    with pytest.raises(np.linalg.LinAlgError, match="two-dimensional"):
        L.multi_dot([a, np.ones((3, 3, 3)), a])
    with pytest.raises(ValueError, match="one-dimensional"):
        L.outer(a, np.ones(3))
    with pytest.raises(ValueError, match="3-dimensional vectors"):
        L.cross(np.ones(2), np.ones(3))


def test_underivable_cases_say_so():
    with pytest.raises(NotImplementedError, match="mode='complete'.*not differentiable"):
        ad.grad(lambda a: anp.sum(L.qr(a, "complete")[1]))(real(4, 3))
    np.testing.assert_allclose(L.qr(real(4, 3), "complete")[1], np.linalg.qr(real(4, 3),
                                                                             "complete")[1])


COMPLEX_FORWARD = ["slogdet", "eigh", "eigvalsh", "svd", "svdvals", "cholesky", "qr", "pinv",
                   "norm", "det", "inv", "eig", "matrix_rank", "cond"]


@pytest.mark.parametrize("name", COMPLEX_FORWARD)
def test_complex_hermitian_input_forward_values_match_numpy(name):
    rng = _rng()
    a = rng.standard_normal((2, 3, 3)) + 1j * rng.standard_normal((2, 3, 3))
    h = a @ np.conj(np.swapaxes(a, -1, -2)) + np.eye(3)
    got, want = getattr(L, name)(h), getattr(np.linalg, name)(h)
    got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
        assert np.asarray(g).dtype == np.asarray(w).dtype


def test_numpy_calls_dispatch_on_tensors():
    a = well(3, 3)
    t = ad.tensor(a, requires_grad=True)
    np.linalg.det(t).backward()
    np.testing.assert_allclose(t.grad.numpy(), np.linalg.det(a) * np.linalg.inv(a).T,
                               rtol=1e-12)
    w, v = np.linalg.eigh(ad.tensor(spd(3, 3)))
    assert isinstance(w, ad.Tensor) and isinstance(v, ad.Tensor)
    assert isinstance(np.linalg.norm(ad.tensor(a), axis=0), ad.Tensor)


# ----------------------------------------------------------------------------- stacks vs loops

STACKED = {
    "inv": L.inv,
    "det": L.det,
    "slogdet": lambda a: L.slogdet(a)[1],
    "pinv": L.pinv,
    "solve": lambda a: L.solve(a, np.arange(3.0)),
    "cholesky": lambda a: L.cholesky(a + anp.swapaxes(a, -1, -2)),
    "qr": lambda a: (lambda q, r: q * anp.sign(L.diagonal(r))[..., None, :])(*L.qr(a)),
    "eigh": lambda a: (lambda w, v: (v * w[..., None, :] ** 2) @ anp.swapaxes(v, -1, -2))(
        *L.eigh(a + anp.swapaxes(a, -1, -2))),
    "eig": lambda a: anp.real(L.eigvals(a)),
    "svd": lambda a: (lambda u, s, vt: (u * s[..., None, :] ** 2) @ vt)(*L.svd(a)),
    "svdvals": L.svdvals,
    "matrix_norm": lambda a: L.matrix_norm(a, ord=2),
    "matrix_power": lambda a: L.matrix_power(a, 3),
    "matrix_rank": lambda a: anp.astype(L.matrix_rank(a), float),
    "cond": L.cond,
}


@pytest.mark.parametrize("name", STACKED)
def test_stacked_matrices_match_a_loop_over_them(name):
    f = STACKED[name]
    a = spd(2, 3, 3) + 0.1 * real(2, 3, 3) if name != "eig" else (
        np.diag([1.0, 2.0, 3.0]) + 0.1 * real(2, 3, 3))
    np.testing.assert_allclose(f(a), np.stack([f(m) for m in a]), rtol=1e-12, atol=1e-14)
    grad = ad.grad(lambda a: anp.sum(anp.sin(f(a))))
    np.testing.assert_allclose(grad(a), np.stack([grad(m) for m in a]), rtol=1e-10,
                               atol=1e-12)
    batched = ad.vmap(grad, in_axes=1)(np.moveaxis(a, 0, 1))
    np.testing.assert_allclose(batched, np.stack([grad(m) for m in a]), rtol=1e-10, atol=1e-12)


def test_vmap_of_lstsq_and_rank():
    rng = _rng()
    a, b = rng.standard_normal((3, 5, 2)), rng.standard_normal((3, 5))
    x, res, rank, s = ad.vmap(L.lstsq)(a, b)
    for i in range(3):
        want = np.linalg.lstsq(a[i], b[i])
        for g, w in zip((x[i], res[i], rank[i], s[i]), want):
            np.testing.assert_allclose(g, w, rtol=1e-12)


# ----------------------------------------------------------------------------- torch and JAX

C = np.array([0.7, -1.3, 2.1])
CZ = np.array([1.0 - 0.5j, 0.3 + 2.0j, -1.2 + 0.7j])


def _t_qr_normalized(a, mode="reduced"):
    q, r = torch.linalg.qr(a, mode=mode)
    d = torch.sign(torch.diagonal(r))
    return torch.cat([q * d[None, :], r.mT * d[None, :]], 0)


def _np_qr_normalized(m, a, mode="reduced"):
    q, r = m.linalg.qr(a, mode=mode)
    d = m.sign(m.linalg.diagonal(r))
    return m.concatenate([q * d[None, :], r.T * d[None, :]], 0)


# name: (f(m, *args) for m in (ad.numpy, jax.numpy), torch function, arguments)
REFERENCE = {
    "inv": (lambda m, a: m.linalg.inv(a), torch.linalg.inv, (well(2, 3, 3),)),
    "solve": (lambda m, a, b: m.linalg.solve(a, b), torch.linalg.solve,
              (well(3, 3), real(3, 2))),
    "solve vector": (lambda m, a, b: m.linalg.solve(a, b), torch.linalg.solve,
                     (well(2, 3, 3), real(3))),
    "det": (lambda m, a: m.linalg.det(a), torch.linalg.det, (well(2, 3, 3),)),
    "slogdet": (lambda m, a: m.linalg.slogdet(a)[1], lambda a: torch.linalg.slogdet(a)[1],
                (-well(3, 3),)),
    "pinv tall": (lambda m, a: m.linalg.pinv(a), torch.linalg.pinv, (real(4, 3),)),
    "pinv wide": (lambda m, a: m.linalg.pinv(a), torch.linalg.pinv, (real(2, 4),)),
    "pinv hermitian": (lambda m, a: m.linalg.pinv(a, hermitian=True),
                       lambda a: torch.linalg.pinv(a, hermitian=True), (spd(3, 3),)),
    "lstsq": (lambda m, a, b: m.linalg.lstsq(a, b)[0],
              lambda a, b: torch.linalg.lstsq(a, b, driver="gelsd").solution,
              (real(5, 3), real(5, 2))),
    "cholesky": (lambda m, a: m.linalg.cholesky(a), torch.linalg.cholesky, (spd(2, 3, 3),)),
    "cholesky upper": (lambda m, a: m.linalg.cholesky(a, upper=True),
                       lambda a: torch.linalg.cholesky(a, upper=True), (spd(3, 3),)),
    "qr tall": (_np_qr_normalized, _t_qr_normalized, (real(4, 3),)),
    "qr wide": (_np_qr_normalized, _t_qr_normalized, (real(3, 4),)),
    "qr complete square": (lambda m, a: _np_qr_normalized(m, a, "complete"),
                           lambda a: _t_qr_normalized(a, "complete"), (real(3, 3),)),
    "eigh eigenvalues": (lambda m, a: m.linalg.eigh(a)[0], lambda a: torch.linalg.eigh(a)[0],
                         (spd(2, 3, 3),)),
    "eigh projector": (lambda m, a: (lambda w, v: (v * C) @ v.T)(*m.linalg.eigh(a)),
                       lambda a: (lambda w, v: (v * torch.tensor(C)) @ v.T)(
                           *torch.linalg.eigh(a)), (spd(3, 3),)),
    "eigh UPLO='U'": (lambda m, a: m.linalg.eigh(a, UPLO="U")[0],
                      lambda a: torch.linalg.eigh(a, UPLO="U")[0], (spd(3, 3),)),
    "eigvalsh": (lambda m, a: m.linalg.eigvalsh(a), torch.linalg.eigvalsh, (spd(3, 3),)),
    "eigvals": (lambda m, a: m.real(m.linalg.eigvals(a) * CZ),
                lambda a: torch.real(torch.linalg.eigvals(a) * torch.tensor(CZ)),
                (np.diag([1.0, 2.0, 3.0]) + 0.1 * real(3, 3),)),
    "eigvals complex pair": (lambda m, a: m.imag(m.linalg.eigvals(a) * CZ),
                             lambda a: torch.imag(torch.linalg.eigvals(a) * torch.tensor(CZ)),
                             (np.array([[0.8, -1.5, 0.1], [1.5, 0.8, 0.0], [0.2, 0.0, 3.0]]),)),
    "svd values": (lambda m, a: m.linalg.svd(a, compute_uv=False),
                   lambda a: torch.linalg.svdvals(a), (real(2, 4, 3),)),
    "svd U s^2 Vt": (lambda m, a: (lambda u, s, vt: (u * s**2) @ vt)(
        *m.linalg.svd(a, full_matrices=False)),
        lambda a: (lambda u, s, vt: (u * s**2) @ vt)(*torch.linalg.svd(a, full_matrices=False)),
        (real(3, 4),)),
    "svd U c U^T": (lambda m, a: (lambda u, s, vt: (u * C) @ u.T)(
        *m.linalg.svd(a, full_matrices=False)),
        lambda a: (lambda u, s, vt: (u * torch.tensor(C)) @ u.T)(
            *torch.linalg.svd(a, full_matrices=False)), (real(4, 3),)),
    "svd full_matrices U c U^T": (lambda m, a: (lambda u, s, vt: (u[:, :3] * C) @ u[:, :3].T)(
        *m.linalg.svd(a, full_matrices=m is not jnp)),  # JAX differentiates thin SVDs only
        lambda a: (lambda u, s, vt: (u[:, :3] * torch.tensor(C)) @ u[:, :3].T)(
            *torch.linalg.svd(a)), (real(4, 3),)),
    "svdvals": (lambda m, a: m.linalg.svdvals(a), torch.linalg.svdvals, (real(3, 4),)),
    "norm": (lambda m, x: m.linalg.norm(x), torch.linalg.norm, (real(3, 4),)),
    "norm nuc": (lambda m, x: m.linalg.norm(x, "nuc"), lambda x: torch.linalg.norm(x, "nuc"),
                 (real(3, 4),)),
    "norm 2": (lambda m, x: m.linalg.norm(x, 2), lambda x: torch.linalg.norm(x, 2),
               (real(3, 4),)),
    "norm -2": (lambda m, x: m.linalg.norm(x, -2), lambda x: torch.linalg.norm(x, -2),
                (real(3, 4),)),
    "norm 1": (lambda m, x: m.linalg.norm(x, 1), lambda x: torch.linalg.norm(x, 1),
               (real(3, 4),)),
    "norm -inf": (lambda m, x: m.linalg.norm(x, -np.inf),
                  lambda x: torch.linalg.norm(x, -np.inf), (real(3, 4),)),
    "norm vector 3": (lambda m, x: m.linalg.norm(x, 3, axis=0),
                      lambda x: torch.linalg.norm(x, 3, dim=0), (real(3, 4),)),
    "norm vector inf keepdims": (lambda m, x: m.linalg.norm(x, np.inf, axis=1, keepdims=True),
                                 lambda x: torch.linalg.norm(x, np.inf, dim=1, keepdim=True),
                                 (real(3, 4),)),
    "vector_norm": (lambda m, x: m.linalg.vector_norm(x, axis=(0, 2), ord=1.5),
                    lambda x: torch.linalg.vector_norm(x, ord=1.5, dim=(0, 2)),
                    (real(2, 3, 4),)),
    "matrix_norm": (lambda m, x: m.linalg.matrix_norm(x, ord=np.inf),
                    lambda x: torch.linalg.matrix_norm(x, ord=np.inf), (real(2, 3, 4),)),
    "matrix_power 5": (lambda m, a: m.linalg.matrix_power(a, 5),
                       lambda a: torch.linalg.matrix_power(a, 5), (well(3, 3) / 3,)),
    "matrix_power -2": (lambda m, a: m.linalg.matrix_power(a, -2),
                        lambda a: torch.linalg.matrix_power(a, -2), (well(2, 3, 3),)),
    "multi_dot": (lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
                  lambda a, b, c: torch.linalg.multi_dot([a, b, c]),
                  (real(2, 3), real(3, 4), real(4, 5))),
    "tensorsolve": (lambda m, a, b: m.linalg.tensorsolve(a, b), torch.linalg.tensorsolve,
                    (well(6, 6).reshape(2, 3, 6), real(2, 3))),
    "tensorinv": (lambda m, a: m.linalg.tensorinv(a, ind=1),
                  lambda a: torch.linalg.tensorinv(a, ind=1), (well(4, 4).reshape(4, 2, 2),)),
    "cross": (lambda m, a, b: m.linalg.cross(a, b), torch.linalg.cross,
              (real(2, 3), real(2, 3))),
    "vecdot": (lambda m, a, b: m.linalg.vecdot(a, b), torch.linalg.vecdot,
               (real(2, 3), real(3))),
    "outer": (lambda m, a, b: m.linalg.outer(a, b), torch.outer, (real(3), real(2))),
    "matmul": (lambda m, a, b: m.linalg.matmul(a, b), torch.linalg.matmul,
               (real(2, 3, 4), real(4, 2))),
    "diagonal": (lambda m, a: m.linalg.diagonal(a, offset=1),
                 lambda a: torch.linalg.diagonal(a, offset=1), (real(2, 3, 4),)),
    "trace": (lambda m, a: m.linalg.trace(a), lambda a: torch.diagonal(
        a, dim1=-2, dim2=-1).sum(-1), (real(2, 3, 3),)),
    "matrix_transpose": (lambda m, a: m.linalg.matrix_transpose(a), lambda a: a.mT,
                         (real(2, 3, 4),)),
    "tensordot": (lambda m, a, b: m.linalg.tensordot(a, b, axes=1),
                  lambda a, b: torch.tensordot(a, b, dims=1), (real(2, 3), real(3, 4))),
}


# torch's gradient of pinv(hermitian=True) is not symmetric; its symmetric part is ours
SYMMETRIZED = {"pinv hermitian"}


def _ad_value_and_grads(f, args, w):
    out = f(anp, *args)
    return out, _grad(lambda *xs: anp.sum(f(anp, *xs) * w), *args)


def _jax_value_and_grads(f, args, w):
    out = f(jnp, *args)
    return out, jax.grad(lambda *xs: jnp.sum(f(jnp, *xs) * w),
                         argnums=tuple(range(len(args))))(*args)


def _torch_value_and_grads(f, args, w):
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    out = f(*ts)
    (out * torch.tensor(w)).sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


@pytest.mark.parametrize("name", REFERENCE)
@pytest.mark.parametrize("oracle", ["torch", "jax"])
def test_values_and_gradients_match_references(name, oracle):
    f, f_torch, args = REFERENCE[name]
    out = f(anp, *args)
    w = np.random.default_rng(3).standard_normal(np.shape(out))
    got, got_grads = _ad_value_and_grads(f, args, w)
    if oracle == "torch":
        want, want_grads = _torch_value_and_grads(f_torch, args, w)
    else:
        want, want_grads = _jax_value_and_grads(f, args, w)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    for g, h in zip(got_grads, want_grads):
        if name in SYMMETRIZED and oracle == "torch":
            h = (h + np.swapaxes(h, -1, -2)) / 2
        np.testing.assert_allclose(g, h, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("oracle", ["torch", "jax"])
def test_non_differentiable_values_match_references(oracle):
    a = real(2, 4, 3)
    deficient = real(4, 2) @ real(2, 3)
    if oracle == "torch":
        rank, cond = torch.linalg.matrix_rank, torch.linalg.cond
        t = torch.tensor
    else:
        rank, cond, t = jnp.linalg.matrix_rank, jnp.linalg.cond, jnp.asarray
    np.testing.assert_array_equal(L.matrix_rank(a), np.asarray(rank(t(a))))
    np.testing.assert_array_equal(L.matrix_rank(deficient), np.asarray(rank(t(deficient))))
    sq = well(2, 3, 3)
    for p in (None, "fro", 1, -np.inf):
        np.testing.assert_allclose(L.cond(sq, p), np.asarray(cond(t(sq), p)), rtol=1e-10)


def test_eig_eigenvector_derivatives_match_jax_with_the_same_normalization():
    a = np.array([[0.8, -1.5, 0.1], [1.5, 0.8, 0.2], [0.3, 0.0, 3.0]])
    t = real(3, 3)

    def jax_eig(a):
        return jax.lax.linalg.eig(a, compute_left_eigenvectors=False,
                                  enable_eigvec_derivs=True)

    (w, v), (dw, dv) = ad.jvp(lambda a: tuple(L.eig(a)), (a,), (t,))
    (wj, vj), (dwj, dvj) = jax.jvp(jax_eig, (a,), (t,))
    order, order_j = np.argsort(w), np.argsort(np.asarray(wj))
    np.testing.assert_allclose(v[:, order], np.asarray(vj)[:, order_j], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dv[:, order], np.asarray(dvj)[:, order_j], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(dw[order], np.asarray(dwj)[order_j], rtol=1e-10)
    # and the gauge-invariant |V|**2 against torch
    ta = torch.tensor(a, requires_grad=True)
    vt = torch.linalg.eig(ta)[1]
    c = real(3, 3)
    (torch.real(vt * vt.conj()) * torch.tensor(c[:, np.argsort(np.argsort(
        torch.linalg.eigvals(ta).detach().numpy()))])).sum().backward()
    c_ad = c[:, np.argsort(np.argsort(w))]
    g = ad.grad(lambda a: anp.sum(anp.real(L.eig(a)[1] * anp.conj(L.eig(a)[1])) * c_ad))(a)
    np.testing.assert_allclose(g, ta.grad.numpy(), rtol=1e-8, atol=1e-10)


# ----------------------------------------------------------------------------- complex input

def _mh(m, z):
    return m.conj(m.swapaxes(z, -1, -2))


def _herm(m, z):
    return z + _mh(m, z)


def _hpd(m, z):
    return z @ _mh(m, z) + 4 * m.eye(z.shape[-1])


CW = np.array([[1.0 - 0.5j, 0.3 + 2.0j, -1.2 + 0.7j, 0.4 - 0.1j]] * 4)
W4 = np.array([0.7, -1.3, 2.1, 0.4])

# real, gauge-invariant functions f(m, z) of complex matrices z (m: anp or jnp), and the
# shape of z
COMPLEX_REFERENCE = {
    "eigvalsh": (lambda m, z: m.sum(m.linalg.eigvalsh(_herm(m, z)) ** 3 * W4), (4, 4)),
    "eigvalsh UPLO='U'": (lambda m, z: m.sum(m.linalg.eigvalsh(_herm(m, z), "U") * W4),
                          (4, 4)),
    "eigh projector, |V|**2": (lambda m, z: (lambda w, v: m.sum(m.real(
        (v * W4) @ _mh(m, v) * CW)) + m.sum(m.abs(v) ** 2 * m.real(CW)) + m.sum(w ** 2))(
            *m.linalg.eigh(_herm(m, z))), (4, 4)),
    "cholesky": (lambda m, z: m.sum(m.real(m.linalg.cholesky(_hpd(m, z)) * CW)), (4, 4)),
    "cholesky upper": (lambda m, z: m.sum(m.imag(m.linalg.cholesky(
        _hpd(m, z), upper=True) * CW)), (4, 4)),
    "svdvals": (lambda m, z: m.sum(m.linalg.svdvals(z) * W4[:3]), (4, 3)),
    "svd tall: U s^2 Vh, |U|**2": (lambda m, z: (lambda u, s, vh: m.sum(m.real(
        (u * s**2) @ vh * CW[:, :3])) + m.sum(m.abs(u) ** 2 * m.real(CW[:, :3])))(
            *m.linalg.svd(z, full_matrices=False)), (4, 3)),
    "svd wide: V s^3 Vh, |Vh|**2": (lambda m, z: (lambda u, s, vh: m.sum(m.real(
        (_mh(m, vh) * s**3) @ vh * CW)) + m.sum(m.abs(vh) ** 2 * m.real(CW[:3])))(
            *m.linalg.svd(z, full_matrices=False)), (3, 4)),
    "svd hermitian values": (lambda m, z: m.sum(m.linalg.svd(
        _herm(m, z) + 0.3 * m.eye(4), compute_uv=False, hermitian=True) ** 2), (4, 4)),
    "norm nuc + 2": (lambda m, z: m.linalg.norm(z, "nuc") + m.linalg.norm(z, 2), (4, 3)),
    "qr tall: Q c Q^H, |R|**2": (lambda m, z: (lambda q, r: m.sum(m.real(
        (q * W4[:3]) @ _mh(m, q) * CW)) + m.sum(m.abs(r) ** 2 * W4[:3]))(*m.linalg.qr(z)),
        (4, 3)),
    "qr wide: R^H c R, |Q|**2": (lambda m, z: (lambda q, r: m.sum(m.real(
        _mh(m, r) @ (r * W4[:3, None]) * CW)) + m.sum(m.abs(q) ** 2 * W4[:3]))(
            *m.linalg.qr(z)), (3, 4)),
    "pinv tall": (lambda m, z: m.sum(m.real(m.linalg.pinv(z) * CW[:3])), (4, 3)),
    "pinv wide": (lambda m, z: m.sum(m.imag(m.linalg.pinv(z) * CW[:, :3])), (3, 4)),
    "lstsq, complex b": (lambda m, z: m.sum(m.real(m.linalg.lstsq(
        z[:, :3], z[:, 3:] * (1 - 2j), rcond=None)[0] * CW[:3, :2])), (4, 5)),
    "lstsq wide": (lambda m, z: m.sum(m.real(m.linalg.lstsq(
        z[:, :4], z[:, 4:], rcond=None)[0] * CW[:, :1])), (3, 5)),
}


@pytest.mark.parametrize("name", COMPLEX_REFERENCE)
def test_complex_input_values_and_gradients_match_jax(name):
    f, shape = COMPLEX_REFERENCE[name]
    rng = np.random.default_rng(11)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    got = f(anp, x + 1j * y)
    want = f(jnp, x + 1j * y)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    got_grads = _grad(lambda x, y: f(anp, x + 1j * y), x, y)
    want_grads = jax.grad(lambda x, y: f(jnp, x + 1j * y), argnums=(0, 1))(x, y)
    for g, h in zip(got_grads, want_grads):
        np.testing.assert_allclose(g, h, rtol=1e-8, atol=1e-10)
    check_grads(lambda x, y: f(anp, x + 1j * y), (x, y), order=2)


def test_complex_hermitian_gradients_are_hermitian_projections():
    """eigvalsh of a Hermitian H: d sum(w * c) = Re tr(V diag(c) V^H dH), so the gradient with
    respect to the real and imaginary parts of H (read as a Hermitian matrix) is the real and
    imaginary part of the Hermitian V diag(c) V^H."""
    rng = np.random.default_rng(5)
    z = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    h = z + np.conj(z.T)
    c = np.array([0.5, -1.0, 2.0])
    gx, gy = _grad(lambda x, y: anp.sum(L.eigvalsh(x + 1j * y) * c), h.real, h.imag)
    w, v = np.linalg.eigh(h)
    p = (v * c) @ np.conj(v.T)
    np.testing.assert_allclose(gx + 1j * gy, p, rtol=1e-10, atol=1e-12)
