"""The core: primitives, `bind`, the trace stack, tracer bases and the error types.

Invariants:
- `bind` is the only interception point. Arrays are positional, params keyword-only.
- Every transformation owns one `MainTrace` on the stack; its `id` is never reused and it is
  marked dead when the transformation returns, so a tracer that escapes is caught, and a
  tracer of another trace is a constant to this one (no perturbation confusion).
- Level 0 is the permanent eager trace of `Tensor` (torch face); transforms stack above it.
"""

from __future__ import annotations

import dis
import itertools
import math
import re
import sys
import threading
import warnings
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np

# ----------------------------------------------------------------------------- errors
# Each subclasses the builtin that PyTorch (torch face) or JAX (JAX face) raises for the same
# mistake, so users' existing `except` clauses keep working.


class NotDifferentiableError(TypeError, RuntimeError):
    """Differentiating with respect to an integer or boolean value."""


class NonScalarOutputError(TypeError, RuntimeError):
    """`grad`/`backward()` asked of an output with more than one element."""


class ArgnumsError(TypeError, ValueError):
    """`argnums` names a positional argument the function was not given: a TypeError as in
    JAX 0.10 (older JAX raised ValueError, so `except ValueError` keeps working too)."""


class FreedGraphError(RuntimeError):
    """A second backward pass through a graph whose saved values were freed."""


class InPlaceModificationError(RuntimeError):
    """A tensor saved for the backward pass was modified in place."""


class TracerConversionError(TypeError, RuntimeError):
    """A traced value (or a Tensor that requires grad) was turned into a float or ndarray,
    which would silently drop its derivative."""


class ArrayAssignmentError(TracerConversionError):
    """A traced value (or a Tensor that requires grad) was stored into a NumPy array with
    `ys[i] = x`, which would drop its derivative. NumPy then raises "setting an array element
    with a sequence" *from* this error, so this message is the first of the traceback."""


class EscapedTracerError(TypeError, RuntimeError):
    """A tracer was used after the transformation that made it had returned: a TypeError as
    JAX's UnexpectedTracerError (`except RuntimeError` keeps working too)."""


class BatchingError(ValueError):
    """vmap was given inconsistent sizes or axes, or a batched value was used concretely."""


class BatchedValueConversionError(BatchingError, TypeError):
    """A value batched by vmap was used in Python control flow or made concrete: a TypeError
    as JAX's TracerBoolConversionError (and still a BatchingError, a ValueError)."""


class NotATensorError(TypeError, RuntimeError):
    """The torch face was given something else where it needs a Tensor (`inputs=`,
    `outputs=`, `gradient=`, `.grad`): PyTorch raises TypeError or RuntimeError, depending on
    the argument, so this is both."""


class ScalarConversionError(ValueError, RuntimeError):
    """A Tensor of more than one element was converted to a Python number: PyTorch's `float(t)`
    raises ValueError and its `t.item()` RuntimeError, so this is both."""


class JacobianSizeError(MemoryError):
    """A dense Jacobian or Hessian (or the batch of basis vectors that builds it) would be
    larger than `autodx.api.JACOBIAN_LIMIT_BYTES`; raised before anything is allocated.

    NOTE: a MemoryError, not a ValueError: the request is valid and would succeed with more
    memory (or a higher limit), and MemoryError is what NumPy raised here before the check
    ("Unable to allocate 7.28 TiB"), so `except MemoryError` clauses keep working."""


class UnsupportedNumpyFunctionError(TypeError):
    """A NumPy function autodx cannot differentiate was called on a traced value."""


class ComplexDifferentiationError(TypeError):
    """A complex input or output where the transformation needs a real one (pass
    `holomorphic=True` for a holomorphic function), or `holomorphic=True` on real values."""


# ----------------------------------------------------------------------------- primitives

PRIMITIVES: dict[str, Primitive] = {}


