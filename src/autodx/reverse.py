"""Reverse mode: `Node`, the record of one primitive application, and `backward_pass`, the one
engine behind both the functional `vjp` and `Tensor.backward`.

Invariants:
- The walk is iterative and visits nodes in reverse topological order, so every node has
  received all of its cotangent before it propagates (no recursion: a million-op chain works).
- Cotangents are accumulated out of place; the engine, not the rules, sums each one down to
  its input's shape and casts it to its input's dtype.
- Without `retain_graph`, each node drops its saved values as soon as it has run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
        return VJPTracer(self, out, Node(prim, params, values, out, parents))


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
    grads: dict[Node, object] = {}
    for root, ct in zip(roots, cts):
        if root is not None and ct is not None:
            grads[root] = add(grads[root], ct) if root in grads else ct
    ready = [r for r in dict.fromkeys(roots) if r is not None and r not in pending]
    captured = dict.fromkeys(capture)
    while ready:
        node = ready.pop()
        g = grads.pop(node, None)
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
            grads[parent] = ct if prev is None else add(prev, ct)


_ONE = (True,)


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
    stack = [r for r in roots if r is not None]
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
