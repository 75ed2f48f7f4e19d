"""The JAX face: grad, value_and_grad, jvp, vjp, linearize, jacrev, jacfwd, hessian.

Everything about the API boundary is handled here once: `argnums` (checked against the
call, with an error that shows the signature), `has_aux`, pytrees, promotion of Python ints,
refusal of integer arrays, `matrix=True` (rows = flattened outputs, columns = flattened inputs
of every argnums entry in order), and the output type: NumPy in, NumPy out; Tensors in,
Tensors out; never an internal tracer.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import numpy as anp
from . import prims
from .batching import vmap_flat
from .core import (
    ArgnumsError,
    BatchingError,
    ComplexDifferentiationError,
    NonScalarOutputError,
    NotDifferentiableError,
    Tracer,
    dtype_of,
    is_complex,
    shape_of,
)
from .forward import jvp_flat, zeros_like_value
from .reverse import backward_pass, vjp_flat
from .tensor import Tensor
from .tree import broadcast_prefix, tree_flatten, tree_unflatten

# ----------------------------------------------------------------------------- the boundary


def _signature(fun: Callable) -> str:
    name = getattr(fun, "__name__", "f")
    try:
        return f"{name}{inspect.signature(fun)}"
    except (TypeError, ValueError):
        return f"{name}(...)"


def _normalize_argnums(fun: Callable, argnums, nargs: int, transform: str) -> tuple[int, ...]:
    many = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if many else (argnums,)
    for i in nums:
        if not isinstance(i, (int, np.integer)) or isinstance(i, bool):
            raise ArgnumsError(f"{transform}: argnums must be an int or a tuple of ints, got "
                               f"{argnums!r}")
        if not -nargs <= i < nargs:
            raise ArgnumsError(
                f"{transform}(..., argnums={argnums!r}) differentiates with respect to "
                f"positional argument {i}, but {_signature(fun)} was called with {nargs} "
                f"positional argument{'s' if nargs != 1 else ''}. Pass every argument you "
                f"differentiate by position. For the Hessian of a two-argument f(x, y) use "
                f"ad.hessian(f, argnums=(0, 1))(x, y), or nest with the same argnums at both "
                f"levels: ad.jacobian(ad.jacobian(f, argnums=(0, 1)), argnums=(0, 1))(x, y) "
                f"(add matrix=True for one 2-D array). If you packed x and y into one array, "
                f"use argnums=0.")
    nums = tuple(int(i) % nargs for i in nums)
    if len(set(nums)) != len(nums):
        raise ArgnumsError(f"{transform}(..., argnums={argnums!r}) names the same argument "
                           f"twice; list each positional argument at most once")
    return nums


def _prepare_input(x, where: str):
    """A differentiable leaf: floats pass, Python ints/lists become float64, the rest refuse."""
    if isinstance(x, (Tracer, np.ndarray, np.generic)):
        if np.dtype(dtype_of(x)).kind not in "fc":
            raise NotDifferentiableError(
                f"{where} has dtype {dtype_of(x)}; derivatives are defined only for floating-"
                f"point inputs. Convert it first (x.astype(float)), or leave it out of argnums.")
        return x
    if isinstance(x, bool) or x is None:
        raise NotDifferentiableError(f"{where} is {x!r}, which cannot be differentiated; leave "
                                     f"it out of argnums.")
    array = np.asarray(x)
    if array.dtype.kind not in "biufc":
        raise TypeError(f"{where} must be a number or an array of numbers, got "
                        f"{type(x).__name__}")
    # NOTE: Python ints (and lists of them) are promoted, since that is what a learner means.
    return array.astype(np.float64) if array.dtype.kind in "biu" else array


def _split_args(fun, args, argnums, transform):
    """-> (argnums tuple, flat differentiable leaves, a function of those leaves)."""
    nums = _normalize_argnums(fun, argnums, len(args), transform)
    leaves, treedefs = [], []
    for i in nums:
        flat, treedef = tree_flatten(args[i])
        leaves.extend(_prepare_input(x, f"argument {i}") for x in flat)
        treedefs.append((treedef, len(flat)))

    def rebuild(flat_leaves):
        full, start = list(args), 0
        for i, (treedef, n) in zip(nums, treedefs):
            full[i] = tree_unflatten(treedef, flat_leaves[start:start + n])
            start += n
        return full

    return nums, leaves, treedefs, rebuild


def _per_arg(flat: list, treedefs, argnums) -> Any:
    """Regroup flat per-leaf results into the argnums structure (one tree, or a tuple)."""
    out, start = [], 0
    for treedef, n in treedefs:
        out.append(tree_unflatten(treedef, flat[start:start + n]))
        start += n
    return tuple(out) if isinstance(argnums, (tuple, list)) else out[0]


def _finalize(tree, tensors_in: bool):
    """NumPy in, NumPy out; Tensors in, Tensors out; tracers of outer transforms stay."""
    def convert(x):
        if isinstance(x, Tracer):
            return x
        x = np.asarray(x)
        if x.ndim and not x.flags.writeable:  # e.g. a broadcast view: give the user an array
            x = x.copy()                      # they can modify
        if tensors_in:
            return Tensor._make(x, None)
        return x[()] if x.ndim == 0 else x

    flat, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [convert(x) for x in flat])


def _has_tensor(args) -> bool:
    return any(isinstance(x, Tensor) for x in tree_flatten(list(args))[0])


def _split_aux(out, has_aux: bool, transform: str):
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"{transform}(..., has_aux=True) needs the function to return a pair "
                        f"(output, aux); it returned {type(out).__name__}")
    return out[0], out[1]


def _check_holomorphic_inputs(leaves: list, holomorphic: bool, transform: str) -> None:
    """JAX's rule: holomorphic=True needs complex inputs; jacfwd without it needs real ones."""
    for i, x in enumerate(leaves):
        if holomorphic and not is_complex(x):
            raise ComplexDifferentiationError(
                f"{transform} with holomorphic=True requires inputs with complex dtype, but "
                f"input {i} has dtype {dtype_of(x)}. Convert it (x + 0j), or drop "
                f"holomorphic=True to differentiate a function of real inputs.")
        if transform == "jacfwd" and not holomorphic and is_complex(x):
            raise ComplexDifferentiationError(
                f"jacfwd requires real-valued inputs, but input {i} has dtype {dtype_of(x)}. "
                f"For a holomorphic function pass holomorphic=True; for a non-holomorphic "
                f"function of complex inputs use ad.jvp directly, or differentiate with "
                f"respect to the real and imaginary parts as separate real inputs.")


