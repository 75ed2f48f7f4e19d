"""The JAX face: grad, value_and_grad, vjp, jvp, linearize, hvp, jacrev, jacobian (jacrev by
the name users call), jacfwd, hessian, vmap and stop_gradient.

The API boundary is handled here once, so the engines below see flat lists of arrays:
- when a transform is created: a non-callable is refused at once (JAX's TypeError, "Expected a
  callable value"), and so are ill-typed `argnums`, `in_axes`/`out_axes` and `chunk_size`;
- per call: `argnums` against the arguments given (the error shows the signature), pytrees,
  Python ints (and lists of them) promoted to float64; booleans, integer arrays, None and
  non-numbers refused as inputs, non-numbers (a str, None, an object) as outputs, and integer
  or boolean outputs in grad/jacrev (as JAX); `has_aux` pairs; tangents and cotangents checked
  against their primals and outputs;
- `matrix=True`: one 2-D array, rows = flattened outputs, columns = flattened inputs of every
  argnums entry in order; a dense Jacobian, Hessian or batch of basis vectors larger than
  `JACOBIAN_LIMIT_BYTES` is refused before anything is allocated (`JacobianSizeError`);
- the output type: NumPy in, NumPy out; Tensors in, Tensors out; never an internal tracer.
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
    JacobianSizeError,
    NonScalarOutputError,
    NotDifferentiableError,
    Tracer,
    dtype_of,
    is_complex,
    shape_of,
)
from .forward import jvp_flat, zeros_like_value
from .reverse import backward_pass, vjp_flat
from .staging import StagingTracer
from .tensor import Tensor
from .tree import LEAF, broadcast_prefix, check_axis_spec, is_leaf, tree_flatten, tree_unflatten

JACOBIAN_LIMIT_BYTES: int | None = 2**30
"""The largest dense array the Jacobian transforms build at once: 1 GiB, an 11,585 x 11,585
float64 matrix. The batched pass that builds it holds a few arrays of that size, so a limit
near the size of the machine's memory would fail anyway, only later and less clearly. Set it
higher (or None: no limit) if the matrix fits in memory."""

# ----------------------------------------------------------------------------- the boundary

_USAGE = {"grad": "ad.grad(f)(x)", "value_and_grad": "ad.value_and_grad(f)(x)",
          "jacrev": "ad.jacrev(f)(x)", "jacfwd": "ad.jacfwd(f)(x)",
          "jacobian": "ad.jacobian(f)(x)", "hessian": "ad.hessian(f)(x)",
          "vmap": "ad.vmap(f)(xs)", "jvp": "ad.jvp(f, (x,), (t,))", "vjp": "ad.vjp(f, x)",
          "linearize": "ad.linearize(f, x)", "hvp": "ad.hvp(f, (x,), (v,))"}


def _short(x, limit: int = 60) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _check_callable(fun, transform: str) -> None:
    """Refuse a non-callable at once, with JAX's words, instead of when it is first called."""
    if callable(fun):
        return
    hint = ""
    if "(f)(" in _USAGE[transform] and isinstance(fun, (int, float, complex, np.ndarray,
                                                         np.generic, list, tuple, Tracer)):
        hint = (f" To evaluate at {_short(fun)}, pass it to the function that {transform} "
                f"returns: ad.{transform}(f)({_short(fun)}).")
    raise TypeError(f"Expected a callable value, got {_short(fun)}: {transform} takes the "
                    f"function first, as in {_USAGE[transform]}.{hint}")


def _check_argnums_type(argnums, transform: str) -> None:
    nums = argnums if isinstance(argnums, (tuple, list)) else (argnums,)
    for i in nums:
        if not isinstance(i, (int, np.integer)) or isinstance(i, bool):
            raise ArgnumsError(f"{transform}: argnums must be an int or a tuple of ints, got "
                               f"{argnums!r}; e.g. argnums=0 for the first positional argument, "
                               f"argnums=(0, 1) for the first two")


def _check_chunk_size(chunk_size) -> None:
    if chunk_size is not None and (not isinstance(chunk_size, (int, np.integer))
                                   or isinstance(chunk_size, bool) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive int or None, got {chunk_size!r}; e.g. "
                         f"chunk_size=64 computes the rows (columns for jacfwd) 64 at a time")


def _check_transform(fun, argnums, chunk_size, transform: str) -> None:
    """What a Jacobian transform can check when it is created."""
    _check_callable(fun, transform)
    _check_argnums_type(argnums, transform)
    _check_chunk_size(chunk_size)


def _signature(fun: Callable) -> str:
    name = getattr(fun, "__name__", "f")
    try:
        return f"{name}{inspect.signature(fun)}"
    except (TypeError, ValueError):
        return f"{name}(...)"


def _normalize_argnums(fun: Callable, argnums, nargs: int, transform: str) -> tuple[int, ...]:
    """argnums (types checked when the transform was made) against this call's arguments."""
    if argnums.__class__ is int and 0 <= argnums < nargs:  # PERF: argnums=0 in 0.2 us, not 1.2
        return (argnums,)
    if argnums.__class__ is tuple:  # PERF: a cached answer, 0.5 us instead of 2.2 for (0, 1)
        nums = _valid_argnums(argnums, nargs)
        if nums is not None:
            return nums
    nums = tuple(argnums) if isinstance(argnums, (tuple, list)) else (argnums,)
    for i in nums:
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


@functools.lru_cache(maxsize=256)
def _valid_argnums(argnums: tuple, nargs: int) -> tuple[int, ...] | None:
    """A tuple argnums normalized against `nargs` arguments; None if it is not valid there
    (then `_normalize_argnums` says why)."""
    if not all(-nargs <= i < nargs for i in argnums):
        return None
    nums = tuple(int(i) % nargs for i in argnums)
    return nums if len(set(nums)) == len(nums) else None


_PY_KINDS = {bool: "b", int: "i", float: "f", complex: "c"}
_NUMERIC = "biufc"


def _kind(x) -> str:
    """The dtype kind of a value ("f", "c", "i", "U", ...); "O" for what is not a number or
    an array (None, an object). Array-likes (`__array__`) count as arrays."""
    if isinstance(x, (Tracer, np.ndarray, np.generic)):
        return x.dtype.kind
    kind = _PY_KINDS.get(type(x))
    if kind is None:
        try:
            kind = np.asarray(x).dtype.kind
        except (TypeError, ValueError):
            kind = "O"
    return kind


