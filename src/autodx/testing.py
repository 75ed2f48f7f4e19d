"""Derivative checks, for autodx's own tests and for users' functions.

`check_grads(f, args, order=2)` verifies forward mode against central finite differences and
reverse mode against forward mode through the transpose identity <u, J v> = <J^T u, v> (which
has no finite-difference noise), then recurses on the JVP and VJP functions themselves, so
order 2 covers forward-over-forward, forward-over-reverse, reverse-over-forward and
reverse-over-reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .api import jvp, vjp
from .tree import tree_flatten, tree_map, tree_unflatten


def _wide(x) -> np.ndarray:
    """x in float64, or complex128 if it is complex (checks run at full precision)."""
    x = np.asarray(x)
    return x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)


def _flat(tree) -> list[np.ndarray]:
    return [_wide(x) for x in tree_flatten(tree)[0]]


def _inner(a, b) -> float:
    """Re sum(a * b): the pairing under which the engine's transposes are transposes.

    NOTE: the engine transposes without conjugation (as JAX), treating C as R^2: a cotangent
    g pairs with a tangent v as Re(g v). For C-linear maps the full bilinear sum would match
    too, but a real-valued function of complex inputs (real, abs) only satisfies the real
    part."""
    return float(sum(np.real(np.sum(x * y)) for x, y in zip(_flat(a), _flat(b))))


def _random_like(x, rng: np.random.Generator) -> np.ndarray:
    x = np.asarray(x)
    r = rng.standard_normal(x.shape)
    if x.dtype.kind == "c":
        r = r + 1j * rng.standard_normal(x.shape)
    return r.astype(x.dtype)


def _like(tree, rng: np.random.Generator):
    flat, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [_random_like(x, rng) for x in flat])


def numerical_jvp(f: Callable, args: Sequence, tangents: Sequence, eps: float = 1e-6):
    """Central difference (f(x + eps t) - f(x - eps t)) / 2 eps, leafwise."""
    def shifted(sign):
        return f(*[tree_map(lambda x, t: np.asarray(x) + sign * eps * np.asarray(t), a, ta)
                   for a, ta in zip(args, tangents)])

    plus, minus = _flat(shifted(+1)), _flat(shifted(-1))
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def check_jvp(f: Callable, args: Sequence, *, eps: float = 1e-6, rtol: float = 1e-5,
              atol: float = 1e-6, rng: np.random.Generator | None = None) -> None:
    rng = rng or np.random.default_rng(0)
    tangents = [_like(x, rng) for x in args]
    _, t_out = jvp(f, tuple(args), tuple(tangents))
    expected = numerical_jvp(f, args, tangents, eps)
    for got, want in zip(_flat(t_out), expected):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                                   err_msg="JVP disagrees with central finite differences")


def check_vjp(f: Callable, args: Sequence, *, rtol: float = 1e-9, atol: float = 1e-10,
              rng: np.random.Generator | None = None) -> None:
    rng = rng or np.random.default_rng(1)
    tangents = [_like(x, rng) for x in args]
    out, t_out = jvp(f, tuple(args), tuple(tangents))
    _, pullback = vjp(f, *args)
    u = _like(out, rng)
    lhs, rhs = _inner(u, t_out), _inner(pullback(u), tangents)
    np.testing.assert_allclose(lhs, rhs, rtol=rtol, atol=atol,
                               err_msg="VJP disagrees with JVP: <u, J v> != <J^T u, v>")


def check_grads(f: Callable, args: Sequence, order: int = 2,
                modes: Sequence[str] = ("fwd", "rev"), *, eps: float = 1e-6,
                rtol: float = 1e-5, atol: float = 1e-6, vjp_rtol: float = 1e-9) -> None:
    """Check every derivative of `f` at `args` (pytrees too) up to `order`, in the given modes.
    The checks run in float64 (complex128 for complex inputs), where finite differences are
    meaningful.

    >>> ad.testing.check_grads(lambda x: ad.numpy.sin(x) * x, (np.array([0.5, 1.0]),))
    """
    rng = np.random.default_rng(0)
    args = tuple(tree_map(_wide, a) for a in args)

    def check(f, args, order):
        if "fwd" in modes:
            check_jvp(f, args, eps=eps, rtol=rtol, atol=atol, rng=rng)
            if order > 1:
                tangents = tuple(_like(x, rng) for x in args)
                check(lambda *xs: jvp(f, xs, tangents)[1], args, order - 1)
        if "rev" in modes:
            check_vjp(f, args, rtol=vjp_rtol, atol=vjp_rtol * 0.1, rng=rng)
            if order > 1:
                ct = _like(f(*args), rng)
                check(lambda *xs: vjp(f, *xs)[1](ct), args, order - 1)

    check(f, args, order)
