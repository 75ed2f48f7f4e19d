"""Reference tests: autodx against PyTorch and JAX as oracles, on identical float64 inputs.

Each function under test is written once against a small "namespace" (`ad.numpy`,
`jax.numpy`, or a thin adapter over `torch`), so the three libraries evaluate literally the
same expression. torch and JAX are required: without them these tests fail, never skip.
"""

from __future__ import annotations

import functools

import jax  # float64 is switched on in conftest.py, before any JAX array exists
import numpy as np
import pytest
import torch

import autodx as ad
from autodx import numpy as anp

RTOL = 1e-12
ATOL = 1e-13

# torch's functional helpers use torch.jit.script internally, which warns in torch 2.13.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")


# ----------------------------------------------------------------------------- helpers


def _torch():
    return torch


def _jax():
    return jax


def to_np(x):
    """A NumPy array from an autodx Tensor, a torch tensor, a JAX array or a number."""
    if isinstance(x, ad.Tensor):
        return np.asarray(x.detach().numpy())
    if type(x).__module__.startswith("torch"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_tree_close(actual, expected, rtol=RTOL, atol=ATOL, path="result"):
    """Same nesting of tuples/lists, same shapes, close values."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)), f"{path}: expected a tuple, got {type(actual)}"
        assert len(actual) == len(expected), f"{path}: length {len(actual)} != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_tree_close(a, e, rtol, atol, f"{path}[{i}]")
        return
    assert not isinstance(actual, (tuple, list)), f"{path}: unexpected {type(actual)}"
    a, e = to_np(actual), to_np(expected)
    assert a.shape == e.shape, f"{path}: shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=path)


class TorchNS:
    """The slice of NumPy's API the table uses, spelled for torch."""

    def __init__(self, torch):
        self.t = torch
        for name in ("sin", "cos", "exp", "tanh", "sqrt", "log", "abs", "maximum", "minimum",
                     "where", "matmul", "reshape", "stack"):
            setattr(self, name, getattr(torch, name))

    def sum(self, x, axis=None, keepdims=False):
        return self.t.sum(x) if axis is None else self.t.sum(x, dim=axis, keepdim=keepdims)

    def mean(self, x, axis=None, keepdims=False):
        return self.t.mean(x) if axis is None else self.t.mean(x, dim=axis, keepdim=keepdims)

    def transpose(self, x, axes):
        return x.permute(*axes)

    def concatenate(self, xs, axis=0):
        return self.t.cat(list(xs), dim=axis)


def torch_leaves(torch, *arrays):
    return tuple(torch.tensor(a, requires_grad=True) for a in arrays)


RNG_SEED = 20240521


def rng():
    return np.random.default_rng(RNG_SEED)


# ----------------------------------------------------------------------------- notebook values


def test_notebook_derivative_of_3x2():
    np.testing.assert_allclose(ad.grad(lambda x: 3 * x**2)(2.0), 12.0, rtol=RTOL)
    x = ad.tensor(2.0, requires_grad=True)
    (3 * x**2).backward()
    np.testing.assert_allclose(to_np(x.grad), 12.0, rtol=RTOL)

    torch = _torch()
    tx = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (3 * tx**2).backward()
    np.testing.assert_allclose(to_np(x.grad), to_np(tx.grad), rtol=RTOL)
    jax = _jax()
    np.testing.assert_allclose(ad.grad(lambda x: 3 * x**2)(2.0),
                               jax.grad(lambda x: 3 * x**2)(2.0), rtol=RTOL)


def test_notebook_partials():
    f = lambda x, y: 2 * x**2 + 3 * y
    gx, gy = ad.grad(f, argnums=(0, 1))(2.0, 1.5)
    np.testing.assert_allclose([gx, gy], [8.0, 3.0], rtol=RTOL)
    x, y = ad.tensor(2.0, requires_grad=True), ad.tensor(1.5, requires_grad=True)
    assert_tree_close(ad.autograd.grad(f(x, y), (x, y)), (8.0, 3.0))

    jax = _jax()
    assert_tree_close((gx, gy), jax.grad(f, argnums=(0, 1))(2.0, 1.5))
    torch = _torch()
    tx, ty = torch_leaves(torch, np.float64(2.0), np.float64(1.5))
    assert_tree_close((gx, gy), torch.autograd.grad(f(tx, ty), (tx, ty)))


def _two_outputs(m):
    return lambda x, y: m.stack([x**2 + y**2, x - y])


def test_notebook_jacobian_matrix_and_tuples():
    f = _two_outputs(anp)
    J = ad.jacobian(f, argnums=(0, 1), matrix=True)(2.0, 1.0)
    np.testing.assert_allclose(J, [[4.0, 2.0], [1.0, -1.0]], rtol=RTOL)
    for jac in (ad.jacrev, ad.jacfwd):
        np.testing.assert_allclose(jac(f, argnums=(0, 1), matrix=True)(2.0, 1.0), J,
                                   rtol=RTOL)

    jax = _jax()
    expected = jax.jacobian(_two_outputs(jax.numpy), argnums=(0, 1))(2.0, 1.0)
    assert_tree_close(ad.jacobian(f, argnums=(0, 1))(2.0, 1.0), expected)
    assert_tree_close(ad.jacfwd(f, argnums=(0, 1))(2.0, 1.0), expected)

    torch = _torch()
    tx, ty = torch_leaves(torch, np.float64(2.0), np.float64(1.0))
    expected = torch.autograd.functional.jacobian(_two_outputs(torch), (tx, ty))
    got = ad.autograd.functional.jacobian(f, (ad.tensor(2.0), ad.tensor(1.0)))
    assert isinstance(got, tuple) and all(isinstance(g, ad.Tensor) for g in got)
    assert_tree_close(got, expected)
    # The documented relation: stacking the tuple as columns gives matrix=True.
    np.testing.assert_allclose(np.stack([to_np(g) for g in got], axis=1), J, rtol=RTOL)


def test_notebook_hessian_all_routes():
    f = lambda x, y: x**2 + y**2
    H = ((2.0, 0.0), (0.0, 2.0))
    assert_tree_close(ad.hessian(f, argnums=(0, 1))(2.0, 1.0), H)
    np.testing.assert_allclose(ad.hessian(f, argnums=(0, 1), matrix=True)(2.0, 1.0), H,
                               rtol=RTOL)
    assert_tree_close(ad.jacfwd(ad.jacrev(f, argnums=(0, 1)), argnums=(0, 1))(2.0, 1.0), H)

    jax = _jax()
    assert_tree_close(ad.hessian(f, argnums=(0, 1))(2.0, 1.0),
                      jax.hessian(f, argnums=(0, 1))(2.0, 1.0))

    torch = _torch()
    tx, ty = torch_leaves(torch, np.float64(2.0), np.float64(1.0))
    expected = torch.autograd.functional.hessian(f, (tx, ty))
    got = ad.autograd.functional.hessian(f, (ad.tensor(2.0), ad.tensor(1.0)))
    assert_tree_close(got, expected)
    assert_tree_close(got, H)


@pytest.mark.parametrize("name,f,point", [
    ("x2+y2", lambda x, y: x**2 + y**2, (2.0, 1.0)),
    ("x2y+y3", lambda x, y: x**2 * y + y**3, (2.0, 1.0)),
])
def test_hessian_by_grad_twice_with_create_graph(name, f, point):
    torch = _torch()

    def rows(grad_fn, x, y):
        gx, gy = grad_fn(f(x, y), (x, y), create_graph=True)
        return (gx, gy), tuple(grad_fn(g, (x, y), retain_graph=True, materialize_grads=True)
                               for g in (gx, gy))

    x, y = (ad.tensor(v, requires_grad=True) for v in point)
    tx, ty = torch_leaves(torch, *map(np.float64, point))
    g_ad, H_ad = rows(ad.autograd.grad, x, y)
    g_t, H_t = rows(torch.autograd.grad, tx, ty)
    assert_tree_close(g_ad, g_t)
    assert_tree_close(H_ad, H_t)
    assert_tree_close(H_ad, ad.hessian(f, argnums=(0, 1))(*point))


# ----------------------------------------------------------------------------- the table

# name, f(m, x, y), x spec, y spec; a spec is (shape, domain) with domain "any" | "pos" | "away0"
CASES = [
    ("sin_exp", lambda m, x, y: m.sin(x) * m.exp(y), ((3, 4), "any"), ((3, 4), "any")),
    ("tanh_bcast", lambda m, x, y: m.tanh(x) * y, ((3, 4), "any"), ((4,), "any")),
    ("sqrt", lambda m, x, y: m.sqrt(x) * y, ((3, 4), "pos"), ((3, 4), "any")),
    ("log_div", lambda m, x, y: m.log(x) / y, ((3, 4), "pos"), ((3, 4), "pos")),
    ("cube", lambda m, x, y: x**3 + y, ((3, 4), "any"), ((3, 4), "any")),
    ("pow", lambda m, x, y: x**y, ((3, 4), "pos"), ((3, 4), "any")),
    ("abs", lambda m, x, y: m.abs(x) * y, ((3, 4), "away0"), ((3, 4), "any")),
    ("max_min", lambda m, x, y: m.maximum(x, y) * x + m.minimum(x, y) * y,
     ((3, 4), "any"), ((3, 4), "any")),
    ("where", lambda m, x, y: m.where(x > 0, x**2 * y, m.sin(y)),
     ((3, 4), "away0"), ((3, 4), "any")),
    ("sum_keepdims", lambda m, x, y: m.sum(x * y, axis=1, keepdims=True) * x,
     ((3, 4), "any"), ((3, 4), "any")),
    ("mean_axis", lambda m, x, y: m.mean(m.sin(x), axis=0) * y, ((3, 4), "any"), ((4,), "any")),
    ("mean_all", lambda m, x, y: m.mean(x * x) * y, ((3, 4), "any"), ((2,), "any")),
    ("reshape_transpose", lambda m, x, y: m.transpose(m.reshape(x, (4, 3)), (1, 0)) * y,
     ((3, 4), "any"), ((3, 4), "any")),
    ("transpose_3d", lambda m, x, y: m.transpose(x, (2, 0, 1)) * y,
     ((2, 3, 4), "any"), ((4, 2, 3), "any")),
    ("concat_stack",
     lambda m, x, y: m.concatenate([m.stack([x, y * x], axis=0),
                                    m.stack([m.sin(y), x], axis=-1).reshape(2, 3, 2)], axis=2),
     ((3, 2), "any"), ((3, 2), "any")),
    ("index", lambda m, x, y: x[1:, 0] * y[0, ::2] + x[-1, 1:3] ** 2 + y[2][None, 1],
     ((3, 4), "any"), ((3, 4), "any")),
    ("matmul_1d_2d", lambda m, x, y: m.matmul(x, y), ((3,), "any"), ((3, 4), "any")),
    ("matmul_2d_1d", lambda m, x, y: m.matmul(x, y), ((4, 3), "any"), ((3,), "any")),
    ("matmul_2d_2d", lambda m, x, y: m.tanh(m.matmul(x, y)), ((2, 3), "any"), ((3, 4), "any")),
    ("matmul_3d_2d", lambda m, x, y: m.matmul(x, y), ((2, 3, 4), "any"), ((4, 5), "any")),
    ("matmul_2d_3d", lambda m, x, y: m.matmul(x, y), ((3, 4), "any"), ((2, 4, 5), "any")),
    ("matmul_3d_3d", lambda m, x, y: m.matmul(x, y), ((2, 3, 4), "any"), ((2, 4, 5), "any")),
    ("matmul_3d_3d_bcast", lambda m, x, y: m.sin(m.matmul(x, y)),
     ((1, 3, 4), "any"), ((2, 4, 5), "any")),
    ("matmul_4d_3d_bcast", lambda m, x, y: m.sin(m.matmul(x, y)),
     ((2, 1, 3, 4), "any"), ((3, 4, 2), "any")),
    ("matmul_operator", lambda m, x, y: (x @ y) * 2.0, ((2, 3), "any"), ((3, 2), "any")),
]
CASE_IDS = [c[0] for c in CASES]


def make_inputs(xspec, yspec, seed=RNG_SEED, dtype=np.float64):
    gen = np.random.default_rng(seed)

    def draw(spec):
        shape, domain = spec
        a = gen.standard_normal(shape)
        if domain == "pos":
            a = gen.uniform(0.5, 2.0, shape)
        elif domain == "away0":
            a = np.where(a >= 0, a + 0.3, a - 0.3)
        return a.astype(dtype)

    return draw(xspec), draw(yspec)


def _summed(m, f):
    return lambda x, y: m.sum(f(m, x, y))


CASE_BY_NAME = {c[0]: c for c in CASES}


@functools.cache
def jax_reference(name):
    """JAX's value, gradient of the sum and Jacobian for one case, in one jitted program
    (JAX's op-by-op mode compiles every operation separately, which is several times slower)."""
    jax = _jax()
    _, f, xs, ys = CASE_BY_NAME[name]
    fj = lambda x, y: f(jax.numpy, x, y)

    def everything(x, y):
        return (fj(x, y), jax.grad(_summed(jax.numpy, f), argnums=(0, 1))(x, y),
                jax.jacrev(fj, argnums=(0, 1))(x, y))

    out, grads, jac = jax.jit(everything)(*make_inputs(xs, ys))
    return np.asarray(out), tuple(map(np.asarray, grads)), tuple(map(np.asarray, jac))


def torch_case(torch, f, x, y):
    """torch's value and gradient of the sum, at leaves built from the same arrays."""
    tx, ty = torch_leaves(torch, x, y)
    out = f(TorchNS(torch), tx, ty)
    return out, torch.autograd.grad(out.sum(), (tx, ty))


@pytest.mark.parametrize("name,f,xs,ys", CASES, ids=CASE_IDS)
def test_table_value_and_grad_vs_torch(name, f, xs, ys):
    torch = _torch()
    x, y = make_inputs(xs, ys)
    t_out, g_t = torch_case(torch, f, x, y)

    out = f(anp, x, y)
    assert isinstance(out, np.ndarray)
    assert_tree_close(out, t_out)

    # The JAX face, NumPy in and NumPy out.
    g_ad = ad.grad(_summed(anp, f), argnums=(0, 1))(x, y)
    assert all(isinstance(g, np.ndarray) and g.dtype == np.float64 for g in g_ad)
    assert_tree_close(g_ad, g_t)

    # The torch face: .backward() into .grad, and autograd.grad.
    ax, ay = ad.tensor(x, requires_grad=True), ad.tensor(y, requires_grad=True)
    f(anp, ax, ay).sum().backward()
    assert_tree_close((ax.grad, ay.grad), g_t)
    assert_tree_close(ad.autograd.grad(f(anp, ax, ay).sum(), (ax, ay)), g_t)


@pytest.mark.parametrize("name,f,xs,ys", CASES, ids=CASE_IDS)
def test_table_value_and_grad_vs_jax(name, f, xs, ys):
    j_out, g_j, _ = jax_reference(name)
    x, y = make_inputs(xs, ys)
    assert_tree_close(f(anp, x, y), j_out)
    assert_tree_close(ad.grad(_summed(anp, f), argnums=(0, 1))(x, y), g_j)
    assert_tree_close(ad.value_and_grad(_summed(anp, f), argnums=(0, 1))(x, y),
                      (j_out.sum(), g_j))


@pytest.mark.parametrize("name,f,xs,ys", CASES, ids=CASE_IDS)
def test_table_jacobians_vs_jax(name, f, xs, ys):
    j_out, _, expected = jax_reference(name)
    x, y = make_inputs(xs, ys)
    fa = lambda x, y: f(anp, x, y)
    assert_tree_close(ad.jacrev(fa, argnums=(0, 1))(x, y), expected)
    assert_tree_close(ad.jacfwd(fa, argnums=(0, 1))(x, y), expected)
    assert_tree_close(ad.jacobian(fa, argnums=1)(x, y), expected[1])
    assert_tree_close(ad.jacfwd(fa)(x, y), expected[0])

    # matrix=True: rows = flattened outputs, columns = flattened x then y.
    full = np.concatenate([np.reshape(e, (j_out.size, -1)) for e in expected], axis=1)
    for jac in (ad.jacrev, ad.jacfwd):
        np.testing.assert_allclose(jac(fa, argnums=(0, 1), matrix=True)(x, y), full,
                                   rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name,f,xs,ys", CASES, ids=CASE_IDS)
def test_table_functional_jacobian_vs_torch(name, f, xs, ys):
    torch = _torch()
    x, y = make_inputs(xs, ys)
    expected = torch.autograd.functional.jacobian(lambda x, y: f(TorchNS(torch), x, y),
                                                  (torch.tensor(x), torch.tensor(y)))
    fa = lambda x, y: f(anp, x, y)
    got = ad.autograd.functional.jacobian(fa, (ad.tensor(x), ad.tensor(y)))
    assert all(isinstance(g, ad.Tensor) for g in got)
    assert_tree_close(got, expected)
    got = ad.autograd.functional.jacobian(fa, (ad.tensor(x), ad.tensor(y)),
                                          strategy="forward-mode")
    assert_tree_close(got, expected)


@pytest.mark.parametrize("name,f,xs,ys", CASES, ids=CASE_IDS)
def test_table_hessian_of_sum_vs_torch(name, f, xs, ys):
    torch = _torch()
    x, y = make_inputs(xs, ys)
    expected = torch.autograd.functional.hessian(
        lambda x, y: f(TorchNS(torch), x, y).sum(), (torch.tensor(x), torch.tensor(y)))
    assert_tree_close(ad.hessian(_summed(anp, f), argnums=(0, 1))(x, y), expected)


# ----------------------------------------------------------------------------- Hessians


def sin_x2(m):
    return lambda x: m.sum(m.sin(x) * x**2)


def rosenbrock(m):
    return lambda x: m.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def two_arg_scalar(m):
    # x: (3,), y: (2, 3); every second derivative block is nonzero.
    return lambda x, y: (m.sum(m.matmul(y, m.exp(x)) * m.sum(y * x, axis=1))
                         + m.sum(m.tanh(y) ** 2))


SCALAR_FNS = [sin_x2, rosenbrock]


@pytest.mark.parametrize("make_f", SCALAR_FNS, ids=["sin_x2", "rosenbrock"])
def test_hessian_scalar_function_vs_jax(make_f):
    jax = _jax()
    x = rng().uniform(-1.5, 1.5, 5)
    expected = np.asarray(jax.jit(jax.hessian(make_f(jax.numpy)))(x))
    f = make_f(anp)
    assert_tree_close(ad.hessian(f)(x), expected)
    assert_tree_close(ad.hessian(f, matrix=True)(x), expected)
    assert_tree_close(ad.jacrev(ad.jacrev(f))(x), expected)
    assert_tree_close(ad.jacfwd(ad.jacfwd(f))(x), expected)
    assert_tree_close(ad.jacrev(ad.jacfwd(f))(x), expected)
    assert_tree_close(ad.jacfwd(ad.grad(f))(x), expected)


@pytest.mark.parametrize("make_f", SCALAR_FNS, ids=["sin_x2", "rosenbrock"])
def test_hessian_scalar_function_vs_torch(make_f):
    torch = _torch()
    x = rng().uniform(-1.5, 1.5, 5)
    f_t = make_f(TorchNS(torch))
    expected = torch.autograd.functional.hessian(f_t, (torch.tensor(x),))  # ((H,),)
    f = make_f(anp)
    assert_tree_close(ad.hessian(f)(x), expected[0][0])
    assert_tree_close(ad.autograd.functional.hessian(f, (ad.tensor(x),)), expected)
    # A single input, not in a tuple: torch returns the bare tensor H.
    bare = torch.autograd.functional.hessian(f_t, torch.tensor(x))
    got = ad.autograd.functional.hessian(f, ad.tensor(x))
    assert isinstance(got, ad.Tensor)
    assert_tree_close(got, bare)


def test_functional_hessian_forward_over_reverse_vs_torch():
    torch = _torch()
    x = rng().uniform(-1.5, 1.5, 5)
    got = ad.autograd.functional.hessian(rosenbrock(anp), ad.tensor(x), vectorize=True,
                                         outer_jacobian_strategy="forward-mode")
    expected = torch.autograd.functional.hessian(
        rosenbrock(TorchNS(torch)), torch.tensor(x), vectorize=True,
        outer_jacobian_strategy="forward-mode")
    assert_tree_close(got, expected)


def _two_arg_inputs():
    gen = rng()
    return gen.standard_normal(3), gen.standard_normal((2, 3))


def test_hessian_two_arguments_vs_jax():
    jax = _jax()
    x, y = _two_arg_inputs()
    expected = jax.jit(jax.hessian(two_arg_scalar(jax.numpy), argnums=(0, 1)))(x, y)
    f = two_arg_scalar(anp)
    assert_tree_close(ad.hessian(f, argnums=(0, 1))(x, y), expected)
    # matrix=True: the blocks laid out over the flattened (x, y) = 3 + 6 inputs.
    full = np.block([[np.reshape(expected[i][j], (np.size(a), np.size(b)))
                      for j, b in enumerate((x, y))] for i, a in enumerate((x, y))])
    np.testing.assert_allclose(ad.hessian(f, argnums=(0, 1), matrix=True)(x, y), full,
                               rtol=RTOL, atol=ATOL)


def test_hessian_two_arguments_vs_torch():
    torch = _torch()
    x, y = _two_arg_inputs()
    expected = torch.autograd.functional.hessian(two_arg_scalar(TorchNS(torch)),
                                                 (torch.tensor(x), torch.tensor(y)))
    f = two_arg_scalar(anp)
    assert_tree_close(ad.autograd.functional.hessian(f, (ad.tensor(x), ad.tensor(y))),
                      expected)
    assert_tree_close(ad.hessian(f, argnums=(0, 1))(x, y), expected)


# ----------------------------------------------------------------------------- vjp / jvp


def vec_fn(m):
    return lambda x, y: m.sin(m.matmul(y, x)) * m.sum(x**2)


def _vec_inputs():
    gen = rng()
    x, y = gen.standard_normal(3), gen.standard_normal((4, 3))
    return x, y, gen.standard_normal(4), (gen.standard_normal(3), gen.standard_normal((4, 3)))


def test_vjp_vs_jax():
    jax = _jax()
    x, y, ct, _ = _vec_inputs()
    out, pullback = ad.vjp(vec_fn(anp), x, y)
    j_out, j_pullback = jax.vjp(vec_fn(jax.numpy), x, y)
    assert_tree_close(out, j_out)
    got = pullback(ct)
    assert isinstance(got, tuple) and len(got) == 2
    assert_tree_close(got, j_pullback(ct))


def test_jvp_vs_jax():
    jax = _jax()
    x, y, _, (tx, ty) = _vec_inputs()
    assert_tree_close(ad.jvp(vec_fn(anp), (x, y), (tx, ty)),
                      jax.jvp(vec_fn(jax.numpy), (x, y), (tx, ty)))


def test_linearize_vs_jax():
    jax = _jax()
    x, y, _, (tx, ty) = _vec_inputs()
    out, f_jvp = ad.linearize(vec_fn(anp), x, y)
    j_out, j_jvp = jax.linearize(vec_fn(jax.numpy), x, y)
    assert_tree_close(out, j_out)
    assert_tree_close(f_jvp(tx, ty), j_jvp(tx, ty))


def _ad_and_torch(torch, *arrays):
    return tuple(ad.tensor(a) for a in arrays), tuple(torch.tensor(a) for a in arrays)


def test_functional_vjp_vs_torch():
    torch = _torch()
    x, y, ct, _ = _vec_inputs()
    (ax, ay, act), (tx, ty, tct) = _ad_and_torch(torch, x, y, ct)
    got = ad.autograd.functional.vjp(vec_fn(anp), (ax, ay), act)
    expected = torch.autograd.functional.vjp(vec_fn(TorchNS(torch)), (tx, ty), tct)
    assert isinstance(got, tuple) and len(got) == 2
    assert_tree_close(got, expected)
    # Single input, not a tuple: the product is a bare tensor, as in torch.
    got = ad.autograd.functional.vjp(lambda x: vec_fn(anp)(x, ay), ax, act)
    expected = torch.autograd.functional.vjp(lambda x: vec_fn(TorchNS(torch))(x, ty), tx, tct)
    assert isinstance(got[1], ad.Tensor)
    assert_tree_close(got, expected)


def test_functional_jvp_vs_torch():
    torch = _torch()
    x, y, _, (vx, vy) = _vec_inputs()
    (ax, ay, avx, avy), (tx, ty, tvx, tvy) = _ad_and_torch(torch, x, y, vx, vy)
    got = ad.autograd.functional.jvp(vec_fn(anp), (ax, ay), (avx, avy))
    expected = torch.autograd.functional.jvp(vec_fn(TorchNS(torch)), (tx, ty), (tvx, tvy))
    assert_tree_close(got, expected)


@pytest.mark.parametrize("which", ["hvp", "vhp"])
def test_functional_hvp_vhp_vs_torch(which):
    torch = _torch()
    gen = rng()
    x, y = gen.standard_normal(3), gen.standard_normal((2, 3))
    vx, vy = gen.standard_normal(3), gen.standard_normal((2, 3))
    (ax, ay, avx, avy), (tx, ty, tvx, tvy) = _ad_and_torch(torch, x, y, vx, vy)
    got = getattr(ad.autograd.functional, which)(two_arg_scalar(anp), (ax, ay), (avx, avy))
    expected = getattr(torch.autograd.functional, which)(two_arg_scalar(TorchNS(torch)),
                                                          (tx, ty), (tvx, tvy))
    assert isinstance(got, tuple) and len(got) == 2
    assert_tree_close(got, expected)
    # and against the JAX face: H v (H is symmetric here, so v^T H is the same).
    jax = _jax()
    f_j = two_arg_scalar(jax.numpy)
    hv = jax.jit(lambda *a: jax.jvp(jax.grad(f_j, argnums=(0, 1)), a[:2], a[2:])[1])(
        x, y, vx, vy)
    assert_tree_close(got[1], hv)


def test_functional_hvp_single_input_vs_torch():
    torch = _torch()
    x = rng().uniform(-1.5, 1.5, 4)
    v = rng().standard_normal(4)
    (ax, av), (tx, tv) = _ad_and_torch(torch, x, v)
    for which in ("hvp", "vhp"):
        got = getattr(ad.autograd.functional, which)(rosenbrock(anp), ax, av)
        expected = getattr(torch.autograd.functional, which)(rosenbrock(TorchNS(torch)), tx, tv)
        assert isinstance(got[1], ad.Tensor)
        assert_tree_close(got, expected)


# ----------------------------------------------------------------------------- conventions


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_tie_splits_gradient_evenly(op):
    torch, jax = _torch(), _jax()
    x = np.array([1.0, -2.0, 3.0])
    y = np.array([1.0, -2.0, 0.0])  # ties in the first two entries
    f_ad = lambda x, y: anp.sum(getattr(anp, op)(x, y))
    g_ad = ad.grad(f_ad, argnums=(0, 1))(x, y)
    tx, ty = torch_leaves(torch, x, y)
    g_t = torch.autograd.grad(getattr(torch, op)(tx, ty).sum(), (tx, ty))
    g_j = jax.grad(lambda x, y: jax.numpy.sum(getattr(jax.numpy, op)(x, y)),
                   argnums=(0, 1))(x, y)
    assert_tree_close(g_t, g_j)  # the oracles agree here, so autodx must match both
    assert_tree_close(g_ad, g_t)
    expected_x = [0.5, 0.5, 1.0] if op == "maximum" else [0.5, 0.5, 0.0]
    np.testing.assert_allclose(g_ad[0], expected_x, rtol=RTOL)
    np.testing.assert_allclose(g_ad[0] + g_ad[1], [1.0, 1.0, 1.0], rtol=RTOL)


def test_maximum_of_x_with_itself():
    torch, jax = _torch(), _jax()
    g_ad = ad.grad(lambda x: anp.maximum(x, x))(1.5)
    tx = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    (g_t,) = torch.autograd.grad(torch.maximum(tx, tx), tx)
    g_j = jax.grad(lambda x: jax.numpy.maximum(x, x))(1.5)
    np.testing.assert_allclose(g_ad, 1.0, rtol=RTOL)  # 0.5 + 0.5
    np.testing.assert_allclose(g_ad, to_np(g_t), rtol=RTOL)
    np.testing.assert_allclose(g_ad, g_j, rtol=RTOL)


def test_abs_derivative_at_zero_follows_torch():
    # NOTE: the oracles disagree at 0 - PyTorch gives sign(0) = 0, JAX gives 1. autodx
    # documents PyTorch's choice, so it is checked against torch only.
    torch = _torch()
    x = np.array([-1.0, 0.0, 2.0])
    g_ad = ad.grad(lambda x: anp.sum(anp.abs(x)))(x)
    tx = torch.tensor(x, requires_grad=True)
    (g_t,) = torch.autograd.grad(torch.abs(tx).sum(), tx)
    np.testing.assert_allclose(g_ad, to_np(g_t), rtol=RTOL)
    np.testing.assert_allclose(g_ad, [-1.0, 0.0, 1.0], rtol=RTOL)
    a = ad.tensor(x, requires_grad=True)
    abs(a).sum().backward()
    np.testing.assert_allclose(to_np(a.grad), to_np(g_t), rtol=RTOL)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_pow_derivative_at_zero_follows_torch():
    # d/dx x**e at x = 0: PyTorch gives 0 for e = 0 (JAX: 0 * 0**-1 = NaN), and the oracles
    # agree elsewhere; autodx documents PyTorch's choice.
    torch, jax = _torch(), _jax()
    for e in (0.0, 1.0, 2.0, 0.5, 3):  # 0.5: +inf in every library
        a = ad.tensor(0.0, requires_grad=True)
        t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        (g_ad,) = ad.autograd.grad(a**e, a)
        (g_t,) = torch.autograd.grad(t**e, t)
        np.testing.assert_allclose(to_np(g_ad), to_np(g_t), rtol=RTOL, err_msg=f"x**{e}")
        power = lambda x, e=e: x**e
        np.testing.assert_allclose(ad.grad(power)(0.0), to_np(g_t), rtol=RTOL)
        if e != 0.0:
            np.testing.assert_allclose(ad.grad(power)(0.0), jax.grad(power)(0.0), rtol=RTOL)
    f = lambda x, y: x**y
    assert_tree_close(ad.grad(f, argnums=(0, 1))(0.0, 2.0),
                      jax.grad(f, argnums=(0, 1))(0.0, 2.0))


def test_mean_of_an_empty_array_raises_where_the_oracles_give_nan():
    # NOTE: a deliberate difference (see _count in numpy/_reductions.py): torch and JAX
    # return nan, silently; autodx raises a ValueError naming the function, shape and axis.
    torch, jax = _torch(), _jax()
    assert np.isnan(to_np(torch.mean(torch.zeros(0, dtype=torch.float64))))
    assert np.isnan(to_np(jax.numpy.mean(jax.numpy.zeros(0))))
    t = ad.tensor(np.zeros((2, 0)), requires_grad=True)
    for call in (lambda: t.mean(), lambda: np.mean(t), lambda: anp.mean(t, axis=1),
                 lambda: ad.grad(lambda x: anp.std(x))(np.zeros((2, 0)))):
        with pytest.raises(ValueError, match=r"empty selection.*\(2, 0\).*axis=(None|1)"):
            call()
    with pytest.raises(ValueError, match=r"nanmean of an empty selection.*\(0,\)"):
        anp.nanmean(np.zeros(0))
    assert anp.mean(np.zeros((2, 0)), axis=0).shape == (0,)  # no slice is empty: no error


# ----------------------------------------------------------------------------- structures


def test_functional_tuple_outputs_vs_torch():
    torch = _torch()
    gen = rng()
    x, y = gen.standard_normal(3), gen.standard_normal((2, 3))
    f = lambda m: (lambda x, y: (m.sin(x) * 2, m.exp(y) * x))
    (ax, ay), (tx, ty) = _ad_and_torch(torch, x, y)
    F, TF = ad.autograd.functional, torch.autograd.functional
    # several outputs and inputs: a tuple of tuples
    assert_tree_close(F.jacobian(f(anp), (ax, ay)), TF.jacobian(f(torch), (tx, ty)))
    # several outputs, one bare input: a tuple of tensors
    assert_tree_close(F.jacobian(lambda x: f(anp)(x, ay), ax),
                      TF.jacobian(lambda x: f(torch)(x, ty), tx))
    assert_tree_close(F.vjp(f(anp), (ax, ay), (ax, ay)), TF.vjp(f(torch), (tx, ty), (tx, ty)))
    assert_tree_close(F.jvp(f(anp), (ax, ay), (ax, ay)), TF.jvp(f(torch), (tx, ty), (tx, ty)))
    # v omitted for a one-element output
    assert_tree_close(F.vjp(lambda x: (x**2).sum(), ax), TF.vjp(lambda x: (x**2).sum(), tx))
    # a 0-d input and output
    assert_tree_close(F.hessian(lambda x: x**3, ad.tensor(2.0)),
                      TF.hessian(lambda x: x**3, torch.tensor(2.0, dtype=torch.float64)))
    # an input the output does not depend on gets zeros (strict=False)
    assert_tree_close(F.jacobian(lambda x, y: x**2, (ax, ay)),
                      TF.jacobian(lambda x, y: x**2, (tx, ty)))


def test_functional_create_graph_vs_torch():
    torch = _torch()
    gen = rng()
    x, v = gen.standard_normal(3), gen.standard_normal(3)
    a, t = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    _, va = ad.autograd.functional.vjp(lambda z: anp.sin(z) * z, a, ad.tensor(v),
                                       create_graph=True)
    _, vt = torch.autograd.functional.vjp(lambda z: torch.sin(z) * z, t, torch.tensor(v),
                                          create_graph=True)
    assert_tree_close(va, vt)
    assert_tree_close(ad.autograd.grad(va.sum(), a), torch.autograd.grad(vt.sum(), t))
    ha = ad.autograd.functional.hessian(lambda z: (z**3).sum(), a, create_graph=True)
    ht = torch.autograd.functional.hessian(lambda z: (z**3).sum(), t, create_graph=True)
    assert_tree_close(ha, ht)
    assert_tree_close(ad.autograd.grad((ha * ha).sum(), a), torch.autograd.grad((ht * ht).sum(), t))


def test_tape_features_vs_torch():
    torch = _torch()
    gen = rng()
    y = gen.standard_normal((2, 3))
    a, t = ad.tensor(y, requires_grad=True), torch.tensor(y, requires_grad=True)

    # backward with gradient= (v^T J), then accumulation into .grad
    (anp.tanh(a) * 3).backward(ad.tensor(y * 2))
    (torch.tanh(t) * 3).backward(torch.tensor(y * 2))
    assert_tree_close(a.grad, t.grad)
    (anp.sin(a) ** 2).sum().backward()
    (torch.sin(t) ** 2).sum().backward()
    assert_tree_close(a.grad, t.grad)

    # retain_grad on an intermediate
    a.grad, t.grad = None, None
    ma, mt = anp.sin(a), torch.sin(t)
    ma.retain_grad()
    mt.retain_grad()
    (ma * ma * a).sum().backward()
    (mt * mt * t).sum().backward()
    assert_tree_close((ma.grad, a.grad), (mt.grad, t.grad))

    # in-place updates of a non-leaf: x[i] = v and +=
    a.grad, t.grad = None, None
    ba, bt = a * 2, t * 2
    ba[0, 1:] = anp.sin(a[1, :2])
    bt[0, 1:] = torch.sin(t[1, :2])
    ba += a
    bt += t
    assert_tree_close(ba, bt)
    (ba**2).sum().backward()
    (bt**2).sum().backward()
    assert_tree_close(a.grad, t.grad)

    # is_grads_batched: one VJP per row of grad_outputs, i.e. the Jacobian
    eye = np.eye(3)
    x = y[0]
    a, t = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    assert_tree_close(
        ad.autograd.grad(anp.sin(a) * a, a, ad.tensor(eye), is_grads_batched=True),
        torch.autograd.grad(torch.sin(t) * t, t, torch.tensor(eye), is_grads_batched=True))


# (name, index function, torch supports it, JAX supports it)
INDEXERS = [
    ("int_array_repeats", lambda x: x[np.array([0, 2, 2, 1])] ** 2, True, True),
    ("int_array_newaxis", lambda x: x[np.array([0, 2, 2]), None] * x[None, 1], True, True),
    ("two_int_arrays",
     lambda x: x[np.array([1, 0, 1]), np.array([2, 2, 0])] * x[1, [0, 0, 3]], True, True),
    ("slice_and_list", lambda x: x[:, [0, 0, 2]] ** 2, True, True),
    ("ellipsis", lambda x: x[..., 1] * x[-1, ...][:3], True, True),
    ("negative_steps", lambda x: x[::-1, ::-2] ** 2, False, True),  # torch: no negative steps
    ("bool_mask", lambda x: x[x > 0] ** 3, True, False),  # JAX: no boolean masks under grad
]


@pytest.mark.parametrize("index_fn,in_torch,in_jax", [i[1:] for i in INDEXERS],
                         ids=[i[0] for i in INDEXERS])
def test_indexing_grads_vs_jax_and_torch(index_fn, in_torch, in_jax):
    x = rng().standard_normal((3, 4))
    g_ad = ad.grad(lambda x: anp.sum(index_fn(x)))(x)
    a = ad.tensor(x, requires_grad=True)
    index_fn(a).sum().backward()
    assert_tree_close(a.grad, g_ad)
    if in_torch:
        torch = _torch()
        t = torch.tensor(x, requires_grad=True)
        index_fn(t).sum().backward()
        assert_tree_close(g_ad, t.grad)
    if in_jax:
        jax = _jax()
        assert_tree_close(g_ad, jax.grad(lambda x: jax.numpy.sum(index_fn(x)))(x))


def test_pytrees_and_aux_vs_jax():
    jax = _jax()
    jit = jax.jit  # JAX's op-by-op mode is slow for these
    gen = rng()
    x, y = gen.standard_normal(3), gen.standard_normal((2, 3))
    params = {"w": y, "b": [x, 2.0]}
    f = lambda p: (p["w"] @ p["b"][0]).sum() * p["b"][1]
    assert_tree_close(_leaves(ad.grad(f)(params)), _leaves(jit(jax.grad(f))(params)))
    assert_tree_close(_leaves(ad.jacrev(f)(params)), _leaves(jit(jax.jacrev(f))(params)))

    g = lambda p: {"a": p["w"] * 2, "b": (p["b"][0] ** 2,)}
    out, pullback = ad.vjp(g, params)
    j_out, j_pullback = jax.vjp(g, params)
    assert_tree_close(_leaves(out), _leaves(j_out))
    ct = {"a": y, "b": (x,)}
    assert_tree_close(_leaves(pullback(ct)), _leaves(j_pullback(ct)))

    h = lambda p: (p["w"] ** 3).sum() * (p["v"] ** 2).sum()
    hp = {"w": y, "v": x}
    assert_tree_close(_leaves(ad.hessian(h)(hp)), _leaves(jit(jax.hessian(h))(hp)))

    aux_f = lambda x: ((x**2).sum(), x * 2)
    assert_tree_close(ad.grad(aux_f, has_aux=True)(x), jit(jax.grad(aux_f, has_aux=True))(x))
    aux_v = lambda x: (x**2, x.sum())
    assert_tree_close(ad.jvp(aux_v, (x,), (y[0],), has_aux=True),
                      jax.jvp(aux_v, (x,), (y[0],), has_aux=True))
    assert_tree_close(ad.jacfwd(aux_v, has_aux=True)(x), jit(jax.jacfwd(aux_v, has_aux=True))(x))
    two = lambda x, y: (x * y, y.sum())
    assert_tree_close(ad.jacrev(two, argnums=(0, 1))(x, y),
                      jit(jax.jacrev(two, argnums=(0, 1)))(x, y))
    assert_tree_close(ad.vjp(two, x, y)[1]((y, 1.0)), jax.vjp(two, x, y)[1]((y, 1.0)))
    assert_tree_close(ad.hessian(lambda x: x**3)(x), jit(jax.hessian(lambda x: x**3))(x))


def _leaves(tree):
    """The leaves of a dict/list/tuple tree in JAX's order (sorted dict keys)."""
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in _leaves(tree[k])]
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def test_higher_order_compositions_vs_jax():
    jax = _jax()
    jnp = jax.numpy
    np.testing.assert_allclose(ad.grad(ad.grad(lambda x: anp.sin(x) * x))(0.7),
                               jax.grad(jax.grad(lambda x: jnp.sin(x) * x))(0.7), rtol=RTOL)
    np.testing.assert_allclose(ad.grad(ad.grad(ad.grad(anp.tanh)))(0.7),
                               jax.grad(jax.grad(jax.grad(jnp.tanh)))(0.7), rtol=RTOL)
    # perturbation confusion: d/dx [x * d/dy (x + y)] = 1
    np.testing.assert_allclose(ad.grad(lambda x: x * ad.grad(lambda y: x + y)(1.0))(2.0),
                               jax.grad(lambda x: x * jax.grad(lambda y: x + y)(1.0))(2.0),
                               rtol=RTOL)
    gen = rng()
    x, t, u = gen.standard_normal(3), gen.standard_normal(3), gen.standard_normal(3)
    vj = lambda jvp, m: (lambda x: jvp(lambda z: m.sin(z) * z**2, (x,), (t,))[1])
    assert_tree_close(ad.vjp(vj(ad.jvp, anp), x)[1](u), jax.vjp(vj(jax.jvp, jnp), x)[1](u))
    assert_tree_close(ad.jacrev(vj(ad.jvp, anp))(x), jax.jacrev(vj(jax.jvp, jnp))(x))


# ----------------------------------------------------------------------------- float32


F32_CASES = [c for c in CASES if c[0] in (
    "sin_exp", "tanh_bcast", "log_div", "pow", "sum_keepdims", "concat_stack", "index",
    "matmul_2d_2d", "matmul_3d_2d")]


@pytest.mark.parametrize("name,f,xs,ys", F32_CASES, ids=[c[0] for c in F32_CASES])
def test_float32_grads_keep_dtype(name, f, xs, ys):
    torch = _torch()
    x, y = make_inputs(xs, ys, dtype=np.float32)
    g_ad = ad.grad(_summed(anp, f), argnums=(0, 1))(x, y)
    assert [g.dtype for g in g_ad] == [np.float32, np.float32]

    tx, ty = torch_leaves(torch, x, y)
    assert tx.dtype == torch.float32
    g_t = torch.autograd.grad(f(TorchNS(torch), tx, ty).sum(), (tx, ty))
    assert_tree_close(g_ad, g_t, rtol=1e-5, atol=1e-6)

    ax, ay = ad.tensor(x, requires_grad=True), ad.tensor(y, requires_grad=True)
    out = f(anp, ax, ay).sum()
    assert out.dtype == np.float32
    out.backward()
    assert ax.grad.dtype == np.float32 and ay.grad.dtype == np.float32
    assert_tree_close((ax.grad, ay.grad), g_t, rtol=1e-5, atol=1e-6)
