"""Codegen: a `Program` as Python source, one operation per line, compiled once.

Two flavours, chosen per program:
- NumPy (always available): each line calls the primitive's own impl (or the ufunc or
  operator it is), so a jitted call computes exactly what the eager call computes; a
  `BufferPlan` (buffers.py) may give an elementwise line an `out=` buffer that a dead
  intermediate owned.
- math: when every value is a float64 scalar and every op has a `math`-module twin, the lines
  are plain float arithmetic (about 20x cheaper than NumPy scalars). Only twins that agree
  with NumPy bit for bit are used (tests/test_codegen.py checks them); on any Python error
  (log(0), overflow, 1/0) the call reruns in the NumPy flavour, which gives NumPy's inf/nan
  and warnings.

The source is registered with `linecache`, so a traceback through generated code shows the
line, and `jit(f).source(x)` returns it.
"""

from __future__ import annotations

import builtins
import itertools
import linecache
import math
import operator
import weakref

import numpy as np

from .program import GuardFailed, Lit, Program, Var
from .tree import LEAF, tree_unflatten

_INFIX = {operator.add: "+", operator.sub: "-", operator.mul: "*"}
_SAFE_LITERALS = (int, bool, str, type(None))

# The math flavour: prim name -> format of one line over float operands.
_MATH = {
    "add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / {1}",
    "neg": "-{0}", "pow": "math.pow({0}, {1})",
    **{name: f"math.{name}({{0}})" for name in (
        "sin", "cos", "tan", "exp", "log", "sqrt", "sinh", "cosh", "expm1", "log1p",
        "log2", "log10")},
    "arctan": "math.atan({0})", "arcsinh": "math.asinh({0})", "abs": "math.fabs({0})",
    "fabs": "math.fabs({0})",
    "greater": "{0} > {1}", "less": "{0} < {1}", "greater_equal": "{0} >= {1}",
    "less_equal": "{0} <= {1}", "equal": "{0} == {1}", "not_equal": "{0} != {1}",
}
_counter = itertools.count()
_BUILTINS = frozenset(dir(builtins))  # a generated `sum(...)` must not read as Python's
RELEASE_SIZE = 1000  # smaller intermediates are not worth a `del` line


class Compiled:
    """A program's generated function: `run(*leaves)` returns the output pytree."""

    __slots__ = ("program", "source", "run", "filename", "functions", "__weakref__")

    def __init__(self, program: Program, source: str, run, filename: str):
        self.program, self.source, self.run, self.filename = program, source, run, filename


def compile_program(program: Program, name: str = "f", plan=None, release=None) -> Compiled:
    """Generate, compile and register the source of `program`; `plan` (buffers.py) gives
    `out=` buffers to elementwise lines, `release` ({line: vars}) says after which line a
    big intermediate is dropped (`del`), so memory peaks as in hand-written code."""
    numpy_src, numpy_ns = _emit(program, f"{name}_numpy", math_mode=False, plan=plan,
                                release=release)
    number = next(_counter)
    numpy_fn = _define(numpy_src, numpy_ns, f"{name}_numpy", f"<autodx.jit {name} #{number}>")
    functions, source = [numpy_fn], numpy_src
    if _math_ok(program):  # its own namespace: its constants are floats, the NumPy one's not
        math_src, math_ns = _emit(program, name, math_mode=True, plan=None, release=None)
        # a weak proxy: the functions' globals must not hold them (a cycle only the GC frees)
        math_ns[f"{name}_numpy"] = weakref.proxy(numpy_fn)
        functions.insert(0, _define(math_src, math_ns, name,
                                    f"<autodx.jit {name} #{number} math>"))
        source = math_src + "\n\n" + numpy_src
    compiled = Compiled(program, source, functions[0], numpy_fn.__code__.co_filename)
    compiled.functions = functions  # Compiled holds the functions
    for fn in functions:
        weakref.finalize(compiled, linecache.cache.pop, fn.__code__.co_filename, None)
    return compiled


def _define(source: str, namespace: dict, name: str, filename: str):
    """Compile `source`, register it with linecache, and take the function `name` out of
    its namespace (its globals), which therefore holds no cycle."""
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return namespace.pop(name)


class _Names:
    """Readable names: x0.. inputs, c0.. constants, v0.. the rest; shared objects in `ns`."""

    def __init__(self, program: Program, reserved: frozenset = frozenset()):
        self.reserved = reserved  # the generated functions' own names
        self.names: dict = {}
        self.ns: dict = {"np": np, "math": math, "GuardFailed": GuardFailed}
        for i, v in enumerate(program.inputs):
            self.names[v] = f"x{i}"
        for i, (v, c) in enumerate(program.consts.items()):
            self.names[v] = self.bind_object(f"c{i}", c)
        self.count = itertools.count()

    def bind_object(self, name: str, obj) -> str:
        while name in self.reserved or (name in self.ns and self.ns[name] is not obj):
            name += "_"
        self.ns[name] = obj
        return name

    def new(self, var: Var) -> str:
        self.names[var] = name = f"v{next(self.count)}"
        return name

    def __getitem__(self, atom) -> str:
        if atom.__class__ is Lit:
            return self.literal(atom.value)
        return self.names[atom]

    def literal(self, value, prefix: str = "k") -> str:
        """Source text for a constant: its repr where that reads back as the same value, else
        a name bound to it (`prefix`: k for operands, p for params)."""
        if type(value) in _SAFE_LITERALS or (type(value) is tuple and all(
                type(v) in _SAFE_LITERALS for v in value)):
            return repr(value)
        if type(value) in (float, complex) and np.isfinite(value):
            return repr(value)
        return self.bind_object(f"{prefix}{len(self.ns)}", value)


