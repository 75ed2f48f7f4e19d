"""PCA reconstruction error: project the centred data onto its top-k right singular vectors
(`np.linalg.svd`) and sum the squared residual. The error depends on the subspace only, not
on the signs or basis the SVD picks, so its gradient is well defined (distinct singular
values)."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(8)
K = 2


def loss(X):
    Xc = X - np.mean(X, axis=0)
    U, S, Vt = np.linalg.svd(Xc, full_matrices=False)
    V = Vt[:K].T
    return np.sum((Xc - Xc @ V @ V.T) ** 2)


PARAMS = (rng.standard_normal((10, 4)) * np.array([3.0, 2.0, 1.0, 0.5]),)
