"""`ad.jit` against PyTorch and JAX (eager and jit), in one run, with its targets.

    python benchmarks/bench_jit.py            # full run (a few minutes on 2 cores)
    python benchmarks/bench_jit.py --quick    # smaller sizes, fewer runs: a smoke run

Sections: the notebook's calls under jit (steady state and first call: staging + codegen), the
same calls without jit, a 3,000-op scalar chain, an elementwise value_and_grad on 1e6 and 1e7
float64, the Rosenbrock Hessian and Hessian-vector product, 200 x 200 Jacobians, the MLP
training step, and the peak memory of the 1e7 gradient. Every result is checked against a
closed-form or hand-written reference before it is timed (a wrong one prints `error` and makes
the exit status 1). Each section ends with its targets: the ratio, the goal, MET / NOT MET.

The problems and the measuring are the other benchmarks' (imported, not copied): timing and
checks from bench_transforms, the chain's constants from bench_overhead, the elementwise cases
and the peak-memory child from bench_memory, the MLP from bench_mlp. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import autodx as ad
import bench_memory
import bench_mlp
import bench_transforms
from bench_overhead import X0, C, D, E, finish, load_jax, load_torch, print_table
from bench_transforms import (
    Bench,
    check,
    layer_jacobian,
    make_layer,
    rosenbrock,
    rosenbrock_hessian,
    rosenbrock_hvp,
)

anp = ad.numpy

NA = "n/a"  # library not importable
NOT_IMPLEMENTED = "n/a (not implemented)"  # ad.jit(backend="numexpr") not there yet
CHAIN_BLOCKS = 750  # x = sin(x * c + d) * e, 750 times: 3,000 scalar ops
CHAIN_OPS = 4 * CHAIN_BLOCKS


@dataclass(frozen=True)
class Sizes:
    """Problem sizes and repeat counts of one mode (full or --quick)."""

    elementwise: tuple[int, ...]
    memory: int  # elements of the gradient whose peak memory is measured
    hessian: int  # Rosenbrock variables, full Hessian
    hvp: int  # Rosenbrock variables, Hessian-vector product
    fresh: int  # fresh functions whose first call is timed
    repeat: int  # timed runs per measurement (bench_transforms.REPEAT)
    min_run: float  # seconds per timed run (bench_transforms.MIN_RUN_TIME)
    budget: float  # seconds per measurement of a slow call (bench_transforms.CALL_BUDGET)


FULL = Sizes((10**6, 10**7), 10**7, 500, 100_000, fresh=5, repeat=7, min_run=0.2,
             budget=4.0)
QUICK = Sizes((10**5, 10**6), 10**6, 100, 10_000, fresh=3, repeat=3, min_run=0.05,
              budget=1.0)


# ------------------------------------------------------------------------------ rows and targets


@dataclass
class Row:
    """One implementation of a section's problem. `call` is a zero-argument callable, or a
    string (NA, NOT_IMPLEMENTED) printed instead of a time; `fresh`: `call` builds a new
    function each time and its single calls are timed (first-call rows)."""

    key: str
    label: str
    call: Callable[[], object] | str
    expected: object = None  # None: the section's expected value
    fresh: bool = False


@dataclass
class Target:
    """`ours` <= bound * `ref` (ratio), or, when `ref` is None, `ours` <= bound us per op.
    `bound` None: no target was set; the ratio is printed for information."""

    what: str
    ours: str
    ref: str | None
    bound: float | None


def time_rows(bench: Bench, title: str, rows: list[Row], expected, fresh: int) -> dict:
    """{key: seconds per call, or the string printed instead}; every result checked first."""
    times = {}
    for row in rows:
        want = expected if row.expected is None else row.expected
        label = f"{title}: {row.label}"
        if row.fresh and not isinstance(row.call, str):
            times[row.key] = _time_fresh(bench, label, row.call, want, fresh)
        else:
            times[row.key] = bench.time(label, row.call, want)
    return times


def _time_fresh(bench: Bench, label: str, call: Callable[[], object], want, k: int):
    """Median of `k` single calls, each on a new function (its first call), each checked."""
    try:
        check(call(), want)  # untimed: lazy imports, the libraries' own first-use caches
        runs = []
        for _ in range(k):
            start = time.perf_counter()
            result = call()
            runs.append(time.perf_counter() - start)
            check(result, want)
        return statistics.median(runs)
    except Exception as e:  # report every failure, keep benchmarking
        bench.failures.append(f"{label}: {type(e).__name__}: {e}")
        return "error"


def fmt_time(t) -> str:
    if isinstance(t, str):
        return t
    if t < 1e-3:
        return f"{t * 1e6:.2f} us"
    return f"{t * 1e3:.2f} ms" if t < 1 else f"{t:.2f} s"


def fmt_mb(b) -> str:
    return b if isinstance(b, str) else f"{b / 1e6:.1f} MB"


def _ratio(ours, ref) -> float | str:
    for t in (ours, ref):
        if isinstance(t, str):
            return t
    return ours / ref if ref else "-"


def print_section(title: str, rows: list[Row], times: dict, base: str | None = None,
                  ops: int | None = None) -> None:
    """The implementations' times; `ops`: add a per-op column; `base`: add time / base."""
    header = ["implementation", "time"] + (["us/op"] if ops else [])
    if base:
        header.append(f"/{next(r.label for r in rows if r.key == base)}")
    table = []
    for row in rows:
        t = times[row.key]
        cells = [row.label, fmt_time(t)]
        if ops:
            cells.append(t if isinstance(t, str) else f"{t * 1e6 / ops:.3f}")
        if base:
            r = _ratio(t, times[base])
            cells.append(r if isinstance(r, str) else f"{r:.2f}x")
        table.append(cells)
    print_table(title, header, table)


