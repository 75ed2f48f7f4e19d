"""The rewrites (src/autodx/rewrites.py), each pass on its own: it fires (the equations or
primitives change as expected), and it preserves values bit for bit, both replayed by
`program.evaluate` and compiled by codegen; then `optimize` on the staged derivatives of small
functions, against the eager call (bit for bit), analytic values and JAX."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import autodx as ad
from autodx import rewrites
from autodx.codegen import compile_program
from autodx.core import PRIMITIVES
from autodx.prims.index import SliceSpec, int_array
from autodx.program import Eqn, Guard, Lit, Program, Var, evaluate, read
from autodx.staging import stage
from autodx.tree import tree_flatten
from op_table import OPS

anp = ad.numpy
X = np.array([0.3, -1.2, 0.8])
FULL = SliceSpec(None, None, None)


# ----------------------------------------------------------------------------- helpers

class Builder:
    """Writes a program by hand, running each equation on example values as it goes."""

    def __init__(self):
        self.inputs, self.eqns, self.consts, self.env, self.args = [], [], {}, {}, []

    def input(self, value, weak: bool = False) -> Var:
        v = Var.like(value, weak)
        self.inputs.append(v)
        self.args.append(value)
        self.env[v] = value
        return v

    def const(self, value) -> Var:
        v = Var.like(value)
        self.consts[v] = self.env[v] = value
        return v

    def __call__(self, name: str, *inputs, **params) -> Var:
        inputs = [Lit(a) if type(a) in (int, float, bool, complex) else a for a in inputs]
        prim = PRIMITIVES[name]
        out = prim.impl(*[read(self.env, a) for a in inputs], **params)
        v = Var.like(out)
        self.eqns.append(Eqn(prim, inputs, v, params))
        self.env[v] = out
        return v

    def guard(self, var: Var, value=None) -> Guard:
        value = np.array(self.env[var]) if value is None else value
        return Guard(var, value, "array", ("test", 0))

    def program(self, *outputs, guards=()) -> Program:
        return Program(inputs=list(self.inputs), eqns=list(self.eqns), outputs=list(outputs),
                       consts=dict(self.consts), guards=list(guards),
                       out_tree=tree_flatten(tuple(range(len(outputs))))[1])


def names(program: Program) -> list[str]:
    return [e.prim.name for e in program.eqns]


def assert_identical(got, want) -> None:
    """Same type, dtype, shape and bytes (so -0.0 and 0.0, and nan payloads, differ)."""
    assert type(got) is type(want), (type(got), type(want))
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
    assert g.tobytes() == w.tobytes(), (g, w)


def assert_same_values(before: Program, after: Program, args, exact: bool = True) -> None:
    """`after` computes what `before` computes, replayed and compiled."""
    want = evaluate(before, list(args))
    runs = [evaluate(after, list(args))] + [tree_flatten(compile_program(p).run(*args))[0]
                                            for p in (after, before)]
    for got in runs:
        assert len(got) == len(want)
        for g, w in zip(got, want):
            if exact:
                assert_identical(g, w)
            else:
                np.testing.assert_array_equal(g, w)


def staged(fun, *args) -> Program:
    weak = [type(a) in (float, int, bool, complex) for a in args]
    program, _ = stage(fun, list(args), weak, lambda tracers: (tuple(tracers), {}))
    return program


# ----------------------------------------------------------------------------- dead_code

def test_dead_code_keeps_outputs_and_guarded_vars():
    b = Builder()
    x = b.input(X)
    b.const(np.ones(3))  # read by nothing
    b("sin", x)  # read by nothing
    c = b("cos", x)  # read by nothing but a guard
    out = b("mul", x, 2.0)
    program = b.program(out, guards=[b.guard(c)])
    after = rewrites.dead_code(program)
    assert names(after) == ["cos", "mul"]
    assert after.consts == {}
    assert_same_values(program, after, b.args)


# ----------------------------------------------------------------------------- merge_consts

def test_merge_consts_keeps_one_of_equal_values():
    b = Builder()
    x = b.input(X)
    c1, c2 = b.const(np.array([1.0, 2.0, 3.0])), b.const(np.array([1.0, 2.0, 3.0]))
    c3 = b.const(np.array([1, 2, 3]))  # same values, another dtype
    c4 = b.const(np.array([-0.0, 2.0, 3.0]))  # equal to c1 by ==, not by bytes
    out = b("add", b("add", b("mul", x, c1), b("mul", x, c2)), b("add", c3, c4))
    program = b.program(out)
    after = rewrites.merge_consts(program)
    assert len(after.consts) == 3
    assert set(after.eqns[1].inputs) <= set(after.consts) | {x}
    assert after.eqns[0].inputs[1] is after.eqns[1].inputs[1]
    assert_same_values(program, after, b.args)


# ----------------------------------------------------------------------------- cse

def test_cse_merges_equal_equations():
    b = Builder()
    x = b.input(X)
    i1, i2 = (int_array([2, 0]),), (int_array([2, 0]),)  # equal, not the same object
    out = b("add", b("mul", b("getitem", x, index=i1), 2.0),
            b("mul", b("getitem", x, index=i2), 2.0))
    program = b.program(out)
    after = rewrites.cse(program)
    assert names(after) == ["getitem", "mul", "add"]
    assert after.eqns[2].inputs[0] is after.eqns[2].inputs[1]
    assert_same_values(program, after, b.args)


@pytest.mark.parametrize("first, second", [
    ((2.0,), (2,)),  # a float and an int literal: NumPy may type them apart
    ((0.0,), (-0.0,)),  # equal by ==, not interchangeable
])
def test_cse_tells_literals_apart(first, second):
    b = Builder()
    x = b.input(X.astype(np.float32))
    out = b("add", b("add", x, *first), b("add", x, *second))
    program = b.program(out)
    assert names(rewrites.cse(program)) == ["add", "add", "add"]


def test_cse_tells_index_params_apart_and_skips_unknown_ones():
    b = Builder()
    x = b.input(X)
    g1 = b("getitem", x, index=(int_array([2, 0]),))
    g2 = b("getitem", x, index=(int_array([0, 2]),))
    r1 = b("reshape", x, shape=[3, 1])  # a list: unhashable, so not compared
    r2 = b("reshape", x, shape=[3, 1])
    program = b.program(b("add", g1, g2), b("add", r1, r2))
    after = rewrites.cse(program)
    assert names(after) == names(program)
    assert_same_values(program, after, b.args)


def test_cse_gives_two_outputs_two_buffers():
    program = staged(lambda x: (x * 2.0, x * 2.0), X)
    after = rewrites.optimize(program)
    assert names(after) == ["mul", "mul"]
    f = ad.jit(lambda x: (x * 2.0, x * 2.0))
    f(X)
    a, b = f(X)
    a[0] = 7.0
    assert b[0] == X[0] * 2.0


# ----------------------------------------------------------------------------- fold_constants

def test_fold_constants_runs_constant_equations_now():
    b = Builder()
    x = b.input(X)
    c = b.const(np.array([1.0, 2.0, 4.0]))
    folded = b("add", b("mul", c, 3.0), b("getitem", c, index=(FULL,)))
    out = b("mul", x, folded)
    program = b.program(out)
    after = rewrites.fold_constants(program)
    assert names(after) == ["mul"]
    np.testing.assert_array_equal(after.consts[folded], [4.0, 8.0, 16.0])
    assert_same_values(program, after, b.args)


def test_fold_constants_is_size_capped():
    b = Builder()
    x = b.input(np.float64(2.0))
    c = b.const(np.float64(1.5))
    small = b("broadcast_to", c, shape=(100, 100))  # 10_000 elements: folded
    big = b("broadcast_to", c, shape=(101, 100))  # kept: computed at each call
    program = b.program(b("mul", x, small), b("mul", x, big))
    after = rewrites.fold_constants(program)
    assert names(after) == ["broadcast_to", "mul", "mul"]
    assert after.eqns[0].out is big and small in after.consts
    assert_same_values(program, after, b.args)


def test_fold_constants_leaves_warning_equations_to_the_call():
    b = Builder()
    x = b.input(X)
    c = b.const(np.array([0.0, 1.0, 2.0]))
    with np.errstate(divide="ignore"):
        out = b("add", x, b("log", c))
    program = b.program(out)
    after = rewrites.fold_constants(program)
    assert names(after) == ["log", "add"]  # log(0) warns at each call, as eagerly
    with np.errstate(divide="ignore"):
        assert_same_values(program, after, b.args)


def test_fold_constants_checks_guards_on_constants_now():
    b = Builder()
    x = b.input(X)
    c = b.const(np.array([1.0, 2.0, 3.0]))
    d = b("mul", c, 2.0)
    e = b("mul", c, 3.0)
    out = b("add", x, b("add", d, e))
    holds = b.guard(d)
    fails = b.guard(e, np.array([0.0, 0.0, 0.0]))  # (cannot happen when staged: kept)
    program = b.program(out, guards=[holds, fails])
    after = rewrites.fold_constants(program)
    assert names(after) == ["add"]
    assert after.guards == [fails]


# ----------------------------------------------------------------------------- simplify

ONES, ZEROS = np.ones(3), np.zeros(3)


@pytest.mark.parametrize("name, left, right", [
    ("mul", None, 1.0), ("mul", 1.0, None), ("mul", None, 1), ("mul", True, None),
    ("mul", None, ONES), ("mul", ONES, None), ("div", None, 1.0), ("div", None, ONES),
    ("add", None, 0.0), ("add", 0.0, None), ("add", ZEROS, None), ("add", None, -0.0),
    ("sub", None, 0.0), ("sub", None, ZEROS),
])
def test_simplify_removes_arithmetic_identities(name, left, right):
    b = Builder()
    x = b.input(np.array([0.5, 0.0, np.inf]))
    s = b("neg", x)  # [-0.5, -0.0, -inf]: x * 1, x / 1 and x - 0 keep them all, bit for bit
    operands = [b.const(a) if isinstance(a, np.ndarray) else s if a is None else a
                for a in (left, right)]
    program = b.program(b("exp", b(name, *operands)), b(name, *operands))
    after = rewrites.simplify(program)
    assert names(after) == ["neg", "exp"]
    assert after.outputs[1] is s  # an output may become the fresh result of a ufunc
    # NOTE: x + 0 is x but where x is -0.0 (the next test)
    assert_same_values(program, after, b.args, exact=name != "add" or repr(right) == "-0.0")


def test_simplify_x_plus_zero_changes_only_the_sign_of_a_zero():
    b = Builder()
    x = b.input(np.array([-0.0, 1.0]))
    s = b("neg", b("neg", x))
    out = b("add", b("sin", s), 0.0)
    program = b.program(out)
    after = rewrites.dead_code(rewrites.simplify(program))
    assert names(after) == ["sin"]  # neg(neg(x)) and + 0 both gone
    want, got = evaluate(program, b.args)[0], evaluate(after, b.args)[0]
    np.testing.assert_array_equal(got, want)  # -0.0 == 0.0 ...
    assert np.signbit(got[0]) and not np.signbit(want[0])  # ... the documented NOTE


def test_simplify_removes_double_negation():
    b = Builder()
    x = b.input(X)
    s = b("sin", x)
    program = b.program(b("cos", b("neg", b("neg", s))))
    after = rewrites.optimize(program)
    assert names(after) == ["sin", "cos"]
    assert_same_values(program, after, b.args)


@np.errstate(invalid="ignore")  # inf * 0
def test_simplify_keeps_what_is_not_an_identity():
    b = Builder()
    xi = b.input(np.array([1, 2, 3]))
    xc = b.input(np.array([1 + 1j, np.inf + 1j, 1j]))
    xw = b.input(2.0, weak=True)
    xf = b.input(np.array([np.inf, -1.0, 2.0]))
    outs = [
        b("mul", xi, 1.0),  # int * float: a float result, not xi
        b("mul", b("neg", xc), 1.0),  # complex * 1: inf * 0 makes a nan in the real part
        b("mul", b("sin", xf), b.const(np.ones((2, 3)))),  # broadcasts to another shape
        b("mul", b("mul", xw, 3.0), b.const(np.ones(()))),  # a weak scalar becomes strong
        b("mul", b("reshape", xw, shape=()), b.const(np.float32(3.0))),  # here too
        b("mul", b("neg", xf), 0.0),  # 0 * x is not zeros when x may be inf or nan
        b("mul", xf, 0.0),
        b("add", xi, 0.5),
    ]
    program = b.program(*outs)
    after = rewrites.simplify(program)
    assert names(after) == names(program)
    assert_same_values(program, after, b.args)
    assert np.isnan(evaluate(after, b.args)[6][0])


def test_an_output_never_becomes_an_input():
    f = ad.jit(lambda x: x * 1.0)
    x = np.array([1.0, 2.0])
    for _ in range(2):
        out = f(x)
        assert out is not x
        out[0] = 9.0
        assert x[0] == 1.0
    assert names(f.program(x)) == ["mul"]


@pytest.mark.parametrize("name, params", [
    ("reshape", dict(shape=(2, 3))), ("broadcast_to", dict(shape=(2, 3))),
    ("convert", dict(dtype=np.dtype(np.float64))), ("transpose", dict(perm=(0, 1))),
    ("getitem", dict(index=(FULL,))), ("getitem", dict(index=(SliceSpec(0, 2, 1),
                                                             SliceSpec(None, 3, None)))),
])
def test_simplify_removes_shape_identities(name, params):
    b = Builder()
    x = b.input(np.arange(6.0).reshape(2, 3))
    s = b("sin", x)
    program = b.program(b("cos", b(name, s, **params)))
    after = rewrites.simplify(program)
    assert names(after) == ["sin", "cos"]
    assert_same_values(program, after, b.args)


@pytest.mark.parametrize("name, params", [
    ("transpose", dict(perm=(1, 0))),  # a square matrix keeps its shape, not its elements
    ("getitem", dict(index=(SliceSpec(None, None, -1),))),  # reversed: same shape
    ("getitem", dict(index=(0,))),
    ("convert", dict(dtype=np.dtype(np.float32))),
])
def test_simplify_keeps_shape_ops_that_move_elements(name, params):
    b = Builder()
    x = b.input(np.arange(4.0).reshape(2, 2))
    program = b.program(b("cos", b(name, b("sin", x), **params)))
    after = rewrites.simplify(program)
    assert names(after) == names(program)
    assert_same_values(program, after, b.args)


def test_simplify_collapses_reshape_broadcast_and_transpose_chains():
    b = Builder()
    x = b.input(np.arange(24.0).reshape(2, 3, 4))
    s = b("sin", x)
    r = b("reshape", b("reshape", b("reshape", s, shape=(6, 4)), shape=(24,)), shape=(4, 6))
    back = b("reshape", b("reshape", s, shape=(24,)), shape=(2, 3, 4))
    t = b("transpose", b("transpose", s, perm=(1, 2, 0)), perm=(2, 0, 1))  # the identity
    t2 = b("transpose", b("transpose", s, perm=(1, 2, 0)), perm=(1, 0, 2))
    c = b("broadcast_to", b("broadcast_to", b("reshape", s, shape=(1, 2, 3, 4)),
                                        shape=(1, 2, 3, 4)), shape=(5, 2, 3, 4))
    program = b.program(b("cos", r), b("cos", back), b("cos", t), b("cos", t2), b("cos", c))
    after = rewrites.optimize(program)
    assert names(after).count("reshape") == 2  # (4, 6) straight from s, and c's
    assert names(after).count("transpose") == 1 and names(after).count("broadcast_to") == 1
    (transpose,) = [e for e in after.eqns if e.prim.name == "transpose"]
    assert transpose.inputs == [s] and transpose.params["perm"] == (2, 1, 0)
    assert_same_values(program, after, b.args)


def test_simplify_turns_a_transpose_between_unit_axis_reshapes_into_one_transpose():
    b = Builder()
    x = b.input(np.arange(6.0).reshape(2, 3))
    s = b("sin", x)
    # (2, 3) -> (2, 1, 3) -> perm (1, 2, 0): (1, 3, 2) -> (3, 2): the transpose of s
    moved = b("reshape", b("transpose", b("reshape", s, shape=(2, 1, 3)), perm=(1, 2, 0)),
              shape=(3, 2))
    # the unit axis is not simply dropped here: (1, 3, 2) -> (2, 3) moves elements
    kept = b("reshape", b("transpose", b("reshape", s, shape=(2, 1, 3)), perm=(1, 2, 0)),
             shape=(2, 3))
    program = b.program(b("exp", moved), b("exp", kept))
    after = rewrites.optimize(program)
    transposes = [e for e in after.eqns if e.prim.name == "transpose"]
    assert ([s], (1, 0)) in [(e.inputs, e.params["perm"]) for e in transposes]
    assert names(after).count("reshape") == 2  # only `kept`'s chain stays
    assert_same_values(program, after, b.args)


def test_simplify_turns_a_transposed_stack_into_a_stack():
    b = Builder()
    x = b.input(np.arange(6.0).reshape(2, 3))
    s, c = b("sin", x), b("cos", x)
    moved = b("transpose", b("stack", s, c, axis=2), perm=(2, 0, 1))  # stack on axis 0
    mixed = b("transpose", b("stack", s, c, axis=2), perm=(2, 1, 0))  # also swaps 0 and 1
    program = b.program(b("exp", moved), b("exp", mixed))
    after = rewrites.optimize(program)
    assert names(after).count("transpose") == 1
    assert sorted(e.params["axis"] for e in after.eqns if e.prim.name == "stack") == [0, 2]
    assert_same_values(program, after, b.args)


# ----------------------------------------------------------------------------- optimize

def rosen(x):
    return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def vector(x):
    return anp.stack([x[0] ** 2 + x[1] ** 2, x[0] - x[1]])


def rosen_jax(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


X2 = np.array([2.0, 1.0])
X5 = np.linspace(-1.0, 1.0, 5)
CASES = {  # name: (function, argument, the most equations left, the right answer)
    "grad": (ad.grad(lambda x: 3 * x ** 2), 2.0, 2, 12.0),
    "hessian": (ad.hessian(lambda x: x[0] ** 2 + x[1] ** 2), X2, 1, 2 * np.eye(2)),
    "jacfwd": (ad.jacfwd(vector), X2, 8, np.array([[4.0, 2.0], [1.0, -1.0]])),
    "jacrev": (ad.jacrev(vector), X2, 10, np.array([[4.0, 2.0], [1.0, -1.0]])),
    "rosen": (ad.hessian(rosen), X5, 21, None),
}


@pytest.mark.parametrize("case", CASES)
def test_optimize_on_derivatives(case):
    fun, x, most, want = CASES[case]
    if want is None:
        want = np.asarray(jax.hessian(rosen_jax)(X5))
    program = staged(fun, x)
    after = rewrites.optimize(program)
    assert len(after.eqns) <= most < len(rewrites.dead_code(program).eqns)
    assert_same_values(program, after, [x])
    jitted = ad.jit(fun)
    for _ in range(2):  # the staging call, then the compiled code
        got = jitted(x)
        assert_identical(got, fun(x))
        np.testing.assert_allclose(got, want, rtol=1e-13)


def test_optimize_folds_a_quadratics_hessian_and_copies_it_out():
    h = ad.jit(ad.hessian(lambda x: x[0] ** 2 + x[1] ** 2))
    h(X2)
    assert names(h.program(X2)) == []  # a constant, which codegen returns as a copy
    first = h(X2)
    first[0, 0] = 99.0
    np.testing.assert_array_equal(h(X2), 2 * np.eye(2))


def test_a_constant_output_is_a_new_array_each_call_as_eagerly():
    jitted = ad.jit(lambda x: np.ones(3) * 2)
    for _ in range(3):
        out = jitted(1.0)
        np.testing.assert_array_equal(out, [2.0, 2.0, 2.0])
        out[0] = 7.0


def test_optimize_grad_of_a_cubic_leaves_two_products():
    after = rewrites.optimize(staged(ad.grad(lambda x: 3 * x ** 2), 2.0))
    assert names(after) == ["mul", "mul"]


def test_optimize_is_a_fixed_point_and_leaves_its_argument_alone():
    program = staged(ad.hessian(rosen), X5)
    eqns, consts = list(program.eqns), dict(program.consts)
    after = rewrites.optimize(program)
    assert program.eqns == eqns and program.consts == consts
    again = rewrites.optimize(after)
    assert names(again) == names(after)
    assert_same_values(program, again, [X5])


def test_optimize_keeps_guards_of_control_flow():
    f = ad.jit(ad.grad(lambda x: x ** 2 if x > 0 else -x * 1.0))
    assert f(3.0) == 6.0 and f(-3.0) == -1.0 and f(2.0) == 4.0
    assert f.cache_info().traces == 2


@pytest.mark.parametrize("name", ["mlp", "logistic", "gaussian", "least_squares"])
def test_optimize_on_gradients_of_the_example_programs(name):
    from test_programs import argnums, jax_gradient, load, params

    loss, args = load(name, "autodx.numpy").loss, params(name)
    program = staged(ad.grad(loss, argnums=argnums(name)), *args)
    after = rewrites.optimize(program)
    assert len(after.eqns) < len(rewrites.dead_code(program).eqns)
    assert_same_values(program, after, args)
    for got, want in zip(evaluate(after, list(args)), jax_gradient(name)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def _same_but_zero_signs(got, want) -> None:
    """Bit for bit, but for the sign of zeros (the NOTE on x + 0 in rewrites.py)."""
    assert type(got) is type(want), (type(got), type(want))
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype and g.shape == w.shape
    if g.tobytes() != w.tobytes():
        assert g.dtype.kind in "fc"
        unsigned = [np.where(a == 0, np.zeros((), a.dtype), a) for a in (g, w)]
        assert unsigned[0].tobytes() == unsigned[1].tobytes(), (g, w)


@pytest.mark.parametrize("op", [op for op in OPS if not op.nondiff], ids=lambda op: op.name)
def test_optimize_keeps_every_op_tables_hessian(op):
    rng = np.random.default_rng(0)
    args = op.args(rng)
    u = rng.standard_normal(np.shape(op.ref(*args)))
    h = ad.hessian(lambda *xs: anp.sum(anp.multiply(u, op.fn(*xs))), argnums=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows at poles warn, eagerly too
        program = staged(h, *args)
        want = tree_flatten(compile_program(rewrites.dead_code(program)).run(*args))[0]
        after = rewrites.optimize(program)
        got = tree_flatten(compile_program(after).run(*args))[0]
    assert len(after.eqns) <= len(rewrites.dead_code(program).eqns)
    for g, w in zip(got, want):
        _same_but_zero_signs(g, w)
