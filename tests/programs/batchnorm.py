"""A hidden layer with batch normalization (batch mean and `np.var`, learned scale and
shift), tanh, and a linear read-out, scored by mean squared error; plus a small penalty on the
spread (`np.std`) of the read-out weights."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(14)
X = rng.standard_normal((16, 5)) * np.array([1.0, 10.0, 0.1, 3.0, 1.0])
Y = rng.standard_normal((16, 1))
EPS = 1e-5


def loss(W1, gamma, beta, W2):
    h = X @ W1
    h = (h - np.mean(h, axis=0)) / np.sqrt(np.var(h, axis=0) + EPS)
    out = np.tanh(gamma * h + beta) @ W2
    return np.mean((out - Y) ** 2) + 0.1 * np.std(W2)


PARAMS = (rng.standard_normal((5, 6)), 1.0 + 0.1 * rng.standard_normal(6),
          0.1 * rng.standard_normal(6), rng.standard_normal((6, 1)) / np.sqrt(6))
