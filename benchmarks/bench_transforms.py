"""Function transformations of autodx against PyTorch and JAX, in one run.

    python benchmarks/bench_transforms.py

Four cases, each a whole transformation on arrays rather than per-op overhead: the full Hessian
of the n-variable Rosenbrock function (n = 10, 100, 500), a Hessian-vector product of the same
function at n = 100,000, the Jacobian of a 200 -> 200 layer, and per-example gradients of a
small MLP over a batch of 256. Every call's result is first checked against a closed-form NumPy
reference (so every library agrees with autodx), then timed; the median of several runs is
reported. PyTorch and JAX are optional: a competitor that cannot be imported prints "n/a".
See benchmarks/README.md.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import autodx as ad
from bench_overhead import finish, load_jax, load_torch, print_table

anp = ad.numpy

REPEAT = 7  # timed runs per measurement; the median is reported
MIN_RUN_TIME = 0.2  # seconds; each timed run calls the function this long or longer
CALL_BUDGET = 8.0  # seconds; a slow call gets fewer runs (at least MIN_REPEAT) to stay in it
MIN_REPEAT = 3
TOO_SLOW = 20.0  # seconds; a call whose first run takes longer is not timed ("skipped")

HESSIAN_SIZES = (10, 100, 500)
HVP_SIZE = 100_000
JAC_SIZE = 200
MLP_IN, MLP_HIDDEN, BATCH = 10, 32, 256
CHUNK = 64  # chunk_size for the chunked autodx Hessian row

NA = "n/a"  # competitor not importable
ERROR = "error"  # raised, or returned a wrong value (listed at the end; exit status 1)
SKIPPED = "skipped"  # first call slower than TOO_SLOW


# ------------------------------------------------------------------------------ timing


def _run(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - start


def measure(fn: Callable[[], object]) -> float:
    """Median seconds per call of `fn()` (already warmed up): REPEAT runs of `number` calls
    each, `number` chosen so that one run lasts at least MIN_RUN_TIME; calls slower than that
    get fewer runs (never under MIN_REPEAT) so that one measurement stays near CALL_BUDGET."""
    number = 1
    while (elapsed := _run(fn, number)) < MIN_RUN_TIME:
        estimate = int(number * 1.2 * MIN_RUN_TIME / max(elapsed, 1e-9))
        number = min(number * 100, max(number * 2, estimate))
    repeat = max(MIN_REPEAT, min(REPEAT, int(CALL_BUDGET / elapsed)))
    runs = [elapsed / number] + [_run(fn, number) / number for _ in range(repeat - 1)]
    return statistics.median(runs)


def _to_numpy(x) -> np.ndarray:
    if hasattr(x, "block_until_ready"):  # jax arrays
        x.block_until_ready()
    if hasattr(x, "detach"):  # autodx and torch tensors
        x = x.detach()
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)


def _leaves(tree) -> list[np.ndarray]:
    """Leaves in a fixed order: dicts by sorted key, sequences in order."""
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _leaves(tree[key])]
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [_to_numpy(tree)]


def check(got, expected) -> None:
    """Raise unless `got` has the layout of `expected` and is allclose to it, leaf by leaf."""
    got, want = _leaves(got), _leaves(expected)
    if len(got) != len(want):
        raise AssertionError(f"wrong structure: {len(got)} leaves, expected {len(want)}")
    for g, w in zip(got, want):
        if g.shape != w.shape:
            raise AssertionError(f"wrong shape {g.shape}, expected {w.shape}")
        scale = max(1.0, float(np.abs(w).max(initial=0.0)))
        if not np.allclose(g, w, rtol=1e-9, atol=1e-11 * scale):
            worst = float(np.abs(g - w).max())
            raise AssertionError(f"wrong value: max abs error {worst:.3g} (scale {scale:.3g})")


class Bench:
    """Checks and times calls; keeps failures and skips for the report."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.skips: list[str] = []

    def time(self, label: str, fn: Callable[[], object] | str, expected) -> float | str:
        """Seconds per call; NA/"-" passed through; ERROR (recorded) when `fn` raises or is
        wrong; SKIPPED when its first call (warm-up and check) takes over TOO_SLOW seconds."""
        if isinstance(fn, str):
            return fn
        try:
            start = time.perf_counter()
            result = fn()  # warm-up: caches, tracing, JIT compilation; never timed
            first = time.perf_counter() - start
            check(result, expected)
            if first > TOO_SLOW:
                self.skips.append(f"{label}: first call took {first:.1f} s")
                return SKIPPED
            return measure(fn)
        except Exception as e:  # report every failure, keep benchmarking
            self.failures.append(f"{label}: {type(e).__name__}: {e}")
            return ERROR


