"""Elementwise primitives. The common case is one declaration with the local derivative given
once: `unary`, `binary` and `nary` derive the JVP, the VJP and the batching rule from it, so
the two modes cannot drift apart, and register the op's public wrapper, its NumPy dispatch
entry and its array method (see registry.py), so an op is named in this one place;
`piecewise_constant` declares the ops whose derivative is exactly zero (floor, round, `//`).
Broadcasting is the engines' job (they sum cotangents to shape and broadcast tangents), never
a rule's.

A declarator returns the public wrapper (`sin(x) = bind(sin_p, x)`); its primitive is
`sin.prim`. Rules call the wrappers, never raw NumPy, so every derivative has derivatives.

Complex values follow JAX's convention (transposes without conjugation; a cotangent `g` of z
stands for the functional t -> Re(g t)): a holomorphic op's local derivative multiplies
tangents and cotangents alike; the non-holomorphic ones (abs, sign, real, imag, conj) have
rules of their own.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable

import numpy as np

from ..core import Primitive, bind, concrete, dtype_of, is_complex, no_out, shape_of
from ..registry import DEFAULT, export
from .shape import convert, moveaxis, reshape

REFLECTED = object()  # in a `method=` dict: the reflected operator (`__rmod__`: y % x)
_NOT_GIVEN = object()  # an omitted optional argument, where None means something


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


def _zeros(t):
    """Exact zeros of t's shape and dtype (never 0 * inf = NaN)."""
    return where(False, t, 0.0)


def _scale(t, d):
    """t * d, where a constant local derivative of 1 or 0 costs nothing (PERF)."""
    if d.__class__ is float:
        return t if d == 1.0 else _zeros(t) if d == 0.0 else mul(t, d)
    return mul(t, d)


def _named(fn: Callable, name: str) -> Callable:
    fn.__name__ = fn.__qualname__ = name
    return fn


def reflected(fn: Callable) -> Callable:
    """The reflected operator: `2 % x` calls `x.__rmod__(2)`, which is remainder(2, x)."""
    def swapped(self, other):
        if other.__class__ is complex:
            other = _numpy_complex(other, self)
        return fn(other, self)

    return _named(swapped, f"_reflected_{fn.__name__}")


def _numpy_complex(c: complex, other):
    """A Python complex as the NumPy scalar of the dtype it takes with `other` (weakly, as
    NEP 50: complex64 with float32). Needed on the left of an operator impl: `1j * x` of a
    np.float64 x is a Python complex, as np.float64 subclasses float, not NumPy's result."""
    return np.asarray(c, np.result_type(dtype_of(other), c))[()]


def _methods(method, op: Callable):
    """`method=True` names the public function; in a dict, True is the function itself and
    REFLECTED its reflected operator."""
    if method is True:
        return op.__name__
    if isinstance(method, dict):
        return {m: op if f is True else reflected(op) if f is REFLECTED else f
                for m, f in method.items()}
    return method


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
    # PERF: a ufunc takes lists itself (bind converts lists holding traced values)
    user_op = op if isinstance(prim.impl, np.ufunc) else _array_like(prim, nargs)
    for fn in {op, user_op}:
        fn.__name__ = fn.__qualname__ = names[0] if names else prim.name
        fn.__module__ = "autodx.numpy"
        fn.__doc__ = doc or f"Elementwise {fn.__name__}, as NumPy's (primitive {prim.name!r})."
        fn.prim = prim
    if names:
        export(user_op, name=names[0], aliases=names[1:], numpy=numpy,
               method=_methods(method, op))
    return op


_SEQUENCES = (list, tuple)
_SPECIAL = (list, tuple, complex)


def _array_like(prim: Primitive, nargs: int) -> Callable:
    """The public function of a primitive whose impl is not a ufunc (add is `operator.add`):
    NumPy's array_like, so a list or tuple argument becomes an array first (`add([1, 2],
    [3, 4])` is [4, 6], not the concatenated list), and a Python complex on the left a NumPy
    scalar (see `_numpy_complex`). The rules and the operators, which never see lists, call
    the bare wrapper instead (PERF)."""
    if nargs == 1:
        def user_op(x):
            if x.__class__ in _SEQUENCES:
                x = _as_array(x)
            return bind(prim, x)
    elif nargs == 2:
        def user_op(x, y):
            if x.__class__ in _SPECIAL or y.__class__ in _SEQUENCES:
                x, y = _as_array(x), _as_array(y)
                if x.__class__ is complex and y.__class__ not in (int, float, complex):
                    x = _numpy_complex(x, y)
            return bind(prim, x, y)
    else:
        def user_op(*args):
            return bind(prim, *[_as_array(a) for a in args])
    return user_op


