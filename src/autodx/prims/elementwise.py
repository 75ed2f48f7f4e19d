"""Elementwise primitives. The common case is one declaration with the local derivative given
once: `unary` and `binary` derive the JVP, the VJP and the batching rule from it, so the two
modes cannot drift apart. Broadcasting is the engines' job (they sum cotangents to shape and
broadcast tangents), never a rule's.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

import numpy as np

from ..core import Primitive, bind, shape_of
from .shape import moveaxis, reshape


def _elementwise_batch(prim: Primitive) -> Callable:
    """Move batch axes to the front and pad per-example ranks so NumPy broadcasting lines the
    remaining axes up as it would per example; unmapped arguments broadcast as they are."""

    def rule(axis_size, args, dims, **params):
        shapes = [shape_of(x) for x in args]
        out_rank = max([len(s) - (d is not None) for s, d in zip(shapes, dims)])
        moved = []
        for x, shape, d in zip(args, shapes, dims):
            if d is not None:
                if d:
                    x = moveaxis(x, d, 0)
                    shape = shape[d:d + 1] + shape[:d] + shape[d + 1:]
                if len(shape) - 1 < out_rank:
                    x = reshape(x, shape[:1] + (1,) * (out_rank - len(shape) + 1) + shape[1:])
            moved.append(x)
        return bind(prim, *moved, **params), 0

    rule.__name__ = rule.__qualname__ = f"_{prim.name}_batch"
    return rule


def _scale(t, d):
    """t * d, where a local derivative of exactly 1 costs nothing (PERF)."""
    return t if d.__class__ is float and d == 1.0 else mul(t, d)


def _named(fn: Callable, name: str) -> Callable:
    fn.__name__ = fn.__qualname__ = name
    return fn


def unary(name: str, impl: Callable, d: Callable | None = None, *,
          nondiff: bool = False, uses_x: bool = True) -> Primitive:
    """Declare `out = impl(x)` with local derivative `d(x, out)` (`uses_x=False`: d reads only
    `out`, so modifying x in place afterwards is harmless, as in PyTorch)."""
    prim = Primitive(name, impl, nondiff=nondiff, reads_inputs=uses_x and not nondiff)
    prim.batch = _elementwise_batch(prim)
    if d is None:
        return prim

    def jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        out = bind(prim, x)
        return out, _scale(t, d(x, out))

    def vjp(needs, g, out, x):
        return (_scale(g, d(x, out)),)

    prim.jvp, prim.vjp = _named(jvp, f"_{name}_jvp"), _named(vjp, f"_{name}_vjp")
    return prim


def binary(name: str, impl: Callable, dx: Callable, dy: Callable,
           reads_inputs=True) -> Primitive:
    """Declare `out = impl(x, y)` with partials `dx(x, y, out)` and `dy(x, y, out)`."""
    prim = Primitive(name, impl, reads_inputs=reads_inputs)
    prim.batch = _elementwise_batch(prim)

    def jvp(primals, tangents):
        (x, y), (tx, ty) = primals, tangents
        out = bind(prim, x, y)
        terms = [_scale(t, dfun(x, y, out)) for t, dfun in ((tx, dx), (ty, dy)) if t is not None]
        return out, terms[0] if len(terms) == 1 else add(*terms)

    def vjp(needs, g, out, x, y):
        return (_scale(g, dx(x, y, out)) if needs[0] else None,
                _scale(g, dy(x, y, out)) if needs[1] else None)

    prim.jvp, prim.vjp = _named(jvp, f"_{name}_jvp"), _named(vjp, f"_{name}_vjp")
    return prim


def linear_binary(name: str, impl: Callable, sign_y: int) -> Primitive:
    """`x + y` or `x - y`: linear, cotangents `g` and `sign_y * g`."""
    prim = Primitive(name, impl, linear=True)
    prim.batch = _elementwise_batch(prim)

    def jvp(primals, tangents):
        # PERF: a symbolic-zero tangent costs nothing (the generic linear rule would add zeros)
        (tx, ty) = tangents
        if tx is None:
            ty = ty if sign_y > 0 else neg(ty)
        return bind(prim, *primals), ty if tx is None else tx if ty is None else bind(
            prim, tx, ty)

    def vjp(needs, g, out, x, y):
        return (g if needs[0] else None,
                (g if sign_y > 0 else neg(g)) if needs[1] else None)

    prim.jvp, prim.vjp = _named(jvp, f"_{name}_jvp"), _named(vjp, f"_{name}_vjp")
    return prim


# ----------------------------------------------------------------------------- arithmetic
# PERF: Python's operators give NumPy's results on arrays and NumPy scalars, and skip the
# ufunc machinery on scalars (0.05 us instead of 0.75 us for a float64 product).

add_p = linear_binary("add", operator.add, +1)
sub_p = linear_binary("sub", operator.sub, -1)
neg_p = Primitive("neg", operator.neg, linear=True)
neg_p.batch = _elementwise_batch(neg_p)


@neg_p.def_vjp
def _neg_vjp(needs, g, out, x):
    return (neg(g),)


mul_p = binary("mul", operator.mul, dx=lambda x, y, out: y, dy=lambda x, y, out: x,
               reads_inputs=lambda needs: (needs[1], needs[0]))  # x * 2 never reads x
div_p = binary("div", operator.truediv,
               dx=lambda x, y, out: div(1.0, y),
               dy=lambda x, y, out: neg(div(out, y)))


def _pow_dx(x, y, out):
    # d/dx x**y = y * x**(y-1). NOTE: taken as 0 where y == 0 (also at x == 0, where the
    # formula is 0 * inf), as PyTorch and JAX do; the inner `where` keeps higher orders finite.
    if isinstance(y, (int, float)):  # PERF: the common constant exponents need no pow
        return 0.0 if y == 0 else 1.0 if y == 1 else mul(x, 2.0) if y == 2 else mul(
            y, pow(x, y - 1))
    y_is_zero = equal(y, 0)
    return where(y_is_zero, 0.0, mul(y, pow(x, sub(where(y_is_zero, 1.0, y), 1))))


def _pow_dy(x, y, out):
    # d/dy x**y = log(x) * x**y. NOTE: taken as 0 where x == 0 (the one-sided limit for y > 0;
    # PyTorch agrees there, and gives -inf for y < 0); NaN for negative x, as PyTorch and JAX.
    x_is_zero = equal(x, 0)
    return where(x_is_zero, 0.0, mul(out, log(where(x_is_zero, 1.0, x))))


pow_p = binary("pow", operator.pow, dx=_pow_dx, dy=_pow_dy)

# NOTE: at ties, maximum/minimum split the gradient evenly (0.5 each), as PyTorch and JAX do.
maximum_p = binary("maximum", np.maximum,
                   dx=lambda x, y, out: _tie_split(greater(x, y), equal(x, y)),
                   dy=lambda x, y, out: _tie_split(less(x, y), equal(x, y)))
minimum_p = binary("minimum", np.minimum,
                   dx=lambda x, y, out: _tie_split(less(x, y), equal(x, y)),
                   dy=lambda x, y, out: _tie_split(greater(x, y), equal(x, y)))


def _tie_split(wins, ties):
    return where(wins, 1.0, where(ties, 0.5, 0.0))


# ----------------------------------------------------------------------------- transcendental

def _scalar_fast(np_fn: Callable, math_fn: Callable) -> Callable:
    """NumPy's function, with a PERF shortcut for float64 scalars: a ufunc call on a scalar
    costs ~0.7 us, the math module's ~0.05 us. Domain errors fall back to NumPy's nan/inf."""
    float64 = np.float64

    def impl(x):
        if x.__class__ is float64:
            try:
                return float64(math_fn(x))
            except (ValueError, OverflowError):
                pass
        return np_fn(x)

    impl.__name__ = np_fn.__name__
    return impl



exp_p = unary("exp", _scalar_fast(np.exp, math.exp), d=lambda x, out: out, uses_x=False)
log_p = unary("log", _scalar_fast(np.log, math.log), d=lambda x, out: div(1.0, x))
sin_p = unary("sin", _scalar_fast(np.sin, math.sin), d=lambda x, out: cos(x))
cos_p = unary("cos", _scalar_fast(np.cos, math.cos), d=lambda x, out: neg(sin(x)))
tan_p = unary("tan", _scalar_fast(np.tan, math.tan), d=lambda x, out: add(1.0, mul(out, out)),
              uses_x=False)
tanh_p = unary("tanh", _scalar_fast(np.tanh, math.tanh),
               d=lambda x, out: sub(1.0, mul(out, out)), uses_x=False)
# NOTE: sqrt's derivative is inf at 0, as in every peer.
sqrt_p = unary("sqrt", _scalar_fast(np.sqrt, math.sqrt), d=lambda x, out: div(0.5, out),
               uses_x=False)
# NOTE: abs has derivative sign(x), so 0 at x == 0 (PyTorch and HIPS autograd; JAX gives 1).
abs_p = unary("abs", np.abs, d=lambda x, out: sign(x))
sign_p = unary("sign", np.sign, nondiff=True)  # zero derivative everywhere

# ----------------------------------------------------------------------------- comparisons

equal_p = Primitive("equal", np.equal, nondiff=True)
not_equal_p = Primitive("not_equal", np.not_equal, nondiff=True)
less_p = Primitive("less", np.less, nondiff=True)
less_equal_p = Primitive("less_equal", np.less_equal, nondiff=True)
greater_p = Primitive("greater", np.greater, nondiff=True)
greater_equal_p = Primitive("greater_equal", np.greater_equal, nondiff=True)
for _p in (equal_p, not_equal_p, less_p, less_equal_p, greater_p, greater_equal_p):
    _p.batch = _elementwise_batch(_p)

# ----------------------------------------------------------------------------- where

where_p = Primitive("where", np.where)
where_p.batch = _elementwise_batch(where_p)


@where_p.def_jvp
def _where_jvp(primals, tangents):
    (c, x, y), (_, tx, ty) = primals, tangents
    out = where(c, x, y)
    return out, where(c, 0.0 if tx is None else tx, 0.0 if ty is None else ty)


@where_p.def_vjp
def _where_vjp(needs, g, out, c, x, y):
    # NOTE: the unselected branch gets exactly 0, but a NaN or inf computed there still makes
    # NaN through 0 * inf upstream; guard the *input* of that branch (the double-where trick).
    return (None,
            where(c, g, 0.0) if needs[1] else None,
            where(c, 0.0, g) if needs[2] else None)


# ----------------------------------------------------------------------------- wrappers

def add(x, y):
    return bind(add_p, x, y)


def sub(x, y):
    return bind(sub_p, x, y)


def neg(x):
    return bind(neg_p, x)


def mul(x, y):
    return bind(mul_p, x, y)


def div(x, y):
    return bind(div_p, x, y)


def pow(x, y):  # noqa: A001 - the NumPy name
    return bind(pow_p, x, y)


def maximum(x, y):
    return bind(maximum_p, x, y)


def minimum(x, y):
    return bind(minimum_p, x, y)


def exp(x):
    return bind(exp_p, x)


def log(x):
    return bind(log_p, x)


def sin(x):
    return bind(sin_p, x)


def cos(x):
    return bind(cos_p, x)


def tan(x):
    return bind(tan_p, x)


def tanh(x):
    return bind(tanh_p, x)


def sqrt(x):
    return bind(sqrt_p, x)


def abs(x):  # noqa: A001 - the NumPy name
    return bind(abs_p, x)


def sign(x):
    return bind(sign_p, x)


def equal(x, y):
    return bind(equal_p, x, y)


def not_equal(x, y):
    return bind(not_equal_p, x, y)


def less(x, y):
    return bind(less_p, x, y)


def less_equal(x, y):
    return bind(less_equal_p, x, y)


def greater(x, y):
    return bind(greater_p, x, y)


def greater_equal(x, y):
    return bind(greater_equal_p, x, y)


def where(c, x, y):
    return bind(where_p, c, x, y)