def report_targets(targets: list[Target], values: dict, outcomes: list, ops: int | None = None,
                   fmt: Callable = fmt_time) -> None:
    """Print each target's values, ratio, goal and status; append (what, status) to outcomes."""
    table = []
    for target in targets:
        ours = values[target.ours]
        if target.ref is None:  # absolute: us per op
            ref_cell = "-"
            value = ours if isinstance(ours, str) else ours * 1e6 / ops
            shown = "-" if isinstance(value, str) else f"{value:.3f} us/op"
            goal = "-" if target.bound is None else f"<= {target.bound:g} us/op"
        else:
            ref_cell = fmt(values[target.ref])
            value = _ratio(ours, values[target.ref])
            shown = "-" if isinstance(value, str) else f"{value:.3f}x"
            goal = "-" if target.bound is None else f"<= {target.bound:g}x"
        if isinstance(value, str):
            status = "error" if "error" in (ours, values.get(target.ref)) else value
        elif target.bound is None:
            status = "(no target)"
        else:
            status = "MET" if value <= target.bound else "NOT MET"
        if target.bound is not None:
            outcomes.append((target.what, status))
        table.append([target.what, fmt(ours), ref_cell, shown, goal, status])
    print_table("  targets", ["target", "autodx", "reference", "ratio", "goal", "status"],
                table)


def jax_call(jax, fn, *args) -> Callable[[], object]:
    return lambda: jax.block_until_ready(fn(*args))


# ------------------------------------------------------------------------------ the notebook

HESS_2X2 = np.array([[2.0, 0.0], [0.0, 2.0]])
HESS_TUPLE = ((2.0, 0.0), (0.0, 2.0))  # argnums=(0, 1) without matrix=True: a tuple of tuples


def f_sq(x):
    return 3 * x**2


def f_vec(v):
    return v[0] ** 2 + v[1] ** 2


def f_xy(x, y):
    return x**2 + y**2


