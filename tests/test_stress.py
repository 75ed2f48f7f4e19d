"""Stress and soak (issue 7, point 3), bounded for CI: 8 threads differentiating at once with
both faces, identical to the serial run; 100,000 repeated grad/backward calls with flat memory
and no reference cycles; million-op graphs in both faces and a 100,000-op graph under
grad(grad(...)); an exception or KeyboardInterrupt in the middle of a transform, a hook or a
custom rule leaves autodx usable. All of it runs in well under 5 minutes on 2 cores."""

from __future__ import annotations

import gc
import math
import os
import sys
import threading
import tracemalloc
import weakref
from collections import Counter
from contextlib import contextmanager

import numpy as np
import pytest

import autodx as ad
from autodx import core
from gc_checks import cyclic_gc_off

anp = ad.numpy
pytestmark = pytest.mark.stress



# ----------------------------------------------------------------------------- helpers

@pytest.fixture(autouse=True)
def _isolated():
    """A test that leaves a transformation on the stack or grad mode off fails by itself
    (it asserts so); this keeps the tests after it from failing for the same reason."""
    yield
    core._stack.mains.clear()
    ad.set_grad_enabled(True)


def _referrers(obj) -> list[str]:
    """What holds `obj`, two levels up (for failure messages)."""
    return [f"{type(r).__qualname__} held by "
            f"{[type(rr).__qualname__ for rr in gc.get_referrers(r) if rr is not obj]}"
            for r in gc.get_referrers(obj)]


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def _unraisable_reports():
    """Collect what CPython could not raise (e.g. an error while deallocating a graph)."""
    reports, old = [], sys.unraisablehook
    sys.unraisablehook = lambda report: reports.append(f"{report.exc_type.__name__}: "
                                                       f"{report.exc_value}")
    try:
        yield reports
    finally:
        sys.unraisablehook = old


def _assert_usable(grad_enabled: bool = True) -> None:
    """No transformation left on the stack, grad mode as before, and every face still right."""
    assert core._stack.mains == [], f"trace stack not clean: {core._stack.mains}"
    assert ad.is_grad_enabled() is grad_enabled
    assert ad.grad(lambda x: x * x * x)(2.0) == 12.0
    assert ad.jvp(lambda x: x * x * x, (2.0,), (1.0,)) == (8.0, 12.0)
    np.testing.assert_array_equal(ad.vmap(ad.grad(lambda x: x * x * x))(np.array([1.0, 2.0])),
                                  [3.0, 12.0])
    np.testing.assert_array_equal(ad.hessian(lambda x: anp.sum(x * x * x))(np.array([1.0, 2.0])),
                                  [[6.0, 0.0], [0.0, 12.0]])
    with ad.enable_grad():
        x = ad.tensor(2.0, requires_grad=True)
        (x * x * x).backward()
        assert x.grad.item() == 12.0
        y = ad.tensor([1.0, 2.0], requires_grad=True)
        (g,) = ad.autograd.grad(anp.sum(y * y * y), y, create_graph=True)
        anp.sum(g).backward()
        np.testing.assert_array_equal(y.grad.numpy(), [6.0, 12.0])
    assert core._stack.mains == []
    assert ad.is_grad_enabled() is grad_enabled


# ----------------------------------------------------------------------------- threads
# Each thread runs the same program on its own data, waiting at a barrier inside traced
# functions, inside grad-mode blocks and between forward and backward, so the threads' trace
# stacks, grad modes and graphs are all live at once.

N_THREADS, N_ITERS = 8, 100


def _scalar_fn(W, sync):
    def f(z):  # sum(tanh(W z) * z) + sum(sin(z)**2)
        sync()
        return anp.sum(anp.tanh(W @ z) * z) + anp.sum(anp.sin(z) ** 2)
    return f


def _vector_fn(W, sync):
    def g(z):  # exp(W z) * cos(z)
        sync()
        return anp.exp(W @ z) * anp.cos(z)
    return g


def _f_grad(W, z):
    t = np.tanh(W @ z)
    return W.T @ ((1 - t * t) * z) + t + np.sin(2 * z)


