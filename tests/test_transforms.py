"""The JAX face: the notebook's values by every route, composition of transforms in every
order, perturbation confusion, escaped tracers, argnums, has_aux, pytrees, output types."""

from __future__ import annotations

import collections

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
    assert isinstance(aux, np.ndarray)  # the primal value, not a tracer
    np.testing.assert_array_equal(aux, np.ones(2))
    jac, aux = ad.jacrev(lambda x: (x * 2, {"sum": anp.sum(x)}), has_aux=True)(np.arange(2.0))
    np.testing.assert_array_equal(jac, 2 * np.eye(2))
    assert aux == {"sum": 1.0}
    hess, aux = ad.hessian(lambda x: (anp.sum(x**3), x**2), has_aux=True)(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(hess, np.diag([6.0, 12.0]))
    np.testing.assert_array_equal(aux, [1.0, 4.0])


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
    with np.errstate(divide="ignore", invalid="ignore"):
        naive = ad.grad(lambda x: anp.sum(anp.where(x > 0, anp.sqrt(x), 0.0)))(x)
    assert np.isnan(naive[0])  # 0 * inf: the documented pitfall (README, "where")
    safe = ad.grad(lambda x: anp.sum(anp.where(x > 0, anp.sqrt(anp.where(x > 0, x, 1.0)), 0.0)))
    np.testing.assert_allclose(safe(x), [0.0, 0.25])


# ----------------------------------------------------------------------------- vmap

def test_vmap_in_axes_out_axes_and_pytrees():
    x, w = np.arange(6.0).reshape(2, 3), np.arange(3.0)
    np.testing.assert_allclose(ad.vmap(lambda x, w: x @ w, in_axes=(0, None))(x, w), x @ w)
    np.testing.assert_allclose(ad.vmap(lambda x: x * 2, in_axes=-1)(x), (x * 2).T)
    np.testing.assert_allclose(ad.vmap(lambda x: x * 2, in_axes=1, out_axes=-1)(x), x * 2)
    tree = {"a": x, "b": (w, 1.0)}
    out = ad.vmap(lambda t: t["a"] * t["b"][0] + t["b"][1],
                  in_axes=({"a": 0, "b": (None, None)},))(tree)
    np.testing.assert_allclose(out, x * w + 1.0)
    s, c = ad.vmap(lambda x: (anp.sum(x), 7.0), out_axes=(0, None))(x)
    np.testing.assert_allclose(s, x.sum(1))
    assert c == 7.0
    np.testing.assert_allclose(ad.vmap(lambda x: 5.0)(x), [5.0, 5.0])  # broadcast output


def test_nested_vmap_and_closure_over_batched_values():
    x = np.arange(12.0).reshape(3, 4)
    outer = ad.vmap(lambda row: ad.vmap(lambda v: v * anp.sum(row))(row))(x)
    np.testing.assert_allclose(outer, x * x.sum(1, keepdims=True))
    pairwise = ad.vmap(lambda a: ad.vmap(lambda b: anp.sum((a - b) ** 2))(x))(x)
    np.testing.assert_allclose(pairwise, ((x[:, None] - x[None]) ** 2).sum(-1))


def test_vmap_errors_name_sizes_and_axes():
    with pytest.raises(ValueError, match="input 0 has size 2, input 1 has size 3") as info:
        ad.vmap(lambda a, b: a + b)(np.ones(2), np.ones(3))
    assert isinstance(info.value, ad.BatchingError)
    with pytest.raises(ValueError, match="in_axes=2 .* out of range"):
        ad.vmap(lambda a: a, in_axes=2)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="2 entries"):
        ad.vmap(lambda a: a, in_axes=(0, 0))(np.ones(2))
    with pytest.raises(ValueError, match="where"):
        ad.vmap(lambda a: a if a > 0 else -a)(np.ones(2))
    with pytest.raises(ValueError, match="out_axes=None"):
        ad.vmap(lambda a: a, out_axes=None)(np.ones(2))


