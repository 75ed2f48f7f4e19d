"""einsum and the products and matrix-structure functions: values against NumPy over many
subscripts (a list and random ones), derivatives of every order against finite differences,
NumPy's errors for bad input, and values and gradients against PyTorch and JAX."""

from __future__ import annotations

import string
import warnings

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings

import autodx as ad
from autodx.testing import check_grads

anp = ad.numpy
jax.config.update("jax_enable_x64", True)


def _args(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


# ----------------------------------------------------------------------------- einsum vs NumPy

EINSUM_CASES = [
    ("ij,jk->ik", (2, 3), (3, 4)),
    ("ij,jk", (2, 3), (3, 4)),
    ("bij,bjk->bik", (2, 3, 4), (2, 4, 5)),
    ("...ij,...jk", (2, 1, 3, 4), (5, 4, 2)),
    ("ij...,jk...->ik...", (2, 3, 5), (3, 4, 1)),
    ("i...,i...->...", (3, 2, 1), (3, 4)),
    ("...,...", (2, 1), (3,)),
    ("i,j->ij", (3,), (4,)),
    ("i,i", (3,), (3,)),
    ("i,i->i", (3,), (3,)),
    ("ij,ij->ij", (2, 3), (2, 3)),
    ("ii", (3, 3)),
    ("ii->i", (3, 3)),
    ("iij->j", (2, 2, 3)),
    ("iji->j", (2, 3, 2)),
    ("iijj->", (2, 2, 3, 3)),
    ("ii,ij->j", (3, 3), (3, 4)),
    ("ij->", (2, 3)),
    ("ij->j", (2, 3)),
    ("ij->ji", (2, 3)),
    ("ji", (2, 3)),
    ("Ba", (2, 3)),
    ("aB", (2, 3)),
    ("ij,k->", (2, 3), (4,)),
    ("ijk,jil->kl", (2, 3, 4), (3, 2, 5)),
    ("ij,jk->ik", (2, 1), (3, 4)),
    ("ij,jk->ijk", (2, 1), (3, 4)),
    ("i,->i", (3,), ()),
    ("->", ()),
    ("", ()),
    ("i j , j k -> i k", (2, 3), (3, 4)),
    ("ij,jk,kl->il", (2, 3), (3, 4), (4, 5)),
    ("a,b,c,abc->", (2,), (3,), (4,), (2, 3, 4)),
    ("ij,jk,kl,lm->mi", (2, 3), (3, 2), (2, 4), (4, 3)),
    ("bhqd,bhkd->bhqk", (2, 3, 4, 5), (2, 3, 6, 5)),
]


def _ids(cases):
    return [c[0] or "''" for c in cases]


@pytest.mark.parametrize("optimize", [False, True, "optimal"])
@pytest.mark.parametrize("case", EINSUM_CASES, ids=_ids(EINSUM_CASES))
def test_einsum_matches_numpy(case, optimize):
    subscripts, *shapes = case
    xs = _args(shapes)
    got = anp.einsum(subscripts, *xs, optimize=optimize)
    want = np.einsum(subscripts, *xs)
    assert np.shape(got) == want.shape and np.asarray(got).dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", EINSUM_CASES, ids=_ids(EINSUM_CASES))
def test_einsum_vmap_matches_loop(case):
    subscripts, *shapes = case
    xs = [np.stack([x, 2 * x - 1]) for x in _args(shapes)]
    got = ad.vmap(lambda *a: anp.einsum(subscripts, *a))(*xs)
    want = np.stack([np.einsum(subscripts, *[x[i] for x in xs]) for i in range(2)])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_einsum_interleaved_form():
    a, b, c = _args([(2, 3), (3, 4), (4, 2)])
    np.testing.assert_allclose(anp.einsum(a, [0, 1], b, [1, 2], [0, 2]), a @ b, rtol=1e-14)
    np.testing.assert_allclose(anp.einsum(a, [0, 1], b, [1, 2], c, [2, 0], [0]),
                               np.einsum(a, [0, 1], b, [1, 2], c, [2, 0], [0]), rtol=1e-12)
    x = _args([(5, 2, 3)])[0]
    np.testing.assert_allclose(anp.einsum(x, [Ellipsis, 0, 1], a.T, [1, 0]),
                               np.einsum(x, [Ellipsis, 0, 1], a.T, [1, 0]), rtol=1e-12)
    np.testing.assert_allclose(anp.einsum(a, [1, 0]), a.T)  # implicit: sorted labels


def test_einsum_dtypes_and_casting():
    a32, b32 = (np.ones((2, 3), np.float32), np.ones((3, 4), np.float32))
    assert anp.einsum("ij,jk", a32, b32).dtype == np.float32
    assert anp.einsum("ij,jk", a32, b32.astype(np.float64)).dtype == np.float64
    assert anp.einsum("i,", np.ones(2, np.float32), 2.0).dtype == np.einsum(
        "i,", np.ones(2, np.float32), 2.0).dtype
    out = anp.einsum("ij,jk", a32, b32.astype(np.float64), dtype=np.float32, casting="unsafe")
    assert out.dtype == np.float32
    assert anp.einsum("ii", np.arange(9).reshape(3, 3)) == 12  # integers stay integers
    with pytest.raises(TypeError, match="casting='safe'"):
        anp.einsum("ij,jk", a32.astype(np.float64), b32, dtype=np.float32)


def test_einsum_path_reads_only_shapes():
    a, b, c = _args([(2, 3), (3, 4), (4, 5)])
    want = np.einsum_path("ij,jk,kl", a, b, c)
    assert anp.einsum_path("ij,jk,kl", a, b, c) == want
    paths = []
    ad.grad(lambda a: paths.append(np.einsum_path("ij,jk,kl", a, b, c)) or anp.sum(a))(a)
    assert paths == [want]
    path = ["einsum_path", (1, 2), (0, 1)]
    np.testing.assert_allclose(anp.einsum("ij,jk,kl", a, b, c, optimize=path), a @ b @ c,
                               rtol=1e-12)


# random valid subscripts: up to three operands over labels 'abcd' (repeats allowed), with an
# explicit output drawn from the labels used or the implicit one
@st.composite
def einsum_cases(draw):
    sizes = dict(zip("abcd", draw(st.lists(st.integers(1, 3), min_size=4, max_size=4))))
    terms = draw(st.lists(st.lists(st.sampled_from("abcd"), max_size=4), min_size=1,
                          max_size=3))
    used = sorted({c for t in terms for c in t})
    implicit = draw(st.booleans())
    out = None if implicit else draw(st.permutations(used).flatmap(
        lambda p: st.integers(0, len(p)).map(lambda n: p[:n])))
    subscripts = ",".join("".join(t) for t in terms) + ("" if implicit else "->" + "".join(out))
    return subscripts, [tuple(sizes[c] for c in t) for t in terms]


@settings(max_examples=60, deadline=None)
@given(einsum_cases())
def test_random_einsum_matches_numpy_and_transposes(case):
    subscripts, shapes = case
    xs = _args(shapes, seed=1)
    want = np.einsum(subscripts, *xs)
    got = anp.einsum(subscripts, *xs)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    ad.testing.check_vjp(lambda *a: anp.einsum(subscripts, *a), xs)


# ----------------------------------------------------------------------------- derivatives

GRAD_CASES = [
    ("ij,jk->ik", (2, 3), (3, 4)),
    ("...ij,...jk", (2, 1, 3, 2), (4, 2, 3)),
    ("ii->i", (3, 3)),
    ("ii", (3, 3)),
    ("iij,jk->ik", (2, 2, 3), (3, 4)),
    ("ij,jk->ijk", (2, 1), (3, 4)),
    ("ij,k->", (2, 3), (4,)),
    ("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=_ids(GRAD_CASES))
def test_einsum_derivatives_of_order_two(case):
    subscripts, *shapes = case
    check_grads(lambda *xs: anp.einsum(subscripts, *xs), _args(shapes), order=2)


def test_einsum_complex_derivatives():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    b = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    check_grads(lambda a, b: anp.einsum("ij,jj->ij", a, b), (a, b), order=2)


def test_diagonal_cotangent_is_exactly_zero_off_the_diagonal():
    # NOTE: the cotangent of a repeated label is placed on the diagonal by `where`, not by a
    # product with an identity, so an inf cotangent leaves exact zeros elsewhere.
    _, pullback = ad.vjp(lambda x: anp.einsum("ii->i", x), np.ones((3, 3)))
    (g,) = pullback(np.array([np.inf, 1.0, 2.0]))
    np.testing.assert_array_equal(g, np.diag([np.inf, 1.0, 2.0]))
    np.testing.assert_array_equal(ad.grad(lambda x: anp.einsum("ii", x))(np.ones((3, 3))),
                                  np.eye(3))


def test_hessian_of_a_quadratic_form():
    a = _args([(3, 3)])[0]
    h = ad.hessian(lambda x: anp.einsum("i,ij,j", x, a, x))(np.ones(3))
    np.testing.assert_allclose(h, a + a.T, rtol=1e-14)


def test_nested_vmap_and_grad_of_einsum():
    a, b = _args([(4, 3, 2, 3), (3, 5)])
    grad = ad.grad(lambda x, y: anp.sum(anp.sin(anp.einsum("ij,jk", x, y))))
    f = ad.vmap(ad.vmap(grad, in_axes=(0, None)), in_axes=(0, None))
    want = np.stack([np.stack([np.cos(x @ b) @ b.T for x in xs]) for xs in a])
    np.testing.assert_allclose(f(a, b), want, rtol=1e-12)


def test_products_derivatives_of_order_two():
    a, b, m = _args([(2, 3, 4), (3, 4, 2), (3, 4)])
    check_grads(lambda a, b: anp.dot(a, b), (a, b), order=2)
    check_grads(lambda a, b: anp.tensordot(a, b, ([1, 2], [0, 1])), (a, b), order=2)
    check_grads(anp.kron, (m, m[:2]), order=2)
    check_grads(lambda x: anp.trace(x, 1), (m,), order=2)
    check_grads(lambda x: anp.diag(x, -1), (m[0],), order=2)
    check_grads(lambda x: anp.triu(x, 1) + anp.tril(x), (m,), order=2)
    check_grads(anp.cross, (m[:, :3], m[0, 1:]), order=2)


def test_cross_of_2_vectors_warns_as_numpy():
    a, b = _args([(4, 2), (4, 3)])
    for x, y in [(a, a[::-1]), (a, b), (b, a)]:
        with pytest.warns(DeprecationWarning, match="2-dimensional vectors"):
            got = anp.cross(x, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            np.testing.assert_allclose(got, np.cross(x, y), rtol=1e-14)
            check_grads(anp.cross, (x, y), order=1)


def test_tensor_face_methods_and_numpy_dispatch():
    x = _args([(3, 3)])[0]
    t = ad.tensor(x, requires_grad=True)
    loss = (np.einsum("ij,jk->", t, t) + np.trace(t) + t.trace() + t.diagonal(1).sum()
            + t.triu(1).sum() + t.tril().sum() + t.diag().sum() + t.dot(t).sum()
            + np.tensordot(t, t) + np.kron(t, t).sum())
    loss.backward()
    ref = torch.tensor(x, requires_grad=True)
    (torch.einsum("ij,jk->", ref, ref) + 2 * ref.trace() + ref.diagonal(1).sum()
     + ref.triu(1).sum() + ref.tril().sum() + ref.diag().sum() + (ref @ ref).sum()
     + torch.tensordot(ref, ref) + torch.kron(ref, ref).sum()).backward()
    np.testing.assert_allclose(t.grad.numpy(), ref.grad.numpy(), rtol=1e-12)


# ----------------------------------------------------------------------------- errors

BAD_SUBSCRIPTS = [
    ("i,i", [(2,)], "for 2 operands but 1"),
    ("i", [(2,), (2,)], "for 1 operands but 2"),
    ("i#", [(2, 2)], "invalid subscript '#'"),
    ("i->j", [(2,)], "'j' appears in no input"),
    ("ij->ii", [(2, 2)], "'i' appears more than once"),
    ("ij", [(2,)], "operand 0 has 1 dimensions"),
    ("i", [(2, 3)], "add '...'"),
    ("ii", [(2, 3)], "different lengths"),
    ("i,i->", [(3,), (4,)], "length 3 in operand 0 and 4 in operand 1"),
    (".i", [(3,)], "not part of one ellipsis"),
    ("i-", [(3,)], "'->'"),
    ("...i->i", [(2, 3)], "no '...'"),
    ("...,...", [(2,), (3,)], "under '...'"),
]


@pytest.mark.parametrize("subscripts, shapes, message", BAD_SUBSCRIPTS,
                         ids=[c[0] for c in BAD_SUBSCRIPTS])
def test_bad_subscripts_raise_value_error_as_numpy(subscripts, shapes, message):
    xs = [np.ones(s) for s in shapes]
    with pytest.raises(ValueError):
        np.einsum(subscripts, *xs)
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        anp.einsum(subscripts, *xs)


def test_bad_arguments_of_the_other_functions():
    m = np.ones((2, 3))
    cases = [
        (ValueError, "label 52", lambda: anp.einsum(m, [0, 52])),
        (TypeError, "out=", lambda: anp.einsum("ij", m, out=np.ones((2, 3)))),
        (ValueError, "shape-mismatch", lambda: anp.tensordot(m, m.T)),
        (ValueError, "shape-mismatch", lambda: anp.tensordot(m, m, ([0, 1], [0]))),
        (ValueError, r"not aligned: 3 \(dim 1\) != 2 \(dim 0\)", lambda: anp.dot(m, m)),
        (ValueError, r"not aligned", lambda: anp.dot(np.ones((2, 2, 3)), m)),
        (ValueError, "same number", lambda: anp.vdot(m, np.ones(5))),
        (ValueError, "last axes", lambda: anp.inner(m, np.ones(2))),
        (ValueError, "2 or 3", lambda: anp.cross(np.ones(4), np.ones(3))),
        (ValueError, "zero dimension", lambda: anp.cross(1.0, np.ones(3))),
        (ValueError, "at least two", lambda: anp.diagonal(np.ones(3))),
        (ValueError, "cannot be the same", lambda: anp.diagonal(m, 0, 1, -1)),
        (np.exceptions.AxisError, "out of bounds", lambda: anp.trace(m, 0, 0, 2)),
        (ValueError, "1- or 2-d", lambda: anp.diag(np.ones((2, 2, 2)))),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()


# ----------------------------------------------------------------------------- PyTorch and JAX

def _grad_autodx(f, xs, w):
    return ad.grad(lambda *a: anp.sum(f(*a) * w), argnums=tuple(range(len(xs))))(*xs)


def _grad_torch(f, xs, w):
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    out = f(*ts)
    (out * torch.tensor(w)).sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


def _grad_jax(f, xs, w):
    out = f(*xs)
    grads = jax.grad(lambda *a: jnp.sum(f(*a) * w), argnums=tuple(range(len(xs))))(*xs)
    return np.asarray(out), [np.asarray(g) for g in grads]


REFERENCES = [  # (name, autodx, torch, jax, shapes)
    ("einsum matmul", lambda a, b: anp.einsum("ij,jk->ik", a, b),
     lambda a, b: torch.einsum("ij,jk->ik", a, b),
     lambda a, b: jnp.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    ("einsum batch ...", lambda a, b: anp.einsum("...ij,...jk", a, b),
     lambda a, b: torch.einsum("...ij,...jk", a, b),
     lambda a, b: jnp.einsum("...ij,...jk", a, b), [(2, 3, 4), (2, 4, 2)]),
    ("einsum diagonal", lambda a: anp.einsum("ii->i", a), lambda a: torch.einsum("ii->i", a),
     lambda a: jnp.einsum("ii->i", a), [(3, 3)]),
    ("einsum three", lambda a, b, c: anp.einsum("ij,jk,ki->i", a, b, c),
     lambda a, b, c: torch.einsum("ij,jk,ki->i", a, b, c),
     lambda a, b, c: jnp.einsum("ij,jk,ki->i", a, b, c), [(2, 3), (3, 4), (4, 2)]),
    ("tensordot", lambda a, b: anp.tensordot(a, b, ([0, 2], [1, 0])),
     lambda a, b: torch.tensordot(a, b, ([0, 2], [1, 0])),
     lambda a, b: jnp.tensordot(a, b, ([0, 2], [1, 0])), [(2, 3, 4), (4, 2, 5)]),
    ("dot N-D", anp.dot, None, jnp.dot, [(2, 3, 4), (5, 4, 2)]),
    ("inner", anp.inner, torch.inner, jnp.inner, [(2, 3), (4, 3)]),
    ("kron", anp.kron, torch.kron, jnp.kron, [(2, 3), (3, 2)]),
    ("cross", lambda a, b: anp.cross(a, b, axis=0),
     lambda a, b: torch.linalg.cross(a, b, dim=0),
     lambda a, b: jnp.cross(a, b, axis=0), [(3, 4), (3, 4)]),
    ("trace", anp.trace, torch.trace, jnp.trace, [(3, 4)]),
    ("trace offset", lambda a: anp.trace(a, -1, 1, 2), None,
     lambda a: jnp.trace(a, -1, 1, 2), [(2, 4, 3)]),
    ("diagonal", lambda a: anp.diagonal(a, 1, 2, 0),
     lambda a: torch.diagonal(a, 1, 2, 0), lambda a: jnp.diagonal(a, 1, 2, 0), [(3, 2, 4)]),
    ("diag 1-D", lambda v: anp.diag(v, 1), lambda v: torch.diag(v, 1),
     lambda v: jnp.diag(v, 1), [(3,)]),
    ("diag 2-D", lambda m: anp.diag(m, -1), lambda m: torch.diag(m, -1),
     lambda m: jnp.diag(m, -1), [(3, 4)]),
    ("diagflat", lambda v: anp.diagflat(v, -1), lambda v: torch.diagflat(v, -1),
     lambda v: jnp.diagflat(v, -1), [(2, 2)]),
    ("triu", lambda m: anp.triu(m, 1), lambda m: torch.triu(m, 1),
     lambda m: jnp.triu(m, 1), [(2, 3, 4)]),
    ("tril", lambda m: anp.tril(m, -1), lambda m: torch.tril(m, -1),
     lambda m: jnp.tril(m, -1), [(4, 3)]),
]


@pytest.mark.parametrize("name, f, f_torch, f_jax, shapes", REFERENCES,
                         ids=[r[0] for r in REFERENCES])
def test_value_and_gradient_match_torch_and_jax(name, f, f_torch, f_jax, shapes):
    xs = _args(shapes, seed=3)
    out = np.asarray(f(*xs))
    w = np.random.default_rng(4).standard_normal(out.shape)
    grads = _grad_autodx(f, xs, w)
    for ref in (_grad_torch, _grad_jax):
        fn = f_torch if ref is _grad_torch else f_jax
        if fn is None:  # PyTorch has no such function
            continue
        want, want_grads = ref(fn, xs, w)
        np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-13)
        for g, wg in zip(grads, want_grads):
            np.testing.assert_allclose(g, wg, rtol=1e-12, atol=1e-13)


def test_complex_vdot_conjugates_its_first_argument_as_torch_and_jax():
    rng = np.random.default_rng(5)
    a, b = (rng.standard_normal(4) + 1j * rng.standard_normal(4) for _ in range(2))
    c = 0.7 - 0.2j
    np.testing.assert_allclose(anp.vdot(a, b), np.vdot(a, b), rtol=1e-14)
    np.testing.assert_allclose(anp.vdot(a, b), torch.vdot(torch.tensor(a), torch.tensor(b)),
                               rtol=1e-14)

    def loss(xp, real):
        return lambda a, b: real(xp.vdot(a, b) * c)

    got = ad.grad(loss(anp, anp.real), argnums=(0, 1))(a, b)
    want = jax.grad(loss(jnp, jnp.real), argnums=(0, 1))(a, b)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    ta, tb = (torch.tensor(x, requires_grad=True) for x in (a, b))
    loss(torch, torch.real)(ta, tb).backward()
    xa, xb = (ad.tensor(x, requires_grad=True) for x in (a, b))
    loss(anp, anp.real)(xa, xb).backward()
    for t, x in ((ta, xa), (tb, xb)):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_einsum_letters_cover_the_alphabet():
    # 52 distinct labels is NumPy's limit; both cases of letters are distinct labels
    x = np.arange(4.0).reshape(2, 2)
    for a, b in zip(string.ascii_lowercase, string.ascii_uppercase):
        np.testing.assert_allclose(anp.einsum(f"{a}{b}->{b}{a}", x), x.T)


def test_einsum_primitive_takes_any_int_labels():
    # batching adds labels past the 52 letters; only the distinct count is NumPy's limit
    from autodx.prims.contract import einsum

    a, b = _args([(2, 3), (1, 4)])
    spec = (((60, 70), (70, 80)), (60, 80))
    np.testing.assert_allclose(einsum(a, a.T, spec=spec), a @ a.T, rtol=1e-14)
    np.testing.assert_allclose(einsum(a[:, :1], b, spec=spec), a[:, :1] @ b, rtol=1e-14)
    with pytest.raises(ValueError, match="more than 52 distinct labels"):
        einsum(np.ones((1,) * 53), spec=((tuple(range(53)),), ()))
