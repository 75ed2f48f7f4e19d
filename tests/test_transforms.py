"""The JAX face: the notebook's values by every route, composition of transforms in every
order, perturbation confusion, escaped tracers, argnums, has_aux, pytrees, output types."""

from __future__ import annotations

import numpy as np
import pytest

import autodx as ad

anp = ad.numpy


# ----------------------------------------------------------------------------- the notebook

def f_deriv(x):
    return 3 * x**2


def f_partial(x, y):
    return 2 * x**2 + 3 * y


def f_jac(x, y):
    return anp.stack([x**2 + y**2, x - y])


def f_hess(x, y):
    return x**2 + y**2


JAC = np.array([[4.0, 2.0], [1.0, -1.0]])
HESS = np.array([[2.0, 0.0], [0.0, 2.0]])


def test_derivative_of_3x2_at_2():
    assert ad.grad(f_deriv)(2.0) == 12.0
    assert ad.grad(f_deriv)(2) == 12.0  # Python ints are promoted
    assert ad.jvp(f_deriv, (2.0,), (1.0,)) == (12.0, 12.0)
    assert ad.value_and_grad(f_deriv)(2.0) == (12.0, 12.0)


def test_partials_of_2x2_plus_3y():
    assert ad.grad(f_partial, argnums=0)(2.0, 1.5) == 8.0
    assert ad.grad(f_partial, argnums=1)(2.0, 1.5) == 3.0
    assert ad.grad(f_partial, argnums=(0, 1))(2.0, 1.5) == (8.0, 3.0)
    assert ad.grad(f_partial, argnums=[0, 1])(2.0, 1.5) == (8.0, 3.0)
    assert ad.grad(f_partial, argnums=-1)(2.0, 1.5) == 3.0


@pytest.mark.parametrize("jac", [ad.jacobian, ad.jacrev, ad.jacfwd])
def test_jacobian_matrix_rows_are_outputs(jac):
    got = jac(f_jac, argnums=(0, 1), matrix=True)(2.0, 1.0)
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, JAC)
    jx, jy = jac(f_jac, argnums=(0, 1))(2.0, 1.0)  # JAX's layout: one block per argument
    np.testing.assert_array_equal(jx, JAC[:, 0])
    np.testing.assert_array_equal(jy, JAC[:, 1])


def test_jacobian_from_one_vjp_per_basis_vector():
    out, pullback = ad.vjp(f_jac, 2.0, 1.0)
    rows = np.array([pullback(e) for e in np.eye(2)])
    np.testing.assert_array_equal(rows, JAC)


@pytest.mark.parametrize("route", ["hessian", "jacobian(jacobian)", "jacfwd(jacrev)",
                                   "jacrev(jacfwd)", "jacrev(jacrev)"])
def test_hessian_of_x2_plus_y2_by_every_route(route):
    both = (0, 1)
    h = {
        "hessian": ad.hessian(f_hess, argnums=both),
        "jacobian(jacobian)": ad.jacobian(ad.jacobian(f_hess, argnums=both), argnums=both),
        "jacfwd(jacrev)": ad.jacfwd(ad.jacrev(f_hess, argnums=both), argnums=both),
        "jacrev(jacfwd)": ad.jacrev(ad.jacfwd(f_hess, argnums=both), argnums=both),
        "jacrev(jacrev)": ad.jacrev(ad.jacrev(f_hess, argnums=both), argnums=both),
    }[route](2.0, 1.0)
    np.testing.assert_array_equal(np.array(h, dtype=float), HESS)


def test_hessian_matrix():
    np.testing.assert_array_equal(ad.hessian(f_hess, argnums=(0, 1), matrix=True)(2.0, 1.0),
                                  HESS)
    packed = ad.hessian(lambda v: f_hess(v[0], v[1]), matrix=True)(np.array([2.0, 1.0]))
    np.testing.assert_array_equal(packed, HESS)


# ----------------------------------------------------------------------------- nesting

def test_perturbation_confusion_all_modes():
    """d/dx [x * d/dy (x + y)] = 1: the inner derivative must not see the outer x."""
    def inner_fwd(x):
        return ad.jvp(lambda y: x + y, (1.0,), (1.0,))[1]

    def inner_rev(x):
        return ad.grad(lambda y: x + y)(1.0)

    for inner in (inner_fwd, inner_rev):
        f = lambda x, inner=inner: x * inner(x)
        assert ad.grad(f)(1.0) == 1.0
        assert ad.jvp(f, (1.0,), (1.0,))[1] == 1.0


