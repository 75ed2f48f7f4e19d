"""The NumPy surface as a whole: plain NumPy calls on Tensors and traced values, the errors
for what is not supported, NumPy's dtype rules (NEP 50), and the complex-number conventions
of the two faces."""

from __future__ import annotations

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import autodx as ad
from autodx.numpy._unsupported import UNSUPPORTED
from autodx.registry import DISPATCH, namespace

anp = ad.numpy

# ----------------------------------------------------------------------------- dispatch


def test_numpy_calls_on_tensors_and_tracers_dispatch_to_autodx():
    x = np.array([0.5, 1.0, 2.0])
    g = ad.grad(lambda x: np.sum(np.sin(x) * np.exp(x)))(x)
    np.testing.assert_allclose(g, np.cos(x) * np.exp(x) + np.sin(x) * np.exp(x), rtol=1e-14)
    t = ad.tensor(x, requires_grad=True)
    np.sum(np.sin(t) * np.exp(t)).backward()
    np.testing.assert_allclose(t.grad.numpy(), g, rtol=1e-14)


def test_ndarray_operator_tensor_defers_to_the_tensor():
    t = ad.tensor([1.0, 2.0], requires_grad=True)
    for out in (np.array([3.0, 4.0]) * t, np.array([3.0, 4.0]) + t, np.ones(2) @ t):
        assert isinstance(out, ad.Tensor) and out.requires_grad
    (np.array([3.0, 4.0]) * t).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [3.0, 4.0])


def test_unsupported_function_is_named_by_its_full_dotted_name():
    with pytest.raises(ad.UnsupportedNumpyFunctionError, match=r"np\.linalg\.tensorinv|"
                       r"np\.histogram"):
        ad.grad(lambda x: np.histogram(x)[0].sum())(np.ones(3))


def test_unsupported_error_says_what_to_do():
    t = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ad.UnsupportedNumpyFunctionError) as info:
        np.histogram(t)
    message = str(info.value)
    assert "np.histogram" in message and "custom_vjp" in message and "stop_gradient" in message
    assert UNSUPPORTED["np.histogram"][1] in message


def test_ufunc_keywords_and_out_are_refused_clearly():
    t = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ad.UnsupportedNumpyFunctionError, match="out="):
        np.sin(t, out=np.zeros(2))


@pytest.mark.parametrize("make", ["grad", "tensor"])
def test_storing_a_traced_value_into_a_numpy_array_says_what_to_do(make):
    def f(x):
        ys = np.zeros(3)
        ys[0] = x
        return ys.sum()

    with pytest.raises(ValueError, match="sequence") as info:
        if make == "grad":
            ad.grad(f)(2.0)
        else:
            f(ad.tensor(2.0, requires_grad=True))
    cause = info.value.__cause__  # the first error of the traceback
    assert isinstance(cause, ad.ArrayAssignmentError)
    assert "ad.numpy.stack" in str(cause) and "ad.numpy.where(ad.numpy.arange(n) == i" in str(
        cause)


def test_the_functional_update_the_error_advises_works():
    def f(x, n=3, i=1):
        ys = np.zeros(n)
        ys = ad.numpy.where(ad.numpy.arange(n) == i, x, ys)
        return np.sum(ys * np.arange(1.0, n + 1))

    assert ad.grad(f)(2.0) == 2.0


def test_storing_a_traced_row_into_a_numpy_array_says_what_to_do():
    def f(x):
        ys = np.zeros((2, 3))
        ys[0] = x
        return ys.sum()

    with pytest.raises(ad.ArrayAssignmentError, match="ad.numpy.stack"):
        ad.grad(f)(np.ones(3))


def test_the_list_and_stack_pattern_works():
    def f(x):
        ys = [x]
        for _ in range(3):
            ys.append(np.sin(ys[-1]))
        return np.stack(ys).sum()

    x = 0.7
    s1 = np.sin(x)
    s2 = np.sin(s1)
    want = 1 + np.cos(x) * (1 + np.cos(s1) * (1 + np.cos(s2)))
    assert ad.grad(f)(x) == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("query, want", [
    (np.shape, (2, 3)), (np.ndim, 2), (np.size, 6), (np.iscomplexobj, False),
    (np.isrealobj, True)])
def test_shape_and_dtype_queries_answer_on_traced_values(query, want):
    seen = []
    ad.grad(lambda x: (seen.append(query(x)), np.sum(x))[1])(np.ones((2, 3)))
    seen.append(query(ad.tensor(np.ones((2, 3)), requires_grad=True)))
    assert seen == [want, want]


def test_result_type_keeps_python_scalars_weak():
    seen = []
    ad.grad(lambda x: (seen.append(np.result_type(x, 2.0)), np.sum(x))[1])(
        np.ones(2, np.float32))
    assert seen == [np.float32]


# ----------------------------------------------------------------------------- coverage

def _public_callables(module):
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or isinstance(obj, (type, types.ModuleType)) or not callable(obj):
            continue
        yield name, obj


def _dispatched(obj) -> bool:
    try:
        return obj in DISPATCH
    except TypeError:  # unhashable
        return False


