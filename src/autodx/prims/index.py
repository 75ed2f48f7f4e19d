"""Basic and integer-array indexing: `getitem` and its transpose `scatter` (both linear).

Indices are params, so they are made canonical and hashable here: slices become `SliceSpec`,
integer arrays `IntArraySpec`, boolean masks their integer positions. Tracers used as indices
must be integer or boolean (an index carries no derivative) and are read concretely.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core import Primitive, Tracer, bind


class SliceSpec(NamedTuple):
    start: int | None
    stop: int | None
    step: int | None


class IntArraySpec(NamedTuple):
    values: tuple
    shape: tuple


def _freeze_one(item):
    if isinstance(item, slice):
        return SliceSpec(item.start, item.stop, item.step)
    if item is None or item is Ellipsis or isinstance(item, (int, np.integer)):
        return item if item is None or item is Ellipsis else int(item)
    if isinstance(item, Tracer):
        item = item.concrete()
    arr = np.asarray(item)
    if arr.dtype == bool:
        return [IntArraySpec(tuple(a.tolist()), a.shape) for a in np.nonzero(arr)]
    if arr.dtype.kind not in "iu":
        raise IndexError(
            f"autodx indexes with ints, slices, None, ..., integer arrays and boolean masks; "
            f"got an index of dtype {arr.dtype}. Convert it with .astype(int)."
        )
    return IntArraySpec(tuple(arr.ravel().tolist()), arr.shape)


def canonical_index(idx) -> tuple:
    """A hashable, tuple form of a NumPy index."""
    items = idx if isinstance(idx, tuple) else (idx,)
    out = []
    for item in items:
        frozen = _freeze_one(item)
        out.extend(frozen if isinstance(frozen, list) else (frozen,))  # a mask: one per axis
    return tuple(out)


def _thaw(index: tuple) -> tuple:
    return tuple(
        slice(*i) if type(i) is SliceSpec
        else np.array(i.values, dtype=np.intp).reshape(i.shape) if type(i) is IntArraySpec
        else i
        for i in index
    )


def has_advanced(index: tuple) -> bool:
    return any(type(i) is IntArraySpec for i in index)


# ----------------------------------------------------------------------------- getitem

getitem_p = Primitive("getitem", lambda x, *, index: np.asarray(x)[_thaw(index)], linear=True)


def getitem(x, index: tuple):
    return bind(getitem_p, x, index=index)


@getitem_p.def_vjp
def _getitem_vjp(needs, g, out, x, *, index):
    return (scatter(g, index=index, shape=np.shape(x) if not isinstance(x, Tracer) else x.shape),)


getitem_p.mark_missing("batch", "indexing batch rules come with vmap (issue #3)")


# ----------------------------------------------------------------------------- scatter

def _scatter_impl(g, *, index, shape):
    g = np.asarray(g)
    out = np.zeros(shape, dtype=g.dtype)
    if has_advanced(index):
        np.add.at(out, _thaw(index), g)  # repeated integer indices add up
    else:
        out[_thaw(index)] = g
    return out


scatter_p = Primitive("scatter", _scatter_impl, linear=True)


def scatter(g, *, index: tuple, shape: tuple):
    """Zeros of `shape` with `g` added at `index`: the transpose of `getitem`."""
    return bind(scatter_p, g, index=index, shape=shape)


@scatter_p.def_vjp
def _scatter_vjp(needs, g, out, x, *, index, shape):
    return (getitem(g, index),)


scatter_p.mark_missing("batch", "indexing batch rules come with vmap (issue #3)")