def test_derivative_of_closure_over_outer_variable_is_zero():
    assert ad.grad(lambda x: ad.grad(lambda y: x)(1.0))(3.0) == 0.0
    assert ad.jvp(lambda x: ad.jvp(lambda y: x, (1.0,), (1.0,))[1], (3.0,), (1.0,))[1] == 0.0


def test_third_derivative_by_mixed_nesting():
    f = lambda x: anp.sin(x) * x**2
    d3_exact = lambda x: -np.cos(x) * x**2 - 6 * x * np.sin(x) + 6 * np.cos(x)
    for d3 in (ad.grad(ad.grad(ad.grad(f))),
               ad.jacfwd(ad.grad(ad.jacfwd(f))),
               ad.jacrev(ad.jacfwd(ad.grad(f)))):
        np.testing.assert_allclose(d3(0.7), d3_exact(0.7), rtol=1e-12)


def _stress(x):
    return (anp.sum(anp.tanh(anp.matmul(x, x.T)) * anp.exp(-x[:, :1]))
            + anp.sum(anp.sqrt(x**2 + 1.0)))


def test_every_composition_order_agrees():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2))
    h1 = ad.hessian(_stress, matrix=True)(x)
    for h in (ad.jacfwd(ad.jacrev(_stress, matrix=True), matrix=True)(x),
              ad.jacrev(ad.jacfwd(_stress, matrix=True), matrix=True)(x),
              ad.jacrev(ad.jacrev(_stress, matrix=True), matrix=True)(x),
              ad.jacfwd(ad.jacfwd(_stress, matrix=True), matrix=True)(x)):
        np.testing.assert_allclose(h, h1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h1, h1.T, rtol=1e-10, atol=1e-12)
    v = rng.standard_normal(x.shape)
    hv_fwd_rev = ad.jvp(ad.grad(_stress), (x,), (v,))[1]
    hv_rev_rev = ad.grad(lambda x: anp.sum(ad.grad(_stress)(x) * v))(x)
    hv_rev_fwd = ad.grad(lambda x: ad.jvp(_stress, (x,), (v,))[1])(x)
    for hv in (hv_fwd_rev, hv_rev_rev, hv_rev_fwd):
        np.testing.assert_allclose(hv.ravel(), h1 @ v.ravel(), rtol=1e-10, atol=1e-12)
    ad.testing.check_grads(_stress, (x,), order=2)


@pytest.mark.parametrize("f", [
    lambda x: anp.sin(x) * anp.cos(x[::-1]),
    lambda x: anp.stack([anp.sum(x**2), anp.sum(anp.exp(x))]),
    lambda x: anp.matmul(anp.reshape(x, (2, 2)), anp.reshape(x, (2, 2)).T),
    lambda x: anp.maximum(x, 0.3) * anp.where(x > 0, x, -x),
], ids=["sin*cos", "stack", "matmul", "kinks"])
def test_jacfwd_equals_jacrev(f):
    x = np.array([0.5, -1.2, 2.0, 0.1])
    np.testing.assert_allclose(ad.jacfwd(f)(x), ad.jacrev(f)(x), rtol=1e-13, atol=1e-14)


def test_deep_chain_functional():
    def chain(x):
        for _ in range(20_000):
            x = anp.sin(x) * 0.5 + x * 0.5
        return x

    g = ad.grad(chain)(0.3)
    t = ad.jvp(chain, (0.3,), (1.0,))[1]
    assert np.isfinite(g) and g == pytest.approx(t, rel=1e-12)


def test_reused_nodes_and_fan_out():
    def f(a):
        b = a + a
        c = b + b
        return c * a  # 4a * a
    assert ad.grad(f)(3.0) == 24.0


def test_function_independent_of_input_has_zero_gradient():
    assert ad.grad(lambda x: 5.0)(2.0) == 0.0
    np.testing.assert_array_equal(ad.grad(lambda x, y: anp.sum(y), argnums=0)(np.ones(3), 1.0),
                                  np.zeros(3))
    np.testing.assert_array_equal(ad.jacobian(lambda x: np.ones(2))(np.ones(3)), np.zeros((2, 3)))


# ----------------------------------------------------------------------------- the boundary

