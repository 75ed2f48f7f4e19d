"""Two-layer perceptron regression: a ReLU hidden layer (`np.maximum(0, h)`), linear
output, mean squared error against noisy targets."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(2)
X = rng.standard_normal((12, 6))
Y = rng.standard_normal((12, 2))


def loss(W1, b1, W2, b2):
    h = np.maximum(0, X @ W1 + b1)
    out = h @ W2 + b2
    return np.mean((out - Y) ** 2)


PARAMS = (
    rng.standard_normal((6, 8)) / np.sqrt(6),
    0.1 * rng.standard_normal(8),
    rng.standard_normal((8, 2)) / np.sqrt(8),
    0.1 * rng.standard_normal(2),
)