def notebook_jit(bench: Bench, torch, jax, jnp, sizes: Sizes, outcomes: list) -> None:
    """Steady-state jitted calls, then first calls (a fresh function each time)."""
    grad_jit = ad.jit(ad.grad(f_sq))
    hess_jit = ad.jit(ad.hessian(f_vec))
    hess_xy_jit = ad.jit(ad.hessian(f_xy, argnums=(0, 1), matrix=True))
    rows = [
        Row("ad_g", "ad.jit(ad.grad(f))(2.0)", lambda: grad_jit(2.0), 12.0),
        Row("ad_h", "ad.jit(ad.hessian(f))(array([2., 1.]))",
            lambda: hess_jit(np.array([2.0, 1.0]))),
        Row("ad_hxy", "ad.jit(ad.hessian(f, argnums=(0,1), matrix=True))(2.0, 1.0)",
            lambda: hess_xy_jit(2.0, 1.0)),
    ]
    first = [
        Row("ad_g1", "first call: ad.jit(ad.grad(f))(2.0)",
            lambda: ad.jit(ad.grad(lambda x: 3 * x**2))(2.0), 12.0, fresh=True),
        Row("ad_h1", "first call: ad.jit(ad.hessian(f))(array)",
            lambda: ad.jit(ad.hessian(lambda v: v[0]**2 + v[1]**2))(np.array([2.0, 1.0])),
            fresh=True),
        Row("ad_hxy1", "first call: ad.jit(ad.hessian(f, argnums=(0,1), matrix=True))",
            lambda: ad.jit(ad.hessian(lambda x, y: x**2 + y**2, argnums=(0, 1),
                                      matrix=True))(2.0, 1.0), fresh=True),
    ]
    j = [NA] * 6
    if jax is not None:
        gj, hj = jax.jit(jax.grad(f_sq)), jax.jit(jax.hessian(f_vec))
        hxyj = jax.jit(jax.hessian(f_xy, argnums=(0, 1)))
        j = [jax_call(jax, gj, 2.0), lambda: jax.block_until_ready(hj(np.array([2.0, 1.0]))),
             jax_call(jax, hxyj, 2.0, 1.0),
             lambda: jax.block_until_ready(jax.jit(jax.grad(lambda x: 3 * x**2))(2.0)),
             lambda: jax.block_until_ready(jax.jit(jax.hessian(
                 lambda v: v[0]**2 + v[1]**2))(np.array([2.0, 1.0]))),
             lambda: jax.block_until_ready(jax.jit(jax.hessian(
                 lambda x, y: x**2 + y**2, argnums=(0, 1)))(2.0, 1.0))]
    rows += [Row("j_g", "jax.jit(jax.grad(f))(2.0)", j[0], 12.0),
             Row("j_h", "jax.jit(jax.hessian(f))(array([2., 1.]))", j[1]),
             Row("j_hxy", "jax.jit(jax.hessian(f, argnums=(0,1)))(2.0, 1.0)", j[2], HESS_TUPLE)]
    first += [Row("j_g1", "first call: jax.jit(jax.grad(f))(2.0)", j[3], 12.0, fresh=True),
              Row("j_h1", "first call: jax.jit(jax.hessian(f))(array)", j[4], fresh=True),
              Row("j_hxy1", "first call: jax.jit(jax.hessian(f, argnums=(0,1)))", j[5],
                  HESS_TUPLE, fresh=True)]
    title = "Notebook calls under jit: d(3x^2)/dx at 2; Hessian of x^2 + y^2 at (2, 1)"
    times = time_rows(bench, title, rows, HESS_2X2, sizes.fresh)
    print_section(title + ", steady state", rows, times)
    report_targets([Target("jit grad(3x^2) vs jax.jit", "ad_g", "j_g", 0.25),
                    Target("jit hessian, (2,) array, vs jax.jit", "ad_h", "j_h", 0.25),
                    Target("jit hessian, argnums=(0,1), vs jax.jit", "ad_hxy", "j_hxy", 0.25)],
                   times, outcomes)
    times = time_rows(bench, title, first, HESS_2X2, sizes.fresh)
    print_section(f"First call (staging + codegen / compile): median of {sizes.fresh} fresh "
                  "functions", first, times)
    report_targets([Target("first call, jit grad vs jax.jit", "ad_g1", "j_g1", 0.25),
                    Target("first call, jit hessian (2,) vs jax.jit", "ad_h1", "j_h1", 0.25),
                    Target("first call, jit hessian argnums vs jax.jit", "ad_hxy1", "j_hxy1",
                           0.25)], times, outcomes)


