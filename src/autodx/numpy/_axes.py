"""NumPy's flexible axis and shape arguments, made canonical for the primitives' params."""

from __future__ import annotations

import math

import numpy as np

from ..core import shape_of


def axes(axis, ndim: int) -> tuple:
    """`axis` (None, an int or a sequence, negatives allowed) as a sorted tuple, checked."""
    if axis is None:
        return tuple(range(ndim))
    if not isinstance(axis, (int, np.integer, tuple, list)):
        raise TypeError(f"axis must be None, an integer or a tuple of integers, got {axis!r} "
                        f"({type(axis).__name__})" + (f"; use axis={int(axis)}" if isinstance(
                            axis, float) and axis.is_integer() else ""))
    many = axis if not isinstance(axis, (int, np.integer)) else (axis,)
    out = [one_axis(a, ndim) for a in many]
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(sorted(out))


def one_axis(axis, ndim: int) -> int:
    """One axis, checked and made non-negative, as NumPy does."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"an axis must be an integer, got {axis!r}" + (
            f"; use axis={int(axis)}" if isinstance(axis, float) and axis.is_integer() else ""))
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for an array of "
                                      f"dimension {ndim}")
    return int(axis) % ndim


def new_shape(shape, size: int) -> tuple:
    """A reshape target with -1 resolved, checked against `size`."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if -1 in shape:
        known = math.prod([s for s in shape if s != -1])
        if known == 0:
            raise ValueError(f"cannot reshape an array of size {size} into shape {shape}: "
                             "-1 is ambiguous when another dimension is 0")
        shape = tuple(size // known if s == -1 else s for s in shape)
    if math.prod(shape) != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
    return shape


def size(x) -> int:
    return math.prod(shape_of(x))


def ndim(x) -> int:
    return len(shape_of(x))
