"""Shape functions, indexing, functional updates and creation: errors for bad arguments (NumPy's
exception types), the `.at[]` semantics with repeated indices (analytic gradients), `.at` on
Tensors, indexing edge cases and random indices against NumPy (value, gradient against
np.add.at, vmap), creation inside differentiated code, and PyTorch/JAX as oracles."""

from __future__ import annotations

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings

import autodx as ad
from autodx.numpy._shapes import IndexUpdateRef as At
from autodx.prims import index as prims_index
from autodx.testing import check_grads

anp = ad.numpy
RTOL = 1e-12


def _x(shape=(3, 4), seed=0):
    return np.random.default_rng(seed).uniform(-2.0, 2.0, shape)


def _grad_of_weighted(f, w, argnums=0):
    """x -> grad of sum(w * f(x)), in autodx."""
    return ad.grad(lambda *xs: anp.sum(f(*xs) * w), argnums=argnums)


# ----------------------------------------------------------------------------- errors

X = _x((3, 4))

ERRORS = [  # (name, call with a namespace m, x) - NumPy raises the same type
    ("index out of bounds", lambda m, x: x[3]),
    ("array index out of bounds", lambda m, x: x[:, [0, 4]]),
    ("too many indices", lambda m, x: x[0, 0, 0]),
    ("two ellipses", lambda m, x: x[..., ...]),
    ("float index", lambda m, x: x[1.0]),
    ("float array index", lambda m, x: x[np.array([0.0])]),
    ("mask of the wrong length", lambda m, x: x[np.array([True, False])]),
    ("arrays that do not broadcast", lambda m, x: x[[0, 1], [0, 1, 2]]),
    ("slice step 0", lambda m, x: x[::0]),
    ("concatenate ndim mismatch", lambda m, x: m.concatenate([x, x[None]])),
    ("concatenate shape mismatch", lambda m, x: m.concatenate([x, x[:, :2]])),
    ("concatenate 0-d", lambda m, x: m.concatenate([x[0, 0], x[0, 1]])),
    ("concatenate nothing", lambda m, x: m.concatenate([])),
    ("concatenate bad cast", lambda m, x: m.concatenate([x], dtype=np.int64)),
    ("concatenate axis", lambda m, x: m.concatenate([x, x], axis=2)),
    ("stack shape mismatch", lambda m, x: m.stack([x, x[:2]])),
    ("split unequal", lambda m, x: m.split(x, 3, axis=1)),
    ("array_split 0 sections", lambda m, x: m.array_split(x, 0)),
    ("hsplit 0-d", lambda m, x: m.hsplit(x[0, 0], 2)),
    ("vsplit 1-D", lambda m, x: m.vsplit(x[0], 2)),
    ("dsplit 2-D", lambda m, x: m.dsplit(x, 2)),
    ("pad unknown mode", lambda m, x: m.pad(x, 1, mode="nope")),
    ("pad negative width", lambda m, x: m.pad(x, -1)),
    ("pad float width", lambda m, x: m.pad(x, 1.5)),
    ("pad width shape", lambda m, x: m.pad(x, ((1, 2, 3),))),
    ("pad keyword of another mode", lambda m, x: m.pad(x, 1, mode="edge", constant_values=1)),
    ("pad an empty axis", lambda m, x: m.pad(x[:0], 1, mode="reflect")),
    ("moveaxis lengths", lambda m, x: m.moveaxis(x, (0, 1), (0,))),
    ("moveaxis repeated", lambda m, x: m.moveaxis(x, (0, 0), (0, 1))),
    ("moveaxis out of bounds", lambda m, x: m.moveaxis(x, 2, 0)),
    ("rollaxis start", lambda m, x: m.rollaxis(x, 0, 5)),
    ("transpose too few axes", lambda m, x: m.transpose(x, (0,))),
    ("transpose repeated axes", lambda m, x: m.transpose(x, (0, 0))),
    ("expand_dims repeated", lambda m, x: m.expand_dims(x, (0, 0))),
    ("expand_dims out of bounds", lambda m, x: m.expand_dims(x, 3)),
    ("squeeze a non-1 axis", lambda m, x: m.squeeze(x, 0)),
    ("broadcast_to mismatch", lambda m, x: m.broadcast_to(x, (3, 3))),
    ("broadcast_arrays mismatch", lambda m, x: m.broadcast_arrays(x, x[:2])),
    ("rot90 same axes", lambda m, x: m.rot90(x, axes=(0, 0))),
    ("rot90 one axis", lambda m, x: m.rot90(x, axes=(0,))),
    ("rot90 axes out of range", lambda m, x: m.rot90(x, axes=(0, 2))),
    ("fliplr of 1-D", lambda m, x: m.fliplr(x[0])),
    ("repeat negative", lambda m, x: m.repeat(x, [1, -1, 1], axis=0)),
    ("repeat count mismatch", lambda m, x: m.repeat(x, [1, 2], axis=0)),
    ("take out of bounds", lambda m, x: m.take(x, [12])),
    ("take bad mode", lambda m, x: m.take(x, [1], mode="nope")),
    ("take_along_axis ndim", lambda m, x: m.take_along_axis(x, np.array([0]), axis=0)),
    ("take_along_axis float", lambda m, x: m.take_along_axis(x, np.zeros((1, 1)), axis=0)),
    ("roll 2-D shift", lambda m, x: m.roll(x, [[1]], axis=0)),
    ("roll mismatched shifts", lambda m, x: m.roll(x, (1, 2), axis=(0, 1, 1))),
    ("tile negative", lambda m, x: m.tile(x, -1)),
    ("reshape size", lambda m, x: m.reshape(x, (5, 2))),
    ("meshgrid indexing", lambda m, x: m.meshgrid(x[0], indexing="xx")),
    ("linspace negative num", lambda m, x: m.linspace(m.sum(x), 1.0, -1)),
    ("geomspace zero", lambda m, x: m.geomspace(m.sum(x) * 0, 1.0, 3)),
]


