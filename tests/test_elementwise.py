"""Elementwise ops beyond the op table: derivatives at kinks and special points (each
convention of prims/elementwise.py asserted with its analytic value, in both modes),
stability, the torch face of the zero-derivative ops and of the operators, NumPy's calling
forms, and a reference test of value and gradient against PyTorch and JAX."""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import autodx as ad
from autodx.core import BatchingError

jax.config.update("jax_enable_x64", True)

anp = ad.numpy
INF, NAN = math.inf, math.nan


def partials(f, *args, mode: str) -> tuple:
    """Every partial derivative of the scalar function f at args, by reverse or forward mode."""
    args = tuple(np.float64(a) for a in args)
    if mode == "rev":
        return tuple(ad.grad(f, argnums=tuple(range(len(args))))(*args))
    units = [tuple(np.float64(i == j) for i in range(len(args))) for j in range(len(args))]
    return tuple(ad.jvp(f, args, u)[1] for u in units)


# (what, f, point, the partials there)
KINKS = [
    ("abs at 0 (as PyTorch)", anp.abs, (0.0,), (0.0,)),
    ("fabs at 0", anp.fabs, (0.0,), (0.0,)),
    ("sqrt at 0", anp.sqrt, (0.0,), (INF,)),
    ("cbrt at 0", anp.cbrt, (0.0,), (INF,)),
    ("cbrt at -8", anp.cbrt, (-8.0,), (1 / 12,)),
    ("log at 0", anp.log, (0.0,), (INF,)),
    ("arctan2 at the origin", anp.arctan2, (0.0, 0.0), (0.0, 0.0)),
    ("arctan2 at (1, -1)", anp.arctan2, (1.0, -1.0), (-0.5, -0.5)),
    ("hypot at the origin", anp.hypot, (0.0, 0.0), (0.0, 0.0)),
    ("hypot at (3, 4)", anp.hypot, (3.0, 4.0), (0.6, 0.8)),
    ("maximum tie", anp.maximum, (1.0, 1.0), (0.5, 0.5)),
    ("minimum tie", anp.minimum, (1.0, 1.0), (0.5, 0.5)),
    ("fmax tie", anp.fmax, (1.0, 1.0), (0.5, 0.5)),
    ("fmin tie", anp.fmin, (1.0, 1.0), (0.5, 0.5)),
    ("fmax(1, nan)", anp.fmax, (1.0, NAN), (1.0, 0.0)),
    ("fmax(nan, 1)", anp.fmax, (NAN, 1.0), (0.0, 1.0)),
    ("fmin(1, nan)", anp.fmin, (1.0, NAN), (1.0, 0.0)),
    ("fmin(nan, 1)", anp.fmin, (NAN, 1.0), (0.0, 1.0)),
    ("clip at the lower bound", anp.clip, (1.0, 1.0, 2.0), (1.0, 0.0, 0.0)),
    ("clip at the upper bound", anp.clip, (2.0, 1.0, 2.0), (1.0, 0.0, 0.0)),
    ("clip below", anp.clip, (0.5, 1.0, 2.0), (0.0, 1.0, 0.0)),
    ("clip above", anp.clip, (2.5, 1.0, 2.0), (0.0, 0.0, 1.0)),
    ("clip with lo > hi", anp.clip, (1.5, 2.0, 1.0), (0.0, 0.0, 1.0)),
    ("clip with lo == hi == x", anp.clip, (1.5, 1.5, 1.5), (1.0, 0.0, 0.0)),
    ("clip lower bound only, at it", lambda x, lo: anp.clip(x, lo, None), (1.0, 1.0),
     (1.0, 0.0)),
    ("clip upper bound only, above", lambda x, hi: anp.clip(x, None, hi), (3.0, 1.0),
     (0.0, 1.0)),
    ("heaviside at 0", anp.heaviside, (0.0, 0.3), (0.0, 1.0)),
    ("heaviside at 1", anp.heaviside, (1.0, 0.3), (0.0, 0.0)),
    ("remainder(5.5, 2)", anp.remainder, (5.5, 2.0), (1.0, -2.0)),
    ("remainder(-5.5, 2)", anp.remainder, (-5.5, 2.0), (1.0, 3.0)),
    ("fmod(-5.5, 2)", anp.fmod, (-5.5, 2.0), (1.0, 2.0)),
    ("copysign(0, -1)", anp.copysign, (0.0, -1.0), (0.0, 0.0)),
    ("copysign(2, -1)", anp.copysign, (2.0, -1.0), (-1.0, 0.0)),
    ("floor_divide", anp.floor_divide, (5.5, 2.0), (0.0, 0.0)),
    ("sinc at 0", anp.sinc, (0.0,), (0.0,)),
    ("sinc at 0.5", anp.sinc, (0.5,), (-4 / math.pi,)),
    ("angle of -1", anp.angle, (-1.0,), (0.0,)),
    ("angle of 0", anp.angle, (0.0,), (0.0,)),
    ("sign at 0", anp.sign, (0.0,), (0.0,)),
    ("sign at -2", anp.sign, (-2.0,), (0.0,)),
    ("floor", anp.floor, (1.5,), (0.0,)),
    ("round", lambda x: anp.round(x, 1), (1.25,), (0.0,)),
    ("nan_to_num at nan", anp.nan_to_num, (NAN,), (0.0,)),
    ("nan_to_num at inf", anp.nan_to_num, (INF,), (0.0,)),
    ("nan_to_num at 1", anp.nan_to_num, (1.0,), (1.0,)),
    ("logaddexp(1000, 1000)", anp.logaddexp, (1000.0, 1000.0), (0.5, 0.5)),
    ("logaddexp(-1000, 1000)", anp.logaddexp, (-1000.0, 1000.0), (0.0, 1.0)),
    ("logaddexp(-1000, -1000)", anp.logaddexp, (-1000.0, -1000.0), (0.5, 0.5)),
    ("logaddexp(inf, inf)", anp.logaddexp, (INF, INF), (0.5, 0.5)),
    ("logaddexp(-inf, -inf)", anp.logaddexp, (-INF, -INF), (0.5, 0.5)),
    ("logaddexp(inf, 1)", anp.logaddexp, (INF, 1.0), (1.0, 0.0)),
    ("logaddexp(-inf, 1)", anp.logaddexp, (-INF, 1.0), (0.0, 1.0)),
    ("logaddexp2(1000, 1000)", anp.logaddexp2, (1000.0, 1000.0), (0.5, 0.5)),
    ("logaddexp2(1000, -1000)", anp.logaddexp2, (1000.0, -1000.0), (1.0, 0.0)),
    ("logaddexp2(inf, inf)", anp.logaddexp2, (INF, INF), (0.5, 0.5)),
    ("logaddexp2(0, 1)", anp.logaddexp2, (0.0, 1.0), (1 / 3, 2 / 3)),
]


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("what, f, point, want", KINKS, ids=[k[0] for k in KINKS])
def test_derivative_at_special_points(what, f, point, want, mode):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 1/0 = inf is the point
        got = partials(f, *point, mode=mode)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


