"""Log-likelihood (negated) of noisy position readings under a constant-velocity Kalman
filter, as a function of the log process and log measurement noise and the initial mean."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(12)
T, DT = 15, 0.5
F = np.array([[1.0, DT], [0.0, 1.0]])
Q_SHAPE = np.array([[DT**3 / 3, DT**2 / 2], [DT**2 / 2, DT]])
READINGS = 0.3 * np.arange(T) * DT + 0.2 * rng.standard_normal(T)


def loss(log_q, log_r, m0):
    q, r = np.exp(log_q), np.exp(log_r)
    m, P = m0, np.eye(2)
    nll = 0.0
    for t in range(T):
        m = F @ m
        P = F @ P @ F.T + q * Q_SHAPE
        s = P[0, 0] + r
        v = READINGS[t] - m[0]
        nll = nll + 0.5 * (np.log(2 * np.pi * s) + v**2 / s)
        gain = P[:, 0] / s
        m = m + gain * v
        P = P - np.outer(gain, P[0, :])
    return nll


PARAMS = (np.log(0.1), np.log(0.05), np.array([0.1, 0.2]))
