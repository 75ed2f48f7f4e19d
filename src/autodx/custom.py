"""User-defined derivatives and rematerialization: `custom_jvp`, `custom_vjp`, `checkpoint`.

Each wraps the user's function in a call of one higher-order primitive whose params carry the
function and its rules, so the ordinary engines handle it under every transform:
- forward mode runs the custom JVP rule (custom_vjp and checkpoint differentiate the function);
- reverse mode transposes the custom JVP rule (it is linear in the tangents) with `vjp`, runs
  the custom fwd/bwd pair, or for `checkpoint` re-runs the function under `vjp` at backward
  time, so only the inputs are stored;
- vmap re-binds the primitive with the function and the rules vmapped, so a custom rule still
  applies to derivatives taken outside the vmap.
Rules are written with autodx operations, so nested derivatives work through them too.
The wrapped function returns one array; its arguments may be pytrees of arrays.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from .api import jvp, vjp, vmap
from .core import Primitive, Tracer, bind, dtype_of, shape_of
from .forward import zeros_like_value
from .prims import broadcast_to, moveaxis
from .reverse import primal_rules
from .tree import tree_flatten, tree_unflatten


class _Call:
    """The params of one custom call: the function, its rules, the static arguments, and how
    to rebuild the differentiable arguments from the primitive's flat operands."""

    __slots__ = ("fun", "rules", "static", "treedef")

    def __init__(self, fun, rules, static, treedef):
        self.fun, self.rules, self.static, self.treedef = fun, rules, static, treedef

    def args(self, leaves) -> tuple:
        return tuple(tree_unflatten(self.treedef, list(leaves)))

    def run(self, leaves):
        return self.fun(*self.static, *self.args(leaves))

    @property
    def num_args(self) -> int:
        return len(self.treedef.children)

    def in_axes(self, *mapped) -> tuple:
        """vmap's in_axes for (static..., *mapped): statics unmapped."""
        return (None,) * len(self.static) + mapped

    def batched(self, fun, rules) -> _Call:
        return _Call(fun, rules, self.static, self.treedef)


def _check_callable(fun, what: str, usage: str) -> None:
    """Refuse a non-callable when the wrapper is made (or the rule given), with JAX's words,
    instead of when it is first called."""
    if not callable(fun):
        raise TypeError(f"Expected a callable value, got {fun!r:.60}: {what} takes a function, "
                        f"as in {usage}.")


def _split(args: tuple, static_argnums: Sequence[int]):
    static = tuple(args[i] for i in static_argnums)
    dynamic = tuple(a for i, a in enumerate(args) if i not in static_argnums)
    leaves, treedef = tree_flatten(dynamic)
    return static, leaves, treedef


def _to_front(axis_size, args, dims):
    """Every operand with its batch axis first (unmapped ones broadcast), for vmapped rules."""
    return [moveaxis(x, d, 0) if d is not None else broadcast_to(x, (axis_size, *shape_of(x)))
            for x, d in zip(args, dims)]


def _run_call(*leaves, call):
    """The impl of every primitive here: run the wrapped function on plain values."""
    out = call.run(leaves)
    if isinstance(out, (tuple, list, dict)):
        raise TypeError("a function wrapped by ad.checkpoint / ad.custom_jvp / ad.custom_vjp "
                        "must return one array; pack several outputs with "
                        "ad.tree.ravel_pytree, or wrap each output separately")
    if isinstance(out, Tracer):  # it used a value being differentiated that it was not given
        raise TypeError(
            f"{getattr(call.fun, '__name__', 'the function')} wrapped by ad.checkpoint / "
            f"ad.custom_jvp / ad.custom_vjp uses a value that is being differentiated (a "
            f"Tensor that requires grad, or a traced value) without receiving it as an "
            f"argument. Pass every such value as an argument, e.g. "
            f"ad.checkpoint(lambda z, W: tanh(W @ z))(h, W).")
    return out


def _jvp_of_function(primals, tangents, *, call):
    """Forward mode through the wrapped function's own operations."""
    tangents = [zeros_like_value(p) if t is None else t for p, t in zip(primals, tangents)]
    return jvp(lambda *xs: call.run(xs), tuple(primals), tuple(tangents))


# ----------------------------------------------------------------------------- custom_jvp

custom_jvp_p = Primitive("custom_jvp_call", _run_call)


