"""Rewrites: small passes over a `Program`, each `Program -> Program`, each preserving values.

A staged derivative is full of autodiff leftovers (`x * 1.0` from a seed of ones, basis vectors
`eye[:, i]` times a scalar, reshape/transpose round trips, duplicate `x * 2.0` from the JVP and
the VJP of the same `x ** 2`); the passes below remove them, and `optimize` runs them to a
fixed point. Guards are roots (their variables must still be computed and checked), as are the
outputs.

Invariants every pass keeps:
- A var is replaced only by a var of the same shape, dtype and weakness (a Python scalar at
  run time promotes weakly, an array or NumPy scalar does not), so every later equation still
  computes what it was staged to compute.
- A program output is replaced only by the fresh result of an elementwise op (a ufunc) that is
  not an output already: NumPy arrays are mutable, so the caller must not get one of its inputs,
  a cached constant or the same buffer twice where the eager call gives new arrays; and a 0-d
  output keeps its NumPy type (a scalar from a ufunc, a 0-d array from reshape).
- Floating point is never reordered: a pass either keeps an equation, drops it as unused or
  duplicate, runs it now on constants (the same impl on the same values), or removes an exact
  identity (`x * 1`, `x / 1`, `x - 0`, `-(-x)`, a reshape to the same shape, ...).
- Passes never mutate the program or equations they are given (jit keeps the staged program).
"""

from __future__ import annotations

import operator
import warnings

import numpy as np

from .core import dtype_of, shape_of
from .prims.index import SliceSpec
from .program import Eqn, Guard, Lit, Program, Var

FOLD_LIMIT = 10_000  # NOTE: the largest constant (in elements) that folding makes
MAX_ROUNDS = 8
# Prims that run user Python (their params hold the call): never duplicated away or run early.
_OPAQUE = frozenset({"custom_jvp_call", "custom_vjp_call", "checkpoint_call"})
# Prims whose impl always returns a new array (or an immutable scalar), besides the ufuncs.
_FRESH_IMPLS = (operator.add, operator.sub, operator.mul, operator.neg)
_ALLOCATING = frozenset({"div", "pow", "scatter", "stack", "concatenate", "sum", "cumsum",
                         "where"})
_OPERATORS = frozenset({"add", "sub", "mul", "neg", "div", "pow"})  # impls: Python's operators
_VIEWS = frozenset({"getitem", "reshape", "transpose"})  # a view (or a copy) of input 0
_SCALAR_TYPES = (bool, int, float, complex)


# ----------------------------------------------------------------------------- helpers

class _Context:
    """What replacement checks need to know about the program a pass starts from: which
    vars may be Python scalars at run time (`weak`), which come from a ufunc-like op
    (`fresh`), and the `root`: the fresh var whose memory a var is (a view of)."""

    def __init__(self, program: Program):
        self.weak = {v for v in program.inputs if v.weak}
        self.weak.update(v for v, c in program.consts.items() if type(c) in _SCALAR_TYPES)
        self.fresh, self.root = set(), {}
        weak, fresh, root = self.weak, self.fresh, self.root
        for eqn in program.eqns:
            out, prim = eqn.out, eqn.prim
            kind = _KINDS.get(prim) or _kind(prim)
            if kind == "fresh" and prim.name in _OPERATORS and weak and all(
                    a.__class__ is Lit or a in weak for a in eqn.inputs):
                weak.add(out)  # Python's operators on Python scalars give a Python scalar
            if kind == "fresh":
                fresh.add(out)
                root[out] = out
            elif kind == "view" and eqn.inputs[0] in root:
                root[out] = root[eqn.inputs[0]]
        # each output var -> its root (None: an input, a constant, or of unknown origin)
        self.outputs = {v: self.root.get(v) for v in program.outputs if v.__class__ is Var}

    def can_replace(self, old: Var, new) -> bool:
        """Whether every use of `old` may read `new` instead (see the module's invariants);
        records `new` as an output when `old` was one."""
        if new.__class__ is not Var or new is old:
            return False
        if new.shape != old.shape or new.dtype != old.dtype:
            return False
        if (new in self.weak) != (old in self.weak):
            return False
        if old in self.outputs:
            root = self.root.get(new)
            if root is None or any(r is root for v, r in self.outputs.items() if v is not old):
                return False  # the caller would get an input, a constant or a shared buffer
            if old.shape == () and not (old in self.fresh and new in self.fresh):
                return False  # a NumPy scalar must stay one, a 0-d array too
            del self.outputs[old]
            self.outputs[new] = root
        return True


_KINDS: dict = {}  # PERF: prim -> "fresh", "view" or "other", computed once


