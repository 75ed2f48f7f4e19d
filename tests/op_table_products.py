"""Op-table rows for the products part of the NumPy surface (see op_spec.py): einsum and the
contractions and matrix-structure functions built on it."""

from __future__ import annotations

import numpy as np

import autodx as ad
from op_spec import OpSpec

anp = ad.numpy


# NOTE: positive inputs by default: sums of products then have no cancellation, so forward
# values agree with NumPy's to a few ulps whatever the summation order (BLAS or NumPy's loops).
def _einsum(name: str, subscripts: str, *shapes, **kw) -> OpSpec:
    return OpSpec(f"einsum {name} {subscripts!r}", lambda *xs: anp.einsum(subscripts, *xs),
                  lambda *xs: np.einsum(subscripts, *xs), shapes,
                  kw.pop("domains", ("positive",) * len(shapes)), **kw)


def _pair(name: str, fn, ref, a: tuple, b: tuple, **kw) -> OpSpec:
    return OpSpec(name, fn, ref, (a, b), kw.pop("domains", ("positive",) * 2), **kw)


def _one(name: str, fn, ref, shape: tuple, **kw) -> OpSpec:
    return OpSpec(name, fn, ref, (shape,), **kw)


W = np.array([[1.0, -2.0], [0.5, 3.0], [0.25, 1.5]])


OPS: list[OpSpec] = [
    # ---- einsum
    _einsum("matmul", "ij,jk->ik", (2, 3), (3, 4), complex=True),
    _einsum("batched", "...ij,...jk", (2, 1, 3, 2), (4, 2, 3), complex=True),
    _einsum("outer", "i,j->ij", (3,), (4,)),
    _einsum("trace", "ii", (3, 3), complex=True),
    _einsum("diagonal", "ii->i", (3, 3)),
    _einsum("sum", "ij->", (2, 3)),
    _einsum("transpose", "ij->ji", (2, 3)),
    _einsum("three operands", "ij,jk,kl->il", (2, 3), (3, 4), (4, 2), complex=True),
    _einsum("implicit output", "kj,ji", (2, 3), (3, 4)),
    _einsum("broadcast", "...i,i->...", (2, 3, 4), (4,)),
    _einsum("diagonal times matrix, summed label", "iij,jk->ik", (2, 2, 3), (3, 4)),
    _einsum("length-1 axis broadcasts", "ij,jk->ijk", (2, 1), (3, 4)),
    OpSpec("einsum interleaved, optimize=True",
           lambda x, y, z: anp.einsum(x, [0, 1], y, [1, 2], z, [2, 0], [0], optimize=True),
           lambda x, y, z: np.einsum(x, [0, 1], y, [1, 2], z, [2, 0], [0]),
           ((2, 3), (3, 4), (4, 2)), ("positive",) * 3),
    # ---- tensordot, dot, vdot, inner, outer, kron
    _pair("tensordot axes=2", anp.tensordot, np.tensordot, (2, 3, 4), (3, 4, 2), complex=True),
    _pair("tensordot axes pairs", lambda a, b: anp.tensordot(a, b, axes=([0, 2], [1, 0])),
          lambda a, b: np.tensordot(a, b, axes=([0, 2], [1, 0])), (2, 3, 4), (4, 2, 3)),
    _pair("tensordot axes=0", lambda a, b: anp.tensordot(a, b, 0),
          lambda a, b: np.tensordot(a, b, 0), (2,), (3,)),
    _pair("dot N-D", anp.dot, np.dot, (2, 3, 4), (3, 4, 2), complex=True),
    _pair("dot N-D with a vector", anp.dot, np.dot, (2, 3, 4), (4,)),
    _pair("dot scalar", anp.dot, np.dot, (), (2, 3)),
    _one("x.dot(W)", lambda x: x.dot(W), lambda x: x.dot(W), (3,), domains=("positive",)),
    _pair("vdot", anp.vdot, np.vdot, (2, 3), (3, 2)),
    _pair("inner", anp.inner, np.inner, (2, 3), (4, 3), complex=True),
    _pair("inner 1-D", anp.inner, np.inner, (3,), (3,)),
    _pair("outer 2-D", anp.outer, np.outer, (2, 2), (3,)),
    _pair("kron", anp.kron, np.kron, (2, 3), (2, 2), complex=True),
    _pair("kron of different ranks", anp.kron, np.kron, (3,), (2, 2)),
    # ---- cross
    _pair("cross", anp.cross, np.cross, (4, 3), (4, 3)),
    _pair("cross broadcast, axisa/axisb/axisc",
          lambda a, b: anp.cross(a, b, axisa=0, axisb=-1, axisc=0),
          lambda a, b: np.cross(a, b, axisa=0, axisb=-1, axisc=0), (3, 2), (3,)),
    # ---- diagonals
    _one("trace", anp.trace, np.trace, (3, 3), complex=True),
    _one("trace offset axes", lambda x: anp.trace(x, 1, 2, 0), lambda x: np.trace(x, 1, 2, 0),
         (3, 2, 4)),
    _one("x.trace()", lambda x: x.trace(), np.trace, (3, 4)),
    _one("diagonal", anp.diagonal, np.diagonal, (3, 4)),
    _one("diagonal offset -1 axes (2, 0)", lambda x: anp.diagonal(x, -1, 2, 0),
         lambda x: np.diagonal(x, -1, 2, 0), (3, 2, 4)),
    _one("x.diagonal(1)", lambda x: x.diagonal(1), lambda x: np.diagonal(x, 1), (3, 3)),
    _one("diag of a vector", anp.diag, np.diag, (3,)),
    _one("diag of a vector, k=-2", lambda v: anp.diag(v, -2), lambda v: np.diag(v, -2), (3,)),
    _one("diag of a matrix, k=1", lambda x: anp.diag(x, 1), lambda x: np.diag(x, 1), (3, 4)),
    _one("diagflat k=1", lambda v: anp.diagflat(v, 1), lambda v: np.diagflat(v, 1), (2, 2)),
    _one("triu", anp.triu, np.triu, (3, 4)),
    _one("triu k=1 stacked", lambda x: anp.triu(x, 1), lambda x: np.triu(x, 1), (2, 3, 4)),
    _one("tril k=-1", lambda x: anp.tril(x, -1), lambda x: np.tril(x, -1), (4, 3)),
]