# ------------------------------------------------------------------------------ tables


@dataclass
class Row:
    """One implementation: a zero-argument call per problem size (or NA)."""

    label: str
    calls: list[Callable[[], object] | str]
    autodx: bool = False  # an autodx row (tagged ad#k)
    baseline: bool = False  # ratios are taken against this autodx row


def _fmt_time(t: float | str) -> str:
    if isinstance(t, str):
        return t
    return f"{t * 1e3:.3f}" if t < 1 else f"{t * 1e3:.0f}"


def _fmt_ratio(t: float | str, base: float | str) -> str:
    if isinstance(t, str) or isinstance(base, str):
        return t if isinstance(t, str) else "-"
    ratio = t / base
    return f"{ratio:.2f}x" if ratio >= 0.01 else f"{ratio:.4f}x"


def run_table(bench: Bench, case: str, title: str, sizes: list[str], rows: list[Row],
              expected: list[object]) -> None:
    """Time every row at every size and print times (ms) and time / autodx-baseline ratios."""
    times, tags, n_ad = [], [], 0
    for row in rows:
        n_ad += row.autodx
        tags.append(f"ad#{n_ad}" if row.autodx else "")
        times.append([bench.time(f"{case}{' ' + size if size else ''}: {row.label}", call, want)
                      for size, call, want in zip(sizes, row.calls, expected)])
    bases = [(tag, t) for row, tag, t in zip(rows, tags, times) if row.baseline]
    header = ["implementation"] + [f"{size} ms" if size else "ms" for size in sizes]
    header += [f"/{tag}" + (f" {size}" if size else "") for tag, _ in bases for size in sizes]
    table = []
    for tag, row, t in zip(tags, rows, times):
        cells = [f"{tag:<4} {row.label}"] + [_fmt_time(x) for x in t]
        cells += [_fmt_ratio(x, b) for _, base in bases for x, b in zip(t, base)]
        table.append(cells)
    print_table(f"{case.capitalize()}: {title}", header, table)


# ------------------------------------------------------------------------------ the problems