def _f_hessian(W, z):
    t = np.tanh(W @ z)
    s = 1 - t * t
    sW = s[:, None] * W
    return W.T @ ((-2 * t * s * z)[:, None] * W) + sW + sW.T + np.diag(2 * np.cos(2 * z))


def _g_jacobian(W, z):
    e = np.exp(W @ z)
    return (e * np.cos(z))[:, None] * W - np.diag(e * np.sin(z))


def _tape_grad_and_hessian(W, x):
    """loss = sum(tanh(W x) * (x**2 + 1)) + sum(sin(x)**2): gradient and Hessian."""
    t = np.tanh(W @ x)
    s, q = 1 - t * t, x * x + 1
    d = (2 * x * s)[:, None] * W
    grad = W.T @ (s * q) + 2 * t * x + np.sin(2 * x)
    hess = W.T @ ((-2 * t * s * q)[:, None] * W) + d + d.T + np.diag(2 * t + 2 * np.cos(2 * x))
    return grad, hess


def _functional(W, sync, x, v, X) -> list:
    """Every functional transform once; each calls the traced function exactly once."""
    f, g = _scalar_fn(W, sync), _vector_fn(W, sync)
    value, gx = ad.value_and_grad(f)(x)
    jvp_out, jvp_t = ad.jvp(g, (x,), (v,))
    vjp_out, pullback = ad.vjp(g, x)
    out = [ad.grad(f)(x), value, gx, ad.jacrev(g)(x), ad.jacfwd(g)(x), ad.hessian(f)(x),
           jvp_out, jvp_t, vjp_out, pullback(v)[0], ad.vmap(ad.grad(f))(X), ad.vmap(g)(X)]
    grad, jac, hess = _f_grad(W, x), _g_jacobian(W, x), _f_hessian(W, x)
    for got, want in zip(out, [grad, None, grad, jac, jac, hess, None, jac @ v, None, v @ jac,
                               np.stack([_f_grad(W, r) for r in X]), None]):
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    return out