class Primitive:
    """A named operation that owns its rules.

    impl(*arrays, **params) -> ndarray (NumPy; never mutates its inputs)
    jvp(primals, tangents, **params) -> (out, out_dot)
    vjp(needs, g, out, *primals, **params) -> tuple, one cotangent (or None) per input;
        `needs[i]` says whether input i wants one. The engine sums each to its input's shape.
    batch(axis_size, args, dims, **params) -> (out, out_dim)
    linear: the op is linear in all its array inputs jointly (jvp = the op on the tangents).
    nondiff: the output is piecewise constant (comparisons); it never carries a derivative.
    reads_inputs: the vjp rule reads its inputs' values (not only `out` and shapes), so the
        torch face refuses to run it after one of them was modified in place; or a function
        of `needs` saying which inputs it reads.
    """

    __slots__ = ("name", "impl", "jvp", "vjp", "batch", "linear", "nondiff", "reads_inputs")

    def __init__(self, name: str, impl: Callable, *, linear: bool = False, nondiff: bool = False,
                 reads_inputs: bool | Callable | None = None):
        if name in PRIMITIVES:
            raise ValueError(f"primitive {name!r} is already registered")
        self.name, self.impl, self.linear, self.nondiff = name, impl, linear, nondiff
        self.reads_inputs = not linear if reads_inputs is None else reads_inputs
        self.jvp = self.vjp = self.batch = None
        PRIMITIVES[name] = self

    def def_jvp(self, rule: Callable) -> Callable:
        self.jvp = rule
        return rule

    def def_vjp(self, rule: Callable) -> Callable:
        self.vjp = rule
        return rule

    def def_batch(self, rule: Callable) -> Callable:
        self.batch = rule
        return rule

    def __repr__(self) -> str:
        return f"Primitive({self.name})"


# ----------------------------------------------------------------------------- traces

_trace_ids = itertools.count()


class MainTrace:
    """One running transformation. `id` is never reused; `alive` turns False on exit, and
    `trace` is dropped then, so no MainTrace <-> Trace cycle is left for the garbage collector
    (an escaped tracer still reaches `alive` through its trace). `axis_size`: vmap's batch
    size."""

    __slots__ = ("level", "trace", "id", "alive", "axis_size")

    def __init__(self, level: int, trace_type: type, axis_size: int | None = None):
        self.level, self.id, self.alive, self.axis_size = (
            level, next(_trace_ids), True, axis_size)
        self.trace = trace_type(self)

    def __repr__(self) -> str:
        kind = "returned" if self.trace is None else type(self.trace).__name__
        return f"MainTrace(level={self.level}, id={self.id}, {kind})"


class Trace:
    """Interprets primitives for one transformation.

    `process_primitive` receives the arguments as given to `bind`: its own tracers, and
    constants, which include tracers of lower traces (that is what keeps nested derivatives
    apart: an outer variable is a constant to an inner transformation)."""

    __slots__ = ("main",)

    def __init__(self, main: MainTrace):
        self.main = main

    def process_primitive(self, prim: Primitive, args: tuple, params: dict):
        raise NotImplementedError

    def lower(self, args, data: str) -> tuple[list, list, bool]:
        """Split values for this trace: each one's value one level down, this trace's `data`
        attribute of it (the tangent, node, batch axis), None for a constant, and whether any
        is not None (tested here: `datas.count(None)` would compare tracers with ==)."""
        values, datas, found = [], [], False
        for a in args:
            if isinstance(a, Tracer) and a._trace is self:
                values.append(a._value)
                d = getattr(a, data)
                datas.append(d)
                found = found or d is not None
            else:
                values.append(a)
                datas.append(None)
        return values, datas, found


