"""Indexing, and the ops whose transposes are indexing: `getitem` and its transpose `scatter`,
`concatenate` and `stack` (all linear).

Indices are params, so they are made canonical and hashable here: slices become `SliceSpec`,
integer arrays `IntArraySpec`, boolean masks their integer positions. Tracers used as indices
must be integer or boolean (an index carries no derivative) and are read concretely.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from ..core import Primitive, Tracer, bind, shape_of
from .shape import broadcast_to, moveaxis


class SliceSpec(NamedTuple):
    start: int | None
    stop: int | None
    step: int | None


class IntArraySpec(NamedTuple):
    data: bytes  # the indices as intp, so the spec hashes and compares by value
    shape: tuple

    def array(self) -> np.ndarray:
        return np.frombuffer(self.data, dtype=np.intp).reshape(self.shape)


def _freeze_one(item):
    if isinstance(item, slice):
        return SliceSpec(item.start, item.stop, item.step)
    if item is None or item is Ellipsis or isinstance(item, (int, np.integer)):
        return item if item is None or item is Ellipsis else int(item)
    if isinstance(item, Tracer):
        item = item.concrete()
    arr = np.asarray(item)
    if arr.dtype == bool:
        return [IntArraySpec(a.astype(np.intp).tobytes(), a.shape) for a in np.nonzero(arr)]
    if arr.dtype.kind not in "iu":
        raise IndexError(
            f"autodx indexes with ints, slices, None, ..., integer arrays and boolean masks; "
            f"got an index of dtype {arr.dtype}. Convert it with .astype(int)."
        )
    return IntArraySpec(arr.astype(np.intp).tobytes(), arr.shape)


def canonical_index(idx) -> tuple:
    """A hashable, tuple form of a NumPy index."""
    items = idx if isinstance(idx, tuple) else (idx,)
    out = []
    for item in items:
        frozen = _freeze_one(item)
        out.extend(frozen if isinstance(frozen, list) else (frozen,))  # a mask: one per axis
    return tuple(out)


def _thaw(index: tuple) -> tuple:
    if has_advanced(index):
        return tuple(i.array() if type(i) is IntArraySpec else slice(*i) if type(i) is SliceSpec
                     else i for i in index)
    return _thaw_basic(index)


@functools.lru_cache(maxsize=1024)  # PERF: basic indices repeat; the result is never mutated
def _thaw_basic(index: tuple) -> tuple:
    return tuple(slice(*i) if type(i) is SliceSpec else i for i in index)


def has_repeats(index: tuple) -> bool:
    """Whether an advanced index names some element twice."""
    arrays = [i.array() for i in index if type(i) is IntArraySpec]
    if not arrays:
        return False
    keys = np.stack([c.ravel() for c in np.broadcast_arrays(*arrays)], axis=-1)
    return len(np.unique(keys, axis=0)) != len(keys)


def has_advanced(index: tuple) -> bool:
    return any(type(i) is IntArraySpec for i in index)


# ----------------------------------------------------------------------------- getitem

getitem_p = Primitive("getitem", lambda x, *, index: np.asarray(x)[_thaw(index)], linear=True)


def getitem(x, index: tuple):
    return bind(getitem_p, x, index=index)


@getitem_p.def_vjp
def _getitem_vjp(needs, g, out, x, *, index):
    return (scatter(g, index=index, shape=np.shape(x) if not isinstance(x, Tracer) else x.shape),)


def _batched_index(index: tuple) -> tuple[tuple, int]:
    """The index for a batch at axis 0, and where NumPy puts the batch axis in the result:
    first, unless advanced indices are split apart (then NumPy moves their axes in front)."""
    adv = [i for i, item in enumerate(index)
           if type(item) is IntArraySpec or isinstance(item, int) and has_advanced(index)]
    split = bool(adv) and adv[-1] - adv[0] + 1 != len(adv)
    adv_ndim = len(np.broadcast_shapes(*[i.shape for i in index if type(i) is IntArraySpec]))
    return (SliceSpec(None, None, None),) + index, adv_ndim if split else 0


@getitem_p.def_batch
def _getitem_batch(axis_size, args, dims, *, index):
    (x,), (d,) = args, dims
    batched_index, out_dim = _batched_index(index)
    return getitem(moveaxis(x, d, 0), batched_index), out_dim


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


@scatter_p.def_batch
def _scatter_batch(axis_size, args, dims, *, index, shape):
    (g,), (d,) = args, dims
    batched_index, g_dim = _batched_index(index)
    return scatter(moveaxis(g, d, g_dim), index=batched_index, shape=(axis_size, *shape)), 0


# ----------------------------------------------------------------------------- concatenate

concatenate_p = Primitive("concatenate", lambda *xs, axis: np.concatenate(xs, axis), linear=True)


def concatenate(xs, axis: int):
    return bind(concatenate_p, *xs, axis=axis)


@concatenate_p.def_vjp
def _concatenate_vjp(needs, g, out, *xs, axis):
    cts, start = [], 0
    for x, need in zip(xs, needs):
        size = shape_of(x)[axis]
        if need:
            index = (SliceSpec(None, None, None),) * axis + (SliceSpec(start, start + size, None),)
            cts.append(getitem(g, index))
        else:
            cts.append(None)
        start += size
    return tuple(cts)


@concatenate_p.def_batch
def _concatenate_batch(axis_size, args, dims, *, axis):
    moved = [moveaxis(x, d, 0) if d is not None else
             broadcast_to(x, (axis_size, *shape_of(x))) for x, d in zip(args, dims)]
    return concatenate(moved, axis + 1), 0


# ----------------------------------------------------------------------------- stack

stack_p = Primitive("stack", lambda *xs, axis: np.stack(xs, axis), linear=True)


def stack(xs, axis: int):
    return bind(stack_p, *xs, axis=axis)


@stack_p.def_vjp
def _stack_vjp(needs, g, out, *xs, axis):
    head = (SliceSpec(None, None, None),) * axis
    return tuple(getitem(g, head + (i,)) if need else None for i, need in enumerate(needs))


@stack_p.def_batch
def _stack_batch(axis_size, args, dims, *, axis):
    moved = [moveaxis(x, d, 0) if d is not None else
             broadcast_to(x, (axis_size, *shape_of(x))) for x, d in zip(args, dims)]
    return stack(moved, axis + 1), 0

