"""Time and peak memory of an elementwise gradient: autodx against hand-written NumPy, PyTorch
and JAX, in one run.

    python benchmarks/bench_memory.py            # 1e6 and 1e7 float64 elements
    python benchmarks/bench_memory.py --sizes 1e6

The loss is one representative elementwise chain (unary, binary, fan-in of 3 on x, a
reduction at the end):

    f(x) = sum(sin(x) * exp(-x**2) + tanh(x))
    f'(x) = exp(-x**2) * (cos(x) - 2 x sin(x)) + 1 - tanh(x)**2

Each case computes the value and the gradient. `autodx engine` is reverse.vjp_flat plus one
backward_pass without retain_graph, the engine as a one-shot gradient can run it (the
functional API retains the graph for vjp's reusable pullback).

Time: the median of a few calls (5 at 1e6, 3 at 1e7) after one warm-up call (JIT
compilation, caches), the cases interleaved call by call (the machine's load drifts alike over
all of them), each result checked against the hand-written NumPy one first; wall clock and
CPU time (all of the process's threads: JAX may use several).

Peak memory, each case in a fresh subprocess after its warm-up call, over one call, with the
input already made:
- `rss`: the rise of the resident set's high-water mark (VmHWM, reset through
  /proc/self/clear_refs) over the resident set before the call, with glibc told to mmap every
  allocation over 1 MiB (MALLOC_MMAP_THRESHOLD_), so that a freed array leaves the resident
  set at once and the figure is the peak of live memory, for every library alike. NOTE:
  XLA keeps buffers it has freed for reuse, so jax.jit's figure can be below even the size of
  its output;
- `traced`: tracemalloc's peak over the call (NumPy reports its allocations to it, PyTorch and
  JAX do not: NumPy and autodx only).
Both are given in MB and in arrays of the input's size (n * 8 bytes); the gradient returned is
one of them. Ratios are against hand-written NumPy. PyTorch runs with torch.set_num_threads(1),
JAX with jax_enable_x64 and every result waited for with block_until_ready.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

SEED = 0
REPEAT = {10**6: 5, 10**7: 3}  # timed calls per case; the median is reported
NUMPY_ONLY = ("numpy", "autodx value_and_grad", "autodx engine", "autodx tape")


def make_input(n: int) -> np.ndarray:
    return np.random.default_rng(SEED).standard_normal(n)


# ------------------------------------------------------------------------------ the cases
# Each factory takes the input and returns a call that computes (value, gradient).

def numpy_case(x):
    """Hand-written, as a careful user would: four arrays of x's size, reused with out=."""
    def value_and_grad():
        s = np.sin(x)
        e = np.multiply(x, x)
        np.negative(e, out=e)
        np.exp(e, out=e)                  # e = exp(-x^2)
        t = np.tanh(x)
        buf = np.multiply(s, e)
        buf += t
        value = buf.sum()
        np.cos(x, out=buf)                # buf = cos x
        s *= x
        s *= 2.0
        buf -= s                          # cos x - 2 x sin x
        buf *= e
        t *= t
        buf -= t
        buf += 1.0                        # ... + 1 - tanh^2
        return value, buf

    return value_and_grad


def _autodx_loss():
    import autodx as ad

    anp = ad.numpy
    return ad, lambda x: anp.sum(anp.sin(x) * anp.exp(-x**2) + anp.tanh(x))


def autodx_vg_case(x):
    ad, f = _autodx_loss()
    return lambda: ad.value_and_grad(f)(x)


def autodx_engine_case(x):
    """vjp_flat + backward_pass without retain_graph: the engine as value_and_grad would run
    it if it freed the graph as it goes (it retains it, as vjp's pullback must)."""
    from autodx.reverse import backward_pass, vjp_flat

    _, f = _autodx_loss()

    def value_and_grad():
        (out,), nodes, _, leaves = vjp_flat(f, [x])
        (g,) = backward_pass(nodes, [np.ones_like(out)], retain_graph=False, capture=leaves)
        return out, g

    return value_and_grad


def autodx_tape_case(x):
    ad, f = _autodx_loss()
    xt = ad.tensor(x, requires_grad=True)

    def value_and_grad():
        xt.grad = None
        y = f(xt)
        y.backward()
        return y.detach().numpy(), xt.grad.numpy()

    return value_and_grad


def torch_case(x):
    import torch

    torch.set_num_threads(1)
    xt = torch.from_numpy(x).requires_grad_()

    def value_and_grad():
        xt.grad = None
        y = (torch.sin(xt) * torch.exp(-xt**2) + torch.tanh(xt)).sum()
        y.backward()
        return y.item(), xt.grad

    return value_and_grad


def _jax_loss(x):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return jax, jnp.asarray(x), lambda x: jnp.sum(jnp.sin(x) * jnp.exp(-x**2) + jnp.tanh(x))


def _blocked(fn, x):
    def call():
        value, g = fn(x)
        return value.block_until_ready(), g.block_until_ready()

    return call