@pytest.mark.parametrize("call", [c for _, c in ERRORS], ids=[n for n, _ in ERRORS])
def test_errors_match_numpy_types(call):
    with pytest.raises(Exception) as numpy_error:
        call(np, X)
    kind = type(numpy_error.value)
    with pytest.raises(kind):  # on NumPy values, and on traced values and Tensors
        call(anp, X)
    with pytest.raises(kind):
        ad.grad(lambda x: anp.sum(call(anp, x)))(X)
    with pytest.raises(kind):
        call(anp, ad.tensor(X, requires_grad=True))


def test_error_messages_name_the_problem():
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        ad.grad(lambda x: anp.sum(x[3]))(X)
    with pytest.raises(IndexError, match="index 7 is out of bounds for axis 1 with size 4"):
        ad.vmap(lambda x: x[:, 7])(np.ones((2, 3, 4)))  # the axis of one example, not the batch
    with pytest.raises(IndexError, match="boolean index did not match indexed array along "
                                         "axis 1; size of axis is 4"):
        anp.getitem(X, (slice(None), np.ones(3, bool)))
    with pytest.raises(ad.BatchingError, match="indices are static"):
        ad.vmap(lambda x, i: x[i])(np.ones((2, 3)), np.array([0, 1]))
    with pytest.raises(TypeError, match="out="):
        anp.concatenate([X, X], out=np.zeros((6, 4)))
    with pytest.raises(NotImplementedError, match="supported modes"):
        anp.pad(X, 1, mode="mean")
    with pytest.raises(NotImplementedError, match="odd"):
        anp.pad(X, 1, mode="reflect", reflect_type="odd")
    with pytest.raises(TypeError, match="astype"):
        ad.tensor(X).view(np.float32)
    with pytest.raises(ValueError, match=r"could not broadcast input array from shape \(3,\) "
                                         r"into shape \(2,\)"):
        At(X)[0, :2].set(np.ones(3))
    with pytest.raises(ad.TracerConversionError):  # not dispatchable: ad.numpy.asarray is
        np.asarray(ad.tensor(X, requires_grad=True))


# ----------------------------------------------------------------------------- .at[]

W3 = np.array([1.0, 10.0, 100.0])


