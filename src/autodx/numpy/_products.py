"""Products and matrix structure: einsum, tensordot, dot, vdot, inner, outer, kron, cross,
trace, diagonal, diag, diagflat, triu, tril (matmul is a primitive, in prims/linalg.py).

Every contraction goes through one primitive, `einsum` (prims/contract.py): NumPy's subscripts
are parsed once per (subscripts, shapes) into its canonical spec, and the rest are composites
of it and of the shape, indexing and elementwise ops, so their derivatives come for free."""

from __future__ import annotations

import functools
import operator
import string
import warnings

import numpy as np

from .. import prims
from ..core import dtype_of, shape_of
from ..prims.contract import contract, spec_subscripts
from ..prims.elementwise import conj
from ..registry import export
from ._axes import one_axis
from ._reductions import no_out
from ._reductions import sum as _sum
from ._shapes import moveaxis, ravel, reshape

# ----------------------------------------------------------------------------- einsum parsing

_ELLIPSIS = "..."
# NumPy's interleaved form numbers labels 0-51: 'A'-'Z', then 'a'-'z' (so the implicit
# output's alphabetical order is numerical order)
_SUBLIST_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _sublist(labels, what: str) -> str:
    """One sublist of the interleaved form as subscripts."""
    out = []
    for label in labels:
        if label is Ellipsis:
            out.append(_ELLIPSIS)
        elif isinstance(label, (int, np.integer)) and 0 <= label < len(_SUBLIST_LETTERS):
            out.append(_SUBLIST_LETTERS[label])
        else:
            raise ValueError(f"einsum: {what} has the label {label!r}; in the interleaved form "
                             "labels are integers in [0, 52) or Ellipsis")
    return "".join(out)


def _einsum_operands(subscripts, operands: tuple) -> tuple[str, list]:
    """(subscripts, operands) from either calling form: einsum('ij,jk->ik', a, b) or the
    interleaved einsum(a, [0, 1], b, [1, 2], [0, 2])."""
    if isinstance(subscripts, str):
        return subscripts, list(operands)
    args = [subscripts, *operands]
    output = _sublist(args.pop(), "the output sublist") if len(args) % 2 else None
    arrays, sublists = args[0::2], args[1::2]
    terms = [_sublist(s, f"the sublist of operand {k}") for k, s in enumerate(sublists)]
    return ",".join(terms) + ("" if output is None else "->" + output), arrays


def _tokens(term: str, where: str) -> list[str]:
    """The letters of one term, with '...' as a single token."""
    if term.count(".") != 3 * term.count(_ELLIPSIS) or term.count(_ELLIPSIS) > 1:
        raise ValueError(f"einsum: {where} has a '.' that is not part of one ellipsis '...'")
    tokens = []
    for piece in term.split(_ELLIPSIS):
        for c in piece:
            if c not in string.ascii_letters:
                raise ValueError(f"einsum: invalid subscript {c!r} in {where}; subscripts "
                                 "must be letters")
            tokens.append(c)
        tokens.append(_ELLIPSIS)
    return tokens[:-1]


def _input_labels(tokens: list, shape: tuple, k: int, width: int) -> list:
    """The operand's label per axis: its letters, and for '...' the ints of the broadcast
    axes it covers (right-aligned among `width` of them)."""
    letters = len(tokens) - (_ELLIPSIS in tokens)
    covered = len(shape) - letters
    if covered < 0 or (covered and _ELLIPSIS not in tokens):
        raise ValueError(f"einsum: operand {k} has {len(shape)} dimensions (shape {shape}) but "
                         f"its subscripts name {letters}" + ("" if covered < 0 else
                                                             "; add '...' to broadcast"))
    out = []
    for t in tokens:
        out.extend(range(width - covered, width) if t == _ELLIPSIS else [t])
    return out


