"""One row per op and parameter variant: what to call, the NumPy reference and the argument
domains (see op_spec.py). The core's rows are here; each area of the NumPy surface keeps its
rows in its own `op_table_*.py`, and `OPS` is all of them."""

from __future__ import annotations

import numpy as np

import autodx as ad
from autodx import prims
from op_spec import OpSpec
from op_spec import binary_op as _binary
from op_spec import unary_op as _unary

anp = ad.numpy

BROADCASTS = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((), (2, 3)), ((4,), (2, 3, 4))]

W_CONST = np.array([[1.0, -2.0, 0.5, 3.0], [0.25, 1.5, -1.0, 2.0]])
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, True]])

OPS: list[OpSpec] = [
    # ---- elementwise unary
    _unary("neg", anp.negative, np.negative, complex=True),
    _unary("exp", anp.exp, np.exp, complex=True),
    _unary("log", anp.log, np.log, "positive"),
    _unary("sin", anp.sin, np.sin, complex=True),
    _unary("cos", anp.cos, np.cos, complex=True),
    _unary("tan", anp.tan, np.tan, "unit"),
    _unary("tanh", anp.tanh, np.tanh, complex=True),
    _unary("sqrt", anp.sqrt, np.sqrt, "positive"),
    _unary("abs", anp.abs, np.abs, "nonzero"),
    _unary("square", anp.square, np.square, complex=True),
    _unary("x**3 (negative bases, int exponent)", lambda x: x**3, lambda x: x**3),
    _unary("2**x (array exponent)", lambda x: 2.0**x, lambda x: 2.0**x),
    # ---- 0-d inputs, whose forward must be NumPy's to the last bit
    *[_unary(f"{name} 0-d", getattr(anp, name), getattr(np, name), domain, shape=(), exact=True)
      for name, domain in [("exp", "real"), ("log", "positive"), ("sin", "real"),
                           ("cos", "real"), ("tan", "unit"), ("tanh", "real"),
                           ("sqrt", "positive")]],
    # ---- elementwise binary, with broadcasting
    *[_binary(f"add {a}+{b}", anp.add, np.add, (a, b), complex=True) for a, b in BROADCASTS],
    *[_binary(f"sub {a}-{b}", anp.subtract, np.subtract, (a, b), complex=True)
      for a, b in BROADCASTS],
    *[_binary(f"mul {a}*{b}", anp.multiply, np.multiply, (a, b), complex=True)
      for a, b in BROADCASTS],
    _binary("div", anp.divide, np.divide, domains=("real", "nonzero"), complex=True),
    _binary("div broadcast", anp.divide, np.divide, ((3, 1), (1, 4)), ("real", "nonzero")),
    _binary("pow", anp.power, np.power, domains=("positive", "real")),
    _binary("pow broadcast", anp.power, np.power, ((3, 1), (4,)), ("positive", "real")),
    _binary("maximum", anp.maximum, np.maximum),
    _binary("maximum broadcast", anp.maximum, np.maximum, ((3, 1), (1, 4))),
    _binary("minimum", anp.minimum, np.minimum),
    *[_binary(name, getattr(anp, name), getattr(np, name), nondiff=True)
      for name in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")],
    OpSpec("where", lambda x, y: anp.where(MASK, x, y), lambda x, y: np.where(MASK, x, y),
           ((3, 4), (3, 4))),
    OpSpec("where broadcast", lambda x, y: anp.where(MASK, x, y),
           lambda x, y: np.where(MASK, x, y), ((3, 1), ())),
    # ---- reductions
    _unary("sum all", anp.sum, np.sum, complex=True),
    _unary("sum axis 0", lambda x: anp.sum(x, 0), lambda x: np.sum(x, 0), complex=True),
    _unary("sum axis -1", lambda x: anp.sum(x, axis=-1), lambda x: np.sum(x, axis=-1)),
    _unary("sum axes (0, 2) keepdims", lambda x: anp.sum(x, (0, 2), keepdims=True),
           lambda x: np.sum(x, (0, 2), keepdims=True), shape=(2, 3, 4)),
    _unary("mean axis 1", lambda x: anp.mean(x, 1), lambda x: np.mean(x, 1), complex=True),
    # ---- shape
    _unary("reshape", lambda x: anp.reshape(x, (2, -1)), lambda x: np.reshape(x, (2, -1)),
           complex=True),
    _unary("broadcast_to", lambda x: anp.broadcast_to(x, (2, 3, 4)),
           lambda x: np.broadcast_to(x, (2, 3, 4)), shape=(3, 1)),
    _unary("transpose", lambda x: anp.transpose(x, (2, 0, 1)),
           lambda x: np.transpose(x, (2, 0, 1)), shape=(2, 3, 4), complex=True),
    _unary(".T", lambda x: x.T, lambda x: x.T, complex=True),
    _unary("ravel", anp.ravel, np.ravel),
    _unary("expand_dims -1", lambda x: anp.expand_dims(x, -1), lambda x: np.expand_dims(x, -1)),
    _unary("squeeze", anp.squeeze, np.squeeze, shape=(3, 1, 4)),
    _unary("swapaxes", lambda x: anp.swapaxes(x, 0, -1), lambda x: np.swapaxes(x, 0, -1),
           shape=(2, 3, 4)),
    _unary("moveaxis", lambda x: anp.moveaxis(x, 0, -1), lambda x: np.moveaxis(x, 0, -1),
           shape=(2, 3, 4)),
    _unary("positive", anp.positive, np.positive),
    _unary("reciprocal", anp.reciprocal, np.reciprocal, "nonzero"),
    _unary("x * zeros_like(x) + ones_like(x)", lambda x: x * anp.zeros_like(x) + anp.ones_like(x),
           lambda x: x * np.zeros_like(x) + np.ones_like(x)),
    _binary("dot", anp.dot, np.dot, ((2, 3), (3, 4))),
    _binary("outer", anp.outer, np.outer, ((3,), (2, 2))),
    OpSpec("concatenate axis 1", lambda x, y: anp.concatenate([x, y, x], axis=1),
           lambda x, y: np.concatenate([x, y, x], axis=1), ((3, 2), (3, 4))),
    OpSpec("stack axis -1", lambda x, y: anp.stack([x, y], axis=-1),
           lambda x, y: np.stack([x, y], axis=-1), ((3, 4), (3, 4))),
    OpSpec("stack axis 0 of scalars", lambda x, y: anp.stack([x, y, x]),
           lambda x, y: np.stack([x, y, x]), ((), ())),
    _unary("astype float32", lambda x: anp.astype(x, np.float32) * 1.0,
           lambda x: x.astype(np.float32), eps=1e-2, rtol=1e-3),
    # ---- indexing
    _unary("x[1]", lambda x: x[1], lambda x: x[1], complex=True),
    _unary("x[:, 1:3]", lambda x: x[:, 1:3], lambda x: x[:, 1:3], complex=True),
    _unary("x[..., ::-2, None]", lambda x: x[..., ::-2, None], lambda x: x[..., ::-2, None],
           shape=(2, 3, 4)),
    _unary("x[-1, ..., 0]", lambda x: x[-1, ..., 0], lambda x: x[-1, ..., 0], shape=(2, 3, 4)),
    _unary("x[[0, 2, 0]] (repeated ints)", lambda x: x[np.array([0, 2, 0])],
           lambda x: x[np.array([0, 2, 0])], complex=True),
    _unary("x[mask]", lambda x: x[MASK], lambda x: x[MASK]),
    _unary("x[[0, 2], :, [1, 3]] (split advanced)", lambda x: x[[0, 2], :, [1, 3]],
           lambda x: x[[0, 2], :, [1, 3]], shape=(3, 2, 4)),
    _unary("x[1, :, [0, 0, 3]] (int and array)", lambda x: x[1, :, [0, 0, 3]],
           lambda x: x[1, :, [0, 0, 3]], shape=(3, 2, 4)),
    _unary("scatter", lambda g: prims.scatter(g, index=prims.canonical_index((slice(1, 3),)),
                                              shape=(4, 4)),
           lambda g: np.pad(g, ((1, 1), (0, 0))), shape=(2, 4)),
    # ---- matmul
    *[_binary(f"matmul {a}@{b}", anp.matmul, np.matmul, (a, b), complex=True) for a, b in [
        ((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)),
        ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2)), ((3,), (2, 3, 4))]],
    *[_unary(f"x @ W, W constant, x {shape}", lambda x: anp.matmul(x, W_CONST),
             lambda x: np.matmul(x, W_CONST), shape=shape)
      for shape in [(2,), (3, 2)]],
]

