"""Reverse mode: `Node`, the record of one primitive application, and `backward_pass`, the one
engine behind both the functional `vjp` and `Tensor.backward`.

Invariants:
- The walk is iterative and visits nodes in reverse topological order, so every node has
  received all of its cotangent before it propagates (no recursion: a million-op chain works).
- The engine, not the rules, sums each cotangent down to its input's shape and casts it to
  its input's dtype. Fan-in is summed into a buffer the engine allocated itself (the first
  sum), in place from then on; a rule's result, a user's array or a value a rule may still
  return elsewhere is never written into.
- A node keeps only what its rule reads: `saved_values` puts a data-less stand-in (shape and
  dtype) in place of each input the rule does not read and of the output of a linear op, so
  an intermediate is freed as soon as the forward pass is done with it.
- Without `retain_graph`, each node drops its saved values as soon as it has run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .core import (
    FreedGraphError,
    Trace,
    Tracer,
    bind,
    dtype_of,
    ensure_warning_filter,
    new_main,
    shape_of,
)
from .prims import add, convert, sum_to_shape
from .tree import tree_flatten


class Node:
    """`prim(*primals, **params) = out`, with the nodes its inputs came from (`parents`, None
    for constants). A leaf has `prim=None`; `target` is a weakref to its Tensor, if any;
    `hooks` may replace the gradient arriving here. The engine takes the saved values only
    through `unpack()`, so that the tape (`tensor.TensorNode`) can refuse inputs modified in
    place since (`modified`: the clock time of the last such change to this node's value)."""

    __slots__ = ("prim", "params", "primals", "out", "parents", "hooks", "target", "modified",
                 "site", "__weakref__")  # site: the creating line, under anomaly detection

    def __init__(self, prim, params, primals, out, parents):
        self.prim, self.params, self.primals, self.out, self.parents = (
            prim, params, primals, out, parents)
        self.hooks = self.target = None
        self.modified = 0

    @classmethod
    def leaf(cls, target=None) -> Node:
        node = Node(None, None, None, None, ())
        node.target = target
        return node

    def unpack(self) -> tuple[list | None, list]:
        """(primals, parents); primals is None once the node has been freed."""
        return self.primals, self.parents

    def free(self) -> None:
        self.primals = self.out = None
        self.parents = ()

    def name(self) -> str:
        if self.prim is None:
            return "AccumulateGrad"
        return "".join(p.title() for p in self.prim.name.split("_")) + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"


# ----------------------------------------------------------------------------- saved values

# PERF: only arrays this large are replaced; below it a stand-in saves less than it costs
STAND_IN_MIN_BYTES = 4096
_STAND_INS: dict = {}  # (shape, dtype) -> stand-in, shared: they are read-only
_MAX_STAND_INS = 256
_ARRAY = np.ndarray


def stand_in(value):
    """`value`'s shape and dtype without its data, for a saved value the rule does not read:
    a read-only zero-strided array (a few bytes whatever the shape) of NaN (zero for integers
    and booleans), so that a rule declared not to read a value, but reading it, gives NaN
    rather than a plausible wrong number. Only NumPy arrays of STAND_IN_MIN_BYTES or more are
    replaced: a tracer of a lower trace carries more than its shape."""
    if value.__class__ is not _ARRAY or value.nbytes < STAND_IN_MIN_BYTES:
        return value
    key = (value.shape, value.dtype)
    fake = _STAND_INS.get(key)
    if fake is None:
        if len(_STAND_INS) >= _MAX_STAND_INS:
            _STAND_INS.clear()
        fill = np.full((), np.nan if value.dtype.kind in "fc" else 0, value.dtype)
        fake = _STAND_INS[key] = np.broadcast_to(fill, value.shape)
    return fake


def saved_values(prim, values: list, parents: list) -> list:
    """The inputs a node keeps for its rule: the values it reads (`prim.reads_inputs`, a bool
    or a function of `needs`), stand-ins for the others (linear ops need only shapes)."""
    reads = prim.reads_inputs
    if reads is True:
        return values
    if reads is False:
        return [stand_in(v) for v in values]
    reads = reads(tuple([p is not None for p in parents]))
    return [v if r else stand_in(v) for v, r in zip(values, reads)]


def saved_out(prim, out, parents: list):
    """The output a node keeps: a stand-in where the rule does not read it. A linear op's
    transpose never does; any other primitive may say so with a `reads_out` attribute (a bool
    or a function of `needs`, as `reads_inputs`), read only for arrays worth replacing."""
    if out.__class__ is not _ARRAY or out.nbytes < STAND_IN_MIN_BYTES:
        return out
    reads = False if prim.linear else getattr(prim, "reads_out", True)
    if reads is not True and reads is not False:
        reads = reads(tuple([p is not None for p in parents]))
    return out if reads else stand_in(out)


# ----------------------------------------------------------------------------- functional VJP

class VJPTracer(Tracer):
    __slots__ = ("_node",)

    def __init__(self, trace: Trace, value, node: Node | None):
        self._trace, self._value, self._node = trace, value, node


# How reverse mode computes a primitive's value one level down where that is not binding it
# there (custom.py: outer transformations differentiate a custom_vjp's `fwd` as ordinary code,
# JAX's rule, so only the innermost reverse pass uses its `bwd`).
primal_rules: dict = {}


class VJPTrace(Trace):
    __slots__ = ()

    def process_primitive(self, prim, args, params):
        values, parents, differentiable = self.lower(args, "_node")
        rule = primal_rules.get(prim)
        out = bind(prim, *values, **params) if rule is None else rule(*values, **params)
        if prim.nondiff or not differentiable:
            return out  # a constant to this trace
        check_has_vjp(prim)
        saved = values
        if prim.reads_inputs is not True:  # PERF: calls only where something may be replaced
            for v in values:
                if v.__class__ is _ARRAY and v.nbytes >= STAND_IN_MIN_BYTES:
                    saved = saved_values(prim, values, parents)
                    break
        if out.__class__ is _ARRAY and out.nbytes >= STAND_IN_MIN_BYTES:
            return VJPTracer(self, out, Node(prim, params, saved, saved_out(prim, out, parents),
                                             parents))
        return VJPTracer(self, out, Node(prim, params, saved, out, parents))


def check_has_vjp(prim) -> None:
    if prim.vjp is None and not prim.nondiff:
        raise NotImplementedError(f"reverse-mode differentiation of {prim.name!r} is not "
                                  "implemented; use forward mode (jvp, jacfwd).")


def vjp_flat(fun: Callable, primals: Sequence):
    """Trace `fun(*primals)` for reverse mode.

    Returns (out, out_nodes, treedef, leaves): the flat output values, the node each came from
    (None for outputs that do not depend on the inputs), the output structure, and the leaf
    node of each input, to pass to `backward_pass` as `capture`."""
    with new_main(VJPTrace) as main:
        leaves = [Node.leaf() for _ in primals]
        out = fun(*[VJPTracer(main.trace, x, leaf) for x, leaf in zip(primals, leaves)])
        flat, treedef = tree_flatten(out)
        values, nodes, _ = main.trace.lower(flat, "_node")
    return values, nodes, treedef, leaves


# ----------------------------------------------------------------------------- the engine

def backward_pass(roots: Sequence[Node], cts: Sequence, *, retain_graph: bool,
                  capture: Sequence[Node] = (), on_leaf: Callable | None = None,
                  wrap: Callable | None = None, prune: bool = False) -> list:
    """Propagate `cts` (one per root) back through the graph.

    capture: nodes whose total cotangent to return, in order (None where none arrived).
    on_leaf(node, g): called for every leaf node reached (the tape's `.grad` accumulation).
    wrap(value, node): if given, rules receive `wrap(...)` of their saved values instead of the
        raw values, so the backward pass is itself recorded (`create_graph=True`).
    prune: run (and free) only the nodes through which a captured node is reached, as
        `autograd.grad` does; the rest of the graph stays usable.
    """
    ensure_warning_filter()
    pending = consumer_counts(roots)
    to_run = nodes_leading_to(roots, pending, set(capture)) if prune else None
    grads: dict[Node, object] = {}  # each node's cotangent so far (an _Owned: the engine's)
    for root, ct in zip(roots, cts):
        if root is not None and ct is not None:
            accumulate(grads, root, ct)
    ready = [r for r in dict.fromkeys(roots) if r is not None and r not in pending]
    captured = dict.fromkeys(capture)
    while ready:
        node = ready.pop()
        g = grads.pop(node, None)
        if g.__class__ is _Owned:
            g = g.value  # from here on it is the rules' and the user's, never written into
        if g is not None and node.hooks:
            g = _run_hooks(node.hooks, g)
        if node in captured:
            captured[node] = g
        if to_run is not None and node not in to_run:
            continue  # nothing captured lies behind it: leave it (and its graph) alone
        if node.prim is None:
            if on_leaf is not None and g is not None:
                on_leaf(node, g)
            continue
        primals, parents = node.unpack()
        if primals is None:
            raise FreedGraphError(
                "Trying to backward through the graph a second time: its saved values were "
                "freed by the first backward(). Pass retain_graph=True to the first "
                "backward()/autograd.grad() call if you need to go through it again.")
        if g is not None:
            send_cotangents(node, g, primals, parents, grads, wrap)
        if not retain_graph:
            node.free()
        for parent in parents:
            if parent is not None:
                left = pending[parent] - 1
                pending[parent] = left
                if not left:
                    ready.append(parent)
    return [captured[node] for node in capture]


def _run_hooks(hooks: list, g):
    """Each hook may replace the gradient arriving at its node (None: keep it)."""
    for hook in hooks:
        result = hook(g)
        g = g if result is None else result
    return g


def send_cotangents(node: Node, g, primals: list, parents: list, grads: dict, wrap) -> None:
    """Run the node's VJP rule and add each input's cotangent to its parent's total."""
    out = node.out
    if wrap is not None:
        primals = [wrap(v, p) for v, p in zip(primals, parents)]
        out = wrap(out, node)
    n = len(parents)  # PERF: spelled out for the usual one and two inputs
    needs = (_ONE if n == 1 else (parents[0] is not None, parents[1] is not None) if n == 2
             else tuple([p is not None for p in parents]))
    cts = node.prim.vjp(needs, g, out, *primals, **node.params)
    for parent, ct, primal in zip(parents, cts, primals):
        if ct is not None and parent is not None:
            if ct.shape != primal.shape or ct.dtype != primal.dtype:
                ct = _fit(ct, primal)
            prev = grads.get(parent)
            if prev is None:  # PERF: the usual single consumer, without a call
                grads[parent] = ct
            else:
                accumulate(grads, parent, ct)


_ONE = (True,)


class _Owned:
    """A cotangent total in a buffer the engine allocated itself (the result of its own first
    sum), which nothing else references yet: later terms are added into it in place."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


# NOTE: while anomaly detection wraps add's impl to check its results, sums go through it
_PLAIN_ADD = add.prim.impl


def accumulate(grads: dict, node: Node, ct) -> None:
    """Add `ct` (of the node's shape and dtype) to the node's total: the first term as it is
    (it may be a user's array, or one a rule also returned elsewhere), the second into a new
    array, which the engine owns, and every later one into that array in place."""
    prev = grads.get(node)
    if prev is None:
        grads[node] = ct
    elif prev.__class__ is _Owned and ct.__class__ is _ARRAY and add.prim.impl is _PLAIN_ADD:
        np.add(prev.value, ct, out=prev.value)  # PERF: no allocation, one array less at peak
    else:
        total = add(prev.value if prev.__class__ is _Owned else prev, ct)
        # owned only as a new NumPy array: a 0-d sum is a NumPy scalar, and a sum with a
        # tracer (create_graph, nested transforms) a tracer, which others may hold
        grads[node] = (_Owned(total) if total.__class__ is _ARRAY and total is not ct
                       and total is not prev else total)


def _fit(ct, primal):
    """Sum a cotangent down to its primal's shape and cast it to the primal's dtype."""
    shape = shape_of(primal)
    if shape_of(ct) != shape:
        ct = sum_to_shape(ct, shape)
    return convert(ct, dtype_of(primal))


def consumer_counts(roots: Sequence[Node]) -> dict[Node, int]:
    """For every node behind `roots`, how many consumers will send it a cotangent: the walk
    runs a node once all of them have (a reverse topological order without recursion)."""
    pending: dict[Node, int] = {}
    stack = [r for r in dict.fromkeys(roots) if r is not None]  # a root given twice is one
    seen = set(stack)
    while stack:
        for parent in stack.pop().parents:
            if parent is not None:
                pending[parent] = pending.get(parent, 0) + 1
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
    return pending


def nodes_leading_to(roots, pending: dict, capture: set) -> set | None:
    """The nodes behind which some captured node lies (children before parents, so one pass
    over a topological order decides each from its parents); None when that is all of them."""
    if all(n in capture for n in (*pending, *roots) if n is not None and n.prim is None):
        return None  # PERF: every leaf reached is captured, so every node leads to one
    left, order = dict(pending), []
    queue = [r for r in dict.fromkeys(roots) if r is not None and r not in pending]
    while queue:
        node = queue.pop()
        order.append(node)
        for parent in node.parents:
            if parent is not None:
                left[parent] -= 1
                if not left[parent]:
                    queue.append(parent)
    to_run: set = set()
    for node in reversed(order):
        if any(p in capture or p in to_run for p in node.parents if p is not None):
            to_run.add(node)
    return to_run
