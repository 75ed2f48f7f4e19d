"""Gaussian-process regression: the negative log marginal likelihood of noisy observations
under a squared-exponential kernel, through `np.linalg.cholesky` and two `np.linalg.solve`s,
as a function of the log length scale, log signal variance and log noise variance."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(16)
N = 12
x = np.sort(rng.uniform(-3.0, 3.0, size=N))
y = np.sin(x) + 0.1 * rng.standard_normal(N)
SQDIST = (x[:, None] - x[None, :]) ** 2


def loss(log_ell, log_sf2, log_sn2):
    K = np.exp(log_sf2) * np.exp(-0.5 * SQDIST / np.exp(2 * log_ell)) + np.exp(log_sn2) * np.eye(N)
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L))) + 0.5 * N * np.log(2 * np.pi)


PARAMS = (np.log(1.2), np.log(0.8), np.log(0.05))
