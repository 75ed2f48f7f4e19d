"""Deep graphs, freeing and memory: no recursion anywhere, saved values released after
backward, no growth across repeated calls."""

from __future__ import annotations

import gc
import math
import tracemalloc
import weakref

import numpy as np

import autodx as ad

anp = ad.numpy


def test_million_op_chain_backward_without_recursion_error():
    x = ad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0000001
    y.backward()
    assert math.isclose(x.grad.item(), 1.0000001**1_000_000, rel_tol=1e-9)
    del y  # tearing the (now freed) chain down must not recurse either


def test_dropping_an_unused_deep_graph_frees_it_without_recursion_or_the_gc():
    """A 200,000-node graph never backpropagated is freed, node by node, by reference
    counting alone when its last tensor goes (no cycle for the GC to find, no recursion
    limit hit), and the leaf stays usable."""
    x = ad.tensor(1.0, requires_grad=True)
    enabled = gc.isenabled()
    gc.disable()
    try:
        y = x + 1.0
        first_node = weakref.ref(y.grad_fn)
        for _ in range(200_000):
            y = y + 1.0
        last_node = weakref.ref(y.grad_fn)
        assert first_node() is not None  # held by the graph
        del y
        assert first_node() is None and last_node() is None
    finally:
        if enabled:
            gc.enable()
    assert x.grad is None
    (x * 3.0).backward()
    assert x.grad.item() == 3.0


def test_saved_values_are_freed_after_backward():
    x = ad.tensor(np.ones(1000), requires_grad=True)
    hidden = anp.sin(x)
    ref = weakref.ref(hidden._value)  # an intermediate the product's node saves
    out = (hidden * hidden).sum()
    del hidden
    gc.collect()
    assert ref() is not None  # kept alive by the graph until backward
    out.backward()
    gc.collect()
    assert ref() is None


def test_graph_kept_with_retain_graph():
    x = ad.tensor(np.ones(10), requires_grad=True)
    hidden = anp.sin(x)
    ref = weakref.ref(hidden._value)
    out = (hidden * hidden).sum()
    del hidden
    out.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None
    out.backward()
    gc.collect()
    assert ref() is None


def test_repeated_grad_calls_do_not_grow_memory():
    f = ad.grad(lambda w: anp.sum(anp.tanh(w @ w.T)))
    w = np.random.default_rng(0).standard_normal((20, 20))
    for _ in range(20):  # warm up caches
        f(w)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(300):
        f(w)
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 50_000, f"memory grew by {grown} bytes over 300 calls"


def test_repeated_backward_does_not_grow_memory():
    w = ad.tensor(np.ones((20, 20)), requires_grad=True)
    for _ in range(20):
        (w @ w).sum().backward()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(300):
        w.grad = None
        (anp.tanh(w @ w)).sum().backward()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 50_000, f"memory grew by {grown} bytes over 300 calls"
