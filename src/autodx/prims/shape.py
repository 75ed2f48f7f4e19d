"""Shape primitives: reshape, broadcast_to, transpose, convert (dtype cast, and `copy`), and
stop_gradient.

All but stop_gradient are linear, so their JVP is the op applied to the tangent (derived by
the forward engine); stop_gradient is the identity marked `nondiff`, so it carries none.
Params are canonical: shapes and permutations are tuples of ints with no -1 or negative axis.
"""

from __future__ import annotations

import numpy as np

from ..core import Primitive, bind, dtype_of, shape_of

# ----------------------------------------------------------------------------- reshape

reshape_p = Primitive("reshape", lambda x, *, shape: np.reshape(x, shape), linear=True)


def reshape(x, shape: tuple):
    return bind(reshape_p, x, shape=shape)


@reshape_p.def_vjp
def _reshape_vjp(needs, g, out, x, *, shape):
    return (reshape(g, shape_of(x)),)


@reshape_p.def_batch
def _reshape_batch(axis_size, args, dims, *, shape):
    (x,), (d,) = args, dims
    return reshape(moveaxis(x, d, 0), (axis_size, *shape)), 0


# ----------------------------------------------------------------------------- broadcast_to

broadcast_to_p = Primitive("broadcast_to", lambda x, *, shape: np.broadcast_to(x, shape),
                           linear=True)


def broadcast_to(x, shape: tuple):
    return bind(broadcast_to_p, x, shape=shape)


@broadcast_to_p.def_vjp
def _broadcast_to_vjp(needs, g, out, x, *, shape):
    return (g,)  # the engine sums the cotangent back to x's shape


@broadcast_to_p.def_batch
def _broadcast_to_batch(axis_size, args, dims, *, shape):
    (x,), (d,) = args, dims
    x = moveaxis(x, d, 0)
    pad = len(shape) - (x.ndim - 1)  # align per-example dims to the right, after the batch axis
    x = reshape(x, (axis_size,) + (1,) * pad + tuple(x.shape[1:]))
    return broadcast_to(x, (axis_size, *shape)), 0


# ----------------------------------------------------------------------------- transpose

transpose_p = Primitive("transpose", lambda x, *, perm: np.transpose(x, perm), linear=True)


def transpose(x, perm: tuple):
    return bind(transpose_p, x, perm=perm)


@transpose_p.def_vjp
def _transpose_vjp(needs, g, out, x, *, perm):
    return (transpose(g, tuple(np.argsort(perm).tolist())),)


@transpose_p.def_batch
def _transpose_batch(axis_size, args, dims, *, perm):
    (x,), (d,) = args, dims
    return transpose(moveaxis(x, d, 0), (0, *(p + 1 for p in perm))), 0


def moveaxis(x, source: int, destination: int):
    """Move one axis, as np.moveaxis; both axes non-negative or negative."""
    ndim = len(shape_of(x))
    source, destination = source % ndim, destination % ndim
    if source == destination:
        return x
    perm = [i for i in range(ndim) if i != source]
    perm.insert(destination, source)
    return transpose(x, tuple(perm))


# ----------------------------------------------------------------------------- convert

def _convert_impl(x, *, dtype):
    # NOTE: complex -> real keeps the real part (quietly; NumPy's astype warns): that is also
    # the transpose of the real -> complex cast, which the engine relies on when it casts a
    # cotangent back to a real input's dtype.
    if dtype.kind != "c" and np.iscomplexobj(x):
        x = np.real(x)
    return x.astype(dtype) if hasattr(x, "astype") else np.asarray(x, dtype)


convert_p = Primitive("convert", _convert_impl, linear=True)


def convert(x, dtype):
    """Cast to `dtype` (a canonical np.dtype); a no-op when the dtype already matches.
    NOTE: a cast to an integer or boolean dtype carries no derivative (as in JAX)."""
    dtype = np.dtype(dtype)
    if dtype_of(x) == dtype:
        return x
    if dtype.kind not in "fc":
        return bind(convert_p, stop_gradient(x), dtype=dtype)
    return bind(convert_p, x, dtype=dtype)


@convert_p.def_vjp
def _convert_vjp(needs, g, out, x, *, dtype):
    return (g,)  # the engine casts the cotangent back to x's dtype


@convert_p.def_batch
def _convert_batch(axis_size, args, dims, *, dtype):
    return convert(args[0], dtype), dims[0]


def copy(x):
    """A new value equal to x: the cast to its own dtype, whose impl always copies."""
    return bind(convert_p, x, dtype=dtype_of(x))


# ----------------------------------------------------------------------------- stop_gradient

stop_gradient_p = Primitive("stop_gradient", lambda x: x, nondiff=True)  # identity


def stop_gradient(x):
    return bind(stop_gradient_p, x)


@stop_gradient_p.def_batch
def _stop_gradient_batch(axis_size, args, dims):
    return stop_gradient(args[0]), dims[0]
