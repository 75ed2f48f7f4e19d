"""Buffer reuse: which elementwise lines of a `Program` may write their result (`out=`) into
the memory of an intermediate that is dead by then, planned from variable lifetimes.

`plan_buffers(program)` -> {equation index: Var}; codegen.py emits `np.multiply(a, b, out=v)`
for each planned line. Nothing is copied and nothing is allocated for a planned line, so a
long elementwise chain (a value_and_grad of an elementwise loss) touches a few hot arrays
instead of allocating (and page-faulting) a fresh one per operation.

Invariants (each is what keeps the results bit for bit those of the unplanned program):
- Only a *writer* gets a buffer: a NumPy ufunc (one output, no core signature) or
  operator.add/sub/mul/neg, with an output of ndim >= 1 and `min_size` elements or more.
- A buffer is an *owner*: the result of an elementwise equation that allocates its result
  (writers, div, pow, where, numexpr fusions), or a donated input. Anything else may return a
  view (reshape, transpose, getitem, broadcast_to, convert, real, ...), so its result counts
  as a use of every owner its inputs may alias, for as long as it lives (`_owners`).
- An owner is reused only after its last use, and by its own line only when it is read there
  directly (an elementwise ufunc may overwrite a same-shaped input; with a view of it among
  the operands NumPy would first copy that operand, which is what the plan is to save).
- Never reused: program inputs (unless donated), consts, and every owner that a program output
  or a guard's variable may alias (outputs are the user's; guard variables are few and small).
- A donated input is written into: the caller must pass a writeable array that no other
  argument shares memory with (jit checks that at call time, or does not donate).
- Same shape and dtype. For ndim >= 2 also the same memory order: the output of a ufunc
  follows its operands' layout (order='K'), and a reduction over differently laid out memory
  may round differently, so both the buffer and the line's natural result must be known
  C-ordered (`_c_ordered`); program inputs are not known to be (`assume_c_inputs=True` says
  they are, for callers that check `x.flags.c_contiguous` at call time).
"""

from __future__ import annotations

import math
import operator
from collections import defaultdict

import numpy as np

from .program import Lit, Program, Var

# PERF: measured on value_and_grad of an elementwise loss (19 lines, NumPy 2.4, CPU time):
# planned/unplanned 0.8-1.6 (noise) below 1e3 elements, 0.8 at 1e3, 0.46 at 1e4, 0.43 at 1e5
# (no fresh pages to fault in), 0.66 at 1e7.
MIN_SIZE = 1000

_OPERATORS = (operator.add, operator.sub, operator.mul, operator.neg)
# Elementwise, always a fresh result (x / y, x ** y, np.where), but no out= line in codegen.
_ALLOCATING = frozenset({"div", "pow", "where"})
# Results that are never views of their inputs (reductions, matmul), so they alias nothing;
# they are not owners (an owner's memory order must be known).
_NO_VIEW = frozenset({"sum", "reduce_max", "reduce_min", "cumsum", "argmax", "argmin",
                      "matmul"})
# Results laid out as their input is (reshape: C order; astype: order='K'; broadcast_to:
# zero strides, which NumPy's iterator ignores when it chooses a result's memory order).
_KEEPS_ORDER = frozenset({"reshape", "broadcast_to", "convert", "stop_gradient"})


def is_writer(eqn) -> bool:
    """Codegen can give this line an `out=` buffer (the same condition as codegen's)."""
    impl = eqn.prim.impl
    if eqn.out.shape == ():
        return False
    if isinstance(impl, np.ufunc):
        return (impl.nout == 1 and impl.signature is None
                and getattr(np, impl.__name__, None) is impl)
    return impl in _OPERATORS and not eqn.params


def _is_owner_eqn(eqn) -> bool:
    if eqn.out.shape == ():
        return False
    return (is_writer(eqn) or eqn.prim.name in _ALLOCATING
            or getattr(eqn.prim, "fresh", False))


def plan_buffers(program: Program, donated=frozenset(), min_size: int = MIN_SIZE,
                 assume_c_inputs: bool = False) -> dict[int, Var]:
    """{index of an equation: the dead Var whose memory its result is written into}.

    >>> program = ad.jit(lambda x: ad.numpy.sin(x) * 2 + 1).program(np.ones(10**5))
    >>> sorted(plan_buffers(program))  # `* 2` and `+ 1` both write into sin's result
    [1, 2]
    """
    owners = _owners(program, donated)
    last = _last_use(program, owners)
    c_order = _c_ordered(program, assume_c_inputs)
    dying: dict = defaultdict(list)  # equation index -> owners whose last use it is
    for v, i in last.items():
        if i != math.inf:
            dying[i].append(v)
    free: dict = defaultdict(list)  # _key -> dead owners, the most recently freed last
    for v in dying.pop(-1, ()):  # donated inputs that nothing reads
        free[_key(v, c_order)].append(v)
    plan: dict = {}
    for i, eqn in enumerate(program.eqns):
        if is_writer(eqn) and eqn.out.size >= min_size:
            buffer = _choose(eqn, i, owners, last, free, c_order)
            if buffer is not None:
                plan[i] = buffer
        for v in dying.get(i, ()):
            if plan.get(i) is not v:  # a buffer taken here now holds this line's result
                free[_key(v, c_order)].append(v)
    return plan


