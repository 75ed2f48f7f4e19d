"""Op-table rows for the shape part of the NumPy surface (see op_spec.py): shape functions,
joining and splitting, repeating and reordering, pad, indexing, take & co., the functional
updates `x.at[idx]`, and creation functions used inside differentiated code.

Functions that return several arrays (split, meshgrid, broadcast_arrays) are checked through
a weighted concatenation of the pieces, so that a piece swapped with another shows up.
`.at` rows go through `IndexUpdateRef`, the class behind `x.at`, because the forward check
calls the row on plain NumPy arrays (which have no `.at`)."""

from __future__ import annotations

import numpy as np

import autodx as ad
from autodx.numpy._shapes import IndexUpdateRef as At
from op_spec import OpSpec
from op_spec import binary_op as _binary
from op_spec import unary_op as _unary

anp = ad.numpy

MASK_34 = np.array([[True, False, True, False], [False, False, True, True],
                    [True, True, False, True]])
REPEATED = np.array([2, 0, 2, 2])  # an index that names element 2 three times
ORDER = np.array([[2, 0, 1, 1], [0, 0, 2, 1], [1, 2, 0, 2]])  # take_along_axis on axis 0


def _between(rng, shape):
    """Distinct values that are never within 0.1 of a "distinct" draw (no ties with it)."""
    return rng.permutation(np.linspace(-2.0, 2.0, 12)[:int(np.prod(shape))] + 0.18).reshape(
        shape)


def _weighted(m):
    """Concatenate pieces, each flattened and scaled by its position (1, 2, 3, ...)."""
    return lambda pieces: m.concatenate([m.ravel(p) * (i + 1.0) for i, p in enumerate(pieces)])


_ad_pieces, _np_pieces = _weighted(anp), _weighted(np)


def _pieces(name, fn, ref, shape=(3, 4), **kw):
    return _unary(name, lambda x: _ad_pieces(fn(x)), lambda x: _np_pieces(ref(x)), shape=shape,
                  **kw)


def _updated(ufunc_at):
    """NumPy's reference for x.at[idx].<op>(v): a copy updated with the ufunc's `at`."""
    def ref(idx):
        def apply(x, v):
            y = x.copy()
            ufunc_at(y, idx, v)
            return y
        return apply
    return ref


def _set_at(y, idx, v):
    y[idx] = v  # NumPy's assignment: the last write wins


SET, ADD = _updated(_set_at), _updated(np.add.at)
MUL, MIN, MAX = _updated(np.multiply.at), _updated(np.minimum.at), _updated(np.maximum.at)


def _at_row(name, method, ref, idx, shapes, **kw):
    return OpSpec(name, lambda x, v: getattr(At(x)[idx], method)(v), ref(idx), shapes, **kw)


