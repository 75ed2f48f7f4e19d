"""`ad.nn`: activations and friends, with JAX's `jax.nn` and PyTorch's `torch.nn.functional`
names (both spellings where they differ: `log_sigmoid`/`logsigmoid`, ...), registered in
namespace "nn". All are composites of ad.numpy and ad.scipy.special, stable at +-1000 and in
float32 in value and derivative: a `where` never lets a discarded branch overflow (the
double-where trick), softplus is a logaddexp, softmax & co. shift by the maximum.
"""

from __future__ import annotations

import math
import operator
from functools import partial

import numpy as np

from . import numpy as anp
from .registry import export
from .registry import namespace as _namespace
from .scipy import special

_nn = partial(export, namespace="nn", numpy=None)

# SELU's constants (Klambauer et al., 2017), to the digits PyTorch and JAX use.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@_nn(method="relu")
def relu(x):
    """max(x, 0)."""
    # NOTE: derivative 0 at 0, as PyTorch and JAX (np.maximum's tie rule would give 1/2).
    return anp.where(anp.greater(x, 0), x, 0)


@_nn(aliases=("hardtanh",))
def hard_tanh(x, min_val=-1.0, max_val=1.0):
    """x clipped to [min_val, max_val] (PyTorch's parameters; JAX's fixed [-1, 1])."""
    # NOTE: derivative 0 at both ends, as PyTorch (JAX gives 1): the smallest-norm choice.
    return anp.where(anp.less_equal(x, min_val), min_val,
                     anp.where(anp.greater_equal(x, max_val), max_val, x))


@_nn
def relu6(x):
    """min(max(x, 0), 6); derivative 0 at 0 and at 6, as PyTorch and JAX."""
    return hard_tanh(x, 0, 6)


@_nn
def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise."""
    # NOTE: derivative negative_slope at 0, as PyTorch (JAX gives 1): the smallest-norm choice.
    return anp.where(anp.greater(x, 0), x, anp.multiply(negative_slope, x))


def _exponential_unit(x, alpha, divisor=1):
    """x for x > 0, alpha * expm1(x / divisor) otherwise; expm1 never sees a large x, so a
    discarded inf never meets a zero cotangent (the double where)."""
    positive = anp.greater(x, 0)
    below = anp.where(positive, 0, x)
    if divisor != 1:
        below = anp.divide(below, divisor)
    return anp.where(positive, x, anp.multiply(alpha, anp.expm1(below)))


@_nn
def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    # NOTE: derivative alpha at 0 (the x <= 0 side), as PyTorch and JAX (no kink if alpha = 1).
    return _exponential_unit(x, alpha)


@_nn
def celu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise (continuously differentiable)."""
    return _exponential_unit(x, alpha, alpha)


@_nn
def selu(x):
    """scale * elu(x, alpha) with the self-normalizing constants; derivative scale * alpha at 0,
    as PyTorch and JAX."""
    return anp.multiply(_SELU_SCALE, _exponential_unit(x, _SELU_ALPHA))


@_nn
def gelu(x, approximate=True):
    """The Gaussian error linear unit; `approximate=True` (JAX's default, PyTorch's
    approximate="tanh") is 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))."""
    if approximate is False or approximate == "none":
        raise NotImplementedError(
            "gelu(x, approximate=False) needs erf, which autodx does not have yet; use "
            "gelu(x, approximate=True), the tanh form (jax.nn.gelu's default, PyTorch's "
            "approximate='tanh'), which differs from the exact GELU by less than 5e-4.")
    if approximate is not True and approximate != "tanh":
        raise ValueError(f"gelu: approximate must be True, False, 'tanh' or 'none', "
                         f"got {approximate!r}")
    cubic = anp.add(x, anp.multiply(0.044715, anp.power(x, 3)))
    inner = anp.multiply(math.sqrt(2 / math.pi), cubic)
    return anp.multiply(anp.multiply(0.5, x), anp.add(1, anp.tanh(inner)))


@_nn(method="sigmoid")
def sigmoid(x):
    """1 / (1 + exp(-x)), accurate in both tails (scipy.special.expit)."""
    return special.expit(x)


@_nn
def softplus(x, beta=1.0, threshold=None):
    """log(1 + exp(beta x)) / beta, as a logaddexp (no overflow). threshold: x itself where
    beta x > threshold, as PyTorch (whose default is 20); None (JAX's way) for never."""
    scaled = x if beta == 1 else anp.multiply(beta, x)
    out = anp.logaddexp(scaled, 0)
    out = out if beta == 1 else anp.divide(out, beta)
    return out if threshold is None else anp.where(anp.greater(scaled, threshold), x, out)


@_nn(aliases=("logsigmoid",))
def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), with no overflow or underflow to log(0)."""
    return anp.negative(anp.logaddexp(anp.negative(x), 0))


@_nn(aliases=("swish",))
def silu(x):
    """x * sigmoid(x)."""
    return anp.multiply(x, special.expit(x))


@_nn(aliases=("soft_sign",))
def softsign(x):
    """x / (1 + |x|)."""
    return anp.divide(x, anp.add(1, anp.abs(x)))


def _axis(axis, dim):
    return axis if dim is None else dim


@_nn(method="softmax")
def softmax(x, axis=-1, *, dim=None):
    """exp(x) / sum(exp(x)) over `axis` (JAX's name) or `dim` (PyTorch's), without overflow."""
    return special.softmax(x, _axis(axis, dim))


@_nn(method="log_softmax")
def log_softmax(x, axis=-1, *, dim=None):
    """x - logsumexp(x) over `axis` (JAX's name) or `dim` (PyTorch's), without overflow."""
    return special.log_softmax(x, _axis(axis, dim))


@_nn
def logsumexp(a, axis=None, b=None, keepdims: bool = False, return_sign: bool = False):
    """scipy.special.logsumexp (as jax.nn.logsumexp is)."""
    return special.logsumexp(a, axis, b, keepdims, return_sign)


@_nn(kind="nondiff")
def one_hot(x, num_classes: int, *, dtype=np.float64, axis: int = -1):
    """1 where x equals a class index in range(num_classes), along a new `axis` (last by
    default), else 0; float64 unless told (PyTorch gives int64). Carries no derivative."""
    try:
        num_classes = operator.index(num_classes)
    except TypeError:
        raise TypeError(f"one_hot: num_classes must be an integer, got {num_classes!r}") from None
    if num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be >= 0, got {num_classes}")
    hot = anp.equal(anp.expand_dims(x, -1), np.arange(num_classes))
    out = anp.astype(hot, dtype)
    return out if axis == -1 else anp.moveaxis(out, -1, axis)


_nn(anp.tanh)  # torch.nn.functional.tanh

globals().update(_namespace("nn"))  # the aliases too
__all__ = sorted(_namespace("nn"))