def _choose(eqn, i: int, owners: dict, last: dict, free: dict, c_order: set):
    """A buffer for equation `i`: an input of its own that dies here (hot in cache), else the
    most recently freed dead owner of the same key, else None."""
    key = _key(eqn.out, c_order)
    if not key[2]:
        return None  # NOTE: its natural result may not be C-ordered; a buffer would be
    viewed = set()  # owners that some input of this line is a view of
    for a in eqn.inputs:
        if a.__class__ is Var:
            viewed.update(o for o in owners[a] if o is not a)
    for a in eqn.inputs:
        if (a.__class__ is Var and last.get(a) == i and a in owners[a] and a not in viewed
                and _key(a, c_order) == key):
            return a  # NOTE: not in `free` yet: owners dying here are freed after the line
    candidates = free.get(key)
    return candidates.pop() if candidates else None


def _key(v: Var, c_order: set) -> tuple:
    """Buffers are interchangeable within a key: shape, dtype, and (for ndim >= 2) whether the
    memory is known C-ordered."""
    return (v.shape, np.dtype(v.dtype), len(v.shape) < 2 or v in c_order)


def _owners(program: Program, donated) -> dict:
    """Var -> the owners (vars that own their memory) it may share memory with. An owner maps
    to {itself}; a view-making (or unknown) equation's result to the union of its inputs'."""
    owners: dict = {}
    for v in program.inputs:
        owners[v] = frozenset((v,)) if v in donated else frozenset()
    for v in program.consts:
        owners[v] = frozenset()
    for eqn in program.eqns:
        if _is_owner_eqn(eqn):
            owners[eqn.out] = frozenset((eqn.out,))
        elif eqn.prim.name in _NO_VIEW:
            owners[eqn.out] = frozenset()
        else:
            vars_in = [owners[a] for a in eqn.inputs if a.__class__ is Var]
            owners[eqn.out] = frozenset().union(*vars_in)
    return owners


def _last_use(program: Program, owners: dict) -> dict:
    """Owner -> index of the last equation that reads it or any view of it; math.inf when a
    program output or a guard may alias it; -1 when nothing reads it."""
    last: dict = {}
    for v, os_ in owners.items():
        if v in os_:
            last[v] = -1
    for i, eqn in enumerate(program.eqns):
        if eqn.out in last:
            last[eqn.out] = max(last[eqn.out], i)  # NOTE: an unread result dies at its line
        for a in eqn.inputs:
            if a.__class__ is Var:
                for o in owners[a]:
                    last[o] = i
    pinned = [v for v in program.outputs if v.__class__ is Var]
    pinned += [g.var for g in program.guards]
    for v in pinned:
        for o in owners.get(v, ()):
            last[o] = math.inf
    return last


def _c_ordered(program: Program, assume_c_inputs: bool) -> set:
    """Vars of ndim >= 2 whose strides are known to be in C order (so a ufunc over them gives
    a C-contiguous result). 0-d and 1-d values need no entry: their layout cannot differ."""
    known: set = set()
    for v in program.inputs:
        if assume_c_inputs:
            known.add(v)
    for v, c in program.consts.items():
        if np.asarray(c).flags.c_contiguous:
            known.add(v)
    for eqn in program.eqns:
        name, out = eqn.prim.name, eqn.out
        if len(out.shape) < 2:
            continue
        ins = [a for a in eqn.inputs if a.__class__ is Var and len(a.shape) >= 2]
        if _is_owner_eqn(eqn) or name in _KEEPS_ORDER:
            if all(a in known for a in ins):
                known.add(out)
        elif name == "matmul" and len(out.shape) == 2:
            known.add(out)
    return known


def release_points(program: Program, plan=None) -> dict[int, list]:
    """{equation index: the Vars that nothing reads after it} (codegen may `del` them, so
    memory is freed as in the eager call). A planned buffer counts as read by the line it is
    given to; outputs and guard variables are never released; -1: inputs nobody reads."""
    plan = plan or {}
    last: dict = {v: -1 for v in program.inputs}
    last.update((v, -1) for v in program.consts)
    for i, eqn in enumerate(program.eqns):
        last[eqn.out] = i
        for a in eqn.inputs:
            if a.__class__ is Var:
                last[a] = i
        if i in plan:
            last[plan[i]] = i
    keep = {v for v in program.outputs if v.__class__ is not Lit}
    keep.update(g.var for g in program.guards)
    points: dict = defaultdict(list)
    for v, i in last.items():
        if v not in keep:
            points[i].append(v)
    return dict(points)
