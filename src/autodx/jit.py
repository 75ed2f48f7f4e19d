"""`ad.jit`: stage a function once per argument signature, replay it as generated code.

A call is looked up by its signature (pytree structure; each leaf's shape, dtype, and whether
it is a Python scalar; the static arguments). Each signature keeps up to
`MAX_SPECIALIZATIONS` compiled programs, one per way the function's Python control flow went
(their guards); the first whose guards hold runs. Otherwise the function is staged again
(staging.py), rewritten (rewrites.py) and compiled (codegen.py).

Under another transformation (arguments that are tracers or Tensors) and inside an outer
`jit`, a jitted function runs as plain code, so the outer transformation sees every primitive:
that is how `grad(jit(f))`, `vmap(jit(f))` and `jit(jit(f))` compose.
"""

from __future__ import annotations

import functools
import inspect
import logging
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from .anomaly import config
from .batching import BatchTrace, BatchTracer
from .buffers import plan_buffers, release_points
from .codegen import compile_program
from .core import Tracer, TracerConversionError, _stack, dtype_of, staging_count
from .forward import JVPTrace, JVPTracer, zeros_like_value
from .fusion import _numexpr, fuse_numexpr
from .partial_eval import known_part, split
from .program import GuardFailed, evaluate
from .reverse import Node, VJPTrace, VJPTracer
from .rewrites import optimize
from .staging import StagingTracer, current_trace, is_staging, stage
from .tensor import EAGER, Tensor, TensorNode, is_grad_enabled
from .tree import tree_flatten, tree_unflatten

MAX_SPECIALIZATIONS = 8
log = logging.getLogger("autodx.jit")
_SCALARS = (float, int, bool, complex)


class RetraceWarning(UserWarning):
    """A jitted function's Python control flow took more than `MAX_SPECIALIZATIONS` different
    paths for one argument signature; further paths run eagerly (correct, not compiled)."""


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    traces: int
    currsize: int
    maxsize: int


def _signature_of(x):
    """A leaf's part of the cache key (None: not a plain array or scalar)."""
    t = type(x)
    if t is float or t is int or t is bool or t is complex:
        return t  # NOTE: Python scalars are weakly typed inputs, never part of the key by value
    if t is np.ndarray:
        return (x.shape, x.dtype)
    if isinstance(x, np.generic):
        return t
    return None