def test_at_set_with_repeated_indices_keeps_the_last_write():
    idx = np.array([0, 2, 0])
    v = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(At(np.zeros(3))[idx].set(v), [3.0, 0.0, 2.0])
    gx, gv = _grad_of_weighted(lambda x, v: At(x)[idx].set(v), W3, (0, 1))(np.ones(3), v)
    np.testing.assert_array_equal(gx, [0.0, 10.0, 0.0])  # overwritten positions get nothing
    np.testing.assert_array_equal(gv, [0.0, 100.0, 1.0])  # the first write to 0 is lost


def test_at_add_accumulates_and_multiply_multiplies_all():
    idx = np.array([0, 0, 1])
    x, v = np.array([2.0, 3.0, 4.0]), np.array([5.0, 7.0, 11.0])
    np.testing.assert_array_equal(At(x)[idx].add(v), [14.0, 14.0, 4.0])
    gx, gv = _grad_of_weighted(lambda x, v: At(x)[idx].add(v), W3, (0, 1))(x, v)
    np.testing.assert_array_equal(gx, W3)
    np.testing.assert_array_equal(gv, [1.0, 1.0, 10.0])
    np.testing.assert_array_equal(At(x)[idx].multiply(v), [70.0, 33.0, 4.0])
    gx, gv = _grad_of_weighted(lambda x, v: At(x)[idx].multiply(v), W3, (0, 1))(x, v)
    np.testing.assert_array_equal(gx, [35.0, 110.0, 100.0])
    np.testing.assert_array_equal(gv, [14.0, 10.0, 30.0])


@pytest.mark.parametrize("method", ["max", "min"])
def test_at_min_max_ties_split_evenly(method):
    def f(x, v, idx):
        return getattr(At(x)[idx], method)(v)

    x = np.array([1.0, 5.0])
    # a three-way tie at 0 (x and two values): a third each
    gx, gv = ad.grad(lambda x, v: anp.sum(f(x, v, np.array([0, 0]))), (0, 1))(
        x, np.array([1.0, 1.0]))
    np.testing.assert_allclose(gx, [1 / 3, 1.0], rtol=RTOL)
    np.testing.assert_allclose(gv, [1 / 3, 1 / 3], rtol=RTOL)
    # a tie of x and one value: 0.5 each, as maximum/minimum
    gx, gv = ad.grad(lambda x, v: anp.sum(f(x, v, 1)), (0, 1))(x, 5.0)
    np.testing.assert_allclose(gx, [1.0, 0.5], rtol=RTOL)
    assert gv == 0.5
    # no tie: the winner takes it all
    better = 7.0 if method == "max" else 3.0
    gx, gv = ad.grad(lambda x, v: anp.sum(f(x, v, 1)), (0, 1))(x, better)
    np.testing.assert_array_equal(gx, [1.0, 0.0])
    assert gv == 1.0
    out = f(x, np.array([0.0, 9.0]), np.array([1, 1]))
    np.testing.assert_array_equal(out, [1.0, 9.0] if method == "max" else [1.0, 0.0])


def test_at_get_and_casts_to_the_dtype_of_x():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(At(x)[:, [2, 0]].get(), x[:, [2, 0]])
    out = At(x)[0].set(np.array([1.5, 2.5, 3.5]))  # float64 values into float32
    assert out.dtype == np.float32
    assert At(np.arange(3))[1].add(2.7).dtype == np.arange(3).dtype  # truncated, as NumPy


def test_at_on_tensors_backward():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = ad.tensor([4.0, 5.0], requires_grad=True)
    y = x.at[[2, 2]].add(v) + x.at[[0, 1]].set(v * v)
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0, 3.0])  # x is untouched
    np.testing.assert_array_equal(y.detach().numpy(), [1.0 + 16.0, 2.0 + 25.0, 12.0 + 3.0])
    (y * ad.tensor(W3)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 10.0, 200.0])
    np.testing.assert_array_equal(v.grad.numpy(), [100.0 + 8.0, 100.0 + 100.0])
    z = ad.tensor([1.0, 2.0], requires_grad=True)
    assert z.at[0].get().requires_grad
    z.at[[0, 0]].multiply(z).sum().backward()  # z0 * z0 * z1 + z1
    np.testing.assert_array_equal(z.grad.numpy(), [2 * 1.0 * 2.0, 1.0 + 1.0])