def test_per_example_gradients_and_every_mix_with_vmap():
    rng = np.random.default_rng(1)
    w, xs, ys = rng.standard_normal(3), rng.standard_normal((5, 3)), rng.standard_normal(5)
    loss = lambda w, x, y: (anp.tanh(anp.dot(x, w)) - y) ** 2
    per_example = ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))(w, xs, ys)
    looped = np.stack([ad.grad(loss)(w, x, y) for x, y in zip(xs, ys)])
    np.testing.assert_allclose(per_example, looped, rtol=1e-13)
    total = ad.grad(lambda w: anp.sum(ad.vmap(loss, in_axes=(None, 0, 0))(w, xs, ys)))(w)
    np.testing.assert_allclose(total, looped.sum(0), rtol=1e-13)
    jac_of_vmap = ad.jacfwd(lambda w: ad.vmap(loss, in_axes=(None, 0, 0))(w, xs, ys))(w)
    np.testing.assert_allclose(jac_of_vmap, looped, rtol=1e-12)
    hessians = ad.vmap(ad.hessian(loss), in_axes=(None, 0, 0))(w, xs, ys)
    np.testing.assert_allclose(hessians, [ad.hessian(loss)(w, x, y) for x, y in zip(xs, ys)],
                               rtol=1e-12, atol=1e-14)
    jvp_of_vmap = ad.jvp(lambda w: ad.vmap(loss, in_axes=(None, 0, 0))(w, xs, ys), (w,),
                         (np.ones(3),))[1]
    np.testing.assert_allclose(jvp_of_vmap, looped.sum(1), rtol=1e-12)
    vjp_in_vmap = ad.vmap(lambda x, y: ad.vjp(lambda w: loss(w, x, y), w)[1](1.0)[0])(xs, ys)
    np.testing.assert_allclose(vjp_in_vmap, looped, rtol=1e-13)


JAC_FUNCTIONS = {
    "rosenbrock": lambda x: anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2),
    "softplus-ish": lambda x: anp.sum(anp.log(1.0 + anp.exp(anp.matmul(
        anp.reshape(x, (2, 2)), x[:2])))),
    "quartic": lambda x: anp.sum(x**4) * anp.sum(anp.sin(x)),
    "kinked": lambda x: anp.sum(anp.maximum(x, 0.2) * anp.abs(x - 1.5) ** 3),
}


@pytest.mark.parametrize("name", list(JAC_FUNCTIONS))
def test_hessian_routes_and_symmetry(name):
    f = JAC_FUNCTIONS[name]
    x = np.array([0.4, -0.7, 1.1, 0.3])
    h = ad.hessian(f, matrix=True)(x)
    np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-12)
    for route in (ad.jacrev(ad.jacfwd(f)), ad.jacrev(ad.jacrev(f)), ad.jacfwd(ad.jacfwd(f)),
                  ad.jacfwd(ad.jacrev(f), chunk_size=3), ad.hessian(f, chunk_size=1)):
        np.testing.assert_allclose(route(x), h, rtol=1e-11, atol=1e-11)
    g = ad.grad(f)
    np.testing.assert_allclose(ad.jacfwd(g)(x), ad.jacrev(g)(x), rtol=1e-12, atol=1e-12)
    v = np.array([1.0, -2.0, 0.5, 0.0])
    np.testing.assert_allclose(ad.hvp(f, (x,), (v,)), h @ v, rtol=1e-11, atol=1e-11)


# ----------------------------------------------------------------------------- custom rules

@ad.custom_jvp
def halved_identity(x):
    return x * 1.0


@halved_identity.defjvp
def _halved_identity_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return halved_identity(x), t * 0.5 * x  # deliberately not the function's own derivative


def test_custom_jvp_rule_is_used_by_every_transform():
    # the rule says d/dx = 0.5 x, so d2/dx2 = 0.5 (the function's own derivative would be 1, 0)
    assert ad.grad(halved_identity)(4.0) == 2.0
    assert ad.jvp(halved_identity, (4.0,), (1.0,))[1] == 2.0
    assert ad.grad(ad.grad(halved_identity))(4.0) == 0.5
    assert ad.jacfwd(ad.grad(halved_identity))(4.0) == 0.5
    x = np.array([2.0, 4.0])
    np.testing.assert_array_equal(ad.vmap(ad.grad(halved_identity))(x), [1.0, 2.0])
    np.testing.assert_array_equal(ad.grad(lambda x: anp.sum(ad.vmap(halved_identity)(x)))(x),
                                  [1.0, 2.0])
    np.testing.assert_array_equal(ad.jacrev(ad.vmap(halved_identity))(x), np.diag([1.0, 2.0]))
    t = ad.tensor(4.0, requires_grad=True)
    halved_identity(t).backward()
    assert t.grad.item() == 2.0