def _describe(x) -> str:
    if isinstance(x, (Tracer, np.ndarray, np.generic)):
        return f"an array of shape {shape_of(x)} and dtype {x.dtype}"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)} items"
    return f"{_short(x)} (of type {type(x).__name__})"


class _Leaf:
    def __repr__(self) -> str:
        return "*"


def _structure_of(tree) -> str:
    """A pytree's structure with its leaves as *: `(*, [*, *])`, `(None,)`."""
    flat, treedef = tree_flatten(tree)
    return repr(tree_unflatten(treedef, [_Leaf()] * len(flat)))


def _not_inexact(x, where: str) -> NotDifferentiableError:
    dtype = dtype_of(x)
    if dtype.kind != "b":
        value, fix = f"of dtype {dtype}", "Convert it first (x.astype(float))"
    elif isinstance(x, (bool, np.bool_)):
        value, fix = f"{x!r} (a bool)", f"Pass float(x) (here {float(x)})"
    else:
        value, fix = "a bool array", "Convert it first (x.astype(float))"
    return NotDifferentiableError(
        f"{where} is {value}, which cannot be differentiated: only floating-point (inexact) "
        f"inputs can. {fix}, or an array of dtype float64 (np.asarray(x, dtype=np.float64)); or "
        f"leave it out of argnums.")


def _prepare_input(x, label: str, i: int):
    """A differentiable leaf: float and complex values pass, Python ints become float64;
    bools, integer arrays and non-numbers are refused, saying what to pass instead.
    `label.format(i)` names the argument in errors (formatted only then: PERF)."""
    if x.__class__ is float:  # PERF: the usual Python float, 0.6 us instead of 1.7
        return np.asarray(x)
    if isinstance(x, (Tracer, np.ndarray, np.generic)):
        if x.dtype.kind not in "fc":
            raise _not_inexact(x, label.format(i))
        return x
    if isinstance(x, bool):
        raise _not_inexact(x, label.format(i))
    array = np.asarray(x)
    if array.dtype.kind not in _NUMERIC:
        where = label.format(i)
        raise TypeError(f"{where} must be a number or an array of numbers, got {_describe(x)}. "
                        f"Pass a float or an array of floats, e.g. np.asarray(x, dtype=float).")
    # NOTE: Python ints are promoted, since that is what a learner means.
    return array.astype(np.float64) if array.dtype.kind in "biu" else array


def _split_args(fun, args, argnums, transform, label: str = "argument {}"):
    """Flatten the arguments that `argnums` names into differentiable leaves.

    Returns (nums, leaves, treedefs, rebuild): the argnums as a tuple of non-negative ints,
    the flat leaves of those arguments (checked and promoted by `_prepare_input`), one
    (treedef, leaf count) per argument, and `rebuild(flat_leaves)`, which returns the whole
    positional argument list with those arguments rebuilt from `flat_leaves` (the others as
    given). `label` names an argument in errors ("argument 0", "primals[0]")."""
    nums = _normalize_argnums(fun, argnums, len(args), transform)
    leaves, treedefs, all_leaves = [], [], True
    for i in nums:
        if is_leaf(args[i]):  # PERF: an array or a number needs no flattening (split_args of
            # two floats: 4 us instead of 12)
            leaves.append(_prepare_input(args[i], label, i))
            treedefs.append(_ONE_LEAF)
            continue
        flat, treedef = tree_flatten(args[i])
        if not flat and args[i] is None:
            raise TypeError(f"{label.format(i)} is None: there is nothing to differentiate. Pass "
                            f"a number or an array (e.g. 1.0 or np.zeros(3)), or leave it out "
                            f"of argnums.")
        leaves.extend(_prepare_input(x, label, i) for x in flat)
        treedefs.append((treedef, len(flat)))
        all_leaves = False

    def rebuild(flat_leaves):
        full = list(args)
        if all_leaves:  # PERF: one leaf per argument, nothing to unflatten
            for i, x in zip(nums, flat_leaves):
                full[i] = x
            return full
        start = 0
        for i, (treedef, n) in zip(nums, treedefs):
            full[i] = tree_unflatten(treedef, flat_leaves[start:start + n])
            start += n
        return full

    return nums, leaves, treedefs, rebuild


_ONE_LEAF = (LEAF, 1)  # the (treedef, leaf count) of an argument that is a leaf


def _per_arg(flat: list, treedefs, argnums) -> Any:
    """Regroup flat per-leaf results into the argnums structure (one tree, or a tuple)."""
    if treedefs.count(_ONE_LEAF) == len(treedefs):  # PERF: leaves regroup as they are (0.7
        # us instead of 2.3 for two)
        return tuple(flat) if isinstance(argnums, (tuple, list)) else flat[0]
    out, start = [], 0
    for treedef, n in treedefs:
        out.append(tree_unflatten(treedef, flat[start:start + n]))
        start += n
    return tuple(out) if isinstance(argnums, (tuple, list)) else out[0]


def _finalize(tree, tensors_in: bool):
    """NumPy in, NumPy out; Tensors in, Tensors out; tracers of outer transforms stay."""
    if tree.__class__ in _ARRAYS:  # PERF: one array, 0.7 us instead of 1.8
        return _convert(tree, tensors_in)
    flat, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [_convert(x, tensors_in) for x in flat])


_ARRAYS = (np.ndarray, np.float64)


def _convert(x, tensors_in: bool):
    if isinstance(x, Tracer):  # staged by jit: the value it stands for takes this type
        return x.as_returned() if x.__class__ is StagingTracer else x
    x = np.asarray(x)
    if x.ndim and not x.flags.writeable:  # e.g. a broadcast view: give the user an array
        x = x.copy()                      # they can modify
    if tensors_in:
        return Tensor._make(x, None)
    return x[()] if x.ndim == 0 else x


def _has_tensor(args) -> bool:
    if _PLAIN.issuperset(map(type, args)):  # PERF: plain arguments need no flattening (0.6 us
        # instead of 2.6 for two floats)
        return False
    return any(isinstance(x, Tensor) for x in tree_flatten(list(args))[0])


_PLAIN = frozenset({float, int, complex, bool, np.ndarray, np.float64, np.float32})  # no Tensor


