"""Reductions, cumulative ops, sorting and selection at the points the op table avoids (zeros
of prod and cumprod, ties of max/min/sort, a constant for std), their errors, NumPy's ufunc
methods, the torch-style methods, and references against PyTorch and JAX."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import autodx as ad

jax.config.update("jax_enable_x64", True)

anp = ad.numpy


def _val(t):
    return t.detach().numpy()


def _grad_both(f, x):
    """The gradient of a scalar function by reverse mode, by forward mode (jacfwd), and by the
    torch face; all three must agree."""
    rev = ad.grad(f)(x)
    fwd = ad.jacfwd(f)(x)
    t = ad.tensor(x, requires_grad=True)
    f(t).backward()
    np.testing.assert_allclose(fwd, rev, rtol=1e-14, atol=0)
    np.testing.assert_allclose(t.grad.numpy(), rev, rtol=1e-14, atol=0)
    return rev


# ----------------------------------------------------------------------------- prod at zeros

def test_prod_with_one_zero_gradient_is_product_of_the_others():
    x = np.array([2.0, 0.0, 3.0, -4.0])
    np.testing.assert_array_equal(_grad_both(anp.prod, x), [0.0, -24.0, 0.0, 0.0])


def test_prod_with_two_zeros_gradient_is_zero():
    x = np.array([2.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(_grad_both(anp.prod, x), np.zeros(4))


@pytest.mark.parametrize("hessian", [ad.hessian, lambda f: ad.jacfwd(ad.jacrev(f)),
                                     lambda f: ad.jacrev(ad.jacfwd(f))],
                         ids=["hessian", "fwd-over-rev", "rev-over-fwd"])
def test_prod_second_order_at_zeros(hessian):
    # d2 prod / dx_i dx_j = the product of all but x_i and x_j (0 on the diagonal)
    def exact(x):
        n = len(x)
        return np.array([[0.0 if i == j else np.prod(np.delete(x, [i, j])) for j in range(n)]
                         for i in range(n)])

    for x in (np.array([2.0, 0.0, 3.0, -4.0]), np.array([2.0, 0.0, 3.0, 0.0]),
              np.array([0.0, 0.0, 0.0, 5.0])):
        np.testing.assert_array_equal(hessian(anp.prod)(x), exact(x))


def test_prod_along_an_axis_with_zeros_matches_torch():
    x = np.array([[1.0, 0.0, 3.0], [0.0, 0.0, 2.0], [1.5, 2.0, -1.0]])
    g = ad.grad(lambda x: anp.sum(anp.prod(x, axis=1) * np.array([1.0, 2.0, 3.0])))(x)
    t = torch.tensor(x, requires_grad=True)
    (torch.prod(t, dim=1) * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(g, t.grad.numpy())


def test_second_order_torch_tensor_face_at_a_zero():
    x = ad.tensor([2.0, 0.0, 3.0], requires_grad=True)
    (g,) = ad.autograd.grad(anp.prod(x), x, create_graph=True)
    (h0,) = ad.autograd.grad(g[1], x)  # d/dx (x0 * x2) at x1's slot
    np.testing.assert_array_equal(h0.numpy(), [3.0, 0.0, 2.0])


# ----------------------------------------------------------------------------- max/min ties

@pytest.mark.parametrize("f, x, want", [
    (anp.max, [1.0, 3.0, 3.0, 2.0], [0.0, 0.5, 0.5, 0.0]),
    (anp.amin, [1.0, 3.0, 1.0, 1.0], [1 / 3, 0.0, 1 / 3, 1 / 3]),
    (lambda x: anp.ptp(x), [1.0, 3.0, 3.0, 1.0], [-0.5, 0.5, 0.5, -0.5]),
    (lambda x: np.maximum.reduce(x), [2.0, 2.0], [0.5, 0.5]),
    (lambda x: x.max(), [5.0, 5.0, 5.0, 5.0], [0.25] * 4),
])
def test_max_min_ties_split_the_gradient_evenly(f, x, want):
    np.testing.assert_allclose(_grad_both(f, np.array(x)), want, rtol=1e-15)


def test_max_ties_along_an_axis_match_torch_amax_and_jax():
    x = np.array([[1.0, 4.0, 4.0], [2.0, 2.0, 2.0], [0.0, -1.0, 0.0]])
    w = np.array([1.0, 2.0, 3.0])
    g = ad.grad(lambda x: anp.sum(anp.max(x, axis=1) * w))(x)
    t = torch.tensor(x, requires_grad=True)
    (torch.amax(t, dim=1) * torch.tensor(w)).sum().backward()
    gj = jax.grad(lambda x: jnp.sum(jnp.max(x, axis=1) * w))(x)
    np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(g, gj, rtol=1e-15)


def test_max_with_nan_sends_the_gradient_to_the_nan():
    x = np.array([1.0, np.nan, 3.0])
    assert np.isnan(anp.max(x))
    g = ad.grad(anp.max)(x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])


def test_nanmax_ignores_nans_and_an_all_nan_slice_is_nan():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(anp.nanmax(x, axis=1), [3.0, np.nan])
    g = ad.grad(lambda x: anp.nanmax(x, axis=1)[0])(x)
    np.testing.assert_array_equal(g, [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])


# ----------------------------------------------------------------------------- std at a constant

def test_std_of_a_constant_has_gradient_zero_as_torch():
    x = np.array([2.0, 2.0, 2.0])
    assert anp.std(x) == 0.0
    np.testing.assert_array_equal(_grad_both(anp.std, x), np.zeros(3))
    np.testing.assert_array_equal(ad.hessian(anp.std)(x), np.zeros((3, 3)))
    np.testing.assert_array_equal(ad.grad(lambda x: anp.std(x, ddof=1))(x), np.zeros(3))
    t = torch.tensor(x, requires_grad=True)
    torch.std(t, correction=0).backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.zeros(3))
    assert np.isnan(jax.grad(jnp.std)(x)).all()  # JAX differs: the NOTE in std says why not


def test_std_gradient_away_from_a_constant():
    x = np.array([1.0, 2.0, 4.0])
    want = (x - x.mean()) / (len(x) * np.std(x))
    np.testing.assert_allclose(_grad_both(anp.std, x), want, rtol=1e-14)


def test_var_and_std_of_complex_values_match_numpy_and_jax():
    z = np.array([1.0 + 2.0j, -0.5 + 0.3j, 2.0 - 1.0j, 0.25j])
    for f, ref, ref_jax in [(anp.var, np.var, jnp.var), (anp.std, np.std, jnp.std)]:
        out = f(z)
        assert np.asarray(out).dtype == np.float64
        np.testing.assert_allclose(out, ref(z), rtol=1e-15)
        np.testing.assert_allclose(ad.grad(f)(z), jax.grad(ref_jax)(z), rtol=1e-14)


# ----------------------------------------------------------------------------- order statistics

def test_median_gradient_goes_to_the_middle_elements():
    np.testing.assert_array_equal(_grad_both(anp.median, np.array([3.0, -1.0, 7.0])),
                                  [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(_grad_both(anp.median, np.array([3.0, -1.0, 7.0, 0.0])),
                                  [0.5, 0.0, 0.0, 0.5])


def test_median_and_quantile_of_a_slice_with_nan_are_nan_with_gradient_zero():
    x = np.array([[1.0, np.nan, 3.0], [4.0, 2.0, 6.0]])
    np.testing.assert_array_equal(anp.median(x, 1), [np.nan, 4.0])
    np.testing.assert_array_equal(anp.quantile(x, 0.5, 1), np.quantile(x, 0.5, 1))
    g = ad.grad(lambda x: anp.nansum(anp.median(x, 1)))(x)
    np.testing.assert_array_equal(g, [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])


def test_quantile_interpolates_between_neighbours():
    x = np.array([4.0, 1.0, 3.0, 2.0])  # sorted: 1, 2, 3, 4; q=0.4 sits at 1.2
    assert anp.quantile(x, 0.4) == np.quantile(x, 0.4)
    np.testing.assert_allclose(_grad_both(lambda x: anp.quantile(x, 0.4), x),
                               [0.0, 0.0, 0.2, 0.8], rtol=1e-14)
    np.testing.assert_allclose(_grad_both(lambda x: anp.percentile(x, 100), x), [1, 0, 0, 0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        anp.quantile(x, 1.5)
    with pytest.raises(NotImplementedError, match="method='linear'"):
        anp.quantile(x, 0.5, method="nearest")


def test_cumulative_sum_needs_an_axis_beyond_one_dimension():
    with pytest.raises(ValueError, match="axis must be given"):
        anp.cumulative_sum(np.ones((2, 2)))
    np.testing.assert_array_equal(anp.cumulative_prod(np.array([2.0, 3.0]), include_initial=True),
                                  [1.0, 2.0, 6.0])


# ----------------------------------------------------------------------------- sort ties

def test_sort_with_ties_sends_the_gradient_in_stable_order_as_torch():
    x = np.array([2.0, 1.0, 2.0, 0.0, 2.0])
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    g = _grad_both(lambda x: anp.sum(anp.sort(x) * w), x)
    np.testing.assert_array_equal(g, [3.0, 2.0, 4.0, 1.0, 5.0])
    t = torch.tensor(x, requires_grad=True)
    (torch.sort(t, stable=True).values * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(g, t.grad.numpy())


def test_sort_and_partition_are_linear_in_x_for_fixed_order():
    x = np.array([[3.0, -1.0, 2.0], [0.5, 4.0, 1.0]])
    jac = ad.jacrev(lambda x: anp.sort(x, axis=0))(x)
    assert jac.shape == (2, 3, 2, 3)
    np.testing.assert_array_equal(jac.reshape(6, 6) @ x.ravel(), np.sort(x, axis=0).ravel())
    p = ad.jacfwd(lambda x: anp.partition(x, 1, axis=None))(x)
    np.testing.assert_array_equal(p.reshape(6, 6) @ x.ravel(), np.partition(x, 1, axis=None))


# ----------------------------------------------------------------------------- cumprod at zeros

def test_cumprod_with_a_zero_gradient():
    x = np.array([2.0, 0.0, 3.0, 4.0])
    # d/dx_i sum_k prod_{j<=k} x_j = sum over k >= i of the product of x_j, j <= k, j != i
    np.testing.assert_array_equal(_grad_both(lambda x: anp.sum(anp.cumprod(x)), x),
                                  [1.0, 2.0 + 6.0 + 24.0, 0.0, 0.0])


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, 4.0, -1.0], [0.0, 1.5, 0.0, 2.0, 3.0],
                               [1.0, 2.0, 3.0, 0.0, 0.0]])
def test_cumprod_with_zeros_first_and_second_order_match_torch(x):
    x = np.array(x)
    w = np.array([1.0, -2.0, 0.5, 3.0, 1.5])

    def f(x):
        return anp.sum(anp.cumprod(x) * w)

    t = torch.tensor(x, requires_grad=True)
    (g_t,) = torch.autograd.grad((torch.cumprod(t, 0) * torch.tensor(w)).sum(), t,
                                 create_graph=True)
    h_t = torch.stack([torch.autograd.grad(g_t[i], t, retain_graph=True)[0]
                       for i in range(len(x))])
    np.testing.assert_allclose(_grad_both(f, x), g_t.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(ad.hessian(f)(x), h_t.numpy(), rtol=1e-14)
    np.testing.assert_allclose(ad.hessian(f)(x), jax.hessian(
        lambda x: jnp.sum(jnp.cumprod(x) * w))(x), rtol=1e-14)


# ----------------------------------------------------------------------------- empty inputs

@pytest.mark.parametrize("f", [anp.mean, anp.var, anp.std, anp.nanmean, anp.average])
def test_mean_and_var_of_an_empty_selection_raise_naming_shape_and_axis(f):
    with pytest.raises(ValueError, match=r"empty selection.*\(0, 3\).*axis=0"):
        f(np.zeros((0, 3)), 0)
    with pytest.raises(ValueError, match=r"\(2, 0\).*axis=None"):
        ad.grad(lambda x: f(x))(np.zeros((2, 0)))


def test_mean_over_a_nonempty_axis_of_an_empty_array_is_empty():
    out = anp.mean(np.zeros((0, 3)), axis=1)
    assert out.shape == (0,)


@pytest.mark.parametrize("f", [anp.max, anp.min, anp.amax, anp.ptp, anp.nanmax])
def test_max_of_an_empty_array_raises_value_error(f):
    with pytest.raises(ValueError, match="empty"):
        f(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="empty"):
        f(np.zeros((3, 0)), axis=1)
    np.testing.assert_array_equal(anp.max(np.zeros((3, 0)), axis=0), np.max(np.zeros((3, 0)),
                                                                             axis=0))


def test_max_of_an_empty_array_with_initial_is_initial():
    np.testing.assert_array_equal(anp.max(np.zeros((2, 0)), axis=1, initial=-1.0), [-1.0, -1.0])


@pytest.mark.parametrize("f", [anp.argmax, anp.argmin])
def test_argmax_of_an_empty_array_raises_value_error(f):
    with pytest.raises(ValueError, match="empty sequence"):
        f(np.zeros(0))


def test_sum_prod_and_logical_reductions_of_empty_arrays_follow_numpy():
    e = np.zeros((0, 2))
    for f, ref in [(anp.sum, np.sum), (anp.prod, np.prod), (anp.all, np.all),
                   (anp.any, np.any), (anp.count_nonzero, np.count_nonzero)]:
        for axis in (None, 0, 1):
            np.testing.assert_array_equal(f(e, axis=axis), ref(e, axis=axis))
    np.testing.assert_array_equal(anp.cumprod(e, axis=0), np.cumprod(e, axis=0))
    np.testing.assert_array_equal(ad.grad(lambda x: anp.sum(anp.prod(x, axis=0)))(e), e)


# ----------------------------------------------------------------------------- bad arguments

def test_out_and_where_are_refused_clearly():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"out=.*never writes"):
        anp.sum(x, out=np.zeros(()))
    with pytest.raises(TypeError, match="out="):
        np.cumsum(x, out=np.zeros(2))
    with pytest.raises(NotImplementedError, match=r"where=.*ad\.numpy\.where"):
        np.max(x, where=np.array([True, False]), initial=0.0)


def test_bad_axes_raise_numpy_errors():
    x = np.ones((2, 3))
    with pytest.raises(np.exceptions.AxisError):
        anp.sum(x, axis=2)
    with pytest.raises(ValueError, match="repeated axis"):
        anp.prod(x, axis=(1, -1))
    with pytest.raises(np.exceptions.AxisError):
        anp.argmax(x, axis=-3)
    with pytest.raises(ValueError, match="kth"):
        anp.partition(x, 3)
    with pytest.raises(ValueError, match="ddof and correction"):
        anp.var(x, ddof=1, correction=1)
    with pytest.raises(TypeError, match="axis must be specified"):
        anp.average(x, weights=np.ones(3))
    with pytest.raises(ValueError, match=r"weights of shape \(2,\)"):
        anp.average(x, axis=1, weights=np.ones(2))
    with pytest.raises(ZeroDivisionError):
        anp.average(x, axis=1, weights=np.array([1.0, -1.0, 0.0]))
    with pytest.raises(ValueError, match="side"):
        anp.searchsorted(np.arange(3.0), 1.0, side="middle")
    with pytest.raises(ValueError, match="order must be non-negative"):
        anp.diff(x, -1)


# ----------------------------------------------------------------------------- dtypes

def test_reduction_dtypes_follow_numpy():
    for x in (np.arange(6, dtype=np.int8), np.arange(6, dtype=np.uint16),
              np.array([True, False, True]), np.arange(4, dtype=np.float32)):
        for f, ref in [(anp.sum, np.sum), (anp.prod, np.prod), (anp.cumsum, np.cumsum),
                       (anp.cumprod, np.cumprod), (anp.mean, np.mean), (anp.var, np.var),
                       (anp.max, np.max), (anp.argmax, np.argmax), (anp.diff, np.diff),
                       (anp.count_nonzero, np.count_nonzero), (anp.sort, np.sort)]:
            got, want = np.asarray(f(x)), np.asarray(ref(x))
            assert got.dtype == want.dtype, (f.__name__, x.dtype)
            np.testing.assert_array_equal(got, want)
    assert anp.sum(np.ones(3, np.float32), dtype=np.float64).dtype == np.float64


def test_integer_results_carry_no_derivative():
    x = ad.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], requires_grad=True)
    for out in (anp.argmax(x, 1), anp.argsort(x), anp.argpartition(x, 1), anp.argwhere(x),
                anp.searchsorted(x[0], x[1]), anp.count_nonzero(x), anp.all(x), anp.any(x),
                anp.unique(x), *anp.nonzero(x), *anp.unique(x, return_counts=True)):
        assert not out.requires_grad
    out, t = ad.jvp(lambda x: anp.astype(anp.argmax(x, 0), float) + anp.sum(x),
                    (_val(x),), (np.ones((2, 3)),))
    np.testing.assert_array_equal(t, 6.0)


def test_nanargmax_of_an_all_nan_slice_raises_as_numpy():
    x = np.array([[1.0, np.nan], [np.nan, np.nan]])
    with pytest.raises(ValueError, match="All-NaN slice"):
        anp.nanargmax(x, axis=1)
    y = np.array([[1.0, np.nan], [np.nan, 2.0]])
    np.testing.assert_array_equal(anp.nanargmin(y, axis=0, keepdims=True), [[0, 1]])


# ----------------------------------------------------------------------------- vmap

def test_vmap_of_argmax_argsort_and_searchsorted():
    x = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    np.testing.assert_array_equal(ad.vmap(anp.argmax)(x), np.argmax(x, axis=1))
    np.testing.assert_array_equal(ad.vmap(anp.argmax, in_axes=1)(x), np.argmax(x, axis=0))
    np.testing.assert_array_equal(ad.vmap(anp.argsort)(x), np.argsort(x, axis=1))
    a = np.sort(x, axis=1)
    v = np.array([[np.nan, 1.0], [4.0, -1.0]])
    for side in ("left", "right"):
        want = [np.searchsorted(ai, vi, side) for ai, vi in zip(a, v)]
        np.testing.assert_array_equal(ad.vmap(lambda a, v, s=side: anp.searchsorted(a, v, s))(
            a, v), want)


def test_vmap_of_nonzero_needs_equal_counts():
    x = np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]])
    with pytest.raises(ad.BatchingError, match="same number of nonzero"):
        ad.vmap(anp.nonzero)(x)
    with pytest.raises(ad.BatchingError, match="unique under vmap"):
        ad.vmap(anp.unique)(x)
    y = np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 4.0]])
    got = ad.vmap(lambda y: anp.nonzero(y)[0])(y)
    np.testing.assert_array_equal(got, [[1, 2], [0, 2]])


def test_vmap_of_grad_of_sort_and_max():
    x = np.array([[3.0, 1.0, 3.0], [0.0, 5.0, 4.0]])
    w = np.array([1.0, 2.0, 3.0])
    g = ad.vmap(ad.grad(lambda x: anp.sum(anp.sort(x) * w) + anp.max(x)))(x)
    np.testing.assert_array_equal(g, [[2.5, 1.0, 3.5], [1.0, 4.0, 2.0]])


# ----------------------------------------------------------------------------- ufunc methods

def test_ufunc_reduce_and_accumulate_dispatch_with_numpys_defaults():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    t = ad.tensor(x, requires_grad=True)
    for call in (lambda a: np.add.reduce(a), lambda a: np.multiply.reduce(a, axis=1),
                 lambda a: np.maximum.reduce(a, axis=None), lambda a: np.minimum.reduce(a),
                 lambda a: np.add.accumulate(a), lambda a: np.multiply.accumulate(a, 1),
                 lambda a: np.add.reduce(a, (0, 1), keepdims=True)):
        out = call(t)
        assert isinstance(out, ad.Tensor) and out.requires_grad
        np.testing.assert_array_equal(_val(out), call(x))
    np.testing.assert_array_equal(ad.grad(lambda x: np.sum(np.multiply.reduce(x)))(x),
                                  [[4.0, 5.0, 6.0], [1.0, 2.0, 3.0]])
    with pytest.raises(ad.UnsupportedNumpyFunctionError, match=r"np\.subtract\.reduce"):
        np.subtract.reduce(t)


def test_numpy_functions_on_tensors_dispatch():
    x = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    t = ad.tensor(x, requires_grad=True)
    for name in ("sum", "prod", "mean", "var", "std", "max", "min", "amax", "amin", "ptp",
                 "cumsum", "cumprod", "diff", "sort", "nansum", "nanmean", "nanmax", "nanmin",
                 "average"):
        out = getattr(np, name)(t, axis=0)
        assert isinstance(out, ad.Tensor) and out.requires_grad, name
        np.testing.assert_allclose(_val(out), getattr(np, name)(x, axis=0), rtol=1e-15)
    np.testing.assert_array_equal(np.argmax(t, axis=1).numpy(), [0, 1])
    np.testing.assert_array_equal(_val(np.partition(t, 1, axis=1)), np.partition(x, 1, 1))
    assert np.all(t > -1).numpy() and not np.any(t > 10).numpy()


# ----------------------------------------------------------------------------- torch face

def test_tensor_methods_take_numpy_and_torch_spellings():
    x = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    t = ad.tensor(x, requires_grad=True)
    # NOTE: torch's `Tensor.max(dim=0)` returns (values, indices); here the methods keep NumPy's
    # semantics, so `t.max(dim=0)` is the values only (use `t.argmax(dim=0)` for the indices).
    torch_values, _torch_indices = torch.tensor(x).max(dim=1)
    np.testing.assert_array_equal(_val(t.max(dim=1)), torch_values.numpy())
    for got, want in [
        (t.max(dim=0), x.max(axis=0)), (t.max(axis=0), x.max(axis=0)),
        (t.min(dim=1, keepdim=True), x.min(1, keepdims=True)), (t.amax(dim=(0, 1)), x.max()),
        (t.amin(0), x.min(0)), (t.argmax(dim=1), [0, 1]),
        (t.argmin(dim=1, keepdim=True), [[1], [0]]),
        (t.sum(dim=1, keepdim=True), x.sum(1, keepdims=True)), (t.prod(1), x.prod(1)),
        (t.mean(dim=0), x.mean(0)),
        # NOTE: torch's var/std default to the unbiased estimate; NumPy's (kept) to ddof=0.
        (t.var(), x.var()), (t.std(dim=1, ddof=1), x.std(1, ddof=1)),
        (t.cumsum(dim=1), x.cumsum(1)), (t.cumprod(0), x.cumprod(0)),
        (t.argsort(), x.argsort()), (t.argsort(dim=0), x.argsort(0)),
        (t.all(), x.all()), (t.any(dim=1), [True, True]), (t.nonzero()[1], x.nonzero()[1]),
    ]:
        np.testing.assert_allclose(_val(got), want, rtol=1e-15)
    t.max(dim=1).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


# ----------------------------------------------------------------------------- references

X = np.array([[0.3, -1.2, 2.5, 0.7], [1.9, 0.4, -0.8, -2.2], [0.1, 1.3, -0.5, 0.9]])
W = np.array([[1.0, -0.5, 2.0, 0.3], [0.2, 1.5, -1.0, 0.8], [-0.7, 0.4, 1.1, 2.0]])

# name: (autodx, torch, jax); each takes x and returns an array
REFERENCES = {
    "sum axis 1": (lambda x: anp.sum(x, 1), lambda x: torch.sum(x, 1),
                   lambda x: jnp.sum(x, 1)),
    "prod": (lambda x: anp.prod(x, 0), lambda x: torch.prod(x, 0), lambda x: jnp.prod(x, 0)),
    "mean keepdims": (lambda x: anp.mean(x, -1, keepdims=True),
                      lambda x: torch.mean(x, -1, keepdim=True),
                      lambda x: jnp.mean(x, -1, keepdims=True)),
    "var": (lambda x: anp.var(x, 0), lambda x: torch.var(x, 0, correction=0),
            lambda x: jnp.var(x, 0)),
    "std ddof=1": (lambda x: anp.std(x, 1, ddof=1), lambda x: torch.std(x, 1, correction=1),
                   lambda x: jnp.std(x, 1, ddof=1)),
    "max": (lambda x: anp.max(x, 1), lambda x: torch.amax(x, 1), lambda x: jnp.max(x, 1)),
    "min all": (anp.min, torch.amin, jnp.min),
    "amax tuple": (lambda x: anp.amax(x, (0, 1)), lambda x: torch.amax(x, (0, 1)),
                   lambda x: jnp.amax(x, (0, 1))),
    "ptp": (lambda x: anp.ptp(x, 0), lambda x: torch.amax(x, 0) - torch.amin(x, 0),
            lambda x: jnp.ptp(x, 0)),
    "cumsum": (lambda x: anp.cumsum(x, 1), lambda x: torch.cumsum(x, 1),
               lambda x: jnp.cumsum(x, 1)),
    "cumprod": (lambda x: anp.cumprod(x, 0), lambda x: torch.cumprod(x, 0),
                lambda x: jnp.cumprod(x, 0)),
    "diff n=2": (lambda x: anp.diff(x, 2), lambda x: torch.diff(x, 2),
                 lambda x: jnp.diff(x, 2)),
    "nansum": (lambda x: anp.nansum(x, 0), lambda x: torch.nansum(x, 0),
               lambda x: jnp.nansum(x, 0)),
    "nanmean": (lambda x: anp.nanmean(x, 1), lambda x: torch.nanmean(x, 1),
                lambda x: jnp.nanmean(x, 1)),
    "sort": (lambda x: anp.sort(x, 0), lambda x: torch.sort(x, dim=0, stable=True).values,
             lambda x: jnp.sort(x, 0)),
    "average": (lambda x: anp.average(x, 1, W[0]), None, lambda x: jnp.average(x, 1, W[0])),
    "nanmax": (lambda x: anp.nanmax(x, 0), None, lambda x: jnp.nanmax(x, 0)),
    "nanmin": (lambda x: anp.nanmin(x, 1), None, lambda x: jnp.nanmin(x, 1)),
    "nanprod": (lambda x: anp.nanprod(x, 1), None, lambda x: jnp.nanprod(x, 1)),
    "nanvar": (lambda x: anp.nanvar(x, 0), None, lambda x: jnp.nanvar(x, 0)),
    "nanstd ddof=1": (lambda x: anp.nanstd(x, 1, ddof=1), None,
                      lambda x: jnp.nanstd(x, 1, ddof=1)),
    "nancumsum": (lambda x: anp.nancumsum(x, 1), None, lambda x: jnp.nancumsum(x, 1)),
    "nancumprod": (lambda x: anp.nancumprod(x, 0), None, lambda x: jnp.nancumprod(x, 0)),
    "median": (lambda x: anp.median(x, 1), lambda x: torch.quantile(x, 0.5, dim=1),
               lambda x: jnp.median(x, 1)),
    "quantile": (lambda x: anp.quantile(x, [0.1, 0.5, 0.8], 0),
                 lambda x: torch.quantile(x, torch.tensor([0.1, 0.5, 0.8],
                                                          dtype=torch.float64), dim=0),
                 lambda x: jnp.quantile(x, jnp.array([0.1, 0.5, 0.8]), 0)),
    "percentile": (lambda x: anp.percentile(x, 30.0), None,
                   lambda x: jnp.percentile(x, 30.0)),
    "cumulative_sum": (lambda x: anp.cumulative_sum(x, axis=0, include_initial=True), None,
                       lambda x: jnp.cumulative_sum(x, axis=0, include_initial=True)),
    "partition": (lambda x: anp.partition(x, 2, 1)[:, 2], None,
                  lambda x: jnp.partition(x, 2, 1)[:, 2]),
}


CASES = [(name, False) for name in REFERENCES] + [
    (name, True) for name in REFERENCES if name.startswith("nan")]


@pytest.mark.parametrize("name, nan", CASES, ids=[f"{n}{' with NaN' * nan}" for n, nan in CASES])
def test_value_and_gradient_match_torch_and_jax(name, nan):
    ours, theirs_torch, theirs_jax = REFERENCES[name]
    x = X.copy()
    if nan:
        x[1, 2] = x[0, 0] = np.nan
    out = ours(x)
    u = np.cos(np.arange(np.size(out))).reshape(np.shape(out))
    g = ad.grad(lambda x: anp.sum(ours(x) * u))(x)
    jx = jnp.asarray(x)
    np.testing.assert_allclose(out, theirs_jax(jx), rtol=1e-14)
    np.testing.assert_allclose(g, jax.grad(lambda x: jnp.sum(theirs_jax(x) * u))(jx),
                               rtol=1e-13, atol=1e-15)
    if theirs_torch is not None:
        t = torch.tensor(x, requires_grad=True)
        out_t = theirs_torch(t)
        (out_t * torch.tensor(u)).sum().backward()
        np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-14)
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_argmax_argsort_searchsorted_unique_values_match_torch_and_jax():
    x = np.array([[0.3, -1.2, 2.5], [1.9, 0.4, -0.8]])
    np.testing.assert_array_equal(anp.argmax(x, 1), torch.argmax(torch.tensor(x), 1).numpy())
    np.testing.assert_array_equal(anp.argmin(x, 0), jnp.argmin(x, 0))
    np.testing.assert_array_equal(anp.argsort(x, 1), torch.argsort(torch.tensor(x), 1).numpy())
    a, v = np.array([0.0, 1.0, 1.0, 3.0]), np.array([1.0, 2.0, -1.0, 5.0])
    np.testing.assert_array_equal(anp.searchsorted(a, v, "right"), jnp.searchsorted(
        a, v, "right"))
    r = np.array([2.0, 1.0, 2.0, 3.0, 1.0])
    values, counts = anp.unique(r, return_counts=True)
    tv, tc = torch.unique(torch.tensor(r), return_counts=True)
    np.testing.assert_array_equal(values, tv.numpy())
    np.testing.assert_array_equal(counts, tc.numpy())
