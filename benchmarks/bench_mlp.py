"""One training step of an MLP classifier: autodx against PyTorch and JAX, in one run.

    python benchmarks/bench_mlp.py

784-256-256-10, ReLU, max-stabilized log-softmax cross-entropy, a batch of 128, float32: each
step is the forward pass, the backward pass and an SGD update. The loss is written once, in
plain NumPy (`loss` below); autodx runs it unchanged on its Tensors (torch face: `.backward()`,
the update under `ad.no_grad()`) and under `ad.value_and_grad` over the params tuple (JAX face);
JAX runs the same source with `np` bound to `jax.numpy`, eager and under `jax.jit`; PyTorch
runs the same formula in torch. Before timing, every implementation's first step is checked
against a hand-written float64 NumPy backprop: the loss at the initial parameters and the
gradient recovered from the update, to float32 accuracy. Each time is the median of several
runs after a warm-up. PyTorch and JAX are optional: a missing one prints "n/a".
"""

from __future__ import annotations

import os
import platform
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import autodx as ad
from bench_overhead import Bench, finish, print_table

SIZES = (784, 256, 256, 10)
BATCH = 128
LR = 0.01
NA = "n/a"


# ------------------------------------------------------------------------------ the model


def loss(params, X, Y):
    """Mean cross-entropy of the MLP's log-softmax against one-hot labels Y."""
    W1, b1, W2, b2, W3, b3 = params
    h = np.maximum(X @ W1 + b1, 0)
    h = np.maximum(h @ W2 + b2, 0)
    z = h @ W3 + b3
    m = np.max(z, axis=1, keepdims=True)
    logp = z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def torch_loss(torch, params, X, Y):
    """`loss` spelled in torch."""
    W1, b1, W2, b2, W3, b3 = params
    h = torch.relu(X @ W1 + b1)
    h = torch.relu(h @ W2 + b2)
    z = h @ W3 + b3
    m = torch.amax(z, dim=1, keepdim=True)
    logp = z - m - torch.log(torch.sum(torch.exp(z - m), dim=1, keepdim=True))
    return -torch.sum(Y * logp) / X.shape[0]


def with_numpy(fn: Callable, module) -> Callable:
    """`fn`'s very code with the global `np` bound to `module` (jax.numpy)."""
    return types.FunctionType(fn.__code__, {**fn.__globals__, "np": module}, fn.__name__)


