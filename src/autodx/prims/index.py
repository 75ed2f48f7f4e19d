"""Indexing, and the ops whose transposes are indexing: `getitem` and its transpose `scatter`,
`concatenate` and `stack` (all linear); and the functional updates built from them,
`scatter_set` (x[idx] = v, out of place) and `scatter_add` (np.add.at, out of place).

Indices are params, so they are made canonical and hashable here. `resolve_index` reads a
NumPy index against the shape it indexes, as NumPy does: Ellipsis expanded into full slices
(kept where it stands for no axis, as it still separates advanced indices), negative integers
made non-negative, boolean masks their integer positions, a 0-d boolean an integer array on a
new length-1 axis, and every entry checked (NumPy's IndexError and message). Slices become
`SliceSpec`, integer arrays `IntArraySpec`. Tracers used as indices must be integer or
boolean (an index carries no derivative) and are read concretely. `canonical_index` is the
shape-free form that rules use for indices they build themselves.
"""

from __future__ import annotations

import functools
import operator
from typing import NamedTuple

import numpy as np

from ..core import BatchingError, Primitive, Tracer, bind, dtype_of, shape_of
from .elementwise import add, where
from .shape import broadcast_to, convert, moveaxis, reshape


class SliceSpec(NamedTuple):
    start: int | None
    stop: int | None
    step: int | None


class IntArraySpec(NamedTuple):
    data: bytes  # the indices as intp, so the spec hashes and compares by value
    shape: tuple

    def array(self) -> np.ndarray:
        return np.frombuffer(self.data, dtype=np.intp).reshape(self.shape)


class _Mask(NamedTuple):  # a boolean index (0-d included) before it is resolved
    data: bytes
    shape: tuple

    def array(self) -> np.ndarray:
        return np.frombuffer(self.data, dtype=bool).reshape(self.shape)


FULL = SliceSpec(None, None, None)
_VALID = ("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer "
          "or boolean arrays are valid indices")


def int_array(a) -> IntArraySpec:
    a = np.asarray(a, dtype=np.intp)
    return IntArraySpec(a.tobytes(), a.shape)


def concrete_index(item: Tracer) -> np.ndarray:
    """The value of a traced index (indices are static: they carry no derivative)."""
    try:
        return item.concrete()
    except BatchingError:
        raise BatchingError(
            "an index that differs from example to example (batched by vmap) cannot be used: "
            "autodx's indices are static. Select with arithmetic instead, e.g. a one-hot "
            "mask: ad.numpy.sum(x * (ad.numpy.arange(n) == i)).") from None


def _slice_bound(v):
    if v is None:
        return None
    if isinstance(v, Tracer):
        v = concrete_index(v)
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError("slice indices must be integers or None or have an __index__ "
                        f"method, got {v!r}") from None


def _freeze(item):
    """One index item in a hashable form, as NumPy reads it."""
    if isinstance(item, slice):
        spec = SliceSpec(_slice_bound(item.start), _slice_bound(item.stop),
                         _slice_bound(item.step))
        if spec.step == 0:
            raise ValueError("slice step cannot be zero")
        return spec
    if item is None or item is Ellipsis:
        return item
    if isinstance(item, (bool, np.bool_)):  # before int: a Python bool is a 0-d mask
        return _Mask(bytes([bool(item)]), ())
    if isinstance(item, (int, np.integer)):
        return int(item)
    if isinstance(item, Tracer):
        item = concrete_index(item)
    arr = np.asarray(item)
    if arr.dtype == bool:
        return _Mask(arr.tobytes(), arr.shape)
    if arr.size == 0 and arr.dtype.kind == "f" and isinstance(item, (list, tuple)):
        arr = arr.astype(np.intp)  # `x[[]]`: NumPy reads an empty list as integers
    if arr.dtype.kind not in "iu":
        raise IndexError(f"{_VALID}; got an index of dtype {arr.dtype}. Convert it with "
                         ".astype(int).")
    return int(arr) if arr.ndim == 0 else int_array(arr)


def canonical_index(idx) -> tuple:
    """A hashable tuple form of a NumPy index, without a shape to check it against (masks
    become their integer positions); `resolve_index` is the checked form."""
    out = []
    for item in idx if isinstance(idx, tuple) else (idx,):
        item = _freeze(item)
        if type(item) is _Mask:
            if not item.shape:
                raise IndexError("a 0-d boolean index needs the indexed shape: use "
                                 "resolve_index")
            out.extend(int_array(a) for a in np.nonzero(item.array()))
        else:
            out.append(item)
    return tuple(out)


