"""Shape functions and indexing: reshape, transpose, concatenate, split, tile, pad, roll, ...,
`x[idx]`, take, and the functional updates `x.at[idx].set(v)` & co.

Each normalizes NumPy's flexible arguments (-1 in shapes, negative axes, sections, pad
widths, NumPy's indexing rules) and binds the canonical linear primitives of prims/shape.py
and prims/index.py, so every derivative of every order and every batching rule comes for
free. Gathers with a static pattern (pad's edge/reflect/wrap, roll, per-element repeat,
take_along_axis) are integer-array indexing, whose transpose adds up repeated entries.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np

from .. import prims
from ..core import Tracer, dtype_of, no_out, shape_of
from ..prims import index as _index
from ..registry import export, reexport
from ._axes import axes, ndim, new_shape, one_axis, size

# Functions of shapes and integer indices only: NumPy's own work on them as they are.
reexport("numpy", np, "broadcast_shapes ix_ indices ravel_multi_index unravel_index isscalar")


def _shape_args(args):
    """`x.reshape(2, 3)` and `x.reshape((2, 3))` alike."""
    return args[0] if len(args) == 1 and not isinstance(args[0], (int, np.integer)) else args


def as_array(x):
    """x itself if it is an array or a traced value; anything else (a list, maybe holding
    traced values) through ad.numpy.asarray, which stacks traced entries."""
    if isinstance(x, (Tracer, np.ndarray, np.generic)):
        return x
    from ._creation import asarray  # a call-time import: _creation builds on this module

    return asarray(x)


def arrays_of(arrays, name: str) -> list:
    """The sequence of arrays a joining function takes (an array counts as the sequence of
    its rows, as in NumPy), each as an array; a 0-d value has no rows to join."""
    if isinstance(arrays, (Tracer, np.ndarray, np.generic)) and not shape_of(arrays):
        raise TypeError(f"{name}(arrays): arrays must be a sequence (a list or tuple) of "
                        f"arrays, got one 0-d value. Pass [x, y, ...]; to give one array a new "
                        f"axis use expand_dims(x, 0) or x[None].")
    return [as_array(a) for a in arrays]


def _static_ints(value, name: str) -> np.ndarray:
    """Integer arguments (indices, repeats) read concretely, as they carry no derivative;
    booleans and floats are cast as NumPy's take and repeat cast them."""
    if isinstance(value, Tracer):
        value = _index.concrete_index(value)
    value = np.asarray(value)
    if value.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be integers, got dtype {value.dtype}")
    return value.astype(np.intp, copy=False)


# ----------------------------------------------------------------------------- reshaping

@export(method={"reshape": lambda self, *shape, **kw: reshape(self, _shape_args(shape), **kw),
                "view": lambda self, *shape: _view(self, _shape_args(shape))})
def reshape(a, /, shape=None, order: str = "C", *, copy=None):
    """Reshape to `shape` (one entry may be -1), in C order."""
    if order != "C":
        raise NotImplementedError("reshape(order=...) other than 'C' is not supported")
    if shape is None:
        raise TypeError("reshape() missing the required argument 'shape'")
    shape = new_shape(shape, size(a))
    out = a if shape_of(a) == shape else prims.reshape(a, shape)
    return np.array(out) if copy and not isinstance(out, Tracer) else out


def _view(x, shape):
    """PyTorch's `x.view(*shape)`: a reshape (autodx never shares storage it writes to)."""
    if isinstance(shape, (type, np.dtype, str)):
        raise TypeError("x.view(dtype) reinterprets memory and has no derivative; use "
                        "x.astype(dtype) to convert values")
    return reshape(x, shape)


@export(method=("ravel", "flatten"))
def ravel(a, order: str = "C"):
    """The elements as a 1-D array (C order)."""
    return reshape(a, (-1,), order)


@export(method="squeeze")
def squeeze(a, axis=None):
    """Remove length-1 axes (all of them, or those in `axis`)."""
    shape = shape_of(a)
    ax = [i for i, n in enumerate(shape) if n == 1] if axis is None else axes(axis, len(shape))
    for i in ax:
        if shape[i] != 1:
            raise ValueError(f"cannot select an axis to squeeze out which has size not equal "
                             f"to one (axis {i} has size {shape[i]})")
    return reshape(a, tuple(n for i, n in enumerate(shape) if i not in ax))