OPS: list[OpSpec] = [
    # ---- reshaping and permuting
    _unary("reshape method (3, -1)", lambda x: x.reshape(3, -1), lambda x: x.reshape(3, -1),
           shape=(2, 3, 2), complex=True),
    _unary("flatten method", lambda x: x.flatten(), lambda x: x.flatten(), shape=(2, 3, 2)),
    _unary("squeeze axis tuple (1, -1)", lambda x: anp.squeeze(x, axis=(1, -1)),
           lambda x: np.squeeze(x, axis=(1, -1)), shape=(3, 1, 4, 1)),
    _unary("squeeze method axis 0", lambda x: x.squeeze(0), lambda x: x.squeeze(0),
           shape=(1, 3)),
    _unary("expand_dims tuple axis (0, -1)", lambda x: anp.expand_dims(x, (0, -1)),
           lambda x: np.expand_dims(x, (0, -1))),
    _unary("atleast_1d of a 0-d", anp.atleast_1d, np.atleast_1d, shape=()),
    _binary("atleast_2d of two arrays", lambda x, y: anp.concatenate(anp.atleast_2d(x, y)),
            lambda x, y: np.concatenate(np.atleast_2d(x, y)), ((4,), (2, 4))),
    _unary("atleast_3d of 1-D", anp.atleast_3d, np.atleast_3d, shape=(4,)),
    _unary("atleast_3d of 2-D", anp.atleast_3d, np.atleast_3d),
    _binary("broadcast_arrays", lambda x, y: anp.stack(anp.broadcast_arrays(x, y)),
            lambda x, y: np.stack(np.broadcast_arrays(x, y)), ((3, 1), (4,))),
    _unary("transpose negative axes", lambda x: anp.transpose(x, (-1, 0, 1)),
           lambda x: np.transpose(x, (-1, 0, 1)), shape=(2, 3, 4)),
    _unary("swapaxes method", lambda x: x.swapaxes(0, 2), lambda x: x.swapaxes(0, 2),
           shape=(2, 3, 4)),
    _unary("moveaxis tuples", lambda x: anp.moveaxis(x, (0, -1), (-1, 1)),
           lambda x: np.moveaxis(x, (0, -1), (-1, 1)), shape=(2, 3, 4)),
    _unary("rollaxis 2 to 0", lambda x: anp.rollaxis(x, 2), lambda x: np.rollaxis(x, 2),
           shape=(2, 3, 4)),
    _unary("rollaxis 0 to the end", lambda x: anp.rollaxis(x, 0, 3),
           lambda x: np.rollaxis(x, 0, 3), shape=(2, 3, 4)),
    # ---- joining
    _binary("concatenate axis None", lambda x, y: anp.concatenate([x, y], axis=None),
            lambda x, y: np.concatenate([x, y], axis=None), ((2, 3), (4,)), complex=True),
    _binary("concatenate axis -1 dtype float64",
            lambda x, y: anp.concatenate((x, y), axis=-1, dtype=np.float64),
            lambda x, y: np.concatenate((x, y), axis=-1, dtype=np.float64), ((3, 2), (3, 4))),
    _binary("stack axis 1", lambda x, y: anp.stack([x, y, x], axis=1),
            lambda x, y: np.stack([x, y, x], axis=1)),
    _binary("hstack 1-D", lambda x, y: anp.hstack([x, y]), lambda x, y: np.hstack([x, y]),
            ((3,), (4,))),
    _binary("hstack 2-D", lambda x, y: anp.hstack((x, y)), lambda x, y: np.hstack((x, y)),
            ((3, 2), (3, 4))),
    _binary("vstack 1-D and 2-D", lambda x, y: anp.vstack([x, y]),
            lambda x, y: np.vstack([x, y]), ((4,), (2, 4))),
    _binary("dstack", lambda x, y: anp.dstack([x, y]), lambda x, y: np.dstack([x, y]),
            ((3, 4), (3, 4, 2))),
    _binary("column_stack 1-D and 2-D", lambda x, y: anp.column_stack([x, y]),
            lambda x, y: np.column_stack([x, y]), ((3,), (3, 2))),
    _binary("append axis None", anp.append, np.append, ((2, 3), (4,))),
    _binary("append axis 0", lambda x, y: anp.append(x, y, axis=0),
            lambda x, y: np.append(x, y, axis=0), ((2, 3), (1, 3))),
    _pieces("unstack axis 1", lambda x: anp.unstack(x, axis=1),
            lambda x: np.unstack(x, axis=1)),
    # ---- splitting
    _pieces("split into 2 along axis 1", lambda x: anp.split(x, 2, axis=1),
            lambda x: np.split(x, 2, axis=1)),
    _pieces("split at indices [1, -1]", lambda x: anp.split(x, [1, -1], axis=-1),
            lambda x: np.split(x, [1, -1], axis=-1)),
    _pieces("array_split into 3 (uneven)", lambda x: anp.array_split(x, 3, axis=1),
            lambda x: np.array_split(x, 3, axis=1)),
    _pieces("hsplit", lambda x: anp.hsplit(x, [3]), lambda x: np.hsplit(x, [3])),
    _pieces("vsplit", lambda x: anp.vsplit(x, 3), lambda x: np.vsplit(x, 3)),
    _pieces("dsplit", lambda x: anp.dsplit(x, [1, 3]), lambda x: np.dsplit(x, [1, 3]),
            shape=(2, 3, 4)),
    # ---- repeating
    _unary("tile reps (2, 1, 3)", lambda x: anp.tile(x, (2, 1, 3)),
           lambda x: np.tile(x, (2, 1, 3)), complex=True),
    _unary("tile reps 2 (fewer than ndim)", lambda x: anp.tile(x, 2), lambda x: np.tile(x, 2),
           shape=(2, 3)),
    _unary("repeat 2 axis None", lambda x: anp.repeat(x, 2), lambda x: np.repeat(x, 2)),
    _unary("repeat per element along axis 1", lambda x: anp.repeat(x, [1, 0, 2, 3], axis=1),
           lambda x: np.repeat(x, [1, 0, 2, 3], axis=1)),
    _unary("repeat method axis -2", lambda x: x.repeat(3, axis=-2),
           lambda x: x.repeat(3, axis=-2)),
    # ---- reordering
    _unary("flip axis None", anp.flip, np.flip, shape=(2, 3, 4), complex=True),
    _unary("flip axes (0, -1)", lambda x: anp.flip(x, (0, -1)), lambda x: np.flip(x, (0, -1)),
           shape=(2, 3, 4)),
    _unary("fliplr", anp.fliplr, np.fliplr),
    _unary("flipud", anp.flipud, np.flipud),
    _unary("rot90", anp.rot90, np.rot90),
    _unary("rot90 k=2", lambda x: anp.rot90(x, 2), lambda x: np.rot90(x, 2)),
    _unary("rot90 k=-1 axes (1, 2)", lambda x: anp.rot90(x, -1, axes=(1, 2)),
           lambda x: np.rot90(x, -1, axes=(1, 2)), shape=(2, 3, 4)),
    _unary("roll axis None", lambda x: anp.roll(x, 5), lambda x: np.roll(x, 5), complex=True),
    _unary("roll tuple shifts and axes", lambda x: anp.roll(x, (1, -2), axis=(0, 1)),
           lambda x: np.roll(x, (1, -2), axis=(0, 1))),
    _unary("roll one axis twice", lambda x: anp.roll(x, (1, 2), axis=(-1, -1)),
           lambda x: np.roll(x, (1, 2), axis=(-1, -1))),
    # ---- pad
    _unary("pad constant values per axis and side",
           lambda x: anp.pad(x, ((1, 2), (0, 1)), constant_values=((1.0, 2.0), (3.0, 4.0))),
           lambda x: np.pad(x, ((1, 2), (0, 1)), constant_values=((1.0, 2.0), (3.0, 4.0)))),
    _binary("pad constant traced value", lambda x, c: anp.pad(x, 1, constant_values=c),
            lambda x, c: np.pad(x, 1, constant_values=c), ((3, 4), ())),
    _unary("pad edge (2,)", lambda x: anp.pad(x, (2,), mode="edge"),
           lambda x: np.pad(x, (2,), mode="edge")),
    _unary("pad reflect wider than the axis",
           lambda x: anp.pad(x, ((4, 1), (2, 5)), mode="reflect"),
           lambda x: np.pad(x, ((4, 1), (2, 5)), mode="reflect")),
    _unary("pad symmetric (1, 3)", lambda x: anp.pad(x, (1, 3), mode="symmetric"),
           lambda x: np.pad(x, (1, 3), mode="symmetric")),
    _unary("pad wrap dict width", lambda x: anp.pad(x, {1: (5, 2)}, mode="wrap"),
           lambda x: np.pad(x, {1: (5, 2)}, mode="wrap")),
    # ---- grids
    _binary("meshgrid xy", lambda x, y: anp.stack(anp.meshgrid(x, y)),
            lambda x, y: np.stack(np.meshgrid(x, y)), ((3,), (4,))),
    OpSpec("meshgrid ij sparse, three vectors",
           lambda x, y, z: _ad_pieces(anp.meshgrid(x, y, z, indexing="ij", sparse=True)),
           lambda x, y, z: _np_pieces(np.meshgrid(x, y, z, indexing="ij", sparse=True)),
           ((3,), (2,), (4,))),
    # ---- indexing
    _unary("x[::-1, 1::2] (negative step)", lambda x: x[::-1, 1::2],
           lambda x: x[::-1, 1::2]),
    _unary("x[[-1, 2, 0]] (negative and positive name one row)",
           lambda x: x[[-1, 2, 0]], lambda x: x[[-1, 2, 0]]),
    _unary("x[..., [0, 0, 3]] (repeated, after ellipsis)", lambda x: x[..., [0, 0, 3]],
           lambda x: x[..., [0, 0, 3]], shape=(2, 3, 4)),
    _unary("x[True] (0-d mask)", lambda x: x[True], lambda x: x[True]),
    _unary("x[[0, 2], True] (0-d mask next to an array)", lambda x: x[[0, 2], True],
           lambda x: x[[0, 2], True]),
    _unary("x[mask] partial mask of a 3-D array", lambda x: x[MASK_34],
           lambda x: x[MASK_34], shape=(3, 4, 2)),
    _unary("x[1:, mask[0]] slice and 1-D mask", lambda x: x[1:, MASK_34[0]],
           lambda x: x[1:, MASK_34[0]]),
    _unary("x[:, [[0, 1], [2, 0]], 1] (2-D array and int together)",
           lambda x: x[:, [[0, 1], [2, 0]], 1], lambda x: x[:, [[0, 1], [2, 0]], 1],
           shape=(2, 3, 4)),
    _unary("x[[0, 1], :, [[1], [2]]] (split, broadcast arrays)",
           lambda x: x[[0, 1], :, [[1], [2]]], lambda x: x[[0, 1], :, [[1], [2]]],
           shape=(2, 3, 4)),
    _unary("x[[0, 1], None, [1, 3]] (None splits the arrays)",
           lambda x: x[[0, 1], None, [1, 3]], lambda x: x[[0, 1], None, [1, 3]]),
    _unary("x[1, None, ..., [0, -1]] (int, None, ellipsis, array)",
           lambda x: x[1, None, ..., [0, -1]], lambda x: x[1, None, ..., [0, -1]],
           shape=(2, 3, 4)),
    _unary("take axis None", lambda x: anp.take(x, [5, 0, 5]), lambda x: np.take(x, [5, 0, 5])),
    _unary("take 2-D indices axis -1", lambda x: anp.take(x, [[0, 3], [3, 3]], axis=-1),
           lambda x: np.take(x, [[0, 3], [3, 3]], axis=-1), complex=True),
    _unary("take mode wrap", lambda x: anp.take(x, [-5, 4, 7], axis=0, mode="wrap"),
           lambda x: np.take(x, [-5, 4, 7], axis=0, mode="wrap")),
    _unary("take method mode clip", lambda x: x.take([-1, 9], axis=1, mode="clip"),
           lambda x: x.take([-1, 9], axis=1, mode="clip")),
    _unary("take_along_axis axis 0 (repeats)", lambda x: anp.take_along_axis(x, ORDER, 0),
           lambda x: np.take_along_axis(x, ORDER, 0)),
    _unary("take_along_axis broadcast indices",
           lambda x: anp.take_along_axis(x, np.array([[3, 0]]), axis=-1),
           lambda x: np.take_along_axis(x, np.array([[3, 0]]), axis=-1)),
    _unary("take_along_axis axis None", lambda x: anp.take_along_axis(x, REPEATED, None),
           lambda x: np.take_along_axis(x, REPEATED, None)),
    _unary("compress axis 0", lambda x: anp.compress([True, False, True], x, axis=0),
           lambda x: np.compress([True, False, True], x, axis=0)),
    _unary("compress method flat, short condition", lambda x: x.compress([0, 1, 1]),
           lambda x: x.compress([0, 1, 1])),
    _unary("extract", lambda x: anp.extract(MASK_34, x), lambda x: np.extract(MASK_34, x)),
    # ---- functional updates x.at[idx]
    _at_row(".at[1:, ::2].set", "set", SET, (slice(1, None), slice(None, None, 2)),
            ((3, 4), (2, 2)), complex=True),
    _at_row(".at[:, repeated].set (last write wins)", "set", SET, (slice(None), REPEATED),
            ((3, 4), (3, 4))),
    _at_row(".at[mask].set broadcast scalar", "set", SET, MASK_34, ((3, 4), ())),
    _at_row(".at[True, 1].set (0-d mask)", "set", SET, (True, 1), ((3, 4), (1, 4))),
    _at_row(".at[repeated, 1].add", "add", ADD, (REPEATED, 1), ((3, 4), (4,))),
    _at_row(".at[[[0], [2]], [1, 1, 3]].add broadcast", "add", ADD,
            (np.array([[0], [2]]), np.array([1, 1, 3])), ((3, 4), (1, 3))),
    _at_row(".at[repeated].multiply", "multiply", MUL, REPEATED, ((3, 4), (4, 1))),
    _at_row(".at[:, repeated].min", "min", MIN, (slice(None), REPEATED), ((3, 4), (3, 4)),
            domains=("distinct", _between)),
    _at_row(".at[..., repeated].max", "max", MAX, (Ellipsis, REPEATED), ((3, 4), (4,)),
            domains=("distinct", _between)),
    _unary(".at[1, [0, 2]].get", lambda x: At(x)[1, [0, 2]].get(), lambda x: x[1, [0, 2]]),
    # ---- creation inside differentiated code
    _binary("asarray of a list of traced values", lambda x, y: anp.asarray([x, 2.0 * y, x]),
            lambda x, y: np.asarray([x, 2.0 * y, x]), ((3,), (3,))),
    _binary("array nested list, ndmin=3", lambda x, y: anp.array([[x, y], [y, x]], ndmin=3),
            lambda x, y: np.array([[x, y], [y, x]], ndmin=3), ((), ())),
    _unary("array dtype float64", lambda x: anp.array(x, dtype=np.float64),
           lambda x: np.array(x, dtype=np.float64)),
    _unary("asanyarray", anp.asanyarray, np.asanyarray),
    _unary("ascontiguousarray", anp.ascontiguousarray, np.ascontiguousarray),
    _unary("copy", anp.copy, np.copy, complex=True),
    _unary("copy method", lambda x: x.copy(), lambda x: x.copy()),
    _unary("full traced fill", lambda c: anp.full((2, 3), c), lambda c: np.full((2, 3), c),
           shape=()),
    _binary("x * full_like(x, traced fill)", lambda x, c: x * anp.full_like(x, c),
            lambda x, c: x * np.full_like(x, c), ((3, 4), ())),
    _unary("x + full_like(x, 2) + empty_like(x)",
           lambda x: x + anp.full_like(x, 2) + anp.empty_like(x),
           lambda x: x + np.full_like(x, 2) + np.zeros_like(x)),
    _unary("x * empty((3, 4), x.dtype)", lambda x: x * anp.empty((3, 4), x.dtype),
           lambda x: x * np.zeros((3, 4), x.dtype)),
    _unary("x * arange(4)", lambda x: x * anp.arange(4), lambda x: x * np.arange(4)),
    _binary("linspace traced start and stop", lambda a, b: anp.linspace(a, b, 5),
            lambda a, b: np.linspace(a, b, 5), ((), ())),
    _binary("linspace arrays, endpoint=False, axis=-1",
            lambda a, b: anp.linspace(a, b, 4, endpoint=False, axis=-1),
            lambda a, b: np.linspace(a, b, 4, endpoint=False, axis=-1), ((3,), (2, 1))),
    _binary("linspace retstep", lambda a, b: (lambda y, s: y * s)(
        *anp.linspace(a, b, 4, retstep=True)),
        lambda a, b: (lambda y, s: y * s)(*np.linspace(a, b, 4, retstep=True)), ((), ())),
    _binary("logspace base 2", lambda a, b: anp.logspace(a, b, 4, base=2.0),
            lambda a, b: np.logspace(a, b, 4, base=2.0), ((), ())),
    OpSpec("logspace array base", lambda a, b, base: anp.logspace(a, b, 3, base=base),
           lambda a, b, base: np.logspace(a, b, 3, base=base), ((), (), (2,)),
           ("real", "real", "positive")),
    _binary("geomspace", lambda a, b: anp.geomspace(a, b, 5), lambda a, b: np.geomspace(a, b, 5),
            ((), ()), domains=("positive", "positive")),
]
