"""Property tests: gradients (reverse mode) and tangents (forward mode) against central finite
differences of the NumPy reference, for the binary functions on drawn broadcast-compatible
shape pairs, and for the reductions on drawn shapes and `axis` arguments (None, an int, a
negative int, a tuple with negatives) with and without keepdims.

Bounded and reproducible: 40 examples per function, derandomized, no deadline."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import autodx as ad

anp = ad.numpy

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)
EPS = 1e-6


def _real(rng, shape):
    return rng.uniform(-2.0, 2.0, shape)


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _nonzero(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)


def _near_one(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.8, 1.25, shape)


def _distinct(rng, shape):
    """Values at least 0.15 apart in random order: no ties for max, min, sort."""
    n = int(np.prod(shape))
    return rng.permutation(np.linspace(-2.0, 2.0, n) if n > 1 else np.zeros(n)).reshape(shape)


def _central_difference(ref, args, i, direction):
    plus = [a + EPS * direction if j == i else a for j, a in enumerate(args)]
    minus = [a - EPS * direction if j == i else a for j, a in enumerate(args)]
    return (np.asarray(ref(*plus)) - np.asarray(ref(*minus))) / (2 * EPS)


def _check_against_finite_differences(fn, ref, args, rng):
    """Value; every gradient entry of <u, f> (reverse mode); one random tangent (forward)."""
    want = ref(*args)
    np.testing.assert_allclose(fn(*args), want, rtol=1e-13, atol=1e-14)
    u = rng.standard_normal(np.shape(want))
    grads = ad.grad(lambda *xs: anp.sum(anp.multiply(u, fn(*xs))),
                    argnums=tuple(range(len(args))))(*args)
    for i, (x, g) in enumerate(zip(args, grads)):
        assert np.shape(g) == np.shape(x) and np.asarray(g).dtype == x.dtype
        fd = [np.sum(u * _central_difference(ref, args, i, e.reshape(x.shape)))
              for e in np.eye(x.size)]
        np.testing.assert_allclose(np.ravel(g), fd, rtol=1e-6, atol=1e-8)
    tangents = [rng.standard_normal(x.shape) for x in args]
    _, t_out = ad.jvp(fn, tuple(args), tuple(tangents))
    fd = sum(_central_difference(ref, args, i, t) for i, t in enumerate(tangents))
    np.testing.assert_allclose(t_out, fd, rtol=1e-6, atol=1e-8)


# ----------------------------------------------------------------------------- binary functions

BINARY = {  # name: (x domain, y domain)
    "add": (_real, _real), "subtract": (_real, _real), "multiply": (_real, _real),
    "divide": (_real, _nonzero), "power": (_positive, _real),
    "maximum": (_real, _real), "minimum": (_real, _real),  # ties have probability 0
    "arctan2": (_nonzero, _nonzero), "hypot": (_nonzero, _nonzero),
    "logaddexp": (_real, _real),
}


@pytest.mark.parametrize("name", list(BINARY))
@SETTINGS
@given(data=st.data())
def test_binary_broadcasting_gradients_match_finite_differences(name, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                         max_side=3), label="shapes")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x_domain, y_domain = BINARY[name]
    args = [x_domain(rng, shapes.input_shapes[0]), y_domain(rng, shapes.input_shapes[1])]
    _check_against_finite_differences(getattr(anp, name), getattr(np, name), args, rng)


# ----------------------------------------------------------------------------- reductions

@st.composite
def axis_arguments(draw, ndim: int):
    """None, an int (maybe negative), or a tuple of distinct axes (each maybe negative)."""
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


REDUCTIONS = {  # name: domain; each is called as f(x, axis, keepdims=...)
    "sum": _real, "prod": _near_one, "mean": _real, "var": _real, "std": _real,
    "max": _distinct, "min": _distinct, "amax": _distinct, "amin": _distinct,
    "ptp": _distinct, "nansum": _real, "nanmean": _real, "nanmax": _distinct,
    "nanmin": _distinct, "average": _real, "nanprod": _near_one, "nanvar": _real,
    "nanstd": _real, "median": _distinct,
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@SETTINGS
@given(data=st.data())
def test_reduction_axis_arguments_gradients_match_finite_differences(name, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3),
                      label="shape")
    axis = data.draw(axis_arguments(len(shape)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = REDUCTIONS[name](rng, shape)
    f, ref = getattr(anp, name), getattr(np, name)
    _check_against_finite_differences(lambda x: f(x, axis, keepdims=keepdims),
                                      lambda x: ref(x, axis, keepdims=keepdims), [x], rng)


ALONG_AXIS = {  # name: (domain, call); axis is None or an int, maybe negative
    "cumsum": (_real, lambda m, x, axis: m.cumsum(x, axis)),
    "cumprod": (_near_one, lambda m, x, axis: m.cumprod(x, axis)),
    "sort": (_distinct, lambda m, x, axis: m.sort(x, axis)),
    "diff": (_real, lambda m, x, axis: m.diff(x, 1 if axis is None else 2, axis=axis or 0)),
    "partition": (_distinct, lambda m, x, axis: m.partition(x, 0, axis)),
    "quantile": (_distinct, lambda m, x, axis: m.quantile(x, [0.3, 0.75], axis)),
}


@pytest.mark.parametrize("name", list(ALONG_AXIS))
@SETTINGS
@given(data=st.data())
def test_along_axis_functions_gradients_match_finite_differences(name, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3),
                      label="shape")
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1), label="axis")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    domain, call = ALONG_AXIS[name]
    _check_against_finite_differences(lambda x: call(anp, x, axis),
                                      lambda x: call(np, x, axis), [domain(rng, shape)], rng)