@export
def expand_dims(a, axis):
    """Insert length-1 axes at the positions `axis` (an int or a tuple) of the result."""
    a = as_array(a)
    shape = shape_of(a)
    ax = axes(axis, len(shape) + (len(axis) if isinstance(axis, (tuple, list)) else 1))
    rest = iter(shape)
    return reshape(a, tuple(1 if i in ax else next(rest) for i in range(len(shape) + len(ax))))


def _at_least(a, n: int):
    """`a` with NumPy's atleast_{n}d placement of the new axes."""
    a = as_array(a)
    shape = shape_of(a)
    if len(shape) >= n:
        return a
    if n == 3 and len(shape) == 2:
        return reshape(a, shape + (1,))
    padded = {0: (1,) * n, 1: (1,) + shape + (1,) * (n - 2)}[len(shape)]
    return reshape(a, padded)


def _each_at_least(arys, n: int):
    out = tuple(_at_least(a, n) for a in arys)
    return out[0] if len(out) == 1 else out


@export
def atleast_1d(*arys):
    """Each argument with at least one axis (a tuple for several arguments)."""
    return _each_at_least(arys, 1)


@export
def atleast_2d(*arys):
    """Each argument with at least two axes (1-D becomes a row)."""
    return _each_at_least(arys, 2)


@export
def atleast_3d(*arys):
    """Each argument with at least three axes ((n,) -> (1, n, 1), (m, n) -> (m, n, 1))."""
    return _each_at_least(arys, 3)


def _check_broadcast(shape: tuple, target: tuple) -> None:
    if len(shape) > len(target) or any(a not in (1, b) for a, b in zip(shape[::-1],
                                                                      target[::-1])):
        raise ValueError(f"operands could not be broadcast together with remapped shapes "
                         f"[original->remapped]: {shape} and requested shape {target}")


@export
def broadcast_to(array, shape, subok: bool = False):
    """`array` broadcast to `shape`, as NumPy's broadcasting would."""
    array = as_array(array)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if shape_of(array) == shape:
        return array
    _check_broadcast(shape_of(array), shape)
    return prims.broadcast_to(array, shape)


@export
def broadcast_arrays(*args, subok: bool = False) -> tuple:
    """The arguments broadcast against each other."""
    args = [as_array(a) for a in args]
    shape = np.broadcast_shapes(*[shape_of(a) for a in args])
    return tuple(broadcast_to(a, shape) for a in args)


# ----------------------------------------------------------------------------- permuting axes

@export(method={"transpose": lambda self, *axes: transpose(self, _shape_args(axes) if axes
                                                            else None),
                "permute": lambda self, *dims: transpose(self, _shape_args(dims)),
                "T": property(lambda self: transpose(self))})
def transpose(a, axes=None):
    """Permute the axes (reverse them by default)."""
    nd = ndim(a)
    perm = tuple(range(nd))[::-1] if axes is None else tuple(one_axis(i, nd) for i in axes)
    if len(perm) != nd:
        raise ValueError(f"axes don't match array: {len(perm)} axes given for an array of "
                         f"dimension {nd}")
    if len(set(perm)) != nd:
        raise ValueError(f"repeated axis in transpose: {tuple(axes)}")
    return a if perm == tuple(range(nd)) else prims.transpose(a, perm)


@export(method="swapaxes")
def swapaxes(a, axis1: int, axis2: int):
    """Exchange two axes."""
    nd = ndim(a)
    axis1, axis2 = one_axis(axis1, nd), one_axis(axis2, nd)
    perm = list(range(nd))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(a, perm)


def _axis_sequence(axis, nd: int, name: str) -> tuple:
    """NumPy's normalize_axis_tuple: an int or a sequence, order kept, no repeats."""
    out = tuple(one_axis(i, nd) for i in ((axis,) if isinstance(axis, (int, np.integer))
                                          else axis))
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in `{name}` argument")
    return out