def _as_array(x):
    if x.__class__ not in _SEQUENCES:
        return x
    from ..numpy._shapes import as_array  # a call-time import: ad.numpy builds on prims

    return as_array(x)


def unary(name: str, impl: Callable, d: Callable | None = None, *, nondiff: bool = False,
          reads_inputs: bool = True, public=None, numpy=DEFAULT, method=None,
          doc: str | None = None) -> Callable:
    """Declare `out = impl(x)` with local derivative `d(x, out)` (`reads_inputs=False`: d reads only
    `out`, so modifying x in place afterwards is harmless, as in PyTorch). No `d` and not
    `nondiff`: the caller attaches its own rules to `.prim`.

    public: the public name (or names; the first is the canonical one; () for none), by
    default `name`. numpy: as `registry.export`. method: as `registry.export`, or True for a
    method of the public name; in a dict, True stands for the function, REFLECTED for its
    reflected operator."""
    prim = Primitive(name, impl, nondiff=nondiff, reads_inputs=reads_inputs and not nondiff)
    prim.batch = _elementwise_batch(prim)
    if d is not None:
        def jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            out = bind(prim, x)
            return out, _scale(t, d(x, out))

        def vjp(needs, g, out, x):
            return (_scale(g, d(x, out)),)

        prim.jvp, prim.vjp = _named(jvp, f"_{name}_jvp"), _named(vjp, f"_{name}_vjp")
    return _wrapper(prim, 1, public, numpy, method, doc)


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
    return _wrapper(prim, 2, public, numpy, method, doc)


def nary(name: str, impl: Callable, partials: tuple, *, public=None, numpy=DEFAULT,
         method=None, doc: str | None = None) -> Callable:
    """Declare `out = impl(*args)` with one partial `d(*args, out)` per argument, as `binary`
    for three or more arguments. An argument may be None (absent, as an omitted bound of
    clip): it gets no tangent and no cotangent."""
    prim = Primitive(name, impl)
    prim.batch = _elementwise_batch(prim)

    def jvp(primals, tangents):
        out = bind(prim, *primals)
        terms = [_scale(t, d(*primals, out)) for t, d in zip(tangents, partials)
                 if t is not None]
        return out, functools.reduce(add, terms)

    def vjp(needs, g, out, *args):
        return tuple(_scale(g, d(*args, out)) if n else None for n, d in zip(needs, partials))

    prim.jvp, prim.vjp = _named(jvp, f"_{name}_jvp"), _named(vjp, f"_{name}_vjp")
    return _wrapper(prim, len(partials), public, numpy, method, doc)


def piecewise_constant(name: str, impl: Callable, nargs: int = 1, **export_kw) -> Callable:
    """Declare a piecewise-constant op with a float result (floor, round, `//`): its
    derivative is exactly zero, but unlike a `nondiff` op its result stays on the graph, so
    `floor(x).sum().backward()` gives zeros, as in PyTorch. Params pass through the rules."""
    prim = Primitive(name, impl, reads_inputs=False)
    prim.batch = _elementwise_batch(prim)

    def jvp(primals, tangents, **params):
        t = next(t for t in tangents if t is not None)
        return bind(prim, *primals, **params), _zeros(t)

    def vjp(needs, g, out, *args, **params):
        return tuple(_zeros(g) if n else None for n in needs)

    prim.jvp, prim.vjp = _named(jvp, f"_{name}_jvp"), _named(vjp, f"_{name}_vjp")
    return _wrapper(prim, nargs, export_kw.get("public"), export_kw.get("numpy", DEFAULT),
                    export_kw.get("method"), export_kw.get("doc"))


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
    """A linear `out = impl(x)` (neg, conj, real, ...) whose cotangent is `transpose(g, x)`."""
    prim = Primitive(name, impl, linear=True)
    prim.batch = _elementwise_batch(prim)
    prim.vjp = _named(lambda needs, g, out, x: (transpose(g, x),), f"_{name}_vjp")
    return _wrapper(prim, 1, export_kw.get("public"), export_kw.get("numpy", DEFAULT),
                    export_kw.get("method"), export_kw.get("doc"))


# ----------------------------------------------------------------------------- arithmetic
# PERF: Python's operators give NumPy's results on arrays and NumPy scalars, and skip the
# ufunc machinery on scalars (0.05 us instead of 0.75 us for a float64 product).

add = linear_binary("add", operator.add, +1, numpy=np.add)
sub = linear_binary("sub", operator.sub, -1, public="subtract")
neg = linear_unary("neg", operator.neg, lambda g, x: neg(g), public="negative")
mul = binary("mul", operator.mul, dx=lambda x, y, out: y, dy=lambda x, y, out: x,
             reads_inputs=lambda needs: (needs[1], needs[0]),  # x * 2 never reads x
             public="multiply")
