"""A damped pendulum simulated by semi-implicit Euler in a Python loop, the states collected
in a list and `np.stack`ed; the loss is the mean squared distance of the simulated angles to
observed ones, as a function of the initial state and the damping."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(11)
STEPS, DT, G_OVER_L = 40, 0.05, 9.81


def simulate(state0, damping):
    theta, omega = state0[0], state0[1]
    states = []
    for _ in range(STEPS):
        omega = omega - DT * (G_OVER_L * np.sin(theta) + damping * omega)
        theta = theta + DT * omega
        states.append(np.stack([theta, omega]))
    return np.stack(states)


OBSERVED = simulate(np.array([1.0, 0.0]), 0.3)[:, 0] + 0.01 * rng.standard_normal(STEPS)


def loss(state0, damping):
    return np.mean((simulate(state0, damping)[:, 0] - OBSERVED) ** 2)


PARAMS = (np.array([0.8, 0.2]), 0.5)