def test_custom_jvp_nondiff_argnums():
    def clipped(limit, x):
        return anp.minimum(x, limit)

    f = ad.custom_jvp(clipped, nondiff_argnums=(0,))

    @f.defjvp
    def _(limit, primals, tangents):
        (x,), (t,) = primals, tangents
        return f(limit, x), t * 0.25  # the limit is static: it gets no tangent

    assert f(1.0, 3.0) == 1.0
    assert ad.grad(lambda x: f(1.0, x))(3.0) == 0.25
    assert ad.grad(f, argnums=1)(1.0, 3.0) == 0.25


def test_custom_vjp_rule_in_reverse_mode_function_in_forward_mode():
    @ad.custom_vjp
    def clip_gradient(x):
        return x * 1.0

    clip_gradient.defvjp(lambda x: (clip_gradient(x), None),
                         lambda res, g: (anp.minimum(anp.maximum(g, -1.0), 1.0),))
    f = lambda x: anp.sum(clip_gradient(x) * 5.0)
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(ad.grad(f)(x), [1.0, 1.0])  # clipped in reverse
    np.testing.assert_array_equal(ad.jvp(f, (x,), (np.array([1.0, 0.0]),))[1], 5.0)  # own
    np.testing.assert_array_equal(ad.vmap(ad.grad(lambda x: clip_gradient(x) * 5.0))(x),
                                  [1.0, 1.0])
    np.testing.assert_array_equal(
        ad.grad(lambda x: anp.sum(ad.vmap(lambda x: clip_gradient(x) * 5.0)(x)))(x), [1, 1])
    with pytest.raises(TypeError, match="defvjp"):
        ad.custom_vjp(lambda x: x)(1.0)


def test_checkpoint_same_gradients_less_memory():
    import tracemalloc

    rng = np.random.default_rng(0)
    w = rng.standard_normal(200_000) * 0.1

    def block(x):
        for _ in range(6):
            x = anp.tanh(x * w + 0.1)
        return x

    def model(x, blocks):
        for b in blocks:
            x = b(x)
        return anp.sum(x)

    def peak(blocks):
        tracemalloc.start()
        g = ad.grad(lambda x: model(x, blocks))(np.ones_like(w))
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return g, top

    g_plain, peak_plain = peak([block] * 4)
    g_ckpt, peak_ckpt = peak([ad.checkpoint(block)] * 4)
    np.testing.assert_array_equal(g_ckpt, g_plain)
    assert peak_ckpt < 0.6 * peak_plain, (peak_ckpt, peak_plain)
    np.testing.assert_allclose(ad.hessian(lambda x: anp.sum(ad.checkpoint(anp.sin)(x) ** 2),
                                          matrix=True)(np.array([0.3, 0.4])),
                               np.diag(2 * np.cos(2 * np.array([0.3, 0.4]))), rtol=1e-12)


def test_stop_gradient():
    assert ad.grad(lambda x: x * ad.stop_gradient(x))(3.0) == 3.0
    assert ad.jvp(lambda x: ad.stop_gradient(x) ** 2, (3.0,), (1.0,))[1] == 0.0
    t = ad.tensor(2.0, requires_grad=True)
    assert not ad.stop_gradient(t).requires_grad
    out = ad.stop_gradient({"a": np.ones(2), "b": 1.0})
    assert set(out) == {"a", "b"}


def test_ravel_pytree_round_trip_and_gradients():
    params = {"w": np.arange(6.0).reshape(2, 3), "b": np.array([1.0, 2.0])}
    flat, unravel = ad.tree.ravel_pytree(params)
    assert flat.shape == (8,)
    back = unravel(flat)
    np.testing.assert_array_equal(back["w"], params["w"])
    np.testing.assert_array_equal(back["b"], params["b"])
    loss = lambda v: anp.sum(unravel(v)["w"] ** 2) + anp.sum(unravel(v)["b"])
    np.testing.assert_array_equal(ad.grad(loss)(flat), [1, 1, 0, 2, 4, 6, 8, 10])  # keys sorted
    assert ad.hessian(loss, matrix=True)(flat).shape == (8, 8)