def _kind(prim) -> str:
    impl, name = prim.impl, prim.name
    fresh = isinstance(impl, np.ufunc) or impl in _FRESH_IMPLS or name in _ALLOCATING
    kind = _KINDS[prim] = "fresh" if fresh else "view" if name in _VIEWS else "other"
    return kind


def _substituted(eqn: Eqn, mapping: dict) -> Eqn:
    """`eqn` reading the replacements in `mapping` (the same object when none applies)."""
    if not mapping:
        return eqn
    inputs = [mapping.get(a, a) if a.__class__ is Var else a for a in eqn.inputs]
    if all(a is b for a, b in zip(inputs, eqn.inputs)):
        return eqn
    return Eqn(eqn.prim, inputs, eqn.out, eqn.params)


def _finish(program: Program, eqns: list, mapping: dict, consts: dict | None = None,
            guards: list | None = None) -> Program:
    """The program with `eqns`, its outputs and guards reading the replacements in `mapping`."""
    outputs = [mapping.get(v, v) if v.__class__ is Var else v for v in program.outputs]
    guards = program.guards if guards is None else guards
    guards = [Guard(mapping[g.var], g.value, g.kind, g.site) if g.var in mapping else g
              for g in guards]
    return program.replace(eqns=eqns, outputs=outputs, guards=guards,
                           consts=program.consts if consts is None else consts)


def _value(consts: dict, atom):
    """The value of `atom` if it is a constant (a Lit or a hoisted const), else None."""
    if atom.__class__ is Lit:
        return atom.value
    return consts.get(atom)


def _all_equal(value, k) -> bool:
    """Whether the constant `value` is real (or integer, or bool) and equals `k` everywhere."""
    if value is None or value.__class__ is complex:
        return False
    if value.__class__ in (float, int, bool):  # PERF: a Lit, without NumPy
        return value == k
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf" or arr.size > FOLD_LIMIT:
        return False
    return bool(np.all(arr == k))


# ----------------------------------------------------------------------------- passes

def dead_code(program: Program) -> Program:
    """Drop equations (and constants) that no output and no guard reads: the primal half of a
    `grad`, the unused gradient of a `hessian`, and what the other passes leave behind."""
    live = {v for v in program.outputs if v.__class__ is not Lit}
    live.update(g.var for g in program.guards)
    kept = []
    for eqn in reversed(program.eqns):
        if eqn.out in live:
            kept.append(eqn)
            live.update(a for a in eqn.inputs if a.__class__ is not Lit)
    kept.reverse()
    consts = {v: c for v, c in program.consts.items() if v in live}
    return program.replace(eqns=kept, consts=consts)


def merge_consts(program: Program) -> Program:
    """One constant per distinct value (same type, dtype, shape and bytes), so CSE sees that
    equations reading equal constants are the same: folding makes many equal basis vectors."""
    ctx, seen, mapping, consts = _Context(program), {}, {}, {}
    for var, value in program.consts.items():
        arr = np.asarray(value)
        key = None
        if arr.size <= FOLD_LIMIT and arr.dtype.kind in "biufc":
            key = (type(value), arr.dtype.str, arr.shape, arr.tobytes())
        first = seen.get(key) if key is not None else None
        if first is not None and ctx.can_replace(var, first):
            mapping[var] = first
            continue
        if key is not None:
            seen.setdefault(key, var)
        consts[var] = value
    if not mapping:
        return program
    return _finish(program, [_substituted(e, mapping) for e in program.eqns], mapping, consts)


def _key(value):
    """A hashable key equal for two params (or Lits) only if they are interchangeable;
    None when unsure (an object of unknown kind): then the equation is not merged."""
    t = type(value)
    if value is None or t in (bool, int, str, bytes):
        return (t, value)
    if t in (float, complex):
        return (t, repr(value))  # NOTE: repr tells -0.0 from 0.0 and compares nan to nan
    if isinstance(value, tuple):  # SliceSpec, IntArraySpec (bytes) and plain tuples
        keys = tuple(_key(v) for v in value)
        return None if None in keys else (t, keys)
    if isinstance(value, np.dtype):
        return (np.dtype, value)  # hashable; == tells structured dtypes apart, .str does not
    if isinstance(value, (np.ndarray, np.generic)):
        if value.dtype.kind not in "biufc" or value.size > FOLD_LIMIT:
            return None
        return (t, value.dtype.str, value.shape, value.tobytes())
    return None


