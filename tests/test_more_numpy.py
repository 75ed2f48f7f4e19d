"""The rest of NumPy (statistics, sets, calculus, editing, polynomials, NumPy 2's gufuncs):
values against NumPy over the option combinations, derivatives against finite differences
to second order, the derivative conventions with analytic values, errors and warnings, vmap
where the result's shape depends on the values, and references against JAX and PyTorch."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import autodx as ad
from autodx.core import BatchingError
from autodx.testing import check_grads

jax.config.update("jax_enable_x64", True)

anp = ad.numpy
RNG = np.random.default_rng(7)


def _same(got, want, rtol=1e-13, atol=1e-14):
    """Equal values, shapes and dtypes (tuples elementwise)."""
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def _grad_both(f, x):
    """The gradient of a scalar function by reverse mode, by forward mode and by the torch
    face; all three must agree."""
    rev = ad.grad(f)(x)
    fwd = ad.jacfwd(f)(x)
    t = ad.tensor(x, requires_grad=True)
    f(t).backward()
    np.testing.assert_allclose(fwd, rev, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(t.grad.numpy(), rev, rtol=1e-14, atol=1e-15)
    return rev


WITH_NANS = RNG.permutation(np.linspace(-2.0, 2.0, 15)).reshape(3, 5)
WITH_NANS[0, 1] = WITH_NANS[2, 4] = WITH_NANS[1, 0] = np.nan
ALL_NAN_ROW = WITH_NANS.copy()
ALL_NAN_ROW[1] = np.nan
METHODS = ["inverted_cdf", "averaged_inverted_cdf", "closest_observation",
           "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
           "normal_unbiased", "lower", "higher", "midpoint", "nearest"]

# ----------------------------------------------------------------------------- order statistics


@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), (0, True), ((0, 1), True),
                                            (-1, True)])
def test_nanmedian_matches_numpy(axis, keepdims):
    _same(anp.nanmedian(WITH_NANS, axis, keepdims=keepdims),
          np.nanmedian(WITH_NANS, axis, keepdims=keepdims))
    x32 = WITH_NANS.astype(np.float32)
    _same(anp.nanmedian(x32, axis, keepdims=keepdims), np.nanmedian(x32, axis, keepdims=keepdims))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("q", [0.0, 0.3, 0.5, 1.0, [0.1, 0.75], np.array([[0.2], [0.9]])])
def test_nanquantile_matches_numpy_for_every_method(method, q):
    _same(anp.nanquantile(WITH_NANS, q, axis=1, method=method),
          np.nanquantile(WITH_NANS, q, axis=1, method=method))
    ints = np.array([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]])
    _same(anp.nanquantile(ints, q, axis=-1, method=method, keepdims=True),
          np.nanquantile(ints, q, axis=-1, method=method, keepdims=True))


def test_nanquantile_dtypes_follow_numpy():
    x32 = WITH_NANS.astype(np.float32)
    _same(anp.nanquantile(x32, 0.4, 0), np.nanquantile(x32, 0.4, 0))  # weak q: float32
    _same(anp.nanquantile(x32, np.array([0.4]), 0), np.nanquantile(x32, np.array([0.4]), 0))
    _same(anp.nanpercentile(x32, 40), np.nanpercentile(x32, 40))
    _same(anp.nanpercentile(WITH_NANS, [10, 90], axis=(0, 1), keepdims=True),
          np.nanpercentile(WITH_NANS, [10, 90], axis=(0, 1), keepdims=True))


def test_nan_order_statistics_of_an_all_nan_slice_are_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _same(anp.nanmedian(ALL_NAN_ROW, 1), np.nanmedian(ALL_NAN_ROW, 1))
        _same(anp.nanquantile(ALL_NAN_ROW, [0.3, 0.6], 1), np.nanquantile(ALL_NAN_ROW, [0.3, 0.6],
                                                                          1))


def test_nanmedian_gradient_is_one_hot_at_the_middle():
    x = np.array([0.3, np.nan, -1.0, 2.0, 0.7])  # valid: -1, 0.3, 0.7, 2: mean of 0.3, 0.7
    np.testing.assert_array_equal(_grad_both(anp.nanmedian, x), [0.5, 0.0, 0.0, 0.0, 0.5])
    x = np.array([0.3, np.nan, -1.0, 2.0])
    np.testing.assert_array_equal(_grad_both(anp.nanmedian, x), [1.0, 0.0, 0.0, 0.0])


def test_nanmedian_gradient_at_ties_follows_the_stable_sort():
    # sorted: 1 (index 1), 1 (index 2), 2: the middle is the tie the stable sort puts second
    np.testing.assert_array_equal(_grad_both(anp.nanmedian, np.array([2.0, 1.0, 1.0, np.nan])),
                                  [0.0, 0.0, 1.0, 0.0])


def test_nanquantile_gradient_interpolates_between_its_order_statistics():
    x = np.array([4.0, np.nan, 1.0, 3.0, 2.0])  # valid sorted 1, 2, 3, 4: q=0.5 -> 2.5
    g = _grad_both(lambda x: anp.nanquantile(x, 0.5), x)
    np.testing.assert_allclose(g, [0.0, 0.0, 0.0, 0.5, 0.5], rtol=1e-15)
    g = _grad_both(lambda x: anp.nanquantile(x, 0.25, method="hazen"), x)  # position 0.5
    np.testing.assert_allclose(g, [0.0, 0.0, 0.5, 0.0, 0.5], rtol=1e-15)


@pytest.mark.parametrize("f", [
    lambda x: anp.nanmedian(x, 0),
    lambda x: anp.nanquantile(x, [0.3, 0.8], 1, method="median_unbiased"),
    lambda x: anp.nanpercentile(x, 65, method="weibull", keepdims=True),
], ids=["nanmedian", "nanquantile median_unbiased", "nanpercentile weibull"])
def test_nan_order_statistics_derivatives_to_second_order(f):
    check_grads(f, (WITH_NANS,), order=2)


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_nanquantile_value_and_gradient_match_jax(method):
    def f(x, m):
        return m.sum(m.nanquantile(x, m.array([0.15, 0.6]), axis=0, method=method) * WEIGHTS)

    x = WITH_NANS.T
    _same(f(x, anp), np.asarray(f(x, jnp)))
    np.testing.assert_allclose(ad.grad(lambda x: f(x, anp))(x),
                               jax.grad(lambda x: f(x, jnp))(x), rtol=1e-13, atol=1e-15)


WEIGHTS = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]])


def test_nanmedian_and_nanpercentile_match_jax():
    def f(x, m):
        return m.sum(m.nanmedian(x, axis=1) * np.arange(1.0, 4.0)) + m.nanpercentile(x, 35)

    _same(f(WITH_NANS, anp), np.asarray(f(WITH_NANS, jnp)))
    np.testing.assert_allclose(ad.grad(lambda x: f(x, anp))(WITH_NANS),
                               jax.grad(lambda x: f(x, jnp))(WITH_NANS), rtol=1e-13, atol=0)


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_nanquantile_matches_torch(method):
    x = WITH_NANS
    t = torch.tensor(x, requires_grad=True)
    torch.nanquantile(t, torch.tensor([0.2, 0.7], dtype=torch.float64), dim=1,
                      interpolation=method).sum().backward()
    got = ad.grad(lambda x: anp.sum(anp.nanquantile(x, [0.2, 0.7], 1, method=method)))(x)
    np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-14, atol=1e-15)


def test_order_statistics_errors():
    with pytest.raises(ValueError, match="not a valid method"):
        anp.nanquantile(WITH_NANS, 0.5, method="bogus")
    with pytest.raises(ValueError, match=r"Quantiles must be in the range \[0, 1\]"):
        anp.nanquantile(WITH_NANS, 1.5)
    with pytest.raises(ValueError, match=r"Percentiles must be in the range \[0, 100\]"):
        anp.nanpercentile(WITH_NANS, [-1, 50])
    with pytest.raises(TypeError, match="real numbers"):
        anp.nanquantile(WITH_NANS + 1j, 0.5)
    with pytest.raises(ValueError, match="empty"):
        anp.nanmedian(np.zeros((0, 3)), 0)
    with pytest.raises(TypeError, match="out="):
        anp.nanmedian(WITH_NANS, out=np.zeros(5))
    with pytest.raises(NotImplementedError, match="weights"):
        anp.nanquantile(WITH_NANS, 0.5, method="inverted_cdf", weights=np.ones((3, 5)))


# ----------------------------------------------------------------------------- cov, corrcoef

M = RNG.standard_normal((3, 6))
Y = RNG.standard_normal(6)
FW = np.array([1, 2, 1, 3, 1, 1])
AW = RNG.uniform(0.5, 2.0, 6)


@pytest.mark.parametrize("kwargs", [{}, {"bias": True}, {"ddof": 0}, {"ddof": 3},
                                    {"fweights": FW}, {"aweights": AW},
                                    {"fweights": FW, "aweights": AW, "ddof": 2},
                                    {"aweights": AW, "bias": True}, {"dtype": np.float32}],
                         ids=lambda k: ",".join(k) or "defaults")
def test_cov_matches_numpy(kwargs):
    _same(anp.cov(M, **kwargs), np.cov(M, **kwargs))
    _same(anp.cov(M.T, Y, rowvar=False, **kwargs), np.cov(M.T, Y, rowvar=False, **kwargs))


def test_cov_shapes_and_complex_values_match_numpy():
    _same(anp.cov(Y), np.cov(Y))  # one variable: a 0-d result
    _same(anp.cov(M[0], Y), np.cov(M[0], Y))
    z = M + 1j * M[::-1]
    _same(anp.cov(z), np.cov(z))
    _same(anp.cov(np.zeros((0, 3))), np.cov(np.zeros((0, 3))))
    _same(anp.corrcoef(z), np.corrcoef(z))
    _same(anp.corrcoef(M, Y), np.corrcoef(M, Y))
    _same(anp.corrcoef(M.T, rowvar=False), np.corrcoef(M.T, rowvar=False))
    _same(anp.corrcoef(Y), np.corrcoef(Y))


def test_cov_warns_when_there_are_no_degrees_of_freedom():
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"):
        got = anp.cov(np.array([[1.0, 2.0]]), ddof=2)
    with pytest.warns(RuntimeWarning):
        _same(got, np.cov(np.array([[1.0, 2.0]]), ddof=2))


def test_cov_errors():
    with pytest.raises(ValueError, match="more than 2 dimensions"):
        anp.cov(np.zeros((2, 2, 2)))
    with pytest.raises(TypeError, match="fweights must be integer"):
        anp.cov(M, fweights=FW + 0.5)
    with pytest.raises(ValueError, match="aweights cannot be negative"):
        anp.cov(M, aweights=-AW)
    with pytest.raises(RuntimeError, match="incompatible numbers of samples"):
        anp.cov(M, aweights=AW[:3])
    with pytest.raises(ValueError, match="ddof must be integer"):
        anp.cov(M, ddof=1.5)


def test_cov_and_corrcoef_derivatives_to_second_order():
    check_grads(lambda m, w: anp.cov(m, fweights=FW, aweights=w), (M, AW), order=2)
    check_grads(lambda m, y: anp.corrcoef(m, y), (M, Y), order=2)
    check_grads(lambda m: anp.cov(m + 1j * m[::-1]), (M,), order=2)


def test_cov_and_corrcoef_match_torch():
    t = torch.tensor(M, requires_grad=True)
    w = torch.tensor(AW, requires_grad=True)
    c = torch.cov(t, correction=1, fweights=torch.tensor(FW), aweights=w)
    (c * torch.tensor(np.arange(9.0).reshape(3, 3))).sum().backward()
    got = ad.grad(lambda m, a: anp.sum(anp.cov(m, fweights=FW, aweights=a) *
                                       np.arange(9.0).reshape(3, 3)), argnums=(0, 1))(M, AW)
    np.testing.assert_allclose(anp.cov(M, fweights=FW, aweights=AW), c.detach().numpy(),
                               rtol=1e-13)
    np.testing.assert_allclose(got[0], t.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got[1], w.grad.numpy(), rtol=1e-12, atol=1e-14)
    t = torch.tensor(M, requires_grad=True)
    torch.corrcoef(t)[0, 2].backward()
    np.testing.assert_allclose(ad.grad(lambda m: anp.corrcoef(m)[0, 2])(M), t.grad.numpy(),
                               rtol=1e-12, atol=1e-14)


def test_cov_and_corrcoef_match_jax():
    def f(m, y, a, mod):
        return mod.sum(mod.cov(m, y, aweights=a, ddof=0) ** 2) + mod.sum(mod.corrcoef(m, y))

    args = (M, Y, AW)
    np.testing.assert_allclose(f(*args, anp), f(*args, jnp), rtol=1e-13)
    for a, b in zip(ad.grad(lambda *xs: f(*xs, anp), argnums=(0, 1, 2))(*args),
                    jax.grad(lambda *xs: f(*xs, jnp), argnums=(0, 1, 2))(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


# ----------------------------------------------------------------------------- sets, equality

A = np.array([3.0, 1.0, 2.0, 5.0, 3.0, 7.0, np.nan])
B = np.array([2.0, 8.0, 3.0, 3.0, 9.0, np.nan])


@pytest.mark.parametrize("name", ["union1d", "intersect1d", "setdiff1d", "setxor1d"])
def test_set_functions_match_numpy(name):
    f, ref = getattr(anp, name), getattr(np, name)
    _same(f(A, B), ref(A, B))
    _same(f(A[:-1].astype(int), B[:-1].astype(np.int32)),
          ref(A[:-1].astype(int), B[:-1].astype(np.int32)))
    _same(f(A.reshape(7, 1), B[:2]), ref(A.reshape(7, 1), B[:2]))
    if name != "union1d":
        u, v = np.array([4.0, 1.0, 3.0]), np.array([3.0, 5.0, 4.0])
        _same(f(u, v, assume_unique=True), ref(u, v, assume_unique=True))


def test_intersect1d_indices_match_numpy():
    _same(anp.intersect1d(A, B, return_indices=True), np.intersect1d(A, B, return_indices=True))
    u, v = np.array([4.0, 1.0, 3.0]), np.array([3.0, 5.0, 4.0])
    _same(anp.intersect1d(u, v, assume_unique=True, return_indices=True),
          np.intersect1d(u, v, assume_unique=True, return_indices=True))


def test_isin_matches_numpy():
    x = np.array([[1.0, 2.0], [np.nan, 7.0]])
    for test in (B, [], [7], np.array([[2.0, 1.0]])):
        _same(anp.isin(x, test), np.isin(x, test))
        _same(anp.isin(x, test, invert=True), np.isin(x, test, invert=True))
    _same(anp.isin(2, B), np.isin(2, B))
    _same(anp.isin(np.arange(4), [1, 3], kind="table"), np.isin(np.arange(4), [1, 3],
                                                               kind="table"))
    with pytest.raises(ValueError, match="kind"):
        anp.isin(x, B, kind="bogus")
    with pytest.raises(ValueError, match="'table'"):
        anp.isin(x, B, kind="table")


def test_unique_functions_match_numpy():
    x = np.array([[3.0, 1.0, np.nan], [1.0, np.nan, 2.0]])
    _same(anp.unique_values(x), np.unique_values(x))
    for name in ("unique_counts", "unique_inverse", "unique_all"):
        got, want = getattr(anp, name)(x), getattr(np, name)(x)
        assert got._fields == want._fields
        _same(tuple(got), tuple(want))


def test_set_functions_carry_no_derivative():
    def f(x):
        return anp.sum(anp.union1d(x, B[:2])) + anp.sum(anp.intersect1d(x, B)) + x[0]

    np.testing.assert_array_equal(ad.grad(f)(A[:4]), [1.0, 0.0, 0.0, 0.0])


def test_set_functions_under_vmap():
    xs = np.array([[1.0, 2.0, 3.0], [2.0, 5.0, 4.0]])
    got = ad.vmap(lambda x: anp.intersect1d(x, np.array([2.0, 3.0, 4.0])))(xs)
    np.testing.assert_array_equal(got, [[2.0, 3.0], [2.0, 4.0]])
    xs = np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0]])
    with pytest.raises(BatchingError, match="intersect1d"):
        ad.vmap(lambda x: anp.intersect1d(x, np.array([3.0, 4.0])))(xs)


def test_array_equal_and_array_equiv_match_numpy():
    x = np.array([1.0, np.nan, 2.0])
    for a, b in [(x, x), (x, x[:2]), (x[::2], x[::2]), (np.ones((2, 3)), np.ones(3))]:
        for equal_nan in (False, True):
            assert anp.array_equal(a, b, equal_nan) is np.array_equal(a, b, equal_nan)
        assert anp.array_equiv(a, b) is np.array_equiv(a, b)
    assert anp.array_equiv(np.ones((2, 3)), np.ones(2)) is False
    got = ad.vmap(anp.array_equal)(np.array([[1.0, 2.0], [1.0, 3.0]]), np.array([[1.0, 2.0],
                                                                                 [1.0, 2.0]]))
    np.testing.assert_array_equal(got, [True, False])


# ----------------------------------------------------------------------------- calculus

YS = RNG.standard_normal((3, 5))
XS = np.cumsum(RNG.uniform(0.5, 1.5, 5))


@pytest.mark.parametrize("args, kwargs", [((YS,), {}), ((YS, XS), {}), ((YS,), {"dx": 0.3}),
                                          ((YS.T, XS), {"axis": 0}),
                                          ((YS, np.cumsum(np.ones((3, 5)), 1)), {}),
                                          ((np.arange(5),), {}),
                                          ((YS.astype(np.float32),), {"dx": 0.5})])
def test_trapezoid_matches_numpy(args, kwargs):
    _same(anp.trapezoid(*args, **kwargs), np.trapezoid(*args, **kwargs), rtol=1e-6)


def test_trapezoid_derivatives_are_the_trapezoid_weights():
    y = np.array([1.0, -2.0, 0.5, 3.0])
    np.testing.assert_array_equal(_grad_both(lambda y: anp.trapezoid(y, dx=0.5), y),
                                  [0.25, 0.5, 0.5, 0.25])
    x = np.array([0.0, 1.0, 3.0, 3.5])
    np.testing.assert_array_equal(ad.grad(lambda y: anp.trapezoid(y, x))(y),
                                  [0.5, 1.5, 1.25, 0.25])
    # d/dx_i: (y_{i-1} - y_{i+1}) / 2 inside, -(y_0 + y_1) / 2 and (y_{n-2} + y_{n-1}) / 2 at
    # the ends
    np.testing.assert_array_equal(ad.grad(lambda x: anp.trapezoid(y, x))(x),
                                  [0.5, 0.25, -2.5, 1.75])


@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("spacing", [(), (0.5,), (2.0, XS), (np.arange(3.0) * 2, np.arange(5)),
                                     (np.array([0.0, 1.0, 3.0]), 0.5)],
                         ids=["none", "scalar", "scalar, coordinates", "even coordinates",
                              "coordinates, scalar"])
def test_gradient_matches_numpy(spacing, edge_order):
    _same(anp.gradient(YS, *spacing, edge_order=edge_order),
          np.gradient(YS, *spacing, edge_order=edge_order))
    _same(anp.gradient(YS, *spacing[1:], axis=1, edge_order=edge_order),
          np.gradient(YS, *spacing[1:], axis=1, edge_order=edge_order))


def test_gradient_dtypes_axes_and_short_arrays_match_numpy():
    _same(anp.gradient(np.arange(6) ** 2), np.gradient(np.arange(6) ** 2))
    y32 = YS.astype(np.float32)
    _same(anp.gradient(y32, XS, axis=-1), np.gradient(y32, XS, axis=-1))
    _same(anp.gradient(YS, axis=(1, 0)), np.gradient(YS, axis=(1, 0)))
    _same(anp.gradient(np.array([1.0, 3.0])), np.gradient(np.array([1.0, 3.0])))
    z = YS + 1j * YS[::-1]
    _same(anp.gradient(z, XS, axis=1, edge_order=2), np.gradient(z, XS, axis=1, edge_order=2))


def test_gradient_is_linear_in_f():
    # the Jacobian's columns are the gradients of the unit vectors, whatever the spacing
    jac = ad.jacobian(lambda f: anp.gradient(f, XS, edge_order=2))(np.zeros(5))
    np.testing.assert_allclose(jac, np.stack([np.gradient(e, XS, edge_order=2)
                                              for e in np.eye(5)], 1), rtol=1e-14)


def test_gradient_derivatives_in_the_coordinates():
    for k in (1, 2):
        check_grads(lambda f, x, k=k: anp.gradient(f, x, axis=1, edge_order=k), (YS, XS),
                    order=2)
        check_grads(lambda f, h, k=k: anp.gradient(f, h, axis=0, edge_order=k),
                    (YS, np.array(0.7)), order=2)


def test_gradient_errors():
    with pytest.raises(ValueError, match="too small"):
        anp.gradient(np.ones(2), edge_order=2)
    with pytest.raises(TypeError, match="invalid number of arguments"):
        anp.gradient(YS, 1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match="match the length"):
        anp.gradient(YS, XS[:3], axis=1)
    with pytest.raises(ValueError, match="greater than 2"):
        anp.gradient(YS, edge_order=3)


def test_gradient_matches_jax_and_torch():
    def f(y, x, m):
        return m.sum(m.gradient(y, x, axis=1) * YS)

    for a, b in zip(ad.grad(lambda y, x: f(y, x, anp), argnums=(0, 1))(YS, XS),
                    jax.grad(lambda y, x: f(y, x, jnp), argnums=(0, 1))(YS, XS)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    t = torch.tensor(YS, requires_grad=True)
    out = torch.gradient(t, spacing=(torch.tensor(XS),), dim=1, edge_order=2)[0]
    (out * torch.tensor(YS)).sum().backward()
    got = ad.grad(lambda y: anp.sum(anp.gradient(y, XS, axis=1, edge_order=2) * YS))(YS)
    np.testing.assert_allclose(anp.gradient(YS, XS, axis=1, edge_order=2), out.detach().numpy(),
                               rtol=1e-13)
    np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-13)


XP = np.array([0.0, 1.0, 2.5, 4.0])
FP = np.array([1.0, -1.0, 2.0, 0.5])
QUERIES = np.array([-1.0, 0.0, 0.3, 1.0, 2.0, 2.5, 3.9, 4.0, 5.0, np.nan])


@pytest.mark.parametrize("kwargs", [{}, {"left": -9.0}, {"right": 9.5},
                                    {"left": -9.0, "right": np.float32(2)}, {"period": 3.5},
                                    {"period": -2.0}])
def test_interp_matches_numpy(kwargs):
    _same(anp.interp(QUERIES, XP, FP, **kwargs), np.interp(QUERIES, XP, FP, **kwargs))
    _same(anp.interp(QUERIES * 3 - 2, XP, FP + 1j * FP[::-1], **kwargs),
          np.interp(QUERIES * 3 - 2, XP, FP + 1j * FP[::-1], **kwargs))


def test_interp_special_cases_match_numpy():
    _same(anp.interp(1.7, XP, FP), np.interp(1.7, XP, FP))
    _same(anp.interp(QUERIES, XP[:1], FP[:1]), np.interp(QUERIES, XP[:1], FP[:1]))
    x32 = QUERIES.astype(np.float32)
    _same(anp.interp(x32, XP.astype(np.float32), FP.astype(np.float32)),
          np.interp(x32, XP.astype(np.float32), FP.astype(np.float32)))
    _same(anp.interp([0.5, 3], [0, 1, 2, 3], [1, 2, 3, 5]), np.interp([0.5, 3], [0, 1, 2, 3],
                                                                      [1, 2, 3, 5]))


def test_interp_derivative_at_knots_is_the_smallest_subgradient():
    # slopes: -2 on [0, 1], 2 on [1, 2.5], -1 on [2.5, 4]; the outside is constant
    def slope(x):
        return ad.grad(lambda x: anp.interp(x, XP, FP))(x)

    assert slope(0.5) == -2.0 and slope(2.0) == 2.0 and slope(3.0) == -1.0
    assert slope(1.0) == 0.0  # -2 and 2: opposite signs
    assert slope(2.5) == 0.0  # 2 and -1
    assert slope(0.0) == 0.0 and slope(4.0) == 0.0  # next to the constant outside
    assert ad.grad(lambda x: anp.interp(x, [0.0, 1.0, 2.0], [0.0, 1.0, 4.0]))(1.0) == 1.0
    assert slope(-0.5) == 0.0 and slope(4.5) == 0.0
    np.testing.assert_array_equal(ad.grad(lambda fp: anp.interp(1.0, XP, fp))(FP),
                                  [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(ad.grad(lambda fp: anp.interp(0.25, XP, fp))(FP),
                               [0.75, 0.25, 0.0, 0.0], rtol=1e-15)


def test_interp_derivatives_in_x_fp_xp_left_right():
    x = np.array([-0.5, 0.3, 1.7, 3.0, 4.5])
    check_grads(lambda x, xp, fp, lo, hi: anp.interp(x, xp, fp, lo, hi),
                (x, XP, FP, np.array(-3.0), np.array(7.0)), order=2)
    check_grads(lambda x, fp: anp.interp(x, XP, fp, period=3.5), (x * 2 + 0.2, FP + 1j * FP),
                order=2)  # (away from the knots, 0, 0.5, 1 and 2.5 modulo 3.5)


def test_interp_matches_jax():
    x = np.array([-0.5, 0.3, 1.7, 3.0, 4.5])

    def f(x, xp, fp, m):
        return m.sum(m.interp(x, xp, fp) * np.arange(1.0, 6.0))

    np.testing.assert_allclose(f(x, XP, FP, anp), f(x, XP, FP, jnp), rtol=1e-14)
    for a, b in zip(ad.grad(lambda *v: f(*v, anp), argnums=(0, 1, 2))(x, XP, FP),
                    jax.grad(lambda *v: f(*v, jnp), argnums=(0, 1, 2))(x, XP, FP)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_interp_under_vmap_picks_each_examples_interval():
    xs = np.array([[0.5, 3.0], [2.0, -1.0], [4.5, 1.0]])
    got = ad.vmap(lambda x: anp.interp(x, XP, FP))(xs)
    np.testing.assert_array_equal(got, np.interp(xs, XP, FP))
    g = ad.vmap(ad.grad(lambda x: anp.sum(anp.interp(x, XP, FP))))(xs)
    np.testing.assert_array_equal(g, [[-2.0, -1.0], [2.0, 0.0], [0.0, 0.0]])


def test_interp_errors():
    with pytest.raises(ValueError, match="1-D"):
        anp.interp(0.5, np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="same length"):
        anp.interp(0.5, XP, FP[:3])
    with pytest.raises(ValueError, match="period"):
        anp.interp(0.5, XP, FP, period=0)
    with pytest.raises(ValueError, match="empty"):
        anp.interp(0.5, [], [])


PHASE = np.cumsum(RNG.uniform(-3.0, 3.0, (2, 8)), 1)


@pytest.mark.parametrize("p, kwargs", [
    (PHASE, {}), (PHASE.T, {"axis": 0, "discont": 4.0}), (PHASE, {"period": 5.0}),
    (PHASE.astype(np.float32), {"period": 5}), (np.array([0, 1, 9, 2, 10, 3]), {"period": 8}),
    (np.array([0, 1, 9, 2, 10, 3]), {"period": 7}),
    (np.array([0.0, np.pi, 0.0, -np.pi, 0.0]), {}),
], ids=["default", "axis 0, discont", "period", "float32", "integers, even period",
        "integers, odd period", "exactly half a period"])
def test_unwrap_matches_numpy(p, kwargs):
    _same(anp.unwrap(p, **kwargs), np.unwrap(p, **kwargs), rtol=1e-6)


def test_unwrap_derivative_is_the_identity():
    jac = ad.jacobian(anp.unwrap)(PHASE[0])
    np.testing.assert_array_equal(jac, np.eye(8))
    np.testing.assert_allclose(anp.unwrap(PHASE[0]), jnp.unwrap(PHASE[0]), rtol=1e-14)


# ----------------------------------------------------------------------------- editing

Z = np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize("obj", [1, -1, [0, 2], [], slice(1, 3), slice(None, None, -2),
                                 np.array([True, False, True, False]), np.array([3])],
                         ids=repr)
def test_delete_matches_numpy(obj):
    _same(anp.delete(Z, obj, 1), np.delete(Z, obj, 1))
    if not isinstance(obj, np.ndarray) or obj.dtype != bool:
        _same(anp.delete(Z, obj), np.delete(Z, obj))


@pytest.mark.parametrize("obj, values", [
    (1, 7.0), (1, [7, 8, 9]), ([1], [[7], [8], [9]]), ([1, 1], [7, 8]), ([0, -1, 2], 5.0),
    (slice(0, 2), [5, 6]), (4, 1.0), (np.array([True, False, True, False]), 3.0),
    (np.array(2), [1, 2, 3]), (-4, [1.5])], ids=repr)
def test_insert_matches_numpy(obj, values):
    _same(anp.insert(Z, obj, values, axis=1), np.insert(Z, obj, values, axis=1))


def test_insert_flattened_and_along_rows_matches_numpy():
    _same(anp.insert(Z, [1, 3, 3], [-1, -2, -3]), np.insert(Z, [1, 3, 3], [-1, -2, -3]))
    _same(anp.insert(Z, 2, [1, 2, 3, 4], axis=0), np.insert(Z, 2, [1, 2, 3, 4], axis=0))
    _same(anp.insert(Z.astype(int), 1, 2.7, axis=0), np.insert(Z.astype(int), 1, 2.7, axis=0))


def test_delete_and_insert_errors_are_numpys():
    with pytest.raises(IndexError, match="out of bounds for axis 1 with size 4"):
        anp.delete(Z, 4, axis=1)
    with pytest.raises(IndexError, match="out of bounds"):
        anp.insert(Z, 5, 1.0, axis=1)
    with pytest.raises(IndexError, match="out of bounds"):
        anp.insert(Z, [0, 13], 1.0)
    with pytest.raises(np.exceptions.AxisError):
        anp.delete(Z, 0, axis=2)


def test_insert_and_delete_derivatives():
    check_grads(lambda x, v: anp.insert(x, [2, 0], v, axis=0), (Z, np.array([[1.0], [2.0]])),
                order=2)
    g = ad.grad(lambda v: anp.sum(anp.insert(Z, 1, v, axis=1) * 2.0))(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(g, [2.0, 2.0, 2.0])
    g = ad.grad(lambda x: anp.sum(anp.delete(x, [0, 2])))(np.arange(4.0))
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0, 1.0])


def test_resize_matches_numpy():
    for shape in [(5, 3), 5, (2, 0), ()]:
        _same(anp.resize(Z, shape), np.resize(Z, shape))
    _same(anp.resize(np.array([]), (2, 2)), np.resize(np.array([]), (2, 2)))
    with pytest.raises(ValueError, match="non-negative"):
        anp.resize(Z, (-1, 2))
    g = ad.grad(lambda x: anp.sum(anp.resize(x, 7)))(np.arange(3.0))
    np.testing.assert_array_equal(g, [3.0, 2.0, 2.0])


TRIMMED = np.array([0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0])


@pytest.mark.parametrize("trim", ["fb", "f", "b", "BF"])
def test_trim_zeros_matches_numpy(trim):
    _same(anp.trim_zeros(TRIMMED, trim), np.trim_zeros(TRIMMED, trim))
    box = np.zeros((4, 5))
    box[1, 2], box[2, 3] = 1.0, 2.0
    for axis in (None, 0, -1, (0, 1)):
        _same(anp.trim_zeros(box, trim, axis), np.trim_zeros(box, trim, axis))
    _same(anp.trim_zeros(np.zeros(3), trim), np.trim_zeros(np.zeros(3), trim))


def test_trim_zeros_under_vmap_needs_equal_lengths():
    xs = np.array([[0.0, 1.0, 2.0, 0.0], [0.0, 3.0, 0.0, 4.0]])
    got = ad.vmap(lambda x: anp.trim_zeros(x, "f"))(xs)
    np.testing.assert_array_equal(got, [[1.0, 2.0, 0.0], [3.0, 0.0, 4.0]])
    g = ad.vmap(ad.grad(lambda x: anp.sum(anp.trim_zeros(x, "f") * np.arange(1.0, 4.0))))(xs)
    np.testing.assert_array_equal(g, [[0.0, 1.0, 2.0, 3.0]] * 2)
    with pytest.raises(BatchingError, match="trim_zeros"):
        ad.vmap(anp.trim_zeros)(xs)
    with pytest.raises(ValueError, match="unexpected character"):
        anp.trim_zeros(TRIMMED, "x")


def test_choose_matches_numpy_and_routes_the_gradient():
    choices = [np.arange(4.0), np.arange(4.0) * 10, 5.0]
    idx = np.array([0, 1, 2, 1])
    _same(anp.choose(idx, choices), np.choose(idx, choices))
    for mode in ("wrap", "clip"):
        _same(anp.choose(idx + 2, choices, mode=mode), np.choose(idx + 2, choices, mode=mode))
    stacked = np.arange(8.0).reshape(2, 4)
    _same(anp.choose(np.array([[0], [1]]), stacked), np.choose(np.array([[0], [1]]), stacked))
    _same(idx.choose(choices), np.asarray(ad.tensor(idx).choose(choices)))
    g = ad.grad(lambda a: anp.sum(anp.choose(idx, [a, a * 3.0, 1.0])))(np.ones(4))
    np.testing.assert_array_equal(g, [1.0, 3.0, 0.0, 3.0])
    with pytest.raises(ValueError, match="invalid entry"):
        anp.choose(idx + 1, choices)
    with pytest.raises(ValueError, match="clipmode"):
        anp.choose(idx, choices, mode="bogus")


def test_block_matches_numpy():
    a, b = np.ones((2, 2)), np.zeros((2, 3))
    for arrays in ([[a, b], [np.eye(3)[:1, :2], np.ones((1, 3))]], [1, 2, np.array([3, 4])],
                   [[[a]], [[a]]], 3.0, [[1.0, 2.0], [3.0, 4.0]], [a, np.ones((2, 1))]):
        _same(anp.block(arrays), np.block(arrays))
    with pytest.raises(TypeError, match="tuple"):
        anp.block([(a, b)])
    with pytest.raises(ValueError, match="cannot be empty"):
        anp.block([[a], []])
    with pytest.raises(ValueError, match="depths are mismatched"):
        anp.block([[a], a])


def test_row_stack_warns_and_is_vstack():
    with pytest.warns(DeprecationWarning, match="row_stack"):
        got = anp.row_stack([np.arange(3.0), np.ones((2, 3))])
    _same(got, np.vstack([np.arange(3.0), np.ones((2, 3))]))


def test_asarray_chkfinite_and_real_if_close():
    _same(anp.asarray_chkfinite([1, 2.0]), np.asarray_chkfinite([1, 2.0]))
    with pytest.raises(ValueError, match="infs or NaNs"):
        anp.asarray_chkfinite(np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="infs or NaNs"):
        ad.grad(lambda x: anp.sum(anp.asarray_chkfinite(x)))(np.array([1.0, np.nan]))
    for a in (np.array([1 + 1e-16j, 2.0]), np.array([1 + 1e-3j, 2.0]), np.arange(3.0)):
        _same(anp.real_if_close(a), np.real_if_close(a))
    _same(anp.real_if_close(np.array([1 + 1e-3j]), tol=1e-2), np.real_if_close(
        np.array([1 + 1e-3j]), tol=1e-2))
    with pytest.raises(BatchingError, match="real_if_close"):
        ad.vmap(anp.real_if_close)(np.array([[1 + 1e-3j], [1 + 0j]]))


# ----------------------------------------------------------------------------- polynomials

P = np.array([1.0, -2.0, 0.5, 3.0])


def test_polynomial_arithmetic_matches_numpy():
    x = RNG.standard_normal((2, 3))
    _same(anp.polyval(P, x), np.polyval(P, x))
    _same(anp.polyval(P.astype(np.float32), x.astype(np.float32)),
          np.polyval(P.astype(np.float32), x.astype(np.float32)))
    _same(anp.polyval([1, 2], 3), np.polyval([1, 2], 3))
    for a, b in [(P, [1, 2]), ([1, 2], P), (3.0, P), (P, P + 1j)]:
        _same(anp.polyadd(a, b), np.polyadd(a, b))
        _same(anp.polysub(a, b), np.polysub(a, b))
        _same(anp.polymul(a, b), np.polymul(a, b))
    _same(anp.polymul(P, [0, 1, 2]), np.polymul(P, [0, 1, 2]))
    _same(anp.polymul([0, 0], [1, 2.0]), np.polymul([0, 0], [1, 2.0]))


@pytest.mark.parametrize("u, v", [(P, [1, 2]), (P, [2.0]), ([1, 2.0], P),
                                  (np.polymul([1, 2.0], [1, -3, 1]), [1, 2.0]),
                                  ([1, 2, 3], [1, 1]), (P + 1j, [1j, 2])])
def test_polydiv_matches_numpy(u, v):
    _same(anp.polydiv(u, v), np.polydiv(u, v))


@pytest.mark.parametrize("m", [0, 1, 2, 5])
def test_polyder_and_polyint_match_numpy(m):
    _same(anp.polyder(P, m), np.polyder(P, m))
    _same(anp.polyint(P, m), np.polyint(P, m))
    _same(anp.polyder([1, 2, 3], m), np.polyder([1, 2, 3], m))
    _same(anp.polyint(P, m, k=np.arange(1.0, m + 1)), np.polyint(P, m, k=np.arange(1.0, m + 1)))
    _same(anp.polyint(P, m, k=4), np.polyint(P, m, k=4))


def test_polynomial_errors():
    with pytest.raises(ValueError, match="positive"):
        anp.polyder(P, -1)
    with pytest.raises(ValueError, match="positive"):
        anp.polyint(P, -1)
    with pytest.raises(ValueError, match="k must be"):
        anp.polyint(P, 3, [1.0, 2.0])
    with pytest.raises(ValueError, match="1d only"):
        anp.polymul(np.ones((2, 2)), P)
    with pytest.raises(ValueError, match="deg >= 0"):
        anp.polyfit(P, P, -1)
    with pytest.raises(TypeError, match="same length"):
        anp.polyfit(P, P[:3], 1)
    with pytest.raises(ValueError, match="one-dimensional"):
        anp.vander(np.ones((2, 2)))
    with pytest.raises(ValueError, match="rank-1"):
        anp.roots(np.ones((2, 2)))
    with pytest.raises(ValueError, match="1d or non-empty square"):
        anp.poly(np.ones((2, 3)))


@pytest.mark.parametrize("n", [None, 0, 1, 4])
def test_vander_matches_numpy(n):
    for x in (XS, np.arange(3), XS.astype(np.float32), XS + 1j):
        _same(anp.vander(x, n), np.vander(x, n))
        _same(anp.vander(x, n, increasing=True), np.vander(x, n, increasing=True))


def test_vander_matches_jax():
    np.testing.assert_allclose(ad.jacobian(lambda x: anp.vander(x, 4, True))(XS),
                               jax.jacobian(lambda x: jnp.vander(x, 4, True))(XS), rtol=1e-14)


XF = np.linspace(0.0, 2.0, 9)
YF = np.cos(XF) + 0.1 * RNG.standard_normal(9)


def test_polyfit_matches_numpy():
    _same(anp.polyfit(XF, YF, 3), np.polyfit(XF, YF, 3), rtol=1e-12)
    y2 = np.stack([YF, YF ** 2], 1)
    _same(anp.polyfit(XF, y2, 2, w=XF + 1), np.polyfit(XF, y2, 2, w=XF + 1), rtol=1e-12)
    _same(anp.polyfit(XF, YF, 2, full=True), np.polyfit(XF, YF, 2, full=True), rtol=1e-12)
    for cov in (True, "unscaled"):
        _same(anp.polyfit(XF, YF, 2, cov=cov), np.polyfit(XF, YF, 2, cov=cov), rtol=1e-11)
        _same(anp.polyfit(XF, y2, 1, cov=cov), np.polyfit(XF, y2, 1, cov=cov), rtol=1e-11)


def test_polyfit_warns_when_poorly_conditioned():
    with pytest.warns(np.exceptions.RankWarning):
        anp.polyfit(np.ones(4), np.arange(4.0), 2)


def test_polyfit_and_polyval_match_jax():
    def f(x, y, w, m):
        c = m.polyfit(x, y, 3, w=w)
        return m.sum(m.polyval(c, x * 1.1) ** 2)

    args = (XF + 0.5, YF, XF + 1.0)  # (JAX's derivative of vander is NaN at x = 0)
    np.testing.assert_allclose(f(*args, anp), f(*args, jnp), rtol=1e-12)
    for a, b in zip(ad.grad(lambda *v: f(*v, anp), argnums=(0, 1, 2))(*args),
                    jax.grad(lambda *v: f(*v, jnp), argnums=(0, 1, 2))(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_polynomial_derivatives_to_second_order():
    check_grads(lambda u, v: anp.polydiv(u, v)[0], (P, np.array([1.5, -0.5])), order=2)
    check_grads(lambda p, k: anp.polyint(anp.polyder(p, 1), 2, k), (P, np.array([1.0, 2.0])),
                order=2)
    check_grads(lambda x, y: anp.polyfit(x, y, 2, cov=True)[1], (XF, YF), order=2, rtol=1e-4)


def test_roots_match_numpy():
    for p in (P, [0, 0, 1, 2, 0, 0], [1, 2j, 3], [1, -6, 11, -6]):
        want = np.roots(p).astype(complex)
        np.testing.assert_allclose(np.sort_complex(anp.roots(p)), np.sort_complex(want),
                                   rtol=1e-13, atol=1e-14)
        assert anp.roots(p).dtype == np.complex128
    _same(anp.roots([0, 3, 0]), np.roots([0, 3, 0]))  # one root at zero, no eigenvalues
    _same(anp.roots([0, 0]), np.roots([0, 0]))


def test_roots_derivative_is_minus_power_over_the_derivative_at_the_root():
    # for p(x) = sum_j p_j x^(n-j): d r / d p_j = -r^(n-j) / p'(r)
    p = np.poly([3.0, 2.0, 1.0])  # x^3 - 6x^2 + 11x - 6
    jac = ad.jacobian(lambda p: anp.real(anp.roots(p)))(p)
    r = np.real(anp.roots(p))
    dp = np.polyval(np.polyder(p), r)
    want = -(r[:, None] ** np.arange(3, -1, -1)[None, :]) / dp[:, None]
    np.testing.assert_allclose(jac, want, rtol=1e-9, atol=1e-12)


def test_roots_under_vmap_strips_the_same_zeros_of_every_example():
    ps = np.array([[0.0, 1.0, -3.0, 2.0, 0.0], [0.0, 1.0, -5.0, 6.0, 0.0]])
    got = ad.vmap(anp.roots)(ps)
    np.testing.assert_allclose(np.sort_complex(got), [[0, 1, 2], [0, 2, 3]], atol=1e-14)
    with pytest.raises(BatchingError, match="zero coefficients"):
        ad.vmap(anp.roots)(np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 2.0]]))


def test_poly_matches_numpy():
    for z in ([1, 2, 3.0], [1j, -1j, 2], [1j, 2], [1, 2], np.float32([0.5, 1.5]),
              np.array([[1, 2.0], [3, 4]]), []):
        _same(anp.poly(z), np.poly(z))
    check_grads(anp.poly, (np.array([0.5, -1.0, 2.0]),), order=2)


def test_poly_and_roots_match_jax():
    z = np.array([0.5, -1.0, 2.0, 3.0])
    np.testing.assert_allclose(ad.jacobian(anp.poly)(z), jax.jacobian(jnp.poly)(z), rtol=1e-13)

    def f(p, m):
        return m.sum(m.real(m.roots(p) ** 2))  # symmetric in the roots: order-free

    np.testing.assert_allclose(ad.grad(lambda p: f(p, anp))(P), jax.grad(lambda p: f(p, jnp))(P),
                               rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("m", [1, 2, 4, 5])
def test_convolve_and_correlate_match_numpy(n, m):
    a = RNG.standard_normal(n) + 1j * RNG.standard_normal(n)
    v = RNG.standard_normal(m)
    for mode in ("full", "same", "valid", 0, 1, 2):
        _same(anp.convolve(a, v, mode), np.convolve(a, v, mode))
        _same(anp.correlate(a, v + 1j, mode), np.correlate(a, v + 1j, mode))
        _same(anp.correlate(v, a, mode), np.correlate(v, a, mode))
    _same(anp.convolve(np.arange(n), np.arange(m, dtype=np.int32)),
          np.convolve(np.arange(n), np.arange(m, dtype=np.int32)))


def test_convolve_errors():
    with pytest.raises(ValueError, match="mode must be one of"):
        anp.convolve([1.0], [1.0], "bogus")
    with pytest.raises(ValueError, match="0, 1, or 2"):
        anp.convolve([1.0], [1.0], 5)
    with pytest.raises(ValueError, match="cannot be empty"):
        anp.convolve([], [1.0])


def test_convolve_and_correlate_match_jax():
    a, v = RNG.standard_normal(6), RNG.standard_normal(3)
    for mode in ("full", "same", "valid"):
        for fn in ("convolve", "correlate"):
            def f(a, v, m, fn=fn, mode=mode):
                return m.sum(getattr(m, fn)(a, v, mode) ** 3)

            np.testing.assert_allclose(f(a, v, anp), f(a, v, jnp), rtol=1e-13)
            for x, y in zip(ad.grad(lambda *xs: f(*xs, anp), argnums=(0, 1))(a, v),
                            jax.grad(lambda *xs: f(*xs, jnp), argnums=(0, 1))(a, v)):
                np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)


def test_convolution_derivatives_to_second_order():
    a, v = RNG.standard_normal(5), RNG.standard_normal(3)
    check_grads(lambda a, v: anp.convolve(a, v, "same") ** 2, (a, v), order=2)
    check_grads(lambda a, v: anp.correlate(a, v, "full"), (a + 1j * a[::-1], v * 1j), order=2)


# ----------------------------------------------------------------------------- NumPy 2 gufuncs

X3 = RNG.standard_normal((2, 3, 4))


def test_vecdot_matvec_vecmat_match_numpy():
    v = RNG.standard_normal(4)
    z = X3 + 1j * X3[::-1]
    _same(anp.vecdot(X3, v), np.vecdot(X3, v))
    _same(anp.vecdot(z, z[0]), np.vecdot(z, z[0]))
    _same(anp.vecdot(X3, X3, axis=1), np.vecdot(X3, X3, axis=1))
    _same(anp.vecdot(X3, X3[0, :, :1], axis=-2, keepdims=True),
          np.vecdot(X3, X3[0, :, :1], axis=-2, keepdims=True))
    _same(anp.vecdot(X3, X3, axes=[0, 0]), np.vecdot(X3, X3, axes=[0, 0]))
    _same(anp.vecdot(X3, X3, axes=[(1,), (1,), (0,)], keepdims=True),
          np.vecdot(X3, X3, axes=[(1,), (1,), (0,)], keepdims=True))
    _same(anp.matvec(z, v), np.matvec(z, v))
    _same(anp.matvec(X3, X3[0], axes=[(0, 2), (1,), (-1,)]),
          np.matvec(X3, X3[0], axes=[(0, 2), (1,), (-1,)]))
    _same(anp.vecmat(z[:, :, 0], z), np.vecmat(z[:, :, 0], z))
    _same(anp.vecdot(X3, v, dtype=np.float32), np.vecdot(X3, v, dtype=np.float32), rtol=1e-6)
    _same(anp.matrix_transpose(z), np.matrix_transpose(z))


def test_gufunc_errors():
    with pytest.raises(TypeError, match="both 'axis' and 'axes'"):
        anp.vecdot(X3, X3, axis=0, axes=[0, 0])
    with pytest.raises(ValueError, match="core dimensions"):
        anp.vecdot(X3, np.ones(3))
    with pytest.raises(ValueError, match="does not have enough dimensions"):
        anp.matvec(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="axes"):
        anp.matvec(X3, np.ones(4), axes=[(0,), (0,), (0,)])
    with pytest.raises(ValueError, match="at least 2-dimensional"):
        anp.matrix_transpose(np.ones(3))


def test_vecdot_conjugates_the_first_argument_as_jax():
    z = X3 + 1j * X3[::-1]
    w = X3[::-1] - 0.5j * X3
    np.testing.assert_allclose(anp.vecdot(z, w), jnp.vecdot(z, w), rtol=1e-14)
    np.testing.assert_allclose(anp.vecmat(z[..., 0], w), jnp.vecmat(z[..., 0], w), rtol=1e-14)
    np.testing.assert_allclose(anp.matvec(z, w[0, 0]), jnp.matvec(z, w[0, 0]), rtol=1e-14)
    check_grads(lambda z, w: anp.vecmat(z[..., 0], w), (z, w), order=2)


# ----------------------------------------------------------------------------- NumPy dispatch

def test_numpy_functions_dispatch_to_autodx_on_tensors():
    t = ad.tensor(WITH_NANS, requires_grad=True)
    (np.nanmedian(t) + np.trapezoid(np.nan_to_num(t)).sum()
     + np.sum(np.convolve(np.nan_to_num(t)[0], XS)) + np.vecdot(np.nan_to_num(t), t[0] * 0 + 1)
     .sum()).backward()
    want = ad.grad(lambda x: anp.nanmedian(x) + anp.sum(anp.trapezoid(anp.nan_to_num(x)))
                   + anp.sum(anp.convolve(anp.nan_to_num(x)[0], XS))
                   + anp.sum(anp.vecdot(anp.nan_to_num(x), x[0] * 0 + 1)))(WITH_NANS)
    np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-14)
    g = ad.grad(lambda x: np.sum(np.interp(x, XP, FP) * np.polyval(P, x)))(np.array([0.5, 2.0]))
    want = ad.grad(lambda x: anp.sum(anp.interp(x, XP, FP) * anp.polyval(P, x)))(
        np.array([0.5, 2.0]))
    np.testing.assert_allclose(g, want, rtol=1e-14)
