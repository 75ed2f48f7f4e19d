"""Sorting and selection. Integer-valued and data-dependent results carry no derivative:
`argmax`, `argmin`, `argsort`, `argpartition`, `searchsorted`, `argwhere`, `unique`.
`permute` (take along an axis by a permutation) is how `sort` and `partition` get their
derivatives: it is linear in x, and its transpose is `permute` by the inverse permutation.

Params are canonical: `axis` a non-negative int, `kth` one or a sorted tuple of them.
"""

from __future__ import annotations

import numpy as np

from ..core import BatchingError, Primitive, bind, concrete, shape_of
from .elementwise import equal, less, less_equal, not_equal, where
from .reduce import batch_moving_axis, sum
from .shape import broadcast_to, moveaxis, reshape


def _nondiff(name: str, impl) -> Primitive:
    """A one-input, integer-valued primitive with an `axis` param."""
    prim = Primitive(name, impl, nondiff=True)
    prim.batch = batch_moving_axis(prim)
    return prim


def _leading(x, d, axis_size: int):
    """x with its batch axis first; an unbatched x broadcast to the batch."""
    return broadcast_to(x, (axis_size, *shape_of(x))) if d is None else moveaxis(x, d, 0)


# ----------------------------------------------------------------------------- argmax, argmin

argmax_p = _nondiff("argmax", lambda x, *, axis, keepdims: np.argmax(x, axis, keepdims=keepdims))
argmin_p = _nondiff("argmin", lambda x, *, axis, keepdims: np.argmin(x, axis, keepdims=keepdims))


def argmax(x, axis: int, keepdims: bool = False):
    return bind(argmax_p, x, axis=axis, keepdims=keepdims)


def argmin(x, axis: int, keepdims: bool = False):
    return bind(argmin_p, x, axis=axis, keepdims=keepdims)


# ----------------------------------------------------------------------------- argsort, ...

argsort_p = _nondiff("argsort", lambda x, *, axis, kind: np.argsort(x, axis, kind=kind))
argpartition_p = _nondiff("argpartition",
                          lambda x, *, kth, axis: np.argpartition(x, kth, axis=axis))


def argsort(x, axis: int, kind: str | None = None):
    return bind(argsort_p, x, axis=axis, kind=kind)


def argpartition(x, kth: int | tuple, axis: int):
    return bind(argpartition_p, x, kth=kth, axis=axis)


# ----------------------------------------------------------------------------- permute

permute_p = Primitive("permute", lambda x, perm, *, axis: np.take_along_axis(x, perm, axis),
                      reads_inputs=lambda needs: (False, True))


def permute(x, perm, axis: int):
    """x taken along `axis` at `perm`, a permutation of range(n) along that axis (argsort's)."""
    return bind(permute_p, x, perm, axis=axis)


@permute_p.def_jvp
def _permute_jvp(primals, tangents, *, axis):
    (x, perm), (t, _) = primals, tangents
    return permute(x, perm, axis), permute(t, perm, axis)


@permute_p.def_vjp
def _permute_vjp(needs, g, out, x, perm, *, axis):
    # NOTE: the cotangent goes back through the inverse permutation, so at ties (sort) it
    # follows the order the permutation chose: the stable sort's, as PyTorch.
    return permute(g, argsort(perm, axis, "stable"), axis), None


@permute_p.def_batch
def _permute_batch(axis_size, args, dims, *, axis):
    (x, perm), (dx, dp) = args, dims
    return permute(_leading(x, dx, axis_size), _leading(perm, dp, axis_size), axis + 1), 0


# ----------------------------------------------------------------------------- searchsorted

searchsorted_p = Primitive("searchsorted", lambda a, v, *, side: np.searchsorted(a, v, side),
                           nondiff=True)


def searchsorted(a, v, side: str = "left"):
    return bind(searchsorted_p, a, v, side=side)


@searchsorted_p.def_batch
def _searchsorted_batch(axis_size, args, dims, *, side):
    (a, v), (da, dv) = args, dims
    if da is None:  # one sorted array: NumPy searches for every batched value at once
        return searchsorted(a, v, side), dv
    # One sorted array per example: count the elements that sort before each value, in
    # NumPy's order (NaN after everything), with comparisons.
    a, v = moveaxis(a, da, 0), _leading(v, dv, axis_size)
    v_shape = shape_of(v)
    a = reshape(a, (axis_size,) + (1,) * (len(v_shape) - 1) + shape_of(a)[1:])
    v = reshape(v, (*v_shape, 1))
    v_is_nan = not_equal(v, v)
    if side == "left":
        before = where(v_is_nan, equal(a, a), less(a, v))
    else:
        before = where(v_is_nan, True, less_equal(a, v))
    return sum(before, (len(v_shape),)), 0


# ----------------------------------------------------------------------------- argwhere

argwhere_p = Primitive("argwhere", np.argwhere, nondiff=True)


def argwhere(x):
    return bind(argwhere_p, x)


@argwhere_p.def_batch
def _argwhere_batch(axis_size, args, dims):
    # NOTE: the result's length depends on the values, so a batch stacks only when every
    # example has the same number of nonzero elements; otherwise it is a BatchingError.
    (x,), (d,) = args, dims
    found = np.argwhere(np.moveaxis(concrete(x), d, 0))
    counts = np.bincount(found[:, 0], minlength=axis_size)
    if len(set(counts.tolist())) > 1:
        raise BatchingError(
            f"nonzero/argwhere under vmap needs the same number of nonzero elements in every "
            f"example (the result's shape depends on it); got {counts.tolist()}. Use "
            f"ad.numpy.where(x != 0, ...) for a fixed-shape result instead.")
    count = int(counts[0]) if axis_size else 0
    return found[:, 1:].reshape(axis_size, count, found.shape[1] - 1), 0


# ----------------------------------------------------------------------------- unique

def _unique_impl(x, *, part, axis, equal_nan, sorted):  # noqa: A002 - NumPy's name
    flags = {f"return_{p}": p == part for p in ("index", "inverse", "counts")}
    found = np.unique(x, axis=axis, equal_nan=equal_nan, sorted=sorted, **flags)
    return found if part == "values" else found[1]


unique_p = Primitive("unique", _unique_impl, nondiff=True)


def unique(x, part: str, axis: int | None, equal_nan: bool, sorted: bool):  # noqa: A002
    """One part of np.unique: "values", "index", "inverse" or "counts"."""
    # NOTE: no part carries a derivative, the values included (torch.unique has none either).
    return bind(unique_p, x, part=part, axis=axis, equal_nan=equal_nan, sorted=sorted)


@unique_p.def_batch
def _unique_batch(axis_size, args, dims, **params):
    # NOTE: data-dependent shapes: each example on its own, stacked when the shapes agree.
    (x,), (d,) = args, dims
    found = [_unique_impl(e, **params) for e in np.moveaxis(concrete(x), d, 0)]
    if len({f.shape for f in found}) > 1:
        raise BatchingError(
            f"unique under vmap needs results of the same shape in every example (it depends "
            f"on the values); got shapes {[f.shape for f in found]}.")
    return np.stack(found), 0
