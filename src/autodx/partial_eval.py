"""Partial evaluation: split a staged program into what is known now and what waits for
inputs given later, so `linearize` runs the function once and replays only its linear part.

`split(program, late)` divides the equations by whether they depend on the `late` inputs;
the known values those late equations read are the *residuals*. The late half becomes a
program of (late inputs + residuals), compiled once and replayed for each tangent.
"""

from __future__ import annotations

from .codegen import compile_program
from .core import Tracer
from .forward import zeros_like_value
from .program import GuardFailed, Lit, Program, Var
from .rewrites import optimize
from .staging import is_staging, stage
from .tree import tree_flatten, tree_unflatten


def split(program: Program, late: list[Var], outputs: list) -> tuple[Program, list[Var]]:
    """The program computing `outputs` from `late` and the residuals, and the residuals: the
    known values (inputs, intermediates) it reads."""
    unknown = set(late)
    eqns = []
    for eqn in program.eqns:
        if any(a in unknown for a in eqn.inputs if a.__class__ is not Lit):
            unknown.add(eqn.out)
            eqns.append(eqn)
    residuals: dict = {}
    for atom in [a for e in eqns for a in e.inputs] + list(outputs):
        if atom.__class__ is Var and atom not in unknown and atom not in program.consts:
            residuals[atom] = None
    residuals = list(residuals)
    guards = [g for g in program.guards if g.var in unknown]
    late_program = Program(inputs=list(late) + residuals, eqns=eqns, outputs=list(outputs),
                           consts=dict(program.consts), guards=guards)
    return optimize(late_program), residuals


def known_part(program: Program, late: list[Var], outputs: list) -> Program:
    """The program computing `outputs` (known values: residuals too) without the `late`
    inputs."""
    unknown = set(late)
    eqns = []
    for eqn in program.eqns:
        if any(a in unknown for a in eqn.inputs if a.__class__ is not Lit):
            unknown.add(eqn.out)
        else:
            eqns.append(eqn)
    guards = [g for g in program.guards if g.var not in unknown]
    return optimize(program.replace(inputs=[v for v in program.inputs if v not in unknown],
                                    eqns=eqns, outputs=list(outputs), guards=guards,
                                    out_tree=tree_flatten(tuple(outputs))[1], out_types=[]))


def linearize(fun, primals: tuple):
    """(fun(*primals), f_jvp): the JVP staged once with these primals, its linear part
    compiled; f_jvp(*tangents) replays only that part (JAX's linearize)."""
    leaves, treedef = tree_flatten(primals)
    if is_staging() or any(isinstance(x, Tracer) for x in leaves):
        return None  # under another transformation: the caller re-runs jvp instead
    from .api import jvp

    n = len(leaves)

    def primal_and_tangent(*xs):
        return jvp(fun, tuple(tree_unflatten(treedef, xs[:n])),
                   tuple(tree_unflatten(treedef, xs[n:])))

    zeros = [zeros_like_value(x) for x in leaves]
    program, values, env = stage(primal_and_tangent, leaves + zeros, [False] * (2 * n),
                                 lambda tracers: (tuple(tracers), {}), keep_values=True)
    if program.closures:  # values of an outer transformation: replaying would freeze them
        return None
    out_tree, tangent_tree = program.out_tree.children
    k = len(program.outputs) // 2
    late, residuals = split(program, program.inputs[n:], program.outputs[k:])
    late = late.replace(out_tree=tree_flatten(tuple(range(k)))[1],
                        out_types=[type(v) for v in values[k:]])
    compiled = compile_program(late, "linear_part")
    saved = [env[v] for v in residuals]

    def f_jvp(*tangents):
        flat, tdef = tree_flatten(tangents)
        if tdef != treedef or len(flat) != n:
            raise TypeError(f"f_jvp takes tangents with the structure of the primals "
                            f"({treedef}), got {tdef}")
        try:
            out = compiled.run(*flat, *saved)
        except GuardFailed:  # control flow on a tangent: not linear code, so run it again
            return jvp(fun, primals, tangents)[1]
        return tree_unflatten(tangent_tree, list(out))

    return tree_unflatten(out_tree, values[:k]), f_jvp