def cse(program: Program) -> Program:
    """Compute each (prim, inputs, params) once: the JVP and the VJP of one op both build
    `x * 2.0`, and vmap over a basis repeats each getitem of the input."""
    ctx, seen, mapping, eqns = _Context(program), {}, {}, []
    for eqn in program.eqns:
        eqn = _substituted(eqn, mapping)
        key = None
        if eqn.prim.name not in _OPAQUE:
            ins = tuple(a if a.__class__ is Var else _key(a.value) for a in eqn.inputs)
            params = tuple((k, _key(v)) for k, v in eqn.params.items())
            if None not in ins and all(p[1] is not None for p in params):
                key = (eqn.prim, ins, params)
        if key is not None:
            first = seen.get(key)
            if first is not None and ctx.can_replace(eqn.out, first):
                mapping[eqn.out] = first
                continue
            seen.setdefault(key, eqn.out)
        eqns.append(eqn)
    return _finish(program, eqns, mapping)


def _run_now(eqn: Eqn, values: list):
    """`eqn`'s impl on constant inputs, or None when it should run at call time instead: it
    warns or raises (the call should do so each time), or is bigger than FOLD_LIMIT."""
    if eqn.out.size > FOLD_LIMIT or eqn.prim.name in _OPAQUE:
        return None
    try:
        with warnings.catch_warnings(), np.errstate(all="raise"):
            warnings.simplefilter("error")
            out = eqn.prim.impl(*values, **eqn.params)
    except Exception:  # noqa: BLE001 - any failure: leave the equation to the call
        return None
    if shape_of(out) != eqn.out.shape or np.dtype(dtype_of(out)) != eqn.out.dtype:
        return None
    return out


def fold_constants(program: Program) -> Program:
    """Run now each equation whose inputs are all constants (the seed of ones, the basis
    `eye[:, i]`, their products with literals), making it a constant; then check now each
    guard on a constant (it holds: drop it)."""
    consts, eqns = dict(program.consts), []
    for eqn in program.eqns:
        if all(a.__class__ is Lit or a in consts for a in eqn.inputs):
            out = _run_now(eqn, [_value(consts, a) for a in eqn.inputs])
            if out is not None:
                consts[eqn.out] = out
                continue
        eqns.append(eqn)
    guards = []
    for g in program.guards:
        if g.var in consts:
            try:
                if g.holds(np.asarray(consts[g.var]) if g.kind == "array" else consts[g.var]):
                    continue
            except Exception:  # noqa: BLE001, S110 - unsure: keep the guard for the call
                pass
        guards.append(g)
    if len(eqns) == len(program.eqns) and len(guards) == len(program.guards):
        return program
    return program.replace(eqns=eqns, consts=consts, guards=guards)


def _spread_value(consts: dict, producer: dict, atom):
    """A constant's value, also through a broadcast or reshape of one (a seed cotangent of
    ones, spread to an array's shape, is too big to fold but still multiplies by one)."""
    eqn = producer.get(atom) if atom.__class__ is Var else None
    if eqn is not None and eqn.prim.name in ("broadcast_to", "reshape"):
        atom = eqn.inputs[0]
    return _value(consts, atom)


def _arith_identity(eqn: Eqn, consts: dict, producer: dict):
    """The var that `eqn` computes unchanged, if it is an exact arithmetic identity."""
    name, ins = eqn.prim.name, eqn.inputs
    if name == "neg":
        inner = producer.get(ins[0])
        return inner.inputs[0] if inner is not None and inner.prim.name == "neg" else None
    if name not in ("mul", "div", "add", "sub") or len(ins) != 2:
        return None
    x, y = ins
    cx, cy = _spread_value(consts, producer, x), _spread_value(consts, producer, y)
    if name in ("mul", "div"):
        if eqn.out.dtype.kind == "c":  # (a+bj) * (1+0j) is nan + ...j where b is inf
            return None
        if _all_equal(cy, 1):
            return x
        return y if name == "mul" and _all_equal(cx, 1) else None
    # NOTE: x + 0 -> x gives -0.0 where x is -0.0 (the sum is +0.0): the only difference, and
    # one np.array_equal does not see. x - 0 is exact.
    if _all_equal(cy, 0):
        return x
    return y if name == "add" and _all_equal(cx, 0) else None


def _full_slices(index) -> bool:
    return all(type(i) is SliceSpec and i.step in (None, 1) for i in index)


def _shape_identity(eqn: Eqn):
    """The var that a shape op `eqn` returns unchanged (reshape/broadcast_to to its own shape,
    convert to its own dtype, the identity permutation, a getitem of full slices)."""
    name, x = eqn.prim.name, eqn.inputs[0] if eqn.inputs else None
    if x.__class__ is not Var or x.shape != eqn.out.shape or x.dtype != eqn.out.dtype:
        return None
    if name in ("reshape", "broadcast_to", "convert"):
        return x
    if name == "transpose" and tuple(eqn.params["perm"]) == tuple(range(len(x.shape))):
        return x
    if name == "getitem" and _full_slices(eqn.params["index"]):
        return x  # step-1 slices keeping every length keep every element
    return None