def rosenbrock(x):
    """sum(100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2): operators and .sum() only, so one
    definition serves NumPy-traced autodx values, torch tensors and jax arrays."""
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def rosenbrock_hessian_bands(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Rosenbrock Hessian is tridiagonal: (diagonal, off-diagonal), in closed form."""
    diag = np.zeros_like(x)
    diag[:-1] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    diag[1:] += 200
    return diag, -400 * x[:-1]


def rosenbrock_hessian(x: np.ndarray) -> np.ndarray:
    diag, off = rosenbrock_hessian_bands(x)
    return np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)


def rosenbrock_hvp(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    diag, off = rosenbrock_hessian_bands(x)
    out = diag * v
    out[:-1] += off * v[1:]
    out[1:] += off * v[:-1]
    return out


def make_layer(tanh, w, b):
    """f(x) = tanh(W @ x + b) * x, for the library whose `tanh` and arrays are given."""
    return lambda x: tanh(w @ x + b) * x


def layer_jacobian(w, b, x) -> np.ndarray:
    t = np.tanh(w @ x + b)
    return np.diag(t) + ((1 - t**2) * x)[:, None] * w


def make_loss(tanh):
    """Squared loss of a 10 -> 32 -> 1 tanh MLP for one example (x: (10,), y: scalar)."""
    def loss(params, x, y):
        h = tanh(x @ params["w1"] + params["b1"])
        return (h @ params["w2"] + params["b2"] - y) ** 2
    return loss


def per_example_grads(params: dict, xs: np.ndarray, ys: np.ndarray) -> dict:
    """Closed-form per-example gradients of make_loss, batched over the first axis."""
    h = np.tanh(xs @ params["w1"] + params["b1"])
    r2 = 2 * (h @ params["w2"] + params["b2"] - ys)
    dz = r2[:, None] * params["w2"] * (1 - h**2)
    return {"w1": xs[:, :, None] * dz[:, None, :], "b1": dz, "w2": r2[:, None] * h, "b2": r2}


# ------------------------------------------------------------------------------ case 1


def hessian_case(bench: Bench, torch, jax, jnp, rng) -> None:
    xs = [rng.uniform(-2, 2, n) for n in HESSIAN_SIZES]
    expected = [rosenbrock_hessian(x) for x in xs]
    hess, hess_chunked = ad.hessian(rosenbrock), ad.hessian(rosenbrock, chunk_size=CHUNK)
    ad_tensors = [ad.tensor(x) for x in xs]
    rows = [
        Row("ad.hessian(f)", [lambda x=x: hess(x) for x in xs], True, True),
        Row(f"ad.hessian(f, chunk_size={CHUNK})", [lambda x=x: hess_chunked(x) for x in xs],
            True),
        Row("ad.autograd.functional.hessian",
            [lambda x=x: ad.autograd.functional.hessian(rosenbrock, x) for x in ad_tensors],
            True),
    ]
    nas = [NA] * len(xs)
    t_default = t_vectorized = t_func = nas
    if torch is not None:
        ts = [torch.tensor(x) for x in xs]
        functional = torch.autograd.functional.hessian
        t_default = [lambda x=x: functional(rosenbrock, x) for x in ts]
        t_vectorized = [lambda x=x: functional(rosenbrock, x, vectorize=True) for x in ts]
        func_hess = torch.func.hessian(rosenbrock)
        t_func = [lambda x=x: func_hess(x) for x in ts]
    rows += [Row("torch.autograd.functional.hessian", t_default),
             Row("torch.autograd.functional.hessian, vectorize", t_vectorized),
             Row("torch.func.hessian (jacfwd(jacrev))", t_func)]
    j_eager = j_jit = nas
    if jax is not None:
        js = [jnp.asarray(x) for x in xs]
        hess_j = jax.hessian(rosenbrock)
        hess_jit = jax.jit(hess_j)
        j_eager = [lambda x=x: hess_j(x).block_until_ready() for x in js]
        j_jit = [lambda x=x: hess_jit(x).block_until_ready() for x in js]
    rows += [Row("jax.hessian, eager", j_eager), Row("jax.jit(jax.hessian(f))", j_jit)]
    sizes = [f"n={n}" for n in HESSIAN_SIZES]
    run_table(bench, "case 1", "full Hessian of the n-variable Rosenbrock function", sizes, rows,
              expected)


# ------------------------------------------------------------------------------ case 2


def hvp_case(bench: Bench, torch, jax, jnp, rng) -> None:
    x, v = rng.uniform(-2, 2, HVP_SIZE), rng.standard_normal(HVP_SIZE)
    x_ad, v_ad = ad.tensor(x), ad.tensor(v)
    rows = [
        Row("ad.hvp(f, (x,), (v,))", [lambda: ad.hvp(rosenbrock, (x,), (v,))], True, True),
        Row("ad.autograd.functional.hvp",
            [lambda: ad.autograd.functional.hvp(rosenbrock, x_ad, v_ad)[1]], True),
    ]
    t_functional = t_func = NA
    if torch is not None:
        x_t, v_t = torch.tensor(x), torch.tensor(v)
        grad_t = torch.func.grad(rosenbrock)
        t_functional = lambda: torch.autograd.functional.hvp(rosenbrock, x_t, v_t)[1]
        t_func = lambda: torch.func.jvp(grad_t, (x_t,), (v_t,))[1]
    rows += [Row("torch.autograd.functional.hvp", [t_functional]),
             Row("torch.func.jvp(torch.func.grad(f))", [t_func])]
    j_eager = j_jit = NA
    if jax is not None:
        x_j, v_j = jnp.asarray(x), jnp.asarray(v)

        def hvp_j(x, v):
            return jax.jvp(jax.grad(rosenbrock), (x,), (v,))[1]

        hvp_jit = jax.jit(hvp_j)
        j_eager = lambda: hvp_j(x_j, v_j).block_until_ready()
        j_jit = lambda: hvp_jit(x_j, v_j).block_until_ready()
    rows += [Row("jax.jvp(jax.grad(f)), eager", [j_eager]),
             Row("jax.jit(jvp of grad)", [j_jit])]
    run_table(bench, "case 2", f"Hessian-vector product of Rosenbrock, n = {HVP_SIZE:,}", [""],
              rows, [rosenbrock_hvp(x, v)])


# ------------------------------------------------------------------------------ case 3


def jacobian_case(bench: Bench, torch, jax, jnp, rng) -> None:
    n = JAC_SIZE
    w = rng.standard_normal((n, n)) / np.sqrt(n)
    b, x = rng.standard_normal(n), rng.standard_normal(n)
    f_ad = make_layer(anp.tanh, w, b)
    jac_rev, jac_fwd = ad.jacrev(f_ad), ad.jacfwd(f_ad)
    x_ad = ad.tensor(x)
    rows = [
        Row("ad.jacrev(f)", [lambda: jac_rev(x)], True, True),
        Row("ad.jacfwd(f)", [lambda: jac_fwd(x)], True, True),
        Row("ad.autograd.functional.jacobian",
            [lambda: ad.autograd.functional.jacobian(f_ad, x_ad)], True),
    ]
    t_default = t_vectorized = t_rev = t_fwd = NA
    if torch is not None:
        f_t = make_layer(torch.tanh, torch.tensor(w), torch.tensor(b))
        x_t = torch.tensor(x)
        functional = torch.autograd.functional.jacobian
        rev_t, fwd_t = torch.func.jacrev(f_t), torch.func.jacfwd(f_t)
        t_default = lambda: functional(f_t, x_t)
        t_vectorized = lambda: functional(f_t, x_t, vectorize=True)
        t_rev, t_fwd = lambda: rev_t(x_t), lambda: fwd_t(x_t)
    rows += [Row("torch.autograd.functional.jacobian", [t_default]),
             Row("torch.autograd.functional.jacobian, vectorize", [t_vectorized]),
             Row("torch.func.jacrev", [t_rev]), Row("torch.func.jacfwd", [t_fwd])]
    j_rev = j_rev_jit = j_fwd = j_fwd_jit = NA
    if jax is not None:
        f_j = make_layer(jnp.tanh, jnp.asarray(w), jnp.asarray(b))
        x_j = jnp.asarray(x)
        rev_j, fwd_j = jax.jacrev(f_j), jax.jacfwd(f_j)
        rev_jit, fwd_jit = jax.jit(rev_j), jax.jit(fwd_j)
        j_rev = lambda: rev_j(x_j).block_until_ready()
        j_fwd = lambda: fwd_j(x_j).block_until_ready()
        j_rev_jit = lambda: rev_jit(x_j).block_until_ready()
        j_fwd_jit = lambda: fwd_jit(x_j).block_until_ready()
    rows += [Row("jax.jacrev, eager", [j_rev]), Row("jax.jit(jax.jacrev(f))", [j_rev_jit]),
             Row("jax.jacfwd, eager", [j_fwd]), Row("jax.jit(jax.jacfwd(f))", [j_fwd_jit])]
    run_table(bench, "case 3", f"Jacobian of tanh(W @ x + b) * x, {n} -> {n}", [""], rows,
              [layer_jacobian(w, b, x)])


# ------------------------------------------------------------------------------ case 4


def per_example_case(bench: Bench, torch, jax, jnp, rng) -> None:
    params = {"w1": rng.standard_normal((MLP_IN, MLP_HIDDEN)) / np.sqrt(MLP_IN),
              "b1": 0.1 * rng.standard_normal(MLP_HIDDEN),
              "w2": rng.standard_normal(MLP_HIDDEN) / np.sqrt(MLP_HIDDEN),
              "b2": np.array(0.1)}
    xs, ys = rng.standard_normal((BATCH, MLP_IN)), rng.standard_normal(BATCH)
    loss_ad = make_loss(anp.tanh)
    per_example = ad.vmap(ad.grad(loss_ad), in_axes=(None, 0, 0))
    grad_ad = ad.grad(loss_ad)

    def ad_loop():
        grads = [grad_ad(params, x, y) for x, y in zip(xs, ys)]
        return {k: np.stack([g[k] for g in grads]) for k in params}

    rows = [Row("ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))",
                [lambda: per_example(params, xs, ys)], True, True),
            Row("loop of ad.grad(loss), stacked", [ad_loop], True)]
    t_vmap = t_loop = NA
    if torch is not None:
        loss_t = make_loss(torch.tanh)
        params_t = {k: torch.tensor(v) for k, v in params.items()}
        leaves_t = {k: v.clone().requires_grad_(True) for k, v in params_t.items()}
        xs_t, ys_t = torch.tensor(xs), torch.tensor(ys)
        vmapped_t = torch.func.vmap(torch.func.grad(loss_t), in_dims=(None, 0, 0))
        t_vmap = lambda: vmapped_t(params_t, xs_t, ys_t)

        def t_loop():
            grads = [torch.autograd.grad(loss_t(leaves_t, x, y), list(leaves_t.values()))
                     for x, y in zip(xs_t, ys_t)]
            return {k: torch.stack([g[i] for g in grads]) for i, k in enumerate(leaves_t)}

    rows += [Row("torch.func.vmap(torch.func.grad(loss))", [t_vmap]),
             Row("loop of torch.autograd.grad, stacked", [t_loop])]
    j_eager = j_jit = NA
    if jax is not None:
        params_j = {k: jnp.asarray(v) for k, v in params.items()}
        xs_j, ys_j = jnp.asarray(xs), jnp.asarray(ys)
        vmapped_j = jax.vmap(jax.grad(make_loss(jnp.tanh)), in_axes=(None, 0, 0))
        vmapped_jit = jax.jit(vmapped_j)
        j_eager = lambda: jax.block_until_ready(vmapped_j(params_j, xs_j, ys_j))
        j_jit = lambda: jax.block_until_ready(vmapped_jit(params_j, xs_j, ys_j))
    rows += [Row("jax.vmap(jax.grad(loss)), eager", [j_eager]),
             Row("jax.jit(jax.vmap(jax.grad(loss)))", [j_jit])]
    title = (f"per-example gradients, MLP {MLP_IN} -> {MLP_HIDDEN} -> 1 (tanh, squared "
             f"loss), batch {BATCH}")
    run_table(bench, "case 4", title, [""], rows, [per_example_grads(params, xs, ys)])


# ------------------------------------------------------------------------------ main


LEGEND = """\
Legend:
  ms          median milliseconds per call (inputs built once, outside the timed call)
  /ad#k       that row's time / the time of the autodx row tagged ad#k, at the same size
              (> 1: autodx is faster; < 1: the other row is faster)
  n/a         library not importable; error: raised or wrong value (listed below)
  skipped     first call took over {too_slow:.0f} s, so it was not timed (listed below)
  eager       JAX without jit (op by op); jit rows were compiled by the untimed first call
  autodx rows use the JAX face on NumPy arrays (ad.hessian, ad.hvp, ad.jacrev/jacfwd,
  ad.vmap) or the PyTorch face on ad.tensor inputs (ad.autograd.functional.*), which
  mirrors torch.autograd.functional's signatures."""


def print_environment(torch, jax) -> None:
    versions = [f"autodx {ad.__version__}", f"numpy {np.__version__}",
                f"torch {torch.__version__}" if torch else f"torch {NA}",
                f"jax {jax.__version__}" if jax else f"jax {NA}"]
    print(f"# Python {platform.python_version()} on {platform.machine()} "
          f"({platform.processor() or platform.system()}), {os.cpu_count()} CPUs; "
          + ", ".join(versions))
    print(f"# torch threads: {torch.get_num_threads() if torch else NA}; JAX x64: "
          f"{jax.config.jax_enable_x64 if jax else NA}; JAX backend: "
          f"{jax.default_backend() if jax else NA}; everything float64")
    print(f"# each time: median of {REPEAT} runs of >= {MIN_RUN_TIME}s (fewer, at least "
          f"{MIN_REPEAT}, for calls slower than {CALL_BUDGET / REPEAT:.1f}s); every result "
          "checked against a closed-form NumPy reference first")


def main() -> int:
    start = time.perf_counter()
    torch = load_torch()
    jax, jnp = load_jax()
    print_environment(torch, jax)
    bench = Bench()
    rng = np.random.default_rng(0)
    for case in (hessian_case, hvp_case, jacobian_case, per_example_case):
        case(bench, torch, jax, jnp, rng)
    print()
    print(LEGEND.format(too_slow=TOO_SLOW))
    if bench.skips:
        print(f"\nSkipped (too slow: > {TOO_SLOW:.0f} s for one call):")
        for skip in bench.skips:
            print(f"  {skip}")
    return finish(bench, start)


if __name__ == "__main__":
    sys.exit(main())