class Tracer:
    """A value being traced by one `Trace`: `_value` is its value one level down (a tracer of
    a lower trace, or an array). Operators come from `numpy.ARRAY_METHODS`."""

    __slots__ = ("_trace", "_value")
    __array_priority__ = 1000
    __hash__ = object.__hash__  # `==` is elementwise, identity keeps tracers usable as keys

    @property
    def shape(self) -> tuple:
        return shape_of(self.primal_value())

    @property
    def dtype(self) -> np.dtype:
        return dtype_of(self.primal_value())

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d value")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d value")
        return (self[i] for i in range(self.shape[0]))

    def primal_value(self):
        """The next value down (may itself be a tracer of a lower trace)."""
        return self._value

    def concrete(self) -> np.ndarray:
        """The underlying NumPy value, through every trace (for control flow, printing);
        a batched level refuses, as its value differs from example to example."""
        v = self.primal_value()
        return v.concrete() if isinstance(v, Tracer) else np.asarray(v)

    # Python control flow on concrete values is allowed; silently dropping a derivative is not.
    def __bool__(self) -> bool:
        return bool(self.concrete())

    def _conversion_error(self, what: str):
        return TracerConversionError(
            f"{what} was called on a value that autodx is differentiating or batching "
            f"(shape {self.shape}, dtype {self.dtype}); converting it would silently drop its "
            "derivative. Keep the computation in autodx operations (ad.numpy or the value's "
            "methods), return the value instead, or wrap it in ad.stop_gradient(...) if you "
            "really want a constant."
        )

    def __array__(self, dtype=None, copy=None):
        if stored_into_array():
            raise array_assignment_error(self.shape)
        raise self._conversion_error("np.asarray()/np.array()")

    def __float__(self):
        if stored_into_array():
            raise array_assignment_error(self.shape)
        raise self._conversion_error("float()")

    def __int__(self):
        raise self._conversion_error("int()")

    def item(self):
        raise self._conversion_error(".item()")

    def backward(self, *args, **kwargs):
        raise RuntimeError(
            "backward() is the tape's (the torch face's), but this value is traced by a "
            "function transformation (grad, vjp, jit, ...), which records nothing for it. "
            "Inside the transformed function use the functional face: ad.grad(loss)(params) "
            "or ad.value_and_grad(loss)(params); or call .backward() outside it, on a Tensor.")

    def tolist(self):
        raise self._conversion_error(".tolist()")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.concrete()!r})"


# `ys[i] = x`, and `ys[a:b] = x` from Python 3.12 on
_STORES = {dis.opmap[name] for name in ("STORE_SUBSCR", "STORE_SLICE") if name in dis.opmap}


def stored_into_array() -> bool:
    """Whether the running `__float__` was called by NumPy for `ys[i] = x` in the user's code:
    the innermost Python frame below it is executing a subscript store (NumPy's C code makes
    no frame). Only asked on the way to raising an error, never on a hot path."""
    frame = sys._getframe(2)  # 0: this function, 1: __float__, 2: the user's code
    return frame.f_code.co_code[frame.f_lasti] in _STORES


def array_assignment_error(shape: tuple) -> ArrayAssignmentError:
    return ArrayAssignmentError(
        f"a value autodx is differentiating (shape {shape}) was stored into a NumPy array "
        f"with ys[i] = x; a NumPy array holds plain numbers, so the derivative would be lost. "
        f"Collect the values in a list and stack them (ys.append(x); ys = ad.numpy.stack(ys)), "
        f"or build the new array functionally: ys = ad.numpy.where(ad.numpy.arange(n) == i, "
        f"x, ys) (on a traced or Tensor ys, ys = ys.at[i].set(x) too).")


def concrete(x):
    """x's NumPy value, through every trace (a BatchingError under vmap, where it differs
    from example to example); non-tracers as they are. For what shapes depend on."""
    return x.concrete() if isinstance(x, Tracer) else x


def is_complex(x) -> bool:
    return np.dtype(dtype_of(x)).kind == "c"


def no_out(out, name: str) -> None:
    """The `out=` argument NumPy functions take: refused, autodx never writes in place."""
    if out is not None:
        raise TypeError(f"{name}(..., out=...) is not supported: autodx never writes into an "
                        f"existing array. Use the returned value: y = np.{name}(x, ...).")


def dtype_of(value) -> np.dtype:
    if isinstance(value, (np.ndarray, np.generic, Tracer)):
        return value.dtype
    return np.result_type(value)


def shape_of(value) -> tuple:
    try:  # PERF: arrays, NumPy scalars and tracers all have .shape
        return value.shape
    except AttributeError:
        return np.shape(value)



class _Stack(threading.local):
    """The running transformations of this thread. Level 0 is the permanent eager trace of
    `Tensor` (made in tensor.py, never on this stack); transformations take levels 1, 2, ...
    as they nest."""

    def __init__(self):
        self.mains: list[MainTrace] = []
        # The staging traces of `jit` (staging.py), innermost last; None while a staged
        # primitive's impl runs (its own binds must not be staged again).
        self.staging: list[MainTrace | None] = []