def _check_holomorphic_outputs(values: list, holomorphic: bool, transform: str) -> None:
    """JAX's rule: reverse-mode derivatives of complex outputs need holomorphic=True."""
    for v in values:
        if holomorphic and not is_complex(v):
            raise ComplexDifferentiationError(
                f"{transform} with holomorphic=True requires outputs with complex dtype, but "
                f"the function returned dtype {dtype_of(v)}.")
        if not holomorphic and is_complex(v) and transform != "jacfwd":
            raise ComplexDifferentiationError(
                f"{transform} requires real-valued outputs, but the function returned dtype "
                f"{dtype_of(v)}. For a holomorphic function pass holomorphic=True; for a "
                f"non-holomorphic function with complex outputs use ad.vjp directly, or "
                f"differentiate the real part (ad.numpy.real) or |f|**2.")


# ----------------------------------------------------------------------------- reverse mode

def _tracing_with_aux(fun_of_leaves: Callable, has_aux: bool, transform: str):
    """The function a transform traces (outputs only), and a box that receives its aux."""
    aux_box = []

    def traced(*tracers):
        out, aux = _split_aux(fun_of_leaves(list(tracers)), has_aux, transform)
        aux_box.append(aux)
        return out

    return traced, aux_box


def _lower_aux(tree):
    """Aux outputs come back as values of the level below the finished transformation."""
    flat, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [x.primal_value() if isinstance(x, Tracer) and
                                    not x._trace.main.alive else x for x in flat])


