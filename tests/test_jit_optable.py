"""Every op-table row (tests/op_table*.py) under ad.jit: the jitted forward, gradient and
Hessian equal the eager ones in float64 bit for bit, with the same types (NumPy scalars where
eager gives those), except the rows listed in NOT_BITWISE, which agree to rtol 1e-14 of the
output's scale. Inputs are the rows' own small shapes, so the whole table runs in about a
minute."""

from __future__ import annotations

import numpy as np
import pytest

import autodx as ad
from op_table import OPS

anp = ad.numpy
DIFF_OPS = [op for op in OPS if not op.nondiff]
RTOL = 1e-14
# Rows whose jitted forward differs from eager in the last bit (a reduction in another order).
NOT_BITWISE = {"np.multiply.reduce axis=-1", "np.multiply.accumulate axis=2"}


def ids(ops):
    return [op.name for op in ops]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def assert_same(got, want, exact: bool = False) -> None:
    """Same structure, leaf types, shapes and dtypes; values to RTOL of the output's (finite)
    scale, or bit for bit."""
    if isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want), (type(got), type(want))
        for g, w in zip(got, want):
            assert_same(g, w, exact)
        return
    assert type(got) is type(want), (type(got), type(want))
    g, w = np.asarray(got), np.asarray(want)
    assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
    if exact:
        assert g.tobytes() == w.tobytes(), (g, w)
        return
    finite = np.abs(w[np.isfinite(w)]) if w.dtype.kind in "fc" else np.abs(w)
    scale = float(np.max(finite, initial=0.0))
    np.testing.assert_allclose(g, w, rtol=RTOL, atol=RTOL * scale)


def _projection(op, u):
    """xs -> <u, f(xs)>: a scalar of every argument."""
    return lambda *xs: anp.sum(anp.multiply(u, op.fn(*xs)))


@pytest.mark.parametrize("op", OPS, ids=ids(OPS))
def test_jit_forward_equals_eager(op, rng):
    args = op.args(rng)
    jf = ad.jit(op.fn)
    assert_same(jf(*args), op.fn(*args), exact=op.name not in NOT_BITWISE)
    args2 = op.args(rng)  # new values, same key: the cached program
    assert_same(jf(*args2), op.fn(*args2), exact=op.name not in NOT_BITWISE)


@pytest.mark.parametrize("op", DIFF_OPS, ids=ids(DIFF_OPS))
def test_jit_grad_equals_grad(op, rng):
    args = op.args(rng)
    u = rng.standard_normal(np.shape(op.ref(*args)))
    g = ad.grad(_projection(op, u), argnums=tuple(range(len(args))))
    assert_same(ad.jit(g)(*args), g(*args), exact=True)


@pytest.mark.parametrize("op", DIFF_OPS, ids=ids(DIFF_OPS))
def test_jit_hessian_equals_hessian(op, rng):
    args = op.args(rng)
    u = rng.standard_normal(np.shape(op.ref(*args)))
    h = ad.hessian(_projection(op, u), argnums=0)
    assert_same(ad.jit(h)(*args), h(*args), exact=True)