def test_at_under_vmap_and_to_second_order():
    xs, vs = _x((5, 3, 4)), _x((5, 4), seed=1)
    got = ad.vmap(lambda x, v: x.at[np.array([2, 0, 2])].add(v[:3, None]))(xs, vs)
    want = np.stack([At(x)[np.array([2, 0, 2])].add(v[:3, None]) for x, v in zip(xs, vs)])
    np.testing.assert_allclose(got, want, rtol=RTOL)
    check_grads(lambda x, v: At(x)[:, np.array([1, 1, 3])].multiply(v * x[0, :3]),
                (xs[0], vs[0, :3]), order=2)
    check_grads(lambda x, v: At(x)[np.array([0, 0])].set(anp.sin(v)), (xs[0], vs[:2]), order=2)


def test_scatter_set_is_the_low_level_update():
    x = np.zeros((2, 3))
    out = prims_index.scatter_set(x, np.array([1.0, 2.0]), (slice(None), [1, 1]))
    np.testing.assert_array_equal(out, [[0.0, 2.0, 0.0]] * 2)
    out = prims_index.scatter_add(x, 1.0, (np.array([True, False]), [1, 1]))
    np.testing.assert_array_equal(out, [[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]])


# ----------------------------------------------------------------------------- indexing

X3 = _x((3, 4, 5))
INDICES = [
    (), Ellipsis, None, (None, ..., None), -1, (slice(None), slice(-1, -4, -1)),
    [], np.array(1), (1, np.array(2)), [True, False, True], False, np.zeros((3, 4), bool),
    (np.ones((3, 4), bool), 2), (True, True, 0), ([0, 2], True, ..., [-1, 1]),
    ([[0], [2]], slice(1, 3), [1, 1, 4]), (1, [0, 0], None, [4, 0]), ad.tensor(np.array([2, 0, 2])),
    (slice(None), ad.tensor([True, False, True, True])),
]


@pytest.mark.parametrize("index", INDICES, ids=[repr(i)[:40] for i in INDICES])
def test_indexing_edge_cases_match_numpy(index):
    np_index = tuple(np.asarray(i) if isinstance(i, ad.Tensor) else i for i in index) if (
        isinstance(index, tuple)) else np.asarray(index) if isinstance(index, ad.Tensor) else index
    want = X3[np_index]
    np.testing.assert_array_equal(anp.getitem(X3, index), want)
    w = np.random.default_rng(1).standard_normal(np.shape(want))
    expected = np.zeros_like(X3)
    np.add.at(expected, np_index, w)
    np.testing.assert_allclose(_grad_of_weighted(lambda x: x[index], w)(X3), expected,
                               rtol=RTOL)
    t = ad.tensor(X3, requires_grad=True)
    (t[index] * ad.tensor(w)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=RTOL)
    got = ad.vmap(lambda x: x[index], in_axes=1, out_axes=-1)(np.stack([X3, -X3], axis=1))
    np.testing.assert_allclose(got, np.stack([want, -want], axis=-1), rtol=RTOL)


def _item(draw, n: int, arrays: st.SearchStrategy):
    kind = draw(st.sampled_from(["int", "slice", "array", "mask"]))
    if kind == "int":
        return draw(st.integers(-n, n - 1))
    if kind == "slice":
        return draw(st.slices(n))
    if kind == "mask":
        return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return draw(arrays)


@st.composite
def mixed_indices(draw, shape):
    """Random NumPy indices: ints, slices (negative steps too), integer arrays of shapes that
    may or may not broadcast, 1-D masks, 0-d booleans, None and an Ellipsis."""
    n_indexed = draw(st.integers(0, len(shape)))
    items = []
    for n in shape[:n_indexed]:
        arr_shape = draw(st.sampled_from([(2,), (1,), (2, 1), (1, 2), ()]))
        arrays = st.builds(lambda a, s=arr_shape: np.array(a).reshape(s), st.lists(
            st.integers(-n, n - 1), min_size=int(np.prod(arr_shape)),
            max_size=int(np.prod(arr_shape))))
        items.append(_item(draw, n, arrays))
    for _ in range(draw(st.integers(0, 2))):
        items.insert(draw(st.integers(0, len(items))), draw(st.sampled_from([None, True])))
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), Ellipsis)
    return tuple(items)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.data())
