"""Every op row through every check: forward vs NumPy (float64 and float32), JVP and VJP vs
finite differences and VJP vs JVP (transpose identity), second order both ways, gradient shape
and dtype, the Tensor face (backward vs grad, gradcheck, gradgradcheck), vmap, and the
table's completeness against the primitive registry. The derivative checks are ad.testing's
check_grads, check_vjp, gradcheck and gradgradcheck: what the table is tested with is what
users get."""

from __future__ import annotations

import sys

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import autodx as ad
from autodx.core import PRIMITIVES
from autodx.registry import ENTRIES
from autodx.testing import check_grads, check_vjp, gradcheck, gradgradcheck
from op_table import EXEMPT, OPS

anp = ad.numpy
DIFF_OPS = [op for op in OPS if not op.nondiff]


def ids(ops):
    return [op.name for op in ops]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op", OPS, ids=ids(OPS))
def test_forward_matches_numpy(op, dtype, rng):
    args = op.args(rng, dtype)
    got, want = op.fn(*args), op.ref(*args)
    assert np.shape(got) == np.shape(want)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    # an atol relative to the output's scale: a sum in another order (BLAS against np.einsum)
    # differs in the last digits of outputs near zero
    rtol = op.f32_rtol if dtype == np.float32 else 1e-14
    finite = np.abs(np.asarray(want, dtype=np.float64))
    scale = float(np.max(finite[np.isfinite(finite)], initial=0.0))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)
    if op.exact and dtype == np.float64:  # 0-d arrays, NumPy scalars and Python floats
        for spelling in (args, [a[()] for a in args], [float(a) for a in args]):
            assert _bits(op.fn(*spelling)) == _bits(want), spelling


def _bits(x) -> tuple:
    x = np.asarray(x)
    return x.dtype, x.shape, x.tobytes()


@pytest.mark.parametrize("name", ["exp", "log", "sin", "cos", "tan", "tanh", "sqrt"])
def test_scalar_inputs_give_numpys_result_bit_for_bit(name):
    """0-d float64 inputs in every spelling (NumPy scalar, 0-d array, Python float, Tensor)
    give NumPy's own result, to the last bit: no faster scalar path may round differently."""
    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.uniform(-3.0, 3.0, 400), rng.standard_normal(100) * 30.0,
                         np.exp(rng.uniform(-20.0, 6.5, 100)), [0.0, -0.0]])
    if name in ("log", "sqrt"):
        xs = np.abs(xs[xs != 0]) if name == "log" else np.abs(xs)
    fn, ref = getattr(anp, name), getattr(np, name)
    for x in xs:
        want = _bits(ref(np.float64(x)))
        for spelling in (np.float64(x), np.array(x), float(x)):
            assert _bits(fn(spelling)) == want, (name, x, type(spelling))
        assert _bits(getattr(ad.tensor(x, requires_grad=True), name)().detach().numpy()) == want


def _check_first_order(op, args):
    """JVP and VJP against central differences, and VJP against JVP (the transpose identity,
    to rounding: `rtol * 1e-4`)."""
    check_grads(op.fn, args, 1, eps=op.eps, rtol=op.rtol, atol=op.rtol * 0.1)


@pytest.mark.parametrize("op", DIFF_OPS, ids=ids(DIFF_OPS))
def test_jvp_and_vjp_match_finite_differences_and_each_other(op, rng):
    _check_first_order(op, op.args(rng))


COMPLEX_OPS = [op for op in OPS if op.complex]


@pytest.mark.parametrize("op", COMPLEX_OPS, ids=ids(COMPLEX_OPS))
def test_complex_inputs(op, rng):
    """Forward vs NumPy, JVP vs finite differences and VJP vs JVP with complex128 inputs (the
    engine transposes without conjugation, so the transpose identity stays bilinear)."""
    args = op.args(rng, np.complex128)
    got, want = op.fn(*args), op.ref(*args)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14)
    _check_first_order(op, args)


def _grad_of_projection(op, u):
    """x -> grad <u, f(x)> with respect to every argument (a reverse-mode function)."""
    argnums = tuple(range(len(op.shapes)))
    return ad.grad(lambda *xs: anp.sum(anp.multiply(u, op.fn(*xs))), argnums=argnums)