def notebook_eager(bench: Bench, torch, jax, jnp, sizes: Sizes, outcomes: list) -> None:
    """The same calls without jit: autodx's JAX face against the tapes (inputs made inside)."""
    grad_, hess = ad.grad(f_sq), ad.hessian(f_vec)
    hess_xy = ad.hessian(f_xy, argnums=(0, 1), matrix=True)
    tape = ad.autograd.functional.hessian
    rows = [
        Row("ad_g", "ad.grad(f)(2.0)", lambda: grad_(2.0), 12.0),
        Row("ad_h", "ad.hessian(f)(array([2., 1.]))", lambda: hess(np.array([2.0, 1.0]))),
        Row("tape_h", "ad.autograd.functional.hessian(f, tensor([2., 1.]))",
            lambda: tape(f_vec, ad.tensor(np.array([2.0, 1.0])))),
        Row("ad_hxy", "ad.hessian(f, argnums=(0,1), matrix=True)(2.0, 1.0)",
            lambda: hess_xy(2.0, 1.0)),
        Row("tape_hxy", "ad.autograd.functional.hessian(f, (tensor(2.), tensor(1.)))",
            lambda: tape(f_xy, (ad.tensor(2.0), ad.tensor(1.0))), HESS_TUPLE),
    ]
    t = [NA] * 4
    if torch is not None:
        def torch_tape():
            x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
            (3 * x**2).backward()
            return x.grad

        f64 = lambda v: torch.tensor(v, dtype=torch.float64)
        func_grad, t_hess = torch.func.grad(f_sq), torch.autograd.functional.hessian
        t = [torch_tape, lambda: func_grad(f64(2.0)), lambda: t_hess(f_vec, f64([2.0, 1.0])),
             lambda: t_hess(f_xy, (f64(2.0), f64(1.0)))]
    j = [NA] * 3
    if jax is not None:
        gj, hj, hxyj = jax.grad(f_sq), jax.hessian(f_vec), jax.hessian(f_xy, argnums=(0, 1))
        j = [jax_call(jax, gj, 2.0), lambda: jax.block_until_ready(hj(np.array([2.0, 1.0]))),
             jax_call(jax, hxyj, 2.0, 1.0)]
    rows += [Row("t_tape", "torch: x.backward(), x.grad", t[0], 12.0),
             Row("t_func", "torch.func.grad(f)(tensor(2.))", t[1], 12.0),
             Row("t_h", "torch.autograd.functional.hessian(f, tensor([2., 1.]))", t[2]),
             Row("t_hxy", "torch.autograd.functional.hessian(f, (x, y))", t[3], HESS_TUPLE),
             Row("j_g", "jax.grad(f)(2.0), eager", j[0], 12.0),
             Row("j_h", "jax.hessian(f)(array), eager", j[1]),
             Row("j_hxy", "jax.hessian(f, argnums=(0,1))(2.0, 1.0), eager", j[2], HESS_TUPLE)]
    title = "Notebook calls without jit (inputs made inside the call)"
    times = time_rows(bench, title, rows, HESS_2X2, sizes.fresh)
    print_section(title, rows, times)
    report_targets([Target("ad.grad vs torch tape", "ad_g", "t_tape", 0.6),
                    Target("ad.hessian (2,) vs autodx tape", "ad_h", "tape_h", 1.0),
                    Target("ad.hessian argnums vs autodx tape", "ad_hxy", "tape_hxy", 1.0),
                    Target("ad.hessian (2,) vs torch tape", "ad_h", "t_h", 1.0),
                    Target("ad.hessian argnums vs torch tape", "ad_hxy", "t_hxy", 1.0)],
                   times, outcomes)


# ------------------------------------------------------------------------------ the chain


def chain(x, sin=anp.sin):
    """CHAIN_OPS scalar ops: bench_overhead's block (multiply, add, sin, multiply), repeated."""
    for _ in range(CHAIN_BLOCKS):
        x = sin(x * C + D) * E
    return x


def chain_derivative(x: float) -> float:
    """d chain / dx by hand-written forward mode (the oracle)."""
    dx = 1.0
    for _ in range(CHAIN_BLOCKS):
        u = x * C + D
        x, dx = np.sin(u) * E, np.cos(u) * C * E * dx
    return float(dx)


def chain_section(bench: Bench, torch, jax, jnp, sizes: Sizes, outcomes: list) -> None:
    grad_jit, grad_ = ad.jit(ad.grad(chain)), ad.grad(chain)
    x_ad = ad.tensor(X0, requires_grad=True)

    def tape(x, sin):
        x.grad = None
        chain(x, sin).backward()
        return x.grad

    rows = [Row("ad_jit", "ad.jit(ad.grad(chain))(x)", lambda: grad_jit(X0)),
            Row("ad", "ad.grad(chain)(x)", lambda: grad_(X0)),
            Row("ad_tape", "autodx tape: y.backward()", lambda: tape(x_ad, anp.sin))]
    t_tape = j_eager = j_jit = NA
    if torch is not None:
        x_t = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
        t_tape = lambda: tape(x_t, torch.sin)
    if jax is not None:
        x_j = jnp.asarray(X0, dtype=jnp.float64)
        grad_j = jax.grad(lambda x: chain(x, jnp.sin))
        j_eager, j_jit = jax_call(jax, grad_j, x_j), jax_call(jax, jax.jit(grad_j), x_j)
    rows += [Row("t_tape", "PyTorch: y.backward()", t_tape),
             Row("j", "jax.grad(chain)(x), eager", j_eager),
             Row("j_jit", "jax.jit(jax.grad(chain))(x)", j_jit)]
    title = f"{CHAIN_OPS}-op float64 scalar chain, forward + backward"
    times = time_rows(bench, title, rows, chain_derivative(X0), sizes.fresh)
    print_section(title, rows, times, ops=CHAIN_OPS)
    report_targets([Target("jit grad(chain), us per op", "ad_jit", None, 0.1),
                    Target("jit grad(chain) vs jax.jit", "ad_jit", "j_jit", None),
                    Target("eager ad.grad(chain) vs PyTorch", "ad", "t_tape", 0.7)],
                   times, outcomes, ops=CHAIN_OPS)


# ------------------------------------------------------------------------------ elementwise


