"""Elementwise fusion for `jit(..., backend="numexpr")`: chains of large elementwise
equations become one numexpr expression each, which streams its inputs once in cache-sized
blocks instead of writing and re-reading a full temporary per operation.

`fuse_numexpr(program)` -> a Program where each *root* is computed by one equation:
- an equation is *fusable* when numexpr has its op (`_OPS`), it has no params, its result
  has `min_size` elements or more, and its operands have the dtypes numexpr treats as NumPy
  does (float64 arithmetic; bool for comparisons, conditions and logic);
- a fusable result is *inlined* into its consumers when every consumer is fusable and of its
  shape, and it is neither a program output nor a guard's variable; a result read twice is
  inlined only when it is a single cheap op (recomputing a transcendental costs more than
  storing it); every other fusable result is a root;
- each root's expression is the tree of the inlined results it reads, placed where the root
  was (so the order stays valid: every leaf was computed before the root's own line); a root
  whose tree is its own single op keeps its original equation (bit for bit NumPy's).
The fused equations' `prim` is `NUMEXPR` (a plain object, deliberately no core.Primitive:
those register themselves and need derivative rules), with `params={"expr": ...}` so that
`jit(f).source(x)` shows the expression. Fused programs are for codegen only: `bind` runs
NUMEXPR's impl on arrays, but no transformation knows it.

NOTE: numexpr is not NumPy bit for bit (tanh differs by up to 1 ulp, integer powers are
multiplication chains): the bar is rtol 1e-14, which tests/test_codegen.py checks per op
with special values. numexpr raises no floating-point warnings (NumPy's "divide by zero").
NOTE: numexpr runs on its own thread pool, by default one thread per core (up to 8, or
$NUMEXPR_MAX_THREADS); autodx leaves it alone: numexpr.set_num_threads(n) is the user's.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict

import numpy as np

from .program import Eqn, Lit, Program, Var

MISSING = "backend='numexpr' needs numexpr: pip install 'autodx[fast]'"
MIN_SIZE = 100_000
# numexpr's limits (measured, 2.14): "too many inputs" past ~64 operands; Python's parser
# refuses ~100 nested parentheses. Trees stay well inside both.
MAX_LEAVES, MAX_DEPTH, MAX_NODES = 32, 24, 96

_F64, _BOOL = np.dtype(np.float64), np.dtype(np.bool_)
# prim name -> (format over the operands' expressions, kind); kind says the operand dtypes:
# "f" float64 -> float64, "c" float64 -> bool, "l" bool -> bool, "w" where(bool, f, f).
_OPS = {
    "add": ("({0} + {1})", "f"), "sub": ("({0} - {1})", "f"), "mul": ("({0} * {1})", "f"),
    "div": ("({0} / {1})", "f"), "pow": ("({0} ** {1})", "f"), "neg": ("(-{0})", "f"),
    "greater": ("({0} > {1})", "c"), "less": ("({0} < {1})", "c"),
    "greater_equal": ("({0} >= {1})", "c"), "less_equal": ("({0} <= {1})", "c"),
    "equal": ("({0} == {1})", "c"), "not_equal": ("({0} != {1})", "c"),
    "logical_and": ("({0} & {1})", "l"), "logical_or": ("({0} | {1})", "l"),
    "logical_not": ("(~{0})", "l"), "where": ("where({0}, {1}, {2})", "w"),
    **{name: (f"{name}({{0}})", "f") for name in (
        "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
        "arccosh", "arctanh", "exp", "expm1", "log", "log1p", "log10", "log2", "sqrt", "abs",
        "floor", "ceil", "trunc", "sign")},
    **{name: (f"{name}({{0}}, {{1}})", "f") for name in (
        "arctan2", "maximum", "minimum", "hypot", "copysign", "fmod")},
}
_CHEAP = frozenset({"add", "sub", "mul", "neg", "abs", "greater", "less", "greater_equal",
                    "less_equal", "equal", "not_equal", "logical_and", "logical_or",
                    "logical_not"})
# numexpr writes x**k for a literal k as multiplications and x**(k+0.5) with sqrt, which
# differ from pow() at signed zeros, infinities and subnormals; these agree with NumPy's.
_POW_LITERALS = frozenset({-1, 0, 0.5, 1, 2, 3, 4, 5, 6, 7, 8})
_NAMES = tuple(f"a{k}" for k in range(MAX_LEAVES))
_module = []


def _numexpr():
    """numexpr, imported on first use (it is the optional extra `fast`)."""
    if not _module:
        try:
            import numexpr
        except ImportError:
            raise ImportError(MISSING) from None
        _module.append(numexpr)
    return _module[0]


def _evaluate(*args, expr: str):
    """numexpr's value of `expr` over the operands a0, a1, ... = args."""
    # PERF: a kernel compiled once per (expression, dtypes), called directly: numexpr.evaluate
    # parses and checks the expression on every call (~60 us; ~9 us this way) and keeps only
    # 256 compiled expressions per thread. The call is the one numexpr.evaluate makes.
    args = [a if a.__class__ is np.ndarray else np.asarray(a) for a in args]
    kernel, uses_vml = _kernel(expr, tuple(a.dtype for a in args))
    return kernel(*args, casting="same_kind", order="K", ex_uses_vml=uses_vml)