def test_log_of_zero_is_minus_inf():
    with np.errstate(divide="ignore"):
        value, slope = ad.jvp(anp.log, (np.float64(0.0),), (np.float64(1.0),))
    assert value == -INF and slope == INF


@pytest.mark.parametrize("point", [(0.5, 1.0, 2.0), (1.0, 1.0, 2.0), (2.0, 1.0, 2.0),
                                   (2.5, 1.0, 2.0), (1.5, 2.0, 1.0), (3.0, 2.0, 1.0),
                                   (1.5, 1.5, 1.5), (1.0, 1.5, 1.5)])
def test_clip_gradients_match_torch_clamp(point):
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point]
    torch.clamp(*ts).backward()
    want = [t.grad.item() for t in ts]
    assert partials(anp.clip, *point, mode="rev") == pytest.approx(want)
    assert partials(anp.clip, *point, mode="fwd") == pytest.approx(want)


def test_clip_at_scalar_bounds_matches_torch():
    x = np.array([0.5, 1.0, 1.5, 2.0, 2.5])
    t = torch.tensor(x, requires_grad=True)
    t.clamp(1.0, 2.0).sum().backward()
    got = ad.grad(lambda x: anp.sum(anp.clip(x, 1.0, 2.0)))(x)
    np.testing.assert_array_equal(got, t.grad.numpy())  # [0, 1, 1, 1, 0]