def autodx_jit_case(x, backend: str = "numpy"):
    """ad.jit(ad.value_and_grad(f)) on bench_memory's loss; NOT_IMPLEMENTED when the backend's
    generated code does not use it (backend="numexpr" accepted but not generated yet)."""
    ad_, loss = bench_memory._autodx_loss()
    jitted = ad_.jit(ad_.value_and_grad(loss), backend=backend)
    if backend != "numpy":
        try:
            jitted(x)
            source = jitted.source(x)
        except (NotImplementedError, ImportError):
            return NOT_IMPLEMENTED
        if backend not in source.lower() and "evaluate" not in source:
            return NOT_IMPLEMENTED
    return lambda: jitted(x)


def _case(factory, *args):
    """A bench_memory case, or NA when its library cannot be imported."""
    try:
        return factory(*args)
    except ImportError:
        return NA


def elementwise_section(bench: Bench, torch, jax, jnp, sizes: Sizes, outcomes: list) -> None:
    for n in sizes.elementwise:
        x = bench_memory.make_input(n)
        hand = bench_memory.numpy_case(x)
        expected = hand()
        rows = [Row("np", "hand-written NumPy", hand),
                Row("ad", "ad.value_and_grad(f)(x)", bench_memory.autodx_vg_case(x)),
                Row("ad_jit", "ad.jit(ad.value_and_grad(f))(x)", autodx_jit_case(x)),
                Row("ad_ne", 'ad.jit(..., backend="numexpr")(x)', autodx_jit_case(x, "numexpr")),
                Row("t", "PyTorch eager, y.backward()",
                    _case(bench_memory.torch_case, x) if torch else NA),
                Row("j", "jax.value_and_grad(f)(x), eager",
                    _case(bench_memory.jax_eager_case, x) if jax else NA),
                Row("j_jit", "jax.jit(jax.value_and_grad(f))(x)",
                    _case(bench_memory.jax_jit_case, x) if jax else NA)]
        title = f"Elementwise value_and_grad of sum(sin(x) exp(-x^2) + tanh(x)), n = {n:.0e}"
        times = time_rows(bench, title, rows, expected, sizes.fresh)
        print_section(title, rows, times, base="np")
        size = f"n={n:.0e}"
        report_targets([Target(f"{size} eager value_and_grad vs hand-written", "ad", "np",
                               1.05),
                        Target(f"{size} jit value_and_grad vs hand-written", "ad_jit", "np",
                               0.9),
                        Target(f"{size} jit numexpr vs jax.jit", "ad_ne", "j_jit", 1.0)],
                       times, outcomes)
        del x, hand, expected, rows  # PERF: 1e7 arrays are 80 MB each


# ------------------------------------------------------------------------------ arrays


def rosenbrock_section(bench: Bench, torch, jax, jnp, sizes: Sizes, outcomes: list) -> None:
    rng = np.random.default_rng(0)
    n, m = sizes.hessian, sizes.hvp
    x = rng.uniform(-2, 2, n)
    hess_jit, hess = ad.jit(ad.hessian(rosenbrock)), ad.hessian(rosenbrock)
    rows = [Row("ad_jit", "ad.jit(ad.hessian(f))", lambda: hess_jit(x)),
            Row("ad", "ad.hessian(f)", lambda: hess(x))]
    t = j = j_jit = NA
    if torch is not None:
        x_t, t_hess = torch.tensor(x), torch.func.hessian(rosenbrock)
        t = lambda: t_hess(x_t)
    if jax is not None:
        x_j, h_j = jnp.asarray(x), jax.hessian(rosenbrock)
        j, j_jit = jax_call(jax, h_j, x_j), jax_call(jax, jax.jit(h_j), x_j)
    rows += [Row("t", "torch.func.hessian(f)", t), Row("j", "jax.hessian(f), eager", j),
             Row("j_jit", "jax.jit(jax.hessian(f))", j_jit)]
    title = f"Full Hessian of the Rosenbrock function, n = {n}"
    times = time_rows(bench, title, rows, rosenbrock_hessian(x), sizes.fresh)
    print_section(title, rows, times, base="j_jit")
    report_targets([Target(f"jit hessian n={n} vs jax.jit", "ad_jit", "j_jit", 1.0)], times,
                   outcomes)

    x, v = rng.uniform(-2, 2, m), rng.standard_normal(m)
    hvp_jit = ad.jit(lambda x, v: ad.jvp(ad.grad(rosenbrock), (x,), (v,))[1])
    rows = [Row("ad_jit", "ad.jit(jvp of ad.grad(f))", lambda: hvp_jit(x, v)),
            Row("ad", "ad.hvp(f, (x,), (v,))", lambda: ad.hvp(rosenbrock, (x,), (v,)))]
    t = j = j_jit = NA
    if torch is not None:
        x_t, v_t, grad_t = torch.tensor(x), torch.tensor(v), torch.func.grad(rosenbrock)
        t = lambda: torch.func.jvp(grad_t, (x_t,), (v_t,))[1]
    if jax is not None:
        x_j, v_j = jnp.asarray(x), jnp.asarray(v)
        hvp_j = lambda x, v: jax.jvp(jax.grad(rosenbrock), (x,), (v,))[1]
        j, j_jit = jax_call(jax, hvp_j, x_j, v_j), jax_call(jax, jax.jit(hvp_j), x_j, v_j)
    rows += [Row("t", "torch.func.jvp(torch.func.grad(f))", t),
             Row("j", "jax.jvp(jax.grad(f)), eager", j),
             Row("j_jit", "jax.jit(jvp of jax.grad(f))", j_jit)]
    title = f"Hessian-vector product of the Rosenbrock function, n = {m:,}"
    times = time_rows(bench, title, rows, rosenbrock_hvp(x, v), sizes.fresh)
    print_section(title, rows, times, base="j_jit")
    report_targets([Target(f"jit hvp n={m:,} vs jax.jit", "ad_jit", "j_jit", 1.0)], times,
                   outcomes)