def _truediv(x, y):
    try:  # PERF: Python's operator (see above)
        return x / y
    except ZeroDivisionError:  # Python numbers: NumPy's inf/nan instead
        return np.divide(x, y)


div = binary("div", _truediv,
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


def _power(x, y):
    """x ** y by Python's operator (PERF, as above), with NumPy's results where Python's
    differ for Python numbers: nan (not a complex number) for a negative base and a
    fractional exponent, inf instead of ZeroDivisionError or OverflowError."""
    try:
        out = x ** y
    except (ZeroDivisionError, OverflowError):
        return np.power(np.float64(x), y)
    if out.__class__ is complex and x.__class__ is not complex and y.__class__ is not complex:
        return np.power(np.float64(x), y)
    return out


pow = binary("pow", _power, dx=_pow_dx, dy=_pow_dy,  # noqa: A001 - the NumPy name
             public=("power", "pow"), method="pow")


@export(method="float_power")
def float_power(x, y):
    """x ** y computed in float64 (complex128 for complex inputs), as np.float_power.

    >>> ad.numpy.float_power(np.float32(2.0), 3)  # np.float64(8.0)
    """
    dtype = np.result_type(dtype_of(x), dtype_of(y), np.float64)
    return pow(convert(x, dtype), convert(y, dtype))


# NOTE: x mod y = x - y floor(x / y), so d/dx = 1 and d/dy = -floor(x / y) away from the
# jumps, as PyTorch; fmod truncates instead of flooring. `//` has derivative 0 (PyTorch has
# none), so that code using it still differentiates.
floor_divide = piecewise_constant(
    "floor_divide", np.floor_divide, 2,
    method={"floor_divide": True, "__floordiv__": True, "__rfloordiv__": REFLECTED})
remainder = binary("remainder", np.remainder, dx=lambda x, y, out: 1.0,
                   dy=lambda x, y, out: neg(floor_divide(x, y)), public=("remainder", "mod"),
                   method={"remainder": True, "__mod__": True, "__rmod__": REFLECTED})
fmod = binary("fmod", np.fmod, dx=lambda x, y, out: 1.0,
              dy=lambda x, y, out: neg(trunc(div(x, y))), method=True)


@export(name="divmod", method={"__divmod__": lambda x, y: divmod_(x, y),
                               "__rdivmod__": lambda x, y: divmod_(y, x)})
def divmod_(x, y) -> tuple:
    """(x // y, x % y), as np.divmod and Python's divmod.

    >>> ad.numpy.divmod(7.5, 2.0)  # (np.float64(3.0), np.float64(1.5))
    """
    return floor_divide(x, y), remainder(x, y)


# ----------------------------------------------------------------------------- transcendental
# NOTE: NumPy's own functions on scalars too (a float64 shortcut through the math module was
# ~0.05 us faster a call but differed from NumPy in the last digit, e.g. for ~30% of tanh's
# inputs): NumPy in, NumPy out, bit for bit. tests/test_ops.py checks 0-d inputs exactly.

_LN2, _LN10, _PI = math.log(2.0), math.log(10.0), math.pi

exp = unary("exp", np.exp, d=lambda x, out: out, reads_inputs=False, method=True)
exp2 = unary("exp2", np.exp2, d=lambda x, out: mul(out, _LN2), reads_inputs=False, method=True)
expm1 = unary("expm1", np.expm1, d=lambda x, out: add(out, 1.0), reads_inputs=False, method=True)
# NOTE: log(0) is -inf with derivative inf, as NumPy's 1/0 and PyTorch.
log = unary("log", np.log, d=lambda x, out: div(1.0, x), method=True)
log2 = unary("log2", np.log2, d=lambda x, out: div(1.0 / _LN2, x), method=True)
log10 = unary("log10", np.log10, d=lambda x, out: div(1.0 / _LN10, x), method=True)
log1p = unary("log1p", np.log1p, d=lambda x, out: div(1.0, add(1.0, x)), method=True)
sin = unary("sin", np.sin, d=lambda x, out: cos(x), method=True)
cos = unary("cos", np.cos, d=lambda x, out: neg(sin(x)), method=True)
tan = unary("tan", np.tan, d=lambda x, out: add(1.0, mul(out, out)), reads_inputs=False,
            method=True)
tanh = unary("tanh", np.tanh, d=lambda x, out: sub(1.0, mul(out, out)), reads_inputs=False,
             method=True)
# NOTE: sqrt's derivative is inf at 0, as in every peer; so is cbrt's.
sqrt = unary("sqrt", np.sqrt, d=lambda x, out: div(0.5, out), reads_inputs=False, method=True)
cbrt = unary("cbrt", np.cbrt, d=lambda x, out: div(1.0, mul(3.0, mul(out, out))),
             reads_inputs=False)


def _one_minus_square(x):
    return sub(1.0, mul(x, x))


# The inverse functions' derivatives are infinite at the ends of their domains, as everywhere.
arcsin = unary("arcsin", np.arcsin, d=lambda x, out: div(1.0, sqrt(_one_minus_square(x))),
               public=("arcsin", "asin"), method=("arcsin", "asin"))
arccos = unary("arccos", np.arccos, d=lambda x, out: div(-1.0, sqrt(_one_minus_square(x))),
               public=("arccos", "acos"), method=("arccos", "acos"))
arctan = unary("arctan", np.arctan, d=lambda x, out: div(1.0, add(1.0, mul(x, x))),
               public=("arctan", "atan"), method=("arctan", "atan"))
sinh = unary("sinh", np.sinh, d=lambda x, out: cosh(x), method=True)
cosh = unary("cosh", np.cosh, d=lambda x, out: sinh(x), method=True)
arcsinh = unary("arcsinh", np.arcsinh, d=lambda x, out: div(1.0, sqrt(add(mul(x, x), 1.0))),
                public=("arcsinh", "asinh"), method=("arcsinh", "asinh"))
# sqrt(x - 1) sqrt(x + 1) rather than sqrt(x^2 - 1): the right branch for complex x
arccosh = unary("arccosh", np.arccosh,
                d=lambda x, out: div(1.0, mul(sqrt(sub(x, 1.0)), sqrt(add(x, 1.0)))),
                public=("arccosh", "acosh"), method=("arccosh", "acosh"))
arctanh = unary("arctanh", np.arctanh, d=lambda x, out: div(1.0, _one_minus_square(x)),
                public=("arctanh", "atanh"), method=("arctanh", "atanh"))
deg2rad = linear_unary("deg2rad", np.deg2rad, lambda g, x: deg2rad(g),
                       public=("deg2rad", "radians"), method="deg2rad")
rad2deg = linear_unary("rad2deg", np.rad2deg, lambda g, x: rad2deg(g),
                       public=("rad2deg", "degrees"), method="rad2deg")


def _sinc_d(x, out):
    # d/dx sin(pi x) / (pi x) = (cos(pi x) - sinc(x)) / x.
    # NOTE: 0 at x == 0, by continuity. There the rule is the Maclaurin series of the
    # derivative, -pi^2 x / 3 + pi^4 x^3 / 30, so the second derivative at 0 is -pi^2 / 3 (and
    # the third and fourth are right too); the other branch sees x = 1 (double where: no 0/0
    # at any order).
    at_zero = equal(x, 0)
    safe = where(at_zero, 1.0, x)
    series = mul(x, add(-_PI**2 / 3, mul(mul(x, x), _PI**4 / 30)))
    return where(at_zero, series, div(sub(cos(mul(_PI, safe)), out), safe))


sinc = unary("sinc", np.sinc, d=_sinc_d, method=True)


def _atan2_denominator(y, x):
    # NOTE: at the origin both partials of arctan2 are 0, as PyTorch: the denominator is taken
    # as 1 there, where the numerators are 0 (double where: finite at every order).
    origin = logical_and(equal(x, 0), equal(y, 0))
    return where(origin, 1.0, add(mul(x, x), mul(y, y)))


arctan2 = binary("arctan2", np.arctan2,
                 dx=lambda y, x, out: div(x, _atan2_denominator(y, x)),
                 dy=lambda y, x, out: div(neg(y), _atan2_denominator(y, x)),
                 public=("arctan2", "atan2"), method=("arctan2", "atan2"))


def _hypot_partial(x, out):
    # NOTE: 0 at (0, 0), the subgradient of smallest norm (PyTorch gives NaN there)
    return div(x, where(equal(out, 0), 1.0, out))


hypot = binary("hypot", np.hypot, dx=lambda x, y, out: _hypot_partial(x, out),
               dy=lambda x, y, out: _hypot_partial(y, out), method=True)


def sigmoid(z):
    """1 / (1 + exp(-z)), accurate in both tails: exp only sees -|z|, so nothing overflows.
    (Also ad.nn.sigmoid and ad.scipy.special.expit.)"""
    nonneg = greater_equal(z, 0)
    e = exp(where(nonneg, neg(z), z))  # exp(-|z|), in (0, 1]
    return div(where(nonneg, 1.0, e), add(1.0, e))


def _difference(x, y, scale=1.0):
    """scale * (x - y), taken as 0 where x and y are the same infinity (double where: the
    difference never sees inf - inf)."""
    same_infinity = logical_and(equal(x, y), isinf(x))
    diff = sub(where(same_infinity, 0.0, x), where(same_infinity, 0.0, y))
    return diff if scale == 1.0 else mul(diff, scale)


# NOTE: d/dx logaddexp(x, y) = sigmoid(x - y), stable at +-1000 and in float32; equal
# infinities split it 0.5/0.5 (PyTorch gives NaN there). logaddexp2's is sigmoid((x - y) ln 2).
logaddexp = binary("logaddexp", np.logaddexp, dx=lambda x, y, out: sigmoid(_difference(x, y)),
                   dy=lambda x, y, out: sigmoid(_difference(y, x)), method=True)
logaddexp2 = binary("logaddexp2", np.logaddexp2,
                    dx=lambda x, y, out: sigmoid(_difference(x, y, _LN2)),
                    dy=lambda x, y, out: sigmoid(_difference(y, x, _LN2)), method=True)

# ----------------------------------------------------------------------------- abs and sign

abs = unary("abs", np.abs, public=("absolute", "abs"),  # noqa: A001 - the NumPy name
            method=("abs", "absolute", "__abs__"))


@abs.prim.def_jvp
def _abs_jvp(primals, tangents):
    # NOTE: abs has derivative sign(x), so 0 at x == 0 (PyTorch and HIPS autograd; JAX gives
    # 1); for complex z, d|z| = Re(conj(sign(z)) dz), also 0 at z == 0.
    (x,), (t,) = primals, tangents
    s = sign(x)
    return abs(x), real(mul(t, conj(s))) if is_complex(x) else mul(t, s)


@abs.prim.def_vjp
def _abs_vjp(needs, g, out, x):
    s = sign(x)
    return (mul(g, conj(s) if is_complex(x) else s),)


fabs = unary("fabs", np.fabs, d=lambda x, out: sign(x))  # NOTE: 0 at 0, as abs

sign = unary("sign", np.sign, method=True)


def _complex_sign_parts(x, out):
    """(z == 0, |z| taken as 1 where z == 0) for the rules of sign(z) = z / |z|."""
    at_zero = equal(x, 0)
    return at_zero, where(at_zero, 1.0, abs(x))


@sign.prim.def_jvp
def _sign_jvp(primals, tangents):
    # NOTE: for real x the derivative is 0 everywhere, 0 at 0 too, but the result stays
    # differentiable (PyTorch keeps requires_grad). For complex z, d(z / |z|) =
    # (dz - s Re(conj(s) dz)) / |z| with s = sign(z); taken as 0 at z == 0 (PyTorch's sgn).
    (x,), (t,) = primals, tangents
    out = sign(x)
    if not is_complex(x):
        return out, _zeros(t)
    at_zero, r = _complex_sign_parts(x, out)
    return out, where(at_zero, 0.0, div(sub(t, mul(out, real(mul(conj(out), t)))), r))


@sign.prim.def_vjp
def _sign_vjp(needs, g, out, x):
    if not is_complex(x):
        return (_zeros(g),)
    at_zero, r = _complex_sign_parts(x, out)
    return (where(at_zero, 0.0, div(sub(g, mul(conj(out), real(mul(g, out)))), r)),)


# NOTE: d/dx copysign(x, y) is +-1, the sign the result took, and 0 at x == 0 (as PyTorch);
# d/dy is 0. ldexp's exponent is an integer: no derivative.
copysign = binary("copysign", np.copysign, dx=lambda x, y, out: mul(sign(x), sign(out)),
                  dy=lambda x, y, out: 0.0, method=True)
ldexp = binary("ldexp", np.ldexp, dx=lambda x, i, out: ldexp(1.0, i), dy=lambda x, i, out: 0.0,
               method=True)

# NOTE: nextafter(x, y) is x moved by one ulp: derivative 1 in x, 0 in y (JAX and PyTorch
# have none); spacing is piecewise constant.
nextafter = binary("nextafter", np.nextafter, dx=lambda x, y, out: 1.0,
                   dy=lambda x, y, out: 0.0, method=True)
spacing = piecewise_constant("spacing", np.spacing)
_frexp_exponent = unary("frexp_exponent", lambda x: np.frexp(x)[1], nondiff=True, public=())


@export
def frexp(x) -> tuple:
    """(mantissa, exponent) with x = mantissa * 2**exponent, as np.frexp; the mantissa's
    derivative is 2**-exponent.

    >>> ad.numpy.frexp(3.0)  # (np.float64(0.75), np.int32(2))
    """
    e = _frexp_exponent(x)
    return ldexp(x, neg(e)), e


@export
def modf(x) -> tuple:
    """(fractional part, integral part), both with x's sign, as np.modf; the fractional part
    has derivative 1, the integral part 0.

    >>> ad.numpy.modf(-2.5)  # (np.float64(-0.5), np.float64(-2.0))
    """
    whole = trunc(x)
    infinite = isinf(x)  # np.modf(inf) is (0, inf): no inf - inf (double where)
    frac = sub(where(infinite, 0.0, x), where(infinite, 0.0, whole))
    return copysign(frac, x), whole


# ----------------------------------------------------------------------------- complex parts

real = linear_unary("real", np.real, lambda g, x: g,  # the engine casts g to x's dtype
                    method={"real": property(lambda self: real(self))})
# imag(t) = Re(-i t): the transpose is -i g; for a real input, imag is the constant 0.
imag = linear_unary("imag", np.imag,
                    lambda g, x: mul(g, -1j) if is_complex(x) else _zeros(g),
                    method={"imag": property(lambda self: imag(self))})
conj = linear_unary("conj", np.conjugate, lambda g, x: conj(g), public=("conj", "conjugate"),
                    method=("conj", "conjugate"))


@export(method="angle")
def angle(z, deg: bool = False):
    """The argument of z in radians (degrees with `deg=True`), as np.angle: arctan2(imag z,
    real z); for a real z that is 0 or pi, with derivative 0.

    >>> ad.numpy.angle(1j)  # np.float64(1.5707963267948966)
    """
    a = arctan2(imag(z), real(z))
    return mul(a, 180.0 / _PI) if deg else a


# ----------------------------------------------------------------------------- rounding
# NOTE: derivative 0 (PyTorch keeps requires_grad on their float results; so do we).

floor = piecewise_constant("floor", np.floor, method=True)
ceil = piecewise_constant("ceil", np.ceil, method=True)
rint = piecewise_constant("rint", np.rint)
trunc = piecewise_constant("trunc", np.trunc, public=("trunc", "fix"), method=("trunc", "fix"))
_round = piecewise_constant("round", lambda x, *, decimals: np.round(x, decimals), public=())


@export(name="round", aliases=("around",), method={
    "round": lambda self, decimals=0: round_(self, decimals),
    "__round__": lambda self, ndigits=None: round_(self, ndigits or 0)})
def round_(a, decimals: int = 0, out=None):
    """Round to `decimals` digits, halves to even, as np.round; derivative 0.

    >>> ad.numpy.round(np.array([0.5, 1.25]), 1)  # array([0.5, 1.2])
    """
    no_out(out, "round")
    return bind(_round.prim, a, decimals=operator.index(decimals))


# ----------------------------------------------------------------------------- extrema

def _tie_split(wins, ties, out):
    """1 where the argument wins, 0.5 at ties, 0 elsewhere, in the result's dtype.

    PERF: arithmetic on the masks, not `where`: NumPy's where on a random mask (a ReLU's)
    runs ~15x slower than a cast and a multiply; and the result's dtype keeps a float32
    gradient float32."""
    dtype = dtype_of(out)
    return add(convert(wins, dtype), mul(convert(ties, dtype), dtype.type(0.5)))


# NOTE: at ties, maximum/minimum split the gradient evenly (0.5 each), as PyTorch and JAX do.
maximum = binary("maximum", np.maximum,
                 dx=lambda x, y, out: _tie_split(greater(x, y), equal(x, y), out),
                 dy=lambda x, y, out: _tie_split(less(x, y), equal(x, y), out), method=True)
minimum = binary("minimum", np.minimum,
                 dx=lambda x, y, out: _tie_split(less(x, y), equal(x, y), out),
                 dy=lambda x, y, out: _tie_split(greater(x, y), equal(x, y), out), method=True)


def _fmax_dx(x, y, out):
    # NOTE: ties split 0.5/0.5 as maximum's (PyTorch gives a tie to x). A NaN loses: the other
    # argument is the result, with derivative 1 (both NaN: x's, as PyTorch).
    return _tie_split(logical_or(greater(x, y), isnan(y)), equal(x, y), out)


def _fmin_dx(x, y, out):
    return _tie_split(logical_or(less(x, y), isnan(y)), equal(x, y), out)


fmax = binary("fmax", np.fmax, dx=_fmax_dx, dy=lambda x, y, out: sub(1.0, _fmax_dx(x, y, out)),
              method=True)
fmin = binary("fmin", np.fmin, dx=_fmin_dx, dy=lambda x, y, out: sub(1.0, _fmin_dx(x, y, out)),
              method=True)


# NOTE: clip's gradient is PyTorch's clamp's: to x on [lo, hi], the bounds themselves
# included; to lo below it and to hi above it; where lo > hi (the result is hi) all to hi.
def _clip_dx(x, lo, hi, out):
    if lo is None:
        return 1.0 if hi is None else less_equal(x, hi)
    above_lo = greater_equal(x, lo)
    return above_lo if hi is None else logical_and(above_lo, less_equal(x, hi))


def _clip_dlo(x, lo, hi, out):
    below = less(x, lo)
    return below if hi is None else logical_and(below, less(lo, hi))


def _clip_dhi(x, lo, hi, out):
    above = greater(x, hi)
    return above if lo is None else logical_or(above, less(hi, lo))


_clip = nary("clip", np.clip, (_clip_dx, _clip_dlo, _clip_dhi), public=())


def _clip_method(self, min=None, max=None):  # noqa: A002 - ndarray.clip's and torch's names
    return clip(self, min=min, max=max)


@export(method={"clip": _clip_method, "clamp": _clip_method})
def clip(a, a_min=_NOT_GIVEN, a_max=_NOT_GIVEN, out=None, *, min=_NOT_GIVEN,  # noqa: A002
         max=_NOT_GIVEN):
    """`a` limited to [a_min, a_max], as np.clip (or NumPy 2's `min=`/`max=` keywords); a
    bound of None is no bound. The gradient passes to `a` at the bounds themselves, as
    PyTorch's clamp.

    >>> ad.numpy.clip(np.array([-2.0, 0.5, 3.0]), 0, 1)  # array([0. , 0.5, 1. ])
    """
    no_out(out, "clip")
    if a_min is _NOT_GIVEN and a_max is _NOT_GIVEN:
        a_min, a_max = (None if b is _NOT_GIVEN else b for b in (min, max))
    elif a_min is _NOT_GIVEN or a_max is _NOT_GIVEN:
        missing = "a_min" if a_min is _NOT_GIVEN else "a_max"
        raise TypeError(f"clip() missing 1 required positional argument: {missing!r} (give "
                        f"both bounds, None for no bound, or use the min=/max= keywords)")
    elif min is not _NOT_GIVEN or max is not _NOT_GIVEN:
        raise ValueError("Passing `min` or `max` keyword argument when `a_min` and `a_max` "
                         "are provided is forbidden.")
    return bind(_clip.prim, a, a_min, a_max)


# ----------------------------------------------------------------------------- other

# NOTE: d/dx1 is 0 (the step is not differentiable at 0; PyTorch has no derivative); d/dx2 is
# 1 where x1 == 0, where the value is x2, as JAX.
heaviside = binary("heaviside", np.heaviside, dx=lambda x1, x2, out: 0.0,
                   dy=lambda x1, x2, out: equal(x1, 0), method=True)


def _nan_to_num_impl(x, *, nan, posinf, neginf):
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


_nan_to_num_p = Primitive("nan_to_num", _nan_to_num_impl)
_nan_to_num_p.batch = _elementwise_batch(_nan_to_num_p)


@export(method={"nan_to_num": lambda self, nan=0.0, posinf=None, neginf=None: nan_to_num(
    self, nan=nan, posinf=posinf, neginf=neginf)})
def nan_to_num(x, copy: bool = True, nan: float = 0.0, posinf=None, neginf=None):
    """NaN and infinities replaced by finite numbers, as np.nan_to_num (`copy` is moot: autodx
    never writes in place). Derivative 1 where x is finite, 0 at the replaced values.

    >>> ad.numpy.nan_to_num(np.array([np.nan, 1.0]))  # array([0., 1.])
    """
    return bind(_nan_to_num_p, x, nan=float(nan),
                posinf=None if posinf is None else float(posinf),
                neginf=None if neginf is None else float(neginf))


@_nan_to_num_p.def_jvp
def _nan_to_num_jvp(primals, tangents, **params):
    # NOTE: derivative 1 where x is finite, 0 where it was replaced (PyTorch)
    (x,), (t,) = primals, tangents
    return bind(_nan_to_num_p, x, **params), where(isfinite(x), t, 0.0)


@_nan_to_num_p.def_vjp
def _nan_to_num_vjp(needs, g, out, x, **params):
    return (where(isfinite(x), g, 0.0),)


# ----------------------------------------------------------------------------- comparisons
# Boolean results: no derivative (`nondiff`).

equal = binary("equal", np.equal, nondiff=True, method="__eq__")
not_equal = binary("not_equal", np.not_equal, nondiff=True, method="__ne__")
less = binary("less", np.less, nondiff=True, method="__lt__")
less_equal = binary("less_equal", np.less_equal, nondiff=True, method="__le__")
greater = binary("greater", np.greater, nondiff=True, method="__gt__")
greater_equal = binary("greater_equal", np.greater_equal, nondiff=True, method="__ge__")

isfinite = unary("isfinite", np.isfinite, nondiff=True, method=True)
isnan = unary("isnan", np.isnan, nondiff=True, method=True)
isinf = unary("isinf", np.isinf, nondiff=True, method=True)
signbit = unary("signbit", np.signbit, nondiff=True, method=True)
isposinf = unary("isposinf", np.isposinf, nondiff=True, method=True)
isneginf = unary("isneginf", np.isneginf, nondiff=True, method=True)
iscomplex = unary("iscomplex", np.iscomplex, nondiff=True)
isreal = unary("isreal", np.isreal, nondiff=True, method=True)

logical_and = binary("logical_and", np.logical_and, nondiff=True, method=True)
logical_or = binary("logical_or", np.logical_or, nondiff=True, method=True)
logical_xor = binary("logical_xor", np.logical_xor, nondiff=True, method=True)
logical_not = unary("logical_not", np.logical_not, nondiff=True, method=True)
# `&`, `|`, `^`, `~` are NumPy's bitwise ufuncs: logical on booleans, bitwise on integers.
bitwise_and = binary("bitwise_and", np.bitwise_and, nondiff=True,
                     method={"bitwise_and": True, "__and__": True, "__rand__": REFLECTED})
bitwise_or = binary("bitwise_or", np.bitwise_or, nondiff=True,
                    method={"bitwise_or": True, "__or__": True, "__ror__": REFLECTED})
bitwise_xor = binary("bitwise_xor", np.bitwise_xor, nondiff=True,
                     method={"bitwise_xor": True, "__xor__": True, "__rxor__": REFLECTED})
invert = unary("invert", np.invert, nondiff=True, public=("invert", "bitwise_not",
                                                          "bitwise_invert"),
               method={"bitwise_not": True, "__invert__": True})

_isclose = binary("isclose", lambda x, y, *, rtol, atol, equal_nan: np.isclose(
    x, y, rtol=rtol, atol=atol, equal_nan=equal_nan), nondiff=True, public=())


@export(method="isclose", kind="nondiff")
def isclose(a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """|a - b| <= atol + rtol |b| elementwise, as np.isclose.

    >>> ad.numpy.isclose(1.0, 1.0 + 1e-9)  # np.True_
    """
    return bind(_isclose.prim, a, b, rtol=float(rtol), atol=float(atol),
                equal_nan=bool(equal_nan))


@export(method="allclose", kind="nondiff")
def allclose(a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether every element is close, as np.allclose: a Python bool, so it reads the concrete
    values (under vmap it raises, as any Python control flow on a batched value).

    >>> ad.numpy.allclose([1.0, 2.0], [1.0, 2.0 + 1e-9])  # True
    """
    return bool(np.all(concrete(isclose(a, b, rtol, atol, equal_nan))))


# ----------------------------------------------------------------------------- where, select

_where_p = Primitive("where", np.where)
_where_p.batch = _elementwise_batch(_where_p)


def where(condition, x=_NOT_GIVEN, y=_NOT_GIVEN):
    """`x` where `condition` holds, else `y`; given the condition alone, the indices where it
    holds (NumPy's one-argument form: np.nonzero of its concrete value, no derivative).

    >>> ad.numpy.where(np.array([True, False]), 1.0, -1.0)  # array([ 1., -1.])
    """
    if x is _NOT_GIVEN and y is _NOT_GIVEN:
        return np.nonzero(concrete(condition))
    if x is _NOT_GIVEN or y is _NOT_GIVEN:
        raise ValueError("either both or neither of x and y should be given")
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


def _weak_dtype(x):
    """x's dtype, or x itself for a Python scalar (weak in NumPy 2's promotion)."""
    return x if type(x) in (int, float, complex) else dtype_of(x)


@export
def select(condlist, choicelist, default=0):
    """choicelist[i] where condlist[i] is the first condition that holds, else `default`, as
    np.select (a chain of `where`).

    >>> x = np.arange(4.0); ad.numpy.select([x < 1, x > 2], [x, -x], 9.0)  # [0, 9, 9, -3]
    """
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    for i, cond in enumerate(condlist):
        if dtype_of(cond) != np.bool_:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
    dtype = np.result_type(*[_weak_dtype(c) for c in (*choicelist, default)])
    out = default
    for cond, choice in zip(condlist[::-1], choicelist[::-1]):
        out = where(cond, choice, out)
    return convert(out, dtype)