class Jitted:
    """What `ad.jit(fun)` returns: call it as `fun`; `source(*args)` shows the generated
    code, `program(*args)` the staged program, `cache_info()` the cache."""

    def __init__(self, fun: Callable, static_argnums: Sequence[int], static_argnames,
                 donate_argnums: Sequence[int], backend: str, maxsize: int = 64):
        functools.update_wrapper(self, fun)
        if not hasattr(self, "__name__"):  # a functools.partial, a callable object
            self.__name__ = getattr(type(fun), "__name__", "function")
        self.fun, self.backend, self.maxsize = fun, backend, maxsize
        self.static_argnums, self.static_argnames = _statics(fun, static_argnums,
                                                             static_argnames)
        self.donate_argnums = frozenset(donate_argnums)
        self._cache: OrderedDict = OrderedDict()
        self._hits = self._misses = self._traces = 0
        self._last_key = None
        self._warned: set = set()
        self._reverse = ReverseSplit(self)
        self._derivatives: dict = {}  # ("jvp", mask) / ("vmap", dims) -> Jitted

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        if staging_count[0] and is_staging():  # inside an outer jit: stage into its program
            return self.fun(*args, **kwargs)
        key, leaves = self._lookup(args, kwargs)
        if key is None:  # tracers or Tensors: run as plain code under the outer transformation
            if not kwargs and not self.static_argnums:
                out = self._transformed(leaves)
                if out is not None:
                    return out
            return self.fun(*args, **kwargs)
        specs = self._cache.get(key)
        failed = None
        if self.donate_argnums:
            leaves = self._safe_to_donate(args, leaves)
        if specs is not None:
            for spec in specs:
                try:
                    out = spec.run(*leaves)
                except GuardFailed as e:
                    failed = e.args[0]
                    continue
                self._hits += 1
                if len(self._cache) > 1:
                    self._cache.move_to_end(key)
                return out
        return self._miss(key, specs, failed, args, kwargs, leaves)[1]

    def _lookup(self, args, kwargs):
        """(key, leaves): positional plain arguments are their own leaves."""
        if not kwargs and not self.static_argnums:  # PERF: the common call, ~0.3 us of key
            key = tuple(map(_signature_of, args))
            if None not in key:
                return key, args
        return self._key(args, kwargs)

    def _key(self, args, kwargs):
        """(key, leaves) for any call; key None when some leaf is a tracer or a Tensor."""
        statics = tuple((i, args[i]) for i in self.static_argnums if i < len(args))
        statics += tuple((k, kwargs[k]) for k in sorted(kwargs) if k in self.static_argnames)
        for name, value in statics:
            try:
                hash(value)
            except TypeError:
                raise ValueError(
                    f"Non-hashable static arguments are not supported: static argument "
                    f"{self._arg_name(name)} of jit({self.__name__}) is a "
                    f"{type(value).__name__}, which cannot be a cache key. Pass a hashable "
                    f"value (a tuple instead of a list), or make it a traced argument by "
                    f"removing it from static_argnums/static_argnames.") from None
        dynamic = (tuple(a for i, a in enumerate(args) if i not in self.static_argnums),
                   {k: v for k, v in kwargs.items() if k not in self.static_argnames})
        leaves, treedef = tree_flatten(dynamic)
        signature = []
        for i, x in enumerate(leaves):
            s = _signature_of(x)
            if s is None:
                if isinstance(x, Tracer):
                    return None, leaves
                raise TypeError(
                    f"jit({self.__name__}): argument leaf {i} is a {type(x).__name__}, not an "
                    f"array or a number; mark its argument static (static_argnums= or "
                    f"static_argnames=) if it only steers the computation.")
            signature.append(s)
        return (_hashable(treedef), tuple(signature), statics), leaves

    def _rebuild(self, args, kwargs):
        """A function of the leaves' tracers giving (args, kwargs) with them in place."""
        static_argnums, static_argnames = self.static_argnums, self.static_argnames
        fast = not kwargs and not static_argnums and None not in map(_signature_of, args)

        def rebuild(tracers):
            if fast:
                return tuple(tracers), {}
            dyn_args, dyn_kwargs = tree_unflatten(
                tree_flatten((tuple(a for i, a in enumerate(args) if i not in static_argnums),
                              {k: v for k, v in kwargs.items() if k not in static_argnames})
                             )[1], tracers)
            it = iter(dyn_args)
            new_args = tuple(a if i in static_argnums else next(it) for i, a in enumerate(args))
            new_kwargs = {k: kwargs[k] if k in static_argnames else dyn_kwargs[k]
                          for k in kwargs}
            return new_args, new_kwargs

        return rebuild

    # ------------------------------------------------------------------ under a transform
    def _transformed(self, leaves):
        """The call's arguments are tracers of the innermost transformation, on concrete
        values: compile the transformation of the function instead (jit(jvp(f)),
        jit(vmap(f)), the split vjp), and wrap the results as that transformation's tracers.
        None where that does not apply (the caller runs the function as plain code)."""
        trace = None
        for x in leaves:
            if isinstance(x, Tracer):
                if isinstance(x._value, Tracer) or trace not in (None, x._trace):
                    return None
                trace = x._trace
        if trace is EAGER.trace:
            return None if _stack.mains else self._reverse.call(self, trace, leaves)
        if trace is None or _stack.mains[-1] is not trace.main:
            return None
        kind = type(trace)
        if kind is VJPTrace:
            return self._reverse.call(self, trace, leaves)
        if kind is JVPTrace:
            return self._forward(trace, leaves)
        if kind is BatchTrace:
            return self._batched(trace, leaves)
        return None

    def _derived(self, key, make):
        jitted = self._derivatives.get(key)
        if jitted is None:
            jitted = self._derivatives[key] = Jitted(make(), (), (), (), self.backend)
        return jitted

    def _forward(self, trace, leaves):
        from .api import jvp

        mask = tuple(isinstance(x, Tracer) and x.tangent is not None for x in leaves)
        fun, n = self.fun, len(leaves)

        def make():
            def jvp_of_fun(*xs):
                ts, it = [], iter(xs[n:])
                for x, m in zip(xs[:n], mask):
                    ts.append(next(it) if m else zeros_like_value(x))
                return jvp(fun, xs[:n], tuple(ts))
            jvp_of_fun.__name__ = f"jvp_{self.__name__}"
            return jvp_of_fun

        primals = [x._value if isinstance(x, Tracer) else x for x in leaves]
        tangents = [x.tangent for x, m in zip(leaves, mask) if m]
        out, t_out = self._derived(("jvp", mask), make)(*primals, *tangents)
        outs, treedef = tree_flatten(out)
        return tree_unflatten(treedef, [JVPTracer(trace, o, t) for o, t in
                                        zip(outs, tree_flatten(t_out)[0])])

    def _batched(self, trace, leaves):
        from .api import vmap

        dims = tuple(x.bdim if isinstance(x, Tracer) else None for x in leaves)

        def make():
            batched = vmap(self.fun, in_axes=dims, out_axes=0)
            batched.__name__ = f"vmap_{self.__name__}"
            return batched

        values = [x._value if isinstance(x, Tracer) else x for x in leaves]
        out = self._derived(("vmap", dims), make)(*values)
        outs, treedef = tree_flatten(out)
        return tree_unflatten(treedef, [BatchTracer(trace, o, 0) for o in outs])

    # ------------------------------------------------------------------ staging
    def _miss(self, key, specs, failed, args, kwargs, leaves):
        """Stage the call; returns (spec or None, the call's result)."""
        self._misses += 1
        if specs is not None and len(specs) >= MAX_SPECIALIZATIONS:
            self._too_many(failed)
            return None, self.fun(*args, **kwargs)
        if config.explain_cache_misses:
            log.warning("jit(%s): cache miss: %s", self.__name__,
                        self._why(key, failed, args, kwargs))
        weak = [type(x) in _SCALARS for x in leaves]
        program, values = stage(self.fun, list(leaves), weak, self._rebuild(args, kwargs))
        self._traces += 1
        if program.closures:  # values of an outer transformation: valid for this call only
            out = evaluate(program, list(leaves) + program.closures)
            return None, tree_unflatten(program.out_tree, out)
        spec = self._compile(optimize(program), args)
        if specs is None:
            specs = self._cache[key] = []
            if len(self._cache) > self.maxsize:
                self._cache.popitem(last=False)
        specs.append(spec)
        self._last_key = key
        return spec, tree_unflatten(program.out_tree, values)

    def _compile(self, program, args):
        if self.backend == "numexpr":
            program = fuse_numexpr(program)
        donated = frozenset(program.inputs[i] for i in self._donated_leaves(args))
        plan = plan_buffers(program, donated=donated)
        return compile_program(program, _identifier(self.__name__), plan=plan,
                               release=release_points(program, plan))

    def _donated_leaves(self, args) -> list[int]:
        """Leaf indices of the donated positional arguments."""
        if not self.donate_argnums:
            return []
        indices, start = [], 0
        for i, a in enumerate(args):
            if i in self.static_argnums:
                continue
            n = len(tree_flatten(a)[0])
            if i in self.donate_argnums:
                indices += range(start, start + n)
            start += n
        return indices

    def _safe_to_donate(self, args, leaves) -> list:
        """The leaves, with a donated one copied where writing into it would be wrong: not a
        writeable array of its own (a view of another argument, a read-only array)."""
        leaves = list(leaves)
        for i in self._donated_leaves(args):
            x = leaves[i]
            if not (type(x) is np.ndarray and x.flags.writeable and x.flags.owndata
                    and not any(np.shares_memory(x, y) for j, y in enumerate(leaves)
                                if j != i and isinstance(y, np.ndarray))):
                leaves[i] = np.array(x)
        return leaves

    def _too_many(self, failed) -> None:
        site = failed.site if failed is not None else ("<unknown>", 0)
        if site not in self._warned:
            self._warned.add(site)
            warnings.warn(
                f"jit({self.__name__}): the Python control flow at {site[0]}:{site[1]} has "
                f"taken more than {MAX_SPECIALIZATIONS} different paths for arguments of the "
                f"same shapes, so each new path now runs eagerly (right, but not compiled). "
                f"Use ad.numpy.where(...) for a branch that depends on values, or make the "
                f"deciding argument static (static_argnums=).", RetraceWarning, stacklevel=3)

    def _why(self, key, failed, args, kwargs) -> str:
        if failed is not None:
            return (f"the {failed.kind} read at {failed.site[0]}:{failed.site[1]} came out "
                    f"differently (it was {failed.value!r} when staged)")
        last = self._last_key
        if last is None:
            return "first call"
        if last[2] != key[2]:
            for (name, old), (_, new) in zip(last[2], key[2]):
                if old != new:
                    return (f"static argument {self._arg_name(name)} changed from {old!r} "
                            f"to {new!r}")
            return "the static arguments changed"
        if last[0] != key[0] or len(last[1]) != len(key[1]):
            return "the structure of the arguments changed"
        labels = self._labels(args, kwargs)
        for label, old, new in zip(labels, last[1], key[1]):
            if old != new:
                return f"argument {label} changed from {_describe(old)} to {_describe(new)}"
        return "a new signature"

    def _labels(self, args, kwargs) -> list[str]:
        labels = []
        for i, a in enumerate(args):
            if i not in self.static_argnums:
                n = len(tree_flatten(a)[0])
                name = self._arg_name(i)
                labels += [name] if n == 1 else [f"{name} (leaf {j})" for j in range(n)]
        for k in sorted(kwargs):
            if k not in self.static_argnames:
                n = len(tree_flatten(kwargs[k])[0])
                labels += [repr(k)] if n == 1 else [f"{k!r} (leaf {j})" for j in range(n)]
        return labels

    def _arg_name(self, name) -> str:
        if isinstance(name, str):
            return repr(name)
        try:
            params = list(inspect.signature(self.fun).parameters)
            return repr(params[name]) if name < len(params) else f"{name}"
        except (TypeError, ValueError):
            return f"{name}"

    # ------------------------------------------------------------------ looking inside
    def _spec(self, args, kwargs):
        key, leaves = self._lookup(args, kwargs)
        if key is None:
            raise TypeError(f"jit({self.__name__}).source()/program() need concrete arguments "
                            f"(arrays or numbers), not traced values")
        for spec in self._cache.get(key, ()):
            try:
                spec.run(*leaves)
            except GuardFailed:
                continue
            return spec
        spec, _ = self._miss(key, self._cache.get(key), None, args, kwargs, leaves)
        if spec is None:
            raise ValueError(f"jit({self.__name__}): these arguments are not compiled (the "
                             f"function uses values of an outer transformation)")
        return spec

    def source(self, *args, **kwargs) -> str:
        """The Python source that runs for these arguments (staged now if it is not yet)."""
        return self._spec(args, kwargs).source

    def program(self, *args, **kwargs):
        """The staged and rewritten `Program` for these arguments."""
        return self._spec(args, kwargs).program

    def cache_info(self) -> CacheInfo:
        """Counts for this function's own calls and those under transformations (the
        compiled jvp, vmap and split vjp of it)."""
        hits, misses, traces = self._hits, self._misses, self._traces
        size = len(self._cache)
        for derived in self._derivatives.values():
            info = derived.cache_info()
            hits, misses, traces, size = (hits + info.hits, misses + info.misses,
                                          traces + info.traces, size + info.currsize)
        r = self._reverse
        return CacheInfo(hits + r.hits, misses + r.misses, traces + r.traces,
                         size + len(r.cache), self.maxsize)

    def cache_clear(self) -> None:
        self._cache.clear()
        self._derivatives.clear()
        self._reverse.cache.clear()
        self._last_key = None

    def __repr__(self) -> str:
        return f"<jit({self.__name__})>"

    def __get__(self, instance, owner=None):  # a jitted method: `self` is its first argument
        return self if instance is None else functools.partial(self, instance)