def _split_aux(out, has_aux: bool, transform: str):
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"{transform}(..., has_aux=True) needs the function to return a pair "
                        f"(output, aux), but it returned {_describe(out)}. Return both, as in "
                        f"`return loss, aux`, or drop has_aux=True.")
    return out[0], out[1]


def _check_numeric(values: list, transform: str) -> None:
    """Outputs must be numbers or arrays of numbers (JAX: "not a valid JAX type")."""
    for v in values:
        if _kind(v) not in _NUMERIC:
            raise _non_numeric_output(v, transform)


def _non_numeric_output(v, transform: str) -> TypeError:
    aux = "" if transform == "vmap" else ", and anything else as aux (has_aux=True)"
    return TypeError(f"{transform}: the function returned {_describe(v)} where a number or an "
                     f"array of numbers is needed. Return numbers or arrays (ad.numpy functions "
                     f"of the inputs){aux}.")


def _check_holomorphic_inputs(leaves: list, holomorphic: bool, transform: str,
                              forward: bool = False) -> None:
    """JAX's rule: holomorphic=True needs complex inputs; jacfwd without it needs real ones."""
    if not (holomorphic or forward):
        return  # PERF: grad and jacrev of real or complex inputs: nothing to check, no loop
    for i, x in enumerate(leaves):  # NOTE: prepared leaves, so each has a dtype
        if holomorphic and x.dtype.kind != "c":
            raise ComplexDifferentiationError(
                f"{transform} with holomorphic=True requires inputs with complex dtype, but "
                f"input {i} has dtype {dtype_of(x)}. Convert it (x + 0j), or drop "
                f"holomorphic=True to differentiate a function of real inputs.")
        if forward and not holomorphic and x.dtype.kind == "c":
            raise ComplexDifferentiationError(
                f"{transform} requires real-valued inputs, but input {i} has dtype "
                f"{dtype_of(x)}. For a holomorphic function pass holomorphic=True; for a "
                f"non-holomorphic function of complex inputs use ad.jvp directly, or "
                f"differentiate with respect to the real and imaginary parts as separate real "
                f"inputs.")


def _common_dtype(dtypes: list):
    """np.result_type(*dtypes) (PERF: a look-up when they are one of the usual ones, instead
    of NumPy's dispatcher: 1.1 us instead of 2)."""
    first = dtypes[0]
    usual = (_USUAL_DTYPES.get(first) if len(set(dtypes)) == 1 and first.metadata is None
             else None)
    return np.result_type(*dtypes) if usual is None else usual


_USUAL_DTYPES = {np.dtype(t): np.dtype(t) for t in  # native byte order: result_type's own
                 (np.float16, np.float32, np.float64, np.complex64, np.complex128)}


def _check_outputs(values: list, holomorphic: bool, transform: str,
                   reverse: bool = True) -> None:
    """JAX's rules for outputs: numbers only; reverse mode (grad, jacrev) needs float outputs,
    or complex ones with holomorphic=True; holomorphic=True needs complex outputs."""
    for v in values:
        kind = _kind(v)
        if kind == "f" and not holomorphic:
            continue  # PERF: the usual case costs one dtype lookup
        if kind not in _NUMERIC:
            raise _non_numeric_output(v, transform)
        if holomorphic and kind != "c":
            raise ComplexDifferentiationError(
                f"{transform} with holomorphic=True requires outputs with complex dtype, but "
                f"the function returned dtype {dtype_of(v)}.")
        if reverse and kind == "c" and not holomorphic:
            raise ComplexDifferentiationError(
                f"{transform} requires real-valued outputs, but the function returned dtype "
                f"{dtype_of(v)}. For a holomorphic function pass holomorphic=True; for a "
                f"non-holomorphic function with complex outputs use ad.vjp directly, or "
                f"differentiate the real part (ad.numpy.real) or |f|**2.")
        if reverse and kind in "biu":
            raise NotDifferentiableError(
                f"{transform} requires a floating-point output (as JAX), but the function "
                f"returned dtype {dtype_of(v)}: an integer or boolean output is piecewise "
                f"constant and carries no derivative. Return a float (out.astype(float)) if you "
                f"want its zero derivative, or use ad.vjp for the pullback.")


# ----------------------------------------------------------------------------- reverse mode

def _tracing_with_aux(fun_of_leaves: Callable, has_aux: bool, transform: str,
                      numeric: bool = False):
    """The function a transform traces (outputs only), and a box that receives its aux;
    `numeric`: refuse non-numeric outputs inside the trace, before the engine handles them.
    `fun_of_leaves(*leaves)` takes the flat leaves, as the engines pass them."""
    aux_box = []
    if not (has_aux or numeric):  # PERF: nothing to split or check: traced as it is (one
        # Python call less per traced call)
        return fun_of_leaves, aux_box

    def traced(*tracers):
        out, aux = _split_aux(fun_of_leaves(*tracers), has_aux, transform)
        aux_box.append(aux)
        if numeric:
            _check_numeric(tree_flatten(out)[0], transform)
        return out

    return traced, aux_box


def _lower_aux(tree):
    """Aux outputs come back as values of the level below the finished transformation."""
    flat, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [x.primal_value() if isinstance(x, Tracer) and
                                    not x._trace.main.alive else x for x in flat])


def _vjp(fun_of_leaves: Callable, leaves: list, has_aux: bool, transform: str,
         once: bool = False):
    """-> (flat outputs, out treedef, aux, pullback(flat cts) -> flat input cotangents).
    `once`: the pullback runs a single time, so it frees each node's values as it goes."""
    traced, aux_box = _tracing_with_aux(fun_of_leaves, has_aux, transform)
    values, nodes, treedef, leaf_nodes = vjp_flat(traced, leaves)
    aux = _lower_aux(aux_box[0]) if has_aux else None

    def pullback(cts: Sequence) -> list:
        grads = backward_pass(nodes, list(cts), retain_graph=not once, capture=leaf_nodes)
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
    return _value_and_grad(fun, argnums, has_aux, holomorphic, "value_and_grad")


