"""Reductions: `sum`, and `sum_to_shape`, which the engines use to undo broadcasting."""

from __future__ import annotations

import numpy as np

from ..core import Primitive, bind, shape_of
from .shape import broadcast_to, moveaxis, reshape

sum_p = Primitive("sum", lambda x, *, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
                  linear=True)


def sum(x, axis: tuple, keepdims: bool = False):  # noqa: A001 - the NumPy name
    return bind(sum_p, x, axis=axis, keepdims=keepdims)


@sum_p.def_vjp
def _sum_vjp(needs, g, out, x, *, axis, keepdims):
    shape = shape_of(x)
    if not keepdims:
        g = reshape(g, tuple(1 if i in axis else n for i, n in enumerate(shape)))
    return (broadcast_to(g, shape),)


@sum_p.def_batch
def _sum_batch(axis_size, args, dims, *, axis, keepdims):
    (x,), (d,) = args, dims
    x = moveaxis(x, d, 0)
    return sum(x, tuple(a + 1 for a in axis), keepdims), 0


def sum_to_shape(g, shape: tuple):
    """Sum a broadcast cotangent back down to `shape` (the engine's job, never a rule's)."""
    g_shape = shape_of(g)
    if g_shape == shape:
        return g
    lead = len(g_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g_shape[i + lead] != 1)
    if axes:
        g = sum(g, axes)
    return reshape(g, shape) if shape_of(g) != shape else g