@custom_jvp_p.def_jvp
def _custom_jvp_jvp(primals, tangents, *, call):
    tangents = [zeros_like_value(p) if t is None else t for p, t in zip(primals, tangents)]
    return call.rules(*call.static, call.args(primals), call.args(tangents))


@custom_jvp_p.def_vjp
def _custom_jvp_vjp(needs, g, out, *primals, call):
    # The JVP rule is linear in the tangents, so its VJP in the tangents is the transpose.
    def tangent_map(*tangents):
        return call.rules(*call.static, call.args(primals), call.args(tangents))[1]

    _, pullback = vjp(tangent_map, *[zeros_like_value(p) for p in primals])
    return pullback(g)


@custom_jvp_p.def_batch
def _custom_jvp_batch(axis_size, args, dims, *, call):
    fun = vmap(call.fun, in_axes=call.in_axes(*(0,) * call.num_args))
    rule = vmap(call.rules, in_axes=call.in_axes(0, 0))
    return bind(custom_jvp_p, *_to_front(axis_size, args, dims),
                call=call.batched(fun, rule)), 0


class custom_jvp:
    """A function with a hand-written JVP rule.

    >>> @ad.custom_jvp
    ... def log1pexp(x):
    ...     return ad.numpy.log(1.0 + ad.numpy.exp(x))
    >>> @log1pexp.defjvp
    ... def _(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return log1pexp(x), t / (1.0 + ad.numpy.exp(-x))

    `nondiff_argnums` arguments are passed first to the rule, as in JAX:
    `rule(*nondiff_args, primals, tangents)`.
    """

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()):
        _check_callable(fun, "ad.custom_jvp", "@ad.custom_jvp above def f(x): ...")
        functools.update_wrapper(self, fun)
        self.fun, self.nondiff_argnums, self.rule = fun, tuple(nondiff_argnums), None

    def defjvp(self, rule: Callable) -> Callable:
        _check_callable(rule, "defjvp", "@f.defjvp above def f_jvp(primals, tangents): ...")
        self.rule = rule
        return rule

    def __call__(self, *args):
        if self.rule is None:
            raise TypeError(f"custom_jvp function {self.__name__} has no JVP rule yet; "
                            f"define one with @{self.__name__}.defjvp")
        static, leaves, treedef = _split(args, self.nondiff_argnums)
        fun = lambda *a: self.fun(*_merge(a, len(static), self.nondiff_argnums))
        return bind(custom_jvp_p, *leaves, call=_Call(fun, self.rule, static, treedef))


def _merge(static_then_dynamic: tuple, n_static: int, static_argnums: Sequence[int]) -> list:
    """Put static arguments back at their positions among the dynamic ones."""
    static, dynamic = list(static_then_dynamic[:n_static]), list(
        static_then_dynamic[n_static:])
    out = []
    for i in range(len(static) + len(dynamic)):
        out.append(static.pop(0) if i in static_argnums else dynamic.pop(0))
    return out


# ----------------------------------------------------------------------------- custom_vjp

custom_vjp_p = Primitive("custom_vjp_call", _run_call)
# NOTE: forward mode differentiates the function itself (JAX refuses instead); the custom
# fwd/bwd pair governs reverse mode, so jacfwd(jacrev(f)) works.
custom_vjp_p.def_jvp(_jvp_of_function)


@custom_vjp_p.def_vjp
def _custom_vjp_vjp(needs, g, out, *primals, call):
    fwd, bwd = call.rules
    _, residuals = fwd(*call.static, *call.args(primals))
    cts = bwd(*call.static, residuals, g)
    # None stands for a zero cotangent, also where an argument is a single array
    flat = list(cts) if isinstance(cts, tuple) and len(cts) == len(primals) else (
        tree_flatten(cts)[0])
    if not isinstance(cts, tuple) or len(flat) != len(primals):
        raise TypeError(f"a custom_vjp bwd rule must return a tuple with one cotangent per "
                        f"differentiable argument ({len(primals)} here, in the structure of the "
                        f"arguments), got {type(cts).__name__} of {len(flat)}. Return e.g. "
                        f"`return (g * 2.0,)` for one argument; None stands for a zero.")
    return tuple(_bwd_cotangent(ct, x, i) for i, (ct, x) in enumerate(zip(flat, primals)))


