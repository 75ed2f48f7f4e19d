"""Negative log-likelihood of a multivariate Gaussian with mean mu and covariance
A A^T + 0.1 I, through `np.linalg.slogdet` and `np.linalg.solve` (no explicit inverse)."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(4)
N, D = 20, 3
X = rng.standard_normal((N, D)) @ rng.standard_normal((D, D)) + 1.0


def loss(mu, A):
    cov = A @ A.T + 0.1 * np.eye(D)
    sign, logdet = np.linalg.slogdet(cov)
    r = X - mu
    alpha = np.linalg.solve(cov, r.T)
    return 0.5 * (N * logdet + np.sum(r.T * alpha) + N * D * np.log(2 * np.pi))


PARAMS = (0.5 * rng.standard_normal(D), rng.standard_normal((D, D)) + 2 * np.eye(D))
