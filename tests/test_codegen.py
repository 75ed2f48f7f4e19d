"""Codegen's performance half (issue 8.5): buffer plans (buffers.py) give the same bits as the
unplanned program, on hand-made traps and on random programs, and cut peak memory; numexpr
fusion (fusion.py) agrees with NumPy to rtol 1e-14, op by op with special values; the math
flavour's twins agree with NumPy bit for bit."""

from __future__ import annotations

import sys
import tracemalloc

import numpy as np
import pytest

import autodx as ad
from autodx import buffers, codegen, fusion
from autodx.buffers import plan_buffers, release_points
from autodx.codegen import compile_program
from autodx.core import PRIMITIVES
from autodx.fusion import fuse_numexpr
from autodx.program import Lit, Var
from autodx.rewrites import optimize

anp = ad.numpy
RNG = np.random.default_rng(0)
X5 = np.linspace(-3.0, 3.0, 100_000)


# ----------------------------------------------------------------------------- helpers

def program_of(f, *args):
    return ad.jit(f).program(*args)


def run(program, args, plan=None):
    # NOTE: `plan or None`: codegen reads `plan and plan.get(i)`, so an empty dict must not
    # reach it (reported to the lead).
    return compile_program(program, "t", plan or None).run(*args)


def leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in leaves(t)]
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in leaves(tree[k])]
    return [tree]