@pytest.mark.parametrize("module, prefix, space", [
    (np, "np", "numpy"), (np.linalg, "np.linalg", "numpy.linalg"),
    (np.fft, "np.fft", "numpy.fft")])
def test_every_public_numpy_callable_is_supported_or_listed_with_a_reason(module, prefix, space):
    """Supported: NumPy's callable dispatches to autodx, or autodx exports the name (functions
    of shapes only, such as np.zeros, work as they are). Otherwise it must be listed."""
    exported = namespace(space)
    missing = [f"{prefix}.{name}" for name, obj in _public_callables(module)
               if not _dispatched(obj) and name not in exported
               and f"{prefix}.{name}" not in UNSUPPORTED]
    assert not missing, ("NumPy callables neither supported nor listed in "
                         f"autodx/numpy/_unsupported.py: {missing}")


def test_listed_unsupported_names_are_not_supported_and_have_reasons():
    for name, (status, reason) in UNSUPPORTED.items():
        assert status in ("planned", "unsupported") and reason, name
        module, _, attr = name.rpartition(".")
        obj = {"np": np, "np.linalg": np.linalg, "np.fft": np.fft}[module].__dict__.get(attr)
        assert obj is not None, f"{name} is not a NumPy callable"
        assert not _dispatched(obj), f"{name} is listed as unsupported but dispatches"


def test_support_table_is_up_to_date():
    from pathlib import Path

    from autodx.support import render

    path = Path(__file__).parents[1] / "docs" / "numpy-support.md"
    assert path.read_text() == render(), (
        "docs/numpy-support.md is stale: run `python -m autodx.support > docs/numpy-support.md`")


# ----------------------------------------------------------------------------- dtypes (NEP 50)

def test_float32_stays_float32_with_python_scalars():
    x = np.ones(3, np.float32)
    out, g = ad.value_and_grad(lambda x: np.sum(np.sin(x) * 2.0 + 1))(x)
    assert np.asarray(out).dtype == np.float32 and g.dtype == np.float32
    t = ad.tensor(x, requires_grad=True)
    y = (np.exp(t) * 3 + 0.5).sum()
    y.backward()
    assert y.dtype == np.float32 and t.grad.dtype == np.float32


def test_gradients_have_the_input_dtype_when_mixed_with_float64():
    x32, y64 = np.ones(2, np.float32), np.ones(2)
    gx, gy = ad.grad(lambda x, y: np.sum(x * y), argnums=(0, 1))(x32, y64)
    assert gx.dtype == np.float32 and gy.dtype == np.float64


def test_integer_and_bool_outputs_carry_no_derivative():
    x = np.array([0.5, 1.5])
    out, t = ad.jvp(lambda x: (x > 1.0).astype(np.float64) + np.floor(x).astype(np.int64),
                    (x,), (np.ones(2),))
    np.testing.assert_array_equal(t, [0.0, 0.0])
    t = ad.tensor(x, requires_grad=True)
    assert not (t > 1.0).requires_grad
    assert not t.astype(np.int64).requires_grad


def test_integer_inputs_are_refused_with_the_fix():
    with pytest.raises(ad.NotDifferentiableError, match="astype"):
        ad.grad(lambda x: np.sum(x))(np.arange(3))


# ----------------------------------------------------------------------------- complex numbers

Z = np.complex128(3 + 4j)


def abs2(z):
    return anp.real(z * anp.conj(z))


def test_grad_of_a_real_function_of_complex_z_is_jax_convention():
    """df/dx - i df/dy: for |z|**2 at 3+4j, 6-8j (JAX's result)."""
    assert ad.grad(abs2)(Z) == 6 - 8j
    assert complex(jax.grad(lambda z: jnp.real(z * jnp.conj(z)))(Z)) == 6 - 8j


def test_holomorphic_grad_is_the_complex_derivative():
    assert ad.grad(lambda z: z**3, holomorphic=True)(Z) == pytest.approx(3 * Z**2, rel=1e-15)
    j = ad.jacrev(lambda z: z**2, holomorphic=True)(np.array([1j, 2.0 + 0j]))
    np.testing.assert_allclose(j, np.diag([2j, 4.0]), rtol=1e-15)
    h = ad.hessian(lambda z: z**3, holomorphic=True)(Z)
    assert h == pytest.approx(6 * Z, rel=1e-15)


def test_complex_output_without_holomorphic_is_a_type_error_as_jax():
    for transform in (ad.grad, ad.jacrev):
        with pytest.raises(TypeError, match="holomorphic=True"):
            transform(lambda z: z**2)(Z)
    with pytest.raises(TypeError, match="holomorphic=True"):
        jax.grad(lambda z: z**2)(Z)
    with pytest.raises(ad.ComplexDifferentiationError, match="real-valued inputs"):
        ad.jacfwd(abs2)(np.array([Z]))


def test_holomorphic_on_real_inputs_is_a_type_error_as_jax():
    with pytest.raises(TypeError, match="complex dtype"):
        ad.grad(lambda x: x**2, holomorphic=True)(2.0)
    with pytest.raises(TypeError, match="complex dtype"):
        jax.grad(lambda x: x**2, holomorphic=True)(2.0)