def _vjp(fun_of_leaves: Callable, leaves: list, has_aux: bool, transform: str):
    """-> (flat outputs, out treedef, aux, pullback(flat cts) -> flat input cotangents)."""
    traced, aux_box = _tracing_with_aux(fun_of_leaves, has_aux, transform)
    values, nodes, treedef, leaf_nodes = vjp_flat(traced, leaves)
    aux = _lower_aux(aux_box[0]) if has_aux else None

    def pullback(cts: Sequence) -> list:
        grads = backward_pass(nodes, list(cts), retain_graph=True, capture=leaf_nodes)
        return [zeros_like_value(x) if g is None else g for x, g in zip(leaves, grads)]

    return values, treedef, aux, pullback


def value_and_grad(fun: Callable, argnums=0, has_aux: bool = False,
                   holomorphic: bool = False) -> Callable:
    """`f -> (x -> (f(x), df/dx))` for a scalar-valued f.

    For a real f of complex z = x + iy the result is df/dx - i df/dy (JAX's convention: for
    |z|**2 at 3+4j, 6-8j); `holomorphic=True` gives the complex derivative f'(z).

    >>> ad.value_and_grad(lambda x: 3 * x**2)(2.0)
    (12.0, 12.0)
    """

    @functools.wraps(fun)
    def value_and_grad_fun(*args, **kwargs):
        nums, leaves, treedefs, rebuild = _split_args(fun, args, argnums, "grad")
        _check_holomorphic_inputs(leaves, holomorphic, "grad")
        values, treedef, aux, pullback = _vjp(
            lambda xs: fun(*rebuild(xs), **kwargs), leaves, has_aux, "grad")
        if len(values) != 1 or math.prod(shape_of(values[0])) != 1:
            shapes = [shape_of(v) for v in values]
            raise NonScalarOutputError(
                f"grad needs a function with one scalar output, but {_signature(fun)} returned "
                f"{'shape ' + str(shapes[0]) if len(shapes) == 1 else f'{len(shapes)} outputs'}"
                f". For every partial derivative use ad.jacobian(f) (add matrix=True for one "
                f"2-D array, rows = outputs); for a weighted sum of rows v^T J use ad.vjp(f, x) "
                f"and call the pullback with v; only if f is elementwise does "
                f"ad.grad(lambda x: f(x).sum()) give the per-element derivatives.")
        (out,) = values
        _check_holomorphic_outputs(values, holomorphic, "grad")
        ct = np.ones(shape_of(out), dtype_of(out))
        grads = _per_arg(pullback([ct]), treedefs, argnums)
        tensors_in = _has_tensor(args)
        value = _finalize(tree_unflatten(treedef, values), tensors_in)
        result = (value, aux) if has_aux else value
        return result, _finalize(grads, tensors_in)

    return value_and_grad_fun


def grad(fun: Callable, argnums=0, has_aux: bool = False,
         holomorphic: bool = False) -> Callable:
    """The gradient of a scalar-valued function with respect to the `argnums` arguments
    (complex inputs: see `value_and_grad`).

    >>> ad.grad(lambda x, y: 2 * x**2 + 3 * y, argnums=(0, 1))(2.0, 1.5)
    (8.0, 3.0)
    """
    vg = value_and_grad(fun, argnums, has_aux, holomorphic)

    @functools.wraps(fun)
    def grad_fun(*args, **kwargs):
        (value, g) = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return grad_fun


