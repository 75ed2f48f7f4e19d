"""Op-table rows for the elementwise part of the NumPy surface (see op_spec.py).

One or two rows per public function, in its domain; binary ones also broadcast. Ops with a
zero derivative (floor, round, `//`) are rows too: their JVP is 0, as are finite differences
away from the jumps. Non-holomorphic complex functions (real, imag, conj, angle, and abs and
sign of complex values) are seen through real outputs of a complex intermediate `x + 1j * y`;
`complex=True` marks the holomorphic rows, which are also checked with complex inputs."""

from __future__ import annotations

import numpy as np

import autodx as ad
from op_spec import OpSpec
from op_spec import binary_op as _binary
from op_spec import unary_op as _unary

anp = ad.numpy

BROADCAST = ((3, 1), (1, 4))
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, True]])
CLOSE_A = np.array([1.0, 2.0, 3.0])
EXPONENTS = np.array([-2, 0, 1, 3])


def _with_special(rng, shape):
    """Reals with some entries replaced by nan, inf and -inf (in a fixed pattern)."""
    x = rng.uniform(-2.0, 2.0, shape).ravel()
    x[::5], x[1::7], x[2::6] = np.nan, np.inf, -np.inf
    return x.reshape(shape)


def _with_nan(rng, shape):
    x = rng.uniform(-2.0, 2.0, shape).ravel()
    x[::3] = np.nan
    return x.reshape(shape)


def _lower(rng, shape):
    return rng.uniform(-1.5, -0.5, shape)


def _upper(rng, shape):
    return rng.uniform(0.5, 1.5, shape)


def _z(name, f, ref, domains=("real", "real"), **kw) -> OpSpec:
    """A row of a complex intermediate `x + 1j * y` (f and ref take it and return reals)."""
    return OpSpec(name, lambda x, y: f(x + 1j * y), lambda x, y: ref(x + 1j * y),
                  ((3, 4), (3, 4)), domains, **kw)


def _binary_pair(name, fn, ref, domains=("real", "real"), **kw) -> list[OpSpec]:
    """The same-shape row and a broadcasting one."""
    return [_binary(name, fn, ref, domains=domains, **kw),
            _binary(f"{name} broadcast", fn, ref, BROADCAST, domains, **kw)]


