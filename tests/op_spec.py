"""The shape of an op-table row, and the argument domains rows draw from.

A row says what to call (`fn`, autodx), the NumPy reference (`ref`), one shape and one domain
per argument. Which primitives and public functions a row exercises is not written here: the
completeness test records them while the row runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def _spd(rng, shape):
    """Symmetric positive definite matrices (stacked over leading axes), well conditioned."""
    a = rng.uniform(-1.0, 1.0, shape)
    n = shape[-1]
    return a @ np.swapaxes(a, -1, -2) / n + np.eye(n)


# Domains keep inputs away from kinks, poles and ties unless a test targets them. A row may
# also give a callable (rng, shape) -> array of its own instead of a name.
DOMAINS: dict[str, Callable] = {
    "real": lambda rng, shape: rng.uniform(-2.0, 2.0, shape),
    "positive": lambda rng, shape: rng.uniform(0.5, 2.0, shape),
    "unit": lambda rng, shape: rng.uniform(-1.0, 1.0, shape),
    "open_unit": lambda rng, shape: rng.uniform(-0.9, 0.9, shape),
    "above_one": lambda rng, shape: rng.uniform(1.2, 3.0, shape),
    "probability": lambda rng, shape: rng.uniform(0.1, 0.9, shape),
    "nonzero": lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape),
    # distinct values at least 0.1 apart (no ties for max, sort, ...), in random order
    "distinct": lambda rng, shape: rng.permutation(
        np.linspace(-2.0, 2.0, int(np.prod(shape)))).reshape(shape),
    "spd": _spd,
    "well_conditioned": lambda rng, shape: rng.uniform(-1.0, 1.0, shape) + 3 * np.eye(shape[-1]),
}


@dataclass
class OpSpec:
    name: str
    fn: Callable  # autodx
    ref: Callable  # NumPy
    shapes: tuple  # one shape per argument
    domains: tuple = ()  # one domain (name or callable) per argument (default "real")
    nondiff: bool = False  # output carries no derivative (comparisons, sign, argmax)
    eps: float = 1e-6  # finite-difference step
    rtol: float = 1e-5  # for finite differences; the transpose identity uses `rtol * 1e-4`
    f32_rtol: float = 1e-6  # forward vs NumPy in float32
    complex: bool = False  # NumPy takes complex inputs: also checked with complex128 ones
    exact: bool = False  # the float64 forward is NumPy's bit for bit (0-d spellings too)

    def args(self, rng: np.random.Generator, dtype=np.float64) -> list[np.ndarray]:
        """Arguments from the domains; complex ones get a small imaginary part (so they stay
        off branch cuts that the real domain avoids)."""
        domains = self.domains or ("real",) * len(self.shapes)
        out = [np.asarray((DOMAINS[d] if isinstance(d, str) else d)(rng, s))
               for d, s in zip(domains, self.shapes)]
        if np.dtype(dtype).kind == "c":
            out = [x + 0.3j * rng.uniform(-1.0, 1.0, np.shape(x)) for x in out]
        return [np.asarray(x, dtype=dtype) for x in out]


def unary_op(name, fn, ref, domain="real", shape=(3, 4), **kw) -> OpSpec:
    return OpSpec(name, fn, ref, (shape,), (domain,), **kw)


def binary_op(name, fn, ref, shapes=((3, 4), (3, 4)), domains=("real", "real"), **kw) -> OpSpec:
    return OpSpec(name, fn, ref, shapes, domains, **kw)
