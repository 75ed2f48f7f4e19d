"""The `autodx` command. `autodx demo` recomputes every cell of the notebook our users start
from (derivative, partials, gradient, Jacobian, Hessian), the PyTorch way and the JAX way, and
finishes the cells the notebook left unfinished. Each value is printed beside its analytic
value, and beside PyTorch's and JAX's when those are importable; any disagreement makes the
command exit with status 1."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import numpy as np

import autodx as ad

anp = ad.numpy
F = ad.autograd.functional


# ----------------------------------------------------------------------------- the notebook's f

def f1(x):
    return 3 * x**2


def f2(x, y):
    return 2 * x**2 + 3 * y


def f_jac(x, y):
    return anp.stack([x**2 + y**2, x - y])


def f_hess(x, y):
    return x**2 + y**2


ANALYTIC = {
    "derivative": np.array(12.0),
    "partials": np.array([8.0, 3.0]),
    "jacobian": np.array([[4.0, 2.0], [1.0, -1.0]]),
    "hessian": np.array([[2.0, 0.0], [0.0, 2.0]]),
}


def _leaves(*values):
    return [ad.tensor(v, requires_grad=True) for v in values]


def _matrix(rows) -> np.ndarray:
    return np.array([[float(v) for v in row] for row in rows])


# ----------------------------------------------------------------------------- autodx routes

def autodx_routes() -> dict[str, list[tuple[str, Callable[[], object]]]]:
    """Every way the notebook (and its unfinished cells) computes each quantity."""

    def backward_derivative():
        (x,) = _leaves(2.0)
        f1(x).backward()
        return x.grad

    def autograd_derivative():
        (x,) = _leaves(2.0)
        return ad.autograd.grad(f1(x), x)[0]

    def backward_partials():
        x, y = _leaves(2.0, 1.5)
        f2(x, y).backward()
        return ad.tensor([x.grad, y.grad])

    def autograd_partials():
        x, y = _leaves(2.0, 1.5)
        return ad.tensor(ad.autograd.grad(f2(x, y), (x, y)))

    def functional_jacobian():
        x, y = _leaves(2.0, 1.0)
        jx, jy = F.jacobian(f_jac, (x, y))
        return anp.stack([jx, jy], axis=-1)  # columns are inputs: stack on the last axis

    def jacobian_by_vjps():
        # one vector-Jacobian product per output basis vector, in a Python loop
        _, pullback = ad.vjp(f_jac, 2.0, 1.0)
        return np.array([pullback(e) for e in np.eye(2)])

    def jacobian_by_vmap_and_grad():
        # the notebook's unfinished cell: row i is the gradient of <e_i, f>; vmap computes
        # every row in one batched pass over the basis vectors e_i
        def row(e):
            return anp.stack(ad.grad(lambda x, y: anp.sum(e * f_jac(x, y)), argnums=both)(
                2.0, 1.0))
        return ad.vmap(row)(np.eye(2))

    def backward_twice():
        # "the Hessian the .backward way": differentiate the gradient again
        x, y = _leaves(2.0, 1.0)
        gx, gy = ad.autograd.grad(f_hess(x, y), (x, y), create_graph=True)
        return _matrix(ad.autograd.grad(g, (x, y), retain_graph=True, materialize_grads=True)
                       for g in (gx, gy))

    def functional_hessian():
        x, y = _leaves(2.0, 1.0)
        return _matrix(F.hessian(f_hess, (x, y)))

    both = (0, 1)
    return {
        "derivative": [
            ("torch face: x.backward(); x.grad", backward_derivative),
            ("torch face: ad.autograd.grad(f1(x), x)", autograd_derivative),
            ("JAX face: ad.grad(f1)(2.0)", lambda: ad.grad(f1)(2.0)),
        ],
        "partials": [
            ("torch face: backward(); [x.grad, y.grad]", backward_partials),
            ("torch face: ad.autograd.grad(f2(x, y), (x, y))", autograd_partials),
            ("JAX face: ad.grad(f2, argnums=(0, 1))(2.0, 1.5)",
             lambda: np.array(ad.grad(f2, argnums=both)(2.0, 1.5))),
        ],
        "jacobian": [
            ("JAX face: ad.jacobian(f, argnums=(0, 1), matrix=True)",
             lambda: ad.jacobian(f_jac, argnums=both, matrix=True)(2.0, 1.0)),
            ("JAX face: ad.jacfwd(f, argnums=(0, 1), matrix=True)",
             lambda: ad.jacfwd(f_jac, argnums=both, matrix=True)(2.0, 1.0)),
            ("vmap and grad (the notebook's unfinished cell): ad.vmap(row)(np.eye(2))",
             jacobian_by_vmap_and_grad),
            ("one VJP per basis vector, in a loop", jacobian_by_vjps),
            ("torch face: F.jacobian(f, (x, y)), stacked on dim -1", functional_jacobian),
        ],
        "hessian": [
            ("JAX face: ad.hessian(f, argnums=(0, 1), matrix=True)",
             lambda: ad.hessian(f_hess, argnums=both, matrix=True)(2.0, 1.0)),
            ("JAX face: ad.jacobian(ad.jacobian(f, argnums=(0, 1)), argnums=(0, 1))",
             lambda: _matrix(ad.jacobian(ad.jacobian(f_hess, argnums=both),
                                         argnums=both)(2.0, 1.0))),
            ("JAX face: ad.jacfwd(ad.jacrev(f, argnums=(0, 1)), argnums=(0, 1))",
             lambda: _matrix(ad.jacfwd(ad.jacrev(f_hess, argnums=both),
                                       argnums=both)(2.0, 1.0))),
            ("torch face: autograd.grad twice (create_graph=True)", backward_twice),
            ("torch face: F.hessian(f, (x, y))", functional_hessian),
        ],
    }


# ----------------------------------------------------------------------------- references

def torch_reference() -> dict[str, np.ndarray] | None:
    try:
        import torch
    except ImportError:
        return None
    t = lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True)
    fj = lambda x, y: torch.stack([x**2 + y**2, x - y])
    x, y = t(2.0), t(1.5)
    partials = torch.autograd.grad(f2(x, y), (x, y))
    jx, jy = torch.autograd.functional.jacobian(fj, (t(2.0), t(1.0)))
    hess = torch.autograd.functional.hessian(f_hess, (t(2.0), t(1.0)))
    return {
        "derivative": torch.autograd.grad(f1(x), x)[0].detach().numpy(),
        "partials": torch.stack(partials).detach().numpy(),
        "jacobian": torch.stack([jx, jy], dim=-1).numpy(),
        "hessian": torch.stack([torch.stack(row) for row in hess]).numpy(),
    }


def jax_reference() -> dict[str, np.ndarray] | None:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    both = (0, 1)
    fj = lambda x, y: jnp.stack([x**2 + y**2, x - y])
    return {
        "derivative": np.asarray(jax.grad(f1)(2.0)),
        "partials": np.asarray(jax.grad(f2, argnums=both)(2.0, 1.5)),
        "jacobian": np.stack(jax.jacobian(fj, argnums=both)(2.0, 1.0), axis=-1),
        "hessian": np.asarray(jax.hessian(f_hess, argnums=both)(2.0, 1.0)),
    }


# ----------------------------------------------------------------------------- the demo

TITLES = {
    "derivative": "Derivative of 3x^2 at x = 2",
    "partials": "Partial derivatives (the gradient) of 2x^2 + 3y at (2, 1.5)",
    "jacobian": "Jacobian of [x^2 + y^2, x - y] at (2, 1): rows = outputs, columns = inputs",
    "hessian": "Hessian of x^2 + y^2 at (2, 1)",
}


def _show(value) -> str:
    array = np.asarray(value.detach().numpy() if isinstance(value, ad.Tensor) else value,
                       dtype=float)
    return str((array + 0.0).tolist())  # + 0.0 turns -0.0 into 0.0


def _agrees(value, expected) -> bool:
    value = value.detach().numpy() if isinstance(value, ad.Tensor) else value
    return np.shape(value) == np.shape(expected) and np.allclose(value, expected, rtol=1e-12,
                                                                 atol=1e-12)


def demo(out=sys.stdout) -> int:
    refs = {"PyTorch": torch_reference(), "JAX": jax_reference()}
    failures = 0
    print("autodx demo: the notebook, both ways, on one engine\n", file=out)
    for quantity, routes in autodx_routes().items():
        expected = ANALYTIC[quantity]
        print(f"{TITLES[quantity]}\n  analytic: {_show(expected)}", file=out)
        for name, ref in refs.items():
            if ref is None:
                print(f"  {name}: not installed (pip install -e '.[test]' to compare)", file=out)
            else:
                ok = _agrees(ref[quantity], expected)
                failures += not ok
                print(f"  {name}: {_show(ref[quantity])}  {'agrees' if ok else 'DISAGREES'}",
                      file=out)
        for label, route in routes:
            value = route()
            ok = _agrees(value, expected)
            failures += not ok
            print(f"  {'ok ' if ok else 'BAD'} {label}: {_show(value)}", file=out)
        print(file=out)

    print("The walls the notebook hit, and what autodx says instead:", file=out)
    x, y = _leaves(2.0, 1.0)
    for label, action in [
        ("f(x, y).backward() on a vector output", lambda: f_jac(x, y).backward()),
        ("ad.jacobian(ad.jacobian(f, argnums=(0, 1)), argnums=1)(v)",
         lambda: ad.jacobian(ad.jacobian(f_hess, argnums=(0, 1)), argnums=1)(np.ones(2))),
    ]:
        try:
            action()
            failures += 1
            print(f"  {label}: no error (unexpected)", file=out)
        except (RuntimeError, ValueError, TypeError) as error:
            print(f"  {label}:\n    {type(error).__name__}: {error}", file=out)
    print(f"\n{'all values agree' if not failures else f'{failures} DISAGREEMENTS'}", file=out)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autodx", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("demo", help="recompute the notebook's cells both ways and check them")
    args = parser.parse_args(argv)
    if args.command != "demo":
        parser.print_help()
        return 2
    return demo()


if __name__ == "__main__":
    raise SystemExit(main())
