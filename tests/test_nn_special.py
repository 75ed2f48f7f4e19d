"""`ad.nn` and `ad.scipy.special` beyond the op table: analytic values at the kinks and special
points, stability at +-1000 in float64 and float32, the Tensor methods, and value and gradient
against PyTorch (torch.nn.functional, torch.special) and JAX (jax.nn, jax.scipy.special)."""

from __future__ import annotations

import jax  # float64 is switched on in conftest.py, before any JAX array exists
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import autodx as ad

anp, nn, sp = ad.numpy, ad.nn, ad.scipy.special
INF = np.inf
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

jax.config.update("jax_enable_x64", True)  # also in conftest.py; harmless when run alone


def d(f, x):
    """f'(x) by reverse mode, checked against forward mode."""
    rev, fwd = ad.grad(f)(x), ad.jvp(f, (x,), (1.0,))[1]
    np.testing.assert_array_equal(rev, fwd)
    return rev


# ----------------------------------------------------------------------------- analytic values

@pytest.mark.parametrize("f, x, want", [
    (nn.relu, 0.0, 0.0), (nn.relu, -1.0, 0.0), (nn.relu, 2.0, 1.0),
    (nn.relu6, 0.0, 0.0), (nn.relu6, 6.0, 0.0), (nn.relu6, 3.0, 1.0),
    (nn.hard_tanh, 1.0, 0.0), (nn.hard_tanh, -1.0, 0.0), (nn.hardtanh, 0.5, 1.0),
    (nn.leaky_relu, 0.0, 0.01), (lambda x: nn.leaky_relu(x, 0.3), -2.0, 0.3),
    (nn.elu, 0.0, 1.0), (lambda x: nn.elu(x, 0.5), 0.0, 0.5), (nn.celu, 0.0, 1.0),
    (nn.selu, 0.0, SELU_SCALE * SELU_ALPHA), (nn.selu, 1.0, SELU_SCALE),
    (nn.sigmoid, 0.0, 0.25), (sp.expit, 0.0, 0.25), (nn.silu, 0.0, 0.5),
    (nn.softplus, 0.0, 0.5), (lambda x: nn.softplus(x, beta=3.0), 0.0, 0.5),
    (nn.log_sigmoid, 0.0, 0.5), (nn.logsigmoid, 0.0, 0.5), (nn.gelu, 0.0, 0.5),
    (nn.softsign, 0.0, 1.0), (nn.soft_sign, 1.0, 0.25), (nn.swish, 0.0, 0.5),
    (sp.logit, 0.5, 4.0), (sp.entr, 1.0, -1.0), (sp.entr, 0.0, INF), (sp.entr, -1.0, 0.0),
])
def test_derivative_at_special_points(f, x, want):
    assert d(f, x) == pytest.approx(want, rel=1e-15, abs=0)


def test_second_derivatives_at_zero():
    assert ad.grad(ad.grad(nn.sigmoid))(0.0) == 0.0
    assert ad.grad(ad.grad(nn.softplus))(0.0) == pytest.approx(0.25, rel=1e-15)
    assert ad.grad(ad.grad(nn.relu))(0.0) == 0.0
    assert ad.grad(ad.grad(nn.elu))(-1.0) == pytest.approx(np.exp(-1.0), rel=1e-15)


def test_values_at_special_points():
    assert nn.relu(0.0) == 0.0 and nn.relu6(7.0) == 6.0 and nn.hard_tanh(-3.0) == -1.0
    assert nn.sigmoid(0.0) == 0.5 and nn.softplus(0.0) == np.log(2.0)
    assert nn.elu(-INF) == -1.0 and nn.gelu(0.0) == 0.0 and sp.logit(0.5) == 0.0
    assert sp.logit(np.float64(0.0)) == -INF and sp.logit(np.float64(1.0)) == INF
    assert sp.entr(0.0) == 0.0 and sp.entr(-1.0) == -INF
    assert sp.rel_entr(0.0, 0.0) == 0.0 and sp.rel_entr(1.0, 0.0) == INF
    assert sp.rel_entr(-1.0, 1.0) == INF and sp.kl_div(0.0, 2.0) == 2.0
    assert sp.kl_div(1.0, 0.0) == INF


