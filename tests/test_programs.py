"""Ordinary NumPy programs (`tests/programs/`), differentiated without changing a line.

Every program is checked three ways, each against JAX's gradient of the same source (its
`import numpy as np` line swapped for `import jax.numpy as np`) and against a finite
difference of the NumPy loss along one random direction:

- the JAX face on the unchanged module: `ad.grad(loss, argnums=all)(*PARAMS)`, where the
  program's `np.*` calls meet autodx tracers and dispatch to autodx;
- the torch face on the unchanged module: `ad.tensor(p, requires_grad=True)`, `.backward()`;
- the source with `import autodx.numpy as np` instead, under `ad.grad`;

and the unchanged module's Hessian-vector product, forward-over-reverse and reverse-over-
reverse, against JAX's.

Each face's loss value must equal NumPy's (to 1e-12). The programs' data come from
`numpy.random` directly, so they are the same real arrays in every version of the source.
"""

from __future__ import annotations

import functools
import re
import types
from pathlib import Path

import jax
import numpy as np
import pytest
import torch  # noqa: F401 - the torch face's reference stack must be installed, as in CI

import autodx as ad

jax.config.update("jax_enable_x64", True)

PROGRAMS = Path(__file__).parent / "programs"
NAMES = sorted(p.stem for p in PROGRAMS.glob("*.py") if not p.stem.startswith("_"))
IMPORT_LINE = re.compile(r"^import numpy as np$", re.MULTILINE)

VALUE_RTOL = 1e-12
GRAD_RTOL = 1e-10  # against JAX, relative to the largest entry of each gradient
FD_RTOL = 1e-7  # the directional derivative against a fourth-order central difference


# ----------------------------------------------------------------------------- loading


@functools.cache
def load(name: str, numpy_module: str = "numpy") -> types.ModuleType:
    """The program `name`, its `import numpy as np` line replaced by `import <numpy_module>
    as np`, executed into a fresh module (so the unchanged one is loaded the same way)."""
    path = PROGRAMS / f"{name}.py"
    source = path.read_text()
    assert len(IMPORT_LINE.findall(source)) == 1, f"{path} needs one 'import numpy as np' line"
    source = IMPORT_LINE.sub(f"import {numpy_module} as np", source)
    module = types.ModuleType(f"programs.{name}[{numpy_module}]")
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def params(name: str) -> tuple:
    return load(name).PARAMS


def argnums(name: str) -> tuple[int, ...]:
    return tuple(range(len(params(name))))


@functools.cache
def numpy_value(name: str) -> float:
    return float(load(name).loss(*params(name)))


@functools.cache
def jax_gradient(name: str) -> tuple[np.ndarray, ...]:
    module = load(name, "jax.numpy")
    grads = jax.jit(jax.grad(module.loss, argnums=argnums(name)))(*params(name))
    return tuple(np.asarray(g) for g in grads)


@functools.cache
def jax_hessian_vector_product(name: str) -> tuple[np.ndarray, ...]:
    grad = jax.grad(load(name, "jax.numpy").loss, argnums=argnums(name))
    _, hvp = jax.jvp(grad, params(name), direction(name))
    return tuple(np.asarray(h) for h in hvp)


# ----------------------------------------------------------------------------- checks


def direction(name: str) -> tuple:
    rng = np.random.default_rng(len(name))
    return tuple(rng.standard_normal(np.shape(p)) for p in params(name))


def finite_difference(name: str, h: float = 1e-4) -> float:
    """d/ds loss(PARAMS + s v) at s = 0, by the five-point stencil on the NumPy program."""
    loss, p, v = load(name).loss, params(name), direction(name)
    f = lambda s: loss(*(np.asarray(pi) + s * vi for pi, vi in zip(p, v)))
    return (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)


def check_value(name: str, value) -> None:
    np.testing.assert_allclose(float(value), numpy_value(name), rtol=VALUE_RTOL, atol=0)


def check_against(name: str, got, want, what: str) -> None:
    """Shapes as the params', values as JAX's (relative to the largest entry of each)."""
    got = tuple(np.asarray(g, dtype=float) for g in got)
    assert len(got) == len(want)
    for i, (g, w, p) in enumerate(zip(got, want, params(name))):
        assert g.shape == np.shape(p), f"{what} {i}: shape {g.shape} != {np.shape(p)}"
        scale = max(float(np.max(np.abs(w))), 1e-300)
        np.testing.assert_allclose(g, w, rtol=GRAD_RTOL, atol=GRAD_RTOL * scale,
                                   err_msg=f"{name}: {what} {i} against JAX")


def check_gradient(name: str, grads) -> None:
    """Shapes as the params', values as JAX's, and the directional derivative as a finite
    difference's."""
    check_against(name, grads, jax_gradient(name), "gradient")
    along = sum(float(np.sum(g * v)) for g, v in zip(grads, direction(name)))
    fd = finite_difference(name)
    np.testing.assert_allclose(along, fd, rtol=FD_RTOL, atol=FD_RTOL * abs(fd),
                               err_msg=f"{name}: directional derivative against FD")


# ----------------------------------------------------------------------------- tests


def test_there_are_programs():
    assert len(NAMES) >= 10, NAMES


@pytest.mark.parametrize("name", NAMES)
def test_jax_reference(name):
    """The oracle itself: the jax.numpy version computes NumPy's value, and its gradient
    agrees with finite differences."""
    module = load(name, "jax.numpy")
    check_value(name, jax.jit(module.loss)(*params(name)))
    grads = jax_gradient(name)
    along = sum(float(np.sum(g * v)) for g, v in zip(grads, direction(name)))
    np.testing.assert_allclose(along, finite_difference(name), rtol=FD_RTOL)


@pytest.mark.parametrize("name", NAMES)
def test_grad_of_unchanged_program(name):
    loss = load(name).loss
    value, grads = ad.value_and_grad(loss, argnums=argnums(name))(*params(name))
    check_value(name, value)
    check_gradient(name, ad.grad(loss, argnums=argnums(name))(*params(name)))
    assert all(isinstance(g, (np.ndarray, float)) for g in grads), [type(g) for g in grads]


@pytest.mark.parametrize("name", NAMES)
def test_backward_of_unchanged_program(name):
    tensors = [ad.tensor(p, requires_grad=True) for p in params(name)]
    out = load(name).loss(*tensors)
    assert isinstance(out, ad.Tensor), type(out)
    out.backward()
    check_value(name, out.item())
    check_gradient(name, [t.grad.numpy() for t in tensors])


@pytest.mark.parametrize("name", NAMES)
def test_grad_of_program_importing_autodx_numpy(name):
    module = load(name, "autodx.numpy")
    for mine, theirs in zip(module.PARAMS, params(name)):  # built by autodx.numpy: still NumPy
        assert not isinstance(mine, ad.Tensor)
        np.testing.assert_array_equal(mine, theirs)
    check_value(name, module.loss(*module.PARAMS))
    check_gradient(name, ad.grad(module.loss, argnums=argnums(name))(*module.PARAMS))


@pytest.mark.parametrize("name", NAMES)
def test_hessian_vector_products_of_unchanged_program(name):
    grad = ad.grad(load(name).loss, argnums=argnums(name))
    _, forward_over_reverse = ad.jvp(grad, params(name), direction(name))
    check_against(name, forward_over_reverse, jax_hessian_vector_product(name), "fwd-over-rev")
    _, pullback = ad.vjp(grad, *params(name))
    check_against(name, pullback(direction(name)), jax_hessian_vector_product(name),
                  "rev-over-rev")  # the Hessian is symmetric
