"""`ad.explain` checked against autodx itself: the op table's scalar rows, the notebook's four
formulas, the fallbacks (no SymPy, array inputs, big programs) and the argument errors.

A row is scalar-capable when its `fn` and its NumPy `ref` take 0-d float inputs (the first
finite entry of each of the row's own arguments, so the point is in the row's domain) and give
a finite 0-d float. For each such row, each argnum and order 1 and 2, the printed formula is
read back with SymPy and evaluated at that point and at a second one (the row's arguments drawn
with another seed), and must equal autodx's nested `grad` there to 1e-10. Both points are
generic (no kinks, no ties), so autodx's conventions at kinks never decide a case. Rows whose
0-d program is the same as an earlier row's (broadcast variants, aliases, reductions of one
value) are the same test and run once.
"""

from __future__ import annotations

import importlib
import re
import time
import warnings

import numpy as np
import pytest
import sympy as sp

import autodx as ad
from op_table import OPS

anp = ad.numpy
# `autodx.explain` is the function (exported lazily); the module is reached by its full name.
explain_module = importlib.import_module("autodx.explain")
RTOL, ATOL = 1e-10, 1e-12
ORDERS = (1, 2)

# ----------------------------------------------------------------------------- the rows


def _first_finite(a) -> np.ndarray | None:
    flat = np.asarray(a, dtype=float).ravel()
    flat = flat[np.isfinite(flat)]
    return np.asarray(flat[0]) if flat.size else None


def _point(op, seed: int) -> list | None:
    xs = [_first_finite(a) for a in op.args(np.random.default_rng(seed))]
    return None if any(x is None for x in xs) else xs


def _is_finite_scalar(f, xs) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = np.asarray(f(*xs))
    except Exception:  # a row that needs arrays (shapes, matrices) is not scalar-capable
        return False
    return out.shape == () and out.dtype.kind == "f" and bool(np.isfinite(out))