def jacobian_section(bench: Bench, torch, jax, jnp, sizes: Sizes, outcomes: list) -> None:
    rng = np.random.default_rng(0)
    n = bench_transforms.JAC_SIZE
    w = rng.standard_normal((n, n)) / np.sqrt(n)
    b, x = rng.standard_normal(n), rng.standard_normal(n)
    f = make_layer(anp.tanh, w, b)
    rev_jit, fwd_jit = ad.jit(ad.jacrev(f)), ad.jit(ad.jacfwd(f))
    rev, fwd = ad.jacrev(f), ad.jacfwd(f)
    rows = [Row("ad_rev_jit", "ad.jit(ad.jacrev(f))", lambda: rev_jit(x)),
            Row("ad_fwd_jit", "ad.jit(ad.jacfwd(f))", lambda: fwd_jit(x)),
            Row("ad_rev", "ad.jacrev(f)", lambda: rev(x)),
            Row("ad_fwd", "ad.jacfwd(f)", lambda: fwd(x))]
    calls = [NA] * 6
    if torch is not None:
        f_t, x_t = make_layer(torch.tanh, torch.tensor(w), torch.tensor(b)), torch.tensor(x)
        rev_t, fwd_t = torch.func.jacrev(f_t), torch.func.jacfwd(f_t)
        calls[:2] = [lambda: rev_t(x_t), lambda: fwd_t(x_t)]
    if jax is not None:
        f_j, x_j = make_layer(jnp.tanh, jnp.asarray(w), jnp.asarray(b)), jnp.asarray(x)
        rev_j, fwd_j = jax.jacrev(f_j), jax.jacfwd(f_j)
        calls[2:] = [jax_call(jax, g, x_j) for g in (rev_j, jax.jit(rev_j), fwd_j,
                                                     jax.jit(fwd_j))]
    labels = ["torch.func.jacrev", "torch.func.jacfwd", "jax.jacrev, eager",
              "jax.jit(jax.jacrev(f))", "jax.jacfwd, eager", "jax.jit(jax.jacfwd(f))"]
    keys = ["t_rev", "t_fwd", "j_rev", "j_rev_jit", "j_fwd", "j_fwd_jit"]
    rows += [Row(k, label, c) for k, label, c in zip(keys, labels, calls)]
    title = f"Jacobian of tanh(W @ x + b) * x, {n} -> {n} (bench_transforms case 3)"
    times = time_rows(bench, title, rows, layer_jacobian(w, b, x), sizes.fresh)
    print_section(title, rows, times, base="j_rev_jit")
    report_targets([Target("jit jacrev vs jax.jit", "ad_rev_jit", "j_rev_jit", 1.0),
                    Target("jit jacfwd vs jax.jit", "ad_fwd_jit", "j_fwd_jit", 1.0)], times,
                   outcomes)


# ------------------------------------------------------------------------------ the MLP


def autodx_jit_step(params, X, Y) -> bench_mlp.Impl:
    """bench_mlp's JAX-face step (value_and_grad, then the SGD update), all under ad.jit."""
    value_and_grad = ad.value_and_grad(bench_mlp.loss)

    @ad.jit
    def sgd(params, X, Y):
        value, grads = value_and_grad(params, X, Y)
        return value, tuple(p - bench_mlp.LR * g for p, g in zip(params, grads))

    state = [params]

    def step():
        value, state[0] = sgd(state[0], X, Y)
        return value

    return bench_mlp.Impl("ad.jit(value_and_grad + SGD update)", step, lambda: state[0])


