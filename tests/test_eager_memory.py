"""Eager reverse mode's memory: a node keeps only what its rule reads (data-less stand-ins for
the rest), fan-in is summed in place into a buffer the engine owns, and never into anyone
else's array. Peaks are measured with tracemalloc (NumPy reports its allocations to it), in
arrays of the input's size."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import autodx as ad
from autodx import reverse
from autodx.prims import add, exp, mul, sin
from autodx.reverse import backward_pass, saved_out, saved_values, stand_in, vjp_flat
from autodx.testing import check_vjp
from op_table import OPS

anp = ad.numpy
N = 10**6
ARRAY = N * 8  # bytes of one float64 array of the input's size


def bench_loss(x):
    """benchmarks/bench_memory.py's elementwise chain."""
    return anp.sum(anp.sin(x) * anp.exp(-x**2) + anp.tanh(x))


def bench_grad(x):
    e = np.exp(-x**2)
    return e * (np.cos(x) - 2.0 * x * np.sin(x)) + 1.0 - np.tanh(x) ** 2


def engine_value_and_grad(f, x):
    """The engine as a one-shot gradient runs it: trace, then one pass that frees as it goes."""
    (out,), nodes, _, leaves = vjp_flat(f, [x])
    (g,) = backward_pass(nodes, [np.ones_like(out)], retain_graph=False, capture=leaves)
    return out, g


def traced_peak(fn) -> tuple[object, float]:
    """fn()'s result and its tracemalloc peak in arrays (after a warm-up call)."""
    fn()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return result, peak / ARRAY


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).standard_normal(N)


def test_elementwise_chain_gradient_peak_and_value(x):
    """Saved before: x**2, -x**2, exp, sin, the product, tanh and the sum's input (7 arrays at
    the end of the forward pass) plus 2 temporaries of a rule, 8 in all at the peak, hand-written
    NumPy 4. Now the inputs of the linear ops and of exp (which reads only its output), and the
    outputs of the linear ops, are stand-ins: x**2, exp, sin, the product and tanh are left.
    NOTE: x**2, sin and the product stay only because their rules cannot say that they do not
    read their output (a `reads_out` flag on Primitive would drop them: 5 arrays)."""
    (value, g), peak = traced_peak(lambda: engine_value_and_grad(bench_loss, x))
    assert peak < 7.1
    want = np.sum(np.sin(x) * np.exp(-x**2) + np.tanh(x))
    assert np.isclose(value, want, rtol=1e-12)
    np.testing.assert_allclose(g, bench_grad(x), rtol=1e-12, atol=1e-14)


def test_intermediates_only_linear_ops_and_output_readers_consume_are_freed_while_traced(x):
    """tanh(exp(-x) + 1): the forward pass keeps exp's and tanh's outputs (their rules read
    them), nothing else: 2 arrays at its end, the backward pass's rules add 2 temporaries."""
    def f(x):
        return anp.sum(anp.tanh(anp.exp(-x) + 1.0))

    (value, g), peak = traced_peak(lambda: engine_value_and_grad(f, x))
    assert peak < 4.1
    e = np.exp(-x)
    t = np.tanh(e + 1.0)
    assert np.isclose(value, t.sum(), rtol=1e-12)
    np.testing.assert_allclose(g, -(1.0 - t * t) * e, rtol=1e-12)


def test_fan_in_is_summed_in_place_into_the_engines_buffer(x):
    """Four terms into x from linear ops, which keep nothing: out of place, each sum holds the
    total, the new term and the new total at once (3 arrays); in place, the second term makes
    the engine's buffer and the later ones go into it (2 arrays)."""
    def f(x):
        return anp.sum(-x + anp.deg2rad(x) + anp.rad2deg(x) + x)

    g, peak = backward_peak(f, x)
    np.testing.assert_allclose(g, np.full(N, np.pi / 180 + 180 / np.pi), rtol=1e-14)
    assert peak < 2.1
    saved = reverse._PLAIN_ADD
    reverse._PLAIN_ADD = None  # what the engine did before: every sum out of place
    try:
        g_before, peak_before = backward_peak(f, x)
    finally:
        reverse._PLAIN_ADD = saved
    np.testing.assert_array_equal(g_before, g)
    assert peak_before > 2.9


