"""Total-variation denoising energy of an image u against noisy data f: the data term plus
the smoothed isotropic TV sqrt(dx^2 + dy^2 + eps), differences taken with `np.roll`
(periodic boundary)."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(9)
H, W = 8, 8
CLEAN = (np.arange(H)[:, None] >= H // 2) * 1.0 + (np.arange(W)[None, :] >= W // 2) * 0.5
F = CLEAN + 0.1 * rng.standard_normal((H, W))
LAM, EPS = 0.2, 1e-3


def loss(u):
    dx = np.roll(u, -1, axis=1) - u
    dy = np.roll(u, -1, axis=0) - u
    return 0.5 * np.sum((u - F) ** 2) + LAM * np.sum(np.sqrt(dx**2 + dy**2 + EPS))


PARAMS = (F + 0.05 * rng.standard_normal((H, W)),)
