"""`Program`: the flat IR that `jit` stages (DESIGN.md §2.5), and its interpreter.

A program is a single-assignment list of equations `out = prim(*inputs, **params)` over `Var`s,
each with the shape and dtype it had when staged (`weak`: it stands for a Python scalar, which
NumPy promotes weakly). Inputs and outputs are `Var`s; constants are hoisted into `consts`
(arrays) or kept inline as `Lit` (Python scalars). Guards record the concrete values that Python
control flow took while staging: the program is right only for calls whose guards come out the
same, so codegen checks each one right after its variable is computed.

Invariants: every Var is assigned once, before it is read; `params` are those `bind` was given.
The rewrites (rewrites.py) and codegen (codegen.py) read and make programs; `evaluate` replays
one through `bind`, so any transformation (or an outer staging) can trace a program.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field

import numpy as np

from .core import Primitive, bind, concrete, dtype_of, shape_of

_var_ids = itertools.count()


class Var:
    """One value of a program."""

    __slots__ = ("id", "shape", "dtype", "weak")

    def __init__(self, shape: tuple, dtype, weak: bool = False):
        self.id, self.shape, self.dtype, self.weak = next(_var_ids), tuple(shape), dtype, weak

    @classmethod
    def like(cls, value, weak: bool = False) -> Var:
        return cls(shape_of(value), np.dtype(dtype_of(value)), weak)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __repr__(self) -> str:
        return f"v{self.id}"


class Lit:
    """A Python scalar constant, written inline in the generated source."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)


class Eqn:
    __slots__ = ("prim", "inputs", "out", "params")

    def __init__(self, prim: Primitive, inputs: list, out: Var, params: dict):
        self.prim, self.inputs, self.out, self.params = prim, inputs, out, params

    def __repr__(self) -> str:
        args = [repr(a) for a in self.inputs] + [f"{k}={v!r}" for k, v in self.params.items()]
        return f"{self.out!r} = {self.prim.name}({', '.join(args)})"


# How Python read a staged value, by guard kind ("array": np.asarray, compared whole)
READERS = {"bool": bool, "int": int, "float": float, "array": np.asarray}


class Guard:
    """`var` had `value` when staged (`kind`: "bool", "int", "float" or "array": how Python
    read it); `site`: the user's (file, line) that read it."""

    __slots__ = ("var", "value", "kind", "site")

    def __init__(self, var: Var, value, kind: str, site: tuple):
        self.var, self.value, self.kind, self.site = var, value, kind, site

    def holds(self, value) -> bool:
        if self.kind == "array":
            value = np.asarray(value)
            return bool(np.array_equal(value, self.value, equal_nan=value.dtype.kind in "fc"))
        return READERS[self.kind](value) == self.value

    def __repr__(self) -> str:
        return f"guard {self.var!r} == {self.value!r}  # {self.site[0]}:{self.site[1]}"


@dataclass
class Program:
    """A staged function. `outputs` may name inputs, consts or Lits (a function that returns
    its argument, or a constant); `closures`: the foreign tracers (values of outer
    transformations) that the trailing inputs stand for — such a program is valid only for
    the call that staged it. `out_tree`: the output pytree structure."""

    inputs: list
    eqns: list
    outputs: list
    consts: dict = field(default_factory=dict)
    guards: list = field(default_factory=list)
    out_tree: object = None
    closures: list = field(default_factory=list)
    out_types: list = field(default_factory=list)  # each output's type in the staged call

    def __repr__(self) -> str:
        lines = [f"program({', '.join(map(repr, self.inputs))}):"]
        lines += [f"  {v!r} = const {shape_of(c)} {dtype_of(c)}" for v, c in self.consts.items()]
        guards = {}
        for g in self.guards:
            guards.setdefault(g.var, []).append(g)
        for v in self.inputs:
            lines += [f"  {g!r}" for g in guards.get(v, ())]
        for e in self.eqns:
            lines.append(f"  {e!r}")
            lines += [f"  {g!r}" for g in guards.get(e.out, ())]
        lines.append(f"  return {', '.join(map(repr, self.outputs))}")
        return "\n".join(lines)

    def replace(self, **changes) -> Program:
        return dataclasses.replace(self, **changes)


def evaluate(program: Program, args) -> list:
    """Replay `program` on `args` (one per input) through `bind`, so that every transformation
    above sees each primitive; guards are read with `concrete` (an outer staging records them
    as its own guards; under vmap, control flow on a batched value is an error, as eagerly)."""
    env = dict(zip(program.inputs, args))
    env.update(program.consts)
    guards: dict = {}
    for g in program.guards:
        guards.setdefault(g.var, []).append(g)
    for v in program.inputs:
        _check(guards.get(v), env[v])
    for eqn in program.eqns:
        value = bind(eqn.prim, *[read(env, a) for a in eqn.inputs], **eqn.params)
        env[eqn.out] = value
        _check(guards.get(eqn.out), value)
    return [read(env, v) for v in program.outputs]


def read(env: dict, atom):
    return atom.value if atom.__class__ is Lit else env[atom]


class GuardFailed(Exception):
    """A guard of a program came out differently: the call needs another specialization."""


def _check(guards, value) -> None:
    if guards:
        seen = concrete(value)
        for g in guards:
            if not g.holds(seen):
                raise GuardFailed(g)
