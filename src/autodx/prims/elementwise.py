"""Elementwise primitives. The common case is one declaration with the local derivative given
once: `unary` and `binary` derive the JVP, the VJP and the batching rule from it, so the two
modes cannot drift apart, and register the op's public wrapper, its NumPy dispatch entry and
its array method (see registry.py), so an op is named in this one place. Broadcasting is the
engines' job (they sum cotangents to shape and broadcast tangents), never a rule's.

A declarator returns the public wrapper (`sin(x) = bind(sin_p, x)`); its primitive is
`sin.prim`. Rules call the wrappers, never raw NumPy, so every derivative has derivatives.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

import numpy as np

from ..core import Primitive, bind, shape_of
from ..registry import DEFAULT, export
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


def _wrapper(prim: Primitive, nargs: int, public: str | tuple | None, numpy, method,
             doc: str | None) -> Callable:
    """The public function of an elementwise primitive, registered under its public name(s)."""
    if nargs == 1:
        def op(x):
            return bind(prim, x)
    elif nargs == 2:
        def op(x, y):
            return bind(prim, x, y)
    else:
        def op(*args):
            return bind(prim, *args)
    names = (prim.name,) if public is None else (public,) if isinstance(public, str) else public
    op.__name__ = op.__qualname__ = names[0] if names else prim.name
    op.__module__ = "autodx.numpy"
    op.__doc__ = doc or f"Elementwise {op.__name__}, as NumPy's (primitive {prim.name!r})."
    op.prim = prim
    if names:
        export(op, name=names[0], aliases=names[1:], numpy=numpy, method=method)
    return op


def unary(name: str, impl: Callable, d: Callable | None = None, *, nondiff: bool = False,
          uses_x: bool = True, public=None, numpy=DEFAULT, method=None,
          doc: str | None = None) -> Callable:
    """Declare `out = impl(x)` with local derivative `d(x, out)` (`uses_x=False`: d reads only
    `out`, so modifying x in place afterwards is harmless, as in PyTorch). No `d` and not
    `nondiff`: the caller attaches its own rules to `.prim`.

    public: the public name (or names; the first is the canonical one; () for none), by
    default `name`. numpy, method: as `registry.export`; `method=True` is a method of the
    public name."""
    prim = Primitive(name, impl, nondiff=nondiff, reads_inputs=uses_x and not nondiff)
    prim.batch = _elementwise_batch(prim)
    if d is not None:
        def jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            out = bind(prim, x)
            return out, _scale(t, d(x, out))

        def vjp(needs, g, out, x):
            return (_scale(g, d(x, out)),)

        prim.jvp, prim.vjp = _named(jvp, f"_{name}_jvp"), _named(vjp, f"_{name}_vjp")
    return _wrapper(prim, 1, public, numpy, _method_name(method, public, name), doc)


def binary(name: str, impl: Callable, dx: Callable | None = None, dy: Callable | None = None,
           *, nondiff: bool = False, reads_inputs=True, public=None, numpy=DEFAULT, method=None,
           doc: str | None = None) -> Callable:
    """Declare `out = impl(x, y)` with partials `dx(x, y, out)` and `dy(x, y, out)`; as
    `unary` for the rest (`nondiff=True`: a comparison, no partials)."""
    prim = Primitive(name, impl, nondiff=nondiff, reads_inputs=not nondiff and reads_inputs)
    prim.batch = _elementwise_batch(prim)
    if dx is not None:
        def jvp(primals, tangents):
            (x, y), (tx, ty) = primals, tangents
            out = bind(prim, x, y)
            terms = [_scale(t, dfun(x, y, out)) for t, dfun in ((tx, dx), (ty, dy))
                     if t is not None]
            return out, terms[0] if len(terms) == 1 else add(*terms)

        def vjp(needs, g, out, x, y):
            return (_scale(g, dx(x, y, out)) if needs[0] else None,
                    _scale(g, dy(x, y, out)) if needs[1] else None)

        prim.jvp, prim.vjp = _named(jvp, f"_{name}_jvp"), _named(vjp, f"_{name}_vjp")
    return _wrapper(prim, 2, public, numpy, _method_name(method, public, name), doc)


def _method_name(method, public, name):
    if method is not True:
        return method
    return public if isinstance(public, str) else public[0] if public else name


def linear_binary(name: str, impl: Callable, sign_y: int, **export_kw) -> Callable:
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
    return _wrapper(prim, 2, export_kw.get("public"), export_kw.get("numpy", DEFAULT),
                    export_kw.get("method"), None)


def linear_unary(name: str, impl: Callable, transpose: Callable, **export_kw) -> Callable:
    """A linear `out = impl(x)` (neg, conj, real, ...) whose cotangent is `transpose(g)`."""
    prim = Primitive(name, impl, linear=True)
    prim.batch = _elementwise_batch(prim)
    prim.vjp = _named(lambda needs, g, out, x: (transpose(g),), f"_{name}_vjp")
    return _wrapper(prim, 1, export_kw.get("public"), export_kw.get("numpy", DEFAULT),
                    export_kw.get("method"), export_kw.get("doc"))


# ----------------------------------------------------------------------------- arithmetic
# PERF: Python's operators give NumPy's results on arrays and NumPy scalars, and skip the
# ufunc machinery on scalars (0.05 us instead of 0.75 us for a float64 product).

add = linear_binary("add", operator.add, +1, numpy=np.add)
sub = linear_binary("sub", operator.sub, -1, public="subtract")
neg = linear_unary("neg", operator.neg, lambda g: neg(g), public="negative")
mul = binary("mul", operator.mul, dx=lambda x, y, out: y, dy=lambda x, y, out: x,
             reads_inputs=lambda needs: (needs[1], needs[0]),  # x * 2 never reads x
             public="multiply")
div = binary("div", operator.truediv,
             dx=lambda x, y, out: div(1.0, y),
             dy=lambda x, y, out: neg(div(out, y)),
             public=("divide", "true_divide"))


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


pow = binary("pow", operator.pow, dx=_pow_dx, dy=_pow_dy,  # noqa: A001 - the NumPy name
             public=("power", "pow"), method="pow")


def _tie_split(wins, ties):
    return where(wins, 1.0, where(ties, 0.5, 0.0))


# NOTE: at ties, maximum/minimum split the gradient evenly (0.5 each), as PyTorch and JAX do.
maximum = binary("maximum", np.maximum,
                 dx=lambda x, y, out: _tie_split(greater(x, y), equal(x, y)),
                 dy=lambda x, y, out: _tie_split(less(x, y), equal(x, y)))
minimum = binary("minimum", np.minimum,
                 dx=lambda x, y, out: _tie_split(less(x, y), equal(x, y)),
                 dy=lambda x, y, out: _tie_split(greater(x, y), equal(x, y)))


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


exp = unary("exp", _scalar_fast(np.exp, math.exp), d=lambda x, out: out, uses_x=False,
            method=True)
log = unary("log", _scalar_fast(np.log, math.log), d=lambda x, out: div(1.0, x), method=True)
sin = unary("sin", _scalar_fast(np.sin, math.sin), d=lambda x, out: cos(x), method=True)
cos = unary("cos", _scalar_fast(np.cos, math.cos), d=lambda x, out: neg(sin(x)), method=True)
tan = unary("tan", _scalar_fast(np.tan, math.tan), d=lambda x, out: add(1.0, mul(out, out)),
            uses_x=False, method=True)
tanh = unary("tanh", _scalar_fast(np.tanh, math.tanh),
             d=lambda x, out: sub(1.0, mul(out, out)), uses_x=False, method=True)
# NOTE: sqrt's derivative is inf at 0, as in every peer.
sqrt = unary("sqrt", _scalar_fast(np.sqrt, math.sqrt), d=lambda x, out: div(0.5, out),
             uses_x=False, method=True)
# NOTE: abs has derivative sign(x), so 0 at x == 0 (PyTorch and HIPS autograd; JAX gives 1).
abs = unary("abs", np.abs, d=lambda x, out: sign(x),  # noqa: A001 - the NumPy name
            public=("absolute", "abs"), method=("abs", "__abs__"))
sign = unary("sign", np.sign, nondiff=True)  # zero derivative everywhere

# ----------------------------------------------------------------------------- comparisons

equal = binary("equal", np.equal, nondiff=True, method="__eq__")
not_equal = binary("not_equal", np.not_equal, nondiff=True, method="__ne__")
less = binary("less", np.less, nondiff=True, method="__lt__")
less_equal = binary("less_equal", np.less_equal, nondiff=True, method="__le__")
greater = binary("greater", np.greater, nondiff=True, method="__gt__")
greater_equal = binary("greater_equal", np.greater_equal, nondiff=True, method="__ge__")

# ----------------------------------------------------------------------------- where

_where_p = Primitive("where", np.where)
_where_p.batch = _elementwise_batch(_where_p)


def where(condition, x, y):
    """`x` where `condition` holds, else `y` (NumPy's three-argument form)."""
    return bind(_where_p, condition, x, y)


where.prim = _where_p


@_where_p.def_jvp
def _where_jvp(primals, tangents):
    (c, x, y), (_, tx, ty) = primals, tangents
    out = where(c, x, y)
    return out, where(c, 0.0 if tx is None else tx, 0.0 if ty is None else ty)


@_where_p.def_vjp
def _where_vjp(needs, g, out, c, x, y):
    # NOTE: the unselected branch gets exactly 0, but a NaN or inf computed there still makes
    # NaN through 0 * inf upstream; guard the *input* of that branch (the double-where trick).
    return (None,
            where(c, g, 0.0) if needs[1] else None,
            where(c, 0.0, g) if needs[2] else None)


export(where)