@pytest.mark.parametrize("op", DIFF_OPS, ids=ids(DIFF_OPS))
def test_second_order_forward_over_reverse(op, rng):
    args = op.args(rng)
    u = rng.standard_normal(np.shape(op.ref(*args)))
    check_grads(_grad_of_projection(op, u), args, 1, modes=("fwd",), eps=op.eps,
                rtol=op.rtol * 10, atol=op.rtol)


@pytest.mark.parametrize("op", DIFF_OPS, ids=ids(DIFF_OPS))
def test_second_order_reverse_over_reverse(op, rng):
    args = op.args(rng)
    u = rng.standard_normal(np.shape(op.ref(*args)))
    check_vjp(_grad_of_projection(op, u), args, rtol=op.rtol * 1e-4, atol=op.rtol * 1e-5,
              rng=rng)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op", DIFF_OPS, ids=ids(DIFF_OPS))
def test_gradient_shape_and_dtype_match_input(op, dtype, rng):
    args = op.args(rng, dtype)
    grads = ad.grad(lambda *xs: anp.sum(op.fn(*xs)), argnums=tuple(range(len(args))))(*args)
    for x, g in zip(args, grads):
        assert np.shape(g) == x.shape
        assert np.asarray(g).dtype == x.dtype


@pytest.mark.parametrize("op", DIFF_OPS, ids=ids(DIFF_OPS))
def test_tensor_backward_matches_grad(op, rng):
    args = op.args(rng)
    want = ad.grad(lambda *xs: anp.sum(op.fn(*xs)), argnums=tuple(range(len(args))))(*args)
    tensors = [ad.tensor(x, requires_grad=True) for x in args]
    anp.sum(op.fn(*tensors)).backward()
    for t, w in zip(tensors, want):
        np.testing.assert_allclose(t.grad.numpy(), w, rtol=1e-12, atol=1e-14)
    assert gradcheck(op.fn, tuple(tensors), eps=op.eps, atol=op.rtol * 0.1, rtol=op.rtol,
                     fast_mode=True)


# a float32 row's random grad_outputs are float32, which gradgradcheck warns about (as PyTorch)
@pytest.mark.filterwarnings("ignore:Input #")
@pytest.mark.parametrize("op", DIFF_OPS, ids=ids(DIFF_OPS))
def test_tensor_double_backward_matches_finite_differences(op, rng):
    """backward(create_graph=True), differentiated again by backward (gradgradcheck)."""
    tensors = tuple(ad.tensor(x, requires_grad=True) for x in op.args(rng))
    assert gradgradcheck(op.fn, tensors, eps=op.eps, atol=op.rtol, rtol=op.rtol * 10,
                         fast_mode=True)


@pytest.mark.parametrize("op", [op for op in OPS if op.nondiff], ids=ids(
    [op for op in OPS if op.nondiff]))
def test_nondifferentiable_ops_carry_no_derivative(op, rng):
    args = op.args(rng)
    tangents = tuple(np.ones_like(x) for x in args)
    out, t_out = ad.jvp(lambda *xs: anp.astype(op.fn(*xs), np.float64), tuple(args), tangents)
    np.testing.assert_array_equal(out, op.ref(*args).astype(np.float64))
    np.testing.assert_array_equal(t_out, np.zeros_like(out))
    tensors = [ad.tensor(x, requires_grad=True) for x in args]
    assert not op.fn(*tensors).requires_grad


