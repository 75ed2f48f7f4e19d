"""Linear algebra primitives: `matmul` (1-D, 2-D and batched, with NumPy's broadcasting)."""

from __future__ import annotations

import numpy as np

from ..core import Primitive, bind, shape_of
from ..registry import export
from .elementwise import add, mul
from .index import SliceSpec, getitem
from .shape import moveaxis, reshape, transpose

matmul_p = Primitive("matmul", np.matmul)


@export
def matmul(x, y):
    """Matrix product with NumPy's rules for 1-D operands and broadcast batch axes."""
    return bind(matmul_p, x, y)


matmul.prim = matmul_p


def _swap_last(x):
    nd = len(shape_of(x))
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _expand(x, axis: int):
    shape = shape_of(x)
    axis = axis % (len(shape) + 1)
    return reshape(x, shape[:axis] + (1,) + shape[axis:])


def _squeeze_last(x):
    return getitem(x, (Ellipsis, 0))


@matmul_p.def_jvp
def _matmul_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    out = matmul(x, y)
    terms = [matmul(tx, y)] if tx is not None else []
    terms += [matmul(x, ty)] if ty is not None else []
    return out, terms[0] if len(terms) == 1 else add(*terms)


@matmul_p.def_vjp
def _matmul_vjp(needs, g, out, x, y):
    # Promote 1-D operands to matrices as NumPy does, use gx = g y^T and gy = x^T g, and let the
    # engine sum any broadcast batch axes away.
    x_1d, y_1d = len(shape_of(x)) == 1, len(shape_of(y)) == 1
    if x_1d and y_1d:
        return (mul(g, y) if needs[0] else None, mul(g, x) if needs[1] else None)
    x2 = _expand(x, 0) if x_1d else x
    y2 = _expand(y, -1) if y_1d else y
    g2 = _expand(g, -2) if x_1d else g
    g2 = _expand(g2, -1) if y_1d else g2
    gx = gy = None
    if needs[0]:
        gx = matmul(g2, _swap_last(y2))
        gx = getitem(gx, (Ellipsis, 0, SliceSpec(None, None, None))) if x_1d else gx
    if needs[1]:
        gy = matmul(_swap_last(x2), g2)
        gy = _squeeze_last(gy) if y_1d else gy
    return gx, gy


@matmul_p.def_batch
def _matmul_batch(axis_size, args, dims):
    (x, y), (dx, dy) = args, dims
    # Batch as a leading broadcast axis; a 1-D operand is first made a matrix so the batch axis
    # cannot be mistaken for a matrix axis.
    x_1d = len(shape_of(x)) - (dx is not None) == 1  # per-example rank
    y_1d = len(shape_of(y)) - (dy is not None) == 1
    fast = _batch_against_matrix(axis_size, x, dx, y, dy, x_1d, y_1d)
    if fast is not None:
        return fast
    if dx is not None:
        x = moveaxis(x, dx, 0)
    if dy is not None:
        y = moveaxis(y, dy, 0)
    x = _expand(x, -2) if x_1d else x
    y = _expand(y, -1) if y_1d else y
    out = matmul(_lead(x, dx, y, dy), _lead(y, dy, x, dx))
    out = getitem(out, (Ellipsis, 0, SliceSpec(None, None, None))) if x_1d else out
    out = _squeeze_last(out) if y_1d else out
    return out, 0


def _batch_against_matrix(axis_size, x, dx, y, dy, x_1d, y_1d):
    """PERF: a batch of vectors or matrices times one unbatched matrix is a single matrix
    product (one GEMM), not a batch of small ones. None when the case does not apply."""
    if (dx is None) == (dy is None):
        return None
    if dy is None and len(shape_of(y)) == 2:
        x = moveaxis(x, dx, 0)
        if x_1d:  # (B, n) @ (n, k)
            return matmul(x, y), 0
        b, m, n = shape_of(x) if len(shape_of(x)) == 3 else (None,) * 3
        if b is not None:  # (B*m, n) @ (n, k)
            return reshape(matmul(reshape(x, (b * m, n)), y), (b, m, shape_of(y)[1])), 0
    if dx is None and len(shape_of(x)) == 2:
        y = moveaxis(y, dy, 0)
        if y_1d:  # (m, n) @ (n,) for each of B vectors: (B, n) @ (n, m)
            return matmul(y, _swap_last(x)), 0
        b, n, k = shape_of(y) if len(shape_of(y)) == 3 else (None,) * 3
        if b is not None:  # (m, n) @ (n, B*k), batch axis 1 of the result
            flat = reshape(transpose(y, (1, 0, 2)), (n, b * k))
            return reshape(matmul(x, flat), (shape_of(x)[0], b, k)), 1
    return None


def _lead(a, da, b, db):
    """Give the batched operand's leading batch axis room to broadcast against the other."""
    if da is None:
        return a
    rank_a, rank_b = len(shape_of(a)) - 1, len(shape_of(b)) - (db is not None)
    pad = max(rank_b - rank_a, 0)
    shape = shape_of(a)
    return reshape(a, shape[:1] + (1,) * pad + shape[1:]) if pad else a