def vjp(fun: Callable, *primals, has_aux: bool = False):
    """`(f(*primals), pullback)`; `pullback(ct)` returns one cotangent per primal, as a tuple.

    >>> out, pullback = ad.vjp(lambda x: x * x, 3.0); pullback(1.0)
    (6.0,)
    """
    nums = tuple(range(len(primals)))
    _, leaves, treedefs, rebuild = _split_args(fun, primals, nums, "vjp")
    values, treedef, aux, pullback = _vjp(lambda xs: fun(*rebuild(xs)), leaves, has_aux, "vjp")
    tensors_in = _has_tensor(primals)

    def vjp_fun(ct):
        cts, ct_treedef = tree_flatten(ct)
        if ct_treedef != treedef or any(shape_of(c) != shape_of(v) for c, v in zip(cts, values)):
            raise ValueError(
                f"the cotangent must have the structure and shapes of the output "
                f"({[shape_of(v) for v in values]}), got {[shape_of(c) for c in cts]}")
        cts = [np.asarray(c, dtype_of(v)) if not isinstance(c, Tracer) else c
               for c, v in zip(cts, values)]
        return _finalize(_per_arg(pullback(cts), treedefs, nums), tensors_in)

    out = _finalize(tree_unflatten(treedef, values), tensors_in)
    return (out, vjp_fun, aux) if has_aux else (out, vjp_fun)


# ----------------------------------------------------------------------------- forward mode

def jvp(fun: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False):
    """`(f(*primals), J @ tangents)`: one forward pass.

    >>> ad.jvp(lambda x: x * x, (3.0,), (1.0,))
    (9.0, 6.0)
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp takes primals and tangents as tuples, e.g. "
                        "ad.jvp(f, (x,), (t,)), even for one argument")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp got {len(primals)} primals but {len(tangents)} tangents")
    nums = tuple(range(len(primals)))
    _, leaves, treedefs, rebuild = _split_args(fun, primals, nums, "jvp")
    t_leaves = [_match_tangent(t, x) for t, x in zip(tree_flatten(list(tangents))[0], leaves)]
    out, t_out, aux = _jvp(lambda xs: fun(*rebuild(xs)), leaves, t_leaves, has_aux, "jvp")
    tensors_in = _has_tensor(primals)
    result = (_finalize(out, tensors_in), _finalize(t_out, tensors_in))
    return result + (aux,) if has_aux else result


def _match_tangent(t, x):
    if shape_of(t) != shape_of(x):
        raise ValueError(f"a tangent has shape {shape_of(t)} but its primal has shape "
                         f"{shape_of(x)}; each tangent must match its primal's shape")
    return t if isinstance(t, Tracer) else np.asarray(t, dtype_of(x))


def _jvp(fun_of_leaves, leaves, t_leaves, has_aux, transform):
    traced, aux_box = _tracing_with_aux(fun_of_leaves, has_aux, transform)
    out, t_out = jvp_flat(traced, leaves, t_leaves)
    return out, t_out, _lower_aux(aux_box[0]) if has_aux else None


def linearize(fun: Callable, *primals):
    """`(f(*primals), f_jvp)` where `f_jvp(*tangents)` is the JVP at `primals`.

    NOTE: autodx re-runs `f` in forward mode on each call of `f_jvp` (no partial evaluation
    yet); the values are JAX's."""
    out, _ = jvp(fun, primals, tuple(_zeros_tree(p) for p in primals))

    def f_jvp(*tangents):
        return jvp(fun, primals, tangents)[1]

    return out, f_jvp


def _zeros_tree(tree):
    flat, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [zeros_like_value(_prepare_input(x, "primal")) for x in flat])


# ----------------------------------------------------------------------------- vmap

