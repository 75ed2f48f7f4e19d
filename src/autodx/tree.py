"""Pytrees: nested tuples, lists, dicts, None and registered classes, with array leaves.

`tree_flatten` returns the leaves in a fixed order and a `TreeDef` that rebuilds the structure.
Flattening recurses only as deep as the user's nesting, never along data.
"""

from __future__ import annotations

import collections
import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

_REGISTRY: dict[type, tuple[Callable, Callable]] = {}
_ATOMS = {float, np.ndarray, np.float64}  # leaves by their type alone (register removes one)


def register(cls: type, flatten: Callable, unflatten: Callable) -> None:
    """Teach autodx a container: `flatten(obj) -> (children, aux)`,
    `unflatten(aux, children) -> obj`."""
    if not isinstance(cls, type):
        raise TypeError(f"register(cls, flatten, unflatten): cls must be a class, got {cls!r}")
    for name, fn in (("flatten", flatten), ("unflatten", unflatten)):
        if not callable(fn):
            raise TypeError(f"register(cls, flatten, unflatten): {name} must be a function, got "
                            f"{fn!r}; e.g. register(Point, lambda p: ((p.x, p.y), None), "
                            f"lambda aux, children: Point(*children))")
    _REGISTRY[cls] = (flatten, unflatten)
    _ATOMS.discard(cls)


register(tuple, lambda t: (t, None), lambda _, c: tuple(c))
register(list, lambda t: (t, None), lambda _, c: list(c))
register(dict, lambda d: ([d[k] for k in sorted(d)], sorted(d)), lambda keys, c: dict(zip(keys, c)))
register(type(None), lambda _: ((), None), lambda _, c: None)
register(collections.OrderedDict, lambda d: (list(d.values()), list(d)),
         lambda keys, c: collections.OrderedDict(zip(keys, c)))


class TreeDef(NamedTuple):
    kind: type | None  # None marks a leaf
    aux: Any
    children: tuple


LEAF = TreeDef(None, None, ())
_treedef = functools.partial(tuple.__new__, TreeDef)  # PERF: TreeDef(*fields) without the
# Python-level __new__ of a NamedTuple (0.3 us less per container)


def _handler(x):
    cls = type(x)
    if cls in _REGISTRY:
        return _REGISTRY[cls]
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # namedtuple
        return _namedtuple_handler(cls)
    return None


def is_leaf(x) -> bool:
    """Whether `x` is a leaf (an array, a number, a tracer), not a container."""
    return type(x) not in _REGISTRY and not (isinstance(x, tuple) and hasattr(x, "_fields"))


@functools.cache
def _namedtuple_handler(cls: type) -> tuple[Callable, Callable]:
    """One (flatten, unflatten) pair per class, so two TreeDefs of it compare equal."""
    return (lambda t: (tuple(t), None)), (lambda _, c: cls(*c))


def tree_flatten(tree) -> tuple[list, TreeDef]:
    if type(tree) in _ATOMS:  # PERF: a lone array or float, the usual case: 0.3 us, not 0.7
        return [tree], LEAF
    leaves: list = []
    return leaves, _flatten_into(tree, leaves)


def _flatten_into(x, leaves: list) -> TreeDef:
    # NOTE: module-level recursion, not a nested closure: a closure that calls itself is a
    # reference cycle, which would keep `leaves` (and whole graphs) alive until the next GC.
    cls = type(x)
    handler = _REGISTRY.get(cls)  # PERF: `_handler` inlined; with the loop below, a list of
    # two leaves flattens in 2 us instead of 3.5
    if handler is not None:
        kind = cls
    elif isinstance(x, tuple) and hasattr(x, "_fields"):  # namedtuple
        handler = _namedtuple_handler(cls)
        kind = (cls, handler[1])
    else:
        leaves.append(x)
        return LEAF
    children, aux = handler[0](x)
    defs = []
    for c in children:
        if type(c) in _REGISTRY or isinstance(c, tuple):
            defs.append(_flatten_into(c, leaves))
        else:  # PERF: a leaf child (the usual case) without a call
            leaves.append(c)
            defs.append(LEAF)
    return _treedef((kind, aux, tuple(defs)))


def tree_unflatten(treedef: TreeDef, leaves) -> Any:
    if treedef is LEAF and leaves.__class__ is list and leaves:  # PERF: a lone leaf, 0.3 us not 0.5
        return leaves[0]
    try:
        return _build(treedef, iter(leaves))
    except StopIteration:  # NOTE: a bare StopIteration would end a caller's generator silently
        got = f", got {len(leaves)}" if hasattr(leaves, "__len__") else ""
        raise ValueError(f"tree_unflatten: too few leaves; the structure has "
                         f"{_count_leaves(treedef)}{got}. Give one leaf per leaf of the structure, "
                         f"in the order tree_flatten returns them.") from None


