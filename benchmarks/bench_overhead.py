"""Per-call overhead of autodx against NumPy, PyTorch and JAX, in one run.

    python benchmarks/bench_overhead.py

Part 1 times a chain of 1,000 float64 scalar operations (forward only, then forward+backward),
so the numbers are pure per-op dispatch and graph-recording cost. Part 2 times the notebook's
small calls end to end (inputs built inside the timed call). Every time is the median of
several runs, each long enough to dwarf the clock's resolution. PyTorch and JAX are optional:
a competitor that cannot be imported is printed as "n/a". See benchmarks/README.md.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

import autodx as ad

anp = ad.numpy

REPEAT = 7  # timed runs per measurement; the median is reported
MIN_RUN_TIME = 0.2  # seconds; each timed run calls the function this long or longer

N_OPS = 1000  # length of the scalar chain in part 1
X0 = 0.5
C, D, E = 1.0001, 0.0001, 0.9999

NA = "n/a"  # competitor not importable
NONE = "-"  # no counterpart to this call in that library


# ------------------------------------------------------------------------------ competitors


def load_torch():
    try:
        import torch
    except Exception as e:  # any import failure means "skip torch"
        print(f"# torch not available ({type(e).__name__}: {e}); its columns print {NA}")
        return None
    torch.set_num_threads(1)
    return torch


def load_jax():
    try:
        import jax
        import jax.numpy as jnp
    except Exception as e:  # any import failure means "skip jax"
        print(f"# jax not available ({type(e).__name__}: {e}); its columns print {NA}")
        return None, None
    jax.config.update("jax_enable_x64", True)
    return jax, jnp


# ------------------------------------------------------------------------------ timing


def _run(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - start


def measure(fn: Callable[[], object]) -> float:
    """Median seconds per call of `fn()`: REPEAT runs of `number` calls each, where `number`
    is chosen so that one run lasts at least MIN_RUN_TIME. The first call (warm-up: caches,
    lazy imports, JIT compilation) is not timed."""
    fn()
    number = 1
    while (elapsed := _run(fn, number)) < MIN_RUN_TIME:
        estimate = int(number * 1.2 * MIN_RUN_TIME / max(elapsed, 1e-9))
        number = min(number * 100, max(number * 2, estimate))
    runs = [elapsed / number] + [_run(fn, number) / number for _ in range(REPEAT - 1)]
    return statistics.median(runs)


class Bench:
    """Times named calls, checks their values, and keeps the failures for the report."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def time(self, label: str, fn: Callable[[], object] | None, expected=None) -> float | str:
        """Seconds per call, or NA when `fn` is None, or "error" (recorded) when it raises."""
        if fn is None:
            return NA
        try:
            if expected is not None:
                _check(label, fn(), expected)
            return measure(fn)
        except Exception as e:  # report every failure, keep benchmarking
            self.failures.append(f"{label}: {type(e).__name__}: {e}")
            return "error"


def _to_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):  # autodx and torch tensors
        x = x.detach()
    if hasattr(x, "block_until_ready"):  # jax arrays
        x.block_until_ready()
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)


def _leaves(tree) -> np.ndarray:
    if isinstance(tree, (tuple, list)):
        return np.concatenate([_leaves(t) for t in tree]) if tree else np.zeros(0)
    return _to_numpy(tree).ravel()


def _check(label: str, got, expected) -> None:
    # A sanity check, not a test: compare as sorted multisets, since the libraries lay
    # Jacobians out differently (autodx matrix=True is the transpose of torch's stacked tuple).
    got, want = np.sort(_leaves(got)), np.sort(np.ravel(np.asarray(expected, dtype=float)))
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-9, atol=1e-12):
        raise AssertionError(f"wrong value: got {got}, expected {want}")


# ------------------------------------------------------------------------------ tables


def _fmt_time(t: float | str, scale: float, digits: int) -> str:
    return t if isinstance(t, str) else f"{t * scale:.{digits}f}"