def test_random_indices_value_gradient_and_vmap_match_numpy(data):
    shape = (3, 4, 2)
    index = data.draw(mixed_indices(shape))
    x = np.arange(24.0).reshape(shape) * 0.5 - 3.0
    try:
        want = x[index]
    except IndexError:
        assume(False)
    np.testing.assert_array_equal(anp.getitem(x, index), want)
    w = np.random.default_rng(0).standard_normal(np.shape(want))
    expected = np.zeros_like(x)
    np.add.at(expected, index, w)  # repeated positions add up
    np.testing.assert_array_equal(_grad_of_weighted(lambda x: x[index], w)(x), expected)
    t = np.ones_like(x)
    np.testing.assert_array_equal(ad.jvp(lambda x: x[index], (x,), (t,))[1], t[index])
    got = ad.vmap(lambda x: x[index], in_axes=2, out_axes=0)(np.stack([x, 2 * x], axis=2))
    np.testing.assert_array_equal(got, np.stack([want, 2 * want]))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.data())
def test_random_updates_match_numpy_assignment_and_add_at(data):
    shape = (3, 4, 2)
    index = data.draw(mixed_indices(shape))
    x = np.arange(24.0).reshape(shape) * 0.5 - 3.0
    try:
        v = np.arange(np.size(x[index]), dtype=float).reshape(np.shape(x[index])) + 100.0
    except IndexError:
        assume(False)
    writer = np.full(shape, -1)
    writer[index] = np.arange(v.size).reshape(v.shape)  # who wrote each position last
    want = x.copy()
    want[index] = v
    np.testing.assert_array_equal(At(x)[index].set(v), want)
    w = np.random.default_rng(0).standard_normal(shape)
    gx, gv = _grad_of_weighted(lambda x, v: At(x)[index].set(v), w, (0, 1))(x, v)
    np.testing.assert_array_equal(gx, np.where(writer < 0, w, 0.0))
    expected_gv = np.zeros(v.size)
    np.add.at(expected_gv, writer[writer >= 0], w[writer >= 0])
    np.testing.assert_array_equal(gv, expected_gv.reshape(v.shape))
    want = x.copy()
    np.add.at(want, index, v)
    np.testing.assert_array_equal(At(x)[index].add(v), want)


# ----------------------------------------------------------------------------- creation

def test_array_of_traced_values_is_differentiable():
    assert ad.grad(lambda x: anp.sum(anp.array([x, 2 * x, 1.0])))(1.5) == 3.0
    g = ad.grad(lambda x: anp.sum(anp.asarray([[x[0], x[1]], [x[1] * x[1], 1.0]])))(
        np.array([2.0, 3.0]))
    np.testing.assert_array_equal(g, [1.0, 7.0])
    t = ad.tensor([1.0, 2.0], requires_grad=True)
    assert anp.asarray(t) is t and anp.array(t) is t  # passed through, still on the graph
    assert anp.asarray(t, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="inhomogeneous"):
        ad.grad(lambda x: anp.sum(anp.array([x, x[:1]])))(np.ones(2))


def test_copy_is_a_new_differentiable_value():
    t = ad.tensor([1.0, 2.0], requires_grad=True)
    c = np.copy(t)  # dispatched to ad.numpy.copy
    assert isinstance(c, ad.Tensor) and c is not t and c.requires_grad
    (c * c).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [2.0, 4.0])
    plain = ad.tensor([1.0, 2.0])
    copied = plain.copy()
    copied += 1.0
    np.testing.assert_array_equal(plain.numpy(), [1.0, 2.0])
    a = np.ones(3)
    assert anp.copy(a) is not a and isinstance(anp.copy(a), np.ndarray)