# ---- user-defined derivatives (the higher-order primitives), each checked through every
# transform like any other op: the custom rules must agree with finite differences too.


@ad.custom_jvp
def log1pexp(x):
    return anp.log(1.0 + anp.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t / (1.0 + anp.exp(-x))  # stable for large x, unlike the naive rule


def _scaled_power(p, x, y):  # p is a static (non-differentiable) argument
    return x**p * y


scaled_power = ad.custom_vjp(_scaled_power, nondiff_argnums=(0,))
scaled_power.defvjp(lambda p, x, y: (_scaled_power(p, x, y), (x, y)),
                    lambda p, res, g: (g * p * res[0] ** (p - 1) * res[1], g * res[0] ** p))

checkpointed = ad.checkpoint(lambda x, y: anp.tanh(anp.matmul(x, y)) * anp.sin(x[:, :1]))

OPS += [
    _unary("custom_jvp log1pexp", log1pexp, lambda x: np.log1p(np.exp(x))),
    OpSpec("custom_vjp x**3 * y (static p)", lambda x, y: scaled_power(3, x, y),
           lambda x, y: x**3 * y, ((3, 4), (3, 4))),
    OpSpec("checkpoint tanh(x @ y) * sin(x[:, :1])", checkpointed,
           lambda x, y: np.tanh(x @ y) * np.sin(x[:, :1]), ((3, 2), (2, 4))),
    _unary("stop_gradient", ad.stop_gradient, lambda x: x, nondiff=True),
]

from op_table_elementwise import OPS as ELEMENTWISE  # noqa: E402
from op_table_fft import OPS as FFT  # noqa: E402
from op_table_linalg import OPS as LINALG  # noqa: E402
from op_table_more import OPS as MORE  # noqa: E402
from op_table_nn import OPS as NN  # noqa: E402
from op_table_products import OPS as PRODUCTS  # noqa: E402
from op_table_reduce import OPS as REDUCE  # noqa: E402
from op_table_shape import OPS as SHAPE  # noqa: E402

OPS += ELEMENTWISE + REDUCE + SHAPE + PRODUCTS + LINALG + FFT + NN + MORE

# Primitives that are only ever used by other rules, with where they are checked instead.
EXEMPT: dict[str, str] = {}