def assert_bits(got, want) -> None:
    """Same leaves: types, dtypes, shapes, memory order and every bit."""
    got, want = leaves(got), leaves(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert type(g) is type(w)
        g, w = np.asarray(g), np.asarray(w)
        assert (g.dtype, g.shape) == (w.dtype, w.shape)
        assert g.tobytes() == w.tobytes()
        assert (g.flags.c_contiguous, g.flags.f_contiguous) == (
            w.flags.c_contiguous, w.flags.f_contiguous)


def check_plan(program, plan, donated=frozenset()) -> None:
    """The invariants buffers.py promises, read off the program."""
    forbidden = {v for v in program.inputs if v not in donated} | set(program.consts)
    forbidden |= {v for v in program.outputs if v.__class__ is Var}
    forbidden |= {g.var for g in program.guards}
    for i, buffer in plan.items():
        eqn = program.eqns[i]
        assert buffers.is_writer(eqn)
        assert (buffer.shape, np.dtype(buffer.dtype)) == (eqn.out.shape, np.dtype(eqn.out.dtype))
        assert buffer not in forbidden
        later = [e for e in program.eqns[i + 1:] if buffer in e.inputs]
        assert not later, f"{buffer} is read after line {i} overwrote it"


def plan_and_compare(f, *args, donated_argnums=(), min_size=buffers.MIN_SIZE, **kw):
    """Plan `f`'s program, check the plan, and compare planned and unplanned results."""
    program = program_of(f, *args)
    donated = frozenset(program.inputs[i] for i in donated_argnums)
    plan = plan_buffers(program, donated=donated, min_size=min_size, **kw)
    check_plan(program, plan, donated)
    want = run(program, args)
    copies = [np.array(a, copy=True, order="K") if i in donated_argnums else a
              for i, a in enumerate(args)]
    assert_bits(run(program, copies, plan), want)
    for i, a in enumerate(args):  # an input that is not donated is never written
        if i not in donated_argnums and isinstance(a, np.ndarray):
            assert_bits(copies[i], a)
    return program, plan


# ----------------------------------------------------------------------------- buffers

def test_a_chain_reuses_its_memory_and_keeps_the_bits():
    f = lambda x: anp.tanh(anp.sin(x) * 2.0 + 1.0) * x - anp.exp(-x) / 3.0  # noqa: E731
    program, plan = plan_and_compare(f, X5)
    writers = [i for i, e in enumerate(program.eqns) if buffers.is_writer(e)]
    assert len(plan) >= len(writers) - 2  # all but the first results of the chain
    assert_bits(run(program, (X5,), plan), f(X5))  # and the eager call's


def test_a_live_view_keeps_its_base_alive():
    def f(x):
        a = anp.sin(x)
        t = a[::-1]  # a view of a: a lives as long as t
        r = anp.reshape(a, (100, 1000))
        u = anp.exp(x) * 2.0  # a's last direct read is above: a naive plan writes u into a
        return t * 3.0 + u, anp.sum(r * 2.0, axis=0)

    program, plan = plan_and_compare(f, X5)
    a, t = (next(e.out for e in program.eqns if e.prim.name == n) for n in ("sin", "getitem"))
    last_t = max(i for i, e in enumerate(program.eqns) if t in e.inputs)
    assert all(i > last_t for i, b in plan.items() if b is a), plan
    # The trap is real: writing u into a (what a lifetime of direct reads allows) breaks t.
    naive = {i: a for i, e in enumerate(program.eqns) if e.prim.name == "exp"}
    assert naive and not np.array_equal(run(program, (X5,), naive)[0], f(X5)[0])


def test_fan_out_and_outputs_that_are_read_again():
    def f(x):
        a = anp.sin(x)
        b = a * a + a
        c = anp.cos(a) - a
        d = b * c
        return a, d, b + 1.0, {"c": c}

    program, plan = plan_and_compare(f, X5)
    assert plan
    outs = leaves(run(program, (X5,), plan))
    assert not any(np.shares_memory(p, q) for k, p in enumerate(outs) for q in outs[k + 1:])


def test_a_donated_input_is_reused_and_others_never():
    f = lambda x, y: anp.exp(x) * y + anp.sin(y)  # noqa: E731
    y = X5[::-1].copy()
    program, plan = plan_and_compare(f, X5, y, donated_argnums=(0,))
    assert program.inputs[0] in plan.values()
    assert program.inputs[1] not in plan.values()
    _, plan = plan_and_compare(f, X5, y)
    assert not set(program_of(f, X5, y).inputs) & set(plan.values())


def test_a_line_does_not_overwrite_an_input_that_another_input_views():
    """e[::-1] * e: e dies here, but NumPy would first copy the overlapping operand (right,
    but that copy is what a buffer is to save), so e is not this line's buffer."""
    def f(x):
        e = anp.exp(x)
        return e[::-1] * e

    program, plan = plan_and_compare(f, X5)
    e = next(q.out for q in program.eqns if q.prim.name == "exp")
    product = next(i for i, q in enumerate(program.eqns) if q.prim.name == "mul")
    assert e in program.eqns[product].inputs and plan.get(product) is not e


@pytest.mark.parametrize("out", [lambda x: x, lambda x: anp.reshape(x, (1000, 100)),
                                 lambda x: x[::2]])
def test_a_donated_input_that_an_output_returns_or_views_is_kept(out):
    f = lambda x: (out(x), anp.sin(x) * 2.0 + 1.0)  # noqa: E731
    program, plan = plan_and_compare(f, X5, donated_argnums=(0,))
    assert plan and program.inputs[0] not in plan.values()


@pytest.mark.parametrize("order", ["C", "F"])
def test_matrices_keep_their_memory_order(order):
    """A ufunc's result follows its operands' layout and a reduction's rounding follows the
    layout: an F-ordered input must give what it gives unplanned, bit for bit."""
    def f(x, w):
        h = anp.tanh(x @ w + 1.0)  # matmul: known C
        g = anp.sin(x) * 2.0  # follows x's layout, unknown when staged
        return anp.sum(h * h + 1.0, axis=1), anp.sum(g * 3.0 - g, axis=0), anp.exp(x.T) * 2.0

    x = np.asarray(RNG.standard_normal((300, 40)), order=order)
    w = RNG.standard_normal((40, 40))
    program, plan = plan_and_compare(f, x, w)
    assert plan  # the matmul chain
    planned = {program.eqns[i].prim.name for i in plan}
    assert "tanh" in planned or "mul" in planned
    # Told that the inputs are C-ordered, more lines may reuse; right for C inputs only.
    if order == "C":
        plan_and_compare(f, x, w, assume_c_inputs=True)


def test_guarded_values_and_small_arrays_are_left_alone():
    def f(x):
        y = anp.sin(x) * 2.0
        if np.asarray(y)[0] > 0:  # a guard on all of y
            return y * 3.0 + 1.0
        return -y

    program, plan = plan_and_compare(f, X5)
    guarded = {g.var for g in program.guards}
    assert guarded and not guarded & set(plan.values())
    small = np.linspace(0.0, 1.0, buffers.MIN_SIZE - 1)
    assert plan_buffers(program_of(lambda x: anp.sin(x) * 2.0 + 1.0, small)) == {}


def test_value_and_grad_of_an_elementwise_loss_uses_a_fraction_of_the_memory():
    def loss(x):
        return anp.sum(anp.sin(x) * anp.exp(-x**2) + anp.tanh(x))

    program = optimize(ad.jit(ad.value_and_grad(loss)).program(X5))
    plan = plan_buffers(program)
    check_plan(program, plan)
    peaks = []
    for p in (None, plan):
        compiled = compile_program(program, "loss", p or None)
        compiled.run(X5)
        tracemalloc.start()
        got = compiled.run(X5)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert_bits(got, ad.value_and_grad(loss)(X5))
    assert peaks[1] < 0.3 * peaks[0], peaks  # measured: 4 arrays instead of 20


# Random programs: elementwise ops, views (reversal, transpose, reshape, broadcast rows,
# slices), fan-out, outputs picked among intermediates and views. Bits must not move.
_UNARY = [anp.sin, anp.exp, anp.tanh, anp.negative, anp.abs, lambda a: anp.sqrt(anp.abs(a)),
          lambda a: a * 2.0, lambda a: 1.0 - a]
_BINARY = [anp.add, anp.multiply, anp.subtract, anp.divide, anp.maximum, anp.hypot]
_VIEWS = [lambda a: a[::-1], lambda a: a.T, lambda a: anp.reshape(anp.reshape(a, (-1,)),
                                                                     a.shape),
          lambda a: anp.broadcast_to(a[0], a.shape), lambda a: a[:, ::-1], lambda a: a * 1]


def random_function(seed: int):
    rng = np.random.default_rng(seed)
    steps = [(rng.integers(3), rng.integers(10**6), rng.integers(10**6), rng.integers(8))
             for _ in range(int(rng.integers(8, 30)))]
    n_out = int(rng.integers(1, 4))

    def f(x, y):
        vals = [x, y]
        for kind, i, j, k in steps:
            a, b = vals[i % len(vals)], vals[j % len(vals)]
            if kind == 0:
                vals.append(_UNARY[k % len(_UNARY)](a))
            elif kind == 1:
                vals.append(_BINARY[k % len(_BINARY)](a, b))
            else:
                vals.append(_VIEWS[k % len(_VIEWS)](a))
        return tuple(vals[-1 - 3 * m] for m in range(n_out)), anp.sum(vals[-1] * 1.5)

    return f


@pytest.mark.parametrize("seed", range(40))
def test_random_programs_keep_their_bits(seed):
    f = random_function(seed)
    x = np.abs(RNG.standard_normal((40, 40))) + 0.5
    y = RNG.standard_normal((40, 40))
    donate = (0,) if seed % 2 else ()
    with np.errstate(all="ignore"):  # exp of exp overflows: the bits of inf and nan count too
        for args in ((x, y), (np.asfortranarray(x), y)):
            plan_and_compare(f, *args, min_size=0, donated_argnums=donate)
        plan_and_compare(f, x, y, min_size=0, assume_c_inputs=True)


def test_release_points_free_each_value_once_after_its_last_read():
    """Replay a planned program deleting what release_points says after each line: nothing
    is read after its release, buffers included, and the bits are those of codegen."""
    def loss(x):
        t = anp.reshape(anp.tanh(anp.reshape(x, (100, 1000))), (-1,))
        return anp.sum(anp.sin(x) * anp.exp(-x**2) + t)

    program = optimize(ad.jit(ad.value_and_grad(loss)).program(X5))
    plan = plan_buffers(program)
    points = release_points(program, plan)
    released = [v for vs in points.values() for v in vs]
    assert len(released) == len(set(released))
    env = dict(zip(program.inputs, [X5]))
    env.update(program.consts)
    for v in points.get(-1, ()):
        del env[v]
    for i, eqn in enumerate(program.eqns):
        args = [a.value if a.__class__ is Lit else env[a] for a in eqn.inputs]
        if i in plan:
            env[eqn.out] = _ufunc_of(eqn)(*args, out=env[plan[i]])
        else:
            env[eqn.out] = eqn.prim.impl(*args, **eqn.params)
        for v in points.get(i, ()):
            del env[v]
    assert_bits(tuple(env[v] for v in program.outputs), run(program, (X5,)))


def _ufunc_of(eqn):
    impl = eqn.prim.impl
    return impl if isinstance(impl, np.ufunc) else {
        "add": np.add, "sub": np.subtract, "mul": np.multiply, "neg": np.negative}[
        eqn.prim.name]


# ----------------------------------------------------------------------------- numexpr

_SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-310, -1e-310, 1e300, -1e300,
                     709.0, -745.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0])