def test_has_aux():
    g, aux = ad.grad(lambda x: (x**2, {"double": 2 * x}), has_aux=True)(3.0)
    assert g == 6.0 and aux == {"double": 6.0}
    (value, aux), g = ad.value_and_grad(lambda x: (x**2, x + 1), has_aux=True)(3.0)
    assert (value, aux, g) == (9.0, 4.0, 6.0)
    jac, aux = ad.jacfwd(lambda x: (x * 2, x), has_aux=True)(np.ones(2))
    np.testing.assert_array_equal(jac, 2 * np.eye(2))


def test_pytrees_in_and_out():
    params = {"w": np.array([1.0, 2.0]), "b": 0.5}
    loss = lambda p, x: anp.sum((p["w"] * x + p["b"]) ** 2)
    g = ad.grad(loss)(params, np.array([1.0, -1.0]))
    r = params["w"] * np.array([1.0, -1.0]) + 0.5  # residuals (1.5, -1.5)
    np.testing.assert_allclose(g["w"], 2 * r * np.array([1.0, -1.0]))
    np.testing.assert_allclose(g["b"], 2 * r.sum())
    jac = ad.jacobian(lambda p: (p[0] * 2, p[1] ** 2))((1.0, 3.0))
    assert jac == ((2.0, 0.0), (0.0, 6.0))


def test_numpy_in_numpy_out_tensors_in_tensors_out():
    g = ad.grad(f_deriv)(np.float64(2.0))
    assert isinstance(g, np.float64)
    assert isinstance(ad.grad(lambda x: anp.sum(x**2))(np.ones(3)), np.ndarray)
    t = ad.grad(f_deriv)(ad.tensor(2.0))
    assert isinstance(t, ad.Tensor) and t.item() == 12.0
    j = ad.jacobian(f_jac, argnums=(0, 1), matrix=True)(ad.tensor(2.0), ad.tensor(1.0))
    assert isinstance(j, ad.Tensor)
    np.testing.assert_array_equal(j.numpy(), JAC)


def test_float32_stays_float32():
    x = np.array([1.0, 2.0], dtype=np.float32)
    g = ad.grad(lambda x: anp.sum(anp.sin(x) * 3.0))(x)
    assert g.dtype == np.float32
    h = ad.hessian(lambda x: anp.sum(x**3), matrix=True)(x)
    assert h.dtype == np.float32
    np.testing.assert_allclose(h, np.diag(6 * x), rtol=1e-6)


def test_linearize_matches_jvp():
    f = lambda x: anp.sin(x) * x
    out, f_jvp = ad.linearize(f, np.array([0.1, 0.2]))
    np.testing.assert_allclose(out, np.sin([0.1, 0.2]) * [0.1, 0.2])
    np.testing.assert_allclose(f_jvp(np.array([1.0, 0.0])),
                               [np.cos(0.1) * 0.1 + np.sin(0.1), 0.0])


def test_vjp_returns_tuple_per_primal():
    out, pullback = ad.vjp(lambda x, y: x * y, 2.0, 3.0)
    assert out == 6.0 and pullback(1.0) == (3.0, 2.0)


def test_numpy_functions_dispatch_on_tracers():
    def f(x):
        return np.sum(np.sin(x) * np.exp(x), axis=0) + np.mean(x @ x.T)
    x = np.array([[0.1, 0.2], [0.3, 0.4]])
    ad.testing.check_grads(f, (x,), order=2)
    assert ad.grad(lambda x: np.sum(f(x)))(x).shape == (2, 2)


def test_python_control_flow_on_concrete_values():
    def relu_ish(x):
        return x * 2 if x > 0 else -x
    assert ad.grad(relu_ish)(1.5) == 2.0
    assert ad.grad(relu_ish)(-1.5) == -1.0


def test_where_nan_from_unused_branch_and_the_double_where_fix():
    x = np.array([0.0, 4.0])
    naive = ad.grad(lambda x: anp.sum(anp.where(x > 0, anp.sqrt(x), 0.0)))(x)
    assert np.isnan(naive[0])  # 0 * inf: the documented pitfall (README, "where")
    safe = ad.grad(lambda x: anp.sum(anp.where(x > 0, anp.sqrt(anp.where(x > 0, x, 1.0)), 0.0)))
    np.testing.assert_allclose(safe(x), [0.0, 0.25])