def test_xlogy_at_zero():
    """0 at x == 0 whatever y is (NaN only for a NaN y); d/dy 0 there, d/dx log(y)."""
    for y in (0.0, 2.0, -1.0, INF):
        assert sp.xlogy(0.0, y) == 0.0 and sp.xlog1py(0.0, y - 1.0) == 0.0
    assert np.isnan(sp.xlogy(0.0, np.nan)) and sp.xlogy(2.0, 0.0) == -INF
    grads = ad.grad(sp.xlogy, argnums=(0, 1))
    assert grads(0.0, 2.0) == (np.log(2.0), 0.0)
    assert grads(0.0, 0.0) == (-INF, 0.0)
    assert ad.grad(sp.xlog1py, argnums=(0, 1))(0.0, -1.0) == (-INF, 0.0)
    assert ad.grad(ad.grad(sp.xlogy, 1), 0)(0.0, 2.0) == 0.5  # the mixed partial 1/y
    assert ad.grad(ad.grad(sp.xlogy, 0), 1)(0.0, 2.0) == 0.5


def test_rel_entr_and_kl_div_at_the_boundary():
    """d/dx -inf at x == 0 (the limit); both derivatives 0 where rel_entr is the constant inf,
    so kl_div's are (-1, 1) there, as JAX's."""
    rel, kl = ad.grad(sp.rel_entr, argnums=(0, 1)), ad.grad(sp.kl_div, argnums=(0, 1))
    assert rel(0.0, 2.0) == (-INF, 0.0)
    assert rel(1.0, 0.0) == (0.0, 0.0) and rel(-1.0, 1.0) == (0.0, 0.0)
    assert rel(0.5, 0.5) == (1.0, -1.0)
    assert kl(1.0, 0.0) == (-1.0, 1.0) and kl(0.5, 0.5) == (0.0, 0.0)
    assert np.isnan(sp.rel_entr(np.nan, 1.0)) and np.isnan(sp.kl_div(1.0, np.nan))


def test_logsumexp_gradient_is_softmax():
    x = np.random.default_rng(0).uniform(-3, 3, (3, 4))
    for axis in (None, 0, 1, -1):
        g = ad.grad(lambda x, axis=axis: anp.sum(sp.logsumexp(x, axis=axis) * 1.0))(x)
        np.testing.assert_allclose(g, sp.softmax(x, axis=axis), rtol=1e-14)
    p = sp.softmax(x[0])
    h = ad.hessian(sp.logsumexp)(x[0])
    np.testing.assert_allclose(h, np.diag(p) - np.outer(p, p), rtol=1e-13, atol=1e-16)
    h_fwd = ad.jacfwd(ad.grad(sp.logsumexp))(x[0])
    np.testing.assert_allclose(h_fwd, h, rtol=1e-13, atol=1e-16)


def test_logsumexp_of_all_minus_inf_is_minus_inf_with_zero_gradient():
    a = np.array([[-INF, -INF, -INF], [0.0, np.log(3.0), -INF]])
    out, vjp = ad.vjp(lambda a: sp.logsumexp(a, axis=1), a)
    np.testing.assert_array_equal(out, [-INF, np.log(4.0)])
    (g,) = vjp(np.ones(2))
    np.testing.assert_allclose(g, [[0.0, 0.0, 0.0], [0.25, 0.75, 0.0]], rtol=1e-15)
    assert ad.grad(nn.logsumexp)(np.full(4, -INF)).tolist() == [0.0] * 4
    t = ad.tensor(np.full((2, 2), -INF), requires_grad=True)
    sp.logsumexp(t).backward()
    assert t.grad.numpy().tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert sp.logsumexp(np.array([INF, 0.0])) == INF


def test_logsumexp_weights_and_sign():
    a = np.array([1000.0, 0.0, 1.0])
    # a zero weight drops its term, even a huge one
    assert sp.logsumexp(a, b=np.array([0.0, 1.0, 0.0])) == 0.0
    out, sign = sp.logsumexp(np.array([0.0, np.log(3.0)]), b=np.array([1.0, -1.0]),
                             return_sign=True)
    assert out == pytest.approx(np.log(2.0), rel=1e-15) and sign == -1.0
    out, sign = sp.logsumexp(np.zeros(2), b=np.array([1.0, -1.0]), return_sign=True)
    assert out == -INF and sign == 0.0
    with np.errstate(invalid="ignore"):  # a negative sum without return_sign: NaN, as SciPy
        assert np.isnan(sp.logsumexp(np.zeros(2), b=np.array([1.0, -2.0])))
    kept = sp.logsumexp(np.zeros((2, 3)), axis=1, keepdims=True, b=2.0)
    np.testing.assert_allclose(kept, np.full((2, 1), np.log(6.0)), rtol=1e-15)