def _output_labels(output: str | None, inputs: list, width: int) -> list:
    letters = [x for lab in inputs for x in lab if isinstance(x, str)]
    if output is None:  # implicit: broadcast axes, then the letters used once, in order
        return list(range(width)) + sorted(c for c in set(letters) if letters.count(c) == 1)
    tokens = _tokens(output, "the output")
    for c in tokens:
        if c != _ELLIPSIS and c not in letters:
            raise ValueError(f"einsum: the output subscript {c!r} appears in no input")
        if tokens.count(c) > 1:
            raise ValueError(f"einsum: the output subscript {c!r} appears more than once")
    if _ELLIPSIS not in tokens and any(isinstance(x, int) for lab in inputs for x in lab):
        raise ValueError("einsum: the inputs' '...' covers some dimensions but the output has "
                         "no '...' to put them in")
    out = []
    for t in tokens:
        out.extend(range(width) if t == _ELLIPSIS else [t])
    return out


def _check_sizes(inputs: list, shapes: tuple) -> None:
    """Repeated labels of one operand must agree; across operands they broadcast."""
    sizes: dict = {}
    for k, (lab, shape) in enumerate(zip(inputs, shapes)):
        mine: dict = {}
        for x, n in zip(lab, shape):
            if mine.setdefault(x, n) != n:
                raise ValueError(f"einsum: operand {k} (shape {shape}) repeats the label {x!r} "
                                 f"on axes of different lengths ({mine[x]} != {n})")
        for x, n in mine.items():
            seen = sizes.setdefault(x, (n, k))
            if n != seen[0] and 1 not in (n, seen[0]):
                name = f"{x!r}" if isinstance(x, str) else "under '...'"
                raise ValueError(f"einsum: the label {name} has length {seen[0]} in operand "
                                 f"{seen[1]} and {n} in operand {k}; they must agree or be 1")
            if seen[0] == 1:
                sizes[x] = (n, k)


@functools.lru_cache(maxsize=1024)
def _parse(subscripts: str, shapes: tuple) -> tuple:
    """NumPy's subscripts on operands of `shapes` as the einsum primitive's canonical spec:
    int labels numbered in order of first appearance."""
    s = subscripts.replace(" ", "")
    inputs, arrow, output = s.partition("->")
    if not arrow and ("-" in s or ">" in s) or "-" in output or ">" in output:
        raise ValueError(f"einsum: the subscripts {subscripts!r} have a '-' or '>' that is not "
                         "one '->' before the output")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: the subscripts {subscripts!r} are for {len(terms)} operands "
                         f"but {len(shapes)} were given")
    tokens = [_tokens(t, f"operand {k}'s subscripts") for k, t in enumerate(terms)]
    width = max([len(shape) - len(t) + 1 for t, shape in zip(tokens, shapes)
                 if _ELLIPSIS in t], default=0)
    labels = [_input_labels(t, shape, k, width) for k, (t, shape)
              in enumerate(zip(tokens, shapes))]
    out = _output_labels(output if arrow else None, labels, width)
    _check_sizes(labels, shapes)
    ids: dict = {}
    for x in (x for lab in labels for x in lab):
        ids.setdefault(x, len(ids))
    return tuple(tuple(ids[x] for x in lab) for lab in labels), tuple(ids[x] for x in out)


def _path(spec: tuple, shapes: tuple, optimize):
    """The pairwise contraction order: None (left to right) for optimize=False, else
    np.einsum_path's for the strategy (True is 'greedy'), or the path given."""
    if optimize is False or len(shapes) < 3:
        return None
    if isinstance(optimize, (list, tuple)):
        return tuple(tuple(step) for step in optimize if step != "einsum_path")
    return _numpy_path(spec, shapes, "greedy" if optimize is True else optimize)


@functools.lru_cache(maxsize=256)
def _numpy_path(spec: tuple, shapes: tuple, strategy: str) -> tuple:
    dummies = [np.broadcast_to(np.zeros(()), s) for s in shapes]  # only shapes are read
    return tuple(np.einsum_path(spec_subscripts(*spec), *dummies, optimize=strategy)[0][1:])


