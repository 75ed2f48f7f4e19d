"""Op-table rows for `ad.nn` and `ad.scipy.special` (see op_spec.py). The NumPy references
spell out the same formulas (SciPy may be absent); test_nn_special.py checks the functions
against PyTorch and JAX, analytic values and extreme inputs."""

from __future__ import annotations

import numpy as np

import autodx as ad
from op_spec import OpSpec
from op_spec import binary_op as _binary
from op_spec import unary_op as _unary

nn, sp = ad.nn, ad.scipy.special
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
GELU_C = float(np.sqrt(2 / np.pi))  # a Python float: weak, as in NumPy


def _shift(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0)


def _logsumexp(a, axis=None, b=None, keepdims=False):
    shift = _shift(a, axis)
    e = np.exp(a - shift)
    out = np.log(np.sum(e if b is None else e * b, axis=axis, keepdims=True)) + shift
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax(x, axis):
    e = np.exp(x - _shift(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis):
    s = x - _shift(x, axis)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def _expit(x):
    e = np.exp(np.where(x >= 0, -x, x))
    return np.where(x >= 0, 1, e) / (1 + e)


def _exp_unit(x, alpha, divisor=1):
    below = np.where(x > 0, 0, x)
    return np.where(x > 0, x, alpha * np.expm1(below / divisor if divisor != 1 else below))


def _class_indices(rng, shape):
    return rng.integers(-1, 6, shape)  # -1 and 5 are out of range: all-zero rows


def _negative(rng, shape):
    return -rng.uniform(0.5, 2.0, shape)


def _wide(rng, shape):
    return rng.uniform(-30.0, 30.0, shape)


def _some_zeros(rng, shape):
    return rng.choice([0.0, 0.0, -1.5, 0.5, 2.0], shape)


OPS: list[OpSpec] = [
    # ---- ad.nn: activations
    _unary("nn.relu", nn.relu, lambda x: np.where(x > 0, x, 0)),
    _unary("nn.relu6", nn.relu6, lambda x: np.where(x <= 0, 0, np.where(x >= 6, 6, x)),
           lambda rng, shape: rng.uniform(-2.0, 8.0, shape)),
    _unary("nn.hard_tanh", nn.hard_tanh,
           lambda x: np.where(x <= -1, -1.0, np.where(x >= 1, 1.0, x))),
    _unary("nn.hard_tanh (0.5, 1.5)", lambda x: nn.hard_tanh(x, min_val=-0.5, max_val=1.5),
           lambda x: np.where(x <= -0.5, -0.5, np.where(x >= 1.5, 1.5, x))),
    _unary("nn.leaky_relu", nn.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x)),
    _unary("nn.leaky_relu 0.2", lambda x: nn.leaky_relu(x, 0.2),
           lambda x: np.where(x > 0, x, 0.2 * x)),
    _unary("nn.elu", nn.elu, lambda x: _exp_unit(x, 1.0)),
    _unary("nn.elu alpha 0.5", lambda x: nn.elu(x, alpha=0.5), lambda x: _exp_unit(x, 0.5)),
    _unary("nn.celu alpha 0.7", lambda x: nn.celu(x, 0.7), lambda x: _exp_unit(x, 0.7, 0.7)),
    _unary("nn.selu", nn.selu, lambda x: SELU_SCALE * _exp_unit(x, SELU_ALPHA)),
    _unary("nn.gelu", nn.gelu,
           lambda x: 0.5 * x * (1 + np.tanh(GELU_C * (x + 0.044715 * x**3)))),
    _unary("nn.sigmoid", nn.sigmoid, _expit),
    _unary("nn.log_sigmoid", nn.log_sigmoid, lambda x: -np.logaddexp(-x, 0)),
    _unary("nn.softplus", nn.softplus, lambda x: np.logaddexp(x, 0)),
    _unary("nn.softplus beta 2, threshold 1", lambda x: nn.softplus(x, beta=2.0, threshold=1.0),
           lambda x: np.where(2 * x > 1, x, np.logaddexp(2 * x, 0) / 2)),
    _unary("nn.silu", nn.silu, lambda x: x * _expit(x)),
    _unary("nn.softsign", nn.softsign, lambda x: x / (1 + np.abs(x))),
    _unary("nn.tanh", nn.tanh, np.tanh),
    # ---- ad.nn: normalizers over an axis
    _unary("nn.softmax", nn.softmax, lambda x: _softmax(x, -1)),
    _unary("nn.softmax axis 0", lambda x: nn.softmax(x, 0), lambda x: _softmax(x, 0)),
    _unary("nn.softmax dim 1 (3-d)", lambda x: nn.softmax(x, dim=1), lambda x: _softmax(x, 1),
           shape=(2, 3, 4)),
    _unary("nn.softmax axis (0, 2)", lambda x: nn.softmax(x, axis=(0, 2)),
           lambda x: _softmax(x, (0, 2)), shape=(2, 3, 4)),
    _unary("nn.log_softmax", nn.log_softmax, lambda x: _log_softmax(x, -1)),
    _unary("nn.log_softmax dim 0", lambda x: nn.log_softmax(x, dim=0),
           lambda x: _log_softmax(x, 0)),
    _unary("nn.logsumexp", nn.logsumexp, _logsumexp),
    _unary("nn.logsumexp axis 1", lambda x: nn.logsumexp(x, axis=1),
           lambda x: _logsumexp(x, axis=1)),
    _unary("nn.one_hot", lambda x: nn.one_hot(x, 5),
           lambda x: (x[..., None] == np.arange(5)).astype(np.float64), _class_indices,
           shape=(2, 3), nondiff=True),
    # ---- ad.scipy.special
    _unary("special.logsumexp", sp.logsumexp, _logsumexp),
    _unary("special.logsumexp axis -1 keepdims", lambda x: sp.logsumexp(x, -1, keepdims=True),
           lambda x: _logsumexp(x, -1, keepdims=True)),
    _unary("special.logsumexp axis (0, 2)", lambda x: sp.logsumexp(x, axis=(0, 2)),
           lambda x: _logsumexp(x, axis=(0, 2)), shape=(2, 3, 4)),
    _binary("special.logsumexp b", lambda a, b: sp.logsumexp(a, axis=0, b=b),
            lambda a, b: _logsumexp(a, axis=0, b=b), domains=("real", "positive")),
    _binary("special.logsumexp b broadcast", lambda a, b: sp.logsumexp(a, axis=1, b=b),
            lambda a, b: _logsumexp(a, axis=1, b=b), ((3, 4), (4,)), ("real", "positive")),
    _binary("special.logsumexp b < 0, return_sign",
            lambda a, b: ad.numpy.multiply(*sp.logsumexp(a, axis=1, b=b, return_sign=True)),
            lambda a, b: -_logsumexp(a, axis=1, b=-b), domains=("real", _negative)),
    _unary("special.softmax", sp.softmax, lambda x: _softmax(x, None)),
    _unary("special.softmax axis 0", lambda x: sp.softmax(x, axis=0), lambda x: _softmax(x, 0)),
    _unary("special.log_softmax", sp.log_softmax, lambda x: _log_softmax(x, None)),
    _unary("special.log_softmax axis 1", lambda x: sp.log_softmax(x, axis=1),
           lambda x: _log_softmax(x, 1)),
    _unary("special.expit", sp.expit, _expit),
    _unary("special.expit (wide)", sp.expit, _expit, _wide),
    _unary("special.logit", sp.logit, lambda p: np.log(p / (1 - p)), "probability"),
    _binary("special.xlogy", sp.xlogy, lambda x, y: x * np.log(y), domains=("real", "positive")),
    _binary("special.xlogy x with zeros", sp.xlogy,
            lambda x, y: np.where(x == 0, 0, x * np.log(y)), ((3, 4), (4,)),
            (_some_zeros, "positive")),
    _binary("special.xlog1py", sp.xlog1py, lambda x, y: x * np.log1p(y),
            domains=("real", "open_unit")),
    _binary("special.xlog1py x with zeros", sp.xlog1py,
            lambda x, y: np.where(x == 0, 0, x * np.log1p(y)), domains=(_some_zeros, "open_unit")),
    _unary("special.entr", sp.entr, lambda x: -(x * np.log(x)), "positive"),
    _binary("special.rel_entr", sp.rel_entr, lambda x, y: x * np.log(x / y),
            domains=("positive", "positive")),
    _binary("special.kl_div", sp.kl_div, lambda x, y: x * np.log(x / y) - x + y,
            ((3, 4), (3, 1)), ("positive", "positive")),
]