def test_one_hot():
    x = np.array([0, 2, 5, -1])
    want = np.array([[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]], dtype=np.float64)
    got = nn.one_hot(x, 3)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(nn.one_hot(x, 3, axis=0), want.T)
    assert nn.one_hot(x, 3, dtype=np.int64).dtype == np.int64
    assert not nn.one_hot(ad.tensor([0.0, 1.0], requires_grad=True), 2).requires_grad
    np.testing.assert_array_equal(ad.vmap(lambda i: nn.one_hot(i, 3))(x), want)


def test_errors():
    with pytest.raises(NotImplementedError, match="erf.*approximate=True"):
        nn.gelu(1.0, approximate=False)
    with pytest.raises(NotImplementedError, match="erf"):
        nn.gelu(1.0, approximate="none")
    with pytest.raises(ValueError, match="approximate"):
        nn.gelu(1.0, approximate="fast")
    with pytest.raises(TypeError, match="num_classes"):
        nn.one_hot(np.array([1]), 2.5)
    with pytest.raises(ValueError, match="num_classes"):
        nn.one_hot(np.array([1]), -1)
    with pytest.raises(np.exceptions.AxisError):
        nn.softmax(np.zeros((2, 3)), axis=2)


# ----------------------------------------------------------------------------- stability

EXTREME = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0])

# name, function, its value at -1000 and at +1000
LIMITS = [
    ("relu", nn.relu, 0.0, 1000.0), ("relu6", nn.relu6, 0.0, 6.0),
    ("hard_tanh", nn.hard_tanh, -1.0, 1.0), ("leaky_relu", nn.leaky_relu, -10.0, 1000.0),
    ("elu", nn.elu, -1.0, 1000.0), ("celu", lambda x: nn.celu(x, 2.0), -2.0, 1000.0),
    ("selu", nn.selu, -SELU_SCALE * SELU_ALPHA, SELU_SCALE * 1000),
    ("gelu", nn.gelu, 0.0, 1000.0), ("sigmoid", nn.sigmoid, 0.0, 1.0),
    ("log_sigmoid", nn.log_sigmoid, -1000.0, 0.0), ("softplus", nn.softplus, 0.0, 1000.0),
    ("softplus beta", lambda x: nn.softplus(x, beta=0.5), 0.0, 1000.0),
    ("silu", nn.silu, 0.0, 1000.0), ("softsign", nn.softsign, -1000 / 1001, 1000 / 1001),
    ("tanh", nn.tanh, -1.0, 1.0), ("expit", sp.expit, 0.0, 1.0),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, f, low, high", LIMITS, ids=[r[0] for r in LIMITS])
def test_elementwise_stable_at_extremes(name, f, low, high, dtype):
    x = EXTREME.astype(dtype)
    out = f(x)
    assert out.dtype == dtype
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[[0, -1]], [low, high], atol=1e-30,
                               rtol=1e-6 if dtype == np.float32 else 1e-15)
    g = ad.grad(lambda x: anp.sum(f(x)))(x)
    h = ad.grad(lambda x: anp.sum(ad.grad(lambda x: anp.sum(f(x)))(x)))(x)
    assert g.dtype == dtype and np.all(np.isfinite(g)) and np.all(np.isfinite(h))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_normalizers_stable_at_extremes(dtype):
    x = np.array([[1000.0, -1000.0, 0.0], [1000.0, 1000.0, -1000.0]], dtype=dtype)
    tol = {"rtol": 1e-6 if dtype == np.float32 else 1e-15}
    cases = [
        (nn.softmax(x), [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]),
        (nn.log_softmax(x), [[0.0, -2000.0, -1000.0],
                             [-np.log(2.0), -np.log(2.0), -2000.0 - np.log(2.0)]]),
        (sp.logsumexp(x, axis=1), [1000.0, 1000.0 + np.log(2.0)]),
        (nn.logsumexp(x, axis=1), [1000.0, 1000.0 + np.log(2.0)]),
        (sp.softmax(x[0]), [1.0, 0.0, 0.0]),
        (sp.log_softmax(x[1]), [-np.log(2.0), -np.log(2.0), -2000.0 - np.log(2.0)]),
    ]
    for got, want in cases:
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, **tol)
    u = np.array([[0.3, -1.0, 2.0], [1.0, 0.5, -0.25]], dtype=dtype)
    for f in (nn.softmax, nn.log_softmax, lambda x: sp.logsumexp(x, axis=1),
              lambda x: sp.softmax(x, axis=0)):
        g = ad.grad(lambda x, f=f: anp.sum(anp.sin(f(x))))(x)
        hvp = ad.jvp(ad.grad(lambda x, f=f: anp.sum(anp.sin(f(x)))), (x,), (u,))[1]
        assert g.dtype == dtype and np.all(np.isfinite(g)) and np.all(np.isfinite(hvp))


