"""ad.explain: the notebook's four derivatives as written, the fallbacks, and every scalar
op-table row: the printed formula, evaluated, equals autodx's own derivative."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
import sympy

import autodx as ad
from op_table import OPS

anp = ad.numpy
explain_module = importlib.import_module("autodx.explain")


def test_the_notebook_derivatives_exactly_as_written():
    d = ad.explain(ad.grad(lambda x: 3 * x**2))(2.0)
    assert d.formula == "6*x" and str(d).splitlines() == ["d/dx (3*x**2) = 6*x", "  at x = 2: 12"]
    assert "6 x" in d._repr_latex_() and d._repr_latex_().startswith("$")
    partials = ad.explain(lambda x, y: 2 * x**2 + 3 * y, argnums=(0, 1), order=1)(2.0, 1.5)
    assert partials.formula == "(4*x, 3)" and "(8, 3)" in str(partials)
    jac = ad.explain(lambda x, y: anp.stack([x**2 + y**2, x - y]), argnums=(0, 1), order=1)
    assert jac(2.0, 1.0).formula == "[[2*x, 2*y], [1, -1]]"  # rows outputs, columns inputs
    hess = ad.explain(lambda x, y: x**2 + y**2, argnums=(0, 1), order=2)(2.0, 1.0)
    assert hess.formula == "[[2, 0], [0, 2]]"
    assert ad.explain(ad.hessian(lambda x: x**3))(1.0).formula == "6*x"


def test_without_sympy_a_readable_unsimplified_formula_and_the_listing(monkeypatch):
    monkeypatch.setattr(explain_module, "_sympy", lambda: None)
    d = ad.explain(ad.grad(lambda x: 3 * x**2))(2.0)
    assert d.expression is None and d.latex is None
    assert eval(d.formula, {"x": 2.0}) == 12.0  # e.g. 3*(x*2)
    assert "autodx[explain]" in str(d) and "mul(" in str(d)


def test_array_inputs_give_the_per_element_rule_with_shapes():
    w = np.arange(6.0).reshape(2, 3) / 5
    d = ad.explain(ad.grad(lambda W, x: anp.sum(anp.tanh(W @ x)), argnums=1))(w, np.ones(3))
    assert d.formula == "W.T @ (1 - tanh(W @ x)**2)"
    assert "W: (2, 3), x: (3,)" in str(d)
    np.testing.assert_allclose(d.value, w.T @ (1 - np.tanh(w @ np.ones(3)) ** 2), rtol=1e-14)


def test_big_programs_are_cut_and_point_to_the_listing():
    def chain(x):
        for _ in range(300):
            x = anp.sin(x) * 1.01
        return x
    d = ad.explain(chain, order=1)(0.3)
    assert ".listing" in d.formula and len(d.formula) < 800
    assert d.listing.count("\n") <= explain_module.MAX_LINES


@pytest.mark.parametrize("bad, match", [
    (dict(order=-1), "order"), (dict(order=1.5), "order")])
def test_bad_order(bad, match):
    with pytest.raises(ValueError, match=match):
        ad.explain(lambda x: x, **bad)


def test_bad_fun_and_names():
    with pytest.raises(TypeError, match="fun must be a function"):
        ad.explain(3.0)
    with pytest.raises(ValueError, match="one name per input"):
        ad.explain(lambda x, y: x * y, names=("a",))(1.0, 2.0)


# ----------------------------------------------------------------------------- the op table

def scalar_point(op, rng):
    """The row's own arguments, one entry each (so the point is in its domain), or None when
    the row does not take 0-d arguments to a 0-d result."""
    args = op.args(rng)
    try:
        point = [float(np.asarray(a).reshape(-1)[0]) for a in args]
        out = op.fn(*point)
    except Exception:
        return None
    return point if np.shape(out) == () and np.asarray(out).dtype.kind == "f" else None


SCALAR_ROWS = [op for op in OPS if not op.nondiff
               and scalar_point(op, np.random.default_rng(0)) is not None]


def test_the_op_table_has_scalar_rows():
    assert len(SCALAR_ROWS) >= 40


@pytest.mark.parametrize("op", SCALAR_ROWS, ids=[op.name for op in SCALAR_ROWS])
def test_formula_of_each_scalar_row_evaluates_to_autodx_derivative(op):
    point = scalar_point(op, np.random.default_rng(0))
    for i in range(len(point)):
        d = ad.explain(op.fn, argnums=i, order=1)(*point)
        want = float(ad.grad(op.fn, argnums=i)(*point))
        if d.expression is None:  # no SymPy form: the NumPy-style formula must still be there
            assert d.formula and d.notes, op.name
            continue
        got = complex(sympy.N(d.expression.subs(dict(zip(d.symbols, point)))))
        assert abs(got.imag) < 1e-9 and math.isclose(got.real, want, rel_tol=1e-9,
                                                     abs_tol=1e-12), (op.name, d.formula)