def _program_key(op, xs) -> str:
    """The row's 0-d program with its variables renumbered: equal keys, equal explanations."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            text = str(ad.jit(op.fn).program(*xs))
    except Exception:  # not stageable: keep the row (its case shows why)
        return op.name
    names: dict = {}
    return re.sub(r"\bv\d+\b", lambda m: names.setdefault(m.group(), f"v{len(names)}"), text)


def _scalar_rows() -> list:
    rows, seen = [], set()
    for op in OPS:
        p0, p1 = _point(op, 0), _point(op, 1)
        if p0 is None or p1 is None or not (_is_finite_scalar(op.fn, p0)
                                            and _is_finite_scalar(op.ref, p0)):
            continue
        key = _program_key(op, p0)
        if key not in seen:
            seen.add(key)
            rows.append((op, p0, p1))
    return rows


SCALAR_ROWS = _scalar_rows()

# ----------------------------------------------------------------------------- expectations

ALL = None  # every (argnum, order) of the row

# Rows whose derivative program uses a primitive with no SymPy counterpart: `explain` prints
# the NumPy-style program instead, and its note names the primitive. {row: (primitive, the
# (argnum, order) cases, or ALL)}.
FALLBACK: dict[str, tuple[str, set | None]] = {
    # isinf / isnan / isfinite: the NaN and infinity guards of the numerically stable forms
    # (max-shifted log-sum-exp, softplus, NaN-skipping fmax); SymPy has no such test
    "logaddexp": ("isinf", ALL), "logaddexp2": ("isinf", ALL),
    "nn.log_sigmoid": ("isinf", ALL), "nn.softplus": ("isinf", ALL),
    "nn.softplus beta 2, threshold 1": ("isinf", ALL),
    "fmax": ("isnan", {(0, 1), (1, 1)}), "fmin": ("isnan", {(0, 1), (1, 1)}),
    "fmax, fmin with NaNs": ("isnan", ALL),
    "nn.logsumexp": ("isfinite", ALL), "special.softmax": ("isfinite", ALL),
    "special.log_softmax": ("isfinite", ALL), "asarray_chkfinite": ("isfinite", ALL),
    "nan_to_num": ("nan_to_num", ALL), "nan_to_num defaults": ("nan_to_num", ALL),
    # integer-valued steps the derivative keeps as factors (d/dy x % y = -(x // y))
    "remainder": ("floor_divide", {(1, 1)}), "floor_divide": ("floor_divide", {(1, 1)}),
    "x // y + x % y (operators)": ("floor_divide", {(1, 1)}),
    "7.0 // x * (7.0 % x) (reflected)": ("floor_divide", ALL),
    "divmod": ("floor_divide", {(0, 1), (1, 1), (1, 2)}),
    "divmod(3.0, x) (reflected)": ("floor_divide", {(0, 1)}),
    "fmod": ("trunc", {(1, 1)}), "modf": ("trunc", ALL),
    "x.round(2) (method)": ("round", {(0, 1)}), "nextafter": ("nextafter", {(1, 1)}),
    "frexp": ("frexp_exponent", {(0, 1)}),
    # order statistics pick entries by sorting; a 1x1 linear solve is still `solve`
    "median axis=None keepdims=False": ("argsort", {(0, 1)}),
    "quantile q=0.3 axis=None keepdims=False": ("argsort", {(0, 1)}),
    "nanmedian": ("argsort", ALL), "nanpercentile q=40": ("argsort", ALL),
    "linalg.tensorsolve": ("solve", {(0, 1), (0, 2), (1, 1)}),
}
# Where the second-order case of a row shows another guard than the first-order one.
FALLBACK_ORDER2 = {"nan_to_num": "isfinite", "nan_to_num defaults": "isfinite"}

# Cases SymPy's simplify takes seconds on (1-12 s each, measured on a loaded 2-core machine):
# checked with simplification off, so explain's replay of the program is still checked.
UNSIMPLIFIED: set[tuple[str, int, int]] = {
    ("special.rel_entr", 1, 2), ("special.kl_div", 1, 2), ("nn.silu", 0, 2),
    ("nn.sigmoid", 0, 2),
    *{("real(holomorphic f(x + iy))", i, k) for i in (0, 1) for k in ORDERS},
    *{("real(sign(x + iy) (0.5 - 2i))", i, k) for i in (0, 1) for k in ORDERS},
    ("abs(x + iy)", 0, 2), ("abs(x + iy)", 1, 2),
}

# Cases that raise outside explain, each a bug to fix (strict: a fix makes the case pass,
# and then its entry must go). {(row, argnum, order): (reason, exception or None)}.
AXIS_ERROR = getattr(np, "exceptions", np).AxisError
KNOWN_WRONG: dict[tuple[str, int, int], tuple[str, type | None]] = {
    # not explain: autodx's own grad of these rows raises at a 0-d input (NumPy accepts it)
    **{(row, 0, k): ("ad.grad raises AxisError at a 0-d input", AXIS_ERROR) for row in (
        "np.add.reduce", "np.multiply.reduce axis=-1", "np.maximum.reduce",
        "squeeze method axis 0") for k in ORDERS},
}


def _cases() -> list:
    out = []
    for op, p0, p1 in SCALAR_ROWS:
        for argnum in range(len(p0)):
            for order in ORDERS:
                marks = []
                wrong = KNOWN_WRONG.get((op.name, argnum, order))
                if wrong is not None:
                    marks.append(pytest.mark.xfail(strict=True, reason=wrong[0],
                                                   raises=wrong[1]))
                out.append(pytest.param(op, p0, p1, argnum, order, marks=marks,
                                        id=f"{op.name}-d{argnum}-order{order}"))
    return out


def _derivative(fn, argnum: int, order: int, xs) -> float:
    """autodx's own derivative, by nesting grad (not the route explain takes)."""
    g = fn
    for _ in range(order):
        g = ad.grad(g, argnums=argnum)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(g(*xs))