def test_special_functions_stable_at_extremes():
    assert sp.logit(1e-300) == pytest.approx(np.log(1e-300), rel=1e-15)
    assert np.isfinite(d(sp.logit, 1e-300)) and np.isfinite(d(sp.logit, 1.0 - 1e-16))
    assert sp.xlogy(1e-300, 1e-300) == pytest.approx(-1e-300 * 690.7755278982137, rel=1e-14)
    assert sp.xlog1py(2.0, 1e-20) == 2e-20
    assert d(lambda y: sp.xlog1py(2.0, y), 1e-20) == 2.0
    assert sp.expit(np.float32(-100.0)) == np.float32(np.exp(-100.0))  # no underflow to 0


# ----------------------------------------------------------------------------- Tensor methods

def test_tensor_methods_backward_match_torch():
    x = np.random.default_rng(1).uniform(-2, 2, (3, 4))
    u = np.random.default_rng(2).standard_normal((3, 4))
    cases = [
        (lambda t: t.relu(), lambda t: t.relu()),
        (lambda t: t.sigmoid(), lambda t: t.sigmoid()),
        (lambda t: t.tanh(), lambda t: t.tanh()),
        (lambda t: t.softmax(1), lambda t: t.softmax(1)),
        (lambda t: t.softmax(dim=0), lambda t: t.softmax(dim=0)),
        (lambda t: t.softmax(axis=-1), lambda t: t.softmax(-1)),
        (lambda t: t.log_softmax(-1), lambda t: t.log_softmax(-1)),
        (lambda t: t.log_softmax(dim=0), lambda t: t.log_softmax(dim=0)),
    ]
    for ours, theirs in cases:
        t = ad.tensor(x, requires_grad=True)
        out = ours(t)
        assert isinstance(out, ad.Tensor)
        (out * u).sum().backward()
        r = torch.tensor(x, requires_grad=True)
        (theirs(r) * torch.tensor(u)).sum().backward()
        np.testing.assert_allclose(out.detach().numpy(), theirs(r).detach().numpy(),
                                   rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(t.grad.numpy(), r.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_functions_on_tensors_and_create_graph():
    t = ad.tensor([0.0, 1.0, -2.0], requires_grad=True)
    (g,) = ad.autograd.grad(nn.softplus(t).sum(), t, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), sp.expit(np.array([0.0, 1.0, -2.0])),
                               rtol=1e-15)
    g.sum().backward()
    s = sp.expit(np.array([0.0, 1.0, -2.0]))
    np.testing.assert_allclose(t.grad.numpy(), s * (1 - s), rtol=1e-14)


# ----------------------------------------------------------------------------- references

def _inputs(seed, shapes, low=-3.0, high=3.0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, s) for s in shapes]


def _ours(f, xs, u):
    out, vjp = ad.vjp(f, *xs)
    return out, vjp(u)


def _torch(f, xs, u):
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    out = f(*ts)
    grads = torch.autograd.grad(out, ts, torch.tensor(u))
    return out.detach().numpy(), tuple(g.numpy() for g in grads)


def _jax(f, xs, u):
    out, vjp = jax.vjp(f, *[jnp.asarray(x) for x in xs])
    return np.asarray(out), tuple(np.asarray(g) for g in vjp(jnp.asarray(u)))


