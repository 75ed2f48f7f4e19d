"""Staging: run a function once on the call's concrete values and record every primitive it
binds into a `Program` (program.py) — what `jit` compiles.

Invariants:
- A `StagingTracer` carries the concrete value it has in this call (`_value`), so Python code
  that reads values keeps working: each `bool()`/`int()`/`float()`/`.item()`/`np.asarray()` of
  a staged value returns that value and records a `Guard`; the program is valid only for calls
  whose guards come out the same (jit.py retraces otherwise).
- While staging, `bind` routes to this trace every primitive that no transformation above it
  holds, those on constants only too (core.staging_count), so the program sees all of them.
- A tracer of another trace (an outer transformation's value, a Tensor) is never frozen: it
  becomes an extra program input, listed in `Program.closures`.
- Transformations run *inside* staging (jit(grad(f))) bind on StagingTracers, so the program
  contains the derivative itself.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager

import numpy as np

from . import core
from .core import Trace, Tracer, _stack, impl_call_site, new_main, staging_count
from .program import READERS, Eqn, Guard, Lit, Program, Var
from .tree import tree_flatten

_SCALARS = (int, float, bool, complex)
TAPE_IN_JIT = (
    "the tape (requires_grad=True, .backward(), ad.autograd.grad) records operations as they "
    "run, so it cannot be staged inside ad.jit. Inside the jitted function use the functional "
    "face instead, which is staged: ad.grad(loss)(params) or ad.value_and_grad(loss)(params); "
    "or call .backward() on the result of the jitted function, outside it.")
_count_lock = threading.Lock()


class StagingTracer(Tracer):
    __slots__ = ("var", "site")

    def __init__(self, trace: StagingTrace, value, var: Var):
        self._trace, self._value, self.var, self.site = trace, value, var, user_site()

    # Reading a staged value is a guard (Tracer's versions would refuse: nothing is being
    # differentiated here, and the value is known for this call).
    def _read(self, kind: str):
        main = self._trace.main
        if not main.alive:
            from .core import _escaped

            raise _escaped(main, self)
        value = self._value
        seen = READERS[kind](value)
        if kind == "array":
            seen = np.array(seen)  # the guard keeps its own copy
        self._trace.guards.append(Guard(self.var, seen, kind, user_site()))
        return seen

    def concrete(self) -> np.ndarray:
        return self._read("array")

    def __bool__(self) -> bool:
        return self._read("bool")

    def __int__(self) -> int:
        return self._read("int")

    def __index__(self) -> int:
        if np.dtype(self.dtype).kind not in "iub":
            raise TypeError(f"only integer values can be used as an index, not {self.dtype}")
        return self._read("int")

    def __float__(self) -> float:
        return self._read("float")

    def __complex__(self) -> complex:
        return complex(self._read("array"))

    def item(self):
        return self._read("array").item()

    def tolist(self):
        return self._read("array").tolist()

    def __array__(self, dtype=None, copy=None):
        value = self._read("array")
        return value if dtype is None else value.astype(dtype)

    def as_returned(self) -> StagingTracer:
        """This value as the functional face returns a concrete one (a NumPy scalar for 0-d,
        an array of its own for a broadcast view), so the jitted call returns that type."""
        value = np.asarray(self._value)
        if value.ndim and not value.flags.writeable:
            value = value.copy()
        tracer = StagingTracer.__new__(StagingTracer)
        tracer._trace, tracer.var, tracer.site = self._trace, self.var, self.site
        tracer._value = value[()] if value.ndim == 0 else value
        return tracer

    def backward(self, *args, **kwargs):
        raise RuntimeError(TAPE_IN_JIT)

    def __repr__(self) -> str:  # no guard: printing must not specialize the program
        return f"StagingTracer({self.var!r}: shape {self.shape}, {self.dtype})"


class StagingTrace(Trace):
    """Records into `eqns`, `guards`, `consts`; `lifted`: (foreign tracer, Var) pairs."""

    __slots__ = ("eqns", "guards", "consts", "const_ids", "lifted", "values", "late")

    def __init__(self, main):
        super().__init__(main)
        self.eqns, self.guards, self.consts, self.const_ids, self.lifted = [], [], {}, {}, []
        self.values = None  # var -> value, when the caller wants them (partial_eval.py)
        self.late: list[Var] = []  # inputs made while staging (a pullback's cotangent)

    def late_input(self, example) -> StagingTracer:
        """A further program input, standing for a value known only later (`example` is
        used for staging); it follows the function's own inputs."""
        var = Var.like(example)
        self.late.append(var)
        return StagingTracer(self, example, var)

    def process_primitive(self, prim, args, params):
        if any(a.__class__ in (list, tuple) for a in args):  # array_like, as bind's fallback
            from .numpy._shapes import as_array

            args = [as_array(a) if a.__class__ in (list, tuple) else a for a in args]
        inputs, values = [], []
        for a in args:
            if isinstance(a, StagingTracer) and a._trace is self:
                inputs.append(a.var)
                values.append(a._value)
            else:
                atom = self.atom(a)
                inputs.append(atom)
                values.append(atom.value if atom.__class__ is Lit else example_value(a))
        out = run_impl(prim, values, params)
        var = Var.like(out)
        self.eqns.append(Eqn(prim, inputs, var, params))
        if self.values is not None:
            self.values[var] = out
        return StagingTracer(self, out, var)

    def atom(self, x):
        """The program's name for a value that is not one of this trace's tracers."""
        if isinstance(x, Tracer):  # an outer transformation's value: an input, not frozen
            for tracer, var in self.lifted:
                if tracer is x:
                    return var
            var = Var.like(example_value(x))
            self.lifted.append((x, var))
            return var
        if type(x) in _SCALARS or x is None:
            return Lit(x)
        var = self.const_ids.get(id(x))
        if var is None:
            var = self.const_ids[id(x)] = Var.like(x)
            self.consts[var] = x  # also keeps x alive, so its id is not reused
        return var