_stack = _Stack()
# How many staging traces are open in any thread: `bind` looks for one only when this is not 0.
staging_count = [0]
staging_open = False  # staging_count[0] > 0, kept by staging.py: a single name for bind to read


_IMPL_CALLS: list[tuple[str, int]] = []  # (module, line) of each impl call inside a `try`
_installed = None  # the last filter ensure_warning_filter put in place


def impl_call_site(code, module: str) -> None:
    """Register the line where `code` (a function's code, in `module`) calls an impl inside
    `try: ... except RuntimeWarning`: only a warning from exactly that line becomes an
    exception, so everything else in the module (and user callbacks it runs) warns as usual."""
    global _installed
    line = None
    for ins in dis.get_instructions(code):
        line = ins.starts_line or line
        if ins.argval == "impl":
            _IMPL_CALLS.append((module, line))
            _installed = None
            return
    raise ValueError(f"{code.co_name} calls no impl")


def ensure_warning_filter() -> None:
    """Turn NumPy's RuntimeWarnings from the lines that run impls (and from the primitives'
    own Python impls) into exceptions, which `bind` and the eager trace catch to warn at the
    user's line instead (anomaly.py); all other code keeps NumPy's warnings. Put back when a
    `warnings.catch_warnings()` block (pytest runs each test and its collection in one)
    dropped it: asked once per transformation, new Tensor and backward pass."""
    global _installed
    if _installed is None or _installed not in warnings.filters:
        warnings.filterwarnings("error", category=RuntimeWarning,
                                module=r"autodx\.prims(\.\w+)?$")
        for module, line in _IMPL_CALLS:
            warnings.filterwarnings("error", category=RuntimeWarning,
                                    module=re.escape(module) + "$", lineno=line)
        _installed = warnings.filters[0]


@contextmanager
def new_main(trace_type: type, axis_size: int | None = None):
    """Push a fresh transformation on this thread's stack for the duration of the block."""
    ensure_warning_filter()
    mains = _stack.mains
    main = MainTrace(len(mains) + 1, trace_type, axis_size)
    mains.append(main)
    try:
        yield main
    finally:
        main.alive = False
        main.trace = None
        mains.remove(main)


def bind(prim: Primitive, *args, **params):
    """Apply `prim`: by its NumPy impl, or by the highest trace among the arguments."""
    # PERF: the common cases are no tracer at all, or tracers of a single trace.
    top = None
    for a in args:
        if isinstance(a, Tracer):
            main = a._trace.main
            if not main.alive:
                raise _escaped(main, a)
            if top is None or main.level > top.level:
                top = main
    if staging_open:  # PERF: one global read per bind (a list subscript cost 20-40 ns more)
        top = _staging_top(top)
    if top is None:
        try:
            return prim.impl(*args, **params)
        except RuntimeWarning:  # NumPy's warning, to be shown at the user's line (anomaly.py)
            from .anomaly import impl_warned
            return impl_warned(prim, args, params)
        except TracerConversionError:  # a list holding traced values: array_like, as NumPy's
            if not any(a.__class__ in (list, tuple) for a in args):
                raise
            from .numpy._shapes import as_array
            return bind(prim, *[as_array(a) if a.__class__ in (list, tuple) else a
                                for a in args], **params)

    return top.trace.process_primitive(prim, args, params)


def _staging_top(top: MainTrace | None) -> MainTrace | None:
    """A staging trace records every primitive bound while it runs, those on constants only
    too, unless a transformation above it holds one of the arguments."""
    staging = _stack.staging
    if staging and staging[-1] is not None and (top is None or staging[-1].level > top.level):
        return staging[-1]
    return top


def _escaped(main: MainTrace, tracer=None) -> EscapedTracerError:
    site = getattr(tracer, "site", None)
    made = f" It was made at {site[0]}:{site[1]}." if site else ""
    return EscapedTracerError(
        f"a value traced by a transformation that has already returned ({main}) was used "
        "again. This happens when a function under jit/grad/jvp/vjp/vmap stores an "
        "intermediate value in a global or a closure and it is used after the call."
        f"{made} Return the value from the function instead (has_aux=True returns extra "
        "outputs)."
    )


impl_call_site(bind.__code__, __name__)