def _value_and_grad(fun: Callable, argnums, has_aux: bool, holomorphic: bool,
                    transform: str, with_value: bool = True) -> Callable:
    """value_and_grad; with `with_value=False`, grad (PERF: the value is not converted and
    there is no wrapper around value_and_grad, 2 us less)."""
    _check_callable(fun, transform)
    _check_argnums_type(argnums, transform)

    @functools.wraps(fun)
    def value_and_grad_fun(*args, **kwargs):
        nums, leaves, treedefs, rebuild = _split_args(fun, args, argnums, transform)
        _check_holomorphic_inputs(leaves, holomorphic, transform)
        values, treedef, aux, pullback = _vjp(
            lambda *xs: fun(*rebuild(xs), **kwargs), leaves, has_aux, transform, once=True)
        if len(values) != 1 or math.prod(shape_of(values[0])) != 1:
            raise _non_scalar(fun, values, transform)
        (out,) = values
        _check_outputs(values, holomorphic, transform)
        shape = shape_of(out)  # PERF: np.array(1) is np.ones(()) at a third of its cost (2 us)
        ct = np.array(1, dtype_of(out)) if shape == () else np.ones(shape, dtype_of(out))
        tensors_in = _has_tensor(args)
        grads = _finalize(_per_arg(pullback([ct]), treedefs, argnums), tensors_in)
        if not with_value:
            return (grads, aux) if has_aux else grads
        value = _finalize(tree_unflatten(treedef, values), tensors_in)
        return ((value, aux) if has_aux else value), grads

    value_and_grad_fun.autodx_transform = (transform, argnums)  # read by ad.explain
    return value_and_grad_fun


def _non_scalar(fun, values: list, transform: str) -> NonScalarOutputError:
    if not values:
        returned = "nothing to differentiate (None, or an empty container)"
    elif len(values) == 1:
        returned = f"shape {shape_of(values[0])}"
    else:
        returned = f"{len(values)} outputs"
    return NonScalarOutputError(
        f"{transform} needs a function with one scalar output, but {_signature(fun)} returned "
        f"{returned}. For every partial derivative use ad.jacobian(f) (add matrix=True for one "
        f"2-D array, rows = outputs); for a weighted sum of rows v^T J use ad.vjp(f, x) and "
        f"call the pullback with v; only if f is elementwise does "
        f"ad.grad(lambda x: f(x).sum()) give the per-element derivatives.")


def grad(fun: Callable, argnums=0, has_aux: bool = False,
         holomorphic: bool = False) -> Callable:
    """The gradient of a scalar-valued function with respect to the `argnums` arguments
    (complex inputs: see `value_and_grad`).

    >>> ad.grad(lambda x, y: 2 * x**2 + 3 * y, argnums=(0, 1))(2.0, 1.5)
    (8.0, 3.0)
    """
    return _value_and_grad(fun, argnums, has_aux, holomorphic, "grad", with_value=False)


def vjp(fun: Callable, *primals, has_aux: bool = False):
    """`(f(*primals), pullback)`; `pullback(ct)` returns one cotangent per primal, as a tuple.

    >>> out, pullback = ad.vjp(lambda x: x * x, 3.0); pullback(1.0)
    (6.0,)
    """
    _check_callable(fun, "vjp")
    nums = tuple(range(len(primals)))
    _, leaves, treedefs, rebuild = _split_args(fun, primals, nums, "vjp", "primals[{}]")
    values, treedef, aux, pullback = _vjp(lambda *xs: fun(*rebuild(xs)), leaves, has_aux, "vjp")
    _check_numeric(values, "vjp")
    tensors_in = _has_tensor(primals)

    def vjp_fun(ct):
        cts = _match_cotangents(ct, values, treedef)
        return _finalize(_per_arg(pullback(cts), treedefs, nums), tensors_in)

    out = _finalize(tree_unflatten(treedef, values), tensors_in)
    return (out, vjp_fun, aux) if has_aux else (out, vjp_fun)


def _match_cotangents(ct, values: list, treedef) -> list:
    """The pullback's argument: numbers (TypeError), with the output's structure and shapes
    (ValueError, as JAX), real for a real output; cast to each output's dtype."""
    cts, ct_treedef = tree_flatten(ct)
    for c in cts:
        if _kind(c) not in _NUMERIC:
            raise TypeError(f"the cotangent given to the pullback must be arrays of numbers, got "
                            f"{_describe(c)}; pass one array per output of f, with its shape")
    want = [shape_of(v) for v in values]
    if ct_treedef != treedef or [shape_of(c) for c in cts] != want:
        example = f"pullback(np.ones({want[0]}))" if len(want) == 1 else "pullback((ct1, ...))"
        raise ValueError(
            f"the cotangent given to the pullback must have the structure and shapes of f's "
            f"output ({len(want)} output{'s' if len(want) != 1 else ''} of shape "
            f"{', '.join(map(str, want))}), got {_describe(ct)}. Pass one array per output with "
            f"its shape, e.g. {example}.")
    for c, v in zip(cts, values):
        if _kind(c) == "c" and not is_complex(v):
            raise ValueError(f"the cotangent has dtype {dtype_of(c)} but f's output is real "
                             f"({dtype_of(v)}); casting would drop the imaginary part. Pass a "
                             f"real cotangent (ad.numpy.real(ct)), or make the output complex.")
    return [np.asarray(c, dtype_of(v)) if not isinstance(c, Tracer) else c
            for c, v in zip(cts, values)]


# ----------------------------------------------------------------------------- forward mode

def jvp(fun: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False):
    """`(f(*primals), J @ tangents)`: one forward pass.

    >>> ad.jvp(lambda x: x * x, (3.0,), (1.0,))
    (9.0, 6.0)
    """
    _check_callable(fun, "jvp")
    _check_primals_tangents(primals, tangents, "jvp")
    nums = tuple(range(len(primals)))
    _, leaves, treedefs, rebuild = _split_args(fun, primals, nums, "jvp", "primals[{}]")
    t_flat = _flat_tangents(tangents, treedefs, primals, "jvp")
    t_leaves = [_match_tangent(t, x, i) for i, (t, x) in enumerate(zip(t_flat, leaves))]
    out, t_out, aux = _jvp(lambda *xs: fun(*rebuild(xs)), leaves, t_leaves, has_aux, "jvp")
    tensors_in = _has_tensor(primals)
    result = (_finalize(out, tensors_in), _finalize(t_out, tensors_in))
    return result + (aux,) if has_aux else result


