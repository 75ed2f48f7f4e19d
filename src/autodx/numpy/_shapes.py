"""Shape functions and indexing: reshape, transpose, concatenate, ..., `x[idx]`, astype.

Each normalizes NumPy's flexible arguments (-1 in shapes, negative axes) and binds the
canonical shape primitives, which are linear, so every derivative comes for free."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import prims
from ..core import dtype_of, shape_of
from ..registry import export
from ._axes import axes, new_shape, one_axis, size


def _shape_args(args):
    """`x.reshape(2, 3)` and `x.reshape((2, 3))` alike."""
    return args[0] if len(args) == 1 and not isinstance(args[0], (int, np.integer)) else args


@export(method={"reshape": lambda self, *shape, **kw: reshape(self, _shape_args(shape), **kw)})
def reshape(x, shape=None, order: str = "C", *, newshape=None):
    """Reshape to `shape` (one entry may be -1), in C order."""
    if order != "C":
        raise NotImplementedError("reshape(order=...) other than 'C' is not supported")
    shape = new_shape(newshape if shape is None else shape, size(x))
    return x if shape_of(x) == shape else prims.reshape(x, shape)


@export(method=("ravel", "flatten"))
def ravel(x, order: str = "C"):
    """The elements as a 1-D array (C order)."""
    return reshape(x, (-1,), order)


@export
def broadcast_to(x, shape):
    """`x` broadcast to `shape`, as NumPy's broadcasting would."""
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    return x if shape_of(x) == shape else prims.broadcast_to(x, shape)


@export(method={"transpose": lambda self, *axes: transpose(self, _shape_args(axes) if axes
                                                            else None),
                "T": property(lambda self: transpose(self))})
def transpose(x, axes=None):
    """Permute the axes (reverse them by default)."""
    ndim = len(shape_of(x))
    perm = tuple(range(ndim))[::-1] if axes is None else tuple(one_axis(a, ndim) for a in axes)
    if sorted(perm) != list(range(ndim)):
        raise ValueError(f"axes {axes} are not a permutation of the {ndim} axes")
    return x if perm == tuple(range(ndim)) else prims.transpose(x, perm)


@export(method="swapaxes")
def swapaxes(x, axis1: int, axis2: int):
    """Exchange two axes."""
    ndim = len(shape_of(x))
    axis1, axis2 = one_axis(axis1, ndim), one_axis(axis2, ndim)
    perm = list(range(ndim))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(x, perm)


@export
def moveaxis(x, source: int, destination: int):
    """Move one axis to a new position, keeping the others in order."""
    ndim = len(shape_of(x))
    return prims.moveaxis(x, one_axis(source, ndim), one_axis(destination, ndim))


@export
def expand_dims(x, axis: int):
    """Insert a length-1 axis at `axis`."""
    shape = shape_of(x)
    axis = one_axis(axis, len(shape) + 1)
    return reshape(x, shape[:axis] + (1,) + shape[axis:])


@export(method="squeeze")
def squeeze(x, axis=None):
    """Remove length-1 axes (all of them, or those in `axis`)."""
    shape = shape_of(x)
    ax = [i for i, n in enumerate(shape) if n == 1] if axis is None else axes(axis, len(shape))
    for a in ax:
        if shape[a] != 1:
            raise ValueError(f"cannot select an axis to squeeze out which has size not equal "
                             f"to one (axis {a} has size {shape[a]})")
    return reshape(x, tuple(n for i, n in enumerate(shape) if i not in ax))


@export
def concatenate(arrays: Sequence, axis: int = 0):
    """Join arrays along an existing axis."""
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    ndim = len(shape_of(arrays[0]))
    return prims.concatenate(arrays, one_axis(axis, ndim)) if len(arrays) > 1 else arrays[0]


@export
def stack(arrays: Sequence, axis: int = 0):
    """Join arrays along a new axis."""
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to stack")
    return prims.stack(arrays, one_axis(axis, len(shape_of(arrays[0])) + 1))


@export
def zeros_like(x, dtype=None):
    """Zeros of x's shape and dtype: a constant, never traced."""
    return np.zeros(shape_of(x), dtype or dtype_of(x))


@export
def ones_like(x, dtype=None):
    """Ones of x's shape and dtype: a constant, never traced."""
    return np.ones(shape_of(x), dtype or dtype_of(x))


@export(method="astype")
def astype(x, dtype):
    """`x` cast to `dtype`; a cast to an integer or bool dtype carries no derivative."""
    return prims.convert(x, dtype)


@export(method="__getitem__")
def getitem(x, index):
    """`x[index]` with NumPy's whole indexing: ints, slices, ..., None, arrays, masks."""
    return prims.getitem(x, prims.canonical_index(index))