def backward_peak(f, x) -> tuple[object, float]:
    """The gradient and the backward pass's own tracemalloc peak, in arrays."""
    (out,), nodes, _, leaves = vjp_flat(f, [x])
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        (g,) = backward_pass(nodes, [np.ones_like(out)], retain_graph=False, capture=leaves)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return g, peak / ARRAY


def test_the_saved_values_a_rule_does_not_read_are_dropped_when_recorded():
    x = np.linspace(0.0, 1.0, 5000)
    refs = []

    def f(x):
        u = -x  # neg and add are linear: neither keeps its output, nor add its input
        v = u + 3.0  # a product with a constant reads only the constant
        refs.extend([weakref.ref(u._value), weakref.ref(v._value)])
        return anp.sum(anp.exp(v * 2.0))

    (out,), nodes, _, leaves = vjp_flat(f, [x])
    gc.collect()
    assert [r() for r in refs] == [None, None]  # freed, though the graph is alive
    (g,) = backward_pass(nodes, [1.0], retain_graph=True, capture=leaves)
    np.testing.assert_allclose(g, -2.0 * np.exp(2.0 * (3.0 - x)), rtol=1e-13)
    (g2,) = backward_pass(nodes, [1.0], retain_graph=False, capture=leaves)
    np.testing.assert_array_equal(g2, g)


def test_a_user_cotangent_is_never_written_into():
    """Three outputs from one node: their cotangents are summed, into a new array."""
    x = np.linspace(-1.0, 1.0, 1000)
    cts = [np.full(1000, c) for c in (1.0, 2.0, 4.0)]
    copies = [c.copy() for c in cts]
    _, pullback = ad.vjp(lambda x: (anp.sin(x),) * 3, x)
    (g,) = pullback(tuple(cts))
    np.testing.assert_allclose(g, 7.0 * np.cos(x), rtol=1e-14)
    for c, copy in zip(cts, copies):
        np.testing.assert_array_equal(c, copy)
    (g_again,) = pullback(tuple(cts))
    assert g_again is not g
    np.testing.assert_array_equal(g, g_again)


def test_a_cotangent_a_rule_passes_to_several_inputs_is_not_written_into():
    """add's rule gives its own cotangent to both inputs (the same array): x + x + x sends x
    one array three times over; g is then g + g, and never 2g + g written into g."""
    x = np.linspace(-1.0, 1.0, 1000)
    w = np.linspace(1.0, 2.0, 1000)
    g = ad.grad(lambda x: anp.sum((x + x + x) * w))(x)
    np.testing.assert_array_equal(g, 3.0 * w)
    g = ad.grad(lambda x: anp.sum(anp.sin(x + x) + anp.sin(x + x)))(x)
    np.testing.assert_allclose(g, 4.0 * np.cos(2.0 * x), rtol=1e-14)


def test_repeated_pullbacks_and_backward_calls_do_not_share_buffers():
    x = np.linspace(-1.0, 1.0, 1000)
    _, pullback = ad.vjp(lambda x: anp.sin(x) * anp.cos(x) + anp.exp(x), x)
    ct = np.ones(1000)
    (a,) = pullback(ct)
    (b,) = pullback(ct)
    want = np.cos(2.0 * x) + np.exp(x)
    np.testing.assert_allclose(a, want, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(a, b)
    a[:] = 0.0  # the user owns what they are given
    np.testing.assert_allclose(pullback(ct)[0], want, rtol=1e-13, atol=1e-15)
    t = ad.tensor(x, requires_grad=True)
    for k in (1, 2):
        (anp.sin(t) + anp.cos(t) + t * t).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), k * (np.cos(x) - np.sin(x) + 2.0 * x),
                                   rtol=1e-13)