def transformed(x) -> bool:
    """Whether x is a value some transformation differentiates or batches (a tracer that is
    not merely staged): library shortcuts for plain values also serve staged ones, so a
    jitted call returns the types the eager one does."""
    return isinstance(x, Tracer) and x.__class__ is not StagingTracer


def run_impl(prim, values, params):
    """`prim`'s impl on concrete values, with this thread's staging suspended (an impl that
    runs Python code, as custom_vjp's, binds on concrete values that must not be staged)."""
    staging = _stack.staging
    staging.append(None)
    try:
        try:
            return prim.impl(*values, **params)
        except RuntimeWarning:  # NumPy's warning, shown at the user's line (anomaly.py)
            from .anomaly import impl_warned

            return impl_warned(prim, values, params)
    finally:
        staging.pop()


impl_call_site(run_impl.__code__, __name__)


def example_value(x):
    """x's concrete value in this call, through every trace, without recording a guard; under
    vmap, the first example's (a program staged with it is replayed through the batching
    trace, which refuses control flow on a batched value as it does eagerly)."""
    while isinstance(x, Tracer):
        if isinstance(x, StagingTracer):
            return x._value
        bdim = getattr(x, "bdim", None)
        if bdim is not None:
            return np.take(example_value(x._value), 0, axis=bdim)
        x = x._value
    return x


def user_site() -> tuple[str, int]:
    """(file, line) of the innermost frame outside autodx: where the user's code is."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("autodx"):
        frame = frame.f_back
    return ("<unknown>", 0) if frame is None else (frame.f_code.co_filename, frame.f_lineno)


@contextmanager
def _staging_main():
    with new_main(StagingTrace) as main:
        with _count_lock:
            staging_count[0] += 1
            core.staging_open = True
        _stack.staging.append(main)
        try:
            yield main
        finally:
            _stack.staging.pop()
            with _count_lock:
                staging_count[0] -= 1
                core.staging_open = staging_count[0] > 0


def current_trace() -> StagingTrace:
    """The staging trace this thread is running (inside `stage`)."""
    return _stack.staging[-1].trace


def is_staging() -> bool:
    """Whether this thread is staging a program right now (an outer `jit` is tracing)."""
    staging = _stack.staging
    return bool(staging) and staging[-1] is not None


def stage(fun, leaves: list, weak: list, rebuild, keep_values: bool = False):
    """Run `fun(*rebuild(tracers))` with one StagingTracer per leaf; return the program and
    the outputs this run computed (concrete values, constants, or closures' tracers), and
    with `keep_values` the value of every variable too."""
    with _staging_main() as main:
        trace = main.trace
        if keep_values:
            trace.values = {}
        tracers = [StagingTracer(trace, x, Var.like(x, w)) for x, w in zip(leaves, weak)]
        args, kwargs = rebuild(tracers)
        out = fun(*args, **kwargs)
        out_leaves, out_tree = tree_flatten(out)
        outputs = [x.var if isinstance(x, StagingTracer) and x._trace is trace else trace.atom(x)
                   for x in out_leaves]
        values = [x._value if isinstance(x, StagingTracer) and x._trace is trace else x
                  for x in out_leaves]
        for v in outputs:  # the caller may write into what this call returns: the program
            if isinstance(trace.consts.get(v), np.ndarray):  # keeps its own copy
                trace.consts[v] = trace.consts[v].copy()
        program = Program(inputs=[t.var for t in tracers] + trace.late
                          + [v for _, v in trace.lifted],
                          eqns=trace.eqns, outputs=outputs, consts=trace.consts,
                          guards=trace.guards, out_tree=out_tree,
                          closures=[t for t, _ in trace.lifted],
                          out_types=[type(v) for v in values])
    if keep_values:
        env = dict(zip(program.inputs, list(leaves) + [None] * len(trace.late)
                       + [example_value(t) for t in program.closures]))
        env.update(trace.values)
        env.update(program.consts)
        return program, values, env
    return program, values