class ReverseSplit:
    """Reverse mode through a jitted function (ad.grad/vjp/value_and_grad of it): the call
    becomes one reverse-mode node whose forward is a compiled program that also returns the
    residuals and whose backward is a compiled program of (cotangent, residuals) — the
    staged vjp, split by partial evaluation. Applies to positional array arguments and one
    float array output at the innermost reverse transformation; anything else runs as plain
    code under the transformation (right, not compiled)."""

    def __init__(self, jitted: Jitted):
        # not the Jitted itself: Jitted -> ReverseSplit -> Jitted would be a reference cycle
        self.fun, self.name, self.cache = jitted.fun, jitted.__name__, {}
        self.hits = self.misses = self.traces = 0

    def call(self, jitted, trace, leaves):
        tape = trace is EAGER.trace
        examples = [x._value if isinstance(x, Tracer) else x for x in leaves]
        if tape and (not is_grad_enabled() or all(
                x._node is None for x in leaves if isinstance(x, Tensor))):
            out = jitted(*examples)  # Tensors that record nothing: Tensors out
            leaves_out, treedef = tree_flatten(out)
            return tree_unflatten(treedef, [Tensor._make(v, None) for v in leaves_out])
        key = tuple(map(_signature_of, examples))
        if None in key or any(np.dtype(dtype_of(x)).kind != "f" for x in examples):
            return None
        specs = self.cache.setdefault(key, [])
        if specs is None:  # staged once and found not splittable: plain code
            return None
        for spec in specs:
            try:
                out, *residuals = spec.forward.run(*examples)
            except GuardFailed:
                continue
            self.hits += 1
            break
        else:
            if len(specs) >= MAX_SPECIALIZATIONS:
                return None
            self.misses += 1
            spec = self._stage(examples)
            if spec is None:
                self.cache[key] = None
                return None
            self.traces += 1
            specs.append(spec)
            out, *residuals = spec.forward.run(*examples)
        parents = [x._node if isinstance(x, Tracer) else None for x in leaves]
        params = {"residuals": tuple(residuals)}
        if tape:  # constant Tensors held weakly, as the eager trace does (in-place checks)
            constants = [(i, weakref.ref(x)) for i, x in enumerate(leaves)
                         if isinstance(x, Tensor) and x._node is None] or None
            return Tensor._make(out, TensorNode(spec, params, examples, out, parents,
                                                constants))
        return VJPTracer(trace, out, Node(spec, params, examples, out, parents))

    def _stage(self, examples):
        from .api import vjp

        fun = self.fun

        def forward_and_backward(*xs):
            out, pullback = vjp(fun, *xs)
            if not isinstance(out, StagingTracer) or np.dtype(out.dtype).kind != "f":
                return out, ()
            return out, pullback(current_trace().late_input(np.ones_like(out._value)))

        weak = [False] * len(examples)
        try:
            program, values = stage(forward_and_backward, list(examples), weak,
                                    lambda tracers: (tuple(tracers), {}))
        except (TracerConversionError, NotImplementedError):
            return None  # e.g. float(x) of the Tensor, fine on the tape: run it as plain code
        if program.closures or not program.outputs[1:]:
            return None
        late = [program.inputs[len(examples)]]
        grads = program.outputs[1:]
        backward, residuals = split(program, late, grads)
        backward = backward.replace(out_tree=tree_flatten(tuple(grads))[1],
                                    out_types=[type(v) for v in values[1:]])
        forward = known_part(program, late, [program.outputs[0], *residuals])
        name = _identifier(self.name)
        return CompiledVJP(fun, compile_program(forward, f"{name}_forward"),
                           compile_program(backward, f"{name}_backward"))