def _falls_back(name: str, argnum: int, order: int) -> str | None:
    """The primitive a fallback's note must name, or None where SymPy must read the case."""
    if name not in FALLBACK:
        return None
    primitive, cases = FALLBACK[name]
    if cases is not ALL and (argnum, order) not in cases:
        return None
    return FALLBACK_ORDER2.get(name, primitive) if order == 2 else primitive


def _read_back(e) -> list:
    """The expression, and the printed formula as SymPy reads it (with explain's symbols, real
    where the inputs are) unless it was cut for length."""
    if "(cut: " in e.formula:
        return [e.expression]
    return [e.expression, sp.sympify(e.formula, locals={str(s): s for s in e.symbols})]


# ----------------------------------------------------------------------------- the table


@pytest.mark.parametrize("op, p0, p1, argnum, order", _cases())
def test_explain_formula_equals_autodx_derivative(op, p0, p1, argnum, order, monkeypatch):
    if (op.name, argnum, order) in UNSIMPLIFIED:
        monkeypatch.setattr(explain_module, "MAX_OPS", -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = ad.explain(op.fn, argnums=argnum, order=order)(*p0)
    want0 = _derivative(op.fn, argnum, order, p0)
    assert float(np.asarray(e.value)) == pytest.approx(want0, rel=RTOL, abs=ATOL)
    primitive = _falls_back(op.name, argnum, order)
    if primitive is not None:
        assert e.expression is None and e.latex is None
        assert any(f"{primitive} has no SymPy form" in n for n in e.notes), e.notes
        assert primitive in e.formula + e.listing and "return" in e.listing
        assert e.formula and "Var(" not in e.formula and "None" not in e.formula
        return
    assert e.expression is not None, (e.notes, e.formula)
    assert len(e.symbols) == len(p0)
    expressions = _read_back(e)
    for point in (p0, p1):
        want = _derivative(op.fn, argnum, order, point)
        for expr in expressions:
            got = complex(sp.lambdify(e.symbols, expr, "numpy")(*(float(x) for x in point)))
            assert got == pytest.approx(want, rel=RTOL, abs=ATOL), (e.formula, point)


def test_the_scalar_rows_are_many_and_the_lists_name_real_rows():
    names = {op.name for op, _, _ in SCALAR_ROWS}
    assert len(SCALAR_ROWS) >= 100
    listed = set(FALLBACK) | {c[0] for c in UNSIMPLIFIED} | {c[0] for c in KNOWN_WRONG}
    assert listed <= names, listed - names


# ----------------------------------------------------------------------------- the notebook


def test_notebook_derivative():
    e = ad.explain(ad.grad(lambda x: 3 * x**2))(2.0)
    assert e.formula == "6*x"
    assert e.expression == 6 * e.symbols[0] and e.value == 12.0
    assert ad.explain(lambda x: 3 * x**2, order=1)(2.0).formula == "6*x"
    assert "at x = 2: 12" in str(e)
    latex = e._repr_latex_()
    assert latex.startswith("$") and latex.endswith("$") and "6 x" in latex


def test_notebook_partials():
    e = ad.explain(lambda x, y: 2 * x**2 + 3 * y, argnums=(0, 1), order=1)(2.0, 1.5)
    assert e.formula == "(4*x, 3)"
    x, _ = e.symbols
    assert e.expression == (4 * x, 3)
    assert tuple(map(float, e.value)) == (8.0, 3.0)
    assert "(8, 3)" in str(e)
    by_grad = ad.explain(ad.grad(lambda x, y: 2 * x**2 + 3 * y, argnums=(0, 1)))(2.0, 1.5)
    assert by_grad.formula == "(4*x, 3)" and "at x = 2, y = 1.5: (8, 3)" in str(by_grad)


def test_notebook_jacobian_rows_are_outputs():
    e = ad.explain(lambda x, y: anp.stack([x**2 + y**2, x - y]), argnums=(0, 1), order=1)(
        2.0, 1.0)
    assert e.formula == "[[2*x, 2*y], [1, -1]]"
    x, y = e.symbols
    assert e.expression == sp.Matrix([[2 * x, 2 * y], [1, -1]])
    np.testing.assert_array_equal(e.value, [[4.0, 2.0], [1.0, -1.0]])
    jac = ad.jacobian(lambda x, y: anp.stack([x**2 + y**2, x - y]), argnums=(0, 1), matrix=True)
    assert ad.explain(jac)(2.0, 1.0).formula == "[[2*x, 2*y], [1, -1]]"


def test_notebook_hessian():
    e = ad.explain(lambda x, y: x**2 + y**2, argnums=(0, 1), order=2)(2.0, 1.0)
    assert e.formula == "[[2, 0], [0, 2]]"
    assert e.expression == sp.Matrix([[2, 0], [0, 2]])
    np.testing.assert_array_equal(e.value, [[2.0, 0.0], [0.0, 2.0]])
    hess = ad.hessian(lambda x, y: x**2 + y**2, argnums=(0, 1), matrix=True)
    assert ad.explain(hess)(2.0, 1.0).formula == "[[2, 0], [0, 2]]"


# ----------------------------------------------------------------------------- fallbacks


def test_without_sympy_the_program_is_printed(monkeypatch):
    monkeypatch.setattr(explain_module, "_sympy", lambda: None)
    e = ad.explain(ad.grad(lambda x: 3 * x**2))(2.0)
    assert e.expression is None and e.latex is None and e._repr_latex_() is None
    assert eval(e.formula, {"x": 2.0}) == 12.0  # unsimplified, but plain arithmetic in x
    assert e.formula != "6*x"
    assert any("autodx[explain]" in n for n in e.notes), e.notes
    text = str(e)
    assert "at x = 2: 12" in text and "autodx[explain]" in text
    assert "mul(x, 2)" in e.listing


def test_array_inputs_give_the_per_element_rule():
    W = np.array([[0.5, -1.0, 0.25], [1.5, 0.2, -0.3]])
    x = np.array([0.1, -0.2, 0.3])
    e = ad.explain(ad.grad(lambda W, x: anp.sum(anp.tanh(W @ x)), argnums=1))(W, x)
    assert e.formula == "W.T @ (1 - tanh(W @ x)**2)"
    assert e.expression is None  # not exploded into scalars
    assert e.shapes == {"W": (2, 3), "x": (3,)}
    assert "shapes: W: (2, 3), x: (3,)" in str(e)
    np.testing.assert_allclose(e.value, W.T @ (1 - np.tanh(W @ x) ** 2), rtol=1e-14)


def test_a_big_program_is_cut_and_points_to_the_listing():
    def chain(x):
        for _ in range(300):
            x = anp.sin(x) * 1.01
        return x

    start = time.perf_counter()
    e = ad.explain(ad.grad(chain))(0.3)
    assert time.perf_counter() - start < 10.0
    assert e.expression is None
    assert e.formula.endswith("(cut: the whole program is in .listing)")
    assert len(e.formula) <= explain_module.MAX_CHARS + 60
    assert len(e.listing.splitlines()) <= explain_module.MAX_LINES
    assert e.listing.splitlines()[-1].endswith("more lines")
    assert float(e.value) == pytest.approx(float(ad.grad(chain)(0.3)), rel=1e-14)


# ----------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("order", [-1, 1.5, True, "1"])
def test_bad_order_is_refused(order):
    with pytest.raises(ValueError, match=r"explain\(order=.*order must be an int >= 0"):
        ad.explain(lambda x: x, order=order)


def test_a_non_function_is_refused():
    with pytest.raises(TypeError, match=r"fun must be a function, got int"):
        ad.explain(3)


def test_wrong_number_of_names_is_refused():
    with pytest.raises(ValueError, match=r"names=\['a'\].*one name per input value.*has 2"):
        ad.explain(lambda x, y: x * y, names=["a"])(1.0, 2.0)


def test_names_name_the_inputs():
    e = ad.explain(lambda x, y: x * y**2, argnums=1, order=1, names=["a", "b"])(3.0, 2.0)
    assert e.formula == "2*a*b" and e.value == 12.0