def test_the_tape_keeps_working_with_the_engine():
    x = ad.tensor(np.linspace(-1.0, 1.0, 2000), requires_grad=True)
    y = (anp.exp(-x) + 1.0) * 2.0
    (anp.tanh(y).sum() + (x * x).sum()).backward(create_graph=True)
    v = x.detach().numpy()
    t = np.tanh(2.0 * (np.exp(-v) + 1.0))
    np.testing.assert_allclose(x.grad.detach().numpy(),
                               -2.0 * np.exp(-v) * (1.0 - t * t) + 2.0 * v, rtol=1e-12)


def test_stand_ins_keep_shape_and_dtype_in_a_few_bytes():
    a = np.ones((100, 50), np.float32)
    s = stand_in(a)
    assert s.shape == a.shape and s.dtype == a.dtype and s.strides == (0, 0)
    assert not s.flags.writeable and np.isnan(s).all()
    assert stand_in(np.ones((100, 50), np.float32)) is s  # one per shape and dtype
    small = np.ones(3)  # below STAND_IN_MIN_BYTES: kept
    assert stand_in(small) is small
    assert stand_in(np.arange(2000)).dtype == np.int64
    assert (stand_in(np.arange(2000)) == 0).all()
    assert stand_in(np.float64(2.0)) == 2.0


def test_saved_values_and_saved_out_follow_the_primitives_flags():
    big, other = np.ones(1000), np.zeros(1000)
    parents = [object(), None]
    kept = saved_values(mul.prim, [big, other], parents)  # x * c reads only c
    assert kept[0] is not big and kept[0].shape == big.shape and kept[1] is other
    assert saved_values(sin.prim, [big], parents[:1])[0] is big
    assert saved_values(exp.prim, [big], parents[:1])[0] is not big
    assert saved_out(exp.prim, big, parents[:1]) is big
    assert saved_out(add.prim, big, parents) is not big

    class Flags:  # a primitive-like object that says its rule does not read its output
        linear = False
        reads_out = staticmethod(lambda needs: needs[1])

    assert saved_out(Flags, big, parents) is not big
    assert saved_out(Flags, big, [None, object()]) is big


DIFF_OPS = [op for op in OPS if not op.nondiff]


@pytest.mark.parametrize("op", DIFF_OPS, ids=[op.name for op in DIFF_OPS])
def test_every_rule_gives_the_same_gradient_from_stand_ins(op, monkeypatch):
    """Every array is replaced where the flags allow (not only large ones), so a rule that
    reads a value its primitive says it does not read gets NaN and fails the transpose
    identity, first order and reverse over reverse."""
    monkeypatch.setattr(reverse, "STAND_IN_MIN_BYTES", 0)
    rng = np.random.default_rng(0)
    args = op.args(rng)
    check_vjp(op.fn, args, rtol=op.rtol * 1e-4, atol=op.rtol * 1e-5)
    u = rng.standard_normal(np.shape(op.ref(*args)))
    argnums = tuple(range(len(op.shapes)))
    grad_fn = ad.grad(lambda *xs: anp.sum(anp.multiply(u, op.fn(*xs))), argnums=argnums)
    check_vjp(grad_fn, args, rtol=op.rtol * 1e-4, atol=op.rtol * 1e-5)


def test_an_output_given_twice_sends_both_cotangents():
    """Regression: a node among the roots twice was counted as two consumers of its inputs,
    which then never ran (a zero gradient from ad.vjp, no .grad from the tape)."""
    x = np.linspace(-1.0, 1.0, 7)
    _, pullback = ad.vjp(lambda x: (anp.sin(x), anp.sin(x) * 1.0, anp.sin(x))[::2], x)
    (g,) = pullback((np.ones(7), np.full(7, 2.0)))
    np.testing.assert_allclose(g, 3.0 * np.cos(x), rtol=1e-15)
    t = ad.tensor(x, requires_grad=True)
    y = anp.sin(t)
    ad.autograd.backward([y, y], [ad.tensor(np.ones(7)), ad.tensor(np.full(7, 2.0))])
    np.testing.assert_allclose(t.grad.numpy(), 3.0 * np.cos(x), rtol=1e-15)