def _check_primals_tangents(primals, tangents, transform: str) -> None:
    """Tuples of the same tree structure (JAX's TypeErrors)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{transform} takes primals and tangents as tuples, e.g. "
                        f"{_USAGE[transform]}, even for one argument; got "
                        f"{type(primals).__name__} and {type(tangents).__name__}")
    if len(primals) != len(tangents):
        raise TypeError(f"{transform} got {len(primals)} primals but {len(tangents)} tangents; "
                        f"give one tangent per primal, of the same structure and shape")


def _flat_tangents(tangents, treedefs, primals, transform: str) -> list:
    """The tangents' leaves, each tangent of its primal's tree structure (JAX's TypeError)."""
    flat = []
    for t, (treedef, _) in zip(tangents, treedefs):
        leaves, t_treedef = tree_flatten(t)
        if t_treedef != treedef:
            raise TypeError(
                f"{transform}: tangents must have the tree structure of primals, one array per "
                f"array (np.zeros_like(x) for a direction you do not follow); got tangents "
                f"{_structure_of(tuple(tangents))} for primals {_structure_of(tuple(primals))}")
        flat.extend(leaves)
    return flat


def _match_tangent(t, x, i: int):
    if _kind(t) not in _NUMERIC:
        raise TypeError(f"tangent {i} must be an array of numbers like its primal, got "
                        f"{_describe(t)}; e.g. np.ones_like(x)")
    if shape_of(t) != shape_of(x):
        raise ValueError(f"a tangent has shape {shape_of(t)} but its primal has shape "
                         f"{shape_of(x)}; each tangent must match its primal's shape "
                         f"(tangent {i}: pass an array of shape {shape_of(x)})")
    if _kind(t) == "c" and not is_complex(x):
        raise TypeError(f"tangent {i} has dtype {dtype_of(t)} but its primal is real "
                        f"({dtype_of(x)}); casting would drop the imaginary part. Pass a real "
                        f"tangent, or make the primal complex (x + 0j).")
    return t if isinstance(t, Tracer) else np.asarray(t, dtype_of(x))


def _jvp(fun_of_leaves, leaves, t_leaves, has_aux, transform, numeric: bool = True,
         tangent_leaves: bool = False):
    traced, aux_box = _tracing_with_aux(fun_of_leaves, has_aux, transform, numeric)
    out, t_out = jvp_flat(traced, leaves, t_leaves, tangent_leaves=tangent_leaves)
    return out, t_out, _lower_aux(aux_box[0]) if has_aux else None


def linearize(fun: Callable, *primals):
    """`(f(*primals), f_jvp)` where `f_jvp(*tangents)` is the JVP at `primals`.

    By partial evaluation, as JAX's: `f` runs once, and `f_jvp` replays only the compiled
    linear part (partial_eval.py). Under another transformation (traced primals) `f_jvp`
    runs `f` in forward mode again instead."""
    _check_callable(fun, "linearize")
    zeros = tuple(_zeros_tree(p, i) for i, p in enumerate(primals))
    from .partial_eval import linearize as partially_evaluated

    staged = partially_evaluated(fun, primals)
    if staged is not None:
        return staged
    out, _ = jvp(fun, primals, zeros)

    def f_jvp(*tangents):
        return jvp(fun, primals, tangents)[1]

    return out, f_jvp


def _zeros_tree(tree, i: int):
    flat, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [zeros_like_value(_prepare_input(x, "primals[{}]", i))
                                    for x in flat])


# ----------------------------------------------------------------------------- vmap

def vmap(fun: Callable, in_axes=0, out_axes=0) -> Callable:
    """Map `fun` over an axis of its arguments in one batched pass (no Python loop).

    in_axes/out_axes: an int (negative counts from the end), None (not mapped: the same value
    for every example), or a pytree matching the arguments/outputs. Keyword arguments are
    passed through, unmapped.
    >>> ad.vmap(lambda x, y: x @ y, in_axes=(0, None))(np.ones((5, 3)), np.ones(3)).shape
    (5,)
    """
    _check_callable(fun, "vmap")
    check_axis_spec(in_axes, "in_axes")
    check_axis_spec(out_axes, "out_axes")

    @functools.wraps(fun)
    def vmapped(*args, **kwargs):
        specs = tuple(in_axes) if isinstance(in_axes, (tuple, list)) else in_axes
        if isinstance(specs, tuple) and len(specs) != len(args):
            raise BatchingError(f"vmap(in_axes={in_axes!r}) has {len(specs)} entries but "
                                f"{_signature(fun)} was called with {len(args)} arguments; "
                                f"give in_axes one entry per positional argument (None for one "
                                f"that is not mapped), or one int for all of them")
        axes = broadcast_prefix(specs, tuple(args), name="in_axes")
        leaves, treedef = tree_flatten(tuple(args))
        leaves = [x if d is None or isinstance(x, Tracer) else _batch_input(x, i)
                  for i, (x, d) in enumerate(zip(leaves, axes))]
        sizes, dims = _mapped_sizes(leaves, axes, args, kwargs)
        out = vmap_flat(lambda *xs: fun(*tree_unflatten(treedef, xs), **kwargs), leaves, dims,
                        sizes[0][1], out_axes)
        _check_numeric(tree_flatten(out)[0], "vmap")
        return _finalize(out, _has_tensor(args))

    return vmapped


def _batch_input(x, i: int):
    array = np.asarray(x)
    if array.dtype.kind not in _NUMERIC:
        raise TypeError(f"vmap: input {i} is {_describe(x)}, not an array of numbers; pass an "
                        f"array (np.asarray(...)), or in_axes=None for a value that is passed "
                        f"through unmapped")
    return array