def test_logaddexp_hessian_at_a_tie():
    h = ad.hessian(lambda x: anp.logaddexp(x, 1.0))(np.float64(1.0))
    assert h == pytest.approx(0.25, rel=1e-14)


@pytest.mark.parametrize("f", [anp.logaddexp, anp.logaddexp2])
def test_logaddexp_stable_in_float32(f):
    x = np.array([1000.0, -1000.0, 1000.0, 3.0], np.float32)
    y = np.array([1000.0, 1000.0, -1000.0, 3.0], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no inf - inf, no 1/0
        gx, gy = ad.grad(lambda x, y: anp.sum(f(x, y)), argnums=(0, 1))(x, y)
    assert gx.dtype == gy.dtype == np.float32
    np.testing.assert_array_equal(gx, [0.5, 0.0, 1.0, 0.5])
    np.testing.assert_array_equal(gy, [0.5, 1.0, 0.0, 0.5])


@pytest.mark.parametrize("order", ["fwd-over-rev", "rev-over-rev", "fwd-over-fwd", "hessian"])
def test_sinc_second_derivative_at_zero(order):
    zero, one = np.float64(0.0), np.float64(1.0)
    d2 = {"fwd-over-rev": lambda: ad.jvp(ad.grad(anp.sinc), (zero,), (one,))[1],
          "rev-over-rev": lambda: ad.grad(ad.grad(anp.sinc))(zero),
          "fwd-over-fwd": lambda: ad.jvp(lambda x: ad.jvp(anp.sinc, (x,), (one,))[1],
                                         (zero,), (one,))[1],
          "hessian": lambda: ad.hessian(anp.sinc)(zero)}[order]()
    assert d2 == pytest.approx(-math.pi**2 / 3, rel=1e-14)


def test_sinc_higher_derivatives_at_zero_and_nearby():
    d3 = ad.grad(ad.grad(ad.grad(anp.sinc)))
    d4 = ad.grad(d3)
    assert d3(0.0) == 0.0
    assert d4(0.0) == pytest.approx(math.pi**4 / 5, rel=1e-14)
    x = torch.tensor(1e-3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(torch.sinc(x), x, create_graph=True)
    (h,) = torch.autograd.grad(g, x)
    assert ad.grad(anp.sinc)(1e-3) == pytest.approx(g.item(), rel=1e-9)
    assert ad.grad(ad.grad(anp.sinc))(1e-3) == pytest.approx(h.item(), rel=1e-6)


# ----------------------------------------------------------------------------- torch face

@pytest.mark.parametrize("f", [anp.floor, anp.ceil, anp.rint, anp.trunc, anp.fix, anp.sign,
                               anp.round, lambda t: t.round(decimals=1), lambda t: t.floor(),
                               lambda t: np.round(t, 1), lambda t: np.floor(t), lambda t: t // 2.0],
                         ids=["floor", "ceil", "rint", "trunc", "fix", "sign", "round",
                              ".round(decimals=1)", ".floor()", "np.round", "np.floor", "// 2"])
def test_zero_derivative_ops_keep_requires_grad(f):
    t = ad.tensor([1.5, -2.25, 0.0], requires_grad=True)
    y = f(t)
    assert y.requires_grad  # as PyTorch, for float results
    (y * 2).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 0.0, 0.0])


def test_predicates_do_not_require_grad():
    t = ad.tensor([1.0, np.inf, np.nan], requires_grad=True)
    for y in (anp.isfinite(t), t.isnan(), np.isinf(t), anp.signbit(t), ~(t > 0),
              (t > 0) & (t < 2), (t > 0) | True, False ^ (t > 0), anp.isclose(t, 1.0)):
        assert not y.requires_grad and y.dtype == np.bool_


def test_floordiv_mod_divmod_on_tensors():
    x, y = np.array([5.5, -5.5, 7.0]), np.array([2.0, 2.0, -3.0])
    tx, ty = ad.tensor(x, requires_grad=True), ad.tensor(y, requires_grad=True)
    q, r = divmod(tx, ty)
    np.testing.assert_array_equal((tx // ty).detach().numpy(), x // y)
    np.testing.assert_array_equal((tx % ty).detach().numpy(), x % y)
    np.testing.assert_array_equal(q.detach().numpy(), x // y)
    np.testing.assert_array_equal(r.detach().numpy(), x % y)
    (q + r).sum().backward()
    np.testing.assert_array_equal(tx.grad.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(ty.grad.numpy(), -np.floor(x / y))
    np.testing.assert_array_equal((7.0 % ty).detach().numpy(), 7.0 % y)
    np.testing.assert_array_equal((7.0 // ty).detach().numpy(), 7.0 // y)
    q, r = divmod(7.0, ty)
    np.testing.assert_array_equal(r.detach().numpy(), 7.0 % y)


def test_floordiv_mod_divmod_under_grad():
    x, y = np.array([5.5, -5.5]), np.array([2.0, 2.0])
    gx, gy = ad.grad(lambda x, y: anp.sum(x % y + x // y), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [1.0, 1.0])
    np.testing.assert_array_equal(gy, [-2.0, 3.0])
    g = ad.grad(lambda y: anp.sum(divmod(7.0, y)[1] * np.divmod(y, 4.0)[1]))(y)
    np.testing.assert_allclose(g, (7.0 % y) - np.floor(7.0 / y) * (y % 4.0))
    np.testing.assert_array_equal(ad.grad(lambda x: anp.sum(np.floor_divide(x, 2.0)))(x), 0.0)


def test_bitwise_operators_on_booleans_and_integers():
    a, b = np.array([True, False, True]), np.array([True, True, False])
    ta, tb = ad.tensor(a), ad.tensor(b)
    for got, want in [(ta & tb, a & b), (ta | tb, a | b), (ta ^ tb, a ^ b), (~ta, ~a),
                      (True & tb, True & b), (a | tb, a | b)]:
        np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal(anp.bitwise_and(np.array([6, 5]), 3), [2, 1])
    np.testing.assert_array_equal(anp.invert(np.array([0], np.uint8)), [255])
    out = ad.vmap(lambda x: anp.where((x > 0) & ~(x > 1), x, 0.0))(np.array([0.5, 2.0, -1.0]))
    np.testing.assert_array_equal(out, [0.5, 0.0, 0.0])


# ----------------------------------------------------------------------------- NumPy's forms

def test_one_argument_where():
    c = np.array([[True, False], [False, True]])
    for cond in (c, ad.tensor(c), ad.tensor([[1.0, 0.0], [0.0, 2.0]], requires_grad=True)):
        got = anp.where(cond)
        assert len(got) == 2
        for g, w in zip(got, np.where(c)):
            np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(np.where(ad.tensor(c))[1], [0, 1])  # dispatched
    x = np.array([1.0, -2.0, 3.0])
    g = ad.grad(lambda x: anp.sum(x[anp.where(x > 0)] ** 2))(x)
    np.testing.assert_array_equal(g, [2.0, 0.0, 6.0])
    with pytest.raises(ValueError, match="both or neither"):
        anp.where(c, 1.0)


def test_select_matches_numpy():
    x = np.linspace(-2, 2, 9).astype(np.float32)
    conds, choices = [x < -1, x > 1], [x * 2, np.sin(x)]
    for default in (0, 0.5, np.float64(1.0)):
        got, want = anp.select(conds, choices, default), np.select(conds, choices, default)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    g = ad.grad(lambda x: anp.sum(anp.select([x < -1, x > 1], [x * 2, anp.sin(x)], x)))(x)
    np.testing.assert_allclose(g, np.select(conds, [2.0, np.cos(x)], 1.0), rtol=1e-6)
    with pytest.raises(ValueError, match="same length"):
        anp.select([x > 0], [x, x])
    with pytest.raises(TypeError, match="entry 0"):
        anp.select([x], [x])


def test_clip_calling_forms():
    x = np.array([-2.0, 0.5, 3.0])
    t = ad.tensor(x, requires_grad=True)
    for got, want in [(np.clip(t, 0, 1), np.clip(x, 0, 1)), (t.clip(0, 1), x.clip(0, 1)),
                      (t.clip(min=0), x.clip(min=0)), (t.clamp(max=1), x.clip(max=1)),
                      (anp.clip(t, min=0, max=1), np.clip(x, min=0, max=1)),
                      (anp.clip(t, a_min=None, a_max=1), np.clip(x, None, 1)),
                      (np.clip(x, ad.tensor(0.0), 1.0), np.clip(x, 0, 1)),
                      (anp.clip(t, None, None), np.clip(x, None, None))]:
        np.testing.assert_array_equal(got.detach().numpy(), want)
    assert anp.clip(np.arange(4), 1, 2).dtype == np.clip(np.arange(4), 1, 2).dtype
    with pytest.raises(TypeError, match="a_max"):
        anp.clip(x, 0)
    with pytest.raises(ValueError, match="forbidden"):
        anp.clip(x, 0, 1, min=0)
    with pytest.raises(TypeError, match="out="):
        anp.clip(x, 0, 1, out=x)


def test_round_calling_forms():
    x = np.array([0.125, 2.5, -1.55])
    t = ad.tensor(x)
    for got, want in [(np.round(t, 2), np.round(x, 2)), (np.around(t), np.around(x)),
                      (t.round(decimals=1), x.round(decimals=1)), (anp.round(t), np.round(x))]:
        np.testing.assert_array_equal(got.numpy(), want)
    assert anp.round(np.float32(2.567), 2).dtype == np.float32


def test_nan_to_num_calling_forms():
    x = np.array([np.nan, np.inf, -np.inf, 1.5])
    t = ad.tensor(x, requires_grad=True)
    y = t.nan_to_num(1.0, posinf=9.0, neginf=-9.0)  # torch's method: nan first
    np.testing.assert_array_equal(y.detach().numpy(),
                                  np.nan_to_num(x, nan=1.0, posinf=9.0, neginf=-9.0))
    np.testing.assert_array_equal(np.nan_to_num(t, neginf=-3.0).detach().numpy(),
                                  np.nan_to_num(x, neginf=-3.0))
    (y * 3).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 0.0, 0.0, 3.0])


def test_complex_parts_as_properties_and_methods():
    z = np.array([1.0 + 2.0j, -3.0 - 0.5j])
    t = ad.tensor(z)
    np.testing.assert_array_equal(t.real.numpy(), z.real)
    np.testing.assert_array_equal(t.imag.numpy(), z.imag)
    np.testing.assert_array_equal(t.conj().numpy(), z.conj())
    np.testing.assert_array_equal(t.conjugate().numpy(), z.conjugate())
    np.testing.assert_array_equal(t.angle().numpy(), np.angle(z))
    np.testing.assert_array_equal(anp.angle(t, deg=True).numpy(), np.angle(z, deg=True))
    x = ad.tensor([1.0, -2.0], requires_grad=True)
    (x.imag + x.real * 2).sum().backward()  # imag of a real value is the constant 0
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_complex_abs_and_sign_derivatives():
    # |x + i y| and sign(x + i y) as real functions of (x, y): the analytic partials
    x, y = 3.0, -4.0
    gx, gy = ad.grad(lambda x, y: anp.abs(x + 1j * y), argnums=(0, 1))(x, y)
    assert (gx, gy) == pytest.approx((0.6, -0.8))
    gx, gy = ad.grad(lambda x, y: anp.imag(anp.sign(x + 1j * y)), argnums=(0, 1))(x, y)
    assert (gx, gy) == pytest.approx((-y * x / 125, x * x / 125))  # d(y / r): -xy/r^3, x^2/r^3
    assert ad.grad(lambda x: anp.abs(x * (1 + 1j)))(0.0) == 0.0  # 0 at z == 0
    assert ad.grad(lambda x: anp.real(anp.sign(x * (1 + 1j))))(0.0) == 0.0


def test_isclose_and_allclose():
    a, b = np.array([1.0, np.nan, np.inf, 1.0]), np.array([1.0 + 1e-9, np.nan, np.inf, 1.1])
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.2}, {"atol": 0.0, "rtol": 0.0}):
        np.testing.assert_array_equal(anp.isclose(a, b, **kw), np.isclose(a, b, **kw))
        assert anp.allclose(a[:1], b[:1], **kw) is np.allclose(a[:1], b[:1], **kw)
    assert ad.tensor(a).isclose(b).numpy().tolist() == np.isclose(a, b).tolist()
    assert anp.allclose(ad.tensor(a[:1], requires_grad=True), b[:1]) is True
    with pytest.raises(BatchingError):
        ad.vmap(lambda x: anp.allclose(x, 1.0))(np.ones(3))


# ----------------------------------------------------------------------------- references

def _jax_grads(f, args):
    return jax.grad(lambda *a: jnp.sum(f(*a)), argnums=tuple(range(len(args))))(*args)


def _torch_grads(f, args):
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    out = f(*ts)
    out.sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


def _r(rng, shape):
    return rng.uniform(-2.0, 2.0, shape)


def _pos(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _unit(rng, shape):
    return rng.uniform(-0.9, 0.9, shape)


def _big(rng, shape):
    return rng.uniform(1.2, 3.0, shape)


def _nonzero(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)


def _some_nan(rng, shape):
    x = _r(rng, shape)
    x.ravel()[::3] = np.nan
    return x


def _special(rng, shape):
    x = _r(rng, shape)
    x.ravel()[::4], x.ravel()[1::5], x.ravel()[2::7] = np.nan, np.inf, -np.inf
    return x


def _same(name):
    return lambda m: getattr(m, name)


def _z(fn):
    """fn of the complex value x + iy, in any of the three namespaces."""
    return lambda m: lambda x, y: fn(m, x + 1j * y)


# name: ([overrides,] the function given the namespace (ad.numpy, jax.numpy or torch),
# domains); an override is None where that framework has no such function, "value" where it
# has one without a derivative
REFERENCE: dict[str, tuple] = {
    **{n: (_same(n), (_r,)) for n in (
        "exp", "exp2", "expm1", "sin", "cos", "tanh", "sinh", "cosh", "arctan", "arcsinh",
        "sinc", "deg2rad", "rad2deg", "floor", "ceil", "trunc", "sign", "square")},
    **{n: (_same(n), (_pos,)) for n in ("log", "log2", "log10", "sqrt", "reciprocal")},
    **{n: (_same(n), (_unit,)) for n in ("log1p", "tan", "arcsin", "arccos", "arctanh")},
    "arccosh": (_same("arccosh"), (_big,)),
    "abs": (_same("abs"), (_nonzero,)),
    "absolute": (_same("absolute"), (_nonzero,)),
    **{n: (_same(n), (_r, _r)) for n in (
        "arctan2", "hypot", "logaddexp", "logaddexp2", "maximum", "minimum", "fmax", "fmin")},
    "fmax with NaN": (_same("fmax"), (_r, _some_nan)),
    "fmin with NaN": (_same("fmin"), (_some_nan, _r)),
    "copysign": (_same("copysign"), (_nonzero, _nonzero)),
    # (PyTorch's derivative is 0 for negative integer exponents: 2**-2 in integers)
    "ldexp": ({"torch": lambda x: torch.ldexp(x, torch.tensor([-2.0, 0.0, 1.0, 3.0]))},
              lambda m: lambda x: m.ldexp(x, np.array([-2, 0, 1, 3])), (_r,)),
    "divmod": ({"torch": None}, lambda m: lambda x, y: m.divmod(x, y)[0] * m.divmod(x, y)[1],
               (_r, _nonzero)),
    "where": (lambda m: lambda x, y: m.where(x > 0, x * y, m.sin(y)), (_r, _r)),
    "select": ({"torch": None}, lambda m: lambda x, y: m.select(
        [x > 0.5, x < -0.5], [x * y, m.sin(y)], y), (_r, _r)),
    "power": (_same("pow"), (_pos, _r)),
    "float_power": (_same("float_power"), (_pos, _r)),
    "remainder": (_same("remainder"), (_r, _nonzero)),
    "fmod": (_same("fmod"), (_r, _nonzero)),
    "clip": (_same("clip"), (_r, lambda rng, s: _r(rng, s) - 1, lambda rng, s: _r(rng, s) + 1)),
    "round": (lambda m: lambda x: m.round(x, decimals=1) if m is torch else m.round(x, 1),
              (_r,)),
    "nan_to_num": (lambda m: lambda x: m.nan_to_num(x, nan=0.5, posinf=9.0, neginf=-9.0),
                   (_special,)),
    "angle of a real input": (_same("angle"), (_nonzero,)),
    "angle": (_z(lambda m, z: m.angle(z)), (_r, _r)),
    "abs of a complex input": (_z(lambda m, z: m.abs(z)), (_r, _r)),
    "real, imag, conj": (_z(lambda m, z: m.imag(m.conj(z) * (z.real - 2j))
                            + m.real(z * z * (1 - 1j))), (_r, _r)),
    # JAX's sign has derivative 0 for complex inputs too; PyTorch's sgn has z / |z|'s
    "sign of a complex input": ({"jax": None}, lambda m: lambda x, y: m.real(
        (torch.sgn if m is torch else m.sign)(x + 1j * y) * (0.5 - 2j)), (_r, _r)),
    "frexp": (lambda m: lambda x: m.frexp(x)[0] * m.frexp(x)[1], (_r,)),
    "modf": ({"torch": None}, lambda m: lambda x: m.modf(x)[0] * x, (_r,)),
    "spacing": ({"torch": None, "jax": "value"}, lambda m: lambda x: m.spacing(x) + x, (_r,)),
    "nextafter": ({"torch": "value", "jax": "value"}, _same("nextafter"), (_r, _r)),
    "cbrt": ({"torch": None}, _same("cbrt"), (_nonzero,)),
    "fabs": ({"torch": None}, _same("fabs"), (_nonzero,)),
    "rint": ({"torch": lambda x: torch.round(x)}, _same("rint"), (_r,)),
    "fix": ({"jax": jnp.trunc}, _same("fix"), (_r,)),  # jax.numpy.fix is deprecated
    "heaviside": ({"torch": "value"}, _same("heaviside"), (_nonzero, _r)),
    "floor_divide": ({"torch": "value"}, _same("floor_divide"), (_r, _nonzero)),
}


def _reference_case(name):
    entry = REFERENCE[name]
    overrides, make, domains = entry if len(entry) == 3 else ({}, *entry)
    torch_fn, jax_fn = (overrides[k] if k in overrides else make(m)
                        for k, m in (("torch", torch), ("jax", jnp)))
    return make, torch_fn, jax_fn, domains


def _compare(value, grads, want, want_grads=()):
    np.testing.assert_allclose(value, want, rtol=1e-13, atol=1e-15)
    for g, w in zip(grads, want_grads):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(REFERENCE))
def test_value_and_gradient_match_torch_and_jax(name):
    make, torch_fn, jax_fn, domains = _reference_case(name)
    fn = make(anp)
    rng = np.random.default_rng(7)
    args = [d(rng, (3, 4)) for d in domains]
    value = fn(*args)
    grads = ad.grad(lambda *a: anp.sum(fn(*a)), argnums=tuple(range(len(args))))(*args)
    if jax_fn == "value":  # JAX has the function but no derivative
        _compare(value, grads, make(jnp)(*args))
    elif jax_fn is not None:
        _compare(value, grads, jax_fn(*args), _jax_grads(jax_fn, args))
    if torch_fn == "value":
        _compare(value, grads, make(torch)(*[torch.tensor(a) for a in args]).numpy())
    elif torch_fn is not None:
        _compare(value, grads, *_torch_grads(torch_fn, args))


PREDICATES = ["isfinite", "isnan", "isinf", "signbit", "isposinf", "isneginf", "isreal",
              "logical_not"]
LOGICAL = ["logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
           "bitwise_xor"]


@pytest.mark.parametrize("name", PREDICATES + LOGICAL)
def test_boolean_functions_match_torch_and_jax(name):
    rng = np.random.default_rng(3)
    x, y = _special(rng, (3, 4)), _r(rng, (3, 4))
    args = (x,) if name in PREDICATES else (x > 0, y > 0)
    if name == "logical_not":
        args = (x > 0,)
    got = getattr(anp, name)(*args)
    np.testing.assert_array_equal(got, getattr(jnp, name)(*args))
    np.testing.assert_array_equal(got, getattr(torch, name)(*map(torch.tensor, args)).numpy())


# real-valued functions of a complex input, in the three namespaces: (make, check against JAX)
COMPLEX_INPUT = {
    "abs": (lambda m: m.abs, True),
    "angle": (lambda m: m.angle, True),
    # JAX's sign has derivative 0 for complex inputs too
    "real(sign(z) (1 - 2i))": (lambda m: lambda z: m.real(
        (torch.sgn if m is torch else m.sign)(z) * (1 - 2j)), False),
    "imag(conj(z) z^2)": (lambda m: lambda z: m.imag(m.conj(z) * z * z), True),
    "abs(sinc(z))": (lambda m: lambda z: m.abs(m.sinc(z)), True),
    "real(arcsinh(z) + log1p(z) exp2(z))": (lambda m: lambda z: m.real(
        m.arcsinh(z) + m.log1p(z) * m.exp2(z)), True),
    # JAX's arccosh derivative, 1 / sqrt(z^2 - 1), takes the other branch at -0.3 - 2i
    "real(arccosh(z))": (lambda m: lambda z: m.real(m.arccosh(z)), False),
}


@pytest.mark.parametrize("name", list(COMPLEX_INPUT))
def test_complex_input_gradients_match_torch_and_jax(name):
    """The torch face gives PyTorch's gradient (conjugated at the leaf), the JAX face JAX's:
    for a real f of z = x + iy, df/dx - i df/dy (checked by finite differences too)."""
    make, with_jax = COMPLEX_INPUT[name]
    z = np.array([1.2 + 0.7j, -0.3 - 2.0j, 0.4 + 0.1j])
    f, f_torch, f_jax = make(anp), make(torch), make(jnp)
    got = ad.grad(lambda z: anp.sum(f(z)))(z)
    h = 1e-6
    fd = [(f(z + h * e) - f(z - h * e)) / (2 * h) for e in (1.0, 1j)]
    np.testing.assert_allclose(got, fd[0] - 1j * fd[1], rtol=1e-7)
    if with_jax:
        np.testing.assert_allclose(got, jax.grad(lambda z: jnp.sum(f_jax(z)))(z), rtol=1e-12)
    t, u = ad.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
    anp.sum(f(t)).backward()
    f_torch(u).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), u.grad.numpy(), rtol=1e-12)
