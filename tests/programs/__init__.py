"""Ordinary NumPy programs that `tests/test_programs.py` differentiates unchanged.

Each module is written as a user would write it, against `import numpy as np` only: it defines
a scalar `loss(*params)`, the point `PARAMS` to differentiate it at, and a small deterministic
data set. The data come from `default_rng(seed)` imported from `numpy.random` (a separate
import line), so that the test can swap the `import numpy as np` line for `autodx.numpy` or
`jax.numpy` mechanically and the data stay real NumPy arrays, identical in every version.
"""