def _mapped_sizes(leaves: list, axes: list, args: tuple, kwargs: dict):
    """-> ([(input index, size)] of the mapped inputs, the canonical axis of every input)."""
    sizes, dims = [], []
    for i, (x, d) in enumerate(zip(leaves, axes)):
        if d is None:
            dims.append(None)
            continue
        ndim = len(shape_of(x))
        if not -ndim <= d < ndim:
            hint = (" A Python list or tuple is a container whose entries are mapped one by one: "
                    "pass np.asarray(...) to map over a list of numbers."
                    if ndim == 0 and any(isinstance(a, (list, tuple)) for a in args) else "")
            raise BatchingError(f"vmap: in_axes={d} for input {i} (shape {shape_of(x)}) is out "
                                f"of range for a {ndim}-d value; choose an axis in_axes the "
                                f"value has, or None to pass it unmapped.{hint}")
        dims.append(d % ndim)
        sizes.append((i, shape_of(x)[d % ndim]))
    if not sizes:
        hint = (" Keyword arguments are passed through unmapped: pass the arrays to map "
                "positionally, vmap(f)(x) rather than vmap(f)(x=x)." if kwargs else
                " Give in_axes an int for at least one positional argument.")
        raise BatchingError(f"vmap needs at least one mapped input, but in_axes maps none.{hint}")
    if len({n for _, n in sizes}) > 1:
        described = ", ".join(f"input {i} has size {n}" for i, n in sizes)
        raise BatchingError(f"vmap got inconsistent sizes along the mapped axes: {described}. "
                            f"Every mapped input needs the same size; pass in_axes=None for an "
                            f"input that is the same for every example.")
    return sizes, dims


def stop_gradient(x):
    """`x` as a constant: its value passes, no derivative flows through it (pytrees too)."""
    flat, treedef = tree_flatten(x)
    for v in flat:
        if _kind(v) not in _NUMERIC:
            raise TypeError(f"stop_gradient takes numbers or arrays (or pytrees of them), got "
                            f"{_describe(v)}")
    return _finalize(tree_unflatten(treedef, [prims.stop_gradient(v) for v in flat]),
                     _has_tensor(flat))


def hvp(fun: Callable, primals: Sequence, tangents: Sequence):
    """The Hessian-vector product H @ tangents of a scalar function, forward-over-reverse:
    the cost of a few gradients, and no n x n matrix.
    >>> ad.hvp(lambda x: ad.numpy.sum(x**3), (np.array([1.0, 2.0]),), (np.ones(2),))
    array([ 6., 12.])
    """
    _check_callable(fun, "hvp")
    _check_primals_tangents(primals, tangents, "hvp")
    argnums = tuple(range(len(primals)))
    out = jvp(_value_and_grad_only(fun, argnums), tuple(primals), tuple(tangents))[1]
    return out[0] if len(primals) == 1 else out


def _value_and_grad_only(fun: Callable, argnums) -> Callable:
    """grad under hvp's name, so that its errors name what the user called."""
    return _value_and_grad(fun, argnums, False, False, "hvp", with_value=False)


# ----------------------------------------------------------------------------- Jacobians

def _human(nbytes: float) -> str:
    """Bytes in binary units, as NumPy's "Unable to allocate 7.28 TiB"."""
    units = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB")
    power = 0
    while nbytes >= 1024 and power < len(units) - 1:
        nbytes, power = nbytes / 1024, power + 1
    return f"{nbytes:.3g} {units[power]}"


_ASK_FOR_LESS = (
    "Compute only what you need: for an elementwise f its diagonal is ad.vmap(ad.grad(f))(x); "
    "J @ v is ad.jvp(f, (x,), (v,))[1]; v^T J is ad.vjp(f, x)[1](v); for a scalar f, H @ v is "
    "ad.hvp(f, (x,), (v,)) and the gradient ad.grad(f)(x).")