def _cast(x, dtype, casting: str, k: int):
    if not np.can_cast(dtype_of(x), dtype, casting):
        raise TypeError(f"einsum: operand {k} of dtype {dtype_of(x)} cannot be cast to {dtype} "
                        f"under casting={casting!r}; pass casting='unsafe' to force it")
    return prims.convert(x, dtype)


@export
def einsum(subscripts, *operands, out=None, dtype=None, order: str = "K",
           casting: str = "safe", optimize=False):
    """Einstein summation, as NumPy's: explicit ('ij,jk->ik') or implicit ('ij,jk') output,
    '...' broadcasting, repeated labels (diagonals), summed labels, any number of operands,
    and the interleaved form einsum(a, [0, 1], b, [1, 2], [0, 2]).

    NOTE: three or more operands are contracted two at a time (optimize=False: left to right;
    True, 'greedy', 'optimal' or an explicit path: np.einsum_path's order); `order` is
    accepted and ignored (results are C-ordered)."""
    no_out(out, "einsum")
    subscripts, arrays = _einsum_operands(subscripts, operands)
    shapes = tuple([shape_of(x) for x in arrays])
    spec = _parse(subscripts, shapes)
    if dtype is not None:
        dtype = np.dtype(dtype)
        arrays = [_cast(x, dtype, casting, k) for k, x in enumerate(arrays)]
    return contract(arrays, *spec, path=_path(spec, shapes, optimize))


@export(kind="query")
def einsum_path(subscripts, *operands, optimize="greedy", einsum_call: bool = False):
    """NumPy's einsum_path, which reads only the operands' shapes (so traced values do)."""
    subscripts, arrays = _einsum_operands(subscripts, operands)
    dummies = [np.broadcast_to(np.zeros((), dtype_of(x)), shape_of(x)) for x in arrays]
    return np.einsum_path(subscripts, *dummies, optimize=optimize, einsum_call=einsum_call)


# ----------------------------------------------------------------------------- products

def _fmt(shape: tuple) -> str:
    return "(" + ",".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _tensordot_axes(axes, nda: int, ndb: int) -> tuple[list, list]:
    """NumPy's `axes` (an int N, or a pair of ints or sequences) as two lists of axes."""
    if isinstance(axes, (int, np.integer)):
        axes_a, axes_b = list(range(-axes, 0)) if axes > 0 else [], list(range(axes))
    else:
        axes_a, axes_b = (list(x) if isinstance(x, (list, tuple)) else [x] for x in axes)
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot: axes name {len(axes_a)} axes of a but {len(axes_b)} of b "
                         "(shape-mismatch for sum)")
    axes_a, axes_b = [one_axis(i, nda) for i in axes_a], [one_axis(i, ndb) for i in axes_b]
    if len(set(axes_a)) != len(axes_a) or len(set(axes_b)) != len(axes_b):
        raise ValueError(f"tensordot: repeated axis in axes={axes!r}")
    return axes_a, axes_b


@export
def tensordot(a, b, axes=2):
    """Sum the products over the last `axes` axes of a and the first of b (an int), or over
    the axes given as a pair of sequences; the free axes of a come first."""
    sa, sb = shape_of(a), shape_of(b)
    axes_a, axes_b = _tensordot_axes(axes, len(sa), len(sb))
    for i, j in zip(axes_a, axes_b):
        if sa[i] != sb[j]:
            raise ValueError(f"tensordot: shape-mismatch for sum: axis {i} of a {_fmt(sa)} has "
                             f"length {sa[i]}, axis {j} of b {_fmt(sb)} has {sb[j]}")
    la = tuple(range(len(sa)))
    lb = list(range(len(sa), len(sa) + len(sb)))
    for i, j in zip(axes_a, axes_b):
        lb[j] = i
    out = tuple(i for i in la if i not in axes_a) + tuple(
        x for j, x in enumerate(lb) if j not in axes_b)
    return contract([a, b], [la, tuple(lb)], out)