class CompiledVJP:
    """The pseudo-primitive of a `ReverseSplit` node (not in the primitive table: it exists
    only in reverse-mode graphs)."""

    name, nondiff, linear, reads_inputs = "jit", False, False, True
    jvp = batch = None

    def __init__(self, fun, forward, backward):
        self.fun, self.forward, self.backward = fun, forward, backward

    def impl(self, *args, **params):
        raise TypeError("a jitted function's reverse-mode node is not a primitive")

    def vjp(self, needs, g, out, *primals, residuals):
        if isinstance(g, Tracer):  # a cotangent being differentiated: the function again
            from .api import vjp

            return vjp(self.fun, *primals)[1](g)
        return self.backward.run(g, *residuals)


def jit(fun: Callable | None = None, *, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (), donate_argnums: int | Sequence[int] = (),
        backend: str = "numpy"):
    """Compile `fun`: stage it once per argument signature and replay generated NumPy code.

    >>> f = ad.jit(lambda x: 3 * x**2)
    >>> f(2.0)
    12.0
    """
    if fun is None:  # @ad.jit(static_argnums=...)
        return functools.partial(jit, static_argnums=static_argnums,
                                 static_argnames=static_argnames,
                                 donate_argnums=donate_argnums, backend=backend)
    if not callable(fun):
        raise TypeError(f"Expected a callable value, got {fun!r:.60}: ad.jit takes a "
                        f"function, as in ad.jit(f)(x).")
    if backend not in ("numpy", "numexpr"):
        raise ValueError(f"jit(backend={backend!r}): the backends are 'numpy' (the default) "
                         f"and 'numexpr' (pip install 'autodx[fast]')")
    if backend == "numexpr":
        _numexpr()  # the one-line ImportError now, not at the first call
    return Jitted(fun, _ints(static_argnums, "static_argnums"),
                  _strs(static_argnames), _ints(donate_argnums, "donate_argnums"), backend)


