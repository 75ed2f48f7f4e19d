"""Logistic regression: the mean negative log-likelihood of labels y in {-1, +1}, written
with `np.logaddexp(0, -y * z)` (log(1 + exp(-yz)) without overflow), plus an L2 penalty."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(0)
X = rng.standard_normal((30, 4))
W_TRUE = np.array([1.5, -2.0, 0.5, 0.0])
y = np.sign(X @ W_TRUE + 0.8 * rng.standard_normal(30))


def loss(w, b):
    z = X @ w + b
    return np.mean(np.logaddexp(0, -y * z)) + 0.01 * np.sum(w**2)


PARAMS = (0.3 * rng.standard_normal(4), 0.1)
