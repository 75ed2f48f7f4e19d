"""`ad.explain`: the derivative as math, read off the program autodx actually runs.

The function (or its derivative) is staged with `jit(...).program(*args)`, so what is shown is
the rewritten program of the call, not a separate symbolic differentiation. Two readings:

- all inputs scalars, SymPy installed (extra `explain`): each equation is replayed on SymPy
  expressions (object arrays of them, so stacks, sums and matrix products of scalars work by
  NumPy itself) and each entry simplified: `d/dx (3*x**2) = 6*x`.
- otherwise (array inputs, no SymPy, or a program past the size limit): the program printed as
  one NumPy-style expression per output, single-use values inlined, shape plumbing (unit-axis
  reshapes, broadcasts) left out, shared values named once: `W.T @ (1 - tanh(W @ x)**2)`. The
  straight-line listing of the program is always in `Explanation.listing`.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .program import Lit, Program, Var
from .tree import tree_flatten, tree_map, tree_unflatten

MAX_EQNS = 200  # longer programs are printed, not replayed in SymPy (deep trees recurse)
MAX_ELEMENTS = 64  # past this many output entries, show the per-element program instead
MAX_OPS = 400  # SymPy expressions bigger than this are not simplified (simplify is slow)
MAX_CHARS = 600  # longer formulas are cut, pointing to the listing
MAX_LINES = 60  # listing lines shown
DIGITS = 8  # significant digits of the values printed beside a formula


@dataclass
class Explanation:
    """What `explain(fun)(*args)` shows: `formula` (plain text, SymPy's `str` form when SymPy
    simplified it), `value` (autodx's own result for the call), `latex` (None without SymPy),
    `listing` (the straight-line program), `expression` (the SymPy object, or None)."""

    title: str
    formula: str
    value: object
    at: dict
    listing: str
    latex: str | None = None
    expression: object = None
    symbols: tuple = ()
    shapes: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{self.title} = {self.formula}"]
        arrays = {k: s for k, s in self.shapes.items() if s}
        if arrays:
            lines.append("  shapes: " + ", ".join(f"{k}: {s}" for k, s in self.shapes.items()))
        if self.at:
            point = ", ".join(f"{k} = {format_value(v)}" for k, v in self.at.items()
                              if not np.shape(v))
            value = format_value(self.value, DIGITS)
            lines.append(f"  at {point}: {value}" if point else f"  value: {value}")
        lines += [f"  {note}" for note in self.notes]
        if self.expression is None and not any(self.shapes.values()):
            lines += ["  the program autodx runs:"] + [f"    {line}" for line in
                                                       self.listing.splitlines()]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_latex_(self) -> str | None:
        if self.latex is None:
            return None
        point = ", ".join(f"{k} = {format_value(v)}" for k, v in self.at.items()
                          if not np.shape(v))
        value = _latex_value(self.value)
        at = rf"\quad \text{{at }} {point}:\ {value}" if point and value else ""
        return f"$\\displaystyle {self.latex}{at}$"


def explain(fun: Callable, argnums=0, order: int = 0, *, names=None) -> Callable[..., Explanation]:
    """`explain(fun)(*args)`: what `fun` computes at `args`, as math. With `order=k` it is
    the k-th derivative of `fun` in the `argnums` arguments (a gradient or the partials for a
    scalar output, a Jacobian for any other, rows = outputs; `order=2`: the Hessian).

    >>> print(ad.explain(ad.grad(lambda x: 3 * x**2))(2.0))
    d/dx (3*x**2) = 6*x
      at x = 2: 12
    """
    if not callable(fun):
        raise TypeError(f"explain(fun): fun must be a function, got {type(fun).__name__}; "
                        f"pass the function itself, e.g. ad.explain(ad.grad(f))(2.0)")
    if not isinstance(order, int) or isinstance(order, bool) or order < 0:
        raise ValueError(f"explain(order={order!r}): order must be an int >= 0 (0: fun "
                         f"itself, 1: its gradient or Jacobian, 2: its Hessian)")

    @functools.wraps(fun)
    def explained(*args, **kwargs) -> Explanation:
        f = functools.partial(fun, **kwargs) if kwargs else fun
        args = tuple(tree_map(_plain, list(args)))  # a Tensor shows as the array it holds
        leaf_names = _leaf_names(fun, args, names)
        target, title = _target(f, fun, args, argnums, order, leaf_names)
        return _explain_call(target, title, args, leaf_names)

    return explained


# A title: plain text, and LaTeX (None without SymPy, or when f's own formula is unknown)
Title = tuple[str, "str | None"]


def _plain(x):
    return x.detach().numpy() if hasattr(x, "detach") and hasattr(x, "requires_grad") else x


# ----------------------------------------------------------------------------- what to stage

def _target(f, fun, args, argnums, order: int, leaf_names: list) -> tuple[Callable, Title]:
    """The function to stage and the title: `f` differentiated `order` times, or, for a
    derivative made by autodx (order 0), the function it differentiates."""
    from . import api

    if order == 0:
        transform = getattr(fun, "autodx_transform", None)
        inner = getattr(fun, "__wrapped__", None)
        if transform is None or inner is None:
            names = argument_names(fun, args)
            sp = _sympy()
            return f, (f"{_name(fun)}({', '.join(names)})",
                       sp and sp.latex(sp.Function(_name(fun))(*map(sp.Symbol, names))))
        kind, argnums = transform
        order = 2 if kind == "hessian" else 1
        return f, _derivative_title(inner, args, argnums, order, leaf_names, kind)
    scalar = np.shape(f(*args)) == ()
    target = f
    for k in range(order):
        if k == 1 and order == 2:
            target = api.hessian(f, argnums, matrix=isinstance(argnums, tuple))
        elif k == 0 and scalar:
            target = api.grad(f, argnums)
        elif k == 0:
            target = api.jacobian(f, argnums, matrix=isinstance(argnums, tuple))
        else:
            target = api.jacfwd(target, argnums)
    kind = "grad" if scalar and order == 1 else "hessian" if order == 2 else "jacobian"
    return target, _derivative_title(f, args, argnums, order, leaf_names, kind)


def _derivative_title(f, args, argnums, order: int, leaf_names: list, kind: str) -> Title:
    of, of_tex = _formula_of(f, args, leaf_names)
    nums = argnums if isinstance(argnums, (tuple, list)) else (argnums,)
    wrt = [argument_names(f, args)[i] for i in nums if i < len(args)]
    single = len(wrt) == 1 and not isinstance(argnums, (tuple, list))
    sp = _sympy() if of_tex else None
    wrt_tex = [sp.latex(sp.Symbol(w)) for w in wrt] if sp else []
    if single and kind in ("grad", "value_and_grad", "hessian") and np.ndim(args[nums[0]]) == 0:
        power = "" if order == 1 else f"^{order}"
        tex = sp and (rf"\frac{{d{power}}}{{d{wrt_tex[0]}{power}}}\left({of_tex}\right)")
        return f"d{power}/d{wrt[0]}{power} ({of})", tex
    what = {"hessian": "Hessian", "grad": "gradient", "value_and_grad": "gradient"}.get(
        kind, "Jacobian")
    if order > 2:
        what = f"derivative {order}"
    text_in = wrt[0] if single else f"({', '.join(wrt)})"
    tex_in = (wrt_tex or [""])[0] if single else rf"\left({', '.join(wrt_tex)}\right)"
    tex = sp and rf"\text{{{what} of }} {of_tex} \text{{ in }} {tex_in}"
    return f"{what} of {of} in {text_in}", tex


def _formula_of(f, args, leaf_names: list) -> Title:
    """f's own formula (unsimplified) for the title, or its name when it cannot be staged or
    is too long."""
    try:
        explanation = _explain_call(f, ("", None), args, leaf_names, simplify=False)
    except Exception:  # the title is a nicety: a function we cannot stage keeps its name
        return _name(f), None
    if len(explanation.formula) > 80:
        return _name(f), None
    return explanation.formula, explanation.latex


def _explain_call(target, title: Title, args, leaf_names: list, simplify: bool = True):
    from .jit import jit

    program = jit(target).program(*args)
    value = target(*args)
    leaves = tree_flatten(list(args))[0]
    at = {n: np.asarray(x) for n, x in zip(leaf_names, leaves)}
    shapes = {n: tuple(v.shape) for n, v in zip(leaf_names, program.inputs)}
    listing = _listing(program, leaf_names)
    explanation = Explanation(title[0], "", value, at, listing, shapes=shapes)
    symbolic = _sympy() if all(v.shape == () for v in program.inputs) else None
    if symbolic is not None and _out_size(program) <= MAX_ELEMENTS:
        try:
            return _with_sympy(explanation, program, leaf_names, symbolic, simplify, title[1])
        except _NotSymbolic as why:
            explanation.notes.append(f"(not simplified: {why})")
        except RecursionError:  # SymPy walks its trees recursively
            explanation.notes.append("(not simplified: the expression is too deep for SymPy)")
    elif symbolic is None and all(v.shape == () for v in program.inputs):
        explanation.notes.append("(pip install 'autodx[explain]' for simplified formulas)")
    explanation.formula = _limit(_infix_outputs(program, leaf_names))
    return explanation


def _out_size(program: Program) -> int:
    return sum(math.prod(getattr(v, "shape", ())) for v in program.outputs)


# ----------------------------------------------------------------------------- names

def _name(fun) -> str:
    name = getattr(fun, "__name__", None) or type(fun).__name__
    return "f" if name == "<lambda>" else name


def argument_names(fun, args) -> list[str]:
    """A name per positional argument: the parameter's, or x0, x1, ... past the signature."""
    try:
        params = [p.name for p in inspect.signature(fun).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"x{i}" for i in range(len(args))]


def input_names(fun, args) -> list[str]:
    """A name per flat input: the parameter's name, with the pytree path (`p['w']`, `p[0]`,
    `p.bias`) where an argument holds several arrays (ad.draw labels its inputs so too)."""
    names: list = []
    for name, arg in zip(argument_names(fun, args), args):
        _leaf_paths(tree_flatten(arg)[1], name, names)
    return names


def _leaf_paths(treedef, path: str, out: list) -> None:
    if treedef.kind is None:
        out.append(path)
        return
    kind, aux = treedef.kind, treedef.aux
    for i, child in enumerate(treedef.children):
        if isinstance(kind, type) and issubclass(kind, dict):
            step = f"[{aux[i]!r}]"
        elif isinstance(kind, tuple) and hasattr(kind[0], "_fields"):  # a namedtuple
            step = f".{kind[0]._fields[i]}"
        else:
            step = f"[{i}]"
        _leaf_paths(child, path + step, out)


def _leaf_names(fun, args, names) -> list[str]:
    if names is None:
        return input_names(fun, args)
    names = [names] if isinstance(names, str) else list(names)
    count = len(tree_flatten(list(args))[0])
    if len(names) != count:
        raise ValueError(f"explain(names={names!r}): give one name per input value; the "
                         f"call has {count}")
    return names


# ----------------------------------------------------------------------------- numbers

def _nice(value):
    """A float as the exact small rational it is (3.0 -> 3, 0.5 -> 1/2), else itself."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, complex) or np.iscomplexobj(value):
        return complex(value)
    value = float(value)
    if not math.isfinite(value):
        return value
    fraction = Fraction(value).limit_denominator(1000)
    return fraction if float(fraction) == value else value


def plain_value(value):
    """Python numbers, tuples and nested lists, for printing and JSON: 12.0 -> 12 (integral
    floats as ints), -0.0 -> 0, a complex with no imaginary part as its real part."""
    if hasattr(value, "detach"):  # a Tensor
        value = value.detach().numpy()
    if isinstance(value, (tuple, list)):
        return type(value)(plain_value(v) for v in value)
    array = np.asarray(value)
    if array.ndim:
        return [plain_value(v) for v in array]
    x = array.item()
    if isinstance(x, complex):
        return complex(x.real + 0.0, x.imag + 0.0) if x.imag else plain_value(x.real)
    if isinstance(x, float) and math.isfinite(x) and x == int(x) and abs(x) < 1e16:
        return int(x)
    return x


def format_value(value, digits: int | None = None) -> str:
    """12.0 -> '12', (8.0, 3.0) -> '(8, 3)', arrays as nested lists; floats to `digits`
    significant digits, or all of them (repr)."""
    return _text(plain_value(value), digits)


def _text(plain, digits: int | None) -> str:
    if isinstance(plain, (tuple, list)):
        inner = ", ".join(_text(v, digits) for v in plain)
        return f"({inner}{',' if len(plain) == 1 else ''})" if isinstance(plain, tuple) else (
            f"[{inner}]")
    if isinstance(plain, (float, complex)):
        return f"{plain:.{digits}g}" if digits else repr(plain)
    return str(plain)


def _latex_value(value) -> str:
    sp = _sympy()
    if sp is None:
        return ""
    if isinstance(value, tuple):
        return r"\left(" + ", ".join(_latex_value(v) for v in value) + r"\right)"
    array = np.asarray(value.detach().numpy() if hasattr(value, "detach") else value)
    if array.size > MAX_ELEMENTS:
        return ""
    return sp.latex(_to_sympy_shape(sp, _sympy_array(sp, array)))


def _sympy_array(sp, array) -> np.ndarray:
    """Numbers as an object array of SymPy numbers (3.0 -> 3, 0.5 -> 1/2)."""
    return np.vectorize(lambda v: sp.sympify(_nice(v)), otypes=[object])(np.asarray(array))


# ----------------------------------------------------------------------------- SymPy reading

class _NotSymbolic(Exception):
    """The program uses something with no SymPy counterpart: show the NumPy-style form."""


def _sympy():
    try:
        import sympy
    except ImportError:
        return None
    return sympy


def _with_sympy(explanation: Explanation, program: Program, names: list, sp, simplify: bool,
                title_tex: str | None):
    symbols = [sp.Symbol(n, real=v.dtype.kind in "biuf") for n, v in zip(names, program.inputs)]
    outputs = _replay_symbolic(program, symbols, sp)
    if simplify:
        outputs = [np.vectorize(functools.partial(_simplify, sp), otypes=[object])(o)
                   for o in outputs]
    _check_at_the_point(sp, outputs, symbols, program, explanation)
    tree = _output_tree(program, outputs)
    explanation.expression = tree_unflatten(
        tree_flatten(tree)[1], [_to_sympy_shape(sp, o) for o in tree_flatten(tree)[0]])
    explanation.symbols = tuple(symbols)
    explanation.formula = _limit(_sympy_text(sp, tree))
    latex = _sympy_latex(sp, tree)
    explanation.latex = f"{title_tex} = {latex}" if title_tex else latex
    return explanation


def _check_at_the_point(sp, outputs: list, symbols: list, program: Program, explanation):
    """The formula, evaluated at the call's point, must give autodx's value: where a SymPy
    function's convention differs from NumPy's (branch cuts, NaN handling), show the program
    instead of a formula that would mislead."""
    point = dict(zip(symbols, (np.asarray(x).item() for x in explanation.at.values())))
    want = tree_flatten(_plain(explanation.value))[0]
    want = [np.asarray(w, dtype=complex).reshape(-1) for w in want]
    try:
        got = [np.array([complex(sp.N(e.subs(point))) if isinstance(e, sp.Basic) else
                         complex(e) for e in o.reshape(-1)]) for o in outputs]
    except (TypeError, ValueError) as error:  # a rule built something that is not a number
        raise _NotSymbolic(f"SymPy's reading is not a number here ({error})") from None
    if len(got) != len(want) or not all(
            g.shape == w.shape and np.allclose(g, w, rtol=1e-8, atol=1e-12, equal_nan=True)
            for g, w in zip(got, want)):
        raise _NotSymbolic("SymPy's reading disagrees with autodx at this point")


def _output_tree(program: Program, leaves: list):
    if program.out_tree is not None:
        return tree_unflatten(program.out_tree, leaves)
    return leaves[0] if len(leaves) == 1 else tuple(leaves)


def _simplify(sp, expr):
    if not isinstance(expr, sp.Basic) or sp.count_ops(expr) > MAX_OPS:
        return expr
    simpler = sp.simplify(expr)
    return simpler if sp.count_ops(simpler) <= sp.count_ops(expr) else expr


def _to_sympy_shape(sp, array: np.ndarray):
    """0-d: the expression; 1-d: a column vector; 2-d: a Matrix; more: an Array."""
    if array.ndim == 0:
        return sp.sympify(array.item())
    if array.ndim <= 2:
        return sp.Matrix(array.tolist())
    return sp.Array(array.tolist())


def _sympy_text(sp, tree) -> str:
    if isinstance(tree, (tuple, list)):
        inner = ", ".join(_sympy_text(sp, t) for t in tree)
        return f"({inner}{',' if len(tree) == 1 else ''})" if isinstance(tree, tuple) else (
            f"[{inner}]")
    if isinstance(tree, np.ndarray):
        return sp.sstr(tree.item()) if tree.ndim == 0 else _sympy_text(sp, list(tree))
    return sp.sstr(tree)


def _sympy_latex(sp, tree) -> str:
    if isinstance(tree, (tuple, list)):
        return r"\left(" + ", ".join(_sympy_latex(sp, t) for t in tree) + r"\right)"
    return sp.latex(_to_sympy_shape(sp, tree))


def _replay_symbolic(program: Program, symbols: list, sp) -> list:
    if len(program.eqns) > MAX_EQNS:
        raise _NotSymbolic(f"{len(program.eqns)} operations; the limit is {MAX_EQNS}")
    env: dict = {v: np.array(s, dtype=object) for v, s in zip(program.inputs, symbols)}
    for v, c in program.consts.items():
        if np.size(c) > MAX_ELEMENTS * MAX_ELEMENTS:
            raise _NotSymbolic(f"a constant of shape {np.shape(c)}")
        env[v] = _sympy_array(sp, c)
    for eqn in program.eqns:
        ins = [_literal(sp, a.value) if a.__class__ is Lit else env[a] for a in eqn.inputs]
        out = _symbolic_eqn(sp, eqn, ins)
        env[eqn.out] = np.asarray(out, dtype=object).reshape(eqn.out.shape)
    return [_literal(sp, o.value) if o.__class__ is Lit else env[o] for o in program.outputs]


def _literal(sp, value) -> np.ndarray:
    """A Python scalar of the program; None (a missing clip bound) stays None."""
    return np.array(None if value is None else sp.sympify(_nice(value)), dtype=object)


def _symbolic_eqn(sp, eqn, ins: list):
    if eqn.prim.name not in _LOGICAL:  # a bool used as a number (x * (x > 0)) is 1 or 0
        keep = 1 if eqn.prim.name == "where" else 0
        ins = ins[:keep] + [_numeric(sp, x) for x in ins[keep:]]
    rule = _sympy_rules(sp).get(eqn.prim.name)
    if rule is not None:
        return np.frompyfunc(lambda *xs: rule(*xs, **eqn.params), len(ins), 1)(*ins)
    if eqn.prim.name in STRUCTURAL:
        try:
            return eqn.prim.impl(*ins, **eqn.params)
        except (TypeError, ValueError, AttributeError) as error:
            raise _NotSymbolic(f"{eqn.prim.name}: {error}") from None
    raise _NotSymbolic(f"{eqn.prim.name} has no SymPy form")


def _numeric(sp, array: np.ndarray) -> np.ndarray:
    def number(x):
        if x is sp.true or x is sp.false:
            return int(bool(x))
        if isinstance(x, (sp.core.relational.Relational, sp.logic.boolalg.BooleanFunction)):
            return sp.Piecewise((1, x), (0, True))
        return x
    return np.frompyfunc(number, 1, 1)(array) if array.dtype == object else array


_LOGICAL = frozenset({"logical_and", "logical_or", "logical_not", "logical_xor"})

# Primitives whose impl is NumPy structure or arithmetic that object arrays of SymPy
# expressions support as they are (sums, products, reshapes, stacks, indexing).
STRUCTURAL = frozenset({
    "add", "sub", "mul", "neg", "matmul", "sum", "reshape", "transpose", "permute",
    "broadcast_to", "concatenate", "stack", "getitem", "cumsum", "einsum",
    "stop_gradient",
})


@functools.cache
def _sympy_rules(sp) -> dict:
    """Elementwise primitives as SymPy functions of one entry each."""
    ln2 = sp.log(2)
    return {
        "div": lambda x, y: x / y, "pow": lambda x, y: x**y,
        "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "exp": sp.exp, "log": sp.log,
        "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "sqrt": sp.sqrt,
        "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan, "arcsinh": sp.asinh,
        "arccosh": sp.acosh, "arctanh": sp.atanh, "arctan2": sp.atan2,
        "abs": sp.Abs, "fabs": sp.Abs, "sign": sp.sign,
        "exp2": lambda x: 2**x, "expm1": lambda x: sp.exp(x) - 1,
        "log2": lambda x: sp.log(x) / ln2, "log10": lambda x: sp.log(x) / sp.log(10),
        "log1p": lambda x: sp.log(1 + x), "cbrt": lambda x: sp.real_root(x, 3),
        "hypot": lambda x, y: sp.sqrt(x**2 + y**2),
        "logaddexp": lambda x, y: sp.log(sp.exp(x) + sp.exp(y)),
        "logaddexp2": lambda x, y: sp.log(2**x + 2**y) / ln2,
        "sinc": lambda x: sp.sinc(sp.pi * x),
        "deg2rad": lambda x: x * sp.pi / 180, "rad2deg": lambda x: x * 180 / sp.pi,
        "maximum": sp.Max, "minimum": sp.Min, "fmax": sp.Max, "fmin": sp.Min,
        "heaviside": lambda x, h: sp.Heaviside(x, h),
        "copysign": lambda x, y: sp.Abs(x) * sp.sign(y),
        "xlogy": lambda x, y: x * sp.log(y), "xlog1py": lambda x, y: x * sp.log(1 + y),
        "floor": sp.floor, "ceil": sp.ceiling, "remainder": sp.Mod,
        "greater": sp.Gt, "greater_equal": sp.Ge, "less": sp.Lt, "less_equal": sp.Le,
        "equal": sp.Eq, "not_equal": sp.Ne,
        "logical_and": sp.And, "logical_or": sp.Or, "logical_not": sp.Not,
        "where": lambda c, x, y: sp.Piecewise((x, c), (y, True)),
        "clip": lambda x, lo=None, hi=None: (lambda y: y if hi is None else sp.Min(y, hi))(
            x if lo is None else sp.Max(x, lo)),
        "imag": sp.im, "real": sp.re, "conj": sp.conjugate,
        # complex -> real keeps the real part (as _convert_impl); bools were made numbers
        "convert": lambda x, dtype: sp.re(x) if dtype.kind != "c" else x,
    }


# ----------------------------------------------------------------------------- NumPy-style text

# Python's precedences: what binds tighter gets no parentheses.
_BINARY = {"add": ("+", 1), "sub": ("-", 1), "mul": ("*", 2), "div": ("/", 2),
           "matmul": ("@", 2), "pow": ("**", 4), "greater": (">", 0), "less": ("<", 0),
           "greater_equal": (">=", 0), "less_equal": ("<=", 0), "equal": ("==", 0),
           "not_equal": ("!=", 0)}
_ATOM = 5
_PLUMBING = frozenset({"broadcast_to", "convert", "reshape"})


def _infix_outputs(program: Program, names: list) -> str:
    printer = _Printer(program, names)
    texts = [printer.text(o) for o in program.outputs]
    out = texts[0] if len(texts) == 1 else "(" + ", ".join(texts) + ")"
    shared = printer.shared
    if len(shared) > MAX_LINES:
        shared = shared[:MAX_LINES] + [("...", f"{len(shared) - MAX_LINES} more")]
    if shared:
        out += "\n  where " + "\n        ".join(f"{n} = {t}" for n, t in shared)
    return out


class _Printer:
    """Inlines each value used once; names a value used twice or more (`t1`, ...) unless
    it is an input, a number, or short. Works in program order, so deep programs do not
    recurse."""

    def __init__(self, program: Program, names: list):
        uses = Counter(a for e in program.eqns for a in e.inputs if a.__class__ is Var)
        uses.update(o for o in program.outputs if o.__class__ is Var)
        self.done: dict = {v: (n, _ATOM) for v, n in zip(program.inputs, names)}
        self.done.update((v, _const_text(c)) for v, c in program.consts.items())
        self.shared: list = []
        for eqn in program.eqns:
            result = self.equation(eqn)
            if (uses[eqn.out] > 1 and len(result[0]) > 12) or len(result[0]) > MAX_CHARS:
                self.shared.append((f"t{len(self.shared) + 1}", result[0]))
                result = (self.shared[-1][0], _ATOM)
            self.done[eqn.out] = result

    def text(self, atom) -> str:
        return self.expr(atom)[0]

    def expr(self, atom) -> tuple[str, int]:
        return _number_text(atom.value) if atom.__class__ is Lit else self.done[atom]

    def equation(self, eqn) -> tuple[str, int]:
        name, ins, params = eqn.prim.name, eqn.inputs, eqn.params
        if name in _PLUMBING or (name == "getitem" and _drops_unit_axis(eqn)):
            return self.expr(ins[0])
        if name == "mul" and ins[0] is ins[1]:
            return self._binary("**", 4, ins[0], Lit(2))
        if name in _BINARY:
            return self._binary(*_BINARY[name], *ins)
        if name == "neg":
            text, prec = self.expr(ins[0])
            return "-" + (text if prec >= 3 else f"({text})"), 3
        if name in ("transpose", "permute") and len(ins[0].shape if hasattr(ins[0], "shape")
                                                    else ()) == 2:
            text, prec = self.expr(ins[0])
            return (text if prec == _ATOM else f"({text})") + ".T", _ATOM
        args = [self.text(a) for a in ins]
        args += [f"{k}={v!r}" for k, v in params.items() if _shown(eqn, k, v)]
        return f"{_public_name(name)}({', '.join(args)})", _ATOM

    def _binary(self, op: str, prec: int, left, right) -> tuple[str, int]:
        (a, pa), (b, pb) = self.expr(left), self.expr(right)
        right_assoc = op == "**"
        a = a if pa > prec or (pa == prec and not right_assoc) else f"({a})"
        b = b if pb > prec or (pb == prec and right_assoc) else f"({b})"
        return f"{a}{op}{b}" if op in ("*", "/", "**") else f"{a} {op} {b}", prec


def _const_text(c) -> tuple[str, int]:
    """A constant array as the scalar it repeats (broadcasts are implicit in the formula),
    `eye(n)`, its entries when it is small, else its shape."""
    c = np.asarray(c)
    flat = c.reshape(-1)
    if c.ndim == 0 or (flat.size and np.all(flat == flat[0])):
        return _number_text(flat[0] if flat.size else c)
    if c.ndim == 2 and c.shape[0] == c.shape[1] and np.array_equal(c, np.eye(len(c))):
        return f"eye({len(c)})", _ATOM
    return (f"array({format_value(c)})", _ATOM) if c.size <= 6 else (f"const{c.shape}", _ATOM)


def _shown(eqn, key: str, value) -> bool:
    """Leave out parameters at their defaults (and a reduction's axis when it is all axes)."""
    if value is None or value is False:
        return False
    if key == "axis" and isinstance(value, tuple):
        ndim = len(getattr(eqn.inputs[0], "shape", ()))
        return sorted(a % max(ndim, 1) for a in value) != list(range(ndim))
    return True


def _drops_unit_axis(eqn) -> bool:
    """x[..., 0] on a trailing axis of length 1 (how a matrix-vector product is computed)."""
    index = eqn.params.get("index")
    x = eqn.inputs[0]
    return (isinstance(index, tuple) and len(index) == 2 and index[0] is Ellipsis
            and index[1] == 0 and getattr(x, "shape", (None,))[-1:] == (1,))


def _public_name(prim_name: str) -> str:
    return {"reduce_max": "max", "reduce_min": "min"}.get(prim_name, prim_name)


def _number_text(value) -> tuple[str, int]:
    text = format_value(value)
    return text, (_ATOM if not text.startswith("-") else 3)


def _limit(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    return text[:MAX_CHARS] + " ... (cut: the whole program is in .listing)"


def _listing(program: Program, names: list) -> str:
    """The program, one equation a line, inputs under their names."""
    label = dict(zip(program.inputs, names))

    def show(a) -> str:
        if a.__class__ is Lit:
            return format_value(a.value)
        return label.get(a, repr(a))

    lines = [f"inputs: {', '.join(f'{label[v]}: {_type(v)}' for v in program.inputs)}"]
    lines += [f"{v!r}: {_type(v)} = {_const_text(c)[0]}" for v, c in program.consts.items()]
    for eqn in program.eqns:
        args = [show(a) for a in eqn.inputs] + [f"{k}={v!r}" for k, v in eqn.params.items()]
        lines.append(f"{eqn.out!r}: {_type(eqn.out)} = {eqn.prim.name}({', '.join(args)})")
    lines.append(f"return {', '.join(show(o) for o in program.outputs)}")
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES - 1] + [f"... {len(lines) - MAX_LINES + 1} more lines"]
    return "\n".join(lines)


def _type(v: Var) -> str:
    return f"{v.dtype}{list(v.shape) if v.shape else ''}"