# ----------------------------------------------------------------------------- stress test

def _stress_scalar(x):
    """A non-trivial R^3 -> R: every primitive family (elementwise, matmul, reduce, index)."""
    m = anp.reshape(anp.concatenate([x, x[::-1] * 0.5, anp.sin(x)]), (3, 3))
    return anp.sum(anp.tanh(m @ x) * anp.exp(-x**2)) + anp.maximum(x[0], 0.1) ** 3


def test_every_composition_order_agrees_under_vmap():
    rng = np.random.default_rng(3)
    xs = rng.uniform(-1.0, 1.0, (4, 3))
    v, w = rng.standard_normal(3), rng.standard_normal(3)
    f = _stress_scalar
    grads = np.stack([ad.grad(f)(x) for x in xs])
    hessians = np.stack([ad.hessian(f)(x) for x in xs])
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)

    for g in (ad.vmap(ad.grad(f)), ad.vmap(ad.jacrev(f)), ad.vmap(ad.jacfwd(f)),
              ad.grad(lambda xs: anp.sum(ad.vmap(f)(xs))),
              lambda xs: ad.vjp(ad.vmap(f), xs)[1](np.ones(len(xs)))[0],
              ad.vmap(lambda x: ad.vjp(f, x)[1](1.0)[0])):
        close(g(xs), grads)
    for h in (ad.vmap(ad.hessian(f)), ad.vmap(ad.jacfwd(ad.jacrev(f))),
              ad.vmap(ad.jacrev(ad.jacfwd(f))), ad.vmap(ad.jacrev(ad.jacrev(f))),
              ad.vmap(ad.jacfwd(ad.jacfwd(f))), ad.vmap(ad.jacrev(ad.grad(f)))):
        close(h(xs), hessians)
    close(ad.vmap(lambda x: ad.jvp(ad.grad(f), (x,), (v,))[1])(xs), hessians @ v)
    close(ad.vmap(lambda x: ad.hvp(f, (x,), (v,)))(xs), hessians @ v)
    close(ad.vmap(lambda x: ad.vjp(ad.grad(f), x)[1](w)[0])(xs), hessians.transpose(0, 2, 1) @ w)
    close(ad.vmap(lambda x: ad.grad(lambda x: ad.jvp(f, (x,), (v,))[1])(x))(xs), hessians @ v)
    # a Jacobian of a vmapped function is block-diagonal, one block per example
    eye = np.eye(len(xs))
    close(ad.jacfwd(ad.vmap(ad.grad(f)))(xs), np.einsum("bij,bc->bicj", hessians, eye))
    close(ad.hessian(lambda xs: anp.sum(ad.vmap(f)(xs)))(xs),
          np.einsum("bij,bc->bicj", hessians, eye))


def test_check_grads_on_float32_and_pytrees():
    ad.testing.check_grads(lambda x: anp.sin(x) * x, (np.array([0.5, 1.0], np.float32),), 2)
    ad.testing.check_grads(lambda p: anp.sum(p["w"] ** 2) * p["b"],
                           ({"w": np.array([0.5, 1.0]), "b": 2.0},), order=2)
    wrong = ad.custom_jvp(lambda x: x**2)
    wrong.defjvp(lambda primals, tangents: (primals[0] ** 2, 3.0 * primals[0] * tangents[0]))
    with pytest.raises(AssertionError, match="finite differences"):
        ad.testing.check_grads(wrong, (np.array([0.5]),), order=1)


def test_vjp_of_a_namedtuple_output_takes_a_namedtuple_cotangent():
    Pair = collections.namedtuple("Pair", "a b")
    out, pullback = ad.vjp(lambda x: Pair(x * 2.0, x**2), 3.0)
    assert isinstance(out, Pair)
    assert pullback(Pair(1.0, 1.0)) == (8.0,)


def test_jacobians_and_hessians_of_empty_inputs():
    assert ad.jacfwd(lambda x: x * 2)(np.zeros(0)).shape == (0, 0)
    assert ad.jacrev(lambda x: x * 2)(np.zeros(0)).shape == (0, 0)
    assert ad.hessian(lambda x: ad.numpy.sum(x**2))(np.zeros(0)).shape == (0, 0)