def _record(op, rng) -> tuple[set, set]:
    """Run a row (forward, then reverse) and record what it really uses: every primitive
    bound, and the public functions its forward pass calls directly (outermost calls only,
    so `mean` calling `divide` does not count as a row for `divide`)."""
    bound, called = set(), set()
    impls = {p: p.impl for p in PRIMITIVES.values()}

    def recording(prim, impl):
        return lambda *a, **k: (bound.add(prim.name), impl(*a, **k))[1]

    codes: dict = {}
    for e in ENTRIES:
        codes.setdefault(getattr(e.fn, "__code__", None), []).append(e)
    by_prim = {e.fn.prim: e for e in ENTRIES if hasattr(e.fn, "prim")}
    inside: list = []

    def profile(frame, event, arg):
        if event == "call":
            entries = codes.get(frame.f_code)
            if entries is not None:  # one function (maybe under several names), or the
                # declarators' wrapper code, shared by every primitive they declare
                one = len({id(e.fn) for e in entries}) == 1
                entry = entries[0] if one else by_prim.get(frame.f_locals.get("prim"))
                if not inside and entry is not None:
                    called.add((entry.namespace, entry.name))
                inside.append(frame)
        elif event == "return" and inside and inside[-1] is frame:
            inside.pop()

    args = op.args(rng)
    try:
        for p, impl in impls.items():
            p.impl = recording(p, impl)
        sys.setprofile(profile)
        try:  # under jvp, so that the row's arguments are traced values
            ad.jvp(op.fn, tuple(args), tuple(np.ones_like(x) for x in args))
        finally:
            sys.setprofile(None)
        if not op.nondiff:
            ad.grad(lambda *xs: anp.sum(anp.sin(op.fn(*xs))), argnums=tuple(
                range(len(args))))(*args)
    finally:
        for p, impl in impls.items():
            p.impl = impl
    return bound, called


@pytest.fixture(scope="module")
def coverage():
    rng = np.random.default_rng(0)
    bound, called = set(), set()
    for op in OPS:
        b, c = _record(op, rng)
        bound |= b
        called |= c
    return bound, called


def test_every_primitive_is_bound_by_some_row(coverage):
    missing = sorted(set(PRIMITIVES) - coverage[0] - set(EXEMPT))
    assert not missing, f"primitives no row of tests/op_table*.py binds: {missing}"


COVERED_NAMESPACES = ("numpy", "numpy.linalg", "numpy.fft", "nn", "scipy.special")


def test_every_public_function_is_called_by_some_row(coverage):
    names = {(e.namespace, n) for e in ENTRIES if e.namespace in COVERED_NAMESPACES
             and e.kind not in ("numpy", "query")
             for n in [e.name]}
    called = coverage[1]
    aliases = {(e.namespace, e.name): e.fn for e in ENTRIES}
    fns_called = {aliases[c] for c in called}
    missing = sorted(f"{ns}.{n}" for ns, n in names if aliases[(ns, n)] not in fns_called)
    assert not missing, f"public functions no row of tests/op_table*.py calls: {missing}"


def test_every_primitive_declares_its_rules():
    for prim in PRIMITIVES.values():
        assert prim.impl is not None
        if not prim.nondiff:
            assert prim.vjp is not None, prim.name
            assert prim.jvp is not None or prim.linear, prim.name
        assert prim.batch is not None, f"{prim.name} has no batching rule"


def test_array_methods_installed_on_tracer_and_tensor():
    from autodx.core import Tracer
    from autodx.registry import ARRAY_METHODS

    for name in ARRAY_METHODS:
        assert hasattr(Tracer, name), name
        assert hasattr(ad.Tensor, name), name


# ----------------------------------------------------------------------------- special points

@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_pow_at_special_points(mode):
    def d(f, x):
        return ad.grad(f)(x) if mode == "rev" else ad.jvp(f, (x,), (1.0,))[1]

    assert d(lambda x: x**2, 0.0) == 0.0
    assert d(lambda x: x**0, 0.0) == 0.0  # 0**0: derivative 0, as PyTorch
    assert d(lambda x: x**3, -2.0) == 12.0  # negative base, integer exponent
    assert d(lambda x: x ** np.float64(3.0), -2.0) == 12.0  # ... as an array exponent
    assert d(lambda y: 0.0**y, 2.0) == 0.0  # d/dy at base 0
    assert d(lambda y: 2.0**y, 3.0) == 8.0 * np.log(2.0)
    assert d(lambda x: ad.grad(lambda x: x**2)(x), 0.0) == 2.0  # second order at 0