def _samples(n: int = 4096):
    x = np.concatenate([RNG.standard_normal(n // 2) * 4, RNG.uniform(-1, 1, n // 4),
                        np.logspace(-300, 300, n // 8), -np.logspace(-300, 300, n // 8),
                        _SPECIAL])
    return x, RNG.permutation(x)


_PUBLIC = {"add": anp.add, "sub": anp.subtract, "mul": anp.multiply, "div": anp.divide,
           "neg": anp.negative, "pow": anp.power}


def _op_case(name: str):
    """f(x, y, z) applying op `name` to `x - z` (z is zeros: x itself, with its signed zeros,
    infinities and nans), so the program has a tree to fuse that no rewrite can fold."""
    fn = _PUBLIC.get(name) or getattr(anp, name)
    kind = fusion._OPS[name][1]
    if kind == "w":
        return lambda x, y, z: fn((x - z) > 0.0, x - z, y)
    if name == "logical_not":
        return lambda x, y, z: fn((x - z) > 0.0)
    if kind == "l":
        return lambda x, y, z: fn((x - z) > 0.0, y < 0.5)
    if "{1}" not in fusion._OPS[name][0]:
        return lambda x, y, z: fn(x - z)
    return lambda x, y, z: fn(x - z, y)


def assert_close(got, want, name: str, rtol: float = 1e-14, atol: float = 0.0) -> None:
    """Same dtype and shape; same nan positions; the same infinities, zeros (with sign) and
    finite values to rtol (+ atol, for results that cancel)."""
    got, want = np.asarray(got), np.asarray(want)
    assert (got.dtype, got.shape) == (want.dtype, want.shape), name
    if want.dtype == bool:
        assert np.array_equal(got, want), name
        return
    assert np.array_equal(np.isnan(got), np.isnan(want)), name
    exact = ~np.isfinite(want) | (want == 0)
    assert np.array_equal(got[exact & ~np.isnan(want)], want[exact & ~np.isnan(want)]), name
    assert np.array_equal(np.signbit(got[want == 0]), np.signbit(want[want == 0])), name
    finite = np.isfinite(want) & (want != 0)
    err = np.abs(got[finite] - want[finite]) - atol
    rel = np.maximum(err, 0.0) / np.abs(want[finite])
    assert rel.max(initial=0.0) <= rtol, (name, rel.max())


@pytest.mark.parametrize("name", sorted(fusion._OPS))
def test_each_fused_op_agrees_with_numpy(name):
    x, y = _samples()
    args = (x, y, np.zeros_like(x))
    with np.errstate(all="ignore"):
        program = program_of(_op_case(name), *args)
        want = run(program, args)
    fused = fuse_numexpr(program, min_size=0)
    assert [e.prim for e in fused.eqns] == [fusion.NUMEXPR], fused
    assert_close(run(fused, args), want, name)


@pytest.mark.parametrize("k", sorted(fusion._POW_LITERALS) + [2.0, 3.0, -1.0, 2.5, -2, 10])
def test_powers_by_a_literal(k):
    """numexpr's literal powers are multiplication chains: only those that agree are fused."""
    x, _ = _samples()
    args = (x, np.zeros_like(x))
    with np.errstate(all="ignore"):
        program = program_of(lambda x, z: (x - z) ** k, *args)
        want = run(program, args)
    fused = fuse_numexpr(program, min_size=0)
    assert (len(fused.eqns) == 1) == (k in fusion._POW_LITERALS)
    with np.errstate(all="ignore"):
        assert_close(run(fused, args), want, f"pow {k}")


def loss(x):
    return anp.sum(anp.sin(x) * anp.exp(-x**2) + anp.tanh(x))


def test_the_elementwise_loss_fuses_into_few_numexpr_lines():
    program = optimize(ad.jit(ad.value_and_grad(loss)).program(X5))
    fused = fuse_numexpr(program, min_size=10_000)
    kinds = [e.prim.name for e in fused.eqns]
    assert kinds.count("numexpr") == 3 and len(kinds) <= 9, fused
    # sin, exp(-x**2) and tanh: each computed once (stored when read several times), never
    # recomputed inside several expressions
    text = " ".join(e.params.get("expr", e.prim.name) for e in fused.eqns)
    assert [text.count(f) for f in ("sin", "exp", "tanh")] == [1, 1, 1], text
    value, grad = run(fused, (X5,))
    want_value, want_grad = ad.value_and_grad(loss)(X5)
    assert abs(value - want_value) <= 1e-13 * np.sum(np.abs(X5))
    assert_close(grad, want_grad, "loss grad")
    assert_bits(run(fused, (X5,), plan_buffers(fused)), run(fused, (X5,)))
    source = compile_program(fused, "loss").source
    assert "numexpr(x0, expr='exp((-(a0 ** 2)))')" in source


def test_values_read_outside_a_region_stay_their_own_lines():
    def f(x):
        a = anp.exp(-x * x)
        b = anp.sin(a) + 1.0
        return a, b * 2.0, anp.sum(b)

    program = program_of(f, X5)
    fused = fuse_numexpr(program, min_size=0)
    outs = {e.out for e in fused.eqns}
    assert program.outputs[0] in outs  # an output is computed, never only inlined
    b = next(e.out for e in program.eqns if e.prim.name == "add")
    assert b in outs  # read by sum, which numexpr does not fuse
    for got, want in zip(run(fused, (X5,)), f(X5)):
        assert_close(got, want, "outside")


def test_scalar_and_broadcast_operands():
    """A Python float argument, a 0-d reduction and a row broadcast into a matrix are leaves
    of an expression; the row's own chain is not recomputed per row."""
    def f(x, s, row):
        r = anp.exp(row) * 0.5  # shape (1000,): its own fused line, not inlined per row
        centred = x - anp.mean(x)
        return anp.tanh(centred * s + r) * 2.0 - s

    x = np.reshape(X5, (100, 1000))
    row = np.linspace(-1.0, 1.0, 1000)
    program = program_of(f, x, 1.5, row)
    fused = fuse_numexpr(program, min_size=1000)
    ne = [e for e in fused.eqns if e.prim is fusion.NUMEXPR]
    assert [e.out.shape for e in ne] == [(1000,), (100, 1000)], fused
    assert "exp" not in ne[1].params["expr"]
    for s in (1.5, -0.25):
        want = f(x, s, row)  # `- s` cancels: relative to the output's scale
        assert_close(run(fused, (x, s, row)), want, "scalars", atol=1e-14 * np.abs(want).max())


def test_what_is_not_fused():
    small = np.linspace(0, 1, 1000)
    f = lambda x: anp.sin(x) * 2.0 + 1.0  # noqa: E731
    program = program_of(f, small)
    assert fuse_numexpr(program).eqns == program.eqns  # under min_size
    ints = (small * 100).astype(np.int64)
    # numexpr's float32, integer and complex rules are not NumPy's
    for g, x in ((f, small.astype(np.float32)), (f, small + 0j), (lambda x: x * 3 + 1, ints),
                 (lambda x: (x > 3) & (x < 50), ints)):
        p = program_of(g, x)
        assert not any(e.prim is fusion.NUMEXPR for e in fuse_numexpr(p, min_size=0).eqns)
    one = program_of(lambda x: anp.sin(x), X5)  # a single op stays NumPy's own
    assert fuse_numexpr(one, min_size=0).eqns == one.eqns
    assert "numexpr" not in PRIMITIVES and fusion.NUMEXPR not in PRIMITIVES.values()


def test_long_chains_and_many_inputs_are_split_within_numexpr_limits():
    def chain(x):
        for _ in range(150):
            x = anp.sin(x) * 0.5 + 0.25
        return x

    def wide(*xs):
        return sum(anp.sin(x) * 2.0 for x in xs)

    x = X5[:20_000]
    for f, args in ((chain, (x,)), (wide, tuple(x + k for k in range(60)))):
        program = program_of(f, *args)
        fused = fuse_numexpr(program, min_size=0)
        for e in fused.eqns:
            if e.prim is fusion.NUMEXPR:
                assert len(e.inputs) <= fusion.MAX_LEAVES
        assert len(fused.eqns) < len(program.eqns) / 2
        assert_close(run(fused, args), run(program, args), f.__name__, rtol=1e-13)


def test_a_missing_numexpr_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "numexpr", None)  # `import numexpr` now fails
    monkeypatch.setattr(fusion, "_module", [])
    with pytest.raises(ImportError) as info:
        fuse_numexpr(program_of(lambda x: anp.sin(x) + 1.0, X5))
    assert str(info.value) == "backend='numexpr' needs numexpr: pip install 'autodx[fast]'"


# ----------------------------------------------------------------------------- math twins

_TWIN_PUBLIC = {"add": anp.add, "sub": anp.subtract, "mul": anp.multiply, "div": anp.divide,
                "neg": anp.negative, "pow": anp.power}
_TWIN_POINTS = [0.0, -0.0, 1e-300, 5e-324, 1e-8, 0.1, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 10.0,
                30.0, 700.0, 1e10, 1e300] + list(np.round(RNG.standard_normal(60) * 5, 6))


@pytest.mark.parametrize("name", sorted(codegen._MATH))
def test_math_twins_agree_with_numpy_bit_for_bit(name):
    """codegen's math flavour may only use a twin that gives NumPy's own float64 bits."""
    fn = _TWIN_PUBLIC.get(name) or getattr(anp, name)
    binary = "{1}" in codegen._MATH[name]
    f = (lambda x, y: fn(x, y)) if binary else (lambda x, y: fn(x) + 0.0 * y)
    jitted = ad.jit(f)
    assert "except (ArithmeticError, ValueError)" in jitted.source(0.5, 0.25)  # math flavour
    pts = _TWIN_POINTS + [-p for p in _TWIN_POINTS]
    for x in pts:
        for y in (pts[::7] if binary else (0.25,)):
            with np.errstate(all="ignore"):
                want = f(x, y)
                got = jitted(x, y)
            # NOTE: bits only: eager div and pow give float or np.float64 depending on the
            # values (NumPy's path for 1/0 and 0**-x), which one staged call cannot follow.
            assert isinstance(got, (float, np.bool_, bool)) == isinstance(
                want, (float, np.bool_, bool)), (name, x, y)
            assert np.asarray(got).tobytes() == np.asarray(want).tobytes(), (name, x, y, got,
                                                                             want)