def _tape(W, sync, x, v) -> list:
    """The torch face: in-place ops on non-leaves, a hook, retain_grad, backward, and a
    double backward through autograd.grad(create_graph=True)."""
    xt = ad.tensor(x, requires_grad=True)
    h = anp.tanh(W @ xt)
    h.retain_grad()
    q = xt * 1.0
    q *= xt  # in place on a non-leaf (see test_in_place_operations_in_threads)
    q += 1.0
    seen = []
    xt.register_hook(lambda g: seen.append(g.detach().numpy()))
    sync()
    loss = anp.sum(h * q) + anp.sum(anp.sin(xt) ** 2)
    loss.backward(retain_graph=True)
    out = [loss.detach().numpy(), xt.grad.numpy(), seen[0], h.grad.numpy()]
    sync()
    (gx,) = ad.autograd.grad(loss, xt, create_graph=True)
    (hv,) = ad.autograd.grad(anp.sum(gx * ad.tensor(v)), xt)
    out += [gx.detach().numpy(), hv.numpy()]
    grad, hess = _tape_grad_and_hessian(W, x)
    for got, want in zip(out[1:], [grad, grad, x * x + 1, grad, hess @ v]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    return out


def _thread_work(seed: int, iters: int, sync) -> list:
    """One thread's share. Grad mode is off in every other iteration (per thread: the threads
    disagree at every moment); the JAX face must not care, the tape must."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((3, 3)) / 2
    results = []
    for k in range(iters):
        x, v = rng.standard_normal((2, 3))
        X = rng.standard_normal((4, 3))
        on = (seed + k) % 2 == 0
        with ad.enable_grad() if on else ad.no_grad():
            sync()
            results += _functional(W, sync, x, v, X)
            assert ad.is_grad_enabled() is on
            assert (ad.tensor(x, requires_grad=True) * 2.0).requires_grad is on
            with ad.enable_grad():
                results += _tape(W, sync, x, v)
            assert ad.is_grad_enabled() is on
        assert core._stack.mains == []
    return results


def _run_threads(work, iters: int) -> list:
    """`work(i, iters, sync)` in N_THREADS threads at once; sync() waits for all of them.
    Re-raises the first error of any thread (the others are released from the barrier)."""
    barrier = threading.Barrier(N_THREADS, timeout=120)
    results, errors = [None] * N_THREADS, []

    def run(i):
        try:
            results[i] = work(i, iters, barrier.wait)
        except BaseException as e:  # noqa: B036 - re-raised below
            errors.append(e)
            barrier.abort()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: inside ops, not only at the barrier
    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(N_THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    if errors:
        real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
        raise (real or errors)[0]
    assert core._stack.mains == [] and ad.is_grad_enabled()
    return results


def test_threads_differentiate_concurrently_as_serially():
    results = _run_threads(_thread_work, N_ITERS)
    for i in range(N_THREADS):
        serial = _thread_work(i, N_ITERS, lambda: None)
        assert len(results[i]) == len(serial) == N_ITERS * 18
        for j, (got, want) in enumerate(zip(results[i], serial)):
            assert np.array_equal(got, want), f"thread {i}, result {j}: {got} != {want}"


def _inplace_work(seed: int, iters: int, sync) -> list:
    """In-place operations on non-leaves while the other threads do theirs: the clock that
    tells a node whether its inputs were modified after it saved them is shared."""
    out = []
    x = ad.tensor(np.array([0.5, 1.0, 1.5]) + seed, requires_grad=True)
    for _ in range(iters):
        sync()
        q = x * 1.0
        q *= x
        q += 1.0
        q *= 2.0
        anp.sum(q * x).backward()  # d/dx sum(2 (x**2 + 1) x) = 6 x**2 + 2
        out.append(x.grad.numpy())
        x.grad = None
    want = 6 * x.detach().numpy() ** 2 + 2
    for got in out:
        np.testing.assert_allclose(got, want, rtol=1e-15)
    return out


def test_in_place_operations_in_threads():
    results = _run_threads(_inplace_work, 300)
    for i in range(N_THREADS):
        assert np.array_equal(results[i], _inplace_work(i, 300, lambda: None))


def _levels_work(seed: int, iters: int, sync) -> list:
    """Half the threads close a transformation while the other half sit between opening an
    outer one and an inner one; with one stack shared by the threads, the inner would get a
    lower level than the outer and d/dx [x * d/dy (x * y)] would come out 0 instead of 2x."""
    out = []
    for k in range(iters):
        x = seed + k / 8
        sync()  # (1)
        if (seed + k) % 2:
            def outer(x):
                sync()  # (2): every transformation of this round is open
                sync()  # (3): the single ones have closed
                return x * ad.grad(lambda y: (sync(), x * y)[1])(1.0)  # (4) inside the inner
            out.append(ad.grad(outer)(x))
        else:
            out.append(ad.grad(lambda y: (sync(), y * y)[1])(x))  # (2)
            sync()  # (3)
            sync()  # (4)
        assert out[-1] == 2 * x and core._stack.mains == [], (out[-1], x)
    return out


def test_nested_transform_levels_are_per_thread():
    results = _run_threads(_levels_work, 40)
    for i in range(N_THREADS):
        assert results[i] == _levels_work(i, 40, lambda: None)


def test_grad_mode_is_per_thread():
    """A thread in no_grad does not switch recording off for another one, and vice versa."""
    inside, go, report = threading.Event(), threading.Event(), {}

    def other():
        with ad.no_grad():
            inside.set()
            go.wait(10)
            report["other"] = ad.is_grad_enabled()
        report["other after"] = ad.is_grad_enabled()

    t = threading.Thread(target=other)
    t.start()
    inside.wait(10)
    x = ad.tensor(3.0, requires_grad=True)
    y = x * x  # recorded here while the other thread is inside no_grad
    go.set()
    t.join()
    y.backward()
    assert x.grad.item() == 6.0
    assert report == {"other": False, "other after": True}


# ----------------------------------------------------------------------------- soak

N_SOAK, WARM_UP = 100_000, 2_000
MAX_TRACED_GROWTH, MAX_RSS_GROWTH = 1 << 20, 16 << 20


def _soak(step, n: int) -> tuple[int, int, Counter]:
    """Run `step` n times (after a warm-up) with the cyclic GC off.
    -> (tracemalloc growth, RSS growth, autodx-made objects left in reference cycles)."""
    for _ in range(WARM_UP):  # caches, free lists, the interpreter's specializations
        step()
    tracing = tracemalloc.is_tracing()
    with cyclic_gc_off() as cycles:
        if not tracing:
            tracemalloc.start()
        try:
            for _ in range(WARM_UP):
                step()
            traced, rss = tracemalloc.get_traced_memory()[0], _rss_bytes()
            for _ in range(n):
                step()
            traced = tracemalloc.get_traced_memory()[0] - traced
            rss = _rss_bytes() - rss
        finally:
            if not tracing:
                tracemalloc.stop()
    return traced, rss, cycles


def _assert_flat(traced: int, rss: int, cycles: Counter, what: str) -> None:
    assert not cycles, (f"{what}: reference cycles left for the garbage collector "
                        f"(autodx objects by type): {dict(cycles)}")
    assert traced < MAX_TRACED_GROWTH, f"{what}: tracemalloc grew by {traced} bytes"
    assert rss < MAX_RSS_GROWTH, f"{what}: RSS grew by {rss} bytes"


def test_soak_repeated_grad_calls():
    df = ad.grad(lambda x: x * x + 3.0 * x)
    total = [0.0, 0]

    def step():
        total[0] += df(2.0)
        total[1] += 1

    traced, rss, cycles = _soak(step, N_SOAK)
    assert total == [7.0 * (N_SOAK + 2 * WARM_UP), N_SOAK + 2 * WARM_UP]
    _assert_flat(traced, rss, cycles, f"{N_SOAK} calls of ad.grad(f)(x)")


def test_soak_repeated_backward_calls():
    x = ad.tensor(2.0, requires_grad=True)
    calls = [0]

    def step():
        (x * x + 3.0 * x).backward()
        calls[0] += 1

    traced, rss, cycles = _soak(step, N_SOAK)
    assert x.grad.item() == 7.0 * calls[0] and calls[0] == N_SOAK + 2 * WARM_UP
    _assert_flat(traced, rss, cycles, f"{N_SOAK} calls of .backward()")


# Every kind of call, a few times each, must leave nothing for the cyclic GC either.
def _custom_vjp_square():
    @ad.custom_vjp
    def square(x):
        return x * x

    square.defvjp(lambda x: (x * x, x), lambda x, g: (2.0 * x * g,))
    return square


def _custom_jvp_square():
    @ad.custom_jvp
    def square(x):
        return x * x

    square.defjvp(lambda primals, tangents: (primals[0] ** 2, 2.0 * primals[0] * tangents[0]))
    return square


def _tape_call(kind: str):
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    h = anp.sin(x) * x
    if kind == "hook":
        h.register_hook(lambda g: g * 2.0)
    if kind == "retain_grad":
        h.retain_grad()
    loss = anp.sum(h * h)
    if kind == "create_graph":
        (g,) = ad.autograd.grad(loss, x, create_graph=True)
        anp.sum(g).backward()
        return x.grad.numpy()
    loss.backward()
    return x.grad.numpy()


X2 = np.array([0.5, 1.5])
CALLS = {
    "grad": lambda: ad.grad(lambda x: anp.sum(anp.sin(x) * x))(X2),
    "value_and_grad": lambda: ad.value_and_grad(lambda x: anp.sum(x * x))(X2)[1],
    "vjp": lambda: ad.vjp(lambda x: anp.sin(x) * x, X2)[1](np.ones(2))[0],
    "jvp": lambda: ad.jvp(lambda x: anp.sin(x) * x, (X2,), (np.ones(2),))[1],
    "linearize": lambda: ad.linearize(lambda x: anp.sin(x) * x, X2)[1](np.ones(2)),
    "vmap": lambda: ad.vmap(lambda x: anp.sin(x) * x)(X2),
    "jacrev": lambda: ad.jacrev(lambda x: anp.sin(x) * x)(X2),
    "jacfwd": lambda: ad.jacfwd(lambda x: anp.sin(x) * x)(X2),
    "hessian": lambda: ad.hessian(lambda x: anp.sum(x ** 3))(X2),
    "grad_of_grad": lambda: ad.grad(ad.grad(lambda x: x ** 3))(1.5),
    "vmap_of_grad": lambda: ad.vmap(ad.grad(lambda x: x ** 3))(X2),
    "custom_vjp": lambda: ad.grad(lambda x: anp.sum(_custom_vjp_square()(x)))(X2),
    "custom_jvp": lambda: ad.grad(lambda x: anp.sum(_custom_jvp_square()(x)))(X2),
    "checkpoint": lambda: ad.grad(lambda x: anp.sum(ad.checkpoint(anp.sin)(x)))(X2),
    "backward": lambda: _tape_call("plain"),
    "backward_hook": lambda: _tape_call("hook"),
    "backward_retain_grad": lambda: _tape_call("retain_grad"),
    "autograd_grad_create_graph": lambda: _tape_call("create_graph"),
}


@pytest.mark.parametrize("kind", list(CALLS))
def test_no_reference_cycles_left(kind):
    want = CALLS[kind]()  # also imports and fills caches
    with cyclic_gc_off() as cycles:
        for _ in range(3):
            np.testing.assert_array_equal(CALLS[kind](), want)
    assert not cycles, f"{kind}: autodx objects left in reference cycles: {dict(cycles)}"


def test_retain_grad_does_not_keep_the_intermediate_alive():
    """PyTorch's test_retain_grad_cycle: with the cyclic GC off, an intermediate on which
    retain_grad() was called is freed as soon as the user drops it (its graph lives on)."""
    x = ad.tensor(np.ones((5, 5)), requires_grad=True)

    def run():
        y = x * 2.0
        y.retain_grad()
        return y / 2.0, weakref.ref(y)

    with cyclic_gc_off() as cycles:
        z, ref = run()
        assert ref() is None, ("the dropped intermediate is still referenced by "
                               f"{_referrers(ref())}")
        z.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.ones((5, 5)))
        del z
    assert not cycles, f"autodx objects left in reference cycles: {dict(cycles)}"


def test_retained_grad_reaches_a_live_intermediate_without_cycles():
    x = ad.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    with cyclic_gc_off() as cycles:
        y = x * 2.0
        y.retain_grad()
        (anp.sum(y * y)).backward()
        np.testing.assert_array_equal(y.grad.numpy(), [4.0, 8.0, 12.0])
        np.testing.assert_array_equal(x.grad.numpy(), [8.0, 16.0, 24.0])
        ref = weakref.ref(y)
        del y
        assert ref() is None
    assert not cycles, f"autodx objects left in reference cycles: {dict(cycles)}"


# ----------------------------------------------------------------------------- deep graphs

N_DEEP, N_DEEP2 = 1_000_000, 100_000
C, D = 1.0000002, 1e-7  # y -> y * C + D, N_DEEP / 2 times: y = C**n x + D (C**n - 1) / (C - 1)


def _affine_chain(y):
    for _ in range(N_DEEP // 2):
        y = y * C
        y = y + D
    return y


def _affine_chain_value(x: float) -> float:
    n = N_DEEP // 2
    return C ** n * x + D * (C ** n - 1) / (C - 1)


def test_million_op_chain_tape_backward_and_teardown():
    x = ad.tensor(0.5, requires_grad=True)
    with _unraisable_reports() as reports:
        y = _affine_chain(x)
        assert math.isclose(y.item(), _affine_chain_value(0.5), rel_tol=1e-9)
        y.backward(retain_graph=True)  # keep the whole graph, to tear it down below
        assert math.isclose(x.grad.item(), C ** (N_DEEP // 2), rel_tol=1e-9)
        ref = weakref.ref(y.grad_fn)
        del y  # a million nodes, each holding the next: freeing them must not recurse
        assert ref() is None
    assert reports == []
    assert core._stack.mains == []


def test_million_op_chain_functional_grad():
    with _unraisable_reports() as reports:
        value, g = ad.value_and_grad(_affine_chain)(0.5)
    assert math.isclose(value, _affine_chain_value(0.5), rel_tol=1e-9)
    assert math.isclose(g, C ** (N_DEEP // 2), rel_tol=1e-9)
    assert reports == []
    assert core._stack.mains == []


def test_hundred_thousand_op_chain_second_derivative():
    p = N_DEEP2 + 1  # x * x * ... * x: a chain of N_DEEP2 products, x**p

    def f(x):
        y = x
        for _ in range(N_DEEP2):
            y = y * x
        return y

    x = 1.0 + 1e-5
    with _unraisable_reports() as reports:
        d1 = ad.grad(f)(x)
        d2 = ad.grad(ad.grad(f))(x)
    assert math.isclose(d1, p * x ** (p - 1), rel_tol=1e-8)
    assert math.isclose(d2, p * (p - 1) * x ** (p - 2), rel_tol=1e-8)
    assert reports == []
    assert core._stack.mains == []


# ----------------------------------------------------------------------------- interrupts

class Boom(Exception):
    """Raised by user code."""


def _raising(exc: type[BaseException], kept: list):
    """A function that computes a little, keeps a traced value, then raises."""
    def f(x):
        y = anp.sin(x) * x
        kept.append(y)
        raise exc("from user code")
    return f


X3 = np.array([0.5, 1.0, 1.5])
TRANSFORMS = {
    "grad": lambda f: ad.grad(lambda x: anp.sum(f(x)))(X3),
    "vjp": lambda f: ad.vjp(f, X3),
    "jvp": lambda f: ad.jvp(f, (X3,), (np.ones(3),)),
    "vmap": lambda f: ad.vmap(f)(X3),
    "jacrev": lambda f: ad.jacrev(f)(X3),
    "jacfwd": lambda f: ad.jacfwd(f)(X3),
    "hessian": lambda f: ad.hessian(lambda x: anp.sum(f(x)))(X3),
    # nested: the exception leaves from the innermost of several live transformations
    "grad_of_vmap": lambda f: ad.grad(lambda x: anp.sum(ad.vmap(f)(x)))(X3),
    "vmap_of_grad": lambda f: ad.vmap(ad.grad(f))(X3),
    "jvp_of_grad": lambda f: ad.jvp(ad.grad(f), (1.5,), (1.0,)),
    "grad_of_jvp_inside": lambda f: ad.grad(
        lambda x: x * ad.jvp(f, (x,), (1.0,))[1])(1.5),
    "vmap_of_jacfwd_of_grad": lambda f: ad.vmap(ad.jacfwd(ad.grad(lambda x: anp.sum(f(x)))))(
        np.ones((2, 3))),
    "torch_functional_jacobian": lambda f: ad.autograd.functional.jacobian(
        f, ad.tensor(X3)),
}


@pytest.mark.parametrize("grad_enabled", [True, False], ids=["grad_mode", "no_grad"])
@pytest.mark.parametrize("exc", [Boom, KeyboardInterrupt])
@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_exception_mid_transform_leaves_autodx_usable(transform, exc, grad_enabled):
    kept = []
    with ad.set_grad_enabled(grad_enabled):
        with pytest.raises(exc, match="from user code"):
            TRANSFORMS[transform](_raising(exc, kept))
        assert kept, "the function never ran"
        if isinstance(kept[0], core.Tracer) and not isinstance(kept[0], ad.Tensor):
            with pytest.raises(ad.EscapedTracerError):  # its transformation was closed
                kept[0] * 2.0
        _assert_usable(grad_enabled)
    _assert_usable(True)


def _hooked_graph(hook_on: str, hook):
    """loss = sum((sin(x) * x)**2) with `hook` on the intermediate or on the leaf."""
    x = ad.tensor(X3, requires_grad=True)
    h = anp.sin(x) * x
    (h if hook_on == "intermediate" else x).register_hook(hook)
    return x, anp.sum(h * h)


def _loss_grad(x):
    h = np.sin(x) * x
    return 2 * h * (np.cos(x) * x + np.sin(x))


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("hook_on", ["intermediate", "leaf"])
@pytest.mark.parametrize("exc", [Boom, KeyboardInterrupt])
def test_exception_in_hook_mid_backward(exc, hook_on, create_graph):
    def hook(g):
        raise exc("from user code")

    for grad_enabled in (True, False):  # create_graph switches grad mode on during backward
        x, loss = _hooked_graph(hook_on, hook)
        with ad.set_grad_enabled(grad_enabled):
            with pytest.raises(exc, match="from user code"):
                loss.backward(create_graph=create_graph)
            _assert_usable(grad_enabled)
        x, loss = _hooked_graph(hook_on, lambda g: g * 2.0)  # a fresh graph is right
        loss.backward()
        np.testing.assert_allclose(x.grad.numpy(), 2 * _loss_grad(X3), rtol=1e-14)
    _assert_usable(True)


def test_exception_in_hook_on_a_later_visit_keeps_the_next_graph_right():
    """The hook raises on the second of two intermediates reached, after a first gradient was
    accumulated into the leaf: the next graph's gradient is still exactly right."""
    calls = []

    def hook(g):
        calls.append(g)
        if len(calls) == 2:
            raise Boom("from user code")

    x = ad.tensor(X3, requires_grad=True)
    a, b = x * 2.0, x * 3.0
    a.register_hook(hook)
    b.register_hook(hook)
    with pytest.raises(Boom):
        (anp.sum(a) + anp.sum(b)).backward()
    assert len(calls) == 2
    _assert_usable()
    x.grad = None
    (anp.sum(x * 2.0) + anp.sum(x * 3.0)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0, 5.0])