def test_kink_conventions():
    assert ad.grad(anp.abs)(0.0) == 0.0
    assert ad.grad(lambda x: anp.maximum(x, 1.0))(1.0) == 0.5
    assert ad.grad(lambda x: anp.minimum(x, x))(3.0) == 1.0
    assert ad.grad(lambda x: anp.sign(x) * x)(-2.0) == -1.0


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_broadcasting_binary_ops_gradients_have_input_shapes(data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=3))
    x_shape, y_shape = data.draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, base_shape=shape, max_dims=3, max_side=3)).input_shapes
    op = data.draw(st.sampled_from([anp.add, anp.subtract, anp.multiply, anp.divide,
                                    anp.maximum]))
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0.5, 2.0, x_shape), rng.uniform(0.5, 2.0, y_shape)
    gx, gy = ad.grad(lambda x, y: anp.sum(op(x, y) * 1.5), argnums=(0, 1))(x, y)
    assert np.shape(gx) == x_shape and np.shape(gy) == y_shape
    # the whole Jacobian with respect to both arguments, column by column against central
    # differences and row by row by backward (which also checks the gradients' shapes)
    tensors = (ad.tensor(x, requires_grad=True), ad.tensor(y, requires_grad=True))
    assert gradcheck(lambda x, y: op(x, y) * 1.5, tensors, atol=1e-8, rtol=1e-6)
    ones = np.ones(np.broadcast_shapes(x_shape, y_shape))
    for g, t in zip((gx, gy), tensors):  # the gradient of the sum is J^T 1
        np.testing.assert_allclose(g, ad.autograd.grad(op(*tensors) * 1.5, t, ones)[0].numpy(),
                                   rtol=1e-14)


# ----------------------------------------------------------------------------- vmap

def _variants(op) -> list[str]:
    """How each argument is batched. A third variant needs something to vary: an unmapped
    (None) first argument when there are several, else the batch on a middle axis (unary rows
    with at least two dimensions); for a 0-d or 1-d unary row, axis 0 and the last axis are
    all there is."""
    if len(op.shapes) > 1:
        return ["axis 0", "last axis", "None on the first argument"]
    return ["axis 0", "last axis"] + (["a middle axis"] if len(op.shapes[0]) >= 2 else [])


def _vmap_cases(ops) -> list:
    return [pytest.param(op, v, id=f"{op.name}-{v}") for op in ops for v in _variants(op)]


def _batched_case(op, variant, rng, size=3):
    """Per-example arguments, the batched arguments and in_axes for one variant."""
    examples = [op.args(rng) for _ in range(size)]
    in_axes, batched = [], []
    for j in range(len(op.shapes)):
        if variant == "None on the first argument" and j == 0:
            in_axes.append(None)
            batched.append(examples[0][j])
            for e in examples:
                e[j] = examples[0][j]
        else:
            axis = {"axis 0": 0, "last axis": -1, "a middle axis": 1}.get(variant, -1)
            in_axes.append(axis)
            batched.append(np.stack([e[j] for e in examples], axis=axis))
    return examples, batched, tuple(in_axes)


@pytest.mark.parametrize(("op", "variant"), _vmap_cases(OPS))
def test_vmap_matches_python_loop(op, variant, rng):
    examples, batched, in_axes = _batched_case(op, variant, rng)
    got = ad.vmap(op.fn, in_axes=in_axes)(*batched)
    want = np.stack([op.ref(*e) for e in examples])
    assert np.shape(got) == want.shape and np.asarray(got).dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize(("op", "variant"), _vmap_cases(DIFF_OPS))
def test_vmap_of_grad_matches_loop_of_grad(op, variant, rng):
    examples, batched, in_axes = _batched_case(op, variant, rng)
    argnums = tuple(range(len(op.shapes)))
    g = ad.grad(lambda *xs: anp.sum(anp.sin(op.fn(*xs))), argnums=argnums)
    got = ad.vmap(g, in_axes=in_axes)(*batched)
    for j in argnums:
        want = np.stack([g(*e)[j] for e in examples])
        if in_axes[j] is None:  # an unmapped input's gradient is still one per example
            assert np.shape(got[j]) == want.shape
        np.testing.assert_allclose(got[j], want, rtol=1e-12, atol=1e-13)