def mlp_section(bench: Bench, torch, jax, jnp, sizes: Sizes, outcomes: list) -> None:
    params, X, Y = bench_mlp.problem()
    problem64 = (tuple(p.astype(np.float64) for p in params), X.astype(np.float64),
                 Y.astype(np.float64))
    impls = [("ad_jit", autodx_jit_step(params, X, Y)),
             ("np", bench_mlp.sgd_numpy(params, X, Y)),
             ("ad", bench_mlp.autodx_jax_face(params, X, Y)),
             ("t", bench_mlp.torch_impls(torch, params, X, Y)[0]),  # the 1-thread row
             *zip(("j", "j_jit"), bench_mlp.jax_impls(jax, params, X, Y))]
    times, rows = {}, []
    for key, impl in impls:
        rows.append(Row(key, impl.label, impl.step or NA))
        times[key] = NA if impl.step is None else _time_step(bench, impl, problem64, params)
    sizes_ = "-".join(map(str, bench_mlp.SIZES))
    title = f"MLP training step (bench_mlp: {sizes_}, batch {bench_mlp.BATCH}, float32)"
    print_section(title, rows, times, base="np")
    report_targets([Target("jit MLP step vs hand-written NumPy", "ad_jit", "np", 1.0),
                    Target("jit MLP step vs jax.jit", "ad_jit", "j_jit", None)], times,
                   outcomes)


def _time_step(bench: Bench, impl, problem64, params32):
    impl.setup()
    try:
        bench_mlp.check_first_step(impl, problem64, params32)  # also the warm-up
        return bench_transforms.measure(impl.step)
    except Exception as e:  # report every failure, keep benchmarking
        bench.failures.append(f"MLP {impl.label}: {type(e).__name__}: {e}")
        return "error"


# ------------------------------------------------------------------------------ peak memory

MEMORY_CASES = {  # bench_memory's cases, plus the jitted ones (registered in the child)
    "numpy": "hand-written NumPy",
    "autodx value_and_grad": "ad.value_and_grad(f)(x)",
    "autodx jit": "ad.jit(ad.value_and_grad(f))(x)",
    "autodx jit numexpr": 'ad.jit(..., backend="numexpr")(x)',
    "jax.jit first run": "jax.jit(...)(x), first run after AOT compile",
}


def jax_first_run_case(x):
    """jax.jit compiled ahead of time, so that the measured call is its first run.

    NOTE: XLA's CPU allocator keeps the buffers a call frees for the next one, so the RSS rise
    of a warmed-up jax.jit call (bench_memory's "jax.jit") shows 0 to 2 arrays, run to run."""
    jax, xj, f = bench_memory._jax_loss(x)
    compiled = jax.jit(jax.value_and_grad(f)).lower(xj).compile()
    return lambda: jax.block_until_ready(compiled(xj))


def memory_child(name: str, n: int) -> None:
    """Run in a fresh interpreter: bench_memory's measurement of one case, JSON on stdout
    (for JAX: one first run, no warm-up)."""
    if name == "jax.jit first run":
        fn = jax_first_run_case(bench_memory.make_input(n))
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current resident set
        before = bench_memory._status_kb("VmRSS")
        fn()
        rss = (bench_memory._status_kb("VmHWM") - before) * 1024
        print(json.dumps({"rss": rss, "traced": None}))
        return
    bench_memory.CASES["autodx jit"] = autodx_jit_case
    bench_memory.CASES["autodx jit numexpr"] = lambda x: autodx_jit_case(x, "numexpr")
    bench_memory.NUMPY_ONLY = (*bench_memory.NUMPY_ONLY, "autodx jit", "autodx jit numexpr")
    bench_memory.child(name, n)