def vmap(fun: Callable, in_axes=0, out_axes=0) -> Callable:
    """Map `fun` over an axis of its arguments in one batched pass (no Python loop).

    in_axes/out_axes: an int (negative counts from the end), None (not mapped: the same value
    for every example), or a pytree matching the arguments/outputs.
    >>> ad.vmap(lambda x, y: x @ y, in_axes=(0, None))(np.ones((5, 3)), np.ones(3)).shape
    (5,)
    """
    @functools.wraps(fun)
    def vmapped(*args, **kwargs):  # keyword arguments are passed through, unmapped
        specs = tuple(in_axes) if isinstance(in_axes, (tuple, list)) else in_axes
        if isinstance(specs, tuple) and len(specs) != len(args):
            raise BatchingError(f"vmap(in_axes={in_axes!r}) has {len(specs)} entries but "
                                f"{_signature(fun)} was called with {len(args)} arguments")
        axes = broadcast_prefix(specs, tuple(args))
        leaves, treedef = tree_flatten(tuple(args))
        leaves = [x if d is None or isinstance(x, Tracer) else np.asarray(x)
                  for x, d in zip(leaves, axes)]
        sizes, dims = [], []
        for i, (x, d) in enumerate(zip(leaves, axes)):
            if d is None:
                dims.append(None)
                continue
            ndim = len(shape_of(x))
            if not -ndim <= d < ndim:
                raise BatchingError(f"vmap: in_axes={d} for input {i} (shape {shape_of(x)}) is "
                                    f"out of range for a {ndim}-d value")
            dims.append(d % ndim)
            sizes.append((i, shape_of(x)[d % ndim]))
        if not sizes:
            raise BatchingError("vmap needs at least one mapped input, but in_axes maps none")
        if len({n for _, n in sizes}) > 1:
            described = ", ".join(f"input {i} has size {n}" for i, n in sizes)
            raise BatchingError(f"vmap got inconsistent sizes along the mapped axes: "
                                f"{described}. Every mapped input needs the same size.")
        out = vmap_flat(lambda *xs: fun(*tree_unflatten(treedef, xs), **kwargs), leaves, dims,
                        sizes[0][1], out_axes)
        return _finalize(out, _has_tensor(args))

    return vmapped


def stop_gradient(x):
    """`x` as a constant: its value passes, no derivative flows through it (pytrees too)."""
    flat, treedef = tree_flatten(x)
    return _finalize(tree_unflatten(treedef, [prims.stop_gradient(v) for v in flat]),
                     _has_tensor(flat))


def hvp(fun: Callable, primals: Sequence, tangents: Sequence):
    """The Hessian-vector product H @ tangents of a scalar function, forward-over-reverse:
    the cost of a few gradients, and no n x n matrix.
    >>> ad.hvp(lambda x: ad.numpy.sum(x**3), (np.array([1.0, 2.0]),), (np.ones(2),))
    array([ 6., 12.])
    """
    argnums = tuple(range(len(primals)))
    out = jvp(grad(fun, argnums=argnums), tuple(primals), tuple(tangents))[1]
    return out[0] if len(primals) == 1 else out


# ----------------------------------------------------------------------------- Jacobians

def _split_flat(vector, shapes: list[tuple]) -> list:
    """Cut a 1-D vector (concrete or traced) into pieces of the given shapes."""
    if len(shapes) == 1 and len(shapes[0]) == 1:
        return [vector]  # PERF: one vector input needs no cutting
    out, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(vector[start] if shape == () else
                   anp.reshape(vector[start:start + size], shape))
        start += size
    return out


def _flat_row(pieces: list):
    """Ravel and concatenate pieces (the inverse of `_split_flat`)."""
    if not pieces:
        return np.zeros(0)
    shapes = [shape_of(p) for p in pieces]
    if all(s == () for s in shapes):
        return anp.stack(pieces)  # PERF: scalars, one op
    if len(pieces) == 1 and len(shapes[0]) == 1:
        return pieces[0]
    return anp.concatenate([anp.reshape(p, (-1,)) for p in pieces])