def test_filled_arrays_with_traced_fill_values():
    np.testing.assert_array_equal(ad.grad(lambda c: anp.sum(anp.full((2, 3), c)))(2.0), 6.0)
    t = ad.tensor(np.ones((2, 2)))
    c = ad.tensor(3.0, requires_grad=True)
    out = np.full_like(t, c)  # NumPy's function, dispatched
    assert out.requires_grad and out.shape == (2, 2)
    out.sum().backward()
    assert c.grad.item() == 4.0
    for fn in (np.zeros_like, np.ones_like, np.empty_like):
        made = fn(t)
        assert isinstance(made, np.ndarray) and made.shape == (2, 2)
    np.testing.assert_array_equal(anp.empty((2, 2)), np.zeros((2, 2)))  # NOTE: zeros
    np.testing.assert_array_equal(np.empty_like(t), np.zeros((2, 2)))
    np.testing.assert_array_equal(anp.pad(np.ones(2), 1, mode="empty"), [0.0, 1.0, 1.0, 0.0])
    assert anp.zeros is np.zeros and anp.eye is np.eye and anp.tri is np.tri


def test_ranges_differentiable_in_start_stop_and_step():
    assert ad.grad(lambda s: anp.sum(anp.arange(s, 5.0, 0.5)))(1.2) == 8.0
    assert ad.grad(lambda h: anp.sum(anp.arange(0.0, 2.0, h)))(0.5) == 0 + 1 + 2 + 3
    np.testing.assert_array_equal(anp.arange(ad.tensor(1.0), 4), [1.0, 2.0, 3.0])
    for f_ad, f_jax in [
        (lambda a, b: anp.linspace(a, b, 5), lambda a, b: jnp.linspace(a, b, 5)),
        (lambda a, b: anp.linspace(a, b, 4, endpoint=False),
         lambda a, b: jnp.linspace(a, b, 4, endpoint=False)),
        (lambda a, b: anp.logspace(a, b, 4, base=3.0),
         lambda a, b: jnp.logspace(a, b, 4, base=3.0)),
        (lambda a, b: anp.geomspace(a, b, 4), lambda a, b: jnp.geomspace(a, b, 4)),
    ]:
        w = np.array([1.0, -2.0, 3.0, 0.5, 1.5])[:np.shape(f_ad(0.5, 2.0))[0]]
        got = ad.grad(lambda a, b, f=f_ad, w=w: anp.sum(f(a, b) * w), (0, 1))(0.5, 2.0)
        want = jax.grad(lambda a, b, f=f_jax, w=w: jnp.sum(f(a, b) * w), (0, 1))(0.5, 2.0)
        np.testing.assert_allclose(got, want, rtol=1e-10)
    y, step = anp.linspace(ad.tensor(0.0), 1.0, 1, retstep=True)
    assert np.isnan(step) and y.numpy().tolist() == [0.0]
    assert anp.linspace(ad.tensor(0.0), 3.0, 4, dtype=int).tolist() == [0, 1, 2, 3]


# ----------------------------------------------------------------------------- torch, JAX

def _compare_with_jax(f_ad, f_jax, *args, rtol=RTOL):
    """Value and gradient of sum(w * f) with respect to every argument."""
    want = f_jax(*[jnp.asarray(a) for a in args])
    got = f_ad(*[ad.tensor(a) for a in args])  # Tensors have `.at`, NumPy arrays do not
    np.testing.assert_allclose(np.asarray(got), want, rtol=rtol, atol=1e-14)
    w = np.random.default_rng(3).standard_normal(np.shape(want))
    argnums = tuple(range(len(args)))
    got = ad.grad(lambda *xs: anp.sum(f_ad(*xs) * w), argnums)(*args)
    ref = jax.grad(lambda *xs: jnp.sum(f_jax(*xs) * w), argnums)(*args)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=rtol, atol=1e-14)