def _custom_vjp_double(armed: list, exc):
    """Identity whose custom backward doubles the gradient, or raises while `armed`."""
    @ad.custom_vjp
    def double_grad(x):
        return x

    def bwd(residual, g):
        if armed:
            raise exc("from user code")
        return (2.0 * g,)

    double_grad.defvjp(lambda x: (x, None), bwd)
    return double_grad


CUSTOM_USES = {  # name: (a use of double_grad, the right result with the custom rule)
    "grad": (lambda dg: ad.grad(lambda x: anp.sum(dg(x) * x))(X3), 3.0 * X3),
    "jacrev": (lambda dg: ad.jacrev(lambda x: dg(x) * x)(X3), np.diag(3.0 * X3)),
    "vmap_of_grad": (lambda dg: ad.vmap(ad.grad(lambda x: dg(x) * x))(X3), 3.0 * X3),
    # the rule runs while an outer transformation is live, on the outer's tracers:
    # d/ds sum(d/dx sum(dg(x) * x * s)) = d/ds sum(2 x s + x s) = sum(3 x)
    "grad_of_grad": (lambda dg: ad.grad(lambda s: anp.sum(ad.grad(
        lambda x: anp.sum(dg(x) * x * s))(X3)))(1.0), np.sum(3.0 * X3)),
    "jvp_of_grad": (lambda dg: ad.jvp(ad.grad(lambda x: anp.sum(dg(x) * x)), (X3,),
                                      (np.ones(3),))[0], 3.0 * X3),
    "tape": (lambda dg: _tape_custom(dg), 3.0 * X3),
}


def _tape_custom(dg):
    x = ad.tensor(X3, requires_grad=True)
    anp.sum(dg(x) * x).backward()
    return x.grad.numpy()


@pytest.mark.parametrize("exc", [Boom, KeyboardInterrupt])
@pytest.mark.parametrize("use", list(CUSTOM_USES))
def test_exception_in_custom_vjp_backward_rule(use, exc):
    armed = [True]
    double_grad = _custom_vjp_double(armed, exc)
    call, want = CUSTOM_USES[use]
    with pytest.raises(exc, match="from user code"):
        call(double_grad)
    _assert_usable()
    armed.clear()
    np.testing.assert_allclose(call(double_grad), want, rtol=1e-14)
    _assert_usable()


def test_exception_in_custom_vjp_forward_rule_under_a_transform():
    def fwd(x):
        raise Boom("from user code")

    @ad.custom_vjp
    def f(x):
        return x

    f.defvjp(fwd, lambda r, g: (g,))
    with pytest.raises(Boom):
        ad.grad(lambda x: anp.sum(f(x)))(X3)
    _assert_usable()
