"""Softmax cross-entropy of a linear classifier: log-softmax stabilized by the row maximum
(`np.max(..., axis=1, keepdims=True)`), the true class picked by fancy indexing."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(1)
N, D, K = 16, 5, 3
X = rng.standard_normal((N, D))
labels = rng.integers(0, K, size=N)


def log_softmax(z):
    z = z - np.max(z, axis=1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))


def loss(W, b):
    logp = log_softmax(X @ W + b)
    return -np.mean(logp[np.arange(N), labels])


PARAMS = (rng.standard_normal((D, K)), 0.1 * rng.standard_normal(K))