@functools.lru_cache(maxsize=1024)
def _kernel(expr: str, dtypes: tuple):
    compiler = _numexpr().necompiler
    context = compiler.getContext({"truediv": True})  # NOTE: never 'auto' (reads a frame)
    uses_vml = compiler.getExprNames(expr, context)[1]
    signature = [(name, compiler.getType(np.empty(0, dtype)))
                 for name, dtype in zip(_NAMES, dtypes)]
    return compiler.NumExpr(expr, signature, **context), uses_vml


class _Fused:
    """The `prim` of a fused equation: duck-types the fields codegen reads (name, impl);
    `fresh`: its result owns its memory (buffers.py may reuse it)."""

    __slots__ = ("name", "impl", "fresh")

    def __init__(self):
        self.name, self.impl, self.fresh = "numexpr", _evaluate, True

    def __repr__(self) -> str:
        return "numexpr"


NUMEXPR = _Fused()


def fuse_numexpr(program: Program, min_size: int = MIN_SIZE) -> Program:
    """Fuse the large elementwise chains of `program` into numexpr expressions.

    >>> program = ad.jit(lambda x: ad.numpy.sin(x) * 2 + 1).program(np.ones(10**6))
    >>> [eqn.params["expr"] for eqn in fuse_numexpr(program).eqns]
    ['((sin(a0) * 2) + 1)']
    """
    _numexpr()
    eqns = program.eqns
    fusable = [_fusable(e, min_size) for e in eqns]
    inline = _inline(program, fusable)
    producers = {e.out: e for e in eqns}
    new = []
    for i, eqn in enumerate(eqns):
        if fusable[i] and inline[eqn.out]:
            continue
        if fusable[i] and any(a.__class__ is Var and inline.get(a) for a in eqn.inputs):
            leaves: dict = {}
            expr = _expression(eqn, inline, leaves, producers)
            new.append(Eqn(NUMEXPR, list(leaves), eqn.out, {"expr": expr}))
        else:
            new.append(eqn)
    return program.replace(eqns=new)


def _fusable(eqn, min_size: int) -> bool:
    op = _OPS.get(eqn.prim.name)
    out = eqn.out
    if op is None or eqn.params or out.size < min_size:
        return False
    kind = op[1]
    if np.dtype(out.dtype) != (_BOOL if kind in "cl" else _F64):
        return False
    for k, a in enumerate(eqn.inputs):
        want = _BOOL if kind == "l" or (kind == "w" and k == 0) else _F64
        if a.__class__ is Lit:
            if not _literal_ok(a.value, want):
                return False
            if eqn.prim.name == "pow" and k == 1 and a.value not in _POW_LITERALS:
                return False
        elif np.dtype(a.dtype) != want:
            return False
    return True


def _literal_ok(value, want) -> bool:
    if want is _BOOL:
        return type(value) is bool
    return (type(value) in (int, float) and math.isfinite(value) and abs(value) < 2**31)


def _inline(program: Program, fusable: list) -> dict:
    """Var -> whether its (fusable) equation is written into its consumers' expressions."""
    eqns = program.eqns
    uses: dict = defaultdict(list)
    for i, eqn in enumerate(eqns):
        for a in eqn.inputs:
            if a.__class__ is Var:
                uses[a].append(i)
    pinned = {v for v in program.outputs if v.__class__ is Var}
    pinned.update(g.var for g in program.guards)
    inline: dict = {}
    size: dict = {}  # Var -> (depth, nodes, leaves) of the tree rooted at it
    for i, eqn in enumerate(eqns):
        if not fusable[i]:
            continue
        v, readers = eqn.out, uses.get(eqn.out, ())
        ok = (v not in pinned and bool(readers)
              and all(fusable[j] and eqns[j].out.shape == v.shape for j in readers))
        if ok and len(readers) > 1:
            ok = eqn.prim.name in _CHEAP and not any(inline.get(a) for a in _vars(eqn))
        size[v] = _tree_size(eqn, inline, size)
        depth, nodes, leaves = size[v]
        inline[v] = ok and depth < MAX_DEPTH and nodes < MAX_NODES and len(leaves) < MAX_LEAVES
    return inline


def _tree_size(eqn, inline: dict, size: dict) -> tuple:
    """(depth, nodes, leaves) of `eqn`'s tree; while too big, its largest inlined operand is
    made a root instead (a leaf here)."""
    while True:
        depth, nodes, leaves = 1, 1, set()
        biggest, weight = None, -1
        for a in eqn.inputs:
            if a.__class__ is Lit:
                nodes += 1
            elif inline.get(a):
                d, n, lv = size[a]
                depth, nodes, leaves = max(depth, d + 1), nodes + n, leaves | lv
                if n + len(lv) > weight:
                    biggest, weight = a, n + len(lv)
            else:
                leaves.add(a)
        if biggest is None or (nodes <= MAX_NODES and len(leaves) <= MAX_LEAVES):
            return depth, nodes, frozenset(leaves)
        inline[biggest] = False


def _vars(eqn) -> list:
    return [a for a in eqn.inputs if a.__class__ is Var]


def _expression(eqn, inline: dict, leaves: dict, producers: dict) -> str:
    """numexpr source of `eqn`'s tree; `leaves` collects its operands (Var -> name)."""
    parts = []
    for a in eqn.inputs:
        if a.__class__ is Lit:
            value = a.value
            text = repr(value)
            parts.append(f"({text})" if text.startswith("-") else text)
        elif inline.get(a):
            parts.append(_expression(producers[a], inline, leaves, producers))
        else:
            if a not in leaves:
                leaves[a] = _NAMES[len(leaves)]
            parts.append(leaves[a])
    return _OPS[eqn.prim.name][0].format(*parts)