def problem(seed: int = 0):
    """He-initialized float32 parameters, a batch of inputs and one-hot labels."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        params.append((rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in)).astype(np.float32))
        params.append((0.01 * rng.standard_normal(n_out)).astype(np.float32))
    X = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    Y = np.eye(SIZES[-1], dtype=np.float32)[rng.integers(0, SIZES[-1], size=BATCH)]
    return tuple(params), X, Y


def backprop(params, X, Y):
    """The loss and its gradient by hand, in whatever dtype the inputs have (the oracle)."""
    W1, b1, W2, b2, W3, b3 = params
    a1 = X @ W1 + b1
    h1 = np.maximum(a1, 0)
    a2 = h1 @ W2 + b2
    h2 = np.maximum(a2, 0)
    z = h2 @ W3 + b3
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    dz = (np.exp(logp) - Y) / X.shape[0]
    dh2 = (dz @ W3.T) * (a2 > 0)
    dh1 = (dh2 @ W2.T) * (a1 > 0)
    grads = (X.T @ dh1, dh1.sum(0), h1.T @ dh2, dh2.sum(0), h2.T @ dz, dz.sum(0))
    return -np.sum(Y * logp) / X.shape[0], grads


# ------------------------------------------------------------------------------ implementations


@dataclass
class Impl:
    """One implementation: `step()` trains one step and returns the loss before it;
    `params()` reads the current parameters as NumPy; `setup()` runs before it is timed."""

    label: str
    step: Callable[[], object] | None
    params: Callable[[], tuple] | None = None
    setup: Callable[[], None] = lambda: None


def sgd_numpy(params, X, Y) -> Impl:
    state = [params]

    def step():
        value, grads = backprop(state[0], X, Y)
        state[0] = tuple(p - LR * g for p, g in zip(state[0], grads))
        return value

    return Impl("NumPy, hand-written backprop", step, lambda: state[0])


def autodx_torch_face(params, X, Y) -> Impl:
    tensors = [ad.tensor(p, requires_grad=True) for p in params]

    def step():
        for t in tensors:
            t.grad = None
        out = loss(tensors, X, Y)
        out.backward()
        with ad.no_grad():
            for t in tensors:
                t -= LR * t.grad
        return out.item()

    return Impl("autodx torch face: .backward()", step,
                lambda: tuple(t.detach().numpy() for t in tensors))


def autodx_jax_face(params, X, Y) -> Impl:
    state = [params]
    value_and_grad = ad.value_and_grad(loss)

    def step():
        value, grads = value_and_grad(state[0], X, Y)
        state[0] = tuple(p - LR * g for p, g in zip(state[0], grads))
        return value

    return Impl("autodx JAX face: ad.value_and_grad", step, lambda: state[0])


def torch_impls(torch, params, X, Y) -> list[Impl]:
    if torch is None:
        return [Impl(f"PyTorch eager, {n} thread(s)", None) for n in ("1", "default")]
    default_threads = torch.get_num_threads()
    Xt, Yt = torch.tensor(X), torch.tensor(Y)

    def impl(label, threads):
        tensors = [torch.tensor(p, requires_grad=True) for p in params]

        def step():
            for t in tensors:
                t.grad = None
            out = torch_loss(torch, tensors, Xt, Yt)
            out.backward()
            with torch.no_grad():
                for t in tensors:
                    t -= LR * t.grad
            return out.item()

        return Impl(label, step, lambda: tuple(t.detach().numpy().copy() for t in tensors),
                    lambda: torch.set_num_threads(threads))

    return [impl("PyTorch eager, 1 thread", 1),
            impl(f"PyTorch eager, default {default_threads} threads", default_threads)]


def jax_impls(jax, params, X, Y) -> list[Impl]:
    if jax is None:
        return [Impl("JAX eager", None), Impl("JAX jit (compiled in warm-up)", None)]
    jnp = jax.numpy
    value_and_grad = jax.value_and_grad(with_numpy(loss, jnp))

    def sgd(params, X, Y):
        value, grads = value_and_grad(params, X, Y)
        return value, tuple(p - LR * g for p, g in zip(params, grads))

    def impl(label, update):
        state = [tuple(jnp.asarray(p) for p in params)]
        Xj, Yj = jnp.asarray(X), jnp.asarray(Y)

        def step():
            value, state[0] = update(state[0], Xj, Yj)
            return float(jax.block_until_ready(value))

        return Impl(label, step, lambda: tuple(np.asarray(p) for p in state[0]))

    return [impl("JAX eager", sgd), impl("JAX jit (compiled in warm-up)", jax.jit(sgd))]


# ------------------------------------------------------------------------------ check and time


def check_first_step(impl: Impl, problem64, params32) -> None:
    """The loss at the initial parameters and the gradient implied by the update, against the
    float64 oracle, to float32 accuracy (the first step also warms the implementation up)."""
    value, grads = backprop(*problem64)
    got = impl.step()
    if not np.isclose(float(got), value, rtol=1e-5):
        raise AssertionError(f"loss {float(got)!r}, expected {value!r}")
    for i, (p0, p1, g) in enumerate(zip(params32, impl.params(), grads)):
        if np.asarray(p1).dtype != np.float32:
            raise AssertionError(f"parameter {i} became {np.asarray(p1).dtype}, not float32")
        implied = (np.float64(p0) - np.float64(p1)) / LR
        if not np.allclose(implied, g, rtol=1e-3, atol=1e-3 * np.abs(g).max()):
            raise AssertionError(f"gradient {i}: max error {np.abs(implied - g).max():.3g}")


def time_impl(bench: Bench, impl: Impl, problem64, params32) -> float | str:
    if impl.step is None:
        return NA
    impl.setup()
    try:
        check_first_step(impl, problem64, params32)
    except Exception as e:  # report every failure, keep benchmarking
        bench.failures.append(f"{impl.label}: {type(e).__name__}: {e}")
        return "error"
    return bench.time(impl.label, impl.step)


def load(name: str):
    try:
        return __import__(name)
    except Exception as e:  # any import failure means "skip it"
        print(f"# {name} not available ({type(e).__name__}: {e}); its rows print {NA}")
        return None


def print_environment(torch, jax) -> None:
    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
    threads = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                          "MKL_NUM_THREADS") if k in os.environ}
    print(f"# Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"autodx {ad.__version__}, numpy {np.__version__}, "
          f"torch {torch.__version__ if torch else NA}, jax {jax.__version__ if jax else NA}")
    print(f"# NumPy's BLAS ({blas.get('name', 'unknown')} {blas.get('version', '')}) uses its own "
          f"default threading here (threadpoolctl not installed; env: {threads or 'unset'}); "
          "autodx's matmuls are NumPy's. XLA picks its own threads.")
    print("# Which PyTorch row is fair: the one whose thread count matches NumPy's BLAS; "
          "both are shown. On a busy machine a multithreaded BLAS swings wildly (load average "
          f"now {os.getloadavg()[0]:.1f}): OPENBLAS_NUM_THREADS=1 and the 1-thread row compare "
          "like with like.")
    print(f"# MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, float32; one step = forward + "
          "backward + SGD update; median of several runs after warm-up")


def main() -> int:
    start = time.perf_counter()
    torch, jax = load("torch"), load("jax")
    print_environment(torch, jax)
    params, X, Y = problem()
    problem64 = (tuple(p.astype(np.float64) for p in params), X.astype(np.float64),
                 Y.astype(np.float64))
    impls = [autodx_torch_face(params, X, Y), autodx_jax_face(params, X, Y),
             sgd_numpy(params, X, Y), *torch_impls(torch, params, X, Y),
             *jax_impls(jax, params, X, Y)]
    bench = Bench()
    times = [time_impl(bench, impl, problem64, params) for impl in impls]
    base = times[0]
    rows = [[impl.label, t if isinstance(t, str) else f"{t * 1e3:.3f}",
             t if isinstance(t, str) else ("-" if isinstance(base, str) else f"{t / base:.2f}x")]
            for impl, t in zip(impls, times)]
    print_table("One MLP training step (ms per step)", ["implementation", "ms/step",
                                                        "/autodx torch face"], rows)
    print("  /autodx torch face: that row's time / the autodx torch-face row's "
          "(below 1: faster than autodx)")
    return finish(bench, start)


if __name__ == "__main__":
    sys.exit(main())
