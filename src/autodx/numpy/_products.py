"""Products: dot, outer (matmul is a primitive, in prims/linalg.py)."""

from __future__ import annotations

from .. import prims
from ..core import shape_of
from ..registry import export
from ._shapes import reshape


@export(method="dot")
def dot(x, y):
    """NumPy's dot for operands of up to two dimensions (scalars multiply)."""
    nx, ny = len(shape_of(x)), len(shape_of(y))
    if nx == 0 or ny == 0:
        return prims.mul(x, y)
    if nx > 2 or ny > 2:
        raise NotImplementedError("ad.numpy.dot of arrays with more than 2 dimensions is not "
                                  "supported (NumPy's rule differs from matmul's); use "
                                  "ad.numpy.matmul, or reshape to 2-D first")
    return prims.matmul(x, y)


@export
def outer(x, y):
    """The outer product of the flattened operands."""
    return prims.mul(reshape(x, (-1, 1)), reshape(y, (1, -1)))