def _compare(got, want):
    """(value, gradients) against a peer's."""
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=1e-14)
    for a, b in zip(got[1], want[1]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


# name, ours, torch's, argument shapes, domain (low, high)
TORCH = [
    ("relu", nn.relu, F.relu, [(3, 4)], None),
    ("relu6", nn.relu6, F.relu6, [(3, 4)], (-3.0, 9.0)),
    ("hardtanh", lambda x: nn.hardtanh(x, -0.5, 2.0), lambda x: F.hardtanh(x, -0.5, 2.0),
     [(3, 4)], None),
    ("leaky_relu", lambda x: nn.leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2), [(3, 4)],
     None),
    ("elu", lambda x: nn.elu(x, 0.7), lambda x: F.elu(x, 0.7), [(3, 4)], None),
    # alpha 0.5: PyTorch's celu gradient rounds 1 / alpha to float32 (1e-8 errors for 0.7)
    ("celu", lambda x: nn.celu(x, 0.5), lambda x: F.celu(x, 0.5), [(3, 4)], None),
    ("selu", nn.selu, F.selu, [(3, 4)], None),
    ("gelu", nn.gelu, lambda x: F.gelu(x, approximate="tanh"), [(3, 4)], None),
    ("gelu 'tanh'", lambda x: nn.gelu(x, approximate="tanh"),
     lambda x: F.gelu(x, approximate="tanh"), [(3, 4)], None),
    ("sigmoid", nn.sigmoid, torch.sigmoid, [(3, 4)], (-30.0, 30.0)),
    ("logsigmoid", nn.logsigmoid, F.logsigmoid, [(3, 4)], (-30.0, 30.0)),
    ("softplus", nn.softplus, lambda x: F.softplus(x, threshold=1e9), [(3, 4)], (-30.0, 30.0)),
    ("softplus beta threshold", lambda x: nn.softplus(x, beta=2.0, threshold=20.0),
     lambda x: F.softplus(x, beta=2.0, threshold=20.0), [(3, 4)], (-15.0, 15.0)),
    ("silu", nn.silu, F.silu, [(3, 4)], None),
    ("softsign", nn.softsign, F.softsign, [(3, 4)], None),
    ("tanh", nn.tanh, torch.tanh, [(3, 4)], None),
    ("softmax", lambda x: nn.softmax(x, dim=1), lambda x: F.softmax(x, dim=1), [(3, 4)], None),
    ("softmax 0", lambda x: nn.softmax(x, 0), lambda x: F.softmax(x, 0), [(3, 4)], None),
    ("log_softmax", lambda x: nn.log_softmax(x, dim=-1), lambda x: F.log_softmax(x, dim=-1),
     [(2, 3, 4)], None),
    ("logsumexp", lambda x: nn.logsumexp(x, axis=1), lambda x: torch.logsumexp(x, 1),
     [(3, 4)], None),
    ("special.expit", sp.expit, torch.special.expit, [(3, 4)], (-30.0, 30.0)),
    ("special.logit", sp.logit, torch.special.logit, [(3, 4)], (0.01, 0.99)),
    ("special.xlogy", sp.xlogy, torch.special.xlogy, [(3, 4), (4,)], (0.1, 3.0)),
    ("special.xlog1py", sp.xlog1py, torch.special.xlog1py, [(3, 4), (3, 4)], (-0.9, 3.0)),
    ("special.entr", sp.entr, torch.special.entr, [(3, 4)], (0.01, 3.0)),
    ("special.logsumexp", lambda x: sp.logsumexp(x, axis=(0, 2), keepdims=True),
     lambda x: torch.special.logsumexp(x, (0, 2), keepdim=True), [(2, 3, 4)], None),
    ("special.softmax", lambda x: sp.softmax(x, axis=0),
     lambda x: torch.special.softmax(x, 0), [(3, 4)], None),
    ("special.log_softmax", lambda x: sp.log_softmax(x, axis=1),
     lambda x: torch.special.log_softmax(x, 1), [(3, 4)], None),
]


@pytest.mark.parametrize("name, ours, theirs, shapes, domain", TORCH, ids=[r[0] for r in TORCH])
def test_against_torch(name, ours, theirs, shapes, domain):
    xs = _inputs(0, shapes, *(domain or ()))
    out = ours(*xs)
    u = np.random.default_rng(1).standard_normal(np.shape(out))
    _compare(_ours(ours, xs, u), _torch(theirs, xs, u))