@export(method="dot")
def dot(a, b, out=None):
    """NumPy's dot: a product of scalars, the inner product of vectors, the matrix product,
    and for N-D the sum over the last axis of a and the second-to-last of b."""
    no_out(out, "dot")
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        return prims.mul(a, b)
    ka, kb = len(sa) - 1, max(len(sb) - 2, 0)
    if sa[ka] != sb[kb]:
        raise ValueError(f"dot: shapes {_fmt(sa)} and {_fmt(sb)} not aligned: {sa[ka]} "
                         f"(dim {ka}) != {sb[kb]} (dim {kb})")
    if len(sa) <= 2 and len(sb) <= 2:
        return prims.matmul(a, b)
    return tensordot(a, b, ([ka], [kb]))


@export(method="vdot")
def vdot(a, b):
    """The dot product of the flattened operands, conjugating the first."""
    a, b = ravel(a), ravel(b)
    if shape_of(a) != shape_of(b):
        raise ValueError(f"vdot: the operands have {shape_of(a)[0]} and {shape_of(b)[0]} "
                         "elements; they must have the same number")
    if np.dtype(dtype_of(a)).kind == "c":
        a = conj(a)
    return contract([a, b], [(0,), (0,)], ())


@export(method="inner")
def inner(a, b):
    """Sum of products over the last axes (a product when either is a scalar)."""
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        return prims.mul(a, b)
    if sa[-1] != sb[-1]:
        raise ValueError(f"inner: the last axes of shapes {_fmt(sa)} and {_fmt(sb)} differ "
                         f"({sa[-1]} != {sb[-1]})")
    return tensordot(a, b, ([-1], [-1]))


@export(method="outer")
def outer(a, b, out=None):
    """The outer product of the flattened operands."""
    no_out(out, "outer")
    return prims.mul(reshape(a, (-1, 1)), reshape(b, (1, -1)))


@export(method="kron")
def kron(a, b):
    """The Kronecker product: blocks a[i, j] * b (the shorter shape padded with leading 1s)."""
    sa, sb = shape_of(a), shape_of(b)
    nd = max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    spread_a = reshape(a, tuple(n for s in sa for n in (s, 1)))
    spread_b = reshape(b, tuple(n for s in sb for n in (1, s)))
    return reshape(prims.mul(spread_a, spread_b), tuple(x * y for x, y in zip(sa, sb)))


# ----------------------------------------------------------------------------- cross

def _component(x, i: int, n: int):
    """Component i of the vectors along the last axis; None (a structural zero) past n."""
    return prims.getitem(x, (Ellipsis, i)) if i < n else None


def _minus(p, q):
    """p[0] * q[0] - p[1] * q[1], with None as an exact zero (a 2-vector's z-component);
    each product has a component of both operands, so all have the broadcast shape."""
    terms = [None if x is None or y is None else prims.mul(x, y) for x, y in zip(p, q)]
    if terms[1] is None:
        return terms[0]
    return prims.neg(terms[1]) if terms[0] is None else prims.sub(terms[0], terms[1])


@export
def cross(a, b, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None):
    """The cross product of 3-vectors (or 2-vectors: their z-component) along `axisa` of a
    and `axisb` of b, broadcast, with the vectors along `axisc` of the result."""
    if axis is not None:
        axisa = axisb = axisc = axis
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        raise ValueError("cross: at least one array has zero dimension")
    a, b = moveaxis(a, one_axis(axisa, len(sa)), -1), moveaxis(b, one_axis(axisb, len(sb)), -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"cross: incompatible dimensions for cross product (the vectors have "
                         f"{na} and {nb} components; they must have 2 or 3)")
    if na == 2 or nb == 2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=2)
    dtype = np.promote_types(dtype_of(a), dtype_of(b))
    a, b = prims.convert(a, dtype), prims.convert(b, dtype)
    x = [_component(a, i, na) for i in range(3)]
    y = [_component(b, i, nb) for i in range(3)]
    z = _minus((x[0], x[1]), (y[1], y[0]))
    if na == nb == 2:
        return z
    parts = [_minus((x[1], x[2]), (y[2], y[1])), _minus((x[2], x[0]), (y[0], y[2])), z]
    return moveaxis(prims.stack(parts, len(shape_of(z))), -1, axisc)