def _emit(program: Program, fname: str, *, math_mode: bool, plan, release) -> tuple[str, dict]:
    base = fname.removesuffix("_numpy")
    names = _Names(program, frozenset((base, f"{base}_numpy")))
    guards: dict = {}
    for k, g in enumerate(program.guards):
        guards.setdefault(g.var, []).append((k, g))
    args = ", ".join(names[v] for v in program.inputs)
    lines = [f"def {fname}({args}):"]
    body = []
    if math_mode:
        body += [f"{names[v]} = float({names[v]})" for v in program.inputs]
        for v, c in program.consts.items():
            names.ns[names[v]] = float(c)
    for v in program.inputs:
        body += _guard_lines(guards.get(v), names)
    defined = {eqn.out for eqn in program.eqns}  # only locals are dropped, never constants
    for i, eqn in enumerate(program.eqns):
        ins = [names[a] for a in eqn.inputs]
        if math_mode:
            body.append(f"{names.new(eqn.out)} = " + _MATH[eqn.prim.name].format(*ins))
        else:
            buffer = plan.get(i) if plan else None
            call = _numpy_call(eqn, ins, names, buffer)
            if buffer is not None:  # written into a dead value's array: it takes its name too
                names.names[eqn.out] = names[buffer]
                body.append(f"{names[buffer]} = {call}")
            else:
                body.append(f"{names.new(eqn.out)} = {call}")
        body += _guard_lines(guards.get(eqn.out), names)
        dead = [names[v] for v in (release or {}).get(i, ()) if v in defined
                and v.size >= RELEASE_SIZE and names[v] != names[eqn.out]]
        if dead:
            body.append(f"del {', '.join(dead)}")
    body.append("return " + _outputs(program, names, math_mode))
    if math_mode:  # Python raises where NumPy returns inf/nan: rerun in the NumPy flavour
        lines.append("    try:")
        lines += [f"        {line}" for line in body]
        lines.append("    except (ArithmeticError, ValueError):")
        lines.append(f"        return {fname}_numpy({args})")
    else:
        lines += [f"    {line}" for line in body]
    return "\n".join(lines) + "\n", names.ns


def _numpy_call(eqn, ins: list, names: _Names, out_buffer) -> str:
    impl, params = eqn.prim.impl, eqn.params
    kwargs = [f"{k}={names.literal(v, 'p')}" for k, v in params.items()]
    if impl in _INFIX and not kwargs:
        if out_buffer is not None:
            ufunc = {operator.add: "add", operator.sub: "subtract", operator.mul: "multiply"}
            return f"np.{ufunc[impl]}({ins[0]}, {ins[1]}, out={names[out_buffer]})"
        return f"{ins[0]} {_INFIX[impl]} {ins[1]}"
    if impl is operator.neg and out_buffer is None:
        return f"-{ins[0]}"
    if isinstance(impl, np.ufunc) and getattr(np, impl.__name__, None) is impl:
        if out_buffer is not None:
            kwargs.append(f"out={names[out_buffer]}")
        return f"np.{impl.__name__}({', '.join(ins + kwargs)})"
    if impl is operator.neg:
        return f"np.negative({ins[0]}, out={names[out_buffer]})"
    name = eqn.prim.name
    fn = names.bind_object(name + "_" if name in _BUILTINS else name, impl)
    return f"{fn}({', '.join(ins + kwargs)})"


def _guard_lines(guards, names: _Names) -> list[str]:
    lines = []
    for k, g in guards or ():
        name = names[g.var]
        gname = names.bind_object(f"G{k}", g)
        if g.kind == "bool":
            lines.append(f"if {'not ' if g.value else ''}{name}: raise GuardFailed({gname})")
        else:
            lines.append(f"if not {gname}.holds({name}): raise GuardFailed({gname})")
    return lines


def _outputs(program: Program, names: _Names, math_mode: bool) -> str:
    outs = []
    types = program.out_types or [None] * len(program.outputs)
    for v, kind in zip(program.outputs, types):
        text = names[v]
        if not math_mode and isinstance(program.consts.get(v), np.ndarray):
            text += ".copy()"  # eager makes a new array each call; the caller may write in it
        # A scalar comes back as the type the eager call gave (math floats, or a rewrite that
        # replaced the output by an input of another scalar type, would differ).
        if v.__class__ is Var and v.shape == () and kind is not None and not (
                math_mode and kind is float):
            cast = np.asarray if kind is np.ndarray else kind
            text = f"{names.bind_object(f'as_{cast.__name__}', cast)}({text})"
        outs.append(text)
    tree = program.out_tree
    if tree is LEAF:
        return outs[0]
    if tree is not None and tree.kind is tuple and all(c is LEAF for c in tree.children):
        return "(" + "".join(o + ", " for o in outs) + ")"
    tname = names.bind_object("out_tree", tree)
    fn = names.bind_object("tree_unflatten", tree_unflatten)
    return f"{fn}({tname}, [{', '.join(outs)}])"


def _math_ok(program: Program) -> bool:
    """Every value a float64 (or bool) scalar and every op with a math twin."""
    f64 = np.dtype(np.float64)
    for v in itertools.chain(program.inputs, program.consts):
        if v.shape != () or v.dtype != f64:
            return False
    for eqn in program.eqns:
        if eqn.prim.name not in _MATH or eqn.params or eqn.out.shape != ():
            return False
        if eqn.out.dtype != f64 and eqn.out.dtype != np.bool_:
            return False
        if any(a.__class__ is Lit and type(a.value) not in (float, int) for a in eqn.inputs):
            return False
    return True