def _fmt_ratio(t: float | str, base: float | str) -> str:
    if isinstance(t, str) or isinstance(base, str):
        return t if isinstance(t, str) else NONE
    ratio = t / base
    return f"{ratio:.2f}x" if ratio >= 0.01 else f"{ratio:.4f}x"


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)

    def fmt(row):
        first = row[0].ljust(widths[0])
        return "  ".join([first] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])])

    print(f"\n{title}\n{line}\n{fmt(header)}\n{line}")
    for row in rows:
        print(fmt(row))
    print(line)


# ------------------------------------------------------------------------------ part 1: chain


def chain(x, sin):
    """N_OPS scalar operations with operators: blocks of multiply, add, sin, multiply."""
    for _ in range(N_OPS // 4):
        x = sin(x * C + D) * E
    return x


def chain_functions(x, xp):
    """The same chain, every operation a call of `xp.multiply`, `xp.add`, `xp.sin`."""
    for _ in range(N_OPS // 4):
        x = xp.multiply(xp.sin(xp.add(xp.multiply(x, C), D)), E)
    return x


def chain_reference(x: float) -> tuple[float, float]:
    """The chain's value and derivative at x, by hand-written forward mode (the oracle)."""
    dx = 1.0
    for _ in range(N_OPS // 4):
        u = x * C + D
        x, dx = np.sin(u) * E, np.cos(u) * C * E * dx
    return float(x), float(dx)


def forward_cases(torch, jax, jnp) -> list[tuple[str, Callable | None, bool]]:
    """(label, call, is an autodx row) for the forward-only chain."""
    x_ad = ad.tensor(X0, requires_grad=True)
    cases = [
        ("NumPy, np.float64 operators + np.sin", lambda: chain(np.float64(X0), np.sin), False),
        ("NumPy, np.multiply/np.add/np.sin", lambda: chain_functions(np.float64(X0), np), False),
        ("autodx, np.float64 operators + ad.numpy.sin",
         lambda: chain(np.float64(X0), anp.sin), True),
        ("autodx, ad.numpy functions on floats", lambda: chain_functions(X0, anp), True),
        ("autodx, Tensor(requires_grad=True)", lambda: chain(x_ad, anp.sin), True),
        ("autodx, Tensor(requires_grad=True), np.sin(t) dispatched",
         lambda: chain(x_ad, np.sin), True),
    ]
    torch_fwd = None
    if torch is not None:
        x_t = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
        torch_fwd = lambda: chain(x_t, torch.sin)
    cases.append(("PyTorch eager, requires_grad=True", torch_fwd, False))
    jax_eager = jax_jit = None
    if jax is not None:
        x_j = jnp.asarray(X0, dtype=jnp.float64)
        jitted = jax.jit(partial(chain, sin=jnp.sin))
        jitted(x_j).block_until_ready()  # compile outside the timing
        jax_eager = lambda: chain(x_j, jnp.sin).block_until_ready()
        jax_jit = lambda: jitted(x_j).block_until_ready()
    cases.append(("JAX eager", jax_eager, False))
    cases.append(("JAX jit (compiled once, untimed)", jax_jit, False))
    return cases


def backward_cases(torch, jax, jnp) -> list[tuple[str, Callable | None, bool]]:
    """(label, call returning d chain/dx, is an autodx row) for forward+backward."""
    x_ad = ad.tensor(X0, requires_grad=True)

    def autodx_backward():
        x_ad.grad = None
        chain(x_ad, anp.sin).backward()
        return x_ad.grad

    autodx_grad = ad.grad(partial(chain, sin=anp.sin))
    cases = [
        ("autodx torch face: y.backward()", autodx_backward, True),
        ("autodx JAX face: ad.grad(f)(x)", lambda: autodx_grad(X0), True),
    ]
    torch_backward = None
    if torch is not None:
        x_t = torch.tensor(X0, dtype=torch.float64, requires_grad=True)

        def torch_backward():
            x_t.grad = None
            chain(x_t, torch.sin).backward()
            return x_t.grad

    cases.append(("PyTorch: y.backward()", torch_backward, False))
    jax_eager = jax_jit = None
    if jax is not None:
        x_j = jnp.asarray(X0, dtype=jnp.float64)
        grad_f = jax.grad(partial(chain, sin=jnp.sin))
        jitted = jax.jit(grad_f)
        jitted(x_j).block_until_ready()  # compile outside the timing
        jax_eager = lambda: grad_f(x_j).block_until_ready()
        jax_jit = lambda: jitted(x_j).block_until_ready()
    cases.append(("JAX eager: jax.grad(f)(x)", jax_eager, False))
    cases.append(("JAX jit(grad(f)) (compiled once)", jax_jit, False))
    return cases


def chain_table(bench: Bench, title: str, cases, expected: float) -> dict:
    """Print the table; return {label: seconds per chain}."""
    timed = [(label, bench.time(label, fn, expected), is_ad) for label, fn, is_ad in cases]
    baselines = [t for _, t, is_ad in timed if is_ad]
    header = ["implementation", "total ms", "us/op"]
    header += [f"/ad#{i}" for i in range(1, len(baselines) + 1)]
    rows, n_ad = [], 0
    for label, t, is_ad in timed:
        n_ad += is_ad
        tag = f"ad#{n_ad} " if is_ad else " " * 5
        rows.append([tag + label, _fmt_time(t, 1e3, 3), _fmt_time(t, 1e6 / N_OPS, 3)]
                    + [_fmt_ratio(t, base) for base in baselines])
    print_table(title, header, rows)
    return {label: t for label, t, _ in timed}


def dispatch_note(times: dict) -> None:
    """NumPy's dispatch (np.sin(t) -> __array_ufunc__ -> ad.numpy.sin) per call: the chain
    makes N_OPS // 4 sin calls, so the difference of the two rows over that count."""
    direct = times["autodx, Tensor(requires_grad=True)"]
    dispatched = times["autodx, Tensor(requires_grad=True), np.sin(t) dispatched"]
    if isinstance(direct, float) and isinstance(dispatched, float):
        extra = (dispatched - direct) / (N_OPS // 4) * 1e6
        print(f"  np.sin(t) on a Tensor costs {extra:+.2f} us per call more than "
              f"ad.numpy.sin(t) (target: at most +1 us)")


# ------------------------------------------------------------------------------ part 2: notebook


@dataclass
class Call:
    """One notebook call: autodx's version and its PyTorch and JAX counterparts. A counterpart
    is a zero-argument callable, NA (library missing) or NONE (nothing comparable)."""

    label: str
    autodx: Callable[[], object]
    torch: Callable[[], object] | str
    jax: Callable[[], object] | str
    expected: object


def notebook_calls(torch, jax, jnp) -> list[Call]:
    f_sq = lambda x: 3 * x**2
    f_xy = lambda x, y: 2 * x**2 + 3 * y
    f_jac = lambda xp: (lambda x, y: xp.stack([x**2 + y**2, x - y]))
    f_hess = lambda x, y: x**2 + y**2

    # ---- autodx
    def ad_backward():
        x = ad.tensor(2.0, requires_grad=True)
        f_sq(x).backward()
        return x.grad

    def ad_autograd_grad():
        x = ad.tensor(2.0, requires_grad=True)
        return ad.autograd.grad(f_sq(x), x)

    def ad_autograd_partials():
        x, y = ad.tensor(2.0, requires_grad=True), ad.tensor(1.5, requires_grad=True)
        return ad.autograd.grad(f_xy(x, y), (x, y))

    grad_, partials = ad.grad(f_sq), ad.grad(f_xy, argnums=(0, 1))
    jac = ad.jacobian(f_jac(anp), argnums=(0, 1), matrix=True)
    hess = ad.hessian(f_hess, argnums=(0, 1), matrix=True)
    ad_grad = lambda: grad_(2.0)
    ad_partials = lambda: partials(2.0, 1.5)
    ad_jac = lambda: jac(2.0, 1.0)
    ad_hess = lambda: hess(2.0, 1.0)
    ad_fjac = lambda: ad.autograd.functional.jacobian(f_jac(anp),
                                                      (ad.tensor(2.0), ad.tensor(1.0)))
    ad_fhess = lambda: ad.autograd.functional.hessian(f_hess, (ad.tensor(2.0), ad.tensor(1.0)))

    # ---- torch: inputs are built inside each call, as the notebook does
    t_backward = t_autograd_grad = t_grad = t_partials = t_func_partials = NA
    t_fjac = t_fhess = NA
    if torch is not None:
        leaf = lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True)
        const = lambda v: torch.tensor(v, dtype=torch.float64)

        def t_backward():
            x = leaf(2.0)
            f_sq(x).backward()
            return x.grad

        def t_autograd_grad():
            x = leaf(2.0)
            return torch.autograd.grad(f_sq(x), x)

        def t_partials():
            x, y = leaf(2.0), leaf(1.5)
            return torch.autograd.grad(f_xy(x, y), (x, y))

        func_grad, func_partials = torch.func.grad(f_sq), torch.func.grad(f_xy, argnums=(0, 1))
        t_grad = lambda: func_grad(const(2.0))
        t_func_partials = lambda: func_partials(const(2.0), const(1.5))
        t_fjac = lambda: torch.autograd.functional.jacobian(f_jac(torch),
                                                            (const(2.0), const(1.0)))
        t_fhess = lambda: torch.autograd.functional.hessian(f_hess, (const(2.0), const(1.0)))

    # ---- jax: eager, and jitted (compiled by the untimed warm-up call)
    j_grad = j_partials = j_jac = j_hess = NA
    j_grad_jit = j_partials_jit = j_jac_jit = j_hess_jit = NA
    if jax is not None:
        def call(f, *args):
            return lambda: jax.block_until_ready(f(*args))

        grad_j = jax.grad(f_sq)
        partials_j = jax.grad(f_xy, argnums=(0, 1))
        jac_j = jax.jacobian(f_jac(jnp), argnums=(0, 1))
        hess_j = jax.hessian(f_hess, argnums=(0, 1))
        j_grad, j_grad_jit = call(grad_j, 2.0), call(jax.jit(grad_j), 2.0)
        j_partials = call(partials_j, 2.0, 1.5)
        j_partials_jit = call(jax.jit(partials_j), 2.0, 1.5)
        j_jac, j_jac_jit = call(jac_j, 2.0, 1.0), call(jax.jit(jac_j), 2.0, 1.0)
        j_hess, j_hess_jit = call(hess_j, 2.0, 1.0), call(jax.jit(hess_j), 2.0, 1.0)

    d_sq, d_xy = 12.0, [8.0, 3.0]
    jac_value, hess_value = [[4.0, 2.0], [1.0, -1.0]], [[2.0, 0.0], [0.0, 2.0]]
    return [
        Call("d(3x^2)/dx at 2: x.backward()", ad_backward, t_backward, NONE, d_sq),
        Call("d(3x^2)/dx: autograd.grad(y, x)", ad_autograd_grad, t_autograd_grad, NONE, d_sq),
        Call("d(3x^2)/dx: grad(f)(x)", ad_grad, t_grad, j_grad, d_sq),
        Call("d(3x^2)/dx: grad(f)(x), jax jit", ad_grad, NONE, j_grad_jit, d_sq),
        Call("2x^2+3y at (2,1.5): autograd.grad", ad_autograd_partials, t_partials, NONE, d_xy),
        Call("2x^2+3y: grad(f, argnums=(0,1))", ad_partials, t_func_partials, j_partials, d_xy),
        Call("2x^2+3y: grad(f, argnums=(0,1)), jax jit", ad_partials, NONE, j_partials_jit,
             d_xy),
        Call("jac [x^2+y^2, x-y] at (2,1): functional", ad_fjac, t_fjac, NONE, jac_value),
        Call("jac: jacobian(f, argnums=(0,1))", ad_jac, NONE, j_jac, jac_value),
        Call("jac: jacobian(f, argnums=(0,1)), jax jit", ad_jac, NONE, j_jac_jit, jac_value),
        Call("hess x^2+y^2 at (2,1): functional", ad_fhess, t_fhess, NONE, hess_value),
        Call("hess: hessian(f, argnums=(0,1))", ad_hess, NONE, j_hess, hess_value),
        Call("hess: hessian(f, argnums=(0,1)), jax jit", ad_hess, NONE, j_hess_jit, hess_value),
    ]


NOTEBOOK_LEGEND = """\
  autodx: x.backward() / ad.autograd.grad / ad.grad / ad.autograd.functional.{jacobian,hessian}
          / ad.jacobian and ad.hessian with matrix=True; a row that repeats an autodx call
          reuses its timing.
  torch:  the same-named torch call; grad(f) rows use torch.func.grad.
  jax:    jax.grad / jax.jacobian / jax.hessian, eager; "jax jit" rows: jax.jit of the same,
          compiled on the untimed warm-up call."""


def notebook_table(bench: Bench, calls: list[Call]) -> None:
    autodx_times: dict[int, float | str] = {}  # id(call) -> time: each autodx call timed once

    def time_of(label, fn, expected):
        return fn if isinstance(fn, str) else bench.time(label, fn, expected)

    rows = []
    for call in calls:
        if id(call.autodx) not in autodx_times:
            autodx_times[id(call.autodx)] = time_of(f"autodx {call.label}", call.autodx,
                                                    call.expected)
        t_ad = autodx_times[id(call.autodx)]
        t_torch = time_of(f"torch {call.label}", call.torch, call.expected)
        t_jax = time_of(f"jax {call.label}", call.jax, call.expected)
        rows.append([call.label] + [_fmt_time(t, 1e6, 1) for t in (t_ad, t_torch, t_jax)]
                    + [_fmt_ratio(t_torch, t_ad), _fmt_ratio(t_jax, t_ad)])
    header = ["call", "autodx us", "torch us", "jax us", "torch/autodx", "jax/autodx"]
    print_table("Part 2: the notebook's calls, end to end (median us per call)", header, rows)
    print(NOTEBOOK_LEGEND)


# ------------------------------------------------------------------------------ main


def print_environment(torch, jax) -> None:
    versions = [f"autodx {ad.__version__}", f"numpy {np.__version__}",
                f"torch {torch.__version__}" if torch else f"torch {NA}",
                f"jax {jax.__version__}" if jax else f"jax {NA}"]
    print(f"# Python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs; " + ", ".join(versions))
    print(f"# torch threads: {torch.get_num_threads() if torch else NA}; JAX x64: "
          f"{jax.config.jax_enable_x64 if jax else NA}; OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(f"# each time: median of {REPEAT} runs of >= {MIN_RUN_TIME}s; ratio = that row's "
          "time / autodx's time (> 1: autodx is faster)")


def main() -> int:
    start = time.perf_counter()
    torch = load_torch()
    jax, jnp = load_jax()
    print_environment(torch, jax)
    bench = Bench()
    value, derivative = chain_reference(X0)

    dispatch_note(chain_table(bench, f"Part 1a: {N_OPS}-op float64 scalar chain, forward only",
                              forward_cases(torch, jax, jnp), value))
    chain_table(bench, f"Part 1b: {N_OPS}-op float64 scalar chain, forward + backward",
                backward_cases(torch, jax, jnp), derivative)
    notebook_table(bench, notebook_calls(torch, jax, jnp))

    return finish(bench, start)


def finish(bench: Bench, start: float) -> int:
    """Print the failures and the wall time; the exit status (1 if anything failed)."""
    if bench.failures:
        print("\nFailures (printed as 'error' above):")
        for failure in bench.failures:
            print(f"  {failure}")
    print(f"\n# total wall time {time.perf_counter() - start:.0f}s")
    return 1 if bench.failures else 0


if __name__ == "__main__":
    sys.exit(main())
