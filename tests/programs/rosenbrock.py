"""The Rosenbrock function in 8 dimensions, the classic banana-shaped valley."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(3)


def loss(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


PARAMS = (rng.uniform(-1.5, 1.5, size=8),)