def _bwd_cotangent(ct, primal, i: int):
    """A user's cotangent as the engine needs it: an array (or traced value) of the input's
    shape and dtype; a Python number is accepted where the input is a scalar, as in JAX."""
    if ct is None:
        return None
    if not isinstance(ct, Tracer):
        ct = np.asarray(ct, dtype=dtype_of(primal))
    if shape_of(ct) != shape_of(primal):
        raise ValueError(f"the custom_vjp bwd rule returned a cotangent of shape "
                         f"{shape_of(ct)} for argument {i}, which has shape {shape_of(primal)}: "
                         f"return one cotangent of each argument's shape (no broadcasting).")
    return ct


def _custom_vjp_primal(*values, call):
    """The value under reverse mode: by `fwd`, as ordinary code to any transformation outside
    (JAX's rule: jvp(grad(f)) and grad(grad(f)) agree). On plain values, the impl."""
    if not any(isinstance(v, Tracer) for v in values):
        return bind(custom_vjp_p, *values, call=call)
    return call.rules[0](*call.static, *call.args(values))[0]


primal_rules[custom_vjp_p] = _custom_vjp_primal


@custom_vjp_p.def_batch
def _custom_vjp_batch(axis_size, args, dims, *, call):
    fwd, bwd = call.rules
    all_args = call.in_axes(*(0,) * call.num_args)
    fun, fwd_b, bwd_b = vmap(call.fun, all_args), vmap(fwd, all_args), vmap(bwd, call.in_axes(0, 0))
    return bind(custom_vjp_p, *_to_front(axis_size, args, dims),
                call=call.batched(fun, (fwd_b, bwd_b))), 0


class custom_vjp:
    """A function with a hand-written VJP: `f.defvjp(fwd, bwd)` with
    `fwd(*args) -> (out, residuals)` and `bwd(residuals, g) -> tuple of cotangents`
    (one per differentiable argument). `nondiff_argnums` arguments come first in both."""

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()):
        _check_callable(fun, "ad.custom_vjp", "@ad.custom_vjp above def f(x): ...")
        functools.update_wrapper(self, fun)
        self.fun, self.nondiff_argnums, self.rules = fun, tuple(nondiff_argnums), None

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        for rule, name in ((fwd, "fwd"), (bwd, "bwd")):
            _check_callable(rule, f"defvjp's {name}", "f.defvjp(f_fwd, f_bwd)")
        self.rules = (fwd, bwd)

    def __call__(self, *args):
        if self.rules is None:
            raise TypeError(f"custom_vjp function {self.__name__} has no rules yet; define "
                            f"them with {self.__name__}.defvjp(fwd, bwd)")
        static, leaves, treedef = _split(args, self.nondiff_argnums)
        n = len(static)
        fun = lambda *a: self.fun(*_merge(a, n, self.nondiff_argnums))
        fwd, bwd = self.rules
        rules = (lambda *a: fwd(*_merge(a, n, self.nondiff_argnums)), bwd)
        return bind(custom_vjp_p, *leaves, call=_Call(fun, rules, static, treedef))


# ----------------------------------------------------------------------------- checkpoint

checkpoint_p = Primitive("checkpoint_call", _run_call)
checkpoint_p.def_jvp(_jvp_of_function)  # forward mode stores nothing to begin with


@checkpoint_p.def_vjp
def _checkpoint_vjp(needs, g, out, *primals, call):
    # Recompute the forward pass now, under vjp: only the inputs were kept.
    _, pullback = vjp(lambda *xs: call.run(xs), *primals)
    return pullback(g)


@checkpoint_p.def_batch
def _checkpoint_batch(axis_size, args, dims, *, call):
    fun = vmap(call.fun, in_axes=call.in_axes(*(0,) * call.num_args))
    return bind(checkpoint_p, *_to_front(axis_size, args, dims), call=call.batched(fun, None)), 0


def checkpoint(fun: Callable, static_argnums: Sequence[int] = ()) -> Callable:
    """`fun`, but reverse mode stores only its inputs and recomputes the rest in the backward
    pass: less memory for one more forward pass. Gradients are identical.

    >>> block = ad.checkpoint(lambda x: ad.numpy.sum(ad.numpy.tanh(x @ x.T)))
    """
    _check_callable(fun, "ad.checkpoint", "ad.checkpoint(f)(x)")
    static_argnums = tuple(static_argnums)

    @functools.wraps(fun)
    def checkpointed(*args):
        static, leaves, treedef = _split(args, static_argnums)
        n = len(static)
        call = _Call(lambda *a: fun(*_merge(a, n, static_argnums)), None, static, treedef)
        return bind(checkpoint_p, *leaves, call=call)

    return checkpointed