# ----------------------------------------------------------------------------- resolve_index

def resolve_index(idx, shape: tuple) -> tuple[tuple, tuple]:
    """NumPy's index `idx` into an array of `shape`, checked and canonical. Returns the shape
    to index, which is `shape` with a length-1 axis inserted for each 0-d boolean (NumPy's
    own reading of one), and the index as params."""
    items = tuple(i if type(i) is int else _freeze(i)  # PERF: ints are the common case
                  for i in (idx if isinstance(idx, tuple) else (idx,)))
    types = set(map(type, items))
    if IntArraySpec in types or _Mask in types:
        return _resolve(items, tuple(shape))
    return _resolve_basic(items, tuple(shape))


@functools.lru_cache(maxsize=1024)  # PERF: basic indices repeat (x[i] in a loop)
def _resolve_basic(items: tuple, shape: tuple) -> tuple[tuple, tuple]:
    return _resolve(items, shape)


def _dims_used(item) -> int:
    if item is None or item is Ellipsis:
        return 0
    return len(item.shape) if type(item) is _Mask else 1


def _resolve(items: tuple, shape: tuple) -> tuple[tuple, tuple]:
    ndim, used = len(shape), sum(_dims_used(i) for i in items)
    if sum(i is Ellipsis for i in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if used > ndim:
        raise IndexError(f"too many indices for array: array is {ndim}-dimensional, but "
                         f"{used} were indexed")
    out, new_shape, dim = [], [], 0  # dim: the next axis of `shape` to index
    for item in items:
        if item is None:
            out.append(None)
            continue
        if item is Ellipsis:  # kept when it stands for no axis: it still splits arrays
            take = ndim - used
            out.extend((FULL,) * take if take else (Ellipsis,))
        elif type(item) is _Mask:
            if not item.shape:  # NumPy: an integer array [0] or [] on a new length-1 axis
                out.append(int_array(np.arange(int(item.array()))))
                new_shape.append(1)
                continue
            take = len(item.shape)
            out.extend(_mask_positions(item.array(), shape, dim))
        else:
            take = 1
            out.append(item if type(item) is SliceSpec else _in_bounds(item, shape[dim], dim))
        new_shape.extend(shape[dim:dim + take])
        dim += take
    new_shape.extend(shape[dim:])
    arrays = [i.shape for i in out if type(i) is IntArraySpec]
    try:
        if len(arrays) > 1:
            np.broadcast_shapes(*arrays)
    except ValueError:
        shapes = " ".join(str(s) for s in arrays)
        raise IndexError(f"shape mismatch: indexing arrays could not be broadcast together "
                         f"with shapes {shapes}") from None
    return tuple(new_shape), tuple(out)


def _in_bounds(item, n: int, dim: int):
    """An integer or IntArraySpec made non-negative, after NumPy's bounds check."""
    if type(item) is int:
        if not -n <= item < n:
            raise IndexError(f"index {item} is out of bounds for axis {dim} with size {n}")
        return item % n
    a = item.array()
    if a.size == 0:
        return item
    low, high = a.min(), a.max()
    if low < -n or high >= n:
        bad = a[(a < -n) | (a >= n)].flat[0]
        raise IndexError(f"index {bad} is out of bounds for axis {dim} with size {n}")
    return int_array(np.where(a < 0, a + n, a)) if low < 0 else item


def _mask_positions(mask: np.ndarray, shape: tuple, dim: int) -> list:
    for k, (m, n) in enumerate(zip(mask.shape, shape[dim:])):
        if m != n:
            raise IndexError(f"boolean index did not match indexed array along axis "
                             f"{dim + k}; size of axis is {n} but size of corresponding "
                             f"boolean axis is {m}")
    return [int_array(a) for a in np.nonzero(mask)]


# ----------------------------------------------------------------------------- index helpers

def _thaw(index: tuple) -> tuple:
    if has_advanced(index):
        return tuple(i.array() if type(i) is IntArraySpec else slice(*i) if type(i) is SliceSpec
                     else i for i in index)
    return _thaw_basic(index)


@functools.lru_cache(maxsize=1024)  # PERF: basic indices repeat; the result is never mutated
def _thaw_basic(index: tuple) -> tuple:
    return tuple(slice(*i) if type(i) is SliceSpec else i for i in index)


def has_advanced(index: tuple) -> bool:
    return IntArraySpec in map(type, index)  # PERF: a C-level scan


@functools.lru_cache(maxsize=64)
def may_repeat(index: tuple) -> bool:
    """Whether an advanced index may name some element twice: exact for resolved indices; a
    negative entry counts as a repeat (it may alias a non-negative one)."""
    arrays = [i.array() for i in index if type(i) is IntArraySpec]
    if any(a.size and a.min() < 0 for a in arrays):
        return True
    return has_repeats(index)


def has_repeats(index: tuple) -> bool:
    """Whether an advanced index names some element twice, reading its entries as they are
    (a negative entry is not matched with its non-negative twin: resolve the index first)."""
    arrays = [i.array() for i in index if type(i) is IntArraySpec]
    if not arrays:
        return False
    ids = _entry_ids(arrays)
    return len(np.unique(ids)) != len(ids)


def _entry_ids(arrays: list) -> np.ndarray:
    """For each element of the broadcast advanced index (C order), an id that is equal for
    two elements exactly when they name the same position."""
    columns = [c.ravel() for c in np.broadcast_arrays(*arrays)]
    if len(columns) == 1:
        return columns[0]
    return np.unique(np.stack(columns, axis=-1), axis=0, return_inverse=True)[1].ravel()


def advanced_axis(index: tuple) -> int:
    """Where NumPy puts the (broadcast) advanced-index axes in x[index], for a resolved
    index: in front when a slice or None splits the advanced items, else where they stand."""
    adv = [k for k, i in enumerate(index) if type(i) in (IntArraySpec, int)]
    if adv[-1] - adv[0] + 1 != len(adv):
        return 0
    return sum(1 for i in index[:adv[0]] if i is None or type(i) is SliceSpec)


def index_shape(shape: tuple, index: tuple) -> tuple:
    """The shape of x[index] for x of `shape` (read off a zero-strided stand-in)."""
    return np.broadcast_to(np.zeros((), bool), shape)[_thaw(index)].shape


# ----------------------------------------------------------------------------- getitem

getitem_p = Primitive("getitem", lambda x, *, index: x[_thaw(index)], linear=True)


def getitem(x, index: tuple):
    return bind(getitem_p, x, index=index)


@getitem_p.def_vjp
def _getitem_vjp(needs, g, out, x, *, index):
    return (scatter(g, index=index, shape=shape_of(x)),)


def _batched_index(index: tuple) -> tuple[tuple, int]:
    """The index for a batch at axis 0, and where NumPy puts the batch axis in the result:
    first, unless advanced indices are split apart (then NumPy moves their axes in front)."""
    adv = [i for i, item in enumerate(index)
           if type(item) is IntArraySpec or isinstance(item, int) and has_advanced(index)]
    split = bool(adv) and adv[-1] - adv[0] + 1 != len(adv)
    adv_ndim = len(np.broadcast_shapes(*[i.shape for i in index if type(i) is IntArraySpec]))
    return (FULL,) + index, adv_ndim if split else 0


@getitem_p.def_batch
def _getitem_batch(axis_size, args, dims, *, index):
    (x,), (d,) = args, dims
    batched_index, out_dim = _batched_index(index)
    return getitem(moveaxis(x, d, 0), batched_index), out_dim


# ----------------------------------------------------------------------------- scatter

def _scatter_impl(g, *, index, shape):
    out = np.zeros(shape, dtype_of(g))  # PERF: 3 us less than np.zeros_like(g, shape=shape)
    if has_advanced(index) and may_repeat(index):
        np.add.at(out, _thaw(index), g)  # repeated integer indices add up
    else:
        out[_thaw(index)] = g  # PERF: 5x faster than np.add.at
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


# ----------------------------------------------------------------------------- updates

def update(x, v, idx, fn):
    """`fn(x, v, index)` for NumPy's index `idx` resolved against x's shape, with v fitted
    to x[idx] as NumPy's `x[idx] = v` fits it: the common part of every functional update
    (`scatter_set`, `.at[...].multiply`, ...)."""
    x_shape = shape_of(x)
    shape, index = resolve_index(idx, x_shape)
    xr = x if shape == x_shape else reshape(x, shape)
    out = fn(xr, _fit_values(v, dtype_of(x), index_shape(shape, index)), index)
    return out if shape == x_shape else reshape(out, x_shape)


def _fit_values(v, dtype, target: tuple):
    """v cast to `dtype` and broadcast to `target` (leading length-1 axes dropped)."""
    if not isinstance(v, (Tracer, np.ndarray, np.generic, int, float, complex)):
        v = np.asarray(v)  # a list of numbers
    v = convert(v, dtype)
    v_shape = shape_of(v)
    extra = len(v_shape) - len(target)
    if extra > 0 and all(n == 1 for n in v_shape[:extra]):
        v = reshape(v, v_shape[extra:])
    fitted = shape_of(v)
    if fitted == target:
        return v
    if len(fitted) > len(target) or any(a not in (1, b) for a, b in zip(fitted[::-1],
                                                                        target[::-1])):
        raise ValueError(f"could not broadcast input array from shape {v_shape} into shape "
                         f"{target}")
    return broadcast_to(v, target)


def update_groups(v, index: tuple, shape: tuple):
    """Split an update of x[index] (x of `shape`) by `v` into updates whose indices are
    unique: an element's first occurrence goes to the first group, its second to the second,
    and so on, each in the index's order. Yields (index, values) pairs; one, the update
    itself, when nothing repeats."""
    if not has_advanced(index) or not may_repeat(index):
        yield index, v
        return
    positions = [k for k, i in enumerate(index) if type(i) is IntArraySpec]
    columns = np.broadcast_arrays(*[index[k].array() for k in positions])
    ids = _entry_ids(list(columns))
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    rank = np.empty_like(order)
    rank[order] = np.arange(len(ids)) - np.repeat(starts, np.diff(np.r_[starts, len(ids)]))
    p, a = advanced_axis(index), len(columns[0].shape)
    v_shape = shape_of(v)
    v = reshape(v, v_shape[:p] + (len(ids),) + v_shape[p + a:])
    for r in range(int(rank.max()) + 1):
        chosen = np.flatnonzero(rank == r)
        sub = list(index)
        for k, c in zip(positions, columns):
            sub[k] = int_array(c.ravel()[chosen])
        yield tuple(sub), getitem(v, (FULL,) * p + (int_array(chosen),))


def index_mask(shape: tuple, index: tuple) -> np.ndarray:
    """True at the positions x[index] names (a constant)."""
    mask = np.zeros(shape, bool)
    mask[_thaw(index)] = True
    return mask


def scatter_set(x, v, idx):
    """x with x[idx] = v, out of place (v cast to x's dtype and broadcast, as NumPy).
    NOTE: where idx names an element twice, the last write wins (NumPy's rule), so only the
    last of the values written there gets a gradient."""
    def set_(x, v, index):
        shape = shape_of(x)
        for sub, part in update_groups(v, index, shape):
            x = where(index_mask(shape, sub), scatter(part, index=sub, shape=shape), x)
        return x

    return update(x, v, idx, set_)


def scatter_add(x, v, idx):
    """x with v added at x[idx], out of place; repeated indices add up (np.add.at)."""
    return update(x, v, idx, lambda x, v, index: add(
        x, scatter(v, index=index, shape=shape_of(x))))


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
            cts.append(getitem(g, (FULL,) * axis + (SliceSpec(start, start + size, None),)))
        else:
            cts.append(None)
        start += size
    return tuple(cts)


def _batch_all(axis_size, args, dims) -> list:
    return [moveaxis(x, d, 0) if d is not None else
            broadcast_to(x, (axis_size, *shape_of(x))) for x, d in zip(args, dims)]


@concatenate_p.def_batch
def _concatenate_batch(axis_size, args, dims, *, axis):
    return concatenate(_batch_all(axis_size, args, dims), axis + 1), 0


# ----------------------------------------------------------------------------- stack

stack_p = Primitive("stack", lambda *xs, axis: np.stack(xs, axis), linear=True)


def stack(xs, axis: int):
    return bind(stack_p, *xs, axis=axis)


@stack_p.def_vjp
def _stack_vjp(needs, g, out, *xs, axis):
    head = (FULL,) * axis
    return tuple(getitem(g, head + (i,)) if need else None for i, need in enumerate(needs))


@stack_p.def_batch
def _stack_batch(axis_size, args, dims, *, axis):
    return stack(_batch_all(axis_size, args, dims), axis + 1), 0