@export
def moveaxis(a, source, destination):
    """Move axes (an int or a sequence each) to new positions, keeping the others in order."""
    nd = ndim(a)
    source = _axis_sequence(source, nd, "source")
    destination = _axis_sequence(destination, nd, "destination")
    if len(source) != len(destination):
        raise ValueError("`source` and `destination` arguments must have the same number of "
                         "elements")
    order = [i for i in range(nd) if i not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(a, order)


@export
def rollaxis(a, axis: int, start: int = 0):
    """Roll `axis` backwards until it lies before position `start` (prefer moveaxis)."""
    nd = ndim(a)
    axis = one_axis(axis, nd)
    if not -nd <= start <= nd:
        raise np.exceptions.AxisError(f"'start' arg requires {-nd} <= start < {nd + 1}, but "
                                      f"{start} was passed in")
    start = start + nd if start < 0 else start
    start = start - 1 if axis < start else start
    order = [i for i in range(nd) if i != axis]
    order.insert(start, axis)
    return transpose(a, order)


# ----------------------------------------------------------------------------- joining

def _cast_all(arrays: list, dtype, casting: str) -> list:
    if dtype is None:
        return arrays
    dtype = np.dtype(dtype)
    for a in arrays:
        if not np.can_cast(dtype_of(a), dtype, casting):
            raise TypeError(f"Cannot cast array data from {dtype_of(a)!r} to {dtype!r} "
                            f"according to the rule {casting!r}")
    return [prims.convert(a, dtype) for a in arrays]


@export
def concatenate(arrays: Sequence, /, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join arrays along an existing axis (axis=None: of the flattened arrays)."""
    no_out(out, "concatenate")
    arrays = arrays_of(arrays, "concatenate")
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    shapes = [shape_of(a) for a in arrays]
    nd = len(shapes[0])
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    axis = one_axis(axis, nd)
    for i, s in enumerate(shapes[1:], 1):
        if len(s) != nd:
            raise ValueError(f"all the input arrays must have same number of dimensions, but "
                             f"the array at index 0 has {nd} dimension(s) and the array at "
                             f"index {i} has {len(s)} dimension(s)")
        for d in range(nd):
            if d != axis and s[d] != shapes[0][d]:
                raise ValueError(f"all the input array dimensions except for the "
                                 f"concatenation axis must match exactly, but along dimension "
                                 f"{d}, the array at index 0 has size {shapes[0][d]} and the "
                                 f"array at index {i} has size {s[d]}")
    return prims.concatenate(_cast_all(arrays, dtype, casting), axis)


@export
def stack(arrays: Sequence, axis: int = 0, out=None, *, dtype=None, casting="same_kind"):
    """Join arrays of one shape along a new axis."""
    no_out(out, "stack")
    arrays = arrays_of(arrays, "stack")
    if not arrays:
        raise ValueError("need at least one array to stack")
    if len({shape_of(a) for a in arrays}) != 1:
        raise ValueError(f"all input arrays must have the same shape, got "
                         f"{[shape_of(a) for a in arrays]}")
    axis = one_axis(axis, ndim(arrays[0]) + 1)
    return prims.stack(_cast_all(arrays, dtype, casting), axis)


@export
def hstack(tup: Sequence, *, dtype=None, casting="same_kind"):
    """Join along the second axis (the first for 1-D arrays)."""
    arrays = [_at_least(a, 1) for a in arrays_of(tup, "hstack")]
    axis = 0 if arrays and ndim(arrays[0]) == 1 else 1
    return concatenate(arrays, axis, dtype=dtype, casting=casting)


@export
def vstack(tup: Sequence, *, dtype=None, casting="same_kind"):
    """Join along the first axis, 1-D arrays as rows."""
    return concatenate([_at_least(a, 2) for a in arrays_of(tup, "vstack")], 0, dtype=dtype,
                       casting=casting)


@export
def dstack(tup: Sequence):
    """Join along the third axis (after atleast_3d)."""
    return concatenate([_at_least(a, 3) for a in arrays_of(tup, "dstack")], 2)


@export
def column_stack(tup: Sequence):
    """Join 1-D arrays as columns (and 2-D arrays as they are) into a 2-D array."""
    arrays = arrays_of(tup, "column_stack")
    return concatenate([reshape(a, (-1, 1)) if ndim(a) < 2 else a for a in arrays], 1)


@export
def append(arr, values, axis=None):
    """`values` appended to `arr` along `axis` (both flattened when axis is None)."""
    arr = as_array(arr)
    if axis is None:
        arr, values, axis = ravel(arr), ravel(as_array(values)), 0
    return concatenate([arr, values], axis)


# ----------------------------------------------------------------------------- splitting

@export
def array_split(ary, indices_or_sections, axis: int = 0) -> list:
    """Split into sections (an int: as equal as possible) or at the given indices."""
    ary = as_array(ary)
    shape = shape_of(ary)
    axis = one_axis(axis, len(shape))
    n = shape[axis]
    if np.ndim(indices_or_sections) == 0:
        sections = operator.index(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        each, extras = divmod(n, sections)
        sizes = [0] + extras * [each + 1] + (sections - extras) * [each]
        points = np.cumsum(sizes).tolist()
    else:
        points = [0, *[operator.index(i) for i in indices_or_sections], n]
    head = (slice(None),) * axis
    return [getitem(ary, head + (slice(start, stop),))
            for start, stop in zip(points[:-1], points[1:])]


@export
def split(ary, indices_or_sections, axis: int = 0) -> list:
    """Split into equal sections (an int) or at the given indices."""
    if np.ndim(indices_or_sections) == 0:
        n = shape_of(ary)[one_axis(axis, ndim(ary))]
        if indices_or_sections > 0 and n % indices_or_sections:
            raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


def _split_min(name: str, ary, indices_or_sections, min_ndim: int, axis: int) -> list:
    if ndim(ary) < min_ndim:
        raise ValueError(f"{name} only works on arrays of {min_ndim} or more dimensions")
    return split(ary, indices_or_sections, axis)


@export
def hsplit(ary, indices_or_sections) -> list:
    """Split along the second axis (the first for 1-D arrays), as `split`."""
    return _split_min("hsplit", ary, indices_or_sections, 1, 1 if ndim(ary) > 1 else 0)


@export
def vsplit(ary, indices_or_sections) -> list:
    """Split along the first axis, as `split`."""
    return _split_min("vsplit", ary, indices_or_sections, 2, 0)


@export
def dsplit(ary, indices_or_sections) -> list:
    """Split along the third axis, as `split`."""
    return _split_min("dsplit", ary, indices_or_sections, 3, 2)


@export
def unstack(x, /, *, axis: int = 0) -> tuple:
    """The slices of x along `axis`, as a tuple (the inverse of `stack`)."""
    x = as_array(x)
    axis = one_axis(axis, ndim(x))
    return tuple(getitem(x, (slice(None),) * axis + (i,)) for i in range(shape_of(x)[axis]))


# ----------------------------------------------------------------------------- repeating

@export
def tile(A, reps):
    """`A` repeated `reps` times along each axis: a broadcast between interleaved axes."""
    reps = tuple(operator.index(r) for r in (reps if np.ndim(reps) else (reps,)))
    if any(r < 0 for r in reps):
        raise ValueError(f"negative dimensions are not allowed: reps={reps}")
    A = as_array(A)
    shape = shape_of(A)
    shape = (1,) * (len(reps) - len(shape)) + shape
    reps = (1,) * (len(shape) - len(reps)) + reps
    spread = reshape(A, sum(((1, n) for n in shape), ()))
    spread = broadcast_to(spread, sum(((r, n) for r, n in zip(reps, shape)), ()))
    return reshape(spread, tuple(r * n for r, n in zip(reps, shape)))


@export(method="repeat")
def repeat(a, repeats, axis=None):
    """Repeat each element `repeats` times (an int, or one count per element) along `axis`
    (of the flattened array by default).
    NOTE: as a method this is NumPy's `x.repeat`; PyTorch's `Tensor.repeat` is `np.tile`."""
    a = as_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    shape = shape_of(a)
    axis = one_axis(axis, len(shape))
    n = shape[axis]
    counts = _static_ints(repeats, "repeats")
    if (counts < 0).any():
        raise ValueError("repeats may not contain negative values.")
    if counts.size == 1:  # a broadcast between the axis and a new one after it
        r = int(counts.reshape(()))
        spread = reshape(a, shape[:axis + 1] + (1,) + shape[axis + 1:])
        spread = broadcast_to(spread, shape[:axis + 1] + (r,) + shape[axis + 1:])
        return reshape(spread, shape[:axis] + (n * r,) + shape[axis + 1:])
    if counts.shape != (n,):
        raise ValueError(f"operands could not be broadcast together with shape ({n},) "
                         f"{counts.shape}")
    return take(a, np.repeat(np.arange(n), counts), axis)


# ----------------------------------------------------------------------------- reordering

@export(method={"flip": lambda self, *dims: flip(self, _shape_args(dims) if dims else None)})
def flip(m, axis=None):
    """Reverse the order of elements along `axis` (None: every axis; an int or a tuple)."""
    nd = ndim(m)
    ax = axes(axis, nd)
    return getitem(m, tuple(slice(None, None, -1) if i in ax else slice(None) for i in range(nd)))


@export
def fliplr(m):
    """Reverse the columns (axis 1)."""
    if ndim(m) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


@export
def flipud(m):
    """Reverse the rows (axis 0)."""
    if ndim(m) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


@export
def rot90(m, k: int = 1, axes=(0, 1)):
    """Rotate by 90 degrees `k` times in the plane of `axes`, from the first towards the
    second."""
    m, axes = as_array(m), tuple(axes)
    nd = ndim(m)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == nd:
        raise ValueError("Axes must be different.")
    if not all(-nd <= a < nd for a in axes):
        raise ValueError(f"Axes={axes} out of range for array of ndim={nd}.")
    k = operator.index(k) % 4
    if k == 0:
        return m
    if k == 2:
        return flip(m, axes)
    perm = list(range(nd))
    perm[axes[0]], perm[axes[1]] = perm[axes[1]], perm[axes[0]]
    return transpose(flip(m, axes[1]), perm) if k == 1 else flip(transpose(m, perm), axes[1])


@export
def roll(a, shift, axis=None):
    """Shift elements cyclically by `shift` along `axis` (ints or tuples that broadcast;
    None: the flattened array, reshaped back)."""
    a = as_array(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), shape_of(a))
    shape = shape_of(a)
    pairs = np.broadcast(np.asarray(shift), np.asarray(axis))
    if pairs.nd > 1:
        raise ValueError("'shift' and 'axis' should be scalars or 1D sequences")
    total = [0] * len(shape)
    for s, ax in pairs:
        total[one_axis(int(ax), len(shape))] += int(s)
    for ax, (s, n) in enumerate(zip(total, shape)):
        if n and s % n:
            a = take(a, (np.arange(n) - s) % n, ax)
    return a


# ----------------------------------------------------------------------------- pad

_PAD_KWARGS = {"constant": {"constant_values"}, "empty": set(), "edge": set(), "wrap": set(),
               "reflect": {"reflect_type"}, "symmetric": {"reflect_type"}}
_PAD_UNSUPPORTED = {"linear_ramp", "maximum", "mean", "median", "minimum"}


def _pairs(values, nd: int) -> list:
    """NumPy's broadcasting of a pad argument to one (before, after) pair per axis."""
    v = as_array(values)
    shape = shape_of(v)
    if size(v) == 1:
        v = reshape(v, ())
        return [(v, v)] * nd
    if size(v) == 2 and shape != (2, 1):
        v = reshape(v, (2,))
        return [(v[0], v[1])] * nd
    v = broadcast_to(v, (nd, 2))
    return [(v[i, 0], v[i, 1]) for i in range(nd)]


def _pad_widths(pad_width, nd: int) -> list:
    if isinstance(pad_width, dict):
        seq = [(0, 0)] * nd
        for ax, w in pad_width.items():
            seq[one_axis(ax, nd)] = (w, w) if isinstance(w, int) else tuple(w)
        pad_width = seq
    widths = np.asarray(pad_width)
    if widths.dtype.kind != "i":
        raise TypeError("`pad_width` must be of integral type.")
    if widths.size and widths.min() < 0:
        raise ValueError("index can't contain negative values")
    return [(int(b), int(e)) for b, e in _pairs(widths, nd)]


def _block(value, shape: tuple, like):
    """A pad block filled with `value`, cast to like's dtype as np.pad does."""
    if isinstance(value, Tracer):
        return prims.broadcast_to(prims.convert(value, dtype_of(like)), shape)
    return np.full(shape, value, dtype_of(like))


def _pad_constant(x, widths: list, values: list):
    """Blocks of constants joined on, axis by axis, as NumPy: later axes fill the corners."""
    for axis, ((before, after), (v_before, v_after)) in enumerate(zip(widths, values)):
        s = shape_of(x)
        parts = [_block(v_before, s[:axis] + (before,) + s[axis + 1:], x)] if before else []
        parts.append(x)
        if after:
            parts.append(_block(v_after, s[:axis] + (after,) + s[axis + 1:], x))
        x = prims.concatenate(parts, axis) if len(parts) > 1 else x
    return x


@export
def pad(array, pad_width, mode="constant", **kwargs):
    """Pad with constants (`constant_values`, which may be traced), or with the array's own
    values ('edge', 'reflect', 'symmetric', 'wrap'); `pad_width` in every NumPy form.
    NOTE: mode='empty' pads with zeros (NumPy leaves the values undefined)."""
    x = as_array(array)
    shape = shape_of(x)
    widths = _pad_widths(pad_width, len(shape))
    if callable(mode) or mode in _PAD_UNSUPPORTED:
        raise NotImplementedError(f"pad(mode={mode!r}) is not supported; the supported modes "
                                  f"are {sorted(_PAD_KWARGS)}")
    if mode not in _PAD_KWARGS:
        raise ValueError(f"mode '{mode}' is not supported")
    if set(kwargs) - _PAD_KWARGS[mode]:
        raise ValueError(f"unsupported keyword arguments for mode '{mode}': "
                         f"{set(kwargs) - _PAD_KWARGS[mode]}")
    if kwargs.get("reflect_type", "even") != "even":
        raise NotImplementedError("pad(reflect_type='odd') is not supported")
    if mode in ("constant", "empty"):
        return _pad_constant(x, widths, _pairs(kwargs.get("constant_values", 0), len(shape)))
    for axis, (before, after) in enumerate(widths):
        if before or after:
            if shape[axis] == 0:
                raise ValueError(f"can't extend empty axis {axis} using modes other than "
                                 f"'constant' or 'empty'")
            x = take(x, np.pad(np.arange(shape[axis]), (before, after), mode), axis)
    return x


# ----------------------------------------------------------------------------- grids

@export
def meshgrid(*xi, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> tuple:
    """Coordinate arrays from coordinate vectors ('xy': Cartesian, 'ij': matrix indexing)."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    nd = len(xi)
    ones = (1,) * nd
    out = [reshape(as_array(x), ones[:i] + (-1,) + ones[i + 1:]) for i, x in enumerate(xi)]
    if indexing == "xy" and nd > 1:
        out[0] = reshape(out[0], (1, -1) + ones[2:])
        out[1] = reshape(out[1], (-1, 1) + ones[2:])
    if not sparse:
        out = broadcast_arrays(*out)
    return tuple(np.array(o) if copy and not isinstance(o, Tracer) else o for o in out)


# ----------------------------------------------------------------------------- indexing

def getitem(x, index):
    """`x[index]` with NumPy's whole indexing: ints, slices, ..., None, integer arrays,
    boolean masks (0-d and partial ones too), and their mixtures."""
    x = as_array(x)
    shape = shape_of(x)
    indexed, index = _index.resolve_index(index, shape)
    return prims.getitem(x if indexed == shape else prims.reshape(x, indexed), index)


@export(method={"take": lambda self, indices, axis=None, out=None, mode="raise": take(
    self, indices, axis, out, mode)})
def take(a, indices, axis=None, out=None, mode: str = "raise"):
    """Elements at `indices` along `axis` (of the flattened array by default); mode 'raise'
    checks the indices, 'wrap' and 'clip' bring them into range."""
    no_out(out, "take")
    a = as_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = one_axis(axis, ndim(a))
    indices = index_mode(_static_ints(indices, "indices"), shape_of(a)[axis], mode)
    return getitem(a, (slice(None),) * axis + (indices,))


def index_mode(indices: np.ndarray, n: int, mode: str) -> np.ndarray:
    """NumPy's `mode=` of take and choose: indices into n items wrapped, clipped, or (for
    "raise") left for the caller to check."""
    if mode == "wrap":
        return indices % n
    if mode == "clip":
        return np.clip(indices, 0, n - 1)
    if mode != "raise":
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    return indices


@export
def take_along_axis(arr, indices, axis=-1):
    """`arr` indexed along `axis` by `indices` of the same rank (broadcast on the others), as
    the indices argsort and argmax(keepdims=True) return."""
    arr = as_array(arr)
    indices = indices.concrete() if isinstance(indices, Tracer) else np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise IndexError("`indices` must be an integer array")
    if axis is None:
        if indices.ndim != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        arr, axis = ravel(arr), 0
    shape = shape_of(arr)
    axis = one_axis(axis, len(shape))
    if indices.ndim != len(shape):
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    ones = (1,) * len(shape)
    return getitem(arr, tuple(indices if d == axis else
                              np.arange(n).reshape(ones[:d] + (-1,) + ones[d + 1:])
                              for d, n in enumerate(shape)))


@export(method={"compress": lambda self, condition, axis=None, out=None: compress(
    condition, self, axis, out)})
def compress(condition, a, axis=None, out=None):
    """The slices of `a` along `axis` where the 1-D `condition` holds."""
    no_out(out, "compress")
    condition = np.asarray(condition)
    if condition.ndim != 1:
        raise ValueError("condition must be a 1-d array")
    return take(a, np.flatnonzero(condition), axis)


@export
def extract(condition, arr):
    """The elements of `arr` where `condition` is nonzero, flattened."""
    return take(ravel(as_array(arr)), np.flatnonzero(np.asarray(condition)))


# ----------------------------------------------------------------------------- .at[]

class IndexUpdateRef:
    """`x.at`: JAX's functional updates, which return a new value and leave x as it is.
    `x.at[idx].set(v)` is x with x[idx] = v; `.add`, `.multiply`, `.min`, `.max` combine
    v with x[idx] instead; `.get()` is x[idx]. Each is differentiable in x and in v."""

    __slots__ = ("x",)

    def __init__(self, x):
        self.x = x

    def __getitem__(self, idx) -> IndexUpdate:
        return IndexUpdate(self.x, idx)

    def __repr__(self) -> str:
        return f"IndexUpdateRef({self.x!r})"


class IndexUpdate:
    """`x.at[idx]`. NOTE on indices that name an element twice: `set` keeps the last value
    written there (NumPy's rule; the others get no gradient), `add` and `multiply` combine
    all of them, and `min`/`max` take the extremum of all of them."""

    __slots__ = ("x", "idx")

    def __init__(self, x, idx):
        self.x, self.idx = as_array(x), idx

    def get(self):
        return getitem(self.x, self.idx)

    def set(self, values):  # noqa: A003 - JAX's name
        return _index.scatter_set(self.x, values, self.idx)

    def add(self, values):
        return _index.scatter_add(self.x, values, self.idx)

    def multiply(self, values):
        return _index.update(self.x, values, self.idx, _multiply)

    def min(self, values):  # noqa: A003 - JAX's name
        return _index.update(self.x, values, self.idx, _extremum(prims.minimum))

    def max(self, values):  # noqa: A003 - JAX's name
        return _index.update(self.x, values, self.idx, _extremum(prims.maximum))


def _multiply(x, v, index):
    shape = shape_of(x)
    for sub, part in _index.update_groups(v, index, shape):
        placed = prims.scatter(part, index=sub, shape=shape)
        x = prims.mul(x, prims.where(_index.index_mask(shape, sub), placed, 1))
    return x


def _extremum(pick):
    """The min/max update. NOTE: at ties, the gradient is split evenly between x and every
    value tied with the result (the sub-gradient of smallest norm, as PyTorch's amax and
    scatter_reduce; for one value and x that is maximum's 0.5 each)."""
    def update(x, v, index):
        shape = shape_of(x)
        groups = list(_index.update_groups(v, index, shape))
        best = prims.stop_gradient(x)
        for sub, part in groups:
            placed = prims.scatter(prims.stop_gradient(part), index=sub, shape=shape)
            best = prims.where(_index.index_mask(shape, sub), pick(best, placed), best)
        if dtype_of(x).kind not in "fc":
            return best
        tied = prims.equal(x, best)
        count, excess = prims.convert(tied, dtype_of(x)), prims.where(tied, x - best, 0)
        for sub, part in groups:
            at_best = prims.getitem(best, sub)
            tied = prims.equal(part, at_best)
            count = count + prims.scatter(prims.convert(tied, dtype_of(x)), index=sub,
                                          shape=shape)
            excess = excess + prims.scatter(prims.where(tied, part - at_best, 0), index=sub,
                                            shape=shape)
        return best + excess / count  # the value is `best`; the derivative the even split

    return update


export(getitem, method={"__getitem__": getitem, "at": property(IndexUpdateRef)})


@export(method="astype")
def astype(x, dtype):
    """`x` cast to `dtype`; a cast to an integer or bool dtype carries no derivative."""
    return prims.convert(x, dtype)
