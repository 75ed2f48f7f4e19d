"""Poisson regression: negative log-likelihood sum(mu - y log mu) with log-link
mu = exp(eta), the linear predictor clipped to [-10, 10] against overflow (`np.clip`)."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(10)
X = rng.standard_normal((25, 3))
y = rng.poisson(2.0, size=25) * 1.0


def loss(w, c):
    eta = np.clip(X @ w + c, -10.0, 10.0)
    return np.sum(np.exp(eta) - y * eta)


PARAMS = (0.3 * rng.standard_normal(3), 0.5)
