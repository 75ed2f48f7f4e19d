"""Potential energy of a hanging chain of point masses joined by springs of stiffness k and
rest length 1: spring lengths from `np.diff` and `np.linalg.norm(..., axis=1)`, plus gravity."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(5)
N = 6
REST = 1.0
MASS = rng.uniform(0.5, 1.5, size=N)
G = 9.81


def loss(P, k):
    lengths = np.linalg.norm(np.diff(P, axis=0), axis=1)
    elastic = 0.5 * np.sum(k * (lengths - REST) ** 2)
    gravity = G * np.sum(MASS * P[:, 1])
    return elastic + gravity


P0 = np.stack([np.linspace(0.0, 5.0, N), np.zeros(N)], axis=1)
PARAMS = (P0 + 0.2 * rng.standard_normal((N, 2)), rng.uniform(50.0, 100.0, size=N - 1))