def _chain(eqn: Eqn, producer: dict) -> Eqn:
    """reshape(reshape(x)), broadcast_to(broadcast_to(x)), transpose(transpose(x)): one op on
    x (the inner one stays if something else reads it)."""
    name = eqn.prim.name
    if name not in ("reshape", "broadcast_to", "transpose") or eqn.inputs[0].__class__ is Lit:
        return eqn
    inner = producer.get(eqn.inputs[0])
    if inner is not None and name == "transpose" and inner.prim.name == "stack":
        return _stack_transposed(inner, eqn)
    if inner is not None and name == "reshape" and inner.prim.name == "transpose":
        eqn = _squeezed_transpose(eqn, inner, producer)
        if eqn.prim.name == "transpose":
            return eqn
    if inner is None or inner.prim is not eqn.prim or inner.inputs[0].__class__ is Lit:
        return eqn
    params = eqn.params
    if name == "transpose":
        perm = tuple(inner.params["perm"][p] for p in eqn.params["perm"])
        params = {**eqn.params, "perm": perm}
    return Eqn(eqn.prim, [inner.inputs[0]], eqn.out, params)


def _squeezed_transpose(eqn: Eqn, transpose: Eqn, producer: dict) -> Eqn:
    """reshape(transpose(reshape(x, s), perm)) where the reshapes only insert and drop axes of
    length 1: one transpose of x (what vmap over a basis leaves around a Hessian)."""
    inner = producer.get(transpose.inputs[0])
    if inner is None or inner.prim.name != "reshape" or inner.inputs[0].__class__ is Lit:
        return eqn
    x, s = inner.inputs[0], inner.out.shape
    if 1 in x.shape or tuple(d for d in s if d != 1) != x.shape:
        return eqn
    axes = [i for i, d in enumerate(s) if d != 1]  # the axes of s that are x's, in order
    perm = tuple(axes.index(p) for p in transpose.params["perm"] if s[p] != 1)
    if tuple(x.shape[p] for p in perm) != eqn.out.shape:
        return eqn
    return Eqn(transpose.prim, [x], eqn.out, {**transpose.params, "perm": perm})


def _stack_transposed(stack: Eqn, eqn: Eqn) -> Eqn:
    """transpose(stack(xs, axis=k)) that keeps the other axes in order: stack(xs) on the axis
    where k goes (jacfwd stacks its columns on the last axis, then moves it to the front)."""
    perm, k = tuple(eqn.params["perm"]), stack.params["axis"] % len(eqn.out.shape)
    rest = [p for p in perm if p != k]
    if rest != sorted(rest):
        return eqn
    return Eqn(stack.prim, list(stack.inputs), eqn.out, {**stack.params, "axis": perm.index(k)})


def simplify(program: Program) -> Program:
    """Remove exact identities (x * 1, 1 * x, x / 1, x + 0, 0 + x, x - 0, -(-x), a reshape,
    broadcast, cast or transpose that changes nothing, a getitem of everything) and collapse
    chains of reshapes, broadcasts and transposes: what the seeds, basis vectors and
    vmap/transpose round trips of jacfwd, jacrev and hessian leave."""
    ctx, mapping, producer, eqns = _Context(program), {}, {}, []
    for eqn in program.eqns:
        eqn = _chain(_substituted(eqn, mapping), producer)
        same = _arith_identity(eqn, program.consts, producer) or _shape_identity(eqn)
        if same is not None and ctx.can_replace(eqn.out, same):
            mapping[eqn.out] = same
            continue
        producer[eqn.out] = eqn
        eqns.append(eqn)
    if not mapping and all(a is b for a, b in zip(eqns, program.eqns)):
        return program
    return _finish(program, eqns, mapping)


PASSES = [fold_constants, simplify, merge_consts, cse, dead_code]


def _fingerprint(program: Program) -> tuple:
    return (tuple(map(id, program.eqns)), tuple(map(id, program.outputs)),
            len(program.consts), len(program.guards))


def optimize(program: Program) -> Program:
    """Run the passes until nothing changes (at most MAX_ROUNDS rounds)."""
    program = dead_code(program)  # PERF: the later passes see only what is used
    for _ in range(MAX_ROUNDS):
        before = program  # keeps the old equations alive, so their ids stay unique
        for rewrite in PASSES:
            program = rewrite(program)
        if _fingerprint(program) == _fingerprint(before):
            break
    return program