JAX_CASES = [  # (name, f(m, x), where m is ad.numpy or jax.numpy)
    ("roll", lambda m, x: m.roll(x, (1, -2), axis=(0, 1))),
    ("roll flat", lambda m, x: m.roll(x, 7)),
    ("flip", lambda m, x: m.flip(x, (0, 1))),
    ("rot90", lambda m, x: m.rot90(x, 3)),
    ("tile", lambda m, x: m.tile(x, (2, 1, 2))),
    ("repeat", lambda m, x: m.repeat(x, np.array([1, 0, 2]), axis=0)),
    ("pad constant", lambda m, x: m.pad(x, ((1, 0), (2, 3)), constant_values=2.5)),
    ("pad edge", lambda m, x: m.pad(x, 2, mode="edge")),
    ("pad reflect", lambda m, x: m.pad(x, ((5, 1), (2, 6)), mode="reflect")),
    ("pad symmetric", lambda m, x: m.pad(x, (3, 1), mode="symmetric")),
    ("pad wrap", lambda m, x: m.pad(x, ((4, 2), (1, 9)), mode="wrap")),
    ("take_along_axis", lambda m, x: m.take_along_axis(x, np.array([[2, 0, 2, 1]]), axis=0)),
    ("split", lambda m, x: m.concatenate([p * (i + 1.0) for i, p in enumerate(
        m.split(x, [1, 3], axis=1))], axis=1)),
    ("meshgrid", lambda m, x: m.stack(m.meshgrid(x[0], x[1, :2]))),
    ("at set", lambda m, x: x.at[1:, np.array([0, 3])].set(x[0, :2] ** 2)),
    ("at add repeated", lambda m, x: x.at[np.array([2, 0, 2])].add(x[1] * 2.0)),
    ("at multiply", lambda m, x: x.at[:, np.array([1, 3])].multiply(
        x[:, :2], **({"unique_indices": True} if m is jnp else {}))),  # JAX needs the hint
    ("at max repeated", lambda m, x: x.at[np.array([0, 0]), 1].max(x[2, :2] + 0.01)),
    ("at min", lambda m, x: x.at[1].min(-x[0] * 0.5)),
]


@pytest.mark.parametrize("f", [f for _, f in JAX_CASES], ids=[n for n, _ in JAX_CASES])
def test_against_jax(f):
    _compare_with_jax(lambda x: f(anp, x), lambda x: f(jnp, x), _x((3, 4)))


TORCH_CASES = [  # (name, autodx on a Tensor, torch)
    ("roll", lambda x: anp.roll(x, (1, -2), axis=(0, 1)),
     lambda x: torch.roll(x, (1, -2), (0, 1))),
    ("flip", lambda x: x.flip(0, 1), lambda x: torch.flip(x, (0, 1))),
    ("rot90", lambda x: anp.rot90(x, 1, (1, 2)), lambda x: torch.rot90(x, 1, (1, 2))),
    ("tile", lambda x: anp.tile(x, (2, 1, 3)), lambda x: torch.tile(x, (2, 1, 3))),
    ("repeat", lambda x: x.repeat([1, 0, 2], axis=2),
     lambda x: torch.repeat_interleave(x, torch.tensor([1, 0, 2]), dim=2)),
    ("pad reflect", lambda x: anp.pad(x, ((0, 0), (0, 0), (2, 1)), mode="reflect"),
     lambda x: torch.nn.functional.pad(x, (2, 1), mode="reflect")),
    ("pad edge", lambda x: anp.pad(x, ((0, 0), (1, 2), (2, 1)), mode="edge"),
     lambda x: torch.nn.functional.pad(x, (2, 1, 1, 2), mode="replicate")),
    ("pad wrap", lambda x: anp.pad(x, ((0, 0), (1, 2), (2, 1)), mode="wrap"),
     lambda x: torch.nn.functional.pad(x, (2, 1, 1, 2), mode="circular")),
    ("take_along_axis", lambda x: anp.take_along_axis(x, np.array([[[2, 0, 2]]]), axis=-1),
     lambda x: torch.take_along_dim(x, torch.tensor([[[2, 0, 2]]]), dim=-1)),
    ("permute and view", lambda x: x.permute(2, 0, 1).view(3, -1),
     lambda x: x.permute(2, 0, 1).reshape(3, -1)),
    ("index with repeats", lambda x: x[:, [1, 1, 0], ::-1],
     lambda x: x[:, [1, 1, 0]].flip(-1)),
]


@pytest.mark.parametrize("case", [c[1:] for c in TORCH_CASES], ids=[c[0] for c in TORCH_CASES])
def test_against_torch(case):
    f_ad, f_torch = case
    x = _x((2, 2, 3))
    t = ad.tensor(x, requires_grad=True)
    r = torch.tensor(x, requires_grad=True)
    out, ref = f_ad(t), f_torch(r)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=RTOL)
    w = np.random.default_rng(2).standard_normal(tuple(ref.shape))
    (out * ad.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), r.grad.numpy(), rtol=RTOL)
