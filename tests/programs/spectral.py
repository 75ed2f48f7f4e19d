"""Spectral smoothing of a 1-D signal: the data misfit plus a penalty on the power spectrum
|rfft(u)|^2 weighted by the squared frequency (`np.fft.rfft`, `np.fft.rfftfreq`, `np.abs`),
a complex-valued intermediate inside a real loss."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(13)
N = 32
t = np.linspace(0.0, 1.0, N, endpoint=False)
SIGNAL = np.sin(2 * np.pi * 3 * t) + 0.3 * rng.standard_normal(N)
FREQ = np.fft.rfftfreq(N, d=1.0 / N)


def loss(u, log_lam):
    power = np.abs(np.fft.rfft(u)) ** 2 / N
    return np.sum((u - SIGNAL) ** 2) + np.exp(log_lam) * np.sum(FREQ**2 * power) / N**2


PARAMS = (SIGNAL + 0.1 * rng.standard_normal(N), np.log(0.5))