def _check_dense(name: str, m: int | None, n: int, dtype, chunk_size: int | None,
                 forward: bool) -> None:
    """Refuse, before anything is allocated, an (m, n) Jacobian (m is unknown before a forward
    pass; a Hessian is at least n x n) or a batch of basis vectors over the limit: the basis
    spans the outputs in reverse mode, the inputs in forward mode, `chunk_size` at a time."""
    limit = JACOBIAN_LIMIT_BYTES
    itemsize = np.dtype(dtype).itemsize
    size = n if forward else m
    step = size if chunk_size is None else min(int(chunk_size), size)
    rows = n if name == "hessian" else m
    result = rows * n * itemsize if rows is not None else 0
    if limit is None or max(result, step * size * itemsize) <= limit:
        return
    what = "Hessian" if name == "hessian" else "Jacobian"
    where = (f"more than the {_human(limit)} that autodx builds at once "
             f"(autodx.api.JACOBIAN_LIMIT_BYTES; raise it, or set it to None, if the matrix "
             f"fits in memory)")
    if result > limit:
        raise JacobianSizeError(
            f"{name}: the {what} here is a dense ({rows}, {n}) {np.dtype(dtype)} matrix "
            f"({_human(result)}), {where}. {_ASK_FOR_LESS}")
    chunk = max(1, limit // (size * itemsize))
    other = "jacrev (one row per output)" if forward else "jacfwd (one column per input)"
    raise JacobianSizeError(
        f"{name}: building the {what} in one batched pass over all {size} "
        f"{'inputs' if forward else 'outputs'} needs a dense ({step}, {size}) "
        f"{np.dtype(dtype)} batch of basis vectors ({_human(step * size * itemsize)}), {where}. "
        f"Pass chunk_size={chunk} (or less) to build it {chunk} "
        f"{'columns' if forward else 'rows'} at a time, or use {other}. {_ASK_FOR_LESS}")


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


def _cut_basis(basis: np.ndarray, shapes: list[tuple]) -> list:
    """`_split_flat` of every row of a batch of basis vectors at once: one batched piece per
    leaf, the same NumPy slices vmap takes of the batch (PERF: no index op under the traces)."""
    if len(shapes) == 1 and len(shapes[0]) == 1:
        return [basis]
    rows, out, start = basis.shape[0], [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(basis[:, start] if shape == () else
                   basis[:, start:start + size].reshape((rows, *shape)))
        start += size
    return out


def _over_basis(fun: Callable, shapes: list[tuple], size: int, dtype, chunk_size: int | None):
    """vmap `fun(*pieces)` over the standard basis vectors of R^size, each cut into pieces of
    `shapes`, `chunk_size` vectors at a time (all at once when None): one batched pass per
    chunk instead of a Python loop per vector; each chunk's basis is made when it is needed,
    so `chunk_size` bounds the memory. `fun` returns a list of leaves; each comes back with a
    leading axis of `size` rows, except for one basis vector (size 1), where `fun` runs once,
    unbatched, and its leaves come back as they are."""
    if size == 1:  # PERF: a single basis vector needs no batching
        return fun(*_split_flat(np.array([1], dtype), shapes))  # PERF: np.ones: 1 us more
    step = size if chunk_size is None or chunk_size >= size else int(chunk_size)
    chunks = []
    for i in range(0, size, step):
        rows = min(step, size - i)  # rows e_i ... e_{i+rows-1}: ones at (j, i + j)
        pieces = _cut_basis(np.eye(rows, size, k=i, dtype=dtype), shapes)
        chunks.append(vmap_flat(fun, pieces, [0] * len(pieces), rows, 0))
    if len(chunks) == 1:
        return chunks[0]
    return [anp.concatenate(parts, axis=0) for parts in zip(*chunks)]


# PERF: putting Jacobian blocks together is only data movement, which NumPy's own methods do
# on concrete arrays at a fifth of the cost of a primitive application (a 2x2 Hessian: 5 of
# them); ad.numpy where an outer transformation traces the blocks.

def _reshape(x, shape: tuple):
    return x.reshape(shape) if x.__class__ is np.ndarray else anp.reshape(x, shape)


def _transpose(x, axes: tuple | None = None):
    return x.transpose(axes) if x.__class__ is np.ndarray else anp.transpose(x, axes)


def _concatenate(arrays: list, axis: int):
    concrete = _ARRAY_ONLY.issuperset(map(type, arrays))
    return (np if concrete else anp).concatenate(arrays, axis=axis)


_ARRAY_ONLY = frozenset({np.ndarray})


def _side_by_side(blocks: list, rows: int, sizes: list[int]):
    """One (rows, sum(sizes)) matrix of blocks, each `rows` by its size (in any shape)."""
    pieces = [b if shape_of(b) == (rows, k) else _reshape(b, (rows, k))
              for b, k in zip(blocks, sizes)]
    return pieces[0] if len(pieces) == 1 else _concatenate(pieces, axis=1)


def _leaf_info(leaves: list) -> tuple[list, int, Any]:
    """(shapes, total size, common dtype) of the differentiated (prepared) leaves."""
    shapes = [x.shape for x in leaves]  # NOTE: a prepared leaf is an array or a tracer
    n = sum(map(math.prod, shapes))
    dtype = _common_dtype([x.dtype for x in leaves]) if leaves else np.float64
    return shapes, n, dtype


def _rev_blocks(f: Callable, leaves: list, n: int, has_aux: bool, chunk_size: int | None,
                holomorphic: bool, name: str):
    """Reverse mode: one pullback of a batch of output basis vectors. -> (blocks, m, values,
    treedef, out shapes, aux): per input leaf the m rows of its Jacobian columns (None when
    m or n is 0), and f's m-element output as `tree_flatten` gives it."""
    values, treedef, aux, pullback = _vjp(f, leaves, has_aux, name)
    _check_outputs(values, holomorphic, name)
    out_shapes = [shape_of(v) for v in values]
    m = sum(map(math.prod, out_shapes))
    if not (m and n):
        return None, m, values, treedef, out_shapes, aux
    out_dtype = _common_dtype([dtype_of(v) for v in values])
    _check_dense(name, m, n, out_dtype, chunk_size, False)
    blocks = _over_basis(lambda *cts: pullback(cts), out_shapes, m, out_dtype, chunk_size)
    return blocks, m, values, treedef, out_shapes, aux


def _fwd_blocks(f: Callable, leaves: list, in_shapes: list, n: int, dtype, has_aux: bool,
                chunk_size: int | None, holomorphic: bool, name: str, user_fun: bool = True):
    """Forward mode: one JVP of a batch of input basis vectors. -> (blocks, m, values,
    treedef, out shapes, aux): per output leaf its n columns, first axis the basis vector
    (None when n is 0). `user_fun=False`: f is autodx's own (the Hessian's inner Jacobian),
    whose outputs need no checks."""
    primal = []  # (out, aux): neither depends on the tangents, so vmap need not see them

    def column(*t):
        out, t_out, aux = _jvp(f, leaves, list(t), has_aux, name, numeric=user_fun,
                               tangent_leaves=True)
        primal.append((out, aux))
        return t_out

    if n:
        _check_dense(name, None, n, dtype, chunk_size, True)
        blocks = _over_basis(column, in_shapes, n, dtype, chunk_size)
        out, aux = primal[0]
    else:
        blocks, (out, _, aux) = None, _jvp(f, leaves, [zeros_like_value(x) for x in leaves],
                                           has_aux, name, numeric=user_fun)
    values, treedef = tree_flatten(out)
    if user_fun:
        _check_outputs(values, holomorphic, name, reverse=False)
    out_shapes = [shape_of(v) for v in values]
    return blocks, sum(map(math.prod, out_shapes)), values, treedef, out_shapes, aux


def _jac_matrix(fun, args, argnums, has_aux, mode: str, chunk_size: int | None,
                holomorphic: bool, name: str):
    """The (M, N) Jacobian of `fun` at `args`, with what is needed to give it structure."""
    forward = mode == "fwd"
    nums, leaves, treedefs, rebuild = _split_args(fun, args, argnums, name)
    _check_holomorphic_inputs(leaves, holomorphic, name, forward)
    in_shapes, n, dtype = _leaf_info(leaves)
    f = lambda *xs: fun(*rebuild(xs))
    if forward:
        blocks, m, values, treedef, out_shapes, aux = _fwd_blocks(
            f, leaves, in_shapes, n, dtype, has_aux, chunk_size, holomorphic, name)
        jac = (_transpose(_side_by_side(blocks, n, [math.prod(s) for s in out_shapes]))
               if n and m else np.zeros((m, n), dtype))
    else:
        blocks, m, values, treedef, out_shapes, aux = _rev_blocks(
            f, leaves, n, has_aux, chunk_size, holomorphic, name)
        jac = (np.zeros((m, n), dtype) if blocks is None else
               _side_by_side(blocks, m, [math.prod(s) for s in in_shapes]))
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
            blocks.append(_reshape(block, tuple(o_shape) + tuple(i_shape)))
            col += cols
        per_out.append(_per_arg(blocks, treedefs, argnums))
        row += rows
    return tree_unflatten(treedef, per_out)


def _jacobian(mode: str, fun: Callable, argnums, has_aux: bool, matrix: bool,
              chunk_size: int | None, holomorphic: bool, name: str) -> Callable:
    _check_transform(fun, argnums, chunk_size, name)

    @functools.wraps(fun)
    def jac_fun(*args, **kwargs):
        f = functools.partial(fun, **kwargs) if kwargs else fun
        jac, values, treedef, out_shapes, in_shapes, treedefs, aux = _jac_matrix(
            f, args, argnums, has_aux, mode, chunk_size, holomorphic, name)
        result = jac if matrix else _structure(jac, treedef, out_shapes, in_shapes, treedefs,
                                               argnums)
        result = _finalize(result, _has_tensor(args))
        return (result, aux) if has_aux else result

    jac_fun.autodx_transform = (name, argnums)  # read by ad.explain
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
    return _jacobian("rev", fun, argnums, has_aux, matrix, chunk_size, holomorphic, "jacrev")


def jacfwd(fun: Callable, argnums=0, has_aux: bool = False, matrix: bool = False,
           chunk_size: int | None = None, holomorphic: bool = False) -> Callable:
    """The Jacobian by forward mode: one batched JVP of every input basis vector (`chunk_size`
    at a time); same layout as `jacrev`."""
    return _jacobian("fwd", fun, argnums, has_aux, matrix, chunk_size, holomorphic, "jacfwd")


def jacobian(fun: Callable, argnums=0, has_aux: bool = False, matrix: bool = False,
             chunk_size: int | None = None, holomorphic: bool = False) -> Callable:
    """`jacrev` under the name users call (its errors say `jacobian`)."""
    return _jacobian("rev", fun, argnums, has_aux, matrix, chunk_size, holomorphic, "jacobian")


def hessian(fun: Callable, argnums=0, has_aux: bool = False, matrix: bool = False,
            chunk_size: int | None = None, holomorphic: bool = False) -> Callable:
    """Second derivatives, as forward-over-reverse (`jacfwd(jacrev(f))`).

    `matrix=True` gives, rows = outputs, the (n, n) matrix over all argnums inputs flattened
    in order for a scalar output (shape ()), and (m, n, n) for any other output with m
    elements in all (an output of shape (1,) gives (1, n, n)):
    >>> ad.hessian(lambda x, y: x**2 + y**2, argnums=(0, 1), matrix=True)(2.0, 1.0)
    array([[2., 0.],
           [0., 2.]])
    """
    _check_transform(fun, argnums, chunk_size, "hessian")
    # NOTE: the tree form is jacfwd(jacrev(f)), and its checks of f's outputs name jacrev, as
    # they always have.
    inner_name = "hessian" if matrix else "jacrev"

    @functools.wraps(fun)
    def hessian_fun(*args, **kwargs):
        f = functools.partial(fun, **kwargs) if kwargs else fun
        h, out_shapes, treedef, in_shapes, treedefs, aux = _hessian(
            f, args, argnums, has_aux, chunk_size, holomorphic, inner_name)
        if matrix:
            n = h.shape[-1]
            h = _reshape(h, (n, n)) if out_shapes == [()] else h
        else:
            h = _hessian_structure(h, treedef, out_shapes, in_shapes, treedefs, argnums)
        h = _finalize(h, _has_tensor(args))
        return (h, aux) if has_aux else h

    hessian_fun.autodx_transform = ("hessian", argnums)  # read by ad.explain
    return hessian_fun


def _hessian(f: Callable, args, argnums, has_aux: bool, chunk_size: int | None,
             holomorphic: bool, inner_name: str):
    """The (m, n, n) Hessian of `f` at `args`, forward over reverse, with what is needed to
    give it structure: (H, out shapes, out treedef, in shapes, argnums treedefs, aux).

    PERF: the inner reverse pass returns its Jacobian as blocks, one per input leaf, and the
    outer forward pass gets one batched tangent per leaf, so no stack, index or reshape runs
    under the traces; the blocks are put together once, at the end, by NumPy (a 2x2 Hessian:
    33 primitive applications instead of 50, 40% fewer instructions)."""
    nums, leaves, treedefs, rebuild = _split_args(f, args, argnums, "hessian")
    _check_holomorphic_inputs(leaves, holomorphic, "hessian", True)
    in_shapes, n, dtype = _leaf_info(leaves)
    inner = []  # (m, out shapes, out treedef) of f, from the first run of the inner pass

    def jac_blocks(*xs):  # f's reverse-mode Jacobian at xs, one block per input leaf
        blocks, m, _, treedef, shapes, aux = _rev_blocks(
            lambda *ys: f(*rebuild(ys)), list(xs), n, has_aux, chunk_size, holomorphic,
            inner_name)
        inner.append((m, shapes, treedef))
        blocks = [] if blocks is None else blocks
        return (blocks, aux) if has_aux else blocks

    blocks, _, _, _, _, aux = _fwd_blocks(jac_blocks, leaves, in_shapes, n, dtype, has_aux,
                                          chunk_size, holomorphic, "hessian", user_fun=False)
    m, out_shapes, treedef = inner[0]
    if not (m and n):
        return np.zeros((m, n, n), dtype), out_shapes, treedef, in_shapes, treedefs, aux
    # blocks[j]: (basis vector b, output row r, then leaf j's shape) -> H[r, leaf j's cols, b]
    pieces = [_reshape(b, (n, m, math.prod(s))) for b, s in zip(blocks, in_shapes)]
    stacked = pieces[0] if len(pieces) == 1 else _concatenate(pieces, axis=2)
    h = _transpose(stacked, (1, 2, 0))
    return h, out_shapes, treedef, in_shapes, treedefs, aux


def _hessian_structure(h, treedef, out_shapes, in_shapes, treedefs, argnums):
    """(m, n, n) -> JAX's layout (that of jacfwd(jacrev(f))): the output tree, each leaf
    the argnums tree of argnums trees of blocks of shape out.shape + in_i.shape + in_j.shape."""
    bounds, col = [], 0
    for shape in in_shapes:
        bounds.append((col, col + math.prod(shape), tuple(shape)))
        col += math.prod(shape)
    per_out, row = [], 0
    for o_shape in out_shapes:
        rows = math.prod(o_shape)
        per_i = []
        for i0, i1, i_shape in bounds:
            per_j = [_reshape(h[row:row + rows, i0:i1, j0:j1],
                                 tuple(o_shape) + i_shape + j_shape)
                     for j0, j1, j_shape in bounds]
            per_i.append(_per_arg(per_j, treedefs, argnums))
        per_out.append(_per_arg(per_i, treedefs, argnums))
        row += rows
    return tree_unflatten(treedef, per_out)