def _over_basis(fun: Callable, size: int, dtype, chunk_size: int | None, out_axes=0):
    """vmap `fun` over the standard basis vectors of R^size, `chunk_size` at a time (all at
    once when None): one batched pass per chunk instead of a Python loop per vector."""
    if chunk_size is not None and (not isinstance(chunk_size, (int, np.integer))
                                   or isinstance(chunk_size, bool) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive int or None, got {chunk_size!r}")
    basis = np.eye(size, dtype=dtype)
    if size == 1:  # PERF: a single basis vector needs no batching, only its leading axis
        out = fun(basis[0])
        flat, treedef = tree_flatten(out)
        axes = broadcast_prefix(out_axes, out)
        return tree_unflatten(treedef, [x if a is None else anp.expand_dims(x, a)
                                        for x, a in zip(flat, axes)])
    step = size if chunk_size is None or chunk_size >= size else int(chunk_size)
    chunks = [vmap_flat(fun, [basis[i:i + step]], [0], len(basis[i:i + step]), out_axes)
              for i in range(0, size, step)]
    if len(chunks) == 1:
        return chunks[0]
    firsts = [c[0] if isinstance(out_axes, tuple) else c for c in chunks]
    stacked = anp.concatenate(firsts, axis=0)
    return (stacked, *chunks[0][1:]) if isinstance(out_axes, tuple) else stacked


def _jac_matrix(fun, args, argnums, has_aux, mode: str, chunk_size: int | None,
                holomorphic: bool):
    """The (M, N) Jacobian of `fun` at `args`, with what is needed to give it structure."""
    transform = "jacrev" if mode == "rev" else "jacfwd"
    nums, leaves, treedefs, rebuild = _split_args(fun, args, argnums, transform)
    _check_holomorphic_inputs(leaves, holomorphic, transform)
    in_shapes = [shape_of(x) for x in leaves]
    n = sum(math.prod(s) for s in in_shapes)
    dtype = np.result_type(*[dtype_of(x) for x in leaves]) if leaves else np.float64
    f = lambda xs: fun(*rebuild(xs))
    if mode == "rev":
        values, treedef, aux, pullback = _vjp(f, leaves, has_aux, "jacrev")
        _check_holomorphic_outputs(values, holomorphic, "jacrev")
        out_shapes = [shape_of(v) for v in values]
        m = sum(math.prod(s) for s in out_shapes)
        out_dtype = np.result_type(*[dtype_of(v) for v in values]) if values else dtype
        # every row at once: the pullback of a batch of output basis vectors
        jac = (_over_basis(lambda e: _flat_row(pullback(_split_flat(e, out_shapes))), m,
                           out_dtype, chunk_size) if m and n else np.zeros((m, n), dtype))
    else:
        def column(t):
            out, t_out, aux = _jvp(f, leaves, _split_flat(t, in_shapes), has_aux, "jacfwd")
            return _flat_row(tree_flatten(t_out)[0]), out, aux

        if n:  # every column at once: the JVP of a batch of input basis vectors
            columns, out, aux = _over_basis(column, n, dtype, chunk_size, (0, None, None))
        else:
            columns, out, aux = None, *_jvp(f, leaves, [zeros_like_value(x) for x in leaves],
                                            has_aux, "jacfwd")[::2]
        values, treedef = tree_flatten(out)
        _check_holomorphic_outputs(values, holomorphic, "jacfwd")
        out_shapes = [shape_of(v) for v in values]
        m = sum(math.prod(s) for s in out_shapes)
        jac = anp.transpose(columns) if n and m else np.zeros((m, n), dtype)
    return jac, values, treedef, out_shapes, in_shapes, treedefs, aux


def _structure(jac, treedef, out_shapes, in_shapes, treedefs, argnums):
    """(M, N) -> JAX's layout: the output tree, each leaf the argnums tree of blocks
    of shape out.shape + in.shape."""
    per_out, row = [], 0
    for o_shape in out_shapes:
        rows = math.prod(o_shape)
        blocks, col = [], 0
        for i_shape in in_shapes:
            cols = math.prod(i_shape)
            block = jac[row:row + rows, col:col + cols]
            blocks.append(anp.reshape(block, tuple(o_shape) + tuple(i_shape)))
            col += cols
        per_out.append(_per_arg(blocks, treedefs, argnums))
        row += rows
    return tree_unflatten(treedef, per_out)


def _jacobian(mode: str, fun: Callable, argnums, has_aux: bool, matrix: bool,
              chunk_size: int | None, holomorphic: bool) -> Callable:
    @functools.wraps(fun)
    def jac_fun(*args, **kwargs):
        f = functools.partial(fun, **kwargs) if kwargs else fun
        jac, values, treedef, out_shapes, in_shapes, treedefs, aux = _jac_matrix(
            f, args, argnums, has_aux, mode, chunk_size, holomorphic)
        result = jac if matrix else _structure(jac, treedef, out_shapes, in_shapes, treedefs,
                                               argnums)
        result = _finalize(result, _has_tensor(args))
        return (result, aux) if has_aux else result

    return jac_fun


def jacrev(fun: Callable, argnums=0, has_aux: bool = False, matrix: bool = False,
           chunk_size: int | None = None, holomorphic: bool = False) -> Callable:
    """The Jacobian by reverse mode: one batched pullback of every output basis vector
    (`chunk_size` of them at a time, to bound memory).

    `matrix=True` gives one 2-D array, rows = flattened outputs, columns = flattened inputs of
    every argnums entry in order:
    >>> ad.jacrev(lambda x, y: ad.numpy.stack([x**2 + y**2, x - y]), argnums=(0, 1),
    ...           matrix=True)(2.0, 1.0)
    array([[ 4.,  2.],
           [ 1., -1.]])
    """
    return _jacobian("rev", fun, argnums, has_aux, matrix, chunk_size, holomorphic)


def jacfwd(fun: Callable, argnums=0, has_aux: bool = False, matrix: bool = False,
           chunk_size: int | None = None, holomorphic: bool = False) -> Callable:
    """The Jacobian by forward mode: one batched JVP of every input basis vector (`chunk_size`
    at a time); same layout as `jacrev`."""
    return _jacobian("fwd", fun, argnums, has_aux, matrix, chunk_size, holomorphic)


jacobian = jacrev


def hessian(fun: Callable, argnums=0, has_aux: bool = False, matrix: bool = False,
            chunk_size: int | None = None, holomorphic: bool = False) -> Callable:
    """Second derivatives, as forward-over-reverse (`jacfwd(jacrev(f))`).

    `matrix=True` gives the (n, n) matrix over all argnums inputs flattened in order (or
    (m, n, n) for an output with m > 1 elements):
    >>> ad.hessian(lambda x, y: x**2 + y**2, argnums=(0, 1), matrix=True)(2.0, 1.0)
    array([[2., 0.],
           [0., 2.]])
    """
    if not matrix:
        return jacfwd(jacrev(fun, argnums, has_aux, chunk_size=chunk_size,
                             holomorphic=holomorphic), argnums, has_aux, chunk_size=chunk_size,
                      holomorphic=holomorphic)
    inner = jacfwd(jacrev(fun, argnums, has_aux, matrix=True, chunk_size=chunk_size,
                          holomorphic=holomorphic), argnums, has_aux, matrix=True,
                   chunk_size=chunk_size, holomorphic=holomorphic)

    @functools.wraps(fun)
    def hessian_matrix(*args, **kwargs):
        result = inner(*args, **kwargs)
        h, aux = result if has_aux else (result, None)
        n = shape_of(h)[1]
        m = shape_of(h)[0] // n if n else 0
        h = anp.reshape(h, (n, n) if m == 1 else (m, n, n))
        return (h, aux) if has_aux else h

    return hessian_matrix