# ----------------------------------------------------------------------------- diagonals

def _diagonal_operand(a, offset: int, axis1: int, axis2: int) -> tuple:
    """(a trimmed so that its diagonal starts at [0, 0] of (axis1, axis2), the einsum
    labels of its axes with axis2 labelled as axis1, those of the diagonal as NumPy lays it
    out: the other axes, then the diagonal)."""
    shape = shape_of(a)
    nd = len(shape)
    if nd < 2:
        raise ValueError(f"diagonal: the array has {nd} dimension(s); a diagonal needs at "
                         "least two")
    axis1, axis2 = one_axis(axis1, nd), one_axis(axis2, nd)
    if axis1 == axis2:
        raise ValueError(f"diagonal: axis1 and axis2 cannot be the same (both {axis1})")
    offset = operator.index(offset)
    start1, start2 = max(-offset, 0), max(offset, 0)
    n = max(0, min(shape[axis1] - start1, shape[axis2] - start2))
    if (start1, start2, n) != (0, 0, shape[axis1]) or n != shape[axis2]:
        index = [slice(None)] * nd
        index[axis1], index[axis2] = slice(start1, start1 + n), slice(start2, start2 + n)
        a = prims.getitem(a, prims.canonical_index(tuple(index)))
    labels = tuple(axis1 if i == axis2 else i for i in range(nd))
    return a, labels, tuple(i for i in range(nd) if i not in (axis1, axis2)) + (axis1,)


