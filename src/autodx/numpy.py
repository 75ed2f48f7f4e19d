"""NumPy-compatible front end: `ad.numpy` functions that work on arrays, Tensors and tracers.

Each function normalizes NumPy's flexible signature (axis=None, negative axes, -1 in shapes)
and binds canonical primitives, or composes them (composites get their derivatives for free).
`ARRAY_METHODS` is the one table of operators and methods; it is installed here on `Tracer`
and by tensor.py on `Tensor`. `UFUNCS`/`FUNCTIONS` route plain NumPy calls on traced values
(`np.sin(t)`, `np.sum(t)`) here; anything else raises instead of dropping the derivative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from . import prims
from .core import Tracer, UnsupportedNumpyFunctionError, dtype_of, shape_of
from .prims import (
    abs,
    add,
    cos,
    equal,
    exp,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    matmul,
    maximum,
    minimum,
    not_equal,
    sign,
    sin,
    sqrt,
    tan,
    tanh,
    where,
)

absolute = abs
subtract = prims.sub
multiply = prims.mul
divide = true_divide = prims.div
negative = prims.neg
power = prims.pow


def positive(x):
    return multiply(x, 1)  # a new value, as np.positive, so in-place changes do not alias


def square(x):
    return multiply(x, x)


def reciprocal(x):
    return divide(1.0, x)


# ----------------------------------------------------------------------------- axes and shapes

def _axes(axis, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(f"axis {a} is out of bounds for an array of "
                                          f"dimension {ndim}")
        out.append(int(a) % ndim)
    return tuple(sorted(out))


def _axis(axis: int, ndim: int) -> int:
    """One axis, checked and made non-negative, as NumPy does."""
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for an array of "
                                      f"dimension {ndim}")
    return int(axis) % ndim


def _shape(shape, size: int) -> tuple:
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


def _size(x) -> int:
    return math.prod(shape_of(x))


# ----------------------------------------------------------------------------- reductions

def sum(x, axis=None, keepdims: bool = False):  # noqa: A001 - the NumPy name
    axes = _axes(axis, len(shape_of(x)))
    return prims.sum(x, axes, bool(keepdims)) if axes else x


def mean(x, axis=None, keepdims: bool = False):
    shape = shape_of(x)
    count = math.prod([shape[a] for a in _axes(axis, len(shape))])
    return divide(sum(x, axis, keepdims), count)


# ----------------------------------------------------------------------------- shape

def reshape(x, shape):
    shape = _shape(shape, _size(x))
    return x if shape_of(x) == shape else prims.reshape(x, shape)


def ravel(x):
    return reshape(x, (-1,))


def broadcast_to(x, shape):
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    return x if shape_of(x) == shape else prims.broadcast_to(x, shape)


def transpose(x, axes=None):
    ndim = len(shape_of(x))
    perm = tuple(range(ndim))[::-1] if axes is None else tuple(_axis(a, ndim) for a in axes)
    if sorted(perm) != list(range(ndim)):
        raise ValueError(f"axes {axes} are not a permutation of the {ndim} axes")
    return x if perm == tuple(range(ndim)) else prims.transpose(x, perm)


def swapaxes(x, axis1: int, axis2: int):
    ndim = len(shape_of(x))
    axis1, axis2 = _axis(axis1, ndim), _axis(axis2, ndim)
    perm = list(range(ndim))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(x, perm)


def moveaxis(x, source: int, destination: int):
    ndim = len(shape_of(x))
    return prims.moveaxis(x, _axis(source, ndim), _axis(destination, ndim))


def expand_dims(x, axis: int):
    shape = shape_of(x)
    axis = _axis(axis, len(shape) + 1)
    return reshape(x, shape[:axis] + (1,) + shape[axis:])


def squeeze(x, axis=None):
    shape = shape_of(x)
    axes = [i for i, n in enumerate(shape) if n == 1] if axis is None else _axes(axis, len(shape))
    return reshape(x, tuple(n for i, n in enumerate(shape) if i not in axes))


def concatenate(arrays: Sequence, axis: int = 0):
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    ndim = len(shape_of(arrays[0]))
    return prims.concatenate(arrays, _axes(axis, ndim)[0]) if len(arrays) > 1 else arrays[0]


def stack(arrays: Sequence, axis: int = 0):
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to stack")
    return prims.stack(arrays, _axis(axis, len(shape_of(arrays[0])) + 1))


def dot(x, y):
    nx, ny = len(shape_of(x)), len(shape_of(y))
    if nx == 0 or ny == 0:
        return multiply(x, y)
    if nx > 2 or ny > 2:
        raise NotImplementedError("ad.numpy.dot of arrays with more than 2 dimensions is not "
                                  "supported (NumPy's rule differs from matmul's); use "
                                  "ad.numpy.matmul, or reshape to 2-D first")
    return matmul(x, y)


def outer(x, y):
    return multiply(reshape(x, (-1, 1)), reshape(y, (1, -1)))


def zeros_like(x, dtype=None):
    return np.zeros(shape_of(x), dtype or dtype_of(x))


def ones_like(x, dtype=None):
    return np.ones(shape_of(x), dtype or dtype_of(x))


def astype(x, dtype):
    return prims.convert(x, dtype)


def getitem(x, index):
    return prims.getitem(x, prims.canonical_index(index))


# ----------------------------------------------------------------------------- NumPy dispatch

UFUNCS = {
    np.add: add, np.subtract: subtract, np.multiply: multiply, np.divide: divide,
    np.negative: negative, np.positive: positive, np.power: power, np.exp: exp, np.log: log,
    np.sin: sin, np.cos: cos, np.tan: tan, np.tanh: tanh, np.sqrt: sqrt, np.absolute: abs,
    np.sign: sign, np.maximum: maximum, np.minimum: minimum, np.square: square,
    np.reciprocal: reciprocal, np.equal: equal, np.not_equal: not_equal, np.less: less,
    np.less_equal: less_equal, np.greater: greater, np.greater_equal: greater_equal,
    np.matmul: matmul,
}

FUNCTIONS = {
    np.sum: sum, np.mean: mean, np.reshape: reshape, np.ravel: ravel,
    np.broadcast_to: broadcast_to, np.transpose: transpose, np.swapaxes: swapaxes,
    np.moveaxis: moveaxis, np.expand_dims: expand_dims, np.squeeze: squeeze,
    np.concatenate: concatenate, np.stack: stack, np.dot: dot, np.outer: outer,
    np.where: where, np.zeros_like: zeros_like, np.ones_like: ones_like,
    np.shape: shape_of, np.ndim: lambda x: len(shape_of(x)), np.size: _size,
}


def _unsupported(name: str):
    return UnsupportedNumpyFunctionError(
        f"NumPy's {name} was called on a value autodx is differentiating, and autodx has no "
        f"rule for it; running it would silently drop the derivative. Use a function from "
        f"ad.numpy (supported: {', '.join(sorted(f.__name__ for f in UFUNCS))}, ...), write it "
        f"with those, or convert explicitly with .detach() / ad.stop_gradient if you want a "
        f"constant.")


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    fn = UFUNCS.get(ufunc)
    if method != "__call__" or fn is None or kwargs:
        raise _unsupported(f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
                           + (f" with {sorted(kwargs)}" if kwargs else ""))
    return fn(*inputs)


def array_function(self, func, types, args, kwargs):
    fn = FUNCTIONS.get(func)
    if fn is None:
        raise _unsupported(f"np.{func.__name__}")
    return fn(*args, **kwargs)


# ----------------------------------------------------------------------------- array methods

def _reduce_method(fn):
    # NumPy's (axis, keepdims) and PyTorch's (dim, keepdim) spellings both work.
    def method(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return fn(self, axis if dim is None else dim, keepdims if keepdim is None else keepdim)
    method.__name__ = fn.__name__
    return method


def _shape_args(args):
    return args[0] if len(args) == 1 and not isinstance(args[0], (int, np.integer)) else args


def _swap(fn):
    return lambda self, other: fn(other, self)


ARRAY_METHODS = {
    "__add__": add, "__radd__": _swap(add),
    "__sub__": subtract, "__rsub__": _swap(subtract),
    "__mul__": multiply, "__rmul__": _swap(multiply),
    "__truediv__": divide, "__rtruediv__": _swap(divide),
    "__pow__": power, "__rpow__": _swap(power),
    "__matmul__": matmul, "__rmatmul__": _swap(matmul),
    "__neg__": negative, "__pos__": positive, "__abs__": abs,
    "__lt__": less, "__le__": less_equal, "__gt__": greater, "__ge__": greater_equal,
    "__eq__": equal, "__ne__": not_equal,
    "__getitem__": getitem,
    "__array_ufunc__": array_ufunc, "__array_function__": array_function,
    "sum": _reduce_method(sum), "mean": _reduce_method(mean),
    "reshape": lambda self, *shape: reshape(self, _shape_args(shape)),
    "transpose": lambda self, *axes: transpose(self, _shape_args(axes) if axes else None),
    "T": property(transpose),
    "ravel": ravel, "flatten": ravel, "squeeze": squeeze, "swapaxes": swapaxes,
    "dot": dot, "astype": astype, "pow": power,
    "exp": exp, "log": log, "sin": sin, "cos": cos, "tan": tan, "tanh": tanh, "sqrt": sqrt,
    "abs": abs,
}


def _no_item_assignment(self, index, value):
    raise TypeError(
        "values traced by grad/jvp/vjp/vmap are immutable, so x[i] = v cannot be recorded. "
        "Build the new value instead, e.g. ad.numpy.where(mask, v, x), or concatenate pieces.")


ARRAY_METHODS["__setitem__"] = _no_item_assignment


def install_array_methods(cls: type) -> None:
    """Install the table on `cls`, keeping whatever the class itself defines."""
    for name, method in ARRAY_METHODS.items():
        if name not in cls.__dict__:
            setattr(cls, name, method)


install_array_methods(Tracer)