# name, ours, JAX's, argument shapes, domain (low, high)
JAX = [
    ("relu", nn.relu, jax.nn.relu, [(3, 4)], None),
    ("relu6", nn.relu6, jax.nn.relu6, [(3, 4)], (-3.0, 9.0)),
    ("hard_tanh", nn.hard_tanh, jax.nn.hard_tanh, [(3, 4)], None),
    ("leaky_relu", nn.leaky_relu, jax.nn.leaky_relu, [(3, 4)], None),
    ("elu", lambda x: nn.elu(x, 0.7), lambda x: jax.nn.elu(x, 0.7), [(3, 4)], None),
    ("celu", lambda x: nn.celu(x, 0.7), lambda x: jax.nn.celu(x, 0.7), [(3, 4)], None),
    ("selu", nn.selu, jax.nn.selu, [(3, 4)], None),
    ("gelu", nn.gelu, jax.nn.gelu, [(3, 4)], None),
    ("sigmoid", nn.sigmoid, jax.nn.sigmoid, [(3, 4)], (-30.0, 30.0)),
    ("log_sigmoid", nn.log_sigmoid, jax.nn.log_sigmoid, [(3, 4)], (-30.0, 30.0)),
    ("softplus", nn.softplus, jax.nn.softplus, [(3, 4)], (-30.0, 30.0)),
    ("silu", nn.silu, jax.nn.silu, [(3, 4)], None),
    ("swish", nn.swish, jax.nn.swish, [(3, 4)], None),
    ("soft_sign", nn.soft_sign, jax.nn.soft_sign, [(3, 4)], None),
    ("tanh", nn.tanh, jax.nn.tanh, [(3, 4)], None),
    ("softmax", nn.softmax, jax.nn.softmax, [(3, 4)], None),
    ("softmax (0, 2)", lambda x: nn.softmax(x, axis=(0, 2)),
     lambda x: jax.nn.softmax(x, axis=(0, 2)), [(2, 3, 4)], None),
    ("log_softmax", lambda x: nn.log_softmax(x, 0), lambda x: jax.nn.log_softmax(x, 0),
     [(3, 4)], None),
    ("logsumexp", nn.logsumexp, jax.nn.logsumexp, [(3, 4)], None),
    ("special.logsumexp b", lambda a, b: sp.logsumexp(a, axis=1, b=b),
     lambda a, b: jsp.logsumexp(a, axis=1, b=b), [(3, 4), (3, 4)], (0.1, 2.0)),
    ("special.logsumexp return_sign",
     lambda a, b: anp.multiply(*sp.logsumexp(a, axis=0, b=-b, return_sign=True)),
     lambda a, b: jnp.multiply(*jsp.logsumexp(a, axis=0, b=-b, return_sign=True)),
     [(3, 4), (3, 4)], (0.1, 2.0)),
    ("special.softmax", sp.softmax, jsp.softmax, [(3, 4)], None),
    ("special.log_softmax", lambda x: sp.log_softmax(x, axis=1),
     lambda x: jsp.log_softmax(x, axis=1), [(3, 4)], None),
    ("special.expit", sp.expit, jsp.expit, [(3, 4)], (-30.0, 30.0)),
    ("special.logit", sp.logit, jsp.logit, [(3, 4)], (0.01, 0.99)),
    ("special.xlogy", sp.xlogy, jsp.xlogy, [(3, 4), (3, 1)], (0.1, 3.0)),
    ("special.xlog1py", sp.xlog1py, jsp.xlog1py, [(3, 4), (3, 4)], (-0.9, 3.0)),
    ("special.entr", sp.entr, jsp.entr, [(3, 4)], (0.01, 3.0)),
    ("special.rel_entr", sp.rel_entr, jsp.rel_entr, [(3, 4), (3, 4)], (0.01, 3.0)),
    ("special.kl_div", sp.kl_div, jsp.kl_div, [(3, 4), (4,)], (0.01, 3.0)),
]


@pytest.mark.parametrize("name, ours, theirs, shapes, domain", JAX, ids=[r[0] for r in JAX])
def test_against_jax(name, ours, theirs, shapes, domain):
    xs = _inputs(0, shapes, *(domain or ()))
    out = ours(*xs)
    u = np.random.default_rng(1).standard_normal(np.shape(out))
    _compare(_ours(ours, xs, u), _jax(theirs, xs, u))


def test_one_hot_against_peers():
    x = np.array([[0, 3], [2, 1]])
    want_torch = F.one_hot(torch.tensor(x), 4).numpy()
    want_jax = np.asarray(jax.nn.one_hot(jnp.asarray(x), 4))
    np.testing.assert_array_equal(nn.one_hot(x, 4), want_torch)
    np.testing.assert_array_equal(nn.one_hot(x, 4), want_jax)
    assert nn.one_hot(x, 4).dtype == want_jax.dtype