def _ints(value, name: str) -> tuple[int, ...]:
    values = (value,) if isinstance(value, int) else tuple(value)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise TypeError(f"jit({name}={value!r}): give an int or a sequence of ints")
    return values


def _strs(value) -> frozenset:
    return frozenset((value,) if isinstance(value, str) else value)


def _statics(fun, argnums, argnames) -> tuple[tuple[int, ...], frozenset]:
    """static_argnums and static_argnames, each completed from the other by the signature
    (as JAX does), so `f(n=3)` and `f(3)` are both static."""
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        return tuple(sorted(set(argnums))), argnames
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                       p.POSITIONAL_OR_KEYWORD)]
    has_varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
    nums = set()
    for i in argnums:
        if i < 0:
            i += len(positional)
        if not has_varargs and not 0 <= i < len(positional):
            raise ValueError(f"jit(static_argnums={tuple(argnums)}): {_name(fun)} takes "
                             f"{len(positional)} positional arguments, so argument {i} does "
                             f"not exist")
        nums.add(i)
    names = set(argnames)
    names.update(positional[i] for i in nums if i < len(positional))
    nums.update(positional.index(n) for n in argnames if n in positional)
    return tuple(sorted(nums)), frozenset(names)


def _hashable(treedef):
    """A TreeDef usable in a key (a dict's keys are kept as a list)."""
    aux = tuple(treedef.aux) if isinstance(treedef.aux, list) else treedef.aux
    return (treedef.kind, aux, tuple(_hashable(c) for c in treedef.children))


def _name(fun) -> str:
    return getattr(fun, "__name__", type(fun).__name__)


def _describe(signature) -> str:
    if isinstance(signature, tuple) and len(signature) == 2:
        return f"shape {signature[0]} {signature[1]}"
    if signature in _SCALARS:
        return f"a Python {signature.__name__}"
    return getattr(signature, "__name__", repr(signature))


def _identifier(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"f_{cleaned}"
