"""The torch face: Tensor semantics, .backward, autograd.grad, autograd.functional, grad mode,
hooks, in-place operations and NumPy interop."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import autodx as ad

anp = ad.numpy
F = ad.autograd.functional


def leaf(value):
    return ad.tensor(value, requires_grad=True)


def test_notebook_torch_way():
    x = leaf(2.0)
    z = 3 * x**2
    z.backward()
    assert x.grad.item() == 12.0
    assert ad.autograd.grad(3 * x**2, x)[0].item() == 12.0
    x, y = leaf(2.0), leaf(1.5)
    (2 * x**2 + 3 * y).backward()
    assert (x.grad.item(), y.grad.item()) == (8.0, 3.0)
    np.testing.assert_array_equal(ad.tensor([x.grad, y.grad]).numpy(), [8.0, 3.0])


def test_grad_accumulates_across_backward_calls():
    x = leaf(2.0)
    (3 * x**2).backward()
    (3 * x**2).backward()
    assert x.grad.item() == 24.0
    x.grad = None
    (3 * x**2).backward()
    assert x.grad.item() == 12.0


def test_second_backward_needs_retain_graph():
    x = leaf(2.0)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 8.0
    with pytest.raises(ad.FreedGraphError, match="retain_graph=True") as info:
        y.backward()
    assert isinstance(info.value, RuntimeError)


def test_backward_with_gradient_weights_the_rows():
    x, y = leaf(2.0), leaf(1.0)
    z = anp.stack([x**2 + y**2, x - y])
    z.backward(gradient=ad.tensor([1.0, 10.0]))
    assert (x.grad.item(), y.grad.item()) == (4 + 10, 2 - 10)


def test_backward_inputs_only_accumulates_there():
    x, y = leaf(2.0), leaf(1.0)
    (x * y).backward(inputs=[y])
    assert x.grad is None and y.grad.item() == 2.0


def test_hessian_the_backward_way():
    x, y = leaf(2.0), leaf(1.0)
    gx, gy = ad.autograd.grad(x**2 + y**2, (x, y), create_graph=True)
    rows = [ad.autograd.grad(g, (x, y), retain_graph=True, materialize_grads=True)
            for g in (gx, gy)]
    np.testing.assert_array_equal([[r.item() for r in row] for row in rows], [[2, 0], [0, 2]])
    # .backward twice
    x = leaf(2.0)
    (x**3).backward(create_graph=True)
    first = x.grad
    assert first.item() == 12.0 and first.requires_grad
    x.grad = None
    first.backward()
    assert x.grad.item() == 12.0  # 6x


def test_nested_grad_create_graph_third_order():
    x = leaf(0.5)
    (d1,) = ad.autograd.grad(anp.sin(x) * x, x, create_graph=True)
    (d2,) = ad.autograd.grad(d1, x, create_graph=True)
    (d3,) = ad.autograd.grad(d2, x)
    assert d3.item() == pytest.approx(-3 * np.sin(0.5) - 0.5 * np.cos(0.5), rel=1e-13)


def test_autograd_grad_options():
    x, y = leaf(2.0), leaf(3.0)
    out = x * 2
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        ad.autograd.grad(out, (x, y), retain_graph=True)
    gx, gy = ad.autograd.grad(out, (x, y), allow_unused=True, retain_graph=True)
    assert gx.item() == 2.0 and gy is None
    gx, gy = ad.autograd.grad(out, (x, y), materialize_grads=True, retain_graph=True)
    assert gy.item() == 0.0
    v = leaf([1.0, 2.0])
    (g,) = ad.autograd.grad(v * v, v, grad_outputs=ad.tensor([1.0, 0.5]))
    np.testing.assert_array_equal(g.numpy(), [2.0, 2.0])
    (rows,) = ad.autograd.grad(v * v, v, grad_outputs=ad.tensor(np.eye(2)),
                               is_grads_batched=True)
    np.testing.assert_array_equal(rows.numpy(), [[2.0, 0.0], [0.0, 4.0]])
    assert x.grad is None  # autograd.grad never touches .grad


def test_nonleaf_input_and_retain_grad_and_hooks():
    x = leaf(3.0)
    h = x * 2
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.item()))
    handle = x.register_hook(lambda g: g * 10)
    (h * h).backward()
    assert h.grad.item() == 12.0 and seen == [12.0]
    assert x.grad.item() == 240.0
    handle.remove()
    x.grad = None
    (x * 1.0).backward()
    assert x.grad.item() == 1.0
    (g,) = ad.autograd.grad((x * 2) ** 2, x)
    assert g.item() == 24.0


def test_attributes():
    x = leaf([1.0, 2.0])
    y = (x * 2).sum()
    assert x.is_leaf and x.requires_grad and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn is not None and "SumBackward" in repr(y.grad_fn)
    assert y.shape == () and x.shape == (2,) and x.ndim == 1 and x.dtype == np.float64
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(ad.tensor(12.0)) == "tensor(12.)"
    d = y.detach()
    assert not d.requires_grad and d.item() == 6.0
    assert ad.tensor(2.0, dtype=np.float32).dtype == np.float32
    z = ad.tensor([1.0]).requires_grad_()
    assert z.requires_grad and z.is_leaf


def test_grad_mode_is_thread_local_and_nestable():
    x = leaf(1.0)
    with ad.no_grad():
        assert not (x * 2).requires_grad
        with ad.enable_grad():
            assert (x * 2).requires_grad
        other = []
        t = threading.Thread(target=lambda: other.append(ad.is_grad_enabled()))
        t.start()
        t.join()
        assert other == [True]
    assert ad.is_grad_enabled()
    ad.set_grad_enabled(False)
    assert not ad.is_grad_enabled()
    ad.set_grad_enabled(True)
    with ad.set_grad_enabled(False):
        assert not ad.is_grad_enabled()
    assert ad.is_grad_enabled()

    @ad.no_grad()
    def update(w):
        return w * 2

    assert not update(x).requires_grad


def test_in_place_on_saved_tensor_raises():
    x = leaf(2.0)
    y = x * 1.0
    z = y * y  # saves y
    y += 1
    with pytest.raises(ad.InPlaceModificationError, match="modified by an inplace") as info:
        z.backward()
    assert isinstance(info.value, RuntimeError)


def test_in_place_not_saved_is_fine_and_differentiable():
    x = leaf(2.0)
    y = x * 3.0
    y += x  # add does not save its inputs
    y *= 2.0
    y.backward()
    assert x.grad.item() == 8.0
    v = leaf([1.0, 2.0, 3.0])
    w = v * 1.0
    w[1] = v[0] * 5.0
    w.sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [6.0, 0.0, 1.0])


def test_in_place_on_leaf_requires_no_grad():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w += 1
    (w * w).sum().backward()
    with ad.no_grad():
        w -= 0.1 * w.grad
    np.testing.assert_allclose(w.numpy() if not w.requires_grad else w.detach().numpy(),
                               [0.8, 1.6])
    assert w.requires_grad and w.is_leaf


def test_numpy_interop():
    x = leaf([0.5, 1.0])
    y = np.sum(np.sin(x) * np.array([1.0, 2.0]))
    assert isinstance(y, ad.Tensor)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos([0.5, 1.0]) * [1.0, 2.0])
    w = ad.tensor(np.eye(2), requires_grad=True)
    (np.ones(2) @ w @ np.ones(2)).backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.ones((2, 2)))
    with pytest.raises(ad.TracerConversionError, match="detach"):
        x.numpy()
    np.testing.assert_array_equal(np.asarray(x.detach()), [0.5, 1.0])
    with pytest.raises(ad.UnsupportedNumpyFunctionError, match="histogram"):
        np.histogram(x)
    assert float(ad.tensor(2.5)) == 2.5


# ----------------------------------------------------------------------------- functional

def f_jac(x, y):
    return anp.stack([x**2 + y**2, x - y])


def test_functional_jacobian_structures():
    x, y = ad.tensor(2.0), ad.tensor(1.0)
    jx, jy = F.jacobian(f_jac, (x, y))
    np.testing.assert_array_equal(jx.numpy(), [4.0, 1.0])
    np.testing.assert_array_equal(jy.numpy(), [2.0, -1.0])
    v = ad.tensor([2.0, 1.0])
    j = F.jacobian(lambda v: f_jac(v[0], v[1]), v)
    assert isinstance(j, ad.Tensor)
    np.testing.assert_array_equal(j.numpy(), [[4.0, 2.0], [1.0, -1.0]])
    (a, b), (c, d) = F.jacobian(lambda x, y: (x * y, x + y), (x, y))
    assert (a.item(), b.item(), c.item(), d.item()) == (1.0, 2.0, 1.0, 1.0)
    fwd = F.jacobian(f_jac, (x, y), vectorize=True, strategy="forward-mode")
    np.testing.assert_array_equal(fwd[1].numpy(), [2.0, -1.0])


def test_functional_hessian_structures():
    x, y = ad.tensor(2.0), ad.tensor(1.0)
    h = F.hessian(lambda x, y: x**2 * y + y**3, (x, y))
    np.testing.assert_array_equal([[b.item() for b in row] for row in h], [[2, 4], [4, 6]])
    hv = F.hessian(lambda v: (v**3).sum(), ad.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(hv.numpy(), [[6.0, 0.0], [0.0, 12.0]])


def test_functional_products():
    f = lambda x: (x**3).sum()
    x, v = ad.tensor([1.0, 2.0]), ad.tensor([1.0, -1.0])
    out, hvp = F.hvp(f, x, v)
    assert out.item() == 9.0
    np.testing.assert_array_equal(hvp.numpy(), [6.0, -12.0])
    np.testing.assert_array_equal(F.vhp(f, x, v)[1].numpy(), [6.0, -12.0])
    out, vjp = F.vjp(lambda x: x**2, x, v)
    np.testing.assert_array_equal(vjp.numpy(), [2.0, -4.0])
    out, jvp = F.jvp(lambda x: x**2, x, v)
    np.testing.assert_array_equal(jvp.numpy(), [2.0, -4.0])
    out, j = F.jvp(lambda a, b: a * b, (x, v), (v, x))  # d(ab) = b da + a db
    np.testing.assert_array_equal(out.numpy(), [1.0, -2.0])
    np.testing.assert_array_equal(j.numpy(), [2.0, 5.0])


def test_in_place_that_reads_itself_keeps_the_gradient():
    """x *= tanh(x): tanh's rule reads only its output, mul's input is the old x."""
    w = leaf([1.0, 2.0])
    x = w * 1.0
    x *= anp.tanh(x)
    x.sum().backward()
    t = np.tanh([1.0, 2.0])
    np.testing.assert_allclose(w.grad.numpy(), t + np.array([1.0, 2.0]) * (1 - t**2))
    w = leaf([1.0, 2.0])
    x = w * 1.0
    x += x * 2.0  # mul by a constant never reads x
    x.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])
    w = leaf([1.0, 2.0])
    x = w * 1.0
    x *= x  # mul reads both: the old x is the saved alias, so this is fine too
    x.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])
    w = leaf([1.0, 2.0])
    x = w * 1.0
    y = anp.sin(x)  # sin reads x
    x *= 2.0
    with pytest.raises(ad.InPlaceModificationError):
        y.sum().backward()


def test_review_regressions_tensor_face():
    w = leaf([1.0, 2.0])
    x = w * 2
    x.zero_()  # recorded: the gradient through it is 0, as in PyTorch
    (x * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])
    x = ad.tensor([1.0, 2.0])
    y = x.clone()
    y += 1
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    z = +x
    z += 1
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    x[[0, 0]] = ad.tensor([5.0, 7.0])  # repeated indices: the last write wins, as NumPy
    np.testing.assert_array_equal(x.numpy(), [7.0, 2.0])
    p = leaf([1.0, 2.0])
    (p * p).sum().backward()
    p.data -= 0.5 * p.grad
    np.testing.assert_array_equal(p.detach().numpy(), [0.0, 0.0])
    assert p.requires_grad and p.is_leaf


def test_autograd_grad_runs_and_frees_only_what_leads_to_the_inputs():
    x = leaf([0.5, 1.0])
    y = anp.exp(x)
    z = (y**2).sum()
    (gy,) = ad.autograd.grad(z, y)  # not retained: frees z's part of the graph only
    np.testing.assert_allclose(gy.numpy(), 2 * np.exp([0.5, 1.0]))
    y.sum().backward()  # the exp node was not needed for gy, so it is still there
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.0]))


def test_retain_grad_sees_the_gradient_after_every_hook():
    x = leaf(1.0)
    h = x * 2.0
    h.retain_grad()
    h.register_hook(lambda g: g * 10)  # registered after retain_grad, still runs before it
    (h * 3.0).backward()
    assert h.grad.item() == 30.0 and x.grad.item() == 60.0


def test_setitem_with_repeated_indices_keeps_the_last_write_and_its_gradient():
    w = leaf([1.0, 2.0, 3.0])
    x = w * 1.0
    x[[0, 0, 2]] = w[1] * ad.tensor([10.0, 20.0, 30.0])
    reference = np.array([1.0, 2.0, 3.0])
    reference[[0, 0, 2]] = 2.0 * np.array([10.0, 20.0, 30.0])
    np.testing.assert_array_equal(x.detach().numpy(), reference)
    x.sum().backward()  # x = [20 w1, w1, 30 w1]: only the surviving writes count
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 51.0, 0.0])
    m = leaf([1.0, 2.0, 3.0])
    y = m * 2.0
    y[np.array([True, False, True])] = 0.0  # masks too
    y.sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), [0.0, 2.0, 0.0])
