"""Ridge regression: the least-squares misfit ||A w - b||^2 plus an L2 term and a mean
residual term, as one would write a quick fit."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(6)
A = rng.standard_normal((20, 5))
b = A @ rng.standard_normal(5) + 0.1 * rng.standard_normal(20)


def loss(w, lam):
    r = A @ w - b
    return np.sum(r**2) + lam * np.sum(w**2) + np.mean(r) ** 2


PARAMS = (rng.standard_normal(5), 0.5)
