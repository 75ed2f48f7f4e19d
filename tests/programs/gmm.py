"""Negative log-likelihood of a diagonal Gaussian mixture: mixture weights by a log-softmax
of logits, per-component densities with the determinant as `np.prod` of the scales, and the
sum over components by a max-stabilized log-sum-exp."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(15)
N, D, C = 40, 2, 3
CENTRES = np.array([[0.0, 0.0], [3.0, 1.0], [-2.0, 2.5]])
X = CENTRES[rng.integers(0, C, size=N)] + 0.7 * rng.standard_normal((N, D))


def logsumexp(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def loss(logits, means, log_scales):
    log_w = logits - logsumexp(logits, axis=0)
    scales = np.exp(log_scales)
    z = (X[:, None, :] - means[None, :, :]) / scales
    log_norm = -0.5 * D * np.log(2 * np.pi) - np.log(np.prod(scales, axis=1))
    log_p = log_w + log_norm - 0.5 * np.sum(z**2, axis=2)
    return -np.sum(logsumexp(log_p, axis=1))


PARAMS = (0.1 * rng.standard_normal(C), CENTRES + 0.5 * rng.standard_normal((C, D)),
          0.2 * rng.standard_normal((C, D)))