def test_tape_grad_of_a_real_function_of_complex_z_is_the_conjugate_as_pytorch():
    """PyTorch's .grad is the steepest-ascent direction df/dx + i df/dy: 6+8j for |z|**2."""
    z = ad.tensor(Z, requires_grad=True)
    abs2(z).backward()
    tz = torch.tensor(Z, requires_grad=True)
    (tz * tz.conj()).real.backward()
    assert complex(z.grad.item()) == complex(tz.grad.item()) == 6 + 8j
    (gz,) = ad.autograd.grad(abs2(z), z)
    assert complex(gz.item()) == 6 + 8j


def test_tape_chain_through_complex_intermediates_matches_pytorch():
    w0 = np.array([0.5 - 1j, 2 + 0.25j])
    w = ad.tensor(w0, requires_grad=True)
    x = ad.tensor(np.array([1.5, -0.5]), requires_grad=True)
    loss = anp.sum(abs2(anp.exp(w * x) + w))
    loss.backward()
    tw = torch.tensor(w0, requires_grad=True)
    tx = torch.tensor([1.5, -0.5], dtype=torch.float64, requires_grad=True)
    u = torch.exp(tw * tx) + tw
    (u * u.conj()).real.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-13)


def test_backward_of_a_complex_output_needs_gradient_as_pytorch():
    z = ad.tensor(Z, requires_grad=True)
    with pytest.raises(RuntimeError, match="complex"):
        (z * z).backward()
    tz = torch.tensor(Z, requires_grad=True)
    with pytest.raises(RuntimeError, match="complex"):
        (tz * tz).backward()
    (z * z).backward(gradient=ad.tensor(1.0 + 0j))
    (tz * tz).backward(gradient=torch.tensor(1.0 + 0j, dtype=torch.complex128))
    assert complex(z.grad.item()) == complex(tz.grad.item())


# ----------------------------------------------------------------------------- review regressions

def test_complex_slogdet_sign_is_differentiated_as_jax():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))

    def f(a, m):
        sign, _ = m.linalg.slogdet(a)
        return m.real(sign) + 2 * m.imag(sign)

    np.testing.assert_allclose(ad.grad(lambda a: f(a, anp))(z),
                               jax.grad(lambda a: f(a, jnp))(z), rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_power_of_python_numbers_gives_numpys_results():
    assert np.isnan(anp.power(-8.0, 1 / 3))
    assert anp.power(0.0, -1.0) == np.inf and anp.power(10.0, 400) == np.inf
    assert anp.power(2, -1) == 0.5 and anp.power(1j, 2) == -1


def test_complex_logsumexp_is_on_the_principal_branch():
    z = np.array([1 + 3j, 0.5 - 2j, -1 + 0.3j])
    np.testing.assert_allclose(ad.scipy.special.logsumexp(z), np.log(np.sum(np.exp(z))),
                               rtol=1e-14)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_logit_derivative_is_infinite_at_the_ends():
    g = ad.grad(ad.scipy.special.logit)
    assert g(np.float64(0.0)) == np.inf and g(np.float64(1.0)) == np.inf
    assert g(0.3) == pytest.approx(1 / (0.3 * 0.7), rel=1e-14)


def test_python_round_on_traced_values_and_tensors():
    assert ad.grad(lambda x: round(x) * x)(2.3) == 2.0
    assert round(ad.tensor(2.345), 2).item() == pytest.approx(2.35)


def test_torch_spelled_std_and_var_take_torchs_correction():
    x = np.arange(6.0).reshape(2, 3)
    t, tt = ad.tensor(x), torch.tensor(x)
    np.testing.assert_allclose(t.std(dim=0).numpy(), tt.std(dim=0).numpy(), rtol=1e-14)
    np.testing.assert_allclose(t.var(dim=1, unbiased=False).numpy(),
                               tt.var(dim=1, unbiased=False).numpy(), rtol=1e-14)
    np.testing.assert_allclose(t.std(0).numpy(), x.std(0), rtol=1e-14)  # NumPy's spelling


def test_gufunc_keywords_reach_autodx():
    t = ad.tensor(np.ones((3, 2)), requires_grad=True)
    u = np.arange(6.0).reshape(3, 2)
    out = np.vecdot(t, u, axis=0)
    np.testing.assert_array_equal(out.detach().numpy(), np.vecdot(np.ones((3, 2)), u, axis=0))
    out.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), u)


def test_reductions_and_shape_functions_take_lists_holding_traced_values():
    assert ad.grad(lambda x: anp.sum([x, 2 * x]))(1.0) == 3.0
    assert ad.grad(lambda x: anp.sort([3 * x, x])[0])(1.0) == 1.0


def test_mean_of_float16_is_averaged_in_float32_as_numpy():
    x = np.full(10000, 100, np.float16)
    assert anp.mean(x) == np.mean(x) == 100 and anp.mean(x).dtype == np.float16