def peak_memory(name: str, n: int) -> dict:
    """bench_memory.peak_memory, spawning this file (which knows the jitted cases)."""
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(1 << 20))
    proc = subprocess.run([sys.executable, __file__, "--child", name, str(n)], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"the memory subprocess failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def memory_section(bench: Bench, torch, jax, jnp, sizes: Sizes, outcomes: list) -> None:
    n = sizes.memory
    numexpr = autodx_jit_case(bench_memory.make_input(100), "numexpr") != NOT_IMPLEMENTED
    values, table = {}, []
    for name, label in MEMORY_CASES.items():
        if name.startswith("jax") and jax is None:
            mem = {"rss": NA, "traced": None}
        elif name.endswith("numexpr") and not numexpr:
            mem = {"rss": NOT_IMPLEMENTED, "traced": NOT_IMPLEMENTED}
        else:
            try:
                mem = peak_memory(name, n)
            except Exception as e:  # report every failure, keep benchmarking
                bench.failures.append(f"peak memory, {name}: {type(e).__name__}: {e}")
                mem = {"rss": "error", "traced": "error"}
        values[f"{name} rss"] = mem["rss"]
        values[f"{name} traced"] = "-" if mem["traced"] is None else mem["traced"]
        arrays = lambda b: "" if isinstance(b, str) else f" ({b / (8 * n):.1f} arrays)"
        table.append([label, fmt_mb(values[f"{name} traced"])
                      + arrays(values[f"{name} traced"]),
                      fmt_mb(mem["rss"]) + arrays(mem["rss"])])
    print_table(f"Peak memory of one value_and_grad call, n = {n:.0e} float64 (an array: "
                f"{8 * n / 1e6:.0f} MB)", ["implementation", "tracemalloc peak", "RSS rise"],
                table)
    report_targets([Target("eager value_and_grad vs hand-written, tracemalloc",
                           "autodx value_and_grad traced", "numpy traced", 1.0),
                    Target("jit vs hand-written, tracemalloc", "autodx jit traced",
                           "numpy traced", None),
                    Target("jit vs jax.jit, RSS rise", "autodx jit rss", "jax.jit first run rss",
                           1.2)],
                   values, outcomes, fmt=fmt_mb)


# ------------------------------------------------------------------------------ main

LEGEND = """\
Legend:
  time      median per call of {repeat} runs of >= {min_run}s each after an untimed warm-up
            (tracing, codegen, JIT compilation), result checked first; first-call rows: the
            median of {fresh} single calls, each on a fresh function (trace + codegen/compile)
  ratio     autodx's time / the reference's (below 1: autodx is faster); 'us/op' rows: the
            jitted chain's time / {ops} ops; goal: the target; (no target): shown for reference
  memory    child processes (bench_memory): tracemalloc peak over one call (NumPy-allocated
            memory: NumPy and autodx only) and the rise of the resident set's high-water mark
            (VmHWM, glibc mmap threshold 1 MiB) over the resident set before the call, after
            a warm-up; jax.jit: its first run after an AOT compile (XLA keeps freed buffers)
  n/a       library not importable, or the backend not implemented yet; error: raised or
            wrong value (listed below, exit status 1)"""

SECTIONS = (notebook_jit, notebook_eager, chain_section, elementwise_section,
            rosenbrock_section, jacobian_section, mlp_section, memory_section)


def configure(sizes: Sizes) -> None:
    """bench_transforms' measuring, with this mode's repeat counts."""
    bench_transforms.REPEAT, bench_transforms.MIN_RUN_TIME = sizes.repeat, sizes.min_run
    bench_transforms.MIN_REPEAT = min(bench_transforms.MIN_REPEAT, sizes.repeat)
    bench_transforms.CALL_BUDGET = sizes.budget


def print_outcomes(outcomes: list) -> None:
    met = [what for what, status in outcomes if status == "MET"]
    print(f"\nTargets met: {len(met)} of {len(outcomes)}")
    for what, status in outcomes:
        if status != "MET":
            print(f"  {status:<8} {what}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        memory_child(args.child[0], int(args.child[1]))
        return 0
    if "OPENBLAS_NUM_THREADS" not in os.environ:  # NOTE: read when NumPy loads: start again
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        os.execve(sys.executable, [sys.executable, __file__, *sys.argv[1:]], env)
    start = time.perf_counter()
    sizes = QUICK if args.quick else FULL
    configure(sizes)
    torch = load_torch()
    jax, jnp = load_jax()
    bench_transforms.print_environment(torch, jax)
    print(f"# mode: {'--quick' if args.quick else 'full'}; OPENBLAS_NUM_THREADS="
          f"{os.environ['OPENBLAS_NUM_THREADS']} (1 unless given: like the 1-thread PyTorch; "
          f"a multithreaded BLAS on a busy machine swings wildly); load average "
          f"{os.getloadavg()[0]:.1f}; JAX persistent compilation cache: "
          f"{jax.config.jax_compilation_cache_dir if jax else NA}")
    bench, outcomes = Bench(), []
    for section in SECTIONS:
        section(bench, torch, jax, jnp, sizes, outcomes)
    print()
    print(LEGEND.format(repeat=sizes.repeat, min_run=sizes.min_run, fresh=sizes.fresh,
                        ops=CHAIN_OPS))
    print_outcomes(outcomes)
    for skip in bench.skips:
        print(f"  skipped: {skip}")
    return finish(bench, start)


if __name__ == "__main__":
    sys.exit(main())
