"""Reductions: `sum`, `reduce_max`/`reduce_min` (a kink convention to pin down: ties), the
linear `cumsum`, and `sum_to_shape`, which the engines use to undo broadcasting.

Params are canonical: `axis` is a sorted tuple of non-negative ints for the reductions, one
non-negative int for `cumsum`; `keepdims` a bool. The public functions with NumPy's flexible
arguments are in numpy/_reductions.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core import Primitive, bind, dtype_of, shape_of
from .elementwise import div, equal, mul, not_equal, where
from .index import SliceSpec, getitem
from .shape import broadcast_to, convert, moveaxis, reshape


def batch_moving_axis(prim: Primitive) -> Callable:
    """The batching rule of a one-input op with an `axis` param (an int or a tuple of ints):
    move the batch axis to the front and shift `axis` past it."""

    def rule(axis_size, args, dims, **params):
        (x,), (d,) = args, dims
        axis = params["axis"]
        shifted = axis + 1 if isinstance(axis, int) else tuple(a + 1 for a in axis)
        return bind(prim, moveaxis(x, d, 0), **{**params, "axis": shifted}), 0

    rule.__name__ = rule.__qualname__ = f"_{prim.name}_batch"
    return rule


def kept_shape(shape: tuple, axis: tuple) -> tuple:
    """The shape of a reduction over `axis` with keepdims=True."""
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


# ----------------------------------------------------------------------------- sum

sum_p = Primitive("sum", lambda x, *, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
                  linear=True)
sum_p.batch = batch_moving_axis(sum_p)


def sum(x, axis: tuple, keepdims: bool = False):  # noqa: A001 - the NumPy name
    return bind(sum_p, x, axis=axis, keepdims=keepdims)


@sum_p.def_vjp
def _sum_vjp(needs, g, out, x, *, axis, keepdims):
    shape = shape_of(x)
    if not keepdims:
        g = reshape(g, kept_shape(shape, axis))
    return (broadcast_to(g, shape),)


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


# ----------------------------------------------------------------------------- max, min

def _winner_weights(x, out, axis: tuple, keepdims: bool):
    """Weights on x that sum to 1 over each reduced slice, on the elements equal to the slice's
    extremum."""
    # NOTE: ties split the derivative evenly among the tied elements, as PyTorch's amax/amin
    # and JAX do; a slice whose extremum is NaN sends it to its NaN elements.
    if not keepdims:
        out = reshape(out, kept_shape(shape_of(x), axis))
    hit = where(not_equal(out, out), not_equal(x, x), equal(x, out))
    hit = convert(hit, dtype_of(x))
    return div(hit, sum(hit, axis, True))


def _extremum(name: str, np_fn: Callable) -> Callable:
    prim = Primitive(name, lambda x, *, axis, keepdims: np_fn(x, axis=axis, keepdims=keepdims))
    prim.batch = batch_moving_axis(prim)

    def wrapper(x, axis: tuple, keepdims: bool = False):
        return bind(prim, x, axis=axis, keepdims=keepdims)

    def jvp(primals, tangents, *, axis, keepdims):
        (x,), (t,) = primals, tangents
        out = wrapper(x, axis, keepdims)
        return out, sum(mul(t, _winner_weights(x, out, axis, keepdims)), axis, keepdims)

    def vjp(needs, g, out, x, *, axis, keepdims):
        if not keepdims:
            g = reshape(g, kept_shape(shape_of(x), axis))
        return (mul(g, _winner_weights(x, out, axis, keepdims)),)

    prim.jvp, prim.vjp = jvp, vjp
    jvp.__name__, vjp.__name__ = f"_{name}_jvp", f"_{name}_vjp"
    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.prim = prim
    return wrapper


reduce_max = _extremum("reduce_max", np.max)
reduce_min = _extremum("reduce_min", np.min)


# ----------------------------------------------------------------------------- cumsum

cumsum_p = Primitive("cumsum", lambda x, *, axis: np.cumsum(x, axis=axis), linear=True)
cumsum_p.batch = batch_moving_axis(cumsum_p)


def cumsum(x, axis: int):
    return bind(cumsum_p, x, axis=axis)


def flip(x, axis: int):
    """x reversed along `axis` (a view in NumPy; linear)."""
    return getitem(x, (SliceSpec(None, None, None),) * axis + (SliceSpec(None, None, -1),))


@cumsum_p.def_vjp
def _cumsum_vjp(needs, g, out, x, *, axis):
    # the transpose of a running sum is the running sum from the end
    return (flip(cumsum(flip(g, axis), axis), axis),)