def jax_eager_case(x):
    jax, xj, f = _jax_loss(x)
    return _blocked(jax.value_and_grad(f), xj)


def jax_jit_case(x):
    jax, xj, f = _jax_loss(x)
    return _blocked(jax.jit(jax.value_and_grad(f)), xj)


CASES = {
    "numpy": numpy_case,
    "autodx value_and_grad": autodx_vg_case,
    "autodx engine": autodx_engine_case,
    "autodx tape": autodx_tape_case,
    "torch eager": torch_case,
    "jax eager": jax_eager_case,
    "jax.jit": jax_jit_case,
}


# ------------------------------------------------------------------------------ measuring

def _as_numpy(v) -> np.ndarray:
    v = v.detach() if hasattr(v, "detach") else v
    return np.asarray(v.numpy() if hasattr(v, "numpy") else v, dtype=np.float64)


def check(name: str, result, want) -> None:
    for got, ref, what in zip(result, want, ("value", "gradient")):
        if not np.allclose(_as_numpy(got), ref, rtol=1e-9, atol=1e-9):
            raise AssertionError(f"{name}: wrong {what}")


def time_cases(fns: dict, repeat: int) -> dict:
    """(wall, cpu): median seconds per call of each case, the cases interleaved call by call,
    so that a change in the machine's load hits them alike (the first call of each, the
    warm-up, is not timed). cpu is the process's CPU time (all its threads, page faults
    included), less disturbed than the wall clock on a busy machine."""
    runs: dict = {name: [] for name in fns}
    for fn in fns.values():
        fn()
    for _ in range(repeat):
        for name, fn in fns.items():
            start, cpu = time.perf_counter(), time.process_time()
            fn()
            runs[name].append((time.perf_counter() - start, time.process_time() - cpu))
    return {name: tuple(statistics.median(t) for t in zip(*r)) for name, r in runs.items()}


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(name: str, n: int) -> None:
    """Measure one case's peak memory (run in a fresh interpreter); print it as JSON."""
    fn = CASES[name](make_input(n))
    fn()  # warm-up
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current resident set
    before = _status_kb("VmRSS")
    result = fn()
    rss = (_status_kb("VmHWM") - before) * 1024
    del result
    traced = None
    if name in NUMPY_ONLY:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        traced = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    print(json.dumps({"rss": rss, "traced": traced}))


def peak_memory(name: str, n: int) -> dict:
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(1 << 20))
    proc = subprocess.run([sys.executable, __file__, "--child", name, str(n)], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"{name}: the memory subprocess failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ report

def _mem(b, array_bytes: int) -> str:
    return "-" if b is None else f"{b / 1e6:7.1f} MB {b / array_bytes:4.1f}a"


def _ratio(a, b) -> str:
    return "-" if a is None or not b else f"{a / b:5.2f}x"


def run_size(n: int, cases: list[str]) -> list[str]:
    x = make_input(n)
    want = numpy_case(x)()
    array_bytes = n * 8
    fns, failures = {}, []
    for name in cases:
        try:
            fn = CASES[name](x)
            check(name, fn(), want)
            fns[name] = fn
        except Exception as e:  # report every failure, keep benchmarking
            failures.append(f"n={n:.0e} {name}: {type(e).__name__}: {e}")
    seconds = time_cases(fns, REPEAT.get(n, 3))
    fns.clear()
    rows = {}
    for name in seconds:
        try:
            rows[name] = (seconds[name], peak_memory(name, n))
        except Exception as e:
            failures.append(f"n={n:.0e} {name}: {type(e).__name__}: {e}")
    base = rows.get("numpy")
    print(f"\nn = {n:.0e} float64 ({array_bytes / 1e6:.0f} MB an array, 'a')")
    print(f"{'case':24}{'wall ms':>9}{'/numpy':>8}{'cpu ms':>9}{'/numpy':>8}  "
          f"{'peak rss':>16}{'/numpy':>8}  {'peak traced':>16}{'/numpy':>8}")
    for name, ((wall, cpu), mem) in rows.items():
        (b_wall, b_cpu), b_mem = base if base else ((None, None), {"rss": None, "traced": None})
        print(f"{name:24}{wall * 1e3:9.1f}{_ratio(wall, b_wall):>8}{cpu * 1e3:9.1f}"
              f"{_ratio(cpu, b_cpu):>8}  {_mem(mem['rss'], array_bytes):>16}"
              f"{_ratio(mem['rss'], b_mem['rss']):>8}  {_mem(mem['traced'], array_bytes):>16}"
              f"{_ratio(mem['traced'], b_mem['traced']):>8}")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1e6,1e7", help="comma-separated element counts")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    print("f(x) = sum(sin(x) * exp(-x**2) + tanh(x)), value and gradient")
    failures = []
    for size in args.sizes.split(","):
        failures += run_size(int(float(size)), args.cases.split(","))
    for failure in failures:
        print("error:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
