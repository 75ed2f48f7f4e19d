"""Errors that teach: each names what went wrong and what to do, and subclasses the builtin
that PyTorch (torch face) or JAX (JAX face) raises, so existing `except` clauses still work."""

from __future__ import annotations

import numpy as np
import pytest

import autodx as ad

anp = ad.numpy


def f_jac(x, y):
    return anp.stack([x**2 + y**2, x - y])


def test_non_scalar_backward_names_shape_and_the_ways_out():
    x, y = ad.tensor(2.0, requires_grad=True), ad.tensor(1.0, requires_grad=True)
    z = f_jac(x, y)
    with pytest.raises(RuntimeError) as info:
        z.backward()
    message = str(info.value)
    assert isinstance(info.value, ad.NonScalarOutputError)
    assert "(2,)" in message and "gradient=" in message and "jacobian" in message
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        ad.autograd.grad(z, x)


def test_non_scalar_grad_jax_face():
    with pytest.raises(TypeError) as info:
        ad.grad(f_jac)(2.0, 1.0)
    message = str(info.value)
    assert "shape (2,)" in message and "ad.jacobian" in message and "ad.vjp" in message


def test_argnums_out_of_range_names_signature_count_and_nesting():
    def f(x, y):
        return x**2 + y**2

    with pytest.raises(ValueError) as info:
        ad.jacobian(ad.jacobian(f, argnums=(0, 1)), argnums=1)(np.array([2.0, 1.0]))
    message = str(info.value)
    assert isinstance(info.value, ad.ArgnumsError)
    assert "f(x, y)" in message and "called with 1 positional argument" in message
    assert "ad.hessian(f, argnums=(0, 1))(x, y)" in message
    assert "argnums=(0, 1)), argnums=(0, 1))(x, y)" in message
    with pytest.raises(ValueError, match="argnums must be an int"):
        ad.grad(f, argnums="x")(1.0, 2.0)


def test_integer_inputs_are_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"int64.*astype\(float\)") as info:
        ad.grad(lambda x: anp.sum(x * 2))(np.array([1, 2]))
    assert isinstance(info.value, ad.NotDifferentiableError)
    with pytest.raises(RuntimeError, match="floating-point"):
        ad.tensor(np.array([1, 2]), requires_grad=True)
    with pytest.raises(TypeError, match="cannot be differentiated"):
        ad.grad(lambda x: 1.0)(True)


def test_second_backward_through_freed_graph():
    x = ad.tensor(1.0, requires_grad=True)
    y = anp.exp(x)
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_in_place_change_of_saved_tensor():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    h = anp.sin(x)
    out = (h * h).sum()
    h[0] = 0.0
    with pytest.raises(RuntimeError, match=r"input 0 of MulBackward \(shape \(2,\)\) was "
                                           r"changed after .*clone"):
        out.backward()


@pytest.mark.parametrize("convert", [float, np.asarray, lambda t: t.item(), np.array])
def test_converting_a_traced_value_drops_nothing_silently(convert):
    with pytest.raises(TypeError) as info:
        ad.grad(lambda x: convert(x) * x)(2.0)
    assert isinstance(info.value, ad.TracerConversionError)
    assert "drop its derivative" in str(info.value) and "stop_gradient" in str(info.value)
    with pytest.raises(TypeError, match="drop its derivative"):
        ad.jvp(lambda x: convert(x), (2.0,), (1.0,))


def test_escaped_tracer():
    leaked = []

    def f(x):
        leaked.append(x * 2)
        return x

    ad.grad(f)(1.0)
    with pytest.raises(ad.EscapedTracerError, match="has_aux"):
        ad.grad(lambda y: y * leaked[0])(1.0)


def test_unsupported_numpy_function_on_traced_value():
    with pytest.raises(TypeError, match="np.bincount.*silently drop"):
        ad.grad(lambda x: np.sum(np.bincount(x)))(np.ones(3))


def test_item_assignment_on_traced_value():
    def f(x):
        x[0] = 1.0
        return x.sum()

    with pytest.raises(TypeError, match="immutable.*at.*set"):
        ad.grad(f)(np.ones(3))


def test_bad_cotangent_and_tangent_shapes():
    _, pullback = ad.vjp(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match="cotangent"):
        pullback(np.ones(2))
    with pytest.raises(ValueError, match="tangent has shape"):
        ad.jvp(lambda x: x, (np.ones(3),), (np.ones(2),))
    with pytest.raises(TypeError, match="tuples"):
        ad.jvp(lambda x: x, np.ones(3), np.ones(3))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        ad.tensor([1.0, 2.0], requires_grad=True).backward(gradient=ad.tensor([1.0]))


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (ad.tensor(1.0) * 2).backward()


def test_review_regressions_errors_and_edges():
    with pytest.raises(ValueError, match="same argument twice"):
        ad.grad(lambda x, y: x * y, argnums=(0, 0))(1.0, 2.0)
    with pytest.raises(TypeError, match="0-d"):
        list(ad.tensor(3.0))
    with pytest.raises(TypeError, match="0-d"):
        ad.grad(lambda x: sum(x) + x)(3.0)
    for bad in (lambda x: anp.transpose(x, (0, 5)), lambda x: anp.stack([x, x], axis=5),
                lambda x: anp.moveaxis(x, 0, 7), lambda x: anp.expand_dims(x, 7),
                lambda x: anp.swapaxes(x, 0, 5)):
        with pytest.raises(np.exceptions.AxisError):
            bad(np.ones((2, 3)))
    with pytest.raises(ValueError, match="out_axes=5"):
        ad.vmap(lambda x: x, out_axes=5)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="chunk_size"):
        ad.jacrev(lambda x: x, chunk_size=0)(np.ones(3))
    with pytest.raises(ValueError, match="ambiguous"):
        anp.reshape(np.ones((0, 3)), (0, -1))
    W = ad.tensor(np.eye(2), requires_grad=True)
    with pytest.raises(TypeError, match="as an argument"):
        ad.checkpoint(lambda z: anp.tanh(W @ z))(ad.tensor(np.ones(2), requires_grad=True))


def test_review_regressions_values():
    g = ad.grad(lambda x: anp.sum(anp.astype(x, np.int64) * 1.0))(np.array([1.5, 2.5]))
    np.testing.assert_array_equal(g, [0.0, 0.0])  # a cast to int carries no derivative
    g = ad.grad(lambda x: anp.sum(x))(np.ones(3))
    g *= 0.5  # results are writeable arrays, not broadcast views
    np.testing.assert_array_equal(g, [0.5, 0.5, 0.5])
    h = ad.autograd.functional.hessian(lambda x: (x * 2).sum(), ad.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(h.numpy(), np.zeros((2, 2)))
    from collections import OrderedDict
    od = ad.grad(lambda p: p["a"] * p["b"])(OrderedDict(a=2.0, b=3.0))
    assert isinstance(od, OrderedDict) and dict(od) == {"a": 3.0, "b": 2.0}


def test_set_grad_enabled_as_decorator_and_threads():
    import threading

    @ad.set_grad_enabled(False)
    def frozen(x):
        return x * 2

    assert ad.is_grad_enabled()
    assert not frozen(ad.tensor(1.0, requires_grad=True)).requires_grad
    assert ad.is_grad_enabled()
    results = {}

    def nested(key, x):
        results[key] = ad.grad(lambda x: x * ad.grad(lambda y: x * y * y)(x))(x)

    threads = [threading.Thread(target=nested, args=(i, 1.0 + i)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: 6 * (1.0 + i) ** 2 for i in range(4)}  # d/dx 2x^3