def _count_leaves(td: TreeDef) -> int:
    return 1 if td.kind is None else sum(_count_leaves(c) for c in td.children)


def _build(td: TreeDef, leaves):
    if td.kind is None:
        return next(leaves)
    children = [next(leaves) if c is LEAF else _build(c, leaves)  # PERF: leaves in place
                for c in td.children]
    if isinstance(td.kind, tuple):  # namedtuple: (cls, unflatten)
        return td.kind[1](td.aux, children)
    return _REGISTRY[td.kind][1](td.aux, children)


def tree_leaves(tree) -> list:
    return tree_flatten(tree)[0]


def tree_map(fn: Callable, tree, *rest) -> Any:
    """Apply `fn` leafwise over one or more trees of the same structure."""
    if not callable(fn):
        raise TypeError(f"tree_map(fn, tree, ...): fn must be a function, got {fn!r}")
    leaves, treedef = tree_flatten(tree)
    others = []
    for i, r in enumerate(rest):
        flat, other = tree_flatten(r)
        if other != treedef:
            raise ValueError(f"tree_map: tree {i + 1} does not have the structure of the first "
                             f"tree ({len(flat)} leaves against {len(leaves)}); every tree "
                             f"passed to tree_map needs the same nesting of containers")
        others.append(flat)
    return tree_unflatten(treedef, [fn(*xs) for xs in zip(leaves, *others)])


def ravel_pytree(tree) -> tuple[np.ndarray, Callable]:
    """Flatten a pytree of arrays into one 1-D array, and return the function that undoes it."""
    from . import numpy as anp  # NOTE: tree sits below numpy in the import DAG; only this helper
    # needs array ops, so it imports them at call time.

    leaves, treedef = tree_flatten(tree)
    shapes = [np.shape(x) for x in leaves]
    sizes = [math.prod(s) for s in shapes]
    flat = anp.concatenate([anp.reshape(x, (-1,)) for x in leaves]) if leaves else np.zeros(0)

    def unravel(vector):
        out, start = [], 0
        for shape, size in zip(shapes, sizes):
            out.append(anp.reshape(vector[start:start + size], shape))
            start += size
        return tree_unflatten(treedef, out)

    return flat, unravel


def _is_axis_spec(x) -> bool:
    return x is None or isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def check_axis_spec(spec, name: str) -> None:
    """Refuse an axis specification (vmap's in_axes/out_axes) whose leaves are not ints or None
    (`0.0`, `True`, `"0"`), as JAX does when vmap is called: a TypeError naming it."""
    for leaf in tree_flatten(spec)[0]:  # None is an empty tree: never a leaf
        if not _is_axis_spec(leaf):
            raise TypeError(f"{name} must be an int, None, or a tuple/list/dict of them, but got "
                            f"{spec!r}: {leaf!r} is a {type(leaf).__name__}. Use an int axis "
                            f"(e.g. {name}=0), or None for a value that is not mapped.")


def broadcast_prefix(prefix, tree, is_leaf_spec=_is_axis_spec, name="axis specification"):
    """Expand a prefix tree (e.g. vmap's in_axes) to one entry per leaf of `tree`: a spec
    leaf (an int or None) stands for every leaf below it."""
    if is_leaf_spec(prefix):
        return [None if prefix is None else int(prefix)] * len(tree_flatten(tree)[0])
    spec_handler = _handler(prefix)
    if spec_handler is None:  # neither a spec nor a container of specs: 0.0, True, "0"
        check_axis_spec(prefix, name)
    handler = _handler(tree)
    if handler is None or type(prefix) is not type(tree) and not (
            isinstance(prefix, (tuple, list)) and isinstance(tree, (tuple, list))):
        raise ValueError(f"{name} {prefix!r} does not match the structure of the value it "
                         f"describes ({type(tree).__name__}); give an int or None for it, or a "
                         f"container with one entry per entry of the value")
    children, aux = handler[0](tree)
    spec_children, spec_aux = spec_handler[0](prefix)
    if isinstance(tree, dict) and spec_aux != aux:
        raise ValueError(f"{name} keys {spec_aux} do not match the keys {aux}")
    if len(spec_children) != len(children):
        raise ValueError(f"{name} {prefix!r} has {len(spec_children)} entries but the value it "
                         f"describes has {len(children)}")
    return [s for sc, c in zip(spec_children, children)
            for s in broadcast_prefix(sc, c, is_leaf_spec, name)]