OPS: list[OpSpec] = [
    # ---- exponentials and logarithms
    _unary("exp2", anp.exp2, np.exp2, complex=True),
    _unary("expm1", anp.expm1, np.expm1, complex=True),
    _unary("log2", anp.log2, np.log2, "positive", complex=True),
    _unary("log10", anp.log10, np.log10, "positive", complex=True),
    _unary("log1p", anp.log1p, np.log1p, "open_unit", complex=True),
    _unary("cbrt", anp.cbrt, np.cbrt, "nonzero"),
    # ---- trigonometric and hyperbolic
    _unary("arcsin", anp.arcsin, np.arcsin, "open_unit", complex=True),
    _unary("arccos", anp.arccos, np.arccos, "open_unit", complex=True),
    _unary("arctan", anp.arctan, np.arctan, complex=True),
    _unary("sinh", anp.sinh, np.sinh, complex=True),
    _unary("cosh", anp.cosh, np.cosh, complex=True),
    _unary("arcsinh", anp.arcsinh, np.arcsinh, complex=True),
    _unary("arccosh", anp.arccosh, np.arccosh, "above_one", complex=True),
    _unary("arctanh", anp.arctanh, np.arctanh, "open_unit", complex=True),
    _unary("asin acos atan asinh acosh atanh (aliases)",
           lambda x: anp.asin(x) + anp.acos(x) * anp.atan(x) + anp.asinh(x) - anp.atanh(x)
           + anp.acosh(x * x + 1.5),
           lambda x: np.asin(x) + np.acos(x) * np.atan(x) + np.asinh(x) - np.atanh(x)
           + np.acosh(x * x + 1.5), "open_unit"),
    _unary("deg2rad, radians", lambda x: anp.deg2rad(x) * anp.radians(x + 3.0),
           lambda x: np.deg2rad(x) * np.radians(x + 3.0)),
    _unary("rad2deg, degrees", lambda x: anp.rad2deg(x) + anp.degrees(x) ** 2,
           lambda x: np.rad2deg(x) + np.degrees(x) ** 2),
    _unary("sinc", anp.sinc, np.sinc, complex=True),
    *_binary_pair("arctan2", anp.arctan2, np.arctan2),
    _binary("atan2 (alias)", anp.atan2, np.atan2, ((4,), (2, 3, 4))),
    *_binary_pair("hypot", anp.hypot, np.hypot),
    # ---- sums of exponentials, powers
    *_binary_pair("logaddexp", anp.logaddexp, np.logaddexp),
    *_binary_pair("logaddexp2", anp.logaddexp2, np.logaddexp2),
    *_binary_pair("float_power", anp.float_power, np.float_power, ("positive", "real"),
                  complex=True),
    # ---- abs, sign, extrema, clip
    _unary("fabs", anp.fabs, np.fabs, "nonzero"),
    _unary("sign (zero derivative)", lambda x: anp.sign(x) * x, lambda x: np.sign(x) * x,
           "nonzero"),
    *_binary_pair("copysign", anp.copysign, np.copysign, ("nonzero", "nonzero")),
    _unary("ldexp", lambda x: anp.ldexp(x, EXPONENTS), lambda x: np.ldexp(x, EXPONENTS)),
    *_binary_pair("fmax", anp.fmax, np.fmax),
    *_binary_pair("fmin", anp.fmin, np.fmin),
    _binary("fmax, fmin with NaNs", lambda x, y: anp.fmax(x, y) * anp.fmin(y, x),
            lambda x, y: np.fmax(x, y) * np.fmin(y, x), domains=("real", _with_nan)),
    _unary("clip scalar bounds", lambda x: anp.clip(x, -1.0, 1.0), lambda x: np.clip(x, -1, 1)),
    OpSpec("clip array bounds broadcast", anp.clip, np.clip, ((3, 4), (3, 1), (4,)),
           ("real", _lower, _upper)),
    _binary("clip upper bound only, min= only",
            lambda x, hi: anp.clip(x, a_min=None, a_max=hi) * anp.clip(x, min=-0.5),
            lambda x, hi: np.clip(x, a_min=None, a_max=hi) * np.clip(x, min=-0.5),
            ((3, 4), (3, 1)),
            ("real", _upper)),
    _unary("x.clip(lo, None) (method)", lambda x: x.clip(-0.5, None),
           lambda x: x.clip(-0.5, None)),
    # ---- modular arithmetic
    *_binary_pair("remainder", anp.remainder, np.remainder, ("real", "positive")),
    _binary("mod (alias), negative divisor", anp.mod, np.mod, domains=("real", "nonzero")),
    *_binary_pair("fmod", anp.fmod, np.fmod, ("real", "nonzero")),
    *_binary_pair("floor_divide", lambda x, y: anp.floor_divide(x, y) * y,
                  lambda x, y: np.floor_divide(x, y) * y, ("real", "nonzero")),
    _binary("x // y + x % y (operators)", lambda x, y: x // y + x % y,
            lambda x, y: x // y + x % y, domains=("real", "nonzero")),
    _unary("7.0 // x * (7.0 % x) (reflected)", lambda x: 7.0 // x * (7.0 % x),
           lambda x: 7.0 // x * (7.0 % x), "nonzero"),
    _binary("divmod", lambda x, y: anp.divmod(x, y)[1] * divmod(x, y)[0],
            lambda x, y: np.divmod(x, y)[1] * divmod(x, y)[0], BROADCAST,
            ("real", "positive")),
    _unary("divmod(3.0, x) (reflected)", lambda x: divmod(3.0, x)[1],
           lambda x: divmod(3.0, x)[1], "positive"),
    _binary("nextafter", lambda x, y: anp.nextafter(x, y) * y,
            lambda x, y: np.nextafter(x, y) * y, BROADCAST),
    _unary("spacing", lambda x: anp.spacing(x) * 1e15 + x, lambda x: np.spacing(x) * 1e15 + x),
    _unary("frexp", lambda x: anp.frexp(x)[0] * anp.frexp(3 * x)[1],
           lambda x: np.frexp(x)[0] * np.frexp(3 * x)[1]),
    _unary("modf", lambda x: anp.modf(x)[0] * x + anp.modf(2 * x)[1],
           lambda x: np.modf(x)[0] * x + np.modf(2 * x)[1]),
    # ---- rounding: derivative zero
    _unary("floor", lambda x: anp.floor(x) * x, lambda x: np.floor(x) * x),
    _unary("ceil", lambda x: anp.ceil(x) * x, lambda x: np.ceil(x) * x),
    _unary("rint", anp.rint, np.rint),
    _unary("trunc, fix", lambda x: anp.trunc(x) + anp.fix(2.0 * x),
           lambda x: np.trunc(x) + np.fix(2.0 * x)),
    _unary("round decimals=1, around", lambda x: anp.round(x, 1) + anp.around(x) + x,
           lambda x: np.round(x, 1) + np.around(x) + x),
    _unary("x.round(2) (method)", lambda x: x.round(2) * x, lambda x: x.round(2) * x),
    # ---- complex parts, through real outputs
    _z("imag(conj(x + iy) (x - 2i))", lambda z: anp.imag(anp.conj(z) * (z.real - 2j)),
       lambda z: np.imag(np.conj(z) * (z.real - 2j))),
    _z("real((z^2 + conjugate(z) imag(z)) (1 - i))",
       lambda z: anp.real((z**2 + anp.conjugate(z) * anp.imag(z)) * (1 - 1j)),
       lambda z: np.real((z**2 + np.conjugate(z) * np.imag(z)) * (1 - 1j))),
    _z("z.real * z.imag (properties)", lambda z: (z * (1 + 2j)).real * (z**2).imag,
       lambda z: (z * (1 + 2j)).real * (z**2).imag),
    _z("angle(x + iy)", anp.angle, np.angle),
    _z("angle(x + iy, deg=True)", lambda z: anp.angle(z, deg=True),
       lambda z: np.angle(z, deg=True)),
    _unary("angle of a real input", lambda x: anp.angle(x) * x, lambda x: np.angle(x) * x,
           "nonzero"),
    _z("abs(x + iy)", anp.abs, np.abs),
    _z("real(sign(x + iy) (0.5 - 2i))", lambda z: anp.real(anp.sign(z) * (0.5 - 2j)),
       lambda z: np.real(np.sign(z) * (0.5 - 2j))),
    _z("real(holomorphic f(x + iy))",
       lambda z: anp.real((anp.expm1(z) + anp.log2(z) * anp.arcsinh(z) + anp.sinc(z)
                           + anp.arctan(z) * anp.cosh(z)) * (1 - 0.5j)),
       lambda z: np.real((np.expm1(z) + np.log2(z) * np.arcsinh(z) + np.sinc(z)
                          + np.arctan(z) * np.cosh(z)) * (1 - 0.5j)),
       ("positive", "real")),
    # ---- other
    _binary("heaviside", anp.heaviside, np.heaviside, domains=("nonzero", "real")),
    _binary("heaviside broadcast", lambda x1, x2: anp.heaviside(x1, x2) * x2,
            lambda x1, x2: np.heaviside(x1, x2) * x2, BROADCAST, ("nonzero", "real")),
    _unary("nan_to_num", lambda x: anp.nan_to_num(x, nan=0.5, posinf=10.0, neginf=-10.0) ** 2,
           lambda x: np.nan_to_num(x, nan=0.5, posinf=10.0, neginf=-10.0) ** 2, _with_special),
    _unary("nan_to_num defaults", lambda x: anp.nan_to_num(x) ** 2,
           lambda x: np.nan_to_num(x) ** 2, _with_nan),
    OpSpec("select", lambda x, y: anp.select([x > 0.5, x < -0.5], [x * y, anp.sin(y)], y),
           lambda x, y: np.select([x > 0.5, x < -0.5], [x * y, np.sin(y)], y),
           ((3, 4), (3, 4))),
    _binary("select broadcast, default 0", lambda x, y: anp.select([x > 0, y > 0], [x, y]),
            lambda x, y: np.select([x > 0, y > 0], [x, y]), BROADCAST),
    _unary("x[where(mask)] (one-argument where)", lambda x: x[anp.where(MASK)],
           lambda x: x[np.where(MASK)]),
    _unary("allclose (concrete)", lambda x: x * anp.allclose(CLOSE_A, CLOSE_A + 1e-9),
           lambda x: x * np.allclose(CLOSE_A, CLOSE_A + 1e-9)),
    # ---- predicates and logic: boolean results, no derivative
    *[_unary(name, getattr(anp, name), getattr(np, name), _with_special, nondiff=True)
      for name in ("isfinite", "isnan", "isinf", "signbit", "isposinf", "isneginf", "isreal")],
    _binary("iscomplex, isreal of x + i (y > 0)",
            lambda x, y: anp.iscomplex(x + 1j * (y > 0)) ^ anp.isreal(x + 2j * (x > 0)),
            lambda x, y: np.iscomplex(x + 1j * (y > 0)) ^ np.isreal(x + 2j * (x > 0)),
            nondiff=True),
    _binary("isclose", lambda x, y: anp.isclose(x, x + y * 1e-5),
            lambda x, y: np.isclose(x, x + y * 1e-5), nondiff=True),
    *[_binary(name, lambda x, y, f=getattr(anp, name): f(x > 0, y > 0),
              lambda x, y, f=getattr(np, name): f(x > 0, y > 0), BROADCAST, nondiff=True)
      for name in ("logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
                   "bitwise_xor")],
    _unary("logical_not", lambda x: anp.logical_not(x > 0), lambda x: np.logical_not(x > 0),
           nondiff=True),
    _unary("invert, bitwise_not, bitwise_invert",
           lambda x: anp.invert(x > 0) ^ anp.bitwise_not(x > 1) | anp.bitwise_invert(x < 0),
           lambda x: np.invert(x > 0) ^ np.bitwise_not(x > 1) | np.bitwise_invert(x < 0),
           nondiff=True),
]