@export(method="diagonal")
def diagonal(a, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """The `offset` diagonal of the (axis1, axis2) planes, as the last axis."""
    x, labels, out = _diagonal_operand(a, offset, axis1, axis2)
    return contract([x], [labels], out)


@export(method="trace")
def trace(a, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype=None, out=None):
    """The sum along the `offset` diagonal (integers promote as in `sum`)."""
    no_out(out, "trace")
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


@export(method="diag")
def diag(v, k: int = 0):
    """The k-th diagonal of a 2-D array, or a 2-D array with the 1-D `v` on its k-th diagonal."""
    shape = shape_of(v)
    if len(shape) == 2:
        return diagonal(v, k)
    if len(shape) != 1:
        raise ValueError(f"diag: the input must be 1- or 2-d; it has shape {shape}")
    n, k = shape[0], operator.index(k)
    square = prims.where(np.eye(n, dtype=bool), reshape(v, (n, 1)),
                         np.zeros((), dtype_of(v)))  # exact zeros off the diagonal
    if k == 0:
        return square
    rows, cols = max(-k, 0), max(k, 0)
    index = prims.canonical_index((slice(rows, rows + n), slice(cols, cols + n)))
    return prims.scatter(square, index=index, shape=(n + abs(k),) * 2)


@export
def diagflat(v, k: int = 0):
    """A 2-D array with the flattened `v` on its k-th diagonal."""
    return diag(ravel(v), k)


@export(method="tril")
def tril(m, k: int = 0):
    """Zeros above the k-th diagonal of the last two axes."""
    mask = np.tri(*shape_of(m)[-2:], k=operator.index(k), dtype=bool)
    return prims.where(mask, m, np.zeros((), dtype_of(m)))


@export(method="triu")
def triu(m, k: int = 0):
    """Zeros below the k-th diagonal of the last two axes."""
    mask = np.tri(*shape_of(m)[-2:], k=operator.index(k) - 1, dtype=bool)
    return prims.where(mask, np.zeros((), dtype_of(m)), m)


# ----------------------------------------------------------------------------- NumPy 2 gufuncs
# vecdot, matvec and vecmat take NumPy's gufunc arguments: `axes` (one entry per operand, the
# positions of its core dimensions; the output's may be left out when it has none) or `axis`.

def _core_axes(name: str, axes, axis, cores: tuple) -> list:
    """The core axes of each operand and of the output, as tuples (negatives allowed)."""
    if axes is not None and axis is not None:
        raise TypeError(f"{name}: cannot specify both 'axis' and 'axes'")
    if axis is not None:
        axes = [(axis,) if c == 1 else () for c in cores]
    if axes is None:
        return [tuple(range(-c, 0)) for c in cores]
    axes = [a if isinstance(a, (tuple, list)) else (a,) for a in axes]
    if len(axes) == len(cores) - 1 and cores[-1] == 0:
        axes.append(())
    if len(axes) != len(cores) or any(len(a) != c for a, c in zip(axes, cores)):
        raise ValueError(f"{name}: axes={axes!r} must give {list(cores)} core axes for the "
                         "operands and the output, in order")
    return [tuple(a) for a in axes]


def _gufunc_operand(name: str, x, core: tuple, signature: str, k: int, dtype):
    """Operand k with its core axes moved last (and cast to `dtype`)."""
    x = x if dtype is None else prims.convert(x, dtype)
    nd = len(shape_of(x))
    if nd < len(core):
        raise ValueError(f"{name}: Input operand {k} does not have enough dimensions (has {nd}, "
                         f"gufunc core with signature {signature} requires {len(core)})")
    return moveaxis(x, core, tuple(range(-len(core), 0)))


def _gufunc(name: str, subscripts: str, signature: str, cores: tuple, conj_first: bool,
            x1, x2, axes, axis, dtype):
    ax = _core_axes(name, axes, axis, cores)
    a = _gufunc_operand(name, x1, ax[0], signature, 0, dtype)
    b = _gufunc_operand(name, x2, ax[1], signature, 1, dtype)
    if conj_first and np.dtype(dtype_of(a)).kind == "c":
        a = conj(a)
    try:
        return einsum(subscripts, a, b), ax[2]
    except ValueError:
        raise ValueError(f"{name}: the operands' core dimensions (shapes {shape_of(a)} and "
                         f"{shape_of(b)} with the core axes last) do not match the signature "
                         f"{signature}") from None


@export
def vecdot(x1, x2, /, out=None, *, axes=None, axis=None, keepdims: bool = False, dtype=None):
    """The dot product of the vectors along the last axis (or `axis`), conjugating x1,
    broadcast over the others."""
    no_out(out, "vecdot")
    cores = (1, 1, 1) if keepdims else (1, 1, 0)  # keepdims: the output keeps a length-1 axis
    result, at = _gufunc("vecdot", "...i,...i->...", "(n),(n)->()", cores, True, x1, x2,
                         axes, axis, dtype)
    if not keepdims:
        return result
    return moveaxis(reshape(result, shape_of(result) + (1,)), -1, at[0])


@export
def matvec(x1, x2, /, out=None, *, axes=None, dtype=None):
    """Matrix-vector products over stacks: (..., m, n) times (..., n) is (..., m)."""
    no_out(out, "matvec")
    result, at = _gufunc("matvec", "...ij,...j->...i", "(m,n),(n)->(m)", (2, 1, 1), False,
                         x1, x2, axes, None, dtype)
    return moveaxis(result, -1, at[0])


@export
def vecmat(x1, x2, /, out=None, *, axes=None, dtype=None):
    """Vector-matrix products over stacks, conjugating the vector: (..., n) times
    (..., n, m) is (..., m)."""
    no_out(out, "vecmat")
    result, at = _gufunc("vecmat", "...i,...ij->...j", "(n),(n,m)->(m)", (1, 2, 1), True,
                         x1, x2, axes, None, dtype)
    return moveaxis(result, -1, at[0])


@export
def matrix_transpose(x, /):
    """Each matrix of a stack transposed (its last two axes swapped)."""
    nd = len(shape_of(x))
    if nd < 2:
        raise ValueError(f"Input array must be at least 2-dimensional, but it is {nd}")
    return moveaxis(x, -1, -2)
