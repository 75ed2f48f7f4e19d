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


def register(cls: type, flatten: Callable, unflatten: Callable) -> None:
    """Teach autodx a container: `flatten(obj) -> (children, aux)`,
    `unflatten(aux, children) -> obj`."""
    _REGISTRY[cls] = (flatten, unflatten)


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


def _handler(x):
    cls = type(x)
    if cls in _REGISTRY:
        return _REGISTRY[cls]
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # namedtuple
        return _namedtuple_handler(cls)
    return None


@functools.cache
def _namedtuple_handler(cls: type) -> tuple[Callable, Callable]:
    """One (flatten, unflatten) pair per class, so two TreeDefs of it compare equal."""
    return (lambda t: (tuple(t), None)), (lambda _, c: cls(*c))


def tree_flatten(tree) -> tuple[list, TreeDef]:
    leaves: list = []
    return leaves, _flatten_into(tree, leaves)


def _flatten_into(x, leaves: list) -> TreeDef:
    # NOTE: module-level recursion, not a nested closure: a closure that calls itself is a
    # reference cycle, which would keep `leaves` (and whole graphs) alive until the next GC.
    handler = _handler(x)
    if handler is None:
        leaves.append(x)
        return LEAF
    children, aux = handler[0](x)
    kind = type(x) if type(x) in _REGISTRY else (type(x), handler[1])
    return TreeDef(kind, aux, tuple(_flatten_into(c, leaves) for c in children))


def tree_unflatten(treedef: TreeDef, leaves) -> Any:
    return _build(treedef, iter(leaves))


def _build(td: TreeDef, leaves):
    if td.kind is None:
        return next(leaves)
    children = [_build(c, leaves) for c in td.children]
    if isinstance(td.kind, tuple):  # namedtuple: (cls, unflatten)
        return td.kind[1](td.aux, children)
    return _REGISTRY[td.kind][1](td.aux, children)


def tree_leaves(tree) -> list:
    return tree_flatten(tree)[0]


def tree_map(fn: Callable, tree, *rest) -> Any:
    """Apply `fn` leafwise over one or more trees of the same structure."""
    leaves, treedef = tree_flatten(tree)
    others = [tree_flatten(r)[0] for r in rest]
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


def broadcast_prefix(prefix, tree, is_leaf_spec=_is_axis_spec):
    """Expand a prefix tree (e.g. vmap's in_axes) to one entry per leaf of `tree`: a spec
    leaf (an int or None) stands for every leaf below it."""
    if isinstance(prefix, bool):
        raise ValueError(f"axis specification {prefix!r}: use an int or None, not a bool")
    if is_leaf_spec(prefix):
        return [None if prefix is None else int(prefix)] * len(tree_flatten(tree)[0])
    handler = _handler(tree)
    if handler is None or type(prefix) is not type(tree) and not (
            isinstance(prefix, (tuple, list)) and isinstance(tree, (tuple, list))):
        raise ValueError(f"axis specification {prefix!r} does not match the structure of the "
                         f"value it describes ({type(tree).__name__})")
    children, aux = handler[0](tree)
    spec_children, spec_aux = _handler(prefix)[0](prefix)
    if isinstance(tree, dict) and spec_aux != aux:
        raise ValueError(f"axis specification keys {spec_aux} do not match the keys {aux}")
    if len(spec_children) != len(children):
        raise ValueError(f"axis specification {prefix!r} has {len(spec_children)} entries but "
                         f"the value it describes has {len(children)}")
    return [s for sc, c in zip(spec_children, children) for s in broadcast_prefix(sc, c)]
